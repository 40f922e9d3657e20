#include "dtrain/layers/core.hpp"

#include "dtrain/activations.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"

namespace dtrain::layers {

// ---- Dense ----------------------------------------------------------------

DenseLayer::DenseLayer(DenseOptions o) : LayerBase(o.name), o_(std::move(o)) {
  if (o_.units <= 0) throw ArgumentError(what() + ": units must be positive, got " + std::to_string(o_.units));
  check_activation(o_.activation, what());
  initializers::parse(o_.kernel_initializer);
  initializers::parse(o_.bias_initializer);
  if (o_.kernel_l1 < 0 || o_.kernel_l2 < 0) throw ArgumentError(what() + ": regularizer factors must be >= 0");
}

Shape DenseLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  // Keras applies the kernel to the last axis of any input of rank >= 2:
  // [batch, time, features] -> [batch, time, units], [b, h, w, c] -> [b, h, w, units].
  if (in[0].rank() < 2) shape_error(in, "expects [batch, ..., features] (rank >= 2)");
  const int last = in[0].rank() - 1;
  declare("kernel", {in[0][last], o_.units}, initializers::parse(o_.kernel_initializer), true, o_.kernel_l1,
          o_.kernel_l2);
  if (o_.use_bias) declare("bias", {o_.units}, initializers::parse(o_.bias_initializer));
  Shape out = in[0];
  out[last] = o_.units;
  return out;
}

template <class T>
graph::NodeId DenseLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  auto y = graph::matmul(c.g, in[0], c.params[0]);
  return apply_bias_activation(c.g, y, o_.use_bias ? c.params[1] : graph::NodeId{-1}, o_.activation);
}

Config DenseLayer::config() const {
  Config c;
  c.set("name", name()).set("units", o_.units).set("activation", o_.activation).set("use_bias", o_.use_bias);
  c.set("kernel_initializer", o_.kernel_initializer).set("bias_initializer", o_.bias_initializer);
  c.set("kernel_l1", o_.kernel_l1).set("kernel_l2", o_.kernel_l2);
  return c;
}

// ---- Activation -------------------------------------------------------------

ActivationLayer::ActivationLayer(std::string activation, std::string name)
    : LayerBase(std::move(name)), activation_(std::move(activation)) {
  check_activation(activation_, what());
}

Shape ActivationLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  return in[0];
}

template <class T>
graph::NodeId ActivationLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  return apply_activation(c.g, in[0], activation_);
}

Config ActivationLayer::config() const { return Config().set("name", name()).set("activation", activation_); }

// ---- Flatten / Reshape ------------------------------------------------------

Shape FlattenLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() < 1) shape_error(in, "needs a batch dimension");
  return {in[0][0], in[0].inner()};
}

template <class T>
graph::NodeId FlattenLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  return graph::flatten(c.g, in[0]);
}

Config FlattenLayer::config() const { return Config().set("name", name()); }

ReshapeLayer::ReshapeLayer(std::vector<std::int64_t> target_shape, std::string name)
    : LayerBase(std::move(name)), target_(std::move(target_shape)) {
  if (target_.empty()) throw ArgumentError(what() + ": target_shape must not be empty");
}

Shape ReshapeLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  graph::Graph<float> probe;  // the op's own shape rules decide
  try {
    return probe.shape(graph::reshape(probe, probe.input("x", in[0]), target_));
  } catch (const ShapeError& e) {
    shape_error(in, std::string("cannot reshape: ") + e.what());
  }
}

template <class T>
graph::NodeId ReshapeLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  return graph::reshape(c.g, in[0], target_);
}

Config ReshapeLayer::config() const { return Config().set("name", name()).set("target_shape", target_); }

// ---- Dropout ----------------------------------------------------------------

DropoutLayer::DropoutLayer(DropoutOptions o) : LayerBase(o.name), o_(std::move(o)) {
  if (!(o_.rate >= 0.0 && o_.rate < 1.0)) {
    throw ArgumentError(what() + ": rate must be in [0, 1), got " + std::to_string(o_.rate));
  }
}

Shape DropoutLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  return in[0];
}

template <class T>
graph::NodeId DropoutLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  const auto seed = o_.seed >= 0 ? static_cast<std::uint64_t>(o_.seed) : c.seed;
  return graph::dropout(c.g, in[0], o_.rate, seed);
}

Config DropoutLayer::config() const {
  return Config().set("name", name()).set("rate", o_.rate).set("seed", o_.seed);
}

// ---- InputLayer -------------------------------------------------------------

InputLayer::InputLayer(std::vector<std::int64_t> shape, std::string name)
    : LayerBase(std::move(name)), shape_(std::move(shape)) {
  for (auto d : shape_) {
    if (d <= 0) throw ArgumentError(what() + ": shape dimensions must be positive");
  }
}

Shape InputLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 0);
  Shape s{graph::kBatch};
  for (auto d : shape_) s.push_back(d);
  return s;
}

template <class T>
graph::NodeId InputLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId>) const {
  return c.g.input(name(), output_shape());
}

Config InputLayer::config() const { return Config().set("name", name()).set("shape", shape_); }

// ---- handles ----------------------------------------------------------------

LayerHandle Dense(DenseOptions o) { return LayerHandle(std::make_shared<DenseLayer>(std::move(o))); }
LayerHandle Activation(const std::string& activation, const std::string& name) {
  return LayerHandle(std::make_shared<ActivationLayer>(activation, name));
}
LayerHandle Flatten(const std::string& name) { return LayerHandle(std::make_shared<FlattenLayer>(name)); }
LayerHandle Reshape(std::vector<std::int64_t> target_shape, const std::string& name) {
  return LayerHandle(std::make_shared<ReshapeLayer>(std::move(target_shape), name));
}
LayerHandle Dropout(DropoutOptions o) { return LayerHandle(std::make_shared<DropoutLayer>(std::move(o))); }

#define DTRAIN_INSTANTIATE_CALL(L)                                                                       \
  template graph::NodeId L::call_t<float>(CallContext<float>&, std::span<const graph::NodeId>) const; \
  template graph::NodeId L::call_t<double>(CallContext<double>&, std::span<const graph::NodeId>) const;
DTRAIN_INSTANTIATE_CALL(DenseLayer)
DTRAIN_INSTANTIATE_CALL(ActivationLayer)
DTRAIN_INSTANTIATE_CALL(FlattenLayer)
DTRAIN_INSTANTIATE_CALL(ReshapeLayer)
DTRAIN_INSTANTIATE_CALL(DropoutLayer)
DTRAIN_INSTANTIATE_CALL(InputLayer)

}  // namespace dtrain::layers
