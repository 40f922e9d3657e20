// mean_squared_error, mean_absolute_error, huber: elementwise losses averaged over
// each sample's values (Keras 3, keras/src/losses/losses.py).
#include "per_sample_op.hpp"

#include "dtrain/losses.hpp"

#include <cmath>
#include <string>

namespace dtrain::losses {
namespace {

struct SquaredError {
  const char* name() const { return "mean_squared_error"; }
  template <class T> T value(T p, T t) const { return (p - t) * (p - t); }
  template <class T> T derivative(T p, T t) const { return T(2) * (p - t); }
};

struct AbsoluteError {
  const char* name() const { return "mean_absolute_error"; }
  template <class T> T value(T p, T t) const { return std::abs(p - t); }
  // sign(p - t), 0 at the kink (as TF's gradient of abs).
  template <class T> T derivative(T p, T t) const { return p > t ? T(1) : (p < t ? T(-1) : T(0)); }
};

// Keras: e = p - t; 0.5 e^2 where |e| <= delta, delta |e| - 0.5 delta^2 elsewhere.
struct HuberError {
  double delta;
  const char* name() const { return "huber"; }
  template <class T> T value(T p, T t) const {
    const T e = p - t, d = static_cast<T>(delta), a = std::abs(e);
    return a <= d ? T(0.5) * e * e : d * a - T(0.5) * d * d;
  }
  template <class T> T derivative(T p, T t) const {
    const T e = p - t, d = static_cast<T>(delta);
    return std::abs(e) <= d ? e : (e > T(0) ? d : -d);
  }
};

}  // namespace

template <class T>
graph::NodeId mean_squared_error(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true) {
  return detail::add_loss<T, detail::ElementwiseLoss<T, SquaredError>>(g, y_pred, y_true, SquaredError{});
}

template <class T>
graph::NodeId mean_absolute_error(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true) {
  return detail::add_loss<T, detail::ElementwiseLoss<T, AbsoluteError>>(g, y_pred, y_true, AbsoluteError{});
}

template <class T>
graph::NodeId huber(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true, double delta) {
  if (!(delta > 0) || !std::isfinite(delta)) {
    throw ArgumentError("huber: delta must be a positive number, got " + std::to_string(delta));
  }
  return detail::add_loss<T, detail::ElementwiseLoss<T, HuberError>>(g, y_pred, y_true, HuberError{delta});
}

#define DTRAIN_INSTANTIATE(T)                                                                   \
  template graph::NodeId mean_squared_error<T>(graph::Graph<T>&, graph::NodeId, graph::NodeId);  \
  template graph::NodeId mean_absolute_error<T>(graph::Graph<T>&, graph::NodeId, graph::NodeId); \
  template graph::NodeId huber<T>(graph::Graph<T>&, graph::NodeId, graph::NodeId, double);
DTRAIN_INSTANTIATE(float)
DTRAIN_INSTANTIATE(double)
#undef DTRAIN_INSTANTIATE

}  // namespace dtrain::losses
