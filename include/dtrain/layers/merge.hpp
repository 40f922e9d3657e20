// Merging layers: Add (equal shapes) and Concatenate (along an axis).
//
//   auto y = layers::Add()({x, layers::Dense({.units = 64})(x)});   // a residual
//   auto z = layers::Concatenate()({a, b});
#pragma once

#include "dtrain/layers/layer.hpp"

namespace dtrain::layers {

class AddLayer final : public LayerBase<AddLayer> {
 public:
  explicit AddLayer(std::string name = "") : LayerBase(std::move(name)) {}
  std::string type() const override { return "Add"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;
};

class ConcatenateLayer final : public LayerBase<ConcatenateLayer> {
 public:
  explicit ConcatenateLayer(int axis = -1, std::string name = "") : LayerBase(std::move(name)), axis_(axis) {}
  std::string type() const override { return "Concatenate"; }
  Config config() const override;
  template <class T>
  graph::NodeId call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const;

 protected:
  Shape do_build(std::span<const Shape> in) override;

 private:
  int axis_;
};

LayerHandle Add(const std::string& name = "");
LayerHandle Concatenate(int axis = -1, const std::string& name = "");

}  // namespace dtrain::layers
