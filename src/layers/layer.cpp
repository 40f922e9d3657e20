#include "dtrain/layers/layer.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/layers/core.hpp"

#include <sstream>

namespace dtrain::layers {

Shape Layer::build(std::span<const Shape> inputs) {
  if (built_) {
    // A shared layer: its weights were made for the shapes of its first call.
    bool same = inputs.size() == input_shapes_.size();
    for (std::size_t i = 0; same && i < inputs.size(); ++i) same = inputs[i] == input_shapes_[i];
    if (!same) shape_error(inputs, "a layer applied twice must see the same input shapes");
    return output_shape_;
  }
  params_.clear();
  output_shape_ = do_build(inputs);
  input_shapes_.assign(inputs.begin(), inputs.end());
  built_ = true;
  return output_shape_;
}

std::int64_t Layer::param_count() const {
  std::int64_t n = 0;
  for (const auto& p : params_) n += p.shape.numel();
  return n;
}

void Layer::declare(const std::string& name, const Shape& shape, const initializers::Initializer& init,
                    bool trainable, double l1, double l2) {
  params_.push_back(ParamSpec{name, shape, init, trainable, l1, l2});
}

void Layer::shape_error(std::span<const Shape> inputs, const std::string& detail) const {
  std::ostringstream msg;
  msg << what() << ": " << detail << " (input shapes";
  for (std::size_t i = 0; i < inputs.size(); ++i) msg << (i ? ", " : " ") << inputs[i].str();
  msg << ')';
  throw ShapeError(msg.str());
}

void Layer::expect_inputs(std::span<const Shape> inputs, std::size_t n) const {
  if (inputs.size() != n) shape_error(inputs, "expects " + std::to_string(n) + " input(s)");
}

const Shape& SymbolicTensor::shape() const {
  if (!node_) throw ArgumentError("an empty SymbolicTensor has no shape (was it made by Input or a layer?)");
  return node_->shape;
}

SymbolicTensor LayerHandle::operator()(const std::vector<SymbolicTensor>& xs) const {
  std::vector<Shape> shapes;
  for (const auto& x : xs) shapes.push_back(x.shape());
  auto node = std::make_shared<LayerNode>();
  node->layer = layer_;
  node->inputs = xs;
  node->shape = layer_->build(shapes);
  return SymbolicTensor(std::move(node));
}

SymbolicTensor Input(const std::vector<std::int64_t>& shape, const std::string& name) {
  auto layer = std::make_shared<InputLayer>(shape, name);
  auto node = std::make_shared<LayerNode>();
  node->layer = layer;
  node->shape = layer->build({});
  return SymbolicTensor(std::move(node));
}

}  // namespace dtrain::layers
