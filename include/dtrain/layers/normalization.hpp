// Normalization layers over the last axis (Keras layers/normalization):
// BatchNormalization, LayerNormalization, RMSNormalization.
//
//   auto h = layers::BatchNormalization({})(layers::Conv2D({.filters = 32})(x));
//   auto t = layers::LayerNormalization({})(layers::Dense({.units = 64})(h2));
//   auto r = layers::RMSNormalization({.epsilon = 1e-5})(t);
//
// BatchNormalization parameters: gamma, beta (trainable), moving_mean,
// moving_variance (not trainable; updated in training steps with `momentum`).
// LayerNormalization: gamma (if scale), beta (if center), both trainable; none
// when off, as Keras. RMSNormalization: scale. Layer and RMS normalization work
// per sample, so they behave the same in training and inference.
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

// Keras 3 LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True,
// beta_initializer="zeros", gamma_initializer="ones"). Only the last axis is
// supported: axis -1, or its positive index (rank - 1, the batch axis counted).
//   y = gamma * (x - mean) / sqrt(var + epsilon) + beta   over the last axis.
struct LayerNormalizationOptions {
  int axis = -1;
  double epsilon = 1e-3;
  bool center = true;  // beta
  bool scale = true;   // gamma
  std::string beta_initializer = "zeros";
  std::string gamma_initializer = "ones";
  std::string name;
};

class LayerNormalizationLayer final : public LayerBase<LayerNormalizationLayer> {
 public:
  explicit LayerNormalizationLayer(LayerNormalizationOptions o);
  std::string type() const override { return "LayerNormalization"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  LayerNormalizationOptions o_;
};

LayerHandle LayerNormalization(LayerNormalizationOptions o = {});

// Keras 3 RMSNormalization(axis=-1, epsilon=1e-6): weight `scale` (ones).
//   y = x * rsqrt(mean(x²) + epsilon) * scale   over the last axis
// (keras.ops.rms_normalization). Only the last axis, as LayerNormalization.
struct RMSNormalizationOptions {
  int axis = -1;
  double epsilon = 1e-6;
  std::string name;
};

class RMSNormalizationLayer final : public LayerBase<RMSNormalizationLayer> {
 public:
  explicit RMSNormalizationLayer(RMSNormalizationOptions o);
  std::string type() const override { return "RMSNormalization"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  RMSNormalizationOptions o_;
};

LayerHandle RMSNormalization(RMSNormalizationOptions o = {});

}  // namespace dtrain::layers
