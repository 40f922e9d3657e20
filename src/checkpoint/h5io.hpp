// The HDF5 C API as the checkpoint code uses it: RAII over hid_t and typed
// attribute/dataset reads and writes that throw CheckpointError("<what>: <HDF5's
// innermost message>"). The caller adds the file name. Private to src/checkpoint.
//
//   h5::QuietErrors quiet;                       // no HDF5 error stack on stderr
//   h5::File f = h5::create_file(tmp_path);
//   h5::write_floats(f.get(), "/model/weights/dense_1/kernel", {784, 128}, data);
//   h5::write_attribute(f.get(), "format", std::string("dtrain-checkpoint"));
#pragma once

#include "hdf5/handle.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dtrain::checkpoint::detail::h5 {

using hdf5::Attribute;
using hdf5::Dataset;
using hdf5::Dataspace;
using hdf5::Datatype;
using hdf5::File;
using hdf5::Group;
using hdf5::Object;
using hdf5::PropList;

// Turns HDF5's automatic error printing off for its lifetime (restored after).
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// HDF5's innermost error description ("truncated file: eof = 1024, ...").
std::string error_detail();

// --- files -------------------------------------------------------------------
File create_file(const std::string& path);     // truncates
File open_file_read(const std::string& path);  // throws with HDF5's reason

// --- writing (intermediate groups are created) ---------------------------------
Group create_group(hid_t loc, const std::string& path);
void write_attribute(hid_t obj, const std::string& name, const std::string& value);
void write_attribute(hid_t obj, const std::string& name, std::int64_t value);
void write_attribute(hid_t obj, const std::string& name, std::uint64_t value);
void write_attribute(hid_t obj, const std::string& name, double value);
void write_attribute(hid_t obj, const std::string& name, std::int8_t value);
void write_attribute(hid_t obj, const std::string& name, std::span<const std::string> values);
Dataset write_floats(hid_t loc, const std::string& path, std::span<const std::int64_t> shape,
                     std::span<const float> data);
Dataset write_doubles(hid_t loc, const std::string& path, std::span<const std::int64_t> shape,
                      std::span<const double> data);
void write_string(hid_t loc, const std::string& path, const std::string& value);  // scalar
void write_strings(hid_t loc, const std::string& path, std::span<const std::string> values);

// --- reading (throw CheckpointError naming the path when missing or mistyped) --
bool exists(hid_t loc, const std::string& path);  // every link on the way exists
bool has_attribute(hid_t obj, const std::string& name);
Group open_group(hid_t loc, const std::string& path);
Dataset open_dataset(hid_t loc, const std::string& path);
std::string read_string_attribute(hid_t obj, const std::string& name);
std::int64_t read_int_attribute(hid_t obj, const std::string& name);
std::uint64_t read_uint_attribute(hid_t obj, const std::string& name);
double read_double_attribute(hid_t obj, const std::string& name);
std::vector<std::string> read_strings_attribute(hid_t obj, const std::string& name);
std::vector<std::string> attribute_names(hid_t obj);
std::vector<std::int64_t> shape_of(hid_t dataset);  // [] for a scalar dataset
std::vector<float> read_floats(hid_t dataset, const std::string& path);
std::vector<double> read_doubles(hid_t dataset, const std::string& path);
std::string read_string(hid_t loc, const std::string& path);
std::vector<std::string> read_strings(hid_t loc, const std::string& path);
// Paths (relative to loc) of every dataset below loc, in name order.
std::vector<std::string> dataset_paths(hid_t loc);

}  // namespace dtrain::checkpoint::detail::h5
