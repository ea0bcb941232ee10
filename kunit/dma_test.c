// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the DMA engine on a fake guest. Most cases run the engine by hand
 * against a fake clock, so they are exact; the last ones run the real
 * hrtimer-paced thread and measure its rate and PICB against wall time.
 */
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "ac97_test.h"

#define BDL_GPA		FAKE_RAM_BASE
#define PCM_GPA		(FAKE_RAM_BASE + 0x1000)
#define PO(reg)		(AC97_BM_PO + (reg))
#define MS		1000000ULL

struct play {
	struct kunit *test;
	struct fake_guest *g;
	struct ac97_dev *dev;
	struct ac97_reader reader;
	u32 next_gpa;		/* where the next buffer goes */
	u16 next_value;		/* pattern: consecutive sample values */
};

static void play_setup(struct kunit *test, struct play *p, unsigned int flags)
{
	p->test = test;
	p->g = fake_guest_new(test);
	p->dev = fake_dev_new(test, p->g, flags);
	p->dev->manual_now_ns = 1000 * MS;
	p->next_gpa = PCM_GPA;
	p->next_value = 1;
	bm_wl(p->dev, AC97_GLOB_CNT, AC97_GC_COLD);
	nam_ww(p->dev, AC97_MASTER, 0);
	nam_ww(p->dev, AC97_PCM_OUT, 0x0808);	/* 0 dB: bit-exact */
	bm_wl(p->dev, PO(AC97_BM_BDBAR), BDL_GPA);
	ac97_reader_init(&p->reader, &p->dev->ring);
}

/* Descriptor @i: @samples of the running pattern, @ctl flags added. */
static void play_bd(struct play *p, unsigned int i, u32 samples, u32 ctl)
{
	__le16 *buf = fake_ptr(p->g, p->next_gpa);
	u32 n;

	for (n = 0; n < samples; n++)
		buf[n] = cpu_to_le16(p->next_value++);
	fake_write_bd(p->g, BDL_GPA, i, p->next_gpa, ctl | samples);
	p->next_gpa += ALIGN(samples * 2, 8);
}

/* Two buffers, the second the last valid one, PCM out running with IOCE. */
static void play_two(struct play *p, u32 first, u32 first_ctl, u32 second,
		     u32 second_ctl)
{
	play_bd(p, 0, first, first_ctl);
	play_bd(p, 1, second, second_ctl);
	bm_wb(p->dev, PO(AC97_BM_LVI), 1);
	bm_wb(p->dev, PO(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE);
}

static void advance(struct play *p, u64 ns)
{
	p->dev->manual_now_ns += ns;
	ac97_engine_step(p->dev);
}

static u16 po_sr(struct play *p)
{
	return bm_rw(p->dev, PO(AC97_BM_SR));
}

/* Everything in the ring for this reader, checked against the pattern from @first. */
static size_t expect_pattern(struct play *p, u16 first)
{
	size_t total = 0, len, i;
	__le16 *buf = vmalloc(65536);

	KUNIT_ASSERT_NOT_NULL(p->test, buf);
	while ((len = ac97_reader_copy(&p->reader, buf, 65536))) {
		for (i = 0; i < len / 2; i++)
			if (le16_to_cpu(buf[i]) != (u16)(first + total / 2 + i)) {
				KUNIT_FAIL(p->test, "sample %zu is %u, expected %u",
					   total / 2 + i, le16_to_cpu(buf[i]),
					   (u16)(first + total / 2 + i));
				break;
			}
		total += len;
	}
	vfree(buf);
	return total / 2;
}

static void run_until_halted(struct play *p, unsigned int max_ms)
{
	while (max_ms-- && !(po_sr(p) & AC97_SR_DCH))
		advance(p, MS);
}

/* The exact samples reach the ring, in order, across odd-length buffers. */
static void dma_bytes_in_order(struct kunit *test)
{
	struct play p;

	play_setup(test, &p, AC97_DEV_MANUAL);
	play_bd(&p, 0, 4800, 0);
	play_bd(&p, 1, 3001, 0);
	play_bd(&p, 2, 7, 0);
	play_bd(&p, 3, 2048, 0);
	bm_wb(p.dev, PO(AC97_BM_LVI), 3);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	run_until_halted(&p, 1000);
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), 4800 + 3001 + 7 + 2048);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 3);
	KUNIT_EXPECT_EQ(test, po_sr(&p), AC97_SR_DCH | AC97_SR_CELV | AC97_SR_LVBCI);
	KUNIT_EXPECT_EQ(test, p.g->refused_reads, 0);
	/* 9856 samples at 96000/s: 103 ticks of 1 ms. */
	KUNIT_EXPECT_EQ(test, p.dev->func[AC97_FUNC_PO].clock.samples_done, 9856);
}

static void dma_ioc_interrupts(struct kunit *test)
{
	struct play p;

	play_setup(test, &p, AC97_DEV_MANUAL);
	play_bd(&p, 0, 960, AC97_BD_IOC);
	play_bd(&p, 1, 960, 0);
	play_bd(&p, 2, 960, AC97_BD_IOC);
	bm_wb(p.dev, PO(AC97_BM_LVI), 2);
	/* The ICH datasheet's (and Linux's) CR value: IOCE is bit 4, RPBM bit 0. */
	bm_wb(p.dev, PO(AC97_BM_CR), 0x11);

	advance(&p, 9 * MS);	/* 864 of 960 samples */
	KUNIT_EXPECT_EQ(test, po_sr(&p), 0);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	advance(&p, 1 * MS);	/* buffer 0 done */
	KUNIT_EXPECT_EQ(test, po_sr(&p), AC97_SR_BCIS);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 1);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_PIV)), 2);
	KUNIT_EXPECT_TRUE(test, p.g->irq_level);
	KUNIT_EXPECT_NE(test, bm_rl(p.dev, AC97_GLOB_STA) & AC97_GS_POINT, 0);
	bm_wb(p.dev, PO(AC97_BM_SR), AC97_SR_BCIS);	/* ack */
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	KUNIT_EXPECT_EQ(test, bm_rl(p.dev, AC97_GLOB_STA) & AC97_GS_POINT, 0);

	advance(&p, 10 * MS);	/* buffer 1: no IOC */
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 2);
	KUNIT_EXPECT_EQ(test, po_sr(&p), 0);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	advance(&p, 10 * MS);	/* buffer 2, the last valid one */
	KUNIT_EXPECT_EQ(test, po_sr(&p), AC97_SR_BCIS | AC97_SR_LVBCI |
			AC97_SR_CELV | AC97_SR_DCH);
	KUNIT_EXPECT_TRUE(test, p.g->irq_level);
	KUNIT_EXPECT_EQ(test, p.g->irq_raises, 2);
	/* LVBCI alone does not interrupt without LVBIE. */
	bm_ww(p.dev, PO(AC97_BM_SR), AC97_SR_BCIS);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	bm_wb(p.dev, PO(AC97_BM_CR), 0x05);	/* RPBM | LVBIE (bit 2) */
	KUNIT_EXPECT_TRUE(test, p.g->irq_level);
	bm_wb(p.dev, PO(AC97_BM_SR), AC97_SR_LVBCI);
	bm_ww(p.dev, PO(AC97_BM_SR), AC97_SR_FIFOE);	/* W1C of a clear bit: no-op */
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), 2880);
}

