// Graph: a DAG of tensor ops with reverse-mode automatic differentiation.
//
//   graph::Graph<float> g;
//   auto x = g.input("x", {graph::kBatch, 784});
//   auto w = g.parameter("dense/kernel", {784, 10});
//   auto y = graph::matmul(g, x, w);
//   auto loss = graph::mean(g, graph::square(g, y));
//   g.plan(128);                         // allocate every buffer once
//   g.set_batch(100);                    // any n <= 128, no allocation
//   copy data into g.value(x); g.forward(); g.backward(loss);
//   g.grad(w) now holds dloss/dw
//
// Nodes are added in topological order (an op's inputs exist before it), so
// forward runs in insertion order and backward in reverse. Where a value fans out
// to several consumers, each consumer adds its gradient into the value's
// gradient buffer in reverse insertion order: a fixed order, hence deterministic.
//
// Parameters live in a ParameterStore (one arena of values, one of gradients).
// Inside a Model the model owns the store and attaches it; a graph used on its
// own makes a heap store of its own the first time its parameters are touched.
#pragma once

#include "dtrain/graph/op.hpp"
#include "dtrain/graph/parameter_store.hpp"
#include "dtrain/tensor.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dtrain::graph {

// Told about progress during backward: the gradient reducer starts the
// all-reduce of a bucket as soon as its parameters' gradients are final, and
// polls MPI between ops. The graph itself knows nothing about MPI.
class BackwardObserver {
 public:
  virtual ~BackwardObserver() = default;
  // The gradient of trainable parameter `index` (into parameters()) is final
  // for this step. Called once per trainable parameter per backward.
  virtual void parameter_ready(std::size_t index) = 0;
  // The first `elements` elements of that gradient are already final (an op
  // finishing it in chunks, see GradientProgress); parameter_ready follows.
  virtual void parameter_prefix_ready(std::size_t /*index*/, std::int64_t /*elements*/) {}
  // Called after each op's backward: a cheap point to make progress.
  virtual void after_op() {}
};

template <class T>
class Graph {
 public:
  Graph();
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;

  // A value fed from outside each step (dimension 0 is usually kBatch).
  NodeId input(const std::string& name, const Shape& shape, bool requires_grad = false);
  // A named parameter with a fixed shape; trainable ones get gradients.
  NodeId parameter(const std::string& name, const Shape& shape, bool trainable = true);
  // Adds an op node; checks shapes now (throws ShapeError naming op and shapes).
  NodeId add(std::unique_ptr<Op<T>> op, std::vector<NodeId> inputs);

  std::size_t size() const;
  const Shape& shape(NodeId id) const;  // symbolic shape (dimension 0 may be kBatch)
  std::string node_name(NodeId id) const;
  bool requires_grad(NodeId id) const;

  // Allocates every buffer for batches of up to max_batch rows and sets the batch
  // to max_batch. Without an attached store, makes a heap store of its own.
  void plan(std::int64_t max_batch);
  // Switches to a batch of n <= max_batch rows without allocating.
  void set_batch(std::int64_t n);
  std::int64_t batch() const;

  View<T> value(NodeId id);
  View<T> grad(NodeId id);  // empty view if the node needs no gradient

  // Runs every op in order; with `last`, only the nodes up to it (prediction
  // without the loss).
  void forward(bool training = true, NodeId last = -1);
  // Zeroes every gradient, seeds d(output)/d(output) = 1 and propagates back.
  void backward(NodeId output, BackwardObserver* observer = nullptr);
  // The step counter given to ops (dropout masks); forward does not advance it.
  void set_step(std::uint64_t step);
  // Where this rank's rows start in the global batch (data parallelism): ops
  // drawing per-sample randomness index it globally.
  void set_row_offset(std::int64_t offset);

  // The layout: each parameter's name, shape and offset, in the order added.
  const std::vector<ParameterInfo>& parameters() const;
  // Reads and writes parameters in `store` from now on (it must have this
  // graph's layout; ArgumentError if not). The store must outlive the graph or
  // the next attach. Views of parameters taken before are stale afterwards.
  void attach_parameters(ParameterStore<T>& store);
  // The store in use (a heap store of the graph's own if none was attached).
  ParameterStore<T>& parameter_store();
  std::span<T> parameter_values();
  std::span<T> parameter_grads();
  View<T> parameter_value(std::size_t index);
  View<T> parameter_grad(std::size_t index);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

extern template class Graph<float>;
extern template class Graph<double>;

}  // namespace dtrain::graph
