// dtrain inspect FILE: a readable summary of a dataset or checkpoint file.
#include "commands.hpp"

namespace dtrain::cli {

void register_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Summarise an HDF5 dataset or checkpoint file");
  (void)cmd;
}

}  // namespace dtrain::cli
