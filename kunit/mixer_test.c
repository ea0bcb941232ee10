// SPDX-License-Identifier: GPL-2.0
/* KUnit: the codec mixer registers, as a driver sees them through NAM, and the gain maths. */
#include "ac97_test.h"

/* Expected power-on value, and values read back after writing 0xffff and 0. */
struct reg_expect {
	u8 reg;
	u16 reset;
	u16 after_ones;
	u16 after_zero;
};

static const struct reg_expect codec_expect[] = {
	{ 0x00, 0x0000, 0x0000, 0x0000 },	/* reset: any write restores */
	{ 0x02, 0x8000, 0x9f1f, 0x0000 },	/* master: 5-bit, saturating */
	{ 0x04, 0x8000, 0x9f1f, 0x0000 },	/* headphone */
	{ 0x06, 0x8000, 0x801f, 0x0000 },	/* mono out */
	{ 0x08, 0x0000, 0x0000, 0x0000 },	/* tone: absent */
	{ 0x0a, 0x0000, 0x801e, 0x0000 },	/* PC beep */
	{ 0x0c, 0x8008, 0x801f, 0x0000 },	/* phone */
	{ 0x0e, 0x8008, 0x805f, 0x0000 },	/* mic, with 20 dB boost */
	{ 0x10, 0x8808, 0x9f1f, 0x0000 },	/* line in */
	{ 0x12, 0x8808, 0x9f1f, 0x0000 },	/* CD */
	{ 0x14, 0x8808, 0x9f1f, 0x0000 },	/* video */
	{ 0x16, 0x8808, 0x9f1f, 0x0000 },	/* aux */
	{ 0x18, 0x8808, 0x9f1f, 0x0000 },	/* PCM out */
	{ 0x1a, 0x0000, 0x0707, 0x0000 },	/* record select */
	{ 0x1c, 0x8000, 0x8f0f, 0x0000 },	/* record gain */
	{ 0x1e, 0x0000, 0x0000, 0x0000 },	/* mic record gain: absent */
	{ 0x20, 0x0000, 0x8380, 0x0000 },	/* general purpose */
	{ 0x22, 0x0000, 0x0000, 0x0000 },	/* 3D: absent */
	{ 0x24, 0x0000, 0x0000, 0x0000 },
	{ 0x26, 0x000f, 0xff00, 0x000f },	/* PR bits clear the ready bits */
	{ 0x28, 0x0809, 0x0809, 0x0809 },	/* ext ID: VRA, VRM, rev 2.3 */
	{ 0x2a, 0x0000, 0x0009, 0x0000 },	/* ext status/control */
	{ 0x2c, 0xbb80, 0xbb80, 0xbb80 },	/* rates: fixed without VRA */
	{ 0x2e, 0x0000, 0x0000, 0x0000 },
	{ 0x30, 0x0000, 0x0000, 0x0000 },
	{ 0x32, 0xbb80, 0xbb80, 0xbb80 },
	{ 0x34, 0xbb80, 0xbb80, 0xbb80 },
	{ 0x7c, 0x8384, 0x8384, 0x8384 },	/* SigmaTel */
	{ 0x7e, 0x7600, 0x7600, 0x7600 },	/* STAC9700 */
};

static struct ac97_dev *codec_dev(struct kunit *test)
{
	struct ac97_dev *dev = fake_dev_new(test, fake_guest_new(test), AC97_DEV_MANUAL);

	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	return dev;
}

static u16 expected_reset(unsigned int reg)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(codec_expect); i++)
		if (codec_expect[i].reg == reg)
			return codec_expect[i].reset;
	return 0;
}

static void mixer_reset_values(struct kunit *test)
{
	struct ac97_dev *dev = codec_dev(test);
	unsigned int reg;

	for (reg = 0; reg < AC97_CODEC_REGS; reg += 2)
		KUNIT_EXPECT_EQ_MSG(test, nam_rw(dev, reg), expected_reset(reg),
				    "codec register %#x", reg);
}

static void mixer_writable_bits(struct kunit *test)
{
	struct ac97_dev *dev = codec_dev(test);
	const struct reg_expect *e;
	unsigned int i, reg;

	for (i = 0; i < ARRAY_SIZE(codec_expect); i++) {
		e = &codec_expect[i];
		nam_ww(dev, AC97_RESET, 0);
		nam_ww(dev, e->reg, 0xffff);
		KUNIT_EXPECT_EQ_MSG(test, nam_rw(dev, e->reg), e->after_ones,
				    "register %#x after 0xffff", e->reg);
		nam_ww(dev, e->reg, 0);
		KUNIT_EXPECT_EQ_MSG(test, nam_rw(dev, e->reg), e->after_zero,
				    "register %#x after 0", e->reg);
	}
	/* Unlisted registers (vendor space) are read-only zeros. */
	for (reg = 0x36; reg < 0x7c; reg += 2) {
		nam_ww(dev, reg, 0xffff);
		KUNIT_EXPECT_EQ_MSG(test, nam_rw(dev, reg), 0, "register %#x", reg);
	}
}

