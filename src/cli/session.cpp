#include "session.hpp"

#include "commands.hpp"
#include "config_change.hpp"
#include "errors.hpp"
#include "run_checks.hpp"
#include "run_config.hpp"
#include "signals.hpp"

#include "dtrain/checkpoint.hpp"
#include "dtrain/checkpoint/run_dir_lock.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/distributed/communicator.hpp"
#include "dtrain/distributed/replica_check.hpp"
#include "dtrain/losses.hpp"
#include "dtrain/model.hpp"
#include "dtrain/model/model_checkpoint.hpp"
#include "dtrain/model/hdf5_batch_source.hpp"
#include "dtrain/optimizers/optimizer.hpp"
#include "dtrain/version.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>

namespace dtrain::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::unique_ptr<Hdf5BatchSource> open_split(const RunConfig& cfg, const std::string& split, bool shuffle,
                                            const distributed::Communicator& comm) {
  data::ShardReaderOptions o;
  o.path = cfg.data.file;
  o.split = split;
  o.global_batch = cfg.data.batch_size;
  o.rank = comm.rank();
  o.world_size = comm.size();
  o.seed = cfg.seed;
  o.shuffle = shuffle;
  return std::make_unique<Hdf5BatchSource>(o);
}

// Per step, on every rank: agree on stop requests (signals, the step budget)
// and compare replicas. A stop interrupts fit; ModelCheckpoint, after this
// callback, then writes the exact position.
class RunControl final : public Callback {
 public:
  RunControl(distributed::Communicator& comm, const RunConfig& cfg, const TrainArgs& args, const SignalWatcher& signals)
      : comm_(comm), cfg_(cfg), args_(args), signals_(signals) {}
  std::string name() const override { return "RunControl"; }
  bool preempted() const { return preempted_; }

  void on_train_begin() override { first_step_ = model_->global_step(); }

  void on_train_batch_end(std::int64_t, const Logs&) override {
    const auto global = model_->global_step();
    if (global == args_.fail_at_step && comm_.rank() == args_.fail_rank) {
      throw Error("injected failure at step " + std::to_string(global) + " (--fail-at-step)");
    }
    const bool budget_spent = args_.stop_after_steps >= 0 && global - first_step_ >= args_.stop_after_steps;
    const auto status = comm_.agree({.stop = signals_.requested() || budget_spent});
    if (cfg_.replica_check_every > 0 && global % cfg_.replica_check_every == 0 && comm_.size() > 1) {
      distributed::check_replicas(comm_, model_->weights(), static_cast<std::uint64_t>(global));
    }
    if (status.stop) {
      preempted_ = true;
      model_->interrupted = true;
    }
  }

 private:
  distributed::Communicator& comm_;
  const RunConfig& cfg_;
  const TrainArgs& args_;
  const SignalWatcher& signals_;
  std::int64_t first_step_ = 0;
  bool preempted_ = false;
};

void print_line(bool root, const std::string& text) {
  if (root) std::cout << text << std::endl;
}

// A config change a resume was allowed to make, after the checkpoint loaded: most
// take effect through the config itself; the learning rate is the checkpoint's
// (which ReduceLROnPlateau may have lowered) unless the config's replaces it. A
// schedule (compile.optimizer.learning_rate.*) is the config's already: the
// optimizer was made from the config, and the checkpoint gives its position.
void apply_change(Model& model, const ConfigChange& change, double config_rate, bool root) {
  auto shown = change;
  if (change.key == "compile.optimizer.learning_rate" && model.optimizer().learning_rate_setting().is_constant()) {
    shown.saved = setting_text(model.optimizer().learning_rate());
    model.optimizer().set_learning_rate(config_rate);
  }
  print_line(root, "Config changed since the checkpoint (allowed): " + describe(shown));
}

void warn_line(const std::string& text) {
  std::cerr << "dtrain: warning: " << text << '\n';
}

