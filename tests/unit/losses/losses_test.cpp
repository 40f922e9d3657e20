// Loss values and gradients against hand-computed numbers, numerical stability,
// label validation, names and shapes.
#include "dtrain/core/error.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "dtrain/losses.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace dtrain {
namespace {

using losses::LossConfig;

template <class T>
struct LossRun {
  std::vector<T> loss;  // per sample
  std::vector<T> grad;  // d(Σ_samples loss)/d y_pred
};

LossConfig config(const std::string& name, bool from_logits = false, double ls = 0, double delta = 1.0) {
  LossConfig c = losses::parse_loss(name);
  c.from_logits = from_logits;
  c.label_smoothing = ls;
  c.delta = delta;
  return c;
}

// Builds y_pred (needs a gradient) and y_true (labels), runs forward and backward of
// the summed per-sample loss.
template <class T>
LossRun<T> run(const LossConfig& c, const Shape& pred_shape, const std::vector<T>& pred,
               const std::vector<T>& truth, const Shape& true_shape = Shape{}) {
  graph::Graph<T> g;
  const auto p = g.input("y_pred", pred_shape, /*requires_grad=*/true);
  const auto t = g.input("y_true", true_shape.rank() ? true_shape : losses::y_true_shape(c, pred_shape));
  const auto per_sample = losses::per_sample_loss(g, p, t, c);
  EXPECT_EQ(g.shape(per_sample), (Shape{pred_shape[0]}));
  const auto total = graph::sum(g, per_sample);
  g.plan(pred_shape[0]);
  EXPECT_EQ(g.value(p).size(), static_cast<std::int64_t>(pred.size()));
  EXPECT_EQ(g.value(t).size(), static_cast<std::int64_t>(truth.size()));
  std::copy(pred.begin(), pred.end(), g.value(p).data);
  std::copy(truth.begin(), truth.end(), g.value(t).data);
  g.forward();
  g.backward(total);
  LossRun<T> r;
  auto l = g.value(per_sample);
  r.loss.assign(l.data, l.data + l.size());
  auto d = g.grad(p);
  r.grad.assign(d.data, d.data + d.size());
  return r;
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-9) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// Shared regression data, 2 samples of 3 values:
//   p = [[0.5, 1, -1], [2, 2, 2]],  t = [[0, 1, 1], [2, 3, 0]]
//   e = p - t = [[0.5, 0, -2], [0, -1, 2]]
const Shape kRegShape{2, 3};
const std::vector<double> kRegPred{0.5, 1, -1, 2, 2, 2};
const std::vector<double> kRegTrue{0, 1, 1, 2, 3, 0};

TEST(MeanSquaredError, HandComputed) {
  // row 0: (0.25 + 0 + 4) / 3 = 4.25/3; row 1: (0 + 1 + 4) / 3 = 5/3
  // d/dp = 2 e / 3
  const auto r = run<double>(config("mse"), kRegShape, kRegPred, kRegTrue);
  expect_near(r.loss, {4.25 / 3, 5.0 / 3});
  expect_near(r.grad, {1.0 / 3, 0, -4.0 / 3, 0, -2.0 / 3, 4.0 / 3});
}

TEST(MeanAbsoluteError, HandComputed) {
  // row 0: (0.5 + 0 + 2) / 3 = 2.5/3; row 1: (0 + 1 + 2) / 3 = 1
  // d/dp = sign(e) / 3, 0 where e = 0
  const auto r = run<double>(config("mae"), kRegShape, kRegPred, kRegTrue);
  expect_near(r.loss, {2.5 / 3, 1.0});
  expect_near(r.grad, {1.0 / 3, 0, -1.0 / 3, 0, -1.0 / 3, 1.0 / 3});
}

TEST(Huber, HandComputedDeltaOne) {
  // delta 1: |e| <= 1 -> e^2/2, else |e| - 1/2
  // row 0: 0.125 + 0 + (2 - 0.5) = 1.625 -> /3;  row 1: 0 + 0.5 (|e| = delta, quadratic side) + 1.5 = 2 -> /3
  // d/dp = clip(e, -1, 1) / 3
  const auto r = run<double>(config("huber"), kRegShape, kRegPred, kRegTrue);
  expect_near(r.loss, {1.625 / 3, 2.0 / 3});
  expect_near(r.grad, {0.5 / 3, 0, -1.0 / 3, 0, -1.0 / 3, 1.0 / 3});
}

TEST(Huber, HandComputedDeltaTwoAndAHalf) {
  // delta 2.5: every |e| <= 2.5 -> all quadratic: row 0 (0.125 + 0 + 2)/3, row 1 (0 + 0.5 + 2)/3
  // d/dp = e / 3
  const auto r = run<double>(config("huber", false, 0, 2.5), kRegShape, kRegPred, kRegTrue);
  expect_near(r.loss, {2.125 / 3, 2.5 / 3});
  expect_near(r.grad, {0.5 / 3, 0, -2.0 / 3, 0, -1.0 / 3, 2.0 / 3});
  // delta 0.25: |e| = 0.5 -> 0.25*0.5 - 0.03125 = 0.09375; |e| = 2 -> 0.5 - 0.03125 = 0.46875
  // row 0: (0.09375 + 0 + 0.46875)/3; row 1: (0 + 0.21875 + 0.46875)/3
  const auto s = run<double>(config("huber", false, 0, 0.25), kRegShape, kRegPred, kRegTrue);
  expect_near(s.loss, {0.5625 / 3, 0.6875 / 3});
  expect_near(s.grad, {0.25 / 3, 0, -0.25 / 3, 0, -0.25 / 3, 0.25 / 3});
}

TEST(BinaryCrossentropy, HandComputedProbabilities) {
  // p = [[0.9, 0.2]], t = [[1, 0]]: (-log 0.9 - log 0.8) / 2
  //   = (0.1053605157 + 0.2231435513) / 2 = 0.1642520335
  // d/dp = (p - t) / (p (1 - p)) / 2 = [-0.1/0.09, 0.2/0.16] / 2 = [-0.5555555556, 0.625]
  const auto r = run<double>(config("binary_crossentropy"), Shape{1, 2}, {0.9, 0.2}, {1, 0});
  expect_near(r.loss, {0.1642520335}, 1e-10);
  expect_near(r.grad, {-0.1 / 0.09 / 2, 0.625});
}

TEST(BinaryCrossentropy, ClipsProbabilitiesAtEpsilon) {
  // p = 0 with t = 1: c = 1e-7 -> -log(1e-7) = 16.1180956510; p = 1 with t = 1: c = 1 - 1e-7
  // -> -log(1 - 1e-7) ≈ 1.00000005e-7. Mean of the two; no gradient where clipped.
  const auto r = run<double>(config("binary_crossentropy"), Shape{1, 2}, {0.0, 1.0}, {1, 1});
  expect_near(r.loss, {(16.1180956510 - std::log(1 - 1e-7)) / 2}, 1e-9);
  expect_near(r.grad, {0, 0});
}

TEST(BinaryCrossentropy, HandComputedLogits) {
  // x = [[2, -1]], t = [[1, 0]]: max(x,0) - x t + log(1 + e^-|x|)
  //   x=2, t=1: log(1 + e^-2) = 0.1269280110;  x=-1, t=0: log(1 + e^-1) = 0.3132616875
  //   mean = 0.2200948493
  // d/dx = (sigmoid(x) - t) / 2 = [(0.8807970780 - 1)/2, 0.2689414214/2]
  const auto r = run<double>(config("binary_crossentropy", true), Shape{1, 2}, {2, -1}, {1, 0});
  expect_near(r.loss, {0.2200948493}, 1e-10);
  expect_near(r.grad, {(0.8807970780 - 1) / 2, 0.2689414214 / 2}, 1e-10);
}

TEST(BinaryCrossentropy, LabelSmoothing) {
  // ls = 0.2: t' = t 0.8 + 0.1 -> [0.9, 0.1]; p = [0.9, 0.2]
  //   -(0.9 log 0.9 + 0.1 log 0.1) = 0.0948244642 + 0.2302585093 = 0.3250829735
  //   -(0.1 log 0.2 + 0.9 log 0.8) = 0.1609437912 + 0.2008291962 = 0.3617729874
  //   mean = 0.3434279804
  // d/dp = (p - t') / (p(1-p)) / 2 = [0, 0.1/0.16/2 = 0.3125]
  const auto r = run<double>(config("binary_crossentropy", false, 0.2), Shape{1, 2}, {0.9, 0.2}, {1, 0});
  expect_near(r.loss, {0.3434279804}, 1e-10);
  expect_near(r.grad, {0, 0.3125});
  // From logits, same smoothing: x = [2, -1]; log(1+e^-x) terms shift by -x (t' - t):
  //   x=2, t'=0.9: 2 - 1.8 + 0.1269280110 = 0.3269280110
  //   x=-1, t'=0.1: 0 + 0.1 + 0.3132616875 = 0.4132616875   -> mean 0.3700948493
  const auto s = run<double>(config("binary_crossentropy", true, 0.2), Shape{1, 2}, {2, -1}, {1, 0});
  expect_near(s.loss, {0.3700948493}, 1e-10);
  expect_near(s.grad, {(0.8807970780 - 0.9) / 2, (0.2689414214 - 0.1) / 2}, 1e-10);
}

TEST(CategoricalCrossentropy, HandComputedProbabilities) {
  // p = [0.2, 0.3, 0.5], t = [0, 1, 0]: -log 0.3 = 1.2039728043
  // h = dL/dq = [0, -1/0.3, 0], Σ h q = -1, s = 1: d/dp = h + 1 = [1, -2.3333333333, 1]
  const auto r = run<double>(config("categorical_crossentropy"), Shape{1, 3}, {0.2, 0.3, 0.5}, {0, 1, 0});
  expect_near(r.loss, {1.2039728043}, 1e-10);
  expect_near(r.grad, {1, 1 - 1 / 0.3, 1});
  // Keras normalises by the sum first: p = [1, 1.5, 2.5] (s = 5) gives the same loss
  // and the gradient divided by s.
  const auto u = run<double>(config("categorical_crossentropy"), Shape{1, 3}, {1, 1.5, 2.5}, {0, 1, 0});
  expect_near(u.loss, {1.2039728043}, 1e-10);
  expect_near(u.grad, {0.2, (1 - 1 / 0.3) / 5, 0.2});
}

TEST(CategoricalCrossentropy, ClippedProbabilityIsFinite) {
  // q_y = 0: c = 1e-7, loss = -log(1e-7) = 16.1180956510, no gradient through the clip
  // (h = 0 everywhere, so d/dp = 0).
  const auto r = run<double>(config("categorical_crossentropy"), Shape{1, 3}, {0.5, 0, 0.5}, {0, 1, 0});
  expect_near(r.loss, {16.1180956510}, 1e-9);
  expect_near(r.grad, {0, 0, 0});
}

// Logits x = [1, 2, 3]: lse = log(e + e^2 + e^3) = 3.4076059644,
// softmax = [0.0900305732, 0.2447284711, 0.6652409558].
constexpr double kLse = 3.4076059644;
const std::vector<double> kSoftmax{0.0900305732, 0.2447284711, 0.6652409558};

TEST(CategoricalCrossentropy, HandComputedLogits) {
  // t = [0, 0, 1]: lse - 3 = 0.4076059644; d/dx = softmax - t
  const auto r = run<double>(config("categorical_crossentropy", true), Shape{1, 3}, {1, 2, 3}, {0, 0, 1});
  expect_near(r.loss, {kLse - 3}, 1e-10);
  expect_near(r.grad, {kSoftmax[0], kSoftmax[1], kSoftmax[2] - 1}, 1e-10);
}

TEST(CategoricalCrossentropy, LabelSmoothingLogits) {
  // ls = 0.3, K = 3: t' = t 0.7 + 0.1 = [0.1, 0.1, 0.8]
  // loss = Σ t'_j (lse - x_j) = 0.1 (lse-1) + 0.1 (lse-2) + 0.8 (lse-3) = lse - 2.7 = 0.7076059644
  // d/dx = softmax Σt' - t' = softmax - t'
  const auto r = run<double>(config("categorical_crossentropy", true, 0.3), Shape{1, 3}, {1, 2, 3}, {0, 0, 1});
  expect_near(r.loss, {kLse - 2.7}, 1e-10);
  expect_near(r.grad, {kSoftmax[0] - 0.1, kSoftmax[1] - 0.1, kSoftmax[2] - 0.8}, 1e-10);
}

TEST(CategoricalCrossentropy, LabelSmoothingProbabilities) {
  // ls = 0.3: t' = [0.1, 0.8, 0.1] for t = [0, 1, 0]; p = [0.2, 0.3, 0.5]
  // loss = -(0.1 log 0.2 + 0.8 log 0.3 + 0.1 log 0.5)
  //      = 0.1609437912 + 0.9631782435 + 0.0693147181 = 1.1934367528
  const auto r =
      run<double>(config("categorical_crossentropy", false, 0.3), Shape{1, 3}, {0.2, 0.3, 0.5}, {0, 1, 0});
  expect_near(r.loss, {1.1934367528}, 1e-9);
  // h = -t'/q = [-0.5, -8/3, -0.2], Σ h q = -Σ t' = -1: d/dp = h + 1
  expect_near(r.grad, {0.5, 1 - 8.0 / 3, 0.8});
}

TEST(SparseCategoricalCrossentropy, HandComputedLogits) {
  // Two samples, same logits [1, 2, 3], labels 2 and 0:
  //   lse - x_2 = 0.4076059644, lse - x_0 = 2.4076059644; d/dx = softmax - one_hot
  const auto r = run<double>(config("sparse_categorical_crossentropy", true), Shape{2, 3}, {1, 2, 3, 1, 2, 3},
                             {2, 0});
  expect_near(r.loss, {kLse - 3, kLse - 1}, 1e-10);
  expect_near(r.grad, {kSoftmax[0], kSoftmax[1], kSoftmax[2] - 1, kSoftmax[0] - 1, kSoftmax[1], kSoftmax[2]},
              1e-10);
}

TEST(SparseCategoricalCrossentropy, HandComputedProbabilities) {
  // p = [1, 1.5, 2.5] (s = 5, q = [0.2, 0.3, 0.5]), label 1: -log 0.3 = 1.2039728043
  // d/dp_i = -(1/q_y)([i == y] - q_y) / s = [0.2, (1 - 1/0.3)/5, 0.2]
  const auto r = run<double>(config("sparse_categorical_crossentropy"), Shape{1, 3}, {1, 1.5, 2.5}, {1});
  expect_near(r.loss, {1.2039728043}, 1e-10);
  expect_near(r.grad, {0.2, (1 - 1 / 0.3) / 5, 0.2});
}

TEST(SparseCategoricalCrossentropy, AveragesOverPositionsAndAcceptsTrailingOne) {
  // y_pred [1, 2, 3]: one sample, two positions of 3 classes, labels [2, 0]:
  // (0.4076059644 + 2.4076059644) / 2; labels given as [1, 2, 1] (Keras' trailing 1).
  const auto r = run<double>(config("sparse_categorical_crossentropy", true), Shape{1, 2, 3},
                             {1, 2, 3, 1, 2, 3}, {2, 0}, Shape{1, 2, 1});
  expect_near(r.loss, {kLse - 2}, 1e-10);
  expect_near(r.grad, {kSoftmax[0] / 2, kSoftmax[1] / 2, (kSoftmax[2] - 1) / 2, (kSoftmax[0] - 1) / 2,
                       kSoftmax[1] / 2, kSoftmax[2] / 2},
              1e-10);
}

TEST(Regression, AveragesOverEveryNonBatchAxis) {
  // [1, 2, 2] MSE: e = [1, -1, 2, 0] -> (1 + 1 + 4 + 0) / 4 = 1.5, d/dp = 2e/4
  const auto r = run<double>(config("mse"), Shape{1, 2, 2}, {1, 0, 2, 3}, {0, 1, 0, 3});
  expect_near(r.loss, {1.5});
  expect_near(r.grad, {0.5, -0.5, 1, 0});
}

// ---- sequences: [batch, time, ...] against Keras 3 ---------------------------------

// Printed by tests/reference/sequence_losses_reference.py (Keras 3's formulas in plain
// Python; the derivation is in the script). *PerSample: dtrain's per-sample loss, the
// mean over time; *Keras: Keras' "sum_over_batch_size" value, the mean over batch * time.
const std::vector<double> kScceLogitsPerSample{1.840068851636455, 1.0868146771611822};
const std::vector<double> kScceLogitsKeras{1.4634417643988185};
const std::vector<double> kScceProbsPerSample{6.005071878614735, 0.973874767133423};
const std::vector<double> kScceProbsKeras{3.4894733228740784};
const std::vector<double> kMsePerSample{1.4270833333333333, 1.0859375};
const std::vector<double> kMseKeras{1.2565104166666667};

const Shape kSeqShape{2, 3, 4};  // [batch, time, vocab]
const std::vector<double> kSeqLogits{1.5,  -0.25, 0.75, 2.0,  -1.0, 0.5, 0.0,   -2.5, 3.0, 1.0,  -1.0, 0.25,
                                     0.0,  0.0,   0.0,  0.0,  -0.5, 2.25, 1.75, -3.0, 0.125, 1.5, -0.75, 1.5};
const std::vector<double> kSeqLabels{3, 1, 2, 0, 2, 3};
const std::vector<double> kSeqProbs{0.1,  0.2, 0.3,  0.4,  0.5, 0.25, 0.125, 0.125, 0.9, 0.05, 0.05, 0.0,
                                    1.0,  2.0, 3.0,  4.0,  0.25, 0.25, 0.25, 0.25, 0.7, 0.1,  0.2,  0.3};
const std::vector<double> kSeqProbLabels{2, 0, 3, 3, 1, 0};

// What the model reports: the sum of per-sample losses over the sample count.
double model_mean(const std::vector<double>& per_sample) {
  double s = 0;
  for (double v : per_sample) s += v;
  return s / static_cast<double>(per_sample.size());
}

TEST(Sequences, SparseCrossentropyOnLogitsMatchesKeras) {
  const auto r = run<double>(config("sparse_categorical_crossentropy", true), kSeqShape, kSeqLogits, kSeqLabels);
  expect_near(r.loss, kScceLogitsPerSample, 1e-14);
  EXPECT_NEAR(model_mean(r.loss), kScceLogitsKeras[0], 1e-14);
}

TEST(Sequences, SparseCrossentropyOnProbabilitiesMatchesKeras) {
  // Sample 0, time 2: the label's probability is 0, clipped to 1e-7.
  const auto r = run<double>(config("sparse_categorical_crossentropy"), kSeqShape, kSeqProbs, kSeqProbLabels);
  expect_near(r.loss, kScceProbsPerSample, 1e-14);
  EXPECT_NEAR(model_mean(r.loss), kScceProbsKeras[0], 1e-14);
  // Labels [batch, time, 1] (Keras' trailing 1) give the same values.
  const auto t1 = run<double>(config("sparse_categorical_crossentropy"), kSeqShape, kSeqProbs, kSeqProbLabels,
                              Shape{2, 3, 1});
  EXPECT_EQ(t1.loss, r.loss);
}

TEST(Sequences, MeanSquaredErrorMatchesKeras) {
  const auto r = run<double>(config("mse"), Shape{2, 3, 2},
                             {0.5, -1.0, 2.0, 0.25, 1.5, 1.5, -0.75, 0.0, 3.0, -2.0, 0.125, 0.5},
                             {0.0, 1.0, 2.0, 0.0, 1.0, -0.5, 0.25, 0.5, 1.0, -1.0, 0.0, 0.0});
  expect_near(r.loss, kMsePerSample, 1e-14);
  EXPECT_NEAR(model_mean(r.loss), kMseKeras[0], 1e-14);
}

TEST(Sequences, BadTokenLabelNamesRowAndPosition) {
  std::vector<double> labels = kSeqLabels;
  labels[4] = 7;  // sample 1, time 1
  try {
    run<double>(config("sparse_categorical_crossentropy", true), kSeqShape, kSeqLogits, labels);
    ADD_FAILURE() << "no error";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("label 7 at row 1, position 1"), std::string::npos) << e.what();
  }
}

