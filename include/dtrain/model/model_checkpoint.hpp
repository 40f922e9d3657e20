// ModelCheckpoint: Keras' callback of that name, for a run directory of HDF5
// checkpoints (ckpt-<step>.h5) that a run resumes from after a time limit, a
// preemption or a crash. Every rank runs it; rank 0 writes.
//
//   auto ckpt = std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.directory = "runs/mlp"});
//   FitOptions fit{.epochs = 10, .callbacks = {ckpt}};
//   if (auto at = ckpt->resume(model)) {           // the newest valid checkpoint, if any
//     fit.initial_epoch = at->epoch;
//     fit.initial_step = at->step_in_epoch;
//   }
//   model.fit(train, fit);                          // saves at every epoch's end
//
// A resumed run is bitwise the uninterrupted one: weights, optimizer state, the
// global step, the running sums of an interrupted epoch, the history, and the
// state of the callbacks it watches (EarlyStopping's wait counter, ...).
// When a callback sets model.interrupted (a stop request), the checkpoint of the
// exact position is written before fit returns.
#pragma once

#include "dtrain/callbacks.hpp"
#include "dtrain/checkpoint.hpp"
#include "dtrain/model.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dtrain {

struct ModelCheckpointOptions {
  std::string directory;               // the run directory (created on the first save)
  bool save_every_epoch = true;        // false: only the last epoch's end (and stops)
  std::int64_t save_every_steps = 0;   // also every N global steps (0: never)
  int keep = 3;                        // the newest N checkpoints are kept
  std::string monitor;                 // also keep the best by this log ("val_loss"); "" none
  std::string mode = "auto";           // min, max, or auto (max for accuracy/auc)
  std::string dataset;                 // an HDF5 data file to fingerprint ("" none): resume warns if it changed
  std::function<void(const std::string&)> warn;  // rank 0's warnings (default: standard error)
  // The run's config as the program records it (text), kept in every checkpoint.
  std::string run_config;
  // Called by resume() with the checkpoint's path and its run_config ("" in files
  // without one) before anything is loaded: throw to refuse the resume.
  std::function<void(const std::string& path, const std::string& saved_run_config)> check_resume;
};

class ModelCheckpoint final : public Callback {
 public:
  explicit ModelCheckpoint(ModelCheckpointOptions options);
  ~ModelCheckpoint() override;
  std::string name() const override { return "ModelCheckpoint"; }

  // "auto": the newest checkpoint of the directory that verifies (a damaged
  // newer one is skipped with a warning; none at all: nullopt, a fresh start);
  // else the path of one checkpoint. Loads it into `model` (Model::resume) and
  // restores this callback's history and the watched callbacks' states.
  std::optional<ResumePosition> resume(Model& model, const std::string& spec = "auto");
  // Callbacks whose state goes into each checkpoint and comes back on resume.
  void watch(const CallbackList& callbacks);
  // Writes the checkpoint of this position now (collective; rank 0 writes).
  void save(Model& model, std::int64_t epoch, std::int64_t step_in_epoch);
  const std::string& last_path() const;
  // The history so far: after resume(), the checkpoint's own (one row per finished
  // epoch), then a row more at each epoch's end. A CSV log can be rewritten from it
  // (CSVLogger::rewrite) so that a resume from an older checkpoint repeats no rows.
  const checkpoint::HistoryTable& history() const;

  // Gives the watched callbacks their resumed state again (fit's
  // on_train_begin resets them): put ModelCheckpoint after them.
  void on_train_begin() override;
  void on_epoch_begin(std::int64_t epoch) override;
  void on_train_batch_end(std::int64_t step, const Logs& logs) override;
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dtrain
