// dtrain train: a run config -> data, model, optimizer, callbacks, checkpoints,
// on every MPI rank.
#include "commands.hpp"
#include "run_config.hpp"
#include "session.hpp"
#include "validators.hpp"

#include "dtrain/core/error.hpp"

#include <iostream>

namespace dtrain::cli {

void register_train_commands(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* train = app.add_subcommand("train", "Train a model from a YAML run config (launch with mpirun/srun for several ranks)");
  train->add_option("config", args->config, "The run config (YAML)")->required();
  train->add_option("--resume", args->resume,
                    "'auto': the newest valid checkpoint in the run directory (fresh start if it has no checkpoint; "
                    "exit 2 if none of its checkpoints verifies, unless --fresh); or a checkpoint file");
  train->add_flag("--fresh", args->fresh,
                  "Start over in a run directory that holds an earlier run: its checkpoints, history.csv and "
                  "corrupt/ are moved to <run dir>/previous-<UTC time>/ (never deleted). Without it such a "
                  "directory is refused (exit 2). With --resume auto: only when no checkpoint verifies");
  train->add_flag("--force-unlock", args->force_unlock,
                  "Take over the run directory's lock (dtrain.lock) even if it names a run that may be alive "
                  "(on another host); a lock of a dead process on this host is taken over without it");
  train->add_option("--set", args->overrides, "Override a config key, e.g. --set fit.epochs=3 (repeatable)");
  train->add_option("--allow-change", args->allow_change,
                    "With --resume: accept a config key that differs from the checkpoint's run config, e.g. "
                    "--allow-change compile.optimizer.learning_rate (repeatable; a prefix such as compile.optimizer "
                    "accepts every key under it). Without it a changed key is refused (exit 2); fit.epochs may always "
                    "grow. The optimizer's and the layers' types can never change");
  train->add_option("--threads", args->threads,
                    "TBB threads per rank, at least 1 (default: the config's threads, else the cores given to the rank)")
      ->check(at_least(1));
  train->add_option("--run-dir", args->run_dir, "Where history.csv and checkpoints go (default: run_dir of the config)");
  train->add_flag("--profile", args->profile, "Print per epoch the time of data, forward, backward, all-reduce wait, optimizer");
  train->add_option("--stall-timeout", args->stall_timeout,
                    "Seconds a collective may wait for the other ranks before the job is stopped, > 0 (default: config or 300)")
      ->check(positive());
  train->add_option("--stop-after-steps", args->stop_after_steps,
                    "Stop after this many steps with a checkpoint and exit code 3, as on SIGUSR1 (a time budget)")
      ->check(at_least(1));
  auto* testing = train->add_option_group("testing", "Fault injection for dtrain's own tests");
  testing->add_option("--fail-at-step", args->fail_at_step, "Throw an error at this global step ...");
  testing->add_option("--fail-rank", args->fail_rank, "... on this rank (default 0; less than the number of ranks)")
      ->check(at_least(0));
  train->callback([args] {
    const int code = run_train(*args);
    if (code != kExitOk) throw ExitRequest{code};
  });
}

}  // namespace dtrain::cli
