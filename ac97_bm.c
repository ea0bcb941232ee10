// SPDX-License-Identifier: GPL-2.0
/*
 * The ICH AC'97 bus master (NABM), the codec access path (NAM), and the DMA
 * engine that plays PCM out of guest memory.
 *
 * Register accesses come from vCPU context and only ever take dev->lock. The
 * DMA engine runs in one kthread per device, paced by an hrtimer: at each tick
 * it works out how many samples the playback clock says are due, reads them
 * from guest memory with no lock held, and commits the progress under the
 * lock only if nothing reset or stopped the function meanwhile (dev->gen).
 */
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "ac97.h"

unsigned int ac97_period_us = 1000;
module_param_named(period_us, ac97_period_us, uint, 0444);
MODULE_PARM_DESC(period_us,
		 "DMA engine tick in microseconds (100-20000, default 1000)");

#define AC97_BOUNCE_BYTES	4096
#define AC97_STEP_ITERS		64	/* bound on work per tick */
#define AC97_MAX_LAG_MS		100	/* behind more than this: resync */
#define AC97_PO			1	/* index of PCM out in dev->func */

static u64 dma_period_ns(void)
{
	return (u64)clamp(ac97_period_us, 100u, 20000u) * NSEC_PER_USEC;
}

static const u32 func_int_bit[AC97_BM_FUNCS] = {
	AC97_GS_PIINT, AC97_GS_POINT, AC97_GS_MINT,
};

static u64 dev_now(const struct ac97_dev *dev)
{
	if (dev->flags & AC97_DEV_MANUAL)
		return READ_ONCE(dev->manual_now_ns);
	return ktime_get_ns();
}

static bool func_irq(const struct ac97_bm_func *f)
{
	return ((f->sr & AC97_SR_LVBCI) && (f->cr & AC97_CR_LVBIE)) ||
	       ((f->sr & AC97_SR_BCIS) && (f->cr & AC97_CR_IOCE)) ||
	       ((f->sr & AC97_SR_FIFOE) && (f->cr & AC97_CR_FEIE));
}

/* Recompute GLOB_STA's interrupt bits and the line; caller holds dev->lock. */
static void update_irq(struct ac97_dev *dev)
{
	u32 sta = dev->glob_sta & ~AC97_GS_FUNC_INTS;
	bool level;
	int i;

	for (i = 0; i < AC97_BM_FUNCS; i++)
		if (func_irq(&dev->func[i]))
			sta |= func_int_bit[i];
	dev->glob_sta = sta;
	level = sta & AC97_GS_FUNC_INTS;
	if (level != dev->irq_level) {
		dev->irq_level = level;
		dev->irq_raises += level;
		dev->ops->set_irq(dev->host, level);
	}
}

/* Samples the playback clock says should have been taken by @now. */
static u64 clock_due(const struct ac97_clock *clk, u64 now)
{
	u64 elapsed = now > clk->anchor_ns ? now - clk->anchor_ns : 0;

	return clk->anchor_samples +
	       mul_u64_u32_div(elapsed, clk->rate * clk->channels, NSEC_PER_SEC);
}

static void clock_anchor(struct ac97_dev *dev, u64 now)
{
	struct ac97_clock *clk = &dev->clock;

	clk->anchor_ns = now;
	clk->anchor_samples = clk->samples_done;
	clk->rate = ac97_mixer_dac_rate(&dev->mixer);
	clk->channels = 2;
}

/*
 * The guest changed the DAC rate while playing: what was due until now stays
 * due at the old rate, the new rate counts from now.
 */
static void clock_rerate(struct ac97_dev *dev, u64 now)
{
	struct ac97_clock *clk = &dev->clock;

	clk->anchor_samples = clock_due(clk, now);
	clk->anchor_ns = now;
	clk->rate = ac97_mixer_dac_rate(&dev->mixer);
}

static bool po_active(const struct ac97_dev *dev)
{
	const struct ac97_bm_func *po = &dev->func[AC97_PO];

	return (po->cr & AC97_CR_RPBM) && !(po->sr & AC97_SR_DCH) &&
	       !dev->unplugged;
}

/*
 * Start or stop the playback clock to match PCM out's state. Time spent
 * halted is not owed to anybody: a restart anchors the clock afresh.
 */
