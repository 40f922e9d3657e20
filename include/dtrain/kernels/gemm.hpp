// Matrix products on row-major buffers, parallel over fixed-size blocks.
//
//   gemm_nn(x, w, y, batch, in, out, /*accumulate=*/false);   // y  = x · w
//   gemm_nt(dy, w, dx, batch, out, in, true);                 // dx += dy · wᵀ
//   gemm_tn(x, dy, dw, batch, in, out, true);                 // dw += xᵀ · dy
//
// Each output block is computed by one single-threaded Eigen product over the
// whole reduction dimension, so the result never depends on the thread count.
#pragma once

#include <cstdint>

namespace dtrain::kernels {

// Rows of the output computed per task by gemm_nn / gemm_nt (a fixed constant:
// changing it changes rounding, never correctness), or columns per task when the
// output is short and wide (see gemm.cpp). The choice depends on the shapes only.
inline constexpr std::int64_t kGemmRowBlock = 32;
inline constexpr std::int64_t kGemmColBlock = 128;
// gemm_tn splits a wide weight gradient (n >= 2 blocks) into column blocks,
// a narrow one into row blocks. The choice depends on the shapes only.
inline constexpr std::int64_t kGemmTnColBlock = 128;
inline constexpr std::int64_t kGemmTnRowBlock = 128;

// C[m,n] (+)= A[m,k] · B[k,n]
template <class T>
void gemm_nn(const T* a, const T* b, T* c, std::int64_t m, std::int64_t k, std::int64_t n,
             bool accumulate);
// C[m,k] (+)= A[m,n] · B[k,n]ᵀ
template <class T>
void gemm_nt(const T* a, const T* b, T* c, std::int64_t m, std::int64_t n, std::int64_t k,
             bool accumulate);
// C[k,n] (+)= A[m,k]ᵀ · B[m,n]
template <class T>
void gemm_tn(const T* a, const T* b, T* c, std::int64_t m, std::int64_t k, std::int64_t n,
             bool accumulate);
// Rows [r0, r1) of gemm_tn's C only: C[r0:r1, :] (+)= A[:, r0:r1]ᵀ · B, so a weight
// gradient can be finished in row chunks. The blocking depends on r1 - r0: the
// result may round differently from one gemm_tn over all rows (deterministic still).
template <class T>
void gemm_tn_rows(const T* a, const T* b, T* c, std::int64_t m, std::int64_t k, std::int64_t n,
                  std::int64_t r0, std::int64_t r1, bool accumulate);

}  // namespace dtrain::kernels
