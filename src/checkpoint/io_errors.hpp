// How the checkpoint concern reports I/O failures: as CheckpointError, HDF5's
// worded "<what> (HDF5: <HDF5's message>)"; load_checkpoint and save_checkpoint
// put the file name in front. Private to src/checkpoint.
//
//   const hdf5::Errors errors = hdf5_errors();
//   const std::int64_t step = hdf5::read_int_attribute(root, "step", errors);
//   as_checkpoint_error([&] { fsync_file(tmp.path()); });   // core/atomic_file.hpp
#pragma once

#include <string_view>

#include "dtrain/checkpoint.hpp"
#include "hdf5/errors.hpp"

namespace dtrain::checkpoint::detail {

inline hdf5::Errors hdf5_errors() {
  return hdf5::Errors(&hdf5::throw_as<CheckpointError>, "", {" (HDF5: ", ")", "no detail"});
}

// hdf5::open_file_read's words for a file that HDF5 cannot open: "truncated or
// corrupt HDF5 file (HDF5: truncated file: eof = ...)" (docs/checkpoint-format.md).
inline constexpr std::string_view kDamagedFile = "truncated or corrupt HDF5 file";

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
