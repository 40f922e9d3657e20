#include "config_json.hpp"

#include "dtrain/core/error.hpp"

#include <nlohmann/json.hpp>

namespace dtrain::model {
namespace {

using nlohmann::json;

json value_to_json(const ConfigValue& v) {
  return std::visit([](const auto& x) { return json(x); }, v);
}

ConfigValue value_from_json(const json& j, const std::string& where) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_number_float()) return j.get<double>();
  if (j.is_string()) return j.get<std::string>();
  if (j.is_array()) {
    bool ints = true;
    for (const auto& e : j) ints = ints && e.is_number_integer();
    if (ints) return j.get<std::vector<std::int64_t>>();
    return j.get<std::vector<double>>();
  }
  throw ArgumentError(where + ": unsupported value " + j.dump());
}

json to_json(const Config& c) {
  json out = json::object();
  for (const auto& [k, v] : c.values()) out[k] = value_to_json(v);
  return out;
}

Config from_json(const json& j, const std::string& where) {
  Config c;
  for (const auto& [k, v] : j.items()) c.set(k, value_from_json(v, where + "." + k));
  return c;
}

json parse(const std::string& text, const std::string& source) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw ArgumentError(source + ": invalid JSON: " + e.what());
  }
}

}  // namespace

std::string config_to_json(const Config& c) { return to_json(c).dump(); }
Config config_from_json(const std::string& text, const std::string& source) { return from_json(parse(text, source), source); }

std::string model_to_json(const ModelDescription& d) {
  json layers = json::array();
  for (const auto& r : d.layers) layers.push_back({{"type", r.type}, {"config", to_json(r.config)}, {"inbound", r.inbound}});
  json loss = {{"name", d.loss.name},
               {"from_logits", d.loss.from_logits},
               {"label_smoothing", d.loss.label_smoothing},
               {"delta", d.loss.delta}};
  return json{{"name", d.name}, {"layers", layers}, {"loss", loss}, {"metrics", d.metrics}}.dump();
}

ModelDescription describe(const Model& model) {
  return {model.name(), model.records(), model.loss(), model.metric_names()};
}

ModelDescription model_from_json(const std::string& text, const std::string& source) {
  const auto j = parse(text, source);
  ModelDescription d;
  try {
    d.name = j.at("name").get<std::string>();
    for (const auto& l : j.at("layers")) {
      d.layers.push_back({l.at("type").get<std::string>(), from_json(l.at("config"), source),
                          l.at("inbound").get<std::vector<std::string>>()});
    }
    const auto& loss = j.at("loss");
    d.loss.name = loss.at("name").get<std::string>();
    d.loss.from_logits = loss.at("from_logits").get<bool>();
    d.loss.label_smoothing = loss.at("label_smoothing").get<double>();
    d.loss.delta = loss.at("delta").get<double>();
    d.metrics = j.at("metrics").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    throw ArgumentError(source + ": the model config is incomplete: " + e.what());
  }
  return d;
}

namespace {
json options_to_json(const optimizers::Options& o) {
  json out = json::object();
  for (const auto& [k, v] : o) out[k] = std::visit([](const auto& x) { return json(x); }, v);
  return out;
}
optimizers::Options options_from_json(const json& j) {
  optimizers::Options o;
  for (const auto& [k, v] : j.items()) {
    if (v.is_boolean()) {
      o[k] = v.get<bool>();
    } else if (v.is_number_integer()) {
      o[k] = v.get<std::int64_t>();
    } else if (v.is_number()) {
      o[k] = v.get<double>();
    } else if (v.is_string()) {
      o[k] = v.get<std::string>();
    } else {
      o[k] = v.get<std::vector<double>>();
    }
  }
  return o;
}
}  // namespace

std::string optimizer_to_json(const optimizers::OptimizerConfig& c) {
  json j = {{"name", c.name}, {"options", options_to_json(c.options)}};
  if (c.learning_rate_schedule) {
    j["learning_rate_schedule"] = {{"name", c.learning_rate_schedule->name},
                                   {"options", options_to_json(c.learning_rate_schedule->options)}};
  }
  if (!c.exclude_from_weight_decay.empty()) j["exclude_from_weight_decay"] = c.exclude_from_weight_decay;
  return j.dump();
}

optimizers::OptimizerConfig optimizer_from_json(const std::string& text, const std::string& source) {
  const auto j = parse(text, source);
  optimizers::OptimizerConfig c;
  try {
    c.name = j.at("name").get<std::string>();
    c.options = options_from_json(j.at("options"));
    if (j.contains("learning_rate_schedule")) {
      const auto& s = j.at("learning_rate_schedule");
      c.learning_rate_schedule = optimizers::ScheduleConfig{s.at("name").get<std::string>(), options_from_json(s.at("options"))};
    }
    if (j.contains("exclude_from_weight_decay")) {  // absent in older checkpoints: none
      c.exclude_from_weight_decay = j.at("exclude_from_weight_decay").get<std::vector<std::string>>();
    }
  } catch (const json::exception& e) {
    throw ArgumentError(source + ": the optimizer config is incomplete: " + e.what());
  }
  return c;
}

}  // namespace dtrain::model
