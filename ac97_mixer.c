// SPDX-License-Identifier: GPL-2.0
/*
 * The AC'97 2.3 codec behind the ICH: a SigmaTel STAC9700-compatible
 * stereo codec with variable rate DAC/ADC and 5-bit volume controls, and the
 * gain maths that applies its master and PCM-out volume to the stream and
 * its record path to what is captured.
 *
 * Locking: none here. The caller holds the device lock.
 */
#include <linux/kernel.h>
#include <linux/minmax.h>

#include "ac97.h"

enum {
	ATT_NONE,
	ATT_STEREO,	/* two 5-bit attenuators at bits 12:8 and 4:0 */
	ATT_MONO,	/* one 5-bit attenuator at bits 4:0 */
	ATT_POWER,	/* power-down control/status */
	ATT_RATE,	/* sample rate, needs VRA */
	ATT_MIC_RATE,	/* sample rate, needs VRM */
	ATT_EXT_CTRL,	/* extended audio status/control */
};

struct mixer_reg {
	u16 reset;
	u16 writable;
	u8 kind;
};

#define AC97_RATE_48K 48000

/*
 * Registers a driver can write, with their hardware reset values. Anything
 * absent is an unimplemented register: it reads 0 and ignores writes, as on a
 * codec without that feature. The reset register reports no optional
 * capability (no tone, no 3D, no dedicated mic ADC, no headphone-specific
 * feature bits), so drivers do not look for them.
 */
static const struct mixer_reg mixer_regs[AC97_CODEC_REGS / 2] = {
	[AC97_MASTER / 2]		= { 0x8000, 0x9f1f, ATT_STEREO },
	[AC97_HEADPHONE / 2]		= { 0x8000, 0x9f1f, ATT_STEREO },
	[AC97_MASTER_MONO / 2]		= { 0x8000, 0x801f, ATT_MONO },
	[AC97_PC_BEEP / 2]		= { 0x0000, 0x801e, ATT_NONE },
	[AC97_PHONE / 2]		= { 0x8008, 0x801f, ATT_NONE },
	[AC97_MIC / 2]			= { 0x8008, 0x805f, ATT_NONE },
	[AC97_LINE / 2]			= { 0x8808, 0x9f1f, ATT_NONE },
	[AC97_CD / 2]			= { 0x8808, 0x9f1f, ATT_NONE },
	[AC97_VIDEO / 2]		= { 0x8808, 0x9f1f, ATT_NONE },
	[AC97_AUX / 2]			= { 0x8808, 0x9f1f, ATT_NONE },
	[AC97_PCM_OUT / 2]		= { 0x8808, 0x9f1f, ATT_NONE },
	[AC97_REC_SEL / 2]		= { 0x0000, 0x0707, ATT_NONE },
	[AC97_REC_GAIN / 2]		= { 0x8000, 0x8f0f, ATT_NONE },
	[AC97_GENERAL_PURPOSE / 2]	= { 0x0000, 0x8380, ATT_NONE },
	[AC97_POWERDOWN / 2]		= { 0x000f, 0xff00, ATT_POWER },
	[AC97_EXTENDED_ID / 2]		= { 0x0809, 0x0000, ATT_NONE },
	[AC97_EXTENDED_STATUS / 2]	= { 0x0000, 0x0009, ATT_EXT_CTRL },
	[AC97_PCM_FRONT_DAC_RATE / 2]	= { 0xbb80, 0xffff, ATT_RATE },
	[AC97_PCM_LR_ADC_RATE / 2]	= { 0xbb80, 0xffff, ATT_RATE },
	[AC97_PCM_MIC_ADC_RATE / 2]	= { 0xbb80, 0xffff, ATT_MIC_RATE },
	[AC97_VENDOR_ID1 / 2]		= { 0x8384, 0x0000, ATT_NONE },
	[AC97_VENDOR_ID2 / 2]		= { 0x7600, 0x0000, ATT_NONE },
};

/* The rates the converters run at; others round to the nearest of these. */
static const u16 codec_rates[] = {
	8000, 11025, 16000, 22050, 32000, 44100, 48000,
};

void ac97_mixer_reset(struct ac97_mixer *mixer)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mixer->regs); i++)
		mixer->regs[i] = mixer_regs[i].reset;
}

u16 ac97_mixer_read(const struct ac97_mixer *mixer, unsigned int reg)
{
	if (reg >= AC97_CODEC_REGS)
		return 0;
	return mixer->regs[reg / 2];
}

/* A 6-bit attenuation written to a 5-bit control saturates at 0x1f. */
static u16 clamp_attenuator(u16 val, unsigned int shift)
{
	u16 field = (val >> shift) & 0x3f;

	val &= ~(0x3f << shift);
	return val | (min_t(u16, field, 0x1f) << shift);
}

