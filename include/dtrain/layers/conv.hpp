// Convolution and pooling layers, NHWC (Keras layers/convolutional, layers/pooling).
//
//   auto h = layers::Conv2D({.filters = 32, .kernel_size = {3, 3}, .activation = "relu"})(x);
//   h = layers::MaxPooling2D({.pool_size = {2, 2}})(h);
//   h = layers::GlobalAveragePooling2D()(h);
#pragma once

#include "dtrain/layers/layer.hpp"

#include <array>

namespace dtrain::layers {

struct Conv2DOptions {
  std::int64_t filters = 0;
  std::array<std::int64_t, 2> kernel_size{3, 3};
  std::array<std::int64_t, 2> strides{1, 1};
  std::string padding = "valid";  // "valid" | "same"
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  double kernel_l1 = 0.0, kernel_l2 = 0.0;
  std::string name;
};

// kernel [kh, kw, cin, filters], bias [filters]
class Conv2DLayer final : public LayerBase<Conv2DLayer> {
 public:
  explicit Conv2DLayer(Conv2DOptions o);
  std::string type() const override { return "Conv2D"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  Conv2DOptions o_;
};

struct Pooling2DOptions {
  std::array<std::int64_t, 2> pool_size{2, 2};
  std::array<std::int64_t, 2> strides{0, 0};  // 0: equal to pool_size (Keras strides=None)
  std::string padding = "valid";
  std::string name;
};

class Pooling2DLayer final : public LayerBase<Pooling2DLayer> {
 public:
  Pooling2DLayer(Pooling2DOptions o, bool max);
  std::string type() const override { return max_ ? "MaxPooling2D" : "AveragePooling2D"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  Pooling2DOptions o_;
  bool max_;
};

// [b, h, w, c] -> [b, c]: the mean over h and w.
class GlobalAveragePooling2DLayer final : public LayerBase<GlobalAveragePooling2DLayer> {
 public:
  explicit GlobalAveragePooling2DLayer(std::string name = "") : LayerBase(std::move(name)) {}
  std::string type() const override { return "GlobalAveragePooling2D"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;
};

LayerHandle Conv2D(Conv2DOptions o);
LayerHandle MaxPooling2D(Pooling2DOptions o = {});
LayerHandle AveragePooling2D(Pooling2DOptions o = {});
LayerHandle GlobalAveragePooling2D(const std::string& name = "");

}  // namespace dtrain::layers