static void dma_lvi_stop_restart(struct kunit *test)
{
	struct play p;
	u64 wpos;
	int i;

	play_setup(test, &p, AC97_DEV_MANUAL);
	for (i = 0; i < 4; i++)
		play_bd(&p, i, 480, AC97_BD_IOC);
	bm_wb(p.dev, PO(AC97_BM_LVI), 1);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_LVBIE);
	run_until_halted(&p, 100);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 1);
	KUNIT_EXPECT_EQ(test, po_sr(&p) & ~AC97_SR_BCIS,
			AC97_SR_DCH | AC97_SR_CELV | AC97_SR_LVBCI);
	KUNIT_EXPECT_TRUE(test, p.g->irq_level);
	wpos = p.dev->ring.wpos;
	advance(&p, 50 * MS);
	KUNIT_EXPECT_EQ(test, p.dev->ring.wpos, wpos);	/* parked */

	bm_wb(p.dev, PO(AC97_BM_SR), AC97_SR_LVBCI | AC97_SR_BCIS);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	bm_wb(p.dev, PO(AC97_BM_LVI), 3);
	KUNIT_EXPECT_EQ(test, po_sr(&p) & (AC97_SR_DCH | AC97_SR_CELV), 0);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 2);
	run_until_halted(&p, 100);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 3);
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), 4 * 480);
}

static void dma_pause_resume(struct kunit *test)
{
	struct play p;
	u16 picb;
	u64 wpos;

	play_setup(test, &p, AC97_DEV_MANUAL);
	play_bd(&p, 0, 4800, 0);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	advance(&p, 10 * MS);
	bm_wb(p.dev, PO(AC97_BM_CR), 0);
	KUNIT_EXPECT_EQ(test, po_sr(&p), AC97_SR_DCH);
	picb = bm_rw(p.dev, PO(AC97_BM_PICB));
	KUNIT_EXPECT_EQ(test, picb, 4800 - 960);
	wpos = p.dev->ring.wpos;
	advance(&p, 100 * MS);
	KUNIT_EXPECT_EQ(test, p.dev->ring.wpos, wpos);
	KUNIT_EXPECT_EQ(test, bm_rw(p.dev, PO(AC97_BM_PICB)), picb);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);	/* resumes in place */
	KUNIT_EXPECT_EQ(test, po_sr(&p), 0);
	run_until_halted(&p, 100);
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), 4800);
}

/*
 * The host stops its VM (a VMM's stop, a migration's last phase): nothing
 * moves and no interrupt comes while stopped, though the buffer's end is
 * long past; on the resume the function goes on from where it was, with
 * no time owed (no jump in PICB), and the stream is whole.
 */
static void dma_host_stop_resume(struct kunit *test)
{
	struct play p;
	u64 wpos;

	play_setup(test, &p, AC97_DEV_MANUAL);
	play_two(&p, 960, AC97_BD_IOC, 960, AC97_BD_IOC);
	advance(&p, 5 * MS);
	KUNIT_EXPECT_EQ(test, bm_rw(p.dev, PO(AC97_BM_PICB)), 480);
	ac97_dev_set_stopped(p.dev, true);
	ac97_dev_set_stopped(p.dev, true);	/* twice: still one stop */
	wpos = p.dev->ring.wpos;
	advance(&p, 50 * MS);
	p.dev->manual_now_ns += 50 * MS;
	/* The guest's view is untouched: running, mid-buffer, no interrupt. */
	KUNIT_EXPECT_EQ(test, bm_rw(p.dev, PO(AC97_BM_PICB)), 480);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 0);
	KUNIT_EXPECT_EQ(test, po_sr(&p), 0);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CR)), AC97_CR_RPBM | AC97_CR_IOCE);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	KUNIT_EXPECT_EQ(test, p.dev->ring.wpos, wpos);
	KUNIT_EXPECT_EQ(test, ac97_engine_deadline(p.dev), U64_MAX);

	ac97_dev_set_stopped(p.dev, false);
	KUNIT_EXPECT_EQ(test, bm_rw(p.dev, PO(AC97_BM_PICB)), 480);
	advance(&p, 4 * MS);
	KUNIT_EXPECT_EQ(test, bm_rw(p.dev, PO(AC97_BM_PICB)), 96);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	advance(&p, 1 * MS);	/* 5 + 5 ms of running: buffer 0 ends now */
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 1);
	KUNIT_EXPECT_TRUE(test, p.g->irq_level);
	bm_wb(p.dev, PO(AC97_BM_SR), AC97_SR_BCIS);
	run_until_halted(&p, 100);
	KUNIT_EXPECT_EQ(test, p.g->irq_raises, 2);
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), 1920);

	/* A function the guest stopped stays stopped through a stop and resume. */
	bm_wb(p.dev, PO(AC97_BM_CR), 0);
	ac97_dev_set_stopped(p.dev, true);
	ac97_dev_set_stopped(p.dev, false);
	KUNIT_EXPECT_FALSE(test, p.dev->func[AC97_FUNC_PO].clock.running);
}

