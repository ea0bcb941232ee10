// SPDX-License-Identifier: GPL-2.0
/*
 * A device's life: creation, the reference count, unplug and destruction,
 * and the counters a host may ask for.
 *
 * Lifetime: ac97_dev_create() gives the creator (the host) one reference;
 * each open PCM file holds one more. ac97_dev_destroy() stops the DMA
 * thread, takes the node away and drops the creator's; the last put frees.
 */
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "ac97.h"

/* The interrupt line's level now; for hosts that re-assert after an EOI. */
bool ac97_irq_pending(struct ac97_dev *dev)
{
	bool level;

	spin_lock(&dev->lock);
	level = dev->irq_level;
	spin_unlock(&dev->lock);
	return level;
}

void ac97_dev_info(struct ac97_dev *dev, struct ac97_dev_info *info)
{
	unsigned int i;

	memset(info, 0, sizeof(*info));
	info->index = dev->index;
	spin_lock(&dev->lock);
	info->irq_level = dev->irq_level;
	info->dma_errors = dev->dma_errors;
	info->clock_slips = dev->clock_slips;
	info->samples = dev->func[AC97_FUNC_PO].clock.samples_done;
	info->capture_samples = dev->func[AC97_FUNC_PI].clock.samples_done +
				dev->func[AC97_FUNC_MC].clock.samples_done;
	info->irq_raises = dev->irq_raises;
	info->engine_wakeups = READ_ONCE(dev->wakeups);
	info->catch_ups = dev->catch_ups;
	for (i = 0; i < AC97_SOURCES; i++) {
		spin_lock(&dev->src[i].lock);
		info->underruns += dev->src[i].underruns;
		spin_unlock(&dev->src[i].lock);
	}
	spin_unlock(&dev->lock);
}

/**
 * ac97_dev_unplug() - stop all DMA now, before the host removes the ports
 * @dev: the device
 *
 * A device pulled off the bus moves no more data. The host's port removal
 * can take a grace period (a normal one on PREEMPT_RT), during which the
 * guest's register accesses no longer reach the device and it may rewrite
 * buffers it believes played: nothing read after this call reaches the
 * ring. Register accesses still in flight are served; none restarts DMA.
 *
 * Callers: the host, when its handle is released (ac97_kvm_free(): the last
 * fput of the handle, by the VMM, its exit, or an io_uring dropping a fixed
 * file), and the DMA thread itself when the host says the guest's memory is
 * gone for good (dma_begin); never a guest. Calling it twice is harmless. It
 * races only with vCPUs in the register handlers and with the DMA thread;
 * all take @dev->lock, and the thread's guest read in flight is dropped by
 * the @gen bump. The device stays alive: ac97_dev_destroy() follows and drops
 * the creator's reference.
 * Context: any; never sleeps.
 */
void ac97_dev_unplug(struct ac97_dev *dev)
{
	spin_lock(&dev->lock);
	dev->unplugged = true;
	ac97_dma_sync(dev);	/* bumps @gen: a DMA read in flight is dropped */
	spin_unlock(&dev->lock);
}

/**
 * ac97_dev_set_stopped() - the host stopped its VM, or lets it run again
 * @dev: the device
 * @stopped: true when the VM's vCPUs have stopped, false before they run again
 *
 * A stopped device moves no sample in either direction and raises no
 * interrupt: every function's clock stands still, as the guest's does.
 * Time spent stopped is not owed: a function that ran goes on from the
 * sample it had reached, so the guest's position (PICB, CIV) shows no jump
 * and a capture writer's data is not consumed meanwhile. Registers keep
 * their values; a function the guest stopped stays stopped.
 *
 * Callers: the host (a VMM's stop and cont, a migration's last phase), any
 * number of times in any order; the last call wins.
 * Context: any; never sleeps.
 */
void ac97_dev_set_stopped(struct ac97_dev *dev, bool stopped)
{
	spin_lock(&dev->lock);
	dev->stopped = stopped;
	ac97_dma_sync(dev);	/* stop: a DMA step in flight is dropped (@gen) */
	spin_unlock(&dev->lock);
}

/**
 * ac97_dev_reset() - the machine was reset: back to the power-on state
 * @dev: the device
 *
 * As a PCI reset: every function stopped and reset (BDBAR included), the
 * codec's registers at their defaults, GLOB_CNT 0 (AC_RESET# asserted:
 * the codec not ready until the guest releases it) and the interrupt line
 * low. The PCM streams and their readers and writers stay; a stopped
 * device stays stopped.
 *
 * Callers: the host, at its machine's reset (never the guest: its cold
 * reset through GLOB_CNT is ac97_bm_cold_reset()).
 * Context: any; never sleeps.
 */
void ac97_dev_reset(struct ac97_dev *dev)
{
	spin_lock(&dev->lock);
	ac97_bm_cold_reset(dev);
	dev->glob_cnt = 0;
	spin_unlock(&dev->lock);
}

static void dev_free_buffers(struct ac97_dev *dev)
{
	unsigned int i;

	for (i = 0; i < AC97_SOURCES; i++)
		ac97_source_free(&dev->src[i]);
	ac97_ring_free(&dev->ring);
	kfree(dev->raw);
	kfree(dev->bounce);
}

