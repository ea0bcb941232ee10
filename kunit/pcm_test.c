// SPDX-License-Identifier: GPL-2.0
/* KUnit: the PCM ring, its readers, and the /dev/ac97pcm nodes. */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/vmalloc.h>

#include "ac97_test.h"

#define RING_SIZE	SZ_64K

static struct ac97_ring *ring_new(struct kunit *test)
{
	struct ac97_ring *ring = kunit_kzalloc(test, sizeof(*ring), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ring);
	KUNIT_ASSERT_EQ(test, ac97_ring_init(ring, RING_SIZE), 0);
	KUNIT_ASSERT_EQ(test, ring->size, RING_SIZE);
	return ring;
}

static void ring_free_action(void *ring)
{
	ac97_ring_free(ring);
}

/* Byte @pos of the test stream. */
static u8 stream_byte(u64 pos)
{
	return (u8)(pos * 7 + (pos >> 8));
}

/*
 * These tests write a gapless byte stream: each write continues in the
 * channel where the last one stopped, so the ring never pads.
 */
static unsigned int next_channel(struct ac97_ring *ring, u32 rate)
{
	const struct ac97_fmt_mark *last;

	if (!ring->nr_marks)
		return 0;
	last = &ring->marks[(ring->first_mark + ring->nr_marks - 1) % AC97_RING_MARKS];
	return last->rate == rate ? ((ring->wpos - last->pos) / 2) % 2 : 0;
}

static void write_stream(struct ac97_ring *ring, u64 *pos, size_t len, u32 rate)
{
	u8 buf[256];
	size_t i, n;

	while (len) {
		n = min(len, sizeof(buf));
		for (i = 0; i < n; i++)
			buf[i] = stream_byte(*pos + i);
		ac97_ring_write(ring, buf, n, rate, 2, next_channel(ring, rate));
		*pos += n;
		len -= n;
	}
}

/* Read up to @len bytes; return how many matched the stream from @expect_pos. */
static size_t read_check(struct kunit *test, struct ac97_reader *r, size_t len,
			 u64 expect_pos)
{
	u8 buf[512];
	size_t got, i;

	KUNIT_ASSERT_LE(test, len, sizeof(buf));
	got = ac97_reader_copy(r, buf, len);
	for (i = 0; i < got; i++)
		if (buf[i] != stream_byte(expect_pos + i)) {
			KUNIT_FAIL(test, "byte %llu: %u, expected %u",
				   expect_pos + i, buf[i], stream_byte(expect_pos + i));
			return i;
		}
	return got;
}

/* Interleaved writes and odd-sized reads across many wraps lose nothing. */
static void ring_wrap_partial_reads(struct kunit *test)
{
	static const size_t sizes[] = { 1, 3, 7, 64, 511, 2, 500 };
	struct ac97_ring *ring = ring_new(test);
	struct ac97_reader r;
	u64 wpos = 0, rpos = 0;
	unsigned int i;

	kunit_add_action(test, ring_free_action, ring);
	ac97_reader_init(&r, ring);
	for (i = 0; i < 4000; i++) {
		write_stream(ring, &wpos, 777, 48000);
		while (rpos < wpos)
			rpos += read_check(test, &r, sizes[(rpos + i) % ARRAY_SIZE(sizes)], rpos);
	}
	KUNIT_EXPECT_EQ(test, rpos, 4000ULL * 777);
	KUNIT_EXPECT_GT(test, wpos, 40ULL * RING_SIZE);
	KUNIT_EXPECT_EQ(test, r.overruns, 0);
	KUNIT_EXPECT_FALSE(test, ac97_reader_ready(&r));
}

/* A reader a ring behind skips to the oldest frame left, and it is counted. */
static void ring_overrun(struct kunit *test)
{
	struct ac97_ring *ring = ring_new(test);
	struct ac97_pcm_format fmt;
	struct ac97_reader r;
	u64 wpos = 0;

	kunit_add_action(test, ring_free_action, ring);
	ac97_reader_init(&r, ring);
	write_stream(ring, &wpos, 3 * RING_SIZE + 6, 48000);
	ac97_reader_format(&r, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.overruns, 1);
	/* Oldest byte held: 2 * RING_SIZE + 6; the next 4-byte frame starts at + 8. */
	KUNIT_EXPECT_EQ(test, fmt.lost_bytes, 2 * RING_SIZE + 8);
	KUNIT_EXPECT_EQ(test, fmt.bytes_ready, RING_SIZE - 2);
	KUNIT_EXPECT_EQ(test, read_check(test, &r, 100, 2 * RING_SIZE + 8), 100);

	write_stream(ring, &wpos, RING_SIZE + 3, 48000);
	ac97_reader_format(&r, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.overruns, 2);
	KUNIT_EXPECT_EQ(test, r.rpos % 4, 0);
	KUNIT_EXPECT_GE(test, r.rpos, wpos - RING_SIZE);
	KUNIT_EXPECT_EQ(test, read_check(test, &r, 64, r.rpos), 64);
}

