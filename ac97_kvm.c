// SPDX-License-Identifier: GPL-2.0
/*
 * KVM glue: attach an ac97-emu device to a VM. The two I/O BARs become
 * kvm_io_devices on the VM's PIO bus, guest memory is read and written by the
 * DMA thread through the VMM's address space (borrowed for each engine run,
 * as vhost does; writes mark KVM's dirty bitmap), and the interrupt line is
 * an irqfd with a resamplefd (level-triggered INTx).
 *
 * Stock kernels do not export kvm_io_bus_register_dev(), so the bus is
 * updated here the way KVM does it: under kvm->slots_lock, publish a copy
 * with the range inserted in KVM's sort order, wait for SRCU readers, free
 * the old copy. Where a kernel exports KVM's own functions, they are used.
 *
 * Lifetime of a handle (struct ac97_kvm): made by AC97_CTL_ATTACH, freed by
 * the last fput of its file (the VMM's close or exit, or an io_uring letting
 * go of a fixed file), in ac97_kvm_free(). While it lives it holds a
 * reference on the VM, the VMM's mm_struct (mmgrab: not its address space,
 * so a handle kept alive through that address space cannot keep it alive),
 * both eventfd files and the device's creator reference.
 *
 * Order of setup and teardown, and why: the device exists before anything
 * can call into it (the resample wakeup, a vCPU); on teardown the DMA stops
 * first (the guest may reuse buffers once its ports are gone), then the
 * ports go (no vCPU left in the handlers), then the resample hook (no work
 * item left), then the device, then the references.
 *
 * Locking: kvm->slots_lock serialises every bus update and a handle's
 * mapping state (its bases and mapped flags); a handle's ioctls also take
 * ak->lock first; handles_lock guards the list of handles (caps and eventfd
 * checks). Lock order: handles_lock (alone), ak->lock, kvm->slots_lock,
 * dev->lock.
 */
#include <linux/anon_inodes.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/kvm_host.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <kvm/iodev.h>

#include "ac97.h"

static unsigned int max_devices = 64;
module_param(max_devices, uint, 0644);
MODULE_PARM_DESC(max_devices,
		 "Devices attached at once, all VMs together (default 64, at most 256); more: ENOSPC");
static unsigned int max_per_vm = 4;
module_param(max_per_vm, uint, 0644);
MODULE_PARM_DESC(max_per_vm, "Devices attached to one VM at once (default 4); more: EMFILE");

struct ac97_tombstone;

/* One I/O BAR on the PIO bus. */
struct ac97_bar {
	struct kvm_io_device io;
	struct ac97_kvm *ak;
	bool nabm;			/* BAR1 (bus master), else BAR0 (mixer) */
};

/**
 * struct ac97_kvm - a device handle: one device attached to one VM
 * @lock: serialises this handle's ioctls
 * @link: entry in the list of handles, under handles_lock
 * @kvm: the VM (a reference)
 * @mm: the VMM's mm_struct (mmgrab); its address space only while in use
 * @dev: the device (the creator's reference)
 * @nam: BAR0 on the bus
 * @nabm: BAR1 on the bus
 * @bars: placement and decoding, under kvm->slots_lock
 * @irq: the irqfd's eventfd
 * @resample: the resamplefd's eventfd
 * @irq_file: @irq's file: KVM shuts an irqfd down when its eventfd file is
 *	released, so it must live as long as we are attached
 * @resample_file: @resample's file
 * @resample_hooked: @resample_wait is on @resample's wait queue
 * @resample_wait: our entry there
 * @resample_pt: to get it there
 * @resample_work: re-asserts a line still high after the guest's EOI
 * @unhandled_work: re-asserts, a little later, a line that stayed high
 *	since the signal, if the guest has not touched the bus master since
 *	the EOI (resample_work_fn())
 * @irq_state: AC97_IRQ_IN_SERVICE: signalled, not yet EOI'd (irq_assert());
 *	AC97_IRQ_LOWERED: the line went low since the signal;
 *	AC97_IRQ_TOUCHED: a vCPU accessed the bus master since the EOI;
 *	AC97_IRQ_STOPPED: the VMM stopped the VM (AC97_DEV_SET_STOPPED);
 *	AC97_IRQ_HELD: an assert came while stopped, for the resume to make
 * @unhandled_waits: how often @unhandled_work found the guest at work
 *	since the EOI
 * @lowered_before_eoi: see struct ac97_dev_info; written under the
 *	device's lock (set_irq is called there)
 * @irq_signalled: jiffies of that signal
 * @spare: tombstones for taking the ranges off the bus without allocating
 * @mm_borrowed: the DMA thread has the VMM's address space (kvm_dma_begin())
 */
