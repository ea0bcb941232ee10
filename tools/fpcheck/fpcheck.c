// SPDX-License-Identifier: GPL-2.0
/*
 * fpcheck: does the kernel keep each thread's FP/vector registers across
 * context switches? Meant for User-Mode Linux, which saves and restores its
 * processes' registers through the host's ptrace, in a buffer whose size must
 * match the host CPU's XSAVE area (AVX: 832 bytes, AVX-512: 2432 or more,
 * AMX: 11008). Two processes of two threads each load their own values into
 * every vector and mask register the CPU has and MXCSR, yield with those
 * registers live, and check them afterwards; and each computes a
 * floating-point sum between yields and checks it against the value the
 * parent computed before forking.
 *
 * Usage: fpcheck [rounds]   Exit status 0 only if every check held; the last
 * line says what was checked ("fpcheck: ok ...") or the first mismatch.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Block layout shared with fp_hold.S. */
#define VREG_STRIDE	64
#define MXCSR_AT	2048
#define KREGS_AT	2056
#define BLOCK_BYTES	(KREGS_AT + 8 * 8)

#define YIELDS_PER_HOLD	4
#define SUM_TERMS	2000

void fp_hold_sse(const void *in, void *out, long yields);
void fp_hold_avx(const void *in, void *out, long yields);
void fp_hold_avx512(const void *in, void *out, long yields);

enum fp_level { FP_SSE, FP_AVX, FP_AVX512 };

static const char *const level_name[] = { "sse", "sse+avx", "sse+avx+avx512" };

struct worker {
	int id;
	int rounds;
	enum fp_level level;
	double sum_expected;
	char failure[200];
};

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* What the CPU has and the host kernel has enabled (XCR0). */
static enum fp_level detect_level(void)
{
	unsigned int a, b, c, d;
	uint64_t xcr0;

	__cpuid(1, a, b, c, d);
	if (!(c & bit_OSXSAVE) || !(c & bit_AVX))
		return FP_SSE;
	xcr0 = xgetbv0();
	if ((xcr0 & 0x6) != 0x6)
		return FP_SSE;
	__cpuid_count(7, 0, a, b, c, d);
	if ((b & bit_AVX512F) && (xcr0 & 0xe0) == 0xe0)
		return FP_AVX512;
	return FP_AVX;
}

/* Size of the XSAVE area for the features the host kernel enabled. */
static unsigned int xsave_bytes(void)
{
	unsigned int a, b, c, d;

	__cpuid(1, a, b, c, d);
	if (!(c & bit_OSXSAVE))
		return 512;
	__cpuid_count(0xd, 0, a, b, c, d);
	return b;
}

/* Bytes of each vector register the level has. */
static size_t vreg_bytes(enum fp_level level)
{
	return level == FP_AVX512 ? 64 : level == FP_AVX ? 32 : 16;
}

