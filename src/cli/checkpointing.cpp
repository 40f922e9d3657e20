#include "checkpointing.hpp"

#include "model_json.hpp"

#include "dtrain/checkpoint.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/optimizers/optimizer.hpp"

#include <algorithm>
#include <iostream>
#include <map>

namespace dtrain::cli {
namespace {

// The parameter a slot "<param>/<slot>" belongs to; nullptr for optimizer-wide
// state ("nadam/u_product").
const graph::ParameterInfo* owner_of(const std::vector<graph::ParameterInfo>& params, const std::string& slot) {
  for (const auto& p : params) {
    if (slot.rfind(p.name + "/", 0) == 0 && slot.find('/', p.name.size() + 1) == std::string::npos) return &p;
  }
  return nullptr;
}

checkpoint::MonitorMode monitor_mode(const RunConfig& cfg) {
  if (cfg.checkpoint_mode == "max") return checkpoint::MonitorMode::kMax;
  if (cfg.checkpoint_mode == "min") return checkpoint::MonitorMode::kMin;
  const auto& m = cfg.checkpoint_monitor;
  const bool larger_is_better = m.find("acc") != std::string::npos || m.find("auc") != std::string::npos;
  return larger_is_better ? checkpoint::MonitorMode::kMax : checkpoint::MonitorMode::kMin;
}

}  // namespace

struct Checkpointer::Impl {
  distributed::Communicator& comm;
  const RunConfig& cfg;
  checkpoint::CheckpointManager manager;
  std::string fingerprint;
  CallbackList callbacks;
  checkpoint::History history;
  std::optional<checkpoint::MonitorValue> monitor;

  Impl(distributed::Communicator& c, const RunConfig& r)
      : comm(c),
        cfg(r),
        manager(checkpoint::CheckpointManager::Options{
            r.run_dir, r.checkpoint_keep, !r.checkpoint_monitor.empty(), monitor_mode(r), r.checkpoint_monitor,
            [&c](const std::string& msg) {
              if (c.rank() == 0) std::cerr << "dtrain: warning: " << msg << '\n';
            }}),
        fingerprint(checkpoint::dataset_fingerprint(r.data.file)) {}

  std::string model_json(const Model& model) const {
    return model_to_json({model.name(), model.records(), model.loss(), model.metric_names()});
  }

  checkpoint::CheckpointState capture(Model& model, std::int64_t epoch, std::int64_t step_in_epoch,
                                      std::vector<double> epoch_state) {
    checkpoint::CheckpointState s;
    s.model.name = model.name();
    s.model.seed = cfg.seed;
    s.model.config_json = model_json(model);
    const auto& params = model.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto v = model.weight(params[i].name);
      s.model.weights.push_back({params[i].name, params[i].shape.to_vector(),
                                 std::vector<float>(v.data, v.data + v.size()), params[i].trainable});
    }
    auto& opt = model.optimizer();
    model.build_optimizer();
    s.optimizer.name = opt.name();
    s.optimizer.config_json = optimizer_to_json(opt.config());
    s.optimizer.iterations = opt.iterations();
    s.optimizer.learning_rate = opt.learning_rate();
    for (const auto& slot : opt.slots()) {
      checkpoint::Slot out{slot.name, {}, std::vector<float>(slot.value.begin(), slot.value.end())};
      if (const auto* owner = owner_of(params, slot.name)) {
        out.shape = owner->shape.to_vector();
        s.optimizer.slots.push_back(std::move(out));
      } else {
        out.shape = {static_cast<std::int64_t>(slot.value.size())};
        s.optimizer.globals.push_back(std::move(out));
      }
    }
    s.progress.global_step = model.global_step();
    s.progress.epoch = epoch;
    s.progress.step_in_epoch = step_in_epoch;
    s.progress.seed = cfg.seed;
    s.progress.world_size = comm.size();
    s.progress.threads = model.threads();
    s.progress.dataset_fingerprint = fingerprint;
    for (const auto& c : callbacks) {
      const auto state = c->state();
      if (!state.values().empty()) s.callbacks.push_back({c->name(), config_to_json(state)});
    }
    if (step_in_epoch > 0) s.metric_states["epoch"] = std::move(epoch_state);
    s.history = history;
    s.monitor = monitor;
    return s;
  }