/*
 * The host resets its machine mid-stream: power-on state (GLOB_CNT 0, the
 * codec's defaults, every function reset, BDBAR 0), the line low, no more
 * DMA; a host stop outlives it.
 */
static void dma_host_reset(struct kunit *test)
{
	struct play p;
	u64 wpos;

	play_setup(test, &p, AC97_DEV_MANUAL);
	play_two(&p, 960, AC97_BD_IOC, 48000, 0);
	advance(&p, 20 * MS);
	KUNIT_EXPECT_TRUE(test, p.g->irq_level);
	KUNIT_EXPECT_EQ(test, nam_rw(p.dev, AC97_MASTER), 0);

	ac97_dev_reset(p.dev);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	KUNIT_EXPECT_EQ(test, bm_rl(p.dev, AC97_GLOB_CNT), 0);
	KUNIT_EXPECT_EQ(test, bm_rl(p.dev, AC97_GLOB_STA) & AC97_GS_FUNC_INTS, 0);
	KUNIT_EXPECT_EQ(test, bm_rl(p.dev, PO(AC97_BM_BDBAR)), 0);
	KUNIT_EXPECT_EQ(test, bm_rl(p.dev, PO(4)), AC97_SR_DCH << 16);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CR)), 0);
	/* AC_RESET# asserted: the codec does not answer until released. */
	KUNIT_EXPECT_EQ(test, nam_rw(p.dev, AC97_MASTER), 0xffff);
	bm_wl(p.dev, AC97_GLOB_CNT, AC97_GC_COLD);
	KUNIT_EXPECT_EQ(test, nam_rw(p.dev, AC97_MASTER), 0x8000);
	KUNIT_EXPECT_EQ(test, nam_rw(p.dev, AC97_PCM_OUT), 0x8808);
	wpos = p.dev->ring.wpos;
	advance(&p, 100 * MS);
	KUNIT_EXPECT_EQ(test, p.dev->ring.wpos, wpos);
	KUNIT_EXPECT_FALSE(test, p.dev->func[AC97_FUNC_PO].clock.running);

	/* Stopped, reset, played again: nothing moves until the resume. */
	ac97_dev_set_stopped(p.dev, true);
	ac97_dev_reset(p.dev);
	bm_wl(p.dev, AC97_GLOB_CNT, AC97_GC_COLD);
	bm_wl(p.dev, PO(AC97_BM_BDBAR), BDL_GPA);
	bm_wb(p.dev, PO(AC97_BM_LVI), 1);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	advance(&p, 10 * MS);
	KUNIT_EXPECT_EQ(test, p.dev->ring.wpos, wpos);
	ac97_dev_set_stopped(p.dev, false);
	advance(&p, 10 * MS);
	KUNIT_EXPECT_GT(test, p.dev->ring.wpos, wpos);
}

static void dma_zero_length(struct kunit *test)
{
	struct play p;

	play_setup(test, &p, AC97_DEV_MANUAL);
	play_bd(&p, 0, 0, AC97_BD_IOC);
	play_bd(&p, 1, 96, 0);
	play_bd(&p, 2, 0, 0);
	bm_wb(p.dev, PO(AC97_BM_LVI), 2);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE);
	advance(&p, 0);		/* an empty buffer takes no time */
	KUNIT_EXPECT_EQ(test, po_sr(&p), AC97_SR_BCIS);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 1);
	advance(&p, MS);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 2);
	KUNIT_EXPECT_NE(test, po_sr(&p) & AC97_SR_DCH, 0);
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), 96);
}

/* An all-zero list: 32 empty buffers at address 0, then halt at LVI. */
static void dma_all_zero_bdl(struct kunit *test)
{
	struct play p;

	play_setup(test, &p, AC97_DEV_MANUAL);
	bm_wb(p.dev, PO(AC97_BM_LVI), 31);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE | AC97_CR_LVBIE);
	advance(&p, MS);
	advance(&p, MS);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 31);
	KUNIT_EXPECT_EQ(test, po_sr(&p), AC97_SR_DCH | AC97_SR_CELV | AC97_SR_LVBCI);
	KUNIT_EXPECT_EQ(test, p.g->reads, 32);	/* descriptors only */
	KUNIT_EXPECT_EQ(test, p.g->refused_reads, 0);
	KUNIT_EXPECT_EQ(test, p.dev->ring.wpos, 0);
	KUNIT_EXPECT_TRUE(test, p.g->irq_level);
}

/* Guest memory that is not RAM: halt with FIFOE, once, without retrying. */
static void dma_outside_memory(struct kunit *test)
{
	static const u32 bad_buffers[] = {
		0xfffff000,				/* nowhere */
		FAKE_RAM_BASE + FAKE_RAM_SIZE - 64,	/* runs off the end of RAM */
		FAKE_RAM_BASE + FAKE_RAM_SIZE + 0x1000,	/* in the hole */
	};
	unsigned int i, reads;
	struct play p;

	for (i = 0; i < ARRAY_SIZE(bad_buffers); i++) {
		play_setup(test, &p, AC97_DEV_MANUAL);
		fake_write_bd(p.g, BDL_GPA, 0, bad_buffers[i], 4800 | AC97_BD_IOC);
		bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_FEIE);
		advance(&p, 10 * MS);
		reads = p.g->reads;
		advance(&p, 10 * MS);
		KUNIT_EXPECT_EQ(test, p.g->reads, reads);
		KUNIT_EXPECT_EQ(test, p.g->refused_reads, 1);
		KUNIT_EXPECT_EQ(test, po_sr(&p), AC97_SR_FIFOE | AC97_SR_DCH);
		KUNIT_EXPECT_TRUE(test, p.g->irq_level);
		KUNIT_EXPECT_EQ(test, p.dev->dma_errors, 1);
		KUNIT_EXPECT_EQ(test, p.dev->ring.wpos, 0);
	}
	/* The list itself outside RAM. */
	play_setup(test, &p, AC97_DEV_MANUAL);
	bm_wl(p.dev, PO(AC97_BM_BDBAR), 0xfff00000);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	advance(&p, MS);
	KUNIT_EXPECT_EQ(test, po_sr(&p), AC97_SR_FIFOE | AC97_SR_DCH);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);	/* FEIE off */
	/* Recovery: reset, point at a good list, play. */
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RR);
	bm_wl(p.dev, PO(AC97_BM_BDBAR), BDL_GPA);
	play_bd(&p, 0, 192, 0);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	run_until_halted(&p, 10);
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), 192);
}

