// CSVLogger writes a real file: a header "epoch,<log keys in order>,time", one
// row per epoch, the figures to 9 significant digits, the epoch's seconds last;
// append mode (resuming) keeps the old rows and the old header's columns.
#include "callback_test_util.hpp"

#include "dtrain/core/error.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace dtrain {
namespace {

namespace fs = std::filesystem;
using callback_test::logs;
using callback_test::regression_data;
using callback_test::tiny_model;

class CsvLoggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // The pid too: other build trees may run the same test at the same time.
    dir_ = fs::path(::testing::TempDir()) /
           ("csv_logger_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "history.csv").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> lines() const {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  // Runs the epochs of `epoch_logs` (numbered from `first`) through `csv`.
  static void run(CSVLogger& csv, const std::vector<Logs>& epoch_logs, std::int64_t first = 0) {
    csv.on_train_begin();
    for (std::size_t i = 0; i < epoch_logs.size(); ++i) {
      const auto epoch = first + static_cast<std::int64_t>(i);
      csv.on_epoch_begin(epoch);
      csv.on_epoch_end(epoch, epoch_logs[i]);
    }
    csv.on_train_end(epoch_logs.empty() ? Logs() : epoch_logs.back());
  }

  fs::path dir_;
  std::string path_;
};

// A row without its time column, and that time (seconds, checked to be plausible).
std::string without_time(const std::string& row) {
  const auto comma = row.rfind(',');
  EXPECT_NE(comma, std::string::npos) << row;
  const double seconds = std::stod(row.substr(comma + 1));
  EXPECT_GE(seconds, 0.0) << row;
  EXPECT_LT(seconds, 60.0) << row;
  return row.substr(0, comma);
}

TEST_F(CsvLoggerTest, WritesAHeaderAndOneRowPerEpoch) {
  CSVLogger csv(path_);
  run(csv, {logs({{"loss", 0.5}, {"mae", 0.25}, {"learning_rate", 0.1}}),
            logs({{"loss", 0.123456789012}, {"mae", 2e-7}, {"learning_rate", 0.05}})});
  const auto l = lines();
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0], "epoch,loss,mae,learning_rate,time");
  EXPECT_EQ(without_time(l[1]), "0,0.5,0.25,0.1");
  EXPECT_EQ(without_time(l[2]), "1,0.123456789,2e-07,0.05");  // 9 significant digits
}

TEST_F(CsvLoggerTest, WithoutAppendAnOldFileIsReplaced) {
  std::ofstream(path_) << "epoch,loss,time\n0,9,1\n1,8,1\n";
  CSVLogger csv(path_);
  run(csv, {logs({{"loss", 0.5}})});
  const auto l = lines();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], "epoch,loss,time");
  EXPECT_EQ(without_time(l[1]), "0,0.5");
}

TEST_F(CsvLoggerTest, AppendKeepsTheRowsAndTheColumnsOfTheFileItResumes) {
  std::ofstream(path_) << "epoch,loss,val_loss,time\n0,1,2,0.5\n";
  CSVLogger csv(path_, /*append=*/true);
  // Other key order, a key the header lacks, then a key missing.
  run(csv, {logs({{"val_loss", 3.0}, {"loss", 4.0}, {"extra", 7.0}}), logs({{"loss", 5.0}})}, /*first=*/1);
  const auto l = lines();
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0], "epoch,loss,val_loss,time");
  EXPECT_EQ(l[1], "0,1,2,0.5");
  EXPECT_EQ(without_time(l[2]), "1,4,3");
  EXPECT_EQ(without_time(l[3]), "2,5,");  // an empty field for the missing figure
}

TEST_F(CsvLoggerTest, AppendWithoutAFileStartsOne) {
  CSVLogger csv(path_, /*append=*/true);
  run(csv, {logs({{"loss", 0.5}})});
  const auto l = lines();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], "epoch,loss,time");
}

TEST_F(CsvLoggerTest, AnUnwritablePathIsAnErrorNamingIt) {
  const auto bad = (dir_ / "no" / "such" / "dir" / "history.csv").string();
  CSVLogger csv(bad);
  try {
    csv.on_train_begin();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
}

TEST_F(CsvLoggerTest, InsideFitTheRowsAreTheHistory) {
  auto m = tiny_model(0.05, {"mae"});
  auto [x, y] = regression_data(40);
  const auto h = m.fit(x, y, {.batch_size = 8, .epochs = 3, .validation_split = 0.2,
                              .callbacks = {std::make_shared<CSVLogger>(path_)}, .verbose = 0});
  const auto l = lines();
  ASSERT_EQ(l.size(), 4u);
  std::string header = "epoch";
  for (const auto& [k, v] : h.epochs()[0].items()) header += "," + k;
  EXPECT_EQ(l[0], header + ",time");
  EXPECT_EQ(l[0], "epoch,loss,mae,val_loss,val_mae,learning_rate,time");
  for (std::size_t e = 0; e < 3; ++e) {
    std::stringstream row(without_time(l[e + 1]));
    std::string field;
    std::getline(row, field, ',');
    EXPECT_EQ(field, std::to_string(e));
    std::getline(row, field, ',');
    EXPECT_NEAR(std::stod(field), h.values("loss")[e], 1e-8 * h.values("loss")[e]) << "epoch " << e;
  }
}

}  // namespace
}  // namespace dtrain
