// SPDX-License-Identifier: GPL-2.0
/*
 * The PCM ring between the DMA engine and its readers.
 *
 * The writer never waits for a reader. Each reader has its own position; one
 * that falls a ring behind skips to the oldest audio still held, to a frame
 * boundary, and the skip is counted. Format changes are marks in the stream:
 * a read stops at a mark, so every byte of a read has one format.
 */
#include <linux/log2.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "ac97.h"

int ac97_ring_init(struct ac97_ring *ring, size_t size)
{
	size = roundup_pow_of_two(clamp_t(size_t, size, SZ_64K, SZ_64M));
	memset(ring, 0, sizeof(*ring));
	spin_lock_init(&ring->lock);
	init_waitqueue_head(&ring->wait);
	/*
	 * Zeroed: a reader can never be handed memory the device did not
	 * write. Charged to the creator's memory cgroup: up to 64 MiB a device.
	 */
	ring->buf = __vmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!ring->buf)
		return -ENOMEM;
	ring->size = size;
	return 0;
}

void ac97_ring_free(struct ac97_ring *ring)
{
	vfree(ring->buf);
	ring->buf = NULL;
}

static struct ac97_fmt_mark *ring_mark(struct ac97_ring *ring, unsigned int i)
{
	return &ring->marks[(ring->first_mark + i) % AC97_RING_MARKS];
}

static void ring_add_mark(struct ac97_ring *ring, u32 rate, u16 channels)
{
	u32 serial = 1;

	if (ring->nr_marks) {
		struct ac97_fmt_mark *last = ring_mark(ring, ring->nr_marks - 1);

		if (last->rate == rate && last->channels == channels)
			return;
		serial = last->serial + 1;
	}
	if (ring->nr_marks == AC97_RING_MARKS) {
		ring->first_mark = (ring->first_mark + 1) % AC97_RING_MARKS;
		ring->nr_marks--;
	}
	*ring_mark(ring, ring->nr_marks++) = (struct ac97_fmt_mark) {
		.pos = ring->wpos, .rate = rate, .channels = channels,
		.serial = serial,
	};
}

/* Under ring->lock: append @len bytes of @data, or of zeros if @data is NULL. */
static void ring_put(struct ac97_ring *ring, const void *data, size_t len)
{
	size_t off = ring->wpos & (ring->size - 1);
	size_t first = min(len, ring->size - off);

	if (data) {
		memcpy(ring->buf + off, data, first);
		memcpy(ring->buf, data + first, len - first);
	} else {
		memset(ring->buf + off, 0, first);
		memset(ring->buf, 0, len - first);
	}
	ring->wpos += len;
}

/*
 * Under ring->lock: silence until the next sample written is of channel @ch
 * of the current segment's frame.
 */
static void ring_pad_to(struct ac97_ring *ring, unsigned int ch)
{
	const struct ac97_fmt_mark *mark;
	unsigned int phase;

	if (!ring->nr_marks)
		return;
	mark = ring_mark(ring, ring->nr_marks - 1);
	phase = ((ring->wpos - mark->pos) / 2) % mark->channels;
	ring_put(ring, NULL, 2 * ((ch + mark->channels - phase) % mark->channels));
}

static bool ring_format_changes(struct ac97_ring *ring, u32 rate, u16 channels)
{
	const struct ac97_fmt_mark *mark;

	if (!ring->nr_marks)
		return false;
	mark = ring_mark(ring, ring->nr_marks - 1);
	return mark->rate != rate || mark->channels != channels;
}

/**
 * ac97_ring_write() - append PCM to the ring
 * @ring: the ring
 * @data: samples
 * @len: bytes, at most the ring size less two frames
 * @rate: frames per second of these samples
 * @channels: channels per frame
 * @first_channel: the channel of the first sample (0 = left)
 *
 * Readers count frames from the start of each format's segment, so the
 * samples must land in their own channel's slot: if the stream stopped
 * mid-frame (the guest reset PCM out after an odd number of samples), the
 * rest of that frame is filled with silence first - also when the format
 * changes there, so that every segment holds whole frames.
 *
 * Context: any; never sleeps, never waits for readers.
 */
void ac97_ring_write(struct ac97_ring *ring, const void *data, size_t len,
		     u32 rate, u16 channels, unsigned int first_channel)
{
	if (WARN_ON_ONCE(len + 4 * channels > ring->size || !channels))
		return;
	spin_lock(&ring->lock);
	/* A segment ends with a whole frame, and each starts with one. */
	if (ring_format_changes(ring, rate, channels))
		ring_pad_to(ring, 0);
	ring_add_mark(ring, rate, channels);
	ring_pad_to(ring, first_channel);
	ring_put(ring, data, len);
	spin_unlock(&ring->lock);
	if (wq_has_sleeper(&ring->wait))
		wake_up_interruptible_poll(&ring->wait, EPOLLIN | EPOLLRDNORM);
}

/*
 * No more data will come: readers drain what is left, then see EOF. The
 * writer is gone, so the last frame can be finished here.
 */
void ac97_ring_close(struct ac97_ring *ring)
{
	spin_lock(&ring->lock);
	ring_pad_to(ring, 0);
	ring->closed = true;
	spin_unlock(&ring->lock);
	wake_up_interruptible_poll(&ring->wait, EPOLLIN | EPOLLHUP);
}

void ac97_reader_init(struct ac97_reader *reader, struct ac97_ring *ring)
{
	memset(reader, 0, sizeof(*reader));
	reader->ring = ring;
	spin_lock(&ring->lock);
	reader->rpos = ring->wpos;
	spin_unlock(&ring->lock);
}

