// SPDX-License-Identifier: GPL-2.0
/* KUnit: the bus master registers (NABM), at every offset and width. */
#include "ac97_test.h"

static struct ac97_dev *bm_dev(struct kunit *test, struct fake_guest **gp)
{
	struct fake_guest *g = fake_guest_new(test);

	if (gp)
		*gp = g;
	return fake_dev_new(test, g, AC97_DEV_MANUAL);
}

/* crosvm bm_bdbar: deaf in cold reset; base writable, low three bits zero. */
static void bm_bdbar(struct kunit *test)
{
	struct ac97_dev *dev = bm_dev(test, NULL);
	static const u8 bdbars[] = { 0x00, 0x10, 0x20 };
	unsigned int i;

	bm_wl(dev, 0x00, 0x5555555f);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, 0x00), 0);
	bm_wl(dev, AC97_GLOB_CNT, 0x2);
	for (i = 0; i < ARRAY_SIZE(bdbars); i++) {
		KUNIT_EXPECT_EQ(test, bm_rl(dev, bdbars[i]), 0);
		bm_wl(dev, bdbars[i], 0x5555555f);
		KUNIT_EXPECT_EQ(test, bm_rl(dev, bdbars[i]), 0x55555558);
	}
}

/* crosvm bm_status_reg: SR powers on as DCH and DCH is read-only. */
static void bm_status_reg(struct kunit *test)
{
	struct ac97_dev *dev = bm_dev(test, NULL);
	static const u8 srs[] = { 0x06, 0x16, 0x26 };
	unsigned int i, pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < ARRAY_SIZE(srs); i++) {
			KUNIT_EXPECT_EQ(test, bm_rw(dev, srs[i]), 0x0001);
			bm_ww(dev, srs[i], 0xffff);
			KUNIT_EXPECT_EQ(test, bm_rw(dev, srs[i]), 0x0001);
		}
		bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	}
}

/* crosvm bm_global_control: interrupt enables, warm and cold reset. */
static void bm_global_control(struct kunit *test)
{
	struct ac97_dev *dev = bm_dev(test, NULL);

	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_CNT), 0);
	bm_wl(dev, AC97_GLOB_CNT, 0x2);
	bm_wl(dev, AC97_GLOB_CNT, 0x72);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_CNT), 0x72);
	bm_wl(dev, 0x00, 0x55555558);
	bm_wl(dev, AC97_GLOB_CNT, 0x76);	/* warm reset: self-clearing */
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_CNT), 0x72);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, 0x00), 0x55555558);
	bm_wl(dev, 0x00, 0x5555555f);
	bm_wl(dev, AC97_GLOB_CNT, 0x70);	/* cold reset */
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_CNT), 0x70);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, 0x00), 0);
	/* Only bits 6:0 exist. */
	bm_wl(dev, AC97_GLOB_CNT, 0xffffffff);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_CNT), 0x7b);
}

/* The NABM image after power-on and releasing cold reset, byte by byte. */
static void expected_image(u8 *img)
{
	memset(img, 0, AC97_NABM_SIZE);
	img[0x06] = 0x01;	/* PI SR: DCH */
	img[0x16] = 0x01;	/* PO SR */
	img[0x26] = 0x01;	/* MC SR */
	img[AC97_GLOB_CNT] = AC97_GC_COLD;
	img[AC97_GLOB_STA + 1] = AC97_GS_PCR >> 8;
}

static u32 image_read(const u8 *img, unsigned int off, unsigned int len)
{
	u32 v = 0;
	unsigned int i;

	for (i = 0; i < len; i++)
		v |= (u32)img[off + i] << (8 * i);
	return v;
}

/* Every width at every offset, straddling registers included. */
static void bm_read_every_offset_width(struct kunit *test)
{
	struct ac97_dev *dev = bm_dev(test, NULL);
	static const unsigned int widths[] = { 1, 2, 4 };
	u8 img[AC97_NABM_SIZE];
	unsigned int off, w;

	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	expected_image(img);
	for (w = 0; w < ARRAY_SIZE(widths); w++) {
		for (off = 0; off + widths[w] <= AC97_NABM_SIZE; off++) {
			/* A codec access frees CAS, whose read sets it. */
			ac97_nam_read(dev, 0, 2);
			KUNIT_EXPECT_EQ_MSG(test, ac97_nabm_read(dev, off, widths[w]),
					    image_read(img, off, widths[w]),
					    "offset %#x width %u", off, widths[w]);
		}
	}
}

