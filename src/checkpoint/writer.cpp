// save_checkpoint: validate, write a temporary HDF5 file, fsync, rename.
#include <chrono>
#include <ctime>
#include <filesystem>
#include <set>

#include "core/atomic_file.hpp"
#include "core/xxh64.hpp"
#include "hdf5/attributes.hpp"
#include "hdf5/datasets.hpp"
#include "hdf5/errors.hpp"
#include "hdf5/files.hpp"
#include "hdf5/groups.hpp"
#include "io_errors.hpp"
#include "layout.hpp"

namespace dtrain::checkpoint {
namespace detail {
namespace {

namespace fs = std::filesystem;

// --- validation (before anything is written) -----------------------------------

// A stored name is a path of groups: "dense_1/kernel". No empty, "." or ".." part.
void check_name(const std::string& name, const std::string& what) {
  bool ok =
      !name.empty() && !name.starts_with('/') && !name.ends_with('/') && name.find("//") == std::string::npos;
  for (std::size_t start = 0; ok && start < name.size();) {
    const std::size_t slash = std::min(name.find('/', start), name.size());
    const std::string part = name.substr(start, slash - start);
    ok = part != "." && part != "..";
    start = slash + 1;
  }
  if (!ok) {
    throw ArgumentError("checkpoint: " + what + " name '" + name +
                        "' is not a valid path (non-empty parts separated by '/')");
  }
}

// Unique names, and no name that is a group of another ("dense_1" and "dense_1/kernel").
void check_names(const std::vector<std::string>& names, const std::string& what) {
  std::set<std::string> seen;
  for (const auto& n : names) {
    check_name(n, what);
    if (!seen.insert(n).second) {
      throw ArgumentError("checkpoint: duplicate " + what + " name '" + n + "'");
    }
  }
  for (const auto& n : names) {
    for (std::size_t slash = n.find('/'); slash != std::string::npos; slash = n.find('/', slash + 1)) {
      if (seen.count(n.substr(0, slash)) != 0) {
        throw ArgumentError("checkpoint: " + what + " name '" + n.substr(0, slash) +
                            "' is also the group of '" + n + "'");
      }
    }
  }
}

void check_size(const std::string& what, const std::string& name, const std::vector<std::int64_t>& shape,
                std::size_t size) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) {
      throw ShapeError("checkpoint: " + what + " " + name + ": negative dimension in shape " +
                       shape_text(shape));
    }
    n *= d;
  }
  if (static_cast<std::size_t>(n) != size) {
    throw ShapeError("checkpoint: " + what + " " + name + ": shape " + shape_text(shape) + " has " +
                     std::to_string(n) + " values but " + std::to_string(size) + " were given");
  }
}

template <class List>
void check_arrays(const List& list, const std::string& what) {
  std::vector<std::string> names;
  for (const auto& a : list) {
    names.push_back(a.name);
    check_size(what, a.name, a.shape, a.data.size());
  }
  check_names(names, what);
}