static void po_sync_clock(struct ac97_dev *dev)
{
	bool active = po_active(dev);

	if (active == dev->clock.running)
		return;
	dev->gen++;
	dev->clock.running = active;
	if (active) {
		clock_anchor(dev, dev_now(dev));
		if (dev->thread)
			wake_up_process(dev->thread);
	}
}

static void func_reset(struct ac97_dev *dev, struct ac97_bm_func *f, u8 keep_cr)
{
	f->civ = 0;
	f->lvi = 0;
	f->piv = 0;
	f->picb = 0;
	f->sr = AC97_SR_DCH;
	f->cr &= keep_cr;
	f->bd_valid = false;
	if (f == &dev->func[AC97_PO])
		dev->po_phase = 0;
	dev->gen++;
}

/* Cold reset: the whole controller and, through AC_RESET#, the codec. */
static void cold_reset(struct ac97_dev *dev)
{
	int i;

	for (i = 0; i < AC97_BM_FUNCS; i++) {
		func_reset(dev, &dev->func[i], 0);
		dev->func[i].bdbar = 0;
	}
	dev->glob_sta = 0;
	dev->cas = 0;
	ac97_mixer_reset(&dev->mixer);
	po_sync_clock(dev);
	update_irq(dev);
}

static bool any_dma_running(const struct ac97_dev *dev)
{
	int i;

	for (i = 0; i < AC97_BM_FUNCS; i++)
		if (dev->func[i].cr & AC97_CR_RPBM)
			return true;
	return false;
}

static void glob_cnt_write(struct ac97_dev *dev, u32 val)
{
	if (!(val & AC97_GC_COLD)) {
		cold_reset(dev);
		dev->glob_cnt = val & AC97_GC_MASK & ~AC97_GC_WARM;
		return;
	}
	/* A warm reset is ignored while DMA runs; the bit always reads 0. */
	if ((val & AC97_GC_WARM) && !any_dma_running(dev))
		dev->cas = 0;
	dev->glob_cnt = val & AC97_GC_MASK & ~AC97_GC_WARM;
	/* The codec answers as soon as AC_RESET# is released. */
	dev->glob_sta |= AC97_GS_PCR;
}

static void cr_write(struct ac97_dev *dev, struct ac97_bm_func *f, u8 val)
{
	u8 old = f->cr;

	if (val & AC97_CR_RR) {
		/*
		 * ICH: "contents of all Bus master related registers to be
		 * reset, except the interrupt enable bits" - BDBAR too.
		 */
		func_reset(dev, f, AC97_CR_IE_MASK);
		f->bdbar = 0;
	} else {
		f->cr = val & AC97_CR_MASK;
		if (!(old & AC97_CR_RPBM) && (val & AC97_CR_RPBM)) {
			/* Resume where it stopped, unless parked at LVI. */
			if (!(f->sr & AC97_SR_CELV))
				f->sr &= ~AC97_SR_DCH;
		} else if ((old & AC97_CR_RPBM) && !(val & AC97_CR_RPBM)) {
			f->sr |= AC97_SR_DCH;
		}
	}
	po_sync_clock(dev);
	update_irq(dev);
}

static void lvi_write(struct ac97_dev *dev, struct ac97_bm_func *f, u8 val)
{
	f->lvi = val & AC97_BD_INDEX_MASK;
	/* Parked after playing LVI: a new LVI releases the next buffer. */
	if ((f->sr & AC97_SR_CELV) && f->lvi != f->civ) {
		f->sr &= ~AC97_SR_CELV;
		f->civ = (f->civ + 1) & AC97_BD_INDEX_MASK;
		f->piv = (f->civ + 1) & AC97_BD_INDEX_MASK;
		f->bd_valid = false;
		if (f->cr & AC97_CR_RPBM)
			f->sr &= ~AC97_SR_DCH;
		po_sync_clock(dev);
	}
}

/*
 * PICB as the guest sees it: where the playback clock is in the current
 * buffer. The DMA fetches up to @lead_ns ahead of the clock, so between ticks
 * this moves smoothly; but it never runs ahead of what has really been
 * fetched: a driver refills what PICB says is played, and that must not be
 * data the DMA has still to read.
 */
