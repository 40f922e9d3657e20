// Model: to and from HDF5 checkpoint files (save / load / resume, and the
// weights alone).
#include "checkpoint_state.hpp"
#include "config_json.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/distributed/communicator.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "dtrain/optimizers/optimizer.hpp"

#include <algorithm>
#include <map>

namespace dtrain {
namespace model {
namespace {

// The parameter a slot "<param>/<slot>" belongs to; nullptr for optimizer-wide
// state ("nadam/u_product").
const graph::ParameterInfo* owner_of(const std::vector<graph::ParameterInfo>& params, const std::string& slot) {
  for (const auto& p : params) {
    if (slot.rfind(p.name + "/", 0) == 0 && slot.find('/', p.name.size() + 1) == std::string::npos) return &p;
  }
  return nullptr;
}

checkpoint::ModelState model_state(Model& model, std::string config_json) {
  checkpoint::ModelState s;
  s.name = model.name();
  s.seed = model.seed();
  s.config_json = std::move(config_json);
  for (const auto& p : model.parameters()) {
    const auto v = model.weight(p.name);
    s.weights.push_back({p.name, p.shape.to_vector(), std::vector<float>(v.data, v.data + v.size()), p.trainable});
  }
  return s;
}

void load_weights_into(Model& model, const checkpoint::CheckpointState& s, const std::string& source) {
  std::vector<checkpoint::WeightSpec> expected;
  for (const auto& p : model.parameters()) expected.push_back({p.name, p.shape.to_vector()});
  checkpoint::verify_weights(s, expected, source);
  for (const auto& w : s.model.weights) std::copy(w.data.begin(), w.data.end(), model.weight(w.name).data);
}

}  // namespace

checkpoint::CheckpointState capture(Model& model, std::int64_t epoch, std::int64_t step_in_epoch,
                                    std::vector<double> epoch_state) {
  checkpoint::CheckpointState s;
  s.model = model_state(model, model_to_json(describe(model)));
  const auto& params = model.parameters();
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
  s.progress.seed = model.seed();
  s.progress.world_size = model.communicator() ? model.communicator()->size() : 1;
  s.progress.threads = model.threads();
  if (step_in_epoch > 0) s.metric_states["epoch"] = std::move(epoch_state);
  return s;
}

}  // namespace model

void Model::save_weights(const std::string& path) {
  checkpoint::CheckpointState s;
  s.model = model::model_state(*this, "{}");
  checkpoint::save_checkpoint(path, s);
}

void Model::load_weights(const std::string& path) {
  model::load_weights_into(*this, checkpoint::load_checkpoint(path), path);
}

void Model::save(const std::string& path) {
  auto* comm = communicator();
  const bool root = !comm || comm->rank() == 0;
  if (!compiled()) {
    if (root) {
      checkpoint::CheckpointState s;
      s.model = model::model_state(*this, model::model_to_json({name(), records(), {}, {}}));
      checkpoint::save_checkpoint(path, s);
    }
    return;
  }
  gather_optimizer_state();  // collective: each rank's slots may be current only on its share
  if (root) checkpoint::save_checkpoint(path, model::capture(*this, epochs_done(), 0, {}));
}

Model Model::load(const std::string& path) {
  const auto s = checkpoint::load_checkpoint(path);
  if (s.model.config_json.empty() || s.model.config_json == "{}") {
    throw ArgumentError(path + ": holds weights only (save_weights), not a model config: build the model, then "
                        "load_weights");
  }
  const auto d = model::model_from_json(s.model.config_json, path);
  auto m = Model::from_records(d.layers, d.name, s.model.seed);
  if (s.optimizer.name.empty() || d.loss.name.empty()) {
    model::load_weights_into(m, s, path);
    return m;
  }
  m.compile({optimizers::make_optimizer<float>(model::optimizer_from_json(s.optimizer.config_json, path)), d.loss,
             d.metrics});
  m.resume(s, path);
  return m;
}

void Model::broadcast_from_root() {
  auto* comm = communicator();
  if (!comm || comm->size() == 1) return;
  const auto hash = std::hash<std::string>{}(model::model_to_json(model::describe(*this)));
  if (comm->allreduce_min(hash, "model config check") != comm->allreduce_max(hash, "model config check")) {
    throw Error("the ranks built different models (is the config the same file on every node?)");
  }
  comm->broadcast(weights(), 0, "initial weights");
  build_optimizer();
  for (auto& slot : optimizer().slots()) comm->broadcast(slot.value, 0, "optimizer state");
}

ResumePosition Model::resume(const std::string& path) { return resume(checkpoint::load_checkpoint(path), path); }

ResumePosition Model::resume(const checkpoint::CheckpointState& s, const std::string& path) {
  if (!compiled()) throw Error("model: resume() before compile()");
  model::load_weights_into(*this, s, path);
  auto& opt = optimizer();
  if (opt.name() != s.optimizer.name) {
    throw ArgumentError(path + ": the checkpoint's optimizer is '" + s.optimizer.name + "', the config's '" +
                        opt.name() + "'");
  }
  build_optimizer();
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
  set_global_step(s.progress.global_step);
  set_epochs_done(s.progress.epoch);
  if (auto it = s.metric_states.find("epoch"); it != s.metric_states.end() && s.progress.step_in_epoch > 0) {
    // The sums over all ranks at save time: rank 0 carries them on, the others
    // start from zero, so the epoch's reduced figures stay exact.
    auto state = it->second;
    if (communicator() && communicator()->rank() != 0) std::fill(state.begin(), state.end(), 0.0);
    set_epoch_state(state);
  }
  return {path, s.progress.epoch, s.progress.step_in_epoch};
}

}  // namespace dtrain