static void dev_release(struct kref *ref)
{
	struct ac97_dev *dev = container_of(ref, struct ac97_dev, ref);

	dev_free_buffers(dev);
	mutex_destroy(&dev->dma_lock);
	kfree(dev);
}

static int dev_alloc_buffers(struct ac97_dev *dev)
{
	int ret;

	dev->bounce = kmalloc(AC97_BOUNCE_BYTES, GFP_KERNEL_ACCOUNT);
	/* A capture transfer peeks one frame more than it writes. */
	dev->raw = kmalloc(AC97_BOUNCE_BYTES + 8, GFP_KERNEL_ACCOUNT);
	if (!dev->bounce || !dev->raw)
		return -ENOMEM;
	ret = ac97_source_init(&dev->src[AC97_SRC_LINE], 2);
	if (!ret)
		ret = ac97_source_init(&dev->src[AC97_SRC_MIC], 1);
	if (!ret)
		ret = ac97_ring_init(&dev->ring, (size_t)ac97_ring_kb * 1024);
	return ret;
}

void ac97_dev_put(struct ac97_dev *dev)
{
	kref_put(&dev->ref, dev_release);
}

/**
 * ac97_dev_create() - make a new controller, in power-on (cold reset) state
 * @ops: host operations, which must outlive the device
 * @host: passed back to every op
 * @flags: %AC97_DEV_MANUAL for tests: no DMA thread, and time stands still
 *	until the caller sets @manual_now_ns
 *
 * The device belongs to the calling user (its node is theirs), its memory
 * is charged to the caller's memory cgroup, and its DMA thread runs in the
 * caller's cgroups. Its node is published last: once a reader can hold the
 * device, nothing can fail any more.
 *
 * Context: process context; sleeps.
 * Return: the device or an ERR_PTR.
 */
struct ac97_dev *ac97_dev_create(const struct ac97_host_ops *ops, void *host,
				 unsigned int flags)
{
	struct ac97_dev *dev;
	int ret = -ENOMEM;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&dev->lock);
	mutex_init(&dev->dma_lock);
	kref_init(&dev->ref);
	ratelimit_state_init(&dev->warn_rs, DEFAULT_RATELIMIT_INTERVAL,
			     DEFAULT_RATELIMIT_BURST);
	dev->ops = ops;
	dev->host = host;
	dev->flags = flags;
	dev->index = -1;
	dev->owner = current_fsuid();
	ret = dev_alloc_buffers(dev);
	if (ret)
		goto err_free;
	spin_lock(&dev->lock);
	ac97_bm_cold_reset(dev);
	spin_unlock(&dev->lock);
	ret = ac97_pcm_node_reserve(dev);
	if (ret)
		goto err_free;
	if (!(flags & AC97_DEV_MANUAL)) {
		dev->thread = kthread_create(ac97_dma_thread, dev, "ac97-dma/%d",
					     dev->index);
		if (IS_ERR(dev->thread)) {
			ret = PTR_ERR(dev->thread);
			dev->thread = NULL;
			goto err_node;
		}
		ret = cgroup_attach_task_all(current, dev->thread);
		if (ret)
			goto err_thread;
	}
	ret = ac97_pcm_node_publish(dev);
	if (ret)
		goto err_thread;
	if (dev->thread)
		wake_up_process(dev->thread);
	return dev;

err_thread:
	if (dev->thread)
		kthread_stop(dev->thread);	/* never woken: it never runs */
err_node:
	ac97_pcm_node_del(dev);
err_free:
	dev_free_buffers(dev);
	mutex_destroy(&dev->dma_lock);
	kfree(dev);
	return ERR_PTR(ret);
}

/**
 * ac97_dev_destroy() - stop a device and drop the creator's reference
 * @dev: the device; the host must no longer call its register accessors
 *
 * Readers still holding the PCM node get what is buffered, then end of file;
 * writers get -ENODEV.
 * Context: process context; sleeps.
 */
void ac97_dev_destroy(struct ac97_dev *dev)
{
	struct task_struct *thread;
	unsigned int i;

	/* Nobody kicks the thread once it is gone: kicks look under the lock. */
	spin_lock(&dev->lock);
	thread = dev->thread;
	dev->thread = NULL;
	spin_unlock(&dev->lock);
	if (thread)
		kthread_stop(thread);
	/*
	 * A reader pulling (ac97_dma_pull()) calls the host under @dma_lock
	 * unless unplugged: once this lock has been ours, none calls it again,
	 * and the host may go.
	 */
	ac97_dev_unplug(dev);
	mutex_lock(&dev->dma_lock);
	mutex_unlock(&dev->dma_lock);
	spin_lock(&dev->lock);
	if (dev->irq_level) {
		dev->irq_level = false;
		dev->ops->set_irq(dev->host, false);
	}
	spin_unlock(&dev->lock);
	ac97_pcm_node_del(dev);
	ac97_ring_close(&dev->ring);
	for (i = 0; i < AC97_SOURCES; i++)
		ac97_source_close(&dev->src[i]);
	ac97_dev_put(dev);
}
