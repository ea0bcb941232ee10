// SPDX-License-Identifier: GPL-2.0
/*
 * KVM glue: attach an ac97-emu device to a VM. The two I/O BARs become
 * kvm_io_devices on the VM's PIO bus, guest memory is read from the DMA
 * thread in the VMM's mm (as vhost does), and the interrupt line is an
 * irqfd with a resamplefd (level-triggered INTx).
 *
 * Stock kernels do not export kvm_io_bus_register_dev(), so the bus is
 * updated here the way KVM does it: under kvm->slots_lock, publish a copy
 * with the range inserted in KVM's sort order, wait for SRCU readers, free
 * the old copy. Where a kernel exports KVM's own functions, they are used.
 *
 * Locking: kvm->slots_lock serialises every bus update and our mapping state
 * (struct ac97_kvm's bases and mapped flags); a handle's ioctls also take
 * ak->lock first. Lock order: ak->lock, kvm->slots_lock, dev->lock.
 */
#include <linux/anon_inodes.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <kvm/iodev.h>

#include "ac97.h"

/* One I/O BAR on the PIO bus. */
struct ac97_bar {
	struct kvm_io_device io;
	struct ac97_kvm *ak;
	bool nabm;			/* BAR1 (bus master), else BAR0 (mixer) */
};

struct ac97_kvm {
	struct mutex lock;		/* serialises this handle's ioctls */
	struct kvm *kvm;
	struct mm_struct *mm;
	struct ac97_dev *dev;
	struct ac97_bar nam;
	struct ac97_bar nabm;
	struct ac97_bars bars;		/* under kvm->slots_lock */
	struct eventfd_ctx *irq;
	struct eventfd_ctx *resample;
	/*
	 * The eventfds' files too: KVM shuts an irqfd down when its eventfd
	 * file is released, so they must live as long as we are attached.
	 */
	struct file *irq_file;
	struct file *resample_file;
	wait_queue_entry_t resample_wait;
	poll_table resample_pt;
	struct work_struct resample_work;
};

static int (*kvm_register_fn)(struct kvm *kvm, enum kvm_bus bus_idx,
			      gpa_t addr, int len, struct kvm_io_device *dev);
static int (*kvm_unregister_fn)(struct kvm *kvm, enum kvm_bus bus_idx,
				struct kvm_io_device *dev);

