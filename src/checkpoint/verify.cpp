// verify_weights and shape_text.
#include <map>

#include "dtrain/checkpoint.hpp"

namespace dtrain::checkpoint {

std::string shape_text(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

void verify_weights(const CheckpointState& state, std::span<const WeightSpec> expected,
                    const std::string& source) {
  std::map<std::string, const Weight*> found;
  for (const auto& w : state.model.weights) found[w.name] = &w;
  std::vector<std::string> problems;
  std::map<std::string, bool> wanted;
  for (const auto& spec : expected) {
    wanted[spec.name] = true;
    const auto it = found.find(spec.name);
    if (it == found.end()) {
      problems.push_back("missing " + spec.name + " " + shape_text(spec.shape) +
                         " (in the model, not in the checkpoint)");
    } else if (it->second->shape != spec.shape) {
      problems.push_back(spec.name + ": shape " + shape_text(it->second->shape) + " in the checkpoint, " +
                         shape_text(spec.shape) + " in the model");
    }
  }
  for (const auto& w : state.model.weights) {
    if (wanted.count(w.name) == 0) {
      problems.push_back("unexpected " + w.name + " " + shape_text(w.shape) +
                         " (in the checkpoint, not in the model)");
    }
  }
  if (problems.empty()) return;
  std::string msg = source + ": the checkpoint's weights do not match the model: ";
  for (std::size_t i = 0; i < problems.size(); ++i) msg += (i > 0 ? "; " : "") + problems[i];
  throw CheckpointError(msg);
}

}  // namespace dtrain::checkpoint
