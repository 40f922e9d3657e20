// The deterministic blocking of kernels/parallel.hpp and the parallel GEMMs of
// kernels/gemm.hpp built on it: blocks have a fixed size that never depends on
// the thread count, each runs once, and the products give the same bits with
// 1, 2 and 4 threads (and match a double-precision triple loop).
#include "dtrain/kernels/gemm.hpp"
#include "dtrain/kernels/parallel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <utility>
#include <vector>

namespace dtrain {
namespace {

using Blocks = std::vector<std::pair<std::int64_t, std::int64_t>>;

// The blocks for_blocks hands out on `threads` threads, sorted by their start.
Blocks blocks_seen(std::int64_t n, std::int64_t block, int threads) {
  Blocks seen;
  std::mutex m;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    kernels::for_blocks(n, block, [&](std::int64_t b, std::int64_t e) {
      std::lock_guard lock(m);
      seen.emplace_back(b, e);
    });
  });
  std::sort(seen.begin(), seen.end());
  return seen;
}

Blocks expected_blocks(std::int64_t n, std::int64_t block) {
  Blocks out;
  for (std::int64_t b = 0; b < n; b += block) out.emplace_back(b, std::min(n, b + block));
  return out;
}

TEST(BlockCount, IsTheCeilingOfNOverBlock) {
  EXPECT_EQ(kernels::block_count(0, 32), 0);
  EXPECT_EQ(kernels::block_count(-5, 32), 0);
  EXPECT_EQ(kernels::block_count(1, 32), 1);
  EXPECT_EQ(kernels::block_count(32, 32), 1);
  EXPECT_EQ(kernels::block_count(33, 32), 2);
  EXPECT_EQ(kernels::block_count(173, 32), 6);
}

TEST(ForBlocks, BlocksHaveTheFixedSizeWhateverTheThreadCount) {
  for (const auto& [n, block] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {173, 32}, {64, 32}, {1000, 7}, {5, 1}, {31, 32}}) {
    const auto want = expected_blocks(n, block);
    for (int threads : {1, 2, 4}) {
      EXPECT_EQ(blocks_seen(n, block, threads), want) << "n " << n << " block " << block << ", " << threads << " threads";
    }
  }
}

TEST(ForBlocks, EveryIndexIsVisitedExactlyOnce) {
  constexpr std::int64_t kN = 10007;  // prime: the last block is short
  std::vector<std::atomic<int>> visits(kN);
  kernels::ThreadScope scope(4);
  scope.run([&] {
    kernels::for_blocks(kN, 64, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) visits[static_cast<std::size_t>(i)].fetch_add(1);
    });
  });
  for (std::int64_t i = 0; i < kN; ++i) ASSERT_EQ(visits[static_cast<std::size_t>(i)].load(), 1) << "index " << i;
}

TEST(ForBlocks, NothingToDoCallsNothing) {
  int calls = 0;
  kernels::for_blocks(0, 16, [&](std::int64_t, std::int64_t) { ++calls; });
  kernels::for_blocks(-3, 16, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ForBlocks, OneShortBlockRunsOnTheCallingThread) {
  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  kernels::for_blocks(10, 16, [&](std::int64_t b, std::int64_t e) { calls.emplace_back(b, e); });
  EXPECT_EQ(calls, (Blocks{{0, 10}}));
}

TEST(ForBlocks, PartialSumsCombinedInBlockOrderAreBitwiseEqualAcrossThreadCounts) {
  // The pattern the kernels use for reductions: one partial result per block,
  // summed by the caller in block order.
  constexpr std::int64_t kN = 100000, kBlock = 1024;
  std::vector<float> values(kN);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1e3f, 1e3f);
  for (auto& v : values) v = u(rng);
  auto sum_with = [&](int threads) {
    std::vector<float> partial(static_cast<std::size_t>(kernels::block_count(kN, kBlock)));
    kernels::ThreadScope scope(threads);
    scope.run([&] {
      kernels::for_blocks(kN, kBlock, [&](std::int64_t b, std::int64_t e) {
        float s = 0;
        for (std::int64_t i = b; i < e; ++i) s += values[static_cast<std::size_t>(i)];
        partial[static_cast<std::size_t>(b / kBlock)] = s;
      });
    });
    float total = 0;
    for (float p : partial) total += p;
    return total;
  };
  const float one = sum_with(1);
  for (int threads : {2, 4}) {
    const float other = sum_with(threads);
    EXPECT_EQ(std::memcmp(&one, &other, sizeof(float)), 0) << threads << " threads: " << one << " vs " << other;
  }
}

