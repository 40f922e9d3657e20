// softmax and log_softmax over the last axis, max-shifted for stability.
#include "common.hpp"

#include "dtrain/graph/ops.hpp"

namespace dtrain::graph {
namespace {

template <class T>
class Softmax final : public Op<T> {
 public:
  explicit Softmax(bool log) : log_(log) {}
  std::string name() const override { return log_ ? "log_softmax" : "softmax"; }
  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 1);
    if (in[0].rank() < 1) throw_shape_error(name(), in, "needs at least one axis");
    return in[0];
  }
  void forward(const OpContext<T>& c) override {
    for_rows(c, [&](auto x, auto y) {
      const T m = x.maxCoeff();
      if (log_) {
        const T lse = std::log((x - m).exp().sum());
        y = x - m - lse;
      } else {
        y = (x - m).exp();
        y /= y.sum();
      }
    });
  }
  void backward(const OpContext<T>& c) override {
    if (c.din[0].empty()) return;
    const auto k = last(c.out.shape);
    const auto rows = c.out.size() / k;
    kernels::for_blocks(rows, row_block(k), [&](std::int64_t r0, std::int64_t r1) {
      for (auto r = r0; r < r1; ++r) {
        Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> y(c.out.data + r * k, k), dy(c.dout.data + r * k, k);
        Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> dx(c.din[0].data + r * k, k);
        if (log_) {
          dx += dy - y.exp() * dy.sum();        // d/dx (x - lse) = I - softmax
        } else {
          dx += y * (dy - (dy * y).sum());      // Jacobian diag(y) - y yᵀ
        }
      }
    });
  }

 private:
  static std::int64_t last(const Shape& s) { return s[s.rank() - 1]; }
  static std::int64_t row_block(std::int64_t k) { return std::max<std::int64_t>(1, detail::kElementBlock / k); }
  template <class F>
  void for_rows(const OpContext<T>& c, F&& f) {
    const auto k = last(c.out.shape);
    const auto rows = c.out.size() / k;
    kernels::for_blocks(rows, row_block(k), [&](std::int64_t r0, std::int64_t r1) {
      for (auto r = r0; r < r1; ++r) {
        f(Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(c.in[0].data + r * k, k),
          Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(c.out.data + r * k, k));
      }
    });
  }
  bool log_;
};

}  // namespace

template <class T> NodeId softmax(Graph<T>& g, NodeId x) { return detail::add_op<T, Softmax<T>>(g, {x}, false); }
template <class T> NodeId log_softmax(Graph<T>& g, NodeId x) { return detail::add_op<T, Softmax<T>>(g, {x}, true); }

DTRAIN_INSTANTIATE_BUILDER(NodeId, softmax, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, log_softmax, NodeId)

}  // namespace dtrain::graph
