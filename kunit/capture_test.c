// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: PCM in and mic in on a fake guest, against a fake clock. The host
 * writes frames into a capture source as a writer of the PCM node would;
 * the engine writes them into the guest's buffers. Guest RAM around the
 * buffers holds a canary, so a byte written outside a descriptor's buffer
 * shows.
 */
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "ac97_test.h"

#define BDL_GPA		FAKE_RAM_BASE
#define BUF_GPA		(FAKE_RAM_BASE + 0x1000)
#define CANARY		0xa5
#define PI(reg)		(AC97_BM_PI + (reg))
#define MC(reg)		(AC97_BM_MC + (reg))
#define MS		1000000ULL

struct rec {
	struct kunit *test;
	struct fake_guest *g;
	struct ac97_dev *dev;
	unsigned int base;	/* AC97_BM_PI or AC97_BM_MC */
	u32 next_gpa;
	u32 buf_bytes;		/* all buffers and the gaps between, from BUF_GPA */
	u16 next_value;		/* pattern the host writes */
	unsigned int nr_bufs;
	u32 buf_gpa[AC97_BD_COUNT];
	u32 buf_len[AC97_BD_COUNT];
};

static void rec_setup(struct kunit *test, struct rec *r, unsigned int base)
{
	memset(r, 0, sizeof(*r));
	r->test = test;
	r->g = fake_guest_new(test);
	r->dev = fake_dev_new(test, r->g, AC97_DEV_MANUAL);
	r->dev->manual_now_ns = 1000 * MS;
	r->base = base;
	r->next_gpa = BUF_GPA;
	r->next_value = 1;
	memset(fake_ptr(r->g, BUF_GPA), CANARY, 0x80000);
	bm_wl(r->dev, AC97_GLOB_CNT, AC97_GC_COLD);
	nam_ww(r->dev, AC97_REC_SEL, 0x0404);	/* line in, both channels */
	nam_ww(r->dev, AC97_REC_GAIN, 0);	/* 0 dB, unmuted: bit-exact */
	nam_ww(r->dev, AC97_MIC, 0x0008);	/* 0 dB, unmuted */
	bm_wl(r->dev, base + AC97_BM_BDBAR, BDL_GPA);
}

/*
 * Descriptor @i: a buffer of @samples, @ctl flags added. Buffers start on a
 * dword, as the ICH takes them; the bytes up to the next one keep the canary.
 */
static void rec_bd(struct rec *r, unsigned int i, u32 samples, u32 ctl)
{
	fake_write_bd(r->g, BDL_GPA, i, r->next_gpa, ctl | samples);
	r->buf_gpa[r->nr_bufs] = r->next_gpa;
	r->buf_len[r->nr_bufs++] = samples;
	r->buf_bytes = r->next_gpa + samples * 2 - BUF_GPA;
	r->next_gpa += ALIGN(samples * 2, 4);
}

/* The host writes @samples of the running pattern into source @src. */
static size_t host_write(struct rec *r, unsigned int src, u32 samples)
{
	__le16 *data = vmalloc(samples * 2);
	struct iov_iter iter;
	struct kvec kv;
	ssize_t n;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(r->test, data);
	for (i = 0; i < samples; i++)
		data[i] = cpu_to_le16(r->next_value++);
	kv = (struct kvec) { .iov_base = data, .iov_len = samples * 2 };
	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, samples * 2);
	n = ac97_source_write(&r->dev->src[src], &iter, true);
	vfree(data);
	return n < 0 ? 0 : n;
}

static void advance(struct rec *r, u64 ns)
{
	r->dev->manual_now_ns += ns;
	ac97_engine_step(r->dev);
}

static u16 rec_sr(struct rec *r)
{
	return bm_rw(r->dev, r->base + AC97_BM_SR);
}

static void run_until_halted(struct rec *r, unsigned int max_ms)
{
	while (max_ms-- && !(rec_sr(r) & AC97_SR_DCH))
		advance(r, MS);
}

