// Layer: owns named parameters (declared in build) and adds ops to a graph (call).
// SymbolicTensor + LayerHandle give the Keras functional API:
//
//   auto x = layers::Input({28, 28, 1});
//   auto h = layers::Conv2D({.filters = 32, .kernel_size = {3, 3}, .activation = "relu"})(x);
//   h = layers::Flatten()(layers::MaxPooling2D({})(h));
//   auto y = layers::Dense({.units = 10})(h);
//   Model model(x, y);
//
// Shapes exclude nothing: dimension 0 is the batch (graph::kBatch while building).
// A layer applied twice shares its parameters (built once).
#pragma once

#include "dtrain/core/config.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/initializers.hpp"
#include "dtrain/tensor.hpp"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dtrain::layers {

struct ParamSpec {
  std::string name;  // local name: "kernel", "bias", "gamma", "moving_mean"...
  Shape shape;
  initializers::Initializer init;
  bool trainable = true;
  double l1 = 0.0, l2 = 0.0;  // regularisation penalty l1·Σ|w| + l2·Σw² (Keras)
};

// What call() gets: the graph, the graph node of each declared parameter (in
// declaration order) and the layer's seed (dropout).
template <class T>
struct CallContext {
  graph::Graph<T>& g;
  std::span<const graph::NodeId> params;
  std::uint64_t seed = 0;
};

class Layer {
 public:
  explicit Layer(std::string name = "") : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  virtual std::string type() const = 0;  // Keras class name: "Dense", "Conv2D", ...
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // "Dense 'dense_1'": how errors name this layer.
  std::string what() const { return type() + " '" + (name_.empty() ? std::string("unnamed") : name_) + "'"; }

  // Checks the input shapes, declares the parameters and returns the output
  // shape. Throws ShapeError naming the layer and the shapes.
  Shape build(std::span<const Shape> inputs);
  bool built() const { return built_; }
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  const Shape& output_shape() const { return output_shape_; }
  const std::vector<ParamSpec>& params() const { return params_; }
  std::int64_t param_count() const;

  virtual graph::NodeId call(CallContext<float>& c, std::span<const graph::NodeId> in) const = 0;
  virtual graph::NodeId call(CallContext<double>& c, std::span<const graph::NodeId> in) const = 0;

  // The arguments that rebuild this layer through make_layer(type(), config()).
  virtual Config config() const = 0;

 protected:
  virtual Shape do_build(std::span<const Shape> inputs) = 0;
  void declare(const std::string& name, const Shape& shape, const initializers::Initializer& init,
               bool trainable = true, double l1 = 0.0, double l2 = 0.0);
  [[noreturn]] void shape_error(std::span<const Shape> inputs, const std::string& detail) const;
  void expect_inputs(std::span<const Shape> inputs, std::size_t n) const;

 private:
  std::string name_;
  bool built_ = false;
  std::vector<Shape> input_shapes_;
  Shape output_shape_;
  std::vector<ParamSpec> params_;
};

// Implements both call() overloads with one template `call_t<T>` of Derived.
template <class Derived>
class LayerBase : public Layer {
 public:
  using Layer::Layer;
  graph::NodeId call(CallContext<float>& c, std::span<const graph::NodeId> in) const final {
    return static_cast<const Derived*>(this)->call_t(c, in);
  }
  graph::NodeId call(CallContext<double>& c, std::span<const graph::NodeId> in) const final {
    return static_cast<const Derived*>(this)->call_t(c, in);
  }
};

// ---- functional API -----------------------------------------------------------

struct LayerNode;

// The output of a layer applied to inputs, while a model is being described.
class SymbolicTensor {
 public:
  SymbolicTensor() = default;
  explicit SymbolicTensor(std::shared_ptr<const LayerNode> node) : node_(std::move(node)) {}
  const Shape& shape() const;
  const std::shared_ptr<const LayerNode>& node() const { return node_; }

 private:
  std::shared_ptr<const LayerNode> node_;
};

struct LayerNode {
  std::shared_ptr<Layer> layer;
  std::vector<SymbolicTensor> inputs;
  Shape shape;
};

class LayerHandle {
 public:
  explicit LayerHandle(std::shared_ptr<Layer> layer) : layer_(std::move(layer)) {}
  SymbolicTensor operator()(const SymbolicTensor& x) const { return (*this)(std::vector<SymbolicTensor>{x}); }
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& xs) const;
  Layer& operator*() const { return *layer_; }
  Layer* operator->() const { return layer_.get(); }
  const std::shared_ptr<Layer>& get() const { return layer_; }

 private:
  std::shared_ptr<Layer> layer_;
};

// The model's entry point: shape without the batch dimension, as Keras' Input.
SymbolicTensor Input(const std::vector<std::int64_t>& shape, const std::string& name = "");

}  // namespace dtrain::layers