static u16 po_picb(const struct ac97_dev *dev, const struct ac97_bm_func *f)
{
	s64 ahead;

	if (!dev->clock.running || !f->bd_valid)
		return f->picb;
	ahead = dev->clock.samples_done - clock_due(&dev->clock, dev_now(dev));
	if (ahead <= 0)
		return f->picb;
	return min_t(s64, (s64)f->picb + ahead, f->bd_len);
}

/*
 * NABM layout: the width of the register holding byte @off and where it
 * starts, or 0 for a reserved byte (reads 0, ignores writes).
 */
static unsigned int nabm_reg_at(unsigned int off, unsigned int *start)
{
	static const u8 func_layout[16][2] = {
		{0, 4}, {0, 4}, {0, 4}, {0, 4},	/* BDBAR */
		{4, 1}, {5, 1}, {6, 2}, {6, 2},	/* CIV, LVI, SR */
		{8, 2}, {8, 2}, {10, 1}, {11, 1},	/* PICB, PIV, CR */
		{0, 0}, {0, 0}, {0, 0}, {0, 0},
	};
	unsigned int base = off & ~0xfu;

	if (off >= AC97_GLOB_CNT && off < AC97_CAS) {
		*start = off & ~3u;
		return 4;
	}
	if (off == AC97_CAS) {
		*start = off;
		return 1;
	}
	if (off >= AC97_GLOB_CNT)
		return 0;
	*start = base + func_layout[off & 0xf][0];
	return func_layout[off & 0xf][1];
}

static u32 nabm_reg_read(struct ac97_dev *dev, unsigned int start)
{
	struct ac97_bm_func *f;
	u32 val;

	switch (start) {
	case AC97_GLOB_CNT:
		return dev->glob_cnt;
	case AC97_GLOB_STA:
		return dev->glob_sta;
	case AC97_CAS:
		/* Reading the semaphore takes it; the next codec access frees it. */
		val = dev->cas;
		dev->cas |= AC97_CAS_BUSY;
		return val;
	}
	f = &dev->func[start >> 4];
	switch (start & 0xf) {
	case AC97_BM_BDBAR:
		return f->bdbar;
	case AC97_BM_CIV:
		return f->civ;
	case AC97_BM_LVI:
		return f->lvi;
	case AC97_BM_SR:
		return f->sr;
	case AC97_BM_PICB:
		return (f == &dev->func[AC97_PO]) ? po_picb(dev, f) : f->picb;
	case AC97_BM_PIV:
		return f->piv;
	default:
		return f->cr;
	}
}

/* Write the bytes of @val selected by @mask to the register at @start. */
static void nabm_reg_write(struct ac97_dev *dev, unsigned int start, u32 val,
			   u32 mask)
{
	struct ac97_bm_func *f;

	if (start == AC97_GLOB_CNT) {
		glob_cnt_write(dev, (dev->glob_cnt & ~mask) | (val & mask));
		return;
	}
	/* With the AC-link in cold reset, the rest of the bus master is deaf. */
	if (!(dev->glob_cnt & AC97_GC_COLD))
		return;

	switch (start) {
	case AC97_GLOB_STA:
		dev->glob_sta &= ~(val & mask & AC97_GS_W1C);
		return;
	case AC97_CAS:
		dev->cas = val & AC97_CAS_BUSY;
		return;
	}
	f = &dev->func[start >> 4];
	switch (start & 0xf) {
	case AC97_BM_BDBAR:
		f->bdbar = ((f->bdbar & ~mask) | (val & mask)) & ~7u;
		dev->gen++;
		break;
	case AC97_BM_LVI:
		lvi_write(dev, f, val);
		break;
	case AC97_BM_SR:
		f->sr &= ~(val & mask & AC97_SR_W1C);
		update_irq(dev);
		break;
	case AC97_BM_CR:
		cr_write(dev, f, val);
		break;
	default:	/* CIV, PICB, PIV are read-only */
		break;
	}
}

