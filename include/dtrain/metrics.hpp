// Metrics with Keras names and semantics: stateful objects fed batch by batch.
//
//   auto acc = metrics::make_metric("accuracy", losses::parse_loss("sparse_categorical_crossentropy"));
//   for (each batch) acc->update(y_true, y_pred);      // Views of float
//   auto s = acc->state();                              // sums and counts only
//   comm.allreduce_sum(s);                              // element-wise sum across ranks
//   acc->set_state(s);
//   double a = acc->result();                           // the global accuracy
//
// STATE CONTRACT. state() holds only sums and counts, never averages or ratios, so
// the states of several batches or of several MPI ranks combine exactly by
// element-wise addition: set_state(state_a + state_b) then result() is the metric of
// the union of both data sets. Counts are whole numbers held in doubles (exact up to
// 2^53). result() turns sums into the figure (0 where a denominator is 0, like
// Keras' divide_no_nan). The layout is fixed per metric and documented at each class;
// state_size() never changes.
//
// Shapes: batch first; y_pred's last axis holds the classes for the categorical
// metrics (any leading axes are positions, each counted once). Elementwise metrics
// take y_true and y_pred of equal shape, or shapes differing by a trailing axis of 1
// ([b] vs [b, 1]) as Keras squeezes them. Sparse metrics take y_true shaped as y_pred
// without its last axis (or with a trailing 1), holding class ids as floats; a label
// that is not an integer in [0, K) counts as a miss. Other shapes: ShapeError.
// Sums are accumulated in double, serially, in element order (deterministic).
#pragma once

#include "dtrain/losses.hpp"
#include "dtrain/tensor.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dtrain::metrics {

class Metric {
 public:
  virtual ~Metric() = default;

  // The name the figure is reported under (Keras: the string the user gave).
  const std::string& name() const { return name_; }
  // Adds one batch to the state.
  virtual void update(View<const float> y_true, View<const float> y_pred) = 0;
  // The figure for everything added since the last reset.
  virtual double result() const = 0;
  // Back to the empty state (all zeros).
  void reset();
  // Sums and counts (see the contract above); set_state needs state_size() values
  // (ArgumentError otherwise).
  std::vector<double> state() const { return state_; }
  void set_state(std::span<const double> state);
  std::size_t state_size() const { return state_.size(); }

 protected:
  Metric(std::string name, std::size_t state_size);
  std::span<double> sums() { return state_; }
  std::span<const double> sums() const { return state_; }

 private:
  std::string name_;
  std::vector<double> state_;
};

// Mean of values. State [sum, count]. The model feeds it the summed loss of a batch
// with add(sum, count); update() averages the elements of y_pred (y_true unused).
class Mean final : public Metric {
 public:
  explicit Mean(std::string name = "mean");
  void add(double sum, double count);
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;
};

// Fraction of elements with y_pred == y_true (Keras `accuracy`). State [hits, count].
class Accuracy final : public Metric {
 public:
  explicit Accuracy(std::string name = "accuracy");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;
};

// Fraction of elements with y_true == (y_pred > threshold ? 1 : 0) (Keras
// `binary_accuracy`; y_true must be exactly 0 or 1 to ever match). State [hits, count].
class BinaryAccuracy final : public Metric {
 public:
  explicit BinaryAccuracy(double threshold = 0.5, std::string name = "binary_accuracy");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;

 private:
  float threshold_;
};

// argmax(y_true) == argmax(y_pred) over the last axis, first maximum on ties (NumPy).
// State [hits, count of positions].
class CategoricalAccuracy final : public Metric {
 public:
  explicit CategoricalAccuracy(std::string name = "categorical_accuracy");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;
};

// y_true (class id) == argmax(y_pred), first maximum on ties. State [hits, count].
class SparseCategoricalAccuracy final : public Metric {
 public:
  explicit SparseCategoricalAccuracy(std::string name = "sparse_categorical_accuracy");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;
};

// The target class is in the top k when fewer than k classes score strictly higher
// than it (ties favour the target, as TF's in_top_k and Keras' jax backend; a NaN
// score for the target is a miss). Target: argmax(y_true) (first maximum) for the
// dense form, the class id for the sparse form. State [hits, count].
class TopKCategoricalAccuracy final : public Metric {
 public:
  explicit TopKCategoricalAccuracy(int k = 5, std::string name = "top_k_categorical_accuracy");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;

 private:
  int k_;
};

