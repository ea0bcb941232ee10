/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ac97-emu internals: the device model and what it needs from its host.
 *
 * The model knows nothing of KVM. A host (the KVM glue, or a KUnit fake)
 * creates a device with a set of ops, forwards register accesses to
 * ac97_nam_read() and friends, and gets guest-memory reads and interrupt
 * line changes back through the ops.
 */
#ifndef AC97_H
#define AC97_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/sizes.h>
#include <linux/uio.h>
#include <linux/uidgid.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <uapi/linux/ac97_emu.h>

#include "ac97_regs.h"

/**
 * struct ac97_host_ops - what the device model needs from its host
 * @read_guest:	copy @len bytes of guest-physical memory at @gpa into @buf.
 *		Return 0, or a negative errno if any byte is not guest RAM. Called
 *		from the device's DMA thread inside @dma_begin/@dma_end, or from
 *		a context @dma_here accepted, with no lock held but the device's
 *		DMA lock; may sleep.
 * @write_guest: copy @len bytes from @buf to guest-physical memory at @gpa
 *		and mark the pages written dirty for the host's dirty log.
 *		Return 0, or a negative errno, having written nothing, if any
 *		byte is not writable guest RAM (a VMM that unmaps its guest's
 *		memory behind KVM's back may still see the pages before the
 *		hole written). Same context as @read_guest.
 * @set_irq:	set the level of the device's interrupt line. Called only when
 *		the level changes, under the device lock: must not sleep.
 * @dma_begin:	optional; called in the DMA thread before each run of the
 *		engine, which may @read_guest or @write_guest (e.g. to borrow
 *		the VMM's address space for it, or check it still has it).
 *		Non-zero means the guest's memory is gone for good: the device
 *		then stops all DMA (as ac97_dev_unplug()).
 * @dma_here:	optional; whether the calling context may @read_guest and
 *		@write_guest directly (a vCPU of the guest, in its VMM's address
 *		space), so that a register access can bring the DMA up to the
 *		clock itself. Called with no lock held. Without it, only the DMA
 *		thread moves data.
 * @dma_end:	optional; called after each run whose @dma_begin returned 0,
 *		with @idle set if every function has stopped (no run follows
 *		until one starts again), and once with @idle set when the thread
 *		ends: a
 *		host may keep what it borrowed for the runs until @idle.
 */
struct ac97_host_ops {
	int (*read_guest)(void *host, u64 gpa, void *buf, size_t len);
	int (*write_guest)(void *host, u64 gpa, const void *buf, size_t len);
	void (*set_irq)(void *host, bool level);
	int (*dma_begin)(void *host);
	bool (*dma_here)(void *host);
	void (*dma_end)(void *host, bool idle);
};

/* Codec state: the 16-bit registers 0x00-0x7e, stored as the guest reads them. */
struct ac97_mixer {
	u16 regs[AC97_CODEC_REGS / 2];
};

/* Gain applied to the PCM stream, per channel, unsigned Q16 (0x10000 = 0 dB). */
struct ac97_gain {
	u32 left;
	u32 right;
};

void ac97_mixer_reset(struct ac97_mixer *mixer);
u16 ac97_mixer_read(const struct ac97_mixer *mixer, unsigned int reg);
void ac97_mixer_write(struct ac97_mixer *mixer, unsigned int reg, u16 val);
u32 ac97_mixer_dac_rate(const struct ac97_mixer *mixer);
void ac97_mixer_gain(const struct ac97_mixer *mixer, struct ac97_gain *gain);
u32 ac97_gain_q16(int steps);
void ac97_apply_gain(s16 *samples, size_t count, unsigned int first_channel,
		     unsigned int channels, const struct ac97_gain *gain);

/* Where a capture channel takes its signal from (the codec's record select). */
enum ac97_rec_input {
	AC97_REC_SILENT,	/* an input nothing is plugged into */
	AC97_REC_LINE,		/* the channel itself: line in, stereo mix */
	AC97_REC_MONO,		/* (left + right) / 2: mic, mono mix */
};

/*
 * What the codec does to a capture function's input, per channel: which
 * signal, then a gain in Q16 (0x10000 = 0 dB; 0 = muted) that can exceed
 * 0 dB, saturating.
 */
