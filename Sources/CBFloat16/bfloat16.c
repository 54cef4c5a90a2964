// See CBFloat16.h. Two kernels read the same panels. The AVX512-BF16 one multiplies a tile of up to 8 rows of A by
// one panel (32 columns) of B: for each pair of depths, one broadcast of the row's two bfloat16 values against the
// panel's 2 × 32 values, 16 float32 lanes per instruction, so no horizontal sums are needed and every output lands
// in its row of C. The AVX2 one does the same with float32 FMAs: a bfloat16 value is the high half of a float32, so
// each 32-bit lane of a panel (one column's two depths) becomes two floats by a shift and a mask, and the products,
// exact in float32, are summed by FMA.
#include "CBFloat16.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define KERNEL_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define AVX2_TARGET __attribute__((target("avx2,fma")))

bool bf16_avx512_kernel_supported(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512bf16");
#else
    return false;
#endif
}

bool bf16_avx2_kernel_supported(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

bool bf16_kernel_supported(void) { return bf16_avx512_kernel_supported() || bf16_avx2_kernel_supported(); }

static inline uint16_t round_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // NaN stays a quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);  // to nearest, ties to even (overflow rounds to infinity, as it should)
    return (uint16_t)(u >> 16);
}

static inline float bf16_to_float(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void bf16_round_floats(float *dst, const float *src, long count) {
    for (long i = 0; i < count; i++) dst[i] = bf16_to_float(round_to_bf16(src[i]));
}

long bf16_packed_count(long N, long K) {
    long panels = (N + BF16_PANEL_COLUMNS - 1) / BF16_PANEL_COLUMNS;
    return panels * BF16_PANEL_COLUMNS * 2 * ((K + 1) / 2);
}

void bf16_pack(uint16_t *dst, const float *src, long N, long K, long sn, long sk) {
    long pairs = (K + 1) / 2, panels = (N + BF16_PANEL_COLUMNS - 1) / BF16_PANEL_COLUMNS;
    for (long p = 0; p < panels; p++) {
        uint16_t *panel = dst + p * pairs * 2 * BF16_PANEL_COLUMNS;
        for (long j = 0; j < BF16_PANEL_COLUMNS; j++) {
            long n = p * BF16_PANEL_COLUMNS + j;
            for (long k = 0; k < 2 * pairs; k++) {
                float v = n < N && k < K ? src[n * sn + k * sk] : 0;
                panel[((k / 2) * BF16_PANEL_COLUMNS + j) * 2 + (k & 1)] = round_to_bf16(v);
            }
        }
    }
}

void bf16_round_rows(uint16_t *dst, const float *src, long M, long K, long lda) {
    long width = 2 * ((K + 1) / 2);
    for (long m = 0; m < M; m++) {
        for (long k = 0; k < K; k++) dst[m * width + k] = round_to_bf16(src[m * lda + k]);
        if (K & 1) dst[m * width + K] = 0;
    }
}

// rows ≤ 8 rows of A (rounded, stride `width`) times one panel, into C's rows at c; `columns` of the panel's 32 are
// real. Called with constant `rows` so the accumulators stay in registers. With few rows, each accumulator would wait
// on the previous vdpbf16ps into it (a latency of several cycles); `splits` independent sums over alternating pairs
// of depths keep the unit busy, and are added at the end.
KERNEL_TARGET static inline __attribute__((always_inline))
void tile(int rows, const uint16_t *a, long width, const uint16_t *panel, long pairs, float *c, long ldc,
          int columns, bool accumulate) {
    enum { most = 4 };
    const int splits = rows <= 2 ? 4 : rows <= 4 ? 2 : 1;
    __m512 acc[most][8][2];
    for (int s = 0; s < splits; s++)
        for (int i = 0; i < rows; i++) { acc[s][i][0] = _mm512_setzero_ps(); acc[s][i][1] = _mm512_setzero_ps(); }
    long kp = 0;
    for (; kp + splits <= pairs; kp += splits)
        for (int s = 0; s < splits; s++) {
            __m512bh b0 = (__m512bh)_mm512_loadu_si512(panel + (kp + s) * 64);
            __m512bh b1 = (__m512bh)_mm512_loadu_si512(panel + (kp + s) * 64 + 32);
            for (int i = 0; i < rows; i++) {
                int32_t pair;
                memcpy(&pair, a + i * width + 2 * (kp + s), 4);
                __m512bh ai = (__m512bh)_mm512_set1_epi32(pair);
                acc[s][i][0] = _mm512_dpbf16_ps(acc[s][i][0], ai, b0);
                acc[s][i][1] = _mm512_dpbf16_ps(acc[s][i][1], ai, b1);
            }
        }
    for (; kp < pairs; kp++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(panel + kp * 64);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(panel + kp * 64 + 32);
        for (int i = 0; i < rows; i++) {
            int32_t pair;
            memcpy(&pair, a + i * width + 2 * kp, 4);
            __m512bh ai = (__m512bh)_mm512_set1_epi32(pair);
            acc[0][i][0] = _mm512_dpbf16_ps(acc[0][i][0], ai, b0);
            acc[0][i][1] = _mm512_dpbf16_ps(acc[0][i][1], ai, b1);
        }
    }
    for (int s = 1; s < splits; s++)
        for (int i = 0; i < rows; i++) {
            acc[0][i][0] = _mm512_add_ps(acc[0][i][0], acc[s][i][0]);
            acc[0][i][1] = _mm512_add_ps(acc[0][i][1], acc[s][i][1]);
        }
    __mmask16 low = columns >= 16 ? 0xffff : (__mmask16)((1u << columns) - 1);
    __mmask16 high = columns >= 32 ? 0xffff : columns <= 16 ? 0 : (__mmask16)((1u << (columns - 16)) - 1);
    for (int i = 0; i < rows; i++) {
        float *row = c + i * ldc;
        __m512 r0 = acc[0][i][0], r1 = acc[0][i][1];
        if (accumulate) {
            r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(low, row));
            r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(high, row + 16));
        }
        _mm512_mask_storeu_ps(row, low, r0);
        _mm512_mask_storeu_ps(row + 16, high, r1);
    }
}

