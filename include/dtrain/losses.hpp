// Losses with Keras names and semantics, as graph nodes giving one value per sample.
//
//   auto cfg = losses::parse_loss("sparse_categorical_crossentropy");
//   cfg.from_logits = true;
//   auto labels = g.input("y_true", losses::y_true_shape(cfg, g.shape(logits)));
//   auto per_sample = losses::per_sample_loss(g, logits, labels, cfg);   // [batch]
//   auto total = graph::sum(g, per_sample);   // the model divides this by the GLOBAL
//                                             // sample count of the step (all ranks)
//
// Per-sample values follow Keras 3 (keras/src/losses/losses.py and the numpy
// backend, keras/src/backend/numpy/nn.py), with epsilon = 1e-7:
//   mean_squared_error    mean_j (p_j - t_j)^2
//   mean_absolute_error   mean_j |p_j - t_j|
//   huber                 mean_j { e^2/2 if |e| <= delta else delta*|e| - delta^2/2 },  e = p - t
//   binary_crossentropy   mean_j  -(t log c + (1-t) log(1-c)),  c = clip(p, eps, 1-eps)
//                         from_logits: mean_j max(x,0) - x t + log(1 + exp(-|x|))
//                         label_smoothing ls: t <- t (1-ls) + ls/2
//   categorical_crossentropy  -sum_k t_k log c_k,  c = clip(p / sum_k p_k, eps, 1-eps)
//                         from_logits: -sum_k t_k log_softmax(x)_k (fused, stable for |x| ~ 1e4)
//                         label_smoothing ls: t <- t (1-ls) + ls/K
//   sparse_categorical_crossentropy  as categorical with t = one_hot(label); labels are
//                         class ids stored as floats in y_true, shape y_pred minus the last
//                         axis (a trailing axis of 1 is accepted too, as in Keras).
// Sequences: predictions [batch, time, ...] give per-token losses averaged over time
// (and any other non-batch axis) per sample; the model then averages the samples.
// With every sample of equal length this is Keras 3's "sum_over_batch_size": the sum
// of the [batch, time] losses divided by batch * time.
// The "mean_j" runs over every non-batch element (Keras takes the mean over the last
// axis and then over the rest when reducing; the batch mean is the same). For inputs
// with more than one class-position per sample (e.g. [b, h, w, K]) the cross-entropies
// are averaged over the positions likewise. Only y_pred gets a gradient: y_true must be
// a node that requires none (labels). Where probabilities are clipped, the gradient is
// zero outside [eps, 1-eps], as for Keras/TF's clip.
//
// A sparse label that is not an integer in [0, K) throws LabelError (an ArgumentError)
// naming the row of the batch (and position) and the value, during forward, before
// anything is computed; the training loop names the row of the file instead.
#pragma once

#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/tensor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace dtrain::losses {

// A sparse label that is not a class id in [0, k): "<loss>: label <v> at row
// <r>[, position <q>] is not a class id in [0, <k>)", row being the batch's.
// at("data.h5 /train/y row 4711") says the same of where the row came from.
class LabelError : public ArgumentError {
 public:
  LabelError(std::string loss, double value, std::int64_t row, std::int64_t position, std::int64_t positions,
             std::int64_t k);
  std::int64_t row() const { return row_; }
  std::string at(const std::string& where) const;

 private:
  std::string loss_;
  double value_;
  std::int64_t row_, position_, positions_, k_;
};

// What to minimise. Value type: copy it, store it, compare it.
struct LossConfig {
  std::string name;              // canonical Keras name, e.g. "sparse_categorical_crossentropy"
  bool from_logits = false;      // cross-entropies only
  double label_smoothing = 0;    // binary and categorical cross-entropy, in [0, 1]
  double delta = 1.0;            // huber only, > 0

  friend bool operator==(const LossConfig&, const LossConfig&) = default;
};

// Accepts the Keras names, short aliases and class names ("mse", "MSE",
// "MeanSquaredError", "huber_loss", ...) and returns the config with the canonical
// name and defaults. Unknown name -> ArgumentError listing the valid names.
LossConfig parse_loss(const std::string& name);

// The canonical names, in a fixed order.
std::vector<std::string> loss_names();

// Checks a config (name known, label_smoothing in [0, 1] and only where Keras takes
// it, from_logits only for cross-entropies, delta > 0) and returns it with the
// canonical name. Throws ArgumentError naming the field.
LossConfig validate(const LossConfig& c);

// The shape of the labels the loss expects for predictions of y_pred_shape:
// sparse_categorical_crossentropy drops the class axis ([b, K] -> [b]); every other
// loss wants y_pred's shape. Throws ShapeError for a sparse loss on rank < 2.
Shape y_true_shape(const LossConfig& c, const Shape& y_pred_shape);

// Checks labels of y_true_shape against predictions of y_pred_shape (equal to
// y_true_shape(c, y_pred_shape) or differing from it by a trailing axis of 1; a
// batch axis of kBatch matches any size). Otherwise ShapeError naming the loss and
// both shapes, e.g. for a Dense after Conv2D without Flatten:
//   "sparse_categorical_crossentropy: labels of shape [batch] do not fit predictions
//    of shape [batch, 26, 26, 10], which need labels [batch, 26, 26] (...)"
void check_label_shape(const LossConfig& c, const Shape& y_pred_shape, const Shape& y_true_shape);

// Adds the nodes computing the loss of each sample: shape [batch].
template <class T>
graph::NodeId per_sample_loss(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true,
                              const LossConfig& c);

// The same losses one by one (each one fused op, output [batch]).
template <class T>
graph::NodeId mean_squared_error(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true);
template <class T>
graph::NodeId mean_absolute_error(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true);
template <class T>
graph::NodeId huber(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true, double delta = 1.0);
template <class T>
graph::NodeId binary_crossentropy(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true,
                                  bool from_logits = false, double label_smoothing = 0);
template <class T>
graph::NodeId categorical_crossentropy(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true,
                                       bool from_logits = false, double label_smoothing = 0);
template <class T>
graph::NodeId sparse_categorical_crossentropy(graph::Graph<T>& g, graph::NodeId y_pred,
                                              graph::NodeId y_true, bool from_logits = false);

}  // namespace dtrain::losses
