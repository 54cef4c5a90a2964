// The bfloat16 kernel (Sources/CBFloat16) against OpenBLAS's float32 product on one shape, one thread each:
// C (M, N) = A (M, K) · Bᵀ, B stored (N, K) as the GGUF models' matrices are. M = 1 uses sgemv, as Legible does.
//
//   cc -O2 -ISources/CBFloat16/include scripts/bf16-gemm-bench.c Sources/CBFloat16/bfloat16.c -lopenblas -lm \
//       -o /tmp/bf16-gemm-bench
//   OPENBLAS_NUM_THREADS=1 /tmp/bf16-gemm-bench M N K [repeats]
//
// Prints the best time of each side, their GFLOP/s, the ratio and the largest difference between the two results
// (the bfloat16 side rounds A and B, so it differs by about 2⁻⁸ relative).
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "CBFloat16.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s M N K [repeats]\n", argv[0]); return 2; }
    long M = atol(argv[1]), N = atol(argv[2]), K = atol(argv[3]);
    int repeats = argc > 4 ? atoi(argv[4]) : 5;
    if (!bf16_kernel_supported()) { fprintf(stderr, "this CPU has neither AVX512-BF16 nor AVX2\n"); return 1; }
    printf("kernel: %s\n", bf16_avx512_kernel_supported() ? "AVX512-BF16" : "AVX2");
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * N * K);
    float *c32 = malloc(sizeof(float) * M * N), *c16 = malloc(sizeof(float) * M * N);
    srand(1);
    for (long i = 0; i < M * K; i++) a[i] = rand() / (float)RAND_MAX - 0.5f;
    for (long i = 0; i < N * K; i++) b[i] = (rand() / (float)RAND_MAX - 0.5f) * 0.1f;
    uint16_t *panels = malloc(sizeof(uint16_t) * bf16_packed_count(N, K));
    uint16_t *rows = malloc(sizeof(uint16_t) * M * 2 * ((K + 1) / 2));
    bf16_pack(panels, b, N, K, K, 1);
    double best32 = 1e30, best16 = 1e30;
    for (int r = 0; r < repeats; r++) {
        double t = now();
        if (M == 1) cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1, b, K, a, 1, 0, c32, 1);
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, b, K, 0, c32, N);
        t = now() - t;
        if (t < best32) best32 = t;
        t = now();
        bf16_round_rows(rows, a, M, K, K);
        bf16_gemm_panels(rows, M, K, panels, N, c16, N, false, 0, (N + BF16_PANEL_COLUMNS - 1) / BF16_PANEL_COLUMNS);
        t = now() - t;
        if (t < best16) best16 = t;
    }
    double largest = 0;
    for (long i = 0; i < M * N; i++) largest = fmax(largest, fabs(c32[i] - c16[i]));
    double flops = 2.0 * M * N * K;
    printf("M %ld N %ld K %ld: float32 %.3f ms (%.1f GFLOP/s), bfloat16 %.3f ms (%.1f GFLOP/s), %.2fx, largest difference %.1e\n",
           M, N, K, best32 * 1e3, flops / best32 / 1e9, best16 * 1e3, flops / best16 / 1e9, best32 / best16, largest);
    return 0;
}