struct ac97_kvm {
	struct mutex lock;	/* see above */
	struct list_head link;
	struct kvm *kvm;
	struct mm_struct *mm;
	struct ac97_dev *dev;
	struct ac97_bar nam;
	struct ac97_bar nabm;
	struct ac97_bars bars;
	struct eventfd_ctx *irq;
	struct eventfd_ctx *resample;
	struct file *irq_file;
	struct file *resample_file;
	bool resample_hooked;
	wait_queue_entry_t resample_wait;
	poll_table resample_pt;
	struct work_struct resample_work;
	struct delayed_work unhandled_work;
	unsigned long irq_state;
	unsigned long irq_signalled;
	unsigned int unhandled_waits;
	u64 lowered_before_eoi;
	struct ac97_tombstone *spare[2];
	bool mm_borrowed;
};

static DEFINE_MUTEX(handles_lock);	/* @handles */
static LIST_HEAD(handles);

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

/*
 * Callers: the DMA thread inside dma_begin/dma_end, a vCPU catching up, or
 * a PCM reader in the VMM pulling (kvm_dma_here()); kvm->srcu keeps the
 * slots it looks at.
 */
static int kvm_read_guest_op(void *host, u64 gpa, void *buf, size_t len)
{
	struct ac97_kvm *ak = host;
	int idx, ret;

	idx = srcu_read_lock(&ak->kvm->srcu);
	ret = kvm_read_guest(ak->kvm, gpa, buf, len);
	srcu_read_unlock(&ak->kvm->srcu, idx);
	return ret;
}

/*
 * Whether the whole of [@gpa, @gpa + @len) is writable guest RAM, checked
 * page by page before anything is written: a capture transfer is written
 * whole or not at all. Caller holds kvm->srcu.
 */
static bool guest_ram_writable(struct kvm *kvm, u64 gpa, size_t len)
{
	struct kvm_memory_slot *slot;
	gfn_t gfn;

	if (!len)
		return true;
	for (gfn = gpa >> PAGE_SHIFT; gfn <= (gpa + len - 1) >> PAGE_SHIFT; gfn++) {
		slot = gfn_to_memslot(kvm, gfn);
		if (!slot || (slot->flags & (KVM_MEMSLOT_INVALID | KVM_MEM_READONLY)))
			return false;
#ifdef KVM_MEM_GUEST_MEMFD
		if (slot->flags & KVM_MEM_GUEST_MEMFD)
			return false;
#endif
	}
	return true;
}

/*
 * Write guest RAM through the memslot's host address in the borrowed
 * address space, and mark each page dirty in the slot's dirty bitmap
 * ourselves. kvm_write_guest() would mark it through
 * mark_page_dirty_in_slot(), which WARNs without a running vCPU (6.1, 6.12)
 * and on 6.1 then does not mark it at all. The bit is set after the data
 * is written, as KVM does, so a KVM_GET_DIRTY_LOG that sees it copies the
 * page with the data in it; the bitmap is read and cleared with atomic
 * operations by KVM too. A VM that logs dirty pages to a per-vCPU ring
 * (KVM_CAP_DIRTY_LOG_RING) cannot be told from here: -EOPNOTSUPP, and the
 * function halts with FIFOE and says why.
 */
/*
 * Callers: the device's DMA thread, inside dma_begin/dma_end (the VMM's
 * address space borrowed, the handle alive, so the VM's reference too), or
 * a vCPU of the VM catching the DMA up in a register read (kvm_dma_here());
 * never a user (a PCM reader's pull steps PCM out only, which reads).
 * Concurrent with vCPUs and KVM_SET_USER_MEMORY_REGION: kvm->srcu keeps
 * the slots it looked at from being freed, and a slot being deleted or
 * moved is KVM_MEMSLOT_INVALID, refused.
 */