// ---- numerical stability (float) -------------------------------------------------

void expect_finite(const LossRun<float>& r) {
  for (float v : r.loss) EXPECT_TRUE(std::isfinite(v)) << "loss " << v;
  for (float v : r.grad) EXPECT_TRUE(std::isfinite(v)) << "gradient " << v;
}

TEST(Stability, SparseLogitsOfTenThousand) {
  // Confidently wrong: softmax = one-hot of the 1e4 entry; loss = 1e4 - (-1e4) = 2e4;
  // gradient = softmax - one_hot(label).
  const auto r = run<float>(config("sparse_categorical_crossentropy", true), Shape{2, 3},
                            {1e4f, -1e4f, 0.f, -1e4f, 1e4f, -1e4f}, {1, 0});
  expect_finite(r);
  EXPECT_FLOAT_EQ(r.loss[0], 2e4f);
  EXPECT_FLOAT_EQ(r.loss[1], 2e4f);
  const std::vector<float> want{1, -1, 0, -1, 1, 0};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(r.grad[i], want[i], 1e-6f) << i;
  // Confidently right: loss 0, gradient 0.
  const auto ok = run<float>(config("sparse_categorical_crossentropy", true), Shape{1, 3}, {1e4f, -1e4f, 0.f}, {0});
  expect_finite(ok);
  EXPECT_EQ(ok.loss[0], 0.f);
}