// Rank 0, holding the lock, before anything is written: what an earlier run left
// in the run directory means for this one (docs/launching.md, "The run directory").
//  - no --resume: checkpoints there are refused (exit 2), or moved aside with --fresh;
//  - --resume auto: checkpoints newer than the newest one that verifies are moved to
//    corrupt/ (a new save of the same step would replace them); if none verifies,
//    refused (exit 2), or moved aside with --fresh. The checkpoint found is loaded
//    again by ModelCheckpoint::resume on every rank.
void prepare_run_directory(const std::string& dir, const TrainArgs& args) {
  const auto earlier = checkpoint::earlier_run(dir);
  const auto move_aside = [&] {
    const auto to = checkpoint::move_earlier_run_aside(dir);
    if (!to.empty()) std::cout << "Moved the earlier run's files to " << to << "/\n" << std::flush;
  };
  if (args.resume.empty()) {
    if (args.fresh) return move_aside();
    if (earlier.empty()) return;
    throw ArgumentError("run directory " + dir + " already holds a run: " + earlier.describe() +
                        "; continue it with --resume auto, or start over with --fresh (moves its files to " + dir +
                        "/previous-<time>/)");
  }
  if (args.resume != "auto" || earlier.empty()) return;
  const auto search = checkpoint::search_resume_checkpoint(dir);
  if (!search.found) {
    if (args.fresh) return move_aside();
    std::string what;
    for (const auto& u : search.unreadable) {
      what += (what.empty() ? "" : "; ") + fs::path(u.path).filename().string() + ": " + u.why;
    }
    throw ArgumentError("no checkpoint in " + dir + " loads and verifies (" + what +
                        "); nothing was changed; --fresh moves them to " + dir + "/previous-<time>/ and starts over");
  }
  for (const auto& u : search.unreadable) {
    const auto moved = checkpoint::move_to_corrupt(dir, u.path);
    warn_line("checkpoint " + u.path + " is unreadable (" + u.why + "): moved to " + moved + ", resuming from " +
              fs::path(search.found->path).filename().string());
  }
}

}  // namespace

