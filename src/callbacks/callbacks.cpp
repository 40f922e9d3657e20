#include "dtrain/callbacks.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/distributed/communicator.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

namespace dtrain {
namespace {

// Keras' mode "auto": maximise accuracy-like figures, minimise the rest.
bool maximize(const std::string& mode, const std::string& monitor, const std::string& owner) {
  if (mode == "max") return true;
  if (mode == "min") return false;
  if (mode != "auto") throw ArgumentError(owner + ": mode must be min, max or auto, got '" + mode + "'");
  for (const char* k : {"acc", "auc", "precision", "recall"}) {
    if (monitor.find(k) != std::string::npos) return true;
  }
  return false;
}

bool on_rank_zero(Model* m) { return !m || !m->communicator() || m->communicator()->rank() == 0; }

std::string format_value(double v) {
  std::ostringstream out;
  if (v != 0 && (std::abs(v) < 1e-3 || std::abs(v) >= 1e4)) {
    out << std::scientific << std::setprecision(4) << v;
  } else {
    out << std::fixed << std::setprecision(4) << v;
  }
  return out.str();
}

}  // namespace

// ---- Logs -------------------------------------------------------------------------

void Logs::set(const std::string& key, double value) {
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = value;
      return;
    }
  }
  items_.emplace_back(key, value);
}

bool Logs::has(const std::string& key) const {
  return std::any_of(items_.begin(), items_.end(), [&](const auto& kv) { return kv.first == key; });
}

double Logs::get(const std::string& key) const {
  for (const auto& [k, v] : items_) {
    if (k == key) return v;
  }
  std::string list;
  for (const auto& [k, v] : items_) list += (list.empty() ? "" : ", ") + k;
  throw ArgumentError("no figure named '" + key + "' in the logs (available: " + list + ")");
}

std::string format_logs(const Logs& logs) {
  std::string out;
  for (const auto& [k, v] : logs.items()) {
    out += (out.empty() ? "" : " - ") + k + ": " + format_value(v);
  }
  return out;
}

// ---- History ----------------------------------------------------------------------

void History::on_epoch_end(std::int64_t, const Logs& logs) { epochs_.push_back(logs); }

std::vector<double> History::values(const std::string& key) const {
  std::vector<double> out;
  for (const auto& e : epochs_) out.push_back(e.get(key));
  return out;
}

// ---- EarlyStopping ----------------------------------------------------------------

EarlyStopping::EarlyStopping(EarlyStoppingOptions o) : o_(std::move(o)) {
  maximize_ = maximize(o_.mode, o_.monitor, "EarlyStopping");
  if (o_.patience < 0) throw ArgumentError("EarlyStopping: patience must be >= 0");
  o_.min_delta = std::abs(o_.min_delta);
}

bool EarlyStopping::improved(double value) const {
  if (!has_best_) return true;
  return maximize_ ? value - o_.min_delta > best_ : value + o_.min_delta < best_;
}

void EarlyStopping::on_train_begin() {
  wait_ = 0;
  stopped_epoch_ = -1;
  has_best_ = o_.baseline.has_value();
  if (has_best_) best_ = *o_.baseline;
  best_weights_.clear();
  best_epoch_ = -1;
}

void EarlyStopping::on_epoch_end(std::int64_t epoch, const Logs& logs) {
  if (!logs.has(o_.monitor)) {
    throw ArgumentError("EarlyStopping: monitor '" + o_.monitor + "' is not in the logs (" + format_logs(logs) + ")");
  }
  if (epoch < o_.start_from_epoch) return;
  const double value = logs.get(o_.monitor);
  ++wait_;
  if (improved(value)) {
    best_ = value;
    has_best_ = true;
    best_epoch_ = epoch;
    if (o_.restore_best_weights && model_) best_weights_.assign(model_->weights().begin(), model_->weights().end());
    wait_ = 0;
    return;
  }
  if (wait_ >= o_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    if (model_) model_->stop_training = true;
  }
}

void EarlyStopping::on_train_end(const Logs&) {
  if (stopped_epoch_ >= 0 && o_.restore_best_weights && model_ && !best_weights_.empty()) {
    std::copy(best_weights_.begin(), best_weights_.end(), model_->weights().begin());
  }
}

Config EarlyStopping::state() const {
  Config c;
  c.set("wait", wait_).set("has_best", has_best_).set("best", best_).set("best_epoch", best_epoch_);
  return c;
}

void EarlyStopping::set_state(const Config& c) {
  wait_ = c.get_int("wait", name());
  has_best_ = c.get_bool("has_best", name());
  best_ = c.get_double("best", name());
  best_epoch_ = c.get_int("best_epoch", name());
}

// ---- ReduceLROnPlateau ------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions o) : o_(std::move(o)) {
  if (!(o_.factor > 0 && o_.factor < 1)) throw ArgumentError("ReduceLROnPlateau: factor must be in (0, 1)");
  maximize_ = maximize(o_.mode, o_.monitor, "ReduceLROnPlateau");
}

