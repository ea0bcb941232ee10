/* SPDX-License-Identifier: GPL-2.0 */
/* The pure parts of ac97play: output naming, file formats, level meter. */
#ifndef PLAY_UTIL_H
#define PLAY_UTIL_H

#include <stddef.h>
#include <stdint.h>

enum out_kind { OUT_NONE, OUT_WAV, OUT_FLAC };

/* The file format for @path, by its extension (case-insensitive). */
enum out_kind out_kind_for(const char *path);

/*
 * The file for segment @n (0-based) of an output @path: the first segment
 * is @path itself, the next ones get ".2", ".3" ... before the extension
 * ("out.wav" -> "out.2.wav"). Returns 0, or -1 if @size is too small.
 */
int segment_path(const char *path, unsigned int n, char *buf, size_t size);

/* Peak level of interleaved S16 @samples, per channel (up to 8). */
void peak_levels(const int16_t *samples, size_t count, unsigned int channels,
		 unsigned int *peaks);

/* dBFS of a peak value (0..32768); -120 for silence. */
double peak_dbfs(unsigned int peak);

/*
 * A meter bar of @width cells for a level in dBFS over a 60 dB range into
 * @buf (width + 1 bytes): '#' for lit cells, '-' for the rest.
 */
void meter_bar(double dbfs, unsigned int width, char *buf);

#endif
