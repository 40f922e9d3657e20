// Opening and creating HDF5 files, with errors that say why. Private to src/.
//
//   hdf5::File in = hdf5::open_file_read("in.h5", errors);   // "no such file", "not an HDF5 file", ...
//   hdf5::File out = hdf5::create_file(tmp, hdf5::IfExists::kFail, errors);
//   ... write, close every group and dataset ...
//   if (!out.close()) errors.fail_hdf5("cannot close the file");
#pragma once

#include <string>
#include <string_view>

#include "hdf5/errors.hpp"
#include "hdf5/handle.hpp"

namespace dtrain::hdf5 {

// True if the HDF5 superblock signature is at byte 0, 512, 1024, 2048, ... of the
// file (HDF5 file format specification, section II.A).
bool has_hdf5_signature(const std::string& path);

// The caller's words for two of the ways open_file_read fails.
struct ReadFailureWords {
  std::string_view directory = "is a directory, not a file";
  std::string_view damaged = "cannot open HDF5 file";  // then HDF5's message, as the Errors add it
};

// Opens an existing HDF5 file read-only: errors.fail("no such file"),
// errors.fail(words.directory), errors.fail("not an HDF5 file"), or, when HDF5
// cannot open it (truncated, damaged), errors.fail_hdf5(words.damaged).
File open_file_read(const std::string& path, const Errors& errors, const ReadFailureWords& words = {});

enum class IfExists { kFail, kReplace };

// Creates a file for writing: errors.fail_hdf5("cannot create HDF5 file"). Closing
// it fails while an object in it is still open (H5F_CLOSE_SEMI), so a close that
// succeeds has written the file's last metadata (before any fsync).
File create_file(const std::string& path, IfExists if_exists, const Errors& errors);

}  // namespace dtrain::hdf5
