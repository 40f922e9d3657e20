#include "trainer.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/distributed/communicator.hpp"
#include "dtrain/losses.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace dtrain::model {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs a forward pass; a bad label is named by the row of the file (or array)
// it came from and where it was read, not by its row in the batch.
template <class Forward>
void forward_naming_rows(const Batch& b, Forward&& forward) {
  try {
    forward();
  } catch (const losses::LabelError& e) {
    const auto r = e.row();
    const auto row = r >= 0 && r < static_cast<std::int64_t>(b.rows.size()) ? b.rows[static_cast<std::size_t>(r)] : r;
    throw ArgumentError(e.at((b.labels.empty() ? std::string() : std::string(b.labels) + " ") + "row " +
                             std::to_string(row)));
  }
}

}  // namespace

Trainer::Trainer(Network& network) : network_(network) {}
Trainer::~Trainer() = default;

void Trainer::set_communicator(distributed::Communicator* comm) {
  drop_data_parallel();
  comm_ = comm;
}

void Trainer::set_reducer_options(distributed::ReducerOptions options) {
  drop_data_parallel();
  reducer_options_ = options;
}

void Trainer::set_threads(int threads) {
  threads_ = threads;
  scope_.reset();
}

int Trainer::threads() const {
  if (scope_) return scope_->threads();
  return threads_ > 0 ? threads_ : kernels::available_cores();
}

kernels::ThreadScope& Trainer::thread_scope() {
  if (!scope_) scope_ = std::make_unique<kernels::ThreadScope>(threads_);
  return *scope_;
}

void Trainer::compile(optimizers::Optimizer<float>& optimizer, const losses::LossConfig& loss,
                      const std::vector<std::string>& metric_names) {
  std::vector<std::unique_ptr<metrics::Metric>> train, eval;
  for (const auto& m : metric_names) {
    train.push_back(metrics::make_metric(m, loss));  // validates the names
    eval.push_back(metrics::make_metric(m, loss));
  }
  drop_data_parallel();
  optimizer_ = &optimizer;
  train_metrics_ = std::move(train);
  eval_metrics_ = std::move(eval);
}

void Trainer::gather_optimizer_state() {
  if (data_parallel_ && optimizer_) data_parallel_->gather_optimizer_state(*optimizer_);
}

void Trainer::drop_data_parallel() {
  if (!data_parallel_) return;
  gather_optimizer_state();
  data_parallel_.reset();
}

// ---- one step -------------------------------------------------------------------

double Trainer::train_step(const Batch& b) {
  auto& g = network_.graph();
  auto t = Clock::now();
  double loss_total = 0;
  if (b.size > 0) {
    network_.load_batch(b);
    g.set_step(static_cast<std::uint64_t>(global_step_));
    g.set_row_offset(b.offset);
    forward_naming_rows(b, [&] { g.forward(true); });
    loss_total = g.value(network_.loss_sum()).data[0];
  }
  profile_.forward += seconds_since(t);
  t = Clock::now();
  if (world() > 1) {
    if (!data_parallel_) data_parallel_ = std::make_unique<DataParallelStep>(*comm_, network_, reducer_options_, *optimizer_);
    data_parallel_->backward(static_cast<std::uint64_t>(global_step_), b.size);
    profile_.backward += seconds_since(t);
    t = Clock::now();
    data_parallel_->finish();
    profile_.allreduce_wait += seconds_since(t);
  } else {
    g.backward(network_.loss_sum());
    const float inv = 1.0f / static_cast<float>(b.size);
    auto grads = network_.store().grads();
    kernels::for_blocks(static_cast<std::int64_t>(grads.size()), 1 << 16, [&](std::int64_t s, std::int64_t e) {
      for (auto i = s; i < e; ++i) grads[static_cast<std::size_t>(i)] *= inv;
    });
    profile_.backward += seconds_since(t);
  }
  t = Clock::now();
  const double penalty = network_.apply_regularizers();
  if (data_parallel_) {
    data_parallel_->apply(*optimizer_);
    data_parallel_->sync_non_trainable();
  } else {
    optimizer_->apply(network_.trainable());
  }
  profile_.optimizer += seconds_since(t);
  t = Clock::now();
  if (b.size > 0) {
    for (auto& m : train_metrics_) m->update(g.value(network_.y_true()), g.value(network_.output()));
  }
  profile_.other += seconds_since(t);
  ++global_step_;
  profile_.samples += b.global_size;
  ++profile_.steps;
  return loss_total + penalty * static_cast<double>(b.size);
}

void Trainer::reduce_into_logs(double loss_sum, double count, std::vector<std::unique_ptr<metrics::Metric>>& ms,
                               Logs& logs) {
  std::vector<double> state{loss_sum, count};
  std::vector<std::size_t> sizes;
  for (const auto& m : ms) {
    const auto s = m->state();
    sizes.push_back(s.size());
    state.insert(state.end(), s.begin(), s.end());
  }
  if (world() > 1) comm_->allreduce_sum(std::span<double>(state), "metrics");
  logs.set("loss", state[1] > 0 ? state[0] / state[1] : 0.0);
  std::size_t at = 2;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    ms[i]->set_state(std::span<const double>(state.data() + at, sizes[i]));
    at += sizes[i];
    logs.set(ms[i]->name(), ms[i]->result());
  }
}

