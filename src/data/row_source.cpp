#include "row_source.hpp"

#include "dtrain/data/error.hpp"
#include "hdf5/datasets.hpp"
#include "hdf5_files.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace dtrain::data {
namespace {

// Whole numbers below this are exact in float (2^24).
constexpr std::int64_t kExactIntLimit = std::int64_t{1} << 24;

std::int64_t row_at(std::span<const rows::Run> runs, std::int64_t j) {
  for (const auto& r : runs) {
    if (j < r.count) return r.first + j;
    j -= r.count;
  }
  return -1;
}

std::string rows_text(std::span<const rows::Run> runs) {
  if (runs.empty()) return "rows (none)";
  const auto first = runs.front().first;
  const auto last = runs.back().first + runs.back().count;
  return runs.size() == 1 ? "rows [" + std::to_string(first) + ", " + std::to_string(last) + ")"
                          : std::to_string(runs.size()) + " row runs in [" + std::to_string(first) +
                                ", " + std::to_string(last) + ")";
}

hdf5::PropList access_list(RowSource::Access access) {
  hdf5::PropList dapl(H5Pcreate(H5P_DATASET_ACCESS));
  if (access == RowSource::Access::kRandom) {
    // A chunk larger than the cache is read directly, only the selected bytes
    // (H5D__chunk_cacheable in HDF5 1.10): scattered rows then cost one small read each.
    H5Pset_chunk_cache(dapl.get(), H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0, H5D_CHUNK_CACHE_W0_DEFAULT);
  } else {
    H5Pset_chunk_cache(dapl.get(), 521, 4 * 1024 * 1024, H5D_CHUNK_CACHE_W0_DEFAULT);
  }
  return dapl;
}

}  // namespace

RowSource::RowSource(const DatasetInfo& info, const SplitInfo& split, Access access, bool direct)
    : path_(info.path), split_(split), num_classes_(info.num_classes), file_(open_read(info.path)) {
  hdf5::PropList dapl = access_list(access);
  x_ = hdf5::open_dataset(file_.get(), split_.x_path(), read_errors(path_), dapl.get());
  y_ = hdf5::open_dataset(file_.get(), split_.y_path(), read_errors(path_), dapl.get());
  if (direct) x_direct_ = rows::DirectRows::open(path_, file_.get(), x_.get(), x_memtype());
  y_row_bytes_ = (split_.task == Task::kClassification ? sizeof(std::int64_t) : sizeof(float)) *
                 static_cast<std::size_t>(split_.targets);
  if (access == Access::kRandom) {
    std::vector<unsigned char> all(static_cast<std::size_t>(split_.rows) * y_row_bytes_);
    const rows::Run run{0, split_.rows};
    try {
      rows::read_runs(y_.get(), std::span<const rows::Run>(&run, 1), y_memtype(), all.data());
    } catch (const Error& e) {
      fail_read(split_.y_path(), std::span<const rows::Run>(&run, 1), e.what());
    }
    if (split_.task == Task::kClassification) {
      check_labels(std::span<const rows::Run>(&run, 1), reinterpret_cast<const std::int64_t*>(all.data()));
    } else {
      y_floats_.resize(all.size() / sizeof(float));
      std::memcpy(y_floats_.data(), all.data(), all.size());
      check_targets(std::span<const rows::Run>(&run, 1));
      y_floats_ = {};
    }
    y_cache_ = std::move(all);
  }
}

hid_t RowSource::x_memtype() const {
  if (split_.x_type == StorageType::kUint8) return H5T_NATIVE_UINT8;
  if (split_.x_type == StorageType::kInt32) return H5T_NATIVE_INT32;
  return H5T_NATIVE_FLOAT;
}

hid_t RowSource::y_memtype() const {
  return split_.task == Task::kClassification ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT;
}

void RowSource::fail_read(const std::string& dataset, std::span<const rows::Run> runs,
                          const std::string& detail) const {
  throw DataError(path_ + ": " + dataset + ": reading " + rows_text(runs) +
                  " failed (file truncated or damaged?): " + detail);
}

