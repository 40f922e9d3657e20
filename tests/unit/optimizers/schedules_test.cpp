// Learning-rate schedules against hand-computed values (Keras 3 formulas), and
// the optimizer evaluating its schedule at `iterations` before each step.
#include "dtrain/core/error.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "dtrain/optimizers/schedules.hpp"
#include "dtrain/optimizers/sgd.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace dtrain::optimizers {
namespace {

constexpr double kTol = 1e-12;

TEST(ExponentialDecay, HandComputedValues) {
  // 0.1 * 0.5^(step / 10)
  ExponentialDecay s(0.1, 10, 0.5);
  EXPECT_NEAR(s(0), 0.1, kTol);
  EXPECT_NEAR(s(5), 0.1 * std::sqrt(0.5), kTol);  // 0.0707106781186548
  EXPECT_NEAR(s(5), 0.0707106781186548, kTol);
  EXPECT_NEAR(s(10), 0.05, kTol);
  EXPECT_NEAR(s(25), 0.0176776695296637, kTol);  // 0.1 * 0.5^2.5
}

TEST(ExponentialDecay, StaircaseFloorsTheExponent) {
  ExponentialDecay s(0.1, 10, 0.5, /*staircase=*/true);
  EXPECT_NEAR(s(0), 0.1, kTol);
  EXPECT_NEAR(s(9), 0.1, kTol);     // floor(0.9) = 0
  EXPECT_NEAR(s(10), 0.05, kTol);   // floor(1) = 1
  EXPECT_NEAR(s(25), 0.025, kTol);  // floor(2.5) = 2
}

TEST(PiecewiseConstantDecay, BoundariesBelongToTheLowerPiece) {
  // step <= 10 -> 1.0; 10 < step <= 20 -> 0.5; step > 20 -> 0.1 (Keras).
  PiecewiseConstantDecay s({10, 20}, {1.0, 0.5, 0.1});
  EXPECT_EQ(s(0), 1.0);
  EXPECT_EQ(s(10), 1.0);
  EXPECT_EQ(s(11), 0.5);
  EXPECT_EQ(s(20), 0.5);
  EXPECT_EQ(s(21), 0.1);
  EXPECT_EQ(s(1000000), 0.1);
}

TEST(CosineDecay, HandComputedValues) {
  // lr = 1.0 * ((1 - 0.1) * 0.5 * (1 + cos(pi * min(step, 100) / 100)) + 0.1)
  CosineDecay s(1.0, 100, 0.1);
  EXPECT_NEAR(s(0), 1.0, kTol);
  EXPECT_NEAR(s(25), 0.9 * 0.5 * (1 + std::sqrt(0.5)) + 0.1, kTol);  // 0.868198051533946
  EXPECT_NEAR(s(25), 0.868198051533946, kTol);
  EXPECT_NEAR(s(50), 0.55, kTol);
  EXPECT_NEAR(s(100), 0.1, kTol);
  EXPECT_NEAR(s(250), 0.1, kTol);  // clamped at decay_steps
}

TEST(CosineDecay, LinearWarmupThenCosineFromTheTarget) {
  // Warm-up from 0.0 to 1.0 over 10 steps, then cosine from 1.0 over 100 steps.
  CosineDecay s(0.0, 100, 0.0, /*warmup_target=*/1.0, /*warmup_steps=*/10);
  EXPECT_NEAR(s(0), 0.0, kTol);
  EXPECT_NEAR(s(5), 0.5, kTol);    // 0 + (1 - 0) * 5/10
  EXPECT_NEAR(s(9), 0.9, kTol);
  EXPECT_NEAR(s(10), 1.0, kTol);   // cosine at 0
  EXPECT_NEAR(s(35), 0.853553390593274, kTol);  // 0.5 * (1 + cos(pi/4))
  EXPECT_NEAR(s(60), 0.5, kTol);   // cosine at 50/100
  EXPECT_NEAR(s(110), 0.0, kTol);
  EXPECT_NEAR(s(500), 0.0, kTol);  // clamped at decay_steps + warmup_steps
  // Warm-up starting from a non-zero rate: 0.1 + (0.5 - 0.1) * 2/4 = 0.3.
  CosineDecay w(0.1, 8, 0.0, 0.5, 4);
  EXPECT_NEAR(w(2), 0.3, kTol);
  EXPECT_NEAR(w(8), 0.25, kTol);   // 0.5 * 0.5 * (1 + cos(pi/2))
}

TEST(Schedules, ConfigRoundTrip) {
  const std::shared_ptr<const LearningRateSchedule> all[] = {
      std::make_shared<ExponentialDecay>(0.1, 10, 0.5, true),
      std::make_shared<PiecewiseConstantDecay>(std::vector<double>{10, 20},
                                               std::vector<double>{1.0, 0.5, 0.1}),
      std::make_shared<CosineDecay>(0.0, 100, 0.05, 1.0, 10),
      std::make_shared<CosineDecay>(0.3, 100),
      std::make_shared<ConstantSchedule>(0.25)};
  for (const auto& s : all) {
    const auto copy = make_schedule(s->config());
    EXPECT_EQ(copy->config(), s->config()) << s->config().name;
    for (std::int64_t step : {0, 1, 7, 10, 11, 35, 99, 150}) EXPECT_EQ((*copy)(step), (*s)(step));
  }
  // Keras class names, case-insensitive; steps as integers or integral doubles.
  const auto a = make_schedule(
      {"exponentialdecay", {{"initial_learning_rate", 0.1}, {"decay_steps", 5}, {"decay_rate", 0.9}}});
  const auto b = make_schedule({"ExponentialDecay",
                                {{"initial_learning_rate", 0.1},
                                 {"decay_steps", 5.0},
                                 {"decay_rate", 0.9}}});
  EXPECT_EQ(a->config(), b->config());
  EXPECT_EQ(std::get<std::int64_t>(a->config().options.at("decay_steps")), 5);
  EXPECT_NEAR((*a)(5), 0.09, kTol);
}

TEST(Schedules, BadArgumentsNameTheArgument) {
  const auto message = [](auto&& f) {
    try {
      f();
    } catch (const ArgumentError& e) {
      return std::string(e.what());
    }
    return std::string("no ArgumentError");
  };
  EXPECT_NE(message([] { ExponentialDecay(0.1, 0, 0.5); }).find("decay_steps"), std::string::npos);
  EXPECT_NE(message([] { CosineDecay(-1.0, 10); }).find("initial_learning_rate"),
            std::string::npos);
  EXPECT_NE(message([] { PiecewiseConstantDecay({10, 20}, {1.0, 0.5}); }).find("values"),
            std::string::npos);
  EXPECT_NE(message([] { PiecewiseConstantDecay({20, 10}, {1.0, 0.5, 0.1}); }).find("boundaries"),
            std::string::npos);
  EXPECT_NE(message([] { make_schedule({"StepDecay", {}}); }).find("StepDecay"),
            std::string::npos);
  EXPECT_NE(message([] {
              make_schedule({"CosineDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", 2.5}}});
            }).find("decay_steps"),
            std::string::npos);
  EXPECT_NE(message([] {
              make_schedule({"CosineDecay", {{"initial_learning_rate", 0.1}, {"decay_step", 2.0}}});
            }).find("decay_step\""),
            std::string::npos);
  EXPECT_NE(message([] { make_schedule({"ExponentialDecay", {{"initial_learning_rate", 0.1}}}); })
                .find("decay_steps"),
            std::string::npos);
}

