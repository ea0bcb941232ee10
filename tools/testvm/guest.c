// SPDX-License-Identifier: GPL-2.0
/*
 * A freestanding x86 guest that drives the AC'97 the way a driver does:
 * cold reset, wait for the codec, check every register at every width,
 * then play a known pattern through a 32-entry descriptor list, refilling
 * buffers from its interrupt handler. Results go to the VMM through ports.
 */
#include <stdint.h>

#include "ac97_regs.h"
#include "testvm_proto.h"

#define PO(reg)		(AC97_BM_PO + (reg))
#define PI(reg)		(AC97_BM_PI + (reg))
#define MC(reg)		(AC97_BM_MC + (reg))
#define PIC1		0x20
#define PIC2		0xa0
#define ELCR1		0x4d0

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void report(uint32_t key, uint32_t value)
{
	outl(TV_PORT_KEY, key);
	outl(TV_PORT_VALUE, value);
}

static void puts_(const char *s)
{
	while (*s)
		outb(TV_PORT_CONSOLE, *s++);
}

static volatile struct tv_params *const params = (void *)TV_PARAMS_GPA;
static uint16_t nam, nabm;

/* --- register sweep --- */

static uint32_t checks, fails;

static void expect(uint32_t space, uint32_t off, uint32_t width, uint32_t got,
		   uint32_t want)
{
	checks++;
	if (got == want)
		return;
	if (!fails++) {
		report(TV_R_FIRST_FAIL_WHERE, width << 16 | space << 8 | off);
		report(TV_R_FIRST_FAIL_GOT, got);
		report(TV_R_FIRST_FAIL_WANT, want);
	}
}

static uint32_t in_width(uint16_t port, uint32_t width)
{
	return width == 1 ? inb(port) : width == 2 ? inw(port) : inl(port);
}

/* NABM after power-on and the release of cold reset, byte by byte. */
static void nabm_image(uint8_t *img)
{
	int i;

	for (i = 0; i < AC97_NABM_SIZE; i++)
		img[i] = 0;
	img[AC97_BM_PI + AC97_BM_SR] = AC97_SR_DCH;
	img[AC97_BM_PO + AC97_BM_SR] = AC97_SR_DCH;
	img[AC97_BM_MC + AC97_BM_SR] = AC97_SR_DCH;
	img[AC97_GLOB_CNT] = AC97_GC_COLD;
	img[AC97_GLOB_STA + 1] = AC97_GS_PCR >> 8;
}

/*
 * The codec after a reset, as the STAC9700 reads (ac97-emu's README): every
 * register not listed reads 0. The secondary codec (0x80-0xff) is absent:
 * its reads time out with all ones.
 */
static const struct { uint8_t reg; uint16_t val; } codec_reset[] = {
	{ 0x02, 0x8000 }, { 0x04, 0x8000 }, { 0x06, 0x8000 }, { 0x0c, 0x8008 },
	{ 0x0e, 0x8008 }, { 0x10, 0x8808 }, { 0x12, 0x8808 }, { 0x14, 0x8808 },
	{ 0x16, 0x8808 }, { 0x18, 0x8808 }, { 0x1c, 0x8000 }, { 0x26, 0x000f },
	{ 0x28, 0x0809 }, { 0x2c, 0xbb80 }, { 0x32, 0xbb80 }, { 0x34, 0xbb80 },
	{ 0x7c, 0x8384 }, { 0x7e, 0x7600 },
};

static uint16_t codec_word(uint32_t reg)
{
	uint32_t i;

	if (reg >= 0x80)
		return 0xffff;
	for (i = 0; i < sizeof(codec_reset) / sizeof(codec_reset[0]); i++)
		if (codec_reset[i].reg == reg)
			return codec_reset[i].val;
	return 0;
}

