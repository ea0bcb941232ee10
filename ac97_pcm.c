// SPDX-License-Identifier: GPL-2.0
/*
 * PCM to userspace: the per-device ring the DMA engine fills, and the char
 * devices that read it (/dev/ac97pcmN per device, /dev/ac97pcm for the first).
 *
 * The writer never waits for a reader. Each reader has its own position; one
 * that falls a ring behind skips to the oldest audio still held, to a frame
 * boundary, and the skip is counted. Format changes are marks in the stream:
 * a read stops at a mark, so every byte of a read has one format.
 */
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "ac97.h"

unsigned int ac97_ring_kb = 256;
module_param_named(ring_kb, ac97_ring_kb, uint, 0444);
MODULE_PARM_DESC(ring_kb,
		 "PCM ring per device in KiB, rounded up to a power of two (64-65536, default 256: 1.36 s of 48 kHz stereo)");

#define AC97_READ_CHUNK		PAGE_SIZE

int ac97_ring_init(struct ac97_ring *ring, size_t size)
{
	size = roundup_pow_of_two(clamp_t(size_t, size, SZ_64K, SZ_64M));
	memset(ring, 0, sizeof(*ring));
	spin_lock_init(&ring->lock);
	init_waitqueue_head(&ring->wait);
	ring->buf = vmalloc(size);
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

/**
 * ac97_ring_write() - append PCM to the ring
 * @ring: the ring
 * @data: samples
 * @len: bytes, at most the ring size
 * @rate: frames per second of these samples
 * @channels: channels per frame
 *
 * Context: any; never sleeps, never waits for readers.
 */
void ac97_ring_write(struct ac97_ring *ring, const void *data, size_t len,
		     u32 rate, u16 channels)
{
	size_t off, first;

	if (WARN_ON_ONCE(len > ring->size))
		return;
	spin_lock(&ring->lock);
	ring_add_mark(ring, rate, channels);
	off = ring->wpos & (ring->size - 1);
	first = min(len, ring->size - off);
	memcpy(ring->buf + off, data, first);
	memcpy(ring->buf, data + first, len - first);
	ring->wpos += len;
	spin_unlock(&ring->lock);
	if (wq_has_sleeper(&ring->wait))
		wake_up_interruptible_poll(&ring->wait, EPOLLIN | EPOLLRDNORM);
}

/* No more data will come: readers drain what is left, then see EOF. */
void ac97_ring_close(struct ac97_ring *ring)
{
	spin_lock(&ring->lock);
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
	len = min_t(u64, max, segment_end(ring, mark_at(ring, reader->rpos)) -
			      reader->rpos);
	off = reader->rpos & (ring->size - 1);
	first = min(len, ring->size - off);
	memcpy(dst, ring->buf + off, first);
	memcpy(dst + first, ring->buf, len - first);
	return len;
}

/* Under ring->lock: the serial of the segment at the reader's position. */
static u32 reader_serial(struct ac97_reader *reader)
{
	int m = mark_at(reader->ring, reader->rpos);

	return m >= 0 ? ring_mark(reader->ring, m)->serial : 0;
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
	fmt->bytes_ready = min_t(u64, U32_MAX,
				 segment_end(ring, m) - reader->rpos);
	fmt->overruns = reader->overruns;
	fmt->lost_bytes = reader->lost_bytes;
	spin_unlock(&ring->lock);
}

/* One open PCM node. */
struct ac97_pcm_file {
	struct ac97_dev *dev;
	struct ac97_reader reader;
	u8 *bounce;
};

static DEFINE_MUTEX(nodes_lock);	/* the registry below */
static LIST_HEAD(nodes);
static DEFINE_IDA(node_ida);

static int pcm_file_bind(struct file *file, struct ac97_dev *dev)
{
	struct ac97_pcm_file *pf;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	pf->bounce = kmalloc(AC97_READ_CHUNK, GFP_KERNEL);
	if (!pf->bounce) {
		kfree(pf);
		return -ENOMEM;
	}
	kref_get(&dev->ref);
	pf->dev = dev;
	ac97_reader_init(&pf->reader, &dev->ring);
	file->private_data = pf;
	return stream_open(file_inode(file), file);
}

/* misc_open() holds misc_mtx around this, so the device cannot be deleted. */
static int pcm_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;

	return pcm_file_bind(file, container_of(misc, struct ac97_dev, node));
}

