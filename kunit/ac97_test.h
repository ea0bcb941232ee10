/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the ac97-emu KUnit suites: fake guests and devices freed with the test. */
#ifndef AC97_TEST_H
#define AC97_TEST_H

#include <kunit/test.h>

#include "ac97.h"
#include "fake_guest.h"

struct fake_guest *fake_guest_new(struct kunit *test);

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
