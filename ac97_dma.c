// SPDX-License-Identifier: GPL-2.0
/*
 * The DMA engine: one code path for the three bus-master functions, in
 * either direction. PCM out reads guest memory into the PCM ring; PCM in and
 * mic in take frames from a capture source, pass them through the codec's
 * record path and write them to guest memory.
 *
 * Each function has its own sample clock, and the DMA never moves a sample
 * before its clock says it is due: a guest that writes only just ahead of
 * the hardware is read bit-exact. Moving the samples that are due is a
 * "step": it moves them with no lock held, and commits the progress under
 * the lock only if nothing reset or stopped the function meanwhile
 * (dev->gen). A capture transfer peeks at its source and consumes only on
 * commit: a transfer dropped by a reset or pause takes nothing from the
 * host, and the guest memory it wrote is the buffer the descriptor gave,
 * written again when the function resumes.
 *
 * The schedule is driven by events, not a tick. A guest learns how far a
 * function has got only from its registers (CIV, SR, PICB, PIV, GLOB_STA)
 * and its interrupt, so:
 *  - a register read that shows progress first steps the function in the
 *    reading vCPU (ac97_dma_catch_up()): what it reads is the clock's exact
 *    position, with every sample before it moved, however late the thread;
 *  - a PCM out reader in the VM's own address space (a VMM's audio timer)
 *    steps PO in its read (ac97_dma_pull()): it gets every sample due by
 *    then, and the thread does not wake for it;
 *  - the device's kthread sleeps until the next buffer end (its interrupt,
 *    on time), or, while any other host reader or a writer is attached,
 *    until its oldest sample not yet moved would be @latency_us old, less a
 *    margin for the wake-up itself; nothing else wakes it. Each wake-up
 *    costs more than the copy it does, so the default latency is as long as
 *    the promise to a host reader (10 ms, QEMU's audio timer period) allows.
 */
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/sched.h>

#include "ac97.h"

unsigned int ac97_latency_us = 10000;
module_param_named(latency_us, ac97_latency_us, uint, 0444);
MODULE_PARM_DESC(latency_us,
		 "Longest a host reader or writer waits for samples that are due, in microseconds (2000-20000, default 10000)");

#define AC97_BOUNCE_SAMPLES	(AC97_BOUNCE_BYTES / 2)
#define AC97_STEP_ITERS		64	/* bound on work per step and function */
#define AC97_MAX_LAG_MS		1000	/* behind more than this: resync */
#define AC97_WAKE_MARGIN_NS	NSEC_PER_MSEC	/* a wake-up's own lateness */

/* What sets a function apart: its direction, rate register and source. */
struct func_desc {
	const char *name;
	u8 rate_reg;
	u8 channels;
	bool capture;
	u8 source;
};

static const struct func_desc func_descs[AC97_BM_FUNCS] = {
	[AC97_FUNC_PI] = { "PCM in", AC97_PCM_LR_ADC_RATE, 2, true, AC97_SRC_LINE },
	[AC97_FUNC_PO] = { "PCM out", AC97_PCM_FRONT_DAC_RATE, 2, false, 0 },
	[AC97_FUNC_MC] = { "mic in", AC97_PCM_MIC_ADC_RATE, 1, true, AC97_SRC_MIC },
};

u64 ac97_dma_latency_ns(void)
{
	return (u64)clamp(ac97_latency_us, 2000u, 20000u) * NSEC_PER_USEC;
}

/* How much of its clock a function may run ahead of a host reader or writer. */
static u64 dma_slice_ns(void)
{
	return ac97_dma_latency_ns() - AC97_WAKE_MARGIN_NS;
}

u64 ac97_dev_now(const struct ac97_dev *dev)
{
	if (dev->flags & AC97_DEV_MANUAL)
		return READ_ONCE(dev->manual_now_ns);
	return ktime_get_ns();
}