class SparseTopKCategoricalAccuracy final : public Metric {
 public:
  explicit SparseTopKCategoricalAccuracy(int k = 5, std::string name = "sparse_top_k_categorical_accuracy");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;

 private:
  int k_;
};

// Mean of (y_pred - y_true)^2 over all elements. State [sum of squares, count].
class MeanSquaredError final : public Metric {
 public:
  explicit MeanSquaredError(std::string name = "mean_squared_error");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;
};

// Mean of |y_pred - y_true| over all elements. State [sum of absolute errors, count].
class MeanAbsoluteError final : public Metric {
 public:
  explicit MeanAbsoluteError(std::string name = "mean_absolute_error");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;
};

// Keras Precision / Recall with one threshold, over all elements (flattened): a
// label is positive when y_true != 0, a prediction when y_pred > threshold. With
// from_logits the predictions are logits and the test is x > log(t / (1 - t)), i.e.
// sigmoid(x) > t without rounding (t = 0.5: x > 0).
// Precision state [tp, fp], result tp / (tp + fp); Recall state [tp, fn], result tp / (tp + fn).
class Precision final : public Metric {
 public:
  explicit Precision(double threshold = 0.5, bool from_logits = false, std::string name = "precision");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;

 private:
  double threshold_;
  bool from_logits_;
};

class Recall final : public Metric {
 public:
  explicit Recall(double threshold = 0.5, bool from_logits = false, std::string name = "recall");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;

 private:
  double threshold_;
  bool from_logits_;
};

// Keras AUC with its defaults: curve ROC, summation "interpolation", num_thresholds
// evenly spaced thresholds (default 200) t_0 = -1e-7, t_i = i / (T-1), t_{T-1} = 1 + 1e-7.
// What is implemented (keras/src/metrics/confusion_metrics.py and metrics_utils.py,
// the "evenly distributed thresholds" path Keras takes for these defaults):
//  - p = y_pred (sigmoid(y_pred) with from_logits), clipped to [0, 1], in float;
//    label positive when y_true != 0; every element counts (flattened).
//  - p falls into bucket b = max(0, ceil(p (T-1)) - 1) and counts as predicted
//    positive at thresholds 0..b (p > t_i), so tp_i = Σ_{b >= i} positives in b.
//  - result: tpr_i = tp_i / P, fpr_i = fp_i / N (0 if P or N is 0), and the
//    trapezoids Σ_{i<T-1} (fpr_i - fpr_{i+1}) (tpr_i + tpr_{i+1}) / 2.
// With every score in its own bucket this is the exact ROC AUC (Mann-Whitney); two
// scores sharing a bucket count as a tie (half credit).
// State [tp_0..tp_{T-1}, fp_0..fp_{T-1}, P, N] (2T + 2 counts).
class AUC final : public Metric {
 public:
  explicit AUC(int num_thresholds = 200, bool from_logits = false, std::string name = "auc");
  void update(View<const float> y_true, View<const float> y_pred) override;
  double result() const override;
  int num_thresholds() const { return num_thresholds_; }

 private:
  int num_thresholds_;
  bool from_logits_;
  std::vector<double> buckets_;  // per-update scratch (positives, negatives per bucket)
};

// Builds a metric from its Keras name; the loss resolves the ambiguous ones:
//  - "accuracy" / "acc": sparse_categorical_crossentropy -> sparse_categorical_accuracy,
//    categorical_crossentropy -> categorical_accuracy, binary_crossentropy ->
//    binary_accuracy (threshold 0.5, or 0 on logits when loss.from_logits), any
//    other loss -> Accuracy (equality), as Keras 2 resolved it from the loss.
//  - "binary_accuracy", "precision", "recall", "auc" look at logits when
//    loss.from_logits (threshold 0 / sigmoid), so they mean the same as on probabilities.
// Names: accuracy, acc, binary_accuracy, categorical_accuracy,
// sparse_categorical_accuracy, top_k_categorical_accuracy (k = 5),
// sparse_top_k_categorical_accuracy (k = 5), mean_squared_error, mse,
// mean_absolute_error, mae, precision, recall, auc, and the Keras class names
// (BinaryAccuracy, ..., AUC). The metric reports under the name given.
// Unknown name -> ArgumentError naming it and listing the valid ones.
std::unique_ptr<Metric> make_metric(const std::string& name, const losses::LossConfig& loss);

// The names make_metric accepts (canonical snake_case ones first), in a fixed order.
std::vector<std::string> metric_names();

}  // namespace dtrain::metrics
