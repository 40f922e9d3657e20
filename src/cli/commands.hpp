// The dtrain command: each group of subcommands registers itself on the app.
//
// A register_* function adds its subcommands (with --help text) and their
// callbacks. Callbacks throw dtrain::Error (or a subclass) on failure; main maps
// errors to the exit codes below and prints one line on rank 0 (or on the rank
// that failed).
#pragma once

#include <CLI/CLI.hpp>

namespace dtrain::cli {

// Documented exit codes (README, docs/exit-codes.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,     // a run-time error (I/O, numerical, MPI)
  kExitUsage = 2,       // bad command line, config, or input file
  kExitPreempted = 3,   // stopped by SIGTERM/SIGUSR1 after writing a checkpoint
};

// Thrown by a command callback to end dtrain with this exit code (its message,
// if any, was already printed).
struct ExitRequest {
  int code;
};

void register_data_commands(CLI::App& app);     // dtrain data import-idx|import-csv|split
void register_inspect_command(CLI::App& app);   // dtrain inspect FILE
void register_train_commands(CLI::App& app);    // dtrain train
void register_evaluate_commands(CLI::App& app); // dtrain evaluate|predict

}  // namespace dtrain::cli
