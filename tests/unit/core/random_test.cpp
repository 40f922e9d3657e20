// The one generator (SplitMix64): reference outputs, streams, exact uniform draws,
// distribution sanity, and the Fisher-Yates permutation over it.
#include "dtrain/core/error.hpp"
#include "dtrain/core/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

namespace dtrain {
namespace {

TEST(Random, RngIsTheSplitMix64Reference) {
  // Reference SplitMix64 (Vigna, splitmix64.c): x += 0x9E3779B97F4A7C15; return mix(x).
  // Seeded with 0, the first output is 0xE220A8397B1DCDAF; seeded with 1234567 the
  // first three are the published 6457827717110365317, 3203168211198807973,
  // 9817491932198370423.
  EXPECT_EQ(mix64(0x9E3779B97F4A7C15ULL), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(splitmix64(0), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(Rng(0).next(), 0xE220A8397B1DCDAFULL);
  Rng rng(1234567);
  const std::array<std::uint64_t, 3> expected = {6457827717110365317ULL, 3203168211198807973ULL,
                                                 9817491932198370423ULL};
  std::uint64_t x = 1234567;
  for (auto e : expected) {
    x += 0x9E3779B97F4A7C15ULL;
    EXPECT_EQ(mix64(x), e);
    EXPECT_EQ(rng.next(), e);
  }
}

TEST(Random, StreamsArePureFunctionsOfSeedAndStream) {
  // Pinned values (an independent Python transcription: state = mix64(seed) ^
  // mix64(~stream); value i = mix64(state + i * gamma), i = 1, 2, ...).
  Rng rng(7, 3);
  EXPECT_EQ(rng.next(), 9470961411887473475ULL);
  EXPECT_EQ(rng.next(), 2410345702312184630ULL);
  EXPECT_EQ(rng.next(), 8955330006007494327ULL);
  Rng other(7, 4);
  EXPECT_NE(other.next(), 9470961411887473475ULL);
}

TEST(Random, SameSeedSameSequenceAndStateResumes) {
  Rng a(99), b(99), c(100);
  std::vector<std::uint64_t> first;
  for (int i = 0; i < 100; ++i) first.push_back(a.next());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.next(), first[static_cast<std::size_t>(i)]);
  EXPECT_NE(c.next(), first[0]);
  // A generator restored from state() continues the sequence.
  Rng d(5);
  d.next();
  Rng e(0);
  e.set_state(d.state());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(d.next(), e.next());
}

TEST(Random, StatelessBitsAndNamedSeedsArePinned) {
  // The same Python transcription: splitmix64(z) = mix64(z + gamma);
  // random_bits(s, a, b) = splitmix64(splitmix64(splitmix64(s) ^ a) ^ b);
  // seed_for(root, name) = splitmix64(root ^ fnv1a64(name)). Dropout masks and
  // initial weights depend on these bits.
  EXPECT_EQ(random_bits(42, 0, 0), 7138415436909018950ULL);
  EXPECT_EQ(random_bits(42, 3, 17), 11412059272541287833ULL);
  EXPECT_EQ(seed_for(0, "dense_1/kernel"), 9927969402107942624ULL);
  EXPECT_EQ(seed_for(7, "conv2d/bias"), 13353578577080827336ULL);
  static_assert(random_bits(1, 2, 3) == random_bits(1, 2, 3));  // usable at compile time
}

TEST(Random, BelowIsInRangeAndUniform) {
  Rng rng(1, 2);
  std::array<int, 7> counts{};
  constexpr int kDraws = 70000;
  for (int i = 0; i < kDraws; ++i) {
    const auto v = rng.below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  // Each count is Binomial(70000, 1/7): mean 10000, sd = sqrt(70000 * 1/7 * 6/7) = 92.6.
  // 6 sd = 556.
  for (int c : counts) EXPECT_NEAR(c, 10000, 556);
  EXPECT_EQ(rng.below(1), 0u);
  // n just above 2^63: rejection threshold 2^64 mod n = 2^63 - 1, still in range.
  const std::uint64_t big = (1ULL << 63) + 1;
  for (int i = 0; i < 100; ++i) EXPECT_LT(rng.below(big), big);
  EXPECT_THROW(rng.below(0), ArgumentError);
}

TEST(Random, UniformAndNormalHaveTheirMoments) {
  // 100000 draws: the mean of U[0, 1) has sd 0.289 / sqrt(1e5) = 9.1e-4, its
  // variance 1/12; N(0, 1): mean sd 3.2e-3, variance 1 (sd of the estimate 4.5e-3).
  Rng rng(2024);
  constexpr int kDraws = 100000;
  double su = 0, suu = 0, sn = 0, snn = 0, lo = 1, hi = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double u = rng.uniform();
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    su += u;
    suu += u * u;
    const double z = rng.normal();
    sn += z;
    snn += z * z;
  }
  EXPECT_GE(lo, 0.0);
  EXPECT_LT(hi, 1.0);
  const double mu = su / kDraws, mn = sn / kDraws;
  EXPECT_NEAR(mu, 0.5, 6 * 9.1e-4);
  EXPECT_NEAR(suu / kDraws - mu * mu, 1.0 / 12, 0.003);
  EXPECT_NEAR(mn, 0.0, 6 * 3.2e-3);
  EXPECT_NEAR(snn / kDraws - mn * mn, 1.0, 6 * 4.5e-3);
  for (int i = 0; i < 1000; ++i) {
    const double v = rng.uniform(-2.0, 3.0);
    EXPECT_GE(v, -2.0);
    EXPECT_LT(v, 3.0);
  }
}

TEST(Random, PermutationIsAPermutationAndTheSameAcrossCalls) {
  Rng a(9, 1), b(9, 1), c(9, 2);
  const auto p = random_permutation(1000, a);
  auto sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(p, iota);
  EXPECT_EQ(random_permutation(1000, b), p);
  EXPECT_NE(random_permutation(1000, c), p);
  Rng d(1);
  EXPECT_TRUE(random_permutation(0, d).empty());
  EXPECT_EQ(random_permutation(1, d), std::vector<std::int64_t>{0});
  EXPECT_THROW(random_permutation(-1, d), ArgumentError);
  // shuffle() of a span is the same draw as random_permutation of its positions.
  Rng e(9, 1);
  std::vector<std::int64_t> v = iota;
  shuffle(v, e);
  EXPECT_EQ(v, p);
}

TEST(Random, FisherYatesGivesEveryPermutationEqually) {
  // 60000 permutations of 3 elements: each of the 6 orders is Binomial(60000, 1/6),
  // mean 10000, sd 91.3; 6 sd = 548.
  std::map<std::vector<std::int64_t>, int> seen;
  for (std::uint64_t s = 0; s < 60000; ++s) {
    Rng rng(123, s);
    ++seen[random_permutation(3, rng)];
  }
  ASSERT_EQ(seen.size(), 6u);
  for (const auto& [perm, count] : seen) EXPECT_NEAR(count, 10000, 548);
}

}  // namespace
}  // namespace dtrain
