// SPDX-License-Identifier: GPL-2.0
/* What ac97play and ac97rec share: finding a device's PCM node, a clock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pcm_node.h"

double mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int pcm_node_open(const char *prog, const char *node, int flags, int quiet,
		  int no_wait, volatile sig_atomic_t *stop)
{
	int fd, said = 0;

	while (!*stop) {
		fd = open(node, flags | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno == EACCES || errno == EPERM) {
			fprintf(stderr, "%s: %s: permission denied\n"
				"  hint: /dev/ac97pcmN belongs to the user whose VM it is; "
				"run %s as that user, or use /dev/ac97pcm (your own VM)\n",
				prog, node, prog);
			return -1;
		}
		if (errno != ENOENT && errno != ENODEV) {
			fprintf(stderr, "%s: %s: %s\n", prog, node, strerror(errno));
			return -1;
		}
		if (no_wait) {
			fprintf(stderr, "%s: %s: %s\n", prog, node, errno == ENOENT ?
				"no such device\n  hint: is the module loaded? (modprobe ac97_emu)" :
				"no device attached\n  hint: is a VM of yours with ac97-emu running?");
			return -1;
		}
		if (!said && !quiet)
			fprintf(stderr, "%s: waiting for %s: %s\n", prog, node,
				errno == ENOENT ?
				"no such device (is the module loaded? modprobe ac97_emu)" :
				"no VM has a device attached yet");
		said = 1;
		usleep(20000);	/* readers start where the device is: open soon after it appears */
	}
	return -1;
}
