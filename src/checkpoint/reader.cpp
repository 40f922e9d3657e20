// load_checkpoint: open, check the format, read every part, verify the checksums.
#include <filesystem>

#include "h5io.hpp"
#include "layout.hpp"
#include "core/xxh64.hpp"

namespace dtrain::checkpoint {
namespace detail {
namespace {

namespace fs = std::filesystem;

// Opens a file that should be a dtrain checkpoint, with a clear reason otherwise.
h5::File open_checkpoint(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw CheckpointError("no such file");
  if (fs::is_directory(path, ec)) throw CheckpointError("is a directory, not a checkpoint file");
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) throw CheckpointError("not an HDF5 file");
  h5::File f = h5::open_file_read(path);
  h5::Group root(H5Gopen2(f.get(), "/", H5P_DEFAULT));
  if (!h5::has_attribute(root.get(), "format")) {
    throw CheckpointError("not a dtrain checkpoint (no root attribute 'format')");
  }
  const std::string format = h5::read_string_attribute(root.get(), "format");
  if (format != kFormat) {
    throw CheckpointError("not a dtrain checkpoint (root attribute format = '" + format + "', expected '" +
                          kFormat + "')");
  }
  const std::int64_t version = h5::read_int_attribute(root.get(), "format_version");
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
    for (const auto& name : h5::read_strings(file_, names_path)) {
      const std::string path = prefix + name;
      h5::Dataset d = h5::open_dataset(file_, path);
      T a;
      a.name = name;
      a.shape = h5::shape_of(d.get());
      a.data = h5::read_floats(d.get(), path);
      if constexpr (requires { a.trainable; }) {
        a.trainable = h5::read_int_attribute(d.get(), "trainable") != 0;
      }
      const std::uint64_t stored = h5::read_uint_attribute(d.get(), kArrayChecksumAttr);
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
    h5::Group r(H5Gopen2(file_, "/", H5P_DEFAULT));
    s.format = h5::read_string_attribute(r.get(), "format");
    s.format_version = h5::read_int_attribute(r.get(), "format_version");
    s.created = h5::read_string_attribute(r.get(), "created");
    s.dtrain_version = h5::read_string_attribute(r.get(), "dtrain_version");
    s.progress.global_step = h5::read_int_attribute(r.get(), "step");
    s.progress.epoch = h5::read_int_attribute(r.get(), "epoch");
    s.progress.world_size = h5::read_int_attribute(r.get(), "world_size");
    s.progress.seed = h5::read_uint_attribute(r.get(), "seed");
    if (h5::has_attribute(r.get(), "monitor")) {
      s.monitor = MonitorValue{h5::read_string_attribute(r.get(), "monitor"),
                               h5::read_double_attribute(r.get(), "monitor_value")};
    }
    stored_checksum_ = h5::read_uint_attribute(r.get(), kChecksumAttr);
  }

  void model(CheckpointState& s) {
    h5::Group g = h5::open_group(file_, kModelGroup);
    s.model.name = h5::read_string_attribute(g.get(), "name");
    s.model.seed = h5::read_uint_attribute(g.get(), "seed");
    s.model.config_json = h5::read_string(file_, kModelConfig);
    s.model.weights = arrays<Weight>(kWeightNames, kWeightsPrefix, hashes_.weights);
  }

  void optimizer(CheckpointState& s) {
    auto& o = s.optimizer;
    h5::Group g = h5::open_group(file_, kOptimizerGroup);
    o.name = h5::read_string_attribute(g.get(), "name");
    o.iterations = h5::read_int_attribute(g.get(), "iterations");
    o.learning_rate = h5::read_double_attribute(g.get(), "learning_rate");
    o.config_json = h5::read_string(file_, kOptimizerConfig);
    o.slots = arrays<Slot>(kSlotNames, kSlotsPrefix, hashes_.slots);
    o.globals = arrays<Slot>(kGlobalNames, kGlobalsPrefix, hashes_.globals);
  }

  void progress(CheckpointState& s) {
    auto& p = s.progress;
    h5::Group g = h5::open_group(file_, kProgressGroup);
    p.step_in_epoch = h5::read_int_attribute(g.get(), "step_in_epoch");
    p.threads = h5::read_int_attribute(g.get(), "threads");
    p.dataset_fingerprint = h5::read_string_attribute(g.get(), "dataset_fingerprint");
    h5::Group rng = h5::open_group(file_, kRngGroup);
    for (const auto& key : h5::attribute_names(rng.get())) {
      p.rng[key] = h5::read_int_attribute(rng.get(), key);
    }
  }

  void callbacks(CheckpointState& s) {
    const auto names = h5::read_strings(file_, kCallbackNames);
    const auto states = h5::read_strings(file_, kCallbackStates);
    if (names.size() != states.size()) {
      throw CheckpointError(std::string(kCallbackNames) + " and " + kCallbackStates +
                            " have different lengths");
    }
    for (std::size_t i = 0; i < names.size(); ++i) s.callbacks.push_back({names[i], states[i]});
  }

  void metric_states(CheckpointState& s) {
    h5::Group g = h5::open_group(file_, kMetricStatesGroup);
    for (const auto& name : h5::dataset_paths(g.get())) {
      const std::string path = std::string(kMetricStatesGroup) + "/" + name;
      h5::Dataset d = h5::open_dataset(file_, path);
      s.metric_states[name] = h5::read_doubles(d.get(), path);
    }
  }

  void history(CheckpointState& s) {
    auto& h = s.history;
    h5::Group g = h5::open_group(file_, kHistoryGroup);
    h.columns = h5::read_strings_attribute(g.get(), "columns");
    for (std::size_t c = 0; c < h.columns.size(); ++c) {
      const std::string path = std::string(kHistoryGroup) + "/" + h.columns[c];
      h5::Dataset d = h5::open_dataset(file_, path);
      const auto column = h5::read_doubles(d.get(), path);
      if (c == 0) h.rows.assign(column.size(), std::vector<double>(h.columns.size()));
      if (column.size() != h.rows.size()) {
        throw CheckpointError(path + " has " + std::to_string(column.size()) + " rows, /history/" +
                              h.columns[0] + " has " + std::to_string(h.rows.size()));
      }
      for (std::size_t r = 0; r < column.size(); ++r) h.rows[r][c] = column[r];
    }
  }

  hid_t file_;
  std::uint64_t stored_checksum_ = 0;
  ArrayHashes hashes_;
};

}  // namespace

CheckpointState load_unprefixed(const std::string& path) {
  h5::QuietErrors quiet;
  h5::File f = open_checkpoint(path);
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
  h5::QuietErrors quiet;
  h5::File f = open_checkpoint(path);
  h5::Group r(H5Gopen2(f.get(), "/", H5P_DEFAULT));
  Header h;
  h.step = h5::read_int_attribute(r.get(), "step");
  if (h5::has_attribute(r.get(), "created")) h.created = h5::read_string_attribute(r.get(), "created");
  if (h5::has_attribute(r.get(), "monitor")) {
    h.monitor = MonitorValue{h5::read_string_attribute(r.get(), "monitor"),
                             h5::read_double_attribute(r.get(), "monitor_value")};
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
