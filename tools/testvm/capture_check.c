// SPDX-License-Identifier: GPL-2.0
/*
 * ac97-testvm's capture mode: the host writers and the checks of what the
 * guest recorded (see capture_check.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ac97_emu.h>
#include "testvm_proto.h"
#include "capture_check.h"

#define CHUNK_SAMPLES	2048

/* Write the pattern until the device goes away (-ENODEV) or anything fails. */
static void *writer_main(void *arg)
{
	struct cap_writer *w = arg;
	uint16_t buf[CHUNK_SAMPLES];
	struct ac97_pcm_format fmt;
	int fd, i;

	fd = open(w->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, AC97_PCM_SET_SOURCE, w->source) < 0 ||
	    ioctl(fd, AC97_PCM_GET_SOURCE_FORMAT, &fmt) < 0) {
		w->error = errno;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	w->rate = fmt.rate;
	w->channels = fmt.channels;
	for (;;) {
		ssize_t n;

		for (i = 0; i < CHUNK_SAMPLES; i++)
			buf[i] = cap_pattern(w, w->written + i);
		n = write(fd, buf, sizeof(buf));
		if (n < 0) {
			w->error = errno;
			break;
		}
		if (n % 2) {		/* never: the source takes what fits */
			w->error = EPROTO;
			break;
		}
		w->written += n / 2;
		/* Whatever was not taken goes again, from where it stopped. */
	}
	close(fd);
	return NULL;
}

int cap_writer_start(struct cap_writer *w)
{
	return pthread_create(&w->thread, NULL, writer_main, w);
}

/*
 * @rec holds @samples as the guest recorded them at @gpa: silence first
 * (the writer may start after the function), then the writer's pattern
 * from its first sample on, every sample, to the end. @dirty is KVM's dirty
 * bitmap of the slot at 0, taken after the guest finished.
 */
void cap_check(const struct cap_writer *w, const uint16_t *rec, uint32_t samples,
	       uint64_t gpa, const unsigned long *dirty, struct cap_verdict *v)
{
	const unsigned int bits = 8 * sizeof(unsigned long);
	uint64_t page;
	uint32_t i;

	memset(v, 0, sizeof(*v));
	while (v->lead_silence < samples && rec[v->lead_silence] == 0)
		v->lead_silence++;
	for (i = v->lead_silence; i < samples; i++) {
		if (rec[i] == cap_pattern(w, i - v->lead_silence)) {
			v->matched++;
		} else if (!v->mismatches++) {
			v->first_bad = i;
		}
	}
	/* A stereo stream starts on a frame: silence is whole frames. */
	if (w->channels == 2 && v->lead_silence % 2 && !v->mismatches)
		v->mismatches = 1, v->first_bad = v->lead_silence;
	for (page = gpa >> 12; page <= (gpa + samples * 2 - 1) >> 12; page++) {
		v->pages++;
		v->dirty += (dirty[page / bits] >> (page % bits)) & 1;
	}
}