/* NAM after a reset, at every offset and width: each byte from its word. */
static void sweep_nam(void)
{
	static const uint32_t widths[] = { 1, 2, 4 };
	uint32_t w, off, want, b;

	for (w = 0; w < 3; w++) {
		for (off = 0; off + widths[w] <= AC97_NAM_SIZE; off++) {
			want = 0;
			for (b = off; b < off + widths[w]; b++)
				want |= (uint32_t)(codec_word(b & ~1u) >> (8 * (b & 1)) & 0xff)
					<< (8 * (b - off));
			expect(0, off, widths[w], in_width(nam + off, widths[w]), want);
		}
	}
	/* Only whole words reach the codec: byte and odd writes are dropped. */
	outb(nam + AC97_MASTER, 0x05);
	outw(nam + AC97_MASTER + 1, 0x0505);
	expect(0, AC97_MASTER, 2, inw(nam + AC97_MASTER), 0x8000);
	outl(nam + AC97_MASTER, 0x00030102);	/* a dword writes two registers */
	expect(0, AC97_MASTER, 4, inl(nam + AC97_MASTER), 0x00030102);
	outw(nam + AC97_RESET, 0);
	expect(0, AC97_MASTER, 4, inl(nam + AC97_MASTER), 0x80008000);
}

static void sweep(void)
{
	static const uint32_t widths[] = { 1, 2, 4 };
	uint8_t img[AC97_NABM_SIZE];
	uint32_t w, off, want, i;

	nabm_image(img);
	for (w = 0; w < 3; w++) {
		for (off = 0; off + widths[w] <= AC97_NABM_SIZE; off++) {
			inw(nam);	/* a codec access frees CAS */
			want = 0;
			for (i = 0; i < widths[w]; i++)
				want |= (uint32_t)img[off + i] << (8 * i);
			expect(1, off, widths[w], in_width(nabm + off, widths[w]), want);
		}
	}
	sweep_nam();
	expect(1, AC97_GLOB_STA, 4, inl(nabm + AC97_GLOB_STA),
	       AC97_GS_PCR | AC97_GS_RCS);
	outl(nabm + AC97_GLOB_STA, AC97_GS_RCS);
	expect(1, AC97_GLOB_STA, 4, inl(nabm + AC97_GLOB_STA), AC97_GS_PCR);

	/* Writes: writable bits, read-only registers, aliases, RR. */
	outl(nabm + AC97_BM_PI + AC97_BM_BDBAR, 0xffffffff);
	expect(1, 0x00, 4, inl(nabm + AC97_BM_PI), 0xfffffff8);
	outb(nabm + AC97_BM_PI + AC97_BM_CIV, 0xff);
	outb(nabm + AC97_BM_PI + AC97_BM_LVI, 0xff);
	expect(1, 0x04, 4, inl(nabm + AC97_BM_PI + 4), 0x00011f00);
	outw(nabm + AC97_BM_PI + AC97_BM_PICB, 0xffff);
	expect(1, 0x08, 2, inw(nabm + AC97_BM_PI + AC97_BM_PICB), 0);
	outl(nabm + AC97_BM_PI + 8, 0x1c000000);	/* CR via its dword alias */
	expect(1, 0x0b, 1, inb(nabm + AC97_BM_PI + AC97_BM_CR), 0x1c);
	outb(nabm + AC97_BM_PI + AC97_BM_CR, AC97_CR_RR);
	expect(1, 0x00, 4, inl(nabm + AC97_BM_PI), 0);		/* RR clears BDBAR */
	expect(1, 0x04, 4, inl(nabm + AC97_BM_PI + 4), 0x00010000);
	expect(1, 0x08, 4, inl(nabm + AC97_BM_PI + 8), 0x1c000000);
	outb(nabm + AC97_BM_PI + AC97_BM_CR, 0);
	outl(nabm + AC97_BM_PI + AC97_BM_BDBAR, 0);
	outl(nabm + AC97_GLOB_CNT, 0xffffffff);
	expect(1, AC97_GLOB_CNT, 4, inl(nabm + AC97_GLOB_CNT), 0x7b);
	outl(nabm + AC97_GLOB_CNT, AC97_GC_COLD);
	expect(1, AC97_CAS, 1, inb(nabm + AC97_CAS), 0);
	expect(1, AC97_CAS, 1, inb(nabm + AC97_CAS), 1);
	outw(nam + AC97_MASTER, 0x2020);	/* 5-bit: saturates */
	expect(0, AC97_MASTER, 2, inw(nam + AC97_MASTER), 0x1f1f);
	expect(1, AC97_CAS, 1, inb(nabm + AC97_CAS), 0);
	outw(nam + AC97_EXTENDED_STATUS, AC97_EA_VRA);
	outw(nam + AC97_PCM_FRONT_DAC_RATE, 44000);
	expect(0, 0x2c, 2, inw(nam + AC97_PCM_FRONT_DAC_RATE), 44100);
	outw(nam + AC97_RESET, 0);
	expect(0, 0x2c, 2, inw(nam + AC97_PCM_FRONT_DAC_RATE), 48000);
	if (params->old_nam_base) {
		/* Moved BARs: the old ranges fall through to the VMM (all ones). */
		report(TV_R_OLD_BARS_DEAD,
		       inw(params->old_nam_base + AC97_VENDOR_ID1) == 0xffff &&
		       inl(params->old_nabm_base + AC97_GLOB_STA) == 0xffffffff);
	}
	report(TV_R_SWEEP_CHECKS, checks);
	report(TV_R_SWEEP_FAILS, fails);
}