TEST(FunctionRef, CallsTheReferencedCallableWithItsState) {
  int calls = 0;
  auto add = [&](int a, int b) {
    ++calls;
    return a + b;
  };
  const kernels::FunctionRef<int(int, int)> ref(add);
  EXPECT_EQ(ref(2, 3), 5);
  EXPECT_EQ(ref(-1, 1), 0);
  EXPECT_EQ(calls, 2);
}

TEST(ThreadScope, DefaultIsTheCoresThisProcessMayUse) {
  EXPECT_GE(kernels::available_cores(), 1);
  kernels::ThreadScope defaults(0);
  EXPECT_EQ(defaults.threads(), kernels::available_cores());
  kernels::ThreadScope negative(-2);
  EXPECT_EQ(negative.threads(), kernels::available_cores());
  kernels::ThreadScope three(3);  // more threads than cores is allowed
  EXPECT_EQ(three.threads(), 3);
}

// ---- the GEMMs: one result whatever the thread count --------------------------------

enum class Product { nn, nt, tn, tn_rows };

const char* name_of(Product p) {
  switch (p) {
    case Product::nn: return "gemm_nn";
    case Product::nt: return "gemm_nt";
    case Product::tn: return "gemm_tn";
    case Product::tn_rows: return "gemm_tn_rows";
  }
  return "?";
}

struct Operands {
  std::vector<float> a, b, c;  // c holds the starting values (for accumulate)
};

// Sizes as gemm.hpp names them: nn C[m,n] = A[m,k]·B[k,n]; nt C[m,k] = A[m,n]·B[k,n]ᵀ;
// tn C[k,n] = A[m,k]ᵀ·B[m,n].
Operands make_operands(Product p, std::int64_t m, std::int64_t k, std::int64_t n) {
  std::mt19937 rng(static_cast<unsigned>(m * 7919 + k * 31 + n));
  std::uniform_real_distribution<float> u(-1, 1);
  auto fill = [&](std::int64_t size) {
    std::vector<float> v(static_cast<std::size_t>(size));
    for (auto& x : v) x = u(rng);
    return v;
  };
  switch (p) {
    case Product::nn: return {fill(m * k), fill(k * n), fill(m * n)};
    case Product::nt: return {fill(m * n), fill(k * n), fill(m * k)};
    case Product::tn:
    case Product::tn_rows: return {fill(m * k), fill(m * n), fill(k * n)};
  }
  return {};
}

std::vector<float> run(Product p, const Operands& o, std::int64_t m, std::int64_t k, std::int64_t n, bool accumulate,
                       int threads) {
  std::vector<float> c = o.c;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    switch (p) {
      case Product::nn: kernels::gemm_nn(o.a.data(), o.b.data(), c.data(), m, k, n, accumulate); break;
      case Product::nt: kernels::gemm_nt(o.a.data(), o.b.data(), c.data(), m, n, k, accumulate); break;
      case Product::tn: kernels::gemm_tn(o.a.data(), o.b.data(), c.data(), m, k, n, accumulate); break;
      case Product::tn_rows:
        // Rows [k/3, k) only: the rows before stay as they were.
        kernels::gemm_tn_rows(o.a.data(), o.b.data(), c.data(), m, k, n, k / 3, k, accumulate);
        break;
    }
  });
  return c;
}

