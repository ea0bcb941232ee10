// SPDX-License-Identifier: GPL-2.0
/*
 * ac97play: turn what a guest plays on an ac97-emu device into sound on the
 * host, or into a file.
 *
 *   ac97play [-d NODE] [-D ALSA_PCM] [-o FILE.wav|FILE.flac] [-l MS] [-n] [-q|-s]
 *
 * Reads NODE (default /dev/ac97pcm; waits until a device is there) with
 * AC97_PCM_READ, which gives every chunk with its format. Live playback goes
 * to an ALSA PCM (default "default") with a small buffer (-l, default 30 ms
 * of ALSA buffer; the module's ring adds what the reader lags, shown as
 * "lag"). A format change drains the output and reopens it at the new rate,
 * so nothing plays at the wrong speed. With -o, each format segment goes to
 * its own file: FILE, then FILE with .2, .3 ... before the extension.
 * On a terminal, one status line; quiet when stderr is not a terminal or -q
 * (-s: a status line per second even when not a terminal, for logs).
 * -n: fail at once if there is no device, instead of waiting for one.
 * SIGINT/SIGTERM end the output cleanly (a file gets a valid header).
 */
#define _GNU_SOURCE
#include <alsa/asoundlib.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ac97_emu.h>
#include "pcm_node.h"
#include "play_util.h"

static volatile sig_atomic_t stop;

