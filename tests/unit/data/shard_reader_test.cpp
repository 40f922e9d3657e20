// ShardReader on real HDF5 files: shards, epoch orders, global batches, conversions.
#include "data_test_util.hpp"

#include "dtrain/data/shard_reader.hpp"
#include "dtrain/data/shuffle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace dtrain::data {
namespace {

using testing::H5Writer;
using testing::TempDir;

constexpr std::int64_t kRows = 103;
constexpr std::int64_t kFeatures = 6;  // stored as [N, 2, 3]

// x[i] = {10 i, 10 i + 1, ..., 10 i + 5} as [2, 3]; y[i] = i % 5.
std::string counting_file(const TempDir& dir) {
  const auto path = dir / "count.h5";
  H5Writer w(path);
  std::vector<float> x;
  std::vector<std::int64_t> y;
  for (std::int64_t i = 0; i < kRows; ++i) {
    for (std::int64_t f = 0; f < kFeatures; ++f) x.push_back(static_cast<float>(10 * i + f));
    y.push_back(i % 5);
  }
  w.floats("/train/x", {kRows, 2, 3}, x);
  w.ints("/train/y", {kRows}, y);
  w.floats("/test/x", {1, 2, 3}, {0, 1, 2, 3, 4, 5});
  w.ints("/test/y", {1}, {0});
  w.attr("/", "num_classes", std::int64_t{5});
  return path;
}

ShardReaderOptions options(const std::string& path, int rank, int world, std::int64_t batch) {
  ShardReaderOptions o;
  o.path = path;
  o.global_batch = batch;
  o.rank = rank;
  o.world_size = world;
  o.seed = 11;
  return o;
}

// Every batch must hold the rows it names, converted right.
void expect_rows_match(const Batch& b) {
  ASSERT_EQ(b.x.shape, (Shape{b.size, 2, 3}));
  ASSERT_EQ(b.y.shape, (Shape{b.size}));
  for (std::int64_t i = 0; i < b.size; ++i) {
    const auto row = b.rows[static_cast<std::size_t>(i)];
    for (std::int64_t f = 0; f < kFeatures; ++f) {
      ASSERT_EQ(b.x.data[i * kFeatures + f], static_cast<float>(10 * row + f));
    }
    ASSERT_EQ(b.y.data[i], static_cast<float>(row % 5));
  }
}

TEST(ShardReader, ShardsAreDisjointAndCoverEveryRowOncePerEpochForOneToFiveRanks) {
  TempDir dir;
  const auto path = counting_file(dir);
  for (int world = 1; world <= 5; ++world) {
    std::vector<ShardReader> readers;
    for (int r = 0; r < world; ++r) readers.emplace_back(options(path, r, world, 16));
    const auto steps = readers[0].steps_per_epoch();
    EXPECT_EQ(steps, 7);  // ceil(103 / 16)
    for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
      const auto perm = epoch_permutation(kRows, 11, epoch);
      std::vector<int> hits(kRows, 0);
      for (auto& rd : readers) rd.start_epoch(epoch);
      for (std::int64_t s = 0; s < steps; ++s) {
        // The global batch s of the 1-rank run: perm positions [16 s, 16 s + G).
        const auto g = std::min<std::int64_t>(16, kRows - 16 * s);
        std::set<std::int64_t> global(perm.begin() + 16 * s, perm.begin() + 16 * s + g);
        std::set<std::int64_t> from_ranks;
        for (int r = 0; r < world; ++r) {
          const Batch* b = readers[static_cast<std::size_t>(r)].next();
          ASSERT_NE(b, nullptr);
          EXPECT_EQ(b->step, s);
          EXPECT_EQ(b->epoch, epoch);
          EXPECT_EQ(b->global_size, g);
          EXPECT_EQ(b->size, readers[0].count(s, r)) << "every rank knows every count";
          expect_rows_match(*b);
          for (auto row : b->rows) {
            ++hits[static_cast<std::size_t>(row)];
            from_ranks.insert(row);
          }
        }
        EXPECT_EQ(from_ranks, global) << "P = " << world << " step " << s;
      }
      for (auto& rd : readers) EXPECT_EQ(rd.next(), nullptr);
      for (int h : hits) ASSERT_EQ(h, 1) << "P = " << world;
    }
  }
}

TEST(ShardReader, EpochOrderIsReproducibleAndDiffersAcrossEpochs) {
  TempDir dir;
  const auto path = counting_file(dir);
  auto rows_of_epoch = [&](ShardReaderOptions o, std::int64_t epoch) {
    ShardReader rd(o);
    rd.start_epoch(epoch);
    std::vector<std::int64_t> rows;
    while (const Batch* b = rd.next()) rows.insert(rows.end(), b->rows.begin(), b->rows.end());
    return rows;
  };
  auto o = options(path, 1, 3, 10);
  const auto e0 = rows_of_epoch(o, 0);
  EXPECT_EQ(rows_of_epoch(o, 0), e0);
  EXPECT_NE(rows_of_epoch(o, 1), e0);
  o.prefetch = false;
  EXPECT_EQ(rows_of_epoch(o, 0), e0) << "prefetch does not change the order";
  o.direct_reads = false;
  EXPECT_EQ(rows_of_epoch(o, 0), e0);
  o.seed = 12;
  EXPECT_NE(rows_of_epoch(o, 0), e0);
}

TEST(ShardReader, HyperslabAndDirectReadsGiveTheSameBatches) {
  TempDir dir;
  const auto path = counting_file(dir);
  for (bool direct : {false, true}) {
    auto o = options(path, 0, 2, 8);
    o.direct_reads = direct;
    ShardReader rd(o);
    EXPECT_EQ(rd.reads_directly(), direct) << "contiguous float32 allows pread";
    rd.start_epoch(3);
    std::int64_t seen = 0;
    while (const Batch* b = rd.next()) {
      expect_rows_match(*b);
      seen += b->size;
    }
    EXPECT_EQ(seen, 52);  // rank 0 of 2 over 13 steps of 8: 4 each of the 12 full + 4 of the last 7
  }
}

