// binary, categorical and sparse categorical cross-entropy, from probabilities or
// fused with (log-)softmax / sigmoid from logits. Formulas: Keras 3,
// keras/src/losses/losses.py (label smoothing) and keras/src/backend/numpy/nn.py
// (clip to [eps, 1-eps], categorical normalises by the sum first).
#include "per_sample_op.hpp"

#include "dtrain/losses.hpp"

#include <cmath>
#include <sstream>

namespace dtrain::losses {
namespace {

std::string bad_label_text(const std::string& loss, double value, const std::string& where, std::int64_t position,
                           std::int64_t positions, std::int64_t k) {
  std::ostringstream msg;
  msg.precision(9);
  msg << loss << ": label " << value << " at " << where;
  if (positions > 1) msg << ", position " << position;
  msg << " is not a class id in [0, " << k << ")";
  return msg.str();
}

}  // namespace

LabelError::LabelError(std::string loss, double value, std::int64_t row, std::int64_t position,
                       std::int64_t positions, std::int64_t k)
    : ArgumentError(bad_label_text(loss, value, "row " + std::to_string(row), position, positions, k)),
      loss_(std::move(loss)),
      value_(value),
      row_(row),
      position_(position),
      positions_(positions),
      k_(k) {}

std::string LabelError::at(const std::string& where) const {
  return bad_label_text(loss_, value_, where, position_, positions_, k_);
}

namespace detail {

void throw_bad_label(const std::string& loss, double value, std::int64_t row, std::int64_t position,
                     std::int64_t positions, std::int64_t k) {
  throw LabelError(loss, value, row, position, positions, k);
}

}  // namespace detail

namespace {

template <class T>
T clip_probability(T p) {
  return std::clamp(p, static_cast<T>(detail::kEpsilon), T(1) - static_cast<T>(detail::kEpsilon));
}
template <class T>
bool inside_clip(T p) {
  return p >= static_cast<T>(detail::kEpsilon) && p <= T(1) - static_cast<T>(detail::kEpsilon);
}

// Writes softmax(x) into prob and returns log Σ exp(x), max-shifted: finite for any
// finite x (|x| ~ 1e4 in float included).
template <class T>
T softmax_lse(const T* x, std::int64_t k, T* prob) {
  T m = x[0];
  for (std::int64_t j = 1; j < k; ++j) m = std::max(m, x[j]);
  T s = T(0);
  for (std::int64_t j = 0; j < k; ++j) s += (prob[j] = std::exp(x[j] - m));
  const T inv = T(1) / s;  // s >= 1: the maximum contributes exp(0)
  for (std::int64_t j = 0; j < k; ++j) prob[j] *= inv;
  return m + std::log(s);
}

// Keras' label smoothing: t <- t (1 - ls) + ls / classes (classes = 2 for binary).
struct Smoothing {
  double ls = 0;
  template <class T> T apply(T t, std::int64_t classes) const {
    return t * static_cast<T>(1 - ls) + static_cast<T>(ls / static_cast<double>(classes));
  }
};

// Binary cross-entropy of one element.
//  logits x: max(x,0) - x t + log(1 + e^-|x|)  (TF sigmoid_cross_entropy_with_logits);
//            d/dx = sigmoid(x) - t.
//  probabilities p: c = clip(p); -(t log c + (1-t) log(1-c)); d/dp = (c-t) / (c(1-c))
//            inside the clip range, 0 outside.
struct BinaryCrossentropy {
  bool from_logits;
  Smoothing smoothing;
  const char* name() const { return "binary_crossentropy"; }
  template <class T> T value(T p, T t) const {
    t = smoothing.apply(t, 2);
    if (from_logits) return std::max(p, T(0)) - p * t + std::log1p(std::exp(-std::abs(p)));
    const T c = clip_probability(p);
    return -(t * std::log(c) + (T(1) - t) * std::log(T(1) - c));
  }
  template <class T> T derivative(T p, T t) const {
    t = smoothing.apply(t, 2);
    if (from_logits) {
      const T sigmoid = p >= T(0) ? T(1) / (T(1) + std::exp(-p)) : std::exp(p) / (T(1) + std::exp(p));
      return sigmoid - t;
    }
    return inside_clip(p) ? (p - t) / (p * (T(1) - p)) : T(0);
  }
};

// Categorical cross-entropy from logits, fused with log-softmax:
//   loss = Σ_j t_j (lse - x_j);  d/dx_j = softmax_j Σ_i t_i - t_j.
// The workspace keeps softmax(x) from forward for backward.
struct SoftmaxCrossentropy {
  Smoothing smoothing;
  static constexpr bool kSparse = false;
  static constexpr bool kWorkspace = true;
  const char* name() const { return "categorical_crossentropy"; }
  template <class T> T forward(const T* x, const T* t, std::int64_t k, T* prob) const {
    const T lse = softmax_lse(x, k, prob);
    T loss = T(0);
    for (std::int64_t j = 0; j < k; ++j) loss += smoothing.apply(t[j], k) * (lse - x[j]);
    return loss;
  }
  template <class T> void backward(const T*, const T* t, std::int64_t k, const T* prob, T g, T* dx) const {
    T total = T(0);
    for (std::int64_t j = 0; j < k; ++j) total += smoothing.apply(t[j], k);
    for (std::int64_t j = 0; j < k; ++j) dx[j] += g * (prob[j] * total - smoothing.apply(t[j], k));
  }
};

// Categorical cross-entropy from probabilities: q = p / Σp, c = clip(q),
//   loss = -Σ_j t_j log c_j.
// With h_j = dL/dq_j = -t_j / q_j inside the clip range (0 outside) and
// dq_j/dp_i = (δ_ij - q_j) / s:  dL/dp_i = (h_i - Σ_j h_j q_j) / s.
struct ProbabilityCrossentropy {
  Smoothing smoothing;
  static constexpr bool kSparse = false;
  static constexpr bool kWorkspace = false;
  const char* name() const { return "categorical_crossentropy"; }
  template <class T> T forward(const T* p, const T* t, std::int64_t k, T*) const {
    const T s = sum(p, k);
    T loss = T(0);
    for (std::int64_t j = 0; j < k; ++j) loss -= smoothing.apply(t[j], k) * std::log(clip_probability(p[j] / s));
    return loss;
  }
  template <class T> void backward(const T* p, const T* t, std::int64_t k, const T*, T g, T* dp) const {
    const T s = sum(p, k);
    T hq = T(0);
    for (std::int64_t j = 0; j < k; ++j) hq += h(p[j] / s, t[j], k) * (p[j] / s);
    for (std::int64_t j = 0; j < k; ++j) dp[j] += g * (h(p[j] / s, t[j], k) - hq) / s;
  }