struct out {
	const char *alsa_name;
	const char *file;
	unsigned int latency_ms;
	snd_pcm_t *pcm;
	SNDFILE *sf;
	unsigned int segment;
	unsigned int rate, channels;
	unsigned long xruns;
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void close_out(struct out *o)
{
	if (o->pcm) {
		snd_pcm_uframes_t buffer, period;

		/*
		 * The old format plays out, at its rate. Devices that move whole
		 * periods (snd-aloop, many cards) would drop a last partial one:
		 * pad with a period of silence first.
		 */
		if (!stop && !snd_pcm_get_params(o->pcm, &buffer, &period)) {
			static const int16_t silence[2 * 8 * 1024];
			snd_pcm_uframes_t n = period;

			while (n) {
				snd_pcm_uframes_t k = n < 1024 ? n : 1024;
				snd_pcm_sframes_t w = snd_pcm_writei(o->pcm, silence, k);

				if (w < 0 && snd_pcm_recover(o->pcm, w, 1) < 0)
					break;
				if (w > 0)
					n -= w;
			}
		}
		if (!stop)
			snd_pcm_drain(o->pcm);
		snd_pcm_close(o->pcm);
		o->pcm = NULL;
	}
	if (o->sf) {
		sf_close(o->sf);
		o->sf = NULL;
	}
}

static int open_out(struct out *o, unsigned int rate, unsigned int channels)
{
	char path[4096];
	int err;

	close_out(o);
	o->rate = rate;
	o->channels = channels;
	if (o->file) {
		SF_INFO info = {
			.samplerate = rate, .channels = channels,
			.format = (out_kind_for(o->file) == OUT_FLAC ? SF_FORMAT_FLAC :
				   SF_FORMAT_WAV) | SF_FORMAT_PCM_16,
		};

		if (segment_path(o->file, o->segment++, path, sizeof(path))) {
			fprintf(stderr, "ac97play: output name too long\n");
			return -1;
		}
		o->sf = sf_open(path, SFM_WRITE, &info);
		if (!o->sf) {
			fprintf(stderr, "ac97play: %s: %s\n", path, sf_strerror(NULL));
			return -1;
		}
		return 0;
	}
	err = snd_pcm_open(&o->pcm, o->alsa_name, SND_PCM_STREAM_PLAYBACK, 0);
	if (!err)
		err = snd_pcm_set_params(o->pcm, SND_PCM_FORMAT_S16_LE,
					 SND_PCM_ACCESS_RW_INTERLEAVED, channels, rate,
					 1, o->latency_ms * 1000);
	if (err) {
		fprintf(stderr, "ac97play: ALSA device '%s': %s\n", o->alsa_name, snd_strerror(err));
		if (err == -EBUSY)
			fprintf(stderr, "  hint: another program holds it; try -D default, or stop that program\n");
		else if (err == -ENOENT || err == -ENODEV)
			fprintf(stderr, "  hint: list devices with 'aplay -L'\n");
		return -1;
	}
	return 0;
}

static int write_out(struct out *o, const int16_t *buf, size_t bytes)
{
	snd_pcm_uframes_t frames = bytes / 2 / o->channels;
	snd_pcm_sframes_t w;

	/* Samples, not raw bytes: FLAC has to be encoded. (S16_LE = host order on x86.) */
	if (o->sf)
		return sf_writef_short(o->sf, buf, frames) == (sf_count_t)frames ? 0 : -1;
	while (frames && !stop) {
		w = snd_pcm_writei(o->pcm, buf, frames);
		if (w == -EPIPE || w == -ESTRPIPE) {
			o->xruns++;
			if (snd_pcm_recover(o->pcm, w, 1) < 0)
				return -1;
			continue;
		}
		if (w == -EINTR)
			continue;
		if (w < 0) {
			fprintf(stderr, "ac97play: ALSA write: %s\n", snd_strerror(w));
			return -1;
		}
		buf += w * o->channels;
		frames -= w;
	}
	return 0;
}

static void status_line(const struct out *o, const struct ac97_pcm_format *f,
			const unsigned int *peaks, double elapsed, int newline)
{
	char left[21], right[21];
	snd_pcm_sframes_t delay = 0;
	double lag_ms = f->bytes_ready * 1000.0 / (2 * f->channels * f->rate);

	if (o->pcm && snd_pcm_delay(o->pcm, &delay) == 0)
		lag_ms += delay * 1000.0 / f->rate;
	meter_bar(peak_dbfs(peaks[0]), 20, left);
	meter_bar(peak_dbfs(peaks[f->channels > 1]), 20, right);
	fprintf(stderr, "%s%5u Hz %uch  L %s R %s  lag %3.0f ms  overruns %llu  xruns %lu  %02d:%02d %s",
		newline ? "" : "\r", f->rate, f->channels, left, right, lag_ms,
		(unsigned long long)f->overruns, o->xruns,
		(int)elapsed / 60, (int)elapsed % 60, newline ? "\n" : "");
}

int main(int argc, char **argv)
{
	static int16_t buf[16384];
	struct out o = { .alsa_name = "default", .latency_ms = 30 };
	const char *node = "/dev/ac97pcm";
	struct ac97_pcm_format last = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned int peaks[8] = { 0 };
	int fd, opt, quiet = 0, rc = 0, log_status = 0, no_wait = 0;
	size_t carry = 0;
	double start, shown = 0;

	while ((opt = getopt(argc, argv, "d:D:o:l:nqsh")) != -1) {
		switch (opt) {
		case 'd': node = optarg; break;
		case 'D': o.alsa_name = optarg; break;
		case 'o': o.file = optarg; break;
		case 'l': o.latency_ms = atoi(optarg); break;
		case 'q': quiet = 1; break;
		case 's': log_status = 1; break;
		case 'n': no_wait = 1; break;
		default:
			fprintf(stderr, "usage: %s [-d NODE] [-D ALSA_PCM] [-o FILE.wav|.flac] [-l MS] [-n] [-q|-s]\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (o.file && out_kind_for(o.file) == OUT_NONE) {
		fprintf(stderr, "ac97play: %s: name a .wav or .flac file\n", o.file);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: a blocked read returns */
	sigaction(SIGTERM, &sa, NULL);
	if (!isatty(STDERR_FILENO) && !log_status)
		quiet = 1;
	fd = pcm_node_open("ac97play", node, O_RDONLY, quiet, no_wait, &stop);
	if (fd < 0)
		return stop ? 0 : 1;
	start = mono_seconds();
	while (!stop) {
		/*
		 * Reads may end inside a frame (the ring holds a sample stream):
		 * keep the odd bytes at the front of the buffer for the next round.
		 */
		struct ac97_pcm_read rd = {
			.buf = (uintptr_t)((char *)buf + carry),
			.len = sizeof(buf) - carry,
		};
		size_t whole, frame;

		if (ioctl(fd, AC97_PCM_READ, &rd) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "\nac97play: %s: %s\n", node, strerror(errno));
			rc = 1;
			break;
		}
		if (!rd.bytes)
			break;		/* the device went away */
		if (rd.format.rate != o.rate || rd.format.channels != o.channels ||
		    (!o.pcm && !o.sf)) {
			if (carry) {	/* half a frame of the old format: drop it */
				memmove(buf, (char *)buf + carry, rd.bytes);
				carry = 0;
			}
			if (open_out(&o, rd.format.rate, rd.format.channels)) {
				rc = 1;
				break;
			}
		}
		frame = 2 * rd.format.channels;
		whole = (carry + rd.bytes) / frame * frame;
		if (write_out(&o, buf, whole)) {
			fprintf(stderr, "\nac97play: cannot write the output\n");
			rc = 1;
			break;
		}
		carry = carry + rd.bytes - whole;
		memmove(buf, (char *)buf + whole, carry);
		last = rd.format;
		if (!quiet && mono_seconds() - shown > (log_status ? 1.0 : 0.1)) {
			peak_levels(buf, whole / 2, rd.format.channels, peaks);
			status_line(&o, &last, peaks, mono_seconds() - start, log_status);
			shown = mono_seconds();
		}
	}
	close_out(&o);
	if (!quiet && !log_status)
		fputc('\n', stderr);
	if (last.overruns || o.xruns)
		fprintf(stderr, "ac97play: %llu overruns (%llu bytes lost in the module's ring), %lu ALSA underruns\n",
			(unsigned long long)last.overruns, (unsigned long long)last.lost_bytes, o.xruns);
	close(fd);
	return rc;
}