/* --- playback --- */

static uint32_t next_sample, irqs, buffers_done, fifo_errors, unexpected;
static uint32_t spurious, coalesced, early;
static uint32_t done_idx;
static volatile int finished;

/* Fill buffer @i with the next pattern samples; false when there are none. */
static int fill(uint32_t i)
{
	uint32_t *bd = (uint32_t *)(TV_BDL_GPA + i * AC97_BD_SIZE);
	uint16_t *buf = (uint16_t *)(TV_BUF_GPA + i * params->buf_samples * 2);
	uint32_t n = params->total_samples - next_sample, k;

	if (!n)
		return 0;
	if (n > params->buf_samples)
		n = params->buf_samples;
	for (k = 0; k < n; k++)
		buf[k] = tv_pattern(next_sample + k);
	next_sample += n;
	bd[0] = (uint32_t)buf;
	bd[1] = AC97_BD_IOC | n;
	return 1;
}

/*
 * Every buffer completion is seen here, by CIV moving past it (or, for the
 * last one, PCM out parked at LVI). One interrupt may see several when the
 * vCPU ran late (coalesced); a completion that lands between the SR read and
 * the CIV read is counted now and its BCIS raises the next interrupt
 * (early). An interrupt whose SR has no interrupt bit is spurious.
 */
static void capture_irq(void);

void ac97_irq(void);
void ac97_irq(void)
{
	uint16_t sr, now;
	uint32_t seen = 0;
	uint8_t civ;

	if (params->mode == TV_MODE_CAPTURE) {
		capture_irq();
		return;
	}
	sr = inw(nabm + PO(AC97_BM_SR));
	outw(nabm + PO(AC97_BM_SR), sr & AC97_SR_W1C);
	irqs++;
	if (!(sr & (AC97_SR_BCIS | AC97_SR_LVBCI | AC97_SR_FIFOE)))
		spurious++;
	if (sr & AC97_SR_FIFOE)
		fifo_errors++;
	civ = inb(nabm + PO(AC97_BM_CIV));
	while (done_idx != civ) {
		seen++;
		if (fill(done_idx))
			outb(nabm + PO(AC97_BM_LVI), done_idx);
		done_idx = (done_idx + 1) & AC97_BD_INDEX_MASK;
	}
	now = inw(nabm + PO(AC97_BM_SR));
	if ((now & AC97_SR_DCH) && (now & AC97_SR_CELV) &&
	    next_sample == params->total_samples && !finished) {
		seen++;		/* the last one, parked at LVI */
		finished = 1;
	}
	buffers_done += seen;
	if (seen > 1)
		coalesced += seen - 1;
	if ((sr & AC97_SR_BCIS) && !seen)
		early++;
	params->play_irqs = irqs;
	params->play_queued = next_sample;
	params->play_done = buffers_done;
	params->play_sr = sr;
	params->play_sr_after = now;
	params->play_finished = finished;
	outb(PIC1, 0x20);	/* EOI */
}

