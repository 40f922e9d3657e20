// dtrain data ... : dataset import and split (filled in by the data concern).
#include "commands.hpp"

namespace dtrain::cli {

void register_data_commands(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Import and split HDF5 datasets");
  data->require_subcommand(1);
}

}  // namespace dtrain::cli
