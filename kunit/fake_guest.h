/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake guest behind the host ops: two banks of RAM with a hole between them
 * and an interrupt line that records its edges. No KUnit here: the userspace
 * fuzzer (tools/fuzz) uses it too.
 */
#ifndef AC97_FAKE_GUEST_H
#define AC97_FAKE_GUEST_H

#include "ac97.h"

#define FAKE_RAM_BASE	0x100000ULL
#define FAKE_RAM_SIZE	(4U << 20)
/* A second bank above a hole, to test reads that straddle it. */
#define FAKE_HIGH_BASE	0x1000000ULL
#define FAKE_HIGH_SIZE	(64U << 10)

struct fake_guest {
	u8 *ram;
	u8 *high;
	bool irq_level;
	unsigned int irq_raises;
	unsigned int irq_changes;
	unsigned int reads;
	unsigned int refused_reads;
	unsigned int writes;
	unsigned int refused_writes;
	u64 written_bytes;
	unsigned int dma_begins;
	unsigned int dma_ends;
	bool borrowed;		/* between a begin and an idle end */
	unsigned int borrows;
	unsigned int gives_back;
	bool memory_gone;	/* set: dma_begin fails, as when the VMM exited */
	bool thread_only;	/* set: register accesses may not move data */
	/*
	 * Set by a test once the device is destroyed: the host would be freed
	 * now, and any call of read_guest or dma_here (what a PCM reader's
	 * pull calls) sets @called_after_gone.
	 */
	bool host_gone;
	bool called_after_gone;
	/* If set, called by every read_guest before it returns (a slow host). */
	void (*read_hook)(struct fake_guest *g);
};

extern const struct ac97_host_ops fake_guest_ops;

int fake_guest_alloc(struct fake_guest *g);
void fake_guest_release(struct fake_guest *g);
void *fake_ptr(struct fake_guest *g, u64 gpa);
void fake_write_bd(struct fake_guest *g, u64 bdbar, unsigned int index,
		   u32 addr, u32 ctl);

#endif /* AC97_FAKE_GUEST_H */