void unexpected_irq(void);
void unexpected_irq(void)
{
	unexpected++;
	outb(PIC2, 0x20);
	outb(PIC1, 0x20);
}

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

static struct idt_entry idt[256];
/* The racers' IDT: in .data, which vCPU 0's clearing of .bss does not touch. */
static struct idt_entry racer_idt[32] __attribute__((section(".data")));
void irq_stub_ac97(void);
void irq_stub_unexpected(void);
extern void (*const exc_table[32])(void);

static void gate(struct idt_entry *e, void (*fn)(void))
{
	uint32_t a = (uint32_t)fn;

	*e = (struct idt_entry){ a & 0xffff, 0x08, 0, 0x8e, a >> 16 };
}

static void set_gate(int vec, void (*fn)(void))
{
	gate(&idt[vec], fn);
}

static void load_idt(struct idt_entry *table, uint32_t entries)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) desc = {
		entries * sizeof(*table) - 1, (uint32_t)table
	};

	__asm__ volatile("lidt %0" : : "m"(desc));
}

static void setup_interrupts(uint32_t irq)
{
	int v;

	for (v = 0; v < 32; v++)
		set_gate(v, exc_table[v]);
	for (v = 0x20; v < 0x30; v++)
		set_gate(v, irq_stub_unexpected);
	set_gate(0x20 + irq, irq_stub_ac97);
	load_idt(idt, 256);
	/* 8259s: vectors 0x20/0x28, cascade on IRQ2, only ours unmasked. */
	outb(PIC1, 0x11); outb(PIC2, 0x11);
	outb(PIC1 + 1, 0x20); outb(PIC2 + 1, 0x28);
	outb(PIC1 + 1, 0x04); outb(PIC2 + 1, 0x02);
	outb(PIC1 + 1, 0x01); outb(PIC2 + 1, 0x01);
	outb(PIC1 + 1, (uint8_t)~((1 << irq) | (1 << 2)));
	outb(PIC2 + 1, 0xff);
	outb(ELCR1, 1 << irq);	/* PCI INTx: level-triggered */
}

