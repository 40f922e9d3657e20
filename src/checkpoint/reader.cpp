// load_checkpoint: open, check the format, read every part, verify the checksums.
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

// Opens a file that should be a dtrain checkpoint, with a clear reason otherwise.
hdf5::File open_checkpoint(const std::string& path) {
  const hdf5::Errors errors = hdf5_errors();
  hdf5::File f = hdf5::open_file_read(
      path, errors, {.directory = "is a directory, not a checkpoint file", .damaged = kDamagedFile});
  hdf5::Group root(H5Gopen2(f.get(), "/", H5P_DEFAULT));
  if (!hdf5::has_attribute(root.get(), "format")) {
    throw CheckpointError("not a dtrain checkpoint (no root attribute 'format')");
  }
  const std::string format = hdf5::read_string_attribute(root.get(), "format", errors);
  if (format != kFormat) {
    throw CheckpointError("not a dtrain checkpoint (root attribute format = '" + format + "', expected '" +
                          kFormat + "')");
  }
  const std::int64_t version = hdf5::read_int_attribute(root.get(), "format_version", errors);
  if (version < 1 || version > kFormatVersion) {
    throw CheckpointError("format_version " + std::to_string(version) +
                          " is not supported (this dtrain reads 1.." + std::to_string(kFormatVersion) + ")");
  }
  return f;
}

class Reader {
 public:
  explicit Reader(hid_t file) : file_(file) {}

  CheckpointState all() {
    CheckpointState s;
    root(s);
    model(s);
    optimizer(s);
    progress(s);
    callbacks(s);
    metric_states(s);
    history(s);
    if (hdf5::exists(file_, kRunConfig)) s.run_config = hdf5::read_string(file_, kRunConfig, errors_);
    return s;
  }

  std::uint64_t stored_checksum() const { return stored_checksum_; }
  const ArrayHashes& hashes() const { return hashes_; }

 private:
  // Reads the arrays named in `names_path` under `prefix`, checking each one's XXH64.
  template <class T>
  std::vector<T> arrays(const std::string& names_path, const std::string& prefix,
                        std::vector<std::uint64_t>& hashes) {
    std::vector<T> out;
    for (const auto& name : hdf5::read_strings(file_, names_path, errors_)) {
      const std::string path = prefix + name;
      hdf5::Dataset d = hdf5::open_dataset(file_, path, errors_);
      T a;
      a.name = name;
      a.shape = hdf5::dims_of(d.get());
      a.data = hdf5::read_floats(d.get(), path, errors_);
      if constexpr (requires { a.trainable; }) {
        a.trainable = hdf5::read_int_attribute(d.get(), "trainable", errors_) != 0;
      }
      const std::uint64_t stored = hdf5::read_uint_attribute(d.get(), kArrayChecksumAttr, errors_);
      const std::uint64_t computed = xxh64(a.data.data(), a.data.size() * sizeof(float));
      if (stored != computed) {
        throw CheckpointError("checksum mismatch in " + path + " (stored " + hex64(stored) + ", computed " +
                              hex64(computed) + ")");
      }
      hashes.push_back(computed);
      out.push_back(std::move(a));
    }
    return out;
  }

  void root(CheckpointState& s) {
    hdf5::Group r(H5Gopen2(file_, "/", H5P_DEFAULT));
    s.format = hdf5::read_string_attribute(r.get(), "format", errors_);
    s.format_version = hdf5::read_int_attribute(r.get(), "format_version", errors_);
    s.created = hdf5::read_string_attribute(r.get(), "created", errors_);
    s.dtrain_version = hdf5::read_string_attribute(r.get(), "dtrain_version", errors_);
    s.progress.global_step = hdf5::read_int_attribute(r.get(), "step", errors_);
    s.progress.epoch = hdf5::read_int_attribute(r.get(), "epoch", errors_);
    s.progress.world_size = hdf5::read_int_attribute(r.get(), "world_size", errors_);
    s.progress.seed = hdf5::read_uint_attribute(r.get(), "seed", errors_);
    if (hdf5::has_attribute(r.get(), "monitor")) {
      s.monitor = MonitorValue{hdf5::read_string_attribute(r.get(), "monitor", errors_),
                               hdf5::read_double_attribute(r.get(), "monitor_value", errors_)};
    }
    stored_checksum_ = hdf5::read_uint_attribute(r.get(), kChecksumAttr, errors_);
  }

  void model(CheckpointState& s) {
    hdf5::Group g = hdf5::open_group(file_, kModelGroup, errors_);
    s.model.name = hdf5::read_string_attribute(g.get(), "name", errors_);
    s.model.seed = hdf5::read_uint_attribute(g.get(), "seed", errors_);
    s.model.config_json = hdf5::read_string(file_, kModelConfig, errors_);
    s.model.weights = arrays<Weight>(kWeightNames, kWeightsPrefix, hashes_.weights);
  }

