// Shape checks and small helpers shared by the metrics (private to src/metrics).
#pragma once

#include "dtrain/tensor.hpp"

#include <cstdint>
#include <string>

namespace dtrain::metrics::detail {

// y_true and y_pred of equal shape, or differing by a trailing axis of 1.
// Returns the element count; ShapeError naming the metric and both shapes otherwise.
std::int64_t check_elementwise(const std::string& metric, const Shape& y_true, const Shape& y_pred);
// Equal shapes with a class axis of K >= 1 last; returns K.
std::int64_t check_categorical(const std::string& metric, const Shape& y_true, const Shape& y_pred);
// y_true = y_pred without its last axis (or with a trailing 1); returns K.
std::int64_t check_sparse(const std::string& metric, const Shape& y_true, const Shape& y_pred);

// Index of the first maximum of x[0..k) (NumPy's argmax).
std::int64_t first_argmax(const float* x, std::int64_t k);
// The class id stored in v if it is an integer in [0, k), else -1.
std::int64_t class_id(float v, std::int64_t k);
// num / den, 0 when den is 0 (Keras' divide_no_nan).
inline double ratio(double num, double den) { return den == 0 ? 0.0 : num / den; }

}  // namespace dtrain::metrics::detail
