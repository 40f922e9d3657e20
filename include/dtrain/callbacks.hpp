// Callbacks: hooks into Model::fit, with Keras' names and behaviour.
//
//   auto history = model.fit(train, {.epochs = 20, .validation = &val,
//       .callbacks = {std::make_shared<EarlyStopping>(EarlyStoppingOptions{.patience = 3}),
//                     std::make_shared<CSVLogger>("run/history.csv")}});
//
// Logs hold the epoch's figures in Keras order: loss, metrics, val_loss,
// val_metrics, learning_rate. Under MPI every rank runs the callbacks with the
// same (all-reduced) logs, so decisions such as early stopping agree; output
// (files, progress) happens on rank 0 only.
#pragma once

#include "dtrain/core/config.hpp"

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace dtrain {

class Model;

class Logs {
 public:
  void set(const std::string& key, double value);
  bool has(const std::string& key) const;
  double get(const std::string& key) const;  // throws ArgumentError naming the key
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, double>> items_;
};

// What fit tells every callback before training (Keras' callback.params).
struct TrainParams {
  std::int64_t epochs = 0;
  std::int64_t steps = 0;  // per epoch
  int verbose = 0;
};

class Callback {
 public:
  virtual ~Callback() = default;
  void set_model(Model* model) { model_ = model; }
  void set_params(const TrainParams& params) { params_ = params; }
  virtual void on_train_begin() {}
  virtual void on_train_end(const Logs& /*logs*/) {}
  virtual void on_epoch_begin(std::int64_t /*epoch*/) {}
  virtual void on_epoch_end(std::int64_t /*epoch*/, const Logs& /*logs*/) {}
  // After each training step, with the running figures of this rank's batches.
  virtual void on_train_batch_end(std::int64_t /*step*/, const Logs& /*logs*/) {}
  // State to save in / restore from a checkpoint (best value, wait counter...).
  virtual Config state() const { return {}; }
  virtual void set_state(const Config& /*state*/) {}
  virtual std::string name() const = 0;

 protected:
  Model* model_ = nullptr;
  TrainParams params_;
};

using CallbackList = std::vector<std::shared_ptr<Callback>>;

// Every epoch's logs (Model::fit returns it).
class History final : public Callback {
 public:
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override;
  std::string name() const override { return "History"; }
  const std::vector<Logs>& epochs() const { return epochs_; }
  std::vector<double> values(const std::string& key) const;

 private:
  std::vector<Logs> epochs_;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;
  std::int64_t patience = 0;
  std::string mode = "auto";  // "min" | "max" | "auto" (max for accuracy-like names)
  bool restore_best_weights = false;
  std::optional<double> baseline;
  std::int64_t start_from_epoch = 0;
};

class EarlyStopping final : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions o = {});
  void on_train_begin() override;
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override;
  void on_train_end(const Logs& logs) override;
  Config state() const override;
  void set_state(const Config& state) override;
  std::string name() const override { return "EarlyStopping"; }
  std::int64_t stopped_epoch() const { return stopped_epoch_; }

 private:
  bool improved(double value) const;
  EarlyStoppingOptions o_;
  bool maximize_ = false;
  double best_ = 0;
  bool has_best_ = false;
  std::int64_t wait_ = 0;
  std::int64_t stopped_epoch_ = -1;
  std::int64_t best_epoch_ = -1;
  std::vector<float> best_weights_;
};

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;
  std::int64_t patience = 10;
  std::string mode = "auto";
  double min_delta = 1e-4;
  std::int64_t cooldown = 0;
  double min_lr = 0.0;
};

class ReduceLROnPlateau final : public Callback {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions o = {});
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override;
  Config state() const override;
  void set_state(const Config& state) override;
  std::string name() const override { return "ReduceLROnPlateau"; }

 private:
  ReduceLROnPlateauOptions o_;
  bool maximize_ = false;
  bool has_best_ = false;
  double best_ = 0;
  std::int64_t wait_ = 0, cooldown_counter_ = 0;
};

// Sets the learning rate at the start of each epoch: lr = schedule(epoch, lr).
class LearningRateScheduler final : public Callback {
 public:
  using Schedule = double (*)(std::int64_t epoch, double lr);
  explicit LearningRateScheduler(std::function<double(std::int64_t, double)> schedule);
  void on_epoch_begin(std::int64_t epoch) override;
  std::string name() const override { return "LearningRateScheduler"; }

 private:
  std::function<double(std::int64_t, double)> schedule_;
};

// epoch,<every log key>,time per line (time: the epoch's seconds), on rank 0;
// appends when resuming.
class CSVLogger final : public Callback {
 public:
  explicit CSVLogger(std::string path, bool append = false);
  // Replaces the file at `path` with exactly these rows (a resumed run's history:
  // rows past the checkpoint a run resumed from would come twice otherwise).
  // `columns` starts with "epoch" (checkpoint::HistoryTable's layout); each row has
  // one value per column. A row's time comes from the old file's row of the same
  // epoch, if any. Written to a temporary beside it, then renamed over it.
  static void rewrite(const std::string& path, const std::vector<std::string>& columns,
                      const std::vector<std::vector<double>>& rows);
  void on_train_begin() override;
  void on_epoch_begin(std::int64_t epoch) override;
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override;
  std::string name() const override { return "CSVLogger"; }

 private:
  std::string path_;
  bool append_;
  std::vector<std::string> keys_;
  std::chrono::steady_clock::time_point epoch_start_;
};

// Stops training when the loss becomes NaN or infinite.
class TerminateOnNaN final : public Callback {
 public:
  void on_train_batch_end(std::int64_t step, const Logs& logs) override;
  std::string name() const override { return "TerminateOnNaN"; }
};

// Keras' progress display. verbose 1: a bar with steps, ETA, time per step and
// the running loss/metrics, redrawn in place (for terminals); verbose 2: one
// line per epoch (for logs). Writes on rank 0 only.
class ProgbarLogger final : public Callback {
 public:
  ProgbarLogger(int verbose, std::ostream& out);
  void on_epoch_begin(std::int64_t epoch) override;
  void on_train_batch_end(std::int64_t step, const Logs& logs) override;
  void on_epoch_end(std::int64_t epoch, const Logs& logs) override;
  std::string name() const override { return "ProgbarLogger"; }

 private:
  void draw(std::int64_t done, const Logs& logs, bool final);
  int verbose_;
  std::ostream& out_;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

// A callback by its Keras class name and arguments, as configs give them
// (Keras' argument names; ArgumentError naming the callback and the key).
std::shared_ptr<Callback> make_callback(const std::string& type, const Config& args);
// The names make_callback knows.
std::vector<std::string> callback_types();

// "loss: 0.4321 - accuracy: 0.8765": Keras' log formatting.
std::string format_logs(const Logs& logs);

}  // namespace dtrain
