// How the checkpoint concern reports I/O failures: as CheckpointError.
// Private to src/checkpoint.
//
//   as_checkpoint_error([&] { fsync_file(tmp.path()); });   // core/atomic_file.hpp
#pragma once

#include "dtrain/checkpoint.hpp"

namespace dtrain::checkpoint::detail {

// Runs `io` (the file system helpers of core/atomic_file.hpp), reporting their
// dtrain::Error as the CheckpointError (I/O) that the checkpoint API promises.
template <class Io>
void as_checkpoint_error(Io&& io) {
  try {
    io();
  } catch (const CheckpointError&) {
    throw;
  } catch (const Error& e) {
    throw CheckpointError(e.what());
  }
}

}  // namespace dtrain::checkpoint::detail
