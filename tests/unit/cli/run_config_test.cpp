// load_run_config (src/cli/run_config.cpp): the YAML run config of `dtrain train`.
// Defaults, every section's keys, Sequential and DAG models, the optimizer, loss,
// metrics and callbacks, --set overrides, and the errors: each one a ConfigError
// "<file>:<line>: <key>: <what is wrong>" naming the file, the line and the key.
#include "cli/run_config.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/model.hpp"

#include "dtrain/optimizers/factory.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace dtrain::cli {
namespace {

namespace fs = std::filesystem;

// The smallest config that loads: a file, one layer, a loss.
constexpr const char* kMinimal = R"(data:
  file: fashion.h5
model:
  layers:
    - Dense: {units: 10}
compile:
  loss: sparse_categorical_crossentropy
)";

class RunConfigTest : public ::testing::Test {
 protected:
  // Writes `text` to <scratch>/<name> and returns the path.
  std::string write(const std::string& text, const std::string& name = "job.yaml") {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // load_run_config rejects today any config without a `fit:` section, with
  // "<file>:0: fit.callbacks: must be a list" (run_config.cpp: with `fit` missing,
  // `fit ? fit["callbacks"] : YAML::Node()` gives a null node, which tests true).
  // Until that is fixed, load() and expect_error() append an empty `fit: {}` to
  // a text without one (at the end: the line numbers stay).
  static std::string with_fit(const std::string& text) {
    const bool has_fit = text.starts_with("fit:") || text.find("\nfit:") != std::string::npos;
    return has_fit ? text : text + "fit: {}\n";
  }

  RunConfig load(const std::string& text, const std::vector<std::string>& overrides = {}) {
    return load_run_config(write(with_fit(text)), overrides);
  }

  // Loading fails with a ConfigError whose message holds every piece of `parts`.
  void expect_error(const std::string& text, std::initializer_list<std::string> parts,
                    const std::vector<std::string>& overrides = {}) {
    const auto path = write(with_fit(text));
    try {
      load_run_config(path, overrides);
      ADD_FAILURE() << "no error for:\n" << text;
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      for (const auto& p : parts) EXPECT_NE(what.find(p), std::string::npos) << "'" << p << "' not in: " << what;
    }
  }

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // The pid too: other build trees may run the same test at the same time.
    dir_ = fs::path(::testing::TempDir()) /
           ("run_config_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(RunConfigTest, DefaultsOfEveryOptionalKey) {
  const auto path = write(with_fit(kMinimal), "my_job.yaml");
  const auto c = load_run_config(path, {});
  EXPECT_EQ(c.path, path);
  EXPECT_EQ(c.seed, 0u);
  EXPECT_EQ(c.threads, 0);
  EXPECT_EQ(c.run_dir, "runs/my_job");  // runs/<config name>
  EXPECT_EQ(c.data.file, "fashion.h5");
  EXPECT_EQ(c.data.train, "train");
  EXPECT_EQ(c.data.validation, "");
  EXPECT_EQ(c.data.test, "test");
  EXPECT_EQ(c.data.batch_size, 32);
  EXPECT_TRUE(c.data.shuffle);
  EXPECT_EQ(c.model_name, "model");
  EXPECT_EQ(c.loss.name, "sparse_categorical_crossentropy");
  EXPECT_FALSE(c.loss.from_logits);
  EXPECT_EQ(c.loss.label_smoothing, 0.0);
  EXPECT_EQ(c.loss.delta, 1.0);
  EXPECT_EQ(c.optimizer.name, "adam");
  EXPECT_TRUE(c.optimizer.options.empty());
  EXPECT_TRUE(c.metrics.empty());
  EXPECT_EQ(c.epochs, 1);
  EXPECT_EQ(c.verbose, -1);
  EXPECT_TRUE(c.callbacks.empty());
  EXPECT_EQ(c.checkpoint_every_steps, 0);
  EXPECT_TRUE(c.checkpoint_every_epoch);
  EXPECT_EQ(c.checkpoint_keep, 3);
  EXPECT_EQ(c.checkpoint_monitor, "");
  EXPECT_EQ(c.checkpoint_mode, "auto");
  EXPECT_EQ(c.replica_check_every, 100);
  EXPECT_EQ(c.stall_timeout, 300.0);
  EXPECT_EQ(c.bucket_bytes, distributed::kDefaultBucketBytes);
  EXPECT_EQ(c.transport, distributed::ReduceTransport::automatic);
}

TEST_F(RunConfigTest, EverySectionsKeysAreRead) {
  const auto c = load(R"(seed: 42
threads: 2
run_dir: out/run1
data:
  file: d.h5
  train: training
  validation: val
  test: holdout
  batch_size: 256
  shuffle: false
model:
  name: tiny
  layers:
    - Dense: {units: 10}
compile:
  loss: categorical_crossentropy
  from_logits: true
  label_smoothing: 0.1
  optimizer: {name: sgd, learning_rate: 0.5, momentum: 0.9, nesterov: true}
  metrics: [accuracy, top_k_categorical_accuracy]
fit:
  epochs: 7
  verbose: 2
checkpoint:
  every_steps: 50
  every_epoch: false
  keep: 5
  monitor: val_loss
  mode: min
distributed:
  replica_check_every: 20
  stall_timeout: 12.5
  bucket_mib: 2
  transport: shared_memory
)");
  EXPECT_EQ(c.seed, 42u);
  EXPECT_EQ(c.threads, 2);
  EXPECT_EQ(c.run_dir, "out/run1");
  EXPECT_EQ(c.data.file, "d.h5");
  EXPECT_EQ(c.data.train, "training");
  EXPECT_EQ(c.data.validation, "val");
  EXPECT_EQ(c.data.test, "holdout");
  EXPECT_EQ(c.data.batch_size, 256);
  EXPECT_FALSE(c.data.shuffle);
  EXPECT_EQ(c.model_name, "tiny");
  EXPECT_EQ(c.loss.name, "categorical_crossentropy");
  EXPECT_TRUE(c.loss.from_logits);
  EXPECT_DOUBLE_EQ(c.loss.label_smoothing, 0.1);
  EXPECT_EQ(c.optimizer.name, "sgd");
  EXPECT_EQ(std::get<double>(c.optimizer.options.at("learning_rate")), 0.5);
  EXPECT_EQ(std::get<double>(c.optimizer.options.at("momentum")), 0.9);
  EXPECT_EQ(std::get<bool>(c.optimizer.options.at("nesterov")), true);
  EXPECT_EQ(c.metrics, (std::vector<std::string>{"accuracy", "top_k_categorical_accuracy"}));
  EXPECT_EQ(c.epochs, 7);
  EXPECT_EQ(c.verbose, 2);
  EXPECT_EQ(c.checkpoint_every_steps, 50);
  EXPECT_FALSE(c.checkpoint_every_epoch);
  EXPECT_EQ(c.checkpoint_keep, 5);
  EXPECT_EQ(c.checkpoint_monitor, "val_loss");
  EXPECT_EQ(c.checkpoint_mode, "min");
  EXPECT_EQ(c.replica_check_every, 20);
  EXPECT_EQ(c.stall_timeout, 12.5);
  EXPECT_EQ(c.bucket_bytes, 2u << 20);
  EXPECT_EQ(c.transport, distributed::ReduceTransport::shared_memory);
}

TEST_F(RunConfigTest, TransportNames) {
  EXPECT_EQ(load(std::string(kMinimal) + "distributed: {transport: mpi}\n").transport,
            distributed::ReduceTransport::mpi);
  EXPECT_EQ(load(std::string(kMinimal) + "distributed: {transport: auto}\n").transport,
            distributed::ReduceTransport::automatic);
  expect_error(std::string(kMinimal) + "distributed: {transport: infiniband}\n",
               {"job.yaml:8: distributed.transport: must be auto, mpi or shared_memory, got 'infiniband'"});
}

// ---- the model --------------------------------------------------------------------

TEST_F(RunConfigTest, SequentialLayersGetKerasNamesAndChainFromTheInput) {
  const auto c = load(R"(data: {file: d.h5}
model:
  layers:
    - Flatten: {}
    - Dense: {units: 32, activation: relu}
    - Dense: {units: 10, name: logits}
    - Dense: {units: 3}
compile: {loss: mse}
)");
  ASSERT_EQ(c.layers.size(), 5u);
  EXPECT_EQ(c.layers[0].type, "InputLayer");  // its shape comes from the data later
  EXPECT_EQ(c.layers[0].config.get_string("name", ""), "input");
  EXPECT_TRUE(c.layers[0].inbound.empty());
  const std::vector<std::string> types{"InputLayer", "Flatten", "Dense", "Dense", "Dense"};
  const std::vector<std::string> names{"input", "flatten", "dense", "logits", "dense_1"};
  for (std::size_t i = 0; i < c.layers.size(); ++i) {
    EXPECT_EQ(c.layers[i].type, types[i]) << i;
    EXPECT_EQ(c.layers[i].config.get_string("name", ""), names[i]) << i;
    if (i > 0) {
      EXPECT_EQ(c.layers[i].inbound, std::vector<std::string>{names[i - 1]}) << i;
    }
  }
  EXPECT_EQ(c.layers[2].config.get_int("units", ""), 32);
  EXPECT_EQ(c.layers[2].config.get_string("activation", ""), "relu");
}

TEST_F(RunConfigTest, ActivationsByKerasName) {
  // gelu is Keras' exact form; gelu_approximate its approximate=True (tanh) form.
  const auto c = load(R"(data: {file: d.h5}
model:
  layers:
    - Conv2D: {filters: 2, kernel_size: 1, activation: swish}
    - Activation: {activation: silu}
    - Flatten: {}
    - Dense: {units: 8, activation: gelu}
    - Dense: {units: 8, activation: gelu_approximate}
    - Dense: {units: 4, activation: softplus}
    - Activation: {activation: log_softmax}
compile: {loss: mse}
)");
  ASSERT_EQ(c.layers.size(), 8u);
  const std::vector<std::pair<std::size_t, std::string>> acts{
      {1, "swish"}, {2, "silu"}, {4, "gelu"}, {5, "gelu_approximate"}, {6, "softplus"}, {7, "log_softmax"}};
  for (const auto& [i, act] : acts) EXPECT_EQ(c.layers[i].config.get_string("activation", ""), act) << i;
  expect_error(R"(data: {file: d.h5}
model:
  layers:
    - Dense: {units: 8, activation: gelu_tanh}
compile: {loss: mse}
)",
               {"job.yaml:4: model.layers[0]: ", "unknown activation 'gelu_tanh'", "gelu_approximate", "swish"});
}

TEST_F(RunConfigTest, NormalizationLayersByKerasNameBuildAndTrainOneStep) {
  const auto c = load(R"(data: {file: d.h5}
model:
  layers:
    - Dense: {units: 8, activation: relu}
    - LayerNormalization: {beta_initializer: ones}
    - Dense: {units: 8}
    - LayerNormalization: {epsilon: 1.0e-5, center: false}
    - RMSNormalization: {epsilon: 1.0e-4}
    - Dense: {units: 3, activation: softmax}
compile: {loss: sparse_categorical_crossentropy, optimizer: sgd}
)");
  ASSERT_EQ(c.layers.size(), 7u);
  EXPECT_EQ(c.layers[2].type, "LayerNormalization");
  EXPECT_EQ(c.layers[2].config.get_string("name", ""), "layer_normalization");
  EXPECT_EQ(c.layers[4].config.get_string("name", ""), "layer_normalization_1");
  EXPECT_EQ(c.layers[4].config.get_double("epsilon", ""), 1e-5);
  EXPECT_FALSE(c.layers[4].config.get_bool("center", ""));
  EXPECT_EQ(c.layers[5].type, "RMSNormalization");
  EXPECT_EQ(c.layers[5].config.get_string("name", ""), "rms_normalization");

  // As `dtrain train` does (session.cpp): the input shape from the data, then
  // the model from the records; one step on one batch of 6 rows.
  auto layers = c.layers;
  layers.front().config.set("shape", std::vector<std::int64_t>{4});
  auto model = Model::from_records(layers, c.model_name, c.seed);
  model.compile({.loss = c.loss, .optimizer_config = c.optimizer});
  EXPECT_EQ(model.weight("layer_normalization/beta").data[0], 1.0f);  // beta_initializer: ones
  EXPECT_THROW(model.weight("layer_normalization_1/beta"), ArgumentError);
  Tensor x({6, 4}), y({6});
  for (std::int64_t i = 0; i < 24; ++i) x[i] = static_cast<float>(std::sin(0.9 * static_cast<double>(i)));
  for (std::int64_t i = 0; i < 6; ++i) y[i] = static_cast<float>(i % 3);
  const std::vector<float> before(model.weights().begin(), model.weights().end());
  const auto history = model.fit(x, y, {.batch_size = 6, .epochs = 1, .shuffle = false, .verbose = 0});
  EXPECT_EQ(model.global_step(), 1);
  EXPECT_TRUE(std::isfinite(history.values("loss").back())) << history.values("loss").back();
  const auto beta = model.weight("layer_normalization/beta");
  const auto at = static_cast<std::size_t>(beta.data - model.weights().data());
  EXPECT_NE(0, std::memcmp(before.data() + at, beta.data, static_cast<std::size_t>(beta.size()) * sizeof(float)));

  expect_error(R"(data: {file: d.h5}
model:
  layers:
    - LayerNormalization: {axis: 0}
compile: {loss: mse}
)",
               {"job.yaml:4: model.layers[0]: ", "only axis=-1"});
}