/* A read never spans a format change; the serial tells segments apart. */
static void ring_format_change(struct kunit *test)
{
	struct ac97_ring *ring = ring_new(test);
	struct ac97_pcm_format fmt;
	struct ac97_reader r;
	u64 wpos = 0, rpos = 0;

	kunit_add_action(test, ring_free_action, ring);
	ac97_reader_init(&r, ring);
	ac97_reader_format(&r, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 48000);	/* nothing yet: the default */
	KUNIT_EXPECT_EQ(test, fmt.bytes_ready, 0);
	write_stream(ring, &wpos, 400, 48000);
	write_stream(ring, &wpos, 200, 44100);
	write_stream(ring, &wpos, 100, 44100);
	write_stream(ring, &wpos, 120, 48000);

	ac97_reader_format(&r, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 48000);
	KUNIT_EXPECT_EQ(test, fmt.serial, 1);
	KUNIT_EXPECT_EQ(test, fmt.bytes_ready, 400);
	rpos += read_check(test, &r, 512, rpos);
	KUNIT_EXPECT_EQ(test, rpos, 400);
	ac97_reader_format(&r, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 44100);
	KUNIT_EXPECT_EQ(test, fmt.serial, 2);
	KUNIT_EXPECT_EQ(test, fmt.bytes_ready, 300);
	rpos += read_check(test, &r, 512, rpos);
	KUNIT_EXPECT_EQ(test, rpos, 700);
	ac97_reader_format(&r, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 48000);
	KUNIT_EXPECT_EQ(test, fmt.serial, 3);
	rpos += read_check(test, &r, 512, rpos);
	KUNIT_EXPECT_EQ(test, rpos, 820);
}

/* More format changes than marks kept: a lagging reader skips to the oldest. */
static void ring_marks_overflow(struct kunit *test)
{
	struct ac97_ring *ring = ring_new(test);
	struct ac97_pcm_format fmt;
	struct ac97_reader r;
	u64 wpos = 0;
	int i;

	kunit_add_action(test, ring_free_action, ring);
	ac97_reader_init(&r, ring);
	for (i = 0; i < AC97_RING_MARKS + 4; i++)
		write_stream(ring, &wpos, 100, (i & 1) ? 44100 : 48000);
	ac97_reader_format(&r, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.overruns, 1);
	KUNIT_EXPECT_EQ(test, fmt.lost_bytes, 400);
	KUNIT_EXPECT_EQ(test, fmt.serial, 5);
	KUNIT_EXPECT_EQ(test, read_check(test, &r, 512, 400), 100);
}

/*
 * Two threads on one file peek the same bytes and both consume them (what an
 * unserialised read path did): the reader stops at the writer, reports
 * nothing ready rather than 4 GiB, and then gets exactly what comes next,
 * never memory the device did not write.
 */
static void ring_reader_never_passes_writer(struct kunit *test)
{
	struct ac97_ring *ring = ring_new(test);
	struct ac97_pcm_format fmt;
	struct ac97_fmt_mark seg;
	struct ac97_reader r;
	u8 *buf = kunit_kzalloc(test, 4096, GFP_KERNEL);
	u64 wpos = 0;
	size_t a, b;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	kunit_add_action(test, ring_free_action, ring);
	ac97_reader_init(&r, ring);
	write_stream(ring, &wpos, 1024, 48000);
	a = ac97_reader_peek(&r, buf, 4096, &seg);
	b = ac97_reader_peek(&r, buf, 4096, &seg);
	KUNIT_EXPECT_EQ(test, a, 1024);
	KUNIT_EXPECT_EQ(test, b, 1024);
	ac97_reader_advance(&r, a);
	ac97_reader_advance(&r, b);
	KUNIT_EXPECT_EQ(test, r.rpos, 1024);
	ac97_reader_format(&r, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.bytes_ready, 0);
	KUNIT_EXPECT_EQ(test, ac97_reader_peek(&r, buf, 4096, &seg), 0);
	KUNIT_EXPECT_FALSE(test, ac97_reader_ready(&r));
	write_stream(ring, &wpos, 1024, 48000);
	KUNIT_EXPECT_EQ(test, read_check(test, &r, 512, 1024), 512);
	KUNIT_EXPECT_EQ(test, read_check(test, &r, 512, 1536), 512);
}