/* Writes of all ones at every offset and width leave exactly the writable bits. */
static void bm_write_every_offset_width(struct kunit *test)
{
	static const unsigned int widths[] = { 1, 2, 4 };
	struct fake_guest *g = fake_guest_new(test);
	unsigned int off, w;

	for (w = 0; w < ARRAY_SIZE(widths); w++) {
		for (off = 0; off + widths[w] <= AC97_NABM_SIZE; off++) {
			struct ac97_dev *dev = ac97_dev_create(&fake_guest_ops, g,
							       AC97_DEV_MANUAL);
			u8 img[AC97_NABM_SIZE];
			unsigned int b;

			KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
			bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
			expected_image(img);
			ac97_nabm_write(dev, off, widths[w], 0xffffffff);
			for (b = off; b < off + widths[w]; b++) {
				if (b == AC97_CAS)
					img[b] = AC97_CAS_BUSY;
				else if (b >= AC97_GLOB_CNT)
					img[b] = b == AC97_GLOB_CNT ? 0x7b : img[b];
				else if ((b & 0xf) == 0)
					img[b] = 0xf8;		/* BDBAR low bits */
				else if ((b & 0xf) < 4)
					img[b] = 0xff;
				else if ((b & 0xf) == 5)
					img[b] = 0x1f;		/* LVI */
				/* CR: all ones includes RR, which resets and reads 0. */
			}
			for (b = 0; b < AC97_NABM_SIZE; b++) {
				u8 got;

				if ((b & 0xf) == 6 && b < AC97_GLOB_CNT)
					continue;	/* SR: checked in the DMA suite */
				if (b == AC97_CAS)
					got = bm_rb(dev, b);
				else
					got = ac97_nabm_read(dev, b, 1);
				KUNIT_EXPECT_EQ_MSG(test, got, img[b],
						    "byte %#x after %u-byte write at %#x",
						    b, widths[w], off);
			}
			ac97_dev_destroy(dev);
		}
	}
}

/* The dword aliases drivers use: CIV/LVI/SR and PICB/PIV/CR in one access. */
static void bm_dword_aliases(struct kunit *test)
{
	struct ac97_dev *dev = bm_dev(test, NULL);
	unsigned int base;

	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	for (base = 0; base < 0x30; base += 0x10) {
		ac97_nabm_write(dev, base + 4, 4, 0x001c0700);	/* LVI 7, W1C SR */
		KUNIT_EXPECT_EQ(test, bm_rb(dev, base + AC97_BM_LVI), 7);
		KUNIT_EXPECT_EQ(test, bm_rl(dev, base + 4), 0x00010700);
		ac97_nabm_write(dev, base + 8, 4, 0x0c00ffff);	/* CR = FEIE|LVBIE */
		KUNIT_EXPECT_EQ(test, bm_rb(dev, base + AC97_BM_CR), 0x0c);
		KUNIT_EXPECT_EQ(test, bm_rl(dev, base + 8), 0x0c000000);
		KUNIT_EXPECT_EQ(test, bm_rw(dev, base + 0xa), 0x0c00);
		/* Straddling: LVI and the low byte of SR. */
		KUNIT_EXPECT_EQ(test, ac97_nabm_read(dev, base + 5, 2), 0x0107);
	}
}

static void bm_control_bits(struct kunit *test)
{
	struct ac97_dev *dev = bm_dev(test, NULL);
	unsigned int base;

	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	for (base = 0; base < 0x30; base += 0x10) {
		bm_wb(dev, base + AC97_BM_CR, 0xfd);	/* all but RR */
		KUNIT_EXPECT_EQ(test, bm_rb(dev, base + AC97_BM_CR), 0x1d);
		bm_wb(dev, base + AC97_BM_CR, 0);
		KUNIT_EXPECT_EQ(test, bm_rb(dev, base + AC97_BM_CR), 0);
		KUNIT_EXPECT_EQ(test, bm_rw(dev, base + AC97_BM_SR), AC97_SR_DCH);
	}
}