TEST(Stability, CategoricalLogitsOfTenThousand) {
  for (double ls : {0.0, 0.1}) {
    const auto r = run<float>(config("categorical_crossentropy", true, ls), Shape{2, 3},
                              {1e4f, -1e4f, 0.f, -1e4f, 1e4f, -1e4f}, {0, 1, 0, 1, 0, 0});
    expect_finite(r);
    // ls = 0: 2e4 per sample; ls = 0.1: t' = [0.0333, 0.9333, 0.0333] on row 0
    // -> 0.9333 * 2e4 + 0.0333 * 1e4 = 19000 (lse = 1e4).
    EXPECT_NEAR(r.loss[0], ls == 0 ? 2e4 : 19000, 0.02) << "ls " << ls;
  }
}

TEST(Stability, BinaryLogitsOfTenThousand) {
  // x = 1e4, t = 0: 1e4 - 0 + log1p(e^-1e4) = 1e4;  x = -1e4, t = 1: 0 + 1e4 + 0 = 1e4
  // d/dx = (sigmoid(x) - t) / 2 = [0.5, -0.5]
  const auto r = run<float>(config("binary_crossentropy", true), Shape{1, 2}, {1e4f, -1e4f}, {0, 1});
  expect_finite(r);
  EXPECT_FLOAT_EQ(r.loss[0], 1e4f);
  EXPECT_FLOAT_EQ(r.grad[0], 0.5f);
  EXPECT_FLOAT_EQ(r.grad[1], -0.5f);
}

