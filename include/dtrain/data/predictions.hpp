// The file `dtrain predict` writes: predictions [N, k] as float32 in
// /predictions of a new HDF5 file.
#pragma once

#include "dtrain/tensor.hpp"

#include <string>

namespace dtrain::data {

// Through a temporary file beside `path` that is fsync'ed and renamed into
// place: a crash leaves no half-written file. An existing `path` is replaced
// only with `force` (ArgumentError otherwise).
void write_predictions(const std::string& path, const Tensor& predictions, bool force);

}  // namespace dtrain::data
