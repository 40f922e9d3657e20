#include "network.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/core/random.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/initializers.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

namespace dtrain::model {

Network::Network(std::vector<std::shared_ptr<const layers::LayerNode>> nodes, std::uint64_t seed)
    : nodes_(std::move(nodes)), seed_(seed) {}

void Network::build(const losses::LossConfig* loss) {
  std::vector<float> old_weights;
  if (store_) old_weights.assign(store_->values().begin(), store_->values().end());
  graph::Graph<float> fresh;
  std::map<const layers::LayerNode*, graph::NodeId> ids;
  std::map<const layers::Layer*, std::vector<graph::NodeId>> params;
  std::vector<const layers::ParamSpec*> specs;
  for (const auto& node : nodes_) {
    const auto& layer = node->layer;
    auto [it, first] = params.try_emplace(layer.get());
    if (first) {
      for (const auto& spec : layer->params()) {
        it->second.push_back(fresh.parameter(layer->name() + "/" + spec.name, spec.shape, spec.trainable));
        specs.push_back(&spec);
      }
    }
    std::vector<graph::NodeId> in;
    for (const auto& x : node->inputs) in.push_back(ids.at(x.node().get()));
    layers::CallContext<float> ctx{fresh, it->second, seed_for(seed_, layer->name())};
    ids[node.get()] = layer->call(ctx, in);
  }
  input_ = ids.at(nodes_.front().get());
  output_ = ids.at(nodes_.back().get());
  y_true_ = loss_sum_ = per_sample_loss_ = -1;
  if (loss) {
    y_true_ = fresh.input("y_true", losses::y_true_shape(*loss, fresh.shape(output_)));
    per_sample_loss_ = losses::per_sample_loss(fresh, output_, y_true_, *loss);
    loss_sum_ = graph::sum(fresh, per_sample_loss_);
    loss_ = *loss;
  }
  graph_ = std::move(fresh);
  specs_ = std::move(specs);
  planned_ = 0;
  store_ = std::make_unique<graph::ParameterStore<float>>(graph_.parameters());
  graph_.attach_parameters(*store_);
  if (old_weights.empty()) {
    initialize_weights();
  } else {
    std::copy(old_weights.begin(), old_weights.end(), store_->values().begin());
  }
  collect_trainable();
}

void Network::rehome(std::shared_ptr<graph::ParameterMemory<float>> memory) {
  auto fresh = std::make_unique<graph::ParameterStore<float>>(store_->parameters(), std::move(memory));
  std::copy(store_->values().begin(), store_->values().end(), fresh->values().begin());
  graph_.attach_parameters(*fresh);
  store_ = std::move(fresh);
  collect_trainable();
}

void Network::collect_trainable() {
  trainable_.clear();
  const auto& ps = store_->parameters();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (!ps[i].trainable) continue;
    auto v = store_->value(i);
    auto g = store_->grad(i);
    trainable_.push_back({ps[i].name, std::span<float>(v.data, static_cast<std::size_t>(v.size())),
                          std::span<const float>(g.data, static_cast<std::size_t>(g.size()))});
  }
}

void Network::initialize_weights() {
  const auto& ps = store_->parameters();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    initializers::fill(specs_[i]->init, store_->value(i), seed_for(seed_, ps[i].name));
  }
}

void Network::plan(std::int64_t batch) {
  if (batch > planned_) {
    graph_.plan(batch);
    planned_ = batch;
  }
}

namespace {

// Equal shapes, or differing by a trailing axis of 1 ([b] vs [b, 1]) as the losses
// accept. No allocation: this runs every step.
bool labels_fit(const Shape& expected, const Shape& given) {
  if (expected == given) return true;
  const Shape& longer = expected.rank() > given.rank() ? expected : given;
  const Shape& shorter = expected.rank() > given.rank() ? given : expected;
  if (longer.rank() != shorter.rank() + 1 || longer[longer.rank() - 1] != 1) return false;
  for (int i = 0; i < shorter.rank(); ++i) {
    if (longer[i] != shorter[i]) return false;
  }
  return true;
}

}  // namespace

void Network::load_batch(const Batch& b) {
  graph_.set_batch(b.size);
  auto x = graph_.value(input_);
  if (x.size() != b.x.size()) {
    throw ShapeError("model: samples of shape " + b.x.shape.str() + " do not fit the model input " +
                     graph_.shape(input_).str());
  }
  std::memcpy(x.data, b.x.data, static_cast<std::size_t>(x.size()) * sizeof(float));
  if (y_true_ >= 0) {
    auto y = graph_.value(y_true_);
    if (!labels_fit(y.shape, b.y.shape)) {
      losses::check_label_shape(loss_, graph_.value(output_).shape, b.y.shape);  // throws, naming both
      throw ShapeError("model: labels of shape " + b.y.shape.str() + " do not fit the loss '" + loss_.name +
                       "', which expects " + y.shape.str());
    }
    std::memcpy(y.data, b.y.data, static_cast<std::size_t>(y.size()) * sizeof(float));
  }
}

double Network::apply_regularizers() {
  double penalty = 0;
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const auto* s = specs_[i];
    if ((s->l1 == 0 && s->l2 == 0) || !s->trainable) continue;
    auto w = store_->value(i);
    auto gr = store_->grad(i);
    for (std::int64_t k = 0; k < w.size(); ++k) {
      const float v = w.data[k];
      penalty += s->l1 * std::abs(v) + s->l2 * v * v;
      gr.data[k] += static_cast<float>(s->l1 * ((v > 0) - (v < 0)) + 2 * s->l2 * v);
    }
  }
  return penalty;
}

}  // namespace dtrain::model
