// make_optimizer: the one name -> constructor table (Keras' optimizers.get names).
#include "dtrain/optimizers/factory.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/optimizers/adadelta.hpp"
#include "dtrain/optimizers/adagrad.hpp"
#include "dtrain/optimizers/adam.hpp"
#include "dtrain/optimizers/adamax.hpp"
#include "dtrain/optimizers/adamw.hpp"
#include "dtrain/optimizers/ftrl.hpp"
#include "dtrain/optimizers/nadam.hpp"
#include "dtrain/optimizers/rmsprop.hpp"
#include "dtrain/optimizers/sgd.hpp"
#include "option_reader.hpp"

#include <algorithm>
#include <array>

namespace dtrain::optimizers {

namespace {

struct Entry {
  const char* name;
  std::vector<std::string> keys;  // besides the common ones
};

// The table: Keras names and the options each accepts beyond the common ones.
const std::array<Entry, 9>& table() {
  static const std::array<Entry, 9> entries{{
      {"sgd", {"momentum", "nesterov"}},
      {"rmsprop", {"rho", "momentum", "epsilon", "centered"}},
      {"adam", {"beta_1", "beta_2", "epsilon", "amsgrad"}},
      {"adamw", {"beta_1", "beta_2", "epsilon", "amsgrad"}},
      {"adagrad", {"initial_accumulator_value", "epsilon"}},
      {"adadelta", {"rho", "epsilon"}},
      {"adamax", {"beta_1", "beta_2", "epsilon"}},
      {"nadam", {"beta_1", "beta_2", "epsilon"}},
      {"ftrl",
       {"learning_rate_power", "initial_accumulator_value", "l1_regularization_strength",
        "l2_regularization_strength", "l2_shrinkage_regularization_strength", "beta"}},
  }};
  return entries;
}

const std::vector<std::string>& common_keys() {
  static const std::vector<std::string> keys{"learning_rate", "weight_decay", "clipnorm",
                                             "clipvalue", "global_clipnorm"};
  return keys;
}

const Entry& find_entry(const std::string& name) {
  const std::string key = detail::to_lower(name);
  for (const auto& e : table()) {
    if (key == e.name) return e;
  }
  throw ArgumentError("make_optimizer: unknown optimizer \"" + name +
                      "\"; valid names: " + detail::join(optimizer_names()));
}

std::vector<std::string> valid_keys(const Entry& e) {
  std::vector<std::string> keys = common_keys();
  keys.insert(keys.end(), e.keys.begin(), e.keys.end());
  std::sort(keys.begin(), keys.end());
  return keys;
}

// The learning rate of the options (a schedule, the option, or the default).
struct RateChoice {
  const detail::OptionReader& r;
  const std::shared_ptr<const LearningRateSchedule>& schedule;
  void set(LearningRate& lr) const {
    if (schedule) {
      lr = LearningRate(schedule);
    } else if (const auto v = r.number("learning_rate")) {
      lr = LearningRate(*v);
    }  // else: the optimizer's Keras default, from its options struct
  }
};

// Reads the optimizer's own options over the defaults of its options struct.
template <class T>
std::unique_ptr<Optimizer<T>> construct(const std::string& name, const detail::OptionReader& r,
                                        const RateChoice& rate, CommonOptions common) {
  if (name == "sgd") {
    SGDOptions o;
    rate.set(o.learning_rate);
    o.momentum = r.number("momentum", o.momentum);
    o.nesterov = r.flag("nesterov", o.nesterov);
    return std::make_unique<SGD<T>>(o, common);
  }
  if (name == "rmsprop") {
    RMSpropOptions o;
    rate.set(o.learning_rate);
    o.rho = r.number("rho", o.rho);
    o.momentum = r.number("momentum", o.momentum);
    o.epsilon = r.number("epsilon", o.epsilon);
    o.centered = r.flag("centered", o.centered);
    return std::make_unique<RMSprop<T>>(o, common);
  }
  if (name == "adam") {
    AdamOptions o;
    rate.set(o.learning_rate);
    o.beta_1 = r.number("beta_1", o.beta_1);
    o.beta_2 = r.number("beta_2", o.beta_2);
    o.epsilon = r.number("epsilon", o.epsilon);
    o.amsgrad = r.flag("amsgrad", o.amsgrad);
    return std::make_unique<Adam<T>>(o, common);
  }
  if (name == "adamw") {
    AdamWOptions o;
    rate.set(o.learning_rate);
    o.weight_decay = common.weight_decay.value_or(o.weight_decay);
    common.weight_decay.reset();
    o.beta_1 = r.number("beta_1", o.beta_1);
    o.beta_2 = r.number("beta_2", o.beta_2);
    o.epsilon = r.number("epsilon", o.epsilon);
    o.amsgrad = r.flag("amsgrad", o.amsgrad);
    return std::make_unique<AdamW<T>>(o, common);
  }
  if (name == "adagrad") {
    AdagradOptions o;
    rate.set(o.learning_rate);
    o.initial_accumulator_value = r.number("initial_accumulator_value", o.initial_accumulator_value);
    o.epsilon = r.number("epsilon", o.epsilon);
    return std::make_unique<Adagrad<T>>(o, common);
  }
  if (name == "adadelta") {
    AdadeltaOptions o;
    rate.set(o.learning_rate);
    o.rho = r.number("rho", o.rho);
    o.epsilon = r.number("epsilon", o.epsilon);
    return std::make_unique<Adadelta<T>>(o, common);
  }
  if (name == "adamax") {
    AdamaxOptions o;
    rate.set(o.learning_rate);
    o.beta_1 = r.number("beta_1", o.beta_1);
    o.beta_2 = r.number("beta_2", o.beta_2);
    o.epsilon = r.number("epsilon", o.epsilon);
    return std::make_unique<Adamax<T>>(o, common);
  }
  if (name == "nadam") {
    NadamOptions o;
    rate.set(o.learning_rate);
    o.beta_1 = r.number("beta_1", o.beta_1);
    o.beta_2 = r.number("beta_2", o.beta_2);
    o.epsilon = r.number("epsilon", o.epsilon);
    return std::make_unique<Nadam<T>>(o, common);
  }
  // ftrl (find_entry() accepted the name)
  FtrlOptions o;
  rate.set(o.learning_rate);
  o.learning_rate_power = r.number("learning_rate_power", o.learning_rate_power);
  o.initial_accumulator_value = r.number("initial_accumulator_value", o.initial_accumulator_value);
  o.l1_regularization_strength = r.number("l1_regularization_strength", o.l1_regularization_strength);
  o.l2_regularization_strength = r.number("l2_regularization_strength", o.l2_regularization_strength);
  o.l2_shrinkage_regularization_strength =
      r.number("l2_shrinkage_regularization_strength", o.l2_shrinkage_regularization_strength);
  o.beta = r.number("beta", o.beta);
  return std::make_unique<Ftrl<T>>(o, common);
}

}  // namespace

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const auto& e : table()) names.emplace_back(e.name);
  return names;
}