void ReduceLROnPlateau::on_epoch_end(std::int64_t, const Logs& logs) {
  if (!logs.has(o_.monitor)) {
    throw ArgumentError("ReduceLROnPlateau: monitor '" + o_.monitor + "' is not in the logs");
  }
  const double value = logs.get(o_.monitor);
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  const bool better = !has_best_ || (maximize_ ? value > best_ + o_.min_delta : value < best_ - o_.min_delta);
  if (better) {
    best_ = value;
    has_best_ = true;
    wait_ = 0;
  } else if (cooldown_counter_ == 0) {
    if (++wait_ >= o_.patience && model_) {
      auto& opt = model_->optimizer();
      const double lr = opt.learning_rate();
      if (lr > o_.min_lr) {
        opt.set_learning_rate(std::max(lr * o_.factor, o_.min_lr));
        cooldown_counter_ = o_.cooldown;
        wait_ = 0;
      }
    }
  }
}

Config ReduceLROnPlateau::state() const {
  Config c;
  c.set("wait", wait_).set("cooldown_counter", cooldown_counter_).set("has_best", has_best_).set("best", best_);
  return c;
}

void ReduceLROnPlateau::set_state(const Config& c) {
  wait_ = c.get_int("wait", name());
  cooldown_counter_ = c.get_int("cooldown_counter", name());
  has_best_ = c.get_bool("has_best", name());
  best_ = c.get_double("best", name());
}

// ---- LearningRateScheduler --------------------------------------------------------

LearningRateScheduler::LearningRateScheduler(std::function<double(std::int64_t, double)> schedule)
    : schedule_(std::move(schedule)) {}

void LearningRateScheduler::on_epoch_begin(std::int64_t epoch) {
  if (!model_) return;
  auto& opt = model_->optimizer();
  const double lr = schedule_(epoch, opt.learning_rate());
  if (!(lr >= 0) || !std::isfinite(lr)) {
    throw ArgumentError("LearningRateScheduler: the schedule returned " + std::to_string(lr) + " for epoch " +
                        std::to_string(epoch));
  }
  opt.set_learning_rate(lr);
}

// ---- CSVLogger --------------------------------------------------------------------

CSVLogger::CSVLogger(std::string path, bool append) : path_(std::move(path)), append_(append) {}

void CSVLogger::on_train_begin() {
  keys_.clear();
  if (!on_rank_zero(model_)) return;
  if (append_) {
    std::ifstream in(path_);
    std::string header;
    if (in && std::getline(in, header) && !header.empty()) {
      std::stringstream ss(header);
      std::string key;
      std::getline(ss, key, ',');  // "epoch"
      while (std::getline(ss, key, ',')) {
        if (key != "time") keys_.push_back(key);
      }
      return;
    }
  }
  std::ofstream out(path_, std::ios::trunc);
  if (!out) throw Error("CSVLogger: cannot write '" + path_ + "'");
}

void CSVLogger::rewrite(const std::string& path, const std::vector<std::string>& columns,
                        const std::vector<std::vector<double>>& rows) {
  // The time column of the old file, by epoch.
  std::map<std::string, std::string> times;
  {
    std::ifstream in(path);
    std::string line;
    if (in && std::getline(in, line) && line.ends_with(",time")) {
      while (std::getline(in, line)) {
        const auto first = line.find(','), last = line.rfind(',');
        if (first != std::string::npos) times[line.substr(0, first)] = line.substr(last + 1);
      }
    }
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw Error("CSVLogger: cannot write '" + tmp + "'");
    if (!columns.empty()) {
      for (const auto& c : columns) out << c << ',';
      out << "time\n";
    }
    for (const auto& row : rows) {
      if (row.size() != columns.size() || row.empty()) {
        throw ArgumentError("CSVLogger::rewrite: a row of " + std::to_string(row.size()) + " values for " +
                            std::to_string(columns.size()) + " columns");
      }
      const std::string epoch = std::to_string(static_cast<std::int64_t>(row[0]));
      out << epoch;
      for (std::size_t i = 1; i < row.size(); ++i) out << ',' << std::setprecision(9) << row[i];
      const auto t = times.find(epoch);
      out << ',' << (t != times.end() ? t->second : std::string()) << '\n';
    }
    out.flush();
    if (!out) throw Error("CSVLogger: cannot write '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error("CSVLogger: cannot rename '" + tmp + "' to '" + path + "'");
  }
}

void CSVLogger::on_epoch_begin(std::int64_t) { epoch_start_ = std::chrono::steady_clock::now(); }

void CSVLogger::on_epoch_end(std::int64_t epoch, const Logs& logs) {
  if (!on_rank_zero(model_)) return;
  std::ofstream out(path_, std::ios::app);
  if (!out) throw Error("CSVLogger: cannot write '" + path_ + "'");
  if (keys_.empty()) {
    out << "epoch";
    for (const auto& [k, v] : logs.items()) {
      keys_.push_back(k);
      out << ',' << k;
    }
    out << ",time\n";
  }
  out << epoch;
  for (const auto& k : keys_) {
    out << ',';
    if (logs.has(k)) out << std::setprecision(9) << logs.get(k);
  }
  out << ',' << std::setprecision(6)
      << std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count() << '\n';
}

// ---- TerminateOnNaN ---------------------------------------------------------------

void TerminateOnNaN::on_train_batch_end(std::int64_t step, const Logs& logs) {
  if (logs.has("loss") && !std::isfinite(logs.get("loss")) && model_) {
    if (on_rank_zero(model_)) std::fprintf(stderr, "Batch %lld: Invalid loss, terminating training\n", static_cast<long long>(step));
    model_->stop_training = true;
  }
}

}  // namespace dtrain
