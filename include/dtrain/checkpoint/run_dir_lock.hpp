// dtrain::checkpoint::RunDirectoryLock — one run at a time in a run directory.
//
//   checkpoint::RunDirectoryLock lock("runs/x", {.job_id = "1234"});  // throws RunDirectoryLocked
//   ... train, save checkpoints, write history.csv ...
//   // the destructor removes runs/x/dtrain.lock (also when an exception unwinds)
//
// The lock is the file <dir>/dtrain.lock, created with O_CREAT|O_EXCL (atomic on a
// local file system and on NFSv3+ shared by several hosts) and holding
//   host=<hostname>  pid=<pid>  job_id=<SLURM_JOB_ID or empty>  started=<UTC ISO 8601>
// one per line. A lock left behind by a process that died without unwinding
// (kill -9, a node lost) is *stale* and taken over, with one warning, when
//   1. its host is this host and no process with its pid is alive, or
//   2. its job id is not empty and equals this run's (a requeued Slurm job: the
//      earlier run of the same job is over before the job runs again), or
//   3. `force` is set (--force-unlock: the user says the holder is gone).
// Any other lock is held: the constructor throws RunDirectoryLocked naming the
// holder. A lock from another host is never judged by pid (that pid means
// nothing here). A lock file without host and pid (its writer died in the instant
// between creating and filling it) is held too, unless `force`.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "dtrain/core/error.hpp"

namespace dtrain::checkpoint {

inline constexpr const char* kLockFileName = "dtrain.lock";

// Who holds a run directory.
struct LockHolder {
  std::string host;
  long pid = 0;
  std::string job_id;   // "" outside a batch job
  std::string started;  // UTC, "2026-12-04T10:11:12Z"
  // "host node1 pid 4242 (job 1234) since 2026-12-04T10:11:12Z"
  std::string describe() const;
};

// Another run holds the directory: a usage error (exit code 2 in the dtrain command).
class RunDirectoryLocked : public ArgumentError {
 public:
  RunDirectoryLocked(const std::string& what, LockHolder holder) : ArgumentError(what), holder_(std::move(holder)) {}
  const LockHolder& holder() const { return holder_; }

 private:
  LockHolder holder_;
};

struct RunDirectoryLockOptions {
  std::string job_id;  // this run's batch job id ("" none); the caller reads SLURM_JOB_ID
  bool force = false;  // take over any lock (--force-unlock)
  std::function<void(const std::string&)> warn;  // the stale-lock warning (default: standard error)
};

class RunDirectoryLock {
 public:
  // Creates `dir` if needed and takes the lock, or throws RunDirectoryLocked; an
  // I/O failure (read-only directory, ...) throws Error naming the lock file.
  explicit RunDirectoryLock(const std::string& dir, RunDirectoryLockOptions options = {});
  ~RunDirectoryLock();  // release()
  RunDirectoryLock(const RunDirectoryLock&) = delete;
  RunDirectoryLock& operator=(const RunDirectoryLock&) = delete;

  // Removes the lock file if it is still this process's, and the directory if this
  // lock created it and it is empty; idempotent, never throws.
  void release() noexcept;
  const std::string& path() const { return path_; }
  const LockHolder& holder() const { return self_; }

  // The lock of `dir` as written, or nullopt if there is none (or it cannot be read).
  static std::optional<LockHolder> read(const std::string& dir);

 private:
  std::string path_;
  LockHolder self_;
  std::string created_dir_;  // `dir` if the constructor created it
  bool held_ = false;
};

}  // namespace dtrain::checkpoint
