// Token ids through a model (issue 15): Embedding -> GlobalAveragePooling1D -> Dense
// (one label per sequence) and Embedding -> Dense(vocab) (one label per token,
// [batch, time]). Training gives bitwise identical weights with 1 and 4 threads
// (the embedding's row-update backward sums each row in token order), and learns.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "dtrain/core/error.hpp"
#include "dtrain/core/random.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/layers/embedding.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "dtrain/optimizers/optimizer.hpp"

namespace dtrain {
namespace {

// 200 embedding rows: 4 row blocks in the backward; 64 x 16 tokens per batch: 4
// token blocks in the forward.
constexpr std::int64_t kTime = 16, kVocab = 200, kClasses = 5;

CompileOptions sparse_ce() {
  auto loss = losses::parse_loss("sparse_categorical_crossentropy");
  loss.from_logits = true;
  return {.optimizer = optimizers::make_optimizer<float>("adam", {{"learning_rate", 1e-2}}),
          .loss = loss,
          .metrics = {"accuracy"}};
}

// Token ids uniform in [0, kVocab) (tokens repeat in every batch). Per sequence:
// class = (number of ids below 40) mod kClasses clipped, learnable from the mean
// embedding; per token: the next token (y[t] = x[t+1], the last predicts x[0]).
void token_data(Tensor& x, Tensor& y_seq, Tensor& y_tok, std::int64_t n, std::uint64_t seed) {
  x = Tensor({n, kTime});
  y_seq = Tensor({n});
  y_tok = Tensor({n, kTime});
  Rng rng(seed);
  for (std::int64_t i = 0; i < n; ++i) {
    int low = 0;
    for (std::int64_t t = 0; t < kTime; ++t) {
      const auto id = static_cast<std::int64_t>(rng.uniform(0, 1) * kVocab) % kVocab;
      x[i * kTime + t] = static_cast<float>(id);
      low += id < 40 ? 1 : 0;
    }
    y_seq[i] = static_cast<float>(std::min<int>(low / 2, kClasses - 1));
    for (std::int64_t t = 0; t < kTime; ++t) y_tok[i * kTime + t] = x[i * kTime + (t + 1) % kTime];
  }
}

struct Trained {
  std::vector<float> weights;
  std::vector<double> loss;
};

Trained train(bool per_token, int threads) {
  auto m = per_token ? Sequential({kTime},
                                  {layers::Embedding({.input_dim = kVocab, .output_dim = 8}),
                                   layers::Dense({.units = kVocab})},
                                  "lm", 11)
                     : Sequential({kTime},
                                  {layers::Embedding({.input_dim = kVocab, .output_dim = 8}),
                                   layers::GlobalAveragePooling1D(), layers::Dense({.units = kClasses})},
                                  "bag", 11);
  m.set_threads(threads);
  m.compile(sparse_ce());
  Tensor x, y_seq, y_tok;
  token_data(x, y_seq, y_tok, 256, 4);
  const auto h =
      m.fit(x, per_token ? y_tok : y_seq, {.batch_size = 64, .epochs = 3, .seed = 2, .verbose = 0});
  return {{m.weights().begin(), m.weights().end()}, h.values("loss")};
}

TEST(EmbeddingModel, ShapesAndWeightNames) {
  auto m = Sequential({kTime}, {layers::Embedding({.input_dim = kVocab, .output_dim = 8}),
                                layers::GlobalAveragePooling1D(), layers::Dense({.units = kClasses})});
  EXPECT_EQ(m.output_shape(), (Shape{graph::kBatch, kClasses}));
  EXPECT_EQ(m.weight("embedding/embeddings").shape, (Shape{kVocab, 8}));
  EXPECT_EQ(m.count_params(), kVocab * 8 + 8 * kClasses + kClasses);
}

TEST(EmbeddingModel, PooledTrainingIsBitwiseIdenticalWithOneAndFourThreads) {
  const auto one = train(false, 1), four = train(false, 4);
  ASSERT_EQ(one.weights.size(), four.weights.size());
  EXPECT_EQ(0, std::memcmp(one.weights.data(), four.weights.data(), one.weights.size() * sizeof(float)));
  EXPECT_EQ(one.loss, four.loss);
  EXPECT_LT(one.loss.back(), one.loss.front());
}

TEST(EmbeddingModel, PerTokenTrainingIsBitwiseIdenticalWithOneAndFourThreads) {
  const auto one = train(true, 1), four = train(true, 4);
  ASSERT_EQ(one.weights.size(), four.weights.size());
  EXPECT_EQ(0, std::memcmp(one.weights.data(), four.weights.data(), one.weights.size() * sizeof(float)));
  EXPECT_EQ(one.loss, four.loss);
  EXPECT_LT(one.loss.back(), one.loss.front());
}

TEST(EmbeddingModel, ABadTokenIdInFitNamesTheLayerRowAndValue) {
  auto m = Sequential({4}, {layers::Embedding({.input_dim = 10, .output_dim = 2, .name = "tok"}),
                            layers::GlobalAveragePooling1D(), layers::Dense({.units = 2})});
  m.compile(sparse_ce());
  Tensor x({3, 4}), y({3});
  x[2 * 4 + 1] = 10.0f;  // row 2
  try {
    m.fit(x, y, {.batch_size = 3, .shuffle = false, .verbose = 0});
    FAIL() << "no error";
  } catch (const ArgumentError& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("Embedding 'tok': token id 10 at batch row 2"), std::string::npos) << w;
  }
}

}  // namespace
}  // namespace dtrain