static void play(void)
{
	uint32_t i, filled = 0;

	outw(nam + AC97_MASTER, 0x0000);	/* 0 dB, unmuted: bit-exact */
	outw(nam + AC97_PCM_OUT, 0x0808);
	outb(nabm + PO(AC97_BM_CR), AC97_CR_RR);
	for (i = 0; i < AC97_BD_COUNT && fill(i); i++)
		filled++;
	outl(nabm + PO(AC97_BM_BDBAR), TV_BDL_GPA);
	outb(nabm + PO(AC97_BM_LVI), filled - 1);
	outb(nabm + PO(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE);
	/*
	 * Until the last buffer is done and its interrupt taken: then every
	 * raise of the line has reached this handler (the VMM compares).
	 * With only IOCE enabled, BCIS is the one status bit that raises the
	 * line. LVBCI does not, and may stay set: when the last buffer ends
	 * between the handler's SR read and its write-1-to-clear, its BCIS
	 * merges into the one being cleared and LVBCI is left behind (the
	 * handler still counts that buffer, parked at LVI). Waiting for
	 * LVBCI to clear then waited for an interrupt that never comes.
	 */
	for (;;) {
		__asm__ volatile("cli");
		if (finished && !(inw(nabm + PO(AC97_BM_SR)) & AC97_SR_BCIS))
			break;
		__asm__ volatile("sti; hlt");
	}
	__asm__ volatile("sti");
	report(TV_R_FINAL_SR, inw(nabm + PO(AC97_BM_SR)));
	report(TV_R_FINAL_CIV, inb(nabm + PO(AC97_BM_CIV)));
	outb(nabm + PO(AC97_BM_CR), 0);
	report(TV_R_IRQS, irqs);
	report(TV_R_BUFFERS_DONE, buffers_done);
	report(TV_R_SAMPLES_QUEUED, next_sample);
	report(TV_R_FIFO_ERRORS, fifo_errors);
	report(TV_R_UNEXPECTED_IRQS, unexpected);
	report(TV_R_SPURIOUS_IRQS, spurious);
	report(TV_R_COALESCED, coalesced);
	report(TV_R_EARLY_COMPLETIONS, early);
}

/* --- capture: PCM in and mic in at once --- */

static uint32_t pi_buffers, mc_buffers;
static uint8_t pi_done_idx, mc_done_idx;

/* Buffers of one function completed since the last look: CIV moved, or parked. */
static uint32_t completions(uint16_t base, uint8_t *done_idx, uint16_t sr)
{
	uint8_t civ = inb(nabm + base + AC97_BM_CIV);
	uint32_t n = (civ - *done_idx) & AC97_BD_INDEX_MASK;

	*done_idx = civ;
	if ((sr & AC97_SR_LVBCI) && (sr & AC97_SR_CELV))
		n++;	/* the last one, parked at LVI */
	return n;
}

static void capture_irq(void)
{
	uint16_t pi_sr = inw(nabm + PI(AC97_BM_SR));
	uint16_t mc_sr = inw(nabm + MC(AC97_BM_SR));
	uint16_t ints = AC97_SR_BCIS | AC97_SR_LVBCI | AC97_SR_FIFOE;

	outw(nabm + PI(AC97_BM_SR), pi_sr & AC97_SR_W1C);
	outw(nabm + MC(AC97_BM_SR), mc_sr & AC97_SR_W1C);
	irqs++;
	if (!((pi_sr | mc_sr) & ints))
		spurious++;
	if ((pi_sr | mc_sr) & AC97_SR_FIFOE)
		fifo_errors++;
	if (pi_sr & ints)
		pi_buffers += completions(AC97_BM_PI, &pi_done_idx, pi_sr);
	if (mc_sr & ints)
		mc_buffers += completions(AC97_BM_MC, &mc_done_idx, mc_sr);
	outb(PIC1, 0x20);	/* EOI */
}

/* 32 buffers of @samples each, one after the other from @buf, IOC on all. */
static void capture_bdl(uint32_t bdl, uint32_t buf, uint32_t samples)
{
	uint32_t *bd = (uint32_t *)bdl, i;

	for (i = 0; i < AC97_BD_COUNT; i++) {
		bd[2 * i] = buf + i * samples * 2;
		bd[2 * i + 1] = AC97_BD_IOC | samples;
	}
}

static int capture_halted(uint16_t base)
{
	uint16_t sr = inw(nabm + base + AC97_BM_SR);

	return (sr & AC97_SR_DCH) && !(sr & (AC97_SR_BCIS | AC97_SR_LVBCI | AC97_SR_FIFOE));
}

/*
 * Record 32 buffers of PCM in (stereo, buf_samples each) and of mic in (mono,
 * the same duration) at once, into memory the guest itself never touches:
 * the VMM checks the data and that KVM's dirty log has every page of it.
 */
static void capture(void)
{
	uint32_t n = params->buf_samples;

	outw(nam + AC97_REC_SEL, 0x0404);	/* line in, both channels */
	outw(nam + AC97_REC_GAIN, 0x0000);	/* 0 dB, unmuted: bit-exact */
	outw(nam + AC97_MIC, 0x0008);		/* 0 dB, unmuted */
	capture_bdl(TV_PI_BDL_GPA, TV_PI_CAP_GPA, n);
	capture_bdl(TV_MC_BDL_GPA, TV_MC_CAP_GPA, n / 2);
	outl(nabm + PI(AC97_BM_BDBAR), TV_PI_BDL_GPA);
	outl(nabm + MC(AC97_BM_BDBAR), TV_MC_BDL_GPA);
	outb(nabm + PI(AC97_BM_LVI), AC97_BD_COUNT - 1);
	outb(nabm + MC(AC97_BM_LVI), AC97_BD_COUNT - 1);
	outb(nabm + PI(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE | AC97_CR_LVBIE | AC97_CR_FEIE);
	outb(nabm + MC(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE | AC97_CR_LVBIE | AC97_CR_FEIE);
	for (;;) {
		__asm__ volatile("cli");
		if (capture_halted(AC97_BM_PI) && capture_halted(AC97_BM_MC))
			break;
		__asm__ volatile("sti; hlt");
	}
	__asm__ volatile("sti");
	report(TV_R_PI_FINAL_SR, inw(nabm + PI(AC97_BM_SR)));
	report(TV_R_MC_FINAL_SR, inw(nabm + MC(AC97_BM_SR)));
	report(TV_R_FINAL_CIV, inb(nabm + PI(AC97_BM_CIV)));
	report(TV_R_PI_BUFFERS, pi_buffers);
	report(TV_R_MC_BUFFERS, mc_buffers);
	report(TV_R_IRQS, irqs);
	report(TV_R_FIFO_ERRORS, fifo_errors);
	report(TV_R_UNEXPECTED_IRQS, unexpected);
	report(TV_R_SPURIOUS_IRQS, spurious);
}

/* --- a hostile guest --- */

static uint32_t lcg_state = 12345;

static uint32_t rnd(void)
{
	lcg_state = lcg_state * 1664525 + 1013904223;
	return lcg_state;
}

/* Addresses a hostile driver points DMA at: MMIO, past RAM, the 4 GiB edge, holes. */
static uint32_t evil_addr_of(uint32_t r)
{
	static const uint32_t evil[] = {
		0xfee00000, 0xfec00000, 0xfffffff8, 0xfffffffc, 0x02000000,
		0xc0000000, 0x000a0000, 0x00fffff0,
	};

	if (r % 3)
		return evil[(r >> 8) % (sizeof(evil) / sizeof(evil[0]))];
	return TV_BUF_GPA + ((r >> 8) % 0x10000) * 2;
}

static uint32_t evil_addr(void)
{
	return evil_addr_of(rnd());
}

static void out_any(uint16_t port, uint32_t width, uint32_t v)
{
	if (width == 1)
		outb(port, v);
	else if (width == 2)
		outw(port, v);
	else
		outl(port, v);
}

/* One read of a BAR placement: the device's value, all ones, or torn. */
static uint32_t classify(uint32_t got, uint32_t dev_value, uint32_t none, uint32_t at,
			 uint32_t port, uint32_t width)
{
	if (got == dev_value)
		return at;
	if (got == none)
		return TV_BAR_READ_NONE;
	if (!__atomic_exchange_n(&params->bad_read[0], port | width << 16, __ATOMIC_SEQ_CST))
		params->bad_read[1] = got;
	return TV_BAR_READ_BAD;
}

/*
 * A racer in play mode (-M): read the codec's vendor ID and GLOB_CNT at both
 * placements while the VMM moves the BARs between them; each read must give
 * the device's value or all ones (not decoded there), never anything else.
 */
static void bar_reader(uint32_t id)
{
	const uint32_t nam_at[2] = { params->nam_base, params->alt_nam_base };
	const uint32_t nabm_at[2] = { params->nabm_base, params->alt_nabm_base };
	uint32_t counts[4] = { 0 }, ops = 0, i;

	params->racer_stage[id & 7] = 1;
	while (!params->race_go)
		__asm__ volatile("pause");
	params->racer_stage[id & 7] = 2;
	while (!params->race_stop) {
		for (i = 0; i < 2; i++) {
			counts[classify(inw(nam_at[i] + AC97_VENDOR_ID1), 0x8384, 0xffff, i,
					nam_at[i] + AC97_VENDOR_ID1, 2)]++;
			counts[classify(inl(nabm_at[i] + AC97_GLOB_CNT), AC97_GC_COLD,
					0xffffffff, i, nabm_at[i] + AC97_GLOB_CNT, 4)]++;
		}
		ops += 4;
		params->racer_ops[id & 7] = ops;
	}
	for (i = 0; i < 4; i++)
		__atomic_fetch_add(&params->bar_reads[i], counts[i], __ATOMIC_SEQ_CST);
	params->racer_stage[id & 7] = 3;
	__atomic_fetch_add(&params->race_ops, ops, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&params->race_parked, 1, __ATOMIC_SEQ_CST);
	outl(TV_PORT_EXIT, 0);
}

/*
 * What the other vCPUs do while vCPU 0 attacks: race it and each other on
 * run/stop/reset, LVI and the status bits of PCM out, until told to stop.
 */
void racer_main(uint32_t id);
void racer_main(uint32_t id)
{
	uint16_t bm = params->nabm_base;
	uint32_t seed = id * 2654435761u, ops = 0;

	for (ops = 0; ops < 32; ops++)	/* every racer writes the same gates */
		gate(&racer_idt[ops], exc_table[ops]);
	ops = 0;
	load_idt(racer_idt, 32);
	if (params->mode == TV_MODE_PLAY) {
		bar_reader(id);
		return;
	}
	params->racer_stage[id & 7] = 1;
	while (!params->race_go)
		__asm__ volatile("pause");
	params->racer_stage[id & 7] = 2;
	while (!params->race_stop) {
		seed = seed * 1664525 + 1013904223;
		switch ((seed >> 16) % 7) {
		case 0:
			outb(bm + PO(AC97_BM_CR), AC97_CR_RPBM | AC97_CR_IOCE | AC97_CR_LVBIE);
			break;
		case 1:
			outb(bm + PO(AC97_BM_CR), 0);
			break;
		case 2:
			outb(bm + PO(AC97_BM_CR), AC97_CR_RR);
			break;
		case 3:
			outb(bm + PO(AC97_BM_LVI), seed >> 8);
			break;
		case 4:
			outw(bm + PO(AC97_BM_SR), 0x1c);
			break;
		case 5:
			outl(bm + PO(AC97_BM_BDBAR), seed & 4 ? TV_BDL_GPA : evil_addr_of(seed));
			break;
		default:
			(void)inl(bm + PO(AC97_BM_CIV));
			(void)inw(bm + PO(AC97_BM_PICB));
			break;
		}
		params->racer_ops[id & 7] = ++ops;
	}
	params->racer_stage[id & 7] = 3;
	__atomic_fetch_add(&params->race_ops, ops, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&params->race_parked, 1, __ATOMIC_SEQ_CST);
	outl(TV_PORT_EXIT, 0);
}

/* vCPU 0 ends the race and waits for every racer to stop. */
static void end_race(void)
{
	uint32_t spins;

	params->race_stop = 1;
	for (spins = 0; params->race_parked < params->racers && spins < 100000000; spins++)
		__asm__ volatile("pause");
	report(TV_R_RACERS_PARKED, params->race_parked);
	report(TV_R_RACE_OPS, params->race_ops);
}

/*
 * Descriptors at MMIO, past RAM, across 4 GiB, in holes; zero, odd and
 * maximal lengths; descriptors rewritten during DMA; resets of every kind
 * during DMA; every width at every offset, straddling ones included;
 * interrupts never acknowledged (they stay masked); absurd rates.
 */
static void hostile(void)
{
	static const uint32_t lens[] = { 0, 1, 3, 0xffff, 0xfffe, 2, 4097 };
	uint32_t round, i, *bd = (uint32_t *)TV_BDL_GPA;

	outb(PIC1 + 1, 0xff);			/* never take the interrupt */
	outw(nam + AC97_EXTENDED_STATUS, AC97_EA_VRA);
	params->race_go = 1;
	for (round = 0; round < params->total_samples; round++) {
		/* PCM in, PCM out or mic in: both directions get the attacks. */
		uint16_t f = nabm + (rnd() % 3) * 0x10;

		for (i = 0; i < 64; i++)
			bd[i] = (i & 1) ? (rnd() & AC97_BD_IOC) | lens[rnd() % 7] : evil_addr();
		if (rnd() % 4)
			outl(f + AC97_BM_BDBAR, rnd() % 3 ? TV_BDL_GPA : evil_addr());
		outw(nam + AC97_PCM_FRONT_DAC_RATE, rnd());
		outw(nam + AC97_PCM_LR_ADC_RATE, rnd());
		outb(f + AC97_BM_LVI, rnd());
		outb(f + AC97_BM_CR, (rnd() & 0x1d) | 1);
		for (i = 0; i < 40; i++) {
			uint32_t width = 1 << (rnd() % 3);

			if (rnd() % 2)
				out_any(nabm + rnd() % (AC97_NABM_SIZE - width + 1), width, rnd());
			else
				out_any(nam + rnd() % (AC97_NAM_SIZE - width + 1), width, rnd());
			bd[(rnd() % 32) * 2 + 1] = lens[rnd() % 7];	/* mid-DMA */
			(void)inw(f + AC97_BM_PICB);
		}
		switch (rnd() % 8) {
		case 0:
			outl(nabm + AC97_GLOB_CNT, 0);
			outl(nabm + AC97_GLOB_CNT, AC97_GC_COLD);
			break;
		case 1:
			outl(nabm + AC97_GLOB_CNT, AC97_GC_COLD | AC97_GC_WARM);
			break;
		case 2:
			outb(f + AC97_BM_CR, AC97_CR_RR | AC97_CR_RPBM);
			break;
		}
		/* If a reset left the link in cold reset, bring it back. */
		outl(nabm + AC97_GLOB_CNT, AC97_GC_COLD);
		if (round % 16 == 0)
			report(TV_R_HOSTILE_ROUNDS, round);	/* progress, for a timeout */
	}
	report(TV_R_HOSTILE_ROUNDS, round);
	end_race();
}

void guest_main(void);
void guest_main(void)
{
	uint32_t tries;

	if (params->magic != TV_PARAMS_MAGIC) {
		puts_("guest: no parameters\n");
		outl(TV_PORT_EXIT, 2);
	}
	nam = params->nam_base;
	nabm = params->nabm_base;
	setup_interrupts(params->irq);
	puts_("guest: cold reset\n");
	outl(nabm + AC97_GLOB_CNT, 0);
	outl(nabm + AC97_GLOB_CNT, AC97_GC_COLD);
	for (tries = 0; !(inl(nabm + AC97_GLOB_STA) & AC97_GS_PCR); tries++)
		if (tries > 1000) {
			puts_("guest: codec never ready\n");
			outl(TV_PORT_EXIT, 3);
		}
	if (params->mode == TV_MODE_HOSTILE) {
		puts_("guest: attacking\n");
		hostile();
		/* Whatever the attack did, a cold reset gives the defined state. */
		outl(nabm + AC97_GLOB_CNT, 0);
		outl(nabm + AC97_GLOB_CNT, AC97_GC_COLD);
		sweep();
		puts_("guest: done\n");
		outl(TV_PORT_EXIT, fails ? 1 : 0);
	}
	sweep();
	if (params->mode == TV_MODE_CAPTURE) {
		puts_("guest: sweep done, recording\n");
		capture();
		puts_("guest: done\n");
		outl(TV_PORT_EXIT, fails ? 1 : 0);
	}
	if (params->racers) {
		/* The VMM moves the BARs under the racers, then says stop. */
		puts_("guest: racers read while the BARs move\n");
		params->race_go = 1;
		while (!params->race_stop)
			__asm__ volatile("pause");
		end_race();
	}
	puts_("guest: sweep done, playing\n");
	play();
	puts_("guest: done\n");
	outl(TV_PORT_EXIT, fails ? 1 : 0);
}
