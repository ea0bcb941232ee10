/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ac97-emu userspace ABI.
 *
 * PCM nodes: /dev/ac97pcmN is device N; /dev/ac97pcm follows the first
 * device. read() returns interleaved signed 16-bit little-endian samples as
 * the guest plays them, after the codec's master and PCM-out volume. Every
 * reader gets the whole stream from the moment it opened; a reader that falls
 * more than the ring size behind loses the oldest audio (counted, never
 * blocking the device). A read() never spans a change of format: it returns
 * short at the boundary, and AC97_PCM_GET_FORMAT then describes the bytes
 * that follow. A read() returns 0 (end of file) once the device is gone and
 * everything it produced has been read.
 *
 * When samples become readable: each at most the module's latency_us
 * (10 ms by default) after the guest's clock played it. A non-blocking
 * read (O_NONBLOCK, or AC97_PCM_READ on such a file) made by a thread of
 * the VMM whose VM the device is attached to (the process whose address
 * space holds the guest's RAM) gets every sample played up to the moment
 * of the read: it moves them itself, and while every reader of the device
 * reads that way the device wakes its thread only at the guest's buffer
 * ends (a VMM's audio timer reading its AC97_DEV_OPEN_PCM fd). Once such
 * a file is read in blocking mode, polled, or read from another process,
 * it is served within latency_us again.
 *
 * Opened for writing, a PCM node feeds what the guest records: write()
 * takes interleaved S16_LE frames into one of the device's two capture
 * sources, the line source (stereo; PCM in, through the codec's record
 * select and record gain) or the mic source (mono; mic in, through the mic
 * control), at the rate the guest programmed for that function
 * (AC97_PCM_GET_SOURCE_FORMAT says which; its @serial moves when the guest
 * changes it). A file open for writing feeds the source AC97_PCM_SET_SOURCE
 * chose, or else the line source from its first write on; one file at a
 * time may feed a source (else -EBUSY). write() blocks until there is room (about 340 ms of 48 kHz
 * stereo in all) and takes what fits; with O_NONBLOCK it returns -EAGAIN
 * when full; poll() reports EPOLLOUT when there is room. The guest records
 * silence at the exact rate whenever its source has too little (no writer,
 * or one that fell behind): such underruns are counted, never waited for.
 * Once the device is gone, write() returns -ENODEV.
 */
#ifndef _UAPI_LINUX_AC97_EMU_H
#define _UAPI_LINUX_AC97_EMU_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define AC97_PCM_FMT_S16_LE	1

/**
 * struct ac97_pcm_format - format of the next bytes a reader will get
 * @rate:	frames per second (8000..48000)
 * @channels:	interleaved channels per frame
 * @format:	sample format, always %AC97_PCM_FMT_S16_LE
 * @serial:	increases by one at every change of format in the stream, so
 *		a reader can tell a new segment from the one it already knows
 * @bytes_ready: bytes of this format the reader can read now without
 *		blocking
 * @overruns:	times this reader fell behind and had audio dropped
 * @lost_bytes:	bytes this reader lost to those overruns
 */
struct ac97_pcm_format {
	__u32 rate;
	__u16 channels;
	__u16 format;
	__u32 serial;
	__u32 bytes_ready;
	__u64 overruns;
	__u64 lost_bytes;
};

#define AC97_IOC_MAGIC		0xa9

/**
 * struct ac97_pcm_read - a read that also tells the format of what it read
 * @buf:	user address to fill
 * @len:	bytes wanted
 * @bytes:	out: bytes read, all of @format; 0 at end of stream
 * @format:	out: the format of those bytes; @format.bytes_ready is what is
 *		left of that format to read now, the counters are this reader's
 */
struct ac97_pcm_read {
	__u64 buf;
	__u32 len;
	__u32 bytes;
	struct ac97_pcm_format format;
};

/*
 * Describe the format of the next byte read() returns. A reader waiting for
 * the first data of a new format learns it only from the next call, so
 * readers that must know the format of every byte use AC97_PCM_READ.
 */
#define AC97_PCM_GET_FORMAT	_IOR(AC97_IOC_MAGIC, 0x01, struct ac97_pcm_format)
/* read() and the format of what was read, in one step; blocks like read(). */
#define AC97_PCM_READ		_IOWR(AC97_IOC_MAGIC, 0x02, struct ac97_pcm_read)

/* Capture sources, the argument of AC97_PCM_SET_SOURCE. */
#define AC97_PCM_SOURCE_LINE	0	/* stereo, feeds PCM in */
#define AC97_PCM_SOURCE_MIC	1	/* mono, feeds mic in */

/*
 * On a file open for writing: feed the source given as the argument (a
 * value, not a pointer) from now on, giving up the one fed before.
 * -EBUSY if another file feeds it, -EINVAL for an unknown source, -EBADF
 * on a file not open for writing.
 */
#define AC97_PCM_SET_SOURCE	_IO(AC97_IOC_MAGIC, 0x03)
/*
 * On a file open for writing: the format its source (the line source if
 * it has none yet) wants now. @rate is
 * the guest's programmed rate for the function the source feeds (also
 * while it is stopped), @channels 2 (line) or 1 (mic), @serial moves at
 * each change of rate, @bytes_ready is the room for writing now,
 * @overruns the underruns (transfers that found too little and recorded
 * silence for the rest) and @lost_bytes the silence they made up.
 */
#define AC97_PCM_GET_SOURCE_FORMAT _IOR(AC97_IOC_MAGIC, 0x04, struct ac97_pcm_format)

/*
 * Control node /dev/ac97ctl: a VMM attaches a device to its KVM VM.
 *
 * AC97_CTL_ATTACH returns a new file descriptor, the device handle; closing
 * it detaches the device (so a VMM that dies leaks nothing). While attached,
 * the module holds a reference on the VM. Guest port I/O to the mapped
 * ranges is served in the kernel; interrupts are raised on @irq_fd and
 * re-raised after the guest's EOI when @resample_fd fires, i.e. the VMM
 * assigns both to a GSI with KVM_IRQFD and KVM_IRQFD_FLAG_RESAMPLE
 * (level-triggered INTx). The module keeps both eventfds open while attached,
 * so the VMM may close its own descriptors of them.
 */
#define AC97_MAP_NAM		(1U << 0)	/* serve BAR0, 256 ports */
#define AC97_MAP_NABM		(1U << 1)	/* serve BAR1, 64 ports */

/**
 * struct ac97_bars - where the device's I/O BARs decode
 * @nam_base:	BAR0 (codec mixer) port base; 256-byte aligned
 * @nabm_base:	BAR1 (bus master) port base; 64-byte aligned
 * @map:	%AC97_MAP_NAM and/or %AC97_MAP_NABM: which ranges decode (the
 *		PCI command register's I/O space enable, as the VMM sees it).
 *		A range that is not mapped does not have to be valid.
 * @reserved:	must be zero
 */
struct ac97_bars {
	__u16 nam_base;
	__u16 nabm_base;
	__u32 map;
	__u32 reserved;
};

/**
 * struct ac97_attach - what AC97_CTL_ATTACH needs
 * @vm_fd:	the VM, from KVM_CREATE_VM, owned by the calling process
 * @irq_fd:	eventfd assigned with KVM_IRQFD to the device's GSI
 * @resample_fd: eventfd given as that irqfd's resamplefd
 * @flags:	must be zero
 * @bars:	initial BAR placement and decoding
 */
struct ac97_attach {
	__s32 vm_fd;
	__s32 irq_fd;
	__s32 resample_fd;
	__u32 flags;
	struct ac97_bars bars;
};

/**
 * struct ac97_dev_info - a device's identity and counters
 * @index:	N of its PCM node /dev/ac97pcmN
 * @irq_level:	current level of its interrupt line (0 or 1)
 * @dma_errors:	DMA reads that hit guest memory that is not RAM
 * @clock_slips: times the DMA was starved for over a second and gave up the lag
 * @samples:	PCM out samples taken from guest memory
 * @irq_raises:	times the interrupt line went from low to high. A guest
 *		that clears the status in its handler gets one interrupt per
 *		raise; a line still high at the guest's EOI is delivered again
 *		without a new raise
 * @capture_samples: PCM in and mic in samples written to guest memory
 * @underruns:	capture transfers that found less in their source than was
 *		due and made up the rest with silence (no writer counts too)
 * @engine_wakeups: times the device's DMA thread ran (a buffer's end, or
 *		a host reader or writer to serve)
 * @catch_ups:	guest register reads that found samples due and moved them
 *		first (the thread had not run yet)
 * @irq_lowered_before_eoi: times the line went low while an interrupt was
 *		signalled and not yet EOI'd (KVM hosts only). KVM cannot take
 *		back a line it was given through an irqfd: a guest that EOIs
 *		before its handler runs (an 8259) and withdraws the cause first
 *		(stops the function, clears IOCE) gets that interrupt with
 *		nothing pending. A guest that EOIs after its handler (an IOAPIC)
 *		counts here every interrupt it handles
 */
struct ac97_dev_info {
	__u32 index;
	__u32 irq_level;
	__u64 dma_errors;
	__u64 clock_slips;
	__u64 samples;
	__u64 irq_raises;
	__u64 capture_samples;
	__u64 underruns;
	__u64 engine_wakeups;
	__u64 catch_ups;
	__u64 irq_lowered_before_eoi;
};

/* On /dev/ac97ctl: attach; returns the device handle fd (O_CLOEXEC). */
#define AC97_CTL_ATTACH		_IOW(AC97_IOC_MAGIC, 0x10, struct ac97_attach)
/* On a device handle: move, map or unmap the BARs. */
#define AC97_DEV_SET_BARS	_IOW(AC97_IOC_MAGIC, 0x11, struct ac97_bars)
/* On a device handle: identity and counters. */
#define AC97_DEV_GET_INFO	_IOR(AC97_IOC_MAGIC, 0x12, struct ac97_dev_info)
/*
 * On a device handle: a new reader of the device's PCM stream, as a file
 * descriptor (read-only, close-on-exec; argument 0). It reads exactly like
 * an open /dev/ac97pcmN, whatever that node's permissions: whoever holds the
 * handle may hear its VM, and may pass the fd on.
 */
#define AC97_DEV_OPEN_PCM	_IO(AC97_IOC_MAGIC, 0x13)
/*
 * On a device handle: the VM's vCPUs are stopped (argument 1; a VMM's stop,
 * a migration's last phase) or are about to run again (0). Call it after
 * stopping them and before running them again. While stopped the device
 * moves no sample in either direction and signals no interrupt (one due
 * meanwhile is signalled on the resume); its clocks then go on from the
 * sample each function had reached, so the guest sees no jump in its
 * position. Registers keep their values. Any other argument: -EINVAL.
 */
#define AC97_DEV_SET_STOPPED	_IO(AC97_IOC_MAGIC, 0x14)
/*
 * On a device handle: the VMM reset its machine (argument 0). The device
 * returns to its power-on state, as after a PCI reset: every function
 * stopped and reset, the codec's registers at their defaults, GLOB_CNT 0,
 * the interrupt line low. BAR placement, the PCM streams, their readers and
 * writers, and a stop stay. The VMM resets its irqchip too: an interrupt in
 * service is not waited for.
 */
#define AC97_DEV_RESET		_IO(AC97_IOC_MAGIC, 0x15)

#endif /* _UAPI_LINUX_AC97_EMU_H */
