// The model and optimizer configs as JSON text, for checkpoints (and the
// model's checks across ranks). Internal to model/: the format stays at the
// edge, core classes know nothing of JSON.
#pragma once

#include "dtrain/losses.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/options.hpp"

#include <string>
#include <vector>

namespace dtrain::model {

struct ModelDescription {
  std::string name;
  std::vector<LayerRecord> layers;
  losses::LossConfig loss;
  std::vector<std::string> metrics;
};

std::string model_to_json(const ModelDescription& d);
// The description of a compiled model (its layers, loss and metrics).
ModelDescription describe(const Model& model);
ModelDescription model_from_json(const std::string& text, const std::string& source);

std::string optimizer_to_json(const optimizers::OptimizerConfig& c);
optimizers::OptimizerConfig optimizer_from_json(const std::string& text, const std::string& source);

std::string config_to_json(const Config& c);
Config config_from_json(const std::string& text, const std::string& source);

}  // namespace dtrain::model
