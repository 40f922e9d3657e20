// check_run (src/cli/run_checks.cpp): what `dtrain train` refuses before training
// once it knows the data file, the compiled model and the rank count. The data
// file is described by hand (DatasetInfo); the config is read by load_run_config.
#include "cli/run_checks.hpp"

#include "cli/run_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

namespace dtrain::cli {
namespace {

namespace fs = std::filesystem;

// A file of 100 rows of 4 features: 3 classes, or 2 float targets.
data::DatasetInfo dataset(data::Task task) {
  data::DatasetInfo info;
  info.path = "d.h5";
  data::SplitInfo s;
  s.name = "train";
  s.rows = 100;
  s.sample_shape = Shape{4};
  s.task = task;
  s.targets = task == data::Task::kRegression ? 2 : 1;
  s.y_rank = task == data::Task::kRegression ? 2 : 1;
  info.splits = {s};
  info.task = task;
  info.num_classes = task == data::Task::kClassification ? 3 : 0;
  return info;
}

class RunChecksTest : public ::testing::Test {
 protected:
  // Loads `yaml` (data.file is never opened here), builds and compiles its model
  // on the file's sample shape and runs check_run; returns its error ("" if none).
  std::string check(const std::string& yaml, const data::DatasetInfo& data, TrainArgs args = {}, int ranks = 1) {
    const auto path = dir_ / "job.yaml";
    std::ofstream(path) << yaml;
    auto cfg = load_run_config(path.string(), args.overrides);
    cfg.layers.front().config.set("shape", data.splits.front().sample_shape.to_vector());
    auto model = Model::from_records(cfg.layers, cfg.model_name, cfg.seed);
    model.compile({.loss = cfg.loss, .metrics = cfg.metrics, .optimizer_config = cfg.optimizer});
    try {
      check_run(cfg, args, model, data, ranks);
    } catch (const ArgumentError& e) {
      return e.what();
    }
    return "";
  }