TEST_F(RunConfigTest, RecurrentLayersByKerasNameBuildAndTrainOneStep) {
  const auto c = load(R"(data: {file: d.h5}
model:
  layers:
    - SimpleRNN: {units: 4, return_sequences: true}
    - GRU: {units: 3, return_sequences: true, recurrent_activation: tanh}
    - LSTM: {units: 5, unit_forget_bias: false}
    - Dense: {units: 3, activation: softmax}
compile: {loss: sparse_categorical_crossentropy, optimizer: sgd}
)");
  ASSERT_EQ(c.layers.size(), 5u);
  EXPECT_EQ(c.layers[1].type, "SimpleRNN");
  EXPECT_EQ(c.layers[1].config.get_string("name", ""), "simple_rnn");
  EXPECT_EQ(c.layers[2].config.get_string("name", ""), "gru");
  EXPECT_EQ(c.layers[3].config.get_string("name", ""), "lstm");
  EXPECT_FALSE(c.layers[3].config.get_bool("unit_forget_bias", ""));

  // The input shape from the data ([time, features]), then one step on 6 rows.
  auto layers = c.layers;
  layers.front().config.set("shape", std::vector<std::int64_t>{5, 2});
  auto model = Model::from_records(layers, c.model_name, c.seed);
  model.compile({.loss = c.loss, .optimizer_config = c.optimizer});
  EXPECT_EQ(model.weight("gru/bias").shape, (Shape{2, 9}));
  EXPECT_EQ(model.weight("lstm/bias").data[5], 0.0f);  // unit_forget_bias: false
  Tensor x({6, 5, 2}), y({6});
  for (std::int64_t i = 0; i < 60; ++i) x[i] = static_cast<float>(std::sin(0.9 * static_cast<double>(i)));
  for (std::int64_t i = 0; i < 6; ++i) y[i] = static_cast<float>(i % 3);
  const auto history = model.fit(x, y, {.batch_size = 6, .epochs = 1, .shuffle = false, .verbose = 0});
  EXPECT_EQ(model.global_step(), 1);
  EXPECT_TRUE(std::isfinite(history.values("loss").back())) << history.values("loss").back();

  expect_error(R"(data: {file: d.h5}
model:
  layers:
    - GRU: {units: 4, reset_after: false}
compile: {loss: mse}
)",
               {"job.yaml:4: model.layers[0]: ", "reset_after"});
}

