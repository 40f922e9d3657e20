// mean_squared_error and mean_absolute_error as metrics: sums of squared / absolute
// errors and element counts, accumulated in double.
#include "common.hpp"

#include "dtrain/metrics.hpp"

#include <cmath>

namespace dtrain::metrics {

MeanSquaredError::MeanSquaredError(std::string name) : Metric(std::move(name), 2) {}

void MeanSquaredError::update(View<const float> y_true, View<const float> y_pred) {
  const auto n = detail::check_elementwise(name(), y_true.shape, y_pred.shape);
  double s = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double e = static_cast<double>(y_pred.data[i]) - static_cast<double>(y_true.data[i]);
    s += e * e;
  }
  sums()[0] += s;
  sums()[1] += static_cast<double>(n);
}

double MeanSquaredError::result() const { return detail::ratio(sums()[0], sums()[1]); }

MeanAbsoluteError::MeanAbsoluteError(std::string name) : Metric(std::move(name), 2) {}

void MeanAbsoluteError::update(View<const float> y_true, View<const float> y_pred) {
  const auto n = detail::check_elementwise(name(), y_true.shape, y_pred.shape);
  double s = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    s += std::abs(static_cast<double>(y_pred.data[i]) - static_cast<double>(y_true.data[i]));
  }
  sums()[0] += s;
  sums()[1] += static_cast<double>(n);
}

double MeanAbsoluteError::result() const { return detail::ratio(sums()[0], sums()[1]); }

}  // namespace dtrain::metrics
