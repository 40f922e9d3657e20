// dtrain train|evaluate|predict|example.
#include "commands.hpp"

namespace dtrain::cli {

void register_train_commands(CLI::App& app) {
  (void)app;
}

}  // namespace dtrain::cli
