#include "dtrain/kernels/gemm.hpp"

#include "dtrain/kernels/parallel.hpp"
#include "dtrain/tensor.hpp"

#ifdef DTRAIN_OPENBLAS
#include <cblas.h>

#include <mutex>
#endif

namespace dtrain::kernels {
namespace {

// One block of a product, single-threaded, on row-major operands with leading
// dimensions: C[M,N] (+)= op(A)·op(B), op(A) [M,K], op(B) [K,N] (transposed when
// ta / tb). Every gemm below only cuts C into blocks and calls this.
template <class T>
void block_gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda,
                const T* b, std::int64_t ldb, T* c, std::int64_t ldc, bool accumulate) {
  using Stride = Eigen::OuterStride<>;
  const Eigen::Map<const RowMatrix<T>, 0, Stride> am(a, ta ? k : m, ta ? m : k, Stride(lda));
  const Eigen::Map<const RowMatrix<T>, 0, Stride> bm(b, tb ? n : k, tb ? k : n, Stride(ldb));
  Eigen::Map<RowMatrix<T>, 0, Stride> cm(c, m, n, Stride(ldc));
  auto assign = [&](const auto& product) {
    if (accumulate) {
      cm.noalias() += product;
    } else {
      cm.noalias() = product;
    }
  };
  if (ta && tb) {
    assign(am.transpose() * bm.transpose());
  } else if (ta) {
    assign(am.transpose() * bm);
  } else if (tb) {
    assign(am * bm.transpose());
  } else {
    assign(am * bm);
  }
}

#ifdef DTRAIN_OPENBLAS
// float products through OpenBLAS's sgemm, faster than Eigen 3.4 at the MLP's
// shapes on the AVX-512 machines measured (docs/benchmarks.md). One OpenBLAS
// thread per call: the fixed blocks give the parallelism (and the determinism).
// Debian's serial OpenBLAS is built without locking, so the thread-safe pthread
// build is used, told once to stay on the calling thread.
template <>
void block_gemm<float>(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                       std::int64_t lda, const float* b, std::int64_t ldb, float* c, std::int64_t ldc,
                       bool accumulate) {
  static std::once_flag single_threaded;
  std::call_once(single_threaded, [] { openblas_set_num_threads(1); });
  auto i = [](std::int64_t v) { return static_cast<blasint>(v); };
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, i(m), i(n), i(k),
              1.0f, a, i(lda), b, i(ldb), accumulate ? 1.0f : 0.0f, c, i(ldc));
}
#endif

// Short, wide outputs (a batch of activations times the weights) are cut into
// column blocks: each block packs all of A and its own slice of B, so the
// weights are packed once. Row blocks would pack all of B once per block: 4x the
// MLP's 1.6 MB first kernel at batch 128. Tall outputs (convolutions) keep row
// blocks for parallelism.
bool column_blocks(std::int64_t rows, std::int64_t cols) { return cols >= 2 * kGemmColBlock && rows <= cols; }

}  // namespace

template <class T>
void gemm_nn(const T* a, const T* b, T* c, std::int64_t m, std::int64_t k, std::int64_t n,
             bool accumulate) {
  if (column_blocks(m, n)) {
    for_blocks(n, kGemmColBlock, [&](std::int64_t c0, std::int64_t c1) {
      block_gemm(false, false, m, c1 - c0, k, a, k, b + c0, n, c + c0, n, accumulate);
    });
    return;
  }
  for_blocks(m, kGemmRowBlock, [&](std::int64_t r0, std::int64_t r1) {
    block_gemm(false, false, r1 - r0, n, k, a + r0 * k, k, b, n, c + r0 * n, n, accumulate);
  });
}

// As gemm_nn: column blocks of C (rows of B) when C is short and wide.
template <class T>
void gemm_nt(const T* a, const T* b, T* c, std::int64_t m, std::int64_t n, std::int64_t k,
             bool accumulate) {
  if (column_blocks(m, k)) {
    for_blocks(k, kGemmColBlock, [&](std::int64_t c0, std::int64_t c1) {
      block_gemm(false, true, m, c1 - c0, n, a, n, b + c0 * n, n, c + c0, k, accumulate);
    });
    return;
  }
  for_blocks(m, kGemmRowBlock, [&](std::int64_t r0, std::int64_t r1) {
    block_gemm(false, true, r1 - r0, k, n, a + r0 * n, n, b, n, c + r0 * k, k, accumulate);
  });
}

template <class T>
void gemm_tn_rows(const T* a, const T* b, T* c, std::int64_t m, std::int64_t k, std::int64_t n,
                  std::int64_t r0, std::int64_t r1, bool accumulate) {
  if (n >= 2 * kGemmTnColBlock) {
    // Wide outputs: column blocks (each the rows' slice of Aᵀ times a slice of B).
    for_blocks(n, kGemmTnColBlock, [&](std::int64_t c0, std::int64_t c1) {
      block_gemm(true, false, r1 - r0, c1 - c0, m, a + r0, k, b + c0, n, c + r0 * n + c0, n, accumulate);
    });
    return;
  }
  for_blocks(r1 - r0, kGemmTnRowBlock, [&](std::int64_t b0, std::int64_t b1) {
    block_gemm(true, false, b1 - b0, n, m, a + r0 + b0, k, b, n, c + (r0 + b0) * n, n, accumulate);
  });
}

template <class T>
void gemm_tn(const T* a, const T* b, T* c, std::int64_t m, std::int64_t k, std::int64_t n,
             bool accumulate) {
  gemm_tn_rows(a, b, c, m, k, n, 0, k, accumulate);
}

#define DTRAIN_INSTANTIATE_GEMM(T)                                                          \
  template void gemm_nn<T>(const T*, const T*, T*, std::int64_t, std::int64_t, std::int64_t, \
                           bool);                                                           \
  template void gemm_nt<T>(const T*, const T*, T*, std::int64_t, std::int64_t, std::int64_t, \
                           bool);                                                           \
  template void gemm_tn<T>(const T*, const T*, T*, std::int64_t, std::int64_t, std::int64_t, bool); \
  template void gemm_tn_rows<T>(const T*, const T*, T*, std::int64_t, std::int64_t, std::int64_t,  \
                                std::int64_t, std::int64_t, bool);
DTRAIN_INSTANTIATE_GEMM(float)
DTRAIN_INSTANTIATE_GEMM(double)
#undef DTRAIN_INSTANTIATE_GEMM

}  // namespace dtrain::kernels
