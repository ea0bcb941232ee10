// SPDX-License-Identifier: GPL-2.0
/*
 * PCM to and from userspace: the char devices that read a device's ring and,
 * opened for writing, feed one of its capture sources. See ac97_ring.c and
 * ac97_source.c, and include/uapi/linux/ac97_emu.h for the ABI.
 *
 * Who may hear a VM, or speak to it: /dev/ac97pcmN belongs to the user whose
 * VMM attached device N (devtmpfs creates it 0600, owned by that user),
 * /dev/ac97pcm (0666) opens the lowest-numbered device of the caller's own,
 * and a VMM can take a reader fd straight from its device handle
 * (AC97_DEV_OPEN_PCM), to pass on as it likes. An administrator may widen a
 * node with a udev rule.
 *
 * One char region serves every node: minor N is device N, the last minor is
 * the alias. @nodes_lock orders open against removal: an open finds the
 * device in @nodes and takes its reference under the lock, removal takes it
 * out under the lock, so no open ever reaches a device being freed.
 */
#include <linux/anon_inodes.h>
#include <linux/cdev.h>
#include <linux/cred.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/xarray.h>

#include "ac97.h"

unsigned int ac97_ring_kb = 256;
module_param_named(ring_kb, ac97_ring_kb, uint, 0444);
MODULE_PARM_DESC(ring_kb,
		 "PCM ring per device in KiB, rounded up to a power of two (64-65536, default 256: 1.36 s of 48 kHz stereo)");

#define AC97_READ_CHUNK		PAGE_SIZE
#define PCM_FILE_PULLS		0	/* its last read pulled and did not wait */

/*
 * One open PCM node. @lock serialises everything that moves @reader or uses
 * @bounce: read(), AC97_PCM_READ and AC97_PCM_GET_FORMAT, from any number
 * of threads or io_uring at once on the same file (stream_open() leaves
 * reads of a file unserialised), and, for a file open for writing, the
 * writes to the capture source it holds (@source, -1 for none yet: its
 * first write takes the line source; at most one file holds a source).
 * Lifetime: made by open, freed by the file's release; holds a reference
 * on @dev, and counts in its @pcm_readers if @reads, in its @pcm_pullers
 * while PCM_FILE_PULLS is set in @flags (atomic bit operations: poll()
 * clears it without @lock).
 */
struct ac97_pcm_file {
	struct mutex lock;	/* see above */
	struct ac97_dev *dev;
	bool reads;
	unsigned long flags;
	struct ac97_reader reader;
	u8 *bounce;
	int source;
};

#define AC97_ALIAS_MINOR	AC97_MAX_DEVICES

static DEFINE_MUTEX(nodes_lock);	/* @nodes, and a device's @node */
/* Device index -> device; reserved (NULL) until the device is published. */
static DEFINE_XARRAY_ALLOC(nodes);
static dev_t pcm_devt;
static struct cdev pcm_cdev;
static struct device *alias_node;

/* A node in /dev: the user it belongs to, for devtmpfs. Freed by its release. */
struct pcm_node {
	struct device dev;
	kuid_t owner;
	umode_t mode;
};

static char *pcm_devnode(AC97_DEVNODE_CONST struct device *dev, umode_t *mode,
			 kuid_t *uid, kgid_t *gid)
{
	const struct pcm_node *node = container_of(dev, struct pcm_node, dev);

	if (mode)
		*mode = node->mode;
	if (uid)
		*uid = node->owner;
	return NULL;
}

static void pcm_node_release(struct device *dev)
{
	kfree(container_of(dev, struct pcm_node, dev));
}

static const struct device_type pcm_node_type = {
	.name = "ac97pcm",
	.devnode = pcm_devnode,
	.release = pcm_node_release,
};

static struct class pcm_class = {
	.name = "ac97pcm",
};

/*
 * An open file of @dev's, a reader of its stream from now on; one that
 * @reads is served within the engine's latency. The caller holds a way to
 * @dev.
 */
static struct ac97_pcm_file *pcm_file_new(struct ac97_dev *dev, bool reads)
{
	struct ac97_pcm_file *pf;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL_ACCOUNT);
	if (!pf)
		return NULL;
	pf->bounce = kmalloc(AC97_READ_CHUNK, GFP_KERNEL_ACCOUNT);
	if (!pf->bounce) {
		kfree(pf);
		return NULL;
	}
	mutex_init(&pf->lock);
	pf->source = -1;
	kref_get(&dev->ref);
	pf->dev = dev;
	ac97_reader_init(&pf->reader, &dev->ring);
	pf->reads = reads;
	if (reads && atomic_inc_return(&dev->pcm_readers) == 1) {
		spin_lock(&dev->lock);
		ac97_dma_kick(dev);	/* from now on, a deadline per latency */
		spin_unlock(&dev->lock);
	}
	return pf;
}

