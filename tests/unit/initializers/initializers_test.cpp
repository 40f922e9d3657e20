// Initializers: Keras limits and variances, seeding, errors.
#include "dtrain/core/error.hpp"
#include "dtrain/initializers.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace dtrain {
namespace {

struct Stats {
  double mean = 0, var = 0, min = 1e300, max = -1e300;
};

Stats stats(const Tensor& t) {
  Stats s;
  for (std::int64_t i = 0; i < t.size(); ++i) {
    s.mean += t[i];
    s.min = std::min<double>(s.min, t[i]);
    s.max = std::max<double>(s.max, t[i]);
  }
  s.mean /= static_cast<double>(t.size());
  for (std::int64_t i = 0; i < t.size(); ++i) s.var += (t[i] - s.mean) * (t[i] - s.mean);
  s.var /= static_cast<double>(t.size());
  return s;
}

Tensor filled(const std::string& name, const Shape& shape, std::uint64_t seed = 1) {
  Tensor t(shape);
  initializers::fill(initializers::parse(name), t.view(), seed);
  return t;
}

TEST(Initializers, GlorotUniformLimitIsSqrtSixOverFans) {
  // Dense [300, 200]: limit = sqrt(6 / 500); variance of U(-l, l) = l²/3.
  const auto s = stats(filled("glorot_uniform", {300, 200}));
  const double limit = std::sqrt(6.0 / 500.0);
  EXPECT_LE(s.max, limit);
  EXPECT_GE(s.min, -limit);
  EXPECT_NEAR(s.max, limit, 1e-3);
  EXPECT_NEAR(s.var, limit * limit / 3, 0.02 * limit * limit / 3);
  EXPECT_NEAR(s.mean, 0.0, 1e-3);
}

TEST(Initializers, ConvFansIncludeTheReceptiveField) {
  // Conv [3, 3, 16, 32]: fan_in = 144, he_uniform limit = sqrt(6 / 144).
  const auto s = stats(filled("he_uniform", {3, 3, 16, 32}));
  EXPECT_LE(s.max, std::sqrt(6.0 / 144.0));
  EXPECT_NEAR(s.max, std::sqrt(6.0 / 144.0), 2e-3);
}

TEST(Initializers, TruncatedNormalsHaveTheKerasVariance) {
  // he_normal: variance 2 / fan_in after truncation at 2 sigma; lecun_normal 1 / fan_in.
  for (auto [name, scale] : {std::pair{"he_normal", 2.0}, std::pair{"lecun_normal", 1.0}, std::pair{"glorot_normal", 1.0}}) {
    const double fan = std::string(name) == "glorot_normal" ? 350.0 : 400.0;
    const auto s = stats(filled(name, {400, 300}));
    EXPECT_NEAR(s.var, scale / fan, 0.03 * scale / fan) << name;
    const double stddev = std::sqrt(scale / fan) / 0.87962566103423978;
    EXPECT_LE(s.max, 2 * stddev) << name;
  }
}

TEST(Initializers, ConstantsAndRandomDefaults) {
  EXPECT_EQ(stats(filled("zeros", {7})).max, 0.0);
  EXPECT_EQ(stats(filled("ones", {7})).min, 1.0);
  auto c = initializers::parse("constant");
  c.value = 0.25;
  Tensor t({5});
  initializers::fill(c, t.view(), 0);
  EXPECT_FLOAT_EQ(t[4], 0.25f);
  const auto u = stats(filled("random_uniform", {100000}));
  EXPECT_GE(u.min, -0.05);
  EXPECT_LE(u.max, 0.05);
  const auto n = stats(filled("random_normal", {100000}));
  EXPECT_NEAR(std::sqrt(n.var), 0.05, 1e-3);
}

TEST(Initializers, SameSeedSameBitsOtherSeedOtherValues) {
  const auto a = filled("glorot_uniform", {10, 10}, 5), b = filled("glorot_uniform", {10, 10}, 5);
  const auto c = filled("glorot_uniform", {10, 10}, 6);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(float) * 100));
  EXPECT_NE(0, std::memcmp(a.data(), c.data(), sizeof(float) * 100));
}

TEST(Initializers, UnknownNameListsTheValidOnes) {
  try {
    initializers::parse("glorot");
    FAIL();
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("'glorot'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("he_normal"), std::string::npos);
  }
}

// Keras Orthogonal: square and tall kernels have orthonormal columns, wide ones
// (LSTM's recurrent kernel [u, 4u]) orthonormal rows.
TEST(Initializers, OrthogonalRowsOrColumnsAreOrthonormal) {
  for (const Shape& s : {Shape{6, 6}, Shape{12, 3}, Shape{5, 20}}) {
    const auto t = filled("orthogonal", s, 3);
    const auto rows = s[0], cols = s[1];
    const bool wide = rows < cols;
    const auto n = wide ? rows : cols, len = wide ? cols : rows;
    const auto at = [&](std::int64_t v, std::int64_t k) { return wide ? t[v * cols + k] : t[k * cols + v]; };
    for (std::int64_t a = 0; a < n; ++a) {
      for (std::int64_t b = 0; b < n; ++b) {
        double dot = 0;
        for (std::int64_t k = 0; k < len; ++k) dot += static_cast<double>(at(a, k)) * at(b, k);
        EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-5) << s.str() << " " << a << "," << b;
      }
    }
  }
}

TEST(Initializers, ForgetUnitsSetTheSecondQuarterToOne) {
  auto init = initializers::parse("zeros");
  init.forget_units = 3;
  Tensor t(Shape{12});
  initializers::fill(init, t.view(), 1);
  for (std::int64_t i = 0; i < 12; ++i) EXPECT_EQ(t[i], i >= 3 && i < 6 ? 1.0f : 0.0f) << i;
}

}  // namespace
}  // namespace dtrain
