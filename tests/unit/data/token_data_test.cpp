// Token data (issue 15): x int32 token ids [N, t], y class ids [N, t] (one per
// token, e.g. next-token labels) or [N]. Read through ShardReader as exact floats,
// split with the ids kept int32, described by inspect; bad labels and ids that
// float cannot hold exactly name the file, the dataset and the row.
#include <gtest/gtest.h>

#include <sstream>

#include "data_test_util.hpp"
#include "dtrain/data/dataset.hpp"
#include "dtrain/data/inspect.hpp"
#include "dtrain/data/shard_reader.hpp"
#include "dtrain/data/split.hpp"

namespace dtrain::data {
namespace {

using testing::H5Writer;
using testing::TempDir;

constexpr std::int64_t kRows = 21, kTime = 5, kVocab = 1000;

// x[i, t] = (37 i + 11 t) % kVocab, plus one large id 16777215 (2^24 - 1, still
// exact) in row 3; y[i, t] = x[i, t + 1] (the next token), y[i, t-1] = 0.
void write_tokens(H5Writer& w, const std::string& group, bool per_token, std::int32_t bad_id = -1) {
  std::vector<std::int32_t> x;
  std::vector<std::int64_t> y;
  for (std::int64_t i = 0; i < kRows; ++i) {
    for (std::int64_t t = 0; t < kTime; ++t)
      x.push_back(static_cast<std::int32_t>((37 * i + 11 * t) % kVocab));
  }
  if (bad_id >= 0) x[static_cast<std::size_t>(3 * kTime + 2)] = bad_id;
  for (std::int64_t i = 0; i < kRows; ++i) {
    if (!per_token) {
      y.push_back(i % kVocab);
      continue;
    }
    for (std::int64_t t = 0; t < kTime; ++t) {
      y.push_back(t + 1 < kTime ? x[static_cast<std::size_t>(i * kTime + t + 1)] % kVocab : 0);
    }
  }
  w.int32s(group + "/x", {kRows, kTime}, x);
  if (per_token) {
    w.ints(group + "/y", {kRows, kTime}, y);
  } else {
    w.ints(group + "/y", {kRows}, y);
  }
}

std::string token_file(const TempDir& dir, bool per_token, bool split = true, std::int32_t bad_id = -1) {
  const auto path = dir / (per_token ? "tok.h5" : "seq.h5");
  H5Writer w(path);
  write_tokens(w, split ? "/train" : "", per_token, bad_id);
  w.attr("/", "num_classes", kVocab);
  return path;
}

ShardReaderOptions options(const std::string& path, bool direct) {
  ShardReaderOptions o;
  o.path = path;
  o.global_batch = 8;
  o.seed = 3;
  o.direct_reads = direct;
  return o;
}

TEST(TokenData, PerTokenLabelsAndInt32IdsAreReadExactly) {
  TempDir dir;
  const auto path = token_file(dir, true, true, 16777215);
  const auto info = read_dataset_info(path);
  const auto& s = info.split("train");
  EXPECT_EQ(s.x_type, StorageType::kInt32);
  EXPECT_EQ(s.sample_shape, (Shape{kTime}));
  EXPECT_EQ(s.task, Task::kClassification);
  EXPECT_EQ(s.y_rank, 2);
  EXPECT_EQ(s.targets, kTime);
  for (bool direct : {false, true}) {
    ShardReader rd(options(path, direct));
    rd.start_epoch(0);
    std::int64_t seen = 0;
    while (const Batch* b = rd.next()) {
      ASSERT_EQ(b->x.shape, (Shape{b->size, kTime}));
      ASSERT_EQ(b->y.shape, (Shape{b->size, kTime}));
      for (std::int64_t j = 0; j < b->size; ++j) {
        const auto row = b->rows[static_cast<std::size_t>(j)];
        for (std::int64_t t = 0; t < kTime; ++t) {
          const std::int64_t id = row == 3 && t == 2 ? 16777215 : (37 * row + 11 * t) % kVocab;
          ASSERT_EQ(b->x.data[j * kTime + t], static_cast<float>(id)) << row << " " << t;
          const std::int64_t next =
              t + 1 < kTime ? (row == 3 && t == 1 ? 16777215 % kVocab : (37 * row + 11 * (t + 1)) % kVocab)
                            : 0;
          ASSERT_EQ(b->y.data[j * kTime + t], static_cast<float>(next)) << row << " " << t;
        }
      }
      seen += b->size;
    }
    EXPECT_EQ(seen, kRows);
  }
  EXPECT_EQ(class_histogram(info, "train").size(), static_cast<std::size_t>(kVocab));
  std::int64_t total = 0;
  for (auto c : class_histogram(info, "train")) total += c;
  EXPECT_EQ(total, kRows * kTime);  // every token's label counted
}

TEST(TokenData, OneClassIdPerSequence) {
  TempDir dir;
  const auto path = token_file(dir, false);
  ShardReader rd(options(path, false));
  EXPECT_EQ(rd.split().y_rank, 1);
  EXPECT_EQ(rd.split().targets, 1);
  rd.start_epoch(0);
  const Batch* b = rd.next();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->y.shape, (Shape{8}));
  EXPECT_EQ(b->y.data[0], static_cast<float>(b->rows[0] % kVocab));
}

TEST(TokenData, IdsThatFloatCannotHoldExactlyNameTheRow) {
  TempDir dir;
  const auto path = token_file(dir, true, true, 16777216);  // 2^24
  const auto msg = testing::data_error([&] { validate_dataset(read_dataset_info(path)); });
  EXPECT_NE(msg.find(path + ": /train/x row 3: token id 16777216 (column 2)"), std::string::npos) << msg;
}

TEST(TokenData, PerTokenLabelOutsideTheClassesNamesRowAndColumn) {
  TempDir dir;
  const auto path = dir / "bad.h5";
  {
    H5Writer w(path);
    w.int32s("/train/x", {2, 3}, {1, 2, 3, 4, 5, 6});
    w.ints("/train/y", {2, 3}, {0, 1, 2, 3, 9, 5});
    w.attr("/", "num_classes", std::int64_t{7});
  }
  const auto msg = testing::data_error([&] { validate_dataset(read_dataset_info(path)); });
  EXPECT_NE(msg.find("/train/y row 1 (column 1): label 9 outside [0, 7)"), std::string::npos) << msg;
}

TEST(TokenData, SplitKeepsInt32IdsAndPerTokenLabels) {
  TempDir dir;
  const auto in = token_file(dir, true, false);
  const auto out = dir / "split.h5";
  const auto info = split_dataset({.input = in, .output = out, .test_fraction = 0.25, .seed = 1});
  ASSERT_NE(info.find("test"), nullptr);
  EXPECT_EQ(info.split("train").x_type, StorageType::kInt32);
  EXPECT_EQ(info.split("train").y_rank, 2);
  EXPECT_EQ(info.split("test").targets, kTime);
  EXPECT_EQ(info.split("train").rows + info.split("test").rows, kRows);
  EXPECT_NO_THROW(validate_dataset(info));
  try {
    split_dataset(
        {.input = in, .output = dir / "strat.h5", .test_fraction = 0.25, .seed = 1, .stratify = true});
    FAIL() << "no error";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("one per token"), std::string::npos) << e.what();
  }
}

TEST(TokenData, InspectShowsIdsAndPerTokenLabels) {
  TempDir dir;
  std::ostringstream out;
  describe_dataset(read_dataset_info(token_file(dir, true)), out);
  EXPECT_NE(out.str().find("x  int32 [21, 5]  token ids"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("y  int64 [21, 5] class ids (one per token)"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace dtrain::data
