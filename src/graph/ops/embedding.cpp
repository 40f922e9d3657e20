// embedding: a row lookup (gather) with a sparse, deterministic row-update backward.
#include <algorithm>
#include <cmath>

#include "common.hpp"
#include "dtrain/graph/ops.hpp"

namespace dtrain::graph {
namespace {

// Token ids travel through the graph as values of T (the graph holds one element
// type). They are exact for |id| < 2^24 in float; the forward checks that every id
// is a whole number in [0, rows) before using it.
template <class T>
class Embedding final : public Op<T> {
 public:
  explicit Embedding(std::string owner) : owner_(std::move(owner)) {}
  std::string name() const override { return "embedding"; }

  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 2);
    if (in[0].rank() < 1 || in[0].rank() + 1 > Shape::kMaxRank) {
      throw_shape_error(name(), in, "ids must have rank 1 to " + std::to_string(Shape::kMaxRank - 1));
    }
    if (in[1].rank() != 2) throw_shape_error(name(), in, "embeddings must be [input_dim, output_dim]");
    Shape out = in[0];
    out.push_back(in[1][1]);
    return out;
  }

  void forward(const OpContext<T>& c) override {
    const auto& ids = c.in[0];
    const auto& table = c.in[1];
    const std::int64_t n = ids.size();
    const std::int64_t rows = table.shape[0], dim = table.shape[1];
    const std::int64_t per_row = ids.shape.rank() > 1 ? n / std::max<std::int64_t>(1, ids.shape[0]) : 1;
    for (std::int64_t i = 0; i < n; ++i) {  // check first, serially: the error names the first bad id
      const T v = ids.data[i];
      if (!(v >= T(0) && v < static_cast<T>(rows)) || v != std::floor(v)) {
        const std::int64_t row = c.row_offset + i / per_row;
        std::string value = std::isfinite(static_cast<double>(v)) && v == std::floor(v)
                                ? std::to_string(static_cast<long long>(v))
                                : std::to_string(static_cast<double>(v));
        throw ArgumentError(owner_ + ": token id " + value + " at batch row " + std::to_string(row) +
                            " (position " + std::to_string(i % per_row) + ") is outside [0, " +
                            std::to_string(rows) + ") (input_dim " + std::to_string(rows) + ")");
      }
    }
    kernels::for_blocks(n, 256, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) {
        const auto r = static_cast<std::int64_t>(ids.data[i]);
        std::copy_n(table.data + r * dim, dim, c.out.data + i * dim);
      }
    });
  }

  // d(table)[r] += Σ over tokens i with id r of dout[i], in token order. Each block
  // owns a fixed range of table rows and walks every token in order, so a row's sum
  // is always taken in the same order: the result does not depend on the thread
  // count or on the block size. The ids get no gradient (piecewise constant).
  void backward(const OpContext<T>& c) override {
    if (c.din[1].empty()) return;
    const auto& ids = c.in[0];
    const std::int64_t n = ids.size();
    const std::int64_t rows = c.in[1].shape[0], dim = c.in[1].shape[1];
    const std::int64_t block = std::max<std::int64_t>(64, (rows + 31) / 32);
    T* grad = c.din[1].data;
    kernels::for_blocks(rows, block, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = 0; i < n; ++i) {
        const auto r = static_cast<std::int64_t>(ids.data[i]);
        if (r < b || r >= e) continue;
        T* dst = grad + r * dim;
        const T* src = c.dout.data + i * dim;
        for (std::int64_t k = 0; k < dim; ++k) dst[k] += src[k];
      }
    });
  }

 private:
  std::string owner_;
};

}  // namespace

template <class T>
NodeId embedding(Graph<T>& g, NodeId ids, NodeId table, const std::string& owner) {
  return detail::add_op<T, Embedding<T>>(g, {ids, table}, owner);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, embedding, NodeId, NodeId, const std::string&)

}  // namespace dtrain::graph
