// IDX and CSV importers: round trips and bad input.
#include "data_test_util.hpp"

#include "dtrain/data/import.hpp"
#include "dtrain/data/shard_reader.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace dtrain::data {
namespace {

using testing::data_error;
using testing::TempDir;

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << (msg)

// All rows of a split in file order: x and y as the ShardReader gives them.
struct Rows {
  std::vector<float> x, y;
  Shape x_shape;
};
Rows read_all(const std::string& path, const std::string& split) {
  ShardReaderOptions o;
  o.path = path;
  o.split = split;
  o.shuffle = false;
  o.global_batch = 1000;
  ShardReader r(o);
  EXPECT_TRUE(r.reads_directly()) << "the importers write uncompressed chunks of whole rows";
  r.start_epoch(0);
  Rows out;
  while (const Batch* b = r.next()) {
    out.x.insert(out.x.end(), b->x.data, b->x.data + b->x.size());
    out.y.insert(out.y.end(), b->y.data, b->y.data + b->y.size());
    out.x_shape = b->x.shape;
  }
  return out;
}

std::vector<unsigned char> image_bytes(int rows, int pixels, int offset) {
  std::vector<unsigned char> v;
  for (int i = 0; i < rows * pixels; ++i) v.push_back(static_cast<unsigned char>((i * 7 + offset) % 256));
  return v;
}

class IdxImport : public ::testing::TestWithParam<bool> {};

TEST_P(IdxImport, RoundTripsImagesAndLabels) {
  const bool gz = GetParam();
  TempDir dir;
  // 5 training images of 2x3 pixels, 2 test images; labels 0..3.
  testing::write_idx(dir / "tr-img", 0x08, {5, 2, 3}, image_bytes(5, 6, 0), gz);
  testing::write_idx(dir / "tr-lab", 0x08, {5}, {3, 0, 1, 2, 1}, gz);
  testing::write_idx(dir / "te-img", 0x08, {2, 2, 3}, image_bytes(2, 6, 1), gz);
  testing::write_idx(dir / "te-lab", 0x08, {2}, {0, 2}, gz);
  IdxImportOptions o;
  o.images = dir / "tr-img";
  o.labels = dir / "tr-lab";
  o.test_images = dir / "te-img";
  o.test_labels = dir / "te-lab";
  o.output = dir / "out.h5";
  const auto info = import_idx(o);
  EXPECT_EQ(info.num_classes, 4);  // largest label 3, plus 1
  ASSERT_EQ(info.splits.size(), 2u);
  const auto& train = info.split("train");
  EXPECT_EQ(train.rows, 5);
  EXPECT_EQ(train.sample_shape, (Shape{2, 3, 1}));  // [N, H, W] -> NHWC with 1 channel
  EXPECT_EQ(train.x_type, StorageType::kUint8);
  EXPECT_EQ(train.scale, 1.0f / 255.0f);
  const auto rows = read_all(o.output, "train");
  const auto bytes = image_bytes(5, 6, 0);
  ASSERT_EQ(rows.x.size(), bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    EXPECT_EQ(rows.x[i], static_cast<float>(bytes[i]) * (1.0f / 255.0f)) << i;
  }
  EXPECT_EQ(rows.y, (std::vector<float>{3, 0, 1, 2, 1}));
  const auto test = read_all(o.output, "test");
  EXPECT_EQ(test.y, (std::vector<float>{0, 2}));
  // Test byte 1 is (1 * 7 + 1) % 256 = 8.
  EXPECT_EQ(test.x[1], 8.0f * (1.0f / 255.0f));
  EXPECT_EQ(dir.files().size(), 5u) << "no temporary left next to the output";
}

INSTANTIATE_TEST_SUITE_P(PlainAndGzip, IdxImport, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Gzip" : "Plain"; });

TEST(IdxImportFloat, Float32ImagesWithoutTestFilesGiveAnUnsplitFile) {
  TempDir dir;
  // Two rows of two big-endian float32: 1.5 = 0x3FC00000, -2 = 0xC0000000, 0.25 = 0x3E800000, 0.
  testing::write_idx(dir / "img", 0x0D, {2, 2},
                     {0x3F, 0xC0, 0, 0, 0xC0, 0, 0, 0, 0x3E, 0x80, 0, 0, 0, 0, 0, 0}, false);
  testing::write_idx(dir / "lab", 0x08, {2}, {1, 0}, false);
  IdxImportOptions o;
  o.images = dir / "img";
  o.labels = dir / "lab";
  o.output = dir / "out.h5";
  o.num_classes = 10;
  const auto info = import_idx(o);
  EXPECT_TRUE(info.unsplit);
  EXPECT_EQ(info.num_classes, 10);
  const auto rows = read_all(o.output, "");
  EXPECT_EQ(rows.x, (std::vector<float>{1.5f, -2.0f, 0.25f, 0.0f}));
  EXPECT_EQ(rows.x_shape, (Shape{2, 2}));
}

TEST(IdxImportErrors, NameTheFileAndLeaveNoOutput) {
  TempDir dir;
  testing::write_idx(dir / "img", 0x08, {3, 2, 2}, image_bytes(3, 4, 0), true);
  testing::write_idx(dir / "lab4", 0x08, {4}, {0, 1, 2, 3}, true);
  testing::write_idx(dir / "lab3", 0x08, {3}, {0, 1, 9}, false);
  testing::write_idx(dir / "short", 0x08, {3, 2, 2}, image_bytes(2, 4, 0), true);  // 2 of 3 rows
  testing::write_text(dir / "text", "hello world, not idx");
  IdxImportOptions o;
  o.output = dir / "out.h5";
  auto run = [&](const std::string& img, const std::string& lab, std::int64_t classes = 0) {
    o.images = dir / img;
    o.labels = dir / lab;
    o.num_classes = classes;
    return data_error([&] { import_idx(o); });
  };
  EXPECT_HAS(run("img", "lab4"), "has 3 rows but " + (dir / "lab4") + " has 4");
  EXPECT_HAS(run("short", "lab3"), dir / "short" + ": truncated: the file ends inside rows 0..2");
  EXPECT_HAS(run("text", "lab3"), dir / "text" + ": not an IDX file");
  EXPECT_HAS(run("missing", "lab3"), dir / "missing" + ": no such file");
  EXPECT_HAS(run("img", "lab3", 5), dir / "lab3" + ": row 2: label 9 outside [0, 5)");
  EXPECT_FALSE(std::filesystem::exists(o.output));
  EXPECT_EQ(dir.files().size(), 5u) << "no temporary left";
}

TEST(CsvImport, ClassificationWithHeaderRoundTrips) {
  TempDir dir;
  testing::write_text(dir / "in.csv",
                      "a,label,b\n"
                      "1.5,2,-3\n"
                      "\n"                       // blank lines are skipped
                      " 4 ,0,\"5e-1\"\r\n"        // spaces, CRLF, quotes
                      "7,1,8\n");
  CsvImportOptions o;
  o.input = dir / "in.csv";
  o.output = dir / "out.h5";
  o.label_columns = {"label"};
  const auto info = import_csv(o);
  EXPECT_TRUE(info.unsplit);
  EXPECT_EQ(info.num_classes, 3);
  EXPECT_EQ(info.splits.front().sample_shape, (Shape{2}));
  const auto rows = read_all(o.output, "");
  EXPECT_EQ(rows.x, (std::vector<float>{1.5f, -3, 4, 0.5f, 7, 8}));
  EXPECT_EQ(rows.y, (std::vector<float>{2, 0, 1}));
}

TEST(CsvImport, ClassNamesAreMappedInSortedOrder) {
  TempDir dir;
  testing::write_text(dir / "in.csv", "x;kind\n1;dog\n2;cat\n3;dog\n4;emu\n");
  CsvImportOptions o;
  o.input = dir / "in.csv";
  o.output = dir / "out.h5";
  o.label_columns = {"kind"};
  o.delimiter = ';';
  const auto info = import_csv(o);
  EXPECT_EQ(info.class_names, (std::vector<std::string>{"cat", "dog", "emu"}));
  EXPECT_EQ(read_all(o.output, "").y, (std::vector<float>{1, 0, 1, 2}));
}

TEST(CsvImport, RegressionWithoutHeaderByIndex) {
  TempDir dir;
  testing::write_text(dir / "in.csv", "1,10,2,20\n3,30,4,40\n");
  CsvImportOptions o;
  o.input = dir / "in.csv";
  o.output = dir / "out.h5";
  o.header = false;
  o.regression = true;
  o.label_columns = {"1", "3"};
  const auto info = import_csv(o);
  EXPECT_EQ(info.task, Task::kRegression);
  EXPECT_EQ(info.splits.front().targets, 2);
  const auto rows = read_all(o.output, "");
  EXPECT_EQ(rows.x, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(rows.y, (std::vector<float>{10, 20, 30, 40}));
}

TEST(CsvImport, BadCellsNameLineAndColumn) {
  TempDir dir;
  CsvImportOptions o;
  o.input = dir / "in.csv";
  o.output = dir / "out.h5";
  o.label_columns = {"y"};
  auto run = [&](const std::string& text) {
    testing::write_text(o.input, text);
    return data_error([&] { import_csv(o); });
  };
  EXPECT_HAS(run("a,b,y\n1,2,0\n1,2\n"), o.input + " line 3: 2 fields, expected 3 (as in the header)");
  EXPECT_HAS(run("a,b,y\n1,2,0\n1,x2,1\n"), o.input + " line 3, column 2 (b): 'x2' is not a number");
  EXPECT_HAS(run("a,b,y\n1,,0\n"), o.input + " line 2, column 2 (b): '' is not a number");
  EXPECT_HAS(run("a,b,y\n1,nan,0\n"), "line 2, column 2 (b): 'nan': NaN or Inf in features");
  EXPECT_HAS(run("a,b,y\n1,2,0\n1,2,-1\n"), "line 3, column 3 (y): label '-1' is not a class id");
  EXPECT_HAS(run("a,b,z\n1,2,0\n"), o.input + ": no column named 'y' in the header (columns: a, b, z)");
  EXPECT_HAS(run("a,b,y\n"), o.input + ": no data rows");
  EXPECT_HAS(run("a,b,y\n\"1,2,0\n"), "line 2: unterminated quoted field");
  EXPECT_FALSE(std::filesystem::exists(o.output));
  EXPECT_EQ(dir.files(), std::vector<std::string>{"in.csv"}) << "no temporary left";
}

TEST(Output, ExistingOutputNeedsForceAndStaysUntouched) {
  TempDir dir;
  testing::write_text(dir / "in.csv", "a,y\n1,0\n2,1\n");
  testing::write_text(dir / "out.h5", "precious");
  CsvImportOptions o;
  o.input = dir / "in.csv";
  o.output = dir / "out.h5";
  o.label_columns = {"y"};
  try {
    import_csv(o);
    ADD_FAILURE() << "no error";
  } catch (const ArgumentError& e) {
    EXPECT_HAS(std::string(e.what()), o.output + ": output exists (use --force to overwrite)");
  }
  EXPECT_EQ(std::filesystem::file_size(o.output), 8u);
  o.force = true;
  EXPECT_EQ(import_csv(o).splits.front().rows, 2);
  // A failing import with --force leaves the old file as it was.
  testing::write_text(dir / "bad.csv", "a,y\n1,0\n2\n");
  o.input = dir / "bad.csv";
  const auto before = std::filesystem::file_size(o.output);
  EXPECT_HAS(data_error([&] { import_csv(o); }), "line 3");
  EXPECT_EQ(std::filesystem::file_size(o.output), before);
  EXPECT_EQ(read_dataset_info(o.output).splits.front().rows, 2);
}

}  // namespace
}  // namespace dtrain::data