static unsigned int func_index(const struct ac97_dev *dev,
			       const struct ac97_bm_func *f)
{
	return f - dev->func;
}

static u32 func_rate(const struct ac97_dev *dev, unsigned int i)
{
	return ac97_mixer_read(&dev->mixer, func_descs[i].rate_reg);
}

/* Samples the clock says should have been moved by @now. */
static u64 clock_due(const struct ac97_clock *clk, u64 now)
{
	u64 elapsed = now > clk->anchor_ns ? now - clk->anchor_ns : 0;

	return clk->anchor_samples +
	       mul_u64_u32_div(elapsed, clk->rate * clk->channels, NSEC_PER_SEC);
}

/* The first time at which clock_due() reaches @samples; U64_MAX if never. */
static u64 clock_time(const struct ac97_clock *clk, u64 samples)
{
	u32 per_sec = clk->rate * clk->channels;
	u64 elapsed;

	if (samples <= clk->anchor_samples)
		return clk->anchor_ns;
	if (!per_sec)
		return U64_MAX;
	elapsed = mul_u64_u64_div_u64(samples - clk->anchor_samples,
				      NSEC_PER_SEC, per_sec);
	while (mul_u64_u32_div(elapsed, per_sec, NSEC_PER_SEC) <
	       samples - clk->anchor_samples)
		elapsed++;
	return clk->anchor_ns + elapsed;
}

static void clock_anchor(struct ac97_dev *dev, unsigned int i, u64 now)
{
	struct ac97_clock *clk = &dev->func[i].clock;

	clk->anchor_ns = now;
	clk->anchor_samples = clk->samples_done;
	clk->rate = func_rate(dev, i);
	clk->channels = func_descs[i].channels;
}

static bool func_active(const struct ac97_dev *dev, const struct ac97_bm_func *f)
{
	return (f->cr & AC97_CR_RPBM) && !(f->sr & AC97_SR_DCH) &&
	       !dev->unplugged && !dev->stopped;
}

/*
 * Start or stop each function's clock to match its state. Time spent halted
 * is not owed to anybody: a restart anchors the clock afresh.
 * Caller holds dev->lock.
 */
void ac97_dma_sync(struct ac97_dev *dev)
{
	unsigned int i;
	bool active;

	for (i = 0; i < AC97_BM_FUNCS; i++) {
		struct ac97_bm_func *f = &dev->func[i];

		active = func_active(dev, f);
		if (active == f->clock.running)
			continue;
		dev->gen++;
		WRITE_ONCE(f->clock.running, active);	/* catch-ups look without the lock */
		if (active) {
			clock_anchor(dev, i, ac97_dev_now(dev));
			ac97_dma_kick(dev);
		}
	}
}

bool ac97_dma_running(const struct ac97_dev *dev)
{
	unsigned int i;

	for (i = 0; i < AC97_BM_FUNCS; i++)
		if (READ_ONCE(dev->func[i].clock.running))
			return true;
	return false;
}

/*
 * Caller: a vCPU's codec write or a cold reset (vCPU context, under
 * dev->lock), so on every codec access: three compares and two short
 * source locks, no allocation, nothing that sleeps.
 *
 * The guest wrote the codec. A rate changed while running: what was due
 * until now stays due at the old rate, the new rate counts from now. The
 * writer of a capture source learns its function's new rate.
 * Caller holds dev->lock.
 */
void ac97_dma_codec_changed(struct ac97_dev *dev)
{
	u64 now = ac97_dev_now(dev);
	unsigned int i;

	for (i = 0; i < AC97_BM_FUNCS; i++) {
		struct ac97_clock *clk = &dev->func[i].clock;
		u32 rate = func_rate(dev, i);

		if (func_descs[i].capture)
			ac97_source_set_rate(&dev->src[func_descs[i].source], rate);
		if (!clk->running || clk->rate == rate)
			continue;
		clk->anchor_samples = clock_due(clk, now);
		clk->anchor_ns = now;
		clk->rate = rate;
		ac97_dma_kick(dev);	/* the buffer ends at another time now */
	}
}

