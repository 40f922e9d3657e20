#include "dtrain/layers/normalization.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"

namespace dtrain::layers {

BatchNormalizationLayer::BatchNormalizationLayer(BatchNormalizationOptions o) : LayerBase(o.name), o_(std::move(o)) {
  if (!(o_.momentum >= 0 && o_.momentum < 1)) throw ArgumentError(what() + ": momentum must be in [0, 1)");
  if (!(o_.epsilon > 0)) throw ArgumentError(what() + ": epsilon must be positive");
}

Shape BatchNormalizationLayer::do_build(std::span<const Shape> in) {
  expect_inputs(in, 1);
  if (in[0].rank() < 2) shape_error(in, "expects [batch, ..., features]");
  const Shape c{in[0][in[0].rank() - 1]};
  // Without scale/center, gamma/beta stay fixed at 1/0 (not trainable).
  declare("gamma", c, initializers::parse("ones"), o_.scale);
  declare("beta", c, initializers::parse("zeros"), o_.center);
  declare("moving_mean", c, initializers::parse("zeros"), false);
  declare("moving_variance", c, initializers::parse("ones"), false);
  return in[0];
}

template <class T>
graph::NodeId BatchNormalizationLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  return graph::batch_norm(c.g, in[0], c.params[0], c.params[1], c.params[2], c.params[3], o_.momentum, o_.epsilon);
}

Config BatchNormalizationLayer::config() const {
  Config c;
  c.set("name", name()).set("momentum", o_.momentum).set("epsilon", o_.epsilon);
  c.set("center", o_.center).set("scale", o_.scale);
  return c;
}

LayerHandle BatchNormalization(BatchNormalizationOptions o) {
  return LayerHandle(std::make_shared<BatchNormalizationLayer>(std::move(o)));
}

template graph::NodeId BatchNormalizationLayer::call_t<float>(CallContext<float>&, std::span<const graph::NodeId>) const;
template graph::NodeId BatchNormalizationLayer::call_t<double>(CallContext<double>&,
                                                               std::span<const graph::NodeId>) const;

}  // namespace dtrain::layers
