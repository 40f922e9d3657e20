#include "dtrain/activations.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"

#include <algorithm>

namespace dtrain {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> kNames = {
      "linear", "relu",     "leaky_relu", "elu",     "gelu",       "gelu_approximate", "silu",
      "swish",  "sigmoid",  "tanh",       "softplus", "softmax",   "log_softmax"};
  return kNames;
}

void check_activation(const std::string& name, const std::string& owner) {
  const auto& all = activation_names();
  if (std::find(all.begin(), all.end(), name) != all.end()) return;
  std::string list;
  for (const auto& n : all) list += (list.empty() ? "" : ", ") + n;
  throw ArgumentError(owner + ": unknown activation '" + name + "' (valid: " + list + ")");
}

template <class T>
graph::NodeId apply_activation(graph::Graph<T>& g, graph::NodeId x, const std::string& name) {
  if (name == "linear") return x;
  if (name == "relu") return graph::relu(g, x);
  if (name == "leaky_relu") return graph::leaky_relu(g, x);
  if (name == "elu") return graph::elu(g, x);
  if (name == "gelu") return graph::gelu(g, x, /*approximate=*/false);
  if (name == "gelu_approximate") return graph::gelu(g, x, /*approximate=*/true);
  if (name == "silu" || name == "swish") return graph::silu(g, x);
  if (name == "sigmoid") return graph::sigmoid(g, x);
  if (name == "tanh") return graph::tanh(g, x);
  if (name == "softplus") return graph::softplus(g, x);
  if (name == "softmax") return graph::softmax(g, x);
  if (name == "log_softmax") return graph::log_softmax(g, x);
  check_activation(name, "activation");
  return x;
}

template <class T>
graph::NodeId apply_bias_activation(graph::Graph<T>& g, graph::NodeId x, graph::NodeId bias, const std::string& name) {
  if (bias < 0) return apply_activation(g, x, name);
  if (name == "relu") return graph::bias_relu(g, x, bias);
  return apply_activation(g, graph::bias_add(g, x, bias), name);
}

template graph::NodeId apply_activation<float>(graph::Graph<float>&, graph::NodeId, const std::string&);
template graph::NodeId apply_activation<double>(graph::Graph<double>&, graph::NodeId, const std::string&);
template graph::NodeId apply_bias_activation<float>(graph::Graph<float>&, graph::NodeId, graph::NodeId,
                                                    const std::string&);
template graph::NodeId apply_bias_activation<double>(graph::Graph<double>&, graph::NodeId, graph::NodeId,
                                                     const std::string&);

}  // namespace dtrain