void RowSource::read_checked(std::span<const rows::Run> runs, std::int64_t rows) {
  const auto features = static_cast<std::size_t>(split_.features());
  const auto n = static_cast<std::size_t>(rows);
  void* x = nullptr;
  if (split_.x_type == StorageType::kUint8) {
    x_bytes_.resize(n * features);
    x = x_bytes_.data();
  } else if (split_.x_type == StorageType::kInt32) {
    x_ints_.resize(n * features);
    x = x_ints_.data();
  } else {
    x_floats_.resize(n * features);
    x = x_floats_.data();
  }
  void* y = nullptr;
  if (split_.task == Task::kClassification) {
    y_ids_.resize(n * static_cast<std::size_t>(split_.targets));
    y = y_ids_.data();
  } else {
    y_floats_.resize(n * static_cast<std::size_t>(split_.targets));
    y = y_floats_.data();
  }
  try {
    if (x_direct_) {
      x_direct_->read(runs, x);
    } else {
      rows::read_runs(x_.get(), runs, x_memtype(), x);
    }
  } catch (const Error& e) {
    fail_read(split_.x_path(), runs, e.what());
  }
  try {
    if (!y_cache_.empty()) {
      auto* dst = static_cast<unsigned char*>(y);
      for (const auto& r : runs) {
        const auto bytes = static_cast<std::size_t>(r.count) * y_row_bytes_;
        std::memcpy(dst, y_cache_.data() + static_cast<std::size_t>(r.first) * y_row_bytes_, bytes);
        dst += bytes;
      }
    } else {
      rows::read_runs(y_.get(), runs, y_memtype(), y);
    }
  } catch (const Error& e) {
    fail_read(split_.y_path(), runs, e.what());
  }
  check_x(runs);
  if (split_.task == Task::kClassification) {
    check_labels(runs, y_ids_.data());
  } else {
    check_targets(runs);
  }
}

void RowSource::check_x(std::span<const rows::Run> runs) const {
  if (split_.x_type == StorageType::kUint8) return;  // every byte value is a finite number
  const auto features = split_.features();
  if (split_.x_type == StorageType::kInt32) {
    // Batches carry x as float: token ids are exact below 2^24 only.
    for (std::size_t i = 0; i < x_ints_.size(); ++i) {
      const std::int64_t v = x_ints_[i];
      if (v <= -kExactIntLimit || v >= kExactIntLimit) {
        const auto j = static_cast<std::int64_t>(i) / features;
        throw DataError(path_ + ": " + split_.x_path() + " row " + std::to_string(row_at(runs, j)) +
                        ": token id " + std::to_string(v) + " (column " + std::to_string(static_cast<std::int64_t>(i) % features) +
                        ") is not exact as float (|id| must be below 2^24)");
      }
    }
    return;
  }
  const std::size_t total = x_floats_.size();
  for (std::size_t i = 0; i < total; ++i) {
    if (!std::isfinite(x_floats_[i])) {
      const auto j = static_cast<std::int64_t>(i) / features;
      const auto col = static_cast<std::int64_t>(i) % features;
      const float v = x_floats_[i];
      throw DataError(path_ + ": " + split_.x_path() + " row " + std::to_string(row_at(runs, j)) +
                      ": " + (std::isnan(v) ? "NaN" : "Inf") + " in features (feature " +
                      std::to_string(col) + ")");
    }
  }
}

void RowSource::check_labels(std::span<const rows::Run> runs, const std::int64_t* labels) const {
  const auto per_row = split_.targets;  // 1, or t labels per row for y [N, t]
  std::int64_t j = 0;
  for (const auto& r : runs) {
    for (std::int64_t k = 0; k < r.count * per_row; ++k, ++j) {
      const auto v = labels[j];
      if (v < 0 || v >= num_classes_) {
        throw DataError(path_ + ": " + split_.y_path() + " row " + std::to_string(r.first + k / per_row) +
                        (per_row > 1 ? " (column " + std::to_string(k % per_row) + ")" : std::string()) +
                        ": label " + std::to_string(v) + " outside [0, " + std::to_string(num_classes_) + ")");
      }
    }
  }
}

void RowSource::check_targets(std::span<const rows::Run> runs) const {
  for (std::size_t i = 0; i < y_floats_.size(); ++i) {
    if (!std::isfinite(y_floats_[i])) {
      const auto j = static_cast<std::int64_t>(i) / split_.targets;
      throw DataError(path_ + ": " + split_.y_path() + " row " + std::to_string(row_at(runs, j)) +
                      ": " + (std::isnan(y_floats_[i]) ? "NaN" : "Inf") + " in targets");
    }
  }
}

