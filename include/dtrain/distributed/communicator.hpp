// Communicator: RAII over MPI for data-parallel training (one per process).
//
//   distributed::Communicator comm(argc, argv);               // MPI_Init_thread (FUNNELED)
//   comm.allreduce_sum(std::span<float>(sums));        // in place, on every rank
//   comm.broadcast(config_text, /*root=*/0);
//   auto s = comm.agree({.stop = got_sigterm});       // same decision on every rank
//   if (s.stop) { ...checkpoint and leave the loop... }
//   try { ... } catch (const dtrain::Error& e) { comm.abort(e.what(), 1); }
//
// It works without mpirun (a 1-rank singleton), duplicates MPI_COMM_WORLD for its
// own traffic (plus a second duplicate for the stall side channel) and finalizes
// in the destructor. Only the thread that constructed it may call it
// (MPI_THREAD_FUNNELED).
//
// No collective waits forever: every wait is a poll loop (MPI_Test, then yield /
// short sleeps) with a deadline (stall_timeout). When a deadline passes, one rank
// prints "dtrain: error (rank R): stall at step S: <operation> did not complete
// within T s; missing rank(s): ..." and MPI_Abort ends the job. How the missing
// ranks are known is explained in src/distributed/arrival_board.hpp. The timeout must
// exceed the longest time a healthy rank can spend between two collectives
// (e.g. rank 0 writing a checkpoint while the others wait in agree()).
//
// Every rank must call the collectives in the same order (the MPI rule). An error
// that only one rank sees is reported with abort(): it prints one line and ends
// every rank. An exception that leaves the Communicator's scope on a multi-rank
// job also ends the job (finalizing would wait for ranks that wait for us):
// catch inside the scope and call abort() with the real message.
#pragma once

#include "dtrain/core/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dtrain::distributed {

namespace detail {
class Context;
}

// An MPI call returned an error (names the call, the operation and the step).
class MpiError : public Error {
 public:
  using Error::Error;
};

struct CommunicatorOptions {
  // How long any collective may wait before the job is declared stalled.
  std::chrono::duration<double> stall_timeout = std::chrono::seconds(300);
  // Exit code given to MPI_Abort when a stall ends the job.
  int stall_exit_code = 1;
  // Large non-blocking all-reduces use Open MPI's ring algorithm instead of its
  // in-place default, a binomial tree (faster; docs/benchmarks.md).
  bool ring_allreduce = true;
};

// Flags combined across ranks once per step (Caffe's SolverAction, Horovod's
// per-cycle status): every rank takes the same branch at the same step boundary.
struct StepStatus {
  bool stop = false;        // a rank caught SIGTERM/SIGUSR1/SIGINT: stop after this step
  bool checkpoint = false;  // a rank asked for a checkpoint now
  bool error = false;       // a rank hit an error it reports collectively
  int error_rank = -1;      // after agree(): the lowest rank with error set, else -1
};

class Communicator {
 public:
  explicit Communicator(CommunicatorOptions options = {});
  Communicator(int& argc, char**& argv, CommunicatorOptions options = {});
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const;
  int size() const;
  bool is_root() const { return rank() == 0; }

  // The training step named in stall and error messages (GradientReducer's
  // begin_step sets it too).
  void set_step(std::uint64_t step);
  std::uint64_t step() const;
  void set_stall_timeout(std::chrono::duration<double> timeout);  // > 0
  std::chrono::duration<double> stall_timeout() const;

  // In-place sums over all ranks. Spans above 16 MiB go in 16 MiB pieces (Open
  // MPI's all-reduce slows down sharply above 32 MiB). `what` names the operation in
  // stall messages (default: "all-reduce (sum) of N floats").
  void allreduce_sum(std::span<float> data, std::string_view what = {});
  void allreduce_sum(std::span<double> data, std::string_view what = {});
  void allreduce_sum(std::span<std::int64_t> data, std::string_view what = {});
  void allreduce_min(std::span<std::uint64_t> data, std::string_view what = {});
  void allreduce_max(std::span<std::uint64_t> data, std::string_view what = {});
  std::uint64_t allreduce_min(std::uint64_t value, std::string_view what = {});
  std::uint64_t allreduce_max(std::uint64_t value, std::string_view what = {});
  // value of every rank, indexed by rank.
  std::vector<std::uint64_t> allgather(std::uint64_t value, std::string_view what = {});

  // Copies root's data into every rank's (same size on every rank).
  void broadcast(std::span<float> data, int root = 0, std::string_view what = {});
  void broadcast(std::span<double> data, int root = 0, std::string_view what = {});
  void broadcast(std::span<std::byte> data, int root = 0, std::string_view what = {});
  // Any length: the size goes first, then the bytes.
  void broadcast(std::string& text, int root = 0, std::string_view what = {});

  void barrier(std::string_view what = {});

  // One tiny all-reduce: stop/checkpoint/error are OR-ed, error_rank is the lowest
  // rank that set error. Under the stall deadline like every collective.
  StepStatus agree(StepStatus local);

  // Prints "dtrain: error (rank R): <message>" to stderr (only this rank prints)
  // and ends every rank with MPI_Abort(exit_code). Safe to call more than once.
  [[noreturn]] void abort(std::string_view message, int exit_code) noexcept;

 private:
  friend class GradientReducer;
  std::unique_ptr<detail::Context> ctx_;
};

}  // namespace dtrain::distributed