/* The device /dev/ac97pcm opens: the lowest-numbered one of the caller's. */
static struct ac97_dev *alias_target(void)
	__must_hold(&nodes_lock)
{
	struct ac97_dev *dev;
	unsigned long index;

	xa_for_each(&nodes, index, dev)
		if (uid_eq(dev->owner, current_fsuid()))
			return dev;
	return NULL;
}

/* Make @pf the writer of source @index, giving up the one it had. */
static int pcm_claim_source(struct ac97_pcm_file *pf, int index)
{
	struct ac97_source *src = &pf->dev->src[index];
	int ret = 0;

	if (pf->source == index)
		return 0;
	spin_lock(&src->lock);
	if (src->claimed)
		ret = -EBUSY;
	WRITE_ONCE(src->claimed, true);	/* the engine reads it unlocked */
	spin_unlock(&src->lock);
	if (ret)
		return ret;
	if (pf->source >= 0) {
		src = &pf->dev->src[pf->source];
		spin_lock(&src->lock);
		WRITE_ONCE(src->claimed, false);	/* the engine reads it unlocked */
		spin_unlock(&src->lock);
	}
	pf->source = index;
	spin_lock(&pf->dev->lock);
	ac97_dma_kick(pf->dev);	/* the capture function now has a writer to serve */
	spin_unlock(&pf->dev->lock);
	return 0;
}

static int pcm_open(struct inode *inode, struct file *file)
{
	unsigned int minor = iminor(inode);
	struct ac97_pcm_file *pf = NULL;
	struct ac97_dev *dev;
	int ret = -ENODEV;

	mutex_lock(&nodes_lock);
	dev = minor == AC97_ALIAS_MINOR ? alias_target() : xa_load(&nodes, minor);
	if (dev) {
		pf = pcm_file_new(dev, file->f_mode & FMODE_READ);
		ret = pf ? 0 : -ENOMEM;
	}
	mutex_unlock(&nodes_lock);
	if (ret)
		return ret;
	file->private_data = pf;
	return stream_open(inode, file);
}

static void pcm_file_free(struct ac97_pcm_file *pf)
{
	struct ac97_source *src;

	if (pf->source >= 0) {
		src = &pf->dev->src[pf->source];
		spin_lock(&src->lock);
		WRITE_ONCE(src->claimed, false);	/* the engine reads it unlocked */
		spin_unlock(&src->lock);
	}
	if (test_bit(PCM_FILE_PULLS, &pf->flags))
		atomic_dec(&pf->dev->pcm_pullers);
	if (pf->reads)
		atomic_dec(&pf->dev->pcm_readers);
	ac97_dev_put(pf->dev);
	mutex_destroy(&pf->lock);
	kfree(pf->bounce);
	kfree(pf);
}