static int pcm_alias_open(struct inode *inode, struct file *file)
{
	struct ac97_dev *dev;
	int ret = -ENODEV;

	mutex_lock(&nodes_lock);
	dev = list_first_entry_or_null(&nodes, struct ac97_dev, node_link);
	if (dev)
		ret = pcm_file_bind(file, dev);
	mutex_unlock(&nodes_lock);
	return ret;
}

static int pcm_release(struct inode *inode, struct file *file)
{
	struct ac97_pcm_file *pf = file->private_data;

	ac97_dev_put(pf->dev);
	kfree(pf->bounce);
	kfree(pf);
	return 0;
}

/* Where pcm_read() puts what it read: a VFS iterator or a user buffer. */
struct pcm_sink {
	struct iov_iter *iter;
	void __user *ubuf;
	size_t len;
};

static size_t sink_room(const struct pcm_sink *sink)
{
	return sink->iter ? iov_iter_count(sink->iter) : sink->len;
}

static size_t sink_put(struct pcm_sink *sink, const void *src, size_t n)
{
	if (sink->iter)
		return copy_to_iter(src, n, sink->iter);
	n -= copy_to_user(sink->ubuf, src, n);
	sink->ubuf += n;
	sink->len -= n;
	return n;
}

/*
 * Read what is there (waiting for something unless @nonblock), never past a
 * format change. If @fmt, describe the format of the bytes read in it.
 */
static ssize_t pcm_read(struct ac97_pcm_file *pf, struct pcm_sink *sink,
			bool nonblock, struct ac97_pcm_format *fmt)
{
	struct ac97_reader *reader = &pf->reader;
	struct ac97_ring *ring = reader->ring;
	size_t total = 0, len, done;
	u32 serial, first_serial = 0;
	int ret, m;

	if (!sink_room(sink))
		return 0;
	while (!ac97_reader_ready(reader)) {
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(ring->wait, ac97_reader_ready(reader));
		if (ret)
			return ret;
	}
	while (sink_room(sink)) {
		spin_lock(&ring->lock);
		reader_catch_up(reader);
		serial = reader_serial(reader);
		/* One read, one format: stop where a new segment begins. */
		if (total && serial != first_serial) {
			spin_unlock(&ring->lock);
			break;
		}
		if (!total && fmt) {
			m = mark_at(ring, reader->rpos);
			if (m >= 0) {
				fmt->rate = ring_mark(ring, m)->rate;
				fmt->channels = ring_mark(ring, m)->channels;
			}
			fmt->serial = serial;
		}
		first_serial = serial;
		len = reader_peek(reader, pf->bounce,
				  min(sink_room(sink), AC97_READ_CHUNK));
		spin_unlock(&ring->lock);
		if (!len)
			break;
		done = sink_put(sink, pf->bounce, len);
		spin_lock(&ring->lock);
		reader->rpos += done;
		spin_unlock(&ring->lock);
		total += done;
		if (done < len) {
			if (!total)
				return -EFAULT;
			break;
		}
	}
	return total;
}

static ssize_t pcm_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct pcm_sink sink = { .iter = to };

	return pcm_read(iocb->ki_filp->private_data, &sink,
			(iocb->ki_flags & IOCB_NOWAIT) ||
			(iocb->ki_filp->f_flags & O_NONBLOCK), NULL);
}