static void ac97_signal(struct eventfd_ctx *ctx)
{
#ifdef AC97_EVENTFD_SIGNAL_COUNT
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

/* --- host ops for the device model --- */

static int kvm_read_guest_op(void *host, u64 gpa, void *buf, size_t len)
{
	struct ac97_kvm *ak = host;
	int idx, ret;

	idx = srcu_read_lock(&ak->kvm->srcu);
	ret = kvm_read_guest(ak->kvm, gpa, buf, len);
	srcu_read_unlock(&ak->kvm->srcu, idx);
	return ret;
}

/* Assert only: KVM drops the line at the guest's EOI and tells us by resample. */
static void kvm_set_irq_op(void *host, bool level)
{
	struct ac97_kvm *ak = host;

	if (level)
		ac97_signal(ak->irq);
}

static int kvm_thread_enter(void *host)
{
	struct ac97_kvm *ak = host;

	kthread_use_mm(ak->mm);
	return 0;
}

static void kvm_thread_exit(void *host)
{
	struct ac97_kvm *ak = host;

	kthread_unuse_mm(ak->mm);
}

static const struct ac97_host_ops ac97_kvm_ops = {
	.read_guest = kvm_read_guest_op,
	.set_irq = kvm_set_irq_op,
	.thread_enter = kvm_thread_enter,
	.thread_exit = kvm_thread_exit,
};

/* --- the guest's port I/O --- */

static bool access_ok_in(gpa_t addr, int len, u16 base, unsigned int size)
{
	return (len == 1 || len == 2 || len == 4) && addr >= base &&
	       addr + len <= (gpa_t)base + size;
}

/* Where an access to @bar lands: the offset in the BAR, or -1 to pass it on. */
static int bar_offset(struct ac97_bar *bar, gpa_t addr, int len)
{
	struct ac97_kvm *ak = bar->ak;
	u16 base = bar->nabm ? READ_ONCE(ak->bars.nabm_base) :
			       READ_ONCE(ak->bars.nam_base);

	if (!access_ok_in(addr, len, base,
			  bar->nabm ? AC97_NABM_SIZE : AC97_NAM_SIZE))
		return -1;
	return addr - base;
}

static int bar_read(struct kvm_vcpu *vcpu, struct kvm_io_device *this,
		    gpa_t addr, int len, void *val)
{
	struct ac97_bar *bar = container_of(this, struct ac97_bar, io);
	int off = bar_offset(bar, addr, len);
	__le32 v;

	if (off < 0)
		return -EOPNOTSUPP;
	v = cpu_to_le32(bar->nabm ? ac97_nabm_read(bar->ak->dev, off, len) :
				    ac97_nam_read(bar->ak->dev, off, len));
	memcpy(val, &v, len);
	return 0;
}

static int bar_write(struct kvm_vcpu *vcpu, struct kvm_io_device *this,
		     gpa_t addr, int len, const void *val)
{
	struct ac97_bar *bar = container_of(this, struct ac97_bar, io);
	int off = bar_offset(bar, addr, len);
	__le32 v = 0;

	if (off < 0)
		return -EOPNOTSUPP;
	memcpy(&v, val, len);
	if (bar->nabm)
		ac97_nabm_write(bar->ak->dev, off, len, le32_to_cpu(v));
	else
		ac97_nam_write(bar->ak->dev, off, len, le32_to_cpu(v));
	return 0;
}

/*
 * KVM calls this when it tears a whole bus down. We hold a VM reference,
 * so that only happens when some other device's removal failed to allocate;
 * our ranges are then gone with the bus and ac97_bus_del() finds nothing.
 */
static void ac97_io_destructor(struct kvm_io_device *this)
{
}

static const struct kvm_io_device_ops bar_io_ops = {
	.read = bar_read,
	.write = bar_write,
	.destructor = ac97_io_destructor,
};

/* --- the PIO bus, as kvm_main.c keeps it --- */

/* KVM's order: by address, then by length; it finds ranges by bsearch. */
static int range_cmp(const struct kvm_io_range *a, gpa_t addr, int len)
{
	if (a->addr != addr)
		return a->addr < addr ? -1 : 1;
	if (a->len != len)
		return a->len < len ? -1 : 1;
	return 0;
}

static bool bus_overlaps(const struct kvm_io_bus *bus, gpa_t addr, int len)
{
	int i;

	for (i = 0; i < bus->dev_count; i++)
		if (bus->range[i].addr < addr + len &&
		    addr < bus->range[i].addr + bus->range[i].len)
			return true;
	return false;
}

static int ac97_bus_add(struct kvm *kvm, gpa_t addr, int len,
			struct kvm_io_device *io)
{
	struct kvm_io_bus *bus, *new_bus;
	int i;

	lockdep_assert_held(&kvm->slots_lock);
	bus = kvm_get_bus(kvm, KVM_PIO_BUS);
	if (!bus)
		return -ENODEV;
	if (bus_overlaps(bus, addr, len))
		return -EBUSY;
	if (kvm_register_fn)
		return kvm_register_fn(kvm, KVM_PIO_BUS, addr, len, io);
	if (bus->dev_count - bus->ioeventfd_count > NR_IOBUS_DEVS - 1)
		return -ENOSPC;
	new_bus = kmalloc(struct_size(bus, range, bus->dev_count + 1),
			  GFP_KERNEL_ACCOUNT);
	if (!new_bus)
		return -ENOMEM;
	for (i = 0; i < bus->dev_count; i++)
		if (range_cmp(&bus->range[i], addr, len) > 0)
			break;
	memcpy(new_bus, bus, struct_size(bus, range, i));
	new_bus->dev_count++;
	new_bus->range[i] = (struct kvm_io_range) {
		.addr = addr, .len = len, .dev = io,
	};
	memcpy(new_bus->range + i + 1, bus->range + i,
	       (bus->dev_count - i) * sizeof(struct kvm_io_range));
	rcu_assign_pointer(kvm->buses[KVM_PIO_BUS], new_bus);
	synchronize_srcu_expedited(&kvm->srcu);
	kfree(bus);
	return 0;
}

/* Remove @io if it is on the bus. Cannot fail: a teardown path. */
static void ac97_bus_del(struct kvm *kvm, struct kvm_io_device *io)
{
	struct kvm_io_bus *bus, *new_bus;
	int i;

	lockdep_assert_held(&kvm->slots_lock);
	bus = kvm_get_bus(kvm, KVM_PIO_BUS);
	if (!bus)
		return;
	for (i = 0; i < bus->dev_count; i++)
		if (bus->range[i].dev == io)
			break;
	if (i == bus->dev_count)
		return;
	if (kvm_unregister_fn) {
		kvm_unregister_fn(kvm, KVM_PIO_BUS, io);
		return;
	}
	/* Small, and failing here would mean tearing down the whole bus. */
	new_bus = kmalloc(struct_size(bus, range, bus->dev_count - 1),
			  GFP_KERNEL_ACCOUNT | __GFP_NOFAIL);
	memcpy(new_bus, bus, struct_size(bus, range, i));
	new_bus->dev_count--;
	memcpy(new_bus->range + i, bus->range + i + 1,
	       (new_bus->dev_count - i) * sizeof(struct kvm_io_range));
	rcu_assign_pointer(kvm->buses[KVM_PIO_BUS], new_bus);
	synchronize_srcu_expedited(&kvm->srcu);
	kfree(bus);
}

static int bars_valid(const struct ac97_bars *b)
{
	if (b->reserved || (b->map & ~(AC97_MAP_NAM | AC97_MAP_NABM)))
		return -EINVAL;
	if ((b->map & AC97_MAP_NAM) && (b->nam_base % AC97_NAM_SIZE))
		return -EINVAL;
	if ((b->map & AC97_MAP_NABM) && (b->nabm_base % AC97_NABM_SIZE))
		return -EINVAL;
	if ((b->map & AC97_MAP_NAM) && (b->map & AC97_MAP_NABM) &&
	    b->nabm_base >= b->nam_base &&
	    b->nabm_base < b->nam_base + AC97_NAM_SIZE)
		return -EINVAL;	/* NABM inside NAM; aligned, so only this way */
	return 0;
}

/* Move/map/unmap both ranges, all or nothing. */
static int ac97_set_bars(struct ac97_kvm *ak, const struct ac97_bars *b)
{
	struct kvm *kvm = ak->kvm;
	struct ac97_bars old;
	int ret;

	ret = bars_valid(b);
	if (ret)
		return ret;
	mutex_lock(&kvm->slots_lock);
	old = ak->bars;
	ac97_bus_del(kvm, &ak->nam.io);
	ac97_bus_del(kvm, &ak->nabm.io);
	WRITE_ONCE(ak->bars.nam_base, b->nam_base);
	WRITE_ONCE(ak->bars.nabm_base, b->nabm_base);
	ak->bars.map = 0;
	ret = 0;
	if (b->map & AC97_MAP_NAM)
		ret = ac97_bus_add(kvm, b->nam_base, AC97_NAM_SIZE, &ak->nam.io);
	if (!ret && (b->map & AC97_MAP_NABM)) {
		ret = ac97_bus_add(kvm, b->nabm_base, AC97_NABM_SIZE, &ak->nabm.io);
		if (ret)
			ac97_bus_del(kvm, &ak->nam.io);
	}
	if (!ret) {
		ak->bars.map = b->map;
	} else {
		/* Put back what was there; those ranges were ours a moment ago. */
		WRITE_ONCE(ak->bars.nam_base, old.nam_base);
		WRITE_ONCE(ak->bars.nabm_base, old.nabm_base);
		if ((old.map & AC97_MAP_NAM) &&
		    !ac97_bus_add(kvm, old.nam_base, AC97_NAM_SIZE, &ak->nam.io))
			ak->bars.map |= AC97_MAP_NAM;
		if ((old.map & AC97_MAP_NABM) &&
		    !ac97_bus_add(kvm, old.nabm_base, AC97_NABM_SIZE, &ak->nabm.io))
			ak->bars.map |= AC97_MAP_NABM;
	}
	mutex_unlock(&kvm->slots_lock);
	return ret;
}

/* --- interrupt resampling --- */

static void resample_work_fn(struct work_struct *work)
{
	struct ac97_kvm *ak = container_of(work, struct ac97_kvm, resample_work);

	if (ac97_irq_pending(ak->dev))
		ac97_signal(ak->irq);
}

/*
 * The guest EOI'd and KVM dropped the line. Re-assert from a work item:
 * signalling an eventfd from inside another's wakeup is refused.
 */
static int resample_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			   int sync, void *key)
{
	struct ac97_kvm *ak = container_of(wait, struct ac97_kvm, resample_wait);
	u64 cnt;

	if (key_to_poll(key) & EPOLLIN) {
		eventfd_ctx_do_read(ak->resample, &cnt);
		schedule_work(&ak->resample_work);
	}
	return 0;
}