#define TILE(R) tile(R, a + m * width, width, panel, pairs, c + m * ldc + p * BF16_PANEL_COLUMNS, ldc, columns, accumulate)

KERNEL_TARGET
void bf16_gemm_panels_avx512(const uint16_t *a, long M, long K, const uint16_t *b, long N, float *c, long ldc,
                      bool accumulate, long p0, long p1) {
    long pairs = (K + 1) / 2, width = 2 * pairs;
    for (long p = p0; p < p1; p++) {
        const uint16_t *panel = b + p * pairs * 2 * BF16_PANEL_COLUMNS;
        long left = N - p * BF16_PANEL_COLUMNS;
        int columns = (int)(left < BF16_PANEL_COLUMNS ? left : BF16_PANEL_COLUMNS);
        long m = 0;
        for (; m + 8 <= M; m += 8) TILE(8);
        switch (M - m) {
        case 7: TILE(7); break;
        case 6: TILE(6); break;
        case 5: TILE(5); break;
        case 4: TILE(4); break;
        case 3: TILE(3); break;
        case 2: TILE(2); break;
        case 1: TILE(1); break;
        default: break;
        }
    }
}

// rows (1, 2 or 4) rows of A, as floats, times `vectors` (8 / rows, at most 4) groups of 8 columns of one panel
// starting at group g0, into C's rows at c. Eight accumulators in every case, enough to hide the FMA latency: with
// one row, even and odd depths sum apart.
AVX2_TARGET static inline __attribute__((always_inline))
void tile_avx2(int rows, const float *a, long width, const uint16_t *panel, long pairs, float *c, long ldc,
               int g0, int columns, bool accumulate) {
    const int vectors = rows == 1 ? 4 : 8 / rows, split = rows == 1 ? 2 : 1;
    const __m256i high = _mm256_set1_epi32((int)0xffff0000u);
    __m256 acc[2][4][4];
    for (int s = 0; s < split; s++)
        for (int i = 0; i < rows; i++)
            for (int v = 0; v < vectors; v++) acc[s][i][v] = _mm256_setzero_ps();
    for (long kp = 0; kp < pairs; kp++) {
        __m256 b0[4], b1[4];
        for (int v = 0; v < vectors; v++) {
            __m256i lanes = _mm256_loadu_si256((const __m256i *)(panel + kp * 64 + (g0 + v) * 16));
            b0[v] = _mm256_castsi256_ps(_mm256_slli_epi32(lanes, 16));
            b1[v] = _mm256_castsi256_ps(_mm256_and_si256(lanes, high));
        }
        for (int i = 0; i < rows; i++) {
            __m256 a0 = _mm256_broadcast_ss(a + i * width + 2 * kp), a1 = _mm256_broadcast_ss(a + i * width + 2 * kp + 1);
            for (int v = 0; v < vectors; v++) {
                acc[0][i][v] = _mm256_fmadd_ps(a0, b0[v], acc[0][i][v]);
                acc[split - 1][i][v] = _mm256_fmadd_ps(a1, b1[v], acc[split - 1][i][v]);
            }
        }
    }
    for (int v = 0; v < vectors; v++) {
        int first = (g0 + v) * 8, real = columns - first;
        if (real <= 0) break;
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(real), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (int i = 0; i < rows; i++) {
            float *out = c + i * ldc + first;
            __m256 r = split == 2 ? _mm256_add_ps(acc[0][i][v], acc[1][i][v]) : acc[0][i][v];
            if (accumulate) r = _mm256_add_ps(r, _mm256_maskload_ps(out, mask));
            _mm256_maskstore_ps(out, mask, r);
        }
    }
}

