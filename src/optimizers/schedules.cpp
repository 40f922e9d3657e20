// Learning-rate schedules; formulas of Keras 3
// (keras/src/optimizers/schedules/learning_rate_schedule.py), computed in double.
#include "dtrain/optimizers/schedules.hpp"

#include "dtrain/core/error.hpp"
#include "option_reader.hpp"
#include "validate.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace dtrain::optimizers {

using detail::check_non_negative;
using detail::check_positive;

// ---- ExponentialDecay -------------------------------------------------------

ExponentialDecay::ExponentialDecay(double initial_learning_rate, std::int64_t decay_steps,
                                   double decay_rate, bool staircase)
    : initial_learning_rate_(initial_learning_rate),
      decay_steps_(decay_steps),
      decay_rate_(decay_rate),
      staircase_(staircase) {
  const std::string who = "ExponentialDecay";
  check_non_negative(who, "initial_learning_rate", initial_learning_rate);
  check_positive(who, "decay_steps", static_cast<double>(decay_steps));
  check_non_negative(who, "decay_rate", decay_rate);
}

double ExponentialDecay::operator()(std::int64_t step) const {
  double p = static_cast<double>(step) / static_cast<double>(decay_steps_);
  if (staircase_) p = std::floor(p);
  return initial_learning_rate_ * std::pow(decay_rate_, p);
}

ScheduleConfig ExponentialDecay::config() const {
  return {"ExponentialDecay",
          {{"initial_learning_rate", initial_learning_rate_},
           {"decay_steps", decay_steps_},
           {"decay_rate", decay_rate_},
           {"staircase", staircase_}}};
}

// ---- PiecewiseConstantDecay -------------------------------------------------

PiecewiseConstantDecay::PiecewiseConstantDecay(std::vector<double> boundaries,
                                               std::vector<double> values)
    : boundaries_(std::move(boundaries)), values_(std::move(values)) {
  const std::string who = "PiecewiseConstantDecay";
  if (values_.size() != boundaries_.size() + 1) {
    throw ArgumentError(who + ": the length of `values` must be the length of `boundaries` + 1. "
                        "Received: len(boundaries)=" + std::to_string(boundaries_.size()) +
                        ", len(values)=" + std::to_string(values_.size()));
  }
  for (std::size_t i = 0; i < boundaries_.size(); ++i) {
    if (!std::isfinite(boundaries_[i]) || (i > 0 && !(boundaries_[i] > boundaries_[i - 1]))) {
      throw ArgumentError(who + ": `boundaries` must be finite and increasing. Received: "
                          "boundaries=" + to_string(OptionValue(boundaries_)));
    }
  }
  for (double v : values_) check_non_negative(who, "values", v);
}

double PiecewiseConstantDecay::operator()(std::int64_t step) const {
  const double s = static_cast<double>(step);
  // The first boundary with s <= boundary selects its value; past all: the last.
  const auto it = std::lower_bound(boundaries_.begin(), boundaries_.end(), s);
  return values_[static_cast<std::size_t>(it - boundaries_.begin())];
}

ScheduleConfig PiecewiseConstantDecay::config() const {
  return {"PiecewiseConstantDecay", {{"boundaries", boundaries_}, {"values", values_}}};
}

// ---- CosineDecay --------------------------------------------------------------

CosineDecay::CosineDecay(double initial_learning_rate, std::int64_t decay_steps, double alpha,
                         std::optional<double> warmup_target, std::int64_t warmup_steps)
    : initial_learning_rate_(initial_learning_rate),
      decay_steps_(decay_steps),
      alpha_(alpha),
      warmup_target_(warmup_target),
      warmup_steps_(warmup_steps) {
  const std::string who = "CosineDecay";
  check_non_negative(who, "initial_learning_rate", initial_learning_rate);
  check_positive(who, "decay_steps", static_cast<double>(decay_steps));
  detail::check_unit_interval_closed(who, "alpha", alpha);
  if (warmup_target) check_non_negative(who, "warmup_target", *warmup_target);
  check_non_negative(who, "warmup_steps", static_cast<double>(warmup_steps));
}

