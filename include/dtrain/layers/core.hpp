// Core layers: Dense, Activation, Flatten, Reshape, Dropout (Keras layers/core,
// layers/reshaping, layers/regularization). Classes are <Name>Layer; the
// functions with the Keras names return handles for the functional API.
//
//   auto h = layers::Dense({.units = 256, .activation = "relu"})(x);
//   h = layers::Dropout({.rate = 0.2})(h);
#pragma once

#include "dtrain/layers/layer.hpp"

namespace dtrain::layers {

struct DenseOptions {
  std::int64_t units = 0;
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  double kernel_l1 = 0.0;  // kernel_regularizer l1
  double kernel_l2 = 0.0;  // kernel_regularizer l2
  std::string name;
};

// y = activation(x · kernel + bias) over the last axis, as Keras: x [batch, in] ->
// [batch, units], x [batch, time, in] -> [batch, time, units] (any rank >= 2; the
// leading axes are rows of one GEMM, no copy).
class DenseLayer final : public LayerBase<DenseLayer> {
 public:
  explicit DenseLayer(DenseOptions o);
  std::string type() const override { return "Dense"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  DenseOptions o_;
};

class ActivationLayer final : public LayerBase<ActivationLayer> {
 public:
  explicit ActivationLayer(std::string activation, std::string name = "");
  std::string type() const override { return "Activation"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  std::string activation_;
};

class FlattenLayer final : public LayerBase<FlattenLayer> {
 public:
  explicit FlattenLayer(std::string name = "") : LayerBase(std::move(name)) {}
  std::string type() const override { return "Flatten"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;
};

// target_shape excludes the batch dimension; one entry may be -1.
class ReshapeLayer final : public LayerBase<ReshapeLayer> {
 public:
  explicit ReshapeLayer(std::vector<std::int64_t> target_shape, std::string name = "");
  std::string type() const override { return "Reshape"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  std::vector<std::int64_t> target_;
};

struct DropoutOptions {
  double rate = 0.5;
  std::int64_t seed = -1;  // -1: derived from the model seed and the layer name
  std::string name;
};

class DropoutLayer final : public LayerBase<DropoutLayer> {
 public:
  explicit DropoutLayer(DropoutOptions o);
  std::string type() const override { return "Dropout"; }
  Config config() const override;
  std::int64_t seed() const { return o_.seed; }
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  DropoutOptions o_;
};

// The model's input (made by layers::Input).
class InputLayer final : public LayerBase<InputLayer> {
 public:
  InputLayer(std::vector<std::int64_t> shape, std::string name);
  std::string type() const override { return "InputLayer"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  std::vector<std::int64_t> shape_;
};

// Keras-style constructors: a handle that can be applied to symbolic tensors.
LayerHandle Dense(DenseOptions o);
LayerHandle Activation(const std::string& activation, const std::string& name = "");
LayerHandle Flatten(const std::string& name = "");
LayerHandle Reshape(std::vector<std::int64_t> target_shape, const std::string& name = "");
LayerHandle Dropout(DropoutOptions o);

}  // namespace dtrain::layers
