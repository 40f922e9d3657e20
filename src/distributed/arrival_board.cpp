#include "arrival_board.hpp"

#include "dtrain/distributed/communicator.hpp"

#include <chrono>
#include <string>
#include <thread>

namespace dtrain::distributed::detail {

namespace {

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw MpiError(std::string("distributed: ") + call + " failed on the stall side channel: " +
                 std::string(text, static_cast<std::size_t>(len)));
}

}  // namespace

ArrivalBoard::ArrivalBoard(MPI_Comm world, int rank, int size)
    : rank_(rank),
      size_(size),
      recv_(static_cast<std::size_t>(size), MPI_REQUEST_NULL),
      recv_buf_(static_cast<std::size_t>(size)),
      seen_(static_cast<std::size_t>(size)),
      done_(static_cast<std::size_t>(size)),
      send_(kSendSlots * kWatchers, MPI_REQUEST_NULL),
      send_buf_(kSendSlots * kWatchers) {
  check(MPI_Comm_dup(world, &side_), "MPI_Comm_dup");
  check(MPI_Comm_set_errhandler(side_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  if (is_watcher()) {
    for (int r = 0; r < size_; ++r) {
      if (r != rank_) post_receive(r);
    }
  }
}

ArrivalBoard::~ArrivalBoard() {
  // Receives still posted are cancelled; sends are tiny and eager, so they are
  // complete by now unless a watcher vanished: give them a second, then let go.
  for (auto& r : recv_) {
    if (r == MPI_REQUEST_NULL) continue;
    MPI_Cancel(&r);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (auto& r : send_) {
    int flag = 0;
    while (r != MPI_REQUEST_NULL && !flag && std::chrono::steady_clock::now() < deadline) {
      MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
      if (!flag) std::this_thread::yield();
    }
    if (r != MPI_REQUEST_NULL) MPI_Request_free(&r);
  }
  if (side_ != MPI_COMM_NULL) MPI_Comm_free(&side_);
}

void ArrivalBoard::post_receive(int source) {
  const auto s = static_cast<std::size_t>(source);
  check(MPI_Irecv(recv_buf_[s].data(), 2, MPI_UINT64_T, source, kTag, side_, &recv_[s]),
        "MPI_Irecv");
}

void ArrivalBoard::announce(std::uint64_t seq, std::uint64_t step) {
  for (int w = 0; w < kWatchers && w < size_; ++w) {
    if (w == rank_) continue;
    const std::size_t slot = next_slot_;
    next_slot_ = (next_slot_ + 1) % send_.size();
    if (send_[slot] != MPI_REQUEST_NULL) {
      int flag = 0;
      check(MPI_Test(&send_[slot], &flag, MPI_STATUS_IGNORE), "MPI_Test");
      if (!flag) continue;  // the watcher is not draining: drop this arrival
    }
    send_buf_[slot] = {seq, step};
    check(MPI_Isend(send_buf_[slot].data(), 2, MPI_UINT64_T, w, kTag, side_, &send_[slot]),
          "MPI_Isend");
  }
  drain();
}

void ArrivalBoard::drain() {
  if (!is_watcher()) return;
  for (;;) {
    int count = 0;
    check(MPI_Testsome(size_, recv_.data(), &count, done_.data(), MPI_STATUSES_IGNORE),
          "MPI_Testsome");
    if (count == MPI_UNDEFINED || count == 0) return;
    for (int i = 0; i < count; ++i) {
      const auto s = static_cast<std::size_t>(done_[static_cast<std::size_t>(i)]);
      if (recv_buf_[s][0] > seen_[s].seq) seen_[s] = Seen{recv_buf_[s][0], recv_buf_[s][1]};
      post_receive(done_[static_cast<std::size_t>(i)]);
    }
  }
}

}  // namespace dtrain::distributed::detail