int run_train(const TrainArgs& args) {
  SignalWatcher signals;
  distributed::Communicator comm;
  const bool root = comm.rank() == 0;

  // 1. The config: the same file on every rank, so rank 0 alone reports.
  RunConfig cfg;
  try {
    cfg = load_run_config(args.config, args.overrides);
    if (args.threads >= 0) cfg.threads = args.threads;
    if (!args.run_dir.empty()) cfg.run_dir = args.run_dir;
    if (args.stall_timeout > 0) cfg.stall_timeout = args.stall_timeout;
  } catch (const Error& e) {
    if (root) print_error(e.what());
    return kExitUsage;
  }
  comm.set_stall_timeout(std::chrono::duration<double>(cfg.stall_timeout));

  // 2. Data and model: an error may show on one rank only (its rows of the
  // file); all ranks agree, and the first failing rank reports.
  std::unique_ptr<Hdf5BatchSource> train, validation, test;
  std::optional<Model> model;
  std::shared_ptr<ModelCheckpoint> ckpt;
  std::optional<ResumePosition> resume;
  CallbackList callbacks;  // the config's, whose state checkpoints keep
  std::vector<ConfigChange> accepted;  // config changes since the checkpoint resumed from
  double config_rate = 0;
  if (const auto code = agreed(comm, [&] {
        train = open_split(cfg, cfg.data.train, cfg.data.shuffle, comm);
        if (!cfg.data.validation.empty()) validation = open_split(cfg, cfg.data.validation, false, comm);
        if (!cfg.data.test.empty() && train->reader().dataset().find(cfg.data.test)) {
          test = open_split(cfg, cfg.data.test, false, comm);
        }
        const auto sample = train->x_sample_shape().to_vector();
        cfg.layers.front().config.set("shape", sample);
        model.emplace(Model::from_records(cfg.layers, cfg.model_name, cfg.seed));
        model->set_communicator(&comm);
        model->set_threads(cfg.threads);
        model->set_bucket_bytes(cfg.bucket_bytes);
        model->set_reduce_transport(cfg.transport);
        model->compile({.loss = cfg.loss, .metrics = cfg.metrics, .optimizer_config = cfg.optimizer});
        check_run(cfg, args, *model, train->reader().dataset(), comm.size());
        check_token_ids(cfg, *model, train->reader().dataset(), comm.rank(), comm.size());
        // Labels that cannot fit the model's output are an input error, found before
        // the run directory is made (e.g. Dense after Conv2D without Flatten).
        Shape labels{model->output_shape()[0]};  // the symbolic batch axis
        for (auto d : train->y_sample_shape().to_vector()) labels.push_back(d);
        losses::check_label_shape(model->loss(), model->output_shape(), labels);
        ckpt = std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{
            .directory = cfg.run_dir,
            .save_every_epoch = cfg.checkpoint_every_epoch,
            .save_every_steps = cfg.checkpoint_every_steps,
            .keep = cfg.checkpoint_keep,
            .monitor = cfg.checkpoint_monitor,
            .mode = cfg.checkpoint_mode,
            .dataset = cfg.data.file,
            .warn = {},
            .run_config = settings_json(settings(cfg)),
            .check_resume = [&](const std::string& path, const std::string& saved) {
              if (saved.empty()) {
                if (root) warn_line(path + " holds no run config (an older dtrain wrote it): config changes are not checked");
                return;
              }
              config_rate = model->optimizer().learning_rate();  // the config's, before the checkpoint's replaces it
              accepted = accept_changes(config_changes(settings_from_json(saved, path), settings(cfg)),
                                        args.allow_change, cfg.overrides, path);
            }});
        for (const auto& spec : cfg.callbacks) callbacks.push_back(make_callback(spec.type, spec.args));
        ckpt->watch(callbacks);
      })) {
    return *code;
  }

  // 3. The run directory: rank 0 locks it for the whole run before anything is
  // written (after the data and model, so a bad input leaves no directory behind;
  // released on return, also after errors; a kill -9 leaves a stale lock the next
  // run recognises) and sorts out an earlier run's files. All ranks agree.
  std::unique_ptr<checkpoint::RunDirectoryLock> lock;
  if (const auto code = agreed(comm, [&] {
        if (!root) return;
        if (args.fresh && !args.resume.empty() && args.resume != "auto") {
          throw ArgumentError("--fresh starts over: it cannot be combined with --resume " + args.resume);
        }
        const char* job = std::getenv("SLURM_JOB_ID");
        lock = std::make_unique<checkpoint::RunDirectoryLock>(
            cfg.run_dir, checkpoint::RunDirectoryLockOptions{
                             .job_id = job ? job : "", .force = args.force_unlock, .warn = warn_line});
        prepare_run_directory(cfg.run_dir, args);
      })) {
    return *code;
  }

  // 4. Resume, every rank, once rank 0 has sorted the run directory out.
  if (const auto code = agreed(comm, [&] {
        if (args.resume.empty()) return;
        resume = ckpt->resume(*model, args.resume);
        if (!resume && root) std::cout << "No checkpoint in " << cfg.run_dir << ": starting fresh\n";
        for (const auto& change : accepted) apply_change(*model, change, config_rate, root);
        // history.csv is the checkpoint's history from here on: rows of epochs after
        // the checkpoint (an older one than the newest row) would come twice.
        if (resume && root) {
          const auto& h = ckpt->history();
          CSVLogger::rewrite((fs::path(cfg.run_dir) / "history.csv").string(), h.columns, h.rows);
        }
      })) {
    return *code;
  }

  // 5. Run: any error from here on ends every rank (printed once, by its rank).
  try {
    model->broadcast_from_root();  // identical replicas, whatever each rank read
    if (root) {
      fs::create_directories(cfg.run_dir);
      std::cout << model->summary();
      std::cout << "dtrain " << kVersion << ": " << comm.size() << (comm.size() == 1 ? " rank" : " ranks") << " x "
                << model->threads() << " thread(s) per rank; " << train->rows() << " training samples, global batch "
                << cfg.data.batch_size << ", " << train->steps_per_epoch() << " steps per epoch\n";
      if (resume) std::cout << "Resuming from " << resume->path << " (epoch " << resume->epoch + 1 << ", step " << resume->step_in_epoch << ")\n";
      std::cout << std::flush;
    }
    auto control = std::make_shared<RunControl>(comm, cfg, args, signals);
    FitOptions fit;
    fit.epochs = cfg.epochs;
    fit.initial_epoch = resume ? resume->epoch : 0;
    fit.initial_step = resume ? resume->step_in_epoch : 0;
    fit.validation = validation.get();
    fit.verbose = cfg.verbose >= 0 ? cfg.verbose : (isatty(STDOUT_FILENO) ? 1 : 2);
    fit.profile = args.profile;
    const bool append_history = resume.has_value();
    fit.callbacks.push_back(std::make_shared<CSVLogger>((fs::path(cfg.run_dir) / "history.csv").string(), append_history));
    fit.callbacks.insert(fit.callbacks.end(), callbacks.begin(), callbacks.end());
    fit.callbacks.push_back(control);
    fit.callbacks.push_back(ckpt);  // last: checkpoints see the other callbacks' state

    const auto start = Clock::now();
    const auto first_step = model->global_step();
    if (fit.initial_epoch < fit.epochs) model->fit(*train, fit);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (control->preempted()) {
      const auto why = signals.requested()        ? "by signal " + std::to_string(signals.signal())
                       : args.stop_after_steps > 0 ? std::string("after --stop-after-steps")
                                                   : std::string("by a signal to another rank");
      print_line(root, "Stopped " + why + " at step " +
                           std::to_string(model->global_step()) + "; checkpoint " + ckpt->last_path() +
                           " (resume with --resume auto)");
      return kExitPreempted;
    }
    const auto steps = model->global_step() - first_step;
    if (test) {
      const auto logs = model->evaluate(*test);
      print_line(root, "Test (" + std::to_string(test->rows()) + " samples): " + format_logs(logs));
    }
    if (root) {
      const double samples = static_cast<double>(steps) * static_cast<double>(cfg.data.batch_size);
      std::cout << std::fixed << std::setprecision(1) << "Trained " << steps << " steps in " << seconds << " s ("
                << std::setprecision(0) << (seconds > 0 ? samples / seconds : 0.0) << " samples/s)\n";
      std::cout << "Checkpoint: " << ckpt->last_path() << "\n" << std::flush;
    }
    return kExitOk;
  } catch (const std::exception& e) {
    if (lock) lock->release();  // MPI_Abort runs no destructors
    return end_run(comm, e);
  }
}

}  // namespace dtrain::cli
