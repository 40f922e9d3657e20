// Communicator collectives on 1..4 ranks. Every expected value is an integer
// (or a dyadic fraction) small enough that float/double sums are exact in any
// order, so the checks are exact.
#include "mpi_test_env.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace dtrain::distributed {
namespace {

using dtrain::testing::mpi_comm;

TEST(Communicator, RankAndSizeMatchTheWorld) {
  auto& comm = mpi_comm();
  int world_size = 0;
  int world_rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  EXPECT_EQ(comm.size(), world_size);
  EXPECT_EQ(comm.rank(), world_rank);
  EXPECT_EQ(comm.is_root(), world_rank == 0);
}

TEST(Communicator, AllreduceSumFloat) {
  // v_r[i] = (r + 1)(i + 1)  =>  sum_r v_r[i] = (i + 1) P(P + 1)/2, at most 1000*10.
  auto& comm = mpi_comm();
  const int p = comm.size();
  std::vector<float> v(1000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((comm.rank() + 1) * (i + 1));
  comm.allreduce_sum(std::span<float>(v));
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(v[i], static_cast<float>((i + 1) * static_cast<std::size_t>(p * (p + 1) / 2))) << i;
  }
}

TEST(Communicator, AllreduceSumDoubleAndInt64) {
  // v_r[i] = r + i/2  =>  sum = P(P-1)/2 + P i/2 (exact: halves of small integers).
  auto& comm = mpi_comm();
  const int p = comm.size();
  std::vector<double> v(333);
  std::vector<std::int64_t> w(5);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = comm.rank() + 0.5 * static_cast<double>(i);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = (std::int64_t{1} << 40) * comm.rank() + static_cast<std::int64_t>(i);
  comm.allreduce_sum(std::span<double>(v));
  comm.allreduce_sum(std::span<std::int64_t>(w));
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(v[i], p * (p - 1) / 2.0 + p * 0.5 * static_cast<double>(i)) << i;
  }
  for (std::size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(w[i], (std::int64_t{1} << 40) * (p * (p - 1) / 2) + p * static_cast<std::int64_t>(i)) << i;
  }
}

TEST(Communicator, AllreduceSumAboveSixteenMiBGoesInPiecesAndStaysCorrect) {
  // 5,000,000 floats = 20 MB: two pieces (4,194,304 + 805,696). v_r[i] = (r+1) +
  // (i mod 1000) => sum = P(P+1)/2 + P (i mod 1000) <= 10 + 4*999: exact.
  auto& comm = mpi_comm();
  const int p = comm.size();
  std::vector<float> v(5'000'000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(comm.rank() + 1 + static_cast<int>(i % 1000));
  comm.allreduce_sum(std::span<float>(v), "big all-reduce");
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    wrong += v[i] != static_cast<float>(p * (p + 1) / 2 + p * static_cast<int>(i % 1000));
  }
  EXPECT_EQ(wrong, 0u);
}

// Reads Open MPI's libnbc all-reduce algorithm switch (see src/distributed/context.cpp).
int libnbc_iallreduce_algorithm() {
  int provided = 0;
  MPI_T_init_thread(MPI_THREAD_FUNNELED, &provided);
  int index = -1;
  int value = -1;
  int count = 0;
  MPI_T_cvar_handle h = MPI_T_CVAR_HANDLE_NULL;
  if (MPI_T_cvar_get_index("coll_libnbc_iallreduce_algorithm", &index) == MPI_SUCCESS &&
      MPI_T_cvar_handle_alloc(index, nullptr, &h, &count) == MPI_SUCCESS) {
    MPI_T_cvar_read(h, &value);
    MPI_T_cvar_handle_free(&h);
  }
  MPI_T_finalize();
  return value;
}

