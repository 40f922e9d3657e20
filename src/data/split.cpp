// dtrain data split: train / val / test, optionally stratified.
#include "dtrain/data/split.hpp"

#include "dataset_writer.hpp"
#include "hdf5/attributes.hpp"
#include "hdf5/datasets.hpp"
#include "hdf5_files.hpp"
#include "rows.hpp"
#include "row_source.hpp"

#include "dtrain/core/random.hpp"
#include "dtrain/data/error.hpp"
#include "dtrain/data/shuffle.hpp"

#include <algorithm>
#include <memory>
#include <array>
#include <cmath>
#include <numeric>

namespace dtrain::data {
namespace {

constexpr std::int64_t kBlockBytes = 4 << 20;

std::int64_t part_count(double fraction, std::int64_t n) {
  return static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(n)));
}

void check_fraction(const char* name, double f) {
  if (!(f >= 0.0 && f < 1.0)) {
    throw ArgumentError(std::string("--") + name + " must be in [0, 1), got " + std::to_string(f));
  }
}

// Copies the rows of one input group into the output parts, streaming in blocks.
class GroupCopier {
 public:
  GroupCopier(hid_t in_file, const std::string& in_path, const SplitInfo& s)
      : s_(s), path_(in_path) {
    x_ = hdf5::open_dataset(in_file, s.x_path(), read_errors(in_path));
    y_ = hdf5::open_dataset(in_file, s.y_path(), read_errors(in_path));
    // uint8 and int32 token ids are copied as stored; float64 becomes float32.
    x_out_type_ = s.x_type == StorageType::kUint8 || s.x_type == StorageType::kInt32 ? s.x_type
                                                                                       : StorageType::kFloat32;
    x_elem_ = x_out_type_ == StorageType::kUint8 ? 1 : sizeof(float);  // int32 is 4 bytes too
    y_elem_ = (s.task == Task::kClassification ? sizeof(std::int64_t) : sizeof(float)) *
              static_cast<std::size_t>(s.targets);
  }

  std::unique_ptr<SplitWriter> writer(hid_t out, const std::string& name) const {
    return std::make_unique<SplitWriter>(out, name, x_out_type_, s_.sample_shape, s_.scale, s_.task,
                                         s_.targets);
  }

  // Sends row i to writers[part[i]] (nullptr: drop).
  void copy(std::span<const SplitPart> part, std::array<SplitWriter*, 3> writers) {
    const auto row_x = static_cast<std::size_t>(s_.features()) * x_elem_;
    const auto block = std::max<std::int64_t>(1, kBlockBytes / static_cast<std::int64_t>(row_x));
    std::vector<unsigned char> xin, yin;
    std::array<std::vector<unsigned char>, 3> xout, yout;
    for (std::int64_t at = 0; at < s_.rows; at += block) {
      const auto n = std::min(block, s_.rows - at);
      xin.resize(static_cast<std::size_t>(n) * row_x);
      yin.resize(static_cast<std::size_t>(n) * y_elem_);
      try {
        rows::read_block(x_.get(), at, n,
                         x_out_type_ == StorageType::kUint8   ? H5T_NATIVE_UINT8
                         : x_out_type_ == StorageType::kInt32 ? H5T_NATIVE_INT32
                                                              : H5T_NATIVE_FLOAT,
                         xin.data());
        rows::read_block(y_.get(), at, n,
                       s_.task == Task::kClassification ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT,
                       yin.data());
      } catch (const Error& e) {
        throw DataError(path_ + ": " + s_.x_path() + ": reading rows [" + std::to_string(at) + ", " +
                        std::to_string(at + n) + ") failed: " + e.what());
      }
      for (auto& v : xout) v.clear();
      for (auto& v : yout) v.clear();
      for (std::int64_t i = 0; i < n; ++i) {
        const auto p = static_cast<std::size_t>(part.empty() ? SplitPart::kTrain
                                                             : part[static_cast<std::size_t>(at + i)]);
        const auto xi = xin.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * row_x);
        const auto yi = yin.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * y_elem_);
        xout[p].insert(xout[p].end(), xi, xi + static_cast<std::ptrdiff_t>(row_x));
        yout[p].insert(yout[p].end(), yi, yi + static_cast<std::ptrdiff_t>(y_elem_));
      }
      for (std::size_t p = 0; p < 3; ++p) {
        if (writers[p] != nullptr && !yout[p].empty()) {
          writers[p]->append(xout[p].data(), yout[p].data(),
                             static_cast<std::int64_t>(yout[p].size() / y_elem_));
        }
      }
    }
  }

 private:
  SplitInfo s_;
  std::string path_;
  hdf5::Dataset x_, y_;
  StorageType x_out_type_;
  std::size_t x_elem_, y_elem_;
};

