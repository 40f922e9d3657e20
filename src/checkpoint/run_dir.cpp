// A run directory: ckpt-<step>.h5 names, listing, resume point, retention.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

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

// Readable checkpoints of `dir` with their headers, oldest first.
struct Readable {
  CheckpointEntry entry;
  detail::Header header;
};

std::vector<Readable> readable_checkpoints(const std::string& dir) {
  std::vector<Readable> out;
  for (const auto& e : list_checkpoints(dir)) {
    try {
      out.push_back({e, detail::read_header(e.path)});
    } catch (const CheckpointError&) {
      // Unreadable: neither counted nor deleted (a person may want to look at it).
    }
  }
  return out;
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

std::optional<FoundCheckpoint> find_resume_checkpoint(const std::string& dir, const WarnFn& warn) {
  const auto entries = list_checkpoints(dir);
  std::vector<std::string> skipped;  // "<path> is unreadable (<why>)"
  std::optional<FoundCheckpoint> found;
  for (auto it = entries.rbegin(); it != entries.rend() && !found; ++it) {
    try {
      found = FoundCheckpoint{it->path, detail::load_unprefixed(it->path)};
    } catch (const CheckpointError& e) {
      skipped.push_back(it->path + " is unreadable (" + e.what() + ")");
    }
  }
  if (warn) {
    const std::string then = found ? "resuming from " + fs::path(found->path).filename().string()
                                   : "no valid checkpoint left in " + dir + ", starting fresh";
    for (const auto& s : skipped) warn("warning: checkpoint " + s + ": skipped, " + then);
  }
  return found;
}

std::vector<std::string> apply_retention(const std::string& dir, const RetentionPolicy& policy,
                                         const std::string& protect) {
  if (policy.keep_last < 1) {
    throw ArgumentError("apply_retention: keep_last must be >= 1, got " + std::to_string(policy.keep_last));
  }
  const auto all = readable_checkpoints(dir);
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
                  path);
  return path;
}

std::optional<FoundCheckpoint> CheckpointManager::find_resume() const {
  return find_resume_checkpoint(options_.dir, options_.warn);
}

std::vector<CheckpointEntry> CheckpointManager::list() const { return list_checkpoints(options_.dir); }

}  // namespace dtrain::checkpoint
