// Importers: MNIST-style IDX files and CSV tables into the dtrain HDF5 layout.
//
//   data::import_idx({.images = "train-images-idx3-ubyte.gz", .labels = "train-labels-idx1-ubyte.gz",
//                     .test_images = "t10k-images-idx3-ubyte.gz",
//                     .test_labels = "t10k-labels-idx1-ubyte.gz", .output = "fm.h5"});
//   data::import_csv({.input = "iris.csv", .output = "iris.h5", .label_columns = {"species"}});
//
// Without test files the result is an unsplit file (/x, /y) for `dtrain data split`;
// with them, /train and /test. The output is written to a temporary file in the same
// directory and renamed at the end: an error or an interruption leaves no half file,
// and an existing output is refused unless force is set. Bad input is a DataError
// naming the file and the row (IDX) or the line and column (CSV, both 1-based).
#pragma once

#include "dtrain/data/dataset.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace dtrain::data {

// IDX (http://yann.lecun.com/exdb/mnist/ "FILE FORMATS"): big-endian header
// 0x00 0x00 <type> <ndims>, then ndims uint32 sizes, then the data. gzip or plain.
// uint8 images are stored as uint8 with scale = 1/255 (values in [0, 1] once read);
// other element types as float32. [N, H, W] images become [N, H, W, 1] (NHWC).
struct IdxImportOptions {
  std::string images;
  std::string labels;
  std::string test_images;        // optional; with test_labels
  std::string test_labels;
  std::string output;
  bool force = false;             // overwrite an existing output
  std::int64_t num_classes = 0;   // 0: the largest label + 1
};
DatasetInfo import_idx(const IdxImportOptions& options);

// CSV: one row per line, a header line (column names) unless header = false. The
// label columns (names, or 0-based indices without a header) become y, every other
// column a float32 feature. Classification: one label column holding integer class
// ids >= 0, or names (mapped to ids in sorted order, kept as the class_names
// attribute). Regression: one or more numeric columns, y float32 [N, k]. Double
// quotes around a field are allowed ("" is a quote); a field cannot span lines.
struct CsvImportOptions {
  std::string input;
  std::string output;
  std::vector<std::string> label_columns;
  char delimiter = ',';
  bool header = true;
  bool regression = false;
  bool force = false;
};
DatasetInfo import_csv(const CsvImportOptions& options);

}  // namespace dtrain::data