static void dma_reset_while_running(struct kunit *test)
{
	struct play p;
	u64 wpos;
	int i;

	play_setup(test, &p, AC97_DEV_MANUAL);
	play_two(&p, 48000, AC97_BD_IOC, 48000, AC97_BD_IOC);
	for (i = 0; i < 600; i++)
		advance(&p, MS);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 1);
	KUNIT_EXPECT_TRUE(test, p.g->irq_level);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RR);
	KUNIT_EXPECT_EQ(test, bm_rl(p.dev, PO(AC97_BM_BDBAR)), 0);
	KUNIT_EXPECT_EQ(test, bm_rl(p.dev, PO(4)), AC97_SR_DCH << 16);
	KUNIT_EXPECT_EQ(test, bm_rl(p.dev, PO(8)), AC97_CR_IOCE << 24);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	wpos = p.dev->ring.wpos;
	advance(&p, 100 * MS);
	KUNIT_EXPECT_EQ(test, p.dev->ring.wpos, wpos);

	/* Cold reset mid-stream: everything back to power-on. */
	bm_wl(p.dev, PO(AC97_BM_BDBAR), BDL_GPA);	/* RR cleared it */
	bm_wb(p.dev, PO(AC97_BM_LVI), 1);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE);
	for (i = 0; i < 100; i++)
		advance(&p, MS);
	KUNIT_EXPECT_GT(test, p.dev->ring.wpos, wpos);
	bm_wl(p.dev, AC97_GLOB_CNT, 0);
	wpos = p.dev->ring.wpos;
	advance(&p, 100 * MS);
	KUNIT_EXPECT_EQ(test, p.dev->ring.wpos, wpos);
	KUNIT_EXPECT_EQ(test, bm_rl(p.dev, PO(AC97_BM_BDBAR)), 0);
	KUNIT_EXPECT_EQ(test, bm_rl(p.dev, PO(4)), AC97_SR_DCH << 16);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	KUNIT_EXPECT_EQ(test, p.g->refused_reads, 0);
	KUNIT_EXPECT_EQ(test, p.dev->func[AC97_FUNC_PO].clock.running, false);
}

/* Read @n samples of the host stream into @out (they must all be there). */
static void read_samples(struct play *p, s16 *out, size_t n)
{
	KUNIT_ASSERT_EQ(p->test, ac97_reader_copy(&p->reader, out, 2 * n), 2 * n);
	KUNIT_EXPECT_EQ(p->test, ac97_reader_copy(&p->reader, out + n, 2), 0);
}

/*
 * The guest resets PCM out after an odd number of samples (snd-intel8x0
 * measuring the clock at probe does) and plays again: its next sample is a
 * left one again, so the host stream gets one silent sample to finish the
 * frame, and every later frame is [left, right], with each channel's gain
 * on its own samples. Without the pad every later frame would be swapped.
 */
static void dma_reset_mid_frame_keeps_channels(struct kunit *test)
{
	/* left muted by attenuation (-46.5 dB), right at 0 dB */
	static const s16 want[] = { 0, 2, 0, 0, 0, 5, 0, 7 };
	struct play p;
	s16 got[ARRAY_SIZE(want) + 1];

	play_setup(test, &p, AC97_DEV_MANUAL);
	nam_ww(p.dev, AC97_PCM_OUT, 0x1f08);
	play_bd(&p, 0, 3, 0);			/* samples 1, 2, 3 */
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	run_until_halted(&p, 10);
	KUNIT_EXPECT_EQ(test, po_sr(&p), AC97_SR_DCH | AC97_SR_CELV | AC97_SR_LVBCI);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RR);
	bm_wl(p.dev, PO(AC97_BM_BDBAR), BDL_GPA);
	play_bd(&p, 0, 4, 0);			/* samples 4, 5, 6, 7 */
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	run_until_halted(&p, 10);
	read_samples(&p, got, ARRAY_SIZE(want));
	KUNIT_EXPECT_MEMEQ(test, got, want, sizeof(want));
	KUNIT_EXPECT_EQ(test, p.dev->func[AC97_FUNC_PO].clock.samples_done, 7);
}

/*
 * The same stop mid-frame, then a new rate: the old segment is finished with
 * silence to a whole frame before the new one begins.
 */
static void dma_rate_change_mid_frame_whole_frames(struct kunit *test)
{
	struct ac97_pcm_format fmt;
	struct ac97_fmt_mark seg;
	struct play p;
	s16 got[8];

	play_setup(test, &p, AC97_DEV_MANUAL);
	nam_ww(p.dev, AC97_EXTENDED_STATUS, AC97_EA_VRA);
	play_bd(&p, 0, 3, 0);			/* samples 1, 2, 3 at 48 kHz */
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	run_until_halted(&p, 10);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RR);
	nam_ww(p.dev, AC97_PCM_FRONT_DAC_RATE, 44100);
	bm_wl(p.dev, PO(AC97_BM_BDBAR), BDL_GPA);
	play_bd(&p, 0, 2, 0);			/* samples 4, 5 at 44.1 kHz */
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	run_until_halted(&p, 10);
	ac97_reader_format(&p.reader, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 48000);
	KUNIT_EXPECT_EQ(test, fmt.bytes_ready, 8);	/* 1, 2, 3 and silence */
	KUNIT_ASSERT_EQ(test, ac97_reader_peek(&p.reader, got, sizeof(got), &seg), 8);
	KUNIT_EXPECT_EQ(test, got[2], 3);
	KUNIT_EXPECT_EQ(test, got[3], 0);
	ac97_reader_advance(&p.reader, 8);
	ac97_reader_format(&p.reader, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 44100);
	KUNIT_EXPECT_EQ(test, fmt.bytes_ready, 4);
	KUNIT_ASSERT_EQ(test, ac97_reader_peek(&p.reader, got, sizeof(got), &seg), 4);
	KUNIT_EXPECT_EQ(test, got[0], 4);
	KUNIT_EXPECT_EQ(test, got[1], 5);
}

