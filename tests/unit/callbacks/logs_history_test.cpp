// Logs, format_logs, History, TerminateOnNaN, and the Callback contract as fit
// drives it: the hooks' order, params, the model pointer and the keys of the
// epoch logs (Keras order: loss, metrics, val_loss, val_metrics, learning_rate).
#include "callback_test_util.hpp"

#include "dtrain/core/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace dtrain {
namespace {

using callback_test::logs;
using callback_test::regression_data;
using callback_test::tiny_model;

TEST(Logs, KeepInsertionOrderAndOverwriteInPlace) {
  Logs l;
  l.set("loss", 0.5);
  l.set("accuracy", 0.25);
  l.set("loss", 0.4);  // same key: replaced where it was
  ASSERT_EQ(l.items().size(), 2u);
  EXPECT_EQ(l.items()[0].first, "loss");
  EXPECT_EQ(l.items()[0].second, 0.4);
  EXPECT_EQ(l.items()[1].first, "accuracy");
  EXPECT_TRUE(l.has("accuracy"));
  EXPECT_FALSE(l.has("val_loss"));
  EXPECT_EQ(l.get("accuracy"), 0.25);
}

TEST(Logs, AMissingKeyIsAnErrorNamingItAndTheKeysThereAre) {
  const auto l = logs({{"loss", 1.0}, {"accuracy", 0.5}});
  try {
    l.get("val_loss");
    FAIL() << "no error";
  } catch (const ArgumentError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'val_loss'"), std::string::npos) << what;
    EXPECT_NE(what.find("available: loss, accuracy"), std::string::npos) << what;
  }
}

TEST(FormatLogs, IsKerasLogLine) {
  EXPECT_EQ(format_logs(logs({{"loss", 0.43214}, {"accuracy", 0.87654}})), "loss: 0.4321 - accuracy: 0.8765");
  EXPECT_EQ(format_logs(logs({{"loss", 0.0}})), "loss: 0.0000");
  EXPECT_EQ(format_logs(Logs()), "");
  // Very small and very large figures in scientific notation, 4 decimals.
  EXPECT_EQ(format_logs(logs({{"learning_rate", 1e-5}})), "learning_rate: 1.0000e-05");
  EXPECT_EQ(format_logs(logs({{"loss", 12345.678}})), "loss: 1.2346e+04");
  EXPECT_EQ(format_logs(logs({{"loss", -0.5}})), "loss: -0.5000");
}

TEST(History, KeepsEveryEpochsLogs) {
  History h;
  h.on_epoch_end(0, logs({{"loss", 1.0}, {"accuracy", 0.5}}));
  h.on_epoch_end(1, logs({{"loss", 0.8}, {"accuracy", 0.6}}));
  h.on_epoch_end(2, logs({{"loss", 0.7}, {"accuracy", 0.7}}));
  ASSERT_EQ(h.epochs().size(), 3u);
  EXPECT_EQ(h.values("loss"), (std::vector<double>{1.0, 0.8, 0.7}));
  EXPECT_EQ(h.values("accuracy"), (std::vector<double>{0.5, 0.6, 0.7}));
  EXPECT_THROW(h.values("val_loss"), ArgumentError);
  EXPECT_EQ(h.name(), "History");
}

TEST(TerminateOnNaN, StopsOnANonFiniteLossOnly) {
  auto m = tiny_model();
  TerminateOnNaN t;
  t.set_model(&m);
  t.on_train_batch_end(0, logs({{"loss", 0.5}}));
  EXPECT_FALSE(m.stop_training);
  t.on_train_batch_end(1, logs({{"accuracy", std::numeric_limits<double>::quiet_NaN()}}));  // not the loss
  EXPECT_FALSE(m.stop_training);
  t.on_train_batch_end(2, logs({{"loss", std::numeric_limits<double>::quiet_NaN()}}));
  EXPECT_TRUE(m.stop_training);
  m.stop_training = false;
  t.on_train_batch_end(3, logs({{"loss", std::numeric_limits<double>::infinity()}}));
  EXPECT_TRUE(m.stop_training);
}

TEST(TerminateOnNaN, EndsADivergingFitInTheFirstEpoch) {
  auto m = tiny_model(1e30);  // diverges at once
  auto [x, y] = regression_data(64);
  auto h = m.fit(x, y, {.batch_size = 8, .epochs = 5, .shuffle = false, .callbacks = {std::make_shared<TerminateOnNaN>()},
                        .verbose = 0});
  EXPECT_EQ(h.epochs().size(), 1u);
  EXPECT_FALSE(std::isfinite(h.values("loss")[0]));
}

// Writes down every hook fit calls, with what the callback can see at that time.
class Recorder final : public Callback {
 public:
  std::string name() const override { return "Recorder"; }
  void on_train_begin() override {
    events.push_back("train_begin");
    model_seen = model_;
    params_seen = params_;
  }
  void on_epoch_begin(std::int64_t epoch) override { events.push_back("epoch_begin " + std::to_string(epoch)); }
  void on_train_batch_end(std::int64_t step, const Logs& logs) override {
    events.push_back("batch_end " + std::to_string(step));
    EXPECT_TRUE(logs.has("loss"));
  }
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override {
    events.push_back("epoch_end " + std::to_string(epoch));
    epoch_keys.clear();
    for (const auto& [k, v] : logs.items()) epoch_keys.push_back(k);
  }
  void on_train_end(const Logs&) override { events.push_back("train_end"); }