static void mixer_reset_register_restores(struct kunit *test)
{
	struct ac97_dev *dev = codec_dev(test);

	nam_ww(dev, AC97_MASTER, 0x0a0a);
	nam_ww(dev, AC97_PCM_OUT, 0x0101);
	nam_ww(dev, AC97_EXTENDED_STATUS, AC97_EA_VRA);
	nam_ww(dev, AC97_PCM_FRONT_DAC_RATE, 22050);
	nam_ww(dev, AC97_RESET, 0x1234);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_MASTER), 0x8000);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_PCM_OUT), 0x8808);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_EXTENDED_STATUS), 0);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_PCM_FRONT_DAC_RATE), 48000);
}

/* Linux's check_volume_resolution() must find 5 bits on master. */
static void mixer_volume_resolution_probe(struct kunit *test)
{
	struct ac97_dev *dev = codec_dev(test);

	nam_ww(dev, AC97_MASTER, 0x8080 | 0x2020);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_MASTER) & 0x7f, 0x1f);
	nam_ww(dev, AC97_MASTER, 0x8080 | 0x1010);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_MASTER) & 0x7f, 0x10);
	KUNIT_EXPECT_EQ(test, (nam_rw(dev, AC97_MASTER) >> 8) & 0x7f, 0x10);
	/* Each side saturates on its own. */
	nam_ww(dev, AC97_MASTER, 0x2005);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_MASTER), 0x1f05);
}

static void mixer_powerdown_ready(struct kunit *test)
{
	struct ac97_dev *dev = codec_dev(test);

	nam_ww(dev, AC97_POWERDOWN, 0x0100);	/* PR0: ADC */
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_POWERDOWN), 0x010e);
	nam_ww(dev, AC97_POWERDOWN, 0x0200);	/* PR1: DAC */
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_POWERDOWN), 0x020d);
	nam_ww(dev, AC97_POWERDOWN, 0x0c00);	/* PR2, PR3: analog, Vref */
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_POWERDOWN), 0x0c03);
	nam_ww(dev, AC97_POWERDOWN, 0x000f);	/* ready bits are read-only */
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_POWERDOWN), 0x000f);
}

struct rate_case {
	u16 written;
	u16 read;
};

static const struct rate_case rate_cases[] = {
	{ 8000, 8000 }, { 11025, 11025 }, { 16000, 16000 }, { 22050, 22050 },
	{ 32000, 32000 }, { 44100, 44100 }, { 48000, 48000 },
	{ 44000, 44100 }, { 12000, 11025 }, { 7000, 8000 }, { 0, 8000 },
	{ 50000, 48000 }, { 0xffff, 48000 }, { 40000, 44100 }, { 27000, 22050 },
};

static void mixer_variable_rate(struct kunit *test)
{
	static const u8 rate_regs[] = {
		AC97_PCM_FRONT_DAC_RATE, AC97_PCM_LR_ADC_RATE,
	};
	struct ac97_dev *dev = codec_dev(test);
	unsigned int i, r;

	for (r = 0; r < ARRAY_SIZE(rate_regs); r++) {
		nam_ww(dev, AC97_EXTENDED_STATUS, 0);
		nam_ww(dev, rate_regs[r], 44100);
		KUNIT_EXPECT_EQ(test, nam_rw(dev, rate_regs[r]), 48000);
		nam_ww(dev, AC97_EXTENDED_STATUS, AC97_EA_VRA);
		for (i = 0; i < ARRAY_SIZE(rate_cases); i++) {
			nam_ww(dev, rate_regs[r], rate_cases[i].written);
			KUNIT_EXPECT_EQ_MSG(test, nam_rw(dev, rate_regs[r]),
					    rate_cases[i].read, "reg %#x wrote %u",
					    rate_regs[r], rate_cases[i].written);
		}
		nam_ww(dev, rate_regs[r], 16000);
		nam_ww(dev, AC97_EXTENDED_STATUS, 0);
		KUNIT_EXPECT_EQ(test, nam_rw(dev, rate_regs[r]), 48000);
	}
	/* The mic ADC follows VRM, not VRA. */
	nam_ww(dev, AC97_EXTENDED_STATUS, AC97_EA_VRA);
	nam_ww(dev, AC97_PCM_MIC_ADC_RATE, 8000);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_PCM_MIC_ADC_RATE), 48000);
	nam_ww(dev, AC97_EXTENDED_STATUS, AC97_EA_VRM);
	nam_ww(dev, AC97_PCM_MIC_ADC_RATE, 8000);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_PCM_MIC_ADC_RATE), 8000);
}

