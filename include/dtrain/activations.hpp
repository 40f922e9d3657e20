// Activations by their Keras names, applied as graph ops.
//
//   check_activation("relu", "Dense 'dense'");          // throws for unknown names
//   auto y = apply_activation(g, x, "gelu");
//   auto h = apply_bias_activation(g, matmul(g, x, w), b, "relu");   // bias_relu
//
// Names (keras.activations, Keras 3): linear, relu, leaky_relu (alpha 0.2),
// elu (alpha 1), gelu, gelu_approximate, silu (alias swish), sigmoid, tanh,
// softplus, softmax and log_softmax (both over the last axis).
//
// gelu is keras.activations.gelu(x, approximate=False), the exact erf form and
// what the string "gelu" means in Keras. Keras has no string for
// approximate=True (the tanh form of BERT and GPT-2); dtrain names it
// "gelu_approximate", the name under which KerasHub (formerly KerasNLP) registers
// the same function, gelu(x, approximate=True), in its utils/keras_utils.py and
// uses for GPT-2. Formulas in graph/ops.hpp.
#pragma once

#include "dtrain/graph/graph.hpp"

#include <string>
#include <vector>

namespace dtrain {

const std::vector<std::string>& activation_names();
// Throws ArgumentError("<owner>: unknown activation 'x' (valid: ...)").
void check_activation(const std::string& name, const std::string& owner);

template <class T>
graph::NodeId apply_activation(graph::Graph<T>& g, graph::NodeId x, const std::string& name);
// A layer's bias (bias < 0: none) and activation: bias + relu is one fused op.
template <class T>
graph::NodeId apply_bias_activation(graph::Graph<T>& g, graph::NodeId x, graph::NodeId bias,
                                    const std::string& name);

}  // namespace dtrain
