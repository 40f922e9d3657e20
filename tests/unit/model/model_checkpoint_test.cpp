// ModelCheckpoint and Model::save / load / resume: the library resumes a run
// by itself (the dtrain command is a thin face over this).
#include "dtrain/checkpoint.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/layers/normalization.hpp"
#include "dtrain/model.hpp"
#include "dtrain/model/model_checkpoint.hpp"
#include "dtrain/optimizers/factory.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <filesystem>
#include <string>

namespace dtrain {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  auto dir = fs::path(::testing::TempDir()) / ("model_checkpoint_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

Model make_model() {
  auto model = Sequential({3}, {layers::Dense({.units = 8, .activation = "relu"}), layers::Dense({.units = 2})},
                          "small", /*seed=*/5);
  model.compile({.optimizer = optimizers::make_optimizer<float>("adam", {{"learning_rate", 0.05}}),
                 .loss = losses::parse_loss("sparse_categorical_crossentropy"),
                 .metrics = {"accuracy"}});
  return model;
}

struct Data {
  Tensor x{Shape{40, 3}}, y{Shape{40}};
  Data() {
    for (std::int64_t i = 0; i < 40; ++i) {
      for (int j = 0; j < 3; ++j) x.data()[3 * i + j] = static_cast<float>(std::sin(0.7 * static_cast<double>(i * 3 + j)));
      y.data()[i] = static_cast<float>(i % 2);
    }
  }
};

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(ModelCheckpoint, SavesEveryEpochAndEveryNStepsAndKeepsTheNewest) {
  const auto dir = scratch("steps");
  Data d;
  ArrayBatchSource data(d.x, d.y, {.batch_size = 8});  // 5 steps an epoch
  auto model = make_model();
  auto ckpt = std::make_shared<ModelCheckpoint>(
      ModelCheckpointOptions{.directory = dir.string(), .save_every_steps = 3, .keep = 2});
  model.fit(data, {.epochs = 2, .callbacks = {ckpt}, .verbose = 0});
  // Steps 3 (step), 5 (epoch), 6, 9 (step), 10 (epoch): the newest two remain.
  const auto kept = checkpoint::list_checkpoints(dir.string());
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].step, 9);
  EXPECT_EQ(kept[1].step, 10);
  EXPECT_EQ(ckpt->last_path(), checkpoint::checkpoint_path(dir.string(), 10));
  const auto s = checkpoint::load_checkpoint(kept[0].path);
  EXPECT_EQ(s.progress.epoch, 1);
  EXPECT_EQ(s.progress.step_in_epoch, 4);
  EXPECT_EQ(s.history.rows.size(), 1u);  // epoch 1's logs
}

TEST(ModelCheckpoint, ResumeGivesBackTheWatchedCallbacksStateAfterFitResetsThem) {
  const auto dir = scratch("early_stopping");
  Data d;
  ArrayBatchSource data(d.x, d.y, {.batch_size = 8});
  // Never improves by 10: the wait counter only grows, and stops the run at patience 3.
  EarlyStoppingOptions o{.monitor = "loss", .min_delta = 10, .patience = 3};
  {
    auto model = make_model();
    auto early = std::make_shared<EarlyStopping>(o);
    auto ckpt = std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.directory = dir.string()});
    ckpt->watch({early});
    model.fit(data, {.epochs = 2, .callbacks = {early, ckpt}, .verbose = 0});
    EXPECT_EQ(early->state().get_int("wait", "test"), 1);  // epoch 0 sets the best, epoch 1 waits
  }
  auto model = make_model();
  auto early = std::make_shared<EarlyStopping>(o);
  auto ckpt = std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.directory = dir.string()});
  ckpt->watch({early});
  const auto at = ckpt->resume(model);
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(at->epoch, 2);
  model.fit(data, {.epochs = 10, .initial_epoch = at->epoch, .callbacks = {early, ckpt}, .verbose = 0});
  // Waits 2 and 3 come at epochs 2 and 3: it stops there, as the uninterrupted run would.
  EXPECT_EQ(model.epochs_done(), 4);
}

// Asks the run to stop after global step `at`, as a preemption signal does in the
// dtrain command; ModelCheckpoint then writes the exact position.
class StopAt final : public Callback {
 public:
  explicit StopAt(std::int64_t at) : at_(at) {}
  void on_train_batch_end(std::int64_t, const Logs&) override {
    if (model_->global_step() == at_) model_->interrupted = true;
  }
  std::string name() const override { return "StopAt"; }

 private:
  std::int64_t at_;
};

