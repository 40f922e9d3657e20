// dtrain: the command-line entry point. Subcommands live in src/cli/*.cpp.
#include "commands.hpp"
#include "errors.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/version.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

// Levenshtein distance, for "did you mean".
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// CLI11's message, or for a first word that is no command: which one it may be.
std::string command_line_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    std::string best;
    std::size_t best_distance = 3;  // at most two edits away
    bool known = false;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      const auto& name = sub->get_name();
      known = known || name == word;
      if (const auto d = edit_distance(word, name); d < best_distance) {
        best_distance = d;
        best = name;
      }
    }
    if (!known) {
      return "unknown command '" + word + "'" + (best.empty() ? "" : " (did you mean '" + best + "'?)") +
             "; dtrain --help lists the commands";
    }
  }
  return std::string(e.what()) + " (--help for usage)";
}

// This process's rank as the launcher set it (MPI is not started before the
// command line is parsed): every rank finds the same error, rank 0 says it.
int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (const char* v = std::getenv(name)) return std::atoi(v);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dtrain::cli;
  CLI::App app{"dtrain — data-parallel neural-network training on MPI clusters"};
  app.set_version_flag("--version", std::string("dtrain ") + dtrain::kVersion);
  app.require_subcommand(1);
  app.footer(
      "Exit codes (every command, every rank; docs/exit-codes.md): 0 done; 1 a run-time failure (I/O, MPI, "
      "a rank that died); 2 anything given that is wrong (command line, config, data, a checkpoint that does not "
      "fit, a locked run directory or one with an earlier run); 3 stopped after a checkpoint on SIGTERM/SIGUSR1 "
      "or --stop-after-steps. Errors are one line: dtrain: error: ...");
  register_data_commands(app);
  register_inspect_command(app);
  register_train_commands(app);
  register_evaluate_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const ExitRequest& e) {
    return e.code;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Every other command-line error: one line, exit 2 (docs/exit-codes.md),
    // not CLI11's own codes (100-127).
    if (launcher_rank() == 0) std::cerr << "dtrain: error: " << command_line_error(app, e, argc, argv) << '\n';
    return kExitUsage;
  } catch (const dtrain::Error& e) {
    print_error(e.what());
    return input_error_code(e);
  } catch (const std::exception& e) {
    std::cerr << "dtrain: internal error: " << e.what() << '\n';
    return kExitFailure;
  }
  return kExitOk;
}