/*
 * A pause after an odd number of samples is not a reset: the guest resumes
 * mid-frame in the same buffer, and the stream goes on without a pad.
 */
static void dma_pause_mid_frame_continues(struct kunit *test)
{
	struct play p;

	play_setup(test, &p, AC97_DEV_MANUAL);
	play_bd(&p, 0, 10, 0);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	advance(&p, 10417);		/* 1 sample at 96 000 samples/s */
	KUNIT_EXPECT_EQ(test, p.dev->func[AC97_FUNC_PO].clock.samples_done, 1);
	bm_wb(p.dev, PO(AC97_BM_CR), 0);
	advance(&p, MS);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	run_until_halted(&p, 10);
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), 10);
}

/*
 * Detach: the host stops the DMA before it removes the ports, and nothing
 * the guest does meanwhile (rewriting a buffer, restarting PCM out) reaches
 * the ring: the stream is an exact prefix.
 */
static void dma_unplug_ends_stream(struct kunit *test)
{
	struct play p;
	__le16 *buf0;
	u64 done;

	play_setup(test, &p, AC97_DEV_MANUAL);
	play_bd(&p, 0, 9600, 0);
	play_bd(&p, 1, 9600, 0);
	bm_wb(p.dev, PO(AC97_BM_LVI), 1);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	advance(&p, 30 * MS);
	done = p.dev->func[AC97_FUNC_PO].clock.samples_done;
	KUNIT_EXPECT_EQ(test, done, 2880);
	ac97_dev_unplug(p.dev);
	buf0 = fake_ptr(p.g, PCM_GPA);
	memset(buf0, 0xee, 9600 * 2);		/* the guest reuses its buffers */
	advance(&p, 30 * MS);
	bm_wb(p.dev, PO(AC97_BM_CR), 0);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	advance(&p, 30 * MS);
	KUNIT_EXPECT_EQ(test, p.dev->func[AC97_FUNC_PO].clock.samples_done, done);
	KUNIT_EXPECT_FALSE(test, p.dev->func[AC97_FUNC_PO].clock.running);
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), done);
	KUNIT_EXPECT_EQ(test, bm_rb(p.dev, PO(AC97_BM_CIV)), 0);
}

/*
 * PICB follows the playback clock to the sample although the engine does
 * not run: the read itself moves what is due, and nothing more (what PICB
 * says is played has been read, what it says is not has not). A host whose
 * register accessors may not touch guest memory gets the thread's progress.
 */
static void dma_picb_position(struct kunit *test)
{
	struct ac97_clock *clk;
	struct play p;
	unsigned int us;
	u16 stalled;

	play_setup(test, &p, AC97_DEV_MANUAL);
	clk = &p.dev->func[AC97_FUNC_PO].clock;
	play_bd(&p, 0, 60000, 0);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	advance(&p, 0);
	KUNIT_EXPECT_EQ(test, clk->samples_done, 0);
	KUNIT_EXPECT_EQ(test, bm_rw(p.dev, PO(AC97_BM_PICB)), 60000);
	for (us = 125; us <= 20000; us += 125) {
		p.dev->manual_now_ns += 125000;
		KUNIT_EXPECT_EQ_MSG(test, bm_rw(p.dev, PO(AC97_BM_PICB)),
				    60000 - us * 96 / 1000, "at %u us", us);
		KUNIT_EXPECT_EQ_MSG(test, clk->samples_done, us * 96 / 1000,
				    "at %u us", us);
	}
	KUNIT_EXPECT_EQ(test, p.dev->catch_ups, 160);
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), 1920);
	/* No guest memory from the vCPU: PICB is where the engine got to. */
	p.g->thread_only = true;
	stalled = 60000 - clk->samples_done;
	p.dev->manual_now_ns += 5 * MS;
	KUNIT_EXPECT_EQ(test, bm_rw(p.dev, PO(AC97_BM_PICB)), stalled);
	advance(&p, 0);
	KUNIT_EXPECT_EQ(test, bm_rw(p.dev, PO(AC97_BM_PICB)), 60000 - 25 * 96);
}

/*
 * A guest that writes each sample only just before it is due (as an ALSA
 * application with tiny periods does) is played bit-exact: the DMA never
 * reads a sample before its time, whoever moves it (register reads or the
 * engine at random moments).
 */
static void dma_reads_nothing_early(struct kunit *test)
{
	struct play p;
	__le16 *buf;
	unsigned int step, n, written = 0;

	play_setup(test, &p, AC97_DEV_MANUAL);
	buf = fake_ptr(p.g, PCM_GPA);
	for (n = 0; n < 9600; n++)
		buf[n] = cpu_to_le16(0xdead);	/* not yet written by the guest */
	fake_write_bd(p.g, BDL_GPA, 0, PCM_GPA, 9600);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	for (step = 0; step < 400; step++) {
		/* Write what falls due in the next 250 us (24 samples)... */
		for (n = 0; n < 24 && written < 9600; n++, written++)
			buf[written] = cpu_to_le16(written + 1);
		p.dev->manual_now_ns += 250000;
		/* ... while the position is read, or the engine runs. */
		if (step % 3 == 0)
			advance(&p, 0);
		else
			bm_rw(p.dev, PO(AC97_BM_PICB));
	}
	KUNIT_EXPECT_EQ(test, expect_pattern(&p, 1), 9600);
}

/*
 * The engine sleeps until a buffer's end, where it must raise the
 * interrupt on time; with a reader attached, also until the latency's
 * worth of samples is due.
 */
