// Run directories: names, listing, retention of the last K and the best.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "dtrain/checkpoint.hpp"
#include "test_util.hpp"

namespace dtrain::checkpoint {
namespace {

namespace fs = std::filesystem;
using ckpt_test::ScratchDir;

// A tiny checkpoint at `step` with an optional monitored value.
CheckpointState small_state(std::int64_t step, std::optional<double> val_loss = std::nullopt) {
  CheckpointState s;
  s.progress.global_step = step;
  s.model.weights = {{"w", {2}, {1.0f, static_cast<float>(step)}}};
  if (val_loss) s.monitor = MonitorValue{"val_loss", *val_loss};
  return s;
}

std::vector<std::int64_t> steps_in(const std::string& dir) {
  std::vector<std::int64_t> out;
  for (const auto& e : list_checkpoints(dir)) out.push_back(e.step);
  return out;
}

TEST(RunDirectory, NamesAreZeroPaddedSteps) {
  EXPECT_EQ(checkpoint_path("runs/x", 200), "runs/x/ckpt-000200.h5");
  EXPECT_EQ(checkpoint_path("runs/x", 0), "runs/x/ckpt-000000.h5");
  EXPECT_EQ(checkpoint_path("runs/x", 12345678), "runs/x/ckpt-12345678.h5");
  EXPECT_THROW(checkpoint_path("runs/x", -1), ArgumentError);
}

TEST(RunDirectory, ListingSortsByStepAndIgnoresOtherFiles) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  for (const char* name :
       {"ckpt-1000000.h5", "ckpt-000200.h5", "ckpt-999999.h5", "ckpt-000010.h5", ".ckpt-000300.h5.abc123.tmp",
        "ckpt-00x1.h5", "ckpt-.h5", "model.h5", "ckpt-000400.h5.bak"}) {
    std::ofstream(dir.file(name)) << "x";
  }
  fs::create_directory(dir.file("ckpt-000500.h5"));  // a directory is not a checkpoint
  EXPECT_EQ(steps_in(d), (std::vector<std::int64_t>{10, 200, 999999, 1000000}));
  EXPECT_TRUE(list_checkpoints(d + "/missing").empty());
}

TEST(RunDirectory, RetentionKeepsTheLastK) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  CheckpointManager runs({.dir = d, .keep_last = 3});
  for (std::int64_t step : {100, 200, 300, 400, 500}) {
    EXPECT_EQ(runs.save(small_state(step)), checkpoint_path(d, step));
  }
  EXPECT_EQ(steps_in(d), (std::vector<std::int64_t>{300, 400, 500}));
}

TEST(RunDirectory, RetentionKeepsTheBestByMinAndMax) {
  // val_loss by step: 100: 0.9, 200: 0.4 (lowest), 300: 0.6, 400: 0.4 (tie, later), 500: 0.7,
  // 600: NaN. keep_last = 2 keeps 500 and 600; min keeps the earliest 0.4 (200);
  // max keeps 0.9 (100). NaN is never best.
  const std::vector<std::pair<std::int64_t, double>> runs_values = {
      {100, 0.9}, {200, 0.4}, {300, 0.6}, {400, 0.4}, {500, 0.7}, {600, std::nan("")}};
  for (auto mode : {MonitorMode::kMin, MonitorMode::kMax}) {
    ScratchDir dir;
    const std::string d = dir.path().string();
    CheckpointManager runs(
        {.dir = d, .keep_last = 2, .keep_best = true, .mode = mode, .monitor = "val_loss"});
    for (const auto& [step, v] : runs_values) runs.save(small_state(step, v));
    const std::int64_t best = mode == MonitorMode::kMin ? 200 : 100;
    EXPECT_EQ(steps_in(d), (std::vector<std::int64_t>{best, 500, 600}));
  }
}

TEST(RunDirectory, BestIgnoresOtherMonitorNames) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  auto s = small_state(100);
  s.monitor = MonitorValue{"loss", 0.01};  // best loss, but we monitor val_loss
  save_checkpoint(checkpoint_path(d, 100), s);
  save_checkpoint(checkpoint_path(d, 200), small_state(200, 0.5));
  save_checkpoint(checkpoint_path(d, 300), small_state(300, 0.6));
  const auto deleted = apply_retention(
      d, {.keep_last = 1, .keep_best = true, .mode = MonitorMode::kMin, .monitor = "val_loss"});
  EXPECT_EQ(deleted, (std::vector<std::string>{checkpoint_path(d, 100)}));
  EXPECT_EQ(steps_in(d), (std::vector<std::int64_t>{200, 300}));
}

