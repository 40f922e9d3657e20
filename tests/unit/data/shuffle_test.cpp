// The counter-based generator and the seeded permutations.
#include "dtrain/core/error.hpp"
#include "dtrain/data/shuffle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <numeric>

namespace dtrain::data {
namespace {

TEST(Shuffle, Mix64MatchesTheSplitMix64Reference) {
  // Reference SplitMix64 (Vigna, splitmix64.c): x += 0x9E3779B97F4A7C15; return mix(x).
  // Seeded with 0, the first output is 0xE220A8397B1DCDAF; seeded with 1234567 the
  // first three are the published 6457827717110365317, 3203168211198807973,
  // 9817491932198370423.
  EXPECT_EQ(mix64(0x9E3779B97F4A7C15ULL), 0xE220A8397B1DCDAFULL);
  std::uint64_t x = 1234567;
  const std::array<std::uint64_t, 3> expected = {6457827717110365317ULL, 3203168211198807973ULL,
                                                  9817491932198370423ULL};
  for (auto e : expected) {
    x += 0x9E3779B97F4A7C15ULL;
    EXPECT_EQ(mix64(x), e);
  }
}

TEST(Shuffle, GeneratorIsAPureFunctionOfSeedAndStream) {
  // Pinned values (an independent Python transcription of shuffle.hpp:
  // key = mix64(seed) ^ mix64(~stream); value i = mix64(key + i * gamma)).
  CounterRng rng(7, 3);
  EXPECT_EQ(rng.next(), 9470961411887473475ULL);
  EXPECT_EQ(rng.next(), 2410345702312184630ULL);
  EXPECT_EQ(rng.next(), 8955330006007494327ULL);
  CounterRng other(7, 4);
  EXPECT_NE(other.next(), 9470961411887473475ULL);
}

TEST(Shuffle, UniformBelowStaysInRangeAndIsUniform) {
  CounterRng rng(1, 2);
  std::array<int, 7> counts{};
  constexpr int kDraws = 70000;
  for (int i = 0; i < kDraws; ++i) {
    const auto v = rng.uniform_below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  // Each count is Binomial(70000, 1/7): mean 10000, sd = sqrt(70000 * 1/7 * 6/7) = 92.6.
  // 6 sd = 556.
  for (int c : counts) EXPECT_NEAR(c, 10000, 556);
  EXPECT_EQ(rng.uniform_below(1), 0u);
  // n just above 2^63: rejection threshold 2^64 mod n = 2^63 - 1, still in range.
  const std::uint64_t big = (1ULL << 63) + 1;
  for (int i = 0; i < 100; ++i) EXPECT_LT(rng.uniform_below(big), big);
  EXPECT_THROW(rng.uniform_below(0), ArgumentError);
}

TEST(Shuffle, EpochPermutationIsPinnedAndReproducible) {
  // From the same Python transcription as above.
  const std::vector<std::int64_t> e0 = {5, 6, 3, 8, 0, 4, 1, 7, 2, 9};
  const std::vector<std::int64_t> e1 = {4, 5, 9, 3, 8, 6, 2, 1, 0, 7};
  EXPECT_EQ(epoch_permutation(10, 42, 0), e0);
  EXPECT_EQ(epoch_permutation(10, 42, 1), e1);
  EXPECT_EQ(epoch_permutation(1000, 9, 5), epoch_permutation(1000, 9, 5));
}

TEST(Shuffle, PermutationsDifferAcrossEpochsAndSeeds) {
  const auto a = epoch_permutation(1000, 9, 0);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);  // a permutation
  for (std::int64_t epoch = 1; epoch < 20; ++epoch) EXPECT_NE(epoch_permutation(1000, 9, epoch), a);
  EXPECT_NE(epoch_permutation(1000, 10, 0), a);
  EXPECT_TRUE(epoch_permutation(0, 1, 0).empty());
  EXPECT_EQ(epoch_permutation(1, 1, 0), std::vector<std::int64_t>{0});
}

TEST(Shuffle, FisherYatesGivesEveryPermutationEqually) {
  // 60000 permutations of 3 elements: each of the 6 orders is Binomial(60000, 1/6),
  // mean 10000, sd 91.3; 6 sd = 548.
  std::map<std::vector<std::int64_t>, int> seen;
  for (std::uint64_t s = 0; s < 60000; ++s) ++seen[random_permutation(3, 123, s)];
  ASSERT_EQ(seen.size(), 6u);
  for (const auto& [perm, count] : seen) EXPECT_NEAR(count, 10000, 548);
}

}  // namespace
}  // namespace dtrain::data