TEST_F(RunConfigTest, ALayerMayNameItsTypeWithATypeKey) {
  const auto c = load(R"(data: {file: d.h5}
model:
  layers:
    - {type: Dense, units: 4}
compile: {loss: mse}
)");
  ASSERT_EQ(c.layers.size(), 2u);
  EXPECT_EQ(c.layers[1].type, "Dense");
  EXPECT_EQ(c.layers[1].config.get_int("units", ""), 4);
  EXPECT_FALSE(c.layers[1].config.has("type"));
}

TEST_F(RunConfigTest, MultiHeadAttentionFromYamlSelfAndCross) {
  // Self-attention in a layer list, use_causal_mask as a layer key (a call
  // argument in Keras); then cross-attention in a DAG: inputs [query, value].
  const auto c = load(R"(data: {file: d.h5}
model:
  nodes:
    - Dense: {name: q, units: 6, inputs: [input]}
    - MultiHeadAttention: {name: self, num_heads: 2, key_dim: 3, use_causal_mask: true, inputs: [input]}
    - MultiHeadAttention: {name: cross, num_heads: 2, key_dim: 2, value_dim: 3, inputs: [q, self]}
    - Dense: {name: out, units: 3, inputs: [cross]}
compile: {loss: sparse_categorical_crossentropy, optimizer: sgd}
)");
  ASSERT_EQ(c.layers.size(), 5u);
  EXPECT_EQ(c.layers[2].type, "MultiHeadAttention");
  EXPECT_TRUE(c.layers[2].config.get_bool("use_causal_mask", ""));
  EXPECT_EQ(c.layers[3].inbound, (std::vector<std::string>{"q", "self"}));
  auto layers = c.layers;
  layers.front().config.set("shape", std::vector<std::int64_t>{5, 4});
  auto model = Model::from_records(layers, c.model_name, c.seed);
  EXPECT_EQ(model.weight("self/query/kernel").shape, (Shape{4, 2, 3}));
  EXPECT_EQ(model.weight("cross/query/kernel").shape, (Shape{6, 2, 2}));
  EXPECT_EQ(model.weight("cross/value/kernel").shape, (Shape{4, 2, 3}));
  EXPECT_EQ(model.weight("cross/attention_output/kernel").shape, (Shape{2, 3, 6}));
  EXPECT_EQ(model.output_shape(), (Shape{graph::kBatch, 5, 3}));
  expect_error(R"(data: {file: d.h5}
model:
  layers:
    - MultiHeadAttention: {num_heads: 2, key_dim: 3, dropout: 0.1}
compile: {loss: mse}
)",
               {"job.yaml:4: model.layers[0]: ", "dropout must be 0"});
}

