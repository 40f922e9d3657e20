#include "dtrain/layers/attention.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"

#include <sstream>

namespace dtrain::layers {

MultiHeadAttentionLayer::MultiHeadAttentionLayer(MultiHeadAttentionOptions o)
    : LayerBase(o.name), o_(std::move(o)) {
  const auto positive = [&](const char* arg, std::int64_t v, bool zero_ok) {
    if (v > 0 || (zero_ok && v == 0)) return;
    throw ArgumentError(what() + ": " + arg + " must be positive, got " + std::to_string(v));
  };
  positive("num_heads", o_.num_heads, false);
  positive("key_dim", o_.key_dim, false);
  positive("value_dim", o_.value_dim, true);
  positive("output_shape", o_.output_shape, true);
  if (o_.dropout != 0.0) {
    std::ostringstream msg;
    msg << what() << ": dropout must be 0 (attention dropout is not supported), got " << o_.dropout;
    throw ArgumentError(msg.str());
  }
  initializers::parse(o_.kernel_initializer);
  initializers::parse(o_.bias_initializer);
}

Shape MultiHeadAttentionLayer::do_build(std::span<const Shape> in) {
  if (in.empty() || in.size() > 3) {
    shape_error(in, "expects 1 input (self-attention), 2 (query, value) or 3 (query, value, key)");
  }
  for (const auto& s : in) {
    if (s.rank() != 3) shape_error(in, "expects [batch, time, features] inputs (rank 3)");
  }
  const Shape& query = in[0];
  const Shape& value = in.size() > 1 ? in[1] : in[0];
  const Shape& key = in.size() > 2 ? in[2] : value;
  if (key[1] != value[1]) shape_error(in, "key and value must have the same time length");
  const auto n = o_.num_heads, dk = o_.key_dim, dv = value_dim();
  output_dim_ = o_.output_shape > 0 ? o_.output_shape : query[2];
  const auto kernel = initializers::parse(o_.kernel_initializer);
  const auto bias = initializers::parse(o_.bias_initializer);
  const auto dense = [&](const std::string& part, Shape k, Shape b) {
    declare(part + "/kernel", k, kernel);
    if (o_.use_bias) declare(part + "/bias", b, bias);
  };
  dense("query", {query[2], n, dk}, {n, dk});
  dense("key", {key[2], n, dk}, {n, dk});
  dense("value", {value[2], n, dv}, {n, dv});
  dense("attention_output", {n, dv, output_dim_}, {output_dim_});
  return {query[0], query[1], output_dim_};
}

namespace {

// Keras' EinsumDense "abc,cde->abde": x [b, t, f] · kernel [f, n, w] (+ bias
// [n, w]) -> [b, t, n, w], as one GEMM on the kernel seen as [f, n·w].
template <class T>
graph::NodeId project(graph::Graph<T>& g, graph::NodeId x, graph::NodeId kernel, graph::NodeId bias) {
  const Shape xs = g.shape(x);  // copies: adding nodes may move the graph's shapes
  const Shape ks = g.shape(kernel);
  const auto width = ks[1] * ks[2];
  auto y = graph::matmul(g, x, graph::reshape_to(g, kernel, Shape{ks[0], width}));
  if (bias >= 0) y = graph::bias_add(g, y, graph::reshape_to(g, bias, Shape{width}));
  return graph::reshape(g, y, {xs[1], ks[1], ks[2]});
}

}  // namespace

template <class T>
graph::NodeId MultiHeadAttentionLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  const std::size_t stride = o_.use_bias ? 2 : 1;
  const auto kernel = [&](std::size_t part) { return c.params[part * stride]; };
  const auto bias = [&](std::size_t part) {
    return o_.use_bias ? c.params[part * stride + 1] : graph::NodeId{-1};
  };
  const graph::NodeId query = in[0];
  const graph::NodeId value = in.size() > 1 ? in[1] : in[0];
  const graph::NodeId key = in.size() > 2 ? in[2] : value;
  const auto q = project(c.g, query, kernel(0), bias(0));
  const auto k = project(c.g, key, kernel(1), bias(1));
  const auto v = project(c.g, value, kernel(2), bias(2));
  const auto a = graph::scaled_dot_product_attention(c.g, q, k, v, o_.use_causal_mask);
  // Keras' EinsumDense "abcd,cde->abe": [b, tq, n, dv] · [n, dv, o] as one GEMM.
  const auto n = o_.num_heads, dv = value_dim();
  const auto tq = c.g.shape(query)[1];
  auto y = graph::matmul(c.g, graph::reshape(c.g, a, {tq, n * dv}),
                         graph::reshape_to(c.g, kernel(3), Shape{n * dv, output_dim_}));
  if (o_.use_bias) y = graph::bias_add(c.g, y, bias(3));
  return y;
}

Config MultiHeadAttentionLayer::config() const {
  Config c;
  c.set("name", name()).set("num_heads", o_.num_heads).set("key_dim", o_.key_dim);
  if (o_.value_dim > 0) c.set("value_dim", o_.value_dim);
  if (o_.output_shape > 0) c.set("output_shape", o_.output_shape);
  c.set("dropout", o_.dropout).set("use_bias", o_.use_bias);
  c.set("kernel_initializer", o_.kernel_initializer).set("bias_initializer", o_.bias_initializer);
  c.set("use_causal_mask", o_.use_causal_mask);
  return c;
}

LayerHandle MultiHeadAttention(MultiHeadAttentionOptions o) {
  return LayerHandle(std::make_shared<MultiHeadAttentionLayer>(std::move(o)));
}

template graph::NodeId MultiHeadAttentionLayer::call_t<float>(CallContext<float>&,
                                                              std::span<const graph::NodeId>) const;
template graph::NodeId MultiHeadAttentionLayer::call_t<double>(CallContext<double>&,
                                                               std::span<const graph::NodeId>) const;

}  // namespace dtrain::layers
