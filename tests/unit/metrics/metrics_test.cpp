// Metrics against hand-computed cases, the factory's name resolution, shape errors,
// and the state-merge property (states of parts summed = state of the whole).
#include "dtrain/core/error.hpp"
#include "dtrain/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace dtrain {
namespace {

using metrics::Metric;

View<const float> view(const std::vector<float>& v, const Shape& s) {
  EXPECT_EQ(static_cast<std::int64_t>(v.size()), s.numel());
  return {v.data(), s};
}

losses::LossConfig loss(const std::string& name, bool from_logits = false) {
  auto c = losses::parse_loss(name);
  c.from_logits = from_logits;
  return c;
}

// ---- hand-computed cases -----------------------------------------------------------

TEST(Accuracy, EqualityOfElements) {
  // [[1, 2], [3, 4]] vs [[1, 2], [0, 4]]: 3 of 4 equal
  metrics::Accuracy m;
  m.update(view({1, 2, 3, 4}, {2, 2}), view({1, 2, 0, 4}, {2, 2}));
  EXPECT_DOUBLE_EQ(m.result(), 0.75);
  EXPECT_EQ(m.state(), (std::vector<double>{3, 4}));
  EXPECT_EQ(m.name(), "accuracy");
}

TEST(BinaryAccuracy, StrictThreshold) {
  // y_pred > 0.5 -> [1, 0, 0, 0] (0.5 is not above 0.5); y_true [1, 0, 1, 0]: 3 of 4
  metrics::BinaryAccuracy m;
  m.update(view({1, 0, 1, 0}, {4, 1}), view({0.7f, 0.5f, 0.5f, 0.2f}, {4, 1}));
  EXPECT_DOUBLE_EQ(m.result(), 0.75);
  // y_true [b] with y_pred [b, 1] (Keras squeezes the trailing 1): one more batch,
  // y_pred [0.9, 0.1] -> [1, 0] vs [1, 1]: 1 of 2. Total 4 of 6.
  m.update(view({1, 1}, {2}), view({0.9f, 0.1f}, {2, 1}));
  EXPECT_DOUBLE_EQ(m.result(), 4.0 / 6);
  // A soft label never equals 0 or 1.
  metrics::BinaryAccuracy soft;
  soft.update(view({0.9f}, {1, 1}), view({0.95f}, {1, 1}));
  EXPECT_DOUBLE_EQ(soft.result(), 0);
}

TEST(BinaryAccuracy, ThresholdZeroOnLogits) {
  // logits [2, -1, 0, -3] > 0 -> [1, 0, 0, 0]; y_true [1, 0, 1, 0]: 3 of 4
  metrics::BinaryAccuracy m(0.0);
  m.update(view({1, 0, 1, 0}, {4, 1}), view({2, -1, 0, -3}, {4, 1}));
  EXPECT_DOUBLE_EQ(m.result(), 0.75);
}

TEST(CategoricalAccuracy, FirstMaximumWinsTies) {
  // y_pred rows: [0.4, 0.4, 0.2] -> argmax 0 (first of the tie); [0.1, 0.2, 0.7] -> 2;
  //              [0.3, 0.3, 0.3] -> 0
  // y_true rows: one-hot 0 (hit), one-hot 2 (hit), one-hot 1 (miss): 2 of 3
  metrics::CategoricalAccuracy m;
  m.update(view({1, 0, 0, 0, 0, 1, 0, 1, 0}, {3, 3}), view({0.4f, 0.4f, 0.2f, 0.1f, 0.2f, 0.7f, 0.3f, 0.3f, 0.3f}, {3, 3}));
  EXPECT_DOUBLE_EQ(m.result(), 2.0 / 3);
  EXPECT_EQ(m.state(), (std::vector<double>{2, 3}));
  // Same prediction [0.4, 0.4, 0.2] with the target on the second tied class: a miss.
  metrics::CategoricalAccuracy tie;
  tie.update(view({0, 1, 0}, {1, 3}), view({0.4f, 0.4f, 0.2f}, {1, 3}));
  EXPECT_DOUBLE_EQ(tie.result(), 0);
}

TEST(SparseCategoricalAccuracy, ClassIdsAndBadLabels) {
  // argmax rows: [0.4,0.4,0.2] -> 0, [0.1,0.2,0.7] -> 2, [0.5,0.3,0.2] -> 0, [0.2,0.5,0.3] -> 1,
  //              [0.9,0.05,0.05] -> 0
  // labels:       0 (hit),           2 (hit),           1 (miss),          1.5 (not an id: miss),
  //              7 (out of range: miss)                 -> 2 of 5
  const std::vector<float> p{0.4f, 0.4f, 0.2f, 0.1f, 0.2f, 0.7f, 0.5f, 0.3f, 0.2f, 0.2f, 0.5f, 0.3f, 0.9f, 0.05f, 0.05f};
  metrics::SparseCategoricalAccuracy m;
  m.update(view({0, 2, 1, 1.5f, 7}, {5}), view(p, {5, 3}));
  EXPECT_DOUBLE_EQ(m.result(), 0.4);
  // Labels shaped [b, 1] are accepted.
  metrics::SparseCategoricalAccuracy col;
  col.update(view({0, 2, 1, 1, 0}, {5, 1}), view(p, {5, 3}));
  EXPECT_DOUBLE_EQ(col.result(), 0.8);  // rows 0, 1, 3, 4 hit
}

TEST(SparseCategoricalAccuracy, PerTokenOnSequencesMatchesKeras) {
  // [batch 2, time 3, vocab 4] logits and [2, 3] labels from
  // tests/reference/sequence_losses_reference.py: Keras averages the per-token hits over
  // time per sample, then over samples (equal lengths: the mean over all 6 tokens).
  // Hits: sample 0 [1, 1, 0], sample 1 [1, 0, 0] (a tie of classes 1 and 3: the first wins).
  const double kTokenAccuracy = 0.5;
  const std::vector<float> logits{1.5f, -0.25f, 0.75f, 2.0f,  -1.0f, 0.5f, 0.0f,   -2.5f,
                                  3.0f, 1.0f,   -1.0f, 0.25f, 0.0f,  0.0f, 0.0f,   0.0f,
                                  -0.5f, 2.25f, 1.75f, -3.0f, 0.125f, 1.5f, -0.75f, 1.5f};
  metrics::SparseCategoricalAccuracy m;
  m.update(view({3, 1, 2, 0, 2, 3}, {2, 3}), view(logits, {2, 3, 4}));
  EXPECT_DOUBLE_EQ(m.result(), kTokenAccuracy);
  EXPECT_EQ(m.state(), (std::vector<double>{3, 6}));  // hits, tokens
  // "accuracy" with the sparse loss resolves to the same metric; [2, 3, 1] labels too.
  auto acc = metrics::make_metric("accuracy", loss("sparse_categorical_crossentropy", true));
  acc->update(view({3, 1, 2, 0, 2, 3}, {2, 3, 1}), view(logits, {2, 3, 4}));
  EXPECT_DOUBLE_EQ(acc->result(), kTokenAccuracy);
  // Labels that do not match the leading axes: both shapes named.
  try {
    m.update(view({3, 1, 2, 0, 2, 3}, {3, 2}), view(logits, {2, 3, 4}));
    ADD_FAILURE() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_EQ(std::string(e.what()),
              "sparse_categorical_accuracy: y_true [3, 2] and y_pred [2, 3, 4] do not fit; expected y_true of "
              "shape [2, 3] (class ids)");
  }
}

TEST(Regression, MeanSquaredErrorOnSequences) {
  // [2, 3, 2] from tests/reference/sequence_losses_reference.py: the mean over every
  // element, as Keras' mean over the last axis and then over batch * time.
  metrics::MeanSquaredError m;
  m.update(view({0.0f, 1.0f, 2.0f, 0.0f, 1.0f, -0.5f, 0.25f, 0.5f, 1.0f, -1.0f, 0.0f, 0.0f}, {2, 3, 2}),
           view({0.5f, -1.0f, 2.0f, 0.25f, 1.5f, 1.5f, -0.75f, 0.0f, 3.0f, -2.0f, 0.125f, 0.5f}, {2, 3, 2}));
  EXPECT_NEAR(m.result(), 1.2565104166666667, 1e-12);  // kMseKeras; every input exact in float
}

TEST(TopK, TiesFavourTheTarget) {
  // scores [0.1, 0.5, 0.3, 0.1], k = 2:
  //   target 2: one score (0.5) above it -> hit
  //   target 0: two scores (0.5, 0.3) above it -> miss
  //   target 3: two above it (0.1 of class 0 is a tie, not above) -> miss
  metrics::SparseTopKCategoricalAccuracy k2(2);
  const std::vector<float> row{0.1f, 0.5f, 0.3f, 0.1f};
  std::vector<float> p;
  for (int i = 0; i < 3; ++i) p.insert(p.end(), row.begin(), row.end());
  k2.update(view({2, 0, 3}, {3}), view(p, {3, 4}));
  EXPECT_EQ(k2.state(), (std::vector<double>{1, 3}));
  // k = 3: all three have fewer than 3 scores above them -> 3 of 3
  metrics::SparseTopKCategoricalAccuracy k3(3);
  k3.update(view({2, 0, 3}, {3}), view(p, {3, 4}));
  EXPECT_DOUBLE_EQ(k3.result(), 1.0);
  // A three-way tie at the top with k = 1: none above the target -> hit.
  metrics::SparseTopKCategoricalAccuracy k1(1);
  k1.update(view({2}, {1}), view({0.5f, 0.5f, 0.5f, 0.1f}, {1, 4}));
  EXPECT_DOUBLE_EQ(k1.result(), 1.0);
}

TEST(TopK, DenseTargetsAndDefaultK) {
  // 7 classes, scores 0..6 for classes 0..6 (class 6 best). k = 5 (default):
  // target 2 has 4 above (3,4,5,6) -> hit; target 1 has 5 above -> miss.
  const std::vector<float> row{0, 1, 2, 3, 4, 5, 6};
  std::vector<float> p(row);
  p.insert(p.end(), row.begin(), row.end());
  std::vector<float> t(14, 0.f);
  t[2] = 1;      // row 0: class 2
  t[7 + 1] = 1;  // row 1: class 1
  metrics::TopKCategoricalAccuracy m;
  m.update(view(t, {2, 7}), view(p, {2, 7}));
  EXPECT_EQ(m.state(), (std::vector<double>{1, 2}));
}

TEST(Regression, MeanSquaredAndAbsoluteError) {
  // y_true [0, 1, 2, 3], y_pred [1, 1, 0, 3]: e = [1, 0, -2, 0]
  // mse = (1 + 0 + 4 + 0) / 4 = 1.25, mae = (1 + 0 + 2 + 0) / 4 = 0.75
  metrics::MeanSquaredError mse;
  metrics::MeanAbsoluteError mae;
  mse.update(view({0, 1, 2, 3}, {2, 2}), view({1, 1, 0, 3}, {2, 2}));
  mae.update(view({0, 1, 2, 3}, {2, 2}), view({1, 1, 0, 3}, {2, 2}));
  EXPECT_DOUBLE_EQ(mse.result(), 1.25);
  EXPECT_DOUBLE_EQ(mae.result(), 0.75);
  EXPECT_EQ(mse.state(), (std::vector<double>{5, 4}));
  EXPECT_EQ(mae.state(), (std::vector<double>{3, 4}));
}

TEST(PrecisionRecall, HandComputed) {
  // y_true [1, 0, 1, 1, 0, 0], y_pred [0.9, 0.8, 0.3, 0.6, 0.7, 0.5]
  // predicted positive (> 0.5): items 0, 1, 3, 4 (0.5 is not above)
  // tp = {0, 3} = 2, fp = {1, 4} = 2, fn = {2} = 1
  // precision = 2 / 4 = 0.5, recall = 2 / 3
  const std::vector<float> t{1, 0, 1, 1, 0, 0}, p{0.9f, 0.8f, 0.3f, 0.6f, 0.7f, 0.5f};
  metrics::Precision prec;
  metrics::Recall rec;
  prec.update(view(t, {6}), view(p, {6}));
  rec.update(view(t, {6}), view(p, {6}));
  EXPECT_DOUBLE_EQ(prec.result(), 0.5);
  EXPECT_DOUBLE_EQ(rec.result(), 2.0 / 3);
  EXPECT_EQ(prec.state(), (std::vector<double>{2, 2}));
  EXPECT_EQ(rec.state(), (std::vector<double>{2, 1}));
  // The same on logits: x = log(p / (1 - p)), positive when x > 0.
  std::vector<float> x;
  for (float v : p) x.push_back(static_cast<float>(std::log(v / (1.0 - v))));
  metrics::Precision lprec(0.5, true);
  metrics::Recall lrec(0.5, true);
  lprec.update(view(t, {6}), view(x, {6}));
  lrec.update(view(t, {6}), view(x, {6}));
  EXPECT_EQ(lprec.state(), prec.state());
  EXPECT_EQ(lrec.state(), rec.state());
  // Nothing predicted positive: precision 0 (divide_no_nan), not NaN.
  metrics::Precision none;
  none.update(view({1, 0}, {2}), view({0.1f, 0.2f}, {2}));
  EXPECT_EQ(none.result(), 0);
  // A non-zero label is positive (Keras casts y_true to bool): 0.3 counts as positive.
  metrics::Recall soft;
  soft.update(view({0.3f}, {1}), view({0.9f}, {1}));
  EXPECT_EQ(soft.result(), 1);
}

TEST(AUC, DistinctScoresGiveTheExactAuc) {
  // y_true [0, 0, 1, 1], y_pred [0.1, 0.4, 0.35, 0.8]; buckets ceil(199 p) - 1 = 19, 79, 69, 159
  // are distinct, so the trapezoids follow the exact ROC: (0,0) -> 0.8 pos (0, .5)
  // -> 0.4 neg (.5, .5) -> 0.35 pos (.5, 1) -> 0.1 neg (1, 1): area 0.5*0.5 + 0.5*1 = 0.75
  // (= Mann-Whitney: 3 of the 4 positive/negative pairs ordered right).
  metrics::AUC m;
  m.update(view({0, 0, 1, 1}, {4}), view({0.1f, 0.4f, 0.35f, 0.8f}, {4}));
  EXPECT_NEAR(m.result(), 0.75, 1e-12);
  EXPECT_EQ(m.state_size(), 402u);
  // State: tp_i counts positives with bucket >= i: tp_0..tp_69 = 2, tp_70..tp_159 = 1, then 0.
  const auto s = m.state();
  EXPECT_EQ(s[0], 2);
  EXPECT_EQ(s[69], 2);
  EXPECT_EQ(s[70], 1);
  EXPECT_EQ(s[159], 1);
  EXPECT_EQ(s[160], 0);
  EXPECT_EQ(s[200 + 19], 2);  // fp_19: both negatives (buckets 19 and 79)
  EXPECT_EQ(s[200 + 20], 1);
  EXPECT_EQ(s[400], 2);       // positives
  EXPECT_EQ(s[401], 2);       // negatives
}

TEST(AUC, ScoresSharingABucketCountAsTies) {
  // 0.4 and 0.401 both fall in bucket 79 (79.6 and 79.8 round up to 80): the ROC goes
  // straight from (0,0) to (1,1) over that bucket: 0.5, where the exact AUC is 1.
  metrics::AUC tie;
  tie.update(view({0, 1}, {2}), view({0.4f, 0.401f}, {2}));
  EXPECT_NEAR(tie.result(), 0.5, 1e-12);
  // Four items: pairs (0.401 vs 0.1) right, (0.401 vs 0.4) tie = 1/2, (0.8 vs both) right:
  // (1 + 0.5 + 1 + 1) / 4 = 0.875
  metrics::AUC m;
  m.update(view({0, 0, 1, 1}, {4}), view({0.1f, 0.4f, 0.401f, 0.8f}, {4}));
  EXPECT_NEAR(m.result(), 0.875, 1e-12);
}

TEST(AUC, EdgesLogitsAndDegenerateLabels) {
  // p = 1 (positive) and p = 0 (negative): buckets 198 and 0: perfect separation -> 1.
  // Out-of-range scores are clipped to [0, 1] first.
  metrics::AUC m;
  m.update(view({1, 0, 1, 0}, {4}), view({1.f, 0.f, 3.f, -2.f}, {4}));
  EXPECT_NEAR(m.result(), 1.0, 1e-12);
  // From logits: sigmoid first; the logits of [0.1, 0.4, 0.35, 0.8] give 0.75 again.
  metrics::AUC l(200, true);
  std::vector<float> x;
  for (double p : {0.1, 0.4, 0.35, 0.8}) x.push_back(static_cast<float>(std::log(p / (1 - p))));
  l.update(view({0, 0, 1, 1}, {4}), view(x, {4}));
  EXPECT_NEAR(l.result(), 0.75, 1e-12);
  // Only positives: fpr is 0 everywhere -> 0 (Keras' divide_no_nan), not NaN.
  metrics::AUC pos;
  pos.update(view({1, 1}, {2}), view({0.2f, 0.9f}, {2}));
  EXPECT_EQ(pos.result(), 0);
  // Few thresholds: T = 3 -> t = [-1e-7, 0.5, 1 + 1e-7]; scores 0.2 (neg), 0.7 (pos), 0.6 (neg)
  // buckets: ceil(2p) - 1 = 0, 1, 1: points (fpr, tpr) = (1, 1), (0.5, 1), (0, 0):
  // (1 - 0.5)(1 + 1)/2 + (0.5 - 0)(1 + 0)/2 = 0.5 + 0.25 = 0.75
  metrics::AUC three(3);
  three.update(view({0, 1, 0}, {3}), view({0.2f, 0.7f, 0.6f}, {3}));
  EXPECT_NEAR(three.result(), 0.75, 1e-12);
}

TEST(Mean, SumsAndCounts) {
  metrics::Mean m("loss");
  EXPECT_EQ(m.result(), 0);  // empty: 0, not NaN
  m.add(3, 2);
  m.add(5, 2);
  EXPECT_DOUBLE_EQ(m.result(), 2);
  m.update(view({0, 0, 0}, {3}), view({1, 2, 3}, {3}));  // + 6 over 3 -> 14 / 7
  EXPECT_DOUBLE_EQ(m.result(), 2);
  EXPECT_EQ(m.state(), (std::vector<double>{14, 7}));
  EXPECT_EQ(m.name(), "loss");
  m.reset();
  EXPECT_EQ(m.state(), (std::vector<double>{0, 0}));
}

// ---- factory -----------------------------------------------------------------------

TEST(MakeMetric, AccuracyResolvedFromTheLoss) {
  auto sparse = metrics::make_metric("accuracy", loss("sparse_categorical_crossentropy"));
  EXPECT_NE(dynamic_cast<metrics::SparseCategoricalAccuracy*>(sparse.get()), nullptr);
  EXPECT_EQ(sparse->name(), "accuracy");
  auto cat = metrics::make_metric("acc", loss("categorical_crossentropy", true));
  EXPECT_NE(dynamic_cast<metrics::CategoricalAccuracy*>(cat.get()), nullptr);
  EXPECT_EQ(cat->name(), "acc");
  auto eq = metrics::make_metric("accuracy", loss("mse"));
  EXPECT_NE(dynamic_cast<metrics::Accuracy*>(eq.get()), nullptr);
  // Binary CE: threshold 0.5 on probabilities, 0 on logits. A score of 0.3 is 0 for the
  // first and 1 (sigmoid(0.3) > 0.5) for the second.
  auto probs = metrics::make_metric("accuracy", loss("binary_crossentropy"));
  auto logits = metrics::make_metric("accuracy", loss("binary_crossentropy", true));
  ASSERT_NE(dynamic_cast<metrics::BinaryAccuracy*>(probs.get()), nullptr);
  ASSERT_NE(dynamic_cast<metrics::BinaryAccuracy*>(logits.get()), nullptr);
  probs->update(view({1}, {1, 1}), view({0.3f}, {1, 1}));
  logits->update(view({1}, {1, 1}), view({0.3f}, {1, 1}));
  EXPECT_EQ(probs->result(), 0);
  EXPECT_EQ(logits->result(), 1);
}

TEST(MakeMetric, NamesAndAliases) {
  const auto l = loss("binary_crossentropy");
  EXPECT_NE(dynamic_cast<metrics::MeanSquaredError*>(metrics::make_metric("mse", l).get()), nullptr);
  EXPECT_NE(dynamic_cast<metrics::MeanAbsoluteError*>(metrics::make_metric("mae", l).get()), nullptr);
  EXPECT_NE(dynamic_cast<metrics::AUC*>(metrics::make_metric("AUC", l).get()), nullptr);
  EXPECT_NE(dynamic_cast<metrics::Accuracy*>(metrics::make_metric("Accuracy", l).get()), nullptr);
  auto top = metrics::make_metric("sparse_top_k_categorical_accuracy", l);
  EXPECT_NE(dynamic_cast<metrics::SparseTopKCategoricalAccuracy*>(top.get()), nullptr);
  for (const auto& n : metrics::metric_names()) {
    auto m = metrics::make_metric(n, l);
    EXPECT_EQ(m->name(), n);
    EXPECT_EQ(m->result(), 0) << n;
  }
}

TEST(MakeMetric, UnknownNameListsValidOnes) {
  try {
    metrics::make_metric("f1", loss("mse"));
    FAIL() << "no error";
  } catch (const ArgumentError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown metric 'f1'"), std::string::npos) << msg;
    for (const char* n : {"accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy", "mse", "auc",
                          "precision", "recall"}) {
      EXPECT_NE(msg.find(n), std::string::npos) << n << " in " << msg;
    }
  }
}

TEST(Metrics, ShapeAndArgumentErrors) {
  metrics::SparseCategoricalAccuracy sparse;
  EXPECT_THROW(sparse.update(view({0, 1, 0, 1}, {2, 2}), view({0, 1, 0, 1}, {2, 2})), ShapeError);
  metrics::CategoricalAccuracy cat;
  EXPECT_THROW(cat.update(view({0, 1}, {2}), view({0, 1, 0, 1}, {2, 2})), ShapeError);
  metrics::MeanSquaredError mse;
  EXPECT_THROW(mse.update(view({0, 1, 2}, {3}), view({0, 1, 2, 3}, {4})), ShapeError);
  try {
    mse.update(view({0, 1, 2}, {3}), view({0, 1, 2, 3}, {4}));
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("mean_squared_error: y_true [3] and y_pred [4]"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(mse.set_state(std::vector<double>{1, 2, 3}), ArgumentError);
  EXPECT_THROW(metrics::AUC(1), ArgumentError);
  EXPECT_THROW(metrics::Precision(1.5), ArgumentError);
  EXPECT_THROW(metrics::TopKCategoricalAccuracy(0), ArgumentError);
}

// ---- the state-merge property ------------------------------------------------------

struct MergeCase {
  std::string metric;
  losses::LossConfig loss;
};

std::ostream& operator<<(std::ostream& os, const MergeCase& c) { return os << c.metric << "/" << c.loss.name; }

// A batch of `rows` samples fitting the metric: 6 classes, or 3 values per sample.
// Values are multiples of 1/64, so every sum in double is exact.
struct Data {
  std::vector<float> t, p;
  Shape ts, ps;
};

Data make_data(const std::string& kind, std::int64_t rows, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> q(0, 64), cls(0, 5), bit(0, 1), small(0, 2);
  Data d;
  auto fill = [&](std::vector<float>& v, std::int64_t n, auto gen) {
    for (std::int64_t i = 0; i < n; ++i) v.push_back(gen());
  };
  const auto score = [&] { return static_cast<float>(q(rng)) / 64.f; };
  if (kind == "sparse") {
    fill(d.t, rows, [&] { return static_cast<float>(cls(rng)); });
    fill(d.p, rows * 6, score);
    d.ts = Shape{rows};
    d.ps = Shape{rows, 6};
  } else if (kind == "categorical") {
    for (std::int64_t r = 0; r < rows; ++r) {
      const int c = cls(rng);
      for (int j = 0; j < 6; ++j) d.t.push_back(j == c ? 1.f : 0.f);
    }
    fill(d.p, rows * 6, score);
    d.ts = d.ps = Shape{rows, 6};
  } else if (kind == "equality") {  // few distinct values, so some match
    fill(d.t, rows * 3, [&] { return static_cast<float>(small(rng)) / 2; });
    fill(d.p, rows * 3, [&] { return static_cast<float>(small(rng)) / 2; });
    d.ts = d.ps = Shape{rows, 3};
  } else {  // binary labels, scores in [0, 1]
    fill(d.t, rows * 3, [&] { return static_cast<float>(bit(rng)); });
    fill(d.p, rows * 3, score);
    d.ts = d.ps = Shape{rows, 3};
  }
  return d;
}

std::string data_kind(const Metric& m) {
  if (dynamic_cast<const metrics::SparseCategoricalAccuracy*>(&m) ||
      dynamic_cast<const metrics::SparseTopKCategoricalAccuracy*>(&m)) {
    return "sparse";
  }
  if (dynamic_cast<const metrics::CategoricalAccuracy*>(&m) ||
      dynamic_cast<const metrics::TopKCategoricalAccuracy*>(&m)) {
    return "categorical";
  }
  if (dynamic_cast<const metrics::Accuracy*>(&m)) return "equality";
  return "binary";
}

// Rows [begin, end) of a batch.
Data rows_of(const Data& d, std::int64_t begin, std::int64_t end) {
  const std::int64_t rows = d.ps[0], tw = d.ts.numel() / rows, pw = d.ps.numel() / rows;
  Data out;
  out.t.assign(d.t.begin() + begin * tw, d.t.begin() + end * tw);
  out.p.assign(d.p.begin() + begin * pw, d.p.begin() + end * pw);
  out.ts = d.ts;
  out.ps = d.ps;
  out.ts[0] = out.ps[0] = end - begin;
  return out;
}

class StateMerge : public ::testing::TestWithParam<MergeCase> {};

TEST_P(StateMerge, PartsSummedEqualTheWhole) {
  const auto& c = GetParam();
  auto whole = metrics::make_metric(c.metric, c.loss);
  const std::string kind = data_kind(*whole);
  std::mt19937_64 rng(11);
  // Two batches of 13 rows: the "whole" sees both; three "ranks" see uneven parts.
  const Data b1 = make_data(kind, 13, rng), b2 = make_data(kind, 13, rng);
  whole->update(view(b1.t, b1.ts), view(b1.p, b1.ps));
  whole->update(view(b2.t, b2.ts), view(b2.p, b2.ps));

  std::vector<double> merged(whole->state_size(), 0.0);
  const std::vector<std::pair<std::int64_t, std::int64_t>> parts{{0, 5}, {5, 6}, {6, 13}};
  for (const auto& [begin, end] : parts) {
    auto rank = metrics::make_metric(c.metric, c.loss);
    const Data x = rows_of(b1, begin, end), y = rows_of(b2, begin, end);
    rank->update(view(x.t, x.ts), view(x.p, x.ps));
    rank->update(view(y.t, y.ts), view(y.p, y.ps));
    const auto s = rank->state();
    for (std::size_t i = 0; i < s.size(); ++i) merged[i] += s[i];
  }
  auto combined = metrics::make_metric(c.metric, c.loss);
  combined->set_state(merged);
  EXPECT_EQ(combined->state(), whole->state());
  EXPECT_EQ(combined->result(), whole->result());
  // Something was counted, and the figure is a real number.
  const auto s = whole->state();
  EXPECT_GT(*std::max_element(s.begin(), s.end()), 0);
  EXPECT_TRUE(std::isfinite(whole->result()));
  // reset() empties it, and the halves of an empty state are empty.
  whole->reset();
  EXPECT_EQ(whole->state(), std::vector<double>(whole->state_size(), 0.0));
}

INSTANTIATE_TEST_SUITE_P(
    Metrics, StateMerge,
    ::testing::Values(MergeCase{"accuracy", loss("sparse_categorical_crossentropy")},
                      MergeCase{"accuracy", loss("categorical_crossentropy")},
                      MergeCase{"accuracy", loss("binary_crossentropy")},
                      MergeCase{"accuracy", loss("mse")},
                      MergeCase{"binary_accuracy", loss("binary_crossentropy")},
                      MergeCase{"categorical_accuracy", loss("categorical_crossentropy")},
                      MergeCase{"sparse_categorical_accuracy", loss("sparse_categorical_crossentropy")},
                      MergeCase{"top_k_categorical_accuracy", loss("categorical_crossentropy")},
                      MergeCase{"sparse_top_k_categorical_accuracy", loss("sparse_categorical_crossentropy")},
                      MergeCase{"mse", loss("mse")},
                      MergeCase{"mae", loss("mae")},
                      MergeCase{"precision", loss("binary_crossentropy")},
                      MergeCase{"recall", loss("binary_crossentropy")},
                      MergeCase{"auc", loss("binary_crossentropy")},
                      MergeCase{"auc", loss("binary_crossentropy", true)}),
    [](const ::testing::TestParamInfo<MergeCase>& p) {
      return p.param.metric + "_" + p.param.loss.name + (p.param.loss.from_logits ? "_from_logits" : "");
    });

TEST(StateMerge, MeanOfLossSums) {
  // The model's running loss: per-rank (sum, count) pairs add up to the global mean.
  metrics::Mean whole, a, b;
  whole.add(1.5, 3);
  whole.add(2.25, 2);
  a.add(1.5, 3);
  b.add(2.25, 2);
  std::vector<double> s = a.state();
  const auto sb = b.state();
  for (std::size_t i = 0; i < s.size(); ++i) s[i] += sb[i];
  metrics::Mean merged;
  merged.set_state(s);
  EXPECT_EQ(merged.result(), whole.result());
  EXPECT_DOUBLE_EQ(merged.result(), 3.75 / 5);
}

}  // namespace
}  // namespace dtrain