 private:
  template <class T> static T sum(const T* p, std::int64_t k) {
    T s = T(0);
    for (std::int64_t j = 0; j < k; ++j) s += p[j];
    return s;
  }
  template <class T> T h(T q, T t, std::int64_t k) const {
    return inside_clip(q) ? -smoothing.apply(t, k) / q : T(0);
  }
};

// Sparse categorical cross-entropy from logits: loss = lse - x_y;
// d/dx_j = softmax_j - [j == y].
struct SparseSoftmaxCrossentropy {
  static constexpr bool kSparse = true;
  static constexpr bool kWorkspace = true;
  const char* name() const { return "sparse_categorical_crossentropy"; }
  template <class T> T forward(const T* x, const T* label, std::int64_t k, T* prob) const {
    return softmax_lse(x, k, prob) - x[static_cast<std::int64_t>(*label)];
  }
  template <class T> void backward(const T*, const T* label, std::int64_t k, const T* prob, T g, T* dx) const {
    const auto y = static_cast<std::int64_t>(*label);
    for (std::int64_t j = 0; j < k; ++j) dx[j] += g * prob[j];
    dx[y] -= g;
  }
};

// Sparse categorical cross-entropy from probabilities (Keras' numpy/jax/torch
// backends): q = p / Σp, loss = -log clip(q_y);
// d/dp_i = -(1/q_y) ([i == y] - q_y) / s inside the clip range, 0 outside.
struct SparseProbabilityCrossentropy {
  static constexpr bool kSparse = true;
  static constexpr bool kWorkspace = false;
  const char* name() const { return "sparse_categorical_crossentropy"; }
  template <class T> T forward(const T* p, const T* label, std::int64_t k, T*) const {
    T s = T(0);
    for (std::int64_t j = 0; j < k; ++j) s += p[j];
    return -std::log(clip_probability(p[static_cast<std::int64_t>(*label)] / s));
  }
  template <class T> void backward(const T* p, const T* label, std::int64_t k, const T*, T g, T* dp) const {
    const auto y = static_cast<std::int64_t>(*label);
    T s = T(0);
    for (std::int64_t j = 0; j < k; ++j) s += p[j];
    const T qy = p[y] / s;
    if (!inside_clip(qy)) return;
    const T f = -g / (qy * s);  // dL/dq_y / s, times the upstream gradient
    for (std::int64_t j = 0; j < k; ++j) dp[j] -= f * qy;
    dp[y] += f;
  }
};

}  // namespace

template <class T>
graph::NodeId binary_crossentropy(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true,
                                  bool from_logits, double label_smoothing) {
  detail::check_label_smoothing("binary_crossentropy", label_smoothing);
  return detail::add_loss<T, detail::ElementwiseLoss<T, BinaryCrossentropy>>(
      g, y_pred, y_true, BinaryCrossentropy{from_logits, Smoothing{label_smoothing}});
}

template <class T>
graph::NodeId categorical_crossentropy(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true,
                                       bool from_logits, double label_smoothing) {
  detail::check_label_smoothing("categorical_crossentropy", label_smoothing);
  if (from_logits) {
    return detail::add_loss<T, detail::ClassLoss<T, SoftmaxCrossentropy>>(
        g, y_pred, y_true, SoftmaxCrossentropy{Smoothing{label_smoothing}});
  }
  return detail::add_loss<T, detail::ClassLoss<T, ProbabilityCrossentropy>>(
      g, y_pred, y_true, ProbabilityCrossentropy{Smoothing{label_smoothing}});
}

template <class T>
graph::NodeId sparse_categorical_crossentropy(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true,
                                              bool from_logits) {
  if (from_logits) {
    return detail::add_loss<T, detail::ClassLoss<T, SparseSoftmaxCrossentropy>>(g, y_pred, y_true,
                                                                                 SparseSoftmaxCrossentropy{});
  }
  return detail::add_loss<T, detail::ClassLoss<T, SparseProbabilityCrossentropy>>(
      g, y_pred, y_true, SparseProbabilityCrossentropy{});
}

#define DTRAIN_INSTANTIATE(T)                                                                        \
  template graph::NodeId binary_crossentropy<T>(graph::Graph<T>&, graph::NodeId, graph::NodeId, bool, \
                                                double);                                              \
  template graph::NodeId categorical_crossentropy<T>(graph::Graph<T>&, graph::NodeId, graph::NodeId,  \
                                                     bool, double);                                   \
  template graph::NodeId sparse_categorical_crossentropy<T>(graph::Graph<T>&, graph::NodeId,          \
                                                            graph::NodeId, bool);
DTRAIN_INSTANTIATE(float)
DTRAIN_INSTANTIATE(double)
#undef DTRAIN_INSTANTIATE

}  // namespace dtrain::losses