TEST_F(RunConfigTest, DagNodesNameTheirInputs) {
  const auto c = load(R"(data: {file: d.h5}
model:
  nodes:
    - Dense: {name: a, units: 4, inputs: [input]}
    - Dense: {name: b, units: 4, inputs: [input]}
    - Add: {name: sum, inputs: [a, b]}
compile: {loss: mse}
)");
  ASSERT_EQ(c.layers.size(), 4u);
  EXPECT_EQ(c.layers[3].type, "Add");
  EXPECT_EQ(c.layers[3].inbound, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(c.layers[3].config.has("inputs"));  // a graph edge, not a layer argument
  EXPECT_EQ(c.layers[1].inbound, std::vector<std::string>{"input"});
}

TEST_F(RunConfigTest, ModelErrorsNameTheLayer) {
  expect_error(R"(data: {file: d.h5}
model:
  layers:
    - Dense: {units: 8}
    - Dence: {units: 10}
compile: {loss: mse}
)",
               {"job.yaml:5: model.layers[1]: unknown layer type 'Dence'", "Dense", "Conv2D"});
  expect_error(R"(data: {file: d.h5}
model:
  layers:
    - InputLayer: {shape: [3]}
compile: {loss: mse}
)",
               {"model.layers[0]: unknown layer type 'InputLayer'"});
  expect_error(R"(data: {file: d.h5}
model:
  layers:
    - Dense: {units: -1}
compile: {loss: mse}
)",
               {"job.yaml:4: model.layers[0]: ", "units must be positive"});
  expect_error(R"(data: {file: d.h5}
model:
  layers:
    - Dense: {units: 3, name: a}
    - Dense: {units: 3, name: a}
compile: {loss: mse}
)",
               {"job.yaml:5: model.layers[1].name: the name 'a' is used twice"});
  expect_error(R"(data: {file: d.h5}
model:
  layers:
    - Dense: {units: 3}
      Dropout: {rate: 0.5}
compile: {loss: mse}
)",
               {"model.layers[0]: needs a 'type' key or a single {Type: {arguments}} entry"});
  expect_error("data: {file: d.h5}\nmodel: {name: m}\ncompile: {loss: mse}\n",
               {"job.yaml:2: model: needs 'layers' (a list, for a Sequential model) or 'nodes' (a DAG)"});
  expect_error(R"(data: {file: d.h5}
model:
  layers: [{Dense: {units: 3}}]
  nodes: [{Dense: {units: 3, name: a, inputs: [input]}}]
compile: {loss: mse}
)",
               {"model: give either 'layers' or 'nodes', not both"});
}

TEST_F(RunConfigTest, DagErrorsNameTheNode) {
  expect_error(R"(data: {file: d.h5}
model:
  nodes:
    - Dense: {name: a, units: 4, inputs: [b]}
compile: {loss: mse}
)",
               {"job.yaml:4: model.nodes[0].inputs: no node named 'b' before this one"});
  expect_error(R"(data: {file: d.h5}
model:
  nodes:
    - Dense: {units: 4, inputs: [input]}
compile: {loss: mse}
)",
               {"model.nodes[0]: every node of a DAG needs a 'name'"});
  expect_error(R"(data: {file: d.h5}
model:
  nodes:
    - Dense: {name: a, units: 4}
compile: {loss: mse}
)",
               {"model.nodes[0].inputs: a list of node names (or 'input')"});
}

// ---- compile ----------------------------------------------------------------------