double CosineDecay::operator()(std::int64_t step) const {
  const double decay_steps = static_cast<double>(decay_steps_);
  const auto decay = [&](double s, double from) {
    const double completed_fraction = s / decay_steps;
    const double cosine_decayed = 0.5 * (1.0 + std::cos(std::numbers::pi * completed_fraction));
    return from * ((1.0 - alpha_) * cosine_decayed + alpha_);
  };
  double s = static_cast<double>(step);
  if (!warmup_target_) return decay(std::min(s, decay_steps), initial_learning_rate_);
  const double warmup_steps = static_cast<double>(warmup_steps_);
  s = std::min(s, decay_steps + warmup_steps);
  if (s < warmup_steps) {
    const double completed_fraction = s / warmup_steps;
    return (*warmup_target_ - initial_learning_rate_) * completed_fraction +
           initial_learning_rate_;
  }
  return decay(s - warmup_steps, *warmup_target_);
}

ScheduleConfig CosineDecay::config() const {
  ScheduleConfig c{"CosineDecay",
                   {{"initial_learning_rate", initial_learning_rate_},
                    {"decay_steps", decay_steps_},
                    {"alpha", alpha_},
                    {"warmup_steps", warmup_steps_}}};
  if (warmup_target_) c.options.emplace("warmup_target", *warmup_target_);
  return c;
}

// ---- ConstantSchedule ---------------------------------------------------------

ConstantSchedule::ConstantSchedule(double value) : value_(value) {
  check_non_negative("ConstantSchedule", "value", value);
}

ScheduleConfig ConstantSchedule::config() const { return {"Constant", {{"value", value_}}}; }

// ---- make_schedule --------------------------------------------------------------

std::shared_ptr<const LearningRateSchedule> make_schedule(const ScheduleConfig& config) {
  const std::string name = detail::to_lower(config.name);
  const std::string context = "make_schedule(\"" + config.name + "\")";
  if (name == "exponentialdecay") {
    detail::OptionReader r(context, config.options,
                           {"initial_learning_rate", "decay_steps", "decay_rate", "staircase"});
    // One argument at a time, so the first missing one is the one reported.
    const double initial = r.required_number("initial_learning_rate");
    const std::int64_t decay_steps = r.required_integer("decay_steps");
    const double decay_rate = r.required_number("decay_rate");
    return std::make_shared<ExponentialDecay>(initial, decay_steps, decay_rate,
                                              r.flag("staircase", false));
  }
  if (name == "piecewiseconstantdecay") {
    detail::OptionReader r(context, config.options, {"boundaries", "values"});
    auto boundaries = r.required_numbers("boundaries");
    auto values = r.required_numbers("values");
    return std::make_shared<PiecewiseConstantDecay>(std::move(boundaries), std::move(values));
  }
  if (name == "cosinedecay") {
    detail::OptionReader r(context, config.options,
                           {"initial_learning_rate", "decay_steps", "alpha", "warmup_target",
                            "warmup_steps"});
    const double initial = r.required_number("initial_learning_rate");
    const std::int64_t decay_steps = r.required_integer("decay_steps");
    const double alpha = r.number("alpha", 0.0);
    const std::optional<double> warmup_target = r.number("warmup_target");
    const std::int64_t warmup_steps = r.integer("warmup_steps").value_or(0);
    return std::make_shared<CosineDecay>(initial, decay_steps, alpha, warmup_target, warmup_steps);
  }
  if (name == "constant") {
    detail::OptionReader r(context, config.options, {"value"});
    return std::make_shared<ConstantSchedule>(r.required_number("value"));
  }
  throw ArgumentError("make_schedule: unknown learning-rate schedule \"" + config.name +
                      "\"; valid names: ExponentialDecay, PiecewiseConstantDecay, CosineDecay, "
                      "Constant");
}

// ---- LearningRate ---------------------------------------------------------------

LearningRate::LearningRate(double value) : value_(value) {}

void LearningRate::check_schedule() const {
  if (!schedule_) throw ArgumentError("LearningRate: the schedule is null");
}

}  // namespace dtrain::optimizers
