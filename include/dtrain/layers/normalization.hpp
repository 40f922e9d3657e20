// BatchNormalization over the last axis (Keras layers/normalization).
//
//   auto h = layers::BatchNormalization({})(layers::Conv2D({.filters = 32})(x));
//
// Parameters: gamma, beta (trainable), moving_mean, moving_variance (not
// trainable; updated in training steps with `momentum`).
#pragma once

#include "dtrain/layers/layer.hpp"

namespace dtrain::layers {

struct BatchNormalizationOptions {
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool center = true;  // beta
  bool scale = true;   // gamma
  std::string name;
};

class BatchNormalizationLayer final : public LayerBase<BatchNormalizationLayer> {
 public:
  explicit BatchNormalizationLayer(BatchNormalizationOptions o);
  std::string type() const override { return "BatchNormalization"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  BatchNormalizationOptions o_;
};

LayerHandle BatchNormalization(BatchNormalizationOptions o = {});

}  // namespace dtrain::layers
