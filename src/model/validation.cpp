#include "dtrain/model/validation.hpp"

#include "dtrain/layers/factory.hpp"
#include "dtrain/metrics.hpp"
#include "dtrain/optimizers/factory.hpp"

namespace dtrain {

std::vector<std::string> layer_types() { return layers::layer_types(); }
std::string default_layer_name(const std::string& type) { return layers::default_layer_name(type); }
void check_layer(const LayerRecord& record) { layers::make_layer(record.type, record.config); }
void check_optimizer(const optimizers::OptimizerConfig& config) { optimizers::make_optimizer<float>(config); }
void check_metric(const std::string& name, const losses::LossConfig& loss) { metrics::make_metric(name, loss); }

}  // namespace dtrain