TEST(Stability, ProbabilityLossesAtZeroAndOne) {
  expect_finite(run<float>(config("binary_crossentropy"), Shape{1, 2}, {0.f, 1.f}, {1, 0}));
  expect_finite(run<float>(config("categorical_crossentropy"), Shape{1, 3}, {1.f, 0.f, 0.f}, {0, 1, 0}));
  expect_finite(run<float>(config("sparse_categorical_crossentropy"), Shape{1, 3}, {1.f, 0.f, 0.f}, {2}));
}

TEST(Determinism, SameBitsWithOneOrThreeThreads) {
  // 5000 samples of 10 logits: several row blocks.
  const std::int64_t n = 5000, k = 10;
  std::vector<float> x(static_cast<std::size_t>(n * k)), y(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i)) * 7.f;
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(i % 10);
  const auto cfg = config("sparse_categorical_crossentropy", true);
  LossRun<float> one, three;
  {
    kernels::ThreadScope t(1);
    t.run([&] { one = run<float>(cfg, Shape{n, k}, x, y); });
  }
  {
    kernels::ThreadScope t(3);
    t.run([&] { three = run<float>(cfg, Shape{n, k}, x, y); });
  }
  EXPECT_EQ(one.loss, three.loss);
  EXPECT_EQ(one.grad, three.grad);
}