u32 ac97_nabm_read(struct ac97_dev *dev, unsigned int offset, unsigned int len)
{
	unsigned int pos, end = offset + len, start, width, b;
	u32 result = 0, reg;

	spin_lock(&dev->lock);
	for (pos = offset; pos < end && pos < AC97_NABM_SIZE; ) {
		width = nabm_reg_at(pos, &start);
		if (!width) {
			pos++;
			continue;
		}
		reg = nabm_reg_read(dev, start);
		for (b = pos; b < start + width && b < end; b++)
			result |= ((reg >> (8 * (b - start))) & 0xff) << (8 * (b - offset));
		pos = b;
	}
	spin_unlock(&dev->lock);
	return result;
}

void ac97_nabm_write(struct ac97_dev *dev, unsigned int offset,
		     unsigned int len, u32 val)
{
	unsigned int pos, end = offset + len, start, width, b;
	u32 reg, mask;

	spin_lock(&dev->lock);
	for (pos = offset; pos < end && pos < AC97_NABM_SIZE; ) {
		width = nabm_reg_at(pos, &start);
		if (!width) {
			pos++;
			continue;
		}
		reg = 0;
		mask = 0;
		for (b = pos; b < start + width && b < end; b++) {
			reg |= ((val >> (8 * (b - offset))) & 0xff) << (8 * (b - start));
			mask |= 0xffu << (8 * (b - start));
		}
		nabm_reg_write(dev, start, reg, mask);
		pos = b;
	}
	spin_unlock(&dev->lock);
}

/*
 * A codec register as the controller delivers it: the secondary codec is
 * absent and the primary one is mute while held in cold reset; such reads
 * time out with all ones and RCS set, as on ICH.
 */
static u16 codec_read(struct ac97_dev *dev, unsigned int reg)
{
	if (reg >= AC97_CODEC_REGS || !(dev->glob_cnt & AC97_GC_COLD)) {
		dev->glob_sta |= AC97_GS_RCS;
		return 0xffff;
	}
	return ac97_mixer_read(&dev->mixer, reg);
}

u32 ac97_nam_read(struct ac97_dev *dev, unsigned int offset, unsigned int len)
{
	unsigned int pos, end = min(offset + len, (unsigned int)AC97_NAM_SIZE);
	u32 result = 0;
	u32 word = 0;	/* u32: a byte shifted to bit 24 must not overflow int */

	spin_lock(&dev->lock);
	dev->cas = 0;
	for (pos = offset; pos < end; pos++) {
		if (pos == offset || !(pos & 1))
			word = codec_read(dev, pos & ~1u);
		result |= ((word >> (8 * (pos & 1))) & 0xff) << (8 * (pos - offset));
	}
	spin_unlock(&dev->lock);
	return result;
}

/*
 * The AC-link carries whole 16-bit codec registers: a word write at an even
 * offset writes one, a dword write two. Byte and misaligned writes have no
 * encoding on the link and are dropped.
 */
void ac97_nam_write(struct ac97_dev *dev, unsigned int offset, unsigned int len,
		    u32 val)
{
	unsigned int i;

	spin_lock(&dev->lock);
	dev->cas = 0;
	if (len >= 2 && !(offset & 1) && (dev->glob_cnt & AC97_GC_COLD)) {
		for (i = 0; i < len / 2; i++)
			ac97_mixer_write(&dev->mixer, offset + 2 * i,
					 val >> (16 * i));
		if (dev->clock.running &&
		    ac97_mixer_dac_rate(&dev->mixer) != dev->clock.rate)
			clock_rerate(dev, dev_now(dev));
	}
	spin_unlock(&dev->lock);
}

/* Under dev->lock: the buffer CIV points at is done; move on or park at LVI. */
static void po_buffer_done(struct ac97_dev *dev, struct ac97_bm_func *f)
{
	if (f->bd_ioc)
		f->sr |= AC97_SR_BCIS;
	f->bd_valid = false;
	if (f->civ == f->lvi) {
		f->sr |= AC97_SR_DCH | AC97_SR_CELV | AC97_SR_LVBCI;
	} else {
		f->civ = f->piv;
		f->piv = (f->civ + 1) & AC97_BD_INDEX_MASK;
	}
	po_sync_clock(dev);
	update_irq(dev);
}

/* Under dev->lock: guest memory the DMA needs is not RAM. Halt with FIFOE. */
static void po_dma_error(struct ac97_dev *dev, struct ac97_bm_func *f, u64 gpa)
{
	dev->dma_errors++;
	f->sr |= AC97_SR_FIFOE | AC97_SR_DCH;
	f->bd_valid = false;
	po_sync_clock(dev);
	update_irq(dev);
	if (__ratelimit(&dev->warn_rs))
		pr_warn("ac97-emu %d: PCM out DMA from %#llx: not guest RAM, halted\n",
			dev->index, gpa);
}