  void restore(Model& model, const checkpoint::CheckpointState& s, const std::string& path) {
    std::vector<checkpoint::WeightSpec> expected;
    for (const auto& p : model.parameters()) expected.push_back({p.name, p.shape.to_vector()});
    checkpoint::verify_weights(s, expected, path);
    for (const auto& w : s.model.weights) {
      auto v = model.weight(w.name);
      std::copy(w.data.begin(), w.data.end(), v.data);
    }
    auto& opt = model.optimizer();
    if (opt.name() != s.optimizer.name) {
      throw ArgumentError(path + ": the checkpoint's optimizer is '" + s.optimizer.name + "', the config's '" +
                          opt.name() + "'");
    }
    model.build_optimizer();
    std::map<std::string, const checkpoint::Slot*> saved;
    for (const auto& slot : s.optimizer.slots) saved[slot.name] = &slot;
    for (const auto& slot : s.optimizer.globals) saved[slot.name] = &slot;
    for (auto& slot : opt.slots()) {
      auto it = saved.find(slot.name);
      if (it == saved.end() || it->second->data.size() != slot.value.size()) {
        throw ArgumentError(path + ": optimizer slot '" + slot.name + "' is missing or has another size");
      }
      std::copy(it->second->data.begin(), it->second->data.end(), slot.value.begin());
    }
    opt.set_iterations(s.optimizer.iterations);
    if (!opt.config().learning_rate_schedule && opt.learning_rate() != s.optimizer.learning_rate) {
      opt.set_learning_rate(s.optimizer.learning_rate);  // changed by ReduceLROnPlateau
    }
    model.set_global_step(s.progress.global_step);
    if (auto it = s.metric_states.find("epoch"); it != s.metric_states.end() && s.progress.step_in_epoch > 0) {
      // The sums over all ranks at save time: rank 0 carries them on, the others
      // start from zero, so the epoch's reduced figures stay exact.
      auto state = it->second;
      if (comm.rank() != 0) std::fill(state.begin(), state.end(), 0.0);
      model.set_epoch_state(state);
    }
    history = s.history;
    monitor = s.monitor;
    if (comm.rank() == 0 && s.progress.dataset_fingerprint != fingerprint) {
      std::cerr << "dtrain: warning: " << path << " was written for another version of " << cfg.data.file
                << " (dataset fingerprint differs)\n";
    }
  }
};

Checkpointer::Checkpointer(distributed::Communicator& comm, const RunConfig& cfg)
    : impl_(std::make_unique<Impl>(comm, cfg)) {}
Checkpointer::~Checkpointer() = default;

std::optional<ResumePoint> Checkpointer::resume(Model& model, const std::string& spec) {
  std::optional<checkpoint::ResumePoint> found;
  if (spec == "auto") {
    found = impl_->manager.find_resume();
    if (!found) {
      if (impl_->comm.rank() == 0) std::cout << "No checkpoint in " << impl_->cfg.run_dir << ": starting fresh\n";
      return std::nullopt;
    }
  } else {
    found = checkpoint::ResumePoint{spec, checkpoint::load_checkpoint(spec)};
  }
  impl_->restore(model, found->state, found->path);
  ResumePoint p{found->path, found->state.progress.epoch, found->state.progress.step_in_epoch, {}};
  for (const auto& c : found->state.callbacks) p.callbacks.emplace_back(c.name, c.json);
  last_path_ = found->path;
  return p;
}

void Checkpointer::broadcast_from_root(Model& model) {
  auto& comm = impl_->comm;
  if (comm.size() == 1) return;
  const auto hash = std::hash<std::string>{}(impl_->model_json(model));
  if (comm.allreduce_min(hash, "model config check") != comm.allreduce_max(hash, "model config check")) {
    throw Error("the ranks built different models (is the config the same file on every node?)");
  }
  comm.broadcast(model.weights(), 0, "initial weights");
  model.build_optimizer();
  for (auto& slot : model.optimizer().slots()) comm.broadcast(slot.value, 0, "optimizer state");
}

void Checkpointer::set_callbacks(const CallbackList& callbacks) { impl_->callbacks = callbacks; }

void Checkpointer::restore_callbacks(const ResumePoint& point) {
  for (const auto& [name, json] : point.callbacks) {
    for (auto& c : impl_->callbacks) {
      if (c->name() == name) c->set_state(config_from_json(json, point.path + " (" + name + ")"));
    }
  }
}

void Checkpointer::record_epoch(const Logs& logs) {
  auto& h = impl_->history;
  if (h.columns.empty()) {
    h.columns.push_back("epoch");
    for (const auto& [k, v] : logs.items()) h.columns.push_back(k);
  }
  std::vector<double> row{static_cast<double>(h.rows.size())};
  for (std::size_t i = 1; i < h.columns.size(); ++i) row.push_back(logs.has(h.columns[i]) ? logs.get(h.columns[i]) : 0.0);
  h.rows.push_back(std::move(row));
  const auto& m = impl_->cfg.checkpoint_monitor;
  if (!m.empty() && logs.has(m)) impl_->monitor = checkpoint::MonitorValue{m, logs.get(m)};
}

void Checkpointer::save(Model& model, std::int64_t epoch, std::int64_t step_in_epoch, const std::string&) {
  last_path_ = checkpoint::checkpoint_path(impl_->cfg.run_dir, model.global_step());
  // Every rank calls save: the running sums of the epoch are this rank's own.
  auto epoch_state = model.epoch_state();
  if (step_in_epoch > 0 && impl_->comm.size() > 1) {
    impl_->comm.allreduce_sum(std::span<double>(epoch_state), "epoch metrics for a checkpoint");
  }
  model.gather_optimizer_state();  // collective: each rank's slots are current only on its share
  if (impl_->comm.rank() != 0) return;
  impl_->manager.save(impl_->capture(model, epoch, step_in_epoch, std::move(epoch_state)));
}

}  // namespace dtrain::cli
