// SPDX-License-Identifier: GPL-2.0
/*
 * The device model under test, compiled into the KUnit module so the suites
 * need no exports from ac97_emu.ko (and run where no KVM exists).
 */
#include "../ac97_mixer.c"
#include "../ac97_dev.c"
#include "../ac97_bm.c"
#include "../ac97_dma.c"
#include "../ac97_source.c"
#include "../ac97_ring.c"
#include "../ac97_pcm.c"

#include <linux/file.h>
#include <linux/module.h>
#include <linux/uio.h>
#include <kunit/test.h>

#include "ac97_test.h"

/*
 * pcm_read() as AC97_PCM_READ uses it: the format it reports is that of the
 * bytes it returned, even when the reader asked while no data existed yet.
 */
static void pcm_read_reports_format_of_its_bytes(struct kunit *test)
{
	struct ac97_pcm_file *pf = kunit_kzalloc(test, sizeof(*pf), GFP_KERNEL);
	struct ac97_dev *dev = fake_dev_new(test, fake_guest_new(test), AC97_DEV_MANUAL);
	struct ac97_ring *ring = &dev->ring;
	struct ac97_pcm_format fmt = { 0 };
	u8 data[64] = { 1, 2, 3, 4 }, out[128];
	struct kvec kv = { .iov_base = out, .iov_len = sizeof(out) };
	struct pcm_sink sink;
	struct iov_iter iter;

	KUNIT_ASSERT_NOT_NULL(test, pf);
	pf->dev = dev;	/* PO is idle: its reads pull nothing */
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
}

/*
 * /dev/ac97pcm opens the lowest-numbered device of the caller's own: not
 * another user's, whichever attached first.
 */
static void pcm_alias_is_per_user(struct kunit *test)
{
	struct fake_guest *g = fake_guest_new(test);
	struct ac97_dev *other = fake_dev_new(test, g, AC97_DEV_MANUAL);
	struct ac97_dev *mine = fake_dev_new(test, g, AC97_DEV_MANUAL);
	struct ac97_pcm_file *pf;
	struct file *alias;

	other->owner = KUIDT_INIT(4242);	/* as if another user attached it first */
	alias = filp_open("/dev/ac97pcm", O_RDONLY, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(alias), "open: %ld", PTR_ERR(alias));
	pf = alias->private_data;
	KUNIT_EXPECT_PTR_EQ(test, pf->dev, mine);
	filp_close(alias, NULL);
	mine->owner = KUIDT_INIT(4243);
	alias = filp_open("/dev/ac97pcm", O_RDONLY, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(alias), -ENODEV);
	if (!IS_ERR(alias))
		filp_close(alias, NULL);
}

/*
 * Writers of a PCM node: any number may open it, each takes a source at its
 * first write (the line source) or by AC97_PCM_SET_SOURCE, one writer per
 * source; a reader cannot take one.
 */
