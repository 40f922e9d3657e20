// The MPI test binaries' shared environment: one Communicator for the process,
// created by mpi_test_main.cpp before any test runs.
//
//   auto& comm = dtrain::testing::mpi_comm();
//   comm.allreduce_sum(std::span<float>(v));
//
// Every rank runs every test in the same order, so collectives inside tests line
// up. Use EXPECT_* (not ASSERT_*) before a collective, so one rank's failure does
// not skip a collective the other ranks wait in.
#pragma once

#include "dtrain/distributed/communicator.hpp"
#include "dtrain/distributed/gradient_reducer.hpp"

#include <ostream>

namespace dtrain::testing {

distributed::Communicator& mpi_comm();

}  // namespace dtrain::testing

namespace dtrain::distributed {

// gtest prints a ReduceTransport test parameter by name, not as raw bytes.
inline void PrintTo(ReduceTransport t, std::ostream* os) {
  *os << (t == ReduceTransport::mpi ? "mpi" : t == ReduceTransport::shared_memory ? "shared_memory" : "automatic");
}

}  // namespace dtrain::distributed
