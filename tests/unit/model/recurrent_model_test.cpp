// Recurrent layers in a model (issue 15): [batch, time, features] -> LSTM
// (return_sequences) -> Dense(vocab) trained with per-token sparse categorical
// cross-entropy gives bitwise-identical weights with 1 and 4 threads; SimpleRNN,
// GRU and LSTM weights survive Model::save / load and save_weights /
// load_weights bit for bit, with their arguments and Keras weight names.
#include "dtrain/core/random.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/layers/recurrent.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "support/scratch_dir.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace dtrain {
namespace {

constexpr std::int64_t kTime = 8, kFeatures = 6, kVocab = 5;

CompileOptions token_classification() {
  auto loss = losses::parse_loss("sparse_categorical_crossentropy");
  loss.from_logits = true;
  return {.optimizer = optimizers::make_optimizer<float>("adam", {{"learning_rate", 1e-2}}), .loss = loss,
          .metrics = {"accuracy"}};
}

// The label of each token: the argmax of its first kVocab features, lagged by one
// step (the first step copies its own): learnable only through the recurrence.
void tokens(Tensor& x, Tensor& y, std::int64_t n, std::uint64_t seed) {
  x = Tensor({n, kTime, kFeatures});
  y = Tensor({n, kTime});
  Rng rng(seed);
  for (std::int64_t s = 0; s < n; ++s) {
    int prev = -1;
    for (std::int64_t t = 0; t < kTime; ++t) {
      float* row = x.data() + (s * kTime + t) * kFeatures;
      int best = 0;
      for (std::int64_t j = 0; j < kFeatures; ++j) {
        row[j] = static_cast<float>(rng.uniform(0, 1));
        if (j < kVocab && row[j] > row[best]) best = static_cast<int>(j);
      }
      y[s * kTime + t] = static_cast<float>(prev < 0 ? best : prev);
      prev = best;
    }
  }
}

Model lstm_model(std::uint64_t seed) {
  return Sequential({kTime, kFeatures},
                    {layers::LSTM({.units = 48, .return_sequences = true}), layers::Dense({.units = kVocab})},
                    "lstm_tokens", seed);
}

struct Trained {
  std::vector<float> weights;
  std::vector<double> loss;
};

Trained train(int threads) {
  auto m = lstm_model(7);
  m.set_threads(threads);
  m.compile(token_classification());
  Tensor x, y;
  tokens(x, y, 96, 5);
  // 3 steps an epoch, the last batch short (96 = 40 + 40 + 16).
  const auto h = m.fit(x, y, {.batch_size = 40, .epochs = 3, .seed = 3, .verbose = 0});
  return {{m.weights().begin(), m.weights().end()}, h.values("loss")};
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(RecurrentModel, LstmTrainingIsBitwiseIdenticalWithOneAndFourThreads) {
  const auto one = train(1), four = train(4);
  ASSERT_FALSE(one.weights.empty());
  EXPECT_TRUE(same_bits(one.weights, four.weights));
  EXPECT_EQ(one.loss, four.loss);
  ASSERT_EQ(one.loss.size(), 3u);
  EXPECT_LT(one.loss[2], one.loss[0]);  // it learns
}

TEST(RecurrentModel, WeightsAndArgumentsSurviveSaveAndLoad) {
  testing::ScratchDir dir;
  auto model = Sequential({kTime, kFeatures},
                          {layers::SimpleRNN({.units = 4, .return_sequences = true}),
                           layers::GRU({.units = 5, .return_sequences = true}),
                           layers::LSTM({.units = 6, .return_sequences = true, .name = "enc"}),
                           layers::Dense({.units = kVocab})},
                          "rnns", 11);
  model.compile(token_classification());
  EXPECT_EQ(model.weight("simple_rnn/recurrent_kernel").shape, (Shape{4, 4}));
  EXPECT_EQ(model.weight("gru/bias").shape, (Shape{2, 15}));
  EXPECT_EQ(model.weight("enc/kernel").shape, (Shape{5, 24}));
  // unit_forget_bias: the forget gate's bias starts at one, the others at zero.
  const auto bias = model.weight("enc/bias");
  for (std::int64_t i = 0; i < 24; ++i) EXPECT_EQ(bias.data[i], i >= 6 && i < 12 ? 1.0f : 0.0f) << i;
  Tensor x, y;
  tokens(x, y, 24, 2);
  model.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0});

  const auto path = dir.file("model.h5");
  model.save(path);
  auto loaded = Model::load(path);
  EXPECT_EQ(loaded.summary(), model.summary());
  EXPECT_TRUE(same_bits(loaded.weights(), model.weights()));
  const auto records = loaded.records();
  ASSERT_EQ(records.size(), 5u);  // InputLayer first
  EXPECT_EQ(records[1].type, "SimpleRNN");
  EXPECT_EQ(records[2].type, "GRU");
  EXPECT_EQ(records[3].type, "LSTM");
  EXPECT_TRUE(records[3].config.get_bool("return_sequences", ""));
  EXPECT_EQ(records[3].config.get_int("units", ""), 6);
  // One more epoch each: the same bits (optimizer slots came along).
  model.fit(x, y, {.batch_size = 8, .epochs = 1, .shuffle = false, .verbose = 0});
  loaded.fit(x, y, {.batch_size = 8, .epochs = 1, .shuffle = false, .verbose = 0});
  EXPECT_TRUE(same_bits(loaded.weights(), model.weights()));

  const auto weights = dir.file("weights.h5");
  model.save_weights(weights);
  auto other = Model::from_records(model.records(), "other", 99);
  EXPECT_FALSE(same_bits(other.weights(), model.weights()));
  other.load_weights(weights);
  EXPECT_TRUE(same_bits(other.weights(), model.weights()));
}

}  // namespace
}  // namespace dtrain
