// Splitting: exact counts, stratification, determinism, files.
#include "data_test_util.hpp"

#include "dtrain/data/shard_reader.hpp"
#include "dtrain/data/split.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace dtrain::data {
namespace {

using testing::H5Writer;
using testing::TempDir;

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << (msg)

std::int64_t count_of(const std::vector<SplitPart>& parts, SplitPart p) {
  return std::count(parts.begin(), parts.end(), p);
}

TEST(Apportion, LargestRemainderByHand) {
  // 3 items over sizes {5, 3, 2} (n = 10): quotas 1.5, 0.9, 0.6. Floors {1, 0, 0} give 1;
  // the two left go to the largest remainders, 0.9 (class 1) and 0.6 (class 2).
  const std::vector<std::int64_t> sizes = {5, 3, 2};
  EXPECT_EQ(apportion(3, sizes, sizes), (std::vector<std::int64_t>{1, 1, 1}));
  // 5 over {50, 30, 20}: quotas 2.5, 1.5, 1.0 -> floors {2, 1, 1} = 4; remainders 0.5,
  // 0.5, 0: the tie goes to the smaller class id -> {3, 1, 1}.
  const std::vector<std::int64_t> big = {50, 30, 20};
  EXPECT_EQ(apportion(5, big, big), (std::vector<std::int64_t>{3, 1, 1}));
  // Capacity: class 0 may take at most 1, the rest goes elsewhere.
  const std::vector<std::int64_t> cap = {1, 30, 20};
  const auto capped = apportion(5, big, cap);
  EXPECT_EQ(capped[0], 1);
  EXPECT_EQ(capped[0] + capped[1] + capped[2], 5);
}

TEST(AssignSplit, CountsAreRoundedFractionsOfN) {
  for (std::int64_t n : {10, 97, 1000, 1001}) {
    const auto parts = assign_split(n, {}, 0, 0.2, 0.1, 5);
    EXPECT_EQ(count_of(parts, SplitPart::kTest), std::llround(0.2 * static_cast<double>(n)));
    EXPECT_EQ(count_of(parts, SplitPart::kVal), std::llround(0.1 * static_cast<double>(n)));
    EXPECT_LE(std::abs(static_cast<double>(count_of(parts, SplitPart::kTest)) - 0.2 * static_cast<double>(n)), 1.0);
  }
  EXPECT_EQ(assign_split(100, {}, 0, 0.2, 0.1, 5), assign_split(100, {}, 0, 0.2, 0.1, 5));
  EXPECT_NE(assign_split(100, {}, 0, 0.2, 0.1, 5), assign_split(100, {}, 0, 0.2, 0.1, 6));
}

TEST(AssignSplit, StratifiedKeepsClassProportions) {
  // Classes of 500, 300, 200 rows (interleaved); test 0.25: quotas 125, 75, 50, exact.
  // val 0.1: 50, 30, 20.
  std::vector<std::int64_t> labels;
  for (int i = 0; i < 1000; ++i) labels.push_back(i % 10 < 5 ? 0 : (i % 10 < 8 ? 1 : 2));
  const auto parts = assign_split(1000, labels, 3, 0.25, 0.1, 9);
  std::int64_t test[3] = {0, 0, 0}, val[3] = {0, 0, 0};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == SplitPart::kTest) ++test[labels[i]];
    if (parts[i] == SplitPart::kVal) ++val[labels[i]];
  }
  EXPECT_EQ(test[0], 125);
  EXPECT_EQ(test[1], 75);
  EXPECT_EQ(test[2], 50);
  EXPECT_EQ(val[0], 50);
  EXPECT_EQ(val[1], 30);
  EXPECT_EQ(val[2], 20);
  // Uneven: 7 classes of 13 rows, test 0.3 of 91 = 27.3 -> 27 rows; each class gets
  // floor or ceil of 3.9, i.e. 3 or 4.
  std::vector<std::int64_t> l7;
  for (int i = 0; i < 91; ++i) l7.push_back(i % 7);
  const auto p7 = assign_split(91, l7, 7, 0.3, 0.0, 1);
  EXPECT_EQ(count_of(p7, SplitPart::kTest), 27);
  for (int c = 0; c < 7; ++c) {
    std::int64_t k = 0;
    for (std::size_t i = 0; i < p7.size(); ++i) k += (l7[i] == c && p7[i] == SplitPart::kTest);
    EXPECT_TRUE(k == 3 || k == 4) << "class " << c << ": " << k;
  }
}

