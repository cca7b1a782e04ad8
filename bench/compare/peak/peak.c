/*
 * peak.c measures one core's float32 FMA peak for bench/compare's roofline
 * line: 12 independent chains of vector fused multiply-adds (enough to
 * cover the FMA latency times the FMA ports of current x86 cores), run for
 * about 0.2 s, best of 5 trials. The widest ISA the CPU has is used:
 * AVX-512 (16 lanes), else AVX2 with FMA (8 lanes). Each FMA counts as 2
 * FLOPs per lane. It prints one JSON line: {"isa": ..., "gflops": ...}.
 *
 * Built by run.sh with plain `gcc -O2 peak.c -o peak`: the vector code is
 * compiled per function with target attributes and chosen at run time, so
 * no -m flags are needed.
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define CHAINS(T, FMA, SET1, ADD, STORE, LANES)                                   \
	T a0 = SET1(1.0f), a1 = SET1(1.1f), a2 = SET1(1.2f), a3 = SET1(1.3f);          \
	T a4 = SET1(1.4f), a5 = SET1(1.5f), a6 = SET1(1.6f), a7 = SET1(1.7f);          \
	T a8 = SET1(1.8f), a9 = SET1(1.9f), a10 = SET1(2.0f), a11 = SET1(2.1f);        \
	T m = SET1(0.99999f), c = SET1(1e-6f);                                          \
	for (long i = 0; i < iters; i++) {                                              \
		a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c);                 \
		a3 = FMA(a3, m, c); a4 = FMA(a4, m, c); a5 = FMA(a5, m, c);                 \
		a6 = FMA(a6, m, c); a7 = FMA(a7, m, c); a8 = FMA(a8, m, c);                 \
		a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c);             \
	}                                                                               \
	T s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));        \
	s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));                                    \
	float out[LANES];                                                               \
	STORE(out, s);                                                                  \
	return out[0];

__attribute__((target("avx512f"))) static float chains512(long iters) {
	CHAINS(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
}

__attribute__((target("avx2,fma"))) static float chains256(long iters) {
	CHAINS(__m256, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
}

int main(void) {
	__builtin_cpu_init();
	int lanes;
	const char *isa;
	float (*f)(long);
	if (__builtin_cpu_supports("avx512f")) {
		f = chains512, lanes = 16, isa = "avx512";
	} else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
		f = chains256, lanes = 8, isa = "avx2";
	} else {
		fprintf(stderr, "peak: the CPU has neither AVX-512 nor AVX2 with FMA\n");
		return 1;
	}
	/* Calibrate to ~0.2 s per trial. */
	long iters = 1 << 20;
	volatile float sink = 0;
	for (;;) {
		double t0 = now();
		sink += f(iters);
		double d = now() - t0;
		if (d > 0.05) {
			iters = (long)(iters * 0.2 / d) + 1;
			break;
		}
		iters *= 4;
	}
	double best = 0;
	for (int t = 0; t < 5; t++) {
		double t0 = now();
		sink += f(iters);
		double d = now() - t0;
		double g = 12.0 * 2 * lanes * (double)iters / d / 1e9;
		if (g > best) best = g;
	}
	printf("{\"isa\": \"%s\", \"gflops\": %.1f, \"sink\": %g}\n", isa, best, (double)sink);
	return 0;
}
