// SPDX-License-Identifier: GPL-2.0
/*
 * Random traffic against the device model: register accesses (every offset,
 * widths 1/2/4, values biased towards the interesting ones), descriptor lists
 * and buffers in a fake guest memory with holes, for all three functions in
 * both directions, resets, and engine steps at random times; invariants
 * checked after every operation, and every write to guest memory as it
 * happens.
 */
#include <linux/slab.h>

#include "fuzz_core.h"

#define FUZZ_READ_MAX	8192

/* What one run works on. */
struct fuzz_ctx {
	struct ac97_dev *dev;
	struct fake_guest g;
	struct ac97_reader reader;
	u8 *read_buf;
	bool stray_write;	/* a capture wrote outside its buffer */
};

static struct ac97_host_ops fuzz_ops;

/*
 * Every write to guest memory must be a capture function's transfer at its
 * cursor, within what is left of the buffer it fetched: nothing outside a
 * descriptor's buffer, whatever the guest did to the list meanwhile.
 */
static int fuzz_write_guest(void *host, u64 gpa, const void *buf, size_t len)
{
	struct fuzz_ctx *c = container_of(host, struct fuzz_ctx, g);
	static const unsigned int capture[] = { 0, 2 };	/* PI, MC */
	bool inside = false;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(capture); i++) {
		const struct ac97_bm_func *f = &c->dev->func[capture[i]];

		if (f->bd_valid && gpa == f->buf_addr && len <= 2u * f->picb &&
		    f->picb <= f->bd_len)
			inside = true;
	}
	if (!inside)
		c->stray_write = true;
	return fake_guest_ops.write_guest(host, gpa, buf, len);
}

