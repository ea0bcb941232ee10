// SPDX-License-Identifier: GPL-2.0
/*
 * ac97rec: feed what a guest records on an ac97-emu device, from an ALSA
 * capture device or from files; the counterpart of ac97play.
 *
 *   ac97rec [-d NODE] [-m] [-D ALSA_PCM | -i FILE.wav|.flac ...] [-l MS] [-n] [-q|-s]
 *
 * Writes NODE (default /dev/ac97pcm; waits until a device is there), which
 * feeds the line source (PCM in) or, with -m, the mic source (mic in).
 * Resampling is not ours: the guest's rate is asked of the module
 * (AC97_PCM_GET_SOURCE_FORMAT) and followed. Live, the ALSA device (default
 * "default") is opened at the guest's rate and channels, and reopened when
 * the guest changes them. From files (-i, repeatable), each file is fed
 * once the guest records at that file's rate, from its first frame, in the
 * order given; a file's channels are mapped to the source's (mono to both,
 * stereo to mono by averaging). On a terminal, one status line; -q quiet,
 * -s a status line per second for logs. -n: fail at once if there is no
 * device. Ends when the files are fed, on SIGINT/SIGTERM, or when the
 * device goes away.
 */
#define _GNU_SOURCE
#include <alsa/asoundlib.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ac97_emu.h>
#include "../ac97play/pcm_node.h"
#include "../ac97play/play_util.h"

#define MAX_FILES	16
#define CHUNK_FRAMES	480	/* 10 ms at 48 kHz */

static volatile sig_atomic_t stop;