// The product in double, element by element.
double reference(Product p, const Operands& o, std::int64_t m, std::int64_t k, std::int64_t n, std::int64_t i,
                 std::int64_t j) {
  double s = 0;
  auto at = [](const std::vector<float>& v, std::int64_t idx) { return static_cast<double>(v[static_cast<std::size_t>(idx)]); };
  switch (p) {
    case Product::nn:
      for (std::int64_t q = 0; q < k; ++q) s += at(o.a, i * k + q) * at(o.b, q * n + j);
      break;
    case Product::nt:  // C[i,j], i < m, j < k
      for (std::int64_t q = 0; q < n; ++q) s += at(o.a, i * n + q) * at(o.b, j * n + q);
      break;
    case Product::tn:
    case Product::tn_rows:  // C[i,j], i < k, j < n
      for (std::int64_t q = 0; q < m; ++q) s += at(o.a, q * k + i) * at(o.b, q * n + j);
      break;
  }
  return s;
}

// Shapes that give several row blocks with a short last one (m = 173 with
// 32-row blocks), column blocks (n >= 2 * 128 and m <= n), a single block,
// and gemm_tn's wide (column) and narrow (row) splits.
struct Dims {
  std::int64_t m, k, n;
};
const std::vector<Dims> kShapes = {{173, 70, 45}, {64, 300, 290}, {5, 9, 3}, {200, 300, 260}, {150, 410, 20}};

TEST(Gemm, OneTwoAndFourThreadsGiveTheSameBits) {
  for (Product p : {Product::nn, Product::nt, Product::tn, Product::tn_rows}) {
    for (const auto& [m, k, n] : kShapes) {
      const auto ops = make_operands(p, m, k, n);
      for (bool accumulate : {false, true}) {
        const auto one = run(p, ops, m, k, n, accumulate, 1);
        for (int threads : {2, 4}) {
          const auto other = run(p, ops, m, k, n, accumulate, threads);
          ASSERT_EQ(one.size(), other.size());
          EXPECT_EQ(std::memcmp(one.data(), other.data(), one.size() * sizeof(float)), 0)
              << name_of(p) << " m " << m << " k " << k << " n " << n << (accumulate ? " accumulate" : "") << ", "
              << threads << " threads";
        }
      }
    }
  }
}

TEST(Gemm, MatchesADoubleTripleLoop) {
  for (Product p : {Product::nn, Product::nt, Product::tn, Product::tn_rows}) {
    for (const auto& [m, k, n] : kShapes) {
      const auto ops = make_operands(p, m, k, n);
      for (bool accumulate : {false, true}) {
        const auto c = run(p, ops, m, k, n, accumulate, 2);
        // C's shape and the rows gemm_tn_rows leaves alone.
        const std::int64_t rows = p == Product::nt ? m : (p == Product::nn ? m : k);
        const std::int64_t cols = p == Product::nt ? k : n;
        const std::int64_t first_row = p == Product::tn_rows ? k / 3 : 0;
        const std::int64_t inner = p == Product::nn ? k : (p == Product::nt ? n : m);
        for (std::int64_t i = 0; i < rows; ++i) {
          for (std::int64_t j = 0; j < cols; ++j) {
            const auto idx = static_cast<std::size_t>(i * cols + j);
            if (i < first_row) {
              ASSERT_EQ(c[idx], ops.c[idx]) << name_of(p) << " wrote row " << i << " outside [r0, r1)";
              continue;
            }
            const double want = reference(p, ops, m, k, n, i, j) + (accumulate ? static_cast<double>(ops.c[idx]) : 0.0);
            ASSERT_NEAR(static_cast<double>(c[idx]), want, 1e-5 * (1.0 + static_cast<double>(inner)))
                << name_of(p) << " m " << m << " k " << k << " n " << n << (accumulate ? " accumulate" : "") << " at ("
                << i << ", " << j << ")";
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace dtrain