/* Sample @index of the recording, counted across the buffers. */
static u16 guest_sample(struct rec *r, u32 index)
{
	unsigned int b;

	for (b = 0; b < r->nr_bufs && index >= r->buf_len[b]; b++)
		index -= r->buf_len[b];
	if (b == r->nr_bufs)
		return 0xdead;
	return le16_to_cpu(*(__le16 *)fake_ptr(r->g, r->buf_gpa[b] + index * 2));
}

/* The canary in the gaps between buffers. */
static void expect_canary_between(struct rec *r)
{
	unsigned int b;
	u8 *p;

	for (b = 0; b + 1 < r->nr_bufs; b++) {
		p = fake_ptr(r->g, r->buf_gpa[b] + r->buf_len[b] * 2);
		if (r->buf_gpa[b] + r->buf_len[b] * 2 < r->buf_gpa[b + 1] &&
		    (p[0] != CANARY || p[1] != CANARY))
			KUNIT_FAIL(r->test, "the gap after buffer %u was written", b);
	}
}

/* Bytes after the buffers, up to @span, still hold the canary. */
static void expect_canary_after(struct rec *r, u32 span)
{
	u8 *p = fake_ptr(r->g, BUF_GPA);
	u32 i;

	for (i = r->buf_bytes; i < span; i++)
		if (p[i] != CANARY) {
			KUNIT_FAIL(r->test, "byte %#x past the buffers was written", i);
			return;
		}
}

/* PCM in: what the host wrote reaches the guest's buffers exactly, in order. */
static void capture_bytes_in_order(struct kunit *test)
{
	struct rec r;
	u32 i, total = 4800 + 3001 + 7 + 2048;

	rec_setup(test, &r, AC97_BM_PI);
	rec_bd(&r, 0, 4800, 0);
	rec_bd(&r, 1, 3001, 0);
	rec_bd(&r, 2, 7, 0);
	rec_bd(&r, 3, 2048, 0);
	KUNIT_ASSERT_EQ(test, host_write(&r, AC97_SRC_LINE, 12000), 24000);
	bm_wb(r.dev, PI(AC97_BM_LVI), 3);
	bm_wb(r.dev, PI(AC97_BM_CR), AC97_CR_RPBM);
	run_until_halted(&r, 1000);
	for (i = 0; i < total; i++)
		if (guest_sample(&r, i) != (u16)(i + 1)) {
			KUNIT_FAIL(test, "sample %u is %u, expected %u", i,
				   guest_sample(&r, i), i + 1);
			break;
		}
	KUNIT_EXPECT_EQ(test, rec_sr(&r), AC97_SR_DCH | AC97_SR_CELV | AC97_SR_LVBCI);
	KUNIT_EXPECT_EQ(test, bm_rb(r.dev, PI(AC97_BM_CIV)), 3);
	KUNIT_EXPECT_EQ(test, r.dev->func[AC97_FUNC_PI].clock.samples_done, total);
	KUNIT_EXPECT_EQ(test, r.g->refused_writes, 0);
	KUNIT_EXPECT_EQ(test, r.g->written_bytes, total * 2);
	/* The source gave exactly what was written into the guest: 4928 frames. */
	KUNIT_EXPECT_EQ(test, r.dev->src[AC97_SRC_LINE].rpos, 4928 * 4);
	KUNIT_EXPECT_EQ(test, r.dev->src[AC97_SRC_LINE].underruns, 0);
	expect_canary_between(&r);
	expect_canary_after(&r, 0x80000);
}

/*
 * No writer: the guest records silence at the exact rate, each short
 * transfer counted; a writer that comes later is heard from then on, with
 * nothing it wrote dropped.
 */