void RowSource::read_block(std::int64_t begin, std::int64_t count, float* x, float* y) {
  if (begin < 0 || count < 0 || begin + count > split_.rows) {
    throw ArgumentError(path_ + ": " + split_.x_path() + ": rows [" + std::to_string(begin) + ", " +
                        std::to_string(begin + count) + ") outside [0, " +
                        std::to_string(split_.rows) + ")");
  }
  order_.resize(static_cast<std::size_t>(count));
  std::iota(order_.begin(), order_.end(), std::int64_t{0});
  runs_.assign(1, rows::Run{begin, count});
  read_checked(runs_, count);
  const auto features = static_cast<std::size_t>(split_.features());
  const auto n = static_cast<std::size_t>(count);
  if (split_.x_type == StorageType::kUint8) {
    const float scale = split_.scale;
    for (std::size_t i = 0; i < n * features; ++i) x[i] = static_cast<float>(x_bytes_[i]) * scale;
  } else if (split_.x_type == StorageType::kInt32) {
    for (std::size_t i = 0; i < n * features; ++i) x[i] = static_cast<float>(x_ints_[i]);  // exact: checked
  } else if (n > 0) {
    std::memcpy(x, x_floats_.data(), n * features * sizeof(float));
  }
  if (split_.task == Task::kClassification) {
    for (std::size_t i = 0; i < y_ids_.size(); ++i) y[i] = static_cast<float>(y_ids_[i]);
  } else if (n > 0) {
    std::memcpy(y, y_floats_.data(), y_floats_.size() * sizeof(float));
  }
}

void RowSource::read_rows(std::span<const std::int64_t> rows, float* x, float* y) {
  const auto n = rows.size();
  order_.resize(n);
  std::iota(order_.begin(), order_.end(), std::int64_t{0});
  std::sort(order_.begin(), order_.end(), [&](std::int64_t a, std::int64_t b) {
    return rows[static_cast<std::size_t>(a)] < rows[static_cast<std::size_t>(b)];
  });
  runs_.clear();
  for (std::size_t j = 0; j < n; ++j) {
    const auto row = rows[static_cast<std::size_t>(order_[j])];
    if (row < 0 || row >= split_.rows) {
      throw ArgumentError(path_ + ": " + split_.x_path() + ": row " + std::to_string(row) +
                          " outside [0, " + std::to_string(split_.rows) + ")");
    }
    if (!runs_.empty() && runs_.back().first + runs_.back().count - 1 == row) {
      throw ArgumentError(path_ + ": " + split_.x_path() + ": row " + std::to_string(row) +
                          " requested twice in one read");
    }
    if (!runs_.empty() && runs_.back().first + runs_.back().count == row) {
      ++runs_.back().count;
    } else {
      runs_.push_back(rows::Run{row, 1});
    }
  }
  read_checked(runs_, static_cast<std::int64_t>(n));
  const auto features = static_cast<std::size_t>(split_.features());
  const auto targets = static_cast<std::size_t>(split_.targets);
  const float scale = split_.scale;
  for (std::size_t j = 0; j < n; ++j) {
    const auto dst = static_cast<std::size_t>(order_[j]);
    float* xo = x + dst * features;
    if (split_.x_type == StorageType::kUint8) {
      const std::uint8_t* xi = x_bytes_.data() + j * features;
      for (std::size_t f = 0; f < features; ++f) xo[f] = static_cast<float>(xi[f]) * scale;
    } else if (split_.x_type == StorageType::kInt32) {
      const std::int32_t* xi = x_ints_.data() + j * features;
      for (std::size_t f = 0; f < features; ++f) xo[f] = static_cast<float>(xi[f]);  // exact: checked
    } else {
      std::memcpy(xo, x_floats_.data() + j * features, features * sizeof(float));
    }
    if (split_.task == Task::kClassification) {
      for (std::size_t k = 0; k < targets; ++k) y[dst * targets + k] = static_cast<float>(y_ids_[j * targets + k]);
    } else {
      std::memcpy(y + dst * targets, y_floats_.data() + j * targets, targets * sizeof(float));
    }
  }
}

void RowSource::read_labels(std::int64_t begin, std::int64_t count, std::int64_t* labels) {
  if (split_.task != Task::kClassification) {
    throw ArgumentError(path_ + ": " + split_.y_path() + " holds regression targets, not class ids");
  }
  runs_.assign(1, rows::Run{begin, count});
  try {
    rows::read_runs(y_.get(), runs_, H5T_NATIVE_INT64, labels);
  } catch (const DataError&) {
    throw;
  } catch (const Error& e) {
    fail_read(split_.y_path(), runs_, e.what());
  }
  check_labels(runs_, labels);
}

}  // namespace dtrain::data
