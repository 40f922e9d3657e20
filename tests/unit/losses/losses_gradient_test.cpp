// Finite-difference gradient checks (double) of every loss and variant, through
// per_sample_loss. y_pred is the checked input; y_true is a label input (no gradient)
// filled by the case's label generator.
#include "dtrain/losses.hpp"
#include "support/grad_check.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

namespace dtrain {
namespace {

using graph::Graph;
using graph::NodeId;
using Ids = std::vector<NodeId>;

constexpr double kTolerance = 1e-6;

// Fills the labels given y_pred's values (e.g. keeps p - t away from a kink).
using LabelFill = std::function<void(View<const double> pred, View<double> labels, std::mt19937_64& rng)>;

struct Case {
  std::string name;
  losses::LossConfig loss;
  Shape shape;                  // y_pred
  testing::GradCheckOptions opt;  // range of y_pred
  LabelFill labels;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

class LossGradient : public ::testing::TestWithParam<Case> {};

TEST_P(LossGradient, MatchesFiniteDifferences) {
  const Case& c = GetParam();
  NodeId labels = -1;
  const auto r = testing::check_gradients(
      {c.shape},
      [&](Graph<double>& g, const Ids& in) {
        labels = g.input("y_true", losses::y_true_shape(c.loss, c.shape));
        return losses::per_sample_loss(g, in[0], labels, c.loss);
      },
      c.opt,
      [&](Graph<double>& g, const Ids& in) {
        std::mt19937_64 rng(7);
        c.labels(g.value(in[0]), g.value(labels), rng);
      });
  EXPECT_GT(r.checked, 0u);
  EXPECT_LE(r.max_rel_error, kTolerance) << r.worst;
}

losses::LossConfig cfg(const std::string& name, bool logits = false, double ls = 0, double delta = 1) {
  auto c = losses::parse_loss(name);
  c.from_logits = logits;
  c.label_smoothing = ls;
  c.delta = delta;
  return c;
}

testing::GradCheckOptions range(double lo, double hi) {
  testing::GradCheckOptions o;
  o.lo = lo;
  o.hi = hi;
  return o;
}

// t = p - e with |e| drawn from [lo, hi] and a random sign: keeps errors away from
// kinks (0 for mae, ±delta for huber).
LabelFill offset_labels(double lo, double hi) {
  return [lo, hi](View<const double> p, View<double> t, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> mag(lo, hi);
    std::bernoulli_distribution sign(0.5);
    for (std::int64_t i = 0; i < t.size(); ++i) t.data[i] = p.data[i] - (sign(rng) ? 1 : -1) * mag(rng);
  };
}

// Huber: half the errors inside (|e| < delta), half outside (|e| > delta).
LabelFill huber_labels(double delta) {
  return [delta](View<const double> p, View<double> t, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> in(0.05 * delta, 0.9 * delta), out(1.1 * delta, 3 * delta);
    std::bernoulli_distribution sign(0.5);
    for (std::int64_t i = 0; i < t.size(); ++i) {
      const double e = (i % 2 == 0 ? in(rng) : out(rng)) * (sign(rng) ? 1 : -1);
      t.data[i] = p.data[i] - e;
    }
  };
}

LabelFill uniform_labels() {
  return [](View<const double>, View<double> t, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    for (std::int64_t i = 0; i < t.size(); ++i) t.data[i] = u(rng);
  };
}

LabelFill binary_labels() {
  return [](View<const double>, View<double> t, std::mt19937_64& rng) {
    std::bernoulli_distribution b(0.5);
    for (std::int64_t i = 0; i < t.size(); ++i) t.data[i] = b(rng) ? 1 : 0;
  };
}

// Rows of k values: one-hot (soft = false) or a random distribution (soft = true).
LabelFill class_labels(std::int64_t k, bool soft) {
  return [k, soft](View<const double>, View<double> t, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0.05, 1);
    std::uniform_int_distribution<std::int64_t> cls(0, k - 1);
    for (std::int64_t r = 0; r < t.size() / k; ++r) {
      double* row = t.data + r * k;
      if (soft) {
        double s = 0;
        for (std::int64_t j = 0; j < k; ++j) s += (row[j] = u(rng));
        for (std::int64_t j = 0; j < k; ++j) row[j] /= s;
      } else {
        for (std::int64_t j = 0; j < k; ++j) row[j] = 0;
        row[cls(rng)] = 1;
      }
    }
  };
}

LabelFill sparse_labels(std::int64_t k) {
  return [k](View<const double>, View<double> t, std::mt19937_64& rng) {
    std::uniform_int_distribution<std::int64_t> cls(0, k - 1);
    for (std::int64_t i = 0; i < t.size(); ++i) t.data[i] = static_cast<double>(cls(rng));
  };
}

// Probabilities in [0.1, 1] (not normalised: Keras divides by the sum) stay well
// inside the clip range for 4 classes.
INSTANTIATE_TEST_SUITE_P(
    Losses, LossGradient,
    ::testing::Values(
        Case{"mse", cfg("mse"), {4, 3}, range(-2, 2), uniform_labels()},
        Case{"mse_rank3", cfg("mse"), {2, 3, 2}, range(-2, 2), uniform_labels()},
        Case{"mae", cfg("mae"), {4, 3}, range(-2, 2), offset_labels(0.05, 1)},
        Case{"huber_delta1", cfg("huber"), {4, 4}, range(-2, 2), huber_labels(1)},
        Case{"huber_delta0_3", cfg("huber", false, 0, 0.3), {4, 4}, range(-2, 2), huber_labels(0.3)},
        Case{"huber_delta2", cfg("huber", false, 0, 2), {3, 2, 2}, range(-2, 2), huber_labels(2)},
        Case{"bce_probs", cfg("binary_crossentropy"), {4, 3}, range(0.05, 0.95), binary_labels()},
        Case{"bce_probs_soft", cfg("binary_crossentropy"), {4, 3}, range(0.05, 0.95), uniform_labels()},
        Case{"bce_probs_ls", cfg("binary_crossentropy", false, 0.1), {4, 3}, range(0.05, 0.95), binary_labels()},
        Case{"bce_logits", cfg("binary_crossentropy", true), {4, 3}, range(-4, 4), binary_labels()},
        Case{"bce_logits_ls", cfg("binary_crossentropy", true, 0.2), {4, 3}, range(-4, 4), uniform_labels()},
        Case{"cce_probs", cfg("categorical_crossentropy"), {4, 4}, range(0.1, 1), class_labels(4, false)},
        Case{"cce_probs_soft", cfg("categorical_crossentropy"), {4, 4}, range(0.1, 1), class_labels(4, true)},
        Case{"cce_probs_ls", cfg("categorical_crossentropy", false, 0.1), {4, 4}, range(0.1, 1),
             class_labels(4, false)},
        Case{"cce_logits", cfg("categorical_crossentropy", true), {4, 5}, range(-4, 4), class_labels(5, false)},
        Case{"cce_logits_soft", cfg("categorical_crossentropy", true), {4, 5}, range(-4, 4), class_labels(5, true)},
        Case{"cce_logits_ls", cfg("categorical_crossentropy", true, 0.25), {4, 5}, range(-4, 4),
             class_labels(5, false)},
        Case{"cce_logits_positions", cfg("categorical_crossentropy", true, 0.1), {2, 3, 4}, range(-4, 4),
             class_labels(4, true)},
        Case{"scce_logits", cfg("sparse_categorical_crossentropy", true), {5, 4}, range(-4, 4), sparse_labels(4)},
        Case{"scce_logits_positions", cfg("sparse_categorical_crossentropy", true), {2, 3, 4}, range(-4, 4),
             sparse_labels(4)},
        Case{"scce_probs", cfg("sparse_categorical_crossentropy"), {5, 4}, range(0.1, 1), sparse_labels(4)},
        Case{"scce_probs_positions", cfg("sparse_categorical_crossentropy"), {2, 3, 4}, range(0.1, 1),
             sparse_labels(4)},
        // Sequences [batch, time, vocab] with [batch, time] labels, and [batch, time, features].
        Case{"scce_logits_sequence", cfg("sparse_categorical_crossentropy", true), {3, 5, 6}, range(-4, 4),
             sparse_labels(6)},
        Case{"scce_probs_sequence", cfg("sparse_categorical_crossentropy"), {3, 5, 6}, range(0.1, 1),
             sparse_labels(6)},
        Case{"mse_sequence", cfg("mse"), {3, 5, 4}, range(-2, 2), uniform_labels()}),
    [](const ::testing::TestParamInfo<Case>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace dtrain