struct ac97_capture_path {
	u8 input[2];
	u32 gain[2];
};

void ac97_mixer_capture_path(const struct ac97_mixer *mixer, bool mic_in,
			     struct ac97_capture_path *path);
s16 ac97_capture_sample(const struct ac97_capture_path *path,
			unsigned int channel, s16 left, s16 right);

/*
 * A DMA function's sample clock: samples due = anchor_samples + elapsed *
 * rate * channels.
 */
struct ac97_clock {
	u64 anchor_ns;
	u64 anchor_samples;
	u64 samples_done;	/* samples moved to or from guest memory */
	u32 rate;
	u16 channels;
	bool running;
};

/* One DMA function (PCM in, PCM out, mic in): its registers and DMA cursor. */
struct ac97_bm_func {
	u32 bdbar;
	u8 civ;
	u8 lvi;
	u8 piv;
	u8 cr;
	u16 sr;
	u16 picb;		/* samples left in the current buffer */
	bool bd_valid;		/* descriptor CIV has been fetched */
	bool bd_ioc;		/* ... and asks for an interrupt */
	u16 bd_len;		/* ... and holds this many samples */
	u32 buf_addr;		/* guest address of the next sample */
	struct ac97_clock clock;
	u8 phase;		/* channel of the next sample (0 = left) */
	s16 carry;		/* capture: right sample of a frame half written */
};

#define AC97_RING_MARKS 16

/* A change of format in the PCM stream, at byte position @pos. */
struct ac97_fmt_mark {
	u64 pos;
	u32 rate;
	u16 channels;
	u32 serial;
};

/*
 * Byte ring of PCM, one writer (the DMA thread), any number of readers, each
 * with its own position. Positions count bytes since creation and never wrap.
 * @lock protects everything here; it nests inside nothing and is never held
 * while calling out.
 */
struct ac97_ring {
	spinlock_t lock;	/* see above */
	u8 *buf;
	size_t size;		/* power of two */
	u64 wpos;
	struct ac97_fmt_mark marks[AC97_RING_MARKS];
	unsigned int first_mark;
	unsigned int nr_marks;
	bool closed;
	wait_queue_head_t wait;
};

/* Capture sources: what the codec's inputs hear, written by the host. */
enum {
	AC97_SRC_LINE = AC97_PCM_SOURCE_LINE,	/* stereo: PCM in */
	AC97_SRC_MIC = AC97_PCM_SOURCE_MIC,	/* mono: mic in */
	AC97_SOURCES,
};

#define AC97_SOURCE_BYTES	SZ_64K

/*
 * A capture source: a byte FIFO with one writer (the file that claimed it,
 * serialised by that file's lock) and one consumer (the DMA thread), which
 * peeks, writes guest memory, and only then consumes. @lock protects
 * everything here; lock order: the device's lock, then this; never held
 * while calling out. Lifetime: the device's.
 */
struct ac97_source {
	spinlock_t lock;	/* see above */
	u8 *buf;
	size_t size;		/* power of two */
	u64 wpos;
	u64 rpos;
	u32 rate;		/* the consuming function's programmed rate */
	u16 channels;
	u32 serial;		/* bumped at every change of @rate */
	bool claimed;		/* a writer holds it */
	bool closed;		/* the device is gone */
	u64 underruns;		/* transfers that found too little */
	u64 silent_bytes;	/* bytes of silence they made up */
	wait_queue_head_t wait;
};

int ac97_source_init(struct ac97_source *src, u16 channels);
void ac97_source_free(struct ac97_source *src);
void ac97_source_close(struct ac97_source *src);
void ac97_source_set_rate(struct ac97_source *src, u32 rate);
size_t ac97_source_peek(struct ac97_source *src, void *dst, size_t max);
void ac97_source_consume(struct ac97_source *src, size_t len, size_t missing);
size_t ac97_source_room(struct ac97_source *src);
ssize_t ac97_source_write(struct ac97_source *src, struct iov_iter *from,
			  bool nonblock);
void ac97_source_format(struct ac97_source *src, struct ac97_pcm_format *fmt);