/*
 * The thread should look at its deadlines again (a function started, a
 * rate changed, a reader or writer came). Caller holds dev->lock, under
 * which ac97_dev_destroy() takes the thread away before stopping it.
 */
void ac97_dma_kick(struct ac97_dev *dev)
{
	if (dev->thread)
		wake_up_process(dev->thread);
}

/* Under dev->lock: the buffer CIV points at is done; move on or park at LVI. */
static void buffer_done(struct ac97_dev *dev, struct ac97_bm_func *f)
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
	ac97_dma_sync(dev);
	ac97_update_irq(dev);
}

/* Under dev->lock: guest memory the DMA needs is not RAM. Halt with FIFOE. */
static void dma_error(struct ac97_dev *dev, struct ac97_bm_func *f, u64 gpa,
		      int err)
{
	const struct func_desc *desc = &func_descs[func_index(dev, f)];

	dev->dma_errors++;
	f->sr |= AC97_SR_FIFOE | AC97_SR_DCH;
	f->bd_valid = false;
	ac97_dma_sync(dev);
	ac97_update_irq(dev);
	if (!__ratelimit(&dev->warn_rs))
		return;
	if (err == -EOPNOTSUPP)
		pr_warn("ac97-emu %d: %s DMA to %#llx: the VM logs dirty pages to a ring, which a device thread cannot fill; halted\n",
			dev->index, desc->name, gpa);
	else
		pr_warn("ac97-emu %d: %s DMA %s %#llx: not guest RAM, halted\n",
			dev->index, desc->name, desc->capture ? "to" : "from", gpa);
}

/* Returns true if the caller should go round again (state moved on). */
static bool fetch_descriptor(struct ac97_dev *dev, struct ac97_bm_func *f)
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
		dma_error(dev, f, gpa, ret);
		return false;
	}
	f->buf_addr = le32_to_cpu(bd[0]) & ~3u;
	f->picb = le32_to_cpu(bd[1]) & AC97_BD_LEN_MASK;
	f->bd_len = f->picb;
	f->bd_ioc = le32_to_cpu(bd[1]) & AC97_BD_IOC;
	f->bd_valid = true;
	f->piv = (f->civ + 1) & AC97_BD_INDEX_MASK;
	if (!f->picb)
		buffer_done(dev, f);
	return true;
}

/*
 * Capture: make @count samples for the guest, from channel @phase on, out of
 * the source's frames through the codec's record @path. A frame half written
 * at the end leaves its right sample in @carry for the next transfer; one
 * half written before starts with it. Missing frames are silence. Returns
 * the source bytes used; *@missing gets the bytes of silence made up.
 */
static size_t capture_make(struct ac97_dev *dev, const struct func_desc *desc,
			   s16 *out, u32 count, unsigned int phase,
			   const struct ac97_capture_path *path, s16 *carry,
			   size_t *missing)
{
	struct ac97_source *src = &dev->src[desc->source];
	unsigned int ch = desc->channels, fbytes = 2 * ch;
	u32 frames = (count - (phase ? 1 : 0) + ch - 1) / ch;
	const __le16 *raw = (const __le16 *)dev->raw;
	size_t got = ac97_source_peek(src, dev->raw, frames * fbytes);
	u32 n = 0, fr, c;
	s16 left, right;

	got -= got % fbytes;
	*missing = frames * fbytes - got;
	if (phase)
		out[n++] = (__force s16)cpu_to_le16(*carry);
	for (fr = 0; fr < frames; fr++) {
		left = 0;
		right = 0;
		if (fr * fbytes < got) {
			left = le16_to_cpu(raw[fr * ch]);
			right = le16_to_cpu(raw[fr * ch + ch - 1]);
		}
		for (c = 0; c < ch; c++) {
			s16 s = ac97_capture_sample(path, c, left, right);

			if (n < count)
				out[n++] = (__force s16)cpu_to_le16(s);
			else
				*carry = s;
		}
	}
	return got;
}