static u16 round_rate(u16 rate)
{
	unsigned int i, best = 0;

	for (i = 1; i < ARRAY_SIZE(codec_rates); i++)
		if (abs(rate - codec_rates[i]) < abs(rate - codec_rates[best]))
			best = i;
	return codec_rates[best];
}

void ac97_mixer_write(struct ac97_mixer *mixer, unsigned int reg, u16 val)
{
	const struct mixer_reg *desc;
	u16 *cur, ext;

	if (reg >= AC97_CODEC_REGS || (reg & 1))
		return;
	if (reg == AC97_RESET) {
		ac97_mixer_reset(mixer);
		return;
	}
	desc = &mixer_regs[reg / 2];
	cur = &mixer->regs[reg / 2];
	ext = mixer->regs[AC97_EXTENDED_STATUS / 2];

	switch (desc->kind) {
	case ATT_STEREO:
		val = clamp_attenuator(clamp_attenuator(val, 8), 0);
		break;
	case ATT_MONO:
		val = clamp_attenuator(val, 0);
		break;
	case ATT_POWER:
		/* Each of PR0-PR3 powers down the part whose ready bit it mirrors. */
		*cur = (val & desc->writable) |
		       (AC97_PD_READY_MASK & ~(val >> 8));
		return;
	case ATT_RATE:
		if (!(ext & AC97_EA_VRA))
			return;
		val = round_rate(val);
		break;
	case ATT_MIC_RATE:
		if (!(ext & AC97_EA_VRM))
			return;
		val = round_rate(val);
		break;
	case ATT_EXT_CTRL:
		/* Leaving variable rate mode puts the converters back at 48 kHz. */
		if (!(val & AC97_EA_VRA)) {
			mixer->regs[AC97_PCM_FRONT_DAC_RATE / 2] = AC97_RATE_48K;
			mixer->regs[AC97_PCM_LR_ADC_RATE / 2] = AC97_RATE_48K;
		}
		if (!(val & AC97_EA_VRM))
			mixer->regs[AC97_PCM_MIC_ADC_RATE / 2] = AC97_RATE_48K;
		break;
	}
	*cur = (*cur & ~desc->writable) | (val & desc->writable);
}

u32 ac97_mixer_dac_rate(const struct ac97_mixer *mixer)
{
	return mixer->regs[AC97_PCM_FRONT_DAC_RATE / 2];
}

/*
 * 10^(-1.5 * k / 20) in Q16 for k = -23..54: the 1.5 dB steps of the codec's
 * controls, from +34.5 dB (record gain and mic volume both at maximum) down
 * to -81 dB (master and PCM out both at minimum). Made with
 * round(65536 * 10 ** (-1.5 * k / 20)).
 */
#define GAIN_STEP_MIN	(-23)
#define GAIN_STEP_MAX	54
static const u32 gain_q16[GAIN_STEP_MAX - GAIN_STEP_MIN + 1] = {
	3479204, 2927386, 2463088, 2072430, 1743733, 1467168, 1234468, 1038676,
	873937, 735326, 618700, 520571, 438006, 368536, 310084,
	260904, 219523, 184706, 155410, 130762, 110022, 92572, 77890,
	65536, 55142, 46396, 39037, 32846, 27636, 23253, 19565,
	16462, 13851, 11654, 9806, 8250, 6942, 5841, 4915,
	4135, 3479, 2927, 2463, 2072, 1744, 1467, 1234,
	1039, 874, 735, 619, 521, 438, 369, 310,
	261, 220, 185, 155, 131, 110, 93, 78,
	66, 55, 46, 39, 33, 28, 23, 20,
	16, 14, 12, 10, 8, 7, 6,
};

/* Gain of @steps 1.5 dB steps of attenuation (negative: amplification). */
u32 ac97_gain_q16(int steps)
{
	steps = clamp(steps, GAIN_STEP_MIN, GAIN_STEP_MAX);
	return gain_q16[steps - GAIN_STEP_MIN];
}

/*
 * Line out = PCM out volume (0x08 is 0 dB, 1.5 dB steps, +12 dB at 0) then
 * master attenuation (1.5 dB steps from 0 dB). Either mute silences both
 * channels.
 */
void ac97_mixer_gain(const struct ac97_mixer *mixer, struct ac97_gain *gain)
{
	u16 master = mixer->regs[AC97_MASTER / 2];
	u16 pcm = mixer->regs[AC97_PCM_OUT / 2];

	if ((master | pcm) & AC97_MUTE) {
		gain->left = 0;
		gain->right = 0;
		return;
	}
	gain->left = ac97_gain_q16(((master >> 8) & 0x1f) +
				   ((pcm >> 8) & 0x1f) - 8);
	gain->right = ac97_gain_q16((master & 0x1f) + (pcm & 0x1f) - 8);
}