static int kvm_write_guest_op(void *host, u64 gpa, const void *buf, size_t len)
{
	struct ac97_kvm *ak = host;
	struct kvm *kvm = ak->kvm;
	struct kvm_memory_slot *slot;
	unsigned long *bitmap;
	size_t seg, off;
	int idx, ret = 0;
	gfn_t gfn;

	if (READ_ONCE(kvm->dirty_ring_size))
		return -EOPNOTSUPP;
	idx = srcu_read_lock(&kvm->srcu);
	if (!guest_ram_writable(kvm, gpa, len)) {
		ret = -EFAULT;
		goto out;
	}
	for (; len; len -= seg, gpa += seg, buf += seg) {
		gfn = gpa >> PAGE_SHIFT;
		off = offset_in_page(gpa);
		seg = min_t(size_t, len, PAGE_SIZE - off);
		slot = gfn_to_memslot(kvm, gfn);
		if (copy_to_user((void __user *)(__gfn_to_hva_memslot(slot, gfn) + off),
				 buf, seg)) {
			ret = -EFAULT;
			goto out;
		}
		bitmap = READ_ONCE(slot->dirty_bitmap);
		if (bitmap) {
			/* The data before the bit: a log reader copies it. */
			smp_mb__before_atomic();
			set_bit_le(gfn - slot->base_gfn, bitmap);
		}
	}
out:
	srcu_read_unlock(&kvm->srcu, idx);
	return ret;
}

/*
 * One assert in flight at a time. KVM asserts an irqfd's line from a work
 * item, some time after the signal, and drops it at the guest's EOI; a
 * second signal before that EOI could assert again after it, when the
 * guest has already cleared the status: a spurious interrupt. So the line
 * is signalled only when no interrupt is in service (AC97_IRQ_IN_SERVICE,
 * set by a signal, cleared at the EOI); a raise meanwhile is re-asserted
 * after the EOI by the resample work, if the line is still high then. An
 * EOI that never came (the VM was reset with the interrupt in service) is
 * not waited for beyond a second.
 */
#define AC97_IRQ_IN_SERVICE	0
#define AC97_IRQ_LOWERED	1
#define AC97_IRQ_TOUCHED	2
#define AC97_IRQ_STOPPED	3
#define AC97_IRQ_HELD		4
#define AC97_EOI_TIMEOUT	HZ
#define AC97_UNHANDLED_DELAY	msecs_to_jiffies(20)
#define AC97_UNHANDLED_WAITS	5

/*
 * A stopped VM gets no interrupt (a migration would carry it in the
 * irqchip's state); the assert is held for the resume. Callers: the DMA
 * thread and vCPUs (set_irq, under the device's lock) and the resample and
 * unhandled work items, any of them at once. Against a resume at the same
 * moment (kvm_set_stopped()): each side writes its bit, then reads the
 * other's, so at least one of them asserts; two asserts are one, by
 * AC97_IRQ_IN_SERVICE.
 */
static bool irq_held(struct ac97_kvm *ak)
{
	if (!test_bit(AC97_IRQ_STOPPED, &ak->irq_state))
		return false;
	set_bit(AC97_IRQ_HELD, &ak->irq_state);
	smp_mb__after_atomic();	/* HELD, then STOPPED again: pairs with kvm_set_stopped() */
	return test_bit(AC97_IRQ_STOPPED, &ak->irq_state);
}

static void irq_assert(struct ac97_kvm *ak)
{
	if (irq_held(ak))
		return;
	if (!test_and_set_bit(AC97_IRQ_IN_SERVICE, &ak->irq_state))
		WRITE_ONCE(ak->irq_signalled, jiffies);
	else if (time_before(jiffies, READ_ONCE(ak->irq_signalled) + AC97_EOI_TIMEOUT))
		return;
	clear_bit(AC97_IRQ_LOWERED, &ak->irq_state);
	ac97_signal(ak->irq);
}

/*
 * Assert only: KVM drops the line at the guest's EOI and tells us by
 * resample. A drop is remembered: it tells that EOI whether the guest has
 * handled what was signalled.
 */
static void kvm_set_irq_op(void *host, bool level)
{
	struct ac97_kvm *ak = host;

	if (level) {
		irq_assert(ak);
		return;
	}
	set_bit(AC97_IRQ_LOWERED, &ak->irq_state);
	if (test_bit(AC97_IRQ_IN_SERVICE, &ak->irq_state))
		WRITE_ONCE(ak->lowered_before_eoi, ak->lowered_before_eoi + 1);
}

/*
 * The DMA thread borrows the VMM's address space (guest RAM is mapped there)
 * while a DMA function runs, not for good: once the thread is the address space's
 * last user, the VMM has exited and it is given back, so that nothing the
 * address space itself holds (an io_uring mapping with the handle in its
 * fixed files) can keep it, and through it the VM, alive. Thread only.
 */
static void kvm_mm_give_back(struct ac97_kvm *ak)
{
	if (!ak->mm_borrowed)
		return;
	kthread_unuse_mm(ak->mm);
	mmput_async(ak->mm);	/* maybe the last: no address-space teardown here */
	ak->mm_borrowed = false;
}

