// The learning-rate callbacks, with Keras' rules:
// ReduceLROnPlateau (keras/src/callbacks/reduce_lr_on_plateau.py): after
// `patience` epochs without an improvement larger than min_delta, lr =
// max(lr * factor, min_lr), then `cooldown` epochs in which nothing is counted.
// LearningRateScheduler: lr = schedule(epoch, lr) at the start of each epoch.
// Both act on the model's optimizer; the rate fit logs for an epoch
// ("learning_rate") is the one that epoch trained with.
#include "callback_test_util.hpp"

#include "dtrain/core/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace dtrain {
namespace {

using callback_test::logs;
using callback_test::regression_data;
using callback_test::tiny_model;

// The learning rate after each epoch of `values` (of o.monitor), starting at 0.1.
std::vector<double> rates(const ReduceLROnPlateauOptions& o, const std::vector<double>& values) {
  auto m = tiny_model(0.1);
  ReduceLROnPlateau plateau(o);
  plateau.set_model(&m);
  plateau.on_train_begin();
  std::vector<double> out;
  for (std::size_t e = 0; e < values.size(); ++e) {
    plateau.on_epoch_end(static_cast<std::int64_t>(e), logs({{o.monitor, values[e]}}));
    out.push_back(m.optimizer().learning_rate());
  }
  return out;
}

void expect_rates(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_DOUBLE_EQ(got[i], want[i]) << "after epoch " << i;
}

TEST(ReduceLROnPlateau, ReducesAfterPatienceEpochsWithoutImprovement) {
  expect_rates(rates({.factor = 0.5, .patience = 2, .min_delta = 0}, {1.0, 1.0, 1.0, 1.0, 1.0}),
               {0.1, 0.1, 0.05, 0.05, 0.025});
  // An improvement starts the count again.
  expect_rates(rates({.factor = 0.5, .patience = 2, .min_delta = 0}, {1.0, 1.0, 0.5, 0.5, 0.5}),
               {0.1, 0.1, 0.1, 0.1, 0.05});
  expect_rates(rates({.factor = 0.5, .patience = 1, .min_delta = 0}, {1.0, 0.9, 0.8, 0.7}), {0.1, 0.1, 0.1, 0.1});
}

TEST(ReduceLROnPlateau, ChangesSmallerThanMinDeltaAreNoImprovement) {
  // The default min_delta is 1e-4.
  expect_rates(rates({.factor = 0.5, .patience = 2}, {1.0, 0.99995, 0.99991}), {0.1, 0.1, 0.05});
  expect_rates(rates({.factor = 0.5, .patience = 2}, {1.0, 0.9998, 0.9996}), {0.1, 0.1, 0.1});
}

TEST(ReduceLROnPlateau, NeverGoesBelowMinLr) {
  expect_rates(rates({.factor = 0.1, .patience = 1, .min_delta = 0, .min_lr = 0.05}, {1.0, 1.0, 1.0, 1.0}),
               {0.1, 0.05, 0.05, 0.05});
}

TEST(ReduceLROnPlateau, CooldownEpochsCountNothing) {
  // patience 1, cooldown 2: a reduction, then two epochs in which the wait is
  // held at 0, then the next reduction on the first epoch after them.
  expect_rates(rates({.factor = 0.5, .patience = 1, .min_delta = 0, .cooldown = 2}, {1, 1, 1, 1, 1, 1}),
               {0.1, 0.05, 0.05, 0.025, 0.025, 0.0125});
}

TEST(ReduceLROnPlateau, ModeDecidesTheDirection) {
  // auto on an accuracy: larger is better.
  expect_rates(rates({.monitor = "val_accuracy", .factor = 0.5, .patience = 1}, {0.5, 0.6, 0.7}), {0.1, 0.1, 0.1});
  expect_rates(rates({.monitor = "val_accuracy", .factor = 0.5, .patience = 1}, {0.5, 0.4}), {0.1, 0.05});
  // max on a loss: a falling loss is no improvement.
  expect_rates(rates({.monitor = "loss", .factor = 0.5, .patience = 1, .mode = "max"}, {1.0, 0.5}), {0.1, 0.05});
}

TEST(ReduceLROnPlateau, BadOptionsAndAMissingMonitorAreErrors) {
  EXPECT_THROW((void)ReduceLROnPlateau({.factor = 1.0}), ArgumentError);
  EXPECT_THROW((void)ReduceLROnPlateau({.factor = 0.0}), ArgumentError);
  EXPECT_THROW((void)ReduceLROnPlateau({.mode = "lower"}), ArgumentError);
  ReduceLROnPlateau plateau({.monitor = "val_loss"});
  try {
    plateau.on_epoch_end(0, logs({{"loss", 1.0}}));
    FAIL() << "no error";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("'val_loss'"), std::string::npos) << e.what();
  }
}

