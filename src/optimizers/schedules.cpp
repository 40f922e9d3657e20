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

// ---- PolynomialDecay ------------------------------------------------------------

PolynomialDecay::PolynomialDecay(double initial_learning_rate, std::int64_t decay_steps,
                                 double end_learning_rate, double power, bool cycle)
    : initial_learning_rate_(initial_learning_rate),
      decay_steps_(decay_steps),
      end_learning_rate_(end_learning_rate),
      power_(power),
      cycle_(cycle) {
  const std::string who = "PolynomialDecay";
  check_non_negative(who, "initial_learning_rate", initial_learning_rate);
  check_positive(who, "decay_steps", static_cast<double>(decay_steps));
  check_non_negative(who, "end_learning_rate", end_learning_rate);
  check_non_negative(who, "power", power);
}

double PolynomialDecay::operator()(std::int64_t step) const {
  double s = static_cast<double>(step);
  double decay_steps = static_cast<double>(decay_steps_);
  if (cycle_) {
    // The first multiple of decay_steps that is >= step (1 at step 0).
    const double multiplier = s == 0.0 ? 1.0 : std::ceil(s / decay_steps);
    decay_steps *= multiplier;
  } else {
    s = std::min(s, decay_steps);
  }
  const double p = s / decay_steps;
  return (initial_learning_rate_ - end_learning_rate_) * std::pow(1.0 - p, power_) +
         end_learning_rate_;
}

ScheduleConfig PolynomialDecay::config() const {
  return {"PolynomialDecay",
          {{"initial_learning_rate", initial_learning_rate_},
           {"decay_steps", decay_steps_},
           {"end_learning_rate", end_learning_rate_},
           {"power", power_},
           {"cycle", cycle_}}};
}

// ---- InverseTimeDecay -----------------------------------------------------------

InverseTimeDecay::InverseTimeDecay(double initial_learning_rate, std::int64_t decay_steps,
                                   double decay_rate, bool staircase)
    : initial_learning_rate_(initial_learning_rate),
      decay_steps_(decay_steps),
      decay_rate_(decay_rate),
      staircase_(staircase) {
  const std::string who = "InverseTimeDecay";
  check_non_negative(who, "initial_learning_rate", initial_learning_rate);
  check_positive(who, "decay_steps", static_cast<double>(decay_steps));
  check_non_negative(who, "decay_rate", decay_rate);
}

double InverseTimeDecay::operator()(std::int64_t step) const {
  double p = static_cast<double>(step) / static_cast<double>(decay_steps_);
  if (staircase_) p = std::floor(p);
  return initial_learning_rate_ / (1.0 + decay_rate_ * p);
}

ScheduleConfig InverseTimeDecay::config() const {
  return {"InverseTimeDecay",
          {{"initial_learning_rate", initial_learning_rate_},
           {"decay_steps", decay_steps_},
           {"decay_rate", decay_rate_},
           {"staircase", staircase_}}};
}

// ---- CosineDecayRestarts --------------------------------------------------------

CosineDecayRestarts::CosineDecayRestarts(double initial_learning_rate,
                                         std::int64_t first_decay_steps, double t_mul,
                                         double m_mul, double alpha)
    : initial_learning_rate_(initial_learning_rate),
      first_decay_steps_(first_decay_steps),
      t_mul_(t_mul),
      m_mul_(m_mul),
      alpha_(alpha) {
  const std::string who = "CosineDecayRestarts";
  check_non_negative(who, "initial_learning_rate", initial_learning_rate);
  check_positive(who, "first_decay_steps", static_cast<double>(first_decay_steps));
  check_positive(who, "t_mul", t_mul);  // log(t_mul) below
  check_non_negative(who, "m_mul", m_mul);
  detail::check_unit_interval_closed(who, "alpha", alpha);
}

double CosineDecayRestarts::operator()(std::int64_t step) const {
  double completed_fraction = static_cast<double>(step) / static_cast<double>(first_decay_steps_);
  double i_restart = 0.0;
  if (t_mul_ == 1.0) {
    i_restart = std::floor(completed_fraction);
    completed_fraction -= i_restart;
  } else {
    // Keras' geometric form, operation for operation.
    i_restart = std::floor(std::log(1.0 - completed_fraction * (1.0 - t_mul_)) / std::log(t_mul_));
    const double sum_r = (1.0 - std::pow(t_mul_, i_restart)) / (1.0 - t_mul_);
    completed_fraction = (completed_fraction - sum_r) / std::pow(t_mul_, i_restart);
  }
  const double m_fac = std::pow(m_mul_, i_restart);
  const double cosine_decayed =
      0.5 * m_fac * (1.0 + std::cos(std::numbers::pi * completed_fraction));
  const double decayed = (1.0 - alpha_) * cosine_decayed + alpha_;
  return initial_learning_rate_ * decayed;
}

ScheduleConfig CosineDecayRestarts::config() const {
  return {"CosineDecayRestarts",
          {{"initial_learning_rate", initial_learning_rate_},
           {"first_decay_steps", first_decay_steps_},
           {"t_mul", t_mul_},
           {"m_mul", m_mul_},
           {"alpha", alpha_}}};
}