TEST_F(RunConfigTest, OptimizerByNameOrMapping) {
  const std::string head = "data: {file: d.h5}\nmodel: {layers: [{Dense: {units: 2}}]}\n";
  const auto by_name = load(head + "compile: {loss: mse, optimizer: sgd}\n");
  EXPECT_EQ(by_name.optimizer.name, "sgd");
  EXPECT_TRUE(by_name.optimizer.options.empty());
  // Integers become numbers: learning_rate: 1 is 1.0.
  const auto mapping = load(head + "compile: {loss: mse, optimizer: {name: rmsprop, learning_rate: 1}}\n");
  EXPECT_EQ(mapping.optimizer.name, "rmsprop");
  EXPECT_EQ(std::get<double>(mapping.optimizer.options.at("learning_rate")), 1.0);

  expect_error(head + "compile: {loss: mse, optimizer: adamm}\n", {"job.yaml:3: compile.optimizer: ", "adamm"});
  expect_error(head + "compile: {loss: mse, optimizer: {learning_rate: 0.1}}\n",
               {"compile.optimizer: needs a 'name' (e.g. adam)"});
  expect_error(head + "compile: {loss: mse, optimizer: {name: sgd, momentun: 0.9}}\n",
               {"compile.optimizer: ", "momentun"});
}

// compile.optimizer.learning_rate as a mapping is a Keras schedule by class name.
TEST_F(RunConfigTest, LearningRateSchedule) {
  const std::string head = "data: {file: d.h5}\nmodel: {layers: [{Dense: {units: 2}}]}\n";
  const auto c = load(head + R"(compile:
  loss: mse
  optimizer:
    name: adamw
    learning_rate:
      schedule: CosineDecay
      initial_learning_rate: 0.0
      decay_steps: 1000
      warmup_target: 0.001
      warmup_steps: 100
    exclude_from_weight_decay: [bias, gamma]
)");
  EXPECT_EQ(c.optimizer.name, "adamw");
  EXPECT_FALSE(c.optimizer.options.count("learning_rate"));
  ASSERT_TRUE(c.optimizer.learning_rate_schedule.has_value());
  EXPECT_EQ(c.optimizer.learning_rate_schedule->name, "CosineDecay");
  EXPECT_EQ(c.optimizer.learning_rate_schedule->options.size(), 4u);
  EXPECT_EQ(c.optimizer.exclude_from_weight_decay, (std::vector<std::string>{"bias", "gamma"}));
  const auto opt = optimizers::make_optimizer<float>(c.optimizer);
  EXPECT_DOUBLE_EQ(opt->learning_rate(), 0.0);  // step 0 of the warm-up
  opt->set_iterations(100);
  EXPECT_DOUBLE_EQ(opt->learning_rate(), 0.001);  // the end of the warm-up

  // The resolved config keeps every argument, Keras' defaults included, so a
  // changed schedule is a changed key on resume.
  const auto s = settings(c);
  EXPECT_EQ(s.at("compile.optimizer.learning_rate.schedule"), "CosineDecay");
  EXPECT_EQ(s.at("compile.optimizer.learning_rate.decay_steps"), "1000");
  EXPECT_EQ(s.at("compile.optimizer.learning_rate.warmup_steps"), "100");
  EXPECT_EQ(s.at("compile.optimizer.learning_rate.warmup_target"), "0.001");
  EXPECT_EQ(s.at("compile.optimizer.learning_rate.alpha"), "0");
  EXPECT_EQ(s.at("compile.optimizer.exclude_from_weight_decay"), "[bias, gamma]");
  EXPECT_FALSE(s.count("compile.optimizer.learning_rate"));
  // Names are case-insensitive; the schedule is the Keras spelling.
  const auto lower = load(head + "compile: {loss: mse, optimizer: {name: sgd, learning_rate: "
                                 "{schedule: cosinedecayrestarts, initial_learning_rate: 0.1, first_decay_steps: 10}}}\n");
  EXPECT_EQ(lower.optimizer.learning_rate_schedule->name, "CosineDecayRestarts");
  EXPECT_EQ(settings(lower).at("compile.optimizer.learning_rate.t_mul"), "2");  // Keras' default
  // A constant rate has no schedule keys, as before (older checkpoints compare equal).
  const auto plain = load(head + "compile: {loss: mse, optimizer: {name: sgd, learning_rate: 0.5}}\n");
  EXPECT_FALSE(plain.optimizer.learning_rate_schedule.has_value());
  EXPECT_EQ(settings(plain).count("compile.optimizer.learning_rate.schedule"), 0u);
  EXPECT_EQ(settings(plain).count("compile.optimizer.exclude_from_weight_decay"), 0u);
  // Every Keras schedule loads from YAML.
  for (const auto* schedule : {
           "{schedule: ExponentialDecay, initial_learning_rate: 0.1, decay_steps: 10, decay_rate: 0.5, staircase: true}",
           "{schedule: PiecewiseConstantDecay, boundaries: [100, 200], values: [0.1, 0.01, 0.001]}",
           "{schedule: PolynomialDecay, initial_learning_rate: 0.1, decay_steps: 10, power: 2, cycle: true}",
           "{schedule: InverseTimeDecay, initial_learning_rate: 0.1, decay_steps: 10, decay_rate: 0.5}",
           "{schedule: CosineDecay, initial_learning_rate: 0.1, decay_steps: 10, alpha: 0.1}",
           "{schedule: CosineDecayRestarts, initial_learning_rate: 0.1, first_decay_steps: 10, t_mul: 1, m_mul: 0.5}"}) {
    const auto k = load(head + "compile: {loss: mse, optimizer: {name: sgd, learning_rate: " + schedule + "}}\n");
    EXPECT_TRUE(k.optimizer.learning_rate_schedule.has_value()) << schedule;
  }
}

