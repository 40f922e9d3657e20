// RunConfig: what `dtrain train CONFIG.yaml` reads. YAML stays in this file
// pair; the rest of dtrain sees plain structs.
//
//   auto cfg = load_run_config("jobs/configs/fashion_mlp.yaml", {"fit.epochs=3"});
//
// Errors (unknown key, wrong type, bad value, unknown layer/optimizer/loss
// name) are ConfigError: "<file>:<line>: <key>: <what is wrong>".
#pragma once

#include "dtrain/core/config.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/distributed/gradient_reducer.hpp"
#include "dtrain/losses.hpp"
#include "dtrain/model.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dtrain::cli {

class ConfigError : public ArgumentError {
 public:
  using ArgumentError::ArgumentError;
};

struct DataSection {
  std::string file;
  std::string train = "train";
  std::string validation;  // "" = none
  std::string test = "test";
  std::int64_t batch_size = 32;  // global, over all ranks
  bool shuffle = true;
};

struct CallbackSpec {
  std::string type;  // EarlyStopping, ReduceLROnPlateau, TerminateOnNaN
  Config args;
  int line = 0;
};

struct RunConfig {
  std::string path;       // the YAML file
  std::vector<std::string> overrides;  // the --set assignments applied, in order
  std::uint64_t seed = 0;
  int threads = 0;        // 0: the cores given to the rank
  std::string run_dir;    // default runs/<config name>
  DataSection data;
  std::string model_name = "model";
  std::vector<LayerRecord> layers;  // InputLayer first; its shape is filled from the data
  losses::LossConfig loss;
  optimizers::OptimizerConfig optimizer;
  std::vector<std::string> metrics;
  std::int64_t epochs = 1;
  int verbose = -1;       // -1: 1 on a terminal, 2 otherwise
  std::vector<CallbackSpec> callbacks;
  // checkpoint
  std::int64_t checkpoint_every_steps = 0;  // 0 (key left out): only per epoch / at the end / on signal; else >= 1
  bool checkpoint_every_epoch = true;
  int checkpoint_keep = 3;
  std::string checkpoint_monitor;           // keep the best by this figure as well
  std::string checkpoint_mode = "auto";
  // distributed
  std::int64_t replica_check_every = 100;
  double stall_timeout = 300;
  std::size_t bucket_bytes = distributed::kDefaultBucketBytes;
  // auto: gradients and the sharded optimizer step through shared memory when
  // every rank runs on one host, else MPI all-reduces.
  distributed::ReduceTransport transport = distributed::ReduceTransport::automatic;
};

// Reads the file, applies --set overrides ("fit.epochs=3"), validates.
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides);

// The --set assignment that gave `key` ("fit.epochs=3" for fit.epochs), or a
// mapping above it ("data={batch_size: 8}" for data.batch_size): the last such
// one, as they are applied. nullptr: the key's value is the file's. Errors name
// a value so given as "--set NAME=VALUE", not by a line of the file.
const std::string* override_of(const std::vector<std::string>& overrides, const std::string& key);

// `key` is `prefix` or a key below it: "data.batch_size" and "model.layers[1].units"
// are under "data" and "model.layers"; "data.batch_size" is not under "data.batch".
bool key_under(const std::string& key, const std::string& prefix);

// Every setting of the resolved config (defaults included) by its YAML key:
// "data.batch_size" -> "128", "model.layers[1].units" -> "256" (layer i of the
// config is model.layers[i]; its type is model.layers[i].type). Checkpoints keep
// it (settings_json) so that a resume can see what changed.
std::map<std::string, std::string> settings(const RunConfig& c);
std::string setting_text(double v);  // the shortest text that reads back as v
std::string settings_json(const std::map<std::string, std::string>& s);
std::map<std::string, std::string> settings_from_json(const std::string& text, const std::string& source);

}  // namespace dtrain::cli