// The run config's way in: AdamW by name, a CosineDecay with warm-up and the
// bias excluded from weight decay. 15 steps: warm-up over steps 0-3, the cosine
// over 4-11, then the floor alpha * 0.05.
Model make_scheduled_model() {
  auto model = Sequential({3}, {layers::Dense({.units = 8, .activation = "relu"}), layers::Dense({.units = 2})},
                          "small", /*seed=*/5);
  model.compile({.loss = losses::parse_loss("sparse_categorical_crossentropy"),
                 .optimizer_config = {"adamw",
                                      {{"weight_decay", 0.01}},
                                      optimizers::ScheduleConfig{"CosineDecay",
                                                                 {{"initial_learning_rate", 0.0},
                                                                  {"decay_steps", 8},
                                                                  {"alpha", 0.1},
                                                                  {"warmup_target", 0.05},
                                                                  {"warmup_steps", 4}}},
                                      {"bias"}}});
  return model;
}

TEST(ModelCheckpoint, AResumeMidScheduleIsBitwiseTheUninterruptedRun) {
  Data d;
  ArrayBatchSource data(d.x, d.y, {.batch_size = 8, .shuffle = true, .seed = 11});  // 5 steps an epoch
  auto straight = make_scheduled_model();
  straight.fit(data, {.epochs = 3, .verbose = 0});
  ASSERT_EQ(straight.optimizer().iterations(), 15);

  // Stopped after step 7 (inside epoch 1, in the cosine part), then resumed.
  const auto dir = scratch("schedule");
  {
    auto first = make_scheduled_model();
    auto ckpt = std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.directory = dir.string()});
    first.fit(data, {.epochs = 3, .callbacks = {std::make_shared<StopAt>(7), ckpt}, .verbose = 0});
    ASSERT_EQ(first.global_step(), 7);
    ASSERT_EQ(ckpt->last_path(), checkpoint::checkpoint_path(dir.string(), 7));
  }
  auto resumed = make_scheduled_model();
  auto ckpt = std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.directory = dir.string()});
  const auto at = ckpt->resume(resumed);
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(at->epoch, 1);
  EXPECT_EQ(at->step_in_epoch, 2);
  // The schedule continues where it stopped: the rate of iterations 7, not of 0.
  EXPECT_EQ(resumed.optimizer().iterations(), 7);
  EXPECT_DOUBLE_EQ(resumed.optimizer().learning_rate(),
                   0.05 * (0.9 * 0.5 * (1 + std::cos(std::numbers::pi * 3.0 / 8.0)) + 0.1));
  resumed.fit(data, {.epochs = 3, .initial_epoch = at->epoch, .initial_step = at->step_in_epoch,
                     .callbacks = {ckpt}, .verbose = 0});
  EXPECT_EQ(resumed.optimizer().iterations(), 15);
  EXPECT_EQ(resumed.optimizer().learning_rate(), straight.optimizer().learning_rate());
  EXPECT_TRUE(same_bits(resumed.weights(), straight.weights()));
  EXPECT_EQ(resumed.optimizer().config(), straight.optimizer().config());
}

TEST(ModelCheckpoint, NothingToResumeIsAFreshStart) {
  auto model = make_model();
  ModelCheckpoint ckpt({.directory = scratch("empty").string()});
  EXPECT_FALSE(ckpt.resume(model).has_value());
  EXPECT_EQ(model.global_step(), 0);
}