static void ring_close_eof(struct kunit *test)
{
	u8 buf[16];
	struct ac97_ring *ring = ring_new(test);
	struct ac97_reader r;
	u64 wpos = 0;

	kunit_add_action(test, ring_free_action, ring);
	ac97_reader_init(&r, ring);
	KUNIT_EXPECT_FALSE(test, ac97_reader_ready(&r));
	write_stream(ring, &wpos, 10, 48000);	/* two frames and a left sample */
	ac97_ring_close(ring);
	KUNIT_EXPECT_TRUE(test, ac97_reader_ready(&r));
	KUNIT_EXPECT_EQ(test, read_check(test, &r, 10, 0), 10);
	/* the last frame finished with silence, then the end */
	KUNIT_EXPECT_EQ(test, ac97_reader_copy(&r, buf, sizeof(buf)), 2);
	KUNIT_EXPECT_EQ(test, buf[0] | buf[1], 0);
	KUNIT_EXPECT_TRUE(test, ac97_reader_ready(&r));
	KUNIT_EXPECT_EQ(test, ac97_reader_copy(&r, buf, sizeof(buf)), 0);
}

/* Play @samples of a counting pattern through a manual device. */
static void play_pattern(struct ac97_dev *dev, struct fake_guest *g, u32 samples)
{
	__le16 *pcm = fake_ptr(g, FAKE_RAM_BASE + 0x1000);
	u32 i;

	for (i = 0; i < samples; i++)
		pcm[i] = cpu_to_le16(i);
	fake_write_bd(g, FAKE_RAM_BASE, 0, FAKE_RAM_BASE + 0x1000, samples);
	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	nam_ww(dev, AC97_MASTER, 0);
	nam_ww(dev, AC97_PCM_OUT, 0x0808);
	bm_wl(dev, AC97_BM_PO + AC97_BM_BDBAR, FAKE_RAM_BASE);
	bm_wb(dev, AC97_BM_PO + AC97_BM_CR, AC97_CR_RPBM);
	dev->manual_now_ns += (u64)samples * NSEC_PER_SEC / 96000 + 1;
	ac97_engine_step(dev);
}

static void check_pattern(struct kunit *test, const __le16 *buf, size_t samples)
{
	size_t i;

	for (i = 0; i < samples; i++)
		if (le16_to_cpu(buf[i]) != (u16)i) {
			KUNIT_FAIL(test, "sample %zu: %u", i, le16_to_cpu(buf[i]));
			return;
		}
}

/* The char devices, through the VFS: non-blocking, data, EOF after the device goes. */
static void pcm_node_read(struct kunit *test)
{
	struct fake_guest *g = fake_guest_new(test);
	struct ac97_dev *dev = ac97_dev_create(&fake_guest_ops, g, AC97_DEV_MANUAL);
	struct file *node, *alias;
	char path[32];
	__le16 *buf;
	loff_t pos = 0;
	ssize_t n;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	buf = kunit_kzalloc(test, 8192, GFP_KERNEL);
	snprintf(path, sizeof(path), "/dev/ac97pcm%d", dev->index);
	node = filp_open(path, O_RDONLY | O_NONBLOCK, 0);
	alias = filp_open("/dev/ac97pcm", O_RDONLY, 0);
	if (IS_ERR(node) || IS_ERR(alias)) {
		KUNIT_FAIL(test, "open %s: %d, alias: %d", path,
			   PTR_ERR_OR_ZERO(node), PTR_ERR_OR_ZERO(alias));
		goto out;
	}
	n = kernel_read(node, buf, 4096, &pos);
	KUNIT_EXPECT_EQ(test, n, -EAGAIN);

	play_pattern(dev, g, 3000);
	n = kernel_read(node, buf, 8192, &pos);
	KUNIT_EXPECT_EQ(test, n, 6000);
	check_pattern(test, buf, 3000);

	/* The device goes away: the alias reader drains, then reads EOF. */
	ac97_dev_destroy(dev);
	dev = NULL;
	n = kernel_read(alias, buf, 4000, &pos);
	KUNIT_EXPECT_EQ(test, n, 4000);
	check_pattern(test, buf, 2000);
	n = kernel_read(alias, buf, 8192, &pos);
	KUNIT_EXPECT_EQ(test, n, 2000);
	n = kernel_read(alias, buf, 8192, &pos);
	KUNIT_EXPECT_EQ(test, n, 0);
	n = kernel_read(node, buf, 8192, &pos);
	KUNIT_EXPECT_EQ(test, n, 0);
out:
	if (!IS_ERR(node))
		filp_close(node, NULL);
	if (!IS_ERR(alias))
		filp_close(alias, NULL);
	if (dev)
		ac97_dev_destroy(dev);
	/* With no device, the alias has nothing to serve. */
	alias = filp_open("/dev/ac97pcm", O_RDONLY, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(alias), -ENODEV);
	if (!IS_ERR(alias))
		filp_close(alias, NULL);
}