static void dma_deadlines(struct kunit *test)
{
	u64 start, last, parts, next = 0, latency = ac97_dma_latency_ns();
	unsigned int wakes;
	struct play p;

	play_setup(test, &p, AC97_DEV_MANUAL);
	KUNIT_EXPECT_EQ(test, ac97_engine_deadline(p.dev), U64_MAX);
	play_bd(&p, 0, 4800, AC97_BD_IOC);	/* 50 ms */
	play_bd(&p, 1, 4801, AC97_BD_IOC);	/* an odd end: 50.0104 ms on */
	bm_wb(p.dev, PO(AC97_BM_LVI), 1);
	start = p.dev->manual_now_ns;
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE);
	KUNIT_EXPECT_EQ(test, ac97_engine_deadline(p.dev), 0);	/* fetch */
	advance(&p, 0);
	KUNIT_EXPECT_EQ(test, ac97_engine_deadline(p.dev), start + 50 * MS);
	p.dev->manual_now_ns = start + 50 * MS - 1;
	ac97_engine_step(p.dev);
	KUNIT_EXPECT_FALSE(test, p.g->irq_level);
	p.dev->manual_now_ns = start + 50 * MS;
	ac97_engine_step(p.dev);
	KUNIT_EXPECT_TRUE(test, p.g->irq_level);
	/* 9601 samples at 96000/s: 100010416.67 ns, the first whole ns after */
	KUNIT_EXPECT_EQ(test, ac97_engine_deadline(p.dev), start + 100010417);
	/*
	 * A reader: each sample must reach it within the latency (the thread
	 * plans a millisecond less, for its own lateness), in equal parts of
	 * the buffer, the last of them its end: 50.01 ms in 6 parts of 8.34 ms
	 * for the default 10 ms, and never a part longer than the plan.
	 */
	atomic_inc(&p.dev->pcm_readers);
	parts = div_u64(50010417 + latency - MS - 1, latency - MS);
	for (last = start + 50 * MS, wakes = 0; wakes < 20; wakes++, last = next) {
		next = ac97_engine_deadline(p.dev);
		if (next == U64_MAX)	/* halted at LVI: the buffer is done */
			break;
		KUNIT_EXPECT_GT(test, next, last);
		KUNIT_EXPECT_LE(test, next - last, latency - MS);
		/* equal parts, to a sample (10.4 us): no short hop to the end */
		KUNIT_EXPECT_GE(test, next - last, div_u64(50010417, parts) - 11000);
		p.dev->manual_now_ns = next;
		ac97_engine_step(p.dev);
	}
	KUNIT_EXPECT_EQ(test, last, start + 100010417);	/* the last: the end */
	KUNIT_EXPECT_EQ(test, wakes, parts);
	atomic_dec(&p.dev->pcm_readers);
	bm_wb(p.dev, PO(AC97_BM_CR), 0);
	KUNIT_EXPECT_EQ(test, ac97_engine_deadline(p.dev), U64_MAX);
}

/* The clock runs at the programmed rate with no drift, VRA rates included. */
static void dma_rate_exact(struct kunit *test)
{
	static const u16 rates[] = { 48000, 44100, 8000, 22050 };
	struct play p;
	unsigned int r, i;

	for (r = 0; r < ARRAY_SIZE(rates); r++) {
		play_setup(test, &p, AC97_DEV_MANUAL);
		nam_ww(p.dev, AC97_EXTENDED_STATUS, AC97_EA_VRA);
		nam_ww(p.dev, AC97_PCM_FRONT_DAC_RATE, rates[r]);
		for (i = 0; i < 32; i++)
			fake_write_bd(p.g, BDL_GPA, i, PCM_GPA, 0xfffe);
		bm_wb(p.dev, PO(AC97_BM_LVI), 31);
		bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
		/* 10 s in uneven ticks: 0.7 ms, 1.3 ms, ... */
		for (i = 0; i < 10000; i++)
			advance(&p, (i & 1) ? 1300000 : 700000);
		KUNIT_EXPECT_EQ_MSG(test, p.dev->func[AC97_FUNC_PO].clock.samples_done,
				    (u64)rates[r] * 2 * 10, "rate %u", rates[r]);
		KUNIT_EXPECT_EQ(test, p.dev->clock_slips, 0);
	}
}

