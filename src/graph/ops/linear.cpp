// matmul, bias_add and bias_relu: the dense layer's ops.
#include "common.hpp"

#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/gemm.hpp"

#include <algorithm>
#include <array>

namespace dtrain::graph {
namespace {

using detail::expect_inputs;

// out[m,n] = a[m,k] · b[k,n];  da += dout · bᵀ;  db += aᵀ · dout
// a of rank >= 2 is contracted over its last axis, its leading axes taken as rows
// (a row-major [..., k] buffer is an [m, k] matrix, m = product of the leading
// axes: no copy), as Keras' Dense on [batch, time, features]. db reduces over all
// m rows inside each output block (gemm_tn), so [b, t, k] rounds exactly like
// [b*t, k] and never depends on the thread count.
template <class T>
class MatMul final : public Op<T> {
 public:
  std::string name() const override { return "matmul"; }
  Shape output_shape(std::span<const Shape> in) const override {
    expect_inputs(name(), in, 2);
    if (in[0].rank() < 2 || in[1].rank() != 2) {
      throw_shape_error(name(), in, "a must have rank >= 2 and b rank 2");
    }
    const int last = in[0].rank() - 1;
    if (in[0][last] != in[1][0]) throw_shape_error(name(), in, "inner dimensions differ");
    Shape out = in[0];
    out[last] = in[1][1];
    return out;
  }
  void forward(const OpContext<T>& c) override {
    const auto [m, k, n] = dims(c);
    kernels::gemm_nn(c.in[0].data, c.in[1].data, c.out.data, m, k, n, false);
  }
  void backward(const OpContext<T>& c) override {
    const auto [m, k, n] = dims(c);
    if (!c.din[0].empty()) kernels::gemm_nt(c.dout.data, c.in[1].data, c.din[0].data, m, n, k, true);
    if (!c.din[1].empty()) backward_b(c, m, k, n);
  }

 private:
  // {m, k, n}: a as an [m, k] matrix (all leading axes as rows), b [k, n].
  static std::array<std::int64_t, 3> dims(const OpContext<T>& c) {
    const auto k = c.in[1].shape[0];
    return {c.in[0].size() / k, k, c.in[1].shape[1]};
  }

  // Rows of b's gradient finished per chunk when someone takes early prefixes:
  // about 512 KiB of float gradient, whole gemm_tn row blocks.
  static constexpr std::int64_t kProgressElements = std::int64_t{1} << 17;

  // db += aᵀ · dout, in row chunks reported as they finish when c.progress is
  // set (the first layer's kernel gradient is most of an MLP's gradient bytes
  // and comes last in backward: its all-reduce starts chunk by chunk).
  static void backward_b(const OpContext<T>& c, std::int64_t m, std::int64_t k, std::int64_t n) {
    if (c.progress == nullptr) {
      kernels::gemm_tn(c.in[0].data, c.dout.data, c.din[1].data, m, k, n, true);
      return;
    }
    const auto block = kernels::kGemmTnRowBlock;
    const auto rows = std::max(block, kProgressElements / n / block * block);
    for (std::int64_t r0 = 0; r0 < k; r0 += rows) {
      const auto r1 = std::min(k, r0 + rows);
      kernels::gemm_tn_rows(c.in[0].data, c.dout.data, c.din[1].data, m, k, n, r0, r1, true);
      c.progress->prefix_final(1, r1 * n);
    }
  }
};

// bias_add: out[r, :] = x[r, :] + b;  dx += dout;  db += Σ_r dout[r, :]
// bias_relu: out = max(x + b, 0), the relu of a Dense or Conv2D layer fused with
// its bias (one pass and one tensor fewer); dz = dout where out > 0, else 0;
// dx += dz;  db += Σ_r dz[r, :].
// db: each block of rows sums into its own row of the workspace, in row order;
// the blocks are then added in order (deterministic, parallel over rows).
template <class T>
class BiasAdd final : public Op<T> {
 public:
  explicit BiasAdd(bool relu) : relu_(relu) {}
  std::string name() const override { return relu_ ? "bias_relu" : "bias_add"; }
  Shape output_shape(std::span<const Shape> in) const override {
    expect_inputs(name(), in, 2);
    if (in[0].rank() < 1 || in[1].rank() != 1 || in[0][in[0].rank() - 1] != in[1][0]) {
      throw_shape_error(name(), in, "bias must be a vector matching the last dimension");
    }
    return in[0];
  }
  std::int64_t workspace_size(std::span<const Shape> in, const Shape& /*out*/) const override {
    const auto n = in[1][0];
    return blocks(in[0].numel() / n, n) * n;
  }
  void forward(const OpContext<T>& c) override {
    const auto n = c.in[1].shape[0];
    const auto rows = c.in[0].size() / n;
    const Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>> b(c.in[1].data, n);
    kernels::for_blocks(rows, row_block(n), [&](std::int64_t r0, std::int64_t r1) {
      MatrixMap<T> out(c.out.data + r0 * n, r1 - r0, n);
      Eigen::Map<const RowMatrix<T>> x(c.in[0].data + r0 * n, r1 - r0, n);
      if (relu_) {
        out.noalias() = (x.rowwise() + b).cwiseMax(T(0));
      } else {
        out.noalias() = x.rowwise() + b;
      }
    });
  }
  void backward(const OpContext<T>& c) override {
    if (relu_) {
      accumulate<true>(c);
    } else {
      accumulate<false>(c);
    }
  }

