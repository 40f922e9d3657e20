#include "dtrain/model/model_checkpoint.hpp"

#include "checkpoint_state.hpp"
#include "config_json.hpp"

#include "dtrain/checkpoint.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/distributed/communicator.hpp"

#include <iostream>

namespace dtrain {
namespace {

checkpoint::MonitorMode monitor_mode(const ModelCheckpointOptions& o) {
  if (o.mode == "max") return checkpoint::MonitorMode::kMax;
  if (o.mode == "min") return checkpoint::MonitorMode::kMin;
  if (o.mode != "auto") throw ArgumentError("ModelCheckpoint: mode must be min, max or auto, got '" + o.mode + "'");
  const auto& m = o.monitor;
  const bool larger_is_better = m.find("acc") != std::string::npos || m.find("auc") != std::string::npos;
  return larger_is_better ? checkpoint::MonitorMode::kMax : checkpoint::MonitorMode::kMin;
}

bool is_root(const Model& model) { return !model.communicator() || model.communicator()->rank() == 0; }

}  // namespace

struct ModelCheckpoint::Impl {
  ModelCheckpointOptions options;
  checkpoint::CheckpointManager manager;
  std::string fingerprint;
  CallbackList watched;
  // Watched callbacks' states from the checkpoint resumed from: set again at
  // on_train_begin, after fit let every callback reset itself.
  std::vector<std::pair<std::shared_ptr<Callback>, Config>> restored;
  checkpoint::HistoryTable history;
  std::optional<checkpoint::MonitorValue> monitor;
  std::string last_path;
  std::int64_t epoch = 0;
  bool root = true;  // set from the model: only rank 0 warns

  explicit Impl(ModelCheckpointOptions o)
      : options(std::move(o)),
        manager(checkpoint::CheckpointManager::Options{options.directory, options.keep, !options.monitor.empty(),
                                                       monitor_mode(options), options.monitor,
                                                       [this](const std::string& msg) { warn(msg); }}),
        fingerprint(options.dataset.empty() ? "" : checkpoint::dataset_fingerprint(options.dataset)) {}

  void warn(const std::string& msg) const {
    if (!root) return;
    if (options.warn) {
      options.warn(msg);
    } else {
      std::cerr << "dtrain: warning: " << msg << '\n';
    }
  }
};

ModelCheckpoint::ModelCheckpoint(ModelCheckpointOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
ModelCheckpoint::~ModelCheckpoint() = default;

const std::string& ModelCheckpoint::last_path() const { return impl_->last_path; }
const checkpoint::HistoryTable& ModelCheckpoint::history() const { return impl_->history; }
void ModelCheckpoint::watch(const CallbackList& callbacks) { impl_->watched = callbacks; }

std::optional<ResumePosition> ModelCheckpoint::resume(Model& model, const std::string& spec) {
  auto& im = *impl_;
  im.root = is_root(model);
  std::optional<checkpoint::FoundCheckpoint> found;
  if (spec == "auto") {
    found = im.manager.find_resume();
    if (!found) return std::nullopt;
  } else {
    found = checkpoint::FoundCheckpoint{spec, checkpoint::load_checkpoint(spec)};
  }
  const auto& s = found->state;
  if (im.options.check_resume) im.options.check_resume(found->path, s.run_config);
  auto position = model.resume(s, found->path);
  im.restored.clear();
  for (const auto& c : s.callbacks) {
    for (auto& w : im.watched) {
      if (w->name() != c.name) continue;
      im.restored.emplace_back(w, model::config_from_json(c.json, found->path + " (" + c.name + ")"));
      w->set_state(im.restored.back().second);
    }
  }
  im.history = s.history;
  im.monitor = s.monitor;
  if (!im.fingerprint.empty() && s.progress.dataset_fingerprint != im.fingerprint) {
    const auto& was = s.progress.dataset;
    const auto& now = im.options.dataset;
    const auto& old_print = s.progress.dataset_fingerprint;
    if (was == now) {
      im.warn(found->path + " was trained on " + now + " when it held other data (dataset fingerprint " + old_print +
              ", now " + im.fingerprint + "); continuing with the file as it is");
    } else {
      im.warn(found->path + " was trained on " + (was.empty() ? "another file (not named by this checkpoint)" : was) +
              " (dataset fingerprint " + old_print + "), not on " + now + " (" + im.fingerprint +
              "); continuing with " + now);
    }
  }
  im.last_path = found->path;
  return position;
}

void ModelCheckpoint::save(Model& model, std::int64_t epoch, std::int64_t step_in_epoch) {
  auto& im = *impl_;
  auto* comm = model.communicator();
  im.last_path = checkpoint::checkpoint_path(im.options.directory, model.global_step());
  // Every rank calls save: the running sums of the epoch are this rank's own.
  auto epoch_state = model.epoch_state();
  if (step_in_epoch > 0 && comm && comm->size() > 1) {
    comm->allreduce_sum(std::span<double>(epoch_state), "epoch metrics for a checkpoint");
  }
  model.gather_optimizer_state();  // collective: each rank's slots are current only on its share
  if (!is_root(model)) return;
  auto s = model::capture(model, epoch, step_in_epoch, std::move(epoch_state));
  s.progress.dataset_fingerprint = im.fingerprint;
  s.run_config = im.options.run_config;
  s.progress.dataset = im.options.dataset;
  for (const auto& c : im.watched) {
    const auto state = c->state();
    if (!state.values().empty()) s.callbacks.push_back({c->name(), model::config_to_json(state)});
  }
  s.history = im.history;
  s.monitor = im.monitor;
  im.manager.save(s);
}

void ModelCheckpoint::on_train_begin() {
  for (auto& [callback, state] : impl_->restored) callback->set_state(state);
  impl_->restored.clear();
}

void ModelCheckpoint::on_epoch_begin(std::int64_t epoch) {
  impl_->epoch = epoch;
  impl_->root = is_root(*model_);
}

void ModelCheckpoint::on_train_batch_end(std::int64_t step, const Logs&) {
  const auto global = model_->global_step();
  const bool end_of_epoch = step + 1 == params_.steps;
  const auto every = impl_->options.save_every_steps;
  if (model_->interrupted || (every > 0 && global % every == 0 && !end_of_epoch)) {
    save(*model_, impl_->epoch, step + 1);
  }
}

void ModelCheckpoint::on_epoch_end(std::int64_t epoch, const Logs& logs) {
  auto& h = impl_->history;
  if (h.columns.empty()) {
    h.columns.push_back("epoch");
    for (const auto& [k, v] : logs.items()) h.columns.push_back(k);
  }
  std::vector<double> row{static_cast<double>(h.rows.size())};
  for (std::size_t i = 1; i < h.columns.size(); ++i) row.push_back(logs.has(h.columns[i]) ? logs.get(h.columns[i]) : 0.0);
  h.rows.push_back(std::move(row));
  const auto& m = impl_->options.monitor;
  if (!m.empty() && logs.has(m)) impl_->monitor = checkpoint::MonitorValue{m, logs.get(m)};
  if (impl_->options.save_every_epoch || epoch + 1 == params_.epochs || model_->stop_training) {
    save(*model_, epoch + 1, 0);
  }
}

}  // namespace dtrain