TEST(ReduceLROnPlateau, StateCarriesTheCountToAnotherInstance) {
  const ReduceLROnPlateauOptions o{.factor = 0.5, .patience = 3, .min_delta = 0};
  ReduceLROnPlateau first(o);
  first.on_epoch_end(0, logs({{"val_loss", 1.0}}));
  first.on_epoch_end(1, logs({{"val_loss", 1.0}}));  // wait 1
  const Config state = first.state();
  EXPECT_EQ(state.get_int("wait", ""), 1);
  EXPECT_EQ(state.get_int("cooldown_counter", ""), 0);
  EXPECT_EQ(state.get_double("best", ""), 1.0);

  auto m = tiny_model(0.1);
  ReduceLROnPlateau second(o);
  second.set_model(&m);
  second.set_state(state);
  second.on_epoch_end(2, logs({{"val_loss", 1.0}}));  // wait 2
  EXPECT_DOUBLE_EQ(m.optimizer().learning_rate(), 0.1);
  second.on_epoch_end(3, logs({{"val_loss", 1.0}}));  // wait 3: reduce
  EXPECT_DOUBLE_EQ(m.optimizer().learning_rate(), 0.05);
}

TEST(ReduceLROnPlateau, InsideFitTheLoggedRateIsTheOneEachEpochUsed) {
  // min_delta 1e9: only the first epoch improves; patience 1 halves the rate at
  // the end of every later epoch.
  auto m = tiny_model(0.1);
  auto [x, y] = regression_data(32);
  auto plateau = std::make_shared<ReduceLROnPlateau>(
      ReduceLROnPlateauOptions{.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 1e9});
  const auto h = m.fit(x, y, {.batch_size = 8, .epochs = 3, .callbacks = {plateau}, .verbose = 0});
  expect_rates(h.values("learning_rate"), {0.1, 0.1, 0.05});
  EXPECT_DOUBLE_EQ(m.optimizer().learning_rate(), 0.025);
}

// ---- LearningRateScheduler ----------------------------------------------------------

TEST(LearningRateScheduler, SetsTheRateAtEachEpochsStartFromTheEpochAndTheCurrentRate) {
  auto m = tiny_model(0.1);
  std::vector<double> seen;
  LearningRateScheduler scheduler([&](std::int64_t epoch, double lr) {
    seen.push_back(lr);
    return epoch < 2 ? lr : lr * 0.5;  // Keras' docs example
  });
  scheduler.set_model(&m);
  std::vector<double> after;
  for (std::int64_t e = 0; e < 4; ++e) {
    scheduler.on_epoch_begin(e);
    after.push_back(m.optimizer().learning_rate());
  }
  expect_rates(after, {0.1, 0.1, 0.05, 0.025});
  expect_rates(seen, {0.1, 0.1, 0.1, 0.05});
}

TEST(LearningRateScheduler, InsideFitHistoryLogsTheScheduledRates) {
  auto m = tiny_model(1.0);
  auto [x, y] = regression_data(16);
  auto scheduler = std::make_shared<LearningRateScheduler>([](std::int64_t epoch, double) {
    return 0.1 / static_cast<double>(epoch + 1);
  });
  const auto h = m.fit(x, y, {.batch_size = 8, .epochs = 3, .callbacks = {scheduler}, .verbose = 0});
  expect_rates(h.values("learning_rate"), {0.1, 0.05, 0.1 / 3});
}

TEST(LearningRateScheduler, ANegativeOrNonFiniteRateIsAnErrorNamingTheEpoch) {
  auto m = tiny_model(0.1);
  for (double bad : {-0.1, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    LearningRateScheduler scheduler([bad](std::int64_t epoch, double lr) { return epoch == 2 ? bad : lr; });
    scheduler.set_model(&m);
    scheduler.on_epoch_begin(0);
    scheduler.on_epoch_begin(1);
    try {
      scheduler.on_epoch_begin(2);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const ArgumentError& e) {
      EXPECT_NE(std::string(e.what()).find("epoch 2"), std::string::npos) << e.what();
    }
    EXPECT_DOUBLE_EQ(m.optimizer().learning_rate(), 0.1);  // unchanged
  }
}

}  // namespace
}  // namespace dtrain
