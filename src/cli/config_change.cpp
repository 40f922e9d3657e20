#include "config_change.hpp"
#include "run_config.hpp"

#include "dtrain/core/error.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

namespace dtrain::cli {
namespace {

constexpr const char* kNotSet = "(not set)";

// Operational keys: a resume may change them freely (threads: the result is
// bitwise the same for any thread count).
bool operational(const std::string& key) {
  static const std::set<std::string> keys{"threads", "run_dir", "fit.verbose", "distributed.stall_timeout",
                                          "distributed.replica_check_every"};
  return keys.count(key) || key.starts_with("checkpoint.");
}

// The saved state cannot follow these: another optimizer has other slots, another
// layer type other weights (or the same ones meaning something else).
bool structural(const std::string& key) {
  return key == "compile.optimizer.name" || (key.starts_with("model.layers[") && key.ends_with("].type"));
}

bool epochs_grow(const ConfigChange& c) {
  if (c.key != "fit.epochs") return false;
  try {
    return std::stoll(c.current) > std::stoll(c.saved);
  } catch (const std::exception&) {
    return false;
  }
}

// Where the config's value came from: "config", or "--set data.batch_size=128".
std::string source(const std::string& key, const std::vector<std::string>& overrides) {
  const auto* o = override_of(overrides, key);
  return o ? "--set " + *o : "config";
}

}  // namespace

std::vector<ConfigChange> config_changes(const std::map<std::string, std::string>& saved,
                                         const std::map<std::string, std::string>& current) {
  std::set<std::string> keys;
  for (const auto& [k, v] : saved) keys.insert(k);
  for (const auto& [k, v] : current) keys.insert(k);
  std::vector<ConfigChange> out;
  for (const auto& k : keys) {
    if (operational(k)) continue;
    const auto s = saved.find(k);
    const auto c = current.find(k);
    const std::string before = s == saved.end() ? kNotSet : s->second;
    const std::string now = c == current.end() ? kNotSet : c->second;
    if (before != now) out.push_back({k, before, now});
  }
  return out;
}

std::string describe(const ConfigChange& change) {
  return change.key + ": " + change.saved + " (checkpoint) → " + change.current + " (config)";
}

std::vector<ConfigChange> accept_changes(const std::vector<ConfigChange>& changes,
                                         const std::vector<std::string>& allowed,
                                         const std::vector<std::string>& overrides, const std::string& checkpoint) {
  std::vector<ConfigChange> accepted;
  std::string refused, impossible;
  for (const auto& c : changes) {
    const auto line = c.key + ": " + c.saved + " (checkpoint) → " + c.current + " (" + source(c.key, overrides) + ")";
    const bool allow = epochs_grow(c) || std::any_of(allowed.begin(), allowed.end(),
                                                     [&](const std::string& a) { return key_under(c.key, a); });
    if (structural(c.key)) {
      impossible += (impossible.empty() ? "" : "; ") + line;
    } else if (allow) {
      accepted.push_back(c);
    } else {
      refused += (refused.empty() ? "" : "; ") + line;
    }
  }
  const auto name = std::filesystem::path(checkpoint).filename().string();
  if (!impossible.empty()) {
    throw ArgumentError("cannot resume from " + name + " with another optimizer or layer type: " + impossible +
                        "; start over with --fresh (or another --run-dir)");
  }
  if (!refused.empty()) {
    throw ArgumentError("the config differs from the one " + name + " was trained with: " + refused +
                        "; resume with --allow-change KEY for each key to accept it, or start over with --fresh");
  }
  return accepted;
}

}  // namespace dtrain::cli
