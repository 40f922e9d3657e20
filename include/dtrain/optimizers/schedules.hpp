// Learning-rate schedules with the formulas of Keras 3
// (keras/src/optimizers/schedules/learning_rate_schedule.py).
//
//   auto s = std::make_shared<optimizers::CosineDecay>(
//       /*initial_learning_rate=*/0.0, /*decay_steps=*/1000, /*alpha=*/0.0,
//       /*warmup_target=*/1e-3, /*warmup_steps=*/100);
//   double lr = (*s)(250);                      // rate of the step with iterations == 250
//   optimizers::Adam<float> adam({.learning_rate = s});
//
// A schedule is evaluated at the optimizer's `iterations` (0-based) before the
// step. Schedules are immutable, so optimizers share them through shared_ptr.
#pragma once

#include "dtrain/optimizers/options.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dtrain::optimizers {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  // The learning rate at 0-based step `step` (>= 0).
  virtual double operator()(std::int64_t step) const = 0;
  // Keras class name and arguments; make_schedule(config()) rebuilds it.
  virtual ScheduleConfig config() const = 0;
};

// initial_learning_rate * decay_rate ^ (step / decay_steps); with staircase the
// exponent is floor(step / decay_steps). decay_steps > 0.
class ExponentialDecay final : public LearningRateSchedule {
 public:
  ExponentialDecay(double initial_learning_rate, std::int64_t decay_steps, double decay_rate,
                   bool staircase = false);
  double operator()(std::int64_t step) const override;
  ScheduleConfig config() const override;

 private:
  double initial_learning_rate_;
  std::int64_t decay_steps_;
  double decay_rate_;
  bool staircase_;
};

// values[0] while step <= boundaries[0], values[i] while
// boundaries[i-1] < step <= boundaries[i], values.back() after the last
// boundary. values.size() == boundaries.size() + 1; boundaries increasing.
class PiecewiseConstantDecay final : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<double> boundaries, std::vector<double> values);
  double operator()(std::int64_t step) const override;
  ScheduleConfig config() const override;

 private:
  std::vector<double> boundaries_;
  std::vector<double> values_;
};

// Without warm-up (warmup_target unset): s = min(step, decay_steps),
//   lr = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha).
// With warm-up: s = min(step, decay_steps + warmup_steps); while s < warmup_steps
//   lr = initial + (warmup_target - initial) * s / warmup_steps   (linear),
// afterwards the cosine decay above from warmup_target at s - warmup_steps.
class CosineDecay final : public LearningRateSchedule {
 public:
  CosineDecay(double initial_learning_rate, std::int64_t decay_steps, double alpha = 0.0,
              std::optional<double> warmup_target = std::nullopt, std::int64_t warmup_steps = 0);
  double operator()(std::int64_t step) const override;
  ScheduleConfig config() const override;

 private:
  double initial_learning_rate_;
  std::int64_t decay_steps_;
  double alpha_;
  std::optional<double> warmup_target_;
  std::int64_t warmup_steps_;
};

// Polynomial decay from initial_learning_rate to end_learning_rate:
//   s = min(step, decay_steps), d = decay_steps, or with cycle
//   s = step, d = decay_steps * max(1, ceil(step / decay_steps));
//   lr = (initial - end) * (1 - s / d) ^ power + end.
// Defaults (Keras 3): end_learning_rate 0.0001, power 1.0, cycle false.
class PolynomialDecay final : public LearningRateSchedule {
 public:
  PolynomialDecay(double initial_learning_rate, std::int64_t decay_steps,
                  double end_learning_rate = 0.0001, double power = 1.0, bool cycle = false);
  double operator()(std::int64_t step) const override;
  ScheduleConfig config() const override;

 private:
  double initial_learning_rate_;
  std::int64_t decay_steps_;
  double end_learning_rate_;
  double power_;
  bool cycle_;
};

// initial_learning_rate / (1 + decay_rate * step / decay_steps); with staircase
// step / decay_steps is floored. decay_steps > 0.
class InverseTimeDecay final : public LearningRateSchedule {
 public:
  InverseTimeDecay(double initial_learning_rate, std::int64_t decay_steps, double decay_rate,
                   bool staircase = false);
  double operator()(std::int64_t step) const override;
  ScheduleConfig config() const override;

 private:
  double initial_learning_rate_;
  std::int64_t decay_steps_;
  double decay_rate_;
  bool staircase_;
};

// Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2016). With
// f = step / first_decay_steps: for t_mul == 1, i = floor(f) and f -= i; else
//   i = floor(log(1 - f * (1 - t_mul)) / log(t_mul)),
//   f = (f - (1 - t_mul^i) / (1 - t_mul)) / t_mul^i;
// lr = initial * ((1 - alpha) * 0.5 * m_mul^i * (1 + cos(pi * f)) + alpha).
// Period i lasts first_decay_steps * t_mul^i steps and starts at m_mul^i times
// the initial rate. Defaults (Keras 3): t_mul 2.0, m_mul 1.0, alpha 0.0.
class CosineDecayRestarts final : public LearningRateSchedule {
 public:
  CosineDecayRestarts(double initial_learning_rate, std::int64_t first_decay_steps,
                      double t_mul = 2.0, double m_mul = 1.0, double alpha = 0.0);
  double operator()(std::int64_t step) const override;
  ScheduleConfig config() const override;

 private:
  double initial_learning_rate_;
  std::int64_t first_decay_steps_;
  double t_mul_;
  double m_mul_;
  double alpha_;
};

// A fixed rate (what a plain float learning_rate is in Keras).
class ConstantSchedule final : public LearningRateSchedule {
 public:
  explicit ConstantSchedule(double value);
  double operator()(std::int64_t) const override { return value_; }
  ScheduleConfig config() const override;  // {"Constant", {"value": v}}

 private:
  double value_;
};

// Builds a schedule from its Keras class name (case-insensitive) and arguments;
// throws ArgumentError naming an unknown schedule, option or bad value.
std::shared_ptr<const LearningRateSchedule> make_schedule(const ScheduleConfig& config);

// The Keras schedules make_schedule knows, in Keras' order: ExponentialDecay,
// PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay,
// CosineDecayRestarts (make_schedule also takes dtrain's "Constant").
std::vector<std::string> schedule_names();

// The arguments of a schedule by Keras name: those without a default, then the
// others. `name` is the canonical spelling. ArgumentError for an unknown name.
struct ScheduleArguments {
  std::string name;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};
ScheduleArguments schedule_arguments(const std::string& name);

// The learning rate of an optimizer: a constant or a schedule. Implicit from
// both, so options structs take `.learning_rate = 0.01` or `= schedule`.
class LearningRate {
 public:
  LearningRate(double value);  // NOLINT: implicit by design
  template <class S>
    requires std::is_base_of_v<LearningRateSchedule, S>
  LearningRate(std::shared_ptr<S> schedule)  // NOLINT: implicit by design
      : schedule_(std::move(schedule)) {
    check_schedule();
  }
  double operator()(std::int64_t step) const {
    return schedule_ ? (*schedule_)(step) : value_;
  }
  bool is_constant() const { return schedule_ == nullptr; }
  double constant() const { return value_; }  // only meaningful when is_constant()
  const std::shared_ptr<const LearningRateSchedule>& schedule() const { return schedule_; }

 private:
  void check_schedule() const;  // throws ArgumentError for a null schedule

  double value_ = 0.0;
  std::shared_ptr<const LearningRateSchedule> schedule_;
};

}  // namespace dtrain::optimizers