static void bm_reset_registers(struct kunit *test)
{
	struct fake_guest *g;
	struct ac97_dev *dev = bm_dev(test, &g);

	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	bm_wl(dev, AC97_BM_PO + AC97_BM_BDBAR, FAKE_RAM_BASE);
	bm_wb(dev, AC97_BM_PO + AC97_BM_LVI, 9);
	bm_wb(dev, AC97_BM_PO + AC97_BM_CR, AC97_CR_IOCE | AC97_CR_LVBIE);
	bm_wb(dev, AC97_BM_PO + AC97_BM_CR, AC97_CR_RR | AC97_CR_RPBM);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_BM_PO + 4), 0x00010000);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_BM_PO + 8),
			(AC97_CR_IOCE | AC97_CR_LVBIE) << 24);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_BM_PO + AC97_BM_BDBAR), 0);
}

enum reset_kind { RESET_COLD, RESET_WARM, RESET_RR, RESET_CODEC, RESET_KINDS };

static const char *const reset_names[RESET_KINDS] = {
	"cold reset", "warm reset", "RR of the running function",
	"codec reset register",
};

/*
 * Every kind of reset while each function runs, and what it leaves. The
 * rules and where they come from:
 *  - cold reset (GLOB_CNT bit 1 written 0): the ICH datasheet's AC'97 Cold
 *    Reset# - all data in the controller and the codec is lost: every
 *    function back to power-on (BDBAR 0, CIV/LVI/PIV 0, SR = DCH, PICB 0,
 *    CR 0), GLOB_STA 0, and the codec at its reset values (AC'97 2.3: cold
 *    reset through AC_RESET#);
 *  - warm reset (GLOB_CNT bit 2): AC'97 2.3 - wakes the link without
 *    clearing the codec's registers; it touches no bus-master register and
 *    nothing of the codec;
 *  - RR (x_CR bit 1): the ICH datasheet - contents of all bus-master
 *    registers of that function reset, except the interrupt enables (QEMU,
 *    VirtualBox and crosvm likewise zero BDBAR); other functions untouched;
 *  - a write to codec register 0x00: AC'97 2.3 Reset register - the codec's
 *    registers to their defaults; the bus master untouched.
 */
static void bm_reset_matrix(struct kunit *test)
{
	const u8 ie = AC97_CR_IOCE | AC97_CR_LVBIE | AC97_CR_FEIE;
	unsigned int running, kind, fn;

	for (running = 0; running < AC97_BM_FUNCS; running++) {
		for (kind = 0; kind < RESET_KINDS; kind++) {
			struct ac97_dev *dev = bm_dev(test, NULL);
			unsigned int rb = running * 0x10;

			bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
			for (fn = 0; fn < AC97_BM_FUNCS; fn++) {
				bm_wl(dev, fn * 0x10 + AC97_BM_BDBAR,
				      0x00200000 + fn * 0x100);
				bm_wb(dev, fn * 0x10 + AC97_BM_LVI, 5 + fn);
				bm_wb(dev, fn * 0x10 + AC97_BM_CR, ie);
			}
			bm_wb(dev, rb + AC97_BM_CR, ie | AC97_CR_RPBM);
			nam_ww(dev, AC97_MASTER, 0x0101);
			switch (kind) {
			case RESET_COLD:
				bm_wl(dev, AC97_GLOB_CNT, 0);
				break;
			case RESET_WARM:
				bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD | AC97_GC_WARM);
				break;
			case RESET_RR:
				bm_wb(dev, rb + AC97_BM_CR, AC97_CR_RR);
				break;
			case RESET_CODEC:
				nam_ww(dev, AC97_RESET, 0);
				break;
			}
			for (fn = 0; fn < AC97_BM_FUNCS; fn++) {
				unsigned int b = fn * 0x10;
				bool cold = kind == RESET_COLD;
				bool rr = kind == RESET_RR && fn == running;
				bool clear = cold || rr;
				u8 run = fn == running ? AC97_CR_RPBM : 0;
				u8 cr = cold ? 0 : rr ? ie : ie | run;

				KUNIT_EXPECT_EQ_MSG(test, bm_rl(dev, b + AC97_BM_BDBAR),
						    clear ? 0 : 0x00200000 + fn * 0x100,
						    "BDBAR of %u after %s, %u running", fn,
						    reset_names[kind], running);
				KUNIT_EXPECT_EQ_MSG(test, bm_rb(dev, b + AC97_BM_LVI),
						    clear ? 0 : 5 + fn,
						    "LVI of %u after %s, %u running", fn,
						    reset_names[kind], running);
				KUNIT_EXPECT_EQ_MSG(test, bm_rb(dev, b + AC97_BM_CIV), 0,
						    "CIV of %u after %s", fn, reset_names[kind]);
				KUNIT_EXPECT_EQ_MSG(test, bm_rb(dev, b + AC97_BM_CR), cr,
						    "CR of %u after %s, %u running", fn,
						    reset_names[kind], running);
				KUNIT_EXPECT_EQ_MSG(test, bm_rw(dev, b + AC97_BM_SR) & AC97_SR_DCH,
						    fn == running && !clear ? 0 : AC97_SR_DCH,
						    "DCH of %u after %s, %u running", fn,
						    reset_names[kind], running);
			}
			KUNIT_EXPECT_EQ_MSG(test, bm_rl(dev, AC97_GLOB_CNT),
					    kind == RESET_COLD ? 0 : AC97_GC_COLD,
					    "GLOB_CNT after %s", reset_names[kind]);
			if (kind == RESET_COLD)	/* the codec answers once released */
				bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
			KUNIT_EXPECT_EQ_MSG(test, nam_rw(dev, AC97_MASTER),
					    kind == RESET_COLD || kind == RESET_CODEC ?
					    0x8000 : 0x0101,
					    "codec Master after %s", reset_names[kind]);
		}
	}
}

