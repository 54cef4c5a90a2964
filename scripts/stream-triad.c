// A STREAM-style triad, a[i] = b[i] + 3·c[i] over three arrays of 80M doubles (640 MB each), best of 6: the memory
// bandwidth docs/BENCHMARKS.md compares decoding with. It counts 24 bytes per element (two reads, one write), as
// STREAM does; the write's read-for-ownership is not counted.
//
//   cc -O3 -fopenmp scripts/stream-triad.c -o /tmp/stream-triad && OMP_NUM_THREADS=2 /tmp/stream-triad
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define N 80000000L

int main(void) {
    double *a = malloc(N * sizeof(double)), *b = malloc(N * sizeof(double)), *c = malloc(N * sizeof(double));
    if (!a || !b || !c) { fprintf(stderr, "stream-triad: out of memory\n"); return 1; }
#pragma omp parallel for
    for (long i = 0; i < N; i++) { a[i] = 1; b[i] = 2; c[i] = 0; }
    double best = 1e9;
    for (int r = 0; r < 6; r++) {
        double t = omp_get_wtime();
#pragma omp parallel for
        for (long i = 0; i < N; i++) a[i] = b[i] + 3.0 * c[i];
        t = omp_get_wtime() - t;
        if (t < best) best = t;
    }
    printf("triad, %d threads: %.1f GB/s\n", omp_get_max_threads(), 3.0 * N * sizeof(double) / best / 1e9);
    free(a); free(b); free(c);
    return 0;
}
