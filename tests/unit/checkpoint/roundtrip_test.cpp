// save_checkpoint + load_checkpoint: every field comes back, floats bit for bit;
// a bad state is refused before anything is written.
#include <gtest/gtest.h>

#include "dtrain/checkpoint.hpp"
#include "test_util.hpp"

namespace dtrain::checkpoint {
namespace {

using ckpt_test::ScratchDir;

TEST(CheckpointRoundTrip, FullStateComesBackBitForBit) {
  ScratchDir dir;
  const auto saved = ckpt_test::full_state();
  const std::string path = dir.file("ckpt-000120.h5");
  save_checkpoint(path, saved);
  const auto loaded = load_checkpoint(path);
  ckpt_test::expect_same_state(saved, loaded);
  // The odd bit patterns are really there (a NaN with payload 0x1234, -0, denormal).
  std::uint32_t bits;
  std::memcpy(&bits, &loaded.model.weights[0].data[0], 4);
  EXPECT_EQ(bits, 0x7fc01234u);
  EXPECT_TRUE(std::signbit(loaded.model.weights[0].data[1]));
  EXPECT_EQ(loaded.model.weights[0].data[2], std::numeric_limits<float>::denorm_min());
  // The scalar weight has shape [] and one value; the uint64 seed above 2^63 survives.
  EXPECT_TRUE(loaded.model.weights[4].shape.empty());
  EXPECT_EQ(loaded.model.seed, 0xfeedbeefcafe1234ULL);
}

TEST(CheckpointRoundTrip, EmptyPartsAndFilledInTime) {
  ScratchDir dir;
  CheckpointState s;  // no weights, no history, no monitor, no created time
  const std::string path = dir.file("empty.h5");
  save_checkpoint(path, s);
  const auto loaded = load_checkpoint(path);
  // created: "YYYY-MM-DDTHH:MM:SSZ"
  ASSERT_EQ(loaded.created.size(), 20u) << loaded.created;
  EXPECT_EQ(loaded.created[10], 'T');
  EXPECT_EQ(loaded.created.back(), 'Z');
  s.created = loaded.created;
  ckpt_test::expect_same_state(s, loaded);
  EXPECT_FALSE(loaded.monitor.has_value());
  EXPECT_EQ(loaded.dtrain_version, std::string(kVersion));
}

TEST(CheckpointRoundTrip, OverwritesAnExistingCheckpoint) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.h5");
  save_checkpoint(path, ckpt_test::full_state(100));
  save_checkpoint(path, ckpt_test::full_state(200));
  EXPECT_EQ(load_checkpoint(path).progress.global_step, 200);
}

TEST(CheckpointRoundTrip, CreatesTheDirectory) {
  ScratchDir dir;
  const std::string path = dir.file("runs/x/ckpt-000001.h5");
  save_checkpoint(path, ckpt_test::full_state(1));
  EXPECT_EQ(load_checkpoint(path).progress.global_step, 1);
}

// The refusals name the offending item and leave no file behind.
TEST(CheckpointRoundTrip, BadStatesAreRefusedWithTheirName) {
  ScratchDir dir;
  const std::string path = dir.file("bad.h5");
  const auto message_of = [&](auto mutate) -> std::string {
    auto s = ckpt_test::full_state();
    mutate(s);
    try {
      save_checkpoint(path, s);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  auto msg = message_of([](CheckpointState& s) { s.model.weights[1].data.pop_back(); });
  EXPECT_NE(msg.find("weight dense_1/bias: shape [3] has 3 values but 2 were given"), std::string::npos)
      << msg;
  msg = message_of([](CheckpointState& s) { s.model.weights[2].name = "dense_1/kernel"; });
  EXPECT_NE(msg.find("duplicate weight name 'dense_1/kernel'"), std::string::npos) << msg;
  msg = message_of([](CheckpointState& s) { s.model.weights[4].name = "dense_1"; });
  EXPECT_NE(msg.find("'dense_1' is also the group of 'dense_1/"), std::string::npos) << msg;
  msg = message_of([](CheckpointState& s) { s.optimizer.slots[0].name = "dense_1//kernel/m"; });
  EXPECT_NE(msg.find("optimizer slot name 'dense_1//kernel/m' is not a valid path"), std::string::npos)
      << msg;
  msg = message_of([](CheckpointState& s) { s.history.rows[1].pop_back(); });
  EXPECT_NE(msg.find("history row 1 has 3 values for 4 columns"), std::string::npos) << msg;
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(CheckpointRoundTrip, ShapeTextIsKerasLike) {
  const std::vector<std::int64_t> s{784, 128};
  EXPECT_EQ(shape_text(s), "[784, 128]");
  EXPECT_EQ(shape_text({}), "[]");
}

}  // namespace
}  // namespace dtrain::checkpoint
