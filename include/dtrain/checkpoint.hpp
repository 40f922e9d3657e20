// dtrain::checkpoint — HDF5 checkpoints of a training run: plain data in, plain
// data out, written atomically, verified by checksum on load, with run-directory
// management (newest valid checkpoint, retention of the last K and the best).
//
//   checkpoint::CheckpointState s;                  // filled by the model glue
//   s.progress.global_step = 200;
//   s.model.weights.push_back({"dense_1/kernel", {784, 128}, kernel_values});
//   checkpoint::CheckpointManager runs({.dir = "runs/x", .keep_last = 3});
//   runs.save(s);                                   // runs/x/ckpt-000200.h5, old ones pruned
//   if (auto resume = runs.find_resume())           // newest one that loads and verifies
//     checkpoint::verify_weights(resume->state, model_weight_specs);
//
// The module knows nothing of models, layers or MPI: only rank 0 calls the save
// functions, and one process at a time writes into a run directory. The file
// layout is documented in docs/checkpoint-format.md (readable with h5py/h5dump).
// Keep one CheckpointState and refill it for each save: its vectors keep their
// memory, and touching fresh pages costs more than writing the file (figures in
// docs/benchmarks.md, "Figures behind design comments").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dtrain/core/error.hpp"
#include "dtrain/version.hpp"

namespace dtrain::checkpoint {

inline constexpr const char* kFormat = "dtrain-checkpoint";  // root attribute `format`
inline constexpr std::int64_t kFormatVersion = 1;            // root attribute `format_version`

// A checkpoint that cannot be written, read or trusted. The message names the file
// and what is wrong ("runs/x/ckpt-000200.h5: unreadable (truncated or corrupt): ...").
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// A model weight by stable name ("dense_1/kernel"; each '/' is an HDF5 group), in
// Keras shapes (Dense kernel [in, out], Conv2D kernel [kh, kw, cin, cout]); row-major.
struct Weight {
  std::string name;
  std::vector<std::int64_t> shape;  // [] is a scalar (one value)
  std::vector<float> data;          // product(shape) values
  bool trainable = true;
};

// A piece of optimizer state: a slot "dense_1/kernel/m" (the parameter's shape or
// [n]) or optimizer-wide state "nadam/u_product".
struct Slot {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

struct ModelState {
  std::string name;
  std::uint64_t seed = 0;
  std::string config_json;      // the model config as JSON text (stored verbatim)
  std::vector<Weight> weights;  // order is kept
};

struct OptimizerState {
  std::string name;         // Keras name: "adam", "sgd", ...
  std::string config_json;  // the optimizer config as JSON text (stored verbatim)
  std::int64_t iterations = 0;
  double learning_rate = 0.0;  // the rate the next step would use
  std::vector<Slot> slots;     // per-variable slots, order kept
  std::vector<Slot> globals;   // optimizer-wide state, order kept
};

// Where the run stands: enough to continue bit-for-bit.
struct Progress {
  std::int64_t global_step = 0;             // optimizer steps done
  std::int64_t epoch = 0;                   // 0-based epoch in progress (or next to start)
  std::int64_t step_in_epoch = 0;           // steps of `epoch` already done
  std::uint64_t seed = 0;                   // data-order seed (the order is f(seed, epoch))
  std::map<std::string, std::int64_t> rng;  // any other generator state, by key
  std::int64_t world_size = 1;              // ranks at save time (a resume may use another count)
  std::int64_t threads = 1;                 // threads per rank at save time
  std::string dataset_fingerprint;          // dataset_fingerprint() of the training file
  std::string dataset;                      // its path as given, for messages ("" in older checkpoints)
};

struct CallbackState {
  std::string name;  // "EarlyStopping", "ReduceLROnPlateau", ...
  std::string json;  // its state as JSON text
};

// The history so far: one row per finished epoch, one value per column.
struct HistoryTable {
  std::vector<std::string> columns;       // "epoch", "loss", "val_loss", ...
  std::vector<std::vector<double>> rows;  // each row has columns.size() values
};

// The value a best-checkpoint retention compares ("val_loss" = 0.31).
struct MonitorValue {
  std::string name;
  double value = 0.0;
};

struct CheckpointState {
  // Metadata. On save an empty `created` becomes the current UTC time (ISO 8601).
  std::string format = kFormat;                  // read back from the file on load
  std::int64_t format_version = kFormatVersion;  // read back from the file on load
  std::string created;
  std::string dtrain_version = kVersion;

