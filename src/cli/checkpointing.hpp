// Checkpointer: the glue between a Model and the HDF5 checkpoint format, for
// one run directory. Rank 0 writes; every rank reads what it resumes from.
#pragma once

#include "run_config.hpp"

#include "dtrain/callbacks.hpp"
#include "dtrain/distributed/communicator.hpp"
#include "dtrain/model.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dtrain::cli {

struct ResumePoint {
  std::string path;
  std::int64_t epoch = 0;          // the epoch to continue (0-based)
  std::int64_t step_in_epoch = 0;  // the first step of it still to run
  std::vector<std::pair<std::string, std::string>> callbacks;  // name -> state (JSON)
};

class Checkpointer {
 public:
  Checkpointer(distributed::Communicator& comm, const RunConfig& cfg);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // "auto": the newest valid checkpoint of the run directory (a damaged newest
  // one is skipped with a warning; none: a fresh start, nullopt); else a path.
  // Loads weights, optimizer state and progress into the model.
  std::optional<ResumePoint> resume(Model& model, const std::string& spec);
  // Rank 0's weights and optimizer state to every rank; checks every rank built
  // the same model.
  void broadcast_from_root(Model& model);
  void set_callbacks(const CallbackList& callbacks);
  void restore_callbacks(const ResumePoint& point);
  void record_epoch(const Logs& logs);  // the history stored in checkpoints
  // Writes <run_dir>/ckpt-<step>.h5 atomically (rank 0), then applies retention.
  void save(Model& model, std::int64_t epoch, std::int64_t step_in_epoch, const std::string& reason);
  const std::string& last_path() const { return last_path_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string last_path_;
};

}  // namespace dtrain::cli
