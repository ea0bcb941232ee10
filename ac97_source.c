// SPDX-License-Identifier: GPL-2.0
/*
 * Capture sources: what the codec's inputs hear. A host process writes
 * S16_LE frames into a source through a PCM node opened for writing; the DMA
 * thread takes them at the rate the guest programmed for the function the
 * source feeds (line: PCM in, stereo; mic: mic in, mono).
 *
 * One writer (the file that claimed the source; its lock serialises its
 * writes) copies into the free space with no lock held and then publishes
 * @wpos; one consumer (the DMA thread) peeks, writes guest memory, and then
 * consumes. Each side only ever touches bytes the other has published, so
 * @lock guards the positions and the counters only.
 */
#include <linux/minmax.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "ac97.h"

int ac97_source_init(struct ac97_source *src, u16 channels)
{
	spin_lock_init(&src->lock);
	init_waitqueue_head(&src->wait);
	src->size = AC97_SOURCE_BYTES;
	src->channels = channels;
	src->rate = 48000;
	src->serial = 1;
	src->buf = kvzalloc(src->size, GFP_KERNEL_ACCOUNT);
	return src->buf ? 0 : -ENOMEM;
}

void ac97_source_free(struct ac97_source *src)
{
	kvfree(src->buf);
	src->buf = NULL;
}

/* The device is going: wake writers, who then get -ENODEV. */
void ac97_source_close(struct ac97_source *src)
{
	spin_lock(&src->lock);
	src->closed = true;
	spin_unlock(&src->lock);
	wake_up_interruptible_all(&src->wait);
}

/* The guest programmed the function this source feeds to @rate. */
void ac97_source_set_rate(struct ac97_source *src, u32 rate)
{
	bool changed;

	spin_lock(&src->lock);
	changed = src->rate != rate;
	if (changed) {
		src->rate = rate;
		src->serial++;
	}
	spin_unlock(&src->lock);
	if (changed)
		wake_up_interruptible_all(&src->wait);
}

/* Copy up to @max bytes the writer has published, without taking them. */
size_t ac97_source_peek(struct ac97_source *src, void *dst, size_t max)
{
	size_t len, off, first;

	spin_lock(&src->lock);
	len = min_t(u64, max, src->wpos - src->rpos);
	off = src->rpos & (src->size - 1);
	spin_unlock(&src->lock);
	first = min(len, src->size - off);
	memcpy(dst, src->buf + off, first);
	memcpy(dst + first, src->buf, len - first);
	return len;
}

/* Take @len bytes peeked; @missing bytes of silence were made up. */
void ac97_source_consume(struct ac97_source *src, size_t len, size_t missing)
{
	spin_lock(&src->lock);
	src->rpos += min_t(u64, len, src->wpos - src->rpos);
	if (missing) {
		src->underruns++;
		src->silent_bytes += missing;
	}
	spin_unlock(&src->lock);
	if (len)
		wake_up_interruptible(&src->wait);
}

size_t ac97_source_room(struct ac97_source *src)
{
	size_t room;

	spin_lock(&src->lock);
	room = src->closed ? 0 : src->size - (src->wpos - src->rpos);
	spin_unlock(&src->lock);
	return room;
}

static bool source_writable(struct ac97_source *src)
{
	bool ok;

	spin_lock(&src->lock);
	ok = src->closed || src->wpos - src->rpos < src->size;
	spin_unlock(&src->lock);
	return ok;
}

/* Copy what fits from @from into the free space; the caller is the writer. */
static ssize_t source_fill(struct ac97_source *src, struct iov_iter *from)
{
	size_t room, off, first, len, done;

	spin_lock(&src->lock);
	if (src->closed) {
		spin_unlock(&src->lock);
		return -ENODEV;
	}
	room = src->size - (src->wpos - src->rpos);
	off = src->wpos & (src->size - 1);
	spin_unlock(&src->lock);

	len = min(room, iov_iter_count(from));
	first = min(len, src->size - off);
	done = copy_from_iter(src->buf + off, first, from);
	if (done == first && len > first)
		done += copy_from_iter(src->buf, len - first, from);
	if (!done && len)
		return -EFAULT;

	spin_lock(&src->lock);
	src->wpos += done;
	spin_unlock(&src->lock);
	return done;
}

/**
 * ac97_source_write() - the writer's write(): queue PCM for capture
 * @src: the source the calling file has claimed
 * @from: the bytes, S16_LE frames of the source's channel count
 * @nonblock: return -EAGAIN rather than wait for room
 *
 * Waits until there is room for at least one byte, then takes all that fits.
 * Context: process context, with the writer's file lock held.
 * Return: bytes taken, or a negative errno (-ENODEV once the device is gone).
 */
ssize_t ac97_source_write(struct ac97_source *src, struct iov_iter *from,
			  bool nonblock)
{
	ssize_t total = 0, n;
	int ret;

	while (iov_iter_count(from)) {
		if (!source_writable(src)) {
			if (total || nonblock)
				break;
			ret = wait_event_interruptible(src->wait,
						       source_writable(src));
			if (ret)
				return ret;
		}
		n = source_fill(src, from);
		if (n < 0)
			return total ? total : n;
		total += n;
	}
	if (!total && iov_iter_count(from))
		return -EAGAIN;
	return total;
}

/*
 * For a writer: the format the guest wants now. @bytes_ready is the room
 * there is, @overruns the transfers that found too little (underruns, seen
 * from the writer's side), @lost_bytes the silence they made up.
 */
void ac97_source_format(struct ac97_source *src, struct ac97_pcm_format *fmt)
{
	memset(fmt, 0, sizeof(*fmt));
	spin_lock(&src->lock);
	fmt->rate = src->rate;
	fmt->channels = src->channels;
	fmt->format = AC97_PCM_FMT_S16_LE;
	fmt->serial = src->serial;
	fmt->bytes_ready = src->closed ? 0 : src->size - (src->wpos - src->rpos);
	fmt->overruns = src->underruns;
	fmt->lost_bytes = src->silent_bytes;
	spin_unlock(&src->lock);
}
