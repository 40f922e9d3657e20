// simple_rnn, lstm and gru (src/graph/ops/recurrent.cpp): finite-difference
// gradients with respect to x, kernel, recurrent_kernel and bias over 6 time
// steps, with return_sequences on and off, with and without bias; shape errors;
// the same bits with 1 and 4 threads. Forward values against the reference
// script: tests/unit/layers/recurrent_test.cpp.
#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "support/grad_check.hpp"
#include "support/graph_values.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace dtrain {
namespace {

using graph::Graph;
using graph::kBatch;
using graph::NodeId;
using graph::RecurrentActivation;
using graph::RecurrentOptions;
using testing::check_gradients;
using testing::gradients_ok;
using Ids = std::vector<NodeId>;

enum class Kind { kSimple, kLstm, kGru };
const char* kind_name(Kind k) { return k == Kind::kSimple ? "simple_rnn" : k == Kind::kLstm ? "lstm" : "gru"; }
std::int64_t gate_count(Kind k) { return k == Kind::kSimple ? 1 : k == Kind::kLstm ? 4 : 3; }

template <class T>
NodeId cell(Kind k, Graph<T>& g, NodeId x, NodeId kernel, NodeId rec, NodeId bias, RecurrentOptions o) {
  if (k == Kind::kSimple) return graph::simple_rnn(g, x, kernel, rec, bias, o);
  if (k == Kind::kLstm) return graph::lstm(g, x, kernel, rec, bias, o);
  return graph::gru(g, x, kernel, rec, bias, o);
}

Shape bias_shape(Kind k, std::int64_t units) {
  const auto gu = gate_count(k) * units;
  return k == Kind::kGru ? Shape{2, gu} : Shape{gu};
}

// x [3, 6, 4] -> 5 units: 6 time steps, every gate, every weight.
TEST(RecurrentGradient, XKernelRecurrentKernelAndBiasOverSixSteps) {
  constexpr std::int64_t kB = 3, kT = 6, kF = 4, kU = 5;
  for (Kind k : {Kind::kSimple, Kind::kLstm, Kind::kGru}) {
    for (bool sequences : {true, false}) {
      for (bool bias : {true, false}) {
        const auto gu = gate_count(k) * kU;
        std::vector<Shape> shapes{{kB, kT, kF}, {kF, gu}, {kU, gu}};
        if (bias) shapes.push_back(bias_shape(k, kU));
        const auto r = check_gradients(shapes, [&](auto& g, const Ids& in) {
          return cell(k, g, in[0], in[1], in[2], bias ? in[3] : NodeId{-1}, {.return_sequences = sequences});
        });
        EXPECT_TRUE(gradients_ok(r)) << kind_name(k) << " return_sequences " << sequences << " bias " << bias;
        EXPECT_EQ(r.checked, static_cast<std::size_t>(kB * kT * kF + kF * gu + kU * gu +
                                                      (bias ? bias_shape(k, kU).numel() : 0)));
      }
    }
  }
}

TEST(RecurrentGradient, OtherActivations) {
  // relu has a kink at 0: keep the pre-activations away from it by using
  // sigmoid/linear for the other cells and a positive input for relu.
  constexpr std::int64_t kB = 2, kT = 5, kF = 3, kU = 4;
  for (Kind k : {Kind::kSimple, Kind::kLstm, Kind::kGru}) {
    const auto gu = gate_count(k) * kU;
    RecurrentOptions o{.activation = RecurrentActivation::kSigmoid,
                       .recurrent_activation = RecurrentActivation::kTanh,
                       .return_sequences = true};
    const auto r = check_gradients({{kB, kT, kF}, {kF, gu}, {kU, gu}, bias_shape(k, kU)},
                                   [&](auto& g, const Ids& in) { return cell(k, g, in[0], in[1], in[2], in[3], o); });
    EXPECT_TRUE(gradients_ok(r)) << kind_name(k);
    o.activation = RecurrentActivation::kLinear;
    o.recurrent_activation = RecurrentActivation::kSigmoid;
    testing::GradCheckOptions small;
    small.lo = -0.3;
    small.hi = 0.3;
    const auto lin = check_gradients({{kB, kT, kF}, {kF, gu}, {kU, gu}, bias_shape(k, kU)},
                                     [&](auto& g, const Ids& in) { return cell(k, g, in[0], in[1], in[2], in[3], o); },
                                     small);
    EXPECT_TRUE(gradients_ok(lin)) << kind_name(k) << " linear";
  }
}

TEST(Recurrent, ShapeErrorsNameTheOpAndShapes) {
  Graph<double> g;
  const auto x2 = g.input("x2", {kBatch, 4});
  const auto x = g.input("x", {kBatch, 6, 4});
  const auto k = g.parameter("k", {4, 20});
  const auto r = g.parameter("r", {5, 20});
  const auto b = g.parameter("b", {20});
  const auto b2 = g.parameter("b2", {2, 15});
  try {
    graph::lstm(g, x2, k, r, b, {});
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("lstm: input must be [batch, time, features]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(graph::simple_rnn(g, x, k, r, b, {}), ShapeError);  // 20 columns, 5 units: not 1 gate
  EXPECT_THROW(graph::gru(g, x, k, r, b, {}), ShapeError);         // 20 != 3 * 5
  EXPECT_THROW(graph::lstm(g, x, k, r, b2, {}), ShapeError);
  EXPECT_NO_THROW(graph::lstm(g, x, k, r, b, {}));
  EXPECT_THROW(graph::parse_recurrent_activation("softmax"), ArgumentError);
}

// [40, 12, 24] -> 40 units: several GEMM row blocks (40 rows per step, 480 rows for
// the input projection) and column blocks (160 gate columns for the LSTM).
std::vector<float> run(Kind k, int threads, bool sequences) {
  std::vector<float> out;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    constexpr std::int64_t kT = 12, kF = 24, kU = 40;
    const auto gu = gate_count(k) * kU;
    Graph<float> g;
    const auto x = g.input("x", {kBatch, kT, kF}, true);
    const auto kernel = g.parameter("kernel", {kF, gu});
    const auto rec = g.parameter("recurrent_kernel", {kU, gu});
    const auto bias = g.parameter("bias", bias_shape(k, kU));
    const auto y = cell(k, g, x, kernel, rec, bias, {.return_sequences = sequences});
    const auto p = g.input("p", g.shape(y));
    const auto loss = graph::sum(g, graph::mul(g, y, p));
    g.plan(40);
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0.0f, 0.3f);
    testing::fill_parameters(g, rng, nd);
    testing::fill_values(g, {x, p}, rng, nd);
    g.forward(true);
    g.backward(loss);
    out.assign(g.value(y).data, g.value(y).data + g.value(y).size());
    out.insert(out.end(), g.grad(x).data, g.grad(x).data + g.grad(x).size());
    out.insert(out.end(), g.parameter_grads().begin(), g.parameter_grads().end());
  });
  return out;
}

TEST(RecurrentDeterminism, OneAndFourThreadsGiveTheSameBits) {
  for (Kind k : {Kind::kSimple, Kind::kLstm, Kind::kGru}) {
    for (bool sequences : {true, false}) {
      const auto one = run(k, 1, sequences), four = run(k, 4, sequences);
      ASSERT_FALSE(one.empty());
      ASSERT_EQ(one.size(), four.size());
      EXPECT_EQ(0, std::memcmp(one.data(), four.data(), one.size() * sizeof(float)))
          << kind_name(k) << " return_sequences " << sequences;
    }
  }
}

}  // namespace
}  // namespace dtrain
