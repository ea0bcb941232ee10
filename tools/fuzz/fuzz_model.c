// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: ac97-emu's device model (the kernel's own source files,
 * compiled against kshim/) driven by fuzz_core.c, with libFuzzer's bytes as
 * the choices. A broken invariant aborts, so libFuzzer saves the input.
 *
 *   make -C tools OUT=/tmp/f fuzz && /tmp/f/ac97-fuzz -max_total_time=60 corpus/
 */
#include "kshim/model_host.c"
#include "../../kunit/fuzz_core.c"

/* Input bytes as 32-bit choices; the run ends with the input. */
struct bytes_src {
	struct fuzz_src src;
	const uint8_t *data;
	size_t left;
};

static u32 bytes_next(struct fuzz_src *src)
{
	struct bytes_src *b = container_of(src, struct bytes_src, src);
	u32 v = 0;
	size_t n = min_t(size_t, b->left, 4);

	memcpy(&v, b->data, n);
	b->data += n;
	b->left -= n;
	if (!b->left)
		src->ended = true;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bytes_src b = { .src.next = bytes_next, .data = data, .left = size };
	struct fuzz_result res;

	if (!size)
		return 0;
	if (fuzz_run(&b.src, 1u << 20, &res))
		return 0;
	if (res.broken) {
		fprintf(stderr, "ac97-fuzz: op %u: %s (function %u)\n", res.ops,
			res.broken, res.func);
		abort();
	}
	return 0;
}