/* A guest address: mostly in RAM, sometimes in the hole, past RAM, near 4 GiB. */
static u32 rand_gpa(struct fuzz_src *s)
{
	switch (s->next(s) % 8) {
	case 0:
		return FAKE_RAM_BASE + FAKE_RAM_SIZE + s->next(s) % 0x10000;
	case 1:
		return 0xfffff000 + s->next(s) % 0x1000;
	case 2:
		return FAKE_HIGH_BASE + s->next(s) % FAKE_HIGH_SIZE;
	case 3:
		return s->next(s);
	default:
		return FAKE_RAM_BASE + s->next(s) % FAKE_RAM_SIZE;
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

/* NULL if every invariant holds, else what broke (and in which function). */
static const char *broken_invariant(struct ac97_dev *dev, struct fake_guest *g,
				    unsigned int *func)
{
	static const u32 int_bit[] = { AC97_GS_PIINT, AC97_GS_POINT, AC97_GS_MINT };
	bool any = false, want;
	unsigned int i, base;
	u32 sta, picb;

	for (i = 0; i < AC97_BM_FUNCS; i++) {
		struct ac97_bm_func *f = &dev->func[i];

		*func = i;
		base = i * 0x10;
		if (f->civ > AC97_BD_INDEX_MASK || f->lvi > AC97_BD_INDEX_MASK ||
		    f->piv > AC97_BD_INDEX_MASK || (f->sr & ~0x1f) || (f->cr & ~0x1d) ||
		    (f->bd_valid && f->picb > f->bd_len) || (f->bdbar & 7))
			return "function state out of range";
		/* The read may move the DMA up to the clock: state after it. */
		picb = ac97_nabm_read(dev, base + AC97_BM_PICB, 2);
		if (picb > (f->bd_valid ? f->bd_len : f->picb))
			return "PICB above the buffer";
		want = expect_irq(dev, base);
		sta = ac97_nabm_read(dev, AC97_GLOB_STA, 4);
		if (!!(sta & int_bit[i]) != want)
			return "GLOB_STA interrupt bit is not SR & CR";
		any |= want;
	}
	if (g->irq_level != any || dev->irq_level != any)
		return "interrupt line is not the OR of SR & CR";
	return NULL;
}

static void nabm_op(struct ac97_dev *dev, struct fuzz_src *s, u32 v)
{
	unsigned int width = 1 << (s->next(s) % 3);
	unsigned int off = s->next(s) % (AC97_NABM_SIZE - width + 1);

	if ((off & 0xf) == AC97_BM_CR && (v & 3) == 2)
		v &= ~2;	/* keep RR rarer than the rest */
	if ((off & 0xf) == 0 && width == 4)
		v = rand_gpa(s) & ~7u;
	if (s->next(s) % 2)
		ac97_nabm_write(dev, off, width, v);
	else
		ac97_nabm_read(dev, off, width);
}

static void nam_op(struct ac97_dev *dev, struct fuzz_src *s, u32 v)
{
	unsigned int width = 1 << (s->next(s) % 3);
	unsigned int off = s->next(s) % (AC97_NAM_SIZE - width + 1);

	if (s->next(s) % 2)
		ac97_nam_write(dev, off, width, v);
	else
		ac97_nam_read(dev, off, width);
}

/* Start PCM in, PCM out or mic in on one of 64 lists. */
static void start_func(struct ac97_dev *dev, struct fuzz_src *s, u32 v)
{
	unsigned int base = (s->next(s) % AC97_BM_FUNCS) * 0x10;

	ac97_nabm_write(dev, base, 4, FAKE_RAM_BASE + (v % 64) * 0x100);
	ac97_nabm_write(dev, base + AC97_BM_LVI, 1, s->next(s));
	ac97_nabm_write(dev, base + AC97_BM_CR, 1, (s->next(s) & 0x1d) | 1);
}

/* Rewrite a descriptor of one of the lists start_func() uses, even mid-DMA. */
static void rewrite_bd(struct fake_guest *g, struct fuzz_src *s, u32 v)
{
	u32 bd = FAKE_RAM_BASE + (v % 64) * 0x100 + (s->next(s) % 32) * 8;
	u32 len_mask = s->next(s) % 3 ? 0x3ff : 0xffff;

	fake_write_bd(g, bd, 0, rand_gpa(s),
		      s->next(s) & (AC97_BD_IOC | AC97_BD_BUP | len_mask));
}

/* The guest's cold and warm resets; the host's stop, resume and machine reset. */
static void reset_op(struct ac97_dev *dev, u32 v)
{
	switch (v % 12) {
	case 9:
		ac97_dev_set_stopped(dev, true);
		return;
	case 10:
		ac97_dev_set_stopped(dev, false);
		return;
	case 11:
		ac97_dev_reset(dev);
		return;
	}
	if (v % 3 == 0)
		ac97_nabm_write(dev, AC97_GLOB_CNT, 4, 0);
	ac97_nabm_write(dev, AC97_GLOB_CNT, 4,
			AC97_GC_COLD | (v % 3 == 1 ? AC97_GC_WARM : 0));
}

/* Time passes (mostly ms, sometimes 300 ms) and the engine runs once. */
static const char *step_op(struct fuzz_ctx *c, struct fuzz_src *s, u32 v,
			   struct fuzz_result *res)
{
	unsigned int moves = c->g.reads + c->g.writes;
	bool stopped = c->dev->stopped;	/* AC97_DEV_MANUAL: one thread */

	c->dev->manual_now_ns += s->next(s) % (v % 50 ? 3000000 : 300000000);
	ac97_engine_step(c->dev);
	moves = c->g.reads + c->g.writes - moves;
	res->reads_max = max_t(u64, res->reads_max, moves);
	if (moves > FUZZ_READS_PER_STEP)
		return "unbounded work: too many guest accesses in one step";
	if (stopped && moves)
		return "DMA touched guest memory while the host had stopped the VM";
	if (c->stray_write)
		return "capture wrote guest memory outside its current buffer";
	return NULL;
}

/* A reader takes a random amount of what the engine put in the ring. */
static const char *read_op(struct fuzz_ctx *c, u32 v)
{
	size_t want = v % FUZZ_READ_MAX, got;
	u64 before = c->reader.rpos;

	got = ac97_reader_copy(&c->reader, c->read_buf, want);
	if (got > want || c->reader.rpos < before + got ||
	    c->reader.rpos > c->dev->ring.wpos)
		return "reader position out of step with the ring";
	return NULL;
}

static const char *fuzz_op(struct fuzz_ctx *c, struct fuzz_src *s,
			   struct fuzz_result *res)
{
	u32 r = s->next(s) % 100, v = s->next(s);

	if (r < 45)
		nabm_op(c->dev, s, v);
	else if (r < 55)
		nam_op(c->dev, s, v);
	else if (r < 63)
		start_func(c->dev, s, v);
	else if (r < 76)
		rewrite_bd(&c->g, s, v);
	else if (r < 78)
		reset_op(c->dev, v);
	else if (r < 84)
		return read_op(c, v);
	else
		return step_op(c, s, v, res);
	return NULL;
}

/**
 * fuzz_run() - one run on a fresh guest, device and ring reader
 * @src: the choices
 * @max_ops: stop after this many operations (or when @src ends)
 * @res: what happened; @res->broken is NULL if every invariant held
 *
 * Return: 0, or -ENOMEM if the guest or device could not be made.
 */
int fuzz_run(struct fuzz_src *src, unsigned int max_ops, struct fuzz_result *res)
{
	struct fuzz_ctx c;
	int ret;

	memset(res, 0, sizeof(*res));
	c.read_buf = kmalloc(FUZZ_READ_MAX, GFP_KERNEL);
	if (!c.read_buf)
		return -ENOMEM;
	ret = fake_guest_alloc(&c.g);
	if (ret)
		goto out_buf;
	c.stray_write = false;
	fuzz_ops = fake_guest_ops;
	fuzz_ops.write_guest = fuzz_write_guest;
	c.dev = ac97_dev_create(&fuzz_ops, &c.g, AC97_DEV_MANUAL);
	if (IS_ERR(c.dev)) {
		ret = PTR_ERR(c.dev);
		goto out_guest;
	}
	ac97_reader_init(&c.reader, &c.dev->ring);
	c.dev->manual_now_ns = 1000000000ULL;
	c.g.thread_only = src->next(src) & 1;
	ac97_nabm_write(c.dev, AC97_GLOB_CNT, 4, AC97_GC_COLD);
	ac97_nam_write(c.dev, AC97_MASTER, 2, 0);
	ac97_nam_write(c.dev, AC97_PCM_OUT, 2, 0x0808);
	while (res->ops < max_ops && !src->ended) {
		res->broken = fuzz_op(&c, src, res);
		if (!res->broken)
			res->broken = broken_invariant(c.dev, &c.g, &res->func);
		/* Register reads move data too (catch-ups): checked after each op. */
		if (!res->broken && c.stray_write)
			res->broken = "capture wrote guest memory outside its current buffer";
		if (res->broken)
			break;
		res->ops++;
	}
	ac97_dev_destroy(c.dev);
out_guest:
	fake_guest_release(&c.g);
out_buf:
	kfree(c.read_buf);
	return ret;
}
