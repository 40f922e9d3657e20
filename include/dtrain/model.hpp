// Model: layers on a computation graph, with Keras' compile / fit / evaluate /
// predict. The functional API builds any DAG; Sequential builds a chain.
//
//   auto x = layers::Input({784});
//   auto h = layers::Dense({.units = 256, .activation = "relu"})(x);
//   auto y = layers::Dense({.units = 10})(h);
//   Model model(x, y);                              // or Sequential({784}, {...})
//   model.compile({.optimizer = optimizers::make_optimizer<float>("adam", {}),
//                  .loss = losses::parse_loss("sparse_categorical_crossentropy"),
//                  .metrics = {"accuracy"}});
//   auto history = model.fit(x_train, y_train, {.batch_size = 128, .epochs = 10});
//   auto logs = model.evaluate(x_test, y_test);     // logs.get("accuracy")
//
// Under MPI (set_communicator), every rank runs fit on its part of each global
// batch; gradients are summed across ranks while backward runs and divided by
// the global sample count; every rank applies the same optimizer step. Reported
// losses and metrics are exact over the global data (sums and counts reduced).
#pragma once

#include "dtrain/callbacks.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/layers/layer.hpp"
#include "dtrain/losses.hpp"
#include "dtrain/model/batch_source.hpp"
#include "dtrain/optimizers/options.hpp"
#include "dtrain/tensor.hpp"

#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dtrain {

namespace distributed {
class Communicator;
enum class ReduceTransport;  // dtrain/distributed/gradient_reducer.hpp
}
namespace optimizers {
template <class T>
class Optimizer;
}
namespace checkpoint {
struct CheckpointState;  // dtrain/checkpoint.hpp
}

struct CompileOptions {
  std::shared_ptr<optimizers::Optimizer<float>> optimizer;  // this optimizer, or (when null)
  losses::LossConfig loss;                                   // required (parse_loss)
  std::vector<std::string> metrics;                          // Keras names
  optimizers::OptimizerConfig optimizer_config;              // one made from its Keras name and arguments
};

struct FitOptions {
  std::int64_t epochs = 1;
  std::int64_t initial_epoch = 0;   // resume: epochs already done
  std::int64_t initial_step = 0;    // resume inside an epoch: steps of initial_epoch already done
  BatchSource* validation = nullptr;
  CallbackList callbacks;
  int verbose = 1;                  // 0 silent, 1 progress bar, 2 one line per epoch
  std::ostream* out = &std::cout;
  bool profile = false;             // per-epoch time split (data, forward, backward, ...)
};

// fit() on in-memory arrays, as Keras' fit(x, y, ...).
struct ArrayFitOptions {
  std::int64_t batch_size = 32;
  std::int64_t epochs = 1;
  bool shuffle = true;
  double validation_split = 0.0;    // the last fraction of the rows, before shuffling
  std::uint64_t seed = 0;
  CallbackList callbacks;
  int verbose = 1;
  std::ostream* out = &std::cout;
};

// Time per phase of training steps (seconds), for --profile.
struct StepProfile {
  double data = 0, forward = 0, backward = 0, allreduce_wait = 0, optimizer = 0, other = 0;
  std::int64_t steps = 0, samples = 0;
  double total() const { return data + forward + backward + allreduce_wait + optimizer + other; }
};

// Where a run resumed from a checkpoint continues (Model::resume).
struct ResumePosition {
  std::string path;                // the checkpoint it resumed from
  std::int64_t epoch = 0;          // the epoch to continue (0-based): FitOptions::initial_epoch
  std::int64_t step_in_epoch = 0;  // the first step of it still to run: FitOptions::initial_step
};

// The architecture, layer by layer, for checkpoints and configs.
struct LayerRecord {
  std::string type;
  Config config;
  std::vector<std::string> inbound;  // names of the layers feeding it
};

class Model {
 public:
  // seed: weight initialisation and dropout masks.
  Model(const layers::SymbolicTensor& input, const layers::SymbolicTensor& output, std::string name = "model",
        std::uint64_t seed = 0);
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  // Rebuilds a model from its records (layer type, arguments, inbound layers).
  static Model from_records(const std::vector<LayerRecord>& records, std::string name, std::uint64_t seed);
  std::vector<LayerRecord> records() const;

