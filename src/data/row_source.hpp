// RowSource: reads rows of one split as float x and float y, checking them.
//
//   RowSource src(info, info.split("train"), RowSource::Access::kRandom);
//   src.read_block(0, 4096, x, y);                 // rows [0, 4096)
//   src.read_rows(rows, x, y);                     // any rows, in the given order
//
// x is written as [n, features] float (uint8 * scale converted; int32 token ids
// converted exactly, |id| < 2^24 checked), y as [n, targets] float (class ids as
// floats; targets is t for per-token class ids [N, t]). Every row read is checked: NaN/Inf in x or in
// regression targets, labels outside [0, num_classes) throw DataError naming the
// file, the dataset and the file row (the smallest bad row of the request).
// With Access::kRandom, y of the whole split is read (and checked) at construction.
// Private to src/data. One instance is used by one thread at a time.
#pragma once

#include "hdf5/handle.hpp"
#include "rows.hpp"

#include "dtrain/data/dataset.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace dtrain::data {

class RowSource {
 public:
  enum class Access {
    kSequential,  // blocks of consecutive rows: HDF5's chunk cache helps
    kRandom,      // scattered rows: chunk cache off, so a row reads only its bytes
  };
  // direct: read rows with pread where the layout allows it (rows::DirectRows).
  RowSource(const DatasetInfo& info, const SplitInfo& split, Access access, bool direct = false);
  bool direct_x() const { return x_direct_ != nullptr; }

  void read_block(std::int64_t begin, std::int64_t count, float* x, float* y);
  void read_rows(std::span<const std::int64_t> rows, float* x, float* y);
  // Class ids of rows [begin, begin + count) (classification only), range-checked.
  void read_labels(std::int64_t begin, std::int64_t count, std::int64_t* labels);

  const SplitInfo& split() const { return split_; }

 private:
  hid_t x_memtype() const;
  hid_t y_memtype() const;
  // Reads the runs into the staging buffers, then checks x (finite) and y.
  void read_checked(std::span<const rows::Run> runs, std::int64_t rows);
  void check_x(std::span<const rows::Run> runs) const;
  void check_labels(std::span<const rows::Run> runs, const std::int64_t* labels) const;
  void check_targets(std::span<const rows::Run> runs) const;
  [[noreturn]] void fail_read(const std::string& dataset, std::span<const rows::Run> runs,
                              const std::string& detail) const;

  std::string path_;
  SplitInfo split_;
  std::int64_t num_classes_;
  hdf5::File file_;
  hdf5::Dataset x_, y_;
  std::unique_ptr<rows::DirectRows> x_direct_;
  // kRandom: y of every row, read once (8 bytes a row for class ids): a scattered
  // row then costs one read, of x.
  std::vector<unsigned char> y_cache_;
  std::size_t y_row_bytes_ = 0;
  // Staging in sorted row order (the file's order), converted into the caller's order.
  std::vector<std::uint8_t> x_bytes_;
  std::vector<float> x_floats_;
  std::vector<std::int32_t> x_ints_;  // int32 token ids
  std::vector<std::int64_t> y_ids_;
  std::vector<float> y_floats_;
  std::vector<std::int64_t> order_;   // order_[j]: position in the request of sorted row j
  std::vector<rows::Run> runs_;
};

}  // namespace dtrain::data