/* Byte and dword reads see the registers' byte lanes; only word-granular writes land. */
static void mixer_access_widths(struct kunit *test)
{
	struct ac97_dev *dev = codec_dev(test);
	unsigned int off;

	KUNIT_EXPECT_EQ(test, ac97_nam_read(dev, AC97_VENDOR_ID1, 1), 0x84);
	KUNIT_EXPECT_EQ(test, ac97_nam_read(dev, AC97_VENDOR_ID1 + 1, 1), 0x83);
	KUNIT_EXPECT_EQ(test, ac97_nam_read(dev, AC97_VENDOR_ID1, 4), 0x76008384);
	KUNIT_EXPECT_EQ(test, ac97_nam_read(dev, AC97_VENDOR_ID1 + 1, 2), 0x0083);
	KUNIT_EXPECT_EQ(test, ac97_nam_read(dev, AC97_PCM_OUT, 4), 0x00008808);

	ac97_nam_write(dev, AC97_MASTER, 1, 0x05);
	ac97_nam_write(dev, AC97_MASTER + 1, 1, 0x05);
	ac97_nam_write(dev, AC97_MASTER + 1, 2, 0x0505);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_MASTER), 0x8000);
	ac97_nam_write(dev, AC97_MASTER, 4, 0x0a0b0304);	/* master + headphone */
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_MASTER), 0x0304);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_HEADPHONE), 0x0a0b);

	/* No secondary codec: reads time out with all ones and RCS. */
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_STA) & AC97_GS_RCS, 0);
	for (off = AC97_CODEC_REGS; off < AC97_NAM_SIZE; off += 2)
		KUNIT_EXPECT_EQ(test, nam_rw(dev, off), 0xffff);
	KUNIT_EXPECT_EQ(test, ac97_nam_read(dev, 0x7e, 4), 0xffff7600);
	KUNIT_EXPECT_NE(test, bm_rl(dev, AC97_GLOB_STA) & AC97_GS_RCS, 0);
	bm_wl(dev, AC97_GLOB_STA, AC97_GS_RCS);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_STA) & AC97_GS_RCS, 0);
}

/* Under cold reset the codec does not answer, and it comes back at defaults. */
static void mixer_cold_reset(struct kunit *test)
{
	struct ac97_dev *dev = codec_dev(test);

	nam_ww(dev, AC97_MASTER, 0x0000);
	bm_wl(dev, AC97_GLOB_CNT, 0);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_VENDOR_ID1), 0xffff);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_STA) & AC97_GS_PCR, 0);
	nam_ww(dev, AC97_MASTER, 0x0101);
	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	KUNIT_EXPECT_NE(test, bm_rl(dev, AC97_GLOB_STA) & AC97_GS_PCR, 0);
	KUNIT_EXPECT_EQ(test, nam_rw(dev, AC97_MASTER), 0x8000);
}

/* 1.5 dB per step: four steps are 6 dB, a factor of 0.5012. */
static void gain_table_steps(struct kunit *test)
{
	int k;

	KUNIT_EXPECT_EQ(test, ac97_gain_q16(0), 0x10000);
	for (k = -23; k + 4 <= 54; k++) {
		u32 ratio = div_u64((u64)ac97_gain_q16(k + 4) * 100000, ac97_gain_q16(k));

		if (ac97_gain_q16(k + 4) < 2000)
			break;
		KUNIT_EXPECT_GE_MSG(test, ratio, 50070, "step %d", k);
		KUNIT_EXPECT_LE_MSG(test, ratio, 50170, "step %d", k);
	}
	/* +12 dB = 3.981 */
	KUNIT_EXPECT_EQ(test, div_u64((u64)ac97_gain_q16(-8) * 1000, 0x10000), 3981);
	KUNIT_EXPECT_EQ(test, ac97_gain_q16(-100), ac97_gain_q16(-23));
	/* +34.5 dB: record gain and mic volume at their maxima. */
	KUNIT_EXPECT_EQ(test, div_u64((u64)ac97_gain_q16(-23) * 1000, 0x10000), 53088);
	KUNIT_EXPECT_EQ(test, ac97_gain_q16(1000), ac97_gain_q16(54));
}