  static std::string config(const std::string& units, const std::string& compile, const std::string& rest = "") {
    return "data: {file: d.h5, validation: val}\nmodel:\n  layers:\n    - Dense: {units: " + units +
           "}\ncompile: " + compile + "\nfit:\n  epochs: 1\n" + rest;
  }

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / ("run_checks_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

const auto kIds = data::Task::kClassification;
const auto kTargets = data::Task::kRegression;
const std::string kSparse = "{loss: sparse_categorical_crossentropy, from_logits: true, metrics: [accuracy]}";

TEST_F(RunChecksTest, AModelThatFitsItsDataPasses) {
  EXPECT_EQ(check(config("3", kSparse), dataset(kIds)), "");
  EXPECT_EQ(check(config("2", "{loss: mse}"), dataset(kTargets)), "");
  EXPECT_EQ(check(config("1", "{loss: binary_crossentropy}"), [] {
              auto d = dataset(kIds);
              d.num_classes = 2;
              return d;
            }()),
            "");
}

TEST_F(RunChecksTest, OutputUnitsMustBeOnePerClassOrTarget) {
  const auto e = check(config("5", kSparse), dataset(kIds));
  EXPECT_HAS(e, "job.yaml: the output layer 'dense' (Dense, output [5]) does not fit d.h5 /train/y, which holds "
                "class ids ([100], 3 classes): sparse_categorical_crossentropy needs an output [3], one unit per class");
  EXPECT_HAS(check(config("3", "{loss: mse}"), dataset(kTargets)),
             "output [3]) does not fit d.h5 /train/y, which holds float targets ([100, 2]): mean_squared_error needs "
             "an output [2], one unit per target");
  EXPECT_HAS(check(config("3", "{loss: mse}"), dataset(kIds)),
             "mean_squared_error compares the output with a label of the same shape");
}

// Token data: x [100, 6] token ids, y [100, 6] one class id per token, 3 classes.
data::DatasetInfo tokens() {
  auto d = dataset(kIds);
  d.splits[0].sample_shape = Shape{6};
  d.splits[0].targets = 6;
  d.splits[0].y_rank = 2;
  return d;
}

std::string embedding_config(const std::string& units) {
  return "data: {file: d.h5}\nmodel:\n  layers:\n    - Embedding: {name: tok, input_dim: 3, output_dim: 4}\n"
         "    - Dense: {units: " +
         units + "}\ncompile: " + kSparse + "\nfit:\n  epochs: 1\n";
}

TEST_F(RunChecksTest, PerTokenLabelsNeedOneUnitPerClassForEveryToken) {
  EXPECT_EQ(check(embedding_config("3"), tokens()), "");
  EXPECT_HAS(check(embedding_config("5"), tokens()),
             "job.yaml: the output layer 'dense' (Dense, output [6, 5]) does not fit d.h5 /train/y, which holds "
             "class ids ([100, 6], 3 classes): sparse_categorical_crossentropy needs an output [6, 3], one unit per "
             "class for every token");
  // A per-sequence output (GlobalAveragePooling1D) for per-token labels.
  const auto pooled = "data: {file: d.h5}\nmodel:\n  layers:\n    - Embedding: {input_dim: 3, output_dim: 4}\n"
                      "    - GlobalAveragePooling1D: {}\n    - Dense: {units: 3}\ncompile: " +
                      kSparse + "\nfit:\n  epochs: 1\n";
  EXPECT_HAS(check(pooled, tokens()), "(Dense, output [3]) does not fit d.h5 /train/y, which holds class ids "
                                      "([100, 6], 3 classes): sparse_categorical_crossentropy needs an output [6, 3]");
}

TEST_F(RunChecksTest, TheLossMustFitTheLabelType) {
  EXPECT_HAS(check(config("2", kSparse), dataset(kTargets)),
             "job.yaml: compile.loss: sparse_categorical_crossentropy needs integer class ids, but d.h5 /train/y holds "
             "float targets");
  EXPECT_HAS(check(config("3", "{loss: categorical_crossentropy}"), dataset(kIds)),
             "compile.loss: categorical_crossentropy needs one-hot float targets [N, classes]");
  EXPECT_HAS(check(config("1", "{loss: binary_crossentropy}"), dataset(kIds)),
             "compile.loss: binary_crossentropy needs labels 0 and 1, but d.h5 /train/y holds class ids ([100], 3 classes)");
  // Given with --set, the key is named so.
  TrainArgs args;
  args.overrides = {"compile.loss=categorical_crossentropy"};
  EXPECT_HAS(check(config("3", kSparse), dataset(kIds), args),
             "--set compile.loss=categorical_crossentropy: compile.loss: categorical_crossentropy needs");
}

TEST_F(RunChecksTest, MonitorsMustBeFiguresOfTheRun) {
  const std::string es = "  callbacks:\n    - EarlyStopping: {monitor: val_acc}\n";
  EXPECT_EQ(check(config("3", kSparse, "  callbacks:\n    - EarlyStopping: {monitor: val_accuracy}\n"), dataset(kIds)), "");
  EXPECT_HAS(check(config("3", kSparse, es), dataset(kIds)),
             "job.yaml:9: fit.callbacks[0].EarlyStopping.monitor: 'val_acc' is not a figure this run logs (it logs "
             "loss, accuracy, val_loss, val_accuracy, learning_rate)");
  // No validation data: no val_ figures, the default monitor (val_loss) included.
  const auto no_val = [](std::string yaml) { return yaml.replace(yaml.find(", validation: val"), 17, ""); };
  EXPECT_HAS(check(no_val(config("3", kSparse, "  callbacks:\n    - ReduceLROnPlateau: {}\n")), dataset(kIds)),
             "fit.callbacks[0].ReduceLROnPlateau.monitor: 'val_loss' (the default) is not a figure this run logs (it "
             "logs loss, accuracy, learning_rate); val_ figures need data.validation");
  EXPECT_HAS(check(config("3", kSparse, "checkpoint: {monitor: acc}\n"), dataset(kIds)),
             "job.yaml: checkpoint.monitor: 'acc' is not a figure this run logs");
  TrainArgs args;
  args.overrides = {"checkpoint.monitor=loss_val"};
  EXPECT_HAS(check(config("3", kSparse), dataset(kIds), args), "--set checkpoint.monitor=loss_val: checkpoint.monitor:");
}

TEST_F(RunChecksTest, FailRankMustBeARankOfTheJob) {
  TrainArgs args;
  args.fail_rank = 1;
  EXPECT_EQ(check(config("3", kSparse), dataset(kIds), args, 2), "");
  EXPECT_EQ(check(config("3", kSparse), dataset(kIds), args, 1), "--fail-rank 1: must be less than the number of ranks (1)");
}

}  // namespace
}  // namespace dtrain::cli
