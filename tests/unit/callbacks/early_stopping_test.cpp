// EarlyStopping, with Keras' rules (keras/src/callbacks/early_stopping.py):
// every epoch from start_from_epoch on counts one more wait; an improvement
// (better than the best by more than min_delta, in the direction of mode)
// resets it; training stops when wait >= patience, never after epoch 0. The
// series below are fed straight to the callback so each rule shows alone; the
// last tests run it inside fit.
#include "callback_test_util.hpp"

#include "dtrain/core/error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dtrain {
namespace {

using callback_test::logs;
using callback_test::regression_data;
using callback_test::tiny_model;

// Feeds `values` of o.monitor to a fresh EarlyStopping on a real model, one
// epoch after the other; returns the epoch after which it asked fit to stop,
// or -1 if it never did.
std::int64_t stop_epoch(const EarlyStoppingOptions& o, const std::vector<double>& values) {
  auto m = tiny_model();
  EarlyStopping es(o);
  es.set_model(&m);
  es.on_train_begin();
  for (std::size_t e = 0; e < values.size(); ++e) {
    const auto epoch = static_cast<std::int64_t>(e);
    es.on_epoch_end(epoch, logs({{o.monitor, values[e]}}));
    if (m.stop_training) {
      EXPECT_EQ(es.stopped_epoch(), epoch);
      return epoch;
    }
  }
  EXPECT_EQ(es.stopped_epoch(), -1);
  return -1;
}

TEST(EarlyStopping, PatienceIsTheNumberOfEpochsWithoutImprovement) {
  // patience 0: the first epoch that does not improve stops.
  EXPECT_EQ(stop_epoch({.patience = 0}, {1.0, 1.1}), 1);
  EXPECT_EQ(stop_epoch({.patience = 0}, {1.0, 0.9, 0.8, 0.85}), 3);
  // patience 2: two epochs in a row without improvement.
  EXPECT_EQ(stop_epoch({.patience = 2}, {1.0, 0.9, 0.95, 0.96, 0.97}), 3);
  // An improvement in between starts the count again.
  EXPECT_EQ(stop_epoch({.patience = 2}, {1.0, 1.1, 0.9, 1.0, 1.0}), 4);
  EXPECT_EQ(stop_epoch({.patience = 3}, {1.0, 0.9, 0.8, 0.7, 0.6, 0.5}), -1);
}

TEST(EarlyStopping, EqualIsNotAnImprovement) {
  EXPECT_EQ(stop_epoch({.patience = 1}, {1.0, 1.0}), 1);
}

TEST(EarlyStopping, NeverStopsAfterTheFirstEpoch) {
  // With a baseline the first epoch can fail to improve; still only epoch 1 stops.
  EXPECT_EQ(stop_epoch({.patience = 0, .baseline = 0.5}, {1.0}), -1);
  EXPECT_EQ(stop_epoch({.patience = 0, .baseline = 0.5}, {1.0, 1.0}), 1);
}

TEST(EarlyStopping, MinDeltaIsTheSmallestChangeThatCounts) {
  // 1.0 -> 0.95 is less than 0.1 better: no improvement.
  EXPECT_EQ(stop_epoch({.min_delta = 0.1, .patience = 1}, {1.0, 0.95}), 1);
  EXPECT_EQ(stop_epoch({.min_delta = 0.1, .patience = 1}, {1.0, 0.85, 0.7}), -1);
  // Its sign does not matter (Keras takes the magnitude).
  EXPECT_EQ(stop_epoch({.min_delta = -0.1, .patience = 1}, {1.0, 0.95}), 1);
}

TEST(EarlyStopping, ModeSaysWhichDirectionIsBetter) {
  // max: larger is better.
  EXPECT_EQ(stop_epoch({.monitor = "loss", .patience = 0, .mode = "max"}, {1.0, 1.1, 1.2}), -1);
  EXPECT_EQ(stop_epoch({.monitor = "loss", .patience = 0, .mode = "max"}, {1.0, 0.9}), 1);
  // min on an accuracy: a rising accuracy does not improve.
  EXPECT_EQ(stop_epoch({.monitor = "val_accuracy", .patience = 0, .mode = "min"}, {0.5, 0.6}), 1);
}

TEST(EarlyStopping, AutoModeMaximisesAccuracyLikeFiguresAndMinimisesTheRest) {
  for (const std::string monitor : {"val_accuracy", "accuracy", "val_sparse_categorical_accuracy", "val_auc",
                                    "precision", "val_recall"}) {
    EXPECT_EQ(stop_epoch({.monitor = monitor, .patience = 0}, {0.5, 0.6, 0.7}), -1) << monitor;
    EXPECT_EQ(stop_epoch({.monitor = monitor, .patience = 0}, {0.5, 0.6, 0.55}), 2) << monitor;
  }
  for (const std::string monitor : {"val_loss", "loss", "val_mae", "mse"}) {
    EXPECT_EQ(stop_epoch({.monitor = monitor, .patience = 0}, {0.7, 0.6, 0.5}), -1) << monitor;
    EXPECT_EQ(stop_epoch({.monitor = monitor, .patience = 0}, {0.7, 0.6, 0.65}), 2) << monitor;
  }
}

TEST(EarlyStopping, BaselineMustBeBeaten) {
  // Never better than the baseline 0.5: two epochs of patience, then stop.
  EXPECT_EQ(stop_epoch({.patience = 2, .baseline = 0.5}, {0.6, 0.55, 0.52}), 1);
  // Beating it once counts as the best so far.
  EXPECT_EQ(stop_epoch({.patience = 1, .baseline = 0.5}, {0.4, 0.3, 0.35}), 2);
}

TEST(EarlyStopping, EpochsBeforeStartFromEpochAreIgnored) {
  EXPECT_EQ(stop_epoch({.patience = 0}, {1.0, 2.0, 3.0, 4.0}), 1);
  EXPECT_EQ(stop_epoch({.patience = 0, .start_from_epoch = 2}, {1.0, 2.0, 3.0, 4.0}), 3);
  EXPECT_EQ(stop_epoch({.patience = 0, .start_from_epoch = 2}, {1.0, 2.0, 3.0, 2.0}), -1);
}

TEST(EarlyStopping, AMonitorMissingFromTheLogsIsAnError) {
  EarlyStopping es({.monitor = "val_loss"});
  es.on_train_begin();
  try {
    es.on_epoch_end(0, logs({{"loss", 0.5}}));
    FAIL() << "no error";
  } catch (const ArgumentError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("EarlyStopping"), std::string::npos) << what;
    EXPECT_NE(what.find("'val_loss'"), std::string::npos) << what;
    EXPECT_NE(what.find("loss: 0.5000"), std::string::npos) << what;  // what the logs do hold
  }
}