void validate(const CheckpointState& s) {
  check_arrays(s.model.weights, "weight");
  check_arrays(s.optimizer.slots, "optimizer slot");
  check_arrays(s.optimizer.globals, "optimizer global");
  std::vector<std::string> metrics;
  for (const auto& [name, values] : s.metric_states) metrics.push_back(name);
  check_names(metrics, "metric state");
  check_names(s.history.columns, "history column");
  for (std::size_t r = 0; r < s.history.rows.size(); ++r) {
    if (s.history.rows[r].size() != s.history.columns.size()) {
      throw ShapeError("checkpoint: history row " + std::to_string(r) + " has " +
                       std::to_string(s.history.rows[r].size()) + " values for " +
                       std::to_string(s.history.columns.size()) + " columns");
    }
  }
  for (const auto& [key, value] : s.progress.rng) {
    if (key.empty()) throw ArgumentError("checkpoint: empty rng state key");
  }
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// --- writing -------------------------------------------------------------------

class Writer {
 public:
  Writer(hid_t file, const SaveHooks& hooks) : file_(file), hooks_(hooks) {}

  void all(const CheckpointState& s, const std::string& created, const ArrayHashes& hashes,
           std::uint64_t checksum) {
    root(s, created, checksum);
    model(s, hashes);
    optimizer(s, hashes);
    progress(s);
    callbacks(s);
    metric_states(s);
    history(s);
    if (!s.run_config.empty()) hdf5::write_string(file_, kRunConfig, s.run_config, errors_);
  }

 private:
  void stage(const std::string& what) const {
    if (hooks_.on_stage) hooks_.on_stage(what);
  }

  template <class List>
  void arrays(const List& list, const std::vector<std::uint64_t>& hashes, const std::string& names_path,
              const std::string& prefix) {
    std::vector<std::string> names;
    for (const auto& a : list) names.push_back(a.name);
    hdf5::write_strings(file_, names_path, names, errors_);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& a = list[i];
      const std::string path = prefix + a.name;
      hdf5::Dataset d = hdf5::write_floats(file_, path, a.shape, a.data, errors_);
      hdf5::write_attribute(d.get(), kArrayChecksumAttr, hashes[i], errors_);
      if constexpr (requires { a.trainable; }) {
        hdf5::write_attribute(d.get(), "trainable", static_cast<std::int8_t>(a.trainable ? 1 : 0), errors_);
      }
      d.reset();
      stage("dataset:" + path);
    }
  }

  void root(const CheckpointState& s, const std::string& created, std::uint64_t checksum) {
    hdf5::Group r(H5Gopen2(file_, "/", H5P_DEFAULT));
    hdf5::write_attribute(r.get(), "format", s.format, errors_);
    hdf5::write_attribute(r.get(), "format_version", s.format_version, errors_);
    hdf5::write_attribute(r.get(), "created", created, errors_);
    hdf5::write_attribute(r.get(), "dtrain_version", s.dtrain_version, errors_);
    hdf5::write_attribute(r.get(), "step", s.progress.global_step, errors_);
    hdf5::write_attribute(r.get(), "epoch", s.progress.epoch, errors_);
    hdf5::write_attribute(r.get(), "world_size", s.progress.world_size, errors_);
    hdf5::write_attribute(r.get(), "seed", s.progress.seed, errors_);
    if (s.monitor) {
      hdf5::write_attribute(r.get(), "monitor", s.monitor->name, errors_);
      hdf5::write_attribute(r.get(), "monitor_value", s.monitor->value, errors_);
    }
    hdf5::write_attribute(r.get(), "checksum_algorithm", std::string("xxh64"), errors_);
    hdf5::write_attribute(r.get(), kChecksumAttr, checksum, errors_);
  }

  void model(const CheckpointState& s, const ArrayHashes& hashes) {
    hdf5::Group g = hdf5::create_group(file_, kModelGroup, errors_);
    hdf5::write_attribute(g.get(), "name", s.model.name, errors_);
    hdf5::write_attribute(g.get(), "seed", s.model.seed, errors_);
    g.reset();
    hdf5::write_string(file_, kModelConfig, s.model.config_json, errors_);
    hdf5::create_group(file_, "/model/weights", errors_);
    arrays(s.model.weights, hashes.weights, kWeightNames, kWeightsPrefix);
  }

  void optimizer(const CheckpointState& s, const ArrayHashes& hashes) {
    const auto& o = s.optimizer;
    hdf5::Group g = hdf5::create_group(file_, kOptimizerGroup, errors_);
    hdf5::write_attribute(g.get(), "name", o.name, errors_);
    hdf5::write_attribute(g.get(), "iterations", o.iterations, errors_);
    hdf5::write_attribute(g.get(), "learning_rate", o.learning_rate, errors_);
    g.reset();
    hdf5::write_string(file_, kOptimizerConfig, o.config_json, errors_);
    hdf5::create_group(file_, "/optimizer/slots", errors_);
    hdf5::create_group(file_, "/optimizer/global", errors_);
    arrays(o.slots, hashes.slots, kSlotNames, kSlotsPrefix);
    arrays(o.globals, hashes.globals, kGlobalNames, kGlobalsPrefix);
  }

  void progress(const CheckpointState& s) {
    const auto& p = s.progress;
    hdf5::Group g = hdf5::create_group(file_, kProgressGroup, errors_);
    hdf5::write_attribute(g.get(), "step_in_epoch", p.step_in_epoch, errors_);
    hdf5::write_attribute(g.get(), "threads", p.threads, errors_);
    hdf5::write_attribute(g.get(), "dataset_fingerprint", p.dataset_fingerprint, errors_);
    if (!p.dataset.empty()) hdf5::write_attribute(g.get(), "dataset", p.dataset, errors_);
    hdf5::Group rng = hdf5::create_group(file_, kRngGroup, errors_);
    for (const auto& [key, value] : p.rng) hdf5::write_attribute(rng.get(), key, value, errors_);
  }

  void callbacks(const CheckpointState& s) {
    std::vector<std::string> names, states;
    for (const auto& c : s.callbacks) {
      names.push_back(c.name);
      states.push_back(c.json);
    }
    hdf5::write_strings(file_, kCallbackNames, names, errors_);
    hdf5::write_strings(file_, kCallbackStates, states, errors_);
  }

  void metric_states(const CheckpointState& s) {
    hdf5::create_group(file_, kMetricStatesGroup, errors_);
    for (const auto& [name, values] : s.metric_states) {
      const std::int64_t n = static_cast<std::int64_t>(values.size());
      hdf5::write_doubles(file_, std::string(kMetricStatesGroup) + "/" + name, std::span(&n, 1), values,
                          errors_);
    }
  }

  // One float64 dataset per column ([rows]), the column order in attribute `columns`.
  void history(const CheckpointState& s) {
    const auto& h = s.history;
    hdf5::Group g = hdf5::create_group(file_, kHistoryGroup, errors_);
    hdf5::write_attribute(g.get(), "columns", std::span<const std::string>(h.columns), errors_);
    const std::int64_t rows = static_cast<std::int64_t>(h.rows.size());
    for (std::size_t c = 0; c < h.columns.size(); ++c) {
      std::vector<double> column;
      for (const auto& row : h.rows) column.push_back(row[c]);
      hdf5::write_doubles(file_, std::string(kHistoryGroup) + "/" + h.columns[c], std::span(&rows, 1), column,
                          errors_);
    }
  }

  hid_t file_;
  const SaveHooks& hooks_;
  const hdf5::Errors errors_ = hdf5_errors();
};

}  // namespace
}  // namespace detail

