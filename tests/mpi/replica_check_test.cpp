// Replica check: the XXH64 checksum and the collective comparison.
#include "mpi_test_env.hpp"

#include "dtrain/distributed/replica_check.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace dtrain::distributed {
namespace {

using dtrain::testing::mpi_comm;

TEST(Checksum, MatchesTheReferenceXxh64) {
  // Reference values: XXH64(data, len, seed 0) from the system's libxxhash 0.8.1
  // (python3 ctypes on /usr/lib/x86_64-linux-gnu/libxxhash.so.0).
  EXPECT_EQ(checksum(std::span<const std::byte>()), 0xef46db3751d8e999ULL);
  const char abc[] = "abc";
  EXPECT_EQ(checksum(std::as_bytes(std::span<const char>(abc, 3))), 0x44bc2cf5ad770999ULL);
  std::vector<unsigned char> b37(37);
  for (std::size_t i = 0; i < b37.size(); ++i) b37[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(checksum(std::as_bytes(std::span<const unsigned char>(b37))), 0xd93fa2dfee5c24c9ULL);
  std::vector<float> f(100);  // struct.pack("<100f", *[i * 0.5 for i in range(100)])
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = 0.5f * static_cast<float>(i);
  EXPECT_EQ(checksum(std::span<const float>(f)), 0x55a502b28816e3b4ULL);
}

TEST(Checksum, EverySingleBitFlipChangesIt) {
  std::vector<float> w(1001);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::sin(static_cast<float>(i));
  const auto base = checksum(std::span<const float>(w));
  auto* bytes = reinterpret_cast<unsigned char*>(w.data());
  const std::size_t n = w.size() * sizeof(float);
  for (std::size_t byte : {std::size_t{0}, std::size_t{31}, std::size_t{32}, n / 2, n - 5, n - 1}) {
    for (int bit = 0; bit < 8; ++bit) {
      bytes[byte] ^= static_cast<unsigned char>(1u << bit);
      EXPECT_NE(checksum(std::span<const float>(w)), base) << "byte " << byte << " bit " << bit;
      bytes[byte] ^= static_cast<unsigned char>(1u << bit);
    }
  }
  EXPECT_EQ(checksum(std::span<const float>(w)), base);
  const float zero = 0.0f;
  const float negative_zero = -0.0f;  // equal as numbers, different bits
  EXPECT_NE(checksum(std::span<const float>(&zero, 1)), checksum(std::span<const float>(&negative_zero, 1)));
}

TEST(ReplicaCheck, EqualReplicasPassAndAPerturbedOneIsNamed) {
  auto& comm = mpi_comm();
  const int p = comm.size();
  std::vector<float> w(535818);  // the MLP's weights
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.001f * static_cast<float>(i % 1013) - 0.5f;
  EXPECT_NO_THROW(check_replicas(comm, w, 41));
  if (p == 1) return;  // one replica cannot disagree with itself
  // The last rank's weight 17 moves by one ulp: every rank must throw, naming it.
  if (comm.rank() == p - 1) w[17] = std::nextafter(w[17], 1.0f);
  try {
    check_replicas(comm, w, 42);
    ADD_FAILURE() << "expected ReplicaMismatch";
  } catch (const ReplicaMismatch& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.step(), 42u);
    EXPECT_NE(what.find("replica mismatch at step 42"), std::string::npos) << what;
    EXPECT_NE(what.find("on rank(s) " + std::to_string(p - 1) + ")"), std::string::npos) << what;
    if (p > 2) {
      EXPECT_NE(what.find("on rank(s) 0, 1"), std::string::npos) << what;
    } else {
      EXPECT_NE(what.find("on rank(s) 0"), std::string::npos) << what;
    }
  }
  if (comm.rank() == p - 1) w[17] = std::nextafter(w[17], -1.0f);
  EXPECT_NO_THROW(check_replicas(comm, w, 43));
}

}  // namespace
}  // namespace dtrain::distributed