static void resample_queue_proc(struct file *file, wait_queue_head_t *wqh,
				poll_table *pt)
{
	struct ac97_kvm *ak = container_of(pt, struct ac97_kvm, resample_pt);

	add_wait_queue(wqh, &ak->resample_wait);
}

/* Take the eventfd behind @fd: its context, and its file in @filep. */
static struct eventfd_ctx *eventfd_take(int fd, struct file **filep)
{
	struct file *file = fget(fd);
	struct eventfd_ctx *ctx;

	if (!file)
		return ERR_PTR(-EBADF);
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx)) {
		fput(file);
		return ctx;
	}
	*filep = file;
	return ctx;
}

static int resample_attach(struct ac97_kvm *ak, int fd)
{
	struct eventfd_ctx *ctx = eventfd_take(fd, &ak->resample_file);

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	ak->resample = ctx;
	INIT_WORK(&ak->resample_work, resample_work_fn);
	init_waitqueue_func_entry(&ak->resample_wait, resample_wakeup);
	init_poll_funcptr(&ak->resample_pt, resample_queue_proc);
	vfs_poll(ak->resample_file, &ak->resample_pt);
	return 0;
}

static void resample_detach(struct ac97_kvm *ak)
{
	u64 cnt;

	eventfd_ctx_remove_wait_queue(ak->resample, &ak->resample_wait, &cnt);
	cancel_work_sync(&ak->resample_work);
	eventfd_ctx_put(ak->resample);
	fput(ak->resample_file);
}