/*
 * Move up to @due samples of the current buffer between guest memory and the
 * host. Returns true if the caller should go round again.
 */
static bool transfer(struct ac97_dev *dev, struct ac97_bm_func *f, u64 due)
	__must_hold(&dev->lock)
{
	const struct func_desc *desc = &func_descs[func_index(dev, f)];
	u32 count = min_t(u64, due, min_t(u32, f->picb, AC97_BOUNCE_SAMPLES));
	struct ac97_capture_path path;
	u64 gpa = f->buf_addr;
	unsigned int phase = f->phase;
	u16 channels = f->clock.channels;
	u32 rate = f->clock.rate;
	u64 gen = dev->gen;
	struct ac97_gain gain;
	size_t used = 0, missing = 0;
	s16 carry = f->carry;
	int ret;

	/* 32-bit DMA: a buffer that runs past 4 GiB wraps, as on the bus. */
	count = min_t(u64, count, ((1ULL << 32) - gpa) / 2);
	if (desc->capture)
		ac97_mixer_capture_path(&dev->mixer, desc->source == AC97_SRC_MIC,
					&path);
	else
		ac97_mixer_gain(&dev->mixer, &gain);
	spin_unlock(&dev->lock);
	if (desc->capture) {
		used = capture_make(dev, desc, (s16 *)dev->bounce, count, phase,
				    &path, &carry, &missing);
		ret = dev->ops->write_guest(dev->host, gpa, dev->bounce, count * 2);
	} else {
		ret = dev->ops->read_guest(dev->host, gpa, dev->bounce, count * 2);
	}
	spin_lock(&dev->lock);
	if (gen != dev->gen)
		return true;
	if (ret) {
		dma_error(dev, f, gpa, ret);
		return false;
	}
	if (desc->capture) {
		ac97_source_consume(&dev->src[desc->source], used, missing);
		f->carry = carry;
	}
	f->phase = (phase + count) % channels;
	f->picb -= count;
	f->buf_addr += count * 2;
	f->clock.samples_done += count;
	if (!f->picb)
		buffer_done(dev, f);
	if (desc->capture)
		return true;

	/* Only this thread writes the ring: order is kept without the lock. */
	spin_unlock(&dev->lock);
	ac97_apply_gain((s16 *)dev->bounce, count, phase, channels, &gain);
	ac97_ring_write(&dev->ring, dev->bounce, count * 2, rate, channels,
			phase);
	spin_lock(&dev->lock);
	return true;
}

/*
 * Bring one function up to date with its clock, in bounded work. A catch-up
 * only moves samples that are due: with none due it leaves the descriptor
 * fetch (and its errors) to the thread, as the hardware's fetch is not
 * something a register access does.
 */
static void func_step(struct ac97_dev *dev, struct ac97_bm_func *f,
		      bool catch_up)
	__must_hold(&dev->lock)
{
	struct ac97_clock *clk = &f->clock;
	bool again = true;
	u64 now, due;
	int i;

	for (i = 0; again && i < AC97_STEP_ITERS; i++) {
		if (!clk->running)
			break;
		now = ac97_dev_now(dev);
		due = clock_due(clk, now) - clk->samples_done;
		if ((s64)due > (s64)clk->rate * clk->channels * AC97_MAX_LAG_MS / 1000) {
			/* Starved for too long: give up the debt, keep the pace. */
			clock_anchor(dev, func_index(dev, f), now);
			dev->clock_slips++;
			due = 0;
		}
		if (catch_up && (s64)due <= 0)
			break;
		if (!f->bd_valid)
			again = fetch_descriptor(dev, f);
		else if ((s64)due > 0)
			again = transfer(dev, f, due);
		else
			again = false;
	}
}

