// Activations by Keras name (src/layers/activations.cpp): forward values of gelu,
// gelu_approximate, silu/swish, softplus and log_softmax against reference values,
// float stability for large |x|, names and errors, and thread-count independence.
// Gradients: tests/unit/graph/ops_gradient_test.cpp (ops) and layers_gradient_test.cpp.
//
// The reference values come from tests/reference/activations_reference.py (Python's
// math module, Keras 3's formulas; the derivation is in the script). Regenerate with
//   python3 tests/reference/activations_reference.py
#include "dtrain/activations.hpp"
#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace dtrain {
namespace {

// ---- reference values (printed by tests/reference/activations_reference.py) ----------
const std::vector<double> kX = {-100.0, -30.0, -10.0, -5.0, -2.0, -1.0, -0.5, -0.001, 0.0, 0.001, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0};
const std::vector<double> kGelu = {-0.0, -1.4720141781446293e-196, -7.619853024160593e-23, -1.4332578593959731e-06, -0.04550026389635844, -0.15865525393145707, -0.15426876936299344, -0.000499601057786089, 0.0, 0.000500398942213911, 0.34573123063700656, 0.8413447460685429, 1.9544997361036416, 4.99999856674214, 10.0, 30.0, 100.0};
const std::vector<double> kGeluApproximate = {-0.0, -0.0, -0.0, -2.2917961972623857e-07, -0.04540230591222494, -0.15880800939172324, -0.15428599017485606, -0.000499601057786418, 0.0, 0.000500398942213582, 0.34571400982514394, 0.8411919906082768, 1.954597694087775, 4.999999770820381, 10.0, 30.0, 100.0};
const std::vector<double> kSilu = {-3.7200759760208363e-42, -2.80728689065179e-12, -0.00045397868702434395, -0.03346425462142428, -0.2384058440442351, -0.2689414213699951, -0.18877033439907273, -0.0004997500000208334, 0.0, 0.0005002499999791667, 0.3112296656009273, 0.7310585786300049, 1.7615941559557646, 4.966535745378576, 9.999546021312977, 29.999999999997197, 100.0};
const std::vector<double> kSoftplus = {3.720075976020836e-44, 9.357622968839737e-14, 4.539889921686465e-05, 0.006715348489118068, 0.1269280110429725, 0.31326168751822286, 0.4740769841801067, 0.6926473055599401, 0.6931471805599453, 0.6936473055599401, 0.9740769841801067, 1.3132616875182228, 2.1269280110429727, 5.006715348489118, 10.000045398899218, 30.000000000000092, 100.0};
const std::vector<double> kLogSoftmaxIn = {0.5, -1.0, 2.0, 0.0, 1000.0, 0.0, -1000.0, 1.0, 3.0, 3.0, 3.0, 3.0, -50.0, 50.0, 25.0, -25.0};
const std::vector<double> kLogSoftmax = {-1.8423495823898222, -3.342349582389822, -0.34234958238982216, -2.342349582389822, 0.0, -1000.0, -2000.0, -999.0, -1.3862943611198908, -1.3862943611198908, -1.3862943611198908, -1.3862943611198908, -100.0000000000139, -1.3891110484109959e-11, -25.00000000001389, -75.0000000000139};
// -------------------------------------------------------------------------------------

// Applies the activation `name` to a [rows, cols] input holding `x` (row-major).
template <class T>
std::vector<T> forward(const std::string& name, const std::vector<double>& x, std::int64_t cols) {
  const auto rows = static_cast<std::int64_t>(x.size()) / cols;
  graph::Graph<T> g;
  const auto in = g.input("x", {graph::kBatch, cols});
  const auto out = apply_activation(g, in, name);
  g.plan(rows);
  auto v = g.value(in);
  for (std::int64_t i = 0; i < v.size(); ++i) v.data[i] = static_cast<T>(x[static_cast<std::size_t>(i)]);
  g.forward();
  const auto y = g.value(out);
  return {y.data, y.data + y.size()};
}

struct Reference {
  const char* name;
  const std::vector<double>* in;
  const std::vector<double>* out;
  std::int64_t cols;
};

std::vector<Reference> references() {
  const auto n = static_cast<std::int64_t>(kX.size());
  return {{"gelu", &kX, &kGelu, n},
          {"gelu_approximate", &kX, &kGeluApproximate, n},
          {"silu", &kX, &kSilu, n},
          {"swish", &kX, &kSilu, n},
          {"softplus", &kX, &kSoftplus, n},
          {"log_softmax", &kLogSoftmaxIn, &kLogSoftmax, 4}};
}

TEST(Activations, DoubleForwardMatchesTheReferenceScript) {
  for (const auto& r : references()) {
    const auto y = forward<double>(r.name, *r.in, r.cols);
    ASSERT_EQ(y.size(), r.out->size()) << r.name;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double want = (*r.out)[i];
      // Relative 1e-12, down to the tiniest values (silu(-100) = -3.7e-42; erfc's
      // far tail differs by ~1e-13 between libm and Python). Two are held to an
      // absolute bound where the formula itself cancels: the tanh form in
      // 1 + tanh(u) for x << 0 (as Keras' formula does), and log_softmax, whose
      // x - max - lse is exact only to rounding of the row's scale (|x| <= 1000).
      const std::string n = r.name;
      const double abs_tol = n == "gelu_approximate" ? 1e-15 : n == "log_softmax" ? 1e-13 : 1e-300;
      EXPECT_NEAR(y[i], want, 1e-12 * std::abs(want) + abs_tol) << r.name << " at x = " << (*r.in)[i];
    }
  }
}

