// A run directory: ckpt-<step>.h5 names, listing, resume point, retention.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ctime>
#include <set>
#include <sys/stat.h>

#include "core/atomic_file.hpp"
#include "io_errors.hpp"
#include "layout.hpp"

namespace dtrain::checkpoint {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "ckpt-";
constexpr std::string_view kSuffix = ".h5";

// The step of "ckpt-000200.h5", or -1 for any other name.
std::int64_t step_of(const std::string& name) {
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return -1;
  const std::string digits = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  if (digits.empty() || digits.size() > 18) return -1;
  std::int64_t step = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    step = step * 10 + (c - '0');
  }
  return step;
}

// Checkpoints of `dir` that load and verify, with their headers, oldest first;
// the others (but `protect`, trusted: it was just written) are moved to corrupt/.
struct Readable {
  CheckpointEntry entry;
  detail::Header header;
};

std::vector<Readable> verified_checkpoints(const std::string& dir, const std::string& protect, const WarnFn& warn) {
  std::vector<Readable> out;
  for (const auto& e : list_checkpoints(dir)) {
    try {
      if (fs::path(e.path).lexically_normal() != fs::path(protect).lexically_normal()) {
        (void)detail::load_unprefixed(e.path);  // every checksum: a file that fails is never deleted
      }
      out.push_back({e, detail::read_header(e.path)});
    } catch (const CheckpointError& error) {
      const std::string moved = move_to_corrupt(dir, e.path);
      if (warn) warn("checkpoint " + e.path + " failed to verify (" + error.what() + "): moved to " + moved);
    }
  }
  return out;
}

std::string utc_text(std::time_t t, const char* format) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

bool better(double a, double b, MonitorMode mode) { return mode == MonitorMode::kMin ? a < b : a > b; }

}  // namespace

std::string checkpoint_path(const std::string& dir, std::int64_t global_step) {
  if (global_step < 0) {
    throw ArgumentError("checkpoint_path: global_step must be >= 0, got " + std::to_string(global_step));
  }
  char name[40];
  std::snprintf(name, sizeof name, "ckpt-%06lld.h5", static_cast<long long>(global_step));
  return (fs::path(dir) / name).string();
}

std::vector<CheckpointEntry> list_checkpoints(const std::string& dir) {
  std::vector<CheckpointEntry> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::int64_t step = step_of(e.path().filename().string());
    if (step < 0 || !e.is_regular_file(ec)) continue;
    out.push_back({e.path().string(), step});
  }
  // By step, then name ("ckpt-200.h5" and "ckpt-000200.h5" both parse as 200).
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.step != b.step ? a.step < b.step : a.path < b.path;
  });
  return out;
}

ResumeSearch search_resume_checkpoint(const std::string& dir) {
  const auto entries = list_checkpoints(dir);
  ResumeSearch out;
  for (auto it = entries.rbegin(); it != entries.rend() && !out.found; ++it) {
    try {
      out.found = FoundCheckpoint{it->path, detail::load_unprefixed(it->path)};
    } catch (const CheckpointError& e) {
      out.unreadable.push_back({it->path, e.what()});
    }
  }
  return out;
}

std::optional<FoundCheckpoint> find_resume_checkpoint(const std::string& dir, const WarnFn& warn) {
  auto search = search_resume_checkpoint(dir);
  if (warn) {
    const std::string then = search.found ? "resuming from " + fs::path(search.found->path).filename().string()
                                          : "no valid checkpoint left in " + dir + ", starting fresh";
    for (const auto& u : search.unreadable) {
      warn("checkpoint " + u.path + " is unreadable (" + u.why + "): skipped, " + then);
    }
  }
  return std::move(search.found);
}

std::string move_to_corrupt(const std::string& dir, const std::string& path) {
  const fs::path to_dir = fs::path(dir) / kCorruptDir;
  std::error_code ec;
  fs::create_directories(to_dir, ec);
  if (ec) throw CheckpointError(to_dir.string() + ": cannot create the folder for damaged checkpoints: " + ec.message());
  const std::string name = fs::path(path).filename().string();
  fs::path target = to_dir / name;
  for (int i = 1; fs::exists(target, ec); ++i) target = to_dir / (name + "." + std::to_string(i));
  fs::rename(path, target, ec);
  if (ec) throw CheckpointError(path + ": cannot move it to " + target.string() + ": " + ec.message());
  fsync_directory(to_dir);
  fsync_directory(dir);
  return target.string();
}

std::string EarlierRun::describe() const {
  if (checkpoints.empty()) return history ? "history.csv" : "nothing";
  const auto& newest = checkpoints.back();
  std::string s = fs::path(newest.path).filename().string() + " (step " + std::to_string(newest.step) + ", " +
                  (newest_created.empty() ? "unreadable, modified " + newest_modified : "written " + newest_created) + ")";
  if (checkpoints.size() > 1) {
    s += " and " + std::to_string(checkpoints.size() - 1) + " older checkpoint" + (checkpoints.size() > 2 ? "s" : "");
  }
  if (history) s += ", history.csv";
  return s;
}

