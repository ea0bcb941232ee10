/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ac97-testvm's capture mode (-C): host writers feed the device's two
 * capture sources through its PCM node, and afterwards the recorded guest
 * memory and KVM's dirty log are checked against what they wrote.
 */
#ifndef CAPTURE_CHECK_H
#define CAPTURE_CHECK_H

#include <pthread.h>
#include <stdint.h>

/* One host writer: a PCM node open for writing, fed with a known pattern. */
struct cap_writer {
	char path[64];
	int source;		/* AC97_PCM_SOURCE_LINE or _MIC */
	uint16_t xor;		/* tells the two streams apart */
	uint32_t rate;		/* what the device announced */
	uint32_t channels;
	uint64_t written;	/* samples */
	int error;		/* errno that ended it (ENODEV: the device went) */
	pthread_t thread;
};

/* What one function recorded, against its writer's pattern. */
struct cap_verdict {
	uint32_t lead_silence;	/* samples of silence before the pattern */
	uint32_t matched;	/* samples equal to the pattern after that */
	uint32_t mismatches;
	uint32_t first_bad;
	uint32_t pages;		/* pages of the buffers */
	uint32_t dirty;		/* ... that KVM's dirty log has */
};

static inline uint16_t cap_pattern(const struct cap_writer *w, uint64_t i)
{
	return tv_pattern((uint32_t)i) ^ w->xor;
}

int cap_writer_start(struct cap_writer *w);
void cap_check(const struct cap_writer *w, const uint16_t *rec, uint32_t samples,
	       uint64_t gpa, const unsigned long *dirty, struct cap_verdict *v);

#endif /* CAPTURE_CHECK_H */