std::vector<std::string> optimizer_option_names(const std::string& name) {
  return valid_keys(find_entry(name));
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name,
                                             const OptimizerOptions& options,
                                             std::shared_ptr<const LearningRateSchedule> schedule) {
  const Entry& entry = find_entry(name);
  const std::string canonical = entry.name;
  const detail::OptionReader r("make_optimizer(\"" + canonical + "\")", options,
                               valid_keys(entry));
  if (schedule && r.has("learning_rate")) {
    throw ArgumentError("make_optimizer(\"" + canonical + "\"): give either the option "
                        "\"learning_rate\" or a learning-rate schedule, not both");
  }
  CommonOptions common;
  common.weight_decay = r.number("weight_decay");
  common.clipnorm = r.number("clipnorm");
  common.clipvalue = r.number("clipvalue");
  common.global_clipnorm = r.number("global_clipnorm");
  return construct<T>(canonical, r, RateChoice{r, schedule}, common);
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerConfig& config) {
  std::shared_ptr<const LearningRateSchedule> schedule;
  if (config.learning_rate_schedule) schedule = make_schedule(*config.learning_rate_schedule);
  return make_optimizer<T>(config.name, config.options, std::move(schedule));
}

template std::unique_ptr<Optimizer<float>> make_optimizer<float>(
    const std::string&, const OptimizerOptions&, std::shared_ptr<const LearningRateSchedule>);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(
    const std::string&, const OptimizerOptions&, std::shared_ptr<const LearningRateSchedule>);
template std::unique_ptr<Optimizer<float>> make_optimizer<float>(const OptimizerConfig&);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(const OptimizerConfig&);

}  // namespace dtrain::optimizers
