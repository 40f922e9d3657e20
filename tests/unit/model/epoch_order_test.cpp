// One epoch order for every batch source: with the same seed, in-memory arrays
// (ArrayBatchSource) and an HDF5 file written by dtrain's importer (Hdf5BatchSource
// over data::ShardReader) give every rank the same rows in the same batches, epoch
// after epoch, and a resumed epoch continues with the same batches.
#include "dtrain/data/import.hpp"
#include "dtrain/model/batch_source.hpp"
#include "dtrain/model/hdf5_batch_source.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace dtrain {
namespace {

constexpr std::int64_t kRows = 23, kBatch = 5;

// Row i: features (i / 2, i - 11), label i (so y names the row in both sources).
// The files live in a directory of this process, removed with the fixture.
struct Fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("dtrain-epoch-order-" + std::to_string(::getpid()));
  std::string h5 = (dir / "rows.h5").string();
  Tensor x{Shape{kRows, 2}};
  Tensor y{Shape{kRows}};
  Fixture() {
    std::filesystem::create_directories(dir);
    const std::string csv = (dir / "rows.csv").string();
    std::ofstream out(csv);
    out << "a,b,label\n";
    for (std::int64_t i = 0; i < kRows; ++i) {
      x[2 * i] = static_cast<float>(i) / 2;
      x[2 * i + 1] = static_cast<float>(i - 11);
      y[i] = static_cast<float>(i);
      out << x[2 * i] << ',' << x[2 * i + 1] << ',' << i << '\n';
    }
    out.close();
    data::import_csv({.input = csv, .output = h5, .label_columns = {"label"}, .force = true});
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;
  data::ShardReaderOptions hdf5(std::uint64_t seed, int rank, int world) const {
    return {.path = h5, .split = "", .global_batch = kBatch, .rank = rank, .world_size = world, .seed = seed};
  }
  ArrayBatchOptions arrays(std::uint64_t seed, int rank, int world) const {
    return {.batch_size = kBatch, .shuffle = true, .seed = seed, .rank = rank, .world_size = world};
  }
};

void expect_same_batch(const Batch& a, const Batch& h, const std::string& where) {
  ASSERT_EQ(a.size, h.size) << where;
  EXPECT_EQ(a.global_size, h.global_size) << where;
  EXPECT_EQ(a.offset, h.offset) << where;
  EXPECT_EQ(a.epoch, h.epoch) << where;
  EXPECT_EQ(a.step, h.step) << where;
  EXPECT_EQ(std::vector<std::int64_t>(a.rows.begin(), a.rows.end()),
            std::vector<std::int64_t>(h.rows.begin(), h.rows.end()))
      << where;
  ASSERT_EQ(a.x.shape, h.x.shape) << where;
  ASSERT_EQ(a.y.shape, h.y.shape) << where;
  for (std::int64_t i = 0; i < a.x.size(); ++i) EXPECT_EQ(a.x.data[i], h.x.data[i]) << where;
  for (std::int64_t i = 0; i < a.y.size(); ++i) {
    EXPECT_EQ(a.y.data[i], h.y.data[i]) << where;
    EXPECT_EQ(a.y.data[i], static_cast<float>(a.rows[static_cast<std::size_t>(i)])) << where;
  }
}

TEST(EpochOrder, ArraysAndHdf5GiveTheSameBatchesForOneToThreeRanks) {
  const Fixture f;
  for (int world = 1; world <= 3; ++world) {
    for (int rank = 0; rank < world; ++rank) {
      ArrayBatchSource arrays(f.x, f.y, f.arrays(42, rank, world));
      Hdf5BatchSource file(f.hdf5(42, rank, world));
      ASSERT_EQ(arrays.steps_per_epoch(), file.steps_per_epoch());
      for (std::int64_t epoch = 0; epoch < 3; ++epoch) {
        arrays.start_epoch(epoch);
        file.start_epoch(epoch);
        for (std::int64_t s = 0; s < arrays.steps_per_epoch(); ++s) {
          expect_same_batch(arrays.next(), file.next(),
                            "P=" + std::to_string(world) + " r=" + std::to_string(rank) + " epoch " +
                                std::to_string(epoch) + " step " + std::to_string(s));
        }
      }
    }
  }
}

TEST(EpochOrder, TheOrderDependsOnTheSeedAndTheEpochOnly) {
  const Fixture f;
  const auto first_rows = [](BatchSource& s, std::int64_t epoch) {
    s.start_epoch(epoch);
    const Batch& b = s.next();
    return std::vector<std::int64_t>(b.rows.begin(), b.rows.end());
  };
  ArrayBatchSource a42(f.x, f.y, f.arrays(42, 0, 1)), a43(f.x, f.y, f.arrays(43, 0, 1));
  Hdf5BatchSource h42(f.hdf5(42, 0, 1)), h43(f.hdf5(43, 0, 1));
  EXPECT_EQ(first_rows(a43, 0), first_rows(h43, 0));
  EXPECT_NE(first_rows(a42, 0), first_rows(a43, 0));
  EXPECT_NE(first_rows(h42, 0), first_rows(h42, 1));
  EXPECT_EQ(first_rows(h42, 1), first_rows(a42, 1));
}

TEST(EpochOrder, AResumedEpochContinuesWithTheSameBatches) {
  // A checkpoint keeps (seed, epoch, step): starting the epoch at that step gives
  // the batches the uninterrupted run would have seen, from either source.
  const Fixture f;
  for (int rank = 0; rank < 2; ++rank) {
    ArrayBatchSource full(f.x, f.y, f.arrays(7, rank, 2));
    ArrayBatchSource arrays(f.x, f.y, f.arrays(7, rank, 2));
    Hdf5BatchSource file(f.hdf5(7, rank, 2));
    full.start_epoch(1);
    full.next();
    full.next();
    arrays.start_epoch(1, 2);
    file.start_epoch(1, 2);
    for (std::int64_t s = 2; s < full.steps_per_epoch(); ++s) {
      const Batch& expected = full.next();
      const std::string where = "r=" + std::to_string(rank) + " step " + std::to_string(s);
      expect_same_batch(expected, arrays.next(), where);
      expect_same_batch(expected, file.next(), where);
    }
  }
}

}  // namespace
}  // namespace dtrain
