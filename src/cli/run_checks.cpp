#include "run_checks.hpp"

#include "dtrain/callbacks.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/losses.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace dtrain::cli {
namespace {

// Where a config key was given: the last --set of it (or of a mapping above it),
// else the file (with the line when known).
std::string where(const RunConfig& cfg, const TrainArgs& args, const std::string& key, int line = 0) {
  if (const auto* o = override_of(args.overrides, key)) return "--set " + *o + ": " + key;
  return cfg.path + (line > 0 ? ":" + std::to_string(line) : "") + ": " + key;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void check_fail_rank(const TrainArgs& args, int world_size) {
  if (args.fail_rank >= world_size) {
    throw ArgumentError("--fail-rank " + std::to_string(args.fail_rank) + ": must be less than the number of ranks (" +
                        std::to_string(world_size) + ")");
  }
}

// The labels of the data file against the loss and the output layer.
void check_labels_fit(const RunConfig& cfg, const TrainArgs& args, const Model& model, const data::DatasetInfo& data) {
  const auto& split = data.split(cfg.data.train);
  const std::string loss = cfg.loss.name;
  const std::string labels = data.path + " " + split.y_path();
  const Shape out = model.output_shape();
  Shape sample;
  for (int i = 1; i < out.rank(); ++i) sample.push_back(out[i]);
  const auto& last = cfg.layers.back();
  const std::string layer = cfg.path + ": the output layer '" + last.config.get_string_or("name", last.type, "model") + "' (" + last.type +
                            ", output " + sample.str() + ")";
  const std::string loss_key = where(cfg, args, "compile.loss");
  const bool class_ids = split.task == data::Task::kClassification;
  const bool per_token = class_ids && split.y_rank == 2;  // y [N, t]: one class id per token
  const std::string held = class_ids ? "holds class ids ([" + std::to_string(split.rows) +
                                           (per_token ? ", " + std::to_string(split.targets) : "") + "], " +
                                           std::to_string(data.num_classes) + " classes)"
                                     : "holds float targets ([" + std::to_string(split.rows) + ", " +
                                           std::to_string(split.targets) + "])";
  if (loss == "sparse_categorical_crossentropy") {
    if (!class_ids) {
      throw ArgumentError(loss_key + ": " + loss + " needs integer class ids, but " + labels + " " + held +
                          "; use mean_squared_error (or another regression loss), or categorical_crossentropy for "
                          "one-hot targets");
    }
    if (per_token) {
      if (sample.rank() != 2 || sample[0] != split.targets || sample[1] != data.num_classes) {
        throw ArgumentError(layer + " does not fit " + labels + ", which " + held + ": " + loss +
                            " needs an output [" + std::to_string(split.targets) + ", " +
                            std::to_string(data.num_classes) + "], one unit per class for every token");
      }
      return;
    }
    if (sample.rank() != 1 || sample[0] != data.num_classes) {
      throw ArgumentError(layer + " does not fit " + labels + ", which " + held + ": " + loss +
                          " needs an output [" + std::to_string(data.num_classes) + "], one unit per class");
    }
    return;
  }
  // Every other loss compares the output with labels of its own shape.
  if (class_ids) {
    if (loss == "categorical_crossentropy") {
      throw ArgumentError(loss_key + ": " + loss + " needs one-hot float targets [N, classes], but " + labels +
                          " " + held + "; use sparse_categorical_crossentropy");
    }
    if (sample.numel() != split.targets) {
      throw ArgumentError(layer + " does not fit " + labels + ", which " + held + ": " + loss +
                          " compares the output with a label of the same shape; for class ids use "
                          "sparse_categorical_crossentropy with an output of one unit per class");
    }
    if (loss == "binary_crossentropy" && data.num_classes > 2) {
      throw ArgumentError(loss_key + ": " + loss + " needs labels 0 and 1, but " + labels + " " + held +
                          "; use sparse_categorical_crossentropy");
    }
    return;
  }
  if (sample.numel() != split.targets) {
    throw ArgumentError(layer + " does not fit " + labels + ", which " + held + ": " + loss + " needs an output [" +
                        std::to_string(split.targets) + "], one unit per target");
  }
}

// The figures a run logs at the end of each epoch (Trainer::fit).
std::vector<std::string> logged_figures(const RunConfig& cfg, const Model& model) {
  std::vector<std::string> names{"loss"};
  for (const auto& m : model.metric_names()) names.push_back(m);
  if (!cfg.data.validation.empty()) {
    const auto n = names.size();
    for (std::size_t i = 0; i < n; ++i) names.push_back("val_" + names[i]);
  }
  names.push_back("learning_rate");
  return names;
}

void check_monitors(const RunConfig& cfg, const TrainArgs& args, const Model& model) {
  const auto figures = logged_figures(cfg, model);
  const auto check = [&](const std::string& monitor, const std::string& key, bool defaulted) {
    if (std::find(figures.begin(), figures.end(), monitor) != figures.end()) return;
    std::string why = "'" + monitor + "'" + (defaulted ? " (the default)" : "") +
                      " is not a figure this run logs (it logs " + join(figures) + ")";
    if (monitor.starts_with("val_") && cfg.data.validation.empty()) why += "; val_ figures need data.validation";
    throw ArgumentError(key + ": " + why);
  };
  for (std::size_t i = 0; i < cfg.callbacks.size(); ++i) {
    const auto& spec = cfg.callbacks[i];
    std::string fallback;
    if (spec.type == "EarlyStopping") fallback = EarlyStoppingOptions{}.monitor;
    if (spec.type == "ReduceLROnPlateau") fallback = ReduceLROnPlateauOptions{}.monitor;
    if (fallback.empty()) continue;
    const auto key = "fit.callbacks[" + std::to_string(i) + "]." + spec.type + ".monitor";
    check(spec.args.get_string_or("monitor", fallback, spec.type), where(cfg, args, key, spec.line), !spec.args.has("monitor"));
  }
  if (!cfg.checkpoint_monitor.empty()) check(cfg.checkpoint_monitor, where(cfg, args, "checkpoint.monitor"), false);
}

}  // namespace

void check_token_ids(const RunConfig& cfg, const Model& model, const data::DatasetInfo& data, int rank,
                     int world_size) {
  const auto records = model.records();
  if (records.empty()) return;
  const std::string input = records.front().config.get_string_or("name", "", "model");
  for (const auto& r : records) {
    if (r.type != "Embedding" || r.inbound.size() != 1 || r.inbound[0] != input) continue;
    const std::string user = "Embedding '" + r.config.get_string_or("name", "embedding", "model") + "'";
    const auto limit = r.config.get_int("input_dim", user);
    for (const auto& name : {cfg.data.train, cfg.data.validation}) {
      if (name.empty() || !data.find(name)) continue;
      const auto& split = data.split(name);
      data::check_token_ids(data, split, split.rows * rank / world_size, split.rows * (rank + 1) / world_size, limit,
                            user);
    }
  }
}

void check_run(const RunConfig& cfg, const TrainArgs& args, const Model& model, const data::DatasetInfo& data,
               int world_size) {
  check_fail_rank(args, world_size);
  check_labels_fit(cfg, args, model, data);
  check_monitors(cfg, args, model);
}

}  // namespace dtrain::cli
