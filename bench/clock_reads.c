/*
 * The floor under ClockBoundClient.Now(): the two clock reads every ClockBound client makes (CLOCK_REALTIME, then
 * CLOCK_MONOTONIC_COARSE), timed the way `clockbound now --bench` times Now(): a warm-up, then N consecutive pairs in
 * 5 batches; prints the per-pair cost of each batch and `median_ns_per_call=X` last.
 * Build: gcc -O2 -o clock_reads clock_reads.c    Run: ./clock_reads [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCHES 5 /* the median of 5 is robust to one disturbed batch */

static volatile long sink; /* keeps the compiler from dropping the reads */

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void two_clock_reads(long calls)
{
    struct timespec realtime, monotonic;
    for (long i = 0; i < calls; i++) {
        clock_gettime(CLOCK_REALTIME, &realtime);
        clock_gettime(CLOCK_MONOTONIC_COARSE, &monotonic);
        sink += realtime.tv_nsec + monotonic.tv_nsec;
    }
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long calls = argc > 1 ? atol(argv[1]) : 10000000;
    if (calls <= 0) {
        fprintf(stderr, "clock_reads: N must be a positive number of calls, got %s\n", argv[1]);
        return 2;
    }
    two_clock_reads(calls < 200000 ? 200000 : calls); /* warm-up: caches, vDSO page, CPU frequency */
    double per_call[BATCHES];
    for (int batch = 0; batch < BATCHES; batch++) {
        long long start = now_ns();
        two_clock_reads(calls);
        per_call[batch] = (double)(now_ns() - start) / calls;
        printf("batch %d: %.1f ns/call\n", batch + 1, per_call[batch]);
    }
    qsort(per_call, BATCHES, sizeof per_call[0], compare);
    printf("median_ns_per_call=%.1f\n", per_call[BATCHES / 2]);
    return 0;
}
