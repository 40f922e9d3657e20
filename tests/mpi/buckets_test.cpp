// assign_buckets: a pure function of (parameters, bucket size) that covers every
// trainable parameter exactly once with contiguous arena ranges within the limit.
#include "mpi_test_env.hpp"

#include "dtrain/distributed/gradient_reducer.hpp"
#include "dtrain/distributed/replica_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace dtrain::distributed {
namespace {

std::vector<graph::ParameterInfo> mlp_parameters() {
  // A real graph lays them out: offsets rounded up to 16 floats.
  graph::Graph<float> g;
  g.parameter("dense/kernel", {784, 512});
  g.parameter("dense/bias", {512});
  g.parameter("dense_1/kernel", {512, 256});
  g.parameter("dense_1/bias", {256});
  g.parameter("dense_2/kernel", {256, 10});
  g.parameter("dense_2/bias", {10});
  (void)g.parameter_values();  // allocates the arenas: offsets are final
  return g.parameters();
}

// A layout with frozen parameters and odd sizes, from a real graph.
std::vector<graph::ParameterInfo> mixed_parameters() {
  graph::Graph<float> g;
  const std::vector<std::pair<Shape, bool>> specs = {
      {{3, 5}, true},  {{7}, true},    {{100}, false}, {{33, 3}, true}, {{1}, true},
      {{250}, true},   {{9, 9}, false}, {{2}, false},  {{64, 16}, true}, {{17}, true},
      {{4000}, true},  {{5}, true}};
  for (std::size_t i = 0; i < specs.size(); ++i) {
    g.parameter("p" + std::to_string(i), specs[i].first, specs[i].second);
  }
  (void)g.parameter_values();
  return g.parameters();
}

TEST(Buckets, MlpWithTwoMiBBuckets) {
  // Offsets (floats): kernel 0 (401408), bias 401408 (512), kernel_1 401920
  // (131072), bias_1 532992 (256), kernel_2 533248 (2560), bias_2 535808 (10),
  // end 535818. From the last parameter back: bias_2 .. bias span
  // 535818 - 401408 = 134410 floats = 537640 B <= 2 MiB; adding dense/kernel
  // would span 535818 floats = 2143272 B > 2097152 B, so it gets bucket 2.
  const auto params = mlp_parameters();
  const auto b = assign_buckets(params, std::size_t{2} << 20);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].parameters, (std::vector<std::size_t>{5, 4, 3, 2, 1}));
  EXPECT_EQ(b[0].offset, 401408);
  EXPECT_EQ(b[0].size, 134410);
  EXPECT_EQ(b[1].parameters, (std::vector<std::size_t>{0}));
  EXPECT_EQ(b[1].offset, 0);
  EXPECT_EQ(b[1].size, 401408);
  EXPECT_EQ(b[1].piece_end, 0);
  // 16 MiB: one bucket over the whole arena.
  const auto one = assign_buckets(params, kMaxBucketBytes);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].offset, 0);
  EXPECT_EQ(one[0].size, 535818);
}

TEST(Buckets, MlpWithDefaultBucketsCutsTheFirstKernelIntoPieces) {
  // 512 KiB = 131072 floats. bias_2, kernel_2, bias_1 span 2826 floats; adding
  // kernel_1 would span 133898 > 131072: kernel_1 alone (exactly 131072); bias
  // with it would span 131584: bias alone. kernel (401408 floats) is larger than
  // a bucket: 4 pieces, its first elements first.
  const auto b = assign_buckets(mlp_parameters(), kDefaultBucketBytes);
  ASSERT_EQ(b.size(), 7u);
  EXPECT_EQ(b[0].parameters, (std::vector<std::size_t>{5, 4, 3}));
  EXPECT_EQ(b[1].parameters, (std::vector<std::size_t>{2}));
  EXPECT_EQ(b[2].parameters, (std::vector<std::size_t>{1}));
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(b[k].piece_end, 0);
  const std::vector<std::int64_t> ends = {131072, 262144, 393216, 401408};
  for (std::size_t k = 0; k < ends.size(); ++k) {
    const auto& piece = b[3 + k];
    EXPECT_EQ(piece.parameters, (std::vector<std::size_t>{0}));
    EXPECT_EQ(piece.piece_end, ends[k]);
    EXPECT_EQ(piece.offset, k == 0 ? 0 : ends[k - 1]);  // the kernel starts at offset 0
    EXPECT_EQ(piece.offset + piece.size, ends[k]);
  }
}

