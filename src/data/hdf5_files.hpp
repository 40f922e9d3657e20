// How the data concern opens and creates HDF5 files and words HDF5's failures:
// DataError naming the file for what it reads ("in.h5: dataset /train/x is
// missing"), dtrain::Error for what it writes. Private to src/data.
//
//   hdf5::File f = open_read("in.h5");    // DataError: missing / not HDF5 / truncated
//   hdf5::Dataset x = hdf5::open_dataset(f.get(), "/train/x", read_errors("in.h5"));
//   hdf5::write_attribute(f.get(), "source", source, write_errors());
#pragma once

#include <string>

#include "hdf5/errors.hpp"
#include "hdf5/handle.hpp"

namespace dtrain::data {

// DataError "<path>: <what> (<HDF5's message>)".
hdf5::Errors read_errors(const std::string& path);
// dtrain::Error "<what>: <HDF5's message>".
hdf5::Errors write_errors();

// Opens for reading, HDF5's error printing off for this thread. DataError
// "<path>: no such file" / "is a directory, not a file" / "not an HDF5 file" /
// "cannot open HDF5 file (truncated or damaged: ...)".
hdf5::File open_read(const std::string& path);
// Creates (truncating) a file for writing; dtrain::Error "<path>: cannot create HDF5 file: ...".
hdf5::File create(const std::string& path);

}  // namespace dtrain::data