TEST_F(RunConfigTest, LearningRateScheduleErrorsNameTheLineAndTheKey) {
  const std::string head = "data: {file: d.h5}\nmodel: {layers: [{Dense: {units: 2}}]}\ncompile:\n  loss: mse\n"
                           "  optimizer:\n    name: adam\n    learning_rate:\n";
  // Line 8 is the schedule's first key.
  expect_error(head + "      schedule: CosineDecayy\n      initial_learning_rate: 0.1\n      decay_steps: 10\n",
               {"job.yaml:8: compile.optimizer.learning_rate.schedule: unknown learning-rate schedule 'CosineDecayy'",
                "(valid: ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay, "
                "CosineDecayRestarts)"});
  expect_error(head + "      schedule: CosineDecay\n      initial_learning_rate: 0.1\n",
               {"job.yaml:8: compile.optimizer.learning_rate.decay_steps: missing: CosineDecay needs "
                "initial_learning_rate, decay_steps"});
  expect_error(head + "      initial_learning_rate: 0.1\n      decay_steps: 10\n",
               {"job.yaml:8: compile.optimizer.learning_rate.schedule: missing", "CosineDecayRestarts"});
  expect_error(head + "      schedule: ExponentialDecay\n      initial_learning_rate: 0.1\n      decay_steps: 10\n"
                      "      decay_rate: 0.5\n      warmup_steps: 5\n",
               {"job.yaml:12: compile.optimizer.learning_rate.warmup_steps: not an argument of ExponentialDecay",
                "(valid: schedule, initial_learning_rate, decay_steps, decay_rate, staircase)"});
  // A bad value points at its line.
  expect_error(head + "      schedule: CosineDecay\n      initial_learning_rate: 0.1\n      decay_steps: 0\n",
               {"job.yaml:10: compile.optimizer.learning_rate.decay_steps: ", "decay_steps"});
  expect_error(head + "      schedule: PolynomialDecay\n      initial_learning_rate: 0.1\n      decay_steps: 2.5\n",
               {"job.yaml:10: compile.optimizer.learning_rate.decay_steps: "});
  // exclude_from_weight_decay: a list of names.
  const std::string opt = "data: {file: d.h5}\nmodel: {layers: [{Dense: {units: 2}}]}\ncompile:\n  loss: mse\n"
                          "  optimizer:\n    name: adamw\n";
  expect_error(opt + "    exclude_from_weight_decay: {bias: 1}\n",
               {"job.yaml:7: compile.optimizer.exclude_from_weight_decay: must be a list of names"});
  expect_error(opt + "    exclude_from_weight_decay: [bias, '']\n",
               {"job.yaml:7: compile.optimizer.exclude_from_weight_decay: an empty name"});
  EXPECT_EQ(load(opt + "    exclude_from_weight_decay: bias\n").optimizer.exclude_from_weight_decay,
            std::vector<std::string>{"bias"});
}

TEST_F(RunConfigTest, LossAndMetricsAreChecked) {
  const std::string head = "data: {file: d.h5}\nmodel: {layers: [{Dense: {units: 2}}]}\n";
  expect_error(head + "compile: {loss: crossentropy}\n", {"job.yaml:3: compile.loss: ", "crossentropy"});
  expect_error(head + "compile: {optimizer: sgd}\n", {"compile.loss: "});  // no loss at all
  expect_error(head + "compile:\n  loss: mse\n  metrics: [acuracy]\n", {"job.yaml:5: compile.metrics: ", "acuracy"});
  expect_error(head + "compile:\n  loss: mse\n  metrics: accuracy\n",
               {"job.yaml:5: compile.metrics: must be a list, e.g. [accuracy]"});
  const auto huber = load(head + "compile: {loss: huber, delta: 0.5}\n");
  EXPECT_EQ(huber.loss.name, "huber");
  EXPECT_EQ(huber.loss.delta, 0.5);
}

// ---- fit: callbacks ---------------------------------------------------------------

TEST_F(RunConfigTest, CallbacksKeepTheirArgumentsAndLine) {
  const auto c = load(std::string(kMinimal) + R"(fit:
  epochs: 3
  callbacks:
    - EarlyStopping: {monitor: val_accuracy, patience: 3, min_delta: 0.01, restore_best_weights: true}
    - ReduceLROnPlateau: {factor: 0.5}
    - TerminateOnNaN: {}
)");
  ASSERT_EQ(c.callbacks.size(), 3u);
  EXPECT_EQ(c.callbacks[0].type, "EarlyStopping");
  EXPECT_EQ(c.callbacks[0].line, 11);
  EXPECT_EQ(c.callbacks[0].args.get_string("monitor", ""), "val_accuracy");
  EXPECT_EQ(c.callbacks[0].args.get_int("patience", ""), 3);
  EXPECT_DOUBLE_EQ(c.callbacks[0].args.get_double("min_delta", ""), 0.01);
  EXPECT_TRUE(c.callbacks[0].args.get_bool("restore_best_weights", ""));
  EXPECT_EQ(c.callbacks[1].type, "ReduceLROnPlateau");
  EXPECT_DOUBLE_EQ(c.callbacks[1].args.get_double("factor", ""), 0.5);
  EXPECT_EQ(c.callbacks[2].type, "TerminateOnNaN");
  EXPECT_TRUE(c.callbacks[2].args.values().empty());
}

TEST_F(RunConfigTest, CallbackErrors) {
  expect_error(std::string(kMinimal) + "fit:\n  callbacks:\n    - ModelCheckpoint: {}\n",
               {"job.yaml:10: fit.callbacks[0]: unknown callback 'ModelCheckpoint' (valid: EarlyStopping, "
                "ReduceLROnPlateau, TerminateOnNaN)"});
  expect_error(std::string(kMinimal) + "fit:\n  callbacks: EarlyStopping\n", {"job.yaml:9: fit.callbacks: must be a list"});
  expect_error(std::string(kMinimal) + "fit:\n  callbacks:\n    - {EarlyStopping: {}, TerminateOnNaN: {}}\n",
               {"fit.callbacks[0]: must be {Name: {arguments}}"});
}

