// XXH64: the published digests (seed 0), and streaming in odd pieces == one-shot.
#include "core/xxh64.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dtrain {
namespace {

TEST(Xxh64, KnownDigests) {
  // Reference values of xxHash's XXH64 (also what libxxhash 0.8.1 returns).
  EXPECT_EQ(xxh64("", 0), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(xxh64("a", 1), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(xxh64("abc", 3), 0x44BC2CF5AD770999ULL);
}

TEST(Xxh64, StreamingEqualsOneShot) {
  std::vector<unsigned char> bytes(1000);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 131 + 7);
  for (std::size_t n : {0u, 5u, 31u, 32u, 33u, 100u, 1000u}) {
    Xxh64 s(99);
    std::size_t at = 0, piece = 1;
    while (at < n) {  // pieces of 1, 4, 13, 3, ... bytes: cross every stripe boundary
      const std::size_t take = std::min(piece, n - at);
      s.update(bytes.data() + at, take);
      at += take;
      piece = (piece * 3 + 1) % 37 + 1;
    }
    EXPECT_EQ(s.digest(), xxh64(bytes.data(), n, 99)) << "n = " << n;
  }
}

}  // namespace
}  // namespace dtrain