static int kvm_dma_begin(void *host)
{
	struct ac97_kvm *ak = host;

	if (ak->mm_borrowed) {
		if (atomic_read(&ak->mm->mm_users) > 1)
			return 0;
		kvm_mm_give_back(ak);	/* the VMM is gone */
		return -ESRCH;
	}
	if (!mmget_not_zero(ak->mm))
		return -ESRCH;
	kthread_use_mm(ak->mm);
	ak->mm_borrowed = true;
	return 0;
}

/*
 * Callers: a vCPU of the VM in the register handlers, and a reader of the
 * device's PCM out stream in read() or AC97_PCM_READ (ac97_dma_pull(),
 * under the device's dma_lock while it is plugged, so @ak is alive). Any
 * thread of the VMM runs in its address space, where guest RAM is mapped:
 * it may read guest memory itself, under kvm->srcu as KVM's own device
 * emulation does (a reader only reads: pulls step PCM out alone), and could
 * read it anyway. A kthread, or any other process holding a PCM fd (one
 * the VMM passed on, a user's cat), may not. KVM calls the port handlers
 * preemptible (its PIT takes a mutex there).
 */
static bool kvm_dma_here(void *host)
{
	struct ac97_kvm *ak = host;

	return current->mm == ak->mm && !(current->flags & PF_KTHREAD);
}

static void kvm_dma_end(void *host, bool idle)
{
	if (idle)
		kvm_mm_give_back(host);
}

static const struct ac97_host_ops ac97_kvm_ops = {
	.read_guest = kvm_read_guest_op,
	.write_guest = kvm_write_guest_op,
	.set_irq = kvm_set_irq_op,
	.dma_begin = kvm_dma_begin,
	.dma_here = kvm_dma_here,
	.dma_end = kvm_dma_end,
};

/* --- the guest's port I/O --- */

static bool access_ok_in(gpa_t addr, int len, u16 base, unsigned int size)
{
	return (len == 1 || len == 2 || len == 4) && addr >= base &&
	       addr + len <= (gpa_t)base + size;
}

/*
 * Where an access to @bar lands: the offset in the BAR, or -1 to pass it on.
 * The base is read once: a concurrent AC97_DEV_SET_BARS publishes the new
 * base before the new range and waits for every vCPU to leave the old one,
 * so an access decoded against either base is one the guest could see.
 */
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

/*
 * The guest is at the bus master: see unhandled_work_fn(). Any vCPU, on
 * every bus-master access, racing the resample wakeup that clears the bit:
 * a set lost to that clear only makes one late re-assert come 20 ms
 * earlier, as before the bit existed. Test first: no cache-line write on
 * the hot path once set.
 */
static void mark_touched(struct ac97_kvm *ak)
{
	if (!test_bit(AC97_IRQ_TOUCHED, &ak->irq_state))
		set_bit(AC97_IRQ_TOUCHED, &ak->irq_state);
}

static int bar_read(struct kvm_vcpu *vcpu, struct kvm_io_device *this,
		    gpa_t addr, int len, void *val)
{
	struct ac97_bar *bar = container_of(this, struct ac97_bar, io);
	int off = bar_offset(bar, addr, len);
	__le32 v;

	if (off < 0)
		return -EOPNOTSUPP;
	if (bar->nabm)
		mark_touched(bar->ak);
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
	if (bar->nabm) {
		mark_touched(bar->ak);
		ac97_nabm_write(bar->ak->dev, off, len, le32_to_cpu(v));
	} else {
		ac97_nam_write(bar->ak->dev, off, len, le32_to_cpu(v));
	}
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

/*
 * A range whose removal could not get memory for the bus copy: its device
 * pointer now points here, where every access is passed on to userspace,
 * until a later pass (ac97_tombstones_work) can rewrite the bus without it.
 * Allocated ahead, two per handle (ac97_kvm.spare), so that a removal
 * allocates nothing it cannot do without. Once in use, each holds the VM
 * and the module, and the work item frees it.
 */
struct ac97_tombstone {
	struct kvm_io_device io;
	struct kvm *kvm;
	struct list_head link;
};

static int tombstone_rw(struct kvm_vcpu *vcpu, struct kvm_io_device *this,
			gpa_t addr, int len, void *val)
{
	return -EOPNOTSUPP;
}

static int tombstone_w(struct kvm_vcpu *vcpu, struct kvm_io_device *this,
		       gpa_t addr, int len, const void *val)
{
	return -EOPNOTSUPP;
}

static const struct kvm_io_device_ops tombstone_ops = {
	.read = tombstone_rw,
	.write = tombstone_w,
	.destructor = ac97_io_destructor,
};

/* Taken inside kvm->slots_lock, never around it. */
static DEFINE_SPINLOCK(tombstones_lock);	/* @tombstones */
static LIST_HEAD(tombstones);
static void ac97_tombstones_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(ac97_tombstones_work, ac97_tombstones_fn);

static bool is_tombstone(const struct kvm_io_device *io)
{
	return io->ops == &tombstone_ops;
}

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
		if (!is_tombstone(bus->range[i].dev) &&
		    bus->range[i].addr < addr + len &&
		    addr < bus->range[i].addr + bus->range[i].len)
			return true;
	return false;
}

