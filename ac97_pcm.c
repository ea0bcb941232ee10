// SPDX-License-Identifier: GPL-2.0
/*
 * PCM to userspace: the char devices that read a device's ring
 * (/dev/ac97pcmN per device, /dev/ac97pcm for the first). See ac97_ring.c.
 */
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "ac97.h"

unsigned int ac97_ring_kb = 256;
module_param_named(ring_kb, ac97_ring_kb, uint, 0444);
MODULE_PARM_DESC(ring_kb,
		 "PCM ring per device in KiB, rounded up to a power of two (64-65536, default 256: 1.36 s of 48 kHz stereo)");

#define AC97_READ_CHUNK		PAGE_SIZE

/*
 * One open PCM node. @lock serialises everything that moves @reader or uses
 * @bounce: read(), AC97_PCM_READ and AC97_PCM_GET_FORMAT, from any number
 * of threads or io_uring at once on the same file (stream_open() leaves
 * reads of a file unserialised). Lifetime: made by open, freed by the
 * file's release; holds a reference on @dev.
 */
struct ac97_pcm_file {
	struct mutex lock;
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
	mutex_init(&pf->lock);
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
	mutex_destroy(&pf->lock);
	kfree(pf->bounce);
	kfree(pf);
	return 0;
}

/* Take the file's lock; -EAGAIN instead of waiting if @nonblock. */
static int pcm_file_lock(struct ac97_pcm_file *pf, bool nonblock)
{
	if (nonblock)
		return mutex_trylock(&pf->lock) ? 0 : -EAGAIN;
	return mutex_lock_interruptible(&pf->lock);
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
 * Caller holds @pf->lock.
 */
static ssize_t pcm_read_locked(struct ac97_pcm_file *pf, struct pcm_sink *sink,
			       bool nonblock, struct ac97_pcm_format *fmt)
{
	struct ac97_reader *reader = &pf->reader;
	struct ac97_ring *ring = reader->ring;
	struct ac97_fmt_mark seg;
	size_t total = 0, len, done;
	u32 first_serial = 0;
	int ret;

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
		len = ac97_reader_peek(reader, pf->bounce,
				       min(sink_room(sink), AC97_READ_CHUNK), &seg);
		/* One read, one format: stop where a new segment begins. */
		if (total && seg.serial != first_serial)
			break;
		if (!total && fmt) {
			if (seg.serial) {
				fmt->rate = seg.rate;
				fmt->channels = seg.channels;
			}
			fmt->serial = seg.serial;
		}
		first_serial = seg.serial;
		if (!len)
			break;
		done = sink_put(sink, pf->bounce, len);
		ac97_reader_advance(reader, done);
		total += done;
		if (done < len) {
			if (!total)
				return -EFAULT;
			break;
		}
	}
	return total;
}

static ssize_t pcm_read(struct ac97_pcm_file *pf, struct pcm_sink *sink,
			bool nonblock, struct ac97_pcm_format *fmt)
{
	ssize_t ret = pcm_file_lock(pf, nonblock);

	if (ret)
		return ret;
	ret = pcm_read_locked(pf, sink, nonblock, fmt);
	mutex_unlock(&pf->lock);
	return ret;
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
	n = pcm_file_lock(pf, file->f_flags & O_NONBLOCK);
	if (n)
		return n;
	ac97_reader_format(&pf->reader, &req.format);
	n = pcm_read_locked(pf, &sink, file->f_flags & O_NONBLOCK, &req.format);
	if (n >= 0)
		ac97_reader_format(&pf->reader, &next);
	mutex_unlock(&pf->lock);
	if (n < 0)
		return n;
	req.bytes = n;
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
	if (mutex_lock_interruptible(&pf->lock))
		return -EINTR;
	ac97_reader_format(&pf->reader, &fmt);
	mutex_unlock(&pf->lock);
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