/* A rate change mid-stream is a format mark in the ring, at a sample boundary. */
static void dma_rate_change_marks_stream(struct kunit *test)
{
	struct ac97_pcm_format fmt;
	struct play p;
	u8 *buf;
	size_t len;

	play_setup(test, &p, AC97_DEV_MANUAL);
	play_bd(&p, 0, 20000, 0);
	nam_ww(p.dev, AC97_EXTENDED_STATUS, AC97_EA_VRA);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	advance(&p, 10 * MS);		/* 960 samples at 48 kHz */
	nam_ww(p.dev, AC97_PCM_FRONT_DAC_RATE, 44100);
	advance(&p, 10 * MS);		/* 882 samples at 44.1 kHz */
	buf = kunit_kzalloc(test, 8192, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	ac97_reader_format(&p.reader, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 48000);
	KUNIT_EXPECT_EQ(test, fmt.bytes_ready, 1920);
	len = ac97_reader_copy(&p.reader, buf, 8192);
	KUNIT_EXPECT_EQ(test, len, 1920);
	ac97_reader_format(&p.reader, &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 44100);
	KUNIT_EXPECT_EQ(test, fmt.channels, 2);
	KUNIT_EXPECT_EQ(test, fmt.serial, 2);
	len = ac97_reader_copy(&p.reader, buf, 8192);
	KUNIT_EXPECT_EQ(test, len, 1764);
}

/* A starved engine catches up; starved for over a second, it gives up the lag. */
static void dma_starvation_resync(struct kunit *test)
{
	struct play p;
	unsigned int i;

	play_setup(test, &p, AC97_DEV_MANUAL);
	for (i = 0; i < 32; i++)
		fake_write_bd(p.g, BDL_GPA, i, PCM_GPA, 0xfffe);
	bm_wb(p.dev, PO(AC97_BM_LVI), 31);
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	advance(&p, MS);
	/* Half a second late: caught up, the clock keeps its pace. */
	advance(&p, 500 * MS);
	KUNIT_EXPECT_EQ(test, p.dev->clock_slips, 0);
	KUNIT_EXPECT_EQ(test, p.dev->func[AC97_FUNC_PO].clock.samples_done, 96 + 48000);
	/* Two seconds (a host stopped): the lag is given up. */
	advance(&p, 2000 * MS);
	KUNIT_EXPECT_EQ(test, p.dev->clock_slips, 1);
	KUNIT_EXPECT_EQ(test, p.dev->func[AC97_FUNC_PO].clock.samples_done, 96 + 48000);
	advance(&p, MS);
	KUNIT_EXPECT_EQ(test, p.dev->func[AC97_FUNC_PO].clock.samples_done, 96 + 48096);
}

/* Master and PCM-out volume reach the samples, per channel. */
static void dma_volume_applied(struct kunit *test)
{
	__le16 *pcm, out[8];
	u8 skip[188];
	struct play p;
	int i;

	play_setup(test, &p, AC97_DEV_MANUAL);
	pcm = fake_ptr(p.g, PCM_GPA);
	for (i = 0; i < 96 * 3; i++)
		pcm[i] = cpu_to_le16(10000);
	fake_write_bd(p.g, BDL_GPA, 0, PCM_GPA, 96 * 3);
	nam_ww(p.dev, AC97_MASTER, 0x0400);	/* left -6 dB, right 0 dB */
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	advance(&p, MS);
	nam_ww(p.dev, AC97_PCM_OUT, 0x0008);	/* left +12 dB */
	advance(&p, MS);
	nam_ww(p.dev, AC97_MASTER, AC97_MUTE);
	advance(&p, MS);

	KUNIT_ASSERT_EQ(test, ac97_reader_copy(&p.reader, out, 4), 4);
	KUNIT_EXPECT_EQ(test, le16_to_cpu(out[0]), 5012);
	KUNIT_EXPECT_EQ(test, le16_to_cpu(out[1]), 10000);
	ac97_reader_copy(&p.reader, skip, sizeof(skip));
	KUNIT_ASSERT_EQ(test, ac97_reader_copy(&p.reader, out, 4), 4);
	KUNIT_EXPECT_EQ(test, le16_to_cpu(out[0]), 19953);	/* +6 dB net */
	KUNIT_EXPECT_EQ(test, le16_to_cpu(out[1]), 10000);
	ac97_reader_copy(&p.reader, skip, sizeof(skip));
	KUNIT_ASSERT_EQ(test, ac97_reader_copy(&p.reader, out, 4), 4);
	KUNIT_EXPECT_EQ(test, le16_to_cpu(out[0]), 0);
	KUNIT_EXPECT_EQ(test, le16_to_cpu(out[1]), 0);
}

#define RATE_POINTS 200

/*
 * The real thread, against wall time: the rate over 2 s within 0.1 %. The
 * slope of samples against time over 200 points, so that one late wakeup
 * of a loaded machine does not stand for the rate.
 */
static void dma_thread_rate(struct kunit *test)
{
	s64 *t = kunit_kcalloc(test, RATE_POINTS, sizeof(*t), GFP_KERNEL);
	s64 *n = kunit_kcalloc(test, RATE_POINTS, sizeof(*n), GFP_KERNEL);
	s64 st = 0, sn = 0, stt = 0, stn = 0, mt, mn, lag_max = 0;
	unsigned long us;
	u64 t0, milli_hz;
	struct play p;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_NOT_NULL(test, n);
	play_setup(test, &p, 0);
	for (i = 0; i < 32; i++)
		fake_write_bd(p.g, BDL_GPA, i, PCM_GPA, 0xfffe);
	bm_wb(p.dev, PO(AC97_BM_LVI), 31);
	/* A host reader: the thread moves the samples within the latency. */
	atomic_inc(&p.dev->pcm_readers);
	t0 = ktime_get_ns();
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	for (i = 0; i < RATE_POINTS; i++) {
		/* Next to no slack: a wake-up aligned with the thread's would hide its lag. */
		us = 9000 + (i * 379) % 2000;
		usleep_range(us, us + 1);
		spin_lock(&p.dev->lock);
		n[i] = p.dev->func[AC97_FUNC_PO].clock.samples_done / 2;
		t[i] = (ktime_get_ns() - t0) / 1000;	/* us */
		spin_unlock(&p.dev->lock);
		st += t[i];
		sn += n[i];
	}
	mt = div_s64(st, RATE_POINTS);
	mn = div_s64(sn, RATE_POINTS);
	for (i = 0; i < RATE_POINTS; i++) {
		stt += (t[i] - mt) * (t[i] - mt);
		stn += (t[i] - mt) * (n[i] - mn);
	}
	/* frames per us * 1e6 * 1000 = milli-Hz */
	milli_hz = stn > 0 && stt > 0 ? mul_u64_u64_div_u64(stn, 1000000000ULL, stt) : 0;
	kunit_info(test, "measured rate %llu.%03llu Hz over %lld ms, %u points (nominal 48000), %llu slips\n",
		   milli_hz / 1000, milli_hz % 1000, t[RATE_POINTS - 1] / 1000,
		   RATE_POINTS, p.dev->clock_slips);
	KUNIT_EXPECT_GE(test, milli_hz, 48000ULL * 999);
	KUNIT_EXPECT_LE(test, milli_hz, 48000ULL * 1001);
	KUNIT_EXPECT_GT(test, p.g->dma_begins, 0);
	KUNIT_EXPECT_EQ(test, p.g->refused_reads, 0);
	/*
	 * Woken for the reader's latency and the 683 ms buffers' ends, not
	 * more (a late thread wakes less often, never more often).
	 */
	/* How far behind its clock a host reader's samples were, at worst. */
	for (i = 0; i < RATE_POINTS; i++)
		lag_max = max(lag_max, t[i] - div_s64(n[i] * 1000000, 48000));
	kunit_info(test, "%llu wake-ups in %lld ms (latency %llu us); samples reached the ring at most %lld us after their time\n",
		   READ_ONCE(p.dev->wakeups), t[RATE_POINTS - 1] / 1000,
		   ac97_dma_latency_ns() / 1000, lag_max);
	KUNIT_EXPECT_LE(test, READ_ONCE(p.dev->wakeups),
			div_u64((t[RATE_POINTS - 1] + 20000) * NSEC_PER_USEC,
				ac97_dma_latency_ns() - MS) + 10);
	atomic_dec(&p.dev->pcm_readers);
}

static int cmp_s64(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * PICB read by the guest while the thread runs, against the wall-clock
 * position. Its resolution is proven exactly with the fake clock above; here
 * the median shows it holds with the real thread (within 1 ms), and PICB
 * must never show a sample whose time had not come when the read returned
 * (the clock starts after t0, so a position can only lag it). The host may
 * preempt UML in the middle of a read: the bound is against the read's
 * end, the report against its middle.
 */
static void dma_thread_picb_resolution(struct kunit *test)
{
	s64 *err = kunit_kcalloc(test, 200, sizeof(*err), GFP_KERNEL);
	s64 pos, ahead_max = S64_MIN;
	u64 t0, ta, tb;
	struct play p;
	unsigned int i, n = 0;
	u16 picb;

	KUNIT_ASSERT_NOT_NULL(test, err);
	play_setup(test, &p, 0);
	fake_write_bd(p.g, BDL_GPA, 0, PCM_GPA, 0xfffe);	/* 683 ms */
	t0 = ktime_get_ns();
	bm_wb(p.dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	for (i = 0; i < 200; i++) {
		usleep_range(1500, 2500);
		ta = ktime_get_ns();
		picb = bm_rw(p.dev, PO(AC97_BM_PICB));
		tb = ktime_get_ns();
		if (bm_rb(p.dev, PO(AC97_BM_CIV)) != 0 || picb <= 1)
			break;
		/* Position in ns of audio, against the middle of the read. */
		pos = div_s64((s64)(0xfffe - picb) * NSEC_PER_SEC, 96000);
		err[n++] = pos - (s64)((ta + tb) / 2 - t0);
		ahead_max = max(ahead_max, pos - (s64)(tb - t0));
	}
	sort(err, n, sizeof(*err), cmp_s64, NULL);
	kunit_info(test, "PICB: %u reads, error min %lld us, median %lld us, max %lld us; at most %lld us ahead of the read's end\n",
		   n, err[0] / 1000, err[n / 2] / 1000, err[n - 1] / 1000,
		   ahead_max / 1000);
	KUNIT_EXPECT_GE(test, n, 100);
	KUNIT_EXPECT_LE(test, abs(err[n / 2]), 1000000LL);
	KUNIT_EXPECT_LE(test, ahead_max, 0LL);
}

static void dma_thread_stops_cleanly(struct kunit *test)
{
	struct fake_guest *g = fake_guest_new(test);
	struct ac97_dev *dev = ac97_dev_create(&fake_guest_ops, g, 0);
	unsigned int i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	bm_wl(dev, PO(AC97_BM_BDBAR), BDL_GPA);
	for (i = 0; i < 32; i++)
		fake_write_bd(g, BDL_GPA, i, PCM_GPA, 960 | AC97_BD_IOC);	/* 10 ms */
	bm_wb(dev, PO(AC97_BM_LVI), 31);
	bm_wb(dev, PO(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE);
	msleep(30);
	KUNIT_EXPECT_GT(test, g->dma_begins, 1);
	KUNIT_EXPECT_EQ(test, g->borrows, 1);		/* kept across the runs */
	ac97_dev_destroy(dev);		/* mid-DMA */
	KUNIT_EXPECT_FALSE(test, g->borrowed);		/* given back at the end */
	KUNIT_EXPECT_EQ(test, g->gives_back, 1);
	KUNIT_EXPECT_FALSE(test, g->irq_level);
}

/*
 * The guest's memory goes for good (the VMM exited while something else
 * still holds the device): the thread stops all DMA instead of reading it.
 */
static void dma_thread_memory_gone(struct kunit *test)
{
	struct fake_guest *g = fake_guest_new(test);
	struct ac97_dev *dev = fake_dev_new(test, g, 0);
	unsigned int i, reads;

	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	bm_wl(dev, PO(AC97_BM_BDBAR), BDL_GPA);
	for (i = 0; i < 32; i++)
		fake_write_bd(g, BDL_GPA, i, PCM_GPA, 960);	/* 10 ms */
	bm_wb(dev, PO(AC97_BM_LVI), 31);
	bm_wb(dev, PO(AC97_BM_CR), AC97_CR_RPBM);
	msleep(20);
	KUNIT_EXPECT_GT(test, g->dma_begins, 0);
	WRITE_ONCE(g->memory_gone, true);
	msleep(30);
	KUNIT_EXPECT_TRUE(test, dev->unplugged);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(dev->func[AC97_FUNC_PO].clock.running));
	reads = READ_ONCE(g->reads);
	msleep(20);
	KUNIT_EXPECT_EQ(test, READ_ONCE(g->reads), reads);
}

static struct kunit_case dma_cases[] = {
	KUNIT_CASE(dma_bytes_in_order),
	KUNIT_CASE(dma_ioc_interrupts),
	KUNIT_CASE(dma_lvi_stop_restart),
	KUNIT_CASE(dma_pause_resume),
	KUNIT_CASE(dma_host_stop_resume),
	KUNIT_CASE(dma_host_reset),
	KUNIT_CASE(dma_zero_length),
	KUNIT_CASE(dma_all_zero_bdl),
	KUNIT_CASE(dma_outside_memory),
	KUNIT_CASE(dma_reset_while_running),
	KUNIT_CASE(dma_unplug_ends_stream),
	KUNIT_CASE(dma_reset_mid_frame_keeps_channels),
	KUNIT_CASE(dma_rate_change_mid_frame_whole_frames),
	KUNIT_CASE(dma_pause_mid_frame_continues),
	KUNIT_CASE(dma_picb_position),
	KUNIT_CASE(dma_reads_nothing_early),
	KUNIT_CASE(dma_deadlines),
	KUNIT_CASE(dma_rate_exact),
	KUNIT_CASE(dma_rate_change_marks_stream),
	KUNIT_CASE(dma_starvation_resync),
	KUNIT_CASE(dma_volume_applied),
	KUNIT_CASE_SLOW(dma_thread_rate),
	KUNIT_CASE(dma_thread_picb_resolution),
	KUNIT_CASE(dma_thread_stops_cleanly),
	KUNIT_CASE(dma_thread_memory_gone),
	{}
};

static struct kunit_suite dma_suite = {
	.name = "ac97_dma",
	.test_cases = dma_cases,
};

kunit_test_suites(&dma_suite);
