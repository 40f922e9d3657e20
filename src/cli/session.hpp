// One `dtrain train` run on one rank: set-up, training, checkpoints, the end.
#pragma once

#include <string>
#include <vector>

namespace dtrain::cli {

struct TrainArgs {
  std::string config;
  std::string resume;  // "", "auto" or a checkpoint path
  std::vector<std::string> overrides;
  int threads = -1;    // -1: from the config
  std::string run_dir;
  bool profile = false;
  double stall_timeout = -1;
};

// Returns the exit code (commands.hpp). Errors are printed once, by the rank
// that saw them.
int run_train(const TrainArgs& args);

}  // namespace dtrain::cli