 private:
  // One pass over dout (and out for the relu mask) adds dz into dx and into the
  // block's row of partial bias sums; then the blocks are added in order.
  template <bool Relu>
  static void accumulate(const OpContext<T>& c) {
    const auto n = c.in[1].shape[0];
    const auto rows = c.in[0].size() / n;
    const auto block = row_block(n);
    T* dx = c.din[0].empty() ? nullptr : c.din[0].data;
    T* partial = c.din[1].empty() ? nullptr : c.workspace.data;
    kernels::for_blocks(rows, block, [&](std::int64_t r0, std::int64_t r1) {
      T* sum = partial == nullptr ? nullptr : partial + (r0 / block) * n;
      if (sum != nullptr) std::fill_n(sum, n, T(0));
      for (auto r = r0; r < r1; ++r) {
        const T* out = c.out.data + r * n;
        const T* dout = c.dout.data + r * n;
        T* x = dx == nullptr ? nullptr : dx + r * n;
        if (x != nullptr && sum != nullptr) {
          for (std::int64_t j = 0; j < n; ++j) {
            const T g = !Relu || out[j] > T(0) ? dout[j] : T(0);
            x[j] += g;
            sum[j] += g;
          }
        } else if (x != nullptr) {
          for (std::int64_t j = 0; j < n; ++j) x[j] += !Relu || out[j] > T(0) ? dout[j] : T(0);
        } else if (sum != nullptr) {
          for (std::int64_t j = 0; j < n; ++j) sum[j] += !Relu || out[j] > T(0) ? dout[j] : T(0);
        }
      }
    });
    if (partial == nullptr) return;
    T* db = c.din[1].data;
    for (std::int64_t k = 0; k < blocks(rows, n); ++k) {
      for (std::int64_t j = 0; j < n; ++j) db[j] += partial[k * n + j];
    }
  }

  static std::int64_t row_block(std::int64_t n) { return std::max<std::int64_t>(1, detail::kElementBlock / n); }
  static std::int64_t blocks(std::int64_t rows, std::int64_t n) { return (rows + row_block(n) - 1) / row_block(n); }

  bool relu_;
};

}  // namespace

template <class T>
NodeId matmul(Graph<T>& g, NodeId a, NodeId b) {
  return detail::add_op<T, MatMul<T>>(g, {a, b});
}
template <class T>
NodeId bias_add(Graph<T>& g, NodeId x, NodeId b) {
  return detail::add_op<T, BiasAdd<T>>(g, {x, b}, false);
}
template <class T>
NodeId bias_relu(Graph<T>& g, NodeId x, NodeId b) {
  return detail::add_op<T, BiasAdd<T>>(g, {x, b}, true);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, matmul, NodeId, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, bias_add, NodeId, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, bias_relu, NodeId, NodeId)

}  // namespace dtrain::graph