#define TILE_AVX2(R) \
    for (int g = 0; g < 4; g += (R == 1 ? 4 : 8 / R)) \
        tile_avx2(R, rows + m * width, width, panel, pairs, c + m * ldc + p * BF16_PANEL_COLUMNS, ldc, g, columns, accumulate)

AVX2_TARGET
void bf16_gemm_panels_avx2(const uint16_t *a, long M, long K, const uint16_t *b, long N, float *c, long ldc,
                           bool accumulate, long p0, long p1) {
    long pairs = (K + 1) / 2, width = 2 * pairs;
    // A's rounded rows as floats, once, so the tiles broadcast them straight from memory.
    float *rows = malloc(sizeof(float) * M * width);
    if (!rows) abort();
    for (long i = 0; i < M * width; i++) rows[i] = bf16_to_float(a[i]);
    for (long p = p0; p < p1; p++) {
        const uint16_t *panel = b + p * pairs * 2 * BF16_PANEL_COLUMNS;
        long left = N - p * BF16_PANEL_COLUMNS;
        int columns = (int)(left < BF16_PANEL_COLUMNS ? left : BF16_PANEL_COLUMNS);
        long m = 0;
        for (; m + 4 <= M; m += 4) TILE_AVX2(4);
        for (; m + 2 <= M; m += 2) TILE_AVX2(2);
        for (; m < M; m += 1) TILE_AVX2(1);
    }
    free(rows);
}

void bf16_gemm_panels(const uint16_t *a, long M, long K, const uint16_t *b, long N, float *c, long ldc,
                      bool accumulate, long p0, long p1) {
    if (bf16_avx512_kernel_supported()) bf16_gemm_panels_avx512(a, M, K, b, N, c, ldc, accumulate, p0, p1);
    else bf16_gemm_panels_avx2(a, M, K, b, N, c, ldc, accumulate, p0, p1);
}

void bf16_gemm_reference(const uint16_t *a, long M, long K, const uint16_t *b, long N, float *c, long ldc,
                         bool accumulate) {
    long pairs = (K + 1) / 2, width = 2 * pairs;
    for (long m = 0; m < M; m++)
        for (long n = 0; n < N; n++) {
            const uint16_t *panel = b + (n / BF16_PANEL_COLUMNS) * pairs * 2 * BF16_PANEL_COLUMNS;
            long j = n % BF16_PANEL_COLUMNS;
            float sum = 0;
            for (long k = 0; k < width; k++)
                sum += bf16_to_float(a[m * width + k]) * bf16_to_float(panel[((k / 2) * BF16_PANEL_COLUMNS + j) * 2 + (k & 1)]);
            c[m * ldc + n] = accumulate ? c[m * ldc + n] + sum : sum;
        }
}
