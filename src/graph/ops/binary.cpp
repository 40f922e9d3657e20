// Elementwise add, sub, mul of two tensors of equal shape.
#include "common.hpp"

#include "dtrain/graph/ops.hpp"

namespace dtrain::graph {
namespace {

enum class BinaryKind { kAdd, kSub, kMul };

template <class T, BinaryKind K>
class Binary final : public Op<T> {
 public:
  std::string name() const override {
    return K == BinaryKind::kAdd ? "add" : K == BinaryKind::kSub ? "sub" : "mul";
  }
  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 2);
    if (!(in[0] == in[1])) throw_shape_error(name(), in, "shapes must be equal");
    return in[0];
  }
  void forward(const OpContext<T>& c) override {
    detail::for_elements(c.out.size(), [&](std::int64_t b, std::int64_t e) {
      const auto n = e - b;
      Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> x(c.in[0].data + b, n), y(c.in[1].data + b, n);
      Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> out(c.out.data + b, n);
      if constexpr (K == BinaryKind::kAdd) out = x + y;
      if constexpr (K == BinaryKind::kSub) out = x - y;
      if constexpr (K == BinaryKind::kMul) out = x * y;
    });
  }
  void backward(const OpContext<T>& c) override {
    detail::for_elements(c.out.size(), [&](std::int64_t b, std::int64_t e) {
      const auto n = e - b;
      Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> dy(c.dout.data + b, n);
      for (int i = 0; i < 2; ++i) {
        if (c.din[static_cast<std::size_t>(i)].empty()) continue;
        Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> dx(c.din[static_cast<std::size_t>(i)].data + b, n);
        if constexpr (K == BinaryKind::kAdd) dx += dy;
        if constexpr (K == BinaryKind::kSub) {
          if (i == 0) dx += dy; else dx -= dy;
        }
        if constexpr (K == BinaryKind::kMul) {
          Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> other(c.in[static_cast<std::size_t>(1 - i)].data + b, n);
          dx += dy * other;
        }
      }
    });
  }
};

}  // namespace

template <class T>
NodeId add(Graph<T>& g, NodeId a, NodeId b) {
  return detail::add_op<T, Binary<T, BinaryKind::kAdd>>(g, {a, b});
}
template <class T>
NodeId sub(Graph<T>& g, NodeId a, NodeId b) {
  return detail::add_op<T, Binary<T, BinaryKind::kSub>>(g, {a, b});
}
template <class T>
NodeId mul(Graph<T>& g, NodeId a, NodeId b) {
  return detail::add_op<T, Binary<T, BinaryKind::kMul>>(g, {a, b});
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, add, NodeId, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, sub, NodeId, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, mul, NodeId, NodeId)

}  // namespace dtrain::graph
