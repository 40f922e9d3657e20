// reshape / flatten, concat and slice. These copy (a memcpy-speed pass) so
// every node owns its buffer and the planner stays simple.
#include "common.hpp"

#include "dtrain/graph/ops.hpp"

#include <cstring>

namespace dtrain::graph {
namespace {

template <class T>
void add_into(T* dst, const T* src, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// [b, ...] -> [b, target...]; one target entry may be -1 (inferred).
template <class T>
class Reshape final : public Op<T> {
 public:
  Reshape(std::vector<std::int64_t> target, std::string name) : target_(std::move(target)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 1);
    if (in[0].rank() < 1) throw_shape_error(name(), in, "needs a batch dimension");
    const std::int64_t inner = in[0].inner();
    std::int64_t known = 1;
    int unknown = -1;
    for (std::size_t i = 0; i < target_.size(); ++i) {
      if (target_[i] == -1 && unknown < 0) {
        unknown = static_cast<int>(i);
      } else if (target_[i] <= 0) {
        throw_shape_error(name(), in, "bad target dimension " + std::to_string(target_[i]));
      } else {
        known *= target_[i];
      }
    }
    Shape out{in[0][0]};
    for (std::size_t i = 0; i < target_.size(); ++i) {
      out.push_back(static_cast<int>(i) == unknown ? inner / known : target_[i]);
    }
    if (out.inner() != inner) {
      throw_shape_error(name(), in, "cannot reshape " + std::to_string(inner) + " values per sample to " + out.str());
    }
    return out;
  }
  void forward(const OpContext<T>& c) override {
    detail::for_elements(c.out.size(), [&](std::int64_t b, std::int64_t e) {
      std::memcpy(c.out.data + b, c.in[0].data + b, static_cast<std::size_t>(e - b) * sizeof(T));
    });
  }
  void backward(const OpContext<T>& c) override {
    if (c.din[0].empty()) return;
    detail::for_elements(c.out.size(), [&](std::int64_t b, std::int64_t e) {
      add_into(c.din[0].data + b, c.dout.data + b, e - b);
    });
  }

 private:
  std::vector<std::int64_t> target_;
  std::string name_;
};

// A tensor without a batch axis (a parameter) -> `shape`, the same elements in
// the same (row-major) order: Keras' [features, heads, key_dim] kernel as the
// [features, heads·key_dim] matrix of one GEMM.
template <class T>
class ReshapeTo final : public Op<T> {
 public:
  explicit ReshapeTo(Shape shape) : shape_(std::move(shape)) {}
  std::string name() const override { return "reshape_to"; }
  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 1);
    for (int i = 0; i < in[0].rank(); ++i) {
      if (in[0][i] == kBatch) throw_shape_error(name(), in, "needs a fixed shape (no batch axis)");
    }
    if (in[0].numel() != shape_.numel()) {
      throw_shape_error(name(), in, "cannot reshape " + std::to_string(in[0].numel()) + " values to " + shape_.str());
    }
    return shape_;
  }
  void forward(const OpContext<T>& c) override {
    std::memcpy(c.out.data, c.in[0].data, static_cast<std::size_t>(c.out.size()) * sizeof(T));
  }
  void backward(const OpContext<T>& c) override {
    if (!c.din[0].empty()) add_into(c.din[0].data, c.dout.data, c.out.size());
  }

 private:
  Shape shape_;
};

// View of a shape around an axis: [outer, d, inner].
struct AxisSplit {
  std::int64_t outer = 1, d = 1, inner = 1;
};
AxisSplit split_at(const Shape& s, int a) {
  AxisSplit r;
  r.d = s[a];
  for (int i = 0; i < a; ++i) r.outer *= s[i];
  for (int i = a + 1; i < s.rank(); ++i) r.inner *= s[i];
  return r;
}

template <class T>
class Concat final : public Op<T> {
 public:
  explicit Concat(int axis) : axis_(axis) {}
  std::string name() const override { return "concat"; }
  Shape output_shape(std::span<const Shape> in) const override {
    if (in.empty()) throw_shape_error(name(), in, "needs at least one input");
    const int a = detail::normalize_axis(name(), in, axis_, in[0].rank());
    Shape out = in[0];
    for (std::size_t i = 1; i < in.size(); ++i) {
      if (in[i].rank() != in[0].rank()) throw_shape_error(name(), in, "ranks differ");
      for (int j = 0; j < in[0].rank(); ++j) {
        if (j != a && in[i][j] != in[0][j]) {
          throw_shape_error(name(), in, "dimension " + std::to_string(j) + " differs");
        }
      }
      out[a] += in[i][a];
    }
    if (a == 0 && in[0][0] == kBatch) throw_shape_error(name(), in, "cannot concatenate along the batch axis");
    return out;
  }
  void forward(const OpContext<T>& c) override { copy(c, true); }
  void backward(const OpContext<T>& c) override { copy(c, false); }

