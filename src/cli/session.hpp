// One `dtrain train` run on one rank: set-up, training, checkpoints, the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dtrain::cli {

struct TrainArgs {
  std::string config;
  std::string resume;  // "", "auto" or a checkpoint path
  std::vector<std::string> overrides;
  std::vector<std::string> allow_change;  // config keys (or prefixes) a resume may see changed
  int threads = -1;    // -1: from the config
  std::string run_dir;
  bool fresh = false;         // move an earlier run's files aside and start over
  bool force_unlock = false;  // take over the run directory's lock whoever holds it
  bool profile = false;
  double stall_timeout = -1;
  std::int64_t stop_after_steps = -1;  // behave as if signalled after this many steps of this run
  std::int64_t fail_at_step = -1;      // testing: throw on fail_rank at this global step
  int fail_rank = 0;
};

// Returns the exit code (commands.hpp). Errors are printed once, by the rank
// that saw them.
int run_train(const TrainArgs& args);

}  // namespace dtrain::cli
