// dtrain: the command-line entry point. Subcommands live in src/cli/*.cpp.
#include "commands.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/version.hpp"

#include <iostream>

int main(int argc, char** argv) {
  using namespace dtrain::cli;
  CLI::App app{"dtrain — data-parallel neural-network training on MPI clusters"};
  app.set_version_flag("--version", std::string("dtrain ") + dtrain::kVersion);
  app.require_subcommand(1);
  register_data_commands(app);
  register_inspect_command(app);
  register_train_commands(app);
  register_evaluate_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const ExitRequest& e) {
    return e.code;
  } catch (const CLI::ParseError& e) {
    return app.exit(e);  // --help, --version and usage errors (exit code 2 for the latter)
  } catch (const dtrain::ArgumentError& e) {
    std::cerr << "dtrain: error: " << e.what() << '\n';
    return kExitUsage;
  } catch (const dtrain::Error& e) {
    std::cerr << "dtrain: error: " << e.what() << '\n';
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "dtrain: internal error: " << e.what() << '\n';
    return kExitFailure;
  }
  return kExitOk;
}
