// conv2d, max_pool2d, avg_pool2d: finite-difference gradients, hand-computed
// values, TensorFlow's 'same' padding, shape errors, a direct-loop reference
// across many image blocks, and bitwise-identical results with 1, 2 and 4 threads.
#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/im2col.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "support/grad_check.hpp"
#include "support/graph_values.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>

namespace dtrain {
namespace {

using graph::Graph;
using graph::kBatch;
using graph::NodeId;
using graph::Padding;
using testing::check_gradients;
using testing::GradCheckOptions;
using Ids = std::vector<NodeId>;

using testing::gradients_ok;

const char* padding_name(Padding p) { return p == Padding::kSame ? "same" : "valid"; }

// ---------------------------------------------------------------- gradients

struct ConvCase {
  Shape x, k;
  std::array<int, 2> strides;
  Padding padding;
};

TEST(ConvGradient, MatchesFiniteDifferences) {
  const ConvCase cases[] = {
      {{2, 5, 5, 3}, {3, 3, 3, 2}, {1, 1}, Padding::kValid},  // odd size, cin > 1, cout > 1
      {{2, 6, 6, 2}, {3, 3, 2, 3}, {2, 2}, Padding::kSame},   // even size, stride 2, pad bottom/right only
      {{1, 7, 7, 2}, {3, 3, 2, 2}, {2, 2}, Padding::kSame},   // odd size, stride 2, pad on all sides
      {{1, 5, 7, 2}, {2, 3, 2, 3}, {2, 1}, Padding::kSame},   // non-square kernel and strides
      {{2, 6, 5, 3}, {3, 2, 3, 2}, {1, 2}, Padding::kValid},  // non-square, stride leaves a column out
      {{2, 4, 6, 2}, {4, 1, 2, 2}, {2, 2}, Padding::kValid},  // even size, stride 2
      {{1, 4, 4, 3}, {1, 1, 3, 4}, {1, 1}, Padding::kSame},   // 1x1 kernel
      {{3, 3, 3, 1}, {5, 5, 1, 2}, {1, 1}, Padding::kSame},   // kernel wider than the image
  };
  // Larger patches (kh*kw*cin > 32): longer GEMM inner dimensions.
  const ConvCase gemm_cases[] = {
      {{2, 5, 5, 4}, {3, 3, 4, 2}, {1, 1}, Padding::kValid},  // patch 36
      {{2, 6, 6, 5}, {3, 3, 5, 3}, {2, 2}, Padding::kSame},   // patch 45, stride 2
      {{1, 5, 7, 6}, {2, 3, 6, 2}, {2, 1}, Padding::kSame},   // patch 36, non-square
      // 'valid' with long window rows (kw*cin >= 32) on the direct path (no im2col)
      {{2, 5, 5, 12}, {3, 3, 12, 2}, {1, 1}, Padding::kValid},  // row 36
      {{2, 6, 7, 11}, {2, 3, 11, 3}, {2, 2}, Padding::kValid},  // row 33, stride 2, non-square
      {{1, 5, 8, 16}, {3, 2, 16, 2}, {1, 3}, Padding::kValid},  // row 32, column stride 3 > kw
  };
  for (const auto& c : gemm_cases) {
    const auto r = check_gradients({c.x, c.k}, [&](auto& g, const Ids& in) {
      return graph::conv2d(g, in[0], in[1], c.strides, c.padding);
    });
    EXPECT_TRUE(gradients_ok(r)) << "x " << c.x.str() << " kernel " << c.k.str() << " strides " << c.strides[0]
                                 << "," << c.strides[1] << " " << padding_name(c.padding);
  }
  for (const auto& c : cases) {
    const auto r = check_gradients({c.x, c.k}, [&](auto& g, const Ids& in) {
      return graph::conv2d(g, in[0], in[1], c.strides, c.padding);
    });
    EXPECT_TRUE(gradients_ok(r)) << "x " << c.x.str() << " kernel " << c.k.str() << " strides " << c.strides[0]
                                 << "," << c.strides[1] << " " << padding_name(c.padding);
  }
}

struct PoolCase {
  Shape x;
  std::array<int, 2> pool, strides;
  Padding padding;
};

// Distinct values 0.01 apart in a random order: no ties within a window, and a
// finite-difference step of 1e-5 never changes which cell is the max.
void distinct_values(Graph<double>& g, const Ids& in) {
  auto v = g.value(in[0]);
  std::vector<double> vals(static_cast<std::size_t>(v.size()));
  for (std::size_t i = 0; i < vals.size(); ++i) vals[i] = 0.01 * static_cast<double>(i) - 0.5;
  std::shuffle(vals.begin(), vals.end(), std::mt19937(5));
  std::copy(vals.begin(), vals.end(), v.data);
}

TEST(PoolGradient, MatchesFiniteDifferences) {
  const PoolCase cases[] = {
      {{2, 4, 4, 3}, {2, 2}, {2, 2}, Padding::kValid},
      {{2, 5, 5, 2}, {3, 3}, {2, 2}, Padding::kValid},  // overlapping windows
      {{2, 5, 5, 2}, {3, 3}, {2, 2}, Padding::kSame},
      {{1, 6, 7, 2}, {2, 2}, {3, 3}, Padding::kValid},  // strides > pool: cells skipped
      {{1, 6, 7, 2}, {2, 3}, {3, 1}, Padding::kSame},   // non-square
      {{2, 4, 4, 1}, {3, 3}, {1, 1}, Padding::kSame},
  };
  for (const auto& c : cases) {
    for (bool max : {true, false}) {
      const auto r = check_gradients(
          {c.x},
          [&](auto& g, const Ids& in) {
            return max ? graph::max_pool2d(g, in[0], c.pool, c.strides, c.padding)
                       : graph::avg_pool2d(g, in[0], c.pool, c.strides, c.padding);
          },
          {}, distinct_values);
      EXPECT_TRUE(gradients_ok(r)) << (max ? "max" : "avg") << " x " << c.x.str() << " pool " << c.pool[0] << ","
                                   << c.pool[1] << " strides " << c.strides[0] << "," << c.strides[1] << " "
                                   << padding_name(c.padding);
    }
  }
}

// ---------------------------------------------------------------- values by hand

// One-image graph: x [1, h, w, cin] input, kernel parameter; returns the output.
std::vector<double> conv_once(std::int64_t h, std::int64_t w, const std::vector<double>& x, const Shape& kshape,
                              const std::vector<double>& k, std::array<int, 2> strides, Padding padding,
                              Shape* out_shape = nullptr) {
  Graph<double> g;
  const auto xi = g.input("x", {kBatch, h, w, kshape[2]});
  const auto ki = g.parameter("k", kshape);
  const auto y = graph::conv2d(g, xi, ki, strides, padding);
  g.plan(1);
  std::copy(x.begin(), x.end(), g.value(xi).data);
  std::copy(k.begin(), k.end(), g.value(ki).data);
  g.forward();
  if (out_shape) *out_shape = g.value(y).shape;
  return {g.value(y).data, g.value(y).data + g.value(y).size()};
}

std::vector<double> iota(std::int64_t n, double start = 1.0) {
  std::vector<double> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(ConvValues, ThreeByThreeOnFourByFour) {
  // x[r][c] = 4r + c + 1 (1..16 row-major), one channel in, two out.
  // Channel 0 kernel (ky rows, kx columns):  1 2 0 / 0 1 0 / 0 0 -1, so
  //   out(r, c) = x[r][c] + 2·x[r][c+1] + x[r+1][c+1] - x[r+2][c+2]
  //             = (4r+c+1) + 2(4r+c+2) + (4r+c+6) - (4r+c+11) = 12r + 3c
  //   -> [[0, 3], [12, 15]].
  // Channel 1 kernel: all ones: the window sums, 9·x[r+1][c+1] = 9(4r+c+6)
  //   -> [[54, 63], [90, 99]].
  // Kernel layout [kh, kw, cin=1, cout=2]: element (ky, kx, 0, co) at (ky*3+kx)*2+co.
  const double k0[9] = {1, 2, 0, 0, 1, 0, 0, 0, -1};
  std::vector<double> k(18);
  for (int i = 0; i < 9; ++i) {
    k[static_cast<std::size_t>(2 * i)] = k0[i];
    k[static_cast<std::size_t>(2 * i + 1)] = 1.0;
  }
  Shape s;
  const auto y = conv_once(4, 4, iota(16), {3, 3, 1, 2}, k, {1, 1}, Padding::kValid, &s);
  EXPECT_EQ(s, (Shape{1, 2, 2, 2}));
  EXPECT_EQ(y, (std::vector<double>{0, 54, 3, 63, 12, 90, 15, 99}));

  // 'same', stride 1: one pixel of zeros all round. Corner (0, 0) of channel 0
  // sees x[-1][-1..1] = 0, x[0][-1] = 0; terms left: 1·x[0][0] - 1·x[1][1] = 1 - 6 = -5.
  // Corner (3, 3) sees 1·x[2][2] + 2·x[2][3] + 1·x[3][3] (the -1 tap is padding)
  //   = 11 + 24 + 16 = 51. Channel 1 at (0, 0): 1+2+5+6 = 14.
  const auto same = conv_once(4, 4, iota(16), {3, 3, 1, 2}, k, {1, 1}, Padding::kSame, &s);
  EXPECT_EQ(s, (Shape{1, 4, 4, 2}));
  EXPECT_EQ(same[0], -5.0);
  EXPECT_EQ(same[1], 14.0);
  EXPECT_EQ(same[(3 * 4 + 3) * 2], 51.0);
}

TEST(ConvValues, SamePaddingWithStrideTwoFollowsTensorFlow) {
  // TF: out = ceil(in / s); pad_total = max((out-1)·s + k - in, 0); top = pad_total / 2.
  //   in 6, k 3, s 2: out 3, pad_total 1 -> top 0, bottom 1
  //   in 7, k 3, s 2: out 4, pad_total 2 -> top 1, bottom 1
  //   in 5, k 4, s 2: out 3, pad_total 3 -> top 1, bottom 2
  //   in 8, k 1, s 3: out 3, pad_total 0
  struct Case { std::int64_t in, k, s, out, before; };
  for (const Case c : {Case{6, 3, 2, 3, 0}, Case{7, 3, 2, 4, 1}, Case{5, 4, 2, 3, 1}, Case{8, 1, 3, 3, 0}}) {
    const auto w = kernels::make_window2d(c.in, c.in, 1, c.k, c.k, c.s, c.s, true);
    EXPECT_EQ(w.oh, c.out) << "in " << c.in << " k " << c.k << " s " << c.s;
    EXPECT_EQ(w.ow, c.out);
    EXPECT_EQ(w.pad_top, c.before);
    EXPECT_EQ(w.pad_left, c.before);
  }
  // Valid: floor((in - k) / s) + 1: in 7, k 3, s 2 -> 3; in 6, k 3, s 2 -> 2.
  EXPECT_EQ(kernels::make_window2d(7, 6, 1, 3, 3, 2, 2, false).oh, 3);
  EXPECT_EQ(kernels::make_window2d(7, 6, 1, 3, 3, 2, 2, false).ow, 2);

  // The padding really sits where TF puts it: a kernel whose only tap is the
  // top-left one reads x[2·oy - top][2·ox - left].
  std::vector<double> pick(9, 0.0);
  pick[0] = 1.0;
  Shape s;
  // in 6: top = left = 0 -> out(oy, ox) = x[2oy][2ox] = 6·2oy + 2ox + 1.
  auto y = conv_once(6, 6, iota(36), {3, 3, 1, 1}, pick, {2, 2}, Padding::kSame, &s);
  EXPECT_EQ(s, (Shape{1, 3, 3, 1}));
  EXPECT_EQ(y, (std::vector<double>{1, 3, 5, 13, 15, 17, 25, 27, 29}));
  // in 7: top = left = 1 -> out(oy, ox) = x[2oy-1][2ox-1], 0 on the first row and column;
  // out(1,1) = x[1][1] = 7 + 1 + 1 = 9, out(3,3) = x[5][5] = 35 + 5 + 1 = 41.
  y = conv_once(7, 7, iota(49), {3, 3, 1, 1}, pick, {2, 2}, Padding::kSame, &s);
  EXPECT_EQ(s, (Shape{1, 4, 4, 1}));
  EXPECT_EQ(y[0], 0.0);
  EXPECT_EQ(y[3], 0.0);
  EXPECT_EQ(y[4], 0.0);
  EXPECT_EQ(y[5], 9.0);
  EXPECT_EQ(y[15], 41.0);
}

std::vector<double> pool_once(bool max, const std::vector<double>& x, std::array<int, 2> pool,
                              std::array<int, 2> strides, Padding padding, Shape* out_shape) {
  Graph<double> g;
  const auto xi = g.input("x", {kBatch, 4, 4, 1});
  const auto y = max ? graph::max_pool2d(g, xi, pool, strides, padding)
                     : graph::avg_pool2d(g, xi, pool, strides, padding);
  g.plan(1);
  std::copy(x.begin(), x.end(), g.value(xi).data);
  g.forward();
  *out_shape = g.value(y).shape;
  return {g.value(y).data, g.value(y).data + g.value(y).size()};
}

TEST(PoolValues, ByHand) {
  // x[r][c] = 4r + c + 1:   1  2  3  4 /  5  6  7  8 /  9 10 11 12 / 13 14 15 16
  Shape s;
  // 2x2 stride 2 valid: max [[6, 8], [14, 16]]; mean [[3.5, 5.5], [11.5, 13.5]].
  EXPECT_EQ(pool_once(true, iota(16), {2, 2}, {2, 2}, Padding::kValid, &s), (std::vector<double>{6, 8, 14, 16}));
  EXPECT_EQ(s, (Shape{1, 2, 2, 1}));
  EXPECT_EQ(pool_once(false, iota(16), {2, 2}, {2, 2}, Padding::kValid, &s),
            (std::vector<double>{3.5, 5.5, 11.5, 13.5}));
  // 3x3 stride 1 valid: windows at rows/cols 0..1: max x[r+2][c+2]; mean x[r+1][c+1].
  EXPECT_EQ(pool_once(true, iota(16), {3, 3}, {1, 1}, Padding::kValid, &s), (std::vector<double>{11, 12, 15, 16}));
  EXPECT_EQ(pool_once(false, iota(16), {3, 3}, {1, 1}, Padding::kValid, &s), (std::vector<double>{6, 7, 10, 11}));
  // 3x3 stride 2 same: out 2, pad_total (2-1)·2 + 3 - 4 = 1 -> none on top, one at
  // the bottom. Windows: rows {0,1,2} and {2,3} (row 4 is padding), same for columns.
  //   max: x[2][2] = 11, x[2][3] = 12, x[3][2] = 15, x[3][3] = 16.
  //   mean over the cells inside only: (0,0) 9 cells centred on x[1][1] = 6;
  //   (0,1) rows 0..2 × cols 2..3: 4·1 + 2.5 + 1 = 7.5; (1,0) rows 2..3 × cols 0..2:
  //   4·2.5 + 1 + 1 = 12; (1,1) rows 2..3 × cols 2..3: 4·2.5 + 2.5 + 1 = 13.5.
  //   (Counting the padded cells would give 45/9 = 5 for (0,1) instead.)
  EXPECT_EQ(pool_once(true, iota(16), {3, 3}, {2, 2}, Padding::kSame, &s), (std::vector<double>{11, 12, 15, 16}));
  EXPECT_EQ(s, (Shape{1, 2, 2, 1}));
  EXPECT_EQ(pool_once(false, iota(16), {3, 3}, {2, 2}, Padding::kSame, &s),
            (std::vector<double>{6, 7.5, 12, 13.5}));
  // Negative values: a padded cell never wins the max (it would give 0).
  std::vector<double> neg = iota(16);
  for (auto& v : neg) v = -v;
  EXPECT_EQ(pool_once(true, neg, {3, 3}, {2, 2}, Padding::kSame, &s), (std::vector<double>{-1, -3, -9, -11}));
}

TEST(PoolValues, MaxGradientGoesToTheFirstMaxOfATie) {
  Graph<double> g;
  const auto x = g.input("x", {kBatch, 2, 2, 1}, true);
  const auto y = graph::max_pool2d(g, x, {2, 2}, {2, 2}, Padding::kValid);
  const auto loss = graph::sum(g, y);
  g.plan(1);
  const double vals[4] = {1, 3, 3, 2};  // tie between (0,1) and (1,0)
  std::copy(vals, vals + 4, g.value(x).data);
  g.forward();
  g.backward(loss);
  const auto d = g.grad(x);
  EXPECT_EQ(std::vector<double>(d.data, d.data + 4), (std::vector<double>{0, 1, 0, 0}));
}

// Max pooling against a direct loop on values with many ties (integers 0..3),
// several channels and batches, every kind of window: each output's gradient
// must reach exactly the first cell (row-major, inside the image) holding the
// max of its own channel. Float, so the argmax index kept as a T is exercised
// in the precision the benchmarks use.
TEST(PoolReference, MaxWithTiesMatchesDirectLoops) {
  const PoolCase cases[] = {
      {{3, 6, 6, 5}, {2, 2}, {2, 2}, Padding::kValid},  // the CNN's pool
      {{2, 7, 5, 3}, {2, 2}, {2, 2}, Padding::kValid},  // odd sizes: last row/column dropped
      {{2, 7, 7, 3}, {2, 2}, {2, 2}, Padding::kSame},   // odd size, padded bottom/right
      {{2, 5, 6, 4}, {3, 3}, {1, 1}, Padding::kSame},   // overlapping windows, padding on all sides
      {{2, 7, 7, 2}, {3, 3}, {2, 2}, Padding::kSame},   // overlapping, stride 2
      {{1, 6, 7, 17}, {2, 3}, {3, 1}, Padding::kValid}, // non-square, channels not a vector multiple
  };
  for (const auto& c : cases) {
    Graph<float> g;
    const auto x = g.input("x", {kBatch, c.x[1], c.x[2], c.x[3]}, true);
    const auto y = graph::max_pool2d(g, x, c.pool, c.strides, c.padding);
    const auto p = g.input("p", g.shape(y));
    const auto loss = graph::sum(g, graph::mul(g, y, p));
    g.plan(c.x[0]);
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> small(0, 3);
    auto xv = g.value(x);
    for (std::int64_t i = 0; i < xv.size(); ++i) xv.data[i] = static_cast<float>(small(rng));
    auto pv = g.value(p);
    for (std::int64_t i = 0; i < pv.size(); ++i) pv.data[i] = static_cast<float>(i % 7 + 1);
    g.forward();
    g.backward(loss);

    const auto w = kernels::make_window2d(c.x[1], c.x[2], c.x[3], c.pool[0], c.pool[1], c.strides[0], c.strides[1],
                                          c.padding == Padding::kSame);
    const auto ch = c.x[3];
    std::vector<float> want_y(static_cast<std::size_t>(c.x[0] * w.oh * w.ow * ch));
    std::vector<float> want_dx(static_cast<std::size_t>(xv.size()), 0.f);
    for (std::int64_t n = 0; n < c.x[0]; ++n)
      for (std::int64_t oy = 0; oy < w.oh; ++oy)
        for (std::int64_t ox = 0; ox < w.ow; ++ox)
          for (std::int64_t k = 0; k < ch; ++k) {
            const auto o = ((n * w.oh + oy) * w.ow + ox) * ch + k;
            std::int64_t best = -1;
            for (std::int64_t ky = 0; ky < w.kh; ++ky)
              for (std::int64_t kx = 0; kx < w.kw; ++kx) {
                const auto iy = oy * w.sh - w.pad_top + ky, ix = ox * w.sw - w.pad_left + kx;
                if (iy < 0 || iy >= w.h || ix < 0 || ix >= w.w) continue;
                const auto i = ((n * w.h + iy) * w.w + ix) * ch + k;
                if (best < 0 || xv.data[i] > xv.data[best]) best = i;
              }
            want_y[static_cast<std::size_t>(o)] = xv.data[best];
            want_dx[static_cast<std::size_t>(best)] += pv.data[o];
          }
    const auto got_y = g.value(y);
    const auto got_dx = g.grad(x);
    ASSERT_EQ(static_cast<std::size_t>(got_y.size()), want_y.size());
    EXPECT_EQ(std::vector<float>(got_y.data, got_y.data + got_y.size()), want_y) << "x " << c.x.str();
    EXPECT_EQ(std::vector<float>(got_dx.data, got_dx.data + got_dx.size()), want_dx) << "x " << c.x.str();
  }
}

// ---------------------------------------------------------------- errors

template <class F>
std::string shape_error_of(F&& f) {
  try {
    f();
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "(no ShapeError thrown)";
}

void expect_mentions(const std::string& msg, std::initializer_list<const char*> parts) {
  for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
}

TEST(ConvPoolErrors, NameTheOpAndTheShapes) {
  Graph<float> g;
  const auto x = g.input("x", {kBatch, 5, 5, 3});
  const auto k_bad_c = g.parameter("k_bad_c", {3, 3, 4, 2});
  const auto k_big = g.parameter("k_big", {6, 2, 3, 2});
  expect_mentions(shape_error_of([&] { graph::conv2d(g, x, k_bad_c, {1, 1}, Padding::kValid); }),
                  {"conv2d", "3 channels", "expects 4", "[batch, 5, 5, 3]", "[3, 3, 4, 2]"});
  expect_mentions(shape_error_of([&] { graph::conv2d(g, x, k_big, {1, 1}, Padding::kValid); }),
                  {"conv2d", "kernel 6x2 is larger than the 5x5 input", "'valid'", "[batch, 5, 5, 3]", "[6, 2, 3, 2]"});
  EXPECT_NO_THROW(graph::conv2d(g, x, k_big, {1, 1}, Padding::kSame));  // 'same' pads instead
  const auto flat = g.input("flat", {kBatch, 75});
  expect_mentions(shape_error_of([&] { graph::conv2d(g, flat, k_big, {1, 1}, Padding::kSame); }),
                  {"conv2d", "rank 4", "[batch, 75]"});
  expect_mentions(shape_error_of([&] { graph::max_pool2d(g, x, {6, 6}, {1, 1}, Padding::kValid); }),
                  {"max_pool2d", "pool 6x6 is larger than the 5x5 input", "[batch, 5, 5, 3]"});
  expect_mentions(shape_error_of([&] { graph::avg_pool2d(g, flat, {2, 2}, {2, 2}, Padding::kValid); }),
                  {"avg_pool2d", "rank 4", "[batch, 75]"});
  EXPECT_THROW(graph::conv2d(g, x, k_big, {0, 1}, Padding::kSame), ArgumentError);
  EXPECT_THROW(graph::max_pool2d(g, x, {2, 0}, {1, 1}, Padding::kSame), ArgumentError);
}

TEST(ConvPoolErrors, ParsePadding) {
  EXPECT_EQ(graph::parse_padding("valid"), Padding::kValid);
  EXPECT_EQ(graph::parse_padding("same"), Padding::kSame);
  EXPECT_EQ(graph::parse_padding("SAME"), Padding::kSame);  // Keras lower-cases it too
  try {
    graph::parse_padding("full");
    ADD_FAILURE() << "no ArgumentError";
  } catch (const ArgumentError& e) {
    expect_mentions(e.what(), {"padding", "\"full\""});
  }
}

// ---------------------------------------------------------------- against direct loops

struct Conv {
  std::int64_t b, h, w, cin, kh, kw, cout;
  int sh, sw;
  std::int64_t oh, ow, top, left;  // TF geometry, computed by the test itself
};

// out, dK and dx by the definition (cross-correlation), for L = Σ out ⊙ p.
struct Reference {
  std::vector<double> out, dk, dx;
};
Reference direct(const Conv& c, const double* x, const double* k, const double* p) {
  Reference r;
  r.out.assign(static_cast<std::size_t>(c.b * c.oh * c.ow * c.cout), 0.0);
  r.dk.assign(static_cast<std::size_t>(c.kh * c.kw * c.cin * c.cout), 0.0);
  r.dx.assign(static_cast<std::size_t>(c.b * c.h * c.w * c.cin), 0.0);
  for (std::int64_t n = 0; n < c.b; ++n)
    for (std::int64_t oy = 0; oy < c.oh; ++oy)
      for (std::int64_t ox = 0; ox < c.ow; ++ox)
        for (std::int64_t co = 0; co < c.cout; ++co) {
          const auto o = ((n * c.oh + oy) * c.ow + ox) * c.cout + co;
          for (std::int64_t ky = 0; ky < c.kh; ++ky)
            for (std::int64_t kx = 0; kx < c.kw; ++kx) {
              const auto iy = oy * c.sh - c.top + ky, ix = ox * c.sw - c.left + kx;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              for (std::int64_t ci = 0; ci < c.cin; ++ci) {
                const auto xi = ((n * c.h + iy) * c.w + ix) * c.cin + ci;
                const auto ki = ((ky * c.kw + kx) * c.cin + ci) * c.cout + co;
                r.out[static_cast<std::size_t>(o)] += x[xi] * k[ki];
                r.dk[static_cast<std::size_t>(ki)] += x[xi] * p[o];
                r.dx[static_cast<std::size_t>(xi)] += k[ki] * p[o];
              }
            }
        }
  return r;
}

void expect_near(const std::vector<double>& want, const double* got, const char* what) {
  double worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(want[i] - got[i]));
  EXPECT_LT(worst, 1e-10) << what;
}

TEST(ConvReference, ManyBlocksAndSlotsAndSmallerBatches) {
  // 24x24 'same' gives 576 positions per image: one image per block, so 37
  // images make 37 blocks on 16 slots (up to 3 blocks per slot); then 5 images.
  // Stride 2 valid on 23x23 (121 positions, 4 images a block) is the other case.
  // Each with a small patch and a large one.
  const Conv cases[] = {{37, 24, 24, 2, 3, 3, 3, 1, 1, 24, 24, 1, 1}, {37, 24, 24, 5, 3, 3, 3, 1, 1, 24, 24, 1, 1},
                        {37, 23, 23, 3, 3, 3, 2, 2, 2, 11, 11, 0, 0}, {37, 23, 23, 8, 3, 3, 4, 2, 2, 11, 11, 0, 0},
                        // 'valid' (the direct path) with long window rows: conv2 of the benchmark CNN
                        // with fewer channels, a non-square one with strides, a wide output.
                        {37, 13, 13, 16, 3, 3, 5, 1, 1, 11, 11, 0, 0}, {37, 12, 11, 12, 2, 3, 3, 2, 1, 6, 9, 0, 0},
                        {9, 9, 10, 11, 3, 3, 70, 1, 2, 7, 4, 0, 0},
                        // conv1 of the benchmark CNN: one input channel, runs of 3 elements
                        {37, 28, 28, 1, 3, 3, 32, 1, 1, 26, 26, 0, 0}};
  for (const auto& c : cases) {
    for (bool x_grad : {true, false}) {
      Graph<double> g;
      const auto x = g.input("x", {kBatch, c.h, c.w, c.cin}, x_grad);
      const auto k = g.parameter("k", {c.kh, c.kw, c.cin, c.cout});
      const auto y = graph::conv2d(g, x, k, {c.sh, c.sw}, c.top > 0 ? Padding::kSame : Padding::kValid);
      const auto p = g.input("p", g.shape(y));
      const auto loss = graph::sum(g, graph::mul(g, y, p));
      g.plan(c.b);
      std::mt19937_64 rng(9);
      std::uniform_real_distribution<double> u(-1, 1);
      testing::fill_values(g, {x, k, p}, rng, u);
      for (std::int64_t batch : {c.b, std::int64_t{5}}) {
        g.set_batch(batch);
        g.forward();
        g.backward(loss);
        Conv cb = c;
        cb.b = batch;
        const auto ref = direct(cb, g.value(x).data, g.value(k).data, g.value(p).data);
        ASSERT_EQ(g.value(y).shape, (Shape{batch, c.oh, c.ow, c.cout}));
        expect_near(ref.out, g.value(y).data, "output");
        expect_near(ref.dk, g.grad(k).data, "kernel gradient");
        if (x_grad) {
          expect_near(ref.dx, g.grad(x).data, "input gradient");
        } else {
          EXPECT_TRUE(g.grad(x).empty());
        }
      }
    }
  }
}

// ---------------------------------------------------------------- threads

struct CnnRun {
  std::vector<float> out, grads, dx;
};

// The Fashion-MNIST CNN's feature extractor on 21 images (not a multiple of
// any block size): conv 3x3x32, max pool 2, conv 3x3x64 ('same', stride 2 for
// variety; or 'valid', stride 1 as in the benchmark: the direct path), avg
// pool, L = Σ out ⊙ p.
CnnRun run_cnn(int threads, bool valid_conv2 = false) {
  CnnRun r;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    Graph<float> g;
    const auto x = g.input("x", {kBatch, 28, 28, 1}, true);
    const auto k1 = g.parameter("conv_1/kernel", {3, 3, 1, 32});
    const auto k2 = g.parameter("conv_2/kernel", {3, 3, 32, 64});
    auto h = graph::max_pool2d(g, graph::relu(g, graph::conv2d(g, x, k1, {1, 1}, Padding::kValid)), {2, 2}, {2, 2},
                               Padding::kValid);
    h = valid_conv2 ? graph::conv2d(g, h, k2, {1, 1}, Padding::kValid) : graph::conv2d(g, h, k2, {2, 2}, Padding::kSame);
    h = graph::avg_pool2d(g, h, {3, 3}, {2, 2}, Padding::kSame);
    const auto p = g.input("p", g.shape(h));
    const auto loss = graph::sum(g, graph::mul(g, h, p));
    g.plan(21);
    std::mt19937 rng(11);
    std::normal_distribution<float> nd(0.f, 0.3f);
    testing::fill_parameters(g, rng, nd);
    testing::fill_values(g, {x, p}, rng, nd);
    g.forward();
    g.backward(loss);
    r.out.assign(g.value(h).data, g.value(h).data + g.value(h).size());
    r.grads.assign(g.parameter_grads().begin(), g.parameter_grads().end());
    r.dx.assign(g.grad(x).data, g.grad(x).data + g.grad(x).size());
  });
  return r;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(ConvDeterminism, OneTwoAndFourThreadsGiveTheSameBits) {
  for (bool valid : {false, true}) {
    const auto one = run_cnn(1, valid);
    ASSERT_FALSE(one.out.empty());
    // Not trivially equal: the gradients are there.
    EXPECT_GT(std::abs(std::accumulate(one.grads.begin(), one.grads.end(), 0.0)), 0.0);
    for (int threads : {2, 4}) {
      const auto other = run_cnn(threads, valid);
      EXPECT_TRUE(same_bits(one.out, other.out)) << threads << " threads, valid " << valid;
      EXPECT_TRUE(same_bits(one.grads, other.grads)) << threads << " threads, valid " << valid;
      EXPECT_TRUE(same_bits(one.dx, other.dx)) << threads << " threads, valid " << valid;
    }
  }
}

}  // namespace
}  // namespace dtrain