// ---- bad labels ------------------------------------------------------------------

std::string sparse_error(const Shape& pred_shape, const std::vector<float>& labels, bool from_logits) {
  std::vector<float> pred(static_cast<std::size_t>(pred_shape.numel()), 0.25f);
  try {
    run<float>(config("sparse_categorical_crossentropy", from_logits), pred_shape, pred, labels);
  } catch (const ArgumentError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SparseLabels, OutOfRangeThrowsNamingRowAndValue) {
  for (bool logits : {true, false}) {
    EXPECT_EQ(sparse_error(Shape{3, 4}, {0, 4, 1}, logits),
              "sparse_categorical_crossentropy: label 4 at row 1 is not a class id in [0, 4)");
    EXPECT_EQ(sparse_error(Shape{3, 4}, {0, 1, -1}, logits),
              "sparse_categorical_crossentropy: label -1 at row 2 is not a class id in [0, 4)");
  }
}

TEST(SparseLabels, NonIntegerAndNaNThrow) {
  EXPECT_EQ(sparse_error(Shape{3, 4}, {2.5f, 1, 1}, true),
            "sparse_categorical_crossentropy: label 2.5 at row 0 is not a class id in [0, 4)");
  EXPECT_EQ(sparse_error(Shape{2, 4}, {1, NAN}, true),
            "sparse_categorical_crossentropy: label nan at row 1 is not a class id in [0, 4)");
  // Several positions per sample: the position is named too.
  EXPECT_EQ(sparse_error(Shape{2, 3, 4}, {0, 1, 2, 3, 9, 0}, true),
            "sparse_categorical_crossentropy: label 9 at row 1, position 1 is not a class id in [0, 4)");
}

TEST(SparseLabels, DoubleGraphChecksToo) {
  EXPECT_THROW(run<double>(config("sparse_categorical_crossentropy"), Shape{1, 3}, {0.2, 0.3, 0.5}, {3}),
               ArgumentError);
}

// ---- names, configs and shapes ---------------------------------------------------

TEST(ParseLoss, KerasNamesAndAliases) {
  EXPECT_EQ(losses::parse_loss("mse").name, "mean_squared_error");
  EXPECT_EQ(losses::parse_loss("MSE").name, "mean_squared_error");
  EXPECT_EQ(losses::parse_loss("MeanSquaredError").name, "mean_squared_error");
  EXPECT_EQ(losses::parse_loss("mae").name, "mean_absolute_error");
  EXPECT_EQ(losses::parse_loss("huber_loss").name, "huber");
  EXPECT_EQ(losses::parse_loss("SparseCategoricalCrossentropy").name, "sparse_categorical_crossentropy");
  for (const auto& n : losses::loss_names()) EXPECT_EQ(losses::parse_loss(n).name, n);
  const LossConfig d = losses::parse_loss("huber");
  EXPECT_FALSE(d.from_logits);
  EXPECT_EQ(d.label_smoothing, 0);
  EXPECT_EQ(d.delta, 1.0);
}

TEST(ParseLoss, UnknownNameListsValidOnes) {
  try {
    losses::parse_loss("crossentropy");
    FAIL() << "no error";
  } catch (const ArgumentError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown loss 'crossentropy'"), std::string::npos) << msg;
    for (const auto& n : losses::loss_names()) EXPECT_NE(msg.find(n), std::string::npos) << msg;
    EXPECT_NE(msg.find("(mse"), std::string::npos) << msg;
  }
}

TEST(Validate, RejectsMisplacedOrBadOptions) {
  EXPECT_THROW(losses::validate(config("mse", true)), ArgumentError);
  EXPECT_THROW(losses::validate(config("sparse_categorical_crossentropy", false, 0.1)), ArgumentError);
  EXPECT_THROW(losses::validate(config("categorical_crossentropy", false, 1.5)), ArgumentError);
  EXPECT_THROW(losses::validate(config("binary_crossentropy", false, -0.1)), ArgumentError);
  EXPECT_THROW(losses::validate(config("huber", false, 0, 0.0)), ArgumentError);
  EXPECT_THROW(losses::validate(LossConfig{"nope"}), ArgumentError);
  EXPECT_EQ(losses::validate(LossConfig{"mae"}).name, "mean_absolute_error");
  try {
    losses::validate(config("categorical_crossentropy", false, 1.5));
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("label_smoothing must be in [0, 1], got 1.5"), std::string::npos)
        << e.what();
  }
}

