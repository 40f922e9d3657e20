// Helpers of the checkpoint tests: a scratch directory, a full state with every
// field set (odd float bit patterns included), and a bitwise comparison.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>

#include "dtrain/checkpoint.hpp"
#include "support/scratch_dir.hpp"

namespace dtrain::checkpoint::ckpt_test {

using ScratchDir = ::dtrain::testing::ScratchDir;

inline std::vector<float> iota_floats(std::size_t n, float start) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = start + 0.25f * static_cast<float>(i);
  return v;
}

// A small model (Dense 4->3, Dense 3->2 without trainable bias, a scalar) trained
// with Nadam-like state, mid-epoch, with history and callback state.
inline CheckpointState full_state(std::int64_t step = 120) {
  CheckpointState s;
  s.created = "2024-05-01T12:00:00Z";
  s.model.name = "mlp";
  s.model.seed = 0xfeedbeefcafe1234ULL;  // above 2^63: must survive as uint64
  s.model.config_json = R"({"name": "mlp", "layers": [{"class_name": "Dense", "units": 3}]})";
  auto kernel = iota_floats(12, -1.5f);
  // Bit patterns a conversion would change: NaN with a payload, -0, a denormal, inf.
  std::uint32_t nan_bits = 0x7fc01234u;
  std::memcpy(&kernel[0], &nan_bits, 4);
  kernel[1] = -0.0f;
  kernel[2] = std::numeric_limits<float>::denorm_min();
  kernel[3] = -std::numeric_limits<float>::infinity();
  s.model.weights = {
      {"dense_1/kernel", {4, 3}, kernel, true},
      {"dense_1/bias", {3}, {0.1f, -0.2f, 0.3f}, true},
      {"dense_2/kernel", {3, 2}, iota_floats(6, 2.0f), true},
      {"dense_2/bias", {2}, {0.5f, 0.75f}, false},
      {"scale", {}, {3.0f}, true},
  };
  s.optimizer.name = "nadam";
  s.optimizer.config_json = R"({"name": "nadam", "learning_rate": 0.002, "beta_1": 0.9})";
  s.optimizer.iterations = step;
  s.optimizer.learning_rate = 0.002;
  for (const auto& w : s.model.weights) {
    if (!w.trainable) continue;
    s.optimizer.slots.push_back({w.name + "/m", w.shape, iota_floats(w.data.size(), 0.01f)});
    s.optimizer.slots.push_back({w.name + "/v", w.shape, iota_floats(w.data.size(), 0.02f)});
  }
  s.optimizer.globals = {{"nadam/u_product", {}, {0.8f}}};
  s.progress.global_step = step;
  s.progress.epoch = 2;
  s.progress.step_in_epoch = 20;
  s.progress.seed = 42;
  s.progress.rng = {{"dropout_seed", -7}, {"shuffle_stream", 3}};
  s.progress.world_size = 4;
  s.progress.threads = 2;
  s.progress.dataset_fingerprint = "xxh64:0123456789abcdef size:1000";
  s.progress.dataset = "data/fashion-mnist.h5";
  s.callbacks = {{"EarlyStopping", R"({"wait": 1, "best": 0.31})"},
                 {"ReduceLROnPlateau", R"({"wait": 0, "cooldown_counter": 2})"}};
  s.metric_states = {{"accuracy", {37.0, 50.0}}, {"loss", {12.5, 50.0}}, {"val/auc", {}}};
  s.history.columns = {"epoch", "loss", "accuracy", "val_loss"};
  s.history.rows = {{0, 0.9, 0.61, 0.8}, {1, 0.55, 0.79, 0.5}};
  s.monitor = MonitorValue{"val_loss", 0.5};
  s.run_config = R"({"data.batch_size": "128", "seed": "3"})";
  return s;
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

inline bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 8) == 0);
}