/*
 * Whether a host process waits on the thread for what @desc's function
 * moves: a reader that pulls (ac97_dma_pull()) serves itself.
 */
static bool func_has_party(struct ac97_dev *dev, const struct func_desc *desc)
{
	if (desc->capture)
		return READ_ONCE(dev->src[desc->source].claimed);
	return atomic_read(&dev->pcm_readers) > atomic_read(&dev->pcm_pullers);
}

/* Under dev->lock: when @f next needs the engine; U64_MAX for never. */
static u64 func_deadline(struct ac97_dev *dev, struct ac97_bm_func *f)
{
	const struct func_desc *desc = &func_descs[func_index(dev, f)];
	struct ac97_clock *clk = &f->clock;
	u64 target, slice, parts;

	if (!clk->running)
		return U64_MAX;
	if (!f->bd_valid)
		return 0;
	/* The buffer's end: its interrupt, at the time the clock says. */
	target = clk->samples_done + f->picb;
	if (func_has_party(dev, desc) && f->picb) {
		/*
		 * A host party is served in equal parts of what is left of the
		 * buffer, none longer than the slice: as few wake-ups as the
		 * latency allows, the last one the buffer's end itself (not a
		 * slice's end and then, a moment later, the interrupt).
		 */
		slice = max(mul_u64_u32_div(dma_slice_ns(), clk->rate * clk->channels,
					    NSEC_PER_SEC), 1ULL);
		parts = div64_u64(f->picb + slice - 1, slice);
		target = clk->samples_done + div64_u64(f->picb + parts - 1, parts);
	}
	return clock_time(clk, target);
}

/**
 * ac97_engine_deadline() - when the engine next has something to do
 * @dev: the device
 *
 * Return: the time (ac97_dev_now()'s clock) of the earliest buffer end of a
 * running function, or of the time a host reader or writer must be served,
 * 0 if a descriptor is to be fetched, or U64_MAX if no function runs.
 */
u64 ac97_engine_deadline(struct ac97_dev *dev)
{
	u64 deadline = U64_MAX;
	unsigned int i;

	spin_lock(&dev->lock);
	for (i = 0; i < AC97_BM_FUNCS; i++)
		deadline = min(deadline, func_deadline(dev, &dev->func[i]));
	spin_unlock(&dev->lock);
	return deadline;
}

/*
 * Step the functions in @funcs. Caller holds dev->dma_lock: the thread and
 * the catch-ups of any number of vCPUs move one function's samples in turn,
 * through the one bounce buffer.
 */
static void engine_step_funcs(struct ac97_dev *dev, unsigned int funcs,
			      bool catch_up)
	__must_hold(&dev->dma_lock)
{
	unsigned int i;
	u64 before;

	spin_lock(&dev->lock);
	for (i = 0; i < AC97_BM_FUNCS; i++) {
		if (!(funcs & BIT(i)))
			continue;
		before = dev->func[i].clock.samples_done;
		func_step(dev, &dev->func[i], catch_up);
		if (catch_up && dev->func[i].clock.samples_done != before)
			dev->catch_ups++;
	}
	spin_unlock(&dev->lock);
}

/**
 * ac97_dma_catch_up() - move what is due before a register access shows it
 * @dev: the device
 * @funcs: BIT(AC97_FUNC_x) of the functions whose progress the access shows
 *	or changes
 *
 * Callers: the register handlers, in the accessing vCPU, before they take
 * dev->lock: a guest must not read a position its DMA has not reached (it
 * would refill, or read, what has still to be moved), nor see one that lags
 * the clock because the thread has not run. Moves guest memory only where
 * the host says the caller may (@dma_here); otherwise the thread's progress
 * stands. Bounded work; may sleep (the DMA lock, guest memory).
 */