/* One open PCM node. */
struct ac97_reader {
	struct ac97_ring *ring;
	u64 rpos;
	u64 overruns;
	u64 lost_bytes;
};

/**
 * struct ac97_dev - one emulated AC'97 controller + codec
 * @lock: protects @mixer, @func, @glob_cnt, @glob_sta, @cas, @irq_level,
 *	@gen, @unplugged, @stopped and the counters. A spinlock: register handlers run in vCPU
 *	context. Lock order: @lock, then a @src's lock; @ring has its own lock
 *	and is never taken under @lock; host ops other than @set_irq are never
 *	called under it.
 * @mixer: codec registers
 * @func: PCM in, PCM out and mic in DMA functions, each with its clock. A
 *	function's @phase carries over a pause and across buffers, as on the
 *	AC-link, and starts again at 0 when the function is reset; PCM out's
 *	ring pads to it, so the host stream stays frame-aligned whatever the
 *	guest does
 * @glob_cnt: GLOB_CNT
 * @glob_sta: GLOB_STA
 * @cas: codec access semaphore
 * @irq_level: the level last given to the host's @set_irq
 * @gen: bumped whenever in-flight DMA must be dropped (reset, pause, BDBAR);
 *	the DMA thread moves guest memory with no lock held and commits only
 *	if @gen has not moved meanwhile
 * @unplugged: set once by ac97_dev_unplug(); no DMA ever runs again
 * @stopped: the host's VM is stopped (ac97_dev_set_stopped()): no clock runs
 * @dma_errors: DMA accesses that hit memory that is not guest RAM
 * @clock_slips: times the DMA thread was starved and gave up the lag
 * @irq_raises: times the interrupt line went from low to high
 * @ops: host operations
 * @host: the host's cookie for @ops
 * @flags: %AC97_DEV_MANUAL or 0
 * @manual_now_ns: the clock, with %AC97_DEV_MANUAL
 * @dma_lock: taken by whoever moves samples (the thread, a vCPU catching
 *	up before a register read, a PCM reader pulling); serialises the
 *	steps and owns @bounce and @raw. Lock order: a PCM file's lock, then
 *	@dma_lock, then @lock
 * @pcm_readers: files open for reading the PCM out stream; while there are
 *	more than @pcm_pullers, the thread serves them within the latency
 * @pcm_pullers: of those, the ones whose last read moved what was due
 *	itself (ac97_dma_pull()) and did not wait: they need no thread
 * @wakeups: runs of the DMA thread (written only by it)
 * @catch_ups: register accesses that found samples due and moved them
 * @thread: the DMA thread, NULL with %AC97_DEV_MANUAL
 * @bounce: the DMA thread's copy of guest PCM
 * @raw: the DMA thread's copy of a capture source's frames
 * @ring: PCM out for readers of the device's nodes
 * @src: capture sources, written through the device's nodes
 * @warn_rs: rate limit of this device's warnings (a guest cannot silence
 *	another's, nor flood the log)
 * @ref: one for the creator, one per open PCM reader (node, alias or fd)
 * @index: N of /dev/ac97pcmN, or -1
 * @owner: the user who created the device; /dev/ac97pcmN belongs to it
 * @node: /dev/ac97pcmN once published, under ac97_pcm.c's nodes_lock
 */
struct ac97_dev {
	spinlock_t lock;	/* see above */
	struct ac97_mixer mixer;
	struct ac97_bm_func func[AC97_BM_FUNCS];
	u32 glob_cnt;
	u32 glob_sta;
	u8 cas;
	bool irq_level;
	u64 gen;
	bool unplugged;
	bool stopped;
	u64 dma_errors;
	u64 clock_slips;
	u64 irq_raises;
	const struct ac97_host_ops *ops;
	void *host;
	unsigned int flags;
	u64 manual_now_ns;
	struct mutex dma_lock;	/* see above */
	atomic_t pcm_readers;
	atomic_t pcm_pullers;
	u64 wakeups;
	u64 catch_ups;
	struct task_struct *thread;
	u8 *bounce;
	u8 *raw;
	struct ac97_ring ring;
	struct ac97_source src[AC97_SOURCES];
	struct ratelimit_state warn_rs;
	struct kref ref;
	int index;
	kuid_t owner;
	struct device *node;
};