static int vreg_count(enum fp_level level)
{
	return level == FP_AVX512 ? 32 : 16;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

/*
 * Values unique to (worker, round, byte), and an MXCSR with a rounding mode
 * and exception masks of the worker's own (status flags clear: an instruction
 * here could set them).
 */
static void fill_block(uint8_t *blk, int id, int round, enum fp_level level)
{
	uint64_t seed = ((uint64_t)id << 40) ^ ((uint64_t)round << 8);
	uint32_t mxcsr = 0x1f80 ^ ((uint32_t)(id & 3) << 13) ^
			 ((uint32_t)(round & 1) << 7);
	int r;
	size_t i;

	memset(blk, 0, BLOCK_BYTES);
	for (r = 0; r < vreg_count(level); r++)
		for (i = 0; i < vreg_bytes(level); i++)
			blk[r * VREG_STRIDE + i] = mix(seed + r * 64 + i) & 0xff;
	memcpy(blk + MXCSR_AT, &mxcsr, sizeof(mxcsr));
	if (level == FP_AVX512)
		for (r = 0; r < 8; r++) {
			uint16_t k = mix(seed ^ (0x4b00 + r)) & 0xffff;

			memcpy(blk + KREGS_AT + r * 8, &k, sizeof(k));
		}
}

/* "zmm5 byte 40", "k3 byte 1", "mxcsr byte 0": where block byte @off lives. */
static void describe_byte(char *buf, size_t len, size_t off, enum fp_level level)
{
	static const char *const vname[] = { "xmm", "ymm", "zmm" };

	if (off >= KREGS_AT)
		snprintf(buf, len, "k%zu byte %zu", (off - KREGS_AT) / 8,
			 (off - KREGS_AT) % 8);
	else if (off >= MXCSR_AT)
		snprintf(buf, len, "mxcsr byte %zu", off - MXCSR_AT);
	else
		snprintf(buf, len, "%s%zu byte %zu", vname[level],
			 off / VREG_STRIDE, off % VREG_STRIDE);
}

static int hold_and_check(struct worker *w, int round)
{
	uint8_t in[BLOCK_BYTES] __attribute__((aligned(64)));
	uint8_t out[BLOCK_BYTES] __attribute__((aligned(64)));
	unsigned int saved_csr = _mm_getcsr();
	char where[40];
	size_t i;

	fill_block(in, w->id, round, w->level);
	memset(out, 0, sizeof(out));
	switch (w->level) {
	case FP_AVX512:
		fp_hold_avx512(in, out, YIELDS_PER_HOLD);
		break;
	case FP_AVX:
		fp_hold_avx(in, out, YIELDS_PER_HOLD);
		break;
	default:
		fp_hold_sse(in, out, YIELDS_PER_HOLD);
	}
	_mm_setcsr(saved_csr);
	for (i = 0; i < sizeof(in); i++) {
		if (in[i] == out[i])
			continue;
		describe_byte(where, sizeof(where), i, w->level);
		snprintf(w->failure, sizeof(w->failure),
			 "worker %d round %d: %s is 0x%02x, expected 0x%02x",
			 w->id, round, where, out[i], in[i]);
		return -1;
	}
	return 0;
}

/* Sum of 1/k^2 with a yield every 100 terms: the partial sum lives in xmm. */
static double yielding_sum(void)
{
	double s = 0.0;
	int k;

	for (k = 1; k <= SUM_TERMS; k++) {
		s += 1.0 / ((double)k * k);
		if (k % 100 == 0)
			sched_yield();
	}
	return s;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	double s;
	int round;

	for (round = 0; round < w->rounds; round++) {
		if (hold_and_check(w, round))
			return w;
		if (round % 16 == 0) {
			s = yielding_sum();
			if (memcmp(&s, &w->sum_expected, sizeof(s))) {
				snprintf(w->failure, sizeof(w->failure),
					 "worker %d round %d: sum %.17g, expected %.17g",
					 w->id, round, s, w->sum_expected);
				return w;
			}
		}
	}
	return NULL;
}

/* One process: two threads, workers 2p and 2p+1. Returns 0 if both passed. */
static int run_process(int p, int rounds, enum fp_level level, double sum)
{
	struct worker w[2];
	struct rusage ru;
	pthread_t t;
	int failed = 0, i;

	for (i = 0; i < 2; i++)
		w[i] = (struct worker){ .id = 2 * p + i, .rounds = rounds,
					.level = level, .sum_expected = sum };
	if (pthread_create(&t, NULL, worker_main, &w[1])) {
		fprintf(stderr, "fpcheck: pthread_create failed\n");
		return 2;
	}
	worker_main(&w[0]);
	pthread_join(t, NULL);
	for (i = 0; i < 2; i++)
		if (w[i].failure[0]) {
			printf("fpcheck: FAIL %s\n", w[i].failure);
			failed = 1;
		}
	/* Not a vacuous pass: the threads must really have been switched. */
	getrusage(RUSAGE_SELF, &ru);
	printf("fpcheck: process %d: %ld context switches\n", p,
	       ru.ru_nvcsw + ru.ru_nivcsw);
	if (!failed && ru.ru_nvcsw + ru.ru_nivcsw < rounds) {
		printf("fpcheck: FAIL process %d switched only %ld times in %d rounds\n",
		       p, ru.ru_nvcsw + ru.ru_nivcsw, rounds);
		failed = 1;
	}
	fflush(stdout);
	return failed;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 2000;
	enum fp_level level = detect_level();
	double sum = yielding_sum();
	int status, failed = 0, p;
	pid_t pid[2];

	if (rounds < 1) {
		fprintf(stderr, "usage: fpcheck [rounds]\n");
		return 2;
	}
	fflush(stdout);
	for (p = 0; p < 2; p++) {
		pid[p] = fork();
		if (pid[p] < 0) {
			perror("fpcheck: fork");
			return 2;
		}
		if (pid[p] == 0)
			_exit(run_process(p, rounds, level, sum));
	}
	for (p = 0; p < 2; p++) {
		if (waitpid(pid[p], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			printf("fpcheck: FAIL process %d (status %#x)\n", p, status);
			failed = 1;
		}
	}
	if (failed)
		return 1;
	printf("fpcheck: ok %s registers (XSAVE area %u bytes), 2 processes x 2 threads, %d rounds of %d yields each, sums exact\n",
	       level_name[level], xsave_bytes(), rounds, YIELDS_PER_HOLD);
	return 0;
}
