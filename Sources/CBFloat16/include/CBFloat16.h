// bfloat16 weights for the frozen model's matrix products: rounding, packing into panels, and a product kernel
// on AVX512-BF16 (vdpbf16ps: pairs of bfloat16 products accumulated in float32) or, on CPUs without it, AVX2 (the
// same products as float32 FMAs, reading the same half-size panels).
#ifndef LEGIBLE_CBFLOAT16_H
#define LEGIBLE_CBFLOAT16_H

#include <stdbool.h>
#include <stdint.h>

/// Columns per packed panel.
#define BF16_PANEL_COLUMNS 32

/// Whether this CPU (and its operating system) runs a bfloat16 kernel: AVX512-BF16 or AVX2 with FMA.
bool bf16_kernel_supported(void);
/// Whether it runs the AVX512-BF16 kernel, which bf16_gemm_panels then uses.
bool bf16_avx512_kernel_supported(void);
/// Whether it runs the AVX2 kernel, which bf16_gemm_panels uses where AVX512-BF16 is missing.
bool bf16_avx2_kernel_supported(void);

/// dst[i] = src[i] rounded to the nearest bfloat16 (ties to even), kept as float: every bfloat16 value is exact in
/// float32, so float32 code can compute with the rounded values. dst may be src.
void bf16_round_floats(float *dst, const float *src, long count);

/// Bytes of bf16_pack's output for N columns of depth K.
long bf16_packed_count(long N, long K);

/// Packs B (N columns of depth K, element (n, k) at src[n * sn + k * sk]) rounded to bfloat16, into panels of 32
/// columns: panel p holds, for each pair of depths k, its 32 columns' two values side by side. Missing columns and
/// the odd depth's partner are zero.
void bf16_pack(uint16_t *dst, const float *src, long N, long K, long sn, long sk);

/// Rows of A (M, K; leading dimension lda) rounded to bfloat16, each padded to an even length (2 * ((K + 1) / 2)).
void bf16_round_rows(uint16_t *dst, const float *src, long M, long K, long lda);

/// C (M, N; leading dimension ldc) = A · Bᵀ (+ C when accumulate) over panels [p0, p1) of the packed B, from A's
/// rounded rows, on the best kernel this CPU runs. Requires bf16_kernel_supported().
void bf16_gemm_panels(const uint16_t *a, long M, long K, const uint16_t *b, long N, float *c, long ldc,
                      bool accumulate, long p0, long p1);
/// The same on one kernel: each requires its own _supported().
void bf16_gemm_panels_avx512(const uint16_t *a, long M, long K, const uint16_t *b, long N, float *c, long ldc,
                             bool accumulate, long p0, long p1);
void bf16_gemm_panels_avx2(const uint16_t *a, long M, long K, const uint16_t *b, long N, float *c, long ldc,
                           bool accumulate, long p0, long p1);

/// The same product computed one element at a time in plain C, for tests: float32 products of the bfloat16 values
/// (exact), summed in depth order.
void bf16_gemm_reference(const uint16_t *a, long M, long K, const uint16_t *b, long N, float *c, long ldc,
                         bool accumulate);

#endif