TEST(EarlyStopping, BadOptionsAreArgumentErrors) {
  EXPECT_THROW((void)EarlyStopping({.mode = "maximum"}), ArgumentError);
  EXPECT_THROW((void)EarlyStopping({.patience = -1}), ArgumentError);
}

TEST(EarlyStopping, TrainBeginStartsAfresh) {
  auto m = tiny_model();
  EarlyStopping es({.patience = 0});
  es.set_model(&m);
  es.on_train_begin();
  es.on_epoch_end(0, logs({{"val_loss", 0.1}}));
  es.on_epoch_end(1, logs({{"val_loss", 0.2}}));
  EXPECT_EQ(es.stopped_epoch(), 1);
  // A new run: the old best (0.1) is forgotten, 0.3 is the first best.
  m.stop_training = false;
  es.on_train_begin();
  EXPECT_EQ(es.stopped_epoch(), -1);
  es.on_epoch_end(0, logs({{"val_loss", 0.3}}));
  es.on_epoch_end(1, logs({{"val_loss", 0.25}}));
  EXPECT_FALSE(m.stop_training);
}

TEST(EarlyStopping, StateCarriesWaitAndBestToAnotherInstance) {
  EarlyStopping first({.patience = 3});
  first.on_train_begin();
  first.on_epoch_end(0, logs({{"val_loss", 1.0}}));
  first.on_epoch_end(1, logs({{"val_loss", 1.2}}));  // wait 1
  const Config state = first.state();
  EXPECT_EQ(state.get_int("wait", ""), 1);
  EXPECT_EQ(state.get_double("best", ""), 1.0);
  EXPECT_TRUE(state.get_bool("has_best", ""));
  EXPECT_EQ(state.get_int("best_epoch", ""), 0);

  // The restored callback goes on counting (state is set after on_train_begin,
  // which starts a run afresh).
  auto m = tiny_model();
  EarlyStopping second({.patience = 3});
  second.set_model(&m);
  second.on_train_begin();
  second.set_state(state);
  second.on_epoch_end(2, logs({{"val_loss", 1.3}}));  // wait 2
  EXPECT_FALSE(m.stop_training);
  second.on_epoch_end(3, logs({{"val_loss", 1.1}}));  // wait 3: still worse than 1.0
  EXPECT_TRUE(m.stop_training);
  EXPECT_EQ(second.stopped_epoch(), 3);
}

