// A serial GEMM for the convolution's products, without packing:
//
//   C[m, n] (+)= A[m, k] · B[k, n]
//
// A is read through two strides, so one routine covers A, Aᵀ and im2col panels:
// element (i, p) is a[i * a_row + p * a_col]. B and C are row-major with leading
// dimensions ldb and ldc (B's rows are read as whole vectors). Each C element is
// one sum over p = 0, 1, ..., k-1 in that order, started from 0 (or from C when
// accumulating): the result depends on the shapes only, never on threads.
//
//   // out[rows, cout] = cols[rows, patch] · K[patch, cout]
//   kernels::small_gemm(rows, cout, patch, cols, patch, 1, k, cout, out, cout, false);
//   // dK[patch, cout] += colsᵀ · dout[rows, cout]
//   kernels::small_gemm(patch, cout, rows, cols, 1, patch, dout, cout, dk, cout, true);
//
// Why not Eigen: at the conv shapes (n = 32 or 64, k = 9 or 288, m a few hundred)
// Eigen re-packs both operands for every product; this kernel broadcasts A's
// elements and streams B's rows from L1/L2 into MR×NV register tiles (AVX-512,
// or AVX2+FMA with half the width and registers; a plain loop elsewhere). Meant
// for n up to a few hundred and B up to a few hundred KB (it stays in L2);
// callers cut m into blocks and parallelise.
#pragma once

#include <cstdint>

namespace dtrain::kernels {

template <class T>
void small_gemm(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t a_row, std::int64_t a_col,
                const T* b, std::int64_t ldb, T* c, std::int64_t ldc, bool accumulate);

// small_gemm with the inner index cut into segs segments of seg_len: step
// (r, j) (r < segs, j < seg_len) reads A element (i, ·) at
// a[i * a_row + r * a_seg + j * a_col] and B row r * seg_len + j. For products
// over the output rows of a convolution read in place (a_seg = one image row,
// a_col = one pixel): k = segs * seg_len without copying the windows.
template <class T>
void small_gemm_segmented(std::int64_t m, std::int64_t n, std::int64_t segs, std::int64_t seg_len, const T* a,
                          std::int64_t a_row, std::int64_t a_col, std::int64_t a_seg, const T* b, std::int64_t ldb,
                          T* c, std::int64_t ldc, bool accumulate);

}  // namespace dtrain::kernels