TEST(ModelSave, LoadRebuildsTheCompiledModelWithItsStateAndSummary) {
  const auto path = scratch("save") / "model.h5";
  Data d;
  auto model = make_model();
  model.fit(d.x, d.y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  model.save(path.string());
  auto loaded = Model::load(path.string());
  EXPECT_EQ(loaded.summary(), model.summary());
  EXPECT_TRUE(loaded.compiled());
  EXPECT_EQ(loaded.optimizer().name(), "adam");
  EXPECT_EQ(loaded.optimizer().iterations(), model.optimizer().iterations());
  EXPECT_EQ(loaded.global_step(), 10);
  EXPECT_EQ(loaded.epochs_done(), 2);
  EXPECT_TRUE(same_bits(loaded.weights(), model.weights()));
  // One more epoch each: the same bits (optimizer slots came along).
  model.fit(d.x, d.y, {.batch_size = 8, .epochs = 1, .shuffle = false, .verbose = 0});
  loaded.fit(d.x, d.y, {.batch_size = 8, .epochs = 1, .shuffle = false, .verbose = 0});
  EXPECT_TRUE(same_bits(loaded.weights(), model.weights()));
}

// LayerNormalization (both weights, and gamma only) and RMSNormalization in a
// trained model: Model::save / load and save_weights / load_weights keep every
// weight bit, the layers' arguments and their Keras weight names.
TEST(ModelSave, NormalizationLayersRoundTripWithTheirWeightsAndArguments) {
  const auto dir = scratch("normalization");
  Data d;
  auto model = Sequential({3},
                          {layers::Dense({.units = 8}), layers::LayerNormalization(),
                           layers::Dense({.units = 8, .activation = "relu"}),
                           layers::LayerNormalization({.epsilon = 1e-5, .center = false}),
                           layers::RMSNormalization(), layers::Dense({.units = 2})},
                          "normed", 3);
  model.compile({.optimizer = optimizers::make_optimizer<float>("adam", {{"learning_rate", 0.05}}),
                 .loss = losses::parse_loss("sparse_categorical_crossentropy")});
  const auto gamma_before = model.weight("layer_normalization/gamma").data[0];
  model.fit(d.x, d.y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  EXPECT_NE(model.weight("layer_normalization/gamma").data[0], gamma_before);  // trained
  EXPECT_EQ(model.weight("layer_normalization/beta").shape, (Shape{8}));
  EXPECT_EQ(model.weight("layer_normalization_1/gamma").shape, (Shape{8}));
  EXPECT_THROW(model.weight("layer_normalization_1/beta"), ArgumentError);  // center=False: none
  EXPECT_EQ(model.weight("rms_normalization/scale").shape, (Shape{8}));

  const auto path = (dir / "model.h5").string();
  fs::create_directories(dir);
  model.save(path);
  auto loaded = Model::load(path);
  EXPECT_EQ(loaded.summary(), model.summary());
  EXPECT_TRUE(same_bits(loaded.weights(), model.weights()));
  const auto records = loaded.records();
  ASSERT_EQ(records.size(), 7u);  // InputLayer first
  EXPECT_EQ(records[4].type, "LayerNormalization");
  EXPECT_EQ(records[4].config.get_double("epsilon", ""), 1e-5);
  EXPECT_FALSE(records[4].config.get_bool("center", ""));
  EXPECT_EQ(records[5].type, "RMSNormalization");
  // One more epoch each: the same bits.
  model.fit(d.x, d.y, {.batch_size = 8, .epochs = 1, .shuffle = false, .verbose = 0});
  loaded.fit(d.x, d.y, {.batch_size = 8, .epochs = 1, .shuffle = false, .verbose = 0});
  EXPECT_TRUE(same_bits(loaded.weights(), model.weights()));

  // Weights only, into a model of the same architecture and another seed.
  const auto weights = (dir / "weights.h5").string();
  model.save_weights(weights);
  auto other = Model::from_records(model.records(), "other", 99);
  EXPECT_FALSE(same_bits(other.weights(), model.weights()));
  other.load_weights(weights);
  EXPECT_TRUE(same_bits(other.weights(), model.weights()));
}

TEST(ModelSave, AnUncompiledModelLoadsWithItsWeightsOnly) {
  const auto path = scratch("uncompiled") / "model.h5";
  auto model = Sequential({3}, {layers::Dense({.units = 4})}, "plain", 1);
  model.save(path.string());
  auto loaded = Model::load(path.string());
  EXPECT_FALSE(loaded.compiled());
  EXPECT_TRUE(same_bits(loaded.weights(), model.weights()));
}

TEST(ModelSave, WeightsOnlyFilesAndMismatchesAreClearErrors) {
  const auto dir = scratch("errors");
  auto model = make_model();
  model.save_weights((dir / "weights.h5").string());
  try {
    (void)Model::load((dir / "weights.h5").string());
    FAIL() << "no error";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("holds weights only"), std::string::npos) << e.what();
  }
  model.save((dir / "small.h5").string());
  auto other = Sequential({3}, {layers::Dense({.units = 9}), layers::Dense({.units = 2})}, "small", 5);
  other.compile({.optimizer = optimizers::make_optimizer<float>("adam", {}),
                 .loss = losses::parse_loss("sparse_categorical_crossentropy")});
  EXPECT_THROW(other.resume((dir / "small.h5").string()), Error);
  auto sgd = Sequential({3}, {layers::Dense({.units = 8, .activation = "relu"}), layers::Dense({.units = 2})}, "small", 5);
  sgd.compile({.optimizer = optimizers::make_optimizer<float>("sgd", {}),
               .loss = losses::parse_loss("sparse_categorical_crossentropy")});
  EXPECT_THROW(sgd.resume((dir / "small.h5").string()), ArgumentError);
}

}  // namespace
}  // namespace dtrain