// Weights of every value v, so each epoch's weights are recognisable.
void set_weights(Model& m, float v) { std::fill(m.weights().begin(), m.weights().end(), v); }

TEST(EarlyStopping, RestoreBestWeightsPutsBackTheBestEpochsWeightsWhenItStops) {
  auto m = tiny_model();
  EarlyStopping es({.patience = 2, .restore_best_weights = true});
  es.set_model(&m);
  es.on_train_begin();
  const std::vector<double> losses{1.0, 0.5, 0.7, 0.8};  // best at epoch 1, stop at 3
  for (std::size_t e = 0; e < losses.size(); ++e) {
    set_weights(m, static_cast<float>(e + 1));
    es.on_epoch_end(static_cast<std::int64_t>(e), logs({{"val_loss", losses[e]}}));
  }
  ASSERT_TRUE(m.stop_training);
  es.on_train_end(Logs());
  for (float w : m.weights()) ASSERT_EQ(w, 2.0f);  // epoch 1's
}

TEST(EarlyStopping, WithoutRestoreBestWeightsTheLastWeightsStay) {
  auto m = tiny_model();
  EarlyStopping es({.patience = 1});
  es.set_model(&m);
  es.on_train_begin();
  set_weights(m, 1.0f);
  es.on_epoch_end(0, logs({{"val_loss", 0.5}}));
  set_weights(m, 2.0f);
  es.on_epoch_end(1, logs({{"val_loss", 0.9}}));
  ASSERT_TRUE(m.stop_training);
  es.on_train_end(Logs());
  for (float w : m.weights()) ASSERT_EQ(w, 2.0f);
}

// Copies the weights at each epoch's end (placed before EarlyStopping in fit's list).
class WeightRecorder final : public Callback {
 public:
  std::string name() const override { return "WeightRecorder"; }
  void on_epoch_end(std::int64_t, const Logs&) override { epochs.emplace_back(model_->weights().begin(), model_->weights().end()); }
  std::vector<std::vector<float>> epochs;
};

TEST(EarlyStopping, InsideFitStopsAndRestores) {
  // min_delta 1e9: only the first epoch ever counts as an improvement, so with
  // patience 2 fit stops after epoch 2 and puts back the weights of epoch 0.
  auto m = tiny_model(0.05);
  auto [x, y] = regression_data(32);
  auto rec = std::make_shared<WeightRecorder>();
  auto es = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions{.monitor = "loss", .min_delta = 1e9, .patience = 2, .restore_best_weights = true});
  const auto h = m.fit(x, y, {.batch_size = 8, .epochs = 10, .shuffle = false, .callbacks = {rec, es}, .verbose = 0});
  EXPECT_EQ(h.epochs().size(), 3u);
  EXPECT_EQ(es->stopped_epoch(), 2);
  ASSERT_EQ(rec->epochs.size(), 3u);
  EXPECT_NE(rec->epochs[0], rec->epochs[2]);  // training did change them
  EXPECT_EQ(std::vector<float>(m.weights().begin(), m.weights().end()), rec->epochs[0]);
}

}  // namespace
}  // namespace dtrain
