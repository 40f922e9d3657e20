// The epoch order: a pinned, reproducible permutation per (seed, epoch). The
// generator under it is tested in tests/unit/core/random_test.cpp.
#include "dtrain/data/shuffle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace dtrain::data {
namespace {

TEST(Shuffle, EpochPermutationIsPinnedAndReproducible) {
  // From an independent Python transcription: Rng(seed, stream_id(kStreamEpoch, epoch))
  // (core/random.hpp, data/shuffle.cpp) driving Fisher-Yates from the last position.
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

}  // namespace
}  // namespace dtrain::data