struct feeder {
	int fd;
	const char *node;
	const char *alsa_name;
	unsigned int latency_ms;
	snd_pcm_t *pcm;
	struct ac97_pcm_format fmt;
	unsigned long xruns;
	unsigned long long frames;
	unsigned long long dropped;	/* live frames the guest did not take in time */
	size_t capacity;		/* the source's room when empty, as seen */
	int dropping;			/* over the limit, not yet down to half */
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int source_format(struct feeder *f)
{
	if (ioctl(f->fd, AC97_PCM_GET_SOURCE_FORMAT, &f->fmt) == 0)
		return 0;
	fprintf(stderr, "ac97rec: %s: %s\n", f->node, strerror(errno));
	return -1;
}

/* The node says so (EPOLLHUP) once its device is gone. */
static int device_gone(struct feeder *f)
{
	struct pollfd p = { .fd = f->fd, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* Write all of @bytes, waiting for room; -1 when the device has gone. */
static int feed(struct feeder *f, const void *buf, size_t bytes)
{
	const char *p = buf;
	ssize_t n;

	while (bytes && !stop) {
		n = write(f->fd, p, bytes);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != ENODEV)
				fprintf(stderr, "ac97rec: %s: %s\n", f->node, strerror(errno));
			return -1;
		}
		p += n;
		bytes -= n;
	}
	return 0;
}

/* @in (@in_ch channels) to the source's channels, into @out. */
static void map_channels(const int16_t *in, unsigned int in_ch, int16_t *out,
			 unsigned int out_ch, size_t frames)
{
	size_t i;

	for (i = 0; i < frames; i++) {
		int l = in[i * in_ch], r = in[i * in_ch + (in_ch > 1)];

		if (out_ch == 1) {
			out[i] = (int16_t)((l + r) >> 1);
		} else {
			out[2 * i] = (int16_t)l;
			out[2 * i + 1] = (int16_t)r;
		}
	}
}

static void status(const struct feeder *f, const int16_t *buf, size_t frames,
		   double start, int newline)
{
	unsigned int peaks[2] = { 0 };
	char left[21], right[21];
	double t = mono_seconds() - start;

	peak_levels(buf, frames * f->fmt.channels, f->fmt.channels, peaks);
	meter_bar(peak_dbfs(peaks[0]), 20, left);
	meter_bar(peak_dbfs(peaks[f->fmt.channels > 1]), 20, right);
	fprintf(stderr, "%s%5u Hz %uch  L %s R %s  underruns %llu  xruns %lu  dropped %llu  %02d:%02d %s",
		newline ? "" : "\r", f->fmt.rate, f->fmt.channels, left, right,
		(unsigned long long)f->fmt.overruns, f->xruns, f->dropped, (int)t / 60, (int)t % 60,
		newline ? "\n" : "");
}

/* Feed @path once the guest records at its rate. 1: the device has gone. */
static int feed_file(struct feeder *f, const char *path, int quiet, int log_status)
{
	static int16_t in[CHUNK_FRAMES * 8], out[CHUNK_FRAMES * 2];
	SF_INFO info = { 0 };
	double start = mono_seconds(), shown = 0;
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	sf_count_t n;
	int said = 0, rc = 0;

	if (!sf || info.channels < 1 || info.channels > 8) {
		fprintf(stderr, "ac97rec: %s: %s\n", path, sf ? "unsupported channels" : sf_strerror(NULL));
		if (sf)
			sf_close(sf);
		return -1;
	}
	while (!stop) {
		if (source_format(f)) {
			rc = 1;
			break;
		}
		if (f->fmt.rate == (unsigned int)info.samplerate)
			break;
		if (device_gone(f)) {
			rc = 1;
			break;
		}
		if (!said && !quiet)
			fprintf(stderr, "ac97rec: %s is %d Hz; waiting for the guest to record at it (now %u Hz)\n",
				path, info.samplerate, f->fmt.rate);
		said = 1;
		usleep(5000);
	}
	while (!stop && !rc && (n = sf_readf_short(sf, in, CHUNK_FRAMES)) > 0) {
		map_channels(in, info.channels, out, f->fmt.channels, n);
		if (feed(f, out, n * 2 * f->fmt.channels)) {
			rc = 1;
			break;
		}
		f->frames += n;
		if (!quiet && mono_seconds() - shown > (log_status ? 1.0 : 0.1) && !source_format(f)) {
			status(f, out, n, start, log_status);
			shown = mono_seconds();
		}
	}
	sf_close(sf);
	return rc;
}

static void alsa_quiet(const char *file, int line, const char *function, int err,
		       const char *fmt, ...)
{
	(void)file; (void)line; (void)function; (void)err; (void)fmt;
}

static int start_on_first_read(snd_pcm_t *pcm)
{
	snd_pcm_sw_params_t *sw;
	int err;

	snd_pcm_sw_params_alloca(&sw);
	err = snd_pcm_sw_params_current(pcm, sw);
	if (!err)
		err = snd_pcm_sw_params_set_start_threshold(pcm, sw, 1);
	if (!err)
		err = snd_pcm_sw_params(pcm, sw);
	return err;
}

/* Open the ALSA device at the guest's format; say why not if @report. */
static int open_capture(struct feeder *f, int report)
{
	int err;

	if (f->pcm)
		snd_pcm_close(f->pcm);
	f->pcm = NULL;
	/* A retry says nothing: alsa-lib's own messages too. */
	snd_lib_error_set_handler(report ? NULL : alsa_quiet);
	err = snd_pcm_open(&f->pcm, f->alsa_name, SND_PCM_STREAM_CAPTURE, 0);
	if (!err)
		err = snd_pcm_set_params(f->pcm, SND_PCM_FORMAT_S16_LE,
					 SND_PCM_ACCESS_RW_INTERLEAVED, f->fmt.channels,
					 f->fmt.rate, 1, f->latency_ms * 1000);
	/*
	 * snd_pcm_set_params() puts the start threshold near the buffer's
	 * size, also for capture: a read of one chunk would wait for a start
	 * that never comes (EIO after 10 s). Any read starts it.
	 */
	if (!err)
		err = start_on_first_read(f->pcm);
	snd_lib_error_set_handler(NULL);
	if (err && !report) {
		if (f->pcm)
			snd_pcm_close(f->pcm);
		f->pcm = NULL;
		return -1;
	}
	if (err) {
		fprintf(stderr, "ac97rec: ALSA device '%s' at %u Hz %u ch: %s; retrying, the guest records silence meanwhile\n",
			f->alsa_name, f->fmt.rate, f->fmt.channels, snd_strerror(err));
		if (err == -EBUSY)
			fprintf(stderr, "  hint: another program holds it; try -D default, or stop that program\n");
		else if (err == -ENOENT || err == -ENODEV)
			fprintf(stderr, "  hint: list capture devices with 'arecord -L'\n");
		if (f->pcm)
			snd_pcm_close(f->pcm);
		f->pcm = NULL;
		return -1;
	}
	return 0;
}

/*
 * Live audio stays live: at most twice the ALSA latency (at least two
 * chunks) waits in the source. What the guest does not take in time (it is
 * not recording, or its clock is slower than the ALSA device's) is dropped
 * here, rather than queued for a recording to come (up to 340 ms old) or
 * lost to an ALSA overrun while a full source blocks us. Once over that
 * limit, we drop until the source is down to half of it: a recording then
 * runs with the latency's worth of slack both ways (a late guest, a late
 * us), where it would start at the limit and drop on the guest's first
 * late step.
 */
static int too_much_queued(struct feeder *f, size_t bytes)
{
	size_t room = f->fmt.bytes_ready, frame = 2 * f->fmt.channels;
	size_t limit = (size_t)f->latency_ms * f->fmt.rate / 1000 * 2 * frame;
	size_t queued;

	if (room > f->capacity)
		f->capacity = room;
	if (limit < 2 * CHUNK_FRAMES * frame)
		limit = 2 * CHUNK_FRAMES * frame;
	queued = f->capacity - room + bytes;
	if (queued > limit)
		f->dropping = 1;
	else if (queued <= limit / 2)
		f->dropping = 0;
	return f->dropping;
}

/*
 * Live: ALSA capture at the guest's format, reopened when it changes. A
 * device that cannot open at that format (busy, or a loopback whose other
 * end runs at another rate) is retried, reported once per format; one that
 * fails a read (a loopback's other end restarted at another format) is
 * reopened.
 */
static int feed_live(struct feeder *f, int quiet, int log_status)
{
	static int16_t buf[CHUNK_FRAMES * 2];
	double start = mono_seconds(), shown = 0;
	uint32_t serial = 0;
	snd_pcm_sframes_t n;
	int reported = 0;

	while (!stop) {
		if (source_format(f))
			return 1;
		if (f->fmt.serial != serial || !f->pcm) {
			if (f->fmt.serial != serial)
				reported = 0;
			serial = f->fmt.serial;
			if (open_capture(f, !reported)) {
				reported = 1;
				if (device_gone(f))
					return 1;
				usleep(200000);
				continue;
			}
			if (log_status)
				fprintf(stderr, "ac97rec: ALSA device '%s' open at %u Hz %u ch\n",
					f->alsa_name, f->fmt.rate, f->fmt.channels);
		}
		n = snd_pcm_readi(f->pcm, buf, CHUNK_FRAMES);
		if (n == -EPIPE || n == -ESTRPIPE) {
			f->xruns++;
			if (snd_pcm_recover(f->pcm, n, 1) < 0)
				return -1;
			continue;
		}
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0) {
			/* e.g. EIO: a loopback's other end started at another format */
			if (!reported)
				fprintf(stderr, "ac97rec: ALSA read: %s (state %s); reopening\n", snd_strerror(n),
					snd_pcm_state_name(snd_pcm_state(f->pcm)));
			reported = 1;
			snd_pcm_close(f->pcm);
			f->pcm = NULL;
			usleep(200000);
			continue;
		}
		if (too_much_queued(f, n * 2 * f->fmt.channels)) {
			if (device_gone(f))	/* no write to tell us */
				return 1;
			f->dropped += n;
		} else if (feed(f, buf, n * 2 * f->fmt.channels)) {
			return 1;
		} else {
			f->frames += n;
		}
		if (!quiet && mono_seconds() - shown > (log_status ? 1.0 : 0.1)) {
			status(f, buf, n, start, log_status);
			shown = mono_seconds();
		}
	}
	return 0;
}

