// BatchPlan: every rank's part of every global batch.
#include "dtrain/core/error.hpp"
#include "dtrain/data/sharding.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dtrain::data {
namespace {

TEST(BatchPlan, HandWorkedExample) {
  // N = 10, B = 4, P = 3: steps = ceil(10/4) = 3. Global batches cover positions
  // [0,4), [4,8), [8,10). Step 0: G = 4 = 3*1 + 1 -> counts 2, 1, 1 at offsets 0, 2, 3.
  // Step 2: G = 2 < P -> counts 1, 1, 0 at offsets 8, 9, 10.
  BatchPlan plan(10, 4, 3);
  EXPECT_EQ(plan.steps(), 3);
  EXPECT_EQ(plan.global_count(0), 4);
  EXPECT_EQ(plan.global_count(2), 2);
  EXPECT_EQ(plan.part(0, 0).offset, 0);
  EXPECT_EQ(plan.part(0, 0).count, 2);
  EXPECT_EQ(plan.part(0, 1).offset, 2);
  EXPECT_EQ(plan.part(0, 1).count, 1);
  EXPECT_EQ(plan.part(0, 2).offset, 3);
  EXPECT_EQ(plan.part(0, 2).count, 1);
  EXPECT_EQ(plan.part(2, 0).offset, 8);
  EXPECT_EQ(plan.part(2, 1).offset, 9);
  EXPECT_EQ(plan.part(2, 2).count, 0);
  EXPECT_EQ(plan.max_part(), 2);  // ceil(4 / 3)
  EXPECT_EQ(plan.samples_per_epoch(), 10);
}

TEST(BatchPlan, PartsTileEveryGlobalBatchForOneToFiveRanks) {
  for (std::int64_t rows : {5, 17, 100, 257}) {
    for (std::int64_t batch : {5, 8, 32}) {
      const BatchPlan one(rows, batch, 1);
      for (int p = 1; p <= 5; ++p) {
        const BatchPlan plan(rows, batch, p);
        ASSERT_EQ(plan.steps(), one.steps());  // every rank count agrees on the steps
        std::vector<int> hits(static_cast<std::size_t>(rows), 0);
        for (std::int64_t s = 0; s < plan.steps(); ++s) {
          std::int64_t next = s * batch, total = 0;
          for (int r = 0; r < p; ++r) {
            const auto part = plan.part(s, r);
            EXPECT_EQ(part.offset, next) << "contiguous, ranks in order";
            EXPECT_GE(part.count, plan.global_count(s) / p);
            EXPECT_LE(part.count, plan.global_count(s) / p + 1);
            EXPECT_LE(part.count, plan.max_part());
            for (std::int64_t i = 0; i < part.count; ++i) ++hits[static_cast<std::size_t>(part.offset + i)];
            next += part.count;
            total += part.count;
          }
          EXPECT_EQ(total, plan.global_count(s));
          EXPECT_EQ(plan.global_count(s), one.global_count(s));
        }
        for (int h : hits) ASSERT_EQ(h, 1) << "rows " << rows << " batch " << batch << " P " << p;
      }
    }
  }
}

TEST(BatchPlan, DropRemainder) {
  BatchPlan plan(10, 4, 2, /*drop_remainder=*/true);
  EXPECT_EQ(plan.steps(), 2);
  EXPECT_EQ(plan.samples_per_epoch(), 8);
  BatchPlan small(3, 4, 1, true);  // never drops the only batch
  EXPECT_EQ(small.steps(), 1);
}

TEST(BatchPlan, RejectsImpossibleShapes) {
  EXPECT_THROW(BatchPlan(10, 2, 3), ArgumentError);  // batch < ranks
  EXPECT_THROW(BatchPlan(2, 4, 3), ArgumentError);   // rows < ranks
  EXPECT_THROW(BatchPlan(10, 4, 0), ArgumentError);
  BatchPlan plan(10, 4, 2);
  EXPECT_THROW(plan.part(3, 0), ArgumentError);
  EXPECT_THROW(plan.part(0, 2), ArgumentError);
}

}  // namespace
}  // namespace dtrain::data
