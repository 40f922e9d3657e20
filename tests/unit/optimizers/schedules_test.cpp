// Learning-rate schedules against hand-computed values (Keras 3 formulas), and
// the optimizer evaluating its schedule at `iterations` before each step.
#include "dtrain/core/error.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "dtrain/optimizers/schedules.hpp"
#include "dtrain/optimizers/sgd.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

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

// ---- Every Keras 3 schedule against tests/reference/schedules_reference.py -----
// The script computes each schedule from Keras' formulas in Python doubles
// (independently of this code); its output is pasted below. Steps 0 and 1, the
// end of the warm-up (or the first boundary, cycle or restart), the middle, the
// end and past it. Built through make_schedule, so the Keras argument names and
// defaults are checked as well. Hand checks: polynomial_defaults at 50:
// (0.1 - 0.0001) * 0.5 + 0.0001 = 0.05005; restarts_defaults: period 0 is
// steps [0, 100), period 1 [100, 300) (t_mul 2), period 2 [300, 700).

struct ReferenceCase {
  const char* name;
  ScheduleConfig config;
  std::vector<std::pair<std::int64_t, double>> values;  // (step, learning rate)
};

const std::vector<ReferenceCase>& reference_cases() {
  static const std::vector<ReferenceCase> all = {
// BEGIN printed by tests/reference/schedules_reference.py
{"exponential", {"ExponentialDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", std::int64_t{100}}, {"decay_rate", 0.5}}},
 {{0, 0.1}, {1, 0.0993092495437036}, {50, 0.07071067811865477}, {100, 0.05}, {250, 0.01767766952966369}}},
{"exponential_staircase", {"ExponentialDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", std::int64_t{100}}, {"decay_rate", 0.5}, {"staircase", true}}},
 {{0, 0.1}, {1, 0.1}, {99, 0.1}, {100, 0.05}, {250, 0.025}}},
{"piecewise", {"PiecewiseConstantDecay", {{"boundaries", std::vector<double>{100.0, 200.0}}, {"values", std::vector<double>{0.1, 0.01, 0.001}}}},
 {{0, 0.1}, {1, 0.1}, {100, 0.1}, {101, 0.01}, {150, 0.01}, {200, 0.01}, {201, 0.001}, {1000, 0.001}}},
{"polynomial_defaults", {"PolynomialDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", std::int64_t{100}}}},
 {{0, 0.1}, {1, 0.099001}, {50, 0.050050000000000004}, {100, 0.0001}, {150, 0.0001}}},
{"polynomial_power_cycle", {"PolynomialDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", std::int64_t{100}}, {"end_learning_rate", 0.001}, {"power", 0.5}, {"cycle", true}}},
 {{0, 0.1}, {1, 0.09950375627355539}, {50, 0.07100357133746821}, {99, 0.010900000000000003}, {100, 0.001}, {101, 0.07065267403337794}, {150, 0.0505}, {200, 0.001}, {250, 0.04141658075592244}}},
{"inverse_time", {"InverseTimeDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", std::int64_t{10}}, {"decay_rate", 0.5}}},
 {{0, 0.1}, {1, 0.09523809523809523}, {5, 0.08}, {10, 0.06666666666666667}, {100, 0.016666666666666666}}},
{"inverse_time_staircase", {"InverseTimeDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", std::int64_t{10}}, {"decay_rate", 0.5}, {"staircase", true}}},
 {{0, 0.1}, {1, 0.1}, {9, 0.1}, {10, 0.06666666666666667}, {25, 0.05}}},
{"cosine", {"CosineDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", std::int64_t{100}}}},
 {{0, 0.1}, {1, 0.09997532801828658}, {50, 0.05}, {100, 0.0}, {150, 0.0}}},
{"cosine_warmup", {"CosineDecay", {{"initial_learning_rate", 0.0}, {"decay_steps", std::int64_t{1000}}, {"alpha", 0.1}, {"warmup_target", 0.001}, {"warmup_steps", std::int64_t{100}}}},
 {{0, 0.0}, {1, 1e-05}, {50, 0.0005}, {99, 0.00099}, {100, 0.001}, {101, 0.0009999977793408363}, {600, 0.00055}, {1100, 0.0001}, {2000, 0.0001}}},
{"cosine_warmup_from_nonzero", {"CosineDecay", {{"initial_learning_rate", 0.0002}, {"decay_steps", std::int64_t{30}}, {"warmup_target", 0.002}, {"warmup_steps", std::int64_t{10}}}},
 {{0, 0.0002}, {1, 0.00038}, {5, 0.0011}, {10, 0.002}, {25, 0.001}, {40, 0.0}, {41, 0.0}}},
{"cosine_target_no_warmup_steps", {"CosineDecay", {{"initial_learning_rate", 0.01}, {"decay_steps", std::int64_t{100}}, {"warmup_target", 0.1}}},
 {{0, 0.1}, {1, 0.09997532801828658}, {50, 0.05}, {100, 0.0}, {150, 0.0}}},
{"restarts_defaults", {"CosineDecayRestarts", {{"initial_learning_rate", 0.1}, {"first_decay_steps", std::int64_t{100}}}},
 {{0, 0.1}, {1, 0.09997532801828658}, {50, 0.05}, {99, 2.467198171342e-05}, {100, 0.1}, {101, 0.09999383162408304}, {200, 0.05}, {299, 6.168375916970615e-06}, {300, 0.1}, {301, 0.09999845788223949}, {700, 0.1}}},
{"restarts_t_mul_1", {"CosineDecayRestarts", {{"initial_learning_rate", 0.1}, {"first_decay_steps", std::int64_t{100}}, {"t_mul", 1.0}, {"m_mul", 0.5}, {"alpha", 0.1}}},
 {{0, 0.1}, {1, 0.09997779521645793}, {50, 0.05500000000000001}, {100, 0.05500000000000001}, {150, 0.0325}, {250, 0.021250000000000005}}},
{"restarts_t_mul_1_5", {"CosineDecayRestarts", {{"initial_learning_rate", 0.1}, {"first_decay_steps", std::int64_t{40}}, {"t_mul", 1.5}, {"m_mul", 0.8}, {"alpha", 0.05}}},
 {{0, 0.1}, {1, 0.09985357335232359}, {20, 0.052500000000000005}, {40, 0.08100000000000002}, {41, 0.08094792232067381}, {70, 0.043000000000000003}, {100, 0.06580000000000001}, {101, 0.06578148114138054}, {500, 0.006743978620562654}}},