TEST(RunDirectory, TheJustSavedCheckpointIsNeverDeleted) {
  // A stale ckpt-000900 of an earlier attempt has a higher step than the run that
  // resumed from 100: with keep_last = 1 the new 110 must still stay.
  ScratchDir dir;
  const std::string d = dir.path().string();
  CheckpointManager runs({.dir = d, .keep_last = 1});
  save_checkpoint(checkpoint_path(d, 900), small_state(900));
  save_checkpoint(checkpoint_path(d, 100), small_state(100));
  runs.save(small_state(110));
  EXPECT_EQ(steps_in(d), (std::vector<std::int64_t>{110, 900}));
}

TEST(RunDirectory, UnreadableFilesAreNeitherCountedNorDeleted) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  std::ofstream(checkpoint_path(d, 50)) << "garbage";
  std::vector<std::string> warnings;
  CheckpointManager runs({.dir = d, .keep_last = 2, .warn = [&](const std::string& w) { warnings.push_back(w); }});
  for (std::int64_t step : {100, 200, 300}) runs.save(small_state(step));
  // Issue 20 item 3: not deleted but moved out of the way, to corrupt/, and said so.
  EXPECT_EQ(steps_in(d), (std::vector<std::int64_t>{200, 300}));
  std::ifstream moved(d + "/corrupt/ckpt-000050.h5");
  std::string text;
  moved >> text;
  EXPECT_EQ(text, "garbage");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(warnings[0].starts_with("checkpoint " + checkpoint_path(d, 50) + " failed to verify ("))
      << warnings[0];
  EXPECT_TRUE(warnings[0].ends_with("moved to " + d + "/corrupt/ckpt-000050.h5")) << warnings[0];
}

TEST(RunDirectory, MoveToCorruptNeverOverwrites) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  std::ofstream(checkpoint_path(d, 50)) << "first";
  EXPECT_EQ(move_to_corrupt(d, checkpoint_path(d, 50)), d + "/corrupt/ckpt-000050.h5");
  std::ofstream(checkpoint_path(d, 50)) << "second";
  EXPECT_EQ(move_to_corrupt(d, checkpoint_path(d, 50)), d + "/corrupt/ckpt-000050.h5.1");
  EXPECT_FALSE(fs::exists(checkpoint_path(d, 50)));
}

TEST(RunDirectory, EarlierRunIsDescribedAndMovedAsideWhole) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  EXPECT_TRUE(earlier_run(d).empty());
  EXPECT_EQ(move_earlier_run_aside(d), "");  // nothing to move
  CheckpointState s = small_state(100);
  s.created = "2026-12-04T10:11:12Z";
  save_checkpoint(checkpoint_path(d, 100), small_state(50));
  save_checkpoint(checkpoint_path(d, 200), s);
  std::ofstream(d + "/history.csv") << "epoch,loss,time\n";
  std::ofstream(d + "/notes.txt") << "mine";
  const auto run = earlier_run(d);
  ASSERT_EQ(run.checkpoints.size(), 2u);
  EXPECT_EQ(run.describe(), "ckpt-000200.h5 (step 200, written 2026-12-04T10:11:12Z) and 1 older checkpoint, history.csv");
  const std::string to = move_earlier_run_aside(d);
  EXPECT_TRUE(to.starts_with(d + "/previous-")) << to;
  EXPECT_TRUE(earlier_run(d).empty());
  EXPECT_FALSE(fs::exists(d + "/history.csv"));
  EXPECT_TRUE(fs::exists(d + "/notes.txt"));  // not the run's: stays
  EXPECT_EQ(steps_in(to), (std::vector<std::int64_t>{100, 200}));
  EXPECT_TRUE(fs::exists(to + "/history.csv"));
  save_checkpoint(checkpoint_path(d, 1), s);
  const std::string again = move_earlier_run_aside(d);  // within the same second: its own folder
  EXPECT_NE(again, to);
  EXPECT_EQ(steps_in(again), (std::vector<std::int64_t>{1}));
}

TEST(RunDirectory, ManagerFindsTheNewestValidCheckpoint) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  std::vector<std::string> warnings;
  CheckpointManager runs(
      {.dir = d, .keep_last = 5, .warn = [&](const std::string& w) { warnings.push_back(w); }});
  EXPECT_FALSE(runs.find_resume().has_value());
  runs.save(small_state(100));
  runs.save(small_state(200));
  const auto r = runs.find_resume();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->state.progress.global_step, 200);
  EXPECT_EQ(r->state.model.weights[0].data[1], 200.0f);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(runs.list().size(), 2u);
}

TEST(RunDirectory, BadOptionsAreNamed) {
  EXPECT_THROW(CheckpointManager({.dir = ""}), ArgumentError);
  EXPECT_THROW(CheckpointManager({.dir = "x", .keep_last = 0}), ArgumentError);
  EXPECT_THROW(apply_retention("x", {.keep_last = 0}), ArgumentError);
}

}  // namespace
}  // namespace dtrain::checkpoint
