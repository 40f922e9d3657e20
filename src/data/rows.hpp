// Rows of [N, ...] HDF5 datasets, as the data concern reads and writes them:
// runs of rows read by hyperslab (or by pread where the layout allows it), and a
// chunked dataset written by appending blocks of rows. Files, groups, attributes
// and the rest are the shared helpers of src/hdf5.
//
//   rows::read_block(x.get(), 100, 32, H5T_NATIVE_FLOAT, buffer);   // rows [100, 132)
//   rows::Appender y(group, "y", H5T_STD_I64LE, Shape{});
//   y.append(labels.data(), n, H5T_NATIVE_INT64);
//
// Private to src/data.
#pragma once

#include "dtrain/tensor.hpp"
#include "hdf5/handle.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dtrain::data::rows {

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
  hdf5::Dataset dataset_;
  std::string name_;
  std::vector<hsize_t> dims_;  // current extent
  std::int64_t rows_ = 0;
};

}  // namespace dtrain::data::rows