static void pcm_writers_take_sources(struct kunit *test)
{
	struct fake_guest *g = fake_guest_new(test);
	struct ac97_dev *dev = fake_dev_new(test, g, AC97_DEV_MANUAL);
	u8 frame[4] = { 1, 2, 3, 4 };
	struct file *line, *mic, *reader;
	char path[32];
	loff_t pos = 0;

	snprintf(path, sizeof(path), "/dev/ac97pcm%d", dev->index);
	line = filp_open(path, O_WRONLY, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(line), "open: %ld", PTR_ERR(line));
	mic = filp_open(path, O_WRONLY, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(mic), "open: %ld", PTR_ERR(mic));
	reader = filp_open(path, O_RDONLY, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(reader), "open: %ld", PTR_ERR(reader));

	KUNIT_EXPECT_EQ(test, kernel_write(line, frame, 4, &pos), 4);
	KUNIT_EXPECT_EQ(test, kernel_write(mic, frame, 4, &pos), -EBUSY);
	KUNIT_EXPECT_EQ(test, mic->f_op->unlocked_ioctl(mic, AC97_PCM_SET_SOURCE, 7), -EINVAL);
	KUNIT_EXPECT_EQ(test, mic->f_op->unlocked_ioctl(mic, AC97_PCM_SET_SOURCE,
							AC97_PCM_SOURCE_MIC), 0);
	KUNIT_EXPECT_EQ(test, kernel_write(mic, frame, 2, &pos), 2);
	KUNIT_EXPECT_EQ(test, reader->f_op->unlocked_ioctl(reader, AC97_PCM_SET_SOURCE,
							   AC97_PCM_SOURCE_MIC), -EBADF);
	KUNIT_EXPECT_EQ(test, dev->src[AC97_SRC_LINE].wpos, 4);
	KUNIT_EXPECT_EQ(test, dev->src[AC97_SRC_MIC].wpos, 2);
	/* The line source is free once its writer has gone. */
	filp_close(line, NULL);
	flush_delayed_fput();	/* a kthread's last fput is deferred */
	KUNIT_EXPECT_EQ(test, mic->f_op->unlocked_ioctl(mic, AC97_PCM_SET_SOURCE,
							AC97_PCM_SOURCE_LINE), 0);
	KUNIT_EXPECT_FALSE(test, dev->src[AC97_SRC_MIC].claimed);
	filp_close(mic, NULL);
	filp_close(reader, NULL);
	flush_delayed_fput();
	KUNIT_EXPECT_FALSE(test, dev->src[AC97_SRC_LINE].claimed);
}

/*
 * Only files open for reading make the engine serve a latency; a writer
 * claiming a source after the device (and its thread) is gone kicks
 * nothing: the kick looks for the thread under the lock destroy cleared.
 */
static void pcm_files_after_destroy(struct kunit *test)
{
	struct fake_guest *g = fake_guest_new(test);
	struct ac97_dev *dev = ac97_dev_create(&fake_guest_ops, g, 0);
	struct file *writer, *reader;
	char path[32];

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	snprintf(path, sizeof(path), "/dev/ac97pcm%d", dev->index);
	writer = filp_open(path, O_WRONLY, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(writer));
	reader = filp_open(path, O_RDONLY, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(reader));
	KUNIT_EXPECT_EQ(test, atomic_read(&dev->pcm_readers), 1);
	ac97_dev_destroy(dev);		/* the files keep it */
	KUNIT_EXPECT_NULL(test, dev->thread);
	KUNIT_EXPECT_EQ(test, writer->f_op->unlocked_ioctl(writer, AC97_PCM_SET_SOURCE,
							   AC97_PCM_SOURCE_MIC), 0);
	filp_close(reader, NULL);
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, atomic_read(&dev->pcm_readers), 0);
	filp_close(writer, NULL);	/* the last reference: frees the device */
	flush_delayed_fput();
}

static struct kunit_case pcm_internal_cases[] = {
	KUNIT_CASE(pcm_read_reports_format_of_its_bytes),
	KUNIT_CASE(pcm_alias_is_per_user),
	KUNIT_CASE(pcm_writers_take_sources),
	KUNIT_CASE(pcm_files_after_destroy),
	{}
};

static struct kunit_suite pcm_internal_suite = {
	.name = "ac97_pcm_read",
	.test_cases = pcm_internal_cases,
};

kunit_test_suites(&pcm_internal_suite);

/*
 * The suites run once this init is done (KUnit starts a module's suites when
 * it goes live): the PCM nodes every device publishes need their region.
 */
static int __init ac97_kunit_init(void)
{
	return ac97_pcm_init();
}

static void __exit ac97_kunit_exit(void)
{
	ac97_pcm_exit();
}

module_init(ac97_kunit_init);
module_exit(ac97_kunit_exit);

MODULE_DESCRIPTION("KUnit suites for ac97-emu's device model");
MODULE_LICENSE("GPL");
