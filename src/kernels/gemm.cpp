#include "dtrain/kernels/gemm.hpp"

#include "dtrain/kernels/parallel.hpp"
#include "dtrain/tensor.hpp"

namespace dtrain::kernels {
namespace {

template <class T>
using CMap = Eigen::Map<const RowMatrix<T>>;
template <class T>
using MMap = Eigen::Map<RowMatrix<T>>;

template <class Dst, class Expr>
void assign(Dst&& dst, const Expr& expr, bool accumulate) {
  if (accumulate) {
    dst.noalias() += expr;
  } else {
    dst.noalias() = expr;
  }
}

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
  const CMap<T> am(a, m, k);
  const CMap<T> bm(b, k, n);
  if (column_blocks(m, n)) {
    for_blocks(n, kGemmColBlock, [&](std::int64_t c0, std::int64_t c1) {
      Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>> cm(c + c0, m, c1 - c0, Eigen::OuterStride<>(n));
      assign(cm, am * bm.middleCols(c0, c1 - c0), accumulate);
    });
    return;
  }
  for_blocks(m, kGemmRowBlock, [&](std::int64_t r0, std::int64_t r1) {
    MMap<T> cm(c + r0 * n, r1 - r0, n);
    assign(cm, am.middleRows(r0, r1 - r0) * bm, accumulate);
  });
}

// As gemm_nn: column blocks of C (rows of B) when C is short and wide.
template <class T>
void gemm_nt(const T* a, const T* b, T* c, std::int64_t m, std::int64_t n, std::int64_t k,
             bool accumulate) {
  const CMap<T> am(a, m, n);
  const CMap<T> bm(b, k, n);
  if (column_blocks(m, k)) {
    for_blocks(k, kGemmColBlock, [&](std::int64_t c0, std::int64_t c1) {
      Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>> cm(c + c0, m, c1 - c0, Eigen::OuterStride<>(k));
      assign(cm, am * bm.middleRows(c0, c1 - c0).transpose(), accumulate);
    });
    return;
  }
  for_blocks(m, kGemmRowBlock, [&](std::int64_t r0, std::int64_t r1) {
    MMap<T> cm(c + r0 * k, r1 - r0, k);
    assign(cm, am.middleRows(r0, r1 - r0) * bm.transpose(), accumulate);
  });
}

template <class T>
void gemm_tn_rows(const T* a, const T* b, T* c, std::int64_t m, std::int64_t k, std::int64_t n,
                  std::int64_t r0, std::int64_t r1, bool accumulate) {
  const CMap<T> am(a, m, k);
  const CMap<T> bm(b, m, n);
  const auto rows = r1 - r0;
  if (n >= 2 * kGemmTnColBlock) {
    // Wide outputs: column blocks (each the rows' slice of Aᵀ times a slice of B).
    for_blocks(n, kGemmTnColBlock, [&](std::int64_t c0, std::int64_t c1) {
      Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>> cm(c + r0 * n + c0, rows, c1 - c0,
                                                          Eigen::OuterStride<>(n));
      assign(cm, am.middleCols(r0, rows).transpose() * bm.middleCols(c0, c1 - c0), accumulate);
    });
    return;
  }
  for_blocks(rows, kGemmTnRowBlock, [&](std::int64_t b0, std::int64_t b1) {
    MMap<T> cm(c + (r0 + b0) * n, b1 - b0, n);
    assign(cm, am.middleCols(r0 + b0, b1 - b0).transpose() * bm, accumulate);
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
