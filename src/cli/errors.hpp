// How a dtrain command ends on an error (docs/exit-codes.md): one line, from one
// rank, and the documented code on every rank.
//
//   if (const auto code = agreed(comm, [&] { open the data, build the model; })) return *code;
//   try { train } catch (const std::exception& e) { return end_run(comm, e); }
#pragma once

#include "commands.hpp"

#include "dtrain/distributed/communicator.hpp"

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

namespace dtrain::cli {

// An error in what the user gave a command (the command line, a config, a data
// file, a checkpoint, a model that cannot be built from them): kExitUsage;
// anything else (I/O, MPI, numerics, a bug): kExitFailure.
int input_error_code(const std::exception& e);

// Prints "dtrain: error: <what>" on standard error.
void print_error(const std::string& what);

// Runs a stage that reads the user's input on this rank, then every rank learns
// whether any failed. On a failure the first failing rank prints its one line
// ("dtrain: error: <what>") and every rank returns that error's code
// (input_error_code).
template <class Stage>
std::optional<int> agreed(distributed::Communicator& comm, Stage&& stage) {
  std::uint64_t code = kExitOk;
  std::string error;
  try {
    stage();
  } catch (const std::exception& e) {
    code = static_cast<std::uint64_t>(input_error_code(e));
    error = e.what();
  }
  const auto codes = comm.allgather(code, "agreement on set-up errors");
  for (std::size_t r = 0; r < codes.size(); ++r) {
    if (codes[r] == kExitOk) continue;
    if (static_cast<int>(r) == comm.rank()) print_error(error);
    return static_cast<int>(codes[r]);
  }
  return std::nullopt;
}

// A run-time error on this rank, where the other ranks cannot learn of it at a
// point of agreement: on one rank, one line and the code; on several, one line
// and MPI_Abort, which ends every rank with that code (the launcher scripts keep
// Open MPI's banner away).
int end_run(distributed::Communicator& comm, const std::exception& e);

}  // namespace dtrain::cli