/* AC97_PCM_READ: a read that says which format the bytes it returns are in. */
static long pcm_ioctl_read(struct file *file, struct ac97_pcm_read __user *arg)
{
	struct ac97_pcm_file *pf = file->private_data;
	struct ac97_pcm_format next;
	struct ac97_pcm_read req;
	struct pcm_sink sink;
	ssize_t n;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	sink = (struct pcm_sink) { .ubuf = u64_to_user_ptr(req.buf), .len = req.len };
	ac97_reader_format(&pf->reader, &req.format);
	n = pcm_read(pf, &sink, file->f_flags & O_NONBLOCK, &req.format);
	if (n < 0)
		return n;
	req.bytes = n;
	ac97_reader_format(&pf->reader, &next);
	req.format.bytes_ready = next.serial == req.format.serial ? next.bytes_ready : 0;
	req.format.overruns = next.overruns;
	req.format.lost_bytes = next.lost_bytes;
	return copy_to_user(arg, &req, sizeof(req)) ? -EFAULT : 0;
}

static __poll_t pcm_poll(struct file *file, poll_table *wait)
{
	struct ac97_pcm_file *pf = file->private_data;
	struct ac97_ring *ring = pf->reader.ring;
	__poll_t mask = 0;

	poll_wait(file, &ring->wait, wait);
	spin_lock(&ring->lock);
	if (pf->reader.rpos < ring->wpos)
		mask |= EPOLLIN | EPOLLRDNORM;
	else if (ring->closed)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLHUP;
	spin_unlock(&ring->lock);
	return mask;
}

static long pcm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ac97_pcm_file *pf = file->private_data;
	struct ac97_pcm_format fmt;

	if (cmd == AC97_PCM_READ)
		return pcm_ioctl_read(file, (struct ac97_pcm_read __user *)arg);
	if (cmd != AC97_PCM_GET_FORMAT)
		return -ENOTTY;
	ac97_reader_format(&pf->reader, &fmt);
	if (copy_to_user((void __user *)arg, &fmt, sizeof(fmt)))
		return -EFAULT;
	return 0;
}

static const struct file_operations pcm_fops = {
	.owner = THIS_MODULE,
	.open = pcm_open,
	.release = pcm_release,
	.read_iter = pcm_read_iter,
	.poll = pcm_poll,
	.unlocked_ioctl = pcm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static const struct file_operations pcm_alias_fops = {
	.owner = THIS_MODULE,
	.open = pcm_alias_open,
	.release = pcm_release,
	.read_iter = pcm_read_iter,
	.poll = pcm_poll,
	.unlocked_ioctl = pcm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice pcm_alias_node = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ac97pcm",
	.fops = &pcm_alias_fops,
	.mode = 0440,
};

/* Give @dev its index and its /dev/ac97pcmN. Context: process; sleeps. */
int ac97_pcm_node_add(struct ac97_dev *dev)
{
	int ret;

	ret = ida_alloc(&node_ida, GFP_KERNEL);
	if (ret < 0)
		return ret;
	dev->index = ret;
	snprintf(dev->node_name, sizeof(dev->node_name), "ac97pcm%d", dev->index);
	dev->node.minor = MISC_DYNAMIC_MINOR;
	dev->node.name = dev->node_name;
	dev->node.fops = &pcm_fops;
	dev->node.mode = 0440;
	ret = misc_register(&dev->node);
	if (ret) {
		ida_free(&node_ida, dev->index);
		return ret;
	}
	mutex_lock(&nodes_lock);
	list_add_tail(&dev->node_link, &nodes);
	mutex_unlock(&nodes_lock);
	return 0;
}

void ac97_pcm_node_del(struct ac97_dev *dev)
{
	mutex_lock(&nodes_lock);
	list_del_init(&dev->node_link);
	mutex_unlock(&nodes_lock);
	misc_deregister(&dev->node);
	ida_free(&node_ida, dev->index);
}

int ac97_pcm_init(void)
{
	return misc_register(&pcm_alias_node);
}

void ac97_pcm_exit(void)
{
	misc_deregister(&pcm_alias_node);
}