void save_checkpoint(const std::string& path, const CheckpointState& state, const SaveHooks& hooks) {
  namespace fs = std::filesystem;
  using namespace detail;
  if (path.empty()) throw ArgumentError("save_checkpoint: empty path");
  validate(state);

  const fs::path final_path(path);
  const fs::path dir = final_path.parent_path();
  std::error_code ec;
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec) throw CheckpointError(path + ": cannot create directory " + dir.string() + ": " + ec.message());
  if (fs::is_directory(final_path, ec)) throw CheckpointError(path + ": is a directory");
  remove_stale_temporaries(dir.empty() ? fs::path(".") : dir);

  // The stored state: `created` is filled in; the checksum covers it as stored.
  const std::string created = state.created.empty() ? utc_now() : state.created;
  const ArrayHashes hashes = hash_arrays(state);
  const std::uint64_t checksum = state_checksum(state, created, hashes);

  TempPath tmp = TempPath::beside(final_path);
  try {
    hdf5::QuietErrors quiet;
    const hdf5::Errors errors = hdf5_errors();
    hdf5::File f = hdf5::create_file(tmp.path().string(), hdf5::IfExists::kFail, errors);
    Writer(f.get(), hooks).all(state, created, hashes, checksum);
    if (H5Fflush(f.get(), H5F_SCOPE_GLOBAL) < 0 || !f.close()) {
      errors.fail_hdf5("cannot flush and close the file");
    }
  } catch (const CheckpointError& e) {
    throw CheckpointError(path + ": cannot write checkpoint (temporary " + tmp.path().string() +
                          "): " + e.what());
  }
  as_checkpoint_error([&] { fsync_file(tmp.path()); });
  if (hooks.on_stage) hooks.on_stage("flushed");
  as_checkpoint_error([&] { commit(tmp, final_path); });
  if (hooks.on_stage) hooks.on_stage("renamed");
}

}  // namespace dtrain::checkpoint
