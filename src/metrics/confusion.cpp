// Confusion-matrix metrics: Precision, Recall (one threshold) and AUC (ROC,
// interpolation), after Keras 3 keras/src/metrics/confusion_metrics.py and
// keras/src/metrics/metrics_utils.py.
#include "common.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace dtrain::metrics {
namespace {

double check_threshold(double t, const std::string& name) {
  if (!(t >= 0 && t <= 1)) {
    std::ostringstream msg;
    msg << name << ": threshold must be in [0, 1], got " << t;
    throw ArgumentError(msg.str());
  }
  return t;
}

// p > threshold on probabilities (compared in float, as Keras' float32 variables);
// on logits x > log(t / (1 - t)), which is sigmoid(x) > t without rounding.
bool predicted_positive(float p, double threshold, bool from_logits) {
  if (!from_logits) return p > static_cast<float>(threshold);
  return static_cast<double>(p) > std::log(threshold / (1 - threshold));
}

}  // namespace

Precision::Precision(double threshold, bool from_logits, std::string name)
    : Metric(std::move(name), 2), threshold_(check_threshold(threshold, this->name())), from_logits_(from_logits) {}

void Precision::update(View<const float> y_true, View<const float> y_pred) {
  const auto n = detail::check_elementwise(name(), y_true.shape, y_pred.shape);
  double tp = 0, fp = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (!predicted_positive(y_pred.data[i], threshold_, from_logits_)) continue;
    (y_true.data[i] != 0.f ? tp : fp) += 1;
  }
  sums()[0] += tp;
  sums()[1] += fp;
}

double Precision::result() const { return detail::ratio(sums()[0], sums()[0] + sums()[1]); }

Recall::Recall(double threshold, bool from_logits, std::string name)
    : Metric(std::move(name), 2), threshold_(check_threshold(threshold, this->name())), from_logits_(from_logits) {}

void Recall::update(View<const float> y_true, View<const float> y_pred) {
  const auto n = detail::check_elementwise(name(), y_true.shape, y_pred.shape);
  double tp = 0, fn = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (y_true.data[i] == 0.f) continue;
    (predicted_positive(y_pred.data[i], threshold_, from_logits_) ? tp : fn) += 1;
  }
  sums()[0] += tp;
  sums()[1] += fn;
}

double Recall::result() const { return detail::ratio(sums()[0], sums()[0] + sums()[1]); }

AUC::AUC(int num_thresholds, bool from_logits, std::string name)
    : Metric(std::move(name), 2 * static_cast<std::size_t>(std::max(num_thresholds, 2)) + 2),
      num_thresholds_(num_thresholds),
      from_logits_(from_logits),
      buckets_(2 * static_cast<std::size_t>(std::max(num_thresholds, 2)), 0.0) {
  if (num_thresholds < 2) {
    throw ArgumentError(this->name() + ": num_thresholds must be > 1, got " + std::to_string(num_thresholds));
  }
}

void AUC::update(View<const float> y_true, View<const float> y_pred) {
  const auto n = detail::check_elementwise(name(), y_true.shape, y_pred.shape);
  const auto t = static_cast<std::size_t>(num_thresholds_);
  std::fill(buckets_.begin(), buckets_.end(), 0.0);
  double positives = 0, negatives = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    float p = y_pred.data[i];
    if (from_logits_) p = 1.f / (1.f + std::exp(-p));
    p = p >= 0.f ? std::min(p, 1.f) : 0.f;  // clip to [0, 1]; NaN counts as 0
    // bucket b = max(0, ceil(p (T-1)) - 1): positive at thresholds 0..b
    const float b = std::max(0.f, std::ceil(p * static_cast<float>(num_thresholds_ - 1)) - 1.f);
    const auto bucket = static_cast<std::size_t>(b);
    const bool positive = y_true.data[i] != 0.f;
    buckets_[bucket + (positive ? 0 : t)] += 1;
    (positive ? positives : negatives) += 1;
  }
  // tp_i += Σ_{b >= i} positives in bucket b (a reverse cumulative sum); fp likewise.
  auto s = sums();
  double tp = 0, fp = 0;
  for (std::size_t i = t; i-- > 0;) {
    tp += buckets_[i];
    fp += buckets_[t + i];
    s[i] += tp;
    s[t + i] += fp;
  }
  s[2 * t] += positives;
  s[2 * t + 1] += negatives;
}

double AUC::result() const {
  const auto t = static_cast<std::size_t>(num_thresholds_);
  const auto s = sums();
  const double positives = s[2 * t], negatives = s[2 * t + 1];
  double area = 0;
  for (std::size_t i = 0; i + 1 < t; ++i) {
    const double tpr0 = detail::ratio(s[i], positives), tpr1 = detail::ratio(s[i + 1], positives);
    const double fpr0 = detail::ratio(s[t + i], negatives), fpr1 = detail::ratio(s[t + i + 1], negatives);
    area += (fpr0 - fpr1) * (tpr0 + tpr1) / 2;
  }
  return area;
}

}  // namespace dtrain::metrics
