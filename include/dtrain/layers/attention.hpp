// MultiHeadAttention (Keras 3 keras/src/layers/attention/multi_head_attention.py)
// on [batch, time, features] inputs.
//
//   auto x = layers::Input({16, 32});
//   auto h = layers::MultiHeadAttention({.num_heads = 4, .key_dim = 8, .use_causal_mask = true})(x);
//   auto y = layers::Dense({.units = 12})(h);               // [batch, 16, 12]
//   auto z = layers::MultiHeadAttention({.num_heads = 2, .key_dim = 4})({query, value});  // cross
//
// Inputs, in Keras' call order: (query) for self-attention (query = key =
// value), (query, value) with key = value, or (query, value, key). Query
// [b, tq, fq], value [b, tk, fv], key [b, tk, fk] -> [b, tq, output_shape].
// With N heads, key_dim D, value_dim Dv and output size O, as Keras:
//   q = einsum("abc,cde->abde", query, query/kernel) + query/bias   [b, tq, N, D]
//   k, v likewise from key and value                                 [b, tk, N, D|Dv]
//   a = softmax((q / sqrt(D)) · kᵀ over the keys, causal-masked) · v [b, tq, N, Dv]
//   y = einsum("abcd,cde->abe", a, attention_output/kernel) + attention_output/bias
// Weights, named and shaped as Keras: query/kernel [fq, N, D], query/bias
// [N, D], key/kernel [fk, N, D], key/bias [N, D], value/kernel [fv, N, Dv],
// value/bias [N, Dv], attention_output/kernel [N, Dv, O], attention_output/bias
// [O] (biases only with use_bias).
//
// Differences from Keras: use_causal_mask is a layer option (a config key),
// not a call argument; dropout must be 0 (attention dropout is not supported);
// output_shape is one integer (the last dimension), attention_axes is always
// the time axis, and there are no Keras masks, attention_mask, regularizers or
// constraints.
#pragma once

#include "dtrain/layers/layer.hpp"

namespace dtrain::layers {

struct MultiHeadAttentionOptions {
  std::int64_t num_heads = 0;
  std::int64_t key_dim = 0;
  std::int64_t value_dim = 0;  // 0 (Keras None): key_dim
  double dropout = 0.0;        // only 0 is supported (ArgumentError otherwise)
  bool use_bias = true;
  std::int64_t output_shape = 0;  // 0 (Keras None): the query's last dimension
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  bool use_causal_mask = false;  // query i attends to keys 0..i only
  std::string name;
};

class MultiHeadAttentionLayer final : public LayerBase<MultiHeadAttentionLayer> {
 public:
  explicit MultiHeadAttentionLayer(MultiHeadAttentionOptions o);
  std::string type() const override { return "MultiHeadAttention"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  std::int64_t value_dim() const { return o_.value_dim > 0 ? o_.value_dim : o_.key_dim; }
  MultiHeadAttentionOptions o_;
  std::int64_t output_dim_ = 0;  // resolved in build
};

LayerHandle MultiHeadAttention(MultiHeadAttentionOptions o);

}  // namespace dtrain::layers