TEST(Activations, FloatForwardMatchesTheReferenceScript) {
  for (const auto& r : references()) {
    const auto y = forward<float>(r.name, *r.in, r.cols);
    ASSERT_EQ(y.size(), r.out->size()) << r.name;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double want = (*r.out)[i];
      ASSERT_TRUE(std::isfinite(y[i])) << r.name << " at x = " << (*r.in)[i];
      EXPECT_NEAR(y[i], want, 1e-6 * std::max(1.0, std::abs(want))) << r.name << " at x = " << (*r.in)[i];
    }
  }
}

// f(x) and f'(x) in float far beyond where exp overflows (|x| > 88): no inf, no NaN,
// and the limits x (or 0) and slope 1 (or 0).
TEST(Activations, FloatIsStableForHugeInputs) {
  const std::vector<double> x = {-1e38, -1e20, -1e5, -100, 100, 1e5, 1e20, 1e38};
  for (const char* name : {"gelu", "gelu_approximate", "silu", "softplus"}) {
    graph::Graph<float> g;
    const auto in = g.input("x", {graph::kBatch, static_cast<std::int64_t>(x.size())}, true);
    const auto out = apply_activation(g, in, name);
    const auto loss = graph::sum(g, out);
    g.plan(1);
    for (std::size_t i = 0; i < x.size(); ++i) g.value(in).data[i] = static_cast<float>(x[i]);
    g.forward();
    g.backward(loss);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float y = g.value(out).data[i], dy = g.grad(in).data[i];
      if (x[i] > 0) {
        EXPECT_EQ(y, static_cast<float>(x[i])) << name << " at x = " << x[i];
        EXPECT_EQ(dy, 1.0f) << name << "' at x = " << x[i];
      } else {  // softplus(-100) is 3.7e-44, a float denormal: tiny, not 0
        EXPECT_LE(std::abs(y), 1e-40f) << name << " at x = " << x[i];
        EXPECT_LE(std::abs(dy), 1e-40f) << name << "' at x = " << x[i];
      }
    }
  }
  // log_softmax: logits 1e30 apart; the row maximum is subtracted first.
  const auto y = forward<float>("log_softmax", {1e30, -1e30, 0.0, 2e30}, 4);
  const std::vector<double> want = {-1e30, -3e30, -2e30, 0.0};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-6 * std::abs(want[i])) << i;
}

TEST(Activations, KerasNamesAreListedAndChecked) {
  const auto& names = activation_names();
  for (const char* n : {"gelu", "gelu_approximate", "silu", "swish", "softplus", "log_softmax"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
    EXPECT_NO_THROW(check_activation(n, "Dense 'dense'")) << n;
  }
  try {
    check_activation("gelu_tanh", "Dense 'dense'");
    ADD_FAILURE() << "no error for gelu_tanh";
  } catch (const ArgumentError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("Dense 'dense': unknown activation 'gelu_tanh'"), std::string::npos) << what;
    EXPECT_NE(what.find("gelu_approximate"), std::string::npos) << what;
  }
}

TEST(Activations, SwishIsSilu) {
  EXPECT_EQ(forward<float>("swish", kX, static_cast<std::int64_t>(kX.size())),
            forward<float>("silu", kX, static_cast<std::int64_t>(kX.size())));
}

// 40 000 elements: several element blocks, so the threads share the work.
std::vector<float> forward_backward(const char* name, int threads) {
  std::vector<float> result;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    graph::Graph<float> g;
    const auto in = g.input("x", {graph::kBatch, 400}, true);
    const auto out = apply_activation(g, in, name);
    const auto loss = graph::mean(g, graph::square(g, out));
    g.plan(100);
    auto v = g.value(in);
    for (std::int64_t i = 0; i < v.size(); ++i) v.data[i] = 12.0f * std::sin(0.37f * static_cast<float>(i));
    g.forward();
    g.backward(loss);
    result.assign(g.value(out).data, g.value(out).data + g.value(out).size());
    result.insert(result.end(), g.grad(in).data, g.grad(in).data + g.grad(in).size());
  });
  return result;
}

TEST(Activations, OneAndFourThreadsGiveTheSameBits) {
  for (const char* name : {"gelu", "gelu_approximate", "silu", "softplus", "log_softmax"}) {
    const auto one = forward_backward(name, 1), four = forward_backward(name, 4);
    ASSERT_EQ(one.size(), four.size());
    EXPECT_EQ(std::memcmp(one.data(), four.data(), one.size() * sizeof(float)), 0) << name;
  }
}

}  // namespace
}  // namespace dtrain