void ac97_dma_catch_up(struct ac97_dev *dev, unsigned int funcs)
{
	unsigned int i, running = 0;

	for (i = 0; i < AC97_BM_FUNCS; i++)
		if ((funcs & BIT(i)) && READ_ONCE(dev->func[i].clock.running))
			running |= BIT(i);
	if (!running || !dev->ops->dma_here || !dev->ops->dma_here(dev->host))
		return;
	mutex_lock(&dev->dma_lock);
	engine_step_funcs(dev, running, true);
	mutex_unlock(&dev->dma_lock);
}

/**
 * ac97_dma_pull() - a reader of PCM out moves what is due itself
 * @dev: the device
 *
 * Callers: a reader of the PCM out stream, in process context, before it
 * looks at the ring; never a guest. A reader in the VM's own address space
 * (a VMM's audio timer reading its AC97_DEV_OPEN_PCM fd) may read guest
 * memory as a vCPU may: it moves the samples due by now into the ring and
 * gets them all, with no thread woken for it. Anyone else is served by the
 * thread. The host stays alive while the device is plugged and this lock is
 * held (ac97_dev_destroy() unplugs, then waits for the lock).
 *
 * Return: true if the caller may move samples itself (whether or not any
 * were due).
 */
bool ac97_dma_pull(struct ac97_dev *dev)
{
	bool here;

	mutex_lock(&dev->dma_lock);
	here = !READ_ONCE(dev->unplugged) && dev->ops->dma_here &&
	       dev->ops->dma_here(dev->host);
	if (here && READ_ONCE(dev->func[AC97_FUNC_PO].clock.running))
		engine_step_funcs(dev, BIT(AC97_FUNC_PO), true);
	mutex_unlock(&dev->dma_lock);
	return here;
}

/**
 * ac97_engine_step() - bring every running function up to date with its clock
 * @dev: the device
 *
 * Called by the DMA thread when a deadline is reached (and by tests). Does a
 * bounded amount of work.
 *
 * Return: true while any function is running.
 */
bool ac97_engine_step(struct ac97_dev *dev)
{
	bool running;

	mutex_lock(&dev->dma_lock);
	engine_step_funcs(dev, BIT(AC97_BM_FUNCS) - 1, false);
	running = ac97_dma_running(dev);
	mutex_unlock(&dev->dma_lock);
	return running;
}

/*
 * One run of the engine, inside the host's dma_begin/dma_end. Returns true
 * if the host keeps what it lent for DMA (a function still runs).
 */
static bool dma_tick(struct ac97_dev *dev)
{
	const struct ac97_host_ops *ops = dev->ops;
	bool running;

	WRITE_ONCE(dev->wakeups, dev->wakeups + 1);	/* only this thread writes it */
	if (ops->dma_begin && ops->dma_begin(dev->host)) {
		/* The guest's memory is gone for good (its VMM exited). */
		ac97_dev_unplug(dev);
		return false;
	}
	running = ac97_engine_step(dev);
	if (ops->dma_end)
		ops->dma_end(dev->host, !running);
	return running;
}

/*
 * The device's thread: sleeps until the engine's next deadline, or until
 * kicked (ac97_dma_kick()) to look again. The state is set before the
 * deadline is read, so a kick in between is not lost.
 */
int ac97_dma_thread(void *data)
{
	struct ac97_dev *dev = data;
	bool lent = false;
	ktime_t until;
	u64 deadline;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		deadline = ac97_engine_deadline(dev);
		if (deadline == U64_MAX && !lent) {
			schedule();
			continue;
		}
		if (deadline != U64_MAX && deadline > ktime_get_ns()) {
			until = ns_to_ktime(deadline);
			schedule_hrtimeout_range(&until, 0, HRTIMER_MODE_ABS);
			continue;
		}
		/* Due, or everything stopped and the host may take back its loan. */
		__set_current_state(TASK_RUNNING);
		lent = dma_tick(dev);
	}
	__set_current_state(TASK_RUNNING);
	if (dev->ops->dma_end)
		dev->ops->dma_end(dev->host, true);
	return 0;
}
