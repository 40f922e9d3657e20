// Plain values that describe an optimizer or a learning-rate schedule: what a
// config file gives the factory, and what config() returns for a checkpoint.
//
//   optimizers::Options options{{"learning_rate", 0.01}, {"amsgrad", true}};
//   auto adam = optimizers::make_optimizer<float>("adam", options);
//   optimizers::OptimizerConfig c = adam->config();   // {"adam", {every hyper-parameter}}
//   auto copy = optimizers::make_optimizer<float>(c); // the same optimizer, fresh state
//
// Keys are Keras' argument names ("beta_1", "l1_regularization_strength", ...).
// A number may be given as a double or an integer; integer-valued options
// (decay_steps) accept a double with no fraction, and config() writes integers.
// An option that Keras would set to None (clipnorm, weight_decay, ...) is absent.
#pragma once

#include "dtrain/core/config.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dtrain::optimizers {

// A number, a flag, a string, or a list of numbers (PiecewiseConstantDecay): the
// values of a dtrain::Config (core/config.hpp), read with its conversions
// (as_number, as_integer, as_numbers) and shown with its to_string.
using OptionValue = ConfigValue;

// key -> value, sorted by key.
using Options = std::map<std::string, OptionValue, std::less<>>;
using OptimizerOptions = Options;

// A learning-rate schedule by its Keras class name ("ExponentialDecay",
// "PiecewiseConstantDecay", "PolynomialDecay", "InverseTimeDecay", "CosineDecay",
// "CosineDecayRestarts"; see schedules.hpp) and its arguments.
struct ScheduleConfig {
  std::string name;
  Options options;
  friend bool operator==(const ScheduleConfig&, const ScheduleConfig&) = default;
};

// An optimizer by its Keras name ("adam") and every hyper-parameter. A constant
// learning rate is options["learning_rate"]; a schedule is learning_rate_schedule
// (and options has no "learning_rate"). exclude_from_weight_decay: variables whose
// name contains one of these strings get no weight decay (Keras'
// exclude_from_weight_decay(var_names=...)), e.g. {"bias", "gamma"}.
struct OptimizerConfig {
  std::string name;
  Options options;
  std::optional<ScheduleConfig> learning_rate_schedule;
  std::vector<std::string> exclude_from_weight_decay;
  friend bool operator==(const OptimizerConfig&, const OptimizerConfig&) = default;
};

}  // namespace dtrain::optimizers
