// Optimizers by Keras name: the one name -> constructor table of dtrain.
//
//   auto opt = optimizers::make_optimizer<float>("Adam", {{"learning_rate", 3e-4},
//                                                         {"clipnorm", 1.0}});
//   auto sched = optimizers::make_schedule({"CosineDecay", {{"initial_learning_rate", 0.1},
//                                                           {"decay_steps", 1000.0}}});
//   auto sgd = optimizers::make_optimizer<float>("sgd", {{"momentum", 0.9}}, sched);
//   auto again = optimizers::make_optimizer<float>(opt->config());   // from a checkpoint
//
// Names (case-insensitive, like Keras' optimizers.get): sgd, rmsprop, adam,
// adamw, adagrad, adadelta, adamax, nadam, ftrl, lion. Options use Keras' argument
// names; every optimizer also takes learning_rate, weight_decay, clipnorm,
// clipvalue, global_clipnorm. An unknown name or option, a value of the wrong
// type or out of range throws ArgumentError naming it (and listing the valid ones).
#pragma once

#include "dtrain/optimizers/optimizer.hpp"

#include <memory>
#include <string>
#include <vector>

namespace dtrain::optimizers {

// The learning rate is options["learning_rate"] (a number), or `schedule` (then
// options must not have "learning_rate"), or the optimizer's Keras default.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(
    const std::string& name, const OptimizerOptions& options = {},
    std::shared_ptr<const LearningRateSchedule> schedule = nullptr);

// From Optimizer::config() (e.g. read back from a checkpoint), with its schedule
// and its exclude_from_weight_decay names.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerConfig& config);

// The valid names, in Keras' order: {"sgd", "rmsprop", "adam", ...}.
std::vector<std::string> optimizer_names();
// The options `name` accepts, sorted (ArgumentError for an unknown name).
std::vector<std::string> optimizer_option_names(const std::string& name);

}  // namespace dtrain::optimizers
