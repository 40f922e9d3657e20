// HDF5 datasets: open one with a clear error, its shape and type as text, and
// whole reads and writes of numbers and strings (missing groups on the way are
// created). Row-wise reads and appends of [N, ...] data are data's
// (src/data/h5_rows.hpp). Private to src/.
//
//   hdf5::write_floats(file, "/model/weights/dense_1/kernel", {784, 128}, w, errors);
//   hdf5::Dataset d = hdf5::open_dataset(file, "/model/weights/dense_1/kernel", errors);
//   std::vector<float> v = hdf5::read_floats(d.get(), "/model/weights/dense_1/kernel", errors);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hdf5/errors.hpp"
#include "hdf5/handle.hpp"

namespace dtrain::hdf5 {

// errors.fail("dataset <path> is missing"), errors.fail("<path> is not a dataset")
// or errors.fail_hdf5("cannot open dataset <path>").
Dataset open_dataset(hid_t loc, const std::string& path, const Errors& errors, hid_t access = H5P_DEFAULT);

std::vector<std::int64_t> dims_of(hid_t dataset);  // [] for a scalar dataset
// "[60000, 28, 28, 1]"
std::string dims_text(const std::vector<std::int64_t>& dims);
// "uint8", "int64", "float32", "string", "compound", ... for messages and listings.
std::string dtype_text(hid_t dataset);

// --- numbers: errors.fail_hdf5("cannot create dataset <path>" / "cannot write
// dataset <path>" / "cannot read <path>"), errors.fail("<path> is not numeric").
Dataset write_floats(hid_t loc, const std::string& path, std::span<const std::int64_t> shape,
                     std::span<const float> data, const Errors& errors);
Dataset write_doubles(hid_t loc, const std::string& path, std::span<const std::int64_t> shape,
                      std::span<const double> data, const Errors& errors);
std::vector<float> read_floats(hid_t dataset, const std::string& path, const Errors& errors);
std::vector<double> read_doubles(hid_t dataset, const std::string& path, const Errors& errors);

// --- text (variable-length UTF-8): a scalar string, or a one-dimensional list;
// reading fails with "<path> is not text", "<path> is not a single string",
// "<path> is not a list of strings" or errors.fail_hdf5("cannot read <path>").
void write_string(hid_t loc, const std::string& path, const std::string& value, const Errors& errors);
void write_strings(hid_t loc, const std::string& path, std::span<const std::string> values,
                   const Errors& errors);
std::string read_string(hid_t loc, const std::string& path, const Errors& errors);
std::vector<std::string> read_strings(hid_t loc, const std::string& path, const Errors& errors);

}  // namespace dtrain::hdf5
