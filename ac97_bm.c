// SPDX-License-Identifier: GPL-2.0
/*
 * The ICH AC'97 bus master's registers (NABM), the codec access path (NAM),
 * and the resets. The data moves in ac97_dma.c.
 *
 * Register accesses come from vCPU context and only ever take dev->lock.
 */
#include <linux/kernel.h>

#include "ac97.h"

static const u32 func_int_bit[AC97_BM_FUNCS] = {
	AC97_GS_PIINT, AC97_GS_POINT, AC97_GS_MINT,
};

static bool func_irq(const struct ac97_bm_func *f)
{
	return ((f->sr & AC97_SR_LVBCI) && (f->cr & AC97_CR_LVBIE)) ||
	       ((f->sr & AC97_SR_BCIS) && (f->cr & AC97_CR_IOCE)) ||
	       ((f->sr & AC97_SR_FIFOE) && (f->cr & AC97_CR_FEIE));
}

/* Recompute GLOB_STA's interrupt bits and the line; caller holds dev->lock. */
void ac97_update_irq(struct ac97_dev *dev)
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

static void func_reset(struct ac97_dev *dev, struct ac97_bm_func *f, u8 keep_cr)
{
	f->civ = 0;
	f->lvi = 0;
	f->piv = 0;
	f->picb = 0;
	f->sr = AC97_SR_DCH;
	f->cr &= keep_cr;
	f->bd_valid = false;
	f->phase = 0;
	dev->gen++;
}

/*
 * Cold reset: the whole controller and, through AC_RESET#, the codec.
 * Caller holds dev->lock.
 */
void ac97_bm_cold_reset(struct ac97_dev *dev)
{
	int i;

	for (i = 0; i < AC97_BM_FUNCS; i++) {
		func_reset(dev, &dev->func[i], 0);
		dev->func[i].bdbar = 0;
	}
	dev->glob_sta = 0;
	dev->cas = 0;
	ac97_mixer_reset(&dev->mixer);
	ac97_dma_sync(dev);
	ac97_dma_codec_changed(dev);
	ac97_update_irq(dev);
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
		ac97_bm_cold_reset(dev);
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
	ac97_dma_sync(dev);
	ac97_update_irq(dev);
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
		ac97_dma_sync(dev);
	}
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
		return f->picb;
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
		ac97_update_irq(dev);
		break;
	case AC97_BM_CR:
		cr_write(dev, f, val);
		break;
	default:	/* CIV, PICB, PIV are read-only */
		break;
	}
}

/*
 * The functions whose progress an access shows (a read of CIV, SR, PICB,
 * PIV or GLOB_STA) or changes (a write to CR: a pause stops where the
 * clock is): those the DMA must bring up to the clock first.
 */
static unsigned int nabm_progress_funcs(unsigned int offset, unsigned int len,
					bool write)
{
	unsigned int b, reg, funcs = 0;

	for (b = offset; b < offset + len && b < AC97_NABM_SIZE; b++) {
		reg = b & 0xf;
		if (b >= AC97_GLOB_STA && b < AC97_GLOB_STA + 4 && !write)
			funcs |= BIT(AC97_BM_FUNCS) - 1;
		if (b >= AC97_GLOB_CNT)
			continue;
		if (write ? reg == AC97_BM_CR :
			    reg >= AC97_BM_CIV && reg <= AC97_BM_PIV)
			funcs |= BIT(b >> 4);
	}
	return funcs;
}

u32 ac97_nabm_read(struct ac97_dev *dev, unsigned int offset, unsigned int len)
{
	unsigned int pos, end = offset + len, start, width, b;
	u32 result = 0, reg;

	ac97_dma_catch_up(dev, nabm_progress_funcs(offset, len, false));
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

	ac97_dma_catch_up(dev, nabm_progress_funcs(offset, len, true));
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
		ac97_dma_codec_changed(dev);
	}
	spin_unlock(&dev->lock);
}
