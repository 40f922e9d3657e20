// scaled_dot_product_attention: softmax(q·kᵀ/√d [+ causal mask]) · v, fused, per
// (batch, head) block (Vaswani et al. 2017; the computation of Keras 3's
// keras/src/layers/attention/multi_head_attention.py, _compute_attention).
//
// Layout (Keras' projected layout, [batch, time, heads, channels]):
//   q [b, tq, h, d], k [b, tk, h, d], v [b, tk, h, dv] -> out [b, tq, h, dv]
// For one (batch, head) block, query row i and key row j:
//   s_ij = Σ_c (q_ic · scale) · k_jc,  scale = 1/√d   (Keras scales the query)
//   causal: key j is visible to query i only when j <= i (Keras'
//   _compute_causal_mask: row index >= column index, aligned at the top left)
//   m_i = max_j s_ij,  l_i = Σ_j exp(s_ij - m_i),  p_ij = exp(s_ij - m_i) / l_i
//   out_i = Σ_j p_ij · v_j
// Backward (the scores are recomputed from q and k, never stored):
//   D_i = dout_i · out_i  (= Σ_j p_ij dp_ij)
//   dp_ij = dout_i · v_j,  ds_ij = p_ij (dp_ij - D_i)
//   dq_i += scale Σ_j ds_ij k_j,  dk_j += scale Σ_i ds_ij q_i,  dv_j += Σ_i p_ij dout_i
//
// Memory: the workspace keeps m_i and l_i per (batch, head, query row) from
// forward to backward: 2·b·h·tq values, no [tq, tk] score matrix at all.
// Determinism: blocks are single (batch, head) pairs (kernels::for_blocks with
// block size 1); each writes only its own slices of out, dq, dk and dv, and
// loops over i and j in a fixed order. Results do not depend on the thread count.
#include "common.hpp"

