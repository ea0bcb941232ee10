// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "play_util.h"

enum out_kind out_kind_for(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return OUT_NONE;
	if (!strcasecmp(dot, ".wav"))
		return OUT_WAV;
	if (!strcasecmp(dot, ".flac"))
		return OUT_FLAC;
	return OUT_NONE;
}

int segment_path(const char *path, unsigned int n, char *buf, size_t size)
{
	const char *dot = strrchr(path, '.');
	int len;

	if (n == 0)
		len = snprintf(buf, size, "%s", path);
	else if (!dot || strchr(dot, '/'))
		len = snprintf(buf, size, "%s.%u", path, n + 1);
	else
		len = snprintf(buf, size, "%.*s.%u%s", (int)(dot - path), path, n + 1, dot);
	return len < 0 || (size_t)len >= size ? -1 : 0;
}

void peak_levels(const int16_t *samples, size_t count, unsigned int channels,
		 unsigned int *peaks)
{
	size_t i;

	for (i = 0; i < channels; i++)
		peaks[i] = 0;
	for (i = 0; i < count; i++) {
		int v = samples[i];
		unsigned int a = v < 0 ? (unsigned int)-v : (unsigned int)v;

		if (a > peaks[i % channels])
			peaks[i % channels] = a;
	}
}

double peak_dbfs(unsigned int peak)
{
	if (!peak)
		return -120.0;
	return 20.0 * log10(peak / 32768.0);
}

void meter_bar(double dbfs, unsigned int width, char *buf)
{
	double lit = (dbfs + 60.0) / 60.0 * width;
	unsigned int i;

	for (i = 0; i < width; i++)
		buf[i] = i < lit ? '#' : '-';
	buf[width] = '\0';
}
