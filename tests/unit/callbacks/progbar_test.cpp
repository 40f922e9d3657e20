// ProgbarLogger prints Keras' progress display:
//   Epoch 1/3
//    3/10 [=========>....................] - ETA: 1s - 41ms/step - loss: 0.4321     (verbose 1, redrawn with \r)
//   10/10 - 0s - 5ms/step - loss: 0.4321 - val_loss: 0.5000                         (the epoch's line)
// verbose 2 prints only the "Epoch" line and the epoch's line (for log files).
#include "callback_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace dtrain {
namespace {

using callback_test::logs;
using callback_test::regression_data;
using callback_test::tiny_model;

// "12s", "1:05", "1:02:03"; "5us/step", "41ms/step", "2s/step".
const std::string kDuration = R"((\d+s|\d+:\d\d|\d+:\d\d:\d\d))";
const std::string kPerStep = R"(\d+(us|ms|s)/step)";

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, sep);) out.push_back(part);
  return out;
}

TEST(ProgbarLogger, Verbose2PrintsTheEpochAndOneLinePerEpoch) {
  std::ostringstream out;
  ProgbarLogger bar(2, out);
  bar.set_params({.epochs = 3, .steps = 10, .verbose = 2});
  bar.on_epoch_begin(0);
  EXPECT_EQ(out.str(), "Epoch 1/3\n");
  for (std::int64_t s = 0; s < 10; ++s) bar.on_train_batch_end(s, logs({{"loss", 1.0}}));
  EXPECT_EQ(out.str(), "Epoch 1/3\n");  // nothing per step
  bar.on_epoch_end(0, logs({{"loss", 0.5}, {"accuracy", 0.25}, {"val_loss", 0.75}}));
  const auto l = split(out.str(), '\n');
  ASSERT_EQ(l.size(), 2u) << out.str();
  EXPECT_TRUE(std::regex_match(l[1], std::regex("10/10 - " + kDuration + " - " + kPerStep +
                                                " - loss: 0\\.5000 - accuracy: 0\\.2500 - val_loss: 0\\.7500")))
      << l[1];
  EXPECT_EQ(out.str().back(), '\n');
  EXPECT_EQ(out.str().find('\r'), std::string::npos);  // no redrawing in log files
}

// The bar of a verbose-1 line " 5/10 [====>.....] - ETA: ..." and its step count.
struct BarLine {
  std::string done, bar;
};

BarLine parse_bar(const std::string& line) {
  static const std::regex re(R"(( *\d+)/(\d+) \[([=>.]*)\] - ETA: )" + kDuration + " - " + kPerStep + " - (.*)");
  std::smatch m;
  EXPECT_TRUE(std::regex_match(line, m, re)) << "'" << line << "'";
  if (m.empty()) return {};
  return {m[1].str(), m[3].str()};
}

// Keras draws int(30 * done / steps) cells: '=' for the steps done, '>' at the
// head while the epoch runs, '.' for the rest.
void expect_bar(const std::string& bar, std::int64_t done, std::int64_t steps) {
  ASSERT_EQ(bar.size(), 30u) << bar;
  const auto cells = 30 * done / steps;
  const auto eq = std::count(bar.begin(), bar.end(), '=');
  const auto head = bar.find('>');
  ASSERT_NE(head, std::string::npos) << bar;
  EXPECT_EQ(std::count(bar.begin(), bar.end(), '>'), 1) << bar;
  EXPECT_EQ(bar.find_first_not_of('='), head) << bar;                        // ====>....
  EXPECT_EQ(bar.find_first_not_of('.', head + 1), std::string::npos) << bar;
  EXPECT_GE(eq, cells - 1) << bar;  // Keras puts the head inside the done cells,
  EXPECT_LE(eq, cells) << bar;      // dtrain after them
}

TEST(ProgbarLogger, Verbose1DrawsABarInPlaceThenTheEpochsLine) {
  std::ostringstream out;
  ProgbarLogger bar(1, out);
  bar.set_params({.epochs = 2, .steps = 10, .verbose = 1});
  bar.on_epoch_begin(1);
  bar.on_train_batch_end(0, logs({{"loss", 0.5}}));
  // Redraws are throttled (at most ~10 per second): wait before the next one.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  bar.on_train_batch_end(4, logs({{"loss", 0.25}, {"accuracy", 0.5}}));
  bar.on_epoch_end(1, logs({{"loss", 0.25}, {"accuracy", 0.5}}));

  const std::string text = out.str();
  ASSERT_TRUE(text.starts_with("Epoch 2/2\n")) << text;
  const auto parts = split(text.substr(10), '\r');
  // "", bar after step 1, bar after step 5, blanks (clearing the line), the epoch's line.
  ASSERT_EQ(parts.size(), 5u) << text;
  EXPECT_EQ(parts[0], "");

  const auto first = parse_bar(parts[1]);
  EXPECT_EQ(first.done, " 1");  // right-aligned to the width of "10"
  expect_bar(first.bar, 1, 10);
  EXPECT_TRUE(parts[1].ends_with(" - loss: 0.5000")) << parts[1];

  const auto fifth = parse_bar(parts[2]);
  EXPECT_EQ(fifth.done, " 5");
  expect_bar(fifth.bar, 5, 10);
  EXPECT_TRUE(parts[2].ends_with(" - loss: 0.2500 - accuracy: 0.5000")) << parts[2];

  EXPECT_EQ(parts[3].find_first_not_of(' '), std::string::npos);  // the bar wiped
  EXPECT_GE(parts[3].size(), parts[2].size());
  EXPECT_TRUE(std::regex_match(parts[4], std::regex("10/10 - " + kDuration + " - " + kPerStep +
                                                    " - loss: 0\\.2500 - accuracy: 0\\.5000\n")))
      << parts[4];
}

TEST(ProgbarLogger, InsideFitOneLinePerEpochAtVerbose2AndNothingAtVerbose0) {
  auto m = tiny_model(0.05, {"mae"});
  auto [x, y] = regression_data(32);
  std::ostringstream out;
  m.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 2, .out = &out});
  const auto l = split(out.str(), '\n');
  ASSERT_EQ(l.size(), 4u) << out.str();
  EXPECT_EQ(l[0], "Epoch 1/2");
  EXPECT_EQ(l[2], "Epoch 2/2");
  const std::regex epoch_line("4/4 - " + kDuration + " - " + kPerStep +
                              " - loss: \\d\\.\\d{4} - mae: \\d\\.\\d{4} - learning_rate: 0\\.0500");
  EXPECT_TRUE(std::regex_match(l[1], epoch_line)) << l[1];
  EXPECT_TRUE(std::regex_match(l[3], epoch_line)) << l[3];

  std::ostringstream quiet;
  m.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0, .out = &quiet});
  EXPECT_EQ(quiet.str(), "");
}

}  // namespace
}  // namespace dtrain
