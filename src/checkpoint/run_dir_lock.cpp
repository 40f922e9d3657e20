// RunDirectoryLock: an O_EXCL lock file with the holder's host, pid, job and start.
#include "dtrain/checkpoint/run_dir_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "core/atomic_file.hpp"

namespace dtrain::checkpoint {
namespace {

namespace fs = std::filesystem;

std::string this_host() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string to_text(const LockHolder& h) {
  return "host=" + h.host + "\npid=" + std::to_string(h.pid) + "\njob_id=" + h.job_id + "\nstarted=" + h.started + "\n";
}

// The whole file, or nullopt if it does not exist (or cannot be read).
std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

LockHolder parse(const std::string& text) {
  LockHolder h;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const auto key = line.substr(0, eq);
    const auto value = line.substr(eq + 1);
    if (key == "host") h.host = value;
    if (key == "job_id") h.job_id = value;
    if (key == "started") h.started = value;
    if (key == "pid") {
      try {
        h.pid = std::stol(value);
      } catch (const std::exception&) {
        h.pid = 0;
      }
    }
  }
  return h;
}

// A zombie (killed, not yet reaped: e.g. a rank whose mpirun is gone, in a
// container whose init does not reap) counts as dead.
bool process_alive(long pid) {
  if (pid <= 0 || (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM)) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');  // "pid (comm) S ...": comm may hold spaces
  if (paren == std::string::npos || paren + 2 >= text.size()) return true;
  const char state = text[paren + 2];
  return state != 'Z' && state != 'X';
}

// Why `holder` is stale for `self` (see the header), or "" if it is held.
std::string stale_reason(const LockHolder& holder, const LockHolder& self, bool force) {
  if (force) return "taken over with --force-unlock";
  if (holder.host.empty() || holder.pid <= 0) return "";
  if (holder.host == self.host && holder.pid != self.pid && !process_alive(holder.pid)) {
    return "no process " + std::to_string(holder.pid) + " on this host";
  }
  if (!holder.job_id.empty() && holder.job_id == self.job_id) {
    return "left by an earlier run of this job " + holder.job_id;
  }
  return "";
}

}  // namespace

std::string LockHolder::describe() const {
  std::string s = "host " + (host.empty() ? std::string("?") : host) + " pid " + std::to_string(pid);
  if (!job_id.empty()) s += " (job " + job_id + ")";
  if (!started.empty()) s += " since " + started;
  return s;
}

std::optional<LockHolder> RunDirectoryLock::read(const std::string& dir) {
  const auto text = slurp((fs::path(dir) / kLockFileName).string());
  if (!text) return std::nullopt;
  return parse(*text);
}

RunDirectoryLock::RunDirectoryLock(const std::string& dir, RunDirectoryLockOptions options)
    : path_((fs::path(dir) / kLockFileName).string()) {
  self_ = {this_host(), static_cast<long>(getpid()), options.job_id, utc_now()};
  std::error_code ec;
  created_dir_ = fs::create_directories(dir, ec) ? dir : "";
  if (ec) throw Error("cannot create the run directory " + dir + ": " + ec.message());
  const auto warn = [&](const std::string& msg) {
    if (options.warn) {
      options.warn(msg);
    } else {
      std::cerr << "dtrain: warning: " << msg << '\n';
    }
  };
  // A few rounds: a stale lock is moved away, then created again with O_EXCL; a
  // process racing for the same stale lock makes one of us see a live lock.
  for (int attempt = 0; attempt < 5; ++attempt) {
    // The lock appears whole or not at all: written to a file of our own, then
    // hard-linked to the lock's name, which fails if a lock is there (a reader
    // never sees an empty lock file of a live run).
    const std::string mine = path_ + ".new." + std::to_string(self_.pid);
    const int fd = ::open(mine.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(path_ + ": cannot create the run directory's lock file: " + std::strerror(errno));
    const std::string own_text = to_text(self_);
    const bool written =
        ::write(fd, own_text.data(), own_text.size()) == static_cast<ssize_t>(own_text.size()) && ::fsync(fd) == 0;
    const int write_errno = errno;
    ::close(fd);
    if (!written) {
      ::unlink(mine.c_str());
      throw Error(path_ + ": cannot write the run directory's lock file: " + std::strerror(write_errno));
    }
    const bool linked = ::link(mine.c_str(), path_.c_str()) == 0;
    const int link_errno = errno;
    ::unlink(mine.c_str());
    if (linked) {
      held_ = true;
      try {
        fsync_directory(dir);
      } catch (...) {
        release();
        throw;
      }
      return;
    }
    if (link_errno != EEXIST) {
      throw Error(path_ + ": cannot create the run directory's lock file: " + std::strerror(link_errno));
    }
    const auto text = slurp(path_);
    if (!text) continue;  // released in between: try again
    const LockHolder holder = parse(*text);
    const std::string why = stale_reason(holder, self_, options.force);
    if (why.empty()) {
      throw RunDirectoryLocked("run directory " + dir + " is in use by " + holder.describe() + " (lock file " + path_ +
                                   "); if that run is gone, --force-unlock takes the lock over",
                               holder);
    }
    // Move the stale lock aside; only the process whose rename moved exactly the
    // stale text goes on to delete it.
    const std::string aside = path_ + ".stale." + std::to_string(self_.pid);
    if (::rename(path_.c_str(), aside.c_str()) != 0) continue;  // someone else moved it
    const auto moved = slurp(aside);
    if (moved && *moved != *text) {
      // A live lock a racing process had just created: put it back and look again.
      if (::link(aside.c_str(), path_.c_str()) != 0) {
        // Unlikely: a third process created a lock meanwhile; theirs stands.
      }
      ::unlink(aside.c_str());
      continue;
    }
    ::unlink(aside.c_str());
    warn("took over the stale lock of run directory " + dir + " held by " + holder.describe() + ": " + why);
  }
  const auto holder = read(dir).value_or(LockHolder{});
  throw RunDirectoryLocked("run directory " + dir + " is in use by " + holder.describe() + " (lock file " + path_ + ")",
                           holder);
}

RunDirectoryLock::~RunDirectoryLock() { release(); }

void RunDirectoryLock::release() noexcept {
  if (!held_) return;
  held_ = false;
  // Only our own lock: after a --force-unlock by another run the file is theirs.
  const auto text = slurp(path_);
  if (text && *text == to_text(self_)) ::unlink(path_.c_str());
  // A run directory this lock created and nothing else wrote into: gone again.
  if (!created_dir_.empty()) ::rmdir(created_dir_.c_str());
}

}  // namespace dtrain::checkpoint