TEST(Communicator, LargeAllreducesUseTheRingAndGiveTheSameBitsEverywhere) {
  // Inexact sums (values that do not add exactly): the ring must still give
  // every rank the same bits, and be close to the double-precision sum.
  auto& comm = mpi_comm();
  const int p = comm.size();
  std::vector<float> v(300'000);
  auto value = [](int rank, std::size_t i) {
    return static_cast<float>(std::sin(0.001 * static_cast<double>(i) + rank)) / 3.0f;
  };
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = value(comm.rank(), i);
  comm.allreduce_sum(std::span<float>(v));
  if (p > 1) {
    EXPECT_EQ(libnbc_iallreduce_algorithm(), 1);  // 1.2 MB: the ring
  }
  double worst = 0;
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a over the result bits
  for (std::size_t i = 0; i < v.size(); ++i) {
    double ref = 0;
    for (int q = 0; q < p; ++q) ref += value(q, i);
    worst = std::max(worst, std::abs(v[i] - ref));
    std::uint32_t bits;
    std::memcpy(&bits, &v[i], 4);
    h = (h ^ bits) * 1099511628211ULL;
  }
  EXPECT_LT(worst, 1e-6);  // (P-1) float roundings of sums below P/3
  EXPECT_EQ(comm.allreduce_min(h), comm.allreduce_max(h));
  if (p > 1) {
    EXPECT_EQ(libnbc_iallreduce_algorithm(), 0);  // 16 bytes: libnbc's own choice
  }
}

TEST(Communicator, MinMaxOfUint64AndAllgather) {
  auto& comm = mpi_comm();
  const auto p = static_cast<std::uint64_t>(comm.size());
  const auto r = static_cast<std::uint64_t>(comm.rank());
  EXPECT_EQ(comm.allreduce_min(1000 + 7 * r), 1000u);
  EXPECT_EQ(comm.allreduce_max(1000 + 7 * r), 1000 + 7 * (p - 1));
  // Values above 2^63 must not be compared as signed.
  std::uint64_t big[2] = {~std::uint64_t{0} - r, r};
  comm.allreduce_min(std::span<std::uint64_t>(big, 2));
  EXPECT_EQ(big[0], ~std::uint64_t{0} - (p - 1));
  EXPECT_EQ(big[1], 0u);
  std::uint64_t big2[2] = {~std::uint64_t{0} - r, r};
  comm.allreduce_max(std::span<std::uint64_t>(big2, 2));
  EXPECT_EQ(big2[0], ~std::uint64_t{0});
  EXPECT_EQ(big2[1], p - 1);
  const auto all = comm.allgather(r * r + 3);
  ASSERT_EQ(all.size(), p);
  for (std::uint64_t q = 0; q < p; ++q) EXPECT_EQ(all[q], q * q + 3) << q;
}

TEST(Communicator, BroadcastFromFirstAndLastRank) {
  auto& comm = mpi_comm();
  for (int root : {0, comm.size() - 1}) {
    std::vector<float> f(100, -1.0f);
    std::vector<double> d(7, -1.0);
    std::vector<std::byte> b(13, std::byte{0});
    if (comm.rank() == root) {
      for (std::size_t i = 0; i < f.size(); ++i) f[i] = 0.25f * static_cast<float>(i) + static_cast<float>(root);
      for (std::size_t i = 0; i < d.size(); ++i) d[i] = 1e300 / static_cast<double>(i + 1);
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::byte>(200 + i);
    }
    comm.broadcast(std::span<float>(f), root);
    comm.broadcast(std::span<double>(d), root);
    comm.broadcast(std::span<std::byte>(b), root);
    for (std::size_t i = 0; i < f.size(); ++i) EXPECT_EQ(f[i], 0.25f * static_cast<float>(i) + static_cast<float>(root));
    for (std::size_t i = 0; i < d.size(); ++i) EXPECT_EQ(d[i], 1e300 / static_cast<double>(i + 1));
    for (std::size_t i = 0; i < b.size(); ++i) EXPECT_EQ(b[i], static_cast<std::byte>(200 + i));
  }
}

TEST(Communicator, BroadcastStringsOfAnyLength) {
  auto& comm = mpi_comm();
  const std::string config = "model:\n  layers: [dense 512 relu, dense 10] # \xe2\x9c\x93\n";
  std::string s = comm.rank() == 0 ? config : std::string(comm.rank() * 1000, 'x');
  comm.broadcast(s, 0);
  EXPECT_EQ(s, config);
  std::string empty = comm.rank() == 0 ? "" : "not empty";
  comm.broadcast(empty, 0);
  EXPECT_EQ(empty, "");
  std::string big = comm.rank() == comm.size() - 1 ? std::string(100'000, 'q') + "end" : "short";
  comm.broadcast(big, comm.size() - 1);
  EXPECT_EQ(big.size(), 100'003u);
  EXPECT_EQ(big.substr(big.size() - 4), "qend");
}

TEST(Communicator, BroadcastRootOutsideTheWorldIsAnArgumentError) {
  auto& comm = mpi_comm();
  std::vector<float> f(3);
  EXPECT_THROW(comm.broadcast(std::span<float>(f), comm.size()), ArgumentError);
  EXPECT_THROW(comm.broadcast(std::span<float>(f), -1), ArgumentError);
}

TEST(Communicator, BarrierWaitsForTheLastRank) {
  // Rank 0 arrives 300 ms late; nobody may leave the barrier before it arrives.
  auto& comm = mpi_comm();
  comm.barrier();
  const auto t0 = std::chrono::steady_clock::now();
  if (comm.rank() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  comm.barrier("late barrier");
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(waited, 0.25);
}

TEST(Communicator, AgreeCombinesTheFlagsOfEveryRank) {
  auto& comm = mpi_comm();
  const int p = comm.size();
  const int r = comm.rank();
  // Rank P-1 asks to stop; odd ranks report an error (the lowest is rank 1).
  const auto s = comm.agree({.stop = r == p - 1, .checkpoint = false, .error = r % 2 == 1});
  EXPECT_TRUE(s.stop);
  EXPECT_FALSE(s.checkpoint);
  EXPECT_EQ(s.error, p > 1);
  EXPECT_EQ(s.error_rank, p > 1 ? 1 : -1);
  const auto quiet = comm.agree({});
  EXPECT_FALSE(quiet.stop || quiet.checkpoint || quiet.error);
  EXPECT_EQ(quiet.error_rank, -1);
  const auto ck = comm.agree({.checkpoint = r == 0});
  EXPECT_TRUE(ck.checkpoint);
  EXPECT_FALSE(ck.stop);
}

TEST(Communicator, StepAndStallTimeoutSettings) {
  auto& comm = mpi_comm();
  const auto old = comm.stall_timeout();
  EXPECT_EQ(old.count(), 60.0);  // set by the test main
  EXPECT_THROW(comm.set_stall_timeout(std::chrono::seconds(0)), ArgumentError);
  comm.set_stall_timeout(std::chrono::milliseconds(2500));
  EXPECT_EQ(comm.stall_timeout().count(), 2.5);
  comm.set_stall_timeout(old);
  comm.set_step(77);
  EXPECT_EQ(comm.step(), 77u);
}

}  // namespace
}  // namespace dtrain::distributed