/*
 * Publish @bus rewritten: without ranges of @gone and tombstones, with
 * @add (if any) in its place. Returns -ENOMEM and leaves the bus as it was
 * if there is no memory for the copy. Caller holds kvm->slots_lock.
 */
static int bus_rewrite(struct kvm *kvm, struct kvm_io_bus *bus,
		       const struct kvm_io_device *gone,
		       const struct kvm_io_range *add)
{
	struct kvm_io_bus *new_bus;
	int i, n = 0;

	new_bus = kmalloc(struct_size(bus, range, bus->dev_count + !!add),
			  GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!new_bus)
		return -ENOMEM;
	*new_bus = *bus;
	for (i = 0; i < bus->dev_count; i++) {
		const struct kvm_io_range *r = &bus->range[i];

		if (r->dev == gone || is_tombstone(r->dev))
			continue;
		if (add && range_cmp(r, add->addr, add->len) > 0) {
			new_bus->range[n++] = *add;
			add = NULL;
		}
		new_bus->range[n++] = *r;
	}
	if (add)
		new_bus->range[n++] = *add;
	new_bus->dev_count = n;
	rcu_assign_pointer(kvm->buses[KVM_PIO_BUS], new_bus);
	synchronize_srcu_expedited(&kvm->srcu);
	kfree(bus);
	return 0;
}

static int ac97_bus_add(struct kvm *kvm, gpa_t addr, int len,
			struct kvm_io_device *io)
{
	struct kvm_io_range range = { .addr = addr, .len = len, .dev = io };
	struct kvm_io_bus *bus;

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
	return bus_rewrite(kvm, bus, NULL, &range);
}

/*
 * Remove @io if it is on the bus. Cannot fail, and allocates nothing it
 * cannot do without (the bus copy grows with every device and ioeventfd of
 * the VM, past 32 KiB with ~1400 of them): without memory for the copy, the
 * range's device becomes the tombstone *@spare in place - no vCPU reaches
 * @io once this returns - and a work item rewrites the bus later. Caller
 * holds kvm->slots_lock; *@spare is set to NULL if it was used.
 */
static void ac97_bus_del(struct kvm *kvm, struct kvm_io_device *io,
			 struct ac97_tombstone **spare)
{
	struct ac97_tombstone *ts = *spare;
	struct kvm_io_bus *bus;
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
	if (!bus_rewrite(kvm, bus, io, NULL))
		return;
	*spare = NULL;
	kvm_iodevice_init(&ts->io, &tombstone_ops);
	kvm_get_kvm(kvm);
	ts->kvm = kvm;
	__module_get(THIS_MODULE);
	WRITE_ONCE(bus->range[i].dev, &ts->io);
	synchronize_srcu_expedited(&kvm->srcu);
	spin_lock(&tombstones_lock);
	list_add_tail(&ts->link, &tombstones);
	spin_unlock(&tombstones_lock);
	schedule_delayed_work(&ac97_tombstones_work, HZ / 10);
	pr_warn_ratelimited("ac97-emu: no memory to shrink a VM's PIO bus; ports left dead, cleaned up later\n");
}

/* Rewrite the buses that hold tombstones; try again later without memory. */
static void ac97_tombstones_fn(struct work_struct *work)
{
	struct ac97_tombstone *ts, *next;
	LIST_HEAD(todo);
	bool again = false;

	spin_lock(&tombstones_lock);
	list_splice_init(&tombstones, &todo);
	spin_unlock(&tombstones_lock);
	list_for_each_entry_safe(ts, next, &todo, link) {
		struct kvm *kvm = ts->kvm;
		struct kvm_io_bus *bus;
		int ret = 0;

		mutex_lock(&kvm->slots_lock);
		bus = kvm_get_bus(kvm, KVM_PIO_BUS);
		if (bus)
			ret = bus_rewrite(kvm, bus, NULL, NULL);
		mutex_unlock(&kvm->slots_lock);
		if (ret) {
			again = true;
			continue;
		}
		list_del(&ts->link);
		kfree(ts);
		kvm_put_kvm(kvm);
		module_put(THIS_MODULE);
	}
	if (again) {
		spin_lock(&tombstones_lock);
		list_splice(&todo, &tombstones);
		spin_unlock(&tombstones_lock);
		schedule_delayed_work(&ac97_tombstones_work, HZ);
	}
}