EarlierRun earlier_run(const std::string& dir) {
  EarlierRun run;
  run.checkpoints = list_checkpoints(dir);
  std::error_code ec;
  run.history = fs::exists(fs::path(dir) / "history.csv", ec);
  if (run.checkpoints.empty()) return run;
  const auto& newest = run.checkpoints.back().path;
  try {
    run.newest_created = detail::read_header(newest).created;
  } catch (const CheckpointError&) {
  }
  struct stat st {};
  if (::stat(newest.c_str(), &st) == 0) run.newest_modified = utc_text(st.st_mtime, "%Y-%m-%dT%H:%M:%SZ");
  return run;
}

std::string move_earlier_run_aside(const std::string& dir) {
  std::vector<fs::path> what;
  for (const auto& e : list_checkpoints(dir)) what.emplace_back(e.path);
  std::error_code ec;
  for (const char* name : {"history.csv", kCorruptDir}) {
    if (fs::exists(fs::path(dir) / name, ec)) what.push_back(fs::path(dir) / name);
  }
  if (what.empty()) return "";
  const std::string stamp = utc_text(std::time(nullptr), "%Y%m%dT%H%M%SZ");
  fs::path to = fs::path(dir) / ("previous-" + stamp);
  for (int i = 1; fs::exists(to, ec); ++i) to = fs::path(dir) / ("previous-" + stamp + "-" + std::to_string(i));
  fs::create_directory(to, ec);
  if (ec) throw CheckpointError(to.string() + ": cannot create the folder for the earlier run: " + ec.message());
  for (const auto& p : what) {
    fs::rename(p, to / p.filename(), ec);
    if (ec) throw CheckpointError(p.string() + ": cannot move it to " + to.string() + ": " + ec.message());
  }
  fsync_directory(to);
  fsync_directory(dir);
  return to.string();
}

std::vector<std::string> apply_retention(const std::string& dir, const RetentionPolicy& policy,
                                         const std::string& protect, const WarnFn& warn) {
  if (policy.keep_last < 1) {
    throw ArgumentError("apply_retention: keep_last must be >= 1, got " + std::to_string(policy.keep_last));
  }
  const auto all = verified_checkpoints(dir, protect, warn);
  std::set<std::string> keep;
  if (!protect.empty()) keep.insert(fs::path(protect).lexically_normal().string());
  const std::size_t k = static_cast<std::size_t>(policy.keep_last);
  for (std::size_t i = all.size() > k ? all.size() - k : 0; i < all.size(); ++i) {
    keep.insert(fs::path(all[i].entry.path).lexically_normal().string());
  }
  if (policy.keep_best) {
    const Readable* best = nullptr;
    for (const auto& r : all) {
      const auto& m = r.header.monitor;
      if (!m || std::isnan(m->value)) continue;
      if (!policy.monitor.empty() && m->name != policy.monitor) continue;
      if (best == nullptr || better(m->value, best->header.monitor->value, policy.mode)) best = &r;
    }
    if (best != nullptr) keep.insert(fs::path(best->entry.path).lexically_normal().string());
  }
  std::vector<std::string> deleted;
  for (const auto& r : all) {
    if (keep.count(fs::path(r.entry.path).lexically_normal().string()) != 0) continue;
    std::error_code ec;
    if (fs::remove(r.entry.path, ec)) deleted.push_back(r.entry.path);
  }
  if (!deleted.empty()) {
    detail::as_checkpoint_error([&] { fsync_directory(dir); });
  }
  return deleted;
}

CheckpointManager::CheckpointManager(Options options) : options_(std::move(options)) {
  if (options_.dir.empty()) throw ArgumentError("CheckpointManager: dir must not be empty");
  if (options_.keep_last < 1) {
    throw ArgumentError("CheckpointManager: keep_last must be >= 1, got " +
                        std::to_string(options_.keep_last));
  }
}

std::string CheckpointManager::save(const CheckpointState& state, const SaveHooks& hooks) const {
  const std::string path = checkpoint_path(options_.dir, state.progress.global_step);
  save_checkpoint(path, state, hooks);  // renamed into place and durable before any delete
  apply_retention(options_.dir,
                  {.keep_last = options_.keep_last,
                   .keep_best = options_.keep_best,
                   .mode = options_.mode,
                   .monitor = options_.monitor},
                  path, options_.warn);
  return path;
}

std::optional<FoundCheckpoint> CheckpointManager::find_resume() const {
  return find_resume_checkpoint(options_.dir, options_.warn);
}

std::vector<CheckpointEntry> CheckpointManager::list() const { return list_checkpoints(options_.dir); }

}  // namespace dtrain::checkpoint