/* Start PO on a 100 ms buffer (9600 samples of the counting pattern) at @now. */
static void pull_setup(struct ac97_dev *dev, struct fake_guest *g, u64 now)
{
	__le16 *pcm = fake_ptr(g, FAKE_RAM_BASE + 0x1000);
	u32 i;

	for (i = 0; i < 9600; i++)
		pcm[i] = cpu_to_le16(i);
	fake_write_bd(g, FAKE_RAM_BASE, 0, FAKE_RAM_BASE + 0x1000, 9600);
	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	nam_ww(dev, AC97_MASTER, 0);
	nam_ww(dev, AC97_PCM_OUT, 0x0808);
	bm_wl(dev, AC97_BM_PO + AC97_BM_BDBAR, FAKE_RAM_BASE);
	dev->manual_now_ns = now;
	bm_wb(dev, AC97_BM_PO + AC97_BM_CR, AC97_CR_RPBM);
	ac97_engine_step(dev);	/* the descriptor; no sample is due yet */
}

/* Read @bytes at @now, expecting the pattern from sample @first on. */
static void pull_read(struct kunit *test, struct ac97_dev *dev, struct file *f,
		      __le16 *buf, u64 now, ssize_t bytes, u32 first)
{
	loff_t pos = 0;
	ssize_t n, i;

	dev->manual_now_ns = now;
	n = kernel_read(f, buf, 8192, &pos);
	KUNIT_EXPECT_EQ(test, n, bytes);
	for (i = 0; i < n / 2; i++)
		if (le16_to_cpu(buf[i]) != first + i) {
			KUNIT_FAIL(test, "sample %zd: %u, not %zd", i,
				   le16_to_cpu(buf[i]), first + i);
			return;
		}
}

/*
 * A non-blocking reader in the guest's context (a VMM's audio timer) moves
 * what is due in its read, exactly that, and the thread plans no wake-up
 * for it: only the buffer's end. A reader that reads from elsewhere, polls,
 * or does not pull is the thread's to serve within the latency again; a
 * device gone calls its host no more.
 */