/* Returns true if the caller should go round again (state moved on). */
static bool po_fetch_descriptor(struct ac97_dev *dev, struct ac97_bm_func *f)
	__must_hold(&dev->lock)
{
	/* 32-bit DMA: the list wraps at 4 GiB, as the transfers do. */
	u64 gpa = (u32)(f->bdbar + f->civ * AC97_BD_SIZE);
	u64 gen = dev->gen;
	__le32 bd[2];
	int ret;

	spin_unlock(&dev->lock);
	ret = dev->ops->read_guest(dev->host, gpa, bd, sizeof(bd));
	spin_lock(&dev->lock);
	if (gen != dev->gen)
		return true;
	if (ret) {
		po_dma_error(dev, f, gpa);
		return false;
	}
	f->buf_addr = le32_to_cpu(bd[0]) & ~3u;
	f->picb = le32_to_cpu(bd[1]) & AC97_BD_LEN_MASK;
	f->bd_len = f->picb;
	f->bd_ioc = le32_to_cpu(bd[1]) & AC97_BD_IOC;
	f->bd_valid = true;
	f->piv = (f->civ + 1) & AC97_BD_INDEX_MASK;
	if (!f->picb)
		po_buffer_done(dev, f);
	return true;
}

/*
 * Move up to @due samples of the current buffer into the ring. Returns true
 * if the caller should go round again.
 */
static bool po_transfer(struct ac97_dev *dev, struct ac97_bm_func *f, u64 due)
	__must_hold(&dev->lock)
{
	u32 count = min_t(u64, due, min_t(u32, f->picb, AC97_BOUNCE_BYTES / 2));
	u64 gpa = f->buf_addr;
	unsigned int phase;
	struct ac97_gain gain;
	u64 gen = dev->gen;
	u32 rate = dev->clock.rate;
	u16 channels = dev->clock.channels;
	int ret;

	/* 32-bit DMA: a buffer that runs past 4 GiB wraps, as on the bus. */
	count = min_t(u64, count, ((1ULL << 32) - gpa) / 2);
	ac97_mixer_gain(&dev->mixer, &gain);
	spin_unlock(&dev->lock);
	ret = dev->ops->read_guest(dev->host, gpa, dev->bounce, count * 2);
	spin_lock(&dev->lock);
	if (gen != dev->gen)
		return true;
	if (ret) {
		po_dma_error(dev, f, gpa);
		return false;
	}
	phase = dev->po_phase;
	dev->po_phase = (phase + count) % channels;
	f->picb -= count;
	f->buf_addr += count * 2;
	dev->clock.samples_done += count;
	if (!f->picb)
		po_buffer_done(dev, f);

	/* Only this thread writes the ring: order is kept without the lock. */
	spin_unlock(&dev->lock);
	ac97_apply_gain((s16 *)dev->bounce, count, phase, channels, &gain);
	ac97_ring_write(&dev->ring, dev->bounce, count * 2, rate, channels,
			phase);
	spin_lock(&dev->lock);
	return true;
}

/**
 * ac97_engine_step() - bring PCM out up to date with the playback clock
 * @dev: the device
 *
 * Called by the DMA thread at every tick (and by tests). Does a bounded
 * amount of work.
 *
 * Return: true while PCM out is running.
 */
bool ac97_engine_step(struct ac97_dev *dev)
{
	struct ac97_bm_func *f = &dev->func[AC97_PO];
	struct ac97_clock *clk = &dev->clock;
	bool again = true;
	u64 now, due;
	int i;

	spin_lock(&dev->lock);
	for (i = 0; again && i < AC97_STEP_ITERS; i++) {
		if (!clk->running)
			break;
		now = dev_now(dev);
		due = clock_due(clk, now + dev->lead_ns) - clk->samples_done;
		if ((s64)due > (s64)clk->rate * clk->channels * AC97_MAX_LAG_MS / 1000) {
			/* Starved for too long: give up the debt, keep the pace. */
			clock_anchor(dev, now);
			dev->clock_slips++;
			due = 0;
		}
		if (!f->bd_valid)
			again = po_fetch_descriptor(dev, f);
		else if ((s64)due > 0)
			again = po_transfer(dev, f, due);
		else
			again = false;
	}
	again = clk->running;
	spin_unlock(&dev->lock);
	return again;
}

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
	memset(info, 0, sizeof(*info));
	info->index = dev->index;
	spin_lock(&dev->lock);
	info->irq_level = dev->irq_level;
	info->dma_errors = dev->dma_errors;
	info->clock_slips = dev->clock_slips;
	info->samples = dev->clock.samples_done;
	info->irq_raises = dev->irq_raises;
	spin_unlock(&dev->lock);
}

