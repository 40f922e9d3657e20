// Accuracy metrics: equality, binary, categorical, sparse and top-k (Keras 3,
// keras/src/metrics/accuracy_metrics.py). State [hits, count] for each.
#include "common.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/metrics.hpp"

#include <cmath>

namespace dtrain::metrics {
namespace {

void add_hits(std::span<double> s, double hits, double count) {
  s[0] += hits;
  s[1] += count;
}

// The target is in the top k when fewer than k scores are strictly greater.
bool in_top_k(const float* x, std::int64_t k, std::int64_t target, int top) {
  if (target < 0 || std::isnan(x[target])) return false;
  std::int64_t greater = 0;
  for (std::int64_t j = 0; j < k; ++j) greater += x[j] > x[target] ? 1 : 0;
  return greater < top;
}

int check_k(int k, const std::string& name) {
  if (k < 1) throw ArgumentError(name + ": k must be at least 1, got " + std::to_string(k));
  return k;
}

}  // namespace

Accuracy::Accuracy(std::string name) : Metric(std::move(name), 2) {}

void Accuracy::update(View<const float> y_true, View<const float> y_pred) {
  const auto n = detail::check_elementwise(name(), y_true.shape, y_pred.shape);
  double hits = 0;
  for (std::int64_t i = 0; i < n; ++i) hits += y_true.data[i] == y_pred.data[i] ? 1 : 0;
  add_hits(sums(), hits, static_cast<double>(n));
}

double Accuracy::result() const { return detail::ratio(sums()[0], sums()[1]); }

BinaryAccuracy::BinaryAccuracy(double threshold, std::string name)
    : Metric(std::move(name), 2), threshold_(static_cast<float>(threshold)) {}

void BinaryAccuracy::update(View<const float> y_true, View<const float> y_pred) {
  const auto n = detail::check_elementwise(name(), y_true.shape, y_pred.shape);
  double hits = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float predicted = y_pred.data[i] > threshold_ ? 1.f : 0.f;
    hits += y_true.data[i] == predicted ? 1 : 0;
  }
  add_hits(sums(), hits, static_cast<double>(n));
}

double BinaryAccuracy::result() const { return detail::ratio(sums()[0], sums()[1]); }

CategoricalAccuracy::CategoricalAccuracy(std::string name) : Metric(std::move(name), 2) {}

void CategoricalAccuracy::update(View<const float> y_true, View<const float> y_pred) {
  const auto k = detail::check_categorical(name(), y_true.shape, y_pred.shape);
  const auto rows = y_pred.size() / k;
  double hits = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    hits += detail::first_argmax(y_true.data + r * k, k) == detail::first_argmax(y_pred.data + r * k, k) ? 1 : 0;
  }
  add_hits(sums(), hits, static_cast<double>(rows));
}

double CategoricalAccuracy::result() const { return detail::ratio(sums()[0], sums()[1]); }

SparseCategoricalAccuracy::SparseCategoricalAccuracy(std::string name) : Metric(std::move(name), 2) {}

void SparseCategoricalAccuracy::update(View<const float> y_true, View<const float> y_pred) {
  const auto k = detail::check_sparse(name(), y_true.shape, y_pred.shape);
  const auto rows = y_pred.size() / k;
  double hits = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto label = detail::class_id(y_true.data[r], k);
    hits += label >= 0 && label == detail::first_argmax(y_pred.data + r * k, k) ? 1 : 0;
  }
  add_hits(sums(), hits, static_cast<double>(rows));
}

double SparseCategoricalAccuracy::result() const { return detail::ratio(sums()[0], sums()[1]); }

TopKCategoricalAccuracy::TopKCategoricalAccuracy(int k, std::string name)
    : Metric(std::move(name), 2), k_(check_k(k, this->name())) {}

void TopKCategoricalAccuracy::update(View<const float> y_true, View<const float> y_pred) {
  const auto k = detail::check_categorical(name(), y_true.shape, y_pred.shape);
  const auto rows = y_pred.size() / k;
  double hits = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    hits += in_top_k(y_pred.data + r * k, k, detail::first_argmax(y_true.data + r * k, k), k_) ? 1 : 0;
  }
  add_hits(sums(), hits, static_cast<double>(rows));
}

double TopKCategoricalAccuracy::result() const { return detail::ratio(sums()[0], sums()[1]); }

SparseTopKCategoricalAccuracy::SparseTopKCategoricalAccuracy(int k, std::string name)
    : Metric(std::move(name), 2), k_(check_k(k, this->name())) {}

void SparseTopKCategoricalAccuracy::update(View<const float> y_true, View<const float> y_pred) {
  const auto k = detail::check_sparse(name(), y_true.shape, y_pred.shape);
  const auto rows = y_pred.size() / k;
  double hits = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    hits += in_top_k(y_pred.data + r * k, k, detail::class_id(y_true.data[r], k), k_) ? 1 : 0;
  }
  add_hits(sums(), hits, static_cast<double>(rows));
}

double SparseTopKCategoricalAccuracy::result() const { return detail::ratio(sums()[0], sums()[1]); }

}  // namespace dtrain::metrics