// Checks every property the reducer relies on, for one layout and limit.
void expect_valid(const std::vector<graph::ParameterInfo>& params, std::size_t limit) {
  SCOPED_TRACE("bucket_bytes=" + std::to_string(limit));
  const auto buckets = assign_buckets(params, limit);
  std::vector<std::int64_t> covered(params.size(), 0);  // elements
  std::size_t previous = params.size();                 // last parameter of the previous bucket
  for (std::size_t k = 0; k < buckets.size(); ++k) {
    const auto& b = buckets[k];
    ASSERT_FALSE(b.parameters.empty());
    const auto hi_index = b.parameters.front();
    // Parameters go from the end of the arena to its start (backward's order);
    // the pieces of one parameter follow each other.
    if (previous < params.size() && hi_index != previous) {
      EXPECT_LT(hi_index, previous);
      EXPECT_EQ(covered[previous], params[previous].shape.numel()) << "a parameter's pieces are consecutive";
    }
    previous = b.parameters.back();
    if (b.piece_end > 0) {
      // A piece: the next elements of one parameter larger than the limit.
      ASSERT_EQ(b.parameters.size(), 1u);
      const auto& p = params[hi_index];
      EXPECT_TRUE(p.trainable) << hi_index;
      EXPECT_GT(static_cast<std::size_t>(p.shape.numel()) * sizeof(float), limit) << hi_index;
      EXPECT_LE(static_cast<std::size_t>(b.size) * sizeof(float), std::max(limit, sizeof(float)));
      EXPECT_EQ(b.offset, p.offset + covered[hi_index]) << "pieces in order, without gaps";
      EXPECT_EQ(b.piece_end, covered[hi_index] + b.size);
      covered[hi_index] += b.size;
      continue;
    }
    // Descending consecutive trainable indices: one contiguous arena range.
    for (std::size_t j = 0; j < b.parameters.size(); ++j) {
      const auto i = b.parameters[j];
      EXPECT_TRUE(params[i].trainable) << i;
      EXPECT_EQ(covered[i], 0) << i;
      covered[i] += params[i].shape.numel();
      if (j > 0) {
        EXPECT_EQ(i + 1, b.parameters[j - 1]);
      }
    }
    const auto& lo = params[b.parameters.back()];
    const auto& hi = params[hi_index];
    EXPECT_EQ(b.offset, lo.offset);
    EXPECT_EQ(b.offset + b.size, hi.offset + hi.shape.numel());
    if (b.parameters.size() > 1) {
      EXPECT_LE(static_cast<std::size_t>(b.size) * sizeof(float), limit);
    }
    // Greedy: the next bucket's first parameter did not fit (or a frozen one lies between).
    if (k + 1 < buckets.size()) {
      const auto next = buckets[k + 1].parameters.front();
      if (next + 1 == b.parameters.back()) {
        const auto would = hi.offset + hi.shape.numel() - params[next].offset;
        EXPECT_GT(static_cast<std::size_t>(would) * sizeof(float), limit);
      }
    }
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(covered[i], params[i].trainable ? params[i].shape.numel() : 0) << i;
  }
}

TEST(Buckets, EveryTrainableParameterExactlyOnceWithinTheLimit) {
  for (const auto& params : {mlp_parameters(), mixed_parameters()}) {
    for (std::size_t limit : {std::size_t{1}, std::size_t{64}, std::size_t{1000}, std::size_t{4096},
                              std::size_t{20000}, std::size_t{1} << 20, kMaxBucketBytes}) {
      expect_valid(params, limit);
    }
  }
}

TEST(Buckets, FrozenParametersSplitBucketsAndAreNeverReduced) {
  // mixed: p2, p6 and p7 are frozen, so the trainable runs are {0,1}, {3,4,5} and
  // {8..11} (5046 floats at most). With 16 MiB each run is one bucket, last first.
  const auto b = assign_buckets(mixed_parameters(), kMaxBucketBytes);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].parameters, (std::vector<std::size_t>{11, 10, 9, 8}));
  EXPECT_EQ(b[1].parameters, (std::vector<std::size_t>{5, 4, 3}));
  EXPECT_EQ(b[2].parameters, (std::vector<std::size_t>{1, 0}));
}

TEST(Buckets, OneFloatLimitGivesEachElementItsOwnBucket) {
  const auto params = mixed_parameters();
  const auto b = assign_buckets(params, sizeof(float));
  std::int64_t trainable = 0;
  for (const auto& p : params) trainable += p.trainable ? p.shape.numel() : 0;
  ASSERT_EQ(static_cast<std::int64_t>(b.size()), trainable);
  for (const auto& bk : b) EXPECT_EQ(bk.size, 1);
}

TEST(Buckets, PureFunctionSameOnEveryRank) {
  const auto params = mixed_parameters();
  std::vector<std::int64_t> flat;
  for (int run = 0; run < 2; ++run) {
    std::vector<std::int64_t> f;
    for (const auto& b : assign_buckets(params, 1000)) {
      f.push_back(b.offset);
      f.push_back(b.size);
      for (auto i : b.parameters) f.push_back(static_cast<std::int64_t>(i));
      f.push_back(-1);
    }
    if (run == 1) {
      EXPECT_EQ(f, flat);
    }
    flat = f;
  }
  auto& comm = dtrain::testing::mpi_comm();
  const auto h = checksum(std::as_bytes(std::span<const std::int64_t>(flat)));
  EXPECT_EQ(comm.allreduce_min(h), comm.allreduce_max(h));
}

TEST(Buckets, BadArgumentsAreNamed) {
  const auto params = mlp_parameters();
  EXPECT_THROW(assign_buckets(params, 0), ArgumentError);
  EXPECT_THROW(assign_buckets(params, kMaxBucketBytes + 1), ArgumentError);
  auto overlapping = params;
  overlapping[3].offset = overlapping[2].offset + 5;
  try {
    assign_buckets(overlapping, kDefaultBucketBytes);
    ADD_FAILURE() << "expected ArgumentError";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("dense_1/bias"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(assign_buckets({}, kDefaultBucketBytes).empty());
}

}  // namespace
}  // namespace dtrain::distributed