static void capture_underrun_is_silence(struct kunit *test)
{
	struct ac97_dev_info info;
	struct rec r;
	u32 i;

	rec_setup(test, &r, AC97_BM_PI);
	rec_bd(&r, 0, 9600, AC97_BD_IOC);
	rec_bd(&r, 1, 9600, 0);
	bm_wb(r.dev, PI(AC97_BM_LVI), 1);
	bm_wb(r.dev, PI(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE);
	advance(&r, 10 * MS);
	KUNIT_EXPECT_EQ(test, r.dev->func[AC97_FUNC_PI].clock.samples_done, 960);
	for (i = 0; i < 960; i++)
		if (guest_sample(&r, i)) {
			KUNIT_FAIL(test, "sample %u is %u, expected silence", i,
				   guest_sample(&r, i));
			break;
		}
	KUNIT_EXPECT_EQ(test, guest_sample(&r, 960), (CANARY << 8) | CANARY);	/* not yet */
	ac97_dev_info(r.dev, &info);
	KUNIT_EXPECT_EQ(test, info.underruns, 1);
	KUNIT_EXPECT_EQ(test, info.capture_samples, 960);
	KUNIT_EXPECT_EQ(test, r.dev->src[AC97_SRC_LINE].silent_bytes, 1920);

	host_write(&r, AC97_SRC_LINE, 960);
	advance(&r, 10 * MS);
	for (i = 0; i < 960; i++)
		if (guest_sample(&r, 960 + i) != i + 1) {
			KUNIT_FAIL(test, "sample %u is %u, expected %u", 960 + i,
				   guest_sample(&r, 960 + i), i + 1);
			break;
		}
	KUNIT_EXPECT_EQ(test, r.dev->src[AC97_SRC_LINE].underruns, 1);
	advance(&r, 10 * MS);		/* the writer fell behind: silence */
	KUNIT_EXPECT_EQ(test, guest_sample(&r, 1920), 0);
	KUNIT_EXPECT_EQ(test, r.dev->src[AC97_SRC_LINE].underruns, 2);
}

/*
 * Mic in: mono, at the mic ADC rate (VRM), through the mic control: 0 dB is
 * exact, +20 dB boost is x10 and saturates, mute is silence.
 */
static void capture_mic_rate_and_gain(struct kunit *test)
{
	struct rec r;
	u32 i;

	rec_setup(test, &r, AC97_BM_MC);
	nam_ww(r.dev, AC97_EXTENDED_STATUS, AC97_EA_VRM);
	nam_ww(r.dev, AC97_PCM_MIC_ADC_RATE, 16001);
	KUNIT_EXPECT_EQ(test, nam_rw(r.dev, AC97_PCM_MIC_ADC_RATE), 16000);
	rec_bd(&r, 0, 1600, 0);
	rec_bd(&r, 1, 160, 0);
	rec_bd(&r, 2, 160, 0);
	r.next_value = 4000;
	host_write(&r, AC97_SRC_MIC, 1600 + 160);
	r.next_value = (u16)-4000;
	host_write(&r, AC97_SRC_MIC, 160);
	bm_wb(r.dev, MC(AC97_BM_LVI), 2);
	bm_wb(r.dev, MC(AC97_BM_CR), AC97_CR_RPBM);
	advance(&r, 100 * MS);
	/* 100 ms at 16 kHz mono is the first buffer exactly. */
	KUNIT_EXPECT_EQ(test, r.dev->func[AC97_FUNC_MC].clock.samples_done, 1600);
	KUNIT_EXPECT_EQ(test, bm_rb(r.dev, MC(AC97_BM_CIV)), 1);
	for (i = 0; i < 1600; i++)
		if (guest_sample(&r, i) != 4000 + i) {
			KUNIT_FAIL(test, "mic sample %u is %u", i, guest_sample(&r, i));
			break;
		}
	nam_ww(r.dev, AC97_MIC, 0x0048);	/* +20 dB boost */
	advance(&r, 10 * MS);
	KUNIT_EXPECT_EQ(test, guest_sample(&r, 1600), 32767);	/* 5600 x 10 */
	KUNIT_EXPECT_EQ(test, guest_sample(&r, 1600 + 159), 32767);
	nam_ww(r.dev, AC97_MIC, 0x000c);	/* -6 dB */
	advance(&r, 5 * MS);
	/* -4000 at -6 dB: round(-4000 * 32846 / 65536) = -2005 */
	KUNIT_EXPECT_EQ(test, (s16)guest_sample(&r, 1760), -2005);
	nam_ww(r.dev, AC97_MIC, 0x8008);	/* mute */
	advance(&r, 5 * MS);
	KUNIT_EXPECT_EQ(test, guest_sample(&r, 1919), 0);
	expect_canary_after(&r, 0x10000);
}

/*
 * PCM in's record path: record gain in 1.5 dB steps (exact Q16 gains), mute
 * per control, record select per channel (line, mic = mono mix through the
 * mic control, an input nothing is plugged into = silence).
 */
static void capture_record_path(struct kunit *test)
{
	static const struct {
		u16 sel, gain, mic;
		s16 left, right;
	} cases[] = {
		{ 0x0404, 0x0000, 0x0008, 1000, -2000 },	/* exact */
		{ 0x0404, 0x0400, 0x0008, 1995, -2000 },	/* L +6 dB */
		{ 0x0404, 0x0f0f, 0x0008, 13335, -26670 },	/* +22.5 dB */
		{ 0x0404, 0x8000, 0x0008, 0, 0 },		/* muted */
		{ 0x0004, 0x0000, 0x0008, -500, -2000 },	/* L mic */
		{ 0x0000, 0x0000, 0x0048, -5000, -5000 },	/* mic +20 dB */
		{ 0x0106, 0x0000, 0x0008, 0, -500 },		/* CD, mono mix */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ac97_capture_path path;
		struct ac97_mixer mixer;

		ac97_mixer_reset(&mixer);
		ac97_mixer_write(&mixer, AC97_REC_SEL, cases[i].sel);
		ac97_mixer_write(&mixer, AC97_REC_GAIN, cases[i].gain);
		ac97_mixer_write(&mixer, AC97_MIC, cases[i].mic);
		ac97_mixer_capture_path(&mixer, false, &path);
		KUNIT_EXPECT_EQ_MSG(test, ac97_capture_sample(&path, 0, 1000, -2000),
				    cases[i].left, "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, ac97_capture_sample(&path, 1, 1000, -2000),
				    cases[i].right, "case %u", i);
	}
}

/*
 * A capture buffer that is not guest RAM: FIFOE, halted, nothing written
 * anywhere; the other capture function runs on.
 */
static void capture_dma_error_writes_nothing(struct kunit *test)
{
	struct rec r;
	u64 written;

	rec_setup(test, &r, AC97_BM_PI);
	/* In RAM but running into the hole after it. */
	fake_write_bd(r.g, BDL_GPA, 0, FAKE_RAM_BASE + FAKE_RAM_SIZE - 64, 4000);
	bm_wl(r.dev, MC(AC97_BM_BDBAR), BDL_GPA + 0x100);
	fake_write_bd(r.g, BDL_GPA + 0x100, 0, BUF_GPA, 4800);
	host_write(&r, AC97_SRC_LINE, 8000);
	bm_wb(r.dev, MC(AC97_BM_CR), AC97_CR_RPBM);
	bm_wb(r.dev, PI(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_FEIE);
	advance(&r, 10 * MS);
	KUNIT_EXPECT_EQ(test, rec_sr(&r) & (AC97_SR_FIFOE | AC97_SR_DCH),
			AC97_SR_FIFOE | AC97_SR_DCH);
	KUNIT_EXPECT_TRUE(test, r.g->irq_level);
	KUNIT_EXPECT_GE(test, r.g->refused_writes, 1);
	KUNIT_EXPECT_EQ(test, r.dev->func[AC97_FUNC_PI].clock.samples_done, 0);
	KUNIT_EXPECT_EQ(test, ((u8 *)fake_ptr(r.g, FAKE_RAM_BASE + FAKE_RAM_SIZE - 64))[0], 0);
	KUNIT_EXPECT_EQ(test, r.dev->src[AC97_SRC_LINE].rpos, 0);
	/* Mic in kept running: 10 ms at 48 kHz mono, only into its own buffer. */
	written = r.g->written_bytes;
	KUNIT_EXPECT_EQ(test, written, 960);
	KUNIT_EXPECT_FALSE(test, bm_rw(r.dev, MC(AC97_BM_SR)) & AC97_SR_DCH);
	r.buf_bytes = 960;	/* mic in's buffer, so far */
	expect_canary_after(&r, 0x10000);
}

/*
 * Pause, resume, reset: nothing the host wrote is dropped or doubled across
 * a pause; a reset mid-transfer consumes nothing.
 */
static void capture_pause_resume_exact(struct kunit *test)
{
	struct rec r;
	u32 i;

	rec_setup(test, &r, AC97_BM_PI);
	rec_bd(&r, 0, 3001, 0);
	rec_bd(&r, 1, 3001, 0);
	host_write(&r, AC97_SRC_LINE, 8000);
	bm_wb(r.dev, PI(AC97_BM_LVI), 1);
	bm_wb(r.dev, PI(AC97_BM_CR), AC97_CR_RPBM);
	advance(&r, 15 * MS + 10417);	/* 1441 samples: mid-frame */
	bm_wb(r.dev, PI(AC97_BM_CR), 0);
	advance(&r, 50 * MS);
	KUNIT_EXPECT_EQ(test, bm_rw(r.dev, PI(AC97_BM_PICB)),
			3001 - r.dev->func[AC97_FUNC_PI].clock.samples_done);
	bm_wb(r.dev, PI(AC97_BM_CR), AC97_CR_RPBM);
	run_until_halted(&r, 1000);
	for (i = 0; i < 6002; i++)
		if (guest_sample(&r, i) != i + 1) {
			KUNIT_FAIL(test, "sample %u is %u after a pause", i,
				   guest_sample(&r, i));
			break;
		}
	KUNIT_EXPECT_EQ(test, r.dev->src[AC97_SRC_LINE].rpos, 3001 * 4);
	expect_canary_between(&r);
}

/* The writer learns the guest's rate, and that it changed. */
static void capture_source_follows_rate(struct kunit *test)
{
	struct ac97_pcm_format fmt;
	struct rec r;
	u32 serial;

	rec_setup(test, &r, AC97_BM_PI);
	ac97_source_format(&r.dev->src[AC97_SRC_LINE], &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 48000);
	KUNIT_EXPECT_EQ(test, fmt.channels, 2);
	KUNIT_EXPECT_EQ(test, fmt.bytes_ready, AC97_SOURCE_BYTES);
	serial = fmt.serial;
	nam_ww(r.dev, AC97_EXTENDED_STATUS, AC97_EA_VRA);
	nam_ww(r.dev, AC97_PCM_LR_ADC_RATE, 44100);
	ac97_source_format(&r.dev->src[AC97_SRC_LINE], &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 44100);
	KUNIT_EXPECT_EQ(test, fmt.serial, serial + 1);
	ac97_source_format(&r.dev->src[AC97_SRC_MIC], &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 48000);
	KUNIT_EXPECT_EQ(test, fmt.channels, 1);
	/* A full source takes no more, and says so without blocking. */
	KUNIT_EXPECT_EQ(test, host_write(&r, AC97_SRC_LINE, AC97_SOURCE_BYTES / 2 + 10),
			AC97_SOURCE_BYTES);
	KUNIT_EXPECT_EQ(test, host_write(&r, AC97_SRC_LINE, 10), 0);
	/* Cold reset: the codec is back at 48 kHz, and the writer is told. */
	bm_wl(r.dev, AC97_GLOB_CNT, 0);
	ac97_source_format(&r.dev->src[AC97_SRC_LINE], &fmt);
	KUNIT_EXPECT_EQ(test, fmt.rate, 48000);
	KUNIT_EXPECT_EQ(test, fmt.serial, serial + 2);
}

/*
 * The capture clock over 60 s, at a VRA and a VRM rate, in uneven ticks,
 * with a guest that keeps moving LVI and a writer that writes exactly what
 * the rate asks for every 50 ms: not one sample gained or lost, not one
 * underrun (a writer at the nominal rate never runs dry).
 */
static void capture_rate_60s(struct kunit *test)
{
	static const struct { unsigned int base, src, reg, ea, rate, ch; } runs[] = {
		{ AC97_BM_PI, AC97_SRC_LINE, AC97_PCM_LR_ADC_RATE, AC97_EA_VRA, 44100, 2 },
		{ AC97_BM_MC, AC97_SRC_MIC, AC97_PCM_MIC_ADC_RATE, AC97_EA_VRM, 8000, 1 },
	};
	unsigned int k, i, f;
	u64 written, due;
	struct rec r;

	for (k = 0; k < ARRAY_SIZE(runs); k++) {
		f = runs[k].base == AC97_BM_PI ? AC97_FUNC_PI : AC97_FUNC_MC;
		rec_setup(test, &r, runs[k].base);
		nam_ww(r.dev, AC97_EXTENDED_STATUS, runs[k].ea);
		nam_ww(r.dev, runs[k].reg, runs[k].rate);
		for (i = 0; i < AC97_BD_COUNT; i++)
			rec_bd(&r, i, runs[k].rate * runs[k].ch / 20, 0);	/* 50 ms */
		/* A writer a little ahead, then exactly at the rate. */
		written = host_write(&r, runs[k].src, runs[k].rate * runs[k].ch / 10) / 2;
		bm_wb(r.dev, r.base + AC97_BM_LVI, AC97_BD_COUNT - 1);
		bm_wb(r.dev, r.base + AC97_BM_CR, AC97_CR_RPBM);
		for (i = 0; i < 30000; i++) {	/* 0.7 ms + 1.3 ms, 30 000 times */
			advance(&r, 700000);
			advance(&r, 1300000);
			if (i % 25 != 24)
				continue;
			/* Every 50 ms: the guest frees the buffers it read. */
			bm_wb(r.dev, r.base + AC97_BM_LVI,
			      (bm_rb(r.dev, r.base + AC97_BM_CIV) + AC97_BD_COUNT - 2) %
			      AC97_BD_COUNT);
			due = (u64)runs[k].rate * runs[k].ch * (i + 1) / 500 +
			      runs[k].rate * runs[k].ch / 10;
			written += host_write(&r, runs[k].src, due - written) / 2;
		}
		KUNIT_EXPECT_EQ_MSG(test, r.dev->func[f].clock.samples_done,
				    (u64)runs[k].rate * runs[k].ch * 60, "rate %u", runs[k].rate);
		KUNIT_EXPECT_EQ(test, written, (u64)runs[k].rate * runs[k].ch * 601 / 10);
		KUNIT_EXPECT_EQ(test, r.dev->src[runs[k].src].underruns, 0);
		KUNIT_EXPECT_EQ(test, r.dev->clock_slips, 0);
		KUNIT_EXPECT_FALSE(test, rec_sr(&r) & AC97_SR_DCH);
		kunit_info(test, "%u Hz %u ch: %llu samples in 60 s of clock (exactly %u x 60), %llu underruns\n",
			   runs[k].rate, runs[k].ch, r.dev->func[f].clock.samples_done,
			   runs[k].rate * runs[k].ch, r.dev->src[runs[k].src].underruns);
	}
}

static struct kunit_case capture_cases[] = {
	KUNIT_CASE(capture_bytes_in_order),
	KUNIT_CASE(capture_underrun_is_silence),
	KUNIT_CASE(capture_mic_rate_and_gain),
	KUNIT_CASE(capture_record_path),
	KUNIT_CASE(capture_dma_error_writes_nothing),
	KUNIT_CASE(capture_pause_resume_exact),
	KUNIT_CASE(capture_source_follows_rate),
	KUNIT_CASE(capture_rate_60s),
	{}
};

static struct kunit_suite capture_suite = {
	.name = "ac97_capture",
	.test_cases = capture_cases,
};

kunit_test_suites(&capture_suite);
