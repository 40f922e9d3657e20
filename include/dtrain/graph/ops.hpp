// The ops, as functions that add a node to a graph and return its id.
//
//   auto h = relu(g, bias_add(g, matmul(g, x, w), b));
//   auto loss = mean(g, square(g, sub(g, h, y)));
//
// Shapes are checked when the node is added: a mismatch throws ShapeError with
// the op's name and every input shape. Elementwise binary ops need equal shapes
// (bias_add broadcasts a vector over the last dimension). Axis arguments may be
// negative (from the end). Every op has a finite-difference test in
// tests/unit/graph/ops_gradient_test.cpp.
#pragma once

#include "dtrain/graph/graph.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dtrain::graph {

// Linear algebra
template <class T> NodeId matmul(Graph<T>& g, NodeId a, NodeId b);    // [...,k]·[k,n] -> [...,n]
template <class T> NodeId bias_add(Graph<T>& g, NodeId x, NodeId b);  // x[..., n] + b[n]
template <class T> NodeId bias_relu(Graph<T>& g, NodeId x, NodeId b); // max(x + b, 0), one op

// Elementwise binary (equal shapes)
template <class T> NodeId add(Graph<T>& g, NodeId a, NodeId b);
template <class T> NodeId sub(Graph<T>& g, NodeId a, NodeId b);
template <class T> NodeId mul(Graph<T>& g, NodeId a, NodeId b);

// Elementwise unary
template <class T> NodeId scale(Graph<T>& g, NodeId x, double factor);
template <class T> NodeId relu(Graph<T>& g, NodeId x);
template <class T> NodeId leaky_relu(Graph<T>& g, NodeId x, double alpha = 0.2);  // Keras default
template <class T> NodeId elu(Graph<T>& g, NodeId x, double alpha = 1.0);
// x·Φ(x), Φ the standard normal CDF: 0.5·x·(1 + erf(x/√2)); approximate = true is
// the tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as keras.activations.gelu.
template <class T> NodeId gelu(Graph<T>& g, NodeId x, bool approximate = false);
template <class T> NodeId silu(Graph<T>& g, NodeId x);  // x·sigmoid(x) (Keras silu, alias swish)
template <class T> NodeId sigmoid(Graph<T>& g, NodeId x);
template <class T> NodeId tanh(Graph<T>& g, NodeId x);
template <class T> NodeId softplus(Graph<T>& g, NodeId x);  // log(1 + e^x), stable for large |x|
template <class T> NodeId abs(Graph<T>& g, NodeId x);
template <class T> NodeId square(Graph<T>& g, NodeId x);
template <class T> NodeId exp(Graph<T>& g, NodeId x);
template <class T> NodeId log(Graph<T>& g, NodeId x);

// Reductions: over everything (a scalar) or over one axis (that axis removed)
template <class T> NodeId sum(Graph<T>& g, NodeId x);
template <class T> NodeId mean(Graph<T>& g, NodeId x);
template <class T> NodeId sum(Graph<T>& g, NodeId x, int axis);
template <class T> NodeId mean(Graph<T>& g, NodeId x, int axis);

// Along the last axis
template <class T> NodeId softmax(Graph<T>& g, NodeId x);
template <class T> NodeId log_softmax(Graph<T>& g, NodeId x);

// Lookup: ids [b, ...] (whole numbers carried as T; exact below 2^24 in float),
// table [rows, dim] -> [b, ..., dim], out[i] = table[ids[i]] (Keras Embedding). An id
// that is not a whole number in [0, rows) throws ArgumentError naming `owner`, the
// batch row (global: row_offset + local row), the position and the value. Backward
// adds dout rows into the table rows (no gradient for ids), each table row summed in
// token order: deterministic whatever the thread count.
template <class T>
NodeId embedding(Graph<T>& g, NodeId ids, NodeId table, const std::string& owner = "embedding");

// Shape
// New shape of the dims after the batch dimension (Keras' Reshape target_shape).
template <class T> NodeId reshape(Graph<T>& g, NodeId x, const std::vector<std::int64_t>& target);
template <class T> NodeId flatten(Graph<T>& g, NodeId x);  // [b, ...] -> [b, prod(...)]
// A fixed-shape tensor (a parameter, no batch axis) to `shape`, same element count.
template <class T> NodeId reshape_to(Graph<T>& g, NodeId x, const Shape& shape);
template <class T> NodeId concat(Graph<T>& g, const std::vector<NodeId>& xs, int axis = -1);
template <class T> NodeId slice(Graph<T>& g, NodeId x, int axis, std::int64_t begin, std::int64_t end);

// Images (NHWC, Keras' default). Padding follows Keras/TensorFlow: "valid" uses
// only full windows (floor((in - k) / stride) + 1 outputs; a window larger than
// the input is a ShapeError); "same" gives ceil(in / stride) outputs, padding
// split with the extra pixel at the end (bottom/right).
enum class Padding { kValid, kSame };
Padding parse_padding(const std::string& name);  // "valid" | "same" (any case), else ArgumentError

