#include "dtrain/layers/merge.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"

namespace dtrain::layers {

Shape AddLayer::do_build(std::span<const Shape> in) {
  if (in.size() < 2) shape_error(in, "expects at least 2 inputs");
  for (const auto& s : in) {
    if (!(s == in[0])) shape_error(in, "all inputs must have the same shape");
  }
  return in[0];
}

template <class T>
graph::NodeId AddLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  auto y = graph::add(c.g, in[0], in[1]);
  for (std::size_t i = 2; i < in.size(); ++i) y = graph::add(c.g, y, in[i]);
  return y;
}

Config AddLayer::config() const { return Config().set("name", name()); }

Shape ConcatenateLayer::do_build(std::span<const Shape> in) {
  if (in.size() < 2) shape_error(in, "expects at least 2 inputs");
  graph::Graph<float> probe;  // the op's shape rules decide
  std::vector<graph::NodeId> ids;
  for (const auto& s : in) ids.push_back(probe.input("x", s));
  try {
    return probe.shape(graph::concat(probe, ids, axis_));
  } catch (const ShapeError& e) {
    shape_error(in, e.what());
  }
}

template <class T>
graph::NodeId ConcatenateLayer::call_t(CallContext<T>& c, std::span<const graph::NodeId> in) const {
  return graph::concat(c.g, std::vector<graph::NodeId>(in.begin(), in.end()), axis_);
}

Config ConcatenateLayer::config() const { return Config().set("name", name()).set("axis", axis_); }

LayerHandle Add(const std::string& name) { return LayerHandle(std::make_shared<AddLayer>(name)); }
LayerHandle Concatenate(int axis, const std::string& name) {
  return LayerHandle(std::make_shared<ConcatenateLayer>(axis, name));
}

template graph::NodeId AddLayer::call_t<float>(CallContext<float>&, std::span<const graph::NodeId>) const;
template graph::NodeId AddLayer::call_t<double>(CallContext<double>&, std::span<const graph::NodeId>) const;
template graph::NodeId ConcatenateLayer::call_t<float>(CallContext<float>&, std::span<const graph::NodeId>) const;
template graph::NodeId ConcatenateLayer::call_t<double>(CallContext<double>&, std::span<const graph::NodeId>) const;

}  // namespace dtrain::layers
