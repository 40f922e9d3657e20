#include "dataset_writer.hpp"

#include "dtrain/data/error.hpp"
#include "hdf5/attributes.hpp"
#include "hdf5_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

namespace dtrain::data {
namespace fs = std::filesystem;

AtomicOutput::AtomicOutput(std::string path, bool force) : path_(std::move(path)) {
  if (path_.empty()) throw ArgumentError("output path is empty (-o OUT.h5)");
  std::error_code ec;
  if (fs::exists(path_, ec)) {
    if (fs::is_directory(path_, ec)) throw ArgumentError(path_ + ": output is a directory");
    if (!force) throw ArgumentError(path_ + ": output exists (use --force to overwrite)");
  }
  const fs::path parent = fs::path(path_).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    throw ArgumentError(path_ + ": output directory " + parent.string() + " does not exist");
  }
  temp_ = path_ + ".tmp." + std::to_string(::getpid());
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicOutput::commit() {
  // Make the data durable before the rename publishes the file.
  if (int fd = ::open(temp_.c_str(), O_RDONLY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code ec;
  fs::rename(temp_, path_, ec);
  if (ec) throw Error(path_ + ": cannot rename " + temp_ + " into place: " + ec.message());
  committed_ = true;
}

hdf5::Group SplitWriter::make_group(hid_t file, const std::string& name) {
  if (name.empty()) return hdf5::Group(H5Gopen2(file, "/", H5P_DEFAULT));
  hdf5::Group g(H5Gcreate2(file, ("/" + name).c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!g) throw Error("cannot create group /" + name + ": " + hdf5::innermost_error());
  return g;
}

SplitWriter::SplitWriter(hid_t file, const std::string& name, StorageType x_type,
                         const Shape& sample_shape, float scale, Task task, std::int64_t targets)
    : group_(make_group(file, name)),
      x_type_(x_type),
      task_(task),
      x_(group_.get(), "x",
         x_type == StorageType::kUint8   ? H5T_STD_U8LE
         : x_type == StorageType::kInt32 ? H5T_STD_I32LE
                                         : H5T_IEEE_F32LE,
         sample_shape),
      y_(group_.get(), "y", task == Task::kClassification ? H5T_STD_I64LE : H5T_IEEE_F32LE,
         task == Task::kClassification && targets == 1 ? Shape{} : Shape{targets}) {
  if (x_type == StorageType::kFloat64) throw ArgumentError("SplitWriter: x is written as float32 or uint8");
  if (x_type == StorageType::kUint8) hdf5::write_attribute(x_.get(), "scale", scale, write_errors());
}

void SplitWriter::append(const void* x, const void* y, std::int64_t rows) {
  x_.append(x, rows,
            x_type_ == StorageType::kUint8   ? H5T_NATIVE_UINT8
            : x_type_ == StorageType::kInt32 ? H5T_NATIVE_INT32
                                             : H5T_NATIVE_FLOAT);
  y_.append(y, rows, task_ == Task::kClassification ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT);
}

void write_root_attributes(hid_t file, const RootAttributes& a) {
  const hdf5::Errors errors = write_errors();
  hdf5::write_attribute(file, "format", std::string(kDatasetFormat), errors);
  hdf5::write_attribute(file, "format_version", kDatasetFormatVersion, errors);
  if (a.task == Task::kClassification) hdf5::write_attribute(file, "num_classes", a.num_classes, errors);
  hdf5::write_attribute(file, "source", a.source, errors);
  if (a.split) {
    hdf5::write_attribute(file, "split_seed", static_cast<std::int64_t>(a.split->seed), errors);
    hdf5::write_attribute(file, "test_fraction", a.split->test_fraction, errors);
    hdf5::write_attribute(file, "val_fraction", a.split->val_fraction, errors);
    hdf5::write_attribute(file, "stratified", static_cast<std::int64_t>(a.split->stratified ? 1 : 0), errors);
  }
  if (!a.class_names.empty()) hdf5::write_attribute(file, "class_names", a.class_names, errors);
  if (!a.feature_names.empty()) hdf5::write_attribute(file, "feature_names", a.feature_names, errors);
}

void close_file(hdf5::File& file, const std::string& path) {
  if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) {
    throw Error(path + ": cannot flush HDF5 file: " + hdf5::innermost_error());
  }
  file.reset();
}

}  // namespace dtrain::data
