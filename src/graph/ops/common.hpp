// Shared helpers for the op implementations (private to src/graph/ops).
#pragma once

#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/op.hpp"
#include "dtrain/kernels/parallel.hpp"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dtrain::graph::detail {

// Elements per task in elementwise loops: fixed, so results never depend on threads.
inline constexpr std::int64_t kElementBlock = 1 << 14;

template <class T, class O, class... A>
NodeId add_op(Graph<T>& g, std::vector<NodeId> inputs, A&&... args) {
  return g.add(std::make_unique<O>(std::forward<A>(args)...), std::move(inputs));
}

inline void expect_inputs(const std::string& op, std::span<const Shape> in, std::size_t n) {
  if (in.size() != n) {
    throw_shape_error(op, in, "expects " + std::to_string(n) + " inputs, got " + std::to_string(in.size()));
  }
}

inline int normalize_axis(const std::string& op, std::span<const Shape> in, int axis, int rank) {
  const int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    throw_shape_error(op, in, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  }
  return a;
}

// Applies fn(begin, end) over [0, n) in fixed blocks of kElementBlock.
template <class F>
void for_elements(std::int64_t n, F&& fn) {
  kernels::for_blocks(n, kElementBlock, fn);
}

}  // namespace dtrain::graph::detail

// Explicit instantiation of a builder function for float and double.
#define DTRAIN_INSTANTIATE_BUILDER(RET, NAME, ...)               \
  template RET NAME<float>(Graph<float>&, __VA_ARGS__);          \
  template RET NAME<double>(Graph<double>&, __VA_ARGS__);