  std::vector<std::string> events;
  std::vector<std::string> epoch_keys;
  Model* model_seen = nullptr;
  TrainParams params_seen;
};

TEST(CallbackContract, FitCallsTheHooksInOrderWithParamsAndModel) {
  auto m = tiny_model(0.01, {"mae"});
  auto [x, y] = regression_data(40);
  auto rec = std::make_shared<Recorder>();
  // 40 rows, validation_split 0.2: 32 training rows, 4 steps of 8.
  const auto h = m.fit(x, y, {.batch_size = 8, .epochs = 2, .shuffle = false, .validation_split = 0.2,
                              .callbacks = {rec}, .verbose = 0});
  const std::vector<std::string> want{"train_begin", "epoch_begin 0", "batch_end 0", "batch_end 1", "batch_end 2",
                                      "batch_end 3", "epoch_end 0",   "epoch_begin 1", "batch_end 0", "batch_end 1",
                                      "batch_end 2", "batch_end 3",   "epoch_end 1",   "train_end"};
  EXPECT_EQ(rec->events, want);
  EXPECT_EQ(rec->model_seen, &m);
  EXPECT_EQ(rec->params_seen.epochs, 2);
  EXPECT_EQ(rec->params_seen.steps, 4);
  EXPECT_EQ(rec->params_seen.verbose, 0);
  EXPECT_EQ(rec->epoch_keys, (std::vector<std::string>{"loss", "mae", "val_loss", "val_mae", "learning_rate"}));
  // fit's History holds the same epochs.
  ASSERT_EQ(h.epochs().size(), 2u);
  EXPECT_EQ(h.values("learning_rate"), (std::vector<double>{0.01, 0.01}));
}

TEST(CallbackContract, StopTrainingEndsFitAfterTheEpoch) {
  // A callback that asks to stop at the end of epoch 1.
  class StopAfterSecond final : public Callback {
   public:
    std::string name() const override { return "StopAfterSecond"; }
    void on_epoch_end(std::int64_t epoch, const Logs&) override {
      if (epoch == 1) model_->stop_training = true;
    }
  };
  auto m = tiny_model();
  auto [x, y] = regression_data(16);
  const auto h = m.fit(x, y, {.batch_size = 8, .epochs = 10, .callbacks = {std::make_shared<StopAfterSecond>()},
                              .verbose = 0});
  EXPECT_EQ(h.epochs().size(), 2u);
}

}  // namespace
}  // namespace dtrain
