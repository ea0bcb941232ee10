/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's engine, shared by the KUnit suite (seeded xorshift, in UML
 * with KASAN and lockdep) and the userspace libFuzzer target (tools/fuzz,
 * bytes from libFuzzer, under AddressSanitizer).
 */
#ifndef AC97_FUZZ_CORE_H
#define AC97_FUZZ_CORE_H

#include "fake_guest.h"

/**
 * struct fuzz_src - where the fuzzer's choices come from
 * @next: the next 32 random bits
 * @ended: set by @next when it has no more to give; the run stops there
 */
struct fuzz_src {
	u32 (*next)(struct fuzz_src *src);
	bool ended;
};

/**
 * struct fuzz_result - what one run did, and the first invariant it broke
 * @ops: operations run
 * @reads_max: most guest-memory reads and writes in one engine step
 * @broken: NULL, or what broke
 * @func: the DMA function concerned, where that applies
 */
struct fuzz_result {
	unsigned int ops;
	u64 reads_max;
	const char *broken;
	unsigned int func;
};

/* Bound on guest-memory reads in one engine step: work per tick is bounded. */
#define FUZZ_READS_PER_STEP	(3 * 64)

int fuzz_run(struct fuzz_src *src, unsigned int max_ops, struct fuzz_result *res);

#endif /* AC97_FUZZ_CORE_H */
