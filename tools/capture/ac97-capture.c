// SPDX-License-Identifier: GPL-2.0
/*
 * ac97-capture: save what a guest plays on an ac97-emu device, one raw
 * S16_LE file per format segment, named seg-NNN-RATE-CHANNELS.raw, until
 * the device goes away. Waits for the device to appear.
 *
 *   ac97-capture [-d /dev/ac97pcm] [-w SECONDS_TO_WAIT] OUTDIR
 *
 * Prints one line per segment on exit: "SEGMENT n rate channels bytes".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ac97_emu.h>

#define MAX_SEGMENTS 256

int main(int argc, char **argv)
{
	static char buf[65536];
	const char *node = "/dev/ac97pcm";
	struct { unsigned int rate, channels; unsigned long long bytes; } seg[MAX_SEGMENTS];
	struct ac97_pcm_format fmt;
	unsigned int nseg = 0, serial = 0, i;
	int fd = -1, out = -1, opt, wait_s = 30;
	char path[512];
	ssize_t n;

	while ((opt = getopt(argc, argv, "d:w:")) != -1) {
		if (opt == 'd')
			node = optarg;
		else if (opt == 'w')
			wait_s = atoi(optarg);
		else
			optind = argc + 1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: %s [-d NODE] [-w SECONDS] OUTDIR\n", argv[0]);
		return 2;
	}
	for (i = 0; i < (unsigned int)wait_s * 20 && fd < 0; i++) {
		fd = open(node, O_RDONLY);
		if (fd < 0 && errno != ENOENT && errno != ENODEV)
			break;
		if (fd < 0)
			usleep(50000);
	}
	if (fd < 0) {
		fprintf(stderr, "ac97-capture: %s: %s\n", node, strerror(errno));
		return 1;
	}
	for (;;) {
		struct ac97_pcm_read rd = { .buf = (uintptr_t)buf, .len = sizeof(buf) };

		/* One call gives the bytes and the format they are in. */
		if (ioctl(fd, AC97_PCM_READ, &rd) < 0) {
			perror("AC97_PCM_READ");
			return 1;
		}
		if (rd.bytes == 0)
			break;
		fmt = rd.format;
		if (fmt.serial != serial || out < 0) {
			if (nseg == MAX_SEGMENTS)
				break;
			if (out >= 0)
				close(out);
			serial = fmt.serial;
			seg[nseg].rate = fmt.rate;
			seg[nseg].channels = fmt.channels;
			seg[nseg].bytes = 0;
			snprintf(path, sizeof(path), "%s/seg-%03u-%u-%u.raw", argv[optind],
				 nseg, fmt.rate, fmt.channels);
			out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (out < 0) {
				perror(path);
				return 1;
			}
			nseg++;
		}
		n = rd.bytes;
		if (write(out, buf, n) != n) {
			perror("write");
			return 1;
		}
		seg[nseg - 1].bytes += n;
	}
	if (ioctl(fd, AC97_PCM_GET_FORMAT, &fmt) == 0 && fmt.overruns)
		fprintf(stderr, "ac97-capture: %llu overruns, %llu bytes lost\n",
			(unsigned long long)fmt.overruns, (unsigned long long)fmt.lost_bytes);
	for (i = 0; i < nseg; i++)
		printf("SEGMENT %u %u %u %llu\n", i, seg[i].rate, seg[i].channels, seg[i].bytes);
	return 0;
}