static void pcm_node_pulls(struct kunit *test)
{
	struct fake_guest *g = fake_guest_new(test);
	struct ac97_dev *dev = ac97_dev_create(&fake_guest_ops, g, AC97_DEV_MANUAL);
	const u64 start = 1000 * NSEC_PER_MSEC, end = start + 100 * NSEC_PER_MSEC;
	struct file *node = NULL, *other;
	unsigned int reads;
	char path[32];
	__le16 *buf;
	loff_t pos = 0;
	u64 next;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	buf = kunit_kzalloc(test, 8192, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	snprintf(path, sizeof(path), "/dev/ac97pcm%d", dev->index);
	node = filp_open(path, O_RDONLY | O_NONBLOCK, 0);
	if (IS_ERR(node)) {
		KUNIT_FAIL(test, "open %s: %ld", path, PTR_ERR(node));
		goto out;
	}
	pull_setup(dev, g, start);
	/* Not read yet: the thread serves it, in slices of the latency. */
	next = ac97_engine_deadline(dev);
	KUNIT_EXPECT_LT(test, next, end);
	KUNIT_EXPECT_LE(test, next - start, ac97_dma_latency_ns());

	/* 10 ms on: the read itself moves the 960 samples due, no more. */
	pull_read(test, dev, node, buf, start + 10 * NSEC_PER_MSEC, 1920, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&dev->pcm_pullers), 1);
	KUNIT_EXPECT_EQ(test, ac97_engine_deadline(dev), end);
	pull_read(test, dev, node, buf, start + 15 * NSEC_PER_MSEC, 960, 960);

	/* A second reader that has not pulled: the thread serves it. */
	other = filp_open(path, O_RDONLY, 0);
	KUNIT_EXPECT_FALSE(test, IS_ERR(other));
	if (!IS_ERR(other)) {
		KUNIT_EXPECT_LT(test, ac97_engine_deadline(dev), end);
		filp_close(other, NULL);
		flush_delayed_fput();	/* a kthread's last fput is deferred */
	}
	KUNIT_EXPECT_EQ(test, ac97_engine_deadline(dev), end);

	/* Out of the guest's context the read cannot pull: the thread's again. */
	g->thread_only = true;
	reads = g->reads;
	pull_read(test, dev, node, buf, start + 25 * NSEC_PER_MSEC, -EAGAIN, 0);
	KUNIT_EXPECT_EQ(test, g->reads, reads);
	KUNIT_EXPECT_EQ(test, atomic_read(&dev->pcm_pullers), 0);
	KUNIT_EXPECT_LT(test, ac97_engine_deadline(dev), end);
	ac97_engine_step(dev);
	pull_read(test, dev, node, buf, start + 25 * NSEC_PER_MSEC, 1920, 1440);

	/* Pulling again, then a poll: a poller waits on the thread. */
	g->thread_only = false;
	pull_read(test, dev, node, buf, start + 30 * NSEC_PER_MSEC, 960, 2400);
	KUNIT_EXPECT_EQ(test, ac97_engine_deadline(dev), end);
	KUNIT_EXPECT_FALSE(test, vfs_poll(node, NULL) & EPOLLIN);
	KUNIT_EXPECT_EQ(test, atomic_read(&dev->pcm_pullers), 0);
	KUNIT_EXPECT_LT(test, ac97_engine_deadline(dev), end);

	/* Closed while pulling: it counts no more. */
	pull_read(test, dev, node, buf, start + 40 * NSEC_PER_MSEC, 1920, 2880);
	KUNIT_EXPECT_EQ(test, atomic_read(&dev->pcm_pullers), 1);
	filp_close(node, NULL);
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, atomic_read(&dev->pcm_pullers), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&dev->pcm_readers), 0);

	/* The device goes: a reader left reads to EOF and never reaches the host. */
	node = filp_open(path, O_RDONLY | O_NONBLOCK, 0);
	if (IS_ERR(node)) {
		KUNIT_FAIL(test, "open %s again: %ld", path, PTR_ERR(node));
		goto out;
	}
	ac97_dev_destroy(dev);
	dev = NULL;
	reads = g->reads;
	KUNIT_EXPECT_EQ(test, kernel_read(node, buf, 8192, &pos), 0);
	KUNIT_EXPECT_EQ(test, g->reads, reads);
out:
	if (!IS_ERR_OR_NULL(node))
		filp_close(node, NULL);
	if (dev)
		ac97_dev_destroy(dev);
}

struct pull_reader {
	struct file *node;
	u8 *buf;
	size_t bytes;
	int end;	/* what ended it: 0 (EOF) or an error */
	struct completion done;
};

/* A slow host: each guest read takes a millisecond, then looks again. */
static void slow_read_hook(struct fake_guest *g)
{
	usleep_range(1000, 1100);
	if (READ_ONCE(g->host_gone))
		WRITE_ONCE(g->called_after_gone, true);
}

/* Non-blocking reads as fast as they come, until end of file. */
static int pull_reader_fn(void *data)
{
	struct pull_reader *r = data;
	loff_t pos = 0;
	ssize_t n;

	for (;;) {
		n = kernel_read(r->node, r->buf, 4096, &pos);
		if (n > 0) {
			r->bytes += n;
		} else if (n != -EAGAIN) {
			r->end = n;
			break;
		}
		cond_resched();
	}
	complete(&r->done);
	return 0;
}