// ---- ConstantSchedule ---------------------------------------------------------

ConstantSchedule::ConstantSchedule(double value) : value_(value) {
  check_non_negative("ConstantSchedule", "value", value);
}

ScheduleConfig ConstantSchedule::config() const { return {"Constant", {{"value", value_}}}; }

// ---- make_schedule --------------------------------------------------------------

namespace {

// The one table of schedule names and arguments (Keras' __init__ signatures).
const std::vector<ScheduleArguments>& schedule_table() {
  static const std::vector<ScheduleArguments> table = {
      {"ExponentialDecay", {"initial_learning_rate", "decay_steps", "decay_rate"}, {"staircase"}},
      {"PiecewiseConstantDecay", {"boundaries", "values"}, {}},
      {"PolynomialDecay", {"initial_learning_rate", "decay_steps"},
       {"end_learning_rate", "power", "cycle"}},
      {"InverseTimeDecay", {"initial_learning_rate", "decay_steps", "decay_rate"}, {"staircase"}},
      {"CosineDecay", {"initial_learning_rate", "decay_steps"},
       {"alpha", "warmup_target", "warmup_steps"}},
      {"CosineDecayRestarts", {"initial_learning_rate", "first_decay_steps"},
       {"t_mul", "m_mul", "alpha"}},
      {"Constant", {"value"}, {}},  // dtrain's: a plain number as a schedule
  };
  return table;
}

const ScheduleArguments* find_schedule(const std::string& name) {
  const std::string key = detail::to_lower(name);
  for (const auto& s : schedule_table()) {
    if (detail::to_lower(s.name) == key) return &s;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> schedule_names() {
  std::vector<std::string> names;
  for (const auto& s : schedule_table()) {
    if (s.name != "Constant") names.push_back(s.name);
  }
  return names;
}

ScheduleArguments schedule_arguments(const std::string& name) {
  const ScheduleArguments* s = find_schedule(name);
  if (!s) {
    throw ArgumentError("unknown learning-rate schedule \"" + name +
                        "\"; valid names: " + detail::join(schedule_names()));
  }
  return *s;
}

std::shared_ptr<const LearningRateSchedule> make_schedule(const ScheduleConfig& config) {
  const ScheduleArguments* args = find_schedule(config.name);
  if (!args) {
    throw ArgumentError("make_schedule: unknown learning-rate schedule \"" + config.name +
                        "\"; valid names: " + detail::join(schedule_names()));
  }
  const std::string& name = args->name;
  std::vector<std::string> keys = args->required;
  keys.insert(keys.end(), args->optional.begin(), args->optional.end());
  detail::OptionReader r("make_schedule(\"" + name + "\")", config.options, keys);
  // One argument at a time, in order, so the first missing one is the one reported.
  if (name == "ExponentialDecay" || name == "InverseTimeDecay") {
    const double initial = r.required_number("initial_learning_rate");
    const std::int64_t decay_steps = r.required_integer("decay_steps");
    const double decay_rate = r.required_number("decay_rate");
    const bool staircase = r.flag("staircase", false);
    if (name == "ExponentialDecay") {
      return std::make_shared<ExponentialDecay>(initial, decay_steps, decay_rate, staircase);
    }
    return std::make_shared<InverseTimeDecay>(initial, decay_steps, decay_rate, staircase);
  }
  if (name == "PiecewiseConstantDecay") {
    auto boundaries = r.required_numbers("boundaries");
    auto values = r.required_numbers("values");
    return std::make_shared<PiecewiseConstantDecay>(std::move(boundaries), std::move(values));
  }
  if (name == "PolynomialDecay") {
    const double initial = r.required_number("initial_learning_rate");
    const std::int64_t decay_steps = r.required_integer("decay_steps");
    return std::make_shared<PolynomialDecay>(initial, decay_steps,
                                             r.number("end_learning_rate", 0.0001),
                                             r.number("power", 1.0), r.flag("cycle", false));
  }
  if (name == "CosineDecay") {
    const double initial = r.required_number("initial_learning_rate");
    const std::int64_t decay_steps = r.required_integer("decay_steps");
    const double alpha = r.number("alpha", 0.0);
    const std::optional<double> warmup_target = r.number("warmup_target");
    const std::int64_t warmup_steps = r.integer("warmup_steps").value_or(0);
    return std::make_shared<CosineDecay>(initial, decay_steps, alpha, warmup_target, warmup_steps);
  }
  if (name == "CosineDecayRestarts") {
    const double initial = r.required_number("initial_learning_rate");
    const std::int64_t first_decay_steps = r.required_integer("first_decay_steps");
    return std::make_shared<CosineDecayRestarts>(initial, first_decay_steps, r.number("t_mul", 2.0),
                                                 r.number("m_mul", 1.0), r.number("alpha", 0.0));
  }
  return std::make_shared<ConstantSchedule>(r.required_number("value"));  // "Constant"
}

// ---- LearningRate ---------------------------------------------------------------

LearningRate::LearningRate(double value) : value_(value) {}

void LearningRate::check_schedule() const {
  if (!schedule_) throw ArgumentError("LearningRate: the schedule is null");
}

}  // namespace dtrain::optimizers
