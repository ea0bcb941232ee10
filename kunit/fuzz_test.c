// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: seeded random traffic against the device model. Random register
 * accesses (every offset, widths 1/2/4, random values biased towards the
 * interesting ones), random descriptor lists and buffers in a fake guest
 * memory with holes, and engine steps at random times; invariants checked
 * after every operation. Reproducible: the seed is printed on failure.
 */
#include "ac97_test.h"

#define FUZZ_SEEDS	5
#define FUZZ_OPS	20000

static u32 next_rand(u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A guest address: mostly in RAM, sometimes in the hole, past RAM, near 4 GiB. */
static u32 rand_gpa(u32 *s)
{
	switch (next_rand(s) % 8) {
	case 0:
		return FAKE_RAM_BASE + FAKE_RAM_SIZE + next_rand(s) % 0x10000;
	case 1:
		return 0xfffff000 + next_rand(s) % 0x1000;
	case 2:
		return FAKE_HIGH_BASE + next_rand(s) % FAKE_HIGH_SIZE;
	case 3:
		return next_rand(s);
	default:
		return FAKE_RAM_BASE + next_rand(s) % FAKE_RAM_SIZE;
	}
}

static bool expect_irq(struct ac97_dev *dev, unsigned int base)
{
	u16 sr = ac97_nabm_read(dev, base + AC97_BM_SR, 2);
	u8 cr = ac97_nabm_read(dev, base + AC97_BM_CR, 1);

	return ((sr & AC97_SR_LVBCI) && (cr & AC97_CR_LVBIE)) ||
	       ((sr & AC97_SR_BCIS) && (cr & AC97_CR_IOCE)) ||
	       ((sr & AC97_SR_FIFOE) && (cr & AC97_CR_FEIE));
}

/* Returns false (after reporting) at the first broken invariant. */
static bool invariants_hold(struct kunit *test, struct ac97_dev *dev,
			    struct fake_guest *g, u32 seed, unsigned int op)
{
	static const u32 int_bit[] = { AC97_GS_PIINT, AC97_GS_POINT, AC97_GS_MINT };
	bool any = false, want;
	unsigned int i, base;
	u32 sta;

	for (i = 0; i < AC97_BM_FUNCS; i++) {
		struct ac97_bm_func *f = &dev->func[i];

		base = i * 0x10;
		if (f->civ > AC97_BD_INDEX_MASK || f->lvi > AC97_BD_INDEX_MASK ||
		    f->piv > AC97_BD_INDEX_MASK || (f->sr & ~0x1f) || (f->cr & ~0x1d) ||
		    (f->bd_valid && f->picb > f->bd_len) || (f->bdbar & 7)) {
			KUNIT_FAIL(test, "seed %#x op %u: function %u state out of range",
				   seed, op, i);
			return false;
		}
		if (ac97_nabm_read(dev, base + AC97_BM_PICB, 2) >
		    (f->bd_valid ? f->bd_len : f->picb)) {
			KUNIT_FAIL(test, "seed %#x op %u: PICB above the buffer", seed, op);
			return false;
		}
		want = expect_irq(dev, base);
		sta = ac97_nabm_read(dev, AC97_GLOB_STA, 4);
		if (!!(sta & int_bit[i]) != want) {
			KUNIT_FAIL(test, "seed %#x op %u: GLOB_STA int bit of %u is not SR&CR",
				   seed, op, i);
			return false;
		}
		any |= want;
	}
	if (g->irq_level != any || dev->irq_level != any) {
		KUNIT_FAIL(test, "seed %#x op %u: line %d/%d, SR&CR say %d", seed, op,
			   g->irq_level, dev->irq_level, any);
		return false;
	}
	return true;
}

static void fuzz_one(struct kunit *test, u32 seed, u64 *reads_max)
{
	struct fake_guest *g = fake_guest_new(test);
	struct ac97_dev *dev = ac97_dev_create(&fake_guest_ops, g, AC97_DEV_MANUAL);
	u32 s = seed;
	unsigned int op, reads;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	dev->manual_now_ns = 1000000000ULL;
	dev->lead_ns = (next_rand(&s) & 1) ? 1000000 : 0;
	bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD);
	nam_ww(dev, AC97_MASTER, 0);
	nam_ww(dev, AC97_PCM_OUT, 0x0808);
	for (op = 0; op < FUZZ_OPS; op++) {
		u32 r = next_rand(&s) % 100, v = next_rand(&s);
		unsigned int width = 1 << (next_rand(&s) % 3), off;

		if (r < 45) {			/* NABM, anywhere */
			off = next_rand(&s) % (AC97_NABM_SIZE - width + 1);
			if ((off & 0xf) == AC97_BM_CR && (v & 3) == 2)
				v &= ~2;	/* keep RR rarer than the rest */
			if ((off & 0xf) == 0 && width == 4)
				v = rand_gpa(&s) & ~7u;
			if (next_rand(&s) % 2)
				ac97_nabm_write(dev, off, width, v);
			else
				ac97_nabm_read(dev, off, width);
		} else if (r < 55) {		/* NAM, anywhere */
			off = next_rand(&s) % (AC97_NAM_SIZE - width + 1);
			if (next_rand(&s) % 2)
				ac97_nam_write(dev, off, width, v);
			else
				ac97_nam_read(dev, off, width);
		} else if (r < 65) {		/* start PCM out on a list in RAM */
			bm_wl(dev, AC97_BM_PO, FAKE_RAM_BASE + (v % 64) * 0x100);
			bm_wb(dev, AC97_BM_PO + AC97_BM_LVI, next_rand(&s));
			bm_wb(dev, AC97_BM_PO + AC97_BM_CR, (next_rand(&s) & 0x1d) | 1);
		} else if (r < 80) {		/* rewrite a descriptor, even mid-DMA */
			u32 bd = FAKE_RAM_BASE + (v % 64) * 0x100 + (next_rand(&s) % 32) * 8;

			fake_write_bd(g, bd, 0, rand_gpa(&s),
				      next_rand(&s) & (AC97_BD_IOC | AC97_BD_BUP |
						       (next_rand(&s) % 3 ? 0x3ff : 0xffff)));
		} else if (r < 82) {		/* resets of every kind */
			if (v % 3 == 0)
				bm_wl(dev, AC97_GLOB_CNT, 0);
			bm_wl(dev, AC97_GLOB_CNT, AC97_GC_COLD | (v % 3 == 1 ? AC97_GC_WARM : 0));
		} else {			/* time passes; the engine runs */
			dev->manual_now_ns += next_rand(&s) % (v % 50 ? 3000000 : 300000000);
			reads = g->reads;
			ac97_engine_step(dev);
			*reads_max = max_t(u64, *reads_max, g->reads - reads);
			if (g->reads - reads > 2 * 64) {
				KUNIT_FAIL(test, "seed %#x op %u: %u guest reads in one step",
					   seed, op, g->reads - reads);
				break;
			}
		}
		if (!invariants_hold(test, dev, g, seed, op))
			break;
	}
	ac97_dev_destroy(dev);
}

static void fuzz_model(struct kunit *test)
{
	static const u32 seeds[FUZZ_SEEDS] = {
		0x1, 0xac97, 0xdeadbeef, 0x12345678, 0x9e3779b9,
	};
	u64 reads_max = 0;
	unsigned int i;

	for (i = 0; i < FUZZ_SEEDS; i++)
		fuzz_one(test, seeds[i], &reads_max);
	kunit_info(test, "fuzz: %u seeds x %u operations, invariants after each; at most %llu guest reads in one step\n",
		   FUZZ_SEEDS, FUZZ_OPS, reads_max);
}

static struct kunit_case fuzz_cases[] = {
	KUNIT_CASE_SLOW(fuzz_model),
	{}
};

static struct kunit_suite fuzz_suite = {
	.name = "ac97_fuzz",
	.test_cases = fuzz_cases,
};

kunit_test_suites(&fuzz_suite);
