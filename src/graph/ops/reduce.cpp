// sum and mean: over every element (a scalar) or over one axis.
#include "common.hpp"

#include "dtrain/graph/ops.hpp"

namespace dtrain::graph {
namespace {

// Σ of all elements (× factor for mean). Partial sums per fixed block go to the
// workspace and are added in block order: the same bits with any thread count.
template <class T>
class ReduceAll final : public Op<T> {
 public:
  explicit ReduceAll(bool mean) : mean_(mean) {}
  std::string name() const override { return mean_ ? "mean" : "sum"; }
  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 1);
    return {};
  }
  std::int64_t workspace_size(std::span<const Shape> in, const Shape&) const override {
    return kernels::block_count(in[0].numel(), detail::kElementBlock);
  }
  void forward(const OpContext<T>& c) override {
    const auto n = c.in[0].size();
    T* partial = c.workspace.data;
    detail::for_elements(n, [&](std::int64_t b, std::int64_t e) {
      partial[b / detail::kElementBlock] =
          Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(c.in[0].data + b, e - b).sum();
    });
    T total = T(0);
    for (std::int64_t i = 0; i < kernels::block_count(n, detail::kElementBlock); ++i) total += partial[i];
    c.out.data[0] = mean_ ? total / static_cast<T>(n) : total;
  }
  void backward(const OpContext<T>& c) override {
    if (c.din[0].empty()) return;
    const auto n = c.in[0].size();
    const T g = mean_ ? c.dout.data[0] / static_cast<T>(n) : c.dout.data[0];
    detail::for_elements(n, [&](std::int64_t b, std::int64_t e) {
      for (auto i = b; i < e; ++i) c.din[0].data[i] += g;
    });
  }

 private:
  bool mean_;
};

// x viewed as [outer, d, inner] -> out [outer, inner], summing over d in order.
template <class T>
class ReduceAxis final : public Op<T> {
 public:
  ReduceAxis(int axis, bool mean) : axis_(axis), mean_(mean) {}
  std::string name() const override { return mean_ ? "mean" : "sum"; }
  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 1);
    const int a = detail::normalize_axis(name(), in, axis_, in[0].rank());
    Shape out;
    for (int i = 0; i < in[0].rank(); ++i) {
      if (i != a) out.push_back(in[0][i]);
    }
    return out;
  }
  void forward(const OpContext<T>& c) override {
    const auto [outer, d, inner] = split(c.in[0].shape);
    const T f = mean_ ? T(1) / static_cast<T>(d) : T(1);
    kernels::for_blocks(outer, outer_block(d, inner), [&](std::int64_t o0, std::int64_t o1) {
      for (auto o = o0; o < o1; ++o) {
        Eigen::Map<const RowMatrix<T>> x(c.in[0].data + o * d * inner, d, inner);
        Eigen::Map<RowMatrix<T>> y(c.out.data + o * inner, 1, inner);
        y.setZero();
        for (std::int64_t j = 0; j < d; ++j) y += x.row(j);
        y *= f;
      }
    });
  }
  void backward(const OpContext<T>& c) override {
    if (c.din[0].empty()) return;
    const auto [outer, d, inner] = split(c.in[0].shape);
    const T f = mean_ ? T(1) / static_cast<T>(d) : T(1);
    kernels::for_blocks(outer, outer_block(d, inner), [&](std::int64_t o0, std::int64_t o1) {
      for (auto o = o0; o < o1; ++o) {
        Eigen::Map<RowMatrix<T>> dx(c.din[0].data + o * d * inner, d, inner);
        Eigen::Map<const RowMatrix<T>> dy(c.dout.data + o * inner, 1, inner);
        dx.rowwise() += f * dy.row(0);
      }
    });
  }

 private:
  struct Split { std::int64_t outer, d, inner; };
  Split split(const Shape& s) const {
    const int a = axis_ < 0 ? axis_ + s.rank() : axis_;
    Split r{1, s[a], 1};
    for (int i = 0; i < a; ++i) r.outer *= s[i];
    for (int i = a + 1; i < s.rank(); ++i) r.inner *= s[i];
    return r;
  }
  static std::int64_t outer_block(std::int64_t d, std::int64_t inner) {
    return std::max<std::int64_t>(1, detail::kElementBlock / std::max<std::int64_t>(1, d * inner));
  }
  int axis_;
  bool mean_;
};

}  // namespace

template <class T> NodeId sum(Graph<T>& g, NodeId x) { return detail::add_op<T, ReduceAll<T>>(g, {x}, false); }
template <class T> NodeId mean(Graph<T>& g, NodeId x) { return detail::add_op<T, ReduceAll<T>>(g, {x}, true); }
template <class T> NodeId sum(Graph<T>& g, NodeId x, int axis) {
  return detail::add_op<T, ReduceAxis<T>>(g, {x}, axis, false);
}
template <class T> NodeId mean(Graph<T>& g, NodeId x, int axis) {
  return detail::add_op<T, ReduceAxis<T>>(g, {x}, axis, true);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, sum, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, mean, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, sum, NodeId, int)
DTRAIN_INSTANTIATE_BUILDER(NodeId, mean, NodeId, int)

}  // namespace dtrain::graph