// x [b,h,w,cin] ⊛ kernel [kh,kw,cin,cout] -> [b,oh,ow,cout] (cross-correlation, as
// Keras; no bias: add one with bias_add). Strides must be positive (ArgumentError).
template <class T>
NodeId conv2d(Graph<T>& g, NodeId x, NodeId kernel, std::array<int, 2> strides, Padding padding);
// Pooling windows over h, w; padded cells never win a max and are not counted in an average.
// A max sends its gradient to the first maximal cell of the window (row-major).
template <class T>
NodeId max_pool2d(Graph<T>& g, NodeId x, std::array<int, 2> pool, std::array<int, 2> strides, Padding padding);
template <class T>
NodeId avg_pool2d(Graph<T>& g, NodeId x, std::array<int, 2> pool, std::array<int, 2> strides, Padding padding);

// Inverted dropout: in training each element is zeroed with probability rate and
// the rest scaled by 1/(1-rate); the mask is a pure function of (seed, step,
// element index in the batch tensor): element i is dropped when
// to_unit(random_bits(seed, step, i)) < rate (core/random.hpp). At inference it
// is the identity. rate in [0, 1), else ArgumentError.
template <class T>
NodeId dropout(Graph<T>& g, NodeId x, double rate, std::uint64_t seed);

// Batch normalisation over every axis but the last (Keras BatchNormalization,
// axis=-1). Training: batch statistics, and moving_mean/moving_var (non-trainable
// parameters) are updated as moving = moving*momentum + batch*(1-momentum), with
// the biased batch variance (as Keras 3). Inference:
// the moving statistics. y = gamma * (x - mean) / sqrt(var + epsilon) + beta.
// The update is written into the moving_mean/moving_var values by every forward
// in training mode (so one forward per step). gamma, beta and the moving
// statistics are vectors of the channel count (ShapeError otherwise);
// momentum in [0, 1] and epsilon > 0 (ArgumentError otherwise).
template <class T>
NodeId batch_norm(Graph<T>& g, NodeId x, NodeId gamma, NodeId beta, NodeId moving_mean, NodeId moving_var,
                  double momentum = 0.99, double epsilon = 1e-3);

// Normalisation over the last axis, for every leading index (Keras
// LayerNormalization and RMSNormalization with axis=-1). gamma, beta and scale
// are vectors of the feature count (ShapeError otherwise), or -1 for none;
// epsilon > 0 (ArgumentError otherwise). Per row of C features:
//   layer_norm: y = gamma * (x - mean) / sqrt(var + epsilon) + beta   (biased var)
//   rms_norm:   y = x / sqrt(mean(x²) + epsilon) * scale
// Each row is reduced in feature order and parameter gradients are summed in
// fixed row blocks: the results do not depend on the thread count.
template <class T>
NodeId layer_norm(Graph<T>& g, NodeId x, NodeId gamma, NodeId beta, double epsilon = 1e-3);
template <class T>
NodeId rms_norm(Graph<T>& g, NodeId x, NodeId scale, double epsilon = 1e-6);

// Scaled dot-product attention, fused (the core of Keras' MultiHeadAttention), in
// Keras' projected layout [batch, time, heads, channels]:
//   q [b, tq, h, d], k [b, tk, h, d], v [b, tk, h, dv] -> [b, tq, h, dv]
//   out = softmax((q / sqrt(d)) · kᵀ over the keys) · v, per (batch, head).
// causal: query i sees keys 0..i only (Keras' lower-triangular causal mask,
// aligned at the top left when tq != tk). Backward recomputes the scores; only
// the row maxima and sums (2·b·h·tq values) are kept from forward. Parallel over
// (batch, head) pairs only: bitwise the same for any thread count.
template <class T>
NodeId scaled_dot_product_attention(Graph<T>& g, NodeId q, NodeId k, NodeId v, bool causal = false);

// Recurrent layers over x [batch, time, features] (Keras 3 SimpleRNN, LSTM, GRU
// with reset_after=True; formulas and workspace in src/graph/ops/recurrent.cpp).
// kernel [features, G*units], recurrent_kernel [units, G*units] with G = 1, 4
// (gates i, f, c, o) or 3 (z, r, h); bias [G*units], for gru [2, 3*units] (input
// bias, recurrent bias), or -1 for none. The state starts at zero. Output
// [batch, time, units] with return_sequences, else the last state [batch, units].
// Backward is backpropagation through time; the input projection and the kernel
// gradients are single GEMMs over all batch*time rows, the recurrent product one
// GEMM per step. Results do not depend on the thread count.
enum class RecurrentActivation { kTanh, kSigmoid, kRelu, kLinear };
// "tanh" | "sigmoid" | "relu" | "linear" (or ""), else ArgumentError.
RecurrentActivation parse_recurrent_activation(const std::string& name);
struct RecurrentOptions {
  RecurrentActivation activation = RecurrentActivation::kTanh;
  RecurrentActivation recurrent_activation = RecurrentActivation::kSigmoid;  // lstm, gru
  bool return_sequences = false;
  bool use_bias = true;  // set by the builders from bias >= 0
};
template <class T>
NodeId simple_rnn(Graph<T>& g, NodeId x, NodeId kernel, NodeId recurrent_kernel, NodeId bias, RecurrentOptions o);
template <class T>
NodeId lstm(Graph<T>& g, NodeId x, NodeId kernel, NodeId recurrent_kernel, NodeId bias, RecurrentOptions o);
template <class T>
NodeId gru(Graph<T>& g, NodeId x, NodeId kernel, NodeId recurrent_kernel, NodeId bias, RecurrentOptions o);

}  // namespace dtrain::graph
