// SPDX-License-Identifier: GPL-2.0
/*
 * pcm-find: is a reference WAV, whole and exact, inside a recording?
 *
 *   pcm-find [-a] [-g] RECORDING.wav REFERENCE.wav
 *
 * Both S16_LE at the same rate. Finds the reference's first samples in the
 * recording by exact search (at a frame boundary when both have the same
 * channels; else, as for snd_intel8x0's MIC ADC, which calls the mono mic
 * stream two channels, as sample streams), then compares every sample of
 * the reference with the recording from there: nothing dropped, duplicated
 * or changed. What comes before (a recorder that started first) must be
 * silence, unless -a (a looped stream: anything may come before).
 *
 * -g: the recording went through a gain nobody told us (a codec's record
 * gain): find the reference scaled, measure the gain by least squares over
 * every unclipped sample, and require each sample to be the scaled
 * reference rounded (within 1) or clipped at full scale. Prints the gain
 * in dB with three decimals.
 *
 * Prints one line; exit 0 only if all of that holds.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wav {
	unsigned int rate, channels;
	int16_t *s;
	size_t frames;
};

static uint32_t le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int load(const char *path, struct wav *w)
{
	unsigned char h[12], c[8], fmt[16];
	FILE *f = fopen(path, "rb");
	uint32_t len;

	if (!f || fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
		goto bad;
	while (fread(c, 1, 8, f) == 8) {
		len = le32(c + 4);
		if (!memcmp(c, "fmt ", 4) && len >= 16) {
			if (fread(fmt, 1, 16, f) != 16 || fmt[14] != 16)
				goto bad;
			w->channels = fmt[2] | fmt[3] << 8;
			w->rate = le32(fmt + 4);
			fseek(f, len - 16 + (len & 1), SEEK_CUR);
		} else if (!memcmp(c, "data", 4) && w->channels) {
			/* arecord leaves the length at its maximum when it cannot seek back */
			w->s = malloc(len ? len : 1);
			len = fread(w->s, 1, len, f);
			w->frames = len / 2 / w->channels;
			fclose(f);
			return 0;
		} else {
			fseek(f, len + (len & 1), SEEK_CUR);
		}
	}
bad:
	fprintf(stderr, "pcm-find: %s: not a 16-bit PCM WAV\n", path);
	if (f)
		fclose(f);
	return -1;
}

#define ANCHORS 16