std::vector<std::int64_t> read_all_labels(const DatasetInfo& info, const SplitInfo& s) {
  RowSource src(info, s, RowSource::Access::kSequential);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(s.rows));
  src.read_labels(0, s.rows, labels.data());
  return labels;
}

}  // namespace

std::vector<std::int64_t> apportion(std::int64_t total, std::span<const std::int64_t> sizes,
                                    std::span<const std::int64_t> capacity) {
  const std::int64_t n = std::accumulate(sizes.begin(), sizes.end(), std::int64_t{0});
  std::vector<std::int64_t> out(sizes.size(), 0);
  if (n == 0 || total == 0) return out;
  // Quota of class c: total * sizes[c] / n. Integer part first (exact integer
  // arithmetic), then one more to the classes with the largest remainders.
  std::vector<std::pair<std::int64_t, std::size_t>> remainders;  // (remainder, class)
  std::int64_t given = 0;
  for (std::size_t c = 0; c < sizes.size(); ++c) {
    const std::int64_t q = total * sizes[c];
    out[c] = std::min(q / n, capacity[c]);
    given += out[c];
    if (out[c] < capacity[c]) remainders.emplace_back(q % n, c);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; given < total && i < remainders.size(); ++i) {
    ++out[remainders[i].second];
    ++given;
  }
  // Capacities can leave some over: give it to any class with room, in class order.
  for (std::size_t c = 0; given < total && c < sizes.size(); ++c) {
    const auto more = std::min(total - given, capacity[c] - out[c]);
    out[c] += more;
    given += more;
  }
  return out;
}

std::vector<SplitPart> assign_split(std::int64_t n, std::span<const std::int64_t> labels,
                                    std::int64_t num_classes, double test_fraction,
                                    double val_fraction, std::uint64_t seed) {
  check_fraction("test-fraction", test_fraction);
  check_fraction("val-fraction", val_fraction);
  const std::int64_t n_test = part_count(test_fraction, n);
  const std::int64_t n_val = part_count(val_fraction, n);
  if (test_fraction > 0 && n_test == 0) {
    throw ArgumentError("--test-fraction " + std::to_string(test_fraction) + " of " + std::to_string(n) +
                        " rows gives an empty test split");
  }
  if (val_fraction > 0 && n_val == 0) {
    throw ArgumentError("--val-fraction " + std::to_string(val_fraction) + " of " + std::to_string(n) +
                        " rows gives an empty validation split");
  }
  if (n_test + n_val >= n) {
    throw ArgumentError("--test-fraction + --val-fraction leave no training rows (" +
                        std::to_string(n_test) + " + " + std::to_string(n_val) + " of " +
                        std::to_string(n) + ")");
  }
  std::vector<SplitPart> part(static_cast<std::size_t>(n), SplitPart::kTrain);
  if (labels.empty()) {
    Rng rng(seed, stream_id(kStreamSplit, ~std::uint64_t{0}));
    const auto perm = random_permutation(n, rng);
    for (std::int64_t i = 0; i < n_test; ++i) part[static_cast<std::size_t>(perm[static_cast<std::size_t>(i)])] = SplitPart::kTest;
    for (std::int64_t i = n_test; i < n_test + n_val; ++i) {
      part[static_cast<std::size_t>(perm[static_cast<std::size_t>(i)])] = SplitPart::kVal;
    }
    return part;
  }
  if (static_cast<std::int64_t>(labels.size()) != n) {
    throw ArgumentError("assign_split: " + std::to_string(labels.size()) + " labels for " +
                        std::to_string(n) + " rows");
  }
  std::vector<std::vector<std::int64_t>> rows_of(static_cast<std::size_t>(num_classes));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto c = labels[static_cast<std::size_t>(i)];
    if (c < 0 || c >= num_classes) {
      throw ArgumentError("assign_split: row " + std::to_string(i) + ": label " + std::to_string(c) +
                          " outside [0, " + std::to_string(num_classes) + ")");
    }
    rows_of[static_cast<std::size_t>(c)].push_back(i);
  }
  std::vector<std::int64_t> sizes, capacity;
  for (const auto& r : rows_of) sizes.push_back(static_cast<std::int64_t>(r.size()));
  const auto test_c = apportion(n_test, sizes, sizes);
  for (std::size_t c = 0; c < sizes.size(); ++c) capacity.push_back(sizes[c] - test_c[c]);
  const auto val_c = apportion(n_val, sizes, capacity);
  for (std::size_t c = 0; c < rows_of.size(); ++c) {
    auto& rows = rows_of[c];
    Rng rng(seed, stream_id(kStreamSplit, c));
    shuffle(rows, rng);
    for (std::int64_t i = 0; i < test_c[c] + val_c[c]; ++i) {
      part[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])] =
          i < test_c[c] ? SplitPart::kTest : SplitPart::kVal;
    }
  }
  return part;
}

