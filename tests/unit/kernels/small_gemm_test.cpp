// kernels::small_gemm against a double-precision triple loop: every tile shape
// (rows 1..17 around each tile height, columns around each vector and panel
// edge), A read as itself and as a transpose, overwrite and accumulate, float
// and double; the segmented form; and the element order of the sum, which
// makes it deterministic.
#include "dtrain/kernels/small_gemm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <type_traits>
#include <vector>

namespace dtrain {
namespace {

template <class T>
void check_shape(std::int64_t m, std::int64_t n, std::int64_t k, bool transposed_a, bool accumulate) {
  std::mt19937 rng(static_cast<unsigned>(m * 1000 + n * 10 + k));
  std::uniform_real_distribution<double> u(-1, 1);
  // A stored row-major [m, k] (a_row = k, a_col = 1) or as its transpose [k, m].
  std::vector<T> a(static_cast<std::size_t>(m * k)), b(static_cast<std::size_t>(k * (n + 3)));
  std::vector<T> c(static_cast<std::size_t>(m * (n + 5)));
  for (auto& v : a) v = static_cast<T>(u(rng));
  for (auto& v : b) v = static_cast<T>(u(rng));
  for (auto& v : c) v = static_cast<T>(u(rng));
  const std::int64_t ldb = n + 3, ldc = n + 5;  // padded rows: leading dimensions are honoured
  const std::int64_t a_row = transposed_a ? 1 : k, a_col = transposed_a ? m : 1;
  const std::vector<T> before = c;
  kernels::small_gemm(m, n, k, a.data(), a_row, a_col, b.data(), ldb, c.data(), ldc, accumulate);
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < ldc; ++j) {
      const auto at = static_cast<std::size_t>(i * ldc + j);
      if (j >= n) {  // outside C: untouched
        ASSERT_EQ(c[at], before[at]) << "wrote past column " << n;
        continue;
      }
      double want = accumulate ? static_cast<double>(before[at]) : 0.0;
      for (std::int64_t p = 0; p < k; ++p) {
        want += static_cast<double>(a[static_cast<std::size_t>(i * a_row + p * a_col)]) *
                static_cast<double>(b[static_cast<std::size_t>(p * ldb + j)]);
      }
      ASSERT_NEAR(static_cast<double>(c[at]), want, tol * (1 + static_cast<double>(k)))
          << "m " << m << " n " << n << " k " << k << " at (" << i << ", " << j << ")"
          << (transposed_a ? " transposed A" : "") << (accumulate ? " accumulate" : "");
    }
  }
}

template <class T>
void check_all() {
  for (std::int64_t m : {1, 5, 6, 7, 8, 11, 12, 13, 16, 17, 40}) {
    for (std::int64_t n : {1, 7, 8, 9, 16, 17, 32, 33, 48, 64, 65, 100, 288}) {
      for (std::int64_t k : {0, 1, 9, 31}) {
        for (bool transposed : {false, true}) {
          for (bool accumulate : {false, true}) check_shape<T>(m, n, k, transposed, accumulate);
        }
      }
    }
  }
}

TEST(SmallGemm, FloatMatchesTripleLoop) { check_all<float>(); }
TEST(SmallGemm, DoubleMatchesTripleLoop) { check_all<double>(); }

// Each element is one sum in p order: splitting k into two calls (overwrite,
// then accumulate) gives the same bits as fused-multiply-adding element by element.
TEST(SmallGemm, SumsInOrderOfTheInnerIndex) {
  const std::int64_t m = 13, n = 70, k = 20;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(m * k), b(k * n), whole(m * n), split(m * n);
  for (auto& v : a) v = u(rng);
  for (auto& v : b) v = u(rng);
  kernels::small_gemm(m, n, k, a.data(), k, 1, b.data(), n, whole.data(), n, false);
  kernels::small_gemm(m, n, 7, a.data(), k, 1, b.data(), n, split.data(), n, false);
  kernels::small_gemm(m, n, k - 7, a.data() + 7, k, 1, b.data() + 7 * n, n, split.data(), n, true);
  EXPECT_EQ(whole, split);
}

// The segmented form against a triple loop: A read from a padded "image"
// (segments a_seg apart, steps a_col apart within one), every tile height.
template <class T>
void check_segmented(std::int64_t m, std::int64_t n, std::int64_t segs, std::int64_t seg_len, bool transposed_a) {
  std::mt19937 rng(static_cast<unsigned>(m * 1000 + n * 10 + segs));
  std::uniform_real_distribution<double> u(-1, 1);
  const std::int64_t a_col = 3, a_seg = seg_len * a_col + 5;  // gaps between steps and between segments
  const std::int64_t a_row = transposed_a ? 1 : segs * a_seg;
  const std::int64_t a_size = transposed_a ? segs * a_seg + m : m * a_row;
  std::vector<T> a(static_cast<std::size_t>(a_size)), b(static_cast<std::size_t>(segs * seg_len * n)),
      c(static_cast<std::size_t>(m * n));
  for (auto& v : a) v = static_cast<T>(u(rng));
  for (auto& v : b) v = static_cast<T>(u(rng));
  kernels::small_gemm_segmented(m, n, segs, seg_len, a.data(), a_row, a_col, a_seg, b.data(), n, c.data(), n, false);
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double want = 0;
      for (std::int64_t r = 0; r < segs; ++r) {
        for (std::int64_t q = 0; q < seg_len; ++q) {
          want += static_cast<double>(a[static_cast<std::size_t>(i * a_row + r * a_seg + q * a_col)]) *
                  static_cast<double>(b[static_cast<std::size_t>((r * seg_len + q) * n + j)]);
        }
      }
      ASSERT_NEAR(static_cast<double>(c[static_cast<std::size_t>(i * n + j)]), want, 1e-5 * (1 + segs * seg_len))
          << "m " << m << " n " << n << " segs " << segs << " seg_len " << seg_len;
    }
  }
}

TEST(SmallGemm, SegmentedMatchesTripleLoop) {
  for (std::int64_t m : {1, 5, 6, 11, 12, 17}) {
    for (std::int64_t n : {7, 32, 64, 70}) {
      for (std::int64_t segs : {1, 3, 11}) {
        for (bool transposed : {false, true}) {
          check_segmented<float>(m, n, segs, 4, transposed);
          check_segmented<double>(m, n, segs, 4, transposed);
        }
      }
    }
  }
}

}  // namespace
}  // namespace dtrain