static int pcm_release(struct inode *inode, struct file *file)
{
	pcm_file_free(file->private_data);
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
 * Whether the DMA thread must serve @pf's reads within the latency: not
 * while the file pulls for itself. A file that stops pulling (it waits in a
 * read or poll, or reads from outside the VM's address space) has the
 * thread look at its deadlines again.
 *
 * Callers: whoever may read the file (its opener, or whoever it was passed
 * to; never a guest): read() and AC97_PCM_READ under @pf->lock, poll()
 * without it, from any number of threads or io_uring at once. The bit's
 * atomic test-and-set/clear makes the file count once in @pcm_pullers
 * whatever the interleaving; the thread reads the count unlocked, and a
 * clear is followed by a kick, so at worst it serves a puller once more.
 * The device may be destroyed already: the file's reference keeps it, and
 * the kick finds no thread.
 */
static void pcm_file_set_pulls(struct ac97_pcm_file *pf, bool pulls)
{
	struct ac97_dev *dev = pf->dev;

	if (pulls) {
		if (!test_and_set_bit(PCM_FILE_PULLS, &pf->flags))
			atomic_inc(&dev->pcm_pullers);
		return;
	}
	if (!test_and_clear_bit(PCM_FILE_PULLS, &pf->flags))
		return;
	atomic_dec(&dev->pcm_pullers);
	spin_lock(&dev->lock);
	ac97_dma_kick(dev);
	spin_unlock(&dev->lock);
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
	bool pulled;
	int ret;

	if (!sink_room(sink))
		return 0;
	pulled = ac97_dma_pull(pf->dev);
	pcm_file_set_pulls(pf, pulled && nonblock);
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

/*
 * write(): feed the file's capture source. Callers: whoever could open the
 * node for writing (the device's owner, or that user through the alias;
 * never a guest). Any number of threads or io_uring requests on one file
 * are serialised by @pf->lock (a blocked writer holds it: others wait, or
 * get -EAGAIN with IOCB_NOWAIT/O_NONBLOCK); two files cannot feed one
 * source (the claim, under the source's lock, gives -EBUSY). If the device
 * goes first, the file's reference keeps it and its source buffers alive,
 * and ac97_source_close() ends a blocked write with -ENODEV; the file's
 * release gives the source up and drops the reference (the last one frees).
 */
static ssize_t pcm_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct ac97_pcm_file *pf = iocb->ki_filp->private_data;
	bool nonblock = (iocb->ki_flags & IOCB_NOWAIT) ||
			(iocb->ki_filp->f_flags & O_NONBLOCK);
	ssize_t ret = pcm_file_lock(pf, nonblock);

	if (ret)
		return ret;
	/* A writer that chose no source feeds the line source (PCM in). */
	if (pf->source < 0)
		ret = pcm_claim_source(pf, AC97_SRC_LINE);
	if (!ret)
		ret = ac97_source_write(&pf->dev->src[pf->source], from, nonblock);
	mutex_unlock(&pf->lock);
	return ret;
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

	if (file->f_mode & FMODE_WRITE) {
		int index = READ_ONCE(pf->source);
		struct ac97_source *src = &pf->dev->src[index < 0 ? AC97_SRC_LINE : index];

		poll_wait(file, &src->wait, wait);
		if (ac97_source_room(src))
			mask |= EPOLLOUT | EPOLLWRNORM;
		else if (READ_ONCE(src->closed))
			mask |= EPOLLERR | EPOLLHUP;
	}
	if (!(file->f_mode & FMODE_READ))
		return mask;
	pcm_file_set_pulls(pf, false);	/* a poller waits on the thread */
	poll_wait(file, &ring->wait, wait);
	spin_lock(&ring->lock);
	if (pf->reader.rpos < ring->wpos)
		mask |= EPOLLIN | EPOLLRDNORM;
	else if (ring->closed)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLHUP;
	spin_unlock(&ring->lock);
	return mask;
}

/*
 * The writer's ioctls: which source it feeds, and what format is wanted.
 * Only on a file open for writing (-EBADF otherwise); under @pf->lock, so a
 * source switch never races a write of the same file. A switch takes the
 * new source before it gives up the old one: a failed switch (-EBUSY)
 * leaves the file feeding what it fed.
 */
static long pcm_ioctl_source(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct ac97_pcm_file *pf = file->private_data;
	struct ac97_pcm_format fmt;
	int ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (cmd == AC97_PCM_SET_SOURCE && arg >= AC97_SOURCES)
		return -EINVAL;
	if (mutex_lock_interruptible(&pf->lock))
		return -EINTR;
	if (cmd == AC97_PCM_SET_SOURCE) {
		ret = pcm_claim_source(pf, arg);
		mutex_unlock(&pf->lock);
		return ret;
	}
	ac97_source_format(&pf->dev->src[pf->source < 0 ? AC97_SRC_LINE : pf->source],
			   &fmt);
	mutex_unlock(&pf->lock);
	return copy_to_user((void __user *)arg, &fmt, sizeof(fmt)) ? -EFAULT : 0;
}

static long pcm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ac97_pcm_file *pf = file->private_data;
	struct ac97_pcm_format fmt;

	if ((cmd == AC97_PCM_READ || cmd == AC97_PCM_GET_FORMAT) &&
	    !(file->f_mode & FMODE_READ))
		return -EBADF;
	if (cmd == AC97_PCM_READ)
		return pcm_ioctl_read(file, (struct ac97_pcm_read __user *)arg);
	if (cmd == AC97_PCM_SET_SOURCE || cmd == AC97_PCM_GET_SOURCE_FORMAT)
		return pcm_ioctl_source(file, cmd, arg);
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
	.write_iter = pcm_write_iter,
	.poll = pcm_poll,
	.unlocked_ioctl = pcm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/**
 * ac97_pcm_open_fd() - a new reader of @dev's stream, as a file descriptor
 * @dev: the device; the caller holds a reference
 *
 * For AC97_DEV_OPEN_PCM: the holder of a device handle may hear its VM
 * whatever the node's permissions.
 * Context: process context; sleeps.
 * Return: the fd (O_RDONLY, close-on-exec), or a negative errno.
 */
int ac97_pcm_open_fd(struct ac97_dev *dev)
{
	struct ac97_pcm_file *pf = pcm_file_new(dev, true);
	int fd;

	if (!pf)
		return -ENOMEM;
	fd = anon_inode_getfd("[ac97pcm]", &pcm_fops, pf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		pcm_file_free(pf);
	return fd;
}

/* A node in /dev, owned by @owner; an ERR_PTR on failure. */
static struct device *pcm_node_add(unsigned int minor, kuid_t owner,
				   umode_t mode, const char *name)
{
	struct pcm_node *node = kzalloc(sizeof(*node), GFP_KERNEL_ACCOUNT);
	int ret;

	if (!node)
		return ERR_PTR(-ENOMEM);
	node->owner = owner;
	node->mode = mode;
	device_initialize(&node->dev);
	node->dev.devt = MKDEV(MAJOR(pcm_devt), minor);
	node->dev.class = &pcm_class;
	node->dev.type = &pcm_node_type;
	ret = dev_set_name(&node->dev, "%s", name);
	if (!ret)
		ret = device_add(&node->dev);
	if (ret) {
		put_device(&node->dev);
		return ERR_PTR(ret);
	}
	return &node->dev;
}

/**
 * ac97_pcm_node_reserve() - give @dev its index, not yet reachable
 * @dev: the device
 *
 * Context: process context; sleeps.
 * Return: 0, or -ENOSPC when every index is taken.
 */
int ac97_pcm_node_reserve(struct ac97_dev *dev)
{
	u32 index;
	int ret;

	mutex_lock(&nodes_lock);
	ret = xa_alloc(&nodes, &index, NULL, XA_LIMIT(0, AC97_MAX_DEVICES - 1),
		       GFP_KERNEL_ACCOUNT);
	mutex_unlock(&nodes_lock);
	if (ret)
		return ret == -EBUSY ? -ENOSPC : ret;
	dev->index = index;
	return 0;
}

/**
 * ac97_pcm_node_publish() - make /dev/ac97pcmN and open it to readers
 * @dev: the device, with its index reserved
 *
 * The last step of creating a device: once readers can hold it, nothing may
 * fail. Context: process context; sleeps.
 * Return: 0 or a negative errno (the device is then still unreachable).
 */
int ac97_pcm_node_publish(struct ac97_dev *dev)
{
	char name[20];
	struct device *node;

	snprintf(name, sizeof(name), "ac97pcm%d", dev->index);
	node = pcm_node_add(dev->index, dev->owner, 0600, name);
	if (IS_ERR(node))
		return PTR_ERR(node);
	mutex_lock(&nodes_lock);
	dev->node = node;
	xa_store(&nodes, dev->index, dev, GFP_KERNEL);	/* the slot exists: no allocation */
	mutex_unlock(&nodes_lock);
	return 0;
}

/**
 * ac97_pcm_node_del() - no new readers: remove the node, free the index
 * @dev: the device (reserved, or published)
 *
 * Readers that have it open keep their reference and drain the stream.
 * Context: process context; sleeps.
 */
void ac97_pcm_node_del(struct ac97_dev *dev)
{
	struct device *node;

	if (dev->index < 0)
		return;
	/* Unreachable first, but keep the index until its name is free again. */
	mutex_lock(&nodes_lock);
	xa_store(&nodes, dev->index, NULL, GFP_KERNEL);	/* in place: no allocation */
	node = dev->node;
	dev->node = NULL;
	mutex_unlock(&nodes_lock);
	if (node)
		device_unregister(node);
	mutex_lock(&nodes_lock);
	xa_erase(&nodes, dev->index);
	mutex_unlock(&nodes_lock);
	dev->index = -1;
}

int ac97_pcm_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&pcm_devt, 0, AC97_MAX_DEVICES + 1, "ac97pcm");
	if (ret)
		return ret;
	cdev_init(&pcm_cdev, &pcm_fops);
	pcm_cdev.owner = THIS_MODULE;
	ret = cdev_add(&pcm_cdev, pcm_devt, AC97_MAX_DEVICES + 1);
	if (ret)
		goto err_region;
	ret = class_register(&pcm_class);
	if (ret)
		goto err_cdev;
	alias_node = pcm_node_add(AC97_ALIAS_MINOR, GLOBAL_ROOT_UID, 0666, "ac97pcm");
	if (IS_ERR(alias_node)) {
		ret = PTR_ERR(alias_node);
		goto err_class;
	}
	return 0;

err_class:
	class_unregister(&pcm_class);
err_cdev:
	cdev_del(&pcm_cdev);
err_region:
	unregister_chrdev_region(pcm_devt, AC97_MAX_DEVICES + 1);
	return ret;
}

/* Every device and reader holds the module: none is left here. */
void ac97_pcm_exit(void)
{
	device_unregister(alias_node);
	class_unregister(&pcm_class);
	cdev_del(&pcm_cdev);
	unregister_chrdev_region(pcm_devt, AC97_MAX_DEVICES + 1);
}