/* Make sure @ak has a spare tombstone for each of its two ranges. */
static int spares_fill(struct ac97_kvm *ak)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(ak->spare); i++)
		if (!ak->spare[i]) {
			ak->spare[i] = kzalloc(sizeof(*ak->spare[i]), GFP_KERNEL_ACCOUNT);
			if (!ak->spare[i])
				return -ENOMEM;
		}
	return 0;
}

/* Take both ranges of @ak off the bus. Caller holds kvm->slots_lock. */
static void bars_del(struct ac97_kvm *ak)
{
	ac97_bus_del(ak->kvm, &ak->nam.io, &ak->spare[0]);
	ac97_bus_del(ak->kvm, &ak->nabm.io, &ak->spare[1]);
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
	if (!ret)
		ret = spares_fill(ak);
	if (ret)
		return ret;
	mutex_lock(&kvm->slots_lock);
	old = ak->bars;
	bars_del(ak);
	WRITE_ONCE(ak->bars.nam_base, b->nam_base);
	WRITE_ONCE(ak->bars.nabm_base, b->nabm_base);
	ak->bars.map = 0;
	ret = 0;
	if (b->map & AC97_MAP_NAM)
		ret = ac97_bus_add(kvm, b->nam_base, AC97_NAM_SIZE, &ak->nam.io);
	if (!ret && (b->map & AC97_MAP_NABM)) {
		ret = ac97_bus_add(kvm, b->nabm_base, AC97_NABM_SIZE, &ak->nabm.io);
		if (ret)
			ac97_bus_del(kvm, &ak->nam.io, &ak->spare[0]);
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

/*
 * A line high at the EOI is re-asserted at once if it went low and came
 * back during the service (a new event). One that stayed high since the
 * signal is usually the same event, not yet handled: an 8259 in level mode
 * is acknowledged (EOI'd) before the guest's handler runs, which then
 * clears the status; asserting again now would deliver a second interrupt
 * with nothing pending. It is re-asserted only if still high, untouched,
 * a little later (a guest that EOI'd without handling it).
 * Both run only between resample_hook() and resample_unhook(): ak->dev exists.
 */
static void resample_work_fn(struct work_struct *work)
{
	struct ac97_kvm *ak = container_of(work, struct ac97_kvm, resample_work);

	if (!ac97_irq_pending(ak->dev))
		return;
	if (test_bit(AC97_IRQ_LOWERED, &ak->irq_state)) {
		irq_assert(ak);
	} else {
		WRITE_ONCE(ak->unhandled_waits, 0);
		schedule_delayed_work(&ak->unhandled_work, AC97_UNHANDLED_DELAY);
	}
}

/*
 * A line still high some time after an EOI that came before the handler
 * (an 8259): a guest whose handler is reading the bus master is handling
 * it, however slowly its vCPU runs (re-asserting then would interrupt it
 * again with nothing left pending); one that has not touched it since the
 * EOI did not handle it, and a level-triggered line would still be up.
 */
static void unhandled_work_fn(struct work_struct *work)
{
	struct ac97_kvm *ak = container_of(to_delayed_work(work), struct ac97_kvm,
					   unhandled_work);
	unsigned int waits;

	if (test_bit(AC97_IRQ_LOWERED, &ak->irq_state) ||
	    !ac97_irq_pending(ak->dev))
		return;
	/* The resample work resets the count: the two may run at once. */
	waits = READ_ONCE(ak->unhandled_waits) + 1;
	WRITE_ONCE(ak->unhandled_waits, waits);
	if (test_and_clear_bit(AC97_IRQ_TOUCHED, &ak->irq_state) &&
	    waits < AC97_UNHANDLED_WAITS) {
		schedule_delayed_work(&ak->unhandled_work, AC97_UNHANDLED_DELAY);
		return;
	}
	irq_assert(ak);
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
		clear_bit(AC97_IRQ_TOUCHED, &ak->irq_state);
		clear_bit(AC97_IRQ_IN_SERVICE, &ak->irq_state);	/* the EOI */
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

/* From here on the guest's EOIs reach resample_work_fn(). */
static void resample_hook(struct ac97_kvm *ak)
{
	INIT_WORK(&ak->resample_work, resample_work_fn);
	INIT_DELAYED_WORK(&ak->unhandled_work, unhandled_work_fn);
	init_waitqueue_func_entry(&ak->resample_wait, resample_wakeup);
	init_poll_funcptr(&ak->resample_pt, resample_queue_proc);
	vfs_poll(ak->resample_file, &ak->resample_pt);
	ak->resample_hooked = true;
}

/* After this, no wakeup or work item of ours runs, nor will. */
static void resample_unhook(struct ac97_kvm *ak)
{
	u64 cnt;

	if (!ak->resample_hooked)
		return;
	eventfd_ctx_remove_wait_queue(ak->resample, &ak->resample_wait, &cnt);
	cancel_work_sync(&ak->resample_work);	/* may queue the next */
	cancel_delayed_work_sync(&ak->unhandled_work);
	ak->resample_hooked = false;
}

/* --- the device handle --- */

static void ac97_kvm_free(struct ac97_kvm *ak)
{
	struct kvm *kvm = ak->kvm;

	if (ak->dev)
		ac97_dev_unplug(ak->dev);	/* the stream ends at the detach */
	mutex_lock(&kvm->slots_lock);
	bars_del(ak);
	mutex_unlock(&kvm->slots_lock);
	/* No vCPU can reach the device now, nor, next, an EOI. */
	resample_unhook(ak);
	if (ak->dev)
		ac97_dev_destroy(ak->dev);
	if (ak->resample) {
		eventfd_ctx_put(ak->resample);
		fput(ak->resample_file);
	}
	if (ak->irq) {
		eventfd_ctx_put(ak->irq);
		fput(ak->irq_file);
	}
	mutex_lock(&handles_lock);
	list_del_init(&ak->link);
	mutex_unlock(&handles_lock);
	mmdrop(ak->mm);
	kfree(ak->spare[0]);
	kfree(ak->spare[1]);
	kfree(ak);
	kvm_put_kvm(kvm);	/* last: it may destroy the VM */
}

/*
 * The VMM stops its vCPUs, then calls this; and calls it again before they
 * run. Stopping: no interrupt from here on (held), then the clocks. Running
 * again: the clocks, then what was held, if the line is still high. An
 * interrupt in service since before the stop has not been EOI'd only because
 * the vCPUs were stopped: its second of grace starts again. Caller holds
 * ak->lock.
 */
static void kvm_set_stopped(struct ac97_kvm *ak, bool stopped)
{
	if (stopped) {
		set_bit(AC97_IRQ_STOPPED, &ak->irq_state);
		ac97_dev_set_stopped(ak->dev, true);
		return;
	}
	ac97_dev_set_stopped(ak->dev, false);
	WRITE_ONCE(ak->irq_signalled, jiffies);
	clear_bit(AC97_IRQ_STOPPED, &ak->irq_state);
	smp_mb__after_atomic();	/* STOPPED clear before HELD is read: pairs with irq_held() */
	if (test_and_clear_bit(AC97_IRQ_HELD, &ak->irq_state) &&
	    ac97_irq_pending(ak->dev))
		irq_assert(ak);
}

/*
 * The VMM reset its machine, irqchip included: no EOI will come for an
 * interrupt in service, and what was held is void. The service ends first,
 * so the line's drop is not counted as a cause withdrawn before an EOI.
 * Caller holds ak->lock.
 */
static void kvm_reset(struct ac97_kvm *ak)
{
	clear_bit(AC97_IRQ_HELD, &ak->irq_state);
	clear_bit(AC97_IRQ_TOUCHED, &ak->irq_state);
	clear_bit(AC97_IRQ_IN_SERVICE, &ak->irq_state);
	ac97_dev_reset(ak->dev);	/* the line goes low */
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
		/*
		 * Whoever holds the handle (the VMM, or whom it passed it to);
		 * any number at once, io_uring included: counters are read
		 * without a lock, each torn-free. The handle's reference keeps
		 * ak and its device alive for the call.
		 */
		ac97_dev_info(ak->dev, &info);
		info.irq_lowered_before_eoi = READ_ONCE(ak->lowered_before_eoi);
		return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
	case AC97_DEV_OPEN_PCM:
		return arg ? -EINVAL : ac97_pcm_open_fd(ak->dev);
	/*
	 * SET_STOPPED, RESET: whoever holds the handle (the VMM, or whom it
	 * passed it to), io_uring included; ak->lock makes concurrent calls
	 * one after the other, the last one winning, and the handle's
	 * reference keeps ak and its device alive for the call. They race
	 * the DMA thread, the vCPUs and the resample work only through the
	 * device's lock and the irq_state bits (irq_held()). A raise by the
	 * DMA thread between a reset's end of service and the line going low
	 * can reach a guest that is being reset: harmless.
	 */
	case AC97_DEV_SET_STOPPED:
		if (arg > 1)
			return -EINVAL;
		mutex_lock(&ak->lock);
		kvm_set_stopped(ak, arg);
		mutex_unlock(&ak->lock);
		return 0;
	case AC97_DEV_RESET:
		if (arg)
			return -EINVAL;
		mutex_lock(&ak->lock);
		kvm_reset(ak);
		mutex_unlock(&ak->lock);
		return 0;
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

/*
 * Admit @ak to the list: within the caps, and with eventfds no other device
 * uses in either role - one shared with another device's resample would let
 * the two re-raise each other for ever.
 */
static int handle_admit(struct ac97_kvm *ak)
{
	unsigned int all = 0, this_vm = 0;
	struct ac97_kvm *other;
	int ret = 0;

	mutex_lock(&handles_lock);
	list_for_each_entry(other, &handles, link) {
		all++;
		this_vm += other->kvm == ak->kvm;
		if (other->irq == ak->irq || other->irq == ak->resample ||
		    other->resample == ak->irq || other->resample == ak->resample)
			ret = -EBUSY;
	}
	if (!ret && all >= min(max_devices, AC97_MAX_DEVICES))
		ret = -ENOSPC;
	if (!ret && this_vm >= max_per_vm)
		ret = -EMFILE;
	if (!ret)
		list_add_tail(&ak->link, &handles);
	mutex_unlock(&handles_lock);
	return ret;
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
	if (READ_ONCE(kvm->dirty_ring_size)) {
		/* Captured audio would reach guest pages no dirty log records. */
		pr_warn_ratelimited("ac97-emu: VM logs dirty pages to a ring (KVM_CAP_DIRTY_LOG_RING): not supported, use the dirty bitmap\n");
		kvm_put_kvm(kvm);
		return -EOPNOTSUPP;
	}
	ak = kzalloc(sizeof(*ak), GFP_KERNEL_ACCOUNT);
	if (!ak) {
		kvm_put_kvm(kvm);
		return -ENOMEM;
	}
	mutex_init(&ak->lock);
	INIT_LIST_HEAD(&ak->link);
	ak->kvm = kvm;
	mmgrab(current->mm);
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
	ak->resample = eventfd_take(req->resample_fd, &ak->resample_file);
	if (IS_ERR(ak->resample)) {
		ret = PTR_ERR(ak->resample);
		ak->resample = NULL;
		goto err;
	}
	if (ak->resample == ak->irq) {
		ret = -EINVAL;		/* it would re-raise itself for ever */
		goto err;
	}
	ret = handle_admit(ak);
	if (ret)
		goto err;
	ak->dev = ac97_dev_create(&ac97_kvm_ops, ak, 0);
	if (IS_ERR(ak->dev)) {
		ret = PTR_ERR(ak->dev);
		ak->dev = NULL;
		goto err;
	}
	resample_hook(ak);
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

static void kvm_symbols_put(void)
{
	if (kvm_register_fn)
		symbol_put(kvm_io_bus_register_dev);
	if (kvm_unregister_fn)
		symbol_put(kvm_io_bus_unregister_dev);
	kvm_register_fn = NULL;
	kvm_unregister_fn = NULL;
}

int ac97_kvm_init(void)
{
	int ret;

	kvm_register_fn = symbol_get(kvm_io_bus_register_dev);
	kvm_unregister_fn = symbol_get(kvm_io_bus_unregister_dev);
	/* Both or neither: mixing KVM's and our bus updates is fine, but keep it simple. */
	if (!kvm_register_fn || !kvm_unregister_fn)
		kvm_symbols_put();
	pr_debug("ac97-emu: PIO bus updates by %s\n",
		 kvm_register_fn ? "KVM's exported functions" : "ac97-emu");
	ret = misc_register(&ctl_node);
	if (ret)
		kvm_symbols_put();
	return ret;
}

/* No handle is left (each holds the module), nor a tombstone (likewise). */
void ac97_kvm_exit(void)
{
	misc_deregister(&ctl_node);
	kvm_symbols_put();
}