/* Devices at once, in all: minors of the PCM nodes. */
#define AC97_MAX_DEVICES	256

/*
 * Register access from the host; @len is 1, 2 or 4. NAM accesses never
 * sleep; a NABM access may first move due samples (ac97_dma_catch_up()),
 * and sleep, where the host's @dma_here says the caller may.
 */
u32 ac97_nam_read(struct ac97_dev *dev, unsigned int offset, unsigned int len);
void ac97_nam_write(struct ac97_dev *dev, unsigned int offset, unsigned int len,
		    u32 val);
u32 ac97_nabm_read(struct ac97_dev *dev, unsigned int offset, unsigned int len);
void ac97_nabm_write(struct ac97_dev *dev, unsigned int offset,
		     unsigned int len, u32 val);

#define AC97_DEV_MANUAL		BIT(0)	/* tests: no thread, caller-set clock */

struct ac97_dev *ac97_dev_create(const struct ac97_host_ops *ops, void *host,
				 unsigned int flags);
void ac97_dev_unplug(struct ac97_dev *dev);
void ac97_dev_set_stopped(struct ac97_dev *dev, bool stopped);
void ac97_dev_reset(struct ac97_dev *dev);
void ac97_dev_destroy(struct ac97_dev *dev);
void ac97_dev_put(struct ac97_dev *dev);
bool ac97_engine_step(struct ac97_dev *dev);

/* Between the register file (ac97_bm.c) and the engine (ac97_dma.c). */
#define AC97_FUNC_PI		0
#define AC97_FUNC_PO		1
#define AC97_FUNC_MC		2
void ac97_update_irq(struct ac97_dev *dev);
void ac97_bm_cold_reset(struct ac97_dev *dev);
#define AC97_BOUNCE_BYTES	4096
void ac97_dma_sync(struct ac97_dev *dev);
void ac97_dma_codec_changed(struct ac97_dev *dev);
void ac97_dma_kick(struct ac97_dev *dev);
void ac97_dma_catch_up(struct ac97_dev *dev, unsigned int funcs);
bool ac97_dma_pull(struct ac97_dev *dev);
u64 ac97_engine_deadline(struct ac97_dev *dev);
u64 ac97_dev_now(const struct ac97_dev *dev);
bool ac97_dma_running(const struct ac97_dev *dev);
int ac97_dma_thread(void *data);
u64 ac97_dma_latency_ns(void);
bool ac97_irq_pending(struct ac97_dev *dev);
void ac97_dev_info(struct ac97_dev *dev, struct ac97_dev_info *info);

int ac97_ring_init(struct ac97_ring *ring, size_t size);
void ac97_ring_free(struct ac97_ring *ring);
void ac97_ring_write(struct ac97_ring *ring, const void *data, size_t len,
		     u32 rate, u16 channels, unsigned int first_channel);
void ac97_ring_close(struct ac97_ring *ring);
void ac97_reader_init(struct ac97_reader *reader, struct ac97_ring *ring);
size_t ac97_reader_copy(struct ac97_reader *reader, void *dst, size_t max);
size_t ac97_reader_peek(struct ac97_reader *reader, void *dst, size_t max,
			struct ac97_fmt_mark *seg);
void ac97_reader_advance(struct ac97_reader *reader, size_t len);
bool ac97_reader_ready(struct ac97_reader *reader);
void ac97_reader_format(struct ac97_reader *reader, struct ac97_pcm_format *fmt);

int ac97_pcm_node_reserve(struct ac97_dev *dev);
int ac97_pcm_node_publish(struct ac97_dev *dev);
void ac97_pcm_node_del(struct ac97_dev *dev);
int ac97_pcm_open_fd(struct ac97_dev *dev);
int ac97_pcm_init(void);
void ac97_pcm_exit(void);

#if IS_ENABLED(CONFIG_KVM)
int ac97_kvm_init(void);
void ac97_kvm_exit(void);
#else
static inline int ac97_kvm_init(void) { return 0; }
static inline void ac97_kvm_exit(void) { }
#endif

extern unsigned int ac97_ring_kb;
extern unsigned int ac97_latency_us;

#endif /* AC97_H */
