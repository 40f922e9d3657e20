// The model and optimizer configs as JSON text, for checkpoints (and the
// model's checks across ranks).
#pragma once

#include "dtrain/losses.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/options.hpp"

#include <string>
#include <vector>

namespace dtrain::cli {

struct ModelDescription {
  std::string name;
  std::vector<LayerRecord> layers;
  losses::LossConfig loss;
  std::vector<std::string> metrics;
};

std::string model_to_json(const ModelDescription& d);
ModelDescription model_from_json(const std::string& text, const std::string& source);

std::string optimizer_to_json(const optimizers::OptimizerConfig& c);
optimizers::OptimizerConfig optimizer_from_json(const std::string& text, const std::string& source);

std::string config_to_json(const Config& c);
Config config_from_json(const std::string& text, const std::string& source);

}  // namespace dtrain::cli
