// Checks of a model's parts by their Keras names and arguments, before anything
// is built: what a config reader calls so that an error names the line it came
// from. Each throws ArgumentError saying what is wrong.
//
//   check_layer({"Dense", units_and_activation, {"input"}});
//   check_optimizer({"adam", {{"learning_rate", 1e-3}}});
//   check_metric("accuracy", losses::parse_loss("sparse_categorical_crossentropy"));
#pragma once

#include "dtrain/losses.hpp"
#include "dtrain/model.hpp"

#include <string>
#include <vector>

namespace dtrain {

// The layer types a LayerRecord may name (Keras class names), InputLayer included.
std::vector<std::string> layer_types();
// The name Keras gives the first layer of a type ("dense", "conv2d").
std::string default_layer_name(const std::string& type);
// The type is known and every argument valid for it.
void check_layer(const LayerRecord& record);
// The name is a known optimizer and every option (and schedule) valid.
void check_optimizer(const optimizers::OptimizerConfig& config);
// The metric exists and suits the loss.
void check_metric(const std::string& name, const losses::LossConfig& loss);

}  // namespace dtrain