/*
 * The race the pull's lifetime rests on: a reader pulling in a loop while
 * the device is destroyed under it (the VMM closing its handle while its
 * audio thread reads). Once ac97_dev_destroy() has returned the host may be
 * freed: no pull may call it after that, and the reader gets end of file.
 */
static void pcm_pull_races_destroy(struct kunit *test)
{
	struct pull_reader r = { .end = 1 };
	struct task_struct *t;
	struct ac97_dev *dev;
	struct fake_guest *g;
	char path[32];
	int round, i;
	bool late;

	r.buf = kunit_kzalloc(test, 4096, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r.buf);
	for (round = 0; round < 10; round++) {
		g = fake_guest_new(test);
		g->read_hook = slow_read_hook;	/* a pull in flight, at the destroy */
		dev = ac97_dev_create(&fake_guest_ops, g, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
		for (i = 0; i < 32; i++)
			fake_write_bd(g, FAKE_RAM_BASE, i, FAKE_RAM_BASE + 0x1000, 0xfffe);
		bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
		bm_wl(dev, AC97_BM_PO + AC97_BM_BDBAR, FAKE_RAM_BASE);
		bm_wb(dev, AC97_BM_PO + AC97_BM_LVI, 31);
		bm_wb(dev, AC97_BM_PO + AC97_BM_CR, AC97_CR_RPBM);
		snprintf(path, sizeof(path), "/dev/ac97pcm%d", dev->index);
		r.node = filp_open(path, O_RDONLY | O_NONBLOCK, 0);
		if (IS_ERR(r.node)) {
			KUNIT_FAIL(test, "open %s: %ld", path, PTR_ERR(r.node));
			ac97_dev_destroy(dev);
			return;
		}
		r.bytes = 0;
		r.end = 1;
		init_completion(&r.done);
		t = kthread_run(pull_reader_fn, &r, "ac97-pull-test");
		if (IS_ERR(t)) {
			KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(t));
			filp_close(r.node, NULL);
			ac97_dev_destroy(dev);
			return;
		}
		usleep_range(2000 + round * 500, 3000 + round * 500);
		ac97_dev_destroy(dev);
		WRITE_ONCE(g->host_gone, true);
		wait_for_completion(&r.done);
		filp_close(r.node, NULL);
		flush_delayed_fput();
		late = READ_ONCE(g->called_after_gone);
		KUNIT_EXPECT_FALSE_MSG(test, late,
				       "round %d: the host was called after the destroy", round);
		KUNIT_EXPECT_EQ_MSG(test, r.end, 0, "round %d", round);
		/*
		 * It pulled: the thread's first slice for a reader ends 9 ms
		 * after the start, later than the destroy.
		 */
		KUNIT_EXPECT_GT_MSG(test, r.bytes, 0, "round %d", round);
	}
}

/* Devices get distinct nodes, named by their index, owned by their creator. */
static void pcm_node_naming(struct kunit *test)
{
	struct fake_guest *g = fake_guest_new(test);
	struct ac97_dev *a = fake_dev_new(test, g, AC97_DEV_MANUAL);
	struct ac97_dev *b = fake_dev_new(test, g, AC97_DEV_MANUAL);

	KUNIT_EXPECT_NE(test, a->index, b->index);
	KUNIT_ASSERT_NOT_NULL(test, a->node);
	KUNIT_ASSERT_NOT_NULL(test, b->node);
	KUNIT_EXPECT_EQ(test, strncmp(dev_name(a->node), "ac97pcm", 7), 0);
	KUNIT_EXPECT_STRNEQ(test, dev_name(a->node), dev_name(b->node));
	KUNIT_EXPECT_TRUE(test, uid_eq(a->owner, current_fsuid()));
}

static struct kunit_case ring_cases[] = {
	KUNIT_CASE(ring_wrap_partial_reads),
	KUNIT_CASE(ring_overrun),
	KUNIT_CASE(ring_format_change),
	KUNIT_CASE(ring_marks_overflow),
	KUNIT_CASE(ring_reader_never_passes_writer),
	KUNIT_CASE(ring_close_eof),
	KUNIT_CASE(pcm_node_read),
	KUNIT_CASE(pcm_node_pulls),
	KUNIT_CASE(pcm_pull_races_destroy),
	KUNIT_CASE(pcm_node_naming),
	{}
};

static struct kunit_suite ring_suite = {
	.name = "ac97_pcm",
	.test_cases = ring_cases,
};

kunit_test_suites(&ring_suite);