static void gain_from_mixer(struct kunit *test)
{
	struct ac97_mixer mixer;
	struct ac97_gain gain;

	ac97_mixer_reset(&mixer);
	ac97_mixer_gain(&mixer, &gain);		/* both muted at power-on */
	KUNIT_EXPECT_EQ(test, gain.left, 0);
	KUNIT_EXPECT_EQ(test, gain.right, 0);

	ac97_mixer_write(&mixer, AC97_MASTER, 0x0000);
	ac97_mixer_write(&mixer, AC97_PCM_OUT, 0x0808);
	ac97_mixer_gain(&mixer, &gain);
	KUNIT_EXPECT_EQ(test, gain.left, 0x10000);
	KUNIT_EXPECT_EQ(test, gain.right, 0x10000);

	ac97_mixer_write(&mixer, AC97_MASTER, 0x0300);	/* left -4.5 dB */
	ac97_mixer_write(&mixer, AC97_PCM_OUT, 0x0800 | 0x00);	/* right +12 dB */
	ac97_mixer_gain(&mixer, &gain);
	KUNIT_EXPECT_EQ(test, gain.left, ac97_gain_q16(3));
	KUNIT_EXPECT_EQ(test, gain.right, ac97_gain_q16(-8));

	ac97_mixer_write(&mixer, AC97_PCM_OUT, AC97_MUTE | 0x0808);
	ac97_mixer_gain(&mixer, &gain);
	KUNIT_EXPECT_EQ(test, gain.left, 0);
	KUNIT_EXPECT_EQ(test, gain.right, 0);
}

static void gain_apply_samples(struct kunit *test)
{
	struct ac97_gain unity = { 0x10000, 0x10000 };
	struct ac97_gain boost = { ac97_gain_q16(-8), ac97_gain_q16(-8) };
	struct ac97_gain half = { 0x8000, 0 };
	s16 s[6] = { 32767, -32768, 1, -1, 1000, -1000 };
	s16 orig[6];
	int i;

	memcpy(orig, s, sizeof(s));
	ac97_apply_gain(s, 6, 0, 2, &unity);
	KUNIT_EXPECT_MEMEQ(test, s, orig, sizeof(s));

	ac97_apply_gain(s, 6, 0, 2, &boost);	/* saturates, never wraps */
	KUNIT_EXPECT_EQ(test, s[0], 32767);
	KUNIT_EXPECT_EQ(test, s[1], -32768);
	KUNIT_EXPECT_EQ(test, s[4], 3981);
	KUNIT_EXPECT_EQ(test, s[5], -3981);

	memcpy(s, orig, sizeof(s));
	ac97_apply_gain(s, 6, 0, 2, &half);	/* left halves, right silent */
	KUNIT_EXPECT_EQ(test, s[0], 16384);
	KUNIT_EXPECT_EQ(test, s[2], 1);
	KUNIT_EXPECT_EQ(test, s[4], 500);
	for (i = 1; i < 6; i += 2)
		KUNIT_EXPECT_EQ(test, s[i], 0);

	/* Starting on the right channel (after an odd-length buffer). */
	memcpy(s, orig, sizeof(s));
	ac97_apply_gain(s, 6, 1, 2, &half);
	for (i = 0; i < 6; i += 2)
		KUNIT_EXPECT_EQ(test, s[i], 0);
	KUNIT_EXPECT_EQ(test, s[1], -16384);
}

static struct kunit_case mixer_cases[] = {
	KUNIT_CASE(mixer_reset_values),
	KUNIT_CASE(mixer_writable_bits),
	KUNIT_CASE(mixer_reset_register_restores),
	KUNIT_CASE(mixer_volume_resolution_probe),
	KUNIT_CASE(mixer_powerdown_ready),
	KUNIT_CASE(mixer_variable_rate),
	KUNIT_CASE(mixer_access_widths),
	KUNIT_CASE(mixer_cold_reset),
	{}
};

static struct kunit_suite mixer_suite = {
	.name = "ac97_mixer",
	.test_cases = mixer_cases,
};

static struct kunit_case gain_cases[] = {
	KUNIT_CASE(gain_table_steps),
	KUNIT_CASE(gain_from_mixer),
	KUNIT_CASE(gain_apply_samples),
	{}
};

static struct kunit_suite gain_suite = {
	.name = "ac97_volume",
	.test_cases = gain_cases,
};

kunit_test_suites(&mixer_suite, &gain_suite);
