/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Register map of the Intel ICH AC'97 controller (82801AA, 8086:2415) and of
 * its AC'97 2.3 codec, as far as ac97-emu models them.
 *
 * NAM (BAR0, 256 bytes): the codec's 16-bit mixer registers; 0x80-0xff would
 * be the secondary codec, which is absent.
 * NABM (BAR1, 64 bytes): the bus master. Three DMA functions (PCM in, PCM out,
 * mic in), each a 16-byte block, then the global registers.
 */
#ifndef AC97_REGS_H
#define AC97_REGS_H

#include <linux/bits.h>

#define AC97_NAM_SIZE		256
#define AC97_NABM_SIZE		64
#define AC97_CODEC_REGS		0x80	/* primary codec: 0x00-0x7f */

/* Codec (NAM) registers */
#define AC97_RESET		0x00
#define AC97_MASTER		0x02
#define AC97_HEADPHONE		0x04
#define AC97_MASTER_MONO	0x06
#define AC97_MASTER_TONE	0x08
#define AC97_PC_BEEP		0x0a
#define AC97_PHONE		0x0c
#define AC97_MIC		0x0e
#define AC97_LINE		0x10
#define AC97_CD			0x12
#define AC97_VIDEO		0x14
#define AC97_AUX		0x16
#define AC97_PCM_OUT		0x18
#define AC97_REC_SEL		0x1a
#define AC97_REC_GAIN		0x1c
#define AC97_REC_GAIN_MIC	0x1e
#define AC97_GENERAL_PURPOSE	0x20
#define AC97_3D_CONTROL		0x22
#define AC97_INT_PAGING		0x24
#define AC97_POWERDOWN		0x26
#define AC97_EXTENDED_ID	0x28
#define AC97_EXTENDED_STATUS	0x2a
#define AC97_PCM_FRONT_DAC_RATE	0x2c
#define AC97_PCM_SURR_DAC_RATE	0x2e
#define AC97_PCM_LFE_DAC_RATE	0x30
#define AC97_PCM_LR_ADC_RATE	0x32
#define AC97_PCM_MIC_ADC_RATE	0x34
#define AC97_VENDOR_ID1		0x7c
#define AC97_VENDOR_ID2		0x7e

#define AC97_MUTE		BIT(15)
#define AC97_PD_ADC_READY	BIT(0)
#define AC97_PD_DAC_READY	BIT(1)
#define AC97_PD_ANL_READY	BIT(2)
#define AC97_PD_REF_READY	BIT(3)
#define AC97_PD_READY_MASK	0x000f
#define AC97_EA_VRA		BIT(0)
#define AC97_EA_VRM		BIT(3)

/* Bus master (NABM): per-function block offsets */
#define AC97_BM_PI		0x00	/* PCM in */
#define AC97_BM_PO		0x10	/* PCM out */
#define AC97_BM_MC		0x20	/* mic in */
#define AC97_BM_FUNCS		3

#define AC97_BM_BDBAR		0x00	/* dword: descriptor list base, 8-byte aligned */
#define AC97_BM_CIV		0x04	/* byte, RO: current index */
#define AC97_BM_LVI		0x05	/* byte: last valid index */
#define AC97_BM_SR		0x06	/* word: status */
#define AC97_BM_PICB		0x08	/* word, RO: samples left in current buffer */
#define AC97_BM_PIV		0x0a	/* byte, RO: prefetched index */
#define AC97_BM_CR		0x0b	/* byte: control */

#define AC97_GLOB_CNT		0x2c
#define AC97_GLOB_STA		0x30
#define AC97_CAS		0x34

#define AC97_BD_COUNT		32	/* descriptors per list; indices wrap */
#define AC97_BD_INDEX_MASK	0x1f
#define AC97_BD_SIZE		8
#define AC97_BD_LEN_MASK	0xffff	/* samples (16-bit words) */
#define AC97_BD_BUP		BIT(30)
#define AC97_BD_IOC		BIT(31)

#define AC97_SR_DCH		BIT(0)	/* DMA controller halted */
#define AC97_SR_CELV		BIT(1)	/* current equals last valid */
#define AC97_SR_LVBCI		BIT(2)	/* last valid buffer completion */
#define AC97_SR_BCIS		BIT(3)	/* buffer completion */
#define AC97_SR_FIFOE		BIT(4)	/* FIFO error */
#define AC97_SR_W1C		(AC97_SR_LVBCI | AC97_SR_BCIS | AC97_SR_FIFOE)

#define AC97_CR_RPBM		BIT(0)	/* run/pause */
#define AC97_CR_RR		BIT(1)	/* reset registers, self-clearing */
#define AC97_CR_LVBIE		BIT(2)
#define AC97_CR_FEIE		BIT(3)
#define AC97_CR_IOCE		BIT(4)
#define AC97_CR_IE_MASK		(AC97_CR_LVBIE | AC97_CR_IOCE | AC97_CR_FEIE)
#define AC97_CR_MASK		0x1f

#define AC97_GC_GIE		BIT(0)
#define AC97_GC_COLD		BIT(1)	/* 0 = AC-link held in cold reset */
#define AC97_GC_WARM		BIT(2)	/* self-clearing */
#define AC97_GC_ACLINK_OFF	BIT(3)
#define AC97_GC_PRIE		BIT(4)
#define AC97_GC_SRIE		BIT(5)
#define AC97_GC_MASK		0x0000007f

#define AC97_GS_GSCI		BIT(0)
#define AC97_GS_PIINT		BIT(5)
#define AC97_GS_POINT		BIT(6)
#define AC97_GS_MINT		BIT(7)
#define AC97_GS_PCR		BIT(8)	/* primary codec ready */
#define AC97_GS_PRI		BIT(10)
#define AC97_GS_SRI		BIT(11)
#define AC97_GS_RCS		BIT(15)	/* codec read timed out */
#define AC97_GS_W1C		(AC97_GS_GSCI | AC97_GS_PRI | AC97_GS_SRI | AC97_GS_RCS)
#define AC97_GS_FUNC_INTS	(AC97_GS_PIINT | AC97_GS_POINT | AC97_GS_MINT)

#define AC97_CAS_BUSY		BIT(0)

#endif /* AC97_REGS_H */
