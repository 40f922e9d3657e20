// Atomic save: a process that dies in the middle of saving the next checkpoint
// leaves the previous one intact and loadable, no half file under a final name,
// and a hidden temporary that listing ignores and the next save removes.
//
// The crash is real: a fork()ed child saves with a hook that SIGKILLs itself at a
// chosen stage ("dataset:<path>" after an array is written, "flushed" after the
// fsync but before the rename), and the parent inspects the directory.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <string>

#include "dtrain/checkpoint.hpp"
#include "test_util.hpp"

namespace dtrain::checkpoint {
namespace {

namespace fs = std::filesystem;
using ckpt_test::ScratchDir;

// Runs save_checkpoint(path, state) in a child that kills itself when `on_stage`
// reports `kill_at`. Returns the signal that ended the child (0 if it exited).
int save_and_die(const std::string& path, const CheckpointState& state, const std::string& kill_at) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    SaveHooks hooks{[&](std::string_view stage) {
      if (stage == kill_at) ::raise(SIGKILL);
    }};
    try {
      save_checkpoint(path, state, hooks);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

std::vector<std::string> hidden_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.starts_with('.')) out.push_back(name);
  }
  return out;
}

class AtomicSave : public ::testing::TestWithParam<const char*> {};

TEST_P(AtomicSave, CrashDuringTheNextSaveKeepsThePreviousCheckpoint) {
  ScratchDir dir;
  const auto first = ckpt_test::full_state(100);
  const std::string p100 = checkpoint_path(dir.path().string(), 100);
  const std::string p200 = checkpoint_path(dir.path().string(), 200);
  save_checkpoint(p100, first);

  ASSERT_EQ(save_and_die(p200, ckpt_test::full_state(200), GetParam()), SIGKILL);

  // No file under the final name, the previous one intact, one hidden temporary.
  EXPECT_FALSE(fs::exists(p200));
  ckpt_test::expect_same_state(first, load_checkpoint(p100));
  const auto temps = hidden_files(dir.path());
  ASSERT_EQ(temps.size(), 1u);
  EXPECT_TRUE(temps[0].starts_with(".ckpt-000200.h5.")) << temps[0];
  EXPECT_TRUE(temps[0].ends_with(".tmp")) << temps[0];

  // Listing and resuming ignore the temporary.
  const auto listed = list_checkpoints(dir.path().string());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].step, 100);
  std::vector<std::string> warnings;
  const auto resume =
      find_resume_checkpoint(dir.path().string(), [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(resume.has_value());
  EXPECT_EQ(resume->path, p100);
  EXPECT_TRUE(warnings.empty());

  // The next save removes the stale temporary and lands.
  save_checkpoint(p200, ckpt_test::full_state(200));
  EXPECT_TRUE(hidden_files(dir.path()).empty());
  EXPECT_EQ(load_checkpoint(p200).progress.global_step, 200);
}

// After the first weight is written (file half made) and after the fsync (file
// complete, not yet renamed).
INSTANTIATE_TEST_SUITE_P(Stages, AtomicSave,
                         ::testing::Values("dataset:/model/weights/dense_1/kernel", "flushed"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string name = p.param;  // "dataset_model_weights_dense_1_kernel"
                           std::string out;
                           for (char ch : name) {
                             if (std::isalnum(static_cast<unsigned char>(ch))) {
                               out += ch;
                             } else if (!out.empty() && out.back() != '_') {
                               out += '_';
                             }
                           }
                           return out;
                         });

TEST(AtomicSaveOverwrite, CrashWhileReplacingTheSameNameKeepsTheOldContent) {
  ScratchDir dir;
  const std::string path = dir.file("latest.h5");
  save_checkpoint(path, ckpt_test::full_state(100));
  ASSERT_EQ(save_and_die(path, ckpt_test::full_state(200), "flushed"), SIGKILL);
  EXPECT_EQ(load_checkpoint(path).progress.global_step, 100);
}

TEST(AtomicSaveOverwrite, RenameIsTheLastStep) {
  // A child killed right after "renamed" has the new file in place and no temporary.
  ScratchDir dir;
  const std::string path = dir.file("latest.h5");
  save_checkpoint(path, ckpt_test::full_state(100));
  ASSERT_EQ(save_and_die(path, ckpt_test::full_state(200), "renamed"), SIGKILL);
  EXPECT_EQ(load_checkpoint(path).progress.global_step, 200);
  EXPECT_TRUE(hidden_files(dir.path()).empty());
}

TEST(AtomicSaveOverwrite, AnErrorDuringTheSaveRemovesTheTemporary) {
  ScratchDir dir;
  const std::string path = dir.file("latest.h5");
  save_checkpoint(path, ckpt_test::full_state(100));
  SaveHooks failing{[](std::string_view stage) {
    if (stage == "dataset:/optimizer/slots/dense_1/kernel/m") throw CheckpointError("disk full (simulated)");
  }};
  EXPECT_THROW(save_checkpoint(path, ckpt_test::full_state(200), failing), CheckpointError);
  EXPECT_EQ(load_checkpoint(path).progress.global_step, 100);
  EXPECT_TRUE(hidden_files(dir.path()).empty());
}

}  // namespace
}  // namespace dtrain::checkpoint