  ModelState model;
  OptimizerState optimizer;
  Progress progress;
  std::vector<CallbackState> callbacks;                      // order kept
  std::map<std::string, std::vector<double>> metric_states;  // of the interrupted epoch
  HistoryTable history;
  std::optional<MonitorValue> monitor;
  // The program's own record of how the run was configured (dtrain train: its
  // resolved config as JSON), compared on resume; "" none (and in older files).
  std::string run_config;
};

// --- one file ------------------------------------------------------------------

// Test and progress hooks of save_checkpoint. `on_stage` is called with
// "dataset:<hdf5 path>" after each array is written, then "flushed" (file closed
// and fsync'ed, not yet renamed) and "renamed" (the final name now holds it).
struct SaveHooks {
  std::function<void(std::string_view stage)> on_stage;
};

// Writes `state` to `path` atomically: into ".<name>.XXXXXX.tmp" in the same
// directory (stale temporaries of crashed saves are removed first), flush, close,
// fsync, rename over `path`, fsync the directory. A crash at any moment leaves the
// previous file at `path` (if any) intact. Creates the directory if needed.
// Throws ArgumentError (bad or duplicate names), ShapeError (data size != shape)
// or CheckpointError (I/O); the temporary is removed on a thrown error.
void save_checkpoint(const std::string& path, const CheckpointState& state, const SaveHooks& hooks = {});

// Reads and verifies a checkpoint: format, format_version <= kFormatVersion, every
// array's and the whole state's XXH64 checksum. CheckpointError naming the file and
// the problem: missing file, not HDF5, not a dtrain checkpoint, truncated, corrupt.
CheckpointState load_checkpoint(const std::string& path);

// The expected name and shape of one model weight.
struct WeightSpec {
  std::string name;
  std::vector<std::int64_t> shape;
};

// Checks the checkpoint's weights against the model's: every difference is listed
// in one CheckpointError ("dense_1/kernel: shape [784, 64] in the checkpoint,
// [784, 128] in the model; missing dense_2/bias; unexpected dense_3/kernel").
// `source` (e.g. the file name) starts the message.
void verify_weights(const CheckpointState& state, std::span<const WeightSpec> expected,
                    const std::string& source = "checkpoint");

// A readable multi-line summary for `dtrain inspect CKPT.h5` (loads and verifies).
std::string describe_checkpoint(const std::string& path);

// A cheap content fingerprint of an HDF5 dataset file: XXH64 of the file size, every
// dataset's path, type and shape, and the bytes of its first and last rows.
// "xxh64:3f1c...e2 size:47040512" — the path and mtime are left out on purpose, so
// a copy of the file (another node's scratch) has the same fingerprint.
std::string dataset_fingerprint(const std::string& h5_path);

// "[784, 128]" (for messages).
std::string shape_text(std::span<const std::int64_t> shape);

// --- a run directory -------------------------------------------------------------

struct CheckpointEntry {
  std::string path;
  std::int64_t step = 0;
};

// <dir>/ckpt-<step, zero-padded to 6 digits>.h5 (more digits past 999999).
std::string checkpoint_path(const std::string& dir, std::int64_t global_step);

// The files named ckpt-<digits>.h5 in `dir`, oldest step first; temporaries and
// other files are ignored. A missing directory has none.
std::vector<CheckpointEntry> list_checkpoints(const std::string& dir);

// A checkpoint to resume from, already loaded and verified.
struct FoundCheckpoint {
  std::string path;
  CheckpointState state;
};

// A warning's text, without a "warning:" prefix: whoever prints it adds one
// ("dtrain: warning: ...").
using WarnFn = std::function<void(const std::string& message)>;

// The newest checkpoint of `dir` that loads and verifies. Each newer one that does
// not is reported through `warn` ("checkpoint runs/x/ckpt-000200.h5 is
// unreadable (truncated?): skipped, resuming from ckpt-000100.h5") and skipped.
// std::nullopt: no valid checkpoint, start fresh.
std::optional<FoundCheckpoint> find_resume_checkpoint(const std::string& dir, const WarnFn& warn = {});

// find_resume_checkpoint without messages: the checkpoint found (if any) and each
// newer one that failed to load or verify, newest first, with the reason.
struct UnreadableCheckpoint {
  std::string path;
  std::string why;  // the CheckpointError's text, without the path
};
struct ResumeSearch {
  std::optional<FoundCheckpoint> found;
  std::vector<UnreadableCheckpoint> unreadable;
};
ResumeSearch search_resume_checkpoint(const std::string& dir);

// --- files that failed to verify, and an earlier run's files ------------------------
// Nothing in a run directory that failed to verify or belongs to an earlier run is
// ever deleted: it is moved, within the run directory, out of the checkpoints' way.

inline constexpr const char* kCorruptDir = "corrupt";  // <dir>/corrupt/<file name>

// Moves `path` (a file of `dir`) to <dir>/corrupt/, keeping its name (".1", ".2", ...
// appended if that name is taken) and returns the new path. Throws CheckpointError.
std::string move_to_corrupt(const std::string& dir, const std::string& path);

// What an earlier run left in `dir`: its checkpoints (readable or not) and whether a
// history.csv is there. `newest_created` is the UTC time stored in the newest
// checkpoint ("" if it cannot be read; then `newest_modified`, the file's mtime, says when).
struct EarlierRun {
  std::vector<CheckpointEntry> checkpoints;  // oldest first
  bool history = false;                      // <dir>/history.csv exists
  std::string newest_created;
  std::string newest_modified;  // UTC ISO 8601
  bool empty() const { return checkpoints.empty(); }
  // "ckpt-000300.h5 (step 300, written 2026-12-04T10:11:12Z) and 2 older checkpoints, history.csv"
  std::string describe() const;
};
EarlierRun earlier_run(const std::string& dir);

// Moves the checkpoints (readable or not), history.csv and corrupt/ of `dir` into a
// new folder <dir>/previous-<UTC time, 20261204T101112Z>/ and returns its path
// (nothing to move: ""). The lock file and other files stay. Throws CheckpointError.
std::string move_earlier_run_aside(const std::string& dir);

enum class MonitorMode { kMin, kMax };

struct RetentionPolicy {
  int keep_last = 3;       // the newest K (>= 1) by step
  bool keep_best = false;  // also the best by the stored monitor value
  MonitorMode mode = MonitorMode::kMin;
  std::string monitor;  // only values with this name ("" = any name)
};

// Deletes the checkpoints of `dir` that the policy does not keep; returns their
// paths. Keeps the newest keep_last valid ones by step, the best one (earliest
// on ties; NaN is never best) and `protect` (the checkpoint just saved, which may
// have a lower step than a stale one left by an earlier attempt). Every other
// checkpoint is loaded and verified (checksums) first: one that fails is neither
// counted nor deleted but moved to <dir>/corrupt/ and reported through `warn`
// ("checkpoint runs/x/ckpt-000100.h5 failed to verify (...): moved to
// runs/x/corrupt/ckpt-000100.h5"). `protect` is trusted without a load.
std::vector<std::string> apply_retention(const std::string& dir, const RetentionPolicy& policy,
                                         const std::string& protect = "", const WarnFn& warn = {});

// A run directory: save with retention, list, find the resume point.
class CheckpointManager {
 public:
  struct Options {
    std::string dir;
    int keep_last = 3;
    bool keep_best = false;
    MonitorMode mode = MonitorMode::kMin;
    std::string monitor;  // see RetentionPolicy
    WarnFn warn;          // find_resume()'s and retention's warnings (default: none)
  };

  explicit CheckpointManager(Options options);  // ArgumentError: empty dir, keep_last < 1

  // Saves as checkpoint_path(dir, state.progress.global_step), then (only once the
  // new file is renamed into place) applies retention. Returns the path.
  std::string save(const CheckpointState& state, const SaveHooks& hooks = {}) const;
  std::optional<FoundCheckpoint> find_resume() const;
  std::vector<CheckpointEntry> list() const;
  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace dtrain::checkpoint