TEST(AssignSplit, RejectsBadFractions) {
  EXPECT_THROW(assign_split(10, {}, 0, 0.6, 0.4, 1), ArgumentError);  // no training rows
  EXPECT_THROW(assign_split(10, {}, 0, 1.0, 0.0, 1), ArgumentError);
  EXPECT_THROW(assign_split(10, {}, 0, -0.1, 0.0, 1), ArgumentError);
  EXPECT_THROW(assign_split(10, {}, 0, 0.01, 0.0, 1), ArgumentError);  // round(0.1) = 0 rows
}

// All rows of a split, decoded from x = 10 * row + f (write_counting_split).
std::multiset<std::int64_t> source_rows(const std::string& path, const std::string& split,
                                        std::vector<std::int64_t>* class_count = nullptr) {
  ShardReaderOptions o;
  o.path = path;
  o.split = split;
  o.shuffle = false;
  o.global_batch = 64;
  ShardReader r(o);
  r.start_epoch(0);
  std::multiset<std::int64_t> rows;
  while (const Batch* b = r.next()) {
    for (std::int64_t i = 0; i < b->size; ++i) {
      rows.insert(static_cast<std::int64_t>(b->x.data[i * 2]) / 10);
      if (class_count) ++(*class_count)[static_cast<std::size_t>(b->y.data[i])];
    }
  }
  return rows;
}

TEST(SplitDataset, UnsplitFileIntoTrainValTestStratified) {
  TempDir dir;
  const auto in = dir / "in.h5";
  {
    H5Writer w(in);
    testing::write_counting_split(w, "", 200, 2, 4);  // y = row % 4: 50 per class
    w.attr("/", "num_classes", std::int64_t{4});
    w.attr("/", "source", std::string("unit test"));
  }
  SplitOptions o;
  o.input = in;
  o.output = dir / "out.h5";
  o.test_fraction = 0.2;
  o.val_fraction = 0.1;
  o.seed = 3;
  o.stratify = true;
  const auto info = split_dataset(o);
  EXPECT_EQ(info.split("train").rows, 140);
  EXPECT_EQ(info.split("val").rows, 20);
  EXPECT_EQ(info.split("test").rows, 40);
  ASSERT_TRUE(info.split_record.has_value());
  EXPECT_EQ(info.split_record->seed, 3u);
  EXPECT_TRUE(info.split_record->stratified);
  EXPECT_EQ(info.source, "unit test");
  std::multiset<std::int64_t> all;
  for (const char* s : {"train", "val", "test"}) {
    std::vector<std::int64_t> classes(4, 0);
    const auto rows = source_rows(o.output, s, &classes);
    all.insert(rows.begin(), rows.end());
    const auto n = info.split(s).rows;
    for (auto c : classes) EXPECT_EQ(c, n / 4) << s;  // every class keeps its quarter
  }
  std::multiset<std::int64_t> expected;
  for (int i = 0; i < 200; ++i) expected.insert(i);
  EXPECT_EQ(all, expected) << "every input row lands in exactly one part";
}

TEST(SplitDataset, ResplitsTrainAndCopiesTest) {
  TempDir dir;
  const auto in = dir / "in.h5";
  {
    H5Writer w(in);
    testing::write_counting_split(w, "train", 60, 2, 3);
    testing::write_counting_split(w, "test", 7, 2, 3);
    w.attr("/", "num_classes", std::int64_t{3});
  }
  SplitOptions o;
  o.input = in;
  o.output = dir / "out.h5";
  o.val_fraction = 0.25;
  o.seed = 1;
  const auto info = split_dataset(o);
  EXPECT_EQ(info.split("train").rows, 45);
  EXPECT_EQ(info.split("val").rows, 15);
  EXPECT_EQ(info.split("test").rows, 7);
  EXPECT_EQ(source_rows(o.output, "test"), source_rows(in, "test"));
  o.output = dir / "again.h5";
  o.test_fraction = 0.1;
  try {
    split_dataset(o);
    ADD_FAILURE() << "no error";
  } catch (const ArgumentError& e) {
    EXPECT_HAS(std::string(e.what()), "already has /test");
  }
  EXPECT_FALSE(std::filesystem::exists(o.output));
}

TEST(SplitDataset, RefusesBadDataBeforeWriting) {
  TempDir dir;
  const auto in = dir / "in.h5";
  {
    H5Writer w(in);
    w.floats("/x", {4, 1}, {1, 2, 3, 4});
    w.ints("/y", {4}, {0, 1, 7, 0});
    w.attr("/", "num_classes", std::int64_t{2});
  }
  SplitOptions o;
  o.input = in;
  o.output = dir / "out.h5";
  o.test_fraction = 0.25;
  EXPECT_HAS(testing::data_error([&] { split_dataset(o); }), in + ": /y row 2: label 7 outside [0, 2)");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"in.h5"});
}

}  // namespace
}  // namespace dtrain::data
