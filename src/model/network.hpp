// Network (internal to model/): a model's layers built into a graph, and the
// parameter store that graph reads. The Model owns one; the Trainer and the
// DataParallelStep work on it. The only place a store is made or replaced
// (docs/design/parameter-store.md).
#pragma once

#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/parameter_store.hpp"
#include "dtrain/layers/layer.hpp"
#include "dtrain/losses.hpp"
#include "dtrain/model/batch_source.hpp"
#include "dtrain/optimizers/optimizer.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dtrain::model {

class Network {
 public:
  // nodes: the layer graph in topological order, the input first.
  Network(std::vector<std::shared_ptr<const layers::LayerNode>> nodes, std::uint64_t seed);

  // (Re)builds the graph from the layers, with the loss when given, keeping
  // the current weights (initialising them on the first build). Heap store.
  void build(const losses::LossConfig* loss);
  // Makes a new store of the same layout in `memory` (nullptr: heap), copies the
  // weights over and points every viewer at it.
  void rehome(std::shared_ptr<graph::ParameterMemory<float>> memory);

  const std::vector<std::shared_ptr<const layers::LayerNode>>& nodes() const { return nodes_; }
  graph::Graph<float>& graph() { return graph_; }
  const graph::Graph<float>& graph() const { return graph_; }
  graph::ParameterStore<float>& store() { return *store_; }
  const std::vector<graph::ParameterInfo>& parameters() const { return store_->parameters(); }
  // The optimizer's view of the trainable parameters (valid until the next
  // build or rehome).
  const std::vector<optimizers::ParamRef<float>>& trainable() const { return trainable_; }

  graph::NodeId input() const { return input_; }
  graph::NodeId output() const { return output_; }
  graph::NodeId y_true() const { return y_true_; }
  graph::NodeId loss_sum() const { return loss_sum_; }  // sum of the per-sample losses
  graph::NodeId per_sample_loss() const { return per_sample_loss_; }  // [batch]

  // Plans the graph for batches of up to `batch` rows (only ever grows).
  void plan(std::int64_t batch);
  // Copies the batch into the graph's input (and labels when built with a loss).
  void load_batch(const Batch& b);
  // Keras adds l1·Σ|w| + l2·Σw² to the loss; here its gradient goes straight
  // into the (already averaged) gradients and the penalty is returned for the logs.
  double apply_regularizers();

 private:
  void initialize_weights();
  void collect_trainable();

  std::vector<std::shared_ptr<const layers::LayerNode>> nodes_;
  std::uint64_t seed_;
  graph::Graph<float> graph_;
  std::unique_ptr<graph::ParameterStore<float>> store_;
  std::vector<const layers::ParamSpec*> specs_;  // parallel to parameters()
  std::vector<optimizers::ParamRef<float>> trainable_;
  graph::NodeId input_ = -1, output_ = -1, y_true_ = -1, loss_sum_ = -1, per_sample_loss_ = -1;
  losses::LossConfig loss_;  // when built with a loss
  std::int64_t planned_ = 0;
};

}  // namespace dtrain::model
