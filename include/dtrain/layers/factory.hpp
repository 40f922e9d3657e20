// Layers by their Keras class names: one explicit name → factory table, used by
// YAML run configs and by checkpoints (the model config stored as JSON).
//
//   auto dense = layers::make_layer("Dense", Config().set("units", 10));
//   auto same = layers::make_layer(dense->type(), dense->config());   // round trip
#pragma once

#include "dtrain/core/config.hpp"
#include "dtrain/layers/layer.hpp"

#include <memory>
#include <string>
#include <vector>

namespace dtrain::layers {

// Throws ArgumentError for an unknown type (listing the valid ones) or an
// unknown/bad argument (naming it).
std::shared_ptr<Layer> make_layer(const std::string& type, const Config& config);
std::vector<std::string> layer_types();

// Keras' default name stem of a layer type: "Dense" -> "dense",
// "MaxPooling2D" -> "max_pooling2d" (the model adds "_1", "_2", ... to repeats).
std::string default_layer_name(const std::string& type);

}  // namespace dtrain::layers
