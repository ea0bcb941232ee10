// SPDX-License-Identifier: GPL-2.0
/*
 * The device model under test, compiled into the KUnit module so the suites
 * need no exports from ac97_emu.ko (and run where no KVM exists).
 */
#include "../ac97_mixer.c"
#include "../ac97_bm.c"
#include "../ac97_ring.c"
#include "../ac97_pcm.c"

#include <linux/module.h>
#include <linux/uio.h>
#include <kunit/test.h>

/*
 * pcm_read() as AC97_PCM_READ uses it: the format it reports is that of the
 * bytes it returned, even when the reader asked while no data existed yet.
 */
static void pcm_read_reports_format_of_its_bytes(struct kunit *test)
{
	struct ac97_pcm_file *pf = kunit_kzalloc(test, sizeof(*pf), GFP_KERNEL);
	struct ac97_ring *ring = kunit_kzalloc(test, sizeof(*ring), GFP_KERNEL);
	struct ac97_pcm_format fmt = { 0 };
	u8 data[64] = { 1, 2, 3, 4 }, out[128];
	struct kvec kv = { .iov_base = out, .iov_len = sizeof(out) };
	struct pcm_sink sink;
	struct iov_iter iter;

	KUNIT_ASSERT_NOT_NULL(test, pf);
	KUNIT_ASSERT_NOT_NULL(test, ring);
	KUNIT_ASSERT_EQ(test, ac97_ring_init(ring, SZ_64K), 0);
	pf->bounce = kunit_kzalloc(test, AC97_READ_CHUNK, GFP_KERNEL);
	mutex_init(&pf->lock);
	ac97_reader_init(&pf->reader, ring);
	ac97_reader_format(&pf->reader, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.serial, 0);	/* nothing yet */

	ac97_ring_write(ring, data, 40, 44100, 2, 0);
	ac97_ring_write(ring, data, 24, 22050, 2, 0);
	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, sizeof(out));
	sink = (struct pcm_sink) { .iter = &iter };
	KUNIT_EXPECT_EQ(test, pcm_read(pf, &sink, true, &fmt), 40);
	KUNIT_EXPECT_EQ(test, fmt.rate, 44100);
	KUNIT_EXPECT_EQ(test, fmt.serial, 1);
	KUNIT_EXPECT_MEMEQ(test, out, data, 40);
	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, sizeof(out));
	KUNIT_EXPECT_EQ(test, pcm_read(pf, &sink, true, &fmt), 24);
	KUNIT_EXPECT_EQ(test, fmt.rate, 22050);
	KUNIT_EXPECT_EQ(test, fmt.serial, 2);
	KUNIT_EXPECT_EQ(test, pcm_read(pf, &sink, true, &fmt), -EAGAIN);
	ac97_ring_free(ring);
}

static struct kunit_case pcm_internal_cases[] = {
	KUNIT_CASE(pcm_read_reports_format_of_its_bytes),
	{}
};

static struct kunit_suite pcm_internal_suite = {
	.name = "ac97_pcm_read",
	.test_cases = pcm_internal_cases,
};

kunit_test_suites(&pcm_internal_suite);

MODULE_DESCRIPTION("KUnit suites for ac97-emu's device model");
MODULE_LICENSE("GPL");
