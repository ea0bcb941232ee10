// SPDX-License-Identifier: GPL-2.0
/*
 * pcm-find: is a reference WAV, whole and exact, inside a recording?
 *
 *   pcm-find RECORDING.wav REFERENCE.wav
 *
 * Both S16_LE with the same channels. Finds the reference's first frames in
 * the recording by exact search, then compares every frame of the
 * reference with the recording from there: nothing dropped, duplicated or
 * changed. What comes before (a recorder that started first) must be
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
	size_t ch, at, i, lead, head, bad = 0;

	if (argc != 3 || load(argv[1], &rec) || load(argv[2], &ref))
		return 2;
	ch = ref.channels;
	if (rec.channels != ch || rec.rate != ref.rate || ref.frames < 16) {
		printf("FAIL: recording %u Hz %u ch, reference %u Hz %u ch, %zu frames\n",
		       rec.rate, rec.channels, ref.rate, ref.channels, ref.frames);
		return 1;
	}
	head = 16 * ch;
	for (at = 0; at + ref.frames <= rec.frames; at++)
		if (!memcmp(rec.s + at * ch, ref.s, head * 2))
			break;
	if (at + ref.frames > rec.frames) {
		printf("FAIL: the reference's first 16 frames are not in the %zu-frame recording\n",
		       rec.frames);
		return 1;
	}
	for (i = 0; i < ref.frames * ch; i++)
		bad += rec.s[at * ch + i] != ref.s[i];
	for (lead = 0; lead < at * ch && rec.s[lead] == 0; lead++)
		;
	printf("%s: %zu frames at %u Hz, %u ch, found at frame %zu of %zu, %zu samples differ, %s before\n",
	       !bad && lead == at * ch ? "PASS" : "FAIL", ref.frames, ref.rate, ref.channels, at,
	       rec.frames, bad, lead == at * ch ? "silence" : "NOT silence");
	return !bad && lead == at * ch ? 0 : 1;
}
