// An MPI-aware gtest main (after LBANN's MPI Catch main): creates the one
// Communicator, lets rank 0 print the usual report and other ranks print only
// their failures (prefixed with the rank), and makes every rank exit non-zero
// if any rank failed.
#include "mpi_test_env.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

namespace {

dtrain::distributed::Communicator* the_comm = nullptr;

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", rank_, r.file_name() ? r.file_name() : "?",
                 r.line_number(), r.summary());
  }

 private:
  int rank_;
};

}  // namespace

dtrain::distributed::Communicator& dtrain::testing::mpi_comm() { return *the_comm; }

int main(int argc, char** argv) {
  // A test that loses its partner ranks ends in a minute with a stall message
  // instead of hanging until ctest's timeout.
  dtrain::distributed::Communicator comm(argc, argv, {.stall_timeout = std::chrono::seconds(60)});
  the_comm = &comm;
  ::testing::InitGoogleTest(&argc, argv);
  if (comm.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(comm.rank()));
  }
  const int local = RUN_ALL_TESTS();
  const auto any = comm.allreduce_max(static_cast<std::uint64_t>(local != 0), "test result");
  if (comm.rank() == 0 && any != 0 && local == 0) {
    std::fprintf(stderr, "FAILED on another rank (see the [rank N] lines above)\n");
  }
  return any != 0 ? 1 : 0;
}
