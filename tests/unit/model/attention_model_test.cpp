// MultiHeadAttention in models (issue 15): [batch, time, features] ->
// MultiHeadAttention(causal) -> Dense(vocab) trained with 1 and 4 threads gives
// the same bits; its weights save and load by their Keras names; a
// cross-attention DAG (query and value from two nodes) trains and survives
// Model::save / Model::load.
#include "dtrain/core/random.hpp"
#include "dtrain/layers/attention.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "dtrain/optimizers/optimizer.hpp"
#include "support/scratch_dir.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace dtrain {
namespace {

constexpr std::int64_t kTime = 6, kFeatures = 10, kVocab = 5;

Model causal_model(std::uint64_t seed) {
  return Sequential({kTime, kFeatures},
                    {layers::MultiHeadAttention({.num_heads = 3, .key_dim = 4, .use_causal_mask = true}),
                     layers::Dense({.units = kVocab})},
                    "attention", seed);
}

Model cross_model(std::uint64_t seed) {
  auto x = layers::Input({kTime, kFeatures});
  auto q = layers::Dense({.units = 8, .activation = "tanh", .name = "q"})(x);
  auto a = layers::MultiHeadAttention({.num_heads = 2, .key_dim = 3, .value_dim = 4, .name = "cross"})({q, x});
  return Model(x, layers::Dense({.units = kVocab})(a), "cross", seed);
}

CompileOptions token_classification() {
  auto loss = losses::parse_loss("sparse_categorical_crossentropy");
  loss.from_logits = true;
  return {.optimizer = optimizers::make_optimizer<float>("adam", {{"learning_rate", 1e-2}}), .loss = loss,
          .metrics = {"accuracy"}};
}

// The label of token t is the argmax of the first kVocab features of the tokens
// up to t, summed: something a causal attention can see.
void tokens(Tensor& x, Tensor& y, std::int64_t n, std::uint64_t seed) {
  x = Tensor({n, kTime, kFeatures});
  y = Tensor({n, kTime});
  Rng rng(seed);
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.uniform(-1, 1));
  for (std::int64_t s = 0; s < n; ++s) {
    std::vector<float> acc(kVocab, 0.0f);
    for (std::int64_t t = 0; t < kTime; ++t) {
      int best = 0;
      for (std::int64_t j = 0; j < kVocab; ++j) {
        acc[j] += x[(s * kTime + t) * kFeatures + j];
        if (acc[j] > acc[best]) best = static_cast<int>(j);
      }
      y[s * kTime + t] = static_cast<float>(best);
    }
  }
}

struct Trained {
  std::vector<float> weights;
  std::vector<double> loss;
};

Trained train(Model m, int threads) {
  m.set_threads(threads);
  m.compile(token_classification());
  Tensor x, y;
  tokens(x, y, 96, 5);
  const auto h = m.fit(x, y, {.batch_size = 32, .epochs = 2, .seed = 3, .verbose = 0});
  return {{m.weights().begin(), m.weights().end()}, h.values("loss")};
}

TEST(AttentionModel, WeightsByKerasNames) {
  auto m = causal_model(1);
  EXPECT_EQ(m.output_shape(), (Shape{graph::kBatch, kTime, kVocab}));
  EXPECT_EQ(m.weight("multi_head_attention/query/kernel").shape, (Shape{kFeatures, 3, 4}));
  EXPECT_EQ(m.weight("multi_head_attention/attention_output/kernel").shape, (Shape{3, 4, kFeatures}));
  EXPECT_EQ(m.weight("multi_head_attention/attention_output/bias").shape, (Shape{kFeatures}));
  EXPECT_EQ(m.count_params(), 3 * (kFeatures * 12 + 12) + 12 * kFeatures + kFeatures + kFeatures * kVocab + kVocab);
}

TEST(AttentionModel, CausalTrainingIsBitwiseIdenticalWithOneAndFourThreads) {
  const auto one = train(causal_model(7), 1), four = train(causal_model(7), 4);
  ASSERT_EQ(one.weights.size(), four.weights.size());
  EXPECT_EQ(0, std::memcmp(one.weights.data(), four.weights.data(), one.weights.size() * sizeof(float)));
  EXPECT_EQ(one.loss, four.loss);
  ASSERT_EQ(one.loss.size(), 2u);
  EXPECT_LT(one.loss[1], one.loss[0]);  // it learns
}

TEST(AttentionModel, SaveAndLoadWeights) {
  auto a = train(causal_model(1), 1);
  auto trained = causal_model(1);
  std::copy(a.weights.begin(), a.weights.end(), trained.weights().begin());
  testing::ScratchDir dir;  // its own: a save removes stale temporaries of its directory
  const std::string path = dir / "attention_weights.h5";
  trained.save_weights(path);
  auto fresh = causal_model(2);
  fresh.load_weights(path);
  ASSERT_EQ(fresh.weights().size(), a.weights.size());
  EXPECT_EQ(0, std::memcmp(fresh.weights().data(), a.weights.data(), a.weights.size() * sizeof(float)));
  Tensor x, y;
  tokens(x, y, 4, 11);
  const auto p1 = trained.predict(x, 4), p2 = fresh.predict(x, 4);
  EXPECT_EQ(0, std::memcmp(p1.data(), p2.data(), static_cast<std::size_t>(p1.size()) * sizeof(float)));
}

TEST(AttentionModel, CrossAttentionDagTrainsAndRoundTripsThroughSave) {
  const auto one = train(cross_model(4), 1), four = train(cross_model(4), 4);
  EXPECT_EQ(0, std::memcmp(one.weights.data(), four.weights.data(), one.weights.size() * sizeof(float)));
  EXPECT_LT(one.loss[1], one.loss[0]);
  auto m = cross_model(4);
  EXPECT_EQ(m.weight("cross/query/kernel").shape, (Shape{8, 2, 3}));
  EXPECT_EQ(m.weight("cross/key/kernel").shape, (Shape{kFeatures, 2, 3}));
  EXPECT_EQ(m.weight("cross/value/kernel").shape, (Shape{kFeatures, 2, 4}));
  testing::ScratchDir dir;  // its own: a save removes stale temporaries of its directory
  const std::string path = dir / "cross_attention_model.h5";
  m.save(path);
  auto back = Model::load(path);
  ASSERT_EQ(back.weights().size(), m.weights().size());
  EXPECT_EQ(0, std::memcmp(back.weights().data(), m.weights().data(), m.weights().size() * sizeof(float)));
  const auto records = back.records();
  bool found = false;
  for (const auto& r : records) {
    if (r.type != "MultiHeadAttention") continue;
    found = true;
    EXPECT_EQ(r.inbound, (std::vector<std::string>{"q", records[0].config.get_string_or("name", "", "")}));
  }
  EXPECT_TRUE(found);
}

TEST(AttentionModel, UseCausalMaskSurvivesModelSave) {
  auto m = causal_model(3);
  testing::ScratchDir dir;  // its own: a save removes stale temporaries of its directory
  const std::string path = dir / "causal_attention_model.h5";
  m.save(path);
  auto back = Model::load(path);
  Tensor x, y;
  tokens(x, y, 4, 12);
  const auto p1 = m.predict(x, 4), p2 = back.predict(x, 4);
  EXPECT_EQ(0, std::memcmp(p1.data(), p2.data(), static_cast<std::size_t>(p1.size()) * sizeof(float)));
  for (const auto& r : back.records()) {
    if (r.type == "MultiHeadAttention") {
      EXPECT_TRUE(r.config.get_bool("use_causal_mask", ""));
    }
  }
}

}  // namespace
}  // namespace dtrain