/* Index of the mark that covers @pos, or -1 if @pos precedes every mark. */
static int mark_at(struct ac97_ring *ring, u64 pos)
{
	int i;

	for (i = ring->nr_marks - 1; i >= 0; i--)
		if (ring_mark(ring, i)->pos <= pos)
			return i;
	return -1;
}

/* Under ring->lock: where the segment holding @pos ends (a mark or wpos). */
static u64 segment_end(struct ac97_ring *ring, int mark)
{
	if (mark + 1 < (int)ring->nr_marks)
		return ring_mark(ring, mark + 1)->pos;
	return ring->wpos;
}

/*
 * Under ring->lock: bytes of one format the reader can have now. Never
 * negative: a reader is never past the writer (ac97_reader_advance() clamps).
 */
static u64 reader_avail(struct ac97_reader *reader)
{
	struct ac97_ring *ring = reader->ring;
	u64 end = segment_end(ring, mark_at(ring, reader->rpos));

	return end > reader->rpos ? end - reader->rpos : 0;
}

/* Under ring->lock: skip a reader that fell behind to the oldest audio left. */
static void reader_catch_up(struct ac97_reader *reader)
{
	struct ac97_ring *ring = reader->ring;
	u64 oldest = ring->wpos > ring->size ? ring->wpos - ring->size : 0;
	u64 pos, frame;
	int m;

	if (ring->nr_marks)
		oldest = max(oldest, ring_mark(ring, 0)->pos);
	if (reader->rpos >= oldest)
		return;
	m = mark_at(ring, oldest);
	pos = oldest;
	if (m >= 0) {
		struct ac97_fmt_mark *mk = ring_mark(ring, m);

		frame = 2 * mk->channels;
		pos = mk->pos + roundup(oldest - mk->pos, frame);
		pos = min(pos, segment_end(ring, m));
	}
	reader->overruns++;
	reader->lost_bytes += pos - reader->rpos;
	reader->rpos = pos;
}

/*
 * Copy up to @max bytes at the reader's position, all of one format, into
 * @dst without consuming them. Returns the count.
 */
static size_t reader_peek(struct ac97_reader *reader, void *dst, size_t max)
	__must_hold(&reader->ring->lock)
{
	struct ac97_ring *ring = reader->ring;
	size_t len, off, first;

	reader_catch_up(reader);
	len = min_t(u64, max, reader_avail(reader));
	off = reader->rpos & (ring->size - 1);
	first = min(len, ring->size - off);
	memcpy(dst, ring->buf + off, first);
	memcpy(dst + first, ring->buf, len - first);
	return len;
}

/**
 * ac97_reader_peek - copy bytes at the reader's position, not consuming them
 * @reader: the reader
 * @dst: where to copy
 * @max: at most this many bytes
 * @seg: set to the format mark of the bytes copied (all zero before the
 *	first mark); its @serial tells one segment from the next
 *
 * A reader that fell a ring behind first skips to the oldest audio held.
 * Return: the count copied, all of one format; consume it with
 * ac97_reader_advance().
 */
size_t ac97_reader_peek(struct ac97_reader *reader, void *dst, size_t max,
			struct ac97_fmt_mark *seg)
{
	struct ac97_ring *ring = reader->ring;
	size_t len;
	int m;

	spin_lock(&ring->lock);
	len = reader_peek(reader, dst, max);
	m = mark_at(ring, reader->rpos);
	if (m >= 0)
		*seg = *ring_mark(ring, m);
	else
		memset(seg, 0, sizeof(*seg));
	spin_unlock(&ring->lock);
	return len;
}

/*
 * Consume @len bytes that ac97_reader_peek() returned. The caller serialises
 * peek and advance on one reader; should two ever advance past the same bytes,
 * the reader stops at the writer rather than pass it.
 */
void ac97_reader_advance(struct ac97_reader *reader, size_t len)
{
	struct ac97_ring *ring = reader->ring;

	spin_lock(&ring->lock);
	reader->rpos = min(reader->rpos + len, ring->wpos);
	spin_unlock(&ring->lock);
}

size_t ac97_reader_copy(struct ac97_reader *reader, void *dst, size_t max)
{
	size_t len;

	spin_lock(&reader->ring->lock);
	len = reader_peek(reader, dst, max);
	reader->rpos += len;
	spin_unlock(&reader->ring->lock);
	return len;
}

/* True if a read would not block: data is there, or the stream has ended. */
bool ac97_reader_ready(struct ac97_reader *reader)
{
	bool ready;

	spin_lock(&reader->ring->lock);
	ready = reader->rpos < reader->ring->wpos || reader->ring->closed;
	spin_unlock(&reader->ring->lock);
	return ready;
}

void ac97_reader_format(struct ac97_reader *reader, struct ac97_pcm_format *fmt)
{
	struct ac97_ring *ring = reader->ring;
	int m;

	memset(fmt, 0, sizeof(*fmt));
	fmt->format = AC97_PCM_FMT_S16_LE;
	fmt->rate = 48000;
	fmt->channels = 2;
	spin_lock(&ring->lock);
	reader_catch_up(reader);
	m = mark_at(ring, reader->rpos);
	if (m >= 0) {
		fmt->rate = ring_mark(ring, m)->rate;
		fmt->channels = ring_mark(ring, m)->channels;
		fmt->serial = ring_mark(ring, m)->serial;
	} else if (ring->nr_marks) {
		/* Waiting at the very start: the first data will carry mark 0. */
		fmt->serial = ring_mark(ring, 0)->serial - 1;
	}
	fmt->bytes_ready = min_t(u64, U32_MAX, reader_avail(reader));
	fmt->overruns = reader->overruns;
	fmt->lost_bytes = reader->lost_bytes;
	spin_unlock(&ring->lock);
}