/* Reading CAS takes the semaphore; a codec access or a write of 0 frees it. */
static void bm_codec_semaphore(struct kunit *test)
{
	struct ac97_dev *dev = bm_dev(test, NULL);

	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	KUNIT_EXPECT_EQ(test, bm_rb(dev, AC97_CAS), 0);
	KUNIT_EXPECT_EQ(test, bm_rb(dev, AC97_CAS), 1);
	nam_ww(dev, AC97_MASTER, 0);
	KUNIT_EXPECT_EQ(test, bm_rb(dev, AC97_CAS), 0);
	KUNIT_EXPECT_EQ(test, bm_rb(dev, AC97_CAS), 1);
	nam_rw(dev, AC97_MASTER);
	KUNIT_EXPECT_EQ(test, bm_rb(dev, AC97_CAS), 0);
	bm_wb(dev, AC97_CAS, 0);
	KUNIT_EXPECT_EQ(test, bm_rb(dev, AC97_CAS), 0);
}

/* GLOB_STA: read-only but for its write-1-to-clear bits. */
static void bm_glob_sta(struct kunit *test)
{
	struct ac97_dev *dev = bm_dev(test, NULL);

	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	bm_wl(dev, AC97_GLOB_STA, 0xffffffff);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_STA), AC97_GS_PCR);
	nam_rw(dev, 0x80);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_STA), AC97_GS_PCR | AC97_GS_RCS);
	bm_wb(dev, AC97_GLOB_STA + 1, AC97_GS_RCS >> 8);
	KUNIT_EXPECT_EQ(test, bm_rl(dev, AC97_GLOB_STA), AC97_GS_PCR);
}

static struct kunit_case bm_cases[] = {
	KUNIT_CASE(bm_bdbar),
	KUNIT_CASE(bm_status_reg),
	KUNIT_CASE(bm_global_control),
	KUNIT_CASE(bm_read_every_offset_width),
	KUNIT_CASE(bm_write_every_offset_width),
	KUNIT_CASE(bm_dword_aliases),
	KUNIT_CASE(bm_control_bits),
	KUNIT_CASE(bm_reset_registers),
	KUNIT_CASE(bm_reset_matrix),
	KUNIT_CASE(bm_codec_semaphore),
	KUNIT_CASE(bm_glob_sta),
	{}
};

static struct kunit_suite bm_suite = {
	.name = "ac97_bus_master",
	.test_cases = bm_cases,
};

kunit_test_suites(&bm_suite);
