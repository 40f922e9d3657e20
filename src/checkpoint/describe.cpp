// describe_checkpoint: the summary `dtrain inspect CKPT.h5` prints.
#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "layout.hpp"

namespace dtrain::checkpoint {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string grouped(std::int64_t v) {  // 1234567 -> "1,234,567"
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > (v < 0 ? 1 : 0); i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::int64_t count_of(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

// The last part of a slot name: "dense_1/kernel/m" -> "m".
std::string leaf(const std::string& name) {
  const auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

void weights(std::ostringstream& out, const ModelState& m) {
  std::int64_t total = 0, trainable = 0;
  std::size_t width = 0;
  for (const auto& w : m.weights) {
    total += count_of(w.shape);
    if (w.trainable) trainable += count_of(w.shape);
    width = std::max(width, w.name.size());
  }
  out << "  model: " << (m.name.empty() ? "(unnamed)" : m.name) << ", seed " << m.seed << ", "
      << m.weights.size() << " weights, " << grouped(total) << " parameters (" << grouped(trainable)
      << " trainable)\n";
  for (const auto& w : m.weights) {
    out << "    " << w.name << std::string(width - w.name.size() + 2, ' ') << shape_text(w.shape)
        << (w.trainable ? "" : "  non-trainable") << "\n";
  }
}

void optimizer(std::ostringstream& out, const OptimizerState& o) {
  std::set<std::string> kinds;
  std::int64_t values = 0;
  for (const auto& s : o.slots) {
    kinds.insert(leaf(s.name));
    values += count_of(s.shape);
  }
  out << "  optimizer: " << (o.name.empty() ? "(unnamed)" : o.name) << ", iterations " << o.iterations
      << ", learning rate " << number(o.learning_rate) << "\n";
  out << "    slots: " << o.slots.size();
  if (!kinds.empty()) {
    out << " (";
    std::size_t i = 0;
    for (const auto& k : kinds) out << (i++ > 0 ? ", " : "") << k;
    out << " per variable)";
  }
  out << ", " << grouped(values) << " values\n";
  for (const auto& g : o.globals) {
    out << "    global " << g.name << " " << shape_text(g.shape);
    if (g.data.size() == 1) out << " = " << number(g.data[0]);
    out << "\n";
  }
}

void history(std::ostringstream& out, const HistoryTable& h) {
  out << "  history: " << h.rows.size() << (h.rows.size() == 1 ? " row" : " rows");
  if (!h.rows.empty()) {
    out << "; last:";
    for (std::size_t c = 0; c < h.columns.size(); ++c) {
      out << " " << h.columns[c] << "=" << number(h.rows.back()[c]);
    }
  }
  out << "\n";
}

}  // namespace

std::string describe_checkpoint(const std::string& path) {
  const CheckpointState s = load_checkpoint(path);
  const auto& p = s.progress;
  std::ostringstream out;
  out << "dtrain checkpoint " << path << "\n";
  out << "  format: " << s.format << " v" << s.format_version << ", written by dtrain " << s.dtrain_version
      << " at " << s.created << "; checksums ok\n";
  out << "  progress: global step " << p.global_step << ", epoch " << p.epoch << ", step " << p.step_in_epoch
      << " within the epoch, seed " << p.seed << "\n";
  if (!p.rng.empty()) {
    out << "  rng:";
    for (const auto& [k, v] : p.rng) out << " " << k << "=" << v;
    out << "\n";
  }
  out << "  saved by: " << p.world_size << (p.world_size == 1 ? " rank" : " ranks") << ", " << p.threads
      << (p.threads == 1 ? " thread" : " threads") << " per rank\n";
  out << "  dataset: " << (p.dataset.empty() ? "" : p.dataset + ", ")
      << (p.dataset_fingerprint.empty() ? "(no fingerprint)" : p.dataset_fingerprint) << "\n";
  if (s.monitor) out << "  monitor: " << s.monitor->name << " = " << number(s.monitor->value) << "\n";
  history(out, s.history);
  if (!s.metric_states.empty()) {
    out << "  metric states of the interrupted epoch:";
    for (const auto& [name, v] : s.metric_states) {
      out << " " << name << "[";
      for (std::size_t i = 0; i < v.size(); ++i) out << (i > 0 ? ", " : "") << number(v[i]);
      out << "]";
    }
    out << "\n";
  }
  if (!s.callbacks.empty()) {
    out << "  callbacks:";
    for (std::size_t i = 0; i < s.callbacks.size(); ++i) out << (i > 0 ? ", " : " ") << s.callbacks[i].name;
    out << "\n";
  }
  weights(out, s.model);
  optimizer(out, s.optimizer);
  return out.str();
}

}  // namespace dtrain::checkpoint