static int open_node(struct feeder *f, int mic, int quiet, int no_wait)
{
	f->fd = pcm_node_open("ac97rec", f->node, O_WRONLY, quiet, no_wait, &stop);
	if (f->fd < 0)
		return -1;
	if (ioctl(f->fd, AC97_PCM_SET_SOURCE, mic ? AC97_PCM_SOURCE_MIC : AC97_PCM_SOURCE_LINE)) {
		fprintf(stderr, "ac97rec: %s: %s source: %s%s\n", f->node, mic ? "mic" : "line",
			strerror(errno), errno == EBUSY ? "\n  hint: another ac97rec feeds it" : "");
		close(f->fd);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct feeder f = { .fd = -1, .node = "/dev/ac97pcm", .alsa_name = "default",
			    .latency_ms = 30 };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *files[MAX_FILES];
	int opt, nfiles = 0, mic = 0, quiet = 0, log_status = 0, no_wait = 0, rc = 0, i;

	while ((opt = getopt(argc, argv, "d:D:i:l:mnqsh")) != -1) {
		switch (opt) {
		case 'd': f.node = optarg; break;
		case 'D': f.alsa_name = optarg; break;
		case 'i':
			if (nfiles == MAX_FILES) {
				fprintf(stderr, "ac97rec: at most %d files\n", MAX_FILES);
				return 2;
			}
			files[nfiles++] = optarg;
			break;
		case 'l': f.latency_ms = atoi(optarg); break;
		case 'm': mic = 1; break;
		case 'q': quiet = 1; break;
		case 's': log_status = 1; break;
		case 'n': no_wait = 1; break;
		default:
			fprintf(stderr, "usage: %s [-d NODE] [-m] [-D ALSA_PCM | -i FILE.wav|.flac ...] [-l MS] [-n] [-q|-s]\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!isatty(STDERR_FILENO) && !log_status)
		quiet = 1;
	if (open_node(&f, mic, quiet, no_wait))
		return stop ? 0 : 1;
	if (nfiles) {
		for (i = 0; i < nfiles && !rc && !stop; i++)
			rc = feed_file(&f, files[i], quiet, log_status);
	} else {
		rc = feed_live(&f, quiet, log_status);
	}
	if (!quiet && !log_status)
		fputc('\n', stderr);
	if (!source_format(&f) && (f.fmt.overruns || f.xruns || f.dropped))
		fprintf(stderr, "ac97rec: the guest recorded %llu underruns (%llu bytes of silence), %lu ALSA overruns, %llu frames dropped (not taken in time)\n",
			(unsigned long long)f.fmt.overruns, (unsigned long long)f.fmt.lost_bytes, f.xruns,
			f.dropped);
	if (f.pcm)
		snd_pcm_close(f.pcm);
	close(f.fd);
	/* The device going away ends a feed normally. */
	return rc < 0 ? 1 : 0;
}