/* The reference times @gain, rounded and clipped as 16-bit PCM. */
static long scaled(int16_t x, double gain)
{
	long v = lround(x * gain);

	return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/* Does @ref times some gain start at @rec? *@gain gets the estimate. */
static int gain_match(const int16_t *rec, const int16_t *ref, const size_t *anchor,
		      double *gain)
{
	double g;
	int k;

	if (!rec[anchor[0]])
		return 0;
	g = (double)rec[anchor[0]] / ref[anchor[0]];
	if (g < 0.5 || g > 64)
		return 0;
	/* One sample's rounding makes g off by at most 0.5 / |ref|. */
	for (k = 1; k < ANCHORS; k++)
		if (labs(rec[anchor[k]] - scaled(ref[anchor[k]], g)) >
		    2 + labs(ref[anchor[k]]) * 0.6 / abs(ref[anchor[0]]))
			return 0;
	*gain = g;
	return 1;
}

struct fit {
	size_t at, bad, clipped;
	double gain;
	long worst;
};

/* How well @ref times a least-squares gain fits the recording at @at. */
static void fit_at(const struct wav *rec, const struct wav *ref, size_t at, struct fit *fit)
{
	size_t n = ref->frames * ref->channels, i;
	double g, sxy = 0, sxx = 0;
	long dev;

	for (i = 0; i < n; i++) {
		if (abs(rec->s[at + i]) >= 32767)
			continue;
		sxy += (double)rec->s[at + i] * ref->s[i];
		sxx += (double)ref->s[i] * ref->s[i];
	}
	g = sxx > 0 ? sxy / sxx : 0;
	*fit = (struct fit){ .at = at, .gain = g };
	for (i = 0; i < n; i++) {
		dev = labs(rec->s[at + i] - scaled(ref->s[i], g));
		fit->clipped += scaled(ref->s[i], g) != lround(ref->s[i] * g);
		fit->bad += dev > 1;
		fit->worst = dev > fit->worst ? dev : fit->worst;
	}
}

/*
 * -g: the first place where the whole reference, scaled, fits; else what
 * the first place that looked like it (a recording cut after it) showed.
 */
static int find_scaled(const struct wav *rec, const struct wav *ref, size_t step)
{
	size_t n = ref->frames * ref->channels, total = rec->frames * rec->channels;
	size_t anchor[ANCHORS], at, i, k = 0;
	struct fit fit, first = { .bad = 1 };
	int candidates = 0;
	double g;

	/* The loudest of the first samples fixes the gain best. */
	for (i = 0; i < n && k < ANCHORS; i++)
		if (abs(ref->s[i]) >= 512)
			anchor[k++] = i;
	if (k < ANCHORS) {
		printf("FAIL: the reference is too quiet to measure a gain with\n");
		return 1;
	}
	for (at = 0; at + n <= total; at += step) {
		if (!gain_match(rec->s + at, ref->s, anchor, &g))
			continue;
		fit_at(rec, ref, at, &fit);
		if (!candidates++)
			first = fit;
		if (!fit.bad)
			break;
	}
	if (!candidates) {
		printf("FAIL: no scaled copy of the reference in the %zu-sample recording\n", total);
		return 1;
	}
	if (fit.bad)
		fit = first;
	printf("%s: gain %+.3f dB: %zu samples (%u Hz, %u ch) found scaled at sample %zu of %zu, worst deviation %ld, %zu beyond 1, %zu clipped\n",
	       fit.bad ? "FAIL" : "PASS", fit.gain > 0 ? 20 * log10(fit.gain) : -999.0, n,
	       ref->rate, ref->channels, fit.at, total, fit.worst, fit.bad, fit.clipped);
	return fit.bad ? 1 : 0;
}

/* Samples of @ref that differ from the recording at @at. */
static size_t differ_at(const struct wav *rec, const struct wav *ref, size_t at)
{
	size_t n = ref->frames * ref->channels, i, bad = 0;

	for (i = 0; i < n; i++)
		bad += rec->s[at + i] != ref->s[i];
	return bad;
}

int main(int argc, char **argv)
{
	struct wav rec = { 0 }, ref = { 0 };
	size_t step, at, lead, n, total, bad = 0, first = SIZE_MAX, first_bad = 0;
	int anywhere = 0, gain = 0;

	while (argc > 1 && argv[1][0] == '-' && argv[1][1] && !argv[1][2]) {
		if (argv[1][1] == 'a')
			anywhere = 1;
		else if (argv[1][1] == 'g')
			gain = 1;
		else
			break;
		argv++;
		argc--;
	}
	if (argc != 3 || load(argv[1], &rec) || load(argv[2], &ref))
		return 2;
	step = rec.channels == ref.channels ? ref.channels : 1;
	n = ref.frames * ref.channels;
	total = rec.frames * rec.channels;
	if (rec.rate != ref.rate || ref.frames < 16) {
		printf("FAIL: recording %u Hz %u ch, reference %u Hz %u ch, %zu frames\n",
		       rec.rate, rec.channels, ref.rate, ref.channels, ref.frames);
		return 1;
	}
	if (gain)
		return find_scaled(&rec, &ref, step);
	/* The first whole copy; else the first start that was cut short. */
	for (at = 0; at + n <= total; at += step) {
		if (memcmp(rec.s + at, ref.s, 16 * ref.channels * 2))
			continue;
		bad = differ_at(&rec, &ref, at);
		if (first == SIZE_MAX) {
			first = at;
			first_bad = bad;
		}
		if (!bad)
			break;
	}
	if (first == SIZE_MAX) {
		printf("FAIL: the reference's first 16 frames are not in the %zu-sample recording\n",
		       total);
		return 1;
	}
	if (bad) {
		at = first;
		bad = first_bad;
	}
	for (lead = 0; lead < at && (anywhere || rec.s[lead] == 0); lead++)
		;
	printf("%s: %zu samples (%u Hz, %u ch) found at sample %zu of %zu (%u ch), %zu differ, %s before\n",
	       !bad && lead == at ? "PASS" : "FAIL", n, ref.rate, ref.channels, at, total,
	       rec.channels, bad, anywhere ? "anything" : lead == at ? "silence" : "NOT silence");
	return !bad && lead == at ? 0 : 1;
}
