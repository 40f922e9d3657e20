// HDF5 helpers of the data concern: opening files with clear errors, attributes,
// row reads by hyperslab, and an appendable chunked dataset for the writers.
//
//   h5::silence_errors();                       // per thread (the library is threadsafe)
//   h5::File f = h5::open_read("in.h5");        // DataError: missing / not HDF5 / truncated
//   h5::Dataset x = h5::open_dataset(f.get(), "in.h5", "/train/x");
//   h5::read_block(x.get(), 100, 32, H5T_NATIVE_FLOAT, buffer);   // rows [100, 132)
//
// Private to src/data.
#pragma once

#include "dtrain/tensor.hpp"
#include "hdf5/handle.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dtrain::data::h5 {

using hdf5::Attribute;
using hdf5::Dataset;
using hdf5::Dataspace;
using hdf5::Datatype;
using hdf5::File;
using hdf5::Group;
using hdf5::PropList;

// Turns off HDF5's automatic printing of its error stack for the calling thread
// (errors become dtrain exceptions instead).
void silence_errors();
// The innermost message on the calling thread's HDF5 error stack ("" if none).
std::string last_error_detail();

// Opens for reading. DataError "<path>: no such file" / "not an HDF5 file" /
// "cannot open HDF5 file (truncated or damaged: ...)".
File open_read(const std::string& path);
// Creates (truncating) a file for writing; dtrain::Error on failure.
File create(const std::string& path);

// True if every component of the absolute link path exists ("/train/x").
bool exists(hid_t file, const std::string& path);
// DataError "<file>: dataset /train/x is missing" when absent.
Dataset open_dataset(hid_t file, const std::string& file_name, const std::string& path,
                     hid_t access = H5P_DEFAULT);
std::vector<std::int64_t> dims_of(hid_t dataset);
// "[60000, 28, 28, 1]"
std::string dims_text(const std::vector<std::int64_t>& dims);
// "uint8", "int64", "float32", "string", "compound", ... for messages and listings.
std::string dtype_text(hid_t dataset);

// --- attributes (scalar or one-element) -------------------------------------
bool has_attribute(hid_t object, const std::string& name);
std::optional<std::int64_t> read_int_attribute(hid_t object, const std::string& name);
std::optional<double> read_double_attribute(hid_t object, const std::string& name);
std::optional<std::string> read_string_attribute(hid_t object, const std::string& name);
std::vector<std::string> read_string_array_attribute(hid_t object, const std::string& name);
std::vector<std::string> attribute_names(hid_t object);
// Any attribute as short text (numbers, strings, small arrays as "[a, b, ...]").
std::string attribute_text(hid_t object, const std::string& name);

void write_attribute(hid_t object, const std::string& name, std::int64_t value);
void write_attribute(hid_t object, const std::string& name, double value);
void write_attribute(hid_t object, const std::string& name, float value);
void write_attribute(hid_t object, const std::string& name, const std::string& value);
void write_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values);

// --- row reads ----------------------------------------------------------------
// A run of consecutive file rows [first, first + count).
struct Run {
  std::int64_t first = 0;
  std::int64_t count = 0;
};
// Reads rows [begin, begin + count) of a [N, ...] dataset into out (memtype elements).
void read_block(hid_t dataset, std::int64_t begin, std::int64_t count, hid_t memtype, void* out);
// Reads the runs, in the given order, into out: one H5Dread of a hyperslab per run,
// the memory space shaped like the file block (HDF5 1.10's fast chunk mapping).
void read_runs(hid_t dataset, std::span<const Run> runs, hid_t memtype, void* out);

// Reads rows of an uncompressed dataset straight from the file with pread at the
// addresses HDF5 reports (H5Dget_offset for contiguous data, H5Dget_chunk_info_by_coord
// for chunks holding whole rows): one system call per run of rows, without the
// per-call cost of H5Dread (about 15 us per hyperslab in HDF5 1.10). open() returns
// nullptr when the dataset does not allow it: filters, chunks cutting rows, missing
// chunks, a user block, or a stored type that differs from memtype; and when a probe
// read of the first and last row disagrees with H5Dread.
class DirectRows {
 public:
  static std::unique_ptr<DirectRows> open(const std::string& path, hid_t file, hid_t dataset,
                                          hid_t memtype);
  ~DirectRows();
  DirectRows(const DirectRows&) = delete;
  DirectRows& operator=(const DirectRows&) = delete;
  // Same contract as read_runs; dtrain::Error on a short read.
  void read(std::span<const Run> runs, void* out) const;

 private:
  DirectRows() = default;
  int fd_ = -1;
  std::int64_t rows_ = 0;
  std::int64_t row_bytes_ = 0;
  std::int64_t chunk_rows_ = 0;          // 0: contiguous
  std::vector<std::uint64_t> address_;   // per chunk, or one for contiguous data
};

// --- writing ------------------------------------------------------------------
// Rows per chunk for a row of row_bytes bytes (chunks of about 512 KiB, at least 1 row).
std::int64_t chunk_rows_for(std::int64_t row_bytes);

// A chunked [N, sample...] dataset with an unlimited first dimension, written by
// appending blocks of rows.
class Appender {
 public:
  Appender(hid_t parent, const std::string& name, hid_t file_type, const Shape& sample_shape);
  void append(const void* data, std::int64_t rows, hid_t memtype);
  std::int64_t rows() const { return rows_; }
  hid_t get() const { return dataset_.get(); }

 private:
  Dataset dataset_;
  std::string name_;
  std::vector<hsize_t> dims_;  // current extent
  std::int64_t rows_ = 0;
};

}  // namespace dtrain::data::h5
