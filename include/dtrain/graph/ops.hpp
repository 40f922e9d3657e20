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

#include <vector>

namespace dtrain::graph {

// Linear algebra
template <class T> NodeId matmul(Graph<T>& g, NodeId a, NodeId b);    // [m,k]·[k,n]
template <class T> NodeId bias_add(Graph<T>& g, NodeId x, NodeId b);  // x[..., n] + b[n]

// Elementwise binary (equal shapes)
template <class T> NodeId add(Graph<T>& g, NodeId a, NodeId b);
template <class T> NodeId sub(Graph<T>& g, NodeId a, NodeId b);
template <class T> NodeId mul(Graph<T>& g, NodeId a, NodeId b);

// Elementwise unary
template <class T> NodeId scale(Graph<T>& g, NodeId x, double factor);
template <class T> NodeId relu(Graph<T>& g, NodeId x);
template <class T> NodeId leaky_relu(Graph<T>& g, NodeId x, double alpha = 0.2);  // Keras default
template <class T> NodeId elu(Graph<T>& g, NodeId x, double alpha = 1.0);
template <class T> NodeId gelu(Graph<T>& g, NodeId x);  // exact (erf) form, Keras' default
template <class T> NodeId sigmoid(Graph<T>& g, NodeId x);
template <class T> NodeId tanh(Graph<T>& g, NodeId x);
template <class T> NodeId softplus(Graph<T>& g, NodeId x);
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

// Shape
// New shape of the dims after the batch dimension (Keras' Reshape target_shape).
template <class T> NodeId reshape(Graph<T>& g, NodeId x, const std::vector<std::int64_t>& target);
template <class T> NodeId flatten(Graph<T>& g, NodeId x);  // [b, ...] -> [b, prod(...)]
template <class T> NodeId concat(Graph<T>& g, const std::vector<NodeId>& xs, int axis = -1);
template <class T> NodeId slice(Graph<T>& g, NodeId x, int axis, std::int64_t begin, std::int64_t end);

}  // namespace dtrain::graph
