#include "dtrain/data/dataset.hpp"

#include "dtrain/data/error.hpp"
#include "hdf5/attributes.hpp"
#include "hdf5/datasets.hpp"
#include "hdf5/groups.hpp"
#include "hdf5_files.hpp"
#include "row_source.hpp"

#include <algorithm>
#include <cmath>

namespace dtrain::data {
namespace {

constexpr const char* kSplitNames[] = {"train", "val", "test"};
constexpr std::int64_t kScanBytes = 4 * 1024 * 1024;  // rows per streamed block ≈ 4 MiB

SplitInfo read_split(hid_t file, const std::string& path, const std::string& name) {
  SplitInfo s;
  s.name = name;
  hdf5::Dataset x = hdf5::open_dataset(file, s.x_path(), read_errors(path));
  hdf5::Dataset y = hdf5::open_dataset(file, s.y_path(), read_errors(path));
  const auto xd = hdf5::dims_of(x.get());
  const auto yd = hdf5::dims_of(y.get());
  if (xd.size() < 2 || static_cast<int>(xd.size()) > Shape::kMaxRank) {
    throw DataError(path + ": " + s.x_path() + " has shape " + hdf5::dims_text(xd) +
                    ", expected [N, features...] with 1 to " + std::to_string(Shape::kMaxRank - 1) +
                    " feature dimensions");
  }
  s.rows = xd[0];
  s.sample_shape = Shape(std::vector<std::int64_t>(xd.begin() + 1, xd.end()));

  hdf5::Datatype xt(H5Dget_type(x.get()));
  const auto xclass = H5Tget_class(xt.get());
  const auto xsize = H5Tget_size(xt.get());
  if (xclass == H5T_FLOAT && xsize == 4) {
    s.x_type = StorageType::kFloat32;
  } else if (xclass == H5T_FLOAT && xsize == 8) {
    s.x_type = StorageType::kFloat64;
  } else if (xclass == H5T_INTEGER && xsize == 1 && H5Tget_sign(xt.get()) == H5T_SGN_NONE) {
    s.x_type = StorageType::kUint8;
    const auto scale = hdf5::find_double_attribute(x.get(), "scale");
    if (!scale) {
      throw DataError(path + ": " + s.x_path() +
                      " is uint8 but has no numeric 'scale' attribute (value = stored * scale)");
    }
    if (!std::isfinite(*scale) || *scale <= 0.0) {
      throw DataError(path + ": " + s.x_path() + ": attribute 'scale' must be a positive number");
    }
    s.scale = static_cast<float>(*scale);
  } else if (xclass == H5T_INTEGER && xsize == 4 && H5Tget_sign(xt.get()) == H5T_SGN_2) {
    s.x_type = StorageType::kInt32;  // token ids, for Embedding
  } else {
    throw DataError(path + ": " + s.x_path() + " has unsupported dtype " + hdf5::dtype_text(x.get()) +
                    " (expected float32, float64, int32 token ids, or uint8 with a 'scale' attribute)");
  }

  hdf5::Datatype yt(H5Dget_type(y.get()));
  s.y_dtype = hdf5::dtype_text(y.get());
  s.y_rank = static_cast<int>(yd.size());
  const auto yclass = H5Tget_class(yt.get());
  if (yclass == H5T_INTEGER) {
    s.task = Task::kClassification;
    // [N]: one class id per row; [N, t]: one per token (next-token labels).
    if (yd.size() != 1 && yd.size() != 2) {
      throw DataError(path + ": " + s.y_path() + " has shape " + hdf5::dims_text(yd) +
                      ", expected [N] or [N, t] class ids");
    }
    s.targets = yd.size() == 2 ? yd[1] : 1;
    if (s.targets < 1) throw DataError(path + ": " + s.y_path() + " has no label columns");
  } else if (yclass == H5T_FLOAT) {
    s.task = Task::kRegression;
    if (yd.size() != 1 && yd.size() != 2) {
      throw DataError(path + ": " + s.y_path() + " has shape " + hdf5::dims_text(yd) +
                      ", expected [N] or [N, k] float targets");
    }
    s.targets = yd.size() == 2 ? yd[1] : 1;
    if (s.targets < 1) throw DataError(path + ": " + s.y_path() + " has no target columns");
  } else {
    throw DataError(path + ": " + s.y_path() + " has unsupported dtype " + hdf5::dtype_text(y.get()) +
                    " (expected int64 class ids or float32 targets)");
  }
  if (yd.empty() || yd[0] != s.rows) {
    throw DataError(path + ": " + s.x_path() + " has " + std::to_string(s.rows) + " rows but " +
                    s.y_path() + " has " + std::to_string(yd.empty() ? 0 : yd[0]));
  }
  if (s.rows == 0) {
    throw DataError(path + ": split " + (name.empty() ? std::string("/x") : "/" + name) +
                    " is empty (0 rows)");
  }
  if (s.features() == 0) throw DataError(path + ": " + s.x_path() + " has 0 features per row");
  return s;
}

}  // namespace

const char* storage_type_name(StorageType t) {
  switch (t) {
    case StorageType::kFloat32:
      return "float32";
    case StorageType::kFloat64:
      return "float64";
    case StorageType::kUint8:
      return "uint8";
    case StorageType::kInt32:
      return "int32";
  }
  return "?";
}

std::string SplitInfo::x_path() const { return name.empty() ? "/x" : "/" + name + "/x"; }
std::string SplitInfo::y_path() const { return name.empty() ? "/y" : "/" + name + "/y"; }

const SplitInfo* DatasetInfo::find(const std::string& name) const {
  for (const auto& s : splits) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const SplitInfo& DatasetInfo::split(const std::string& name) const {
  if (const auto* s = find(name)) return *s;
  if (unsplit) {
    throw DataError(path + ": the file is unsplit (/x, /y); it has no /" + name +
                    " (run `dtrain data split` first)");
  }
  throw DataError(path + ": dataset /" + name + "/x is missing (no split '" + name + "')");
}

DatasetInfo read_dataset_info(const std::string& path) {
  hdf5::File file = open_read(path);
  const hid_t f = file.get();
  DatasetInfo info;
  info.path = path;

  if (auto format = hdf5::find_string_attribute(f, "format"); format && *format != kDatasetFormat) {
    throw DataError(path + ": root attribute format = \"" + *format + "\", not a dtrain dataset");
  }
  if (auto v = hdf5::find_int_attribute(f, "format_version"); v && *v > kDatasetFormatVersion) {
    throw DataError(path + ": dataset format_version " + std::to_string(*v) +
                    " is newer than this dtrain reads (" + std::to_string(kDatasetFormatVersion) + ")");
  }
  for (const auto& name : hdf5::find_attribute_names(f).value_or(std::vector<std::string>{})) {
    info.attributes.emplace_back(name, hdf5::attribute_text(f, name));
  }
  info.source = hdf5::find_string_attribute(f, "source").value_or("");
  info.class_names = hdf5::find_strings_attribute(f, "class_names").value_or(std::vector<std::string>{});
  if (auto seed = hdf5::find_int_attribute(f, "split_seed")) {
    SplitRecord r;
    r.seed = static_cast<std::uint64_t>(*seed);
    r.test_fraction = hdf5::find_double_attribute(f, "test_fraction").value_or(0.0);
    r.val_fraction = hdf5::find_double_attribute(f, "val_fraction").value_or(0.0);
    r.stratified = hdf5::find_int_attribute(f, "stratified").value_or(0) != 0;
    info.split_record = r;
  }

  if (!hdf5::exists(f, "/train") && (hdf5::exists(f, "/x") || hdf5::exists(f, "/y"))) {
    info.unsplit = true;
    info.splits.push_back(read_split(f, path, ""));
  } else {
    if (!hdf5::exists(f, "/train")) {
      throw DataError(path + ": dataset /train/x is missing (expected /train/x and /train/y, or "
                             "/x and /y in an unsplit file)");
    }
    for (const char* name : kSplitNames) {
      if (hdf5::exists(f, std::string("/") + name)) info.splits.push_back(read_split(f, path, name));
    }
  }
  info.task = info.splits.front().task;
  for (const auto& s : info.splits) {
    if (s.task != info.task) {
      throw DataError(path + ": " + s.y_path() + " and " + info.splits.front().y_path() +
                      " disagree: one holds class ids, the other float targets");
    }
    if (s.sample_shape != info.splits.front().sample_shape) {
      throw DataError(path + ": " + s.x_path() + " rows are " + s.sample_shape.str() + " but " +
                      info.splits.front().x_path() + " rows are " +
                      info.splits.front().sample_shape.str());
    }
    if (s.targets != info.splits.front().targets || s.y_rank != info.splits.front().y_rank) {
      throw DataError(path + ": " + s.y_path() + " has " + std::to_string(s.targets) +
                      " target columns but " + info.splits.front().y_path() + " has " +
                      std::to_string(info.splits.front().targets));
    }
  }
  if (info.task == Task::kClassification) {
    const auto nc = hdf5::find_int_attribute(f, "num_classes");
    if (!nc) {
      throw DataError(path + ": root attribute num_classes is missing (required when y holds "
                             "class ids)");
    }
    if (*nc < 1) throw DataError(path + ": root attribute num_classes must be at least 1");
    info.num_classes = *nc;
  }
  return info;
}

void validate_rows(const DatasetInfo& info, const SplitInfo& split, std::int64_t begin,
                   std::int64_t end) {
  RowSource source(info, split, RowSource::Access::kSequential);
  const auto row_bytes = split.features() * static_cast<std::int64_t>(sizeof(float));
  const auto block = std::max<std::int64_t>(1, kScanBytes / row_bytes);
  std::vector<float> x(static_cast<std::size_t>(std::min(block, end - begin) * split.features()));
  std::vector<float> y(static_cast<std::size_t>(std::min(block, end - begin) * split.targets));
  for (std::int64_t at = begin; at < end; at += block) {
    source.read_block(at, std::min(block, end - at), x.data(), y.data());
  }
}

void check_token_ids(const DatasetInfo& info, const SplitInfo& split, std::int64_t begin, std::int64_t end,
                     std::int64_t limit, const std::string& user) {
  RowSource source(info, split, RowSource::Access::kSequential);
  const auto features = split.features();
  const auto block = std::max<std::int64_t>(1, kScanBytes / (features * static_cast<std::int64_t>(sizeof(float))));
  std::vector<float> x(static_cast<std::size_t>(std::min(block, end - begin) * features));
  std::vector<float> y(static_cast<std::size_t>(std::min(block, end - begin) * split.targets));
  for (std::int64_t at = begin; at < end; at += block) {
    const auto n = std::min(block, end - at);
    source.read_block(at, n, x.data(), y.data());
    for (std::int64_t i = 0; i < n * features; ++i) {
      const float v = x[static_cast<std::size_t>(i)];
      if (v >= 0.0f && v < static_cast<float>(limit) && v == std::floor(v)) continue;
      const std::string value = v == std::floor(v) ? std::to_string(static_cast<long long>(v)) : std::to_string(v);
      throw DataError(user + ": " + info.path + " " + split.x_path() + " row " + std::to_string(at + i / features) +
                      " (column " + std::to_string(i % features) + "): token id " + value + " outside [0, " +
                      std::to_string(limit) + ")");
    }
  }
}

void validate_dataset(const DatasetInfo& info) {
  for (const auto& s : info.splits) validate_rows(info, s, 0, s.rows);
}

std::vector<std::int64_t> class_histogram(const DatasetInfo& info, const std::string& name) {
  const SplitInfo& split = info.split(name);
  if (split.task != Task::kClassification) {
    throw ArgumentError(info.path + ": " + split.y_path() + " holds regression targets: no classes");
  }
  RowSource source(info, split, RowSource::Access::kSequential);
  std::vector<std::int64_t> hist(static_cast<std::size_t>(info.num_classes), 0);
  constexpr std::int64_t kBlock = 1 << 16;
  std::vector<std::int64_t> labels(static_cast<std::size_t>(std::min(kBlock, split.rows) * split.targets));
  for (std::int64_t at = 0; at < split.rows; at += kBlock) {
    const auto n = std::min(kBlock, split.rows - at);
    source.read_labels(at, n, labels.data());
    for (std::int64_t i = 0; i < n * split.targets; ++i) ++hist[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)])];
  }
  return hist;
}

}  // namespace dtrain::data