// END printed
  };
  return all;
}

TEST(Schedules, MatchKerasReference) {
  std::set<std::string> covered;
  for (const auto& c : reference_cases()) {
    const auto s = make_schedule(c.config);
    covered.insert(s->config().name);
    for (const auto& [step, want] : c.values) {
      // 1e-6 is what the brief asks; the two double computations agree far closer.
      EXPECT_NEAR((*s)(step), want, 1e-6) << c.name << " at step " << step;
      EXPECT_NEAR((*s)(step), want, 1e-15 + 1e-12 * std::fabs(want)) << c.name << " at step " << step;
    }
  }
  for (const auto& name : schedule_names()) EXPECT_TRUE(covered.count(name)) << name;
}

TEST(Schedules, NamesAndArguments) {
  EXPECT_EQ(schedule_names(),
            (std::vector<std::string>{"ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
                                      "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts"}));
  const auto a = schedule_arguments("cosinedecay");
  EXPECT_EQ(a.name, "CosineDecay");
  EXPECT_EQ(a.required, (std::vector<std::string>{"initial_learning_rate", "decay_steps"}));
  EXPECT_EQ(a.optional, (std::vector<std::string>{"alpha", "warmup_target", "warmup_steps"}));
  try {
    schedule_arguments("StepDecay");
    ADD_FAILURE() << "no ArgumentError";
  } catch (const ArgumentError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("StepDecay"), std::string::npos) << m;
    EXPECT_NE(m.find("CosineDecayRestarts"), std::string::npos) << m;  // lists the valid ones
  }
}

TEST(Schedules, NewSchedulesCheckTheirArguments) {
  EXPECT_THROW(PolynomialDecay(0.1, 0), ArgumentError);
  EXPECT_THROW(PolynomialDecay(0.1, 10, -1.0), ArgumentError);
  EXPECT_THROW(InverseTimeDecay(0.1, -5, 0.5), ArgumentError);
  EXPECT_THROW(CosineDecayRestarts(0.1, 0), ArgumentError);
  EXPECT_THROW(CosineDecayRestarts(0.1, 10, 0.0), ArgumentError);  // t_mul > 0
  EXPECT_THROW(CosineDecayRestarts(0.1, 10, 2.0, 1.0, 1.5), ArgumentError);
  try {
    make_schedule({"CosineDecayRestarts", {{"initial_learning_rate", 0.1}}});
    ADD_FAILURE() << "no ArgumentError";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("first_decay_steps"), std::string::npos) << e.what();
  }
}

TEST(Schedules, NewSchedulesConfigRoundTrip) {
  const std::shared_ptr<const LearningRateSchedule> all[] = {
      std::make_shared<PolynomialDecay>(0.1, 100, 0.001, 0.5, true),
      std::make_shared<PolynomialDecay>(0.1, 100),
      std::make_shared<InverseTimeDecay>(0.1, 10, 0.5, true),
      std::make_shared<CosineDecayRestarts>(0.1, 40, 1.5, 0.8, 0.05)};
  for (const auto& s : all) {
    const auto copy = make_schedule(s->config());
    EXPECT_EQ(copy->config(), s->config()) << s->config().name;
    for (std::int64_t step : {0, 1, 7, 40, 99, 100, 101, 150, 1000}) EXPECT_EQ((*copy)(step), (*s)(step));
  }
  // Keras' defaults appear in config().
  const auto p = make_schedule({"PolynomialDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", 5}}});
  EXPECT_EQ(std::get<double>(p->config().options.at("end_learning_rate")), 0.0001);
  EXPECT_EQ(std::get<double>(p->config().options.at("power")), 1.0);
  EXPECT_EQ(std::get<bool>(p->config().options.at("cycle")), false);
  const auto r = make_schedule({"CosineDecayRestarts", {{"initial_learning_rate", 0.1}, {"first_decay_steps", 5}}});
  EXPECT_EQ(std::get<double>(r->config().options.at("t_mul")), 2.0);
  EXPECT_EQ(std::get<double>(r->config().options.at("m_mul")), 1.0);
  EXPECT_EQ(std::get<double>(r->config().options.at("alpha")), 0.0);
}

}  // namespace
}  // namespace dtrain::optimizers
