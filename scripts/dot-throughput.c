// How many multiply-adds per second one core retires with AVX512-BF16's vdpbf16ps (32 bfloat16 products summed
// into 16 float32 lanes) against AVX-512's vfmadd231ps (16 float32 multiply-adds): 24 independent accumulators,
// so only throughput limits either. Whether bfloat16 can speed up compute-bound products depends on this ratio.
//
//   clang -O2 scripts/dot-throughput.c -o /tmp/dot-throughput && /tmp/dot-throughput
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

enum { accumulators = 24 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx512f,avx512bf16"))) static double bfloat16_seconds(long n) {
    __m512 a[accumulators];
    for (int i = 0; i < accumulators; i++) a[i] = _mm512_set1_ps(i);
    __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80), y = x;
    double t = now();
    for (long k = 0; k < n; k++) {
#pragma clang loop unroll(full)
        for (int i = 0; i < accumulators; i++) a[i] = _mm512_dpbf16_ps(a[i], x, y);
        __asm__ volatile("" : "+v"(x));  // keeps the loop from being folded away
    }
    t = now() - t;
    float s = 0;
    for (int i = 0; i < accumulators; i++) s += _mm512_reduce_add_ps(a[i]);
    if (s == 1) printf(" ");
    return t;
}

__attribute__((target("avx512f"))) static double float32_seconds(long n) {
    __m512 a[accumulators];
    for (int i = 0; i < accumulators; i++) a[i] = _mm512_set1_ps(i);
    __m512 x = _mm512_set1_ps(1.0001f), y = _mm512_set1_ps(0.9999f);
    double t = now();
    for (long k = 0; k < n; k++) {
#pragma clang loop unroll(full)
        for (int i = 0; i < accumulators; i++) a[i] = _mm512_fmadd_ps(x, y, a[i]);
        __asm__ volatile("" : "+v"(x));
    }
    t = now() - t;
    float s = 0;
    for (int i = 0; i < accumulators; i++) s += _mm512_reduce_add_ps(a[i]);
    if (s == 1) printf(" ");
    return t;
}

int main(void) {
    const long n = 100000000;
    for (int round = 0; round < 3; round++) {
        double b = bfloat16_seconds(n), f = float32_seconds(n);
        double instructions = (double)accumulators * n;
        printf("vdpbf16ps %.2f G/s (%.0f GFLOP/s), vfmadd231ps %.2f G/s (%.0f GFLOP/s): bfloat16 gives %.2fx the FLOPs\n",
               instructions / b / 1e9, instructions * 64 / b / 1e9, instructions / f / 1e9, instructions * 32 / f / 1e9,
               (instructions * 64 / b) / (instructions * 32 / f));
    }
}