  void optimizer(CheckpointState& s) {
    auto& o = s.optimizer;
    hdf5::Group g = hdf5::open_group(file_, kOptimizerGroup, errors_);
    o.name = hdf5::read_string_attribute(g.get(), "name", errors_);
    o.iterations = hdf5::read_int_attribute(g.get(), "iterations", errors_);
    o.learning_rate = hdf5::read_double_attribute(g.get(), "learning_rate", errors_);
    o.config_json = hdf5::read_string(file_, kOptimizerConfig, errors_);
    o.slots = arrays<Slot>(kSlotNames, kSlotsPrefix, hashes_.slots);
    o.globals = arrays<Slot>(kGlobalNames, kGlobalsPrefix, hashes_.globals);
  }

  void progress(CheckpointState& s) {
    auto& p = s.progress;
    hdf5::Group g = hdf5::open_group(file_, kProgressGroup, errors_);
    p.step_in_epoch = hdf5::read_int_attribute(g.get(), "step_in_epoch", errors_);
    p.threads = hdf5::read_int_attribute(g.get(), "threads", errors_);
    p.dataset_fingerprint = hdf5::read_string_attribute(g.get(), "dataset_fingerprint", errors_);
    p.dataset = hdf5::find_string_attribute(g.get(), "dataset").value_or("");  // not in older checkpoints
    hdf5::Group rng = hdf5::open_group(file_, kRngGroup, errors_);
    for (const auto& key : hdf5::attribute_names(rng.get(), errors_)) {
      p.rng[key] = hdf5::read_int_attribute(rng.get(), key, errors_);
    }
  }

  void callbacks(CheckpointState& s) {
    const auto names = hdf5::read_strings(file_, kCallbackNames, errors_);
    const auto states = hdf5::read_strings(file_, kCallbackStates, errors_);
    if (names.size() != states.size()) {
      throw CheckpointError(std::string(kCallbackNames) + " and " + kCallbackStates +
                            " have different lengths");
    }
    for (std::size_t i = 0; i < names.size(); ++i) s.callbacks.push_back({names[i], states[i]});
  }

  void metric_states(CheckpointState& s) {
    hdf5::Group g = hdf5::open_group(file_, kMetricStatesGroup, errors_);
    for (const auto& name : hdf5::dataset_paths(g.get(), errors_)) {
      const std::string path = std::string(kMetricStatesGroup) + "/" + name;
      hdf5::Dataset d = hdf5::open_dataset(file_, path, errors_);
      s.metric_states[name] = hdf5::read_doubles(d.get(), path, errors_);
    }
  }

  void history(CheckpointState& s) {
    auto& h = s.history;
    hdf5::Group g = hdf5::open_group(file_, kHistoryGroup, errors_);
    h.columns = hdf5::read_strings_attribute(g.get(), "columns", errors_);
    for (std::size_t c = 0; c < h.columns.size(); ++c) {
      const std::string path = std::string(kHistoryGroup) + "/" + h.columns[c];
      hdf5::Dataset d = hdf5::open_dataset(file_, path, errors_);
      const auto column = hdf5::read_doubles(d.get(), path, errors_);
      if (c == 0) h.rows.assign(column.size(), std::vector<double>(h.columns.size()));
      if (column.size() != h.rows.size()) {
        throw CheckpointError(path + " has " + std::to_string(column.size()) + " rows, /history/" +
                              h.columns[0] + " has " + std::to_string(h.rows.size()));
      }
      for (std::size_t r = 0; r < column.size(); ++r) h.rows[r][c] = column[r];
    }
  }

  hid_t file_;
  const hdf5::Errors errors_ = hdf5_errors();
  std::uint64_t stored_checksum_ = 0;
  ArrayHashes hashes_;
};

}  // namespace

CheckpointState load_unprefixed(const std::string& path) {
  hdf5::QuietErrors quiet;
  hdf5::File f = open_checkpoint(path);
  Reader reader(f.get());
  CheckpointState s;
  try {
    s = reader.all();
  } catch (const CheckpointError& e) {
    // A part that is missing or cannot be read: the file was cut or damaged.
    throw CheckpointError(std::string(e.what()) + " (truncated or corrupt checkpoint)");
  }
  const std::uint64_t computed = state_checksum(s, s.created, reader.hashes());
  if (computed != reader.stored_checksum()) {
    throw CheckpointError("checksum mismatch of the checkpoint state (stored " +
                          hex64(reader.stored_checksum()) + ", computed " + hex64(computed) +
                          "): the file is corrupt");
  }
  return s;
}

Header read_header(const std::string& path) {
  hdf5::QuietErrors quiet;
  hdf5::File f = open_checkpoint(path);
  hdf5::Group r(H5Gopen2(f.get(), "/", H5P_DEFAULT));
  const hdf5::Errors errors = hdf5_errors();
  Header h;
  h.step = hdf5::read_int_attribute(r.get(), "step", errors);
  if (hdf5::has_attribute(r.get(), "created")) h.created = hdf5::read_string_attribute(r.get(), "created", errors);
  if (hdf5::has_attribute(r.get(), "monitor")) {
    h.monitor = MonitorValue{hdf5::read_string_attribute(r.get(), "monitor", errors),
                             hdf5::read_double_attribute(r.get(), "monitor_value", errors)};
  }
  return h;
}

}  // namespace detail

CheckpointState load_checkpoint(const std::string& path) {
  try {
    return detail::load_unprefixed(path);
  } catch (const CheckpointError& e) {
    throw CheckpointError(path + ": " + e.what());
  }
}

}  // namespace dtrain::checkpoint