// ---- errors: unknown keys, types, values, missing sections ------------------------------

TEST_F(RunConfigTest, UnknownKeysNameTheFileTheLineAndTheKey) {
  expect_error(std::string("sed: 3\n") + kMinimal,
               {"job.yaml:1: sed: unknown key (valid here: seed, threads, run_dir, data, model, compile, fit, "
                "checkpoint, distributed)"});
  expect_error(R"(data:
  file: d.h5
  batchsize: 3
model: {layers: [{Dense: {units: 2}}]}
compile: {loss: mse}
)",
               {"job.yaml:3: data.batchsize: unknown key (valid here: file, train, validation, test, batch_size, shuffle)"});
  expect_error(std::string(kMinimal) + "fit:\n  epoch: 3\n", {"job.yaml:9: fit.epoch: unknown key", "epochs"});
  expect_error(std::string(kMinimal) + "checkpoint:\n  every: 3\n", {"job.yaml:9: checkpoint.every: unknown key"});
  expect_error(std::string(kMinimal) + "distributed:\n  bucket_mb: 3\n",
               {"job.yaml:9: distributed.bucket_mb: unknown key", "bucket_mib"});
  expect_error("data: {file: d.h5}\nmodel: {layers: [{Dense: {units: 2}}], kind: seq}\ncompile: {loss: mse}\n",
               {"job.yaml:2: model.kind: unknown key (valid here: name, layers, nodes)"});
  expect_error("data: {file: d.h5}\nmodel: {layers: [{Dense: {units: 2}}]}\ncompile: {loss: mse, lr: 0.1}\n",
               {"job.yaml:3: compile.lr: unknown key"});
}

TEST_F(RunConfigTest, WrongTypesSayWhatWasExpected) {
  const std::string model = "model: {layers: [{Dense: {units: 2}}]}\ncompile: {loss: mse}\n";
  expect_error("data:\n  file: d.h5\n  batch_size: many\n" + model,
               {"job.yaml:3: data.batch_size: must be an integer, got 'many'"});
  expect_error("data:\n  file: d.h5\n  shuffle: maybe\n" + model,
               {"job.yaml:3: data.shuffle: must be true or false, got 'maybe'"});
  expect_error("data:\n  file: d.h5\n  batch_size: [1, 2]\n" + model,
               {"job.yaml:3: data.batch_size: must be a single value"});
  expect_error(std::string(kMinimal) + "distributed:\n  stall_timeout: soon\n",
               {"job.yaml:9: distributed.stall_timeout: must be a number, got 'soon'"});
  expect_error(std::string(kMinimal) + "fit:\n  epochs: three\n", {"job.yaml:9: fit.epochs: must be an integer, got 'three'"});
  expect_error(std::string("threads: 1.5\n") + kMinimal, {"job.yaml:1: threads: must be an integer, got '1.5'"});
  expect_error("data: [d.h5]\n" + model, {"job.yaml:1: data: must be a mapping"});
}

TEST_F(RunConfigTest, OutOfRangeValuesAreRejected) {
  const std::string model = "model: {layers: [{Dense: {units: 2}}]}\ncompile: {loss: mse}\n";
  expect_error("data: {file: d.h5, batch_size: 0}\n" + model, {"job.yaml:1: data.batch_size: must be positive"});
  expect_error(std::string(kMinimal) + "fit: {epochs: 0}\n", {"fit.epochs: must be positive"});
  expect_error(std::string(kMinimal) + "checkpoint: {keep: 0}\n", {"checkpoint.keep: must be at least 1"});
  expect_error(std::string(kMinimal) + "distributed: {bucket_mib: 17}\n", {"distributed.bucket_mib: must be in (0, 16]"});
  expect_error(std::string(kMinimal) + "distributed: {bucket_mib: 0}\n", {"distributed.bucket_mib: must be in (0, 16]"});
  expect_error(std::string(kMinimal) + "distributed: {stall_timeout: 0}\n",
               {"distributed.stall_timeout: must be positive"});
}

TEST_F(RunConfigTest, MissingSectionsAreNamed) {
  expect_error("model: {layers: [{Dense: {units: 2}}]}\ncompile: {loss: mse}\n",
               {"job.yaml:1: data: missing (data.file names the HDF5 dataset)"});
  expect_error("data: {batch_size: 8}\nmodel: {layers: [{Dense: {units: 2}}]}\ncompile: {loss: mse}\n",
               {"data.file: missing: the HDF5 dataset to train on"});
  expect_error("data: {file: d.h5}\ncompile: {loss: mse}\n", {"model: missing"});
  expect_error("data: {file: d.h5}\nmodel: {layers: [{Dense: {units: 2}}]}\n", {"compile: missing (loss and optimizer)"});
}

