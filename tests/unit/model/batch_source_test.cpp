// ArrayBatchSource: each rank's rows of every global batch, in the epoch's order;
// uint8 x with a scale gives the same batches as the float array it stands for.
#include "dtrain/core/error.hpp"
#include "dtrain/model/batch_source.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <vector>

namespace dtrain {
namespace {

constexpr std::int64_t kRows = 23, kFeatures = 3;

BasicTensor<std::uint8_t> bytes() {
  BasicTensor<std::uint8_t> x({kRows, kFeatures});
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<std::uint8_t>((i * 37) % 256);
  return x;
}

Tensor labels() {
  Tensor y({kRows});
  for (std::int64_t i = 0; i < kRows; ++i) y[i] = static_cast<float>(i);  // y names the row
  return y;
}

TEST(ArrayBatchSource, RanksSplitEachGlobalBatchAndCoverTheEpochOnce) {
  const auto xb = bytes();
  Tensor x({kRows, kFeatures});
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = xb[i];
  const auto y = labels();
  std::multiset<float> seen;
  for (int rank = 0; rank < 3; ++rank) {
    ArrayBatchSource s(x, y, {.batch_size = 8, .shuffle = true, .seed = 5, .rank = rank, .world_size = 3});
    ASSERT_EQ(s.steps_per_epoch(), 3);  // 8 + 8 + 7 rows
    s.start_epoch(2);
    for (std::int64_t step = 0; step < 3; ++step) {
      const auto& b = s.next();
      EXPECT_EQ(b.global_size, step < 2 ? 8 : 7);
      for (std::int64_t i = 0; i < b.size; ++i) {
        const auto row = static_cast<std::int64_t>(b.y.data[i]);
        seen.insert(b.y.data[i]);
        for (std::int64_t j = 0; j < kFeatures; ++j) EXPECT_EQ(b.x.data[i * kFeatures + j], x[row * kFeatures + j]);
      }
    }
    EXPECT_THROW(s.next(), Error);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kRows));
  EXPECT_EQ(std::set<float>(seen.begin(), seen.end()).size(), static_cast<std::size_t>(kRows));
}

TEST(ArrayBatchSource, Uint8WithScaleGivesTheFloatBatchesBitwise) {
  const auto xb = bytes();
  const float scale = 1.0f / 255.0f;
  Tensor x({kRows, kFeatures});
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(xb[i]) * scale;
  const auto y = labels();
  ArrayBatchSource f(x, y, {.batch_size = 5, .seed = 9, .rank = 1, .world_size = 2});
  ArrayBatchSource u(xb, scale, y, {.batch_size = 5, .seed = 9, .rank = 1, .world_size = 2});
  EXPECT_EQ(u.x_sample_shape(), f.x_sample_shape());
  f.start_epoch(1);
  u.start_epoch(1);
  for (std::int64_t step = 0; step < f.steps_per_epoch(); ++step) {
    const auto& a = f.next();
    const auto& b = u.next();
    ASSERT_EQ(a.size, b.size);
    ASSERT_EQ(a.x.shape, b.x.shape);
    for (std::int64_t i = 0; i < a.x.size(); ++i) EXPECT_EQ(a.x.data[i], b.x.data[i]) << step << " " << i;
    for (std::int64_t i = 0; i < a.y.size(); ++i) EXPECT_EQ(a.y.data[i], b.y.data[i]);
  }
}

TEST(ArrayBatchSource, BadArraysAreErrors) {
  const auto xb = bytes();
  const auto y = labels();
  Tensor short_y({kRows - 1});
  EXPECT_THROW(ArrayBatchSource(xb, 1.0f, short_y, {}), ShapeError);
  EXPECT_THROW(ArrayBatchSource(xb, 1.0f, y, {.batch_size = 0}), ArgumentError);
  EXPECT_THROW(ArrayBatchSource(xb, std::numeric_limits<float>::infinity(), y, {}), ArgumentError);
  EXPECT_THROW(ArrayBatchSource(xb, 1.0f, y, {.rank = 2, .world_size = 2}), ArgumentError);
}

}  // namespace
}  // namespace dtrain
