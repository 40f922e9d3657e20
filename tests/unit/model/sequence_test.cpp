// Rank-3 data through a model: [batch, time, features] -> Dense -> Dense(vocab) ->
// sparse categorical cross-entropy against [batch, time] labels (issue 15). Bitwise
// identical weights with 1 and 4 threads, per-token accuracy, and label shapes that
// do not fit the output named in the error.
#include "dtrain/core/error.hpp"
#include "dtrain/core/random.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "dtrain/optimizers/optimizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace dtrain {
namespace {

constexpr std::int64_t kTime = 16, kFeatures = 24, kVocab = 12;

// 1024 (batch, time) rows per batch of 64: several row blocks in every GEMM and
// bias sum; 288 hidden units: gemm_tn's column blocks for the first kernel, row
// blocks for the second ([288, 12]).
Model sequence_model(std::uint64_t seed) {
  return Sequential({kTime, kFeatures},
                    {layers::Dense({.units = 288, .activation = "relu"}), layers::Dense({.units = kVocab})},
                    "sequence", seed);
}

CompileOptions token_classification() {
  auto loss = losses::parse_loss("sparse_categorical_crossentropy");
  loss.from_logits = true;
  return {.optimizer = optimizers::make_optimizer<float>("adam", {{"learning_rate", 3e-3}}), .loss = loss,
          .metrics = {"accuracy"}};
}

// x [n, time, features] uniform in [0, 1); the label of each token is the argmax of
// its first kVocab features, given a margin (learnable per token).
void tokens(Tensor& x, Tensor& y, std::int64_t n, std::uint64_t seed) {
  x = Tensor({n, kTime, kFeatures});
  y = Tensor({n, kTime});
  Rng rng(seed);
  for (std::int64_t t = 0; t < n * kTime; ++t) {
    float* row = x.data() + t * kFeatures;
    int best = 0;
    for (std::int64_t j = 0; j < kFeatures; ++j) {
      row[j] = static_cast<float>(rng.uniform(0, 1));
      if (j < kVocab && row[j] > row[best]) best = static_cast<int>(j);
    }
    row[best] += 0.5f;
    y[t] = static_cast<float>(best);
  }
}

struct Trained {
  std::vector<float> weights;
  std::vector<double> loss, accuracy;
};

Trained train(int threads) {
  auto m = sequence_model(7);
  m.set_threads(threads);
  m.compile(token_classification());
  Tensor x, y;
  tokens(x, y, 256, 5);
  const auto h = m.fit(x, y, {.batch_size = 64, .epochs = 2, .seed = 3, .verbose = 0});
  return {{m.weights().begin(), m.weights().end()}, h.values("loss"), h.values("accuracy")};
}

TEST(Sequences, DenseKeepsTheTimeAxis) {
  auto m = sequence_model(1);
  EXPECT_EQ(m.output_shape(), (Shape{graph::kBatch, kTime, kVocab}));
  EXPECT_EQ(m.weight("dense/kernel").shape, (Shape{kFeatures, 288}));
  EXPECT_EQ(m.count_params(), kFeatures * 288 + 288 + 288 * kVocab + kVocab);
}

TEST(Sequences, TrainingIsBitwiseIdenticalWithOneAndFourThreads) {
  const auto one = train(1), four = train(4);
  ASSERT_EQ(one.weights.size(), four.weights.size());
  EXPECT_EQ(0, std::memcmp(one.weights.data(), four.weights.data(), one.weights.size() * sizeof(float)));
  EXPECT_EQ(one.loss, four.loss);
  EXPECT_EQ(one.accuracy, four.accuracy);
  // It learns: 8 steps of Adam lower the per-token loss below chance (log 12 ≈ 2.48).
  ASSERT_EQ(one.loss.size(), 2u);
  EXPECT_LT(one.loss[1], one.loss[0]);
  EXPECT_LT(one.loss[1], 2.4);
}

TEST(Sequences, EvaluateCountsEveryToken) {
  auto m = sequence_model(2);
  m.compile(token_classification());
  Tensor x, y;
  tokens(x, y, 40, 9);
  // By hand: the argmax of each token's logits against its label, over 40 * 16 tokens;
  // the loss: the mean over all tokens of -log_softmax at the label.
  const auto logits = m.predict(x, 16);
  ASSERT_EQ(logits.shape(), (Shape{40, kTime, kVocab}));
  double hits = 0, loss = 0;
  for (std::int64_t t = 0; t < 40 * kTime; ++t) {
    const float* z = logits.data() + t * kVocab;
    std::int64_t best = 0;
    double mx = z[0];
    for (std::int64_t j = 1; j < kVocab; ++j) {
      if (z[j] > z[best]) best = j;
      mx = std::max(mx, static_cast<double>(z[j]));
    }
    double s = 0;
    for (std::int64_t j = 0; j < kVocab; ++j) s += std::exp(z[j] - mx);
    loss += -(z[static_cast<std::int64_t>(y[t])] - mx - std::log(s));
    hits += best == static_cast<std::int64_t>(y[t]) ? 1 : 0;
  }
  const auto logs = m.evaluate(x, y, 16);
  EXPECT_DOUBLE_EQ(logs.get("accuracy"), hits / (40 * kTime));
  EXPECT_NEAR(logs.get("loss"), loss / (40 * kTime), 1e-5);
}

std::string fit_error(const Tensor& y) {
  auto m = sequence_model(3);
  m.compile(token_classification());
  Tensor x, unused;
  tokens(x, unused, 8, 1);
  try {
    m.fit(x, y, {.batch_size = 8, .verbose = 0});
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Sequences, LabelsThatDoNotFitNameBothShapes) {
  // One label per sample for a per-token output: the Flatten hint.
  const auto per_sample = fit_error(Tensor({8}));
  EXPECT_EQ(per_sample.find("sparse_categorical_crossentropy: labels of shape [8] do not fit predictions of "
                            "shape [8, 16, 12], which need labels [8, 16] ("),
            0u)
      << per_sample;
  EXPECT_NE(per_sample.find("Flatten"), std::string::npos) << per_sample;
  // As many labels as tokens but the axes swapped ([8, 16] as [16, 8] per row is
  // impossible, so [8, 8, 2]): the sizes agree, the shapes do not.
  EXPECT_EQ(fit_error(Tensor({8, 8, 2})),
            "sparse_categorical_crossentropy: labels of shape [8, 8, 2] do not fit predictions of shape "
            "[8, 16, 12], which need labels [8, 16]");
  // [batch, time, 1]: Keras' trailing 1 is accepted.
  EXPECT_EQ(fit_error(Tensor({8, kTime, 1})), "no error");
}

}  // namespace
}  // namespace dtrain