static s16 scale_sample(s16 sample, u32 gain)
{
	s64 v = ((s64)sample * gain + 0x8000) >> 16;

	return clamp_t(s64, v, S16_MIN, S16_MAX);
}

#define REC_SEL_MIC		0
#define REC_SEL_LINE		4
#define REC_SEL_STEREO_MIX	5
#define REC_SEL_MONO_MIX	6
#define MIC_BOOST		BIT(6)	/* +20 dB: exactly x10 */

/* The mic control (0x0E): +12 dB to -34.5 dB, 0x08 = 0 dB, after @steps more. */
static u32 mic_gain(u16 mic, int steps)
{
	if (mic & AC97_MUTE)
		return 0;
	return ac97_gain_q16(steps + (mic & 0x1f) - 8) * ((mic & MIC_BOOST) ? 10 : 1);
}

/**
 * ac97_mixer_capture_path() - what the codec does to what a capture function records
 * @mixer: the codec
 * @mic_in: the path of mic in (else: PCM in)
 * @path: out: per channel, the input and the gain
 *
 * There are two host streams: line (stereo) feeds PCM in, mic (mono) feeds
 * mic in. For PCM in, record select (0x1A) picks per channel what its ADC
 * hears: line in and stereo mix are that channel of the line stream; mic and
 * mono mix are the line stream's mono mix, the mic through the mic control;
 * CD, video, aux and phone have nothing plugged in. Record gain (0x1C) adds
 * 0 to +22.5 dB in 1.5 dB steps, or mutes. Mic in hears the mic stream
 * through the mic control (0x0E: +12 to -34.5 dB, mute, +20 dB boost).
 */
void ac97_mixer_capture_path(const struct ac97_mixer *mixer, bool mic_in,
			     struct ac97_capture_path *path)
{
	u16 sel = mixer->regs[AC97_REC_SEL / 2];
	u16 rec = mixer->regs[AC97_REC_GAIN / 2];
	u16 mic = mixer->regs[AC97_MIC / 2];
	unsigned int c, shift;
	int steps;

	for (c = 0; c < 2; c++) {
		if (mic_in) {
			path->input[c] = AC97_REC_MONO;
			path->gain[c] = mic_gain(mic, 0);
			continue;
		}
		shift = c ? 0 : 8;
		steps = -(int)((rec >> shift) & 0xf);
		switch ((sel >> shift) & 7) {
		case REC_SEL_MIC:
			path->input[c] = AC97_REC_MONO;
			path->gain[c] = mic_gain(mic, steps);
			break;
		case REC_SEL_LINE:
		case REC_SEL_STEREO_MIX:
			path->input[c] = AC97_REC_LINE;
			path->gain[c] = ac97_gain_q16(steps);
			break;
		case REC_SEL_MONO_MIX:
			path->input[c] = AC97_REC_MONO;
			path->gain[c] = ac97_gain_q16(steps);
			break;
		default:
			path->input[c] = AC97_REC_SILENT;
			path->gain[c] = 0;
			break;
		}
		if (rec & AC97_MUTE)
			path->gain[c] = 0;
	}
}

/* Capture channel @channel (0 = left) of the frame @left, @right. */
s16 ac97_capture_sample(const struct ac97_capture_path *path,
			unsigned int channel, s16 left, s16 right)
{
	s16 in;

	switch (path->input[channel]) {
	case AC97_REC_LINE:
		in = channel ? right : left;
		break;
	case AC97_REC_MONO:
		in = ((s32)left + right) >> 1;
		break;
	default:
		return 0;
	}
	if (path->gain[channel] == 0x10000)
		return in;
	return scale_sample(in, path->gain[channel]);
}

/*
 * Scale @count little-endian samples in place. Even channels take the left
 * gain, odd ones the right; @first_channel is the channel of samples[0].
 */
void ac97_apply_gain(s16 *samples, size_t count, unsigned int first_channel,
		     unsigned int channels, const struct ac97_gain *gain)
{
	unsigned int ch = first_channel;
	size_t i;

	if (gain->left == 0x10000 && gain->right == 0x10000)
		return;
	for (i = 0; i < count; i++) {
		s16 s = le16_to_cpu((__force __le16)samples[i]);

		s = scale_sample(s, (ch & 1) ? gain->right : gain->left);
		samples[i] = (__force s16)cpu_to_le16(s);
		if (++ch == channels)
			ch = 0;
	}
}
