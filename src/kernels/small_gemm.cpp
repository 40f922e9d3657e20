#include "dtrain/kernels/small_gemm.hpp"

#include <algorithm>
#include <utility>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace dtrain::kernels {
namespace {

#if defined(__AVX512F__)
#define DTRAIN_SMALL_GEMM_SIMD 1

// One AVX-512 register of T and the few operations the tiles need.
template <class T>
struct Simd;

template <>
struct Simd<float> {
  using Reg = __m512;
  using Mask = __mmask16;
  static constexpr int kWidth = 16;
  static Mask mask(int lanes) { return static_cast<Mask>((1u << lanes) - 1u); }
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static Reg load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static Reg set1(float v) { return _mm512_set1_ps(v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static void store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, Reg v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
};

template <>
struct Simd<double> {
  using Reg = __m512d;
  using Mask = __mmask8;
  static constexpr int kWidth = 8;
  static Mask mask(int lanes) { return static_cast<Mask>((1u << lanes) - 1u); }
  static Reg zero() { return _mm512_setzero_pd(); }
  static Reg load(const double* p) { return _mm512_loadu_pd(p); }
  static Reg load(const double* p, Mask m) { return _mm512_maskz_loadu_pd(m, p); }
  static Reg set1(double v) { return _mm512_set1_pd(v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_pd(a, b, c); }
  static void store(double* p, Reg v) { _mm512_storeu_pd(p, v); }
  static void store(double* p, Reg v, Mask m) { _mm512_mask_storeu_pd(p, m, v); }
};

// Rows per tile for NV vectors of columns: MR·NV accumulators + NV rows of B +
// one broadcast within the 32 registers.
constexpr int rows_per_tile(int nv) { return nv == 1 ? 16 : nv == 2 ? 12 : nv == 3 ? 8 : 6; }
constexpr int kMaxVectors = 4;

#elif defined(__AVX2__) && defined(__FMA__)
#define DTRAIN_SMALL_GEMM_SIMD 1

// The same tiles with AVX2 registers (16 of them): masks are integer vectors.
template <class T>
struct Simd;

template <>
struct Simd<float> {
  using Reg = __m256;
  using Mask = __m256i;
  static constexpr int kWidth = 8;
  static Mask mask(int lanes) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static Reg load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static Reg set1(float v) { return _mm256_set1_ps(v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static void store(float* p, Reg v, Mask m) { _mm256_maskstore_ps(p, m, v); }
};

template <>
struct Simd<double> {
  using Reg = __m256d;
  using Mask = __m256i;
  static constexpr int kWidth = 4;
  static Mask mask(int lanes) { return _mm256_cmpgt_epi64(_mm256_set1_epi64x(lanes), _mm256_setr_epi64x(0, 1, 2, 3)); }
  static Reg zero() { return _mm256_setzero_pd(); }
  static Reg load(const double* p) { return _mm256_loadu_pd(p); }
  static Reg load(const double* p, Mask m) { return _mm256_maskload_pd(p, m); }
  static Reg set1(double v) { return _mm256_set1_pd(v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_pd(a, b, c); }
  static void store(double* p, Reg v) { _mm256_storeu_pd(p, v); }
  static void store(double* p, Reg v, Mask m) { _mm256_maskstore_pd(p, m, v); }
};

// MR·NV accumulators + NV rows of B + one broadcast within 16 registers.
constexpr int rows_per_tile(int nv) { return nv == 1 ? 12 : 6; }
constexpr int kMaxVectors = 2;

#endif

#if defined(DTRAIN_SMALL_GEMM_SIMD)

// k = segs * seg_len steps; step (r, j) reads A column r*a_seg + j*a_col and B row r*seg_len + j.
struct Args {
  std::int64_t segs, seg_len, a_row, a_col, a_seg, ldb, ldc;
  bool accumulate;
};

// C[MR, NV vectors] (+)= A[MR, k] · B[k, NV vectors]; the last vector is masked.
template <class T, int MR, int NV>
void tile(const Args& g, const T* a, const T* b, T* c, typename Simd<T>::Mask last) {
  using S = Simd<T>;
  constexpr int W = S::kWidth;
  typename S::Reg acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (!g.accumulate) {
        acc[i][v] = S::zero();
      } else if (v + 1 < NV) {
        acc[i][v] = S::load(c + i * g.ldc + v * W);
      } else {
        acc[i][v] = S::load(c + i * g.ldc + v * W, last);
      }
    }
  }
  const T* bp = b;
  for (std::int64_t r = 0; r < g.segs; ++r) {
    const T* ap = a + r * g.a_seg;
    for (std::int64_t j = 0; j < g.seg_len; ++j, bp += g.ldb, ap += g.a_col) {
      typename S::Reg bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = v + 1 < NV ? S::load(bp + v * W) : S::load(bp + v * W, last);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const auto ai = S::set1(ap[i * g.a_row]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = S::fma(ai, bv[v], acc[i][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (v + 1 < NV) {
        S::store(c + i * g.ldc + v * W, acc[i][v]);
      } else {
        S::store(c + i * g.ldc + v * W, acc[i][v], last);
      }
    }
  }
}

// The last rows (fewer than a full tile): one tile of exactly `rows` rows.
template <class T, int NV, int... R>
void tail_tile(int rows, const Args& g, const T* a, const T* b, T* c, typename Simd<T>::Mask last,
               std::integer_sequence<int, R...>) {
  ((rows == R + 1 ? tile<T, R + 1, NV>(g, a, b, c, last) : void()), ...);
}

// Every row of one panel of NV vectors of columns.
template <class T, int NV>
void panel(std::int64_t m, const Args& g, const T* a, const T* b, T* c, typename Simd<T>::Mask last) {
  constexpr int MR = rows_per_tile(NV);
  std::int64_t i = 0;
  for (; i + MR <= m; i += MR) tile<T, MR, NV>(g, a + i * g.a_row, b, c + i * g.ldc, last);
  if (i < m) {
    tail_tile<T, NV>(static_cast<int>(m - i), g, a + i * g.a_row, b, c + i * g.ldc, last,
                     std::make_integer_sequence<int, MR - 1>{});
  }
}

template <class T>
void run(std::int64_t m, std::int64_t n, const T* a, const T* b, T* c, const Args& g) {
  using S = Simd<T>;
  constexpr std::int64_t W = S::kWidth;
  for (std::int64_t j = 0; j < n; j += kMaxVectors * W) {
    const std::int64_t cols = std::min<std::int64_t>(n - j, kMaxVectors * W);
    const int nv = static_cast<int>((cols + W - 1) / W);
    const auto last = S::mask(static_cast<int>(cols - (nv - 1) * W));
    if constexpr (kMaxVectors == 4) {
      switch (nv) {
        case 1: panel<T, 1>(m, g, a, b + j, c + j, last); break;
        case 2: panel<T, 2>(m, g, a, b + j, c + j, last); break;
        case 3: panel<T, 3>(m, g, a, b + j, c + j, last); break;
        default: panel<T, 4>(m, g, a, b + j, c + j, last); break;
      }
    } else {
      if (nv == 1) {
        panel<T, 1>(m, g, a, b + j, c + j, last);
      } else {
        panel<T, 2>(m, g, a, b + j, c + j, last);
      }
    }
  }
}

#else  // neither AVX-512 nor AVX2+FMA: the same sums in the same order by plain loops (no FMA).

struct Args {
  std::int64_t segs, seg_len, a_row, a_col, a_seg, ldb, ldc;
  bool accumulate;
};

template <class T>
void run(std::int64_t m, std::int64_t n, const T* a, const T* b, T* c, const Args& g) {
  for (std::int64_t i = 0; i < m; ++i) {
    T* ci = c + i * g.ldc;
    if (!g.accumulate) std::fill_n(ci, n, T(0));
    for (std::int64_t r = 0; r < g.segs; ++r) {
      for (std::int64_t q = 0; q < g.seg_len; ++q) {
        const T ai = a[i * g.a_row + r * g.a_seg + q * g.a_col];
        const T* bp = b + (r * g.seg_len + q) * g.ldb;
        for (std::int64_t j = 0; j < n; ++j) ci[j] += ai * bp[j];
      }
    }
  }
}

#endif

}  // namespace

template <class T>
void small_gemm(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t a_row, std::int64_t a_col,
                const T* b, std::int64_t ldb, T* c, std::int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  run(m, n, a, b, c, Args{1, k, a_row, a_col, 0, ldb, ldc, accumulate});
}

template <class T>
void small_gemm_segmented(std::int64_t m, std::int64_t n, std::int64_t segs, std::int64_t seg_len, const T* a,
                          std::int64_t a_row, std::int64_t a_col, std::int64_t a_seg, const T* b, std::int64_t ldb,
                          T* c, std::int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  run(m, n, a, b, c, Args{segs, seg_len, a_row, a_col, a_seg, ldb, ldc, accumulate});
}

template void small_gemm<float>(std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t, std::int64_t,
                                const float*, std::int64_t, float*, std::int64_t, bool);
template void small_gemm<double>(std::int64_t, std::int64_t, std::int64_t, const double*, std::int64_t,
                                 std::int64_t, const double*, std::int64_t, double*, std::int64_t, bool);
template void small_gemm_segmented<float>(std::int64_t, std::int64_t, std::int64_t, std::int64_t, const float*,
                                          std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t,
                                          float*, std::int64_t, bool);
template void small_gemm_segmented<double>(std::int64_t, std::int64_t, std::int64_t, std::int64_t, const double*,
                                           std::int64_t, std::int64_t, std::int64_t, const double*, std::int64_t,
                                           double*, std::int64_t, bool);

}  // namespace dtrain::kernels
