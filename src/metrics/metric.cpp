// The Metric base (state as sums and counts), Mean, the shape helpers and the one
// name -> metric table.
#include "common.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/metrics.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

namespace dtrain::metrics {
namespace detail {
namespace {

Shape drop_last_axis(const Shape& s) {
  Shape out;
  for (int i = 0; i + 1 < s.rank(); ++i) out.push_back(s[i]);
  return out;
}

bool same_up_to_trailing_one(const Shape& a, const Shape& b) {
  if (a == b) return true;
  const Shape& longer = a.rank() > b.rank() ? a : b;
  const Shape& shorter = a.rank() > b.rank() ? b : a;
  return longer.rank() == shorter.rank() + 1 && longer[longer.rank() - 1] == 1 &&
         drop_last_axis(longer) == shorter;
}

[[noreturn]] void shape_error(const std::string& metric, const Shape& y_true, const Shape& y_pred,
                              const std::string& expected) {
  throw ShapeError(metric + ": y_true " + y_true.str() + " and y_pred " + y_pred.str() + " do not fit; " +
                   expected);
}

}  // namespace

std::int64_t check_elementwise(const std::string& metric, const Shape& y_true, const Shape& y_pred) {
  if (!same_up_to_trailing_one(y_true, y_pred)) shape_error(metric, y_true, y_pred, "expected equal shapes");
  return y_pred.numel();
}

std::int64_t check_categorical(const std::string& metric, const Shape& y_true, const Shape& y_pred) {
  if (y_pred.rank() < 1 || y_pred[y_pred.rank() - 1] < 1) {
    shape_error(metric, y_true, y_pred, "y_pred needs a class axis last");
  }
  if (!(y_true == y_pred)) shape_error(metric, y_true, y_pred, "expected equal shapes (one-hot y_true)");
  return y_pred[y_pred.rank() - 1];
}

std::int64_t check_sparse(const std::string& metric, const Shape& y_true, const Shape& y_pred) {
  if (y_pred.rank() < 1 || y_pred[y_pred.rank() - 1] < 1) {
    shape_error(metric, y_true, y_pred, "y_pred needs a class axis last");
  }
  const Shape expected = drop_last_axis(y_pred);
  if (!same_up_to_trailing_one(expected, y_true)) {
    shape_error(metric, y_true, y_pred, "expected y_true of shape " + expected.str() + " (class ids)");
  }
  return y_pred[y_pred.rank() - 1];
}

std::int64_t first_argmax(const float* x, std::int64_t k) {
  std::int64_t best = 0;
  for (std::int64_t j = 1; j < k; ++j) {
    if (x[j] > x[best]) best = j;
  }
  return best;
}

std::int64_t class_id(float v, std::int64_t k) {
  if (!(v >= 0.f) || !(v < static_cast<float>(k)) || std::floor(v) != v) return -1;
  return static_cast<std::int64_t>(v);
}

}  // namespace detail

// ---- Metric ------------------------------------------------------------------------

Metric::Metric(std::string name, std::size_t state_size) : name_(std::move(name)), state_(state_size, 0.0) {}

void Metric::reset() { std::fill(state_.begin(), state_.end(), 0.0); }

void Metric::set_state(std::span<const double> state) {
  if (state.size() != state_.size()) {
    throw ArgumentError("metric '" + name_ + "': set_state needs " + std::to_string(state_.size()) +
                        " values, got " + std::to_string(state.size()));
  }
  std::copy(state.begin(), state.end(), state_.begin());
}

// ---- Mean --------------------------------------------------------------------------

Mean::Mean(std::string name) : Metric(std::move(name), 2) {}

void Mean::add(double sum, double count) {
  sums()[0] += sum;
  sums()[1] += count;
}

void Mean::update(View<const float> /*y_true*/, View<const float> y_pred) {
  double s = 0;
  for (std::int64_t i = 0; i < y_pred.size(); ++i) s += y_pred.data[i];
  add(s, static_cast<double>(y_pred.size()));
}

double Mean::result() const { return detail::ratio(sums()[0], sums()[1]); }

// ---- the name table ----------------------------------------------------------------

namespace {

enum class Kind {
  kAccuracy,  // resolved from the loss
  kEquality,  // Keras' Accuracy class
  kBinaryAccuracy,
  kCategoricalAccuracy,
  kSparseCategoricalAccuracy,
  kTopK,
  kSparseTopK,
  kMeanSquaredError,
  kMeanAbsoluteError,
  kPrecision,
  kRecall,
  kAuc,
};

struct Entry {
  std::string_view name;
  Kind kind;
  bool class_name;  // Keras class names are accepted but not listed in errors
};

constexpr std::array<Entry, 25> kMetrics{{
    {"accuracy", Kind::kAccuracy, false},
    {"acc", Kind::kAccuracy, false},
    {"binary_accuracy", Kind::kBinaryAccuracy, false},
    {"categorical_accuracy", Kind::kCategoricalAccuracy, false},
    {"sparse_categorical_accuracy", Kind::kSparseCategoricalAccuracy, false},
    {"top_k_categorical_accuracy", Kind::kTopK, false},
    {"sparse_top_k_categorical_accuracy", Kind::kSparseTopK, false},
    {"mean_squared_error", Kind::kMeanSquaredError, false},
    {"mse", Kind::kMeanSquaredError, false},
    {"mean_absolute_error", Kind::kMeanAbsoluteError, false},
    {"mae", Kind::kMeanAbsoluteError, false},
    {"precision", Kind::kPrecision, false},
    {"recall", Kind::kRecall, false},
    {"auc", Kind::kAuc, false},
    {"Accuracy", Kind::kEquality, true},
    {"BinaryAccuracy", Kind::kBinaryAccuracy, true},
    {"CategoricalAccuracy", Kind::kCategoricalAccuracy, true},
    {"SparseCategoricalAccuracy", Kind::kSparseCategoricalAccuracy, true},
    {"TopKCategoricalAccuracy", Kind::kTopK, true},
    {"SparseTopKCategoricalAccuracy", Kind::kSparseTopK, true},
    {"MeanSquaredError", Kind::kMeanSquaredError, true},
    {"MeanAbsoluteError", Kind::kMeanAbsoluteError, true},
    {"Precision", Kind::kPrecision, true},
    {"Recall", Kind::kRecall, true},
    {"AUC", Kind::kAuc, true},
}};

std::string canonical_loss(const losses::LossConfig& loss) {
  return loss.name.empty() ? std::string() : losses::parse_loss(loss.name).name;
}

// Keras 2's resolution of "accuracy" from the loss function.
std::unique_ptr<Metric> resolved_accuracy(const std::string& name, const losses::LossConfig& loss) {
  const std::string l = canonical_loss(loss);
  if (l == "sparse_categorical_crossentropy") return std::make_unique<SparseCategoricalAccuracy>(name);
  if (l == "categorical_crossentropy") return std::make_unique<CategoricalAccuracy>(name);
  if (l == "binary_crossentropy") return std::make_unique<BinaryAccuracy>(loss.from_logits ? 0.0 : 0.5, name);
  return std::make_unique<Accuracy>(name);
}

std::unique_ptr<Metric> build(Kind kind, const std::string& name, const losses::LossConfig& loss) {
  switch (kind) {
    case Kind::kAccuracy: return resolved_accuracy(name, loss);
    case Kind::kEquality: return std::make_unique<Accuracy>(name);
    case Kind::kBinaryAccuracy: return std::make_unique<BinaryAccuracy>(loss.from_logits ? 0.0 : 0.5, name);
    case Kind::kCategoricalAccuracy: return std::make_unique<CategoricalAccuracy>(name);
    case Kind::kSparseCategoricalAccuracy: return std::make_unique<SparseCategoricalAccuracy>(name);
    case Kind::kTopK: return std::make_unique<TopKCategoricalAccuracy>(5, name);
    case Kind::kSparseTopK: return std::make_unique<SparseTopKCategoricalAccuracy>(5, name);
    case Kind::kMeanSquaredError: return std::make_unique<MeanSquaredError>(name);
    case Kind::kMeanAbsoluteError: return std::make_unique<MeanAbsoluteError>(name);
    case Kind::kPrecision: return std::make_unique<Precision>(0.5, loss.from_logits, name);
    case Kind::kRecall: return std::make_unique<Recall>(0.5, loss.from_logits, name);
    case Kind::kAuc: return std::make_unique<AUC>(200, loss.from_logits, name);
  }
  throw Error("metrics: unhandled kind");  // unreachable: every Kind is handled above
}

}  // namespace

std::unique_ptr<Metric> make_metric(const std::string& name, const losses::LossConfig& loss) {
  for (const auto& e : kMetrics) {
    if (e.name == name) return build(e.kind, name, loss);
  }
  std::string valid;
  for (const auto& e : kMetrics) {
    if (!e.class_name) valid += (valid.empty() ? "" : ", ") + std::string(e.name);
  }
  throw ArgumentError("unknown metric '" + name + "'; valid names: " + valid + " (or their Keras class names)");
}

std::vector<std::string> metric_names() {
  std::vector<std::string> out;
  for (const auto& e : kMetrics) out.emplace_back(e.name);
  return out;
}

}  // namespace dtrain::metrics
