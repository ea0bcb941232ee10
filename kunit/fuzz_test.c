// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the fuzzer's engine (fuzz_core.c) on fixed seeds, under KASAN and
 * lockdep. Reproducible: the seed and operation are printed on failure. The
 * same engine runs unbounded under libFuzzer in tools/fuzz.
 */
#include "ac97_test.h"
#include "fuzz_core.h"

#define FUZZ_SEEDS	5
#define FUZZ_OPS	20000

struct xorshift_src {
	struct fuzz_src src;
	u32 state;
};

static u32 xorshift_next(struct fuzz_src *src)
{
	struct xorshift_src *x = container_of(src, struct xorshift_src, src);

	x->state ^= x->state << 13;
	x->state ^= x->state >> 17;
	x->state ^= x->state << 5;
	return x->state;
}

static void fuzz_model(struct kunit *test)
{
	static const u32 seeds[FUZZ_SEEDS] = {
		0x1, 0xac97, 0xdeadbeef, 0x12345678, 0x9e3779b9,
	};
	struct fuzz_result res;
	u64 reads_max = 0;
	unsigned int i;

	for (i = 0; i < FUZZ_SEEDS; i++) {
		struct xorshift_src x = { .src.next = xorshift_next, .state = seeds[i] };

		KUNIT_ASSERT_EQ(test, 0, fuzz_run(&x.src, FUZZ_OPS, &res));
		if (res.broken)
			KUNIT_FAIL(test, "seed %#x op %u: %s (function %u)", seeds[i],
				   res.ops, res.broken, res.func);
		KUNIT_EXPECT_EQ(test, res.ops, FUZZ_OPS);
		reads_max = max(reads_max, res.reads_max);
	}
	kunit_info(test, "fuzz: %u seeds x %u operations, invariants after each; at most %llu guest reads and writes in one step\n",
		   FUZZ_SEEDS, FUZZ_OPS, reads_max);
}

static struct kunit_case fuzz_cases[] = {
	KUNIT_CASE_SLOW(fuzz_model),
	{}
};

static struct kunit_suite fuzz_suite = {
	.name = "ac97_fuzz",
	.test_cases = fuzz_cases,
};

kunit_test_suites(&fuzz_suite);