DatasetInfo split_dataset(const SplitOptions& o) {
  if (o.input.empty()) throw ArgumentError("split needs an input file");
  check_fraction("test-fraction", o.test_fraction);
  check_fraction("val-fraction", o.val_fraction);
  const DatasetInfo info = read_dataset_info(o.input);
  const SplitInfo& source = info.unsplit ? info.splits.front() : info.split("train");
  if (!info.unsplit) {
    if (info.find("test") && o.test_fraction > 0) {
      throw ArgumentError(o.input + " already has /test: re-splitting /train takes --test-fraction 0");
    }
    if (info.find("val") && o.val_fraction > 0) {
      throw ArgumentError(o.input + " already has /val: re-splitting /train takes --val-fraction 0");
    }
  }
  if (o.test_fraction == 0 && o.val_fraction == 0) {
    throw ArgumentError("--test-fraction and --val-fraction are both 0: nothing to split");
  }
  if (o.stratify && info.task != Task::kClassification) {
    throw ArgumentError("--stratify needs class ids; " + o.input + " holds regression targets");
  }
  if (o.stratify && info.splits.front().y_rank == 2) {
    throw ArgumentError("--stratify needs one class id per row; " + o.input + " holds one per token ([N, " +
                        std::to_string(info.splits.front().targets) + "])");
  }
  AtomicOutput out(o.output, o.force);
  validate_dataset(info);  // NaN/Inf, labels: refuse bad data before writing anything

  std::vector<std::int64_t> labels;
  if (o.stratify) labels = read_all_labels(info, source);
  const auto part = assign_split(source.rows, labels, info.num_classes, o.test_fraction,
                                 o.val_fraction, o.seed);
  labels = {};

  {
    hdf5::File in = open_read(o.input);
    hdf5::File file = create(out.temp_path());
    {
      GroupCopier copier(in.get(), o.input, source);
      auto train = copier.writer(file.get(), "train");
      auto val = o.val_fraction > 0 ? copier.writer(file.get(), "val") : nullptr;
      auto test = o.test_fraction > 0 ? copier.writer(file.get(), "test") : nullptr;
      copier.copy(part, {train.get(), val.get(), test.get()});
      for (const char* other : {"val", "test"}) {
        if (const SplitInfo* s = info.unsplit ? nullptr : info.find(other)) {
          GroupCopier c(in.get(), o.input, *s);
          auto w = c.writer(file.get(), other);
          c.copy({}, {w.get(), nullptr, nullptr});
        }
      }
    }
    RootAttributes attrs;
    attrs.task = info.task;
    attrs.num_classes = info.num_classes;
    attrs.source = info.source;
    attrs.class_names = info.class_names;
    attrs.split = SplitRecord{o.seed, o.test_fraction, o.val_fraction, o.stratify};
    if (hdf5::has_attribute(in.get(), "feature_names")) {
      attrs.feature_names =
          hdf5::find_strings_attribute(in.get(), "feature_names").value_or(std::vector<std::string>{});
    }
    write_root_attributes(file.get(), attrs);
    close_file(file, out.temp_path());
  }
  out.commit();
  return read_dataset_info(o.output);
}

}  // namespace dtrain::data
