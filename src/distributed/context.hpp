// Context (internal): the MPI state behind a Communicator, shared with the
// GradientReducer. Every collective goes: begin_op(label) -> start the
// non-blocking MPI call -> wait(request, seq, deadline), a poll loop that never
// waits past the stall deadline (see arrival_board.hpp for the stall report).
#pragma once

#include "arrival_board.hpp"

#include "dtrain/distributed/communicator.hpp"

#include <mpi.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dtrain::distributed::detail {

using Clock = std::chrono::steady_clock;

class Context {
 public:
  Context(int* argc, char*** argv, const CommunicatorOptions& options);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  MPI_Comm comm() const { return comm_; }

  std::uint64_t step = 0;
  void set_stall_timeout(std::chrono::duration<double> timeout);
  std::chrono::duration<double> stall_timeout() const { return stall_timeout_; }
  Clock::time_point deadline_from_now() const;

  // Numbers and records a collective about to start; tells the watchers.
  std::uint64_t begin_op(std::string_view label);
  // Throws MpiError naming the call, the operation and the step unless rc is OK.
  void check(int rc, const char* call, std::uint64_t seq) const;
  // One MPI_Test (also progresses every other outstanding request).
  bool test(MPI_Request& request, std::uint64_t seq);
  // Polls until the request completes; past the deadline, reports the stall and
  // ends the job (see on_stall). Returns the seconds spent waiting.
  double wait(MPI_Request& request, std::uint64_t seq, Clock::time_point deadline);

  // begin_op + start(&request) + wait, for the blocking-style collectives.
  template <class Start>
  void run(std::string_view label, const char* call, Start&& start) {
    const auto seq = begin_op(label);
    MPI_Request request = MPI_REQUEST_NULL;
    check(start(&request), call, seq);
    wait(request, seq, deadline_from_now());
  }

  // Call right before each MPI_Iallreduce of `bytes` bytes (the same on every
  // rank): selects Open MPI's algorithm for that size (see IallreduceTuning).
  void tune_iallreduce(std::size_t bytes);

  [[noreturn]] void abort(std::string_view message, int exit_code) noexcept;
  // A reducer was destroyed with collectives in flight (an exception mid-step).
  void note_abandoned(std::uint64_t at_step);

  int stall_exit_code = 1;

 private:
  struct OpRecord {
    std::uint64_t seq = 0;
    std::uint64_t step = 0;
    std::array<char, 96> label{};
  };
  static constexpr std::size_t kHistory = 1024;

  // Deadline passed: reports and aborts, or returns a later deadline (a grace
  // period in which a watcher rank is expected to report).
  Clock::time_point on_stall(std::uint64_t seq, int stage);
  std::string stall_report(std::uint64_t seq);
  std::string describe(std::uint64_t seq, std::uint64_t step_hint) const;

  // Open MPI's libnbc algorithm switch, through the MPI tool interface.
  struct IallreduceTuning {
    bool wanted = false;   // switch to the ring for large all-reduces (opened on first need)
    bool enabled = false;  // the tool interface is open
    MPI_T_cvar_handle handle = MPI_T_CVAR_HANDLE_NULL;
    int original = 0;
    int current = 0;
  };
  void init_tuning();
  void finalize_tuning() noexcept;

  int rank_ = 0;
  int size_ = 1;
  bool owns_init_ = false;
  MPI_Comm comm_ = MPI_COMM_NULL;
  std::chrono::duration<double> stall_timeout_;
  std::unique_ptr<ArrivalBoard> board_;
  std::uint64_t seq_ = 0;
  std::array<OpRecord, kHistory> history_{};
  bool abandoned_ = false;
  std::uint64_t abandoned_step_ = 0;
  std::atomic<bool> aborting_{false};
  IallreduceTuning tuning_;
};

}  // namespace dtrain::distributed::detail
