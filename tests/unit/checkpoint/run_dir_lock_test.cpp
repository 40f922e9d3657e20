// RunDirectoryLock: one run per run directory; stale locks of dead processes, of
// an earlier run of the same job, and --force-unlock.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dtrain/checkpoint/run_dir_lock.hpp"
#include "test_util.hpp"

namespace dtrain::checkpoint {
namespace {

namespace fs = std::filesystem;
using ckpt_test::ScratchDir;

std::string host() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

// The pid of a process that has exited (and been reaped): no longer alive.
long dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

void write_lock(const std::string& dir, const std::string& host_name, long pid, const std::string& job = "") {
  fs::create_directories(dir);
  std::ofstream(dir + "/dtrain.lock") << "host=" << host_name << "\npid=" << pid << "\njob_id=" << job
                                      << "\nstarted=2026-01-02T03:04:05Z\n";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(RunDirectoryLock, WritesTheHolderAndRemovesItOnRelease) {
  ScratchDir dir;
  const std::string d = dir.path().string() + "/run";  // created by the lock
  {
    RunDirectoryLock lock(d, {.job_id = "77"});
    const auto holder = RunDirectoryLock::read(d);
    ASSERT_TRUE(holder.has_value());
    EXPECT_EQ(holder->host, host());
    EXPECT_EQ(holder->pid, static_cast<long>(getpid()));
    EXPECT_EQ(holder->job_id, "77");
    EXPECT_EQ(holder->started.size(), 20u) << holder->started;  // 2026-12-04T10:11:12Z
    EXPECT_EQ(lock.path(), d + "/dtrain.lock");
  }
  EXPECT_FALSE(fs::exists(d + "/dtrain.lock"));
  EXPECT_FALSE(fs::exists(d));  // created by the lock and left empty: removed again
  {
    RunDirectoryLock lock(d, {});
    std::ofstream(d + "/history.csv") << "epoch\n";
  }
  EXPECT_TRUE(fs::exists(d + "/history.csv"));  // a directory with the run's files stays
}

TEST(RunDirectoryLock, ASecondLockIsRefusedNamingTheHolder) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  RunDirectoryLock first(d, {.job_id = "12"});
  try {
    RunDirectoryLock second(d, {.job_id = "13"});
    FAIL() << "a second lock was granted";
  } catch (const RunDirectoryLocked& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(contains(msg, "run directory " + d + " is in use by host " + host() + " pid " +
                                  std::to_string(getpid()) + " (job 12) since ")) << msg;
    EXPECT_TRUE(contains(msg, "--force-unlock")) << msg;
    EXPECT_EQ(e.holder().job_id, "12");
  }
  EXPECT_TRUE(fs::exists(d + "/dtrain.lock"));  // the first one's lock is untouched
}

TEST(RunDirectoryLock, ADeadProcessOnThisHostLeavesAStaleLock) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  const long pid = dead_pid();
  write_lock(d, host(), pid);
  std::vector<std::string> warnings;
  RunDirectoryLock lock(d, {.warn = [&](const std::string& w) { warnings.push_back(w); }});
  EXPECT_EQ(RunDirectoryLock::read(d)->pid, static_cast<long>(getpid()));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(contains(warnings[0], "took over the stale lock")) << warnings[0];
  EXPECT_TRUE(contains(warnings[0], "no process " + std::to_string(pid) + " on this host")) << warnings[0];
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator{}), 1);  // no leftovers
}

// A rank killed with its mpirun, in a container whose init does not reap it, stays
// a zombie: kill(pid, 0) succeeds, but the run is over (e2e_mpi_kill_rank).
TEST(RunDirectoryLock, AZombieHoldsNothing) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  const pid_t child = fork();
  if (child == 0) _exit(0);
  for (int i = 0; i < 200 && !fs::exists("/proc/" + std::to_string(child)); ++i) usleep(1000);
  usleep(20000);  // exited, not reaped
  write_lock(d, host(), child);
  RunDirectoryLock lock(d, {.warn = [](const std::string&) {}});
  EXPECT_EQ(RunDirectoryLock::read(d)->pid, static_cast<long>(getpid()));
  int status = 0;
  waitpid(child, &status, 0);
}

TEST(RunDirectoryLock, AnotherHostsLockIsRespectedUnlessForced) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  write_lock(d, "some-other-node", dead_pid(), "500");
  EXPECT_THROW(RunDirectoryLock(d, {.job_id = "501"}), RunDirectoryLocked);
  std::vector<std::string> warnings;
  RunDirectoryLock lock(d, {.force = true, .warn = [&](const std::string& w) { warnings.push_back(w); }});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(contains(warnings[0], "some-other-node")) << warnings[0];
  EXPECT_TRUE(contains(warnings[0], "--force-unlock")) << warnings[0];
}

TEST(RunDirectoryLock, AnEarlierRunOfTheSameJobLeavesAStaleLock) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  write_lock(d, "node-before-requeue", 4242, "900");
  RunDirectoryLock lock(d, {.job_id = "900", .warn = [](const std::string&) {}});
  EXPECT_EQ(RunDirectoryLock::read(d)->host, host());
}

TEST(RunDirectoryLock, ALiveProcessOnThisHostHoldsIt) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  write_lock(d, host(), static_cast<long>(getppid()));  // alive: our parent
  EXPECT_THROW(RunDirectoryLock(d, {}), RunDirectoryLocked);
}

TEST(RunDirectoryLock, AnEmptyLockFileIsHeldUnlessForced) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  std::ofstream(d + "/dtrain.lock").flush();
  EXPECT_THROW(RunDirectoryLock(d, {}), RunDirectoryLocked);
  RunDirectoryLock lock(d, {.force = true, .warn = [](const std::string&) {}});
}

TEST(RunDirectoryLock, ReleaseLeavesALockThatIsNoLongerItsOwn) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  {
    RunDirectoryLock lock(d, {});
    write_lock(d, "other", 1);  // taken over meanwhile (--force-unlock elsewhere)
  }
  EXPECT_EQ(RunDirectoryLock::read(d)->host, "other");
}

}  // namespace
}  // namespace dtrain::checkpoint
