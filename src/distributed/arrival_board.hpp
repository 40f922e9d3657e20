// ArrivalBoard (internal): the stall side channel — which rank arrived where.
//
// Every collective the Communicator or the GradientReducer starts gets a sequence
// number 1, 2, 3, ... It is the same operation on every rank, because MPI
// requires every rank to start the same collectives in the same order. On
// starting operation #k a rank sends the 16 bytes {k, step} with MPI_Isend, on a
// separate duplicate of MPI_COMM_WORLD, to the two watcher ranks 0 and 1 (never
// to itself). A watcher keeps one MPI_Irecv posted per other rank and drains them
// whenever it starts an operation or polls a wait, keeping the highest {k, step}
// each rank reported. Messages from one sender arrive in order (MPI's
// non-overtaking rule) and a 16-byte message goes eagerly, so it reaches the
// watcher even when the sender stops or sleeps right after sending.
//
// When a wait passes its deadline on a watcher, the ranks whose highest number
// is below the watcher's own latest operation are the ones that did not arrive.
// If there are none, every rank entered the operation and one of them stopped
// making progress inside it (the message says so). Context::on_stall decides who
// reports, so that normally one rank prints: rank 0 at once; rank 1 at once if
// rank 0 is missing, else after a grace period in which rank 0 should have ended
// the job; any other rank only after two grace periods (both watchers stuck).
//
// Cost per collective: one tiny Isend per rank (two on ranks >= 2) and, on the
// watchers, one MPI_Testsome over P-1 receives. If a send slot is still busy
// (its watcher has not drained 64 messages), the arrival is dropped rather than
// block; the watcher is not polling then anyway.
#pragma once

#include <mpi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dtrain::distributed::detail {

class ArrivalBoard {
 public:
  static constexpr int kWatchers = 2;

  struct Seen {
    std::uint64_t seq = 0;  // 0: nothing received yet
    std::uint64_t step = 0;
  };

  ArrivalBoard(MPI_Comm world, int rank, int size);
  ~ArrivalBoard();
  ArrivalBoard(const ArrivalBoard&) = delete;
  ArrivalBoard& operator=(const ArrivalBoard&) = delete;

  bool is_watcher() const { return rank_ < kWatchers; }
  // Tells the watchers this rank started operation `seq` of `step`.
  void announce(std::uint64_t seq, std::uint64_t step);
  // Receives every arrival that has come in (watchers only; a no-op elsewhere).
  void drain();
  const Seen& seen(int rank) const { return seen_[static_cast<std::size_t>(rank)]; }

 private:
  static constexpr std::size_t kSendSlots = 64;
  static constexpr int kTag = 7001;

  void post_receive(int source);

  MPI_Comm side_ = MPI_COMM_NULL;
  int rank_;
  int size_;
  std::vector<MPI_Request> recv_;
  std::vector<std::array<std::uint64_t, 2>> recv_buf_;
  std::vector<Seen> seen_;
  std::vector<int> done_;
  std::vector<MPI_Request> send_;
  std::vector<std::array<std::uint64_t, 2>> send_buf_;
  std::size_t next_slot_ = 0;
};

}  // namespace dtrain::distributed::detail