TEST(Shapes, LabelShapes) {
  const auto sparse = losses::parse_loss("sparse_categorical_crossentropy");
  EXPECT_EQ(losses::y_true_shape(sparse, Shape{graph::kBatch, 10}), (Shape{graph::kBatch}));
  EXPECT_EQ(losses::y_true_shape(sparse, Shape{graph::kBatch, 5, 10}), (Shape{graph::kBatch, 5}));
  EXPECT_THROW(losses::y_true_shape(sparse, Shape{graph::kBatch}), ShapeError);
  EXPECT_EQ(losses::y_true_shape(losses::parse_loss("categorical_crossentropy"), Shape{graph::kBatch, 10}),
            (Shape{graph::kBatch, 10}));
  EXPECT_EQ(losses::y_true_shape(losses::parse_loss("mse"), Shape{graph::kBatch, 3, 2}),
            (Shape{graph::kBatch, 3, 2}));
}

TEST(Shapes, MismatchedLabelsThrowAtBuildTime) {
  graph::Graph<float> g;
  const auto p = g.input("y_pred", {graph::kBatch, 10}, true);
  const auto wrong = g.input("y_true", {graph::kBatch, 9});
  EXPECT_THROW(losses::per_sample_loss(g, p, wrong, losses::parse_loss("categorical_crossentropy")), ShapeError);
  EXPECT_THROW(losses::per_sample_loss(g, p, wrong, losses::parse_loss("sparse_categorical_crossentropy")),
               ShapeError);
  EXPECT_THROW(losses::per_sample_loss(g, p, wrong, losses::parse_loss("mse")), ShapeError);
  const auto flat = g.input("flat", {graph::kBatch});
  EXPECT_THROW(losses::per_sample_loss(g, flat, flat, losses::parse_loss("categorical_crossentropy")), ShapeError);
  // [b, 1] predictions with [b] labels: Keras' trailing 1.
  const auto one = g.input("one", {graph::kBatch, 1}, true);
  EXPECT_NO_THROW(losses::per_sample_loss(g, one, flat, losses::parse_loss("binary_crossentropy")));
}

