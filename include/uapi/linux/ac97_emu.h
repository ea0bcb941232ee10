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

/* Describe the format of the next byte read() returns; see above. */
#define AC97_PCM_GET_FORMAT	_IOR(AC97_IOC_MAGIC, 0x01, struct ac97_pcm_format)

#endif /* _UAPI_LINUX_AC97_EMU_H */
