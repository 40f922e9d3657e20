#include "errors.hpp"

#include "dtrain/checkpoint.hpp"
#include "dtrain/core/error.hpp"

#include <iostream>

namespace dtrain::cli {

int input_error_code(const std::exception& e) {
  // ShapeError: a model the config cannot build (Dense after Conv2D without
  // Flatten), or a checkpoint whose weights do not fit the model. CheckpointError:
  // a checkpoint file given to resume or evaluate that cannot be read.
  const bool input = dynamic_cast<const ArgumentError*>(&e) || dynamic_cast<const ShapeError*>(&e) ||
                     dynamic_cast<const checkpoint::CheckpointError*>(&e);
  return input ? kExitUsage : kExitFailure;
}

void print_error(const std::string& what) { std::cerr << "dtrain: error: " << what << '\n' << std::flush; }

int end_run(distributed::Communicator& comm, const std::exception& e) {
  const int code = dynamic_cast<const ArgumentError*>(&e) ? kExitUsage : kExitFailure;
  if (comm.size() > 1) comm.abort(e.what(), code);
  print_error(e.what());
  return code;
}

}  // namespace dtrain::cli