std::string label_shape_error(const std::string& loss, const Shape& pred, const Shape& labels) {
  try {
    losses::check_label_shape(losses::parse_loss(loss), pred, labels);
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Shapes, CheckLabelShapeNamesBothShapes) {
  const auto b = graph::kBatch;
  const std::string sparse = "sparse_categorical_crossentropy";
  EXPECT_EQ(label_shape_error(sparse, {b, 5, 10}, {b, 5}), "no error");
  EXPECT_EQ(label_shape_error(sparse, {b, 5, 10}, {8, 5, 1}), "no error");  // a concrete batch, trailing 1
  EXPECT_EQ(label_shape_error("mse", {b, 5, 3}, {b, 5, 3}), "no error");
  EXPECT_EQ(label_shape_error("mse", {b, 1}, {b}), "no error");
  EXPECT_EQ(label_shape_error(sparse, {b, 5, 10}, {b, 4}),
            "sparse_categorical_crossentropy: labels of shape [batch, 4] do not fit predictions of shape "
            "[batch, 5, 10], which need labels [batch, 5]");
  EXPECT_EQ(label_shape_error("mse", {b, 2, 3}, {b, 6}),
            "mean_squared_error: labels of shape [batch, 6] do not fit predictions of shape [batch, 2, 3], "
            "which need labels [batch, 2, 3]");
  // Dense after Conv2D without Flatten predicts per pixel: the hint says so.
  const auto msg = label_shape_error(sparse, {b, 26, 26, 10}, {b});
  EXPECT_EQ(msg.find("sparse_categorical_crossentropy: labels of shape [batch] do not fit predictions of shape "
                     "[batch, 26, 26, 10], which need labels [batch, 26, 26] ("),
            0u)
      << msg;
  EXPECT_NE(msg.find("add a Flatten layer before the Dense layers"), std::string::npos) << msg;
  // Regression per pixel against one target per sample: the same hint.
  const auto reg = label_shape_error("mse", {b, 26, 26, 1}, {b, 1});
  EXPECT_NE(reg.find("which need labels [batch, 26, 26, 1] (the model predicts at every position"),
            std::string::npos)
      << reg;
}

TEST(Shapes, LabelsMustNotRequireGradient) {
  graph::Graph<float> g;
  const auto p = g.input("y_pred", {graph::kBatch, 3}, true);
  const auto t = g.input("y_true", {graph::kBatch, 3}, /*requires_grad=*/true);
  EXPECT_THROW(losses::per_sample_loss(g, p, t, losses::parse_loss("mse")), ArgumentError);
}

}  // namespace
}  // namespace dtrain