/* --- the device handle --- */

static void ac97_kvm_free(struct ac97_kvm *ak)
{
	struct kvm *kvm = ak->kvm;

	if (ak->dev)
		ac97_dev_unplug(ak->dev);	/* the stream ends at the detach */
	mutex_lock(&kvm->slots_lock);
	ac97_bus_del(kvm, &ak->nam.io);
	ac97_bus_del(kvm, &ak->nabm.io);
	mutex_unlock(&kvm->slots_lock);
	/* No vCPU can reach the device now; stop the DMA, then the interrupt. */
	if (ak->dev)
		ac97_dev_destroy(ak->dev);
	if (ak->resample)
		resample_detach(ak);
	if (ak->irq) {
		eventfd_ctx_put(ak->irq);
		fput(ak->irq_file);
	}
	mmput(ak->mm);
	kfree(ak);
	kvm_put_kvm(kvm);	/* last: it may destroy the VM */
}

static int handle_release(struct inode *inode, struct file *file)
{
	ac97_kvm_free(file->private_data);
	return 0;
}

static long handle_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ac97_kvm *ak = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct ac97_dev_info info;
	struct ac97_bars bars;
	long ret;

	switch (cmd) {
	case AC97_DEV_SET_BARS:
		if (copy_from_user(&bars, uarg, sizeof(bars)))
			return -EFAULT;
		mutex_lock(&ak->lock);
		ret = ac97_set_bars(ak, &bars);
		mutex_unlock(&ak->lock);
		return ret;
	case AC97_DEV_GET_INFO:
		ac97_dev_info(ak->dev, &info);
		return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations handle_fops = {
	.owner = THIS_MODULE,
	.release = handle_release,
	.unlocked_ioctl = handle_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* Take a VM reference from @fd, which must be a VM of the calling process. */
static struct kvm *kvm_from_fd(int fd)
{
	struct file *file = fget(fd);
	struct kvm *kvm;

	if (!file)
		return ERR_PTR(-EBADF);
	if (!file_is_kvm(file)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	kvm = file->private_data;
	if (kvm->mm != current->mm) {
		fput(file);
		return ERR_PTR(-EPERM);
	}
	kvm_get_kvm(kvm);
	fput(file);
	return kvm;
}

static int ac97_attach(const struct ac97_attach *req)
{
	struct ac97_kvm *ak;
	struct kvm *kvm;
	int ret;

	if (req->flags)
		return -EINVAL;
	ret = bars_valid(&req->bars);
	if (ret)
		return ret;
	kvm = kvm_from_fd(req->vm_fd);
	if (IS_ERR(kvm))
		return PTR_ERR(kvm);
	ak = kzalloc(sizeof(*ak), GFP_KERNEL_ACCOUNT);
	if (!ak) {
		kvm_put_kvm(kvm);
		return -ENOMEM;
	}
	mutex_init(&ak->lock);
	ak->kvm = kvm;
	mmget(current->mm);
	ak->mm = current->mm;
	kvm_iodevice_init(&ak->nam.io, &bar_io_ops);
	kvm_iodevice_init(&ak->nabm.io, &bar_io_ops);
	ak->nam.ak = ak;
	ak->nabm.ak = ak;
	ak->nabm.nabm = true;

	ak->irq = eventfd_take(req->irq_fd, &ak->irq_file);
	if (IS_ERR(ak->irq)) {
		ret = PTR_ERR(ak->irq);
		ak->irq = NULL;
		goto err;
	}
	ret = resample_attach(ak, req->resample_fd);
	if (ret)
		goto err;
	ak->dev = ac97_dev_create(&ac97_kvm_ops, ak, 0);
	if (IS_ERR(ak->dev)) {
		ret = PTR_ERR(ak->dev);
		ak->dev = NULL;
		goto err;
	}
	ret = ac97_set_bars(ak, &req->bars);
	if (ret)
		goto err;
	ret = anon_inode_getfd("ac97-emu", &handle_fops, ak, O_RDWR | O_CLOEXEC);
	if (ret < 0)
		goto err;
	return ret;
err:
	ac97_kvm_free(ak);
	return ret;
}

static long ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ac97_attach req;
	int ret;

	if (cmd != AC97_CTL_ATTACH)
		return -ENOTTY;
	if (copy_from_user(&req, (void __user *)arg, sizeof(req)))
		return -EFAULT;
	ret = ac97_attach(&req);
	if (ret < 0)
		pr_warn_ratelimited("ac97-emu: attach by %s[%d] failed: %d\n",
				    current->comm, task_pid_nr(current), ret);
	return ret;
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice ctl_node = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ac97ctl",
	.fops = &ctl_fops,
	.mode = 0600,
};

int ac97_kvm_init(void)
{
	kvm_register_fn = symbol_get(kvm_io_bus_register_dev);
	kvm_unregister_fn = symbol_get(kvm_io_bus_unregister_dev);
	/* Both or neither: mixing KVM's and our bus updates is fine, but keep it simple. */
	if (!kvm_register_fn || !kvm_unregister_fn) {
		if (kvm_register_fn)
			symbol_put(kvm_io_bus_register_dev);
		if (kvm_unregister_fn)
			symbol_put(kvm_io_bus_unregister_dev);
		kvm_register_fn = NULL;
		kvm_unregister_fn = NULL;
	}
	pr_debug("ac97-emu: PIO bus updates by %s\n",
		 kvm_register_fn ? "KVM's exported functions" : "ac97-emu");
	return misc_register(&ctl_node);
}

void ac97_kvm_exit(void)
{
	misc_deregister(&ctl_node);
	if (kvm_register_fn) {
		symbol_put(kvm_io_bus_register_dev);
		symbol_put(kvm_io_bus_unregister_dev);
	}
}
