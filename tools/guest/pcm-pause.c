// SPDX-License-Identifier: GPL-2.0
/*
 * pcm-pause: play a WAV on an ALSA device with a pause in the middle, through
 * snd_pcm_pause(), as a player's pause button does. Runs inside the guest.
 *
 *   pcm-pause DEVICE FILE.wav PAUSE_AT_SECONDS PAUSE_SECONDS
 */
#include <alsa/asoundlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned char hdr[44];
	snd_pcm_t *pcm;
	FILE *f;
	unsigned int rate;
	short buf[2 * 1024];
	size_t frames, played = 0;
	int err, paused = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: %s DEVICE FILE.wav PAUSE_AT PAUSE_FOR\n", argv[0]);
		return 2;
	}
	f = fopen(argv[2], "rb");
	if (!f || fread(hdr, 1, 44, f) != 44 || memcmp(hdr + 36, "data", 4)) {
		fprintf(stderr, "pcm-pause: %s: not a canonical WAV\n", argv[2]);
		return 2;
	}
	rate = hdr[24] | hdr[25] << 8 | hdr[26] << 16 | (unsigned int)hdr[27] << 24;
	err = snd_pcm_open(&pcm, argv[1], SND_PCM_STREAM_PLAYBACK, 0);
	if (!err)
		err = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE,
					 SND_PCM_ACCESS_RW_INTERLEAVED, 2, rate, 0, 500000);
	if (err) {
		fprintf(stderr, "pcm-pause: %s\n", snd_strerror(err));
		return 1;
	}
	while ((frames = fread(buf, 4, 1024, f)) > 0) {
		snd_pcm_sframes_t w = snd_pcm_writei(pcm, buf, frames);

		if (w < 0) {
			fprintf(stderr, "pcm-pause: write: %s\n", snd_strerror(w));
			return 1;
		}
		played += w;
		if (!paused && played >= atof(argv[3]) * rate) {
			paused = 1;
			err = snd_pcm_pause(pcm, 1);
			usleep(atof(argv[4]) * 1e6);
			err = err ? err : snd_pcm_pause(pcm, 0);
			if (err) {
				fprintf(stderr, "pcm-pause: pause: %s\n", snd_strerror(err));
				return 1;
			}
			printf("pcm-pause: paused at frame %zu\n", played);
		}
	}
	snd_pcm_drain(pcm);
	snd_pcm_close(pcm);
	return paused ? 0 : 1;
}
