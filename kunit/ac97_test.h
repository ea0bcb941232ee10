/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the ac97-emu KUnit suites: a fake guest behind the host ops. */
#ifndef AC97_TEST_H
#define AC97_TEST_H

#include <kunit/test.h>

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
	unsigned int thread_enters;
	unsigned int thread_exits;
};

extern const struct ac97_host_ops fake_guest_ops;

struct fake_guest *fake_guest_new(struct kunit *test);
void *fake_ptr(struct fake_guest *g, u64 gpa);
void fake_write_bd(struct fake_guest *g, u64 bdbar, unsigned int index,
		   u32 addr, u32 ctl);

/* A device on a fake guest, freed when the test ends. */
struct ac97_dev *fake_dev_new(struct kunit *test, struct fake_guest *g,
			      unsigned int flags);

static inline void bm_wl(struct ac97_dev *dev, unsigned int off, u32 val)
{
	ac97_nabm_write(dev, off, 4, val);
}

static inline void bm_ww(struct ac97_dev *dev, unsigned int off, u16 val)
{
	ac97_nabm_write(dev, off, 2, val);
}

static inline void bm_wb(struct ac97_dev *dev, unsigned int off, u8 val)
{
	ac97_nabm_write(dev, off, 1, val);
}

static inline u32 bm_rl(struct ac97_dev *dev, unsigned int off)
{
	return ac97_nabm_read(dev, off, 4);
}

static inline u16 bm_rw(struct ac97_dev *dev, unsigned int off)
{
	return ac97_nabm_read(dev, off, 2);
}

static inline u8 bm_rb(struct ac97_dev *dev, unsigned int off)
{
	return ac97_nabm_read(dev, off, 1);
}

static inline u16 nam_rw(struct ac97_dev *dev, unsigned int off)
{
	return ac97_nam_read(dev, off, 2);
}

static inline void nam_ww(struct ac97_dev *dev, unsigned int off, u16 val)
{
	ac97_nam_write(dev, off, 2, val);
}

#endif /* AC97_TEST_H */
