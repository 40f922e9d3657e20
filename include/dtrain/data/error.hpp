// DataError: a dataset file or an input file (IDX, CSV) that cannot be used.
//
//   throw DataError("data/fm.h5: /train/y row 17: label 12 outside [0, 10)");
//
// The message is one line and names the file, the dataset (HDF5 path) and, where
// it applies, the row (0-based) or the CSV line and column (1-based). It derives
// from ArgumentError, so the command line exits with kExitUsage (2).
#pragma once

#include "dtrain/core/error.hpp"

namespace dtrain::data {

class DataError : public ArgumentError {
 public:
  using ArgumentError::ArgumentError;
};

}  // namespace dtrain::data
