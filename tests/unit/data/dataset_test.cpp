// Dataset structure and content checks: every bad input names file, dataset, row.
#include "data_test_util.hpp"

#include "dtrain/data/dataset.hpp"
#include "dtrain/data/inspect.hpp"
#include "dtrain/data/shard_reader.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

namespace dtrain::data {
namespace {

using testing::data_error;
using testing::H5Writer;
using testing::TempDir;

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << (msg)

std::string good_file(const TempDir& dir, const std::string& name = "good.h5") {
  const auto path = dir / name;
  H5Writer w(path);
  testing::write_counting_split(w, "train", 12, 3, 4);
  testing::write_counting_split(w, "test", 4, 3, 4);
  w.attr("/", "num_classes", std::int64_t{4});
  return path;
}

// Validation through every door: the info, the full scan and the reader.
std::string any_error(const std::string& path) {
  return data_error([&] {
    auto info = read_dataset_info(path);
    validate_dataset(info);
    ShardReaderOptions o;
    o.path = path;
    o.global_batch = 2;
    ShardReader r(o);
  });
}

TEST(Dataset, ReadsTheStructureOfAGoodFile) {
  TempDir dir;
  const auto info = read_dataset_info(good_file(dir));
  EXPECT_FALSE(info.unsplit);
  ASSERT_EQ(info.splits.size(), 2u);
  EXPECT_EQ(info.splits[0].name, "train");
  EXPECT_EQ(info.splits[0].rows, 12);
  EXPECT_EQ(info.splits[0].sample_shape, (Shape{3}));
  EXPECT_EQ(info.splits[1].name, "test");
  EXPECT_EQ(info.num_classes, 4);
  EXPECT_EQ(info.task, Task::kClassification);
  EXPECT_NO_THROW(validate_dataset(info));
  // y[i] = i % 4 over 12 rows: 3 of each class.
  EXPECT_EQ(class_histogram(info, "train"), (std::vector<std::int64_t>{3, 3, 3, 3}));
  EXPECT_EQ(detect_file_kind(info.path), FileKind::kDataset);
}

TEST(Dataset, MissingFile) {
  TempDir dir;
  const auto msg = any_error(dir / "nope.h5");
  EXPECT_HAS(msg, dir / "nope.h5");
  EXPECT_HAS(msg, "no such file");
}

TEST(Dataset, NotHdf5) {
  TempDir dir;
  testing::write_text(dir / "a.h5", "x,y\n1,2\n");
  const auto msg = any_error(dir / "a.h5");
  EXPECT_HAS(msg, dir / "a.h5: not an HDF5 file");
}

TEST(Dataset, TruncatedHdf5) {
  TempDir dir;
  const auto path = good_file(dir);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  const auto msg = any_error(path);
  EXPECT_HAS(msg, path + ": cannot open HDF5 file (truncated or damaged");
}

TEST(Dataset, MissingTrainX) {
  TempDir dir;
  const auto path = dir / "a.h5";
  {
    H5Writer w(path);
    w.ints("/train/y", {3}, {0, 1, 0});
    w.attr("/", "num_classes", std::int64_t{2});
  }
  EXPECT_HAS(any_error(path), path + ": dataset /train/x is missing");
  const auto empty = dir / "empty.h5";
  { H5Writer w(empty); }
  EXPECT_HAS(any_error(empty), empty + ": dataset /train/x is missing");
}

TEST(Dataset, XAndYOfDifferentLengths) {
  TempDir dir;
  const auto path = dir / "a.h5";
  {
    H5Writer w(path);
    w.floats("/train/x", {3, 1}, {1, 2, 3});
    w.ints("/train/y", {2}, {0, 1});
    w.attr("/", "num_classes", std::int64_t{2});
  }
  EXPECT_HAS(any_error(path), path + ": /train/x has 3 rows but /train/y has 2");
}

TEST(Dataset, UnsupportedDtypes) {
  TempDir dir;
  const auto a = dir / "a.h5";
  {
    H5Writer w(a);
    w.shorts("/train/x", {2, 1}, {1, 2});
    w.ints("/train/y", {2}, {0, 1});
    w.attr("/", "num_classes", std::int64_t{2});
  }
  EXPECT_HAS(any_error(a), a + ": /train/x has unsupported dtype int16");
  const auto b = dir / "b.h5";
  {
    H5Writer w(b);
    w.bytes("/train/x", {2, 1}, {1, 2});  // uint8 without scale
    w.ints("/train/y", {2}, {0, 1});
    w.attr("/", "num_classes", std::int64_t{2});
  }
  EXPECT_HAS(any_error(b), b + ": /train/x is uint8 but has no numeric 'scale' attribute");
  const auto c = dir / "c.h5";
  {
    H5Writer w(c);
    w.floats("/train/x", {2, 1}, {1, 2});
    w.shorts("/train/y", {2}, {0, 1});  // any integer type holds class ids
    w.attr("/", "num_classes", std::int64_t{2});
    w.floats("/test/x", {2, 1}, {1, 2});
    w.floats("/test/y", {2}, {0, 1});  // float targets next to class ids
  }
  EXPECT_HAS(any_error(c), "disagree: one holds class ids, the other float targets");
}

TEST(Dataset, LabelsOutsideTheClassRange) {
  TempDir dir;
  const auto path = dir / "a.h5";
  {
    H5Writer w(path);
    w.floats("/train/x", {9, 1}, std::vector<float>(9, 0.5f));
    w.ints("/train/y", {9}, {0, 1, 2, 0, 1, 2, 0, 3, -1});
    w.attr("/", "num_classes", std::int64_t{3});
  }
  EXPECT_HAS(any_error(path), path + ": /train/y row 7: label 3 outside [0, 3)");
  const auto info = read_dataset_info(path);
  EXPECT_HAS(data_error([&] { class_histogram(info, "train"); }), "/train/y row 7: label 3");
  const auto no_classes = dir / "b.h5";
  {
    H5Writer w(no_classes);
    w.floats("/train/x", {2, 1}, {1, 2});
    w.ints("/train/y", {2}, {0, 1});
  }
  EXPECT_HAS(any_error(no_classes), "root attribute num_classes is missing");
}

TEST(Dataset, NanOrInfInFeaturesReportsTheFirstRow) {
  TempDir dir;
  const auto path = dir / "a.h5";
  {
    H5Writer w(path);
    std::vector<float> x(40, 0.0f);
    x[4 * 4 + 2] = std::numeric_limits<float>::infinity();   // row 4
    x[9 * 4 + 0] = std::numeric_limits<float>::quiet_NaN();  // row 9
    w.floats("/train/x", {10, 4}, x);
    w.ints("/train/y", {10}, std::vector<std::int64_t>(10, 0));
    w.attr("/", "num_classes", std::int64_t{1});
  }
  EXPECT_HAS(any_error(path), path + ": /train/x row 4: Inf in features (feature 2)");
  const auto reg = dir / "b.h5";
  {
    H5Writer w(reg);
    w.floats("/train/x", {2, 1}, {1, 2});
    w.floats("/train/y", {2}, {0, std::numeric_limits<float>::quiet_NaN()});
  }
  EXPECT_HAS(any_error(reg), reg + ": /train/y row 1: NaN in targets");
}

TEST(Dataset, EmptySplit) {
  TempDir dir;
  const auto path = dir / "a.h5";
  {
    H5Writer w(path);
    w.floats("/train/x", {0, 3}, {});
    w.ints("/train/y", {0}, {});
    w.attr("/", "num_classes", std::int64_t{2});
  }
  EXPECT_HAS(any_error(path), path + ": split /train is empty (0 rows)");
}

TEST(Dataset, FewerRowsThanRanks) {
  TempDir dir;
  const auto path = dir / "a.h5";
  {
    H5Writer w(path);
    testing::write_counting_split(w, "train", 3, 2, 2);
    w.attr("/", "num_classes", std::int64_t{2});
  }
  ShardReaderOptions o;
  o.path = path;
  o.global_batch = 8;
  o.world_size = 4;
  o.rank = 3;
  const auto msg = data_error([&] { ShardReader r(o); });
  EXPECT_HAS(msg, path + ": /train/x has 3 rows, fewer than the 4 ranks");
}

TEST(Dataset, UnsplitFileAskedForTrainSaysToSplit) {
  TempDir dir;
  const auto path = dir / "a.h5";
  {
    H5Writer w(path);
    testing::write_counting_split(w, "", 6, 2, 2);
    w.attr("/", "num_classes", std::int64_t{2});
  }
  const auto info = read_dataset_info(path);
  EXPECT_TRUE(info.unsplit);
  EXPECT_EQ(info.splits.front().x_path(), "/x");
  EXPECT_HAS(data_error([&] { info.split("train"); }), "run `dtrain data split` first");
  ShardReaderOptions o;
  o.path = path;
  o.split = "";  // an unsplit file can still be read as a whole
  o.global_batch = 4;
  ShardReader r(o);
  EXPECT_EQ(r.split().rows, 6);
}

TEST(Dataset, CheckpointsAreNotDatasets) {
  TempDir dir;
  const auto path = dir / "ckpt.h5";
  {
    H5Writer w(path);
    w.attr("/", "format", std::string("dtrain-checkpoint"));
    w.group("/model");
  }
  EXPECT_EQ(detect_file_kind(path), FileKind::kCheckpoint);
  EXPECT_HAS(any_error(path), "format = \"dtrain-checkpoint\", not a dtrain dataset");
  std::ostringstream out;
  describe_hdf5(path, out);
  EXPECT_HAS(out.str(), "@format = \"dtrain-checkpoint\"");
  EXPECT_HAS(out.str(), "/model/");
  const auto other = dir / "other.h5";
  { H5Writer w(other); w.group("/g"); }
  EXPECT_EQ(detect_file_kind(other), FileKind::kOtherHdf5);
}

TEST(Dataset, DescribeShowsGroupsShapesDtypesAndClassHistogram) {
  TempDir dir;
  const auto info = read_dataset_info(good_file(dir));
  std::ostringstream out;
  describe_dataset(info, out);
  const auto s = out.str();
  EXPECT_HAS(s, "classification, 4 classes");
  EXPECT_HAS(s, "/train  12 rows");
  EXPECT_HAS(s, "x  float32 [12, 3]");
  EXPECT_HAS(s, "y  int64 [12] class ids");
  EXPECT_HAS(s, "classes: 0:3 1:3 2:3 3:3");
  EXPECT_HAS(s, "/test  4 rows");
  EXPECT_HAS(s, "num_classes = 4");
}

TEST(Dataset, DescribeShowsLabelsAsTheyAreStored) {
  // float64 [N] targets were shown as "float32 [N, 1]".
  TempDir dir;
  const auto one_target = dir / "reg1.h5";
  {
    H5Writer w(one_target);
    w.floats("/x", {3, 2}, {1, 2, 3, 4, 5, 6});
    w.doubles("/y", {3}, {0.5, 1.5, 2.5});
  }
  std::ostringstream one;
  describe_dataset(read_dataset_info(one_target), one);
  EXPECT_HAS(one.str(), "y  float64 [3] target (read as float32)");
  const auto two_targets = dir / "reg2.h5";
  {
    H5Writer w(two_targets);
    w.floats("/x", {3, 2}, {1, 2, 3, 4, 5, 6});
    w.floats("/y", {3, 2}, {0.5, 1.5, 2.5, 1, 2, 3});
  }
  std::ostringstream two;
  describe_dataset(read_dataset_info(two_targets), two);
  EXPECT_HAS(two.str(), "y  float32 [3, 2] targets\n");
  const auto int16_ids = dir / "ids16.h5";
  {
    H5Writer w(int16_ids);
    w.floats("/x", {2, 1}, {1, 2});
    w.shorts("/y", {2}, {0, 1});
    w.attr("/", "num_classes", std::int64_t{2});
  }
  std::ostringstream ids;
  describe_dataset(read_dataset_info(int16_ids), ids);
  EXPECT_HAS(ids.str(), "y  int16 [2] class ids");
}

}  // namespace
}  // namespace dtrain::data