TEST(ShardReader, ResumesInTheMiddleOfAnEpoch) {
  TempDir dir;
  const auto path = counting_file(dir);
  ShardReader full(options(path, 0, 2, 16));
  ShardReader resumed(options(path, 0, 2, 16));
  full.start_epoch(4);
  resumed.start_epoch(4, 3);
  for (int s = 0; s < 3; ++s) ASSERT_NE(full.next(), nullptr);
  while (const Batch* a = full.next()) {
    const Batch* b = resumed.next();
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(a->step, b->step);
    EXPECT_TRUE(std::equal(a->rows.begin(), a->rows.end(), b->rows.begin(), b->rows.end()));
  }
  EXPECT_EQ(resumed.next(), nullptr);
}

TEST(ShardReader, WithoutShuffleReadsInFileOrder) {
  TempDir dir;
  const auto path = counting_file(dir);
  auto o = options(path, 0, 1, 50);
  o.shuffle = false;
  ShardReader rd(o);
  rd.start_epoch(0);
  std::int64_t expect = 0;
  while (const Batch* b = rd.next()) {
    expect_rows_match(*b);
    for (auto r : b->rows) EXPECT_EQ(r, expect++);
  }
  EXPECT_EQ(expect, kRows);
}

TEST(ShardReader, Uint8WithScaleIsReadAsFloats) {
  TempDir dir;
  const auto path = dir / "u8.h5";
  {
    H5Writer w(path);
    // 4 rows of 3 bytes: row i = {i, 100 + i, 255 - i}.
    std::vector<std::uint8_t> x;
    for (int i = 0; i < 4; ++i) {
      x.push_back(static_cast<std::uint8_t>(i));
      x.push_back(static_cast<std::uint8_t>(100 + i));
      x.push_back(static_cast<std::uint8_t>(255 - i));
    }
    w.bytes("/train/x", {4, 3}, x);
    w.attr("/train/x", "scale", 0.25);
    w.ints("/train/y", {4}, {0, 1, 2, 0});
    w.attr("/", "num_classes", std::int64_t{3});
  }
  for (bool direct : {false, true}) {
    auto o = options(path, 0, 1, 4);
    o.shuffle = false;
    o.direct_reads = direct;
    ShardReader rd(o);
    EXPECT_EQ(rd.reads_directly(), direct);
    EXPECT_EQ(rd.split().x_type, StorageType::kUint8);
    EXPECT_EQ(rd.split().scale, 0.25f);
    rd.start_epoch(0);
    const Batch* b = rd.next();
    ASSERT_NE(b, nullptr);
    // value = stored * 0.25, exact in float: 255 * 0.25 = 63.75, 101 * 0.25 = 25.25.
    const std::vector<float> expected = {0, 25, 63.75f, 0.25f, 25.25f, 63.5f,
                                         0.5f, 25.5f, 63.25f, 0.75f, 25.75f, 63};
    ASSERT_EQ(b->x.size(), 12);
    for (int i = 0; i < 12; ++i) EXPECT_EQ(b->x.data[i], expected[static_cast<std::size_t>(i)]) << i;
    EXPECT_EQ(b->y.data[2], 2.0f);
  }
}

TEST(ShardReader, RegressionTargetsAndFloat64Features) {
  TempDir dir;
  const auto path = dir / "reg.h5";
  {
    H5Writer w(path);
    w.doubles("/train/x", {3, 2}, {0.5, 1.5, 2.5, 3.5, 4.5, 5.5});  // float64: converted
    w.floats("/train/y", {3, 2}, {1, -1, 2, -2, 3, -3});
  }
  auto o = options(path, 0, 1, 3);
  o.shuffle = false;
  ShardReader rd(o);
  EXPECT_FALSE(rd.reads_directly()) << "float64 x needs HDF5's conversion";
  EXPECT_EQ(rd.split().task, Task::kRegression);
  EXPECT_EQ(rd.split().targets, 2);
  rd.start_epoch(0);
  const Batch* b = rd.next();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->y.shape, (Shape{3, 2}));
  EXPECT_EQ(b->x.data[5], 5.5f);
  EXPECT_EQ(b->y.data[3], -2.0f);
}

TEST(ShardReader, BadRowsFoundWhenReadingNameFileDatasetAndRow) {
  TempDir dir;
  const auto path = dir / "nan.h5";
  {
    H5Writer w(path);
    std::vector<float> x(20, 1.0f);
    x[2 * 7 + 1] = std::numeric_limits<float>::quiet_NaN();  // row 7
    w.floats("/train/x", {10, 2}, x);
    w.ints("/train/y", {10}, std::vector<std::int64_t>(10, 0));
    w.attr("/", "num_classes", std::int64_t{1});
  }
  auto o = options(path, 0, 1, 10);
  o.check_stripe = false;  // let the batch read find it
  ShardReader rd(o);
  rd.start_epoch(0);
  const auto msg = testing::data_error([&] { rd.next(); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("/train/x row 7: NaN"), std::string::npos) << msg;
  // The stripe check finds it at construction for the rank whose stripe holds row 7.
  const auto at_open = testing::data_error([&] { ShardReader(options(path, 1, 2, 10)); });
  EXPECT_NE(at_open.find("/train/x row 7: NaN"), std::string::npos) << at_open;
  EXPECT_NO_THROW(ShardReader(options(path, 0, 2, 10)));  // rows [0, 5) are clean
}

}  // namespace
}  // namespace dtrain::data
