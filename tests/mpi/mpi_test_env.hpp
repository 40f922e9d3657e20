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

namespace dtrain::testing {

distributed::Communicator& mpi_comm();

}  // namespace dtrain::testing
