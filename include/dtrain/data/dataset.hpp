// The dtrain dataset layout in HDF5, what a file holds, and its validation.
//
//   auto info = data::read_dataset_info("data/fashion-mnist.h5");   // structure only
//   const auto& train = info.split("train");    // rows 55000, sample_shape [28, 28, 1]
//   data::validate_dataset(info);               // streams the contents: NaN/Inf, labels
//   auto hist = data::class_histogram(info, "train");   // 10 counts
//
// Layout (data/README.md has the h5py recipe): groups /train, /test and optional /val,
// each with x ([N, features...], float32, int32 token ids [N, t], or uint8 with a
// float `scale` attribute: value = float(stored) * scale) and y (integer class ids
// [N], or [N, t] per token, or float32 targets [N, k]). An "unsplit" file holds /x and /y at the root instead (what the importers
// write without test files; `dtrain data split` turns it into /train + /test [+ /val]).
// Root attributes: format = "dtrain-dataset", format_version, num_classes
// (classification), source, and after a split split_seed, test_fraction,
// val_fraction, stratified. Every problem is a DataError naming file, dataset, row.
#pragma once

#include "dtrain/tensor.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dtrain::data {

inline constexpr const char* kDatasetFormat = "dtrain-dataset";
inline constexpr std::int64_t kDatasetFormatVersion = 1;

// How x is stored in the file (it is always float32 once read).
// kInt32: token ids for Embedding, converted to float when read: exact below 2^24
// (a larger value is a DataError naming the row), because batches carry float x.
enum class StorageType { kFloat32, kFloat64, kUint8, kInt32 };
const char* storage_type_name(StorageType t);  // "float32", "float64", "uint8", "int32"

enum class Task { kClassification, kRegression };

// One split (/train, /val, /test) or the root /x, /y of an unsplit file.
struct SplitInfo {
  std::string name;            // "train", "val", "test"; "" for an unsplit file
  std::int64_t rows = 0;
  Shape sample_shape;          // x without the row dimension, e.g. [28, 28, 1]
  StorageType x_type = StorageType::kFloat32;
  float scale = 1.0f;          // uint8 x: value = float(stored) * scale; else 1
  Task task = Task::kClassification;
  std::int64_t targets = 1;    // regression: k (y is [N, k] or [N] for k = 1); class ids:
                               // 1 for y [N], t for y [N, t] (one id per token)
  std::string y_dtype;         // y as stored: "int64", "int32", "uint8", "float32", "float64", ...
  int y_rank = 1;              // 1: y is [N]; 2: [N, k] targets or [N, t] class ids

  std::string x_path() const;  // "/train/x" or "/x"
  std::string y_path() const;
  std::int64_t features() const { return sample_shape.numel(); }
};

// The split parameters recorded by `dtrain data split`.
struct SplitRecord {
  std::uint64_t seed = 0;
  double test_fraction = 0.0;
  double val_fraction = 0.0;
  bool stratified = false;
};

struct DatasetInfo {
  std::string path;
  bool unsplit = false;             // /x, /y at the root
  std::vector<SplitInfo> splits;    // train, val, test as present (or the one unsplit)
  Task task = Task::kClassification;
  std::int64_t num_classes = 0;     // classification; 0 for regression
  std::string source;               // free text, e.g. "idx:train-images-idx3-ubyte.gz"
  std::optional<SplitRecord> split_record;
  std::vector<std::string> class_names;  // optional (CSV with named labels)
  std::vector<std::pair<std::string, std::string>> attributes;  // every root attribute, as text

  const SplitInfo* find(const std::string& name) const;
  // Throws DataError naming the file and the missing group (and hints at `data split`
  // when the file is unsplit).
  const SplitInfo& split(const std::string& name) const;
};

// Opens the file and checks the structure: it exists, is HDF5 and not truncated,
// the groups and datasets exist, x and y have the same number of rows, the dtypes
// are supported, no split is empty, num_classes is present for class ids. Does not
// read the data itself.
DatasetInfo read_dataset_info(const std::string& path);

// Streams every split (bounded memory) and throws DataError at the first problem:
// NaN or Inf in x or in regression targets, a label outside [0, num_classes).
void validate_dataset(const DatasetInfo& info);
// The same for rows [begin, end) of one split (a rank checks its stripe with it).
void validate_rows(const DatasetInfo& info, const SplitInfo& split, std::int64_t begin,
                   std::int64_t end);

// Token ids for an Embedding of `limit` rows: streams x of rows [begin, end) of a
// split (a rank checks its stripe) and throws DataError at the first value that is
// not a whole number in [0, limit): "<user>: <file> /train/x row R (column C): token
// id V outside [0, limit)". `user` names the layer, e.g. "Embedding 'embedding'".
void check_token_ids(const DatasetInfo& info, const SplitInfo& split, std::int64_t begin, std::int64_t end,
                     std::int64_t limit, const std::string& user);

// Number of rows per class id of a classification split (streams y).
std::vector<std::int64_t> class_histogram(const DatasetInfo& info, const std::string& split);

}  // namespace dtrain::data