#include "dtrain/graph/ops.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dtrain::graph {
namespace {

struct Dims {
  std::int64_t b, tq, tk, h, d, dv;
};

template <class T>
class ScaledDotProductAttention final : public Op<T> {
 public:
  explicit ScaledDotProductAttention(bool causal) : causal_(causal) {}
  std::string name() const override { return "scaled_dot_product_attention"; }

  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 3);
    const Shape &q = in[0], &k = in[1], &v = in[2];
    if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4) {
      throw_shape_error(name(), in, "q, k and v must be [batch, time, heads, channels]");
    }
    if (q[0] != k[0] || q[0] != v[0]) throw_shape_error(name(), in, "batch sizes differ");
    if (q[2] != k[2] || q[2] != v[2]) throw_shape_error(name(), in, "head counts differ");
    if (q[3] != k[3]) throw_shape_error(name(), in, "q and k must have the same channel count");
    if (k[1] != v[1]) throw_shape_error(name(), in, "k and v must have the same time length");
    return {q[0], q[1], q[2], v[3]};
  }

  std::int64_t workspace_size(std::span<const Shape> in, const Shape&) const override {
    return 2 * in[0][0] * in[0][1] * in[0][2];  // m_i and l_i per (batch, query row, head)
  }

  void forward(const OpContext<T>& c) override {
    const Dims n = dims(c);
    const T scale = T(1) / std::sqrt(static_cast<T>(n.d));
    T* max_of = c.workspace.data;
    T* sum_of = c.workspace.data + n.b * n.h * n.tq;
    kernels::for_blocks(n.b * n.h, 1, [&](std::int64_t blk, std::int64_t) {
      const std::int64_t bi = blk / n.h, hi = blk % n.h;
      for (std::int64_t i = 0; i < n.tq; ++i) {
        const T* q = row(c.in[0].data, n, n.tq, n.d, bi, i, hi);
        T* o = row(c.out.data, n, n.tq, n.dv, bi, i, hi);
        const std::int64_t keys = visible(n, i);
        T m = -std::numeric_limits<T>::infinity();
        for (std::int64_t j = 0; j < keys; ++j) m = std::max(m, score(c, n, scale, q, bi, j, hi));
        std::fill(o, o + n.dv, T(0));
        T l = 0;
        for (std::int64_t j = 0; j < keys; ++j) {
          const T p = std::exp(score(c, n, scale, q, bi, j, hi) - m);
          l += p;
          const T* v = row(c.in[2].data, n, n.tk, n.dv, bi, j, hi);
          for (std::int64_t e = 0; e < n.dv; ++e) o[e] += p * v[e];
        }
        for (std::int64_t e = 0; e < n.dv; ++e) o[e] /= l;
        max_of[blk * n.tq + i] = m;
        sum_of[blk * n.tq + i] = l;
      }
    });
  }

  void backward(const OpContext<T>& c) override {
    const Dims n = dims(c);
    const T scale = T(1) / std::sqrt(static_cast<T>(n.d));
    const T* max_of = c.workspace.data;
    const T* sum_of = c.workspace.data + n.b * n.h * n.tq;
    T* dq_all = c.din[0].empty() ? nullptr : c.din[0].data;
    T* dk_all = c.din[1].empty() ? nullptr : c.din[1].data;
    T* dv_all = c.din[2].empty() ? nullptr : c.din[2].data;
    if (!dq_all && !dk_all && !dv_all) return;
    kernels::for_blocks(n.b * n.h, 1, [&](std::int64_t blk, std::int64_t) {
      const std::int64_t bi = blk / n.h, hi = blk % n.h;
      for (std::int64_t i = 0; i < n.tq; ++i) {
        const T* q = row(c.in[0].data, n, n.tq, n.d, bi, i, hi);
        const T* o = row(c.out.data, n, n.tq, n.dv, bi, i, hi);
        const T* dout = row(c.dout.data, n, n.tq, n.dv, bi, i, hi);
        const T m = max_of[blk * n.tq + i], l = sum_of[blk * n.tq + i];
        T big_d = 0;
        for (std::int64_t e = 0; e < n.dv; ++e) big_d += dout[e] * o[e];
        T* dq = dq_all ? row(dq_all, n, n.tq, n.d, bi, i, hi) : nullptr;
        const std::int64_t keys = visible(n, i);
        for (std::int64_t j = 0; j < keys; ++j) {
          const T p = std::exp(score(c, n, scale, q, bi, j, hi) - m) / l;
          const T* v = row(c.in[2].data, n, n.tk, n.dv, bi, j, hi);
          if (dv_all) {
            T* dv = row(dv_all, n, n.tk, n.dv, bi, j, hi);
            for (std::int64_t e = 0; e < n.dv; ++e) dv[e] += p * dout[e];
          }
          if (!dq && !dk_all) continue;
          T dp = 0;
          for (std::int64_t e = 0; e < n.dv; ++e) dp += dout[e] * v[e];
          const T ds = p * (dp - big_d) * scale;
          if (dq) {
            const T* k = row(c.in[1].data, n, n.tk, n.d, bi, j, hi);
            for (std::int64_t e = 0; e < n.d; ++e) dq[e] += ds * k[e];
          }
          if (dk_all) {
            T* dk = row(dk_all, n, n.tk, n.d, bi, j, hi);
            for (std::int64_t e = 0; e < n.d; ++e) dk[e] += ds * q[e];
          }
        }
      }
    });
  }

 private:
  static Dims dims(const OpContext<T>& c) {
    const auto& q = c.in[0].shape;
    return {q[0], q[1], c.in[1].shape[1], q[2], q[3], c.in[2].shape[3]};
  }
  // Row t of head hi in sample bi of a [b, t_len, h, width] tensor.
  template <class P>
  static P* row(P* base, const Dims& n, std::int64_t t_len, std::int64_t width, std::int64_t bi,
                std::int64_t t, std::int64_t hi) {
    return base + ((bi * t_len + t) * n.h + hi) * width;
  }
  std::int64_t visible(const Dims& n, std::int64_t i) const { return causal_ ? std::min(n.tk, i + 1) : n.tk; }
  static T score(const OpContext<T>& c, const Dims& n, T scale, const T* q, std::int64_t bi, std::int64_t j,
                 std::int64_t hi) {
    const T* k = row(c.in[1].data, n, n.tk, n.d, bi, j, hi);
    T s = 0;
    for (std::int64_t e = 0; e < n.d; ++e) s += (q[e] * scale) * k[e];
    return s;
  }

  bool causal_;
};

}  // namespace

template <class T>
NodeId scaled_dot_product_attention(Graph<T>& g, NodeId q, NodeId k, NodeId v, bool causal) {
  return detail::add_op<T, ScaledDotProductAttention<T>>(g, {q, k, v}, causal);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, scaled_dot_product_attention, NodeId, NodeId, NodeId, bool)

}  // namespace dtrain::graph