TEST_F(RunConfigTest, FileErrors) {
  const auto missing = (dir_ / "nothere.yaml").string();
  try {
    load_run_config(missing, {});
    FAIL() << "a missing file loaded";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": no such config file");
  }
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"data: {file: d.h5\nmodel: x\n", ": not valid YAML"},
           {"- data\n- model\n", ": the config must be a mapping with data, model, compile, fit"}}) {
    const auto path = write(text);
    try {
      load_run_config(path, {});
      ADD_FAILURE() << "no error for:\n" << text;
    } catch (const ConfigError& e) {
      EXPECT_TRUE(std::string(e.what()).starts_with(path)) << e.what();
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

TEST_F(RunConfigTest, ConfigErrorsAreArgumentErrors) {
  // main() maps ArgumentError to the usage exit code (2).
  const auto path = write("sed: 1\n");
  EXPECT_THROW(load_run_config(path, {}), ArgumentError);
}

// ---- --set NAME=VALUE ---------------------------------------------------------------

TEST_F(RunConfigTest, OverridesReplaceValuesAndCreateSections) {
  const auto c = load(std::string(kMinimal) + "fit: {epochs: 10}\n",
                      {"fit.epochs=3", "data.batch_size=64", "checkpoint.keep=5", "seed=7",
                       "distributed.transport=mpi", "data.shuffle=false"});
  EXPECT_EQ(c.epochs, 3);
  EXPECT_EQ(c.data.batch_size, 64);
  EXPECT_EQ(c.checkpoint_keep, 5);  // the section did not exist in the file
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.transport, distributed::ReduceTransport::mpi);
  EXPECT_FALSE(c.data.shuffle);
  EXPECT_EQ(c.data.file, "fashion.h5");  // untouched keys stay
}

TEST_F(RunConfigTest, OverrideValuesAreYaml) {
  const auto c = load(kMinimal, {"compile.metrics=[accuracy]", "compile.optimizer={name: sgd, learning_rate: 0.25}",
                                 "model.layers=[{Dense: {units: 4}}, {Dense: {units: 2}}]"});
  EXPECT_EQ(c.metrics, std::vector<std::string>{"accuracy"});
  EXPECT_EQ(c.optimizer.name, "sgd");
  EXPECT_EQ(std::get<double>(c.optimizer.options.at("learning_rate")), 0.25);
  ASSERT_EQ(c.layers.size(), 3u);
  EXPECT_EQ(c.layers[2].config.get_int("units", ""), 2);
}

TEST_F(RunConfigTest, OverridesAreValidatedLikeTheFile) {
  // A value from the command line is named as such, not by a line of the file.
  expect_error(kMinimal, {"--set fit.epoch=3: fit.epoch: unknown key"}, {"fit.epoch=3"});
  expect_error(kMinimal, {"--set data.batch_size=abc: data.batch_size: must be an integer, got 'abc'"},
               {"data.batch_size=abc"});
  expect_error(kMinimal, {"--set checkpoint.every_steps=0: checkpoint.every_steps: must be at least 1"},
               {"checkpoint.every_steps=0"});
  expect_error(kMinimal, {"--set data={file: d.h5, batch_size: 0}: data.batch_size: must be positive"},
               {"data={file: d.h5, batch_size: 0}"});
  // The last --set of a key is the one named; a file error stays the file's.
  expect_error(kMinimal, {"--set fit.epochs=-1: fit.epochs: must be positive"}, {"fit.epochs=2", "fit.epochs=-1"});
  expect_error(std::string(kMinimal) + "fit: {epochs: 0}\n", {"job.yaml:8: fit.epochs: must be positive"},
               {"data.batch_size=4"});
  expect_error(kMinimal, {"--set fit.epochs: expected key=value, e.g. fit.epochs=3"}, {"fit.epochs"});
  expect_error(kMinimal, {"--set =3: expected key=value"}, {"=3"});
  expect_error(kMinimal, {"--set data.file.name=x: 'file' is not a mapping"}, {"data.file.name=x"});
}

TEST_F(RunConfigTest, AnEmptyOverrideValueIsRefused) {
  // "fit.epochs=" would load as null, that is the default: silently not what was asked.
  expect_error(kMinimal, {"--set fit.epochs=: no value after '='"}, {"fit.epochs="});
  expect_error(kMinimal, {"--set seed= : no value after '='"}, {"seed= "});
  expect_error(kMinimal, {"--set data.file='': data.file: missing"}, {"data.file=''"});  // quoted: empty text
}

TEST_F(RunConfigTest, ADuplicatedKeyIsRefusedWithBothLines) {
  expect_error(std::string(kMinimal) + "fit:\n  epochs: 3\n  verbose: 2\n  epochs: 5\n",
               {"job.yaml:11: fit.epochs: given twice in one mapping (also on line 9)"});
  expect_error("data: {file: a.h5, file: b.h5}\nmodel: {layers: [{Dense: {units: 2}}]}\ncompile: {loss: mse}\n",
               {"job.yaml:1: data.file: given twice"});
  expect_error(std::string(kMinimal) + "seed: 1\nseed: 2\n", {"job.yaml:9: seed: given twice", "line 8"});
  expect_error("data: {file: a.h5}\nmodel:\n  layers:\n    - Dense: {units: 2, units: 3}\ncompile: {loss: mse}\n",
               {"job.yaml:4: model.layers[0].Dense.units: given twice"});
}

TEST_F(RunConfigTest, CheckpointEveryStepsIsOffWhenLeftOutElseAtLeastOne) {
  EXPECT_EQ(load(kMinimal).checkpoint_every_steps, 0);
  EXPECT_EQ(load(std::string(kMinimal) + "checkpoint: {every_steps: 1}\n").checkpoint_every_steps, 1);
  expect_error(std::string(kMinimal) + "checkpoint: {every_steps: 0}\n",
               {"job.yaml:8: checkpoint.every_steps: must be at least 1 (leave it out for no checkpoints between epochs)"});
  expect_error(std::string(kMinimal) + "checkpoint: {every_steps: -5}\n", {"checkpoint.every_steps: must be at least 1"});
}

TEST_F(RunConfigTest, ThreadsIsZeroForAutomaticOrMore) {
  EXPECT_EQ(load(std::string("threads: 0\n") + kMinimal).threads, 0);
  expect_error(std::string("threads: -1\n") + kMinimal, {"job.yaml:1: threads: must be 0 (the cores given to the rank) or more"});
}

}  // namespace
}  // namespace dtrain::cli
