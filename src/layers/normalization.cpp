#include "dtrain/layers/normalization.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"

#include <cmath>
#include <sstream>
#include <string>

namespace dtrain::layers {

BatchNormalizationLayer::BatchNormalizationLayer(BatchNormalizationOptions o) : LayerBase(o.name), o_(std::move(o)) {
  if (!(o_.momentum >= 0 && o_.momentum < 1)) throw ArgumentError(what() + ": momentum must be in [0, 1)");
  if (!(o_.epsilon > 0)) throw ArgumentError(what() + ": epsilon must be positive");
}

Shape BatchNormalizationLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() < 2) shape_error(in, "expects [batch, ..., features]");
  const Shape c{in[0][in[0].rank() - 1]};
  // Without scale/center, gamma/beta stay fixed at 1/0 (not trainable).
  declare("gamma", c, initializers::parse("ones"), o_.scale);
  declare("beta", c, initializers::parse("zeros"), o_.center);
  declare("moving_mean", c, initializers::parse("zeros"), false);
  declare("moving_variance", c, initializers::parse("ones"), false);
  return in[0];
}

template <class T>
graph::NodeId BatchNormalizationLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  return graph::batch_norm(c.g, in[0], c.params[0], c.params[1], c.params[2], c.params[3], o_.momentum, o_.epsilon);
}

Config BatchNormalizationLayer::config() const {
  Config c;
  c.set("name", name()).set("momentum", o_.momentum).set("epsilon", o_.epsilon);
  c.set("center", o_.center).set("scale", o_.scale);
  return c;
}

LayerHandle BatchNormalization(BatchNormalizationOptions o) {
  return LayerHandle(std::make_shared<BatchNormalizationLayer>(std::move(o)));
}

// ---- LayerNormalization, RMSNormalization ------------------------------------------

namespace {

// Keras counts axes with the batch: -1 or rank - 1 is the last. Anything else
// (other axes, lists) is not supported.
void check_axis_argument(const std::string& what, int axis) {
  if (axis != -1 && axis < 1) {
    throw ArgumentError(what + ": only axis=-1 (the last axis) is supported, got axis=" + std::to_string(axis));
  }
}

void check_last_axis(const std::string& what, int axis, const Shape& in) {
  if (axis != -1 && axis != in.rank() - 1) {
    throw ArgumentError(what + ": only axis=-1 (the last axis) is supported, got axis=" + std::to_string(axis) +
                        " for input " + in.str() + " (its last axis is " + std::to_string(in.rank() - 1) + ")");
  }
}

void check_epsilon(const std::string& what, double epsilon) {
  if (!(epsilon > 0) || !std::isfinite(epsilon)) {
    std::ostringstream msg;
    msg << what << ": epsilon must be positive, got " << epsilon;
    throw ArgumentError(msg.str());
  }
}

}  // namespace

LayerNormalizationLayer::LayerNormalizationLayer(LayerNormalizationOptions o) : LayerBase(o.name), o_(std::move(o)) {
  check_axis_argument(what(), o_.axis);
  check_epsilon(what(), o_.epsilon);
  initializers::parse(o_.beta_initializer);
  initializers::parse(o_.gamma_initializer);
}

Shape LayerNormalizationLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() < 2) shape_error(in, "expects [batch, ..., features]");
  check_last_axis(what(), o_.axis, in[0]);
  const Shape c{in[0][in[0].rank() - 1]};
  // Keras' order and names; a weight switched off does not exist (Keras: None).
  if (o_.scale) declare("gamma", c, initializers::parse(o_.gamma_initializer));
  if (o_.center) declare("beta", c, initializers::parse(o_.beta_initializer));
  return in[0];
}

template <class T>
graph::NodeId LayerNormalizationLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  const graph::NodeId gamma = o_.scale ? c.params[0] : -1;
  const graph::NodeId beta = o_.center ? c.params[o_.scale ? 1 : 0] : -1;
  return graph::layer_norm(c.g, in[0], gamma, beta, o_.epsilon);
}

Config LayerNormalizationLayer::config() const {
  Config c;
  c.set("name", name()).set("axis", static_cast<std::int64_t>(o_.axis)).set("epsilon", o_.epsilon);
  c.set("center", o_.center).set("scale", o_.scale);
  c.set("beta_initializer", o_.beta_initializer).set("gamma_initializer", o_.gamma_initializer);
  return c;
}

LayerHandle LayerNormalization(LayerNormalizationOptions o) {
  return LayerHandle(std::make_shared<LayerNormalizationLayer>(std::move(o)));
}

RMSNormalizationLayer::RMSNormalizationLayer(RMSNormalizationOptions o) : LayerBase(o.name), o_(std::move(o)) {
  check_axis_argument(what(), o_.axis);
  check_epsilon(what(), o_.epsilon);
}

Shape RMSNormalizationLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() < 2) shape_error(in, "expects [batch, ..., features]");
  check_last_axis(what(), o_.axis, in[0]);
  declare("scale", Shape{in[0][in[0].rank() - 1]}, initializers::parse("ones"));
  return in[0];
}

template <class T>
graph::NodeId RMSNormalizationLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  return graph::rms_norm(c.g, in[0], c.params[0], o_.epsilon);
}

Config RMSNormalizationLayer::config() const {
  Config c;
  c.set("name", name()).set("axis", static_cast<std::int64_t>(o_.axis)).set("epsilon", o_.epsilon);
  return c;
}

LayerHandle RMSNormalization(RMSNormalizationOptions o) {
  return LayerHandle(std::make_shared<RMSNormalizationLayer>(std::move(o)));
}

template graph::NodeId BatchNormalizationLayer::call_t<float>(CallContext<float>&, std::span<const graph::NodeId>) const;
template graph::NodeId BatchNormalizationLayer::call_t<double>(CallContext<double>&,
                                                               std::span<const graph::NodeId>) const;
template graph::NodeId LayerNormalizationLayer::call_t<float>(CallContext<float>&,
                                                              std::span<const graph::NodeId>) const;
template graph::NodeId LayerNormalizationLayer::call_t<double>(CallContext<double>&,
                                                               std::span<const graph::NodeId>) const;
template graph::NodeId RMSNormalizationLayer::call_t<float>(CallContext<float>&, std::span<const graph::NodeId>) const;
template graph::NodeId RMSNormalizationLayer::call_t<double>(CallContext<double>&,
                                                             std::span<const graph::NodeId>) const;

}  // namespace dtrain::layers
