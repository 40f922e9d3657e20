// A reusable finite-difference gradient checker, in double precision.
//
//   auto r = dtrain::testing::check_gradients({{4, 5}}, [](auto& g, auto& in) {
//     return graph::relu(g, in[0]);
//   });
//   EXPECT_LE(r.max_rel_error, 1e-6) << r.worst;
//
// The output is reduced to a scalar L = Σ out ⊙ P with a fixed random P, so every
// element of every input gradient is compared with the central difference
// (L(x+h) - L(x-h)) / 2h. Relative error is |a - n| / max(|a|, |n|, floor):
// relative for gradients of normal size, absolute below the floor (where
// cancellation makes a relative figure meaningless). Inputs can be kept away
// from kinks (relu, abs at 0) with min_abs.
#pragma once

#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace dtrain::testing {

struct GradCheckOptions {
  double lo = -1.0, hi = 1.0;  // inputs drawn uniformly from [lo, hi]
  double min_abs = 0.0;        // |x| pushed to at least this (avoid kinks at 0)
  double step = 1e-5;  // ≈ cbrt(machine epsilon): balances truncation and round-off
  double floor = 1e-3;
  unsigned seed = 42;
  bool training = true;
  // Inputs held fixed (no gradient, not perturbed): integer-valued ones such as
  // token ids, whose values the caller sets in `init`.
  std::vector<std::size_t> constant_inputs;
};

struct GradCheckResult {
  double max_rel_error = 0.0;
  std::string worst;   // where the worst error was, for the failure message
  std::size_t checked = 0;
};

// The tolerance of every finite-difference check: max relative error <= 1e-6.
inline constexpr double kGradTolerance = 1e-6;

// For EXPECT_TRUE: something was checked and the worst error is within kGradTolerance.
inline ::testing::AssertionResult gradients_ok(const GradCheckResult& r) {
  if (r.checked == 0) return ::testing::AssertionFailure() << "nothing was checked";
  if (r.max_rel_error <= kGradTolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max relative error " << r.max_rel_error << " at " << r.worst;
}

using GradBuilder = std::function<graph::NodeId(graph::Graph<double>&, const std::vector<graph::NodeId>&)>;

// Fills inputs with random values; the caller may overwrite them in `init`.
inline GradCheckResult check_gradients(
    const std::vector<Shape>& input_shapes, const GradBuilder& build, GradCheckOptions opt = {},
    const std::function<void(graph::Graph<double>&, const std::vector<graph::NodeId>&)>& init = {}) {
  graph::Graph<double> g;
  std::vector<graph::NodeId> inputs;
  const auto constant = [&](std::size_t k) {
    return std::find(opt.constant_inputs.begin(), opt.constant_inputs.end(), k) != opt.constant_inputs.end();
  };
  for (std::size_t i = 0; i < input_shapes.size(); ++i) {
    inputs.push_back(g.input("x" + std::to_string(i), input_shapes[i], /*requires_grad=*/!constant(i)));
  }
  const auto out = build(g, inputs);
  const auto proj = g.input("projection", g.shape(out));
  const auto loss = graph::sum(g, graph::mul(g, out, proj));
  const std::int64_t batch = input_shapes.empty() || input_shapes[0].rank() == 0 ? 1 : input_shapes[0][0];
  g.plan(std::max<std::int64_t>(1, batch));

  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> uni(opt.lo, opt.hi);
  for (auto id : inputs) {
    auto v = g.value(id);
    for (std::int64_t i = 0; i < v.size(); ++i) {
      double x = uni(rng);
      if (std::abs(x) < opt.min_abs) x = x < 0 ? x - opt.min_abs : x + opt.min_abs;
      v.data[i] = x;
    }
  }
  std::uniform_real_distribution<double> pdist(-1.0, 1.0);
  auto pv = g.value(proj);
  for (std::int64_t i = 0; i < pv.size(); ++i) pv.data[i] = pdist(rng);
  if (init) init(g, inputs);

  g.set_step(7);
  g.forward(opt.training);
  g.backward(loss);
  std::vector<std::vector<double>> analytic;
  for (auto id : inputs) {
    auto gr = g.grad(id);
    if (gr.empty()) {
      analytic.emplace_back();
    } else {
      analytic.emplace_back(gr.data, gr.data + gr.size());
    }
  }

  GradCheckResult r;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (constant(k)) continue;
    auto v = g.value(inputs[k]);
    for (std::int64_t i = 0; i < v.size(); ++i) {
      const double x = v.data[i];
      v.data[i] = x + opt.step;
      g.forward(opt.training);
      const double fp = g.value(loss).data[0];
      v.data[i] = x - opt.step;
      g.forward(opt.training);
      const double fm = g.value(loss).data[0];
      v.data[i] = x;
      const double numeric = (fp - fm) / (2 * opt.step);
      const double a = analytic[k][static_cast<std::size_t>(i)];
      const double err = std::abs(a - numeric) / std::max({std::abs(a), std::abs(numeric), opt.floor});
      ++r.checked;
      if (err > r.max_rel_error || std::isnan(err)) {
        r.max_rel_error = std::isnan(err) ? INFINITY : err;
        std::ostringstream w;
        w << "input " << k << " element " << i << ": analytic " << a << ", numeric " << numeric;
        r.worst = w.str();
      }
    }
  }
  return r;
}

}  // namespace dtrain::testing
