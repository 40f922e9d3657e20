// Trainer (internal to model/): the step loop behind Model::fit / evaluate, as
// Keras 3's Trainer is behind keras.Model. Owns what training changes and the
// model's architecture does not: the metrics and the running sums of the epoch,
// the global step, the step profile, the thread pool, the communicator setting
// and the data-parallel step.
#pragma once

#include "data_parallel_step.hpp"
#include "network.hpp"

#include "dtrain/callbacks.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "dtrain/metrics.hpp"
#include "dtrain/model.hpp"

#include <memory>
#include <string>
#include <vector>

namespace dtrain::model {

class Trainer {
 public:
  explicit Trainer(Network& network);
  ~Trainer();

  // Drops the data-parallel step (collective when it holds a sharded state).
  void set_communicator(distributed::Communicator* comm);
  distributed::Communicator* communicator() const { return comm_; }
  void set_reducer_options(distributed::ReducerOptions options);
  const distributed::ReducerOptions& reducer_options() const { return reducer_options_; }
  void set_threads(int threads);
  int threads() const;
  int rank() const { return comm_ ? comm_->rank() : 0; }
  int world() const { return comm_ ? comm_->size() : 1; }
  kernels::ThreadScope& thread_scope();

  // After the network was rebuilt with the loss: the optimizer and metrics to train with.
  void compile(optimizers::Optimizer<float>& optimizer, const losses::LossConfig& loss,
               const std::vector<std::string>& metric_names);

  // model: what callbacks see, and whose stop_training / interrupted flags end the loop.
  History fit(Model& model, BatchSource& train, FitOptions options);
  Logs evaluate(BatchSource& data);

  // Collective, see Model::gather_optimizer_state.
  void gather_optimizer_state();
  // Forgets the data-parallel step (gathering its optimizer state first).
  void drop_data_parallel();

  std::vector<std::string> metric_names() const;
  std::int64_t global_step() const { return global_step_; }
  // Epochs finished (by fit, or restored from a checkpoint).
  std::int64_t epochs_done() const { return epochs_done_; }
  void set_epochs_done(std::int64_t n) { epochs_done_ = n; }
  void set_global_step(std::int64_t step) { global_step_ = step; }
  const StepProfile& last_epoch_profile() const { return profile_; }
  std::vector<double> epoch_state() const;
  void set_epoch_state(std::vector<double> state);

 private:
  // Returns the summed loss of this rank's samples (regularisation included).
  double train_step(const Batch& b);
  // Sums (loss, count, metric states) over ranks and writes the figures to logs.
  void reduce_into_logs(double loss_sum, double count, std::vector<std::unique_ptr<metrics::Metric>>& ms,
                        Logs& logs);
  void print_profile(std::ostream& out, std::int64_t epoch, double wall) const;

  Network& network_;
  optimizers::Optimizer<float>* optimizer_ = nullptr;
  std::vector<std::unique_ptr<metrics::Metric>> train_metrics_, eval_metrics_;

  distributed::Communicator* comm_ = nullptr;
  distributed::ReducerOptions reducer_options_;
  std::unique_ptr<DataParallelStep> data_parallel_;
  int threads_ = 0;
  std::unique_ptr<kernels::ThreadScope> scope_;

  std::int64_t global_step_ = 0;
  std::int64_t epochs_done_ = 0;
  StepProfile profile_;
  double epoch_loss_ = 0, epoch_count_ = 0;   // running sums of the epoch in progress
  std::vector<double> pending_epoch_state_;   // to restore when resuming inside an epoch
};

}  // namespace dtrain::model
