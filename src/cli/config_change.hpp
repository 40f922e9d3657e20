// What changed in the run config since a checkpoint was written, and whether a
// resume may go on with it (issue 20: no silent config drift on resume).
//
//   const auto changes = config_changes(saved, settings(cfg));
//   const auto accepted = accept_changes(changes, args.allow_change, cfg.overrides, path);  // throws if refused
#pragma once

#include <map>
#include <string>
#include <vector>

namespace dtrain::cli {

struct ConfigChange {
  std::string key;
  std::string saved;    // "(not set)" when the checkpoint's config has no such key
  std::string current;  // "(not set)" when the config has no such key
};

// Every key whose value differs, except the keys that cannot change what is
// trained (where files go, how often checkpoints are kept, threads, messages).
std::vector<ConfigChange> config_changes(const std::map<std::string, std::string>& saved,
                                         const std::map<std::string, std::string>& current);

// The changes a resume goes on with: fit.epochs growing, and every key named by
// --allow-change (a key, or a prefix of keys: "compile.optimizer"). Throws an
// ArgumentError listing every other change with both values (a value from --set
// named as such), and refuses even when allowed what the checkpoint's state cannot
// follow: the optimizer's type and the layers' types.
std::vector<ConfigChange> accept_changes(const std::vector<ConfigChange>& changes,
                                         const std::vector<std::string>& allowed,
                                         const std::vector<std::string>& overrides, const std::string& checkpoint);

// "key: saved (checkpoint) → current (config)"
std::string describe(const ConfigChange& change);

}  // namespace dtrain::cli