// Every field equal, floats bit for bit.
inline void expect_same_state(const CheckpointState& a, const CheckpointState& b) {
  EXPECT_EQ(a.format, b.format);
  EXPECT_EQ(a.format_version, b.format_version);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.dtrain_version, b.dtrain_version);
  EXPECT_EQ(a.run_config, b.run_config);
  EXPECT_EQ(a.model.name, b.model.name);
  EXPECT_EQ(a.model.seed, b.model.seed);
  EXPECT_EQ(a.model.config_json, b.model.config_json);
  ASSERT_EQ(a.model.weights.size(), b.model.weights.size());
  for (std::size_t i = 0; i < a.model.weights.size(); ++i) {
    const auto& x = a.model.weights[i];
    const auto& y = b.model.weights[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.shape, y.shape) << x.name;
    EXPECT_EQ(x.trainable, y.trainable) << x.name;
    EXPECT_TRUE(same_bits(x.data, y.data)) << x.name;
  }
  const auto slots_equal = [](const std::vector<Slot>& p, const std::vector<Slot>& q) {
    ASSERT_EQ(p.size(), q.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
      EXPECT_EQ(p[i].name, q[i].name);
      EXPECT_EQ(p[i].shape, q[i].shape) << p[i].name;
      EXPECT_TRUE(same_bits(p[i].data, q[i].data)) << p[i].name;
    }
  };
  EXPECT_EQ(a.optimizer.name, b.optimizer.name);
  EXPECT_EQ(a.optimizer.config_json, b.optimizer.config_json);
  EXPECT_EQ(a.optimizer.iterations, b.optimizer.iterations);
  EXPECT_EQ(a.optimizer.learning_rate, b.optimizer.learning_rate);
  slots_equal(a.optimizer.slots, b.optimizer.slots);
  slots_equal(a.optimizer.globals, b.optimizer.globals);
  EXPECT_EQ(a.progress.global_step, b.progress.global_step);
  EXPECT_EQ(a.progress.epoch, b.progress.epoch);
  EXPECT_EQ(a.progress.step_in_epoch, b.progress.step_in_epoch);
  EXPECT_EQ(a.progress.seed, b.progress.seed);
  EXPECT_EQ(a.progress.rng, b.progress.rng);
  EXPECT_EQ(a.progress.world_size, b.progress.world_size);
  EXPECT_EQ(a.progress.threads, b.progress.threads);
  EXPECT_EQ(a.progress.dataset_fingerprint, b.progress.dataset_fingerprint);
  EXPECT_EQ(a.progress.dataset, b.progress.dataset);
  ASSERT_EQ(a.callbacks.size(), b.callbacks.size());
  for (std::size_t i = 0; i < a.callbacks.size(); ++i) {
    EXPECT_EQ(a.callbacks[i].name, b.callbacks[i].name);
    EXPECT_EQ(a.callbacks[i].json, b.callbacks[i].json);
  }
  ASSERT_EQ(a.metric_states.size(), b.metric_states.size());
  for (const auto& [k, v] : a.metric_states) {
    ASSERT_EQ(b.metric_states.count(k), 1u) << k;
    EXPECT_TRUE(same_bits(v, b.metric_states.at(k))) << k;
  }
  EXPECT_EQ(a.history.columns, b.history.columns);
  ASSERT_EQ(a.history.rows.size(), b.history.rows.size());
  for (std::size_t r = 0; r < a.history.rows.size(); ++r) {
    EXPECT_TRUE(same_bits(a.history.rows[r], b.history.rows[r])) << "history row " << r;
  }
  ASSERT_EQ(a.monitor.has_value(), b.monitor.has_value());
  if (a.monitor) {
    EXPECT_EQ(a.monitor->name, b.monitor->name);
    EXPECT_EQ(a.monitor->value, b.monitor->value);
  }
}

// The message of the CheckpointError `f` throws ("" and a test failure if none).
template <class F>
std::string checkpoint_error_of(F&& f) {
  try {
    f();
  } catch (const CheckpointError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no CheckpointError thrown";
  return "";
}

}  // namespace dtrain::checkpoint::ckpt_test
