#include "dtrain/layers/conv.hpp"

#include "dtrain/activations.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"

namespace dtrain::layers {
namespace {

// Keras/TF output size: valid floor((n - k) / s) + 1, same ceil(n / s).
std::int64_t out_size(std::int64_t n, std::int64_t k, std::int64_t s, graph::Padding p) {
  if (p == graph::Padding::kSame) return (n + s - 1) / s;
  return n < k ? 0 : (n - k) / s + 1;
}

std::array<int, 2> to_int2(std::array<std::int64_t, 2> a) { return {static_cast<int>(a[0]), static_cast<int>(a[1])}; }

void check_pair(const std::string& owner, const char* arg, std::array<std::int64_t, 2> v, std::int64_t min) {
  if (v[0] < min || v[1] < min) {
    throw ArgumentError(owner + ": " + arg + " must be >= " + std::to_string(min) + ", got [" + std::to_string(v[0]) +
                        ", " + std::to_string(v[1]) + "]");
  }
}

}  // namespace

// ---- Conv2D -------------------------------------------------------------------

Conv2DLayer::Conv2DLayer(Conv2DOptions o) : LayerBase(o.name), o_(std::move(o)) {
  if (o_.filters <= 0) throw ArgumentError(what() + ": filters must be positive, got " + std::to_string(o_.filters));
  check_pair(what(), "kernel_size", o_.kernel_size, 1);
  check_pair(what(), "strides", o_.strides, 1);
  graph::parse_padding(o_.padding);
  check_activation(o_.activation, what());
  initializers::parse(o_.kernel_initializer);
  initializers::parse(o_.bias_initializer);
}

Shape Conv2DLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() != 4) shape_error(in, "expects NHWC input [batch, height, width, channels]");
  const auto pad = graph::parse_padding(o_.padding);
  const auto oh = out_size(in[0][1], o_.kernel_size[0], o_.strides[0], pad);
  const auto ow = out_size(in[0][2], o_.kernel_size[1], o_.strides[1], pad);
  if (oh <= 0 || ow <= 0) shape_error(in, "the kernel is larger than the input with 'valid' padding");
  declare("kernel", {o_.kernel_size[0], o_.kernel_size[1], in[0][3], o_.filters},
          initializers::parse(o_.kernel_initializer), true, o_.kernel_l1, o_.kernel_l2);
  if (o_.use_bias) declare("bias", {o_.filters}, initializers::parse(o_.bias_initializer));
  return {in[0][0], oh, ow, o_.filters};
}

template <class T>
graph::NodeId Conv2DLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  auto y = graph::conv2d(c.g, in[0], c.params[0], to_int2(o_.strides), graph::parse_padding(o_.padding));
  return apply_bias_activation(c.g, y, o_.use_bias ? c.params[1] : graph::NodeId{-1}, o_.activation);
}

Config Conv2DLayer::config() const {
  Config c;
  c.set("name", name()).set("filters", o_.filters);
  c.set("kernel_size", std::vector<std::int64_t>{o_.kernel_size[0], o_.kernel_size[1]});
  c.set("strides", std::vector<std::int64_t>{o_.strides[0], o_.strides[1]});
  c.set("padding", o_.padding).set("activation", o_.activation).set("use_bias", o_.use_bias);
  c.set("kernel_initializer", o_.kernel_initializer).set("bias_initializer", o_.bias_initializer);
  c.set("kernel_l1", o_.kernel_l1).set("kernel_l2", o_.kernel_l2);
  return c;
}

// ---- pooling --------------------------------------------------------------------

Pooling2DLayer::Pooling2DLayer(Pooling2DOptions o, bool max) : LayerBase(o.name), o_(std::move(o)), max_(max) {
  check_pair(what(), "pool_size", o_.pool_size, 1);
  if (o_.strides[0] == 0 && o_.strides[1] == 0) o_.strides = o_.pool_size;
  check_pair(what(), "strides", o_.strides, 1);
  graph::parse_padding(o_.padding);
}

Shape Pooling2DLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() != 4) shape_error(in, "expects NHWC input [batch, height, width, channels]");
  const auto pad = graph::parse_padding(o_.padding);
  const auto oh = out_size(in[0][1], o_.pool_size[0], o_.strides[0], pad);
  const auto ow = out_size(in[0][2], o_.pool_size[1], o_.strides[1], pad);
  if (oh <= 0 || ow <= 0) shape_error(in, "the pool is larger than the input with 'valid' padding");
  return {in[0][0], oh, ow, in[0][3]};
}

template <class T>
graph::NodeId Pooling2DLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  const auto pad = graph::parse_padding(o_.padding);
  return max_ ? graph::max_pool2d(c.g, in[0], to_int2(o_.pool_size), to_int2(o_.strides), pad)
              : graph::avg_pool2d(c.g, in[0], to_int2(o_.pool_size), to_int2(o_.strides), pad);
}

Config Pooling2DLayer::config() const {
  Config c;
  c.set("name", name());
  c.set("pool_size", std::vector<std::int64_t>{o_.pool_size[0], o_.pool_size[1]});
  c.set("strides", std::vector<std::int64_t>{o_.strides[0], o_.strides[1]});
  c.set("padding", o_.padding);
  return c;
}

// ---- GlobalAveragePooling2D -------------------------------------------------------

Shape GlobalAveragePooling2DLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() != 4) shape_error(in, "expects NHWC input [batch, height, width, channels]");
  return {in[0][0], in[0][3]};
}

template <class T>
graph::NodeId GlobalAveragePooling2DLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  const auto& s = input_shapes()[0];
  return graph::mean(c.g, graph::reshape(c.g, in[0], {s[1] * s[2], s[3]}), 1);
}

Config GlobalAveragePooling2DLayer::config() const { return Config().set("name", name()); }

LayerHandle Conv2D(Conv2DOptions o) { return LayerHandle(std::make_shared<Conv2DLayer>(std::move(o))); }
LayerHandle MaxPooling2D(Pooling2DOptions o) {
  return LayerHandle(std::make_shared<Pooling2DLayer>(std::move(o), true));
}
LayerHandle AveragePooling2D(Pooling2DOptions o) {
  return LayerHandle(std::make_shared<Pooling2DLayer>(std::move(o), false));
}
LayerHandle GlobalAveragePooling2D(const std::string& name) {
  return LayerHandle(std::make_shared<GlobalAveragePooling2DLayer>(name));
}

#define DTRAIN_INSTANTIATE_CALL(L)                                                                       \
  template graph::NodeId L::call_t<float>(CallContext<float>&, std::span<const graph::NodeId>) const; \
  template graph::NodeId L::call_t<double>(CallContext<double>&, std::span<const graph::NodeId>) const;
DTRAIN_INSTANTIATE_CALL(Conv2DLayer)
DTRAIN_INSTANTIATE_CALL(Pooling2DLayer)
DTRAIN_INSTANTIATE_CALL(GlobalAveragePooling2DLayer)

}  // namespace dtrain::layers