Logs Trainer::evaluate(BatchSource& data) {
  auto& g = network_.graph();
  network_.plan(data.max_local_batch());
  for (auto& m : eval_metrics_) m->reset();
  double total = 0, count = 0;
  data.start_epoch(0);
  for (std::int64_t s = 0; s < data.steps_per_epoch(); ++s) {
    const Batch& b = data.next();
    if (b.size == 0) continue;
    network_.load_batch(b);
    forward_naming_rows(b, [&] { g.forward(false, network_.per_sample_loss()); });
    // Sample by sample in double: the figure does not depend on how the rows
    // were cut into batches and ranks.
    const auto losses = g.value(network_.per_sample_loss());
    for (std::int64_t i = 0; i < losses.size(); ++i) total += static_cast<double>(losses.data[i]);
    count += static_cast<double>(b.size);
    for (auto& m : eval_metrics_) m->update(g.value(network_.y_true()), g.value(network_.output()));
  }
  Logs logs;
  reduce_into_logs(total, count, eval_metrics_, logs);
  return logs;
}

// ---- the loop -------------------------------------------------------------------

History Trainer::fit(Model& model, BatchSource& train, FitOptions o) {
  if (o.epochs <= o.initial_epoch) {
    throw ArgumentError("fit: epochs (" + std::to_string(o.epochs) + ") must exceed initial_epoch (" +
                        std::to_string(o.initial_epoch) + ")");
  }
  auto history = std::make_shared<History>();
  CallbackList callbacks{history};
  callbacks.insert(callbacks.end(), o.callbacks.begin(), o.callbacks.end());
  if (o.verbose > 0 && rank() == 0) callbacks.push_back(std::make_shared<ProgbarLogger>(o.verbose, *o.out));
  for (auto& c : callbacks) {
    c->set_model(&model);
    c->set_params({o.epochs, train.steps_per_epoch(), o.verbose});
  }

  thread_scope().run([&] {
    network_.plan(std::max(train.max_local_batch(), o.validation ? o.validation->max_local_batch() : 0));
    model.stop_training = false;
    model.interrupted = false;
    for (auto& c : callbacks) c->on_train_begin();
    Logs logs;
    for (std::int64_t epoch = o.initial_epoch; epoch < o.epochs && !model.stop_training; ++epoch) {
      for (auto& c : callbacks) c->on_epoch_begin(epoch);
      for (auto& m : train_metrics_) m->reset();
      profile_ = {};
      const auto epoch_start = Clock::now();
      const std::int64_t first = epoch == o.initial_epoch ? o.initial_step : 0;
      train.start_epoch(epoch, first);
      epoch_loss_ = epoch_count_ = 0;
      if (first > 0 && !pending_epoch_state_.empty()) set_epoch_state(pending_epoch_state_);
      pending_epoch_state_.clear();
      for (std::int64_t s = first; s < train.steps_per_epoch(); ++s) {
        auto t = Clock::now();
        const Batch& b = train.next();
        profile_.data += seconds_since(t);
        epoch_loss_ += train_step(b);
        epoch_count_ += static_cast<double>(b.size);
        Logs running;
        running.set("loss", epoch_count_ > 0 ? epoch_loss_ / epoch_count_ : 0.0);
        for (const auto& m : train_metrics_) running.set(m->name(), m->result());
        for (auto& c : callbacks) c->on_train_batch_end(s, running);
        if (model.stop_training || model.interrupted) break;
      }
      if (model.interrupted) return;
      logs = Logs();
      reduce_into_logs(epoch_loss_, epoch_count_, train_metrics_, logs);
      if (o.validation) {
        const auto val = evaluate(*o.validation);
        for (const auto& [k, v] : val.items()) logs.set("val_" + k, v);
      }
      logs.set("learning_rate", optimizer_->learning_rate());
      if (o.profile && rank() == 0) print_profile(*o.out, epoch, seconds_since(epoch_start));
      epochs_done_ = epoch + 1;
      for (auto& c : callbacks) c->on_epoch_end(epoch, logs);
    }
    for (auto& c : callbacks) c->on_train_end(logs);
  });
  return *history;
}

void Trainer::print_profile(std::ostream& out, std::int64_t epoch, double wall) const {
  const auto& p = profile_;
  auto pct = [&](double x) { return std::to_string(static_cast<int>(std::lround(100 * x / std::max(1e-9, wall)))) + "%"; };
  out << "profile epoch " << epoch + 1 << ": data " << pct(p.data) << ", forward " << pct(p.forward)
      << ", backward " << pct(p.backward) << ", all-reduce wait " << pct(p.allreduce_wait) << ", optimizer "
      << pct(p.optimizer) << ", metrics " << pct(p.other) << "; "
      << static_cast<std::int64_t>(static_cast<double>(p.samples) / std::max(1e-9, p.total())) << " samples/s\n";
}

// ---- state ----------------------------------------------------------------------

std::vector<std::string> Trainer::metric_names() const {
  std::vector<std::string> out;
  for (const auto& m : train_metrics_) out.push_back(m->name());
  return out;
}

std::vector<double> Trainer::epoch_state() const {
  std::vector<double> out{epoch_loss_, epoch_count_};
  for (const auto& m : train_metrics_) {
    const auto s = m->state();
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

void Trainer::set_epoch_state(std::vector<double> state) {
  std::size_t need = 2;
  for (const auto& m : train_metrics_) need += m->state_size();
  if (state.size() != need) {
    throw ArgumentError("model: epoch state has " + std::to_string(state.size()) + " values, expected " +
                        std::to_string(need) + " (different metrics?)");
  }
  pending_epoch_state_ = state;  // fit applies it again after resetting the metrics
  epoch_loss_ = state[0];
  epoch_count_ = state[1];
  std::size_t at = 2;
  for (auto& m : train_metrics_) {
    m->set_state(std::span<const double>(state.data() + at, m->state_size()));
    at += m->state_size();
  }
}

}  // namespace dtrain::model
