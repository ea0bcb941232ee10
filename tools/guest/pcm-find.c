// SPDX-License-Identifier: GPL-2.0
/*
 * pcm-find: is a reference WAV, whole and exact, inside a recording?
 *
 *   pcm-find RECORDING.wav REFERENCE.wav
 *
 * Both S16_LE at the same rate. Finds the reference's first samples in the
 * recording by exact search (at a frame boundary when both have the same
 * channels; else, as for snd_intel8x0's MIC ADC, which calls the mono mic
 * stream two channels, as sample streams), then compares every sample of
 * the reference with the recording from there: nothing dropped, duplicated
 * or changed. What comes before (a recorder that started first) must be
 * silence. Prints one line; exit 0 only if all of that holds.
 */
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

int main(int argc, char **argv)
{
	struct wav rec = { 0 }, ref = { 0 };
	size_t step, at, i, lead, n, total, bad = 0;

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
	for (at = 0; at + n <= total; at += step)
		if (!memcmp(rec.s + at, ref.s, 16 * ref.channels * 2))
			break;
	if (at + n > total) {
		printf("FAIL: the reference's first 16 frames are not in the %zu-sample recording\n",
		       total);
		return 1;
	}
	for (i = 0; i < n; i++)
		bad += rec.s[at + i] != ref.s[i];
	for (lead = 0; lead < at && rec.s[lead] == 0; lead++)
		;
	printf("%s: %zu samples (%u Hz, %u ch) found at sample %zu of %zu (%u ch), %zu differ, %s before\n",
	       !bad && lead == at ? "PASS" : "FAIL", n, ref.rate, ref.channels, at, total,
	       rec.channels, bad, lead == at ? "silence" : "NOT silence");
	return !bad && lead == at ? 0 : 1;
}