/* One run of the engine, inside the host's dma_begin/dma_end. */
static void dma_tick(struct ac97_dev *dev)
{
	const struct ac97_host_ops *ops = dev->ops;
	bool running;

	if (ops->dma_begin && ops->dma_begin(dev->host)) {
		/* The guest's memory is gone for good (its VMM exited). */
		ac97_dev_unplug(dev);
		return;
	}
	running = ac97_engine_step(dev);
	if (ops->dma_end)
		ops->dma_end(dev->host, !running);
}

static int ac97_dma_thread(void *data)
{
	struct ac97_dev *dev = data;
	u64 period = dma_period_ns();
	ktime_t next = ktime_get();

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		if (!READ_ONCE(dev->clock.running)) {
			schedule();
			next = ktime_get();
			continue;
		}
		if (ktime_before(ktime_get(), next)) {
			schedule_hrtimeout_range(&next, 0, HRTIMER_MODE_ABS);
			continue;
		}
		__set_current_state(TASK_RUNNING);
		dma_tick(dev);
		next = ktime_add_ns(next, period);
		if (ktime_before(next, ktime_get()))
			next = ktime_add_ns(ktime_get(), period);
	}
	__set_current_state(TASK_RUNNING);
	if (dev->ops->dma_end)
		dev->ops->dma_end(dev->host, true);
	return 0;
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
	po_sync_clock(dev);	/* bumps @gen: a DMA read in flight is dropped */
	spin_unlock(&dev->lock);
}

static void dev_release(struct kref *ref)
{
	struct ac97_dev *dev = container_of(ref, struct ac97_dev, ref);

	ac97_ring_free(&dev->ring);
	kfree(dev->bounce);
	kfree(dev);
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
	kref_init(&dev->ref);
	ratelimit_state_init(&dev->warn_rs, DEFAULT_RATELIMIT_INTERVAL,
			     DEFAULT_RATELIMIT_BURST);
	dev->ops = ops;
	dev->host = host;
	dev->flags = flags;
	dev->index = -1;
	dev->owner = current_fsuid();
	if (!(flags & AC97_DEV_MANUAL))
		dev->lead_ns = dma_period_ns();
	ac97_mixer_reset(&dev->mixer);
	cold_reset(dev);
	dev->bounce = kmalloc(AC97_BOUNCE_BYTES, GFP_KERNEL_ACCOUNT);
	if (!dev->bounce)
		goto err_free;
	ret = ac97_ring_init(&dev->ring, (size_t)ac97_ring_kb * 1024);
	if (ret)
		goto err_free;
	ret = ac97_pcm_node_reserve(dev);
	if (ret)
		goto err_ring;
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
err_ring:
	ac97_ring_free(&dev->ring);
err_free:
	kfree(dev->bounce);
	kfree(dev);
	return ERR_PTR(ret);
}

/**
 * ac97_dev_destroy() - stop a device and drop the creator's reference
 * @dev: the device; the host must no longer call its register accessors
 *
 * Readers still holding the PCM node get what is buffered, then end of file.
 * Context: process context; sleeps.
 */
void ac97_dev_destroy(struct ac97_dev *dev)
{
	if (dev->thread)
		kthread_stop(dev->thread);
	spin_lock(&dev->lock);
	if (dev->irq_level) {
		dev->irq_level = false;
		dev->ops->set_irq(dev->host, false);
	}
	spin_unlock(&dev->lock);
	ac97_pcm_node_del(dev);
	ac97_ring_close(&dev->ring);
	ac97_dev_put(dev);
}
