// make_optimizer: the one name -> constructor table (Keras' optimizers.get names).
#include "dtrain/optimizers/factory.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/optimizers/adadelta.hpp"
#include "dtrain/optimizers/adagrad.hpp"
#include "dtrain/optimizers/adam.hpp"
#include "dtrain/optimizers/adamax.hpp"
#include "dtrain/optimizers/adamw.hpp"
#include "dtrain/optimizers/ftrl.hpp"
#include "dtrain/optimizers/lion.hpp"
#include "dtrain/optimizers/nadam.hpp"
#include "dtrain/optimizers/rmsprop.hpp"
#include "dtrain/optimizers/sgd.hpp"
#include "option_table.hpp"

#include <algorithm>
#include <array>
#include <type_traits>

namespace dtrain::optimizers {

namespace {

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

template <class T>
using Maker = std::unique_ptr<Optimizer<T>> (*)(const detail::OptionReader&, const RateChoice&,
                                                CommonOptions);

// Optimizer C<T> from its options struct O: the options read over O's defaults.
template <template <class> class C, class O, class T>
std::unique_ptr<Optimizer<T>> make(const detail::OptionReader& r, const RateChoice& rate,
                                   CommonOptions common) {
  O o;
  rate.set(o.learning_rate);
  detail::read_options(r, o);
  return std::make_unique<C<T>>(o, common);
}

// AdamW: Adam's options, and the common option weight_decay with AdamW's default.
template <class T>
std::unique_ptr<Optimizer<T>> make_adamw(const detail::OptionReader& r, const RateChoice& rate,
                                         CommonOptions common) {
  AdamWOptions w;
  AdamOptions a{w.learning_rate, w.beta_1, w.beta_2, w.epsilon, w.amsgrad};
  rate.set(a.learning_rate);
  detail::read_options(r, a);
  w = {a.learning_rate, common.weight_decay.value_or(w.weight_decay), a.beta_1, a.beta_2, a.epsilon,
       a.amsgrad};
  common.weight_decay.reset();
  return std::make_unique<AdamW<T>>(w, common);
}

// A row of the table: a Keras name, the keys of its options struct, its makers.
struct Entry {
  const char* name;
  std::vector<std::string> (*keys)();  // besides the common ones
  Maker<float> make_float;
  Maker<double> make_double;

  template <class T>
  Maker<T> maker() const {
    if constexpr (std::is_same_v<T, float>) {
      return make_float;
    } else {
      return make_double;
    }
  }
};

template <template <class> class C, class O>
constexpr Entry make_entry(const char* name) {
  return {name, &detail::option_keys<O>, &make<C, O, float>, &make<C, O, double>};
}

// The table, in Keras' order.
constexpr std::array<Entry, 10> kTable{{
    make_entry<SGD, SGDOptions>("sgd"),
    make_entry<RMSprop, RMSpropOptions>("rmsprop"),
    make_entry<Adam, AdamOptions>("adam"),
    {"adamw", &detail::option_keys<AdamOptions>, &make_adamw<float>, &make_adamw<double>},
    make_entry<Adagrad, AdagradOptions>("adagrad"),
    make_entry<Adadelta, AdadeltaOptions>("adadelta"),
    make_entry<Adamax, AdamaxOptions>("adamax"),
    make_entry<Nadam, NadamOptions>("nadam"),
    make_entry<Ftrl, FtrlOptions>("ftrl"),
    make_entry<Lion, LionOptions>("lion"),
}};

const Entry& find_entry(const std::string& name) {
  const std::string key = detail::to_lower(name);
  for (const auto& e : kTable) {
    if (key == e.name) return e;
  }
  throw ArgumentError("make_optimizer: unknown optimizer \"" + name +
                      "\"; valid names: " + detail::join(optimizer_names()));
}

// The learning rate, the common options and the optimizer's own, sorted.
std::vector<std::string> valid_keys(const Entry& e) {
  std::vector<std::string> keys = detail::option_keys<CommonOptions>();
  keys.emplace_back("learning_rate");
  for (auto& k : e.keys()) keys.push_back(std::move(k));
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const auto& e : kTable) names.emplace_back(e.name);
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
  detail::read_options(r, common);
  return entry.maker<T>()(r, RateChoice{r, schedule}, common);
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerConfig& config) {
  std::shared_ptr<const LearningRateSchedule> schedule;
  if (config.learning_rate_schedule) schedule = make_schedule(*config.learning_rate_schedule);
  auto opt = make_optimizer<T>(config.name, config.options, std::move(schedule));
  if (!config.exclude_from_weight_decay.empty()) {
    opt->exclude_from_weight_decay(config.exclude_from_weight_decay);
  }
  return opt;
}

template std::unique_ptr<Optimizer<float>> make_optimizer<float>(
    const std::string&, const OptimizerOptions&, std::shared_ptr<const LearningRateSchedule>);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(
    const std::string&, const OptimizerOptions&, std::shared_ptr<const LearningRateSchedule>);
template std::unique_ptr<Optimizer<float>> make_optimizer<float>(const OptimizerConfig&);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(const OptimizerConfig&);

}  // namespace dtrain::optimizers
