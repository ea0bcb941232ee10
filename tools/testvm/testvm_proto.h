/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How the test VMM and its freestanding guest talk: a parameter block the
 * VMM writes into guest memory, and a few ports that exit to the VMM.
 */
#ifndef TESTVM_PROTO_H
#define TESTVM_PROTO_H

#include <stdint.h>

#define TV_PORT_CONSOLE	0xe9	/* out byte: a character of the guest's log */
#define TV_PORT_KEY	0x510	/* out dword: the key of the next result */
#define TV_PORT_VALUE	0x514	/* out dword: the value of that result */
#define TV_PORT_EXIT	0x51c	/* out dword: the guest is done; exit code */

#define TV_PARAMS_GPA	0x500000
#define TV_BDL_GPA	0x200000
#define TV_BUF_GPA	0x210000
#define TV_GUEST_GPA	0x100000
#define TV_PARAMS_MAGIC	0xac97ac97

#define TV_MODE_PLAY	1	/* register sweep, then play the pattern */
#define TV_MODE_HOSTILE	2	/* attack the device: see guest.c hostile() */
#define TV_MODE_CAPTURE	3	/* record PCM in and mic in: see guest.c capture() */

/* Capture mode: 32 buffers per function, one after the other, never reused. */
#define TV_PI_BDL_GPA	TV_BDL_GPA
#define TV_MC_BDL_GPA	(TV_BDL_GPA + 0x100)
#define TV_PI_CAP_GPA	0x600000
#define TV_MC_CAP_GPA	0x700000

struct tv_params {
	uint32_t magic;
	uint32_t mode;
	uint32_t nam_base;
	uint32_t nabm_base;
	uint32_t irq;			/* ISA IRQ of the device */
	uint32_t total_samples;		/* pattern samples to play */
	uint32_t buf_samples;		/* samples per buffer */
	uint32_t old_nam_base;		/* BARs before the VMM moved them, or 0 */
	uint32_t old_nabm_base;
	/* Hostile mode: extra vCPUs racing run/stop/LVI (see guest.c race()). */
	uint32_t racers;
	uint32_t race_go;		/* set by vCPU 0 when the attack starts */
	uint32_t race_stop;		/* set by vCPU 0 when it ends */
	uint32_t race_parked;		/* racers that have stopped */
	uint32_t race_ops;		/* register accesses the racers made */
	uint32_t racer_stage[8];	/* per vCPU: 1 started, 2 racing, 3 parked */
	uint32_t racer_ops[8];		/* per vCPU: accesses so far */
	/*
	 * Play mode with racers (ac97-testvm -M): they read both placements of
	 * the BARs while the VMM moves them back and forth; vCPU 0 waits for
	 * race_stop, then plays. Reads: the device's value at the first and
	 * at the second placement, all ones (not decoded there), anything else.
	 */
	uint32_t alt_nam_base;
	uint32_t alt_nabm_base;
	uint32_t bar_reads[4];
	uint32_t bad_read[2];		/* the first bad one: port | width << 16, value */
	/*
	 * Play mode, written by PO's interrupt handler as it goes, for the
	 * VMM's timeout report: interrupts taken, samples queued, completions
	 * counted, the SR of the last interrupt and the SR read after its
	 * refills, 1 once the last buffer was seen parked at LVI.
	 * Only vCPU 0 writes them; only the VMM's SIGALRM handler reads them,
	 * without a lock, while the guest may still run: a snapshot for the
	 * message, never part of a verdict. The guest's RAM stays mapped until
	 * that handler's _exit().
	 */
	uint32_t play_irqs;
	uint32_t play_queued;
	uint32_t play_done;
	uint32_t play_sr;
	uint32_t play_sr_after;
	uint32_t play_finished;
};

#define TV_BAR_READ_DEV_A	0
#define TV_BAR_READ_DEV_B	1
#define TV_BAR_READ_NONE	2
#define TV_BAR_READ_BAD		3

enum tv_result {
	TV_R_SWEEP_CHECKS = 1,
	TV_R_SWEEP_FAILS,
	TV_R_FIRST_FAIL_WHERE,		/* width << 16 | space << 8 | offset */
	TV_R_FIRST_FAIL_GOT,
	TV_R_FIRST_FAIL_WANT,
	TV_R_IRQS,
	TV_R_BUFFERS_DONE,
	TV_R_SAMPLES_QUEUED,
	TV_R_FIFO_ERRORS,
	TV_R_UNEXPECTED_IRQS,
	TV_R_FINAL_SR,
	TV_R_FINAL_CIV,
	TV_R_OLD_BARS_DEAD,		/* 1 if the old ranges no longer decode */
	TV_R_HOSTILE_ROUNDS,
	TV_R_RACE_OPS,
	TV_R_RACERS_PARKED,
	TV_R_SPURIOUS_IRQS,		/* PO's SR had no interrupt bit set */
	TV_R_COALESCED,			/* completions beyond the first per irq */
	TV_R_EARLY_COMPLETIONS,		/* seen before their BCIS (see guest.c) */
	TV_R_PI_BUFFERS,		/* capture: PCM in buffers completed */
	TV_R_MC_BUFFERS,		/* capture: mic in buffers completed */
	TV_R_PI_FINAL_SR,
	TV_R_MC_FINAL_SR,
	TV_R_COUNT
};

/* The test signal: every sample differs from its neighbours in a known way. */
static inline uint16_t tv_pattern(uint32_t i)
{
	return (uint16_t)((i * 2654435761u) >> 16) ^ (uint16_t)i;
}

#endif /* TESTVM_PROTO_H */