// The schedule is evaluated at iterations (0-based) before the step, for the
// update and for the weight decay. Hand computation, SGD, w0 = 0, g = 1 each step,
// rate 1.0 while iterations <= 0, then 0.1:
//   step 1 (iterations 0, lr 1.0): w = 0 - 1.0 * 1 = -1
//   step 2 (iterations 1, lr 0.1): w = -1 - 0.1 * 1 = -1.1
TEST(Schedules, OptimizerUsesTheRateAtIterationsBeforeTheStep) {
  SGD<double> sgd({.learning_rate = std::make_shared<PiecewiseConstantDecay>(
                       std::vector<double>{0}, std::vector<double>{1.0, 0.1})});
  std::vector<double> w{0.0}, g{1.0};
  std::vector<ParamRef<double>> params{{"w", w, g}};
  EXPECT_EQ(sgd.learning_rate(), 1.0);
  sgd.apply(params);
  EXPECT_DOUBLE_EQ(w[0], -1.0);
  EXPECT_EQ(sgd.learning_rate(), 0.1);
  sgd.apply(params);
  EXPECT_DOUBLE_EQ(w[0], -1.1);
  // Restoring iterations (a checkpoint) restores the schedule's position.
  sgd.set_iterations(0);
  EXPECT_EQ(sgd.learning_rate(), 1.0);
  // A schedule's rate cannot be set to a number (Keras raises TypeError)...
  EXPECT_THROW(sgd.set_learning_rate(0.5), ArgumentError);
  // ... but can be replaced as a whole.
  sgd.set_learning_rate(LearningRate(0.5));
  EXPECT_EQ(sgd.learning_rate(), 0.5);
  sgd.set_learning_rate(0.25);  // ReduceLROnPlateau on a constant rate
  EXPECT_EQ(sgd.learning_rate(), 0.25);
  EXPECT_EQ(std::get<double>(sgd.config().options.at("learning_rate")), 0.25);
  EXPECT_THROW(sgd.set_learning_rate(-0.1), ArgumentError);
}

// Weight decay uses the scheduled rate: w0 = 2, g = 0, weight_decay 0.5, lr 1.0
// then 0.1: w1 = 2 - 2*0.5*1.0 = 1; w2 = 1 - 1*0.5*0.1 = 0.95.
TEST(Schedules, WeightDecayUsesTheScheduledRate) {
  SGD<double> sgd({.learning_rate = std::make_shared<PiecewiseConstantDecay>(
                       std::vector<double>{0}, std::vector<double>{1.0, 0.1})},
                  {.weight_decay = 0.5});
  std::vector<double> w{2.0}, g{0.0};
  std::vector<ParamRef<double>> params{{"w", w, g}};
  sgd.apply(params);
  EXPECT_DOUBLE_EQ(w[0], 1.0);
  sgd.apply(params);
  EXPECT_DOUBLE_EQ(w[0], 0.95);
}

}  // namespace
}  // namespace dtrain::optimizers