  const std::string& name() const;
  std::uint64_t seed() const;        // weight initialisation and dropout masks
  std::string summary() const;       // Keras' table: layer (type), output shape, params, totals
  std::int64_t count_params() const;
  Shape input_shape() const;         // with the batch dimension as kBatch
  Shape output_shape() const;

  void compile(CompileOptions options);
  bool compiled() const;

  History fit(BatchSource& train, FitOptions options = {});
  History fit(const Tensor& x, const Tensor& y, ArrayFitOptions options = {});
  // loss and every metric over all of `data` (all ranks).
  Logs evaluate(BatchSource& data);
  Logs evaluate(const Tensor& x, const Tensor& y, std::int64_t batch_size = 32);
  Tensor predict(const Tensor& x, std::int64_t batch_size = 32);

  // nullptr: a single process. The communicator must outlive fit().
  void set_communicator(distributed::Communicator* comm);
  distributed::Communicator* communicator() const;
  void set_bucket_bytes(std::size_t bytes);  // gradient all-reduce bucket size
  void set_reduce_transport(distributed::ReduceTransport transport);  // default: automatic
  void set_threads(int threads);  // TBB threads for this rank; 0: the cores it may use
  int threads() const;

  // All weights (trainable and not) in one arena, in parameters() order.
  std::span<float> weights();
  const std::vector<graph::ParameterInfo>& parameters() const;
  View<float> weight(const std::string& name);  // "dense_1/kernel"; ArgumentError if unknown
  // Every weight to / from an HDF5 file (the checkpoint layout, /model/weights/...).
  // Loading checks each name and shape against this model.
  void save_weights(const std::string& path);
  void load_weights(const std::string& path);
  // The whole model as a checkpoint (Keras' model.save): its config (layers,
  // loss, metrics), weights, and when compiled the optimizer and the training
  // progress. Collective under a communicator; rank 0 writes, atomically.
  void save(const std::string& path);
  // A model rebuilt from a checkpoint of save() or ModelCheckpoint (Keras'
  // load_model): the architecture and weights, and if it was saved compiled,
  // compiled again with its optimizer, state and progress.
  static Model load(const std::string& path);
  // Loads weights, optimizer state and progress from a checkpoint file into
  // this compiled model, checking that they fit (ArgumentError naming the file
  // and every difference). Give the position to fit to continue the run.
  ResumePosition resume(const std::string& path);
  // The same from a checkpoint already loaded; `source` names it in errors.
  ResumePosition resume(const checkpoint::CheckpointState& state, const std::string& source);
  optimizers::Optimizer<float>& optimizer();
  // Collective: call on every rank before reading optimizer().slots() after
  // training on several ranks of one host. There each rank's optimizer step
  // updates only its share of the weights and slots (the sharded step of
  // distributed::GradientReducer); this gives every rank the whole, current state.
  // Nothing to do otherwise.
  void gather_optimizer_state();
  // Collective: rank 0's weights and optimizer state to every rank, so the
  // replicas start identical whatever each rank loaded (Horovod's
  // broadcast_variables). Error if the ranks built different models.
  void broadcast_from_root();
  // Creates the optimizer's slots now (they are made on the first step
  // otherwise), so a checkpoint can be loaded into them.
  void build_optimizer();
  const losses::LossConfig& loss() const;
  std::vector<std::string> metric_names() const;

  std::int64_t global_step() const;  // training steps done (all epochs)
  void set_global_step(std::int64_t step);
  std::int64_t epochs_done() const;  // epochs finished by fit (or restored by resume)
  void set_epochs_done(std::int64_t epochs);
  const StepProfile& last_epoch_profile() const;

  bool stop_training = false;  // set by callbacks; fit stops after the epoch
  // Stops fit right after the current step, skipping the epoch's end (used on
  // preemption, after a checkpoint of the exact position was written).
  bool interrupted = false;

  // The running sums of the epoch in progress: loss sum, sample count, then each
  // metric's state. A checkpoint saves them; fit restores them when resuming
  // inside an epoch (FitOptions::initial_step > 0), so the epoch's figures are exact.
  std::vector<double> epoch_state() const;
  void set_epoch_state(std::vector<double> state);

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A chain of layers on an input of `input_shape` (without the batch dimension).
Model Sequential(const std::vector<std::int64_t>& input_shape, const std::vector<layers::LayerHandle>& layers,
                 std::string name = "sequential", std::uint64_t seed = 0);

}  // namespace dtrain
