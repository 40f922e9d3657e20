// Model API: summary, compile/fit errors, predict, determinism across threads,
// validation split, callbacks.
#include "dtrain/callbacks.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/core/random.hpp"
#include "dtrain/layers/conv.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/layers/normalization.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "dtrain/optimizers/optimizer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace dtrain {
namespace {

Model small_mlp(std::uint64_t seed = 0) {
  return Sequential({784}, {layers::Dense({.units = 256, .activation = "relu"}),
                            layers::Dense({.units = 128, .activation = "relu"}), layers::Dense({.units = 10})},
                    "sequential", seed);
}

CompileOptions classification(double lr = 1e-3) {
  auto loss = losses::parse_loss("sparse_categorical_crossentropy");
  loss.from_logits = true;
  return {.optimizer = optimizers::make_optimizer<float>("adam", {{"learning_rate", lr}}), .loss = loss,
          .metrics = {"accuracy"}};
}

// Random data with a learnable rule: the class is the argmax of the first 10
// features, which is given a margin.
void blobs(Tensor& x, Tensor& y, std::int64_t n, std::int64_t features, std::uint64_t seed) {
  x = Tensor({n, features});
  y = Tensor({n});
  Rng rng(seed);
  for (std::int64_t i = 0; i < n; ++i) {
    int best = 0;
    for (std::int64_t j = 0; j < features; ++j) {
      x[i * features + j] = static_cast<float>(rng.uniform(0, 1));
      if (j < 10 && x[i * features + j] > x[i * features + best]) best = static_cast<int>(j);
    }
    x[i * features + best] += 0.5f;  // a margin: learnable in a few epochs
    y[i] = static_cast<float>(best);
  }
}

TEST(Model, SummaryIsTheKerasTable) {
  auto m = small_mlp();
  const auto s = m.summary();
  EXPECT_NE(s.find("Model: \"sequential\""), std::string::npos) << s;
  EXPECT_NE(s.find("dense (Dense)"), std::string::npos) << s;
  EXPECT_NE(s.find("dense_2 (Dense)"), std::string::npos) << s;
  EXPECT_NE(s.find("(None, 256)"), std::string::npos) << s;
  EXPECT_NE(s.find("200960"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 235,146"), std::string::npos) << s;
  EXPECT_EQ(m.count_params(), 235146);
  EXPECT_EQ(m.weight("dense_1/kernel").shape, (Shape{256, 128}));
  EXPECT_THROW(m.weight("dense_9/kernel"), ArgumentError);
}

TEST(Model, BatchNormalizationCountsNonTrainableParams) {
  auto m = Sequential({8, 8, 1}, {layers::Conv2D({.filters = 4}), layers::BatchNormalization(), layers::Flatten(),
                                  layers::Dense({.units = 2})});
  EXPECT_NE(m.summary().find("Non-trainable params: 8"), std::string::npos) << m.summary();
}

TEST(Model, LayerAndRMSNormalizationInTheSummary) {
  auto m = Sequential({20}, {layers::Dense({.units = 16}), layers::LayerNormalization(),
                             layers::LayerNormalization({.scale = false}), layers::RMSNormalization(),
                             layers::Dense({.units = 4})});
  const auto s = m.summary();
  EXPECT_NE(s.find("layer_normalization (LayerNormalization)"), std::string::npos) << s;
  EXPECT_NE(s.find("layer_normalization_1 (LayerNormalization)"), std::string::npos) << s;
  EXPECT_NE(s.find("rms_normalization (RMSNormalization)"), std::string::npos) << s;
  // Dense 20·16 + 16, gamma + beta 32, beta 16, scale 16, Dense 16·4 + 4: all trainable.
  EXPECT_EQ(m.count_params(), 336 + 32 + 16 + 16 + 68);
  EXPECT_NE(s.find("Total params: 468"), std::string::npos) << s;
  EXPECT_NE(s.find("Non-trainable params: 0"), std::string::npos) << s;
}

TEST(Model, FitBeforeCompileAndBadNamesAreClearErrors) {
  auto m = small_mlp();
  Tensor x, y;
  blobs(x, y, 64, 784, 1);
  try {
    m.fit(x, y, {.verbose = 0});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("before compile()"), std::string::npos);
  }
  EXPECT_THROW(losses::parse_loss("crossentropy"), ArgumentError);
  EXPECT_THROW(optimizers::make_optimizer<float>("adamx", {}), ArgumentError);
  auto c = classification();
  c.metrics = {"acuracy"};
  EXPECT_THROW(m.compile(c), ArgumentError);
}

TEST(Model, LabelsOutsideTheClassesAreRejected) {
  auto m = small_mlp();
  m.compile(classification());
  Tensor x, y;
  blobs(x, y, 32, 784, 2);
  y[17] = 10;
  try {
    m.fit(x, y, {.batch_size = 32, .shuffle = false, .verbose = 0});
    FAIL() << "a label of 10 with 10 classes was accepted";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("17"), std::string::npos) << e.what();
  }
}

TEST(Model, ALabelErrorNamesTheRowOfTheArrayNotOfTheBatch) {
  // Shuffled batches of 4: row 17 of the array is at some other row of its batch.
  auto m = small_mlp();
  m.compile(classification());
  Tensor x, y;
  blobs(x, y, 32, 784, 2);
  y[17] = 10;
  try {
    m.fit(x, y, {.batch_size = 4, .shuffle = true, .seed = 3, .verbose = 0});
    FAIL() << "a label of 10 with 10 classes was accepted";
  } catch (const ArgumentError& e) {
    EXPECT_EQ(std::string(e.what()), "sparse_categorical_crossentropy: label 10 at row 17 is not a class id in [0, 10)");
  }
}

std::vector<float> train_and_get_weights(int threads) {
  auto m = small_mlp(5);
  m.set_threads(threads);
  m.compile(classification());
  Tensor x, y;
  blobs(x, y, 300, 784, 3);
  m.fit(x, y, {.batch_size = 64, .epochs = 2, .seed = 11, .verbose = 0});
  return {m.weights().begin(), m.weights().end()};
}

// Layer/RMS normalization over 300 features: rows longer than a row block wants.
std::vector<float> train_normalized_and_get_weights(int threads) {
  auto m = Sequential({784}, {layers::Dense({.units = 300, .activation = "gelu"}), layers::LayerNormalization(),
                              layers::Dense({.units = 64}), layers::RMSNormalization(), layers::Dense({.units = 10})},
                      "normed", 5);
  m.set_threads(threads);
  m.compile(classification());
  Tensor x, y;
  blobs(x, y, 300, 784, 3);
  m.fit(x, y, {.batch_size = 64, .epochs = 2, .seed = 11, .verbose = 0});
  return {m.weights().begin(), m.weights().end()};
}

TEST(Model, NormalizationTrainingIsBitwiseIdenticalWithOneAndFourThreads) {
  const auto one = train_normalized_and_get_weights(1), four = train_normalized_and_get_weights(4);
  ASSERT_EQ(one.size(), four.size());
  EXPECT_EQ(0, std::memcmp(one.data(), four.data(), one.size() * sizeof(float)));
}

TEST(Model, TrainingIsBitwiseIdenticalWithOneTwoAndFourThreads) {
  const auto one = train_and_get_weights(1);
  for (int t : {2, 4}) {
    const auto other = train_and_get_weights(t);
    ASSERT_EQ(one.size(), other.size());
    EXPECT_EQ(0, std::memcmp(one.data(), other.data(), one.size() * sizeof(float))) << t << " threads";
  }
}

TEST(Model, PredictMatchesTheShapeAndLearns) {
  auto m = Sequential({20}, {layers::Dense({.units = 64, .activation = "relu"}), layers::Dense({.units = 10})}, "m", 1);
  m.compile(classification(1e-2));
  Tensor x, y;
  blobs(x, y, 1000, 20, 4);
  auto history = m.fit(x, y, {.batch_size = 50, .epochs = 8, .validation_split = 0.2, .verbose = 0});
  ASSERT_EQ(history.epochs().size(), 8u);
  EXPECT_TRUE(history.epochs().back().has("val_accuracy"));
  EXPECT_GT(history.values("accuracy").back(), history.values("accuracy").front());
  const auto p = m.predict(x, 128);
  EXPECT_EQ(p.shape(), (Shape{1000, 10}));
  int correct = 0;
  for (std::int64_t i = 0; i < 1000; ++i) {
    int best = 0;
    for (int k = 1; k < 10; ++k) best = p[i * 10 + k] > p[i * 10 + best] ? k : best;
    correct += best == static_cast<int>(y[i]);
  }
  EXPECT_GT(correct, 800);
  EXPECT_THROW(m.predict(Tensor({3, 19})), ShapeError);
}

TEST(Model, EarlyStoppingCsvLoggerAndProgressOutput) {
  auto m = small_mlp(2);
  m.compile(classification(1e-6));  // a tiny rate: the validation loss stalls
  Tensor x, y;
  blobs(x, y, 200, 784, 5);
  const std::string csv = ::testing::TempDir() + "/history.csv";
  auto stop = std::make_shared<EarlyStopping>(EarlyStoppingOptions{.monitor = "val_loss", .min_delta = 1.0, .patience = 1});
  std::ostringstream out;
  auto h = m.fit(x, y, {.batch_size = 50, .epochs = 20, .validation_split = 0.25,
                        .callbacks = {stop, std::make_shared<CSVLogger>(csv)}, .verbose = 2, .out = &out});
  EXPECT_LT(h.epochs().size(), 5u);
  EXPECT_NE(out.str().find("Epoch 1/20"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("val_accuracy"), std::string::npos) << out.str();
  std::ifstream in(csv);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate", 0), 0u) << header;
}

TEST(Model, SaveAndLoadWeightsRoundTripAndCheckShapes) {
  auto a = small_mlp(1), b = small_mlp(2);
  const std::string path = ::testing::TempDir() + "/weights.h5";
  a.save_weights(path);
  b.load_weights(path);
  EXPECT_EQ(0, std::memcmp(a.weights().data(), b.weights().data(), a.weights().size() * sizeof(float)));
  auto other = Sequential({784}, {layers::Dense({.units = 255}), layers::Dense({.units = 10})});
  try {
    other.load_weights(path);
    FAIL() << "a model of other shapes loaded the weights";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dense/kernel"), std::string::npos) << e.what();
  }
}

TEST(Model, ReduceLROnPlateauLowersTheRate) {
  auto m = small_mlp(2);
  m.compile(classification(1e-3));
  Tensor x, y;
  blobs(x, y, 100, 784, 6);
  auto plateau = std::make_shared<ReduceLROnPlateau>(
      ReduceLROnPlateauOptions{.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 100.0});
  m.fit(x, y, {.batch_size = 50, .epochs = 3, .callbacks = {plateau}, .verbose = 0});
  EXPECT_LT(m.optimizer().learning_rate(), 1e-3);
}

}  // namespace
}  // namespace dtrain