 private:
  // forward: inputs -> out slices; backward: out-gradient slices added to inputs.
  void copy(const OpContext<T>& c, bool forward) {
    const int a = axis_ < 0 ? axis_ + c.out.shape.rank() : axis_;
    const auto out = split_at(c.out.shape, a);
    kernels::for_blocks(out.outer, std::max<std::int64_t>(1, detail::kElementBlock / (out.d * out.inner)),
                        [&](std::int64_t o0, std::int64_t o1) {
      for (auto o = o0; o < o1; ++o) {
        std::int64_t offset = 0;
        for (std::size_t i = 0; i < c.in.size(); ++i) {
          const auto chunk = c.in[i].shape[a] * out.inner;
          T* dst = c.out.data + o * out.d * out.inner + offset;
          if (forward) {
            std::memcpy(dst, c.in[i].data + o * chunk, static_cast<std::size_t>(chunk) * sizeof(T));
          } else if (!c.din[i].empty()) {
            add_into(c.din[i].data + o * chunk, c.dout.data + (dst - c.out.data), chunk);
          }
          offset += chunk;
        }
      }
    });
  }
  int axis_;
};

template <class T>
class Slice final : public Op<T> {
 public:
  Slice(int axis, std::int64_t begin, std::int64_t end) : axis_(axis), begin_(begin), end_(end) {}
  std::string name() const override { return "slice"; }
  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 1);
    const int a = detail::normalize_axis(name(), in, axis_, in[0].rank());
    if (in[0][a] == kBatch) throw_shape_error(name(), in, "cannot slice the batch axis");
    if (begin_ < 0 || end_ <= begin_ || end_ > in[0][a]) {
      throw_shape_error(name(), in, "range [" + std::to_string(begin_) + ", " + std::to_string(end_) +
                                        ") outside axis " + std::to_string(a));
    }
    Shape out = in[0];
    out[a] = end_ - begin_;
    return out;
  }
  void forward(const OpContext<T>& c) override { copy(c, true); }
  void backward(const OpContext<T>& c) override {
    if (!c.din[0].empty()) copy(c, false);
  }

 private:
  void copy(const OpContext<T>& c, bool forward) {
    const int a = axis_ < 0 ? axis_ + c.in[0].shape.rank() : axis_;
    const auto src = split_at(c.in[0].shape, a);
    const auto chunk = (end_ - begin_) * src.inner;
    kernels::for_blocks(src.outer, std::max<std::int64_t>(1, detail::kElementBlock / chunk),
                        [&](std::int64_t o0, std::int64_t o1) {
      for (auto o = o0; o < o1; ++o) {
        const auto from = o * src.d * src.inner + begin_ * src.inner;
        if (forward) {
          std::memcpy(c.out.data + o * chunk, c.in[0].data + from, static_cast<std::size_t>(chunk) * sizeof(T));
        } else {
          add_into(c.din[0].data + from, c.dout.data + o * chunk, chunk);
        }
      }
    });
  }
  int axis_;
  std::int64_t begin_, end_;
};

}  // namespace

template <class T>
NodeId reshape(Graph<T>& g, NodeId x, const std::vector<std::int64_t>& target) {
  return detail::add_op<T, Reshape<T>>(g, {x}, target, std::string("reshape"));
}
template <class T>
NodeId reshape_to(Graph<T>& g, NodeId x, const Shape& shape) {
  return detail::add_op<T, ReshapeTo<T>>(g, {x}, shape);
}
template <class T>
NodeId flatten(Graph<T>& g, NodeId x) {
  return detail::add_op<T, Reshape<T>>(g, {x}, std::vector<std::int64_t>{-1}, std::string("flatten"));
}
template <class T>
NodeId concat(Graph<T>& g, const std::vector<NodeId>& xs, int axis) {
  return detail::add_op<T, Concat<T>>(g, xs, axis);
}
template <class T>
NodeId slice(Graph<T>& g, NodeId x, int axis, std::int64_t begin, std::int64_t end) {
  return detail::add_op<T, Slice<T>>(g, {x}, axis, begin, end);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, reshape, NodeId, const std::vector<std::int64_t>&)
DTRAIN_INSTANTIATE_BUILDER(NodeId, flatten, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, reshape_to, NodeId, const Shape&)
DTRAIN_INSTANTIATE_BUILDER(NodeId, concat, const std::vector<NodeId>&, int)
DTRAIN_INSTANTIATE_BUILDER(NodeId, slice, NodeId, int, std::int64_t, std::int64_t)

}  // namespace dtrain::graph
