// SPDX-License-Identifier: GPL-2.0
/*
 * ac97bench: a guest kernel module that measures the AC'97 it finds, whoever
 * emulates it (ac97-emu in the host kernel, or QEMU's device in userspace).
 * Ring 0, so the same code and access pattern serve every device.
 *
 * 1. Cost of one port access: PO_CIV (byte), PO_PICB (word), GLOB_STA
 *    (dword), the codec reset register (NAM word), a W1C write to PO_SR;
 *    and two references: the PIC's mask register (0x21), which KVM serves in
 *    the kernel, and the PCI address port (0xcf8), which the VMM serves in
 *    userspace. Median of @batches batches of @per_batch accesses, irqs off.
 * 2. Pacing: PCM out plays @secs seconds of silence through 32 buffers of
 *    @period_frames frames, an interrupt per buffer. Frames delivered against
 *    the guest clock (ppm), the interrupt period's deviation from nominal,
 *    and the smallest PICB step a polling reader sees.
 *
 * Prints "ac97bench: key=value ..." lines; load it with insmod, read dmesg,
 * rmmod it. Binds no driver: load it before snd-intel8x0.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sort.h>

#define NAM_RESET	0x00
#define NAM_MASTER	0x02
#define NAM_PCM_OUT	0x18
#define PO_BDBAR	0x10
#define PO_CIV		0x14
#define PO_LVI		0x15
#define PO_SR		0x16
#define PO_PICB		0x18
#define PO_CR		0x1b
#define GLOB_CNT	0x2c
#define GLOB_STA	0x30
#define SR_LVBCI	0x04
#define SR_BCIS		0x08
#define SR_FIFOE	0x10
#define CR_RPBM		0x01
#define CR_RR		0x02
#define CR_IOCE		0x10
#define GC_COLD		0x02
#define GS_PCR		0x100
#define BD_IOC		0x80000000u
#define NR_BD		32
#define RATE		48000

static unsigned int secs = 10;
module_param(secs, uint, 0444);
MODULE_PARM_DESC(secs, "pacing run in seconds (0: skip)");
static unsigned int batches = 15;
module_param(batches, uint, 0444);
MODULE_PARM_DESC(batches, "register timing: batches per register");
static unsigned int per_batch = 200;
module_param(per_batch, uint, 0444);
MODULE_PARM_DESC(per_batch, "register timing: accesses per batch");
static unsigned int period_frames = 960;
module_param(period_frames, uint, 0444);
MODULE_PARM_DESC(period_frames, "frames per buffer (960: 20 ms)");

struct bench {
	struct pci_dev *pdev;
	unsigned long nam, nabm;
	__le32 *bdl;
	dma_addr_t bdl_dma;
	size_t alloc_bytes;
	/* Written by the interrupt handler. */
	u64 *irq_ns;		/* time of each interrupt */
	u8 *irq_bufs;		/* buffers completed at each */
	unsigned int nr_irqs, max_irqs;
	u8 last_civ;
	unsigned long buffers;
};

enum access { RD8, RD16, RD32, WR16 };

static void do_access(enum access a, unsigned long port, u16 val)
{
	switch (a) {
	case RD8:
		inb(port);
		break;
	case RD16:
		inw(port);
		break;
	case RD32:
		inl(port);
		break;
	case WR16:
		outw(val, port);
		break;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* ns per access: median, lowest and highest batch. */
static void time_port(const char *name, enum access a, unsigned long port, u16 val)
{
	u64 *per = kcalloc(batches, sizeof(*per), GFP_KERNEL);
	unsigned long flags;
	unsigned int b, i;
	u64 t0;

	if (!per || !batches || !per_batch)
		goto out;
	for (b = 0; b < batches; b++) {
		local_irq_save(flags);
		t0 = ktime_get_ns();
		for (i = 0; i < per_batch; i++)
			do_access(a, port, val);
		per[b] = (ktime_get_ns() - t0) / per_batch;
		local_irq_restore(flags);
		cond_resched();
	}
	sort(per, batches, sizeof(*per), cmp_u64, NULL);
	pr_info("ac97bench: reg %s ns=%llu min=%llu max=%llu n=%u\n", name,
		per[batches / 2], per[0], per[batches - 1], batches * per_batch);
out:
	kfree(per);
}

static void time_registers(struct bench *b)
{
	time_port("po_civ_byte", RD8, b->nabm + PO_CIV, 0);
	time_port("po_picb_word", RD16, b->nabm + PO_PICB, 0);
	time_port("glob_sta_dword", RD32, b->nabm + GLOB_STA, 0);
	time_port("nam_reset_word", RD16, b->nam + NAM_RESET, 0);
	time_port("po_sr_w1c_word", WR16, b->nabm + PO_SR, SR_LVBCI | SR_BCIS | SR_FIFOE);
	time_port("floor_pic_0x21", RD8, 0x21, 0);
	time_port("user_exit_0xcf8", RD32, 0xcf8, 0);
}

static irqreturn_t bench_irq(int irq, void *data)
{
	struct bench *b = data;
	u16 sr = inw(b->nabm + PO_SR);
	u8 civ;

	if (!(sr & (SR_BCIS | SR_LVBCI | SR_FIFOE)))
		return IRQ_NONE;
	civ = inb(b->nabm + PO_CIV);
	/* Keep the list endless: LVI one behind the current buffer. */
	outb((civ + NR_BD - 1) % NR_BD, b->nabm + PO_LVI);
	outw(sr & (SR_BCIS | SR_LVBCI | SR_FIFOE), b->nabm + PO_SR);
	if (b->nr_irqs < b->max_irqs) {
		b->irq_ns[b->nr_irqs] = ktime_get_ns();
		b->irq_bufs[b->nr_irqs] = (civ - b->last_civ + NR_BD) % NR_BD;
		b->nr_irqs++;
	}
	b->buffers += (civ - b->last_civ + NR_BD) % NR_BD;
	b->last_civ = civ;
	return IRQ_HANDLED;
}

/* Poll CIV/PICB for @ms: the smallest step seen and how often it moves. */
static void picb_resolution(struct bench *b, unsigned int ms)
{
	u32 samples = period_frames * 2, step, min_step = U32_MAX, changes = 0;
	u8 civ, last_civ = inb(b->nabm + PO_CIV);
	u16 picb, last_picb = inw(b->nabm + PO_PICB);
	u64 end = ktime_get_ns() + (u64)ms * NSEC_PER_MSEC, reads = 0;

	while (ktime_get_ns() < end) {
		civ = inb(b->nabm + PO_CIV);
		picb = inw(b->nabm + PO_PICB);
		reads++;
		if (civ == last_civ && picb == last_picb)
			continue;
		step = civ == last_civ ? last_picb - picb :
		       last_picb + samples * ((civ - last_civ + NR_BD - 1) % NR_BD) +
		       (samples - picb);
		if (civ == last_civ && picb > last_picb)
			step = 0;	/* went backwards: not a step */
		if (step)
			min_step = min(min_step, step);
		changes++;
		last_civ = civ;
		last_picb = picb;
	}
	pr_info("ac97bench: picb polls=%llu changes=%u min_step_samples=%u mean_us_between_changes=%llu\n",
		reads, changes, changes ? min_step : 0,
		changes ? (u64)ms * 1000 / changes : 0);
}

static void report_pacing(struct bench *b)
{
	u64 nominal = (u64)period_frames * NSEC_PER_SEC / RATE, span, frames = 0;
	unsigned int i, n = b->nr_irqs;
	s64 *dev;
	s64 rate_ppm;

	if (n < 3) {
		pr_info("ac97bench: pacing irqs=%u (too few)\n", n);
		return;
	}
	dev = kcalloc(n, sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return;
	/* From the first interrupt on: frames finished vs the guest clock. */
	for (i = 1; i < n; i++) {
		frames += (u64)b->irq_bufs[i] * period_frames;
		dev[i - 1] = (s64)(b->irq_ns[i] - b->irq_ns[i - 1]) -
			     (s64)(b->irq_bufs[i] * nominal);
		if (dev[i - 1] < 0)
			dev[i - 1] = -dev[i - 1];
	}
	span = b->irq_ns[n - 1] - b->irq_ns[0];
	rate_ppm = div64_s64((s64)frames * NSEC_PER_SEC * 1000 / RATE - (s64)span * 1000,
			     (s64)span / 1000);
	sort(dev, n - 1, sizeof(*dev), cmp_u64, NULL);
	pr_info("ac97bench: pacing irqs=%u buffers=%lu seconds=%llu.%03llu rate_ppm=%lld period_us=%llu dev_median_us=%lld dev_p99_us=%lld dev_max_us=%lld\n",
		n, b->buffers, span / NSEC_PER_SEC, (span % NSEC_PER_SEC) / NSEC_PER_MSEC,
		rate_ppm, nominal / 1000, dev[(n - 1) / 2] / 1000,
		dev[(n - 1) * 99 / 100] / 1000, dev[n - 2] / 1000);
	kfree(dev);
}

static int run_pacing(struct bench *b)
{
	size_t buf_bytes = period_frames * 4;
	unsigned int i;
	int ret;

	b->max_irqs = secs * RATE / period_frames + 64;
	b->irq_ns = kcalloc(b->max_irqs, sizeof(*b->irq_ns), GFP_KERNEL);
	b->irq_bufs = kcalloc(b->max_irqs, 1, GFP_KERNEL);
	b->alloc_bytes = NR_BD * 8 + NR_BD * buf_bytes;
	b->bdl = dma_alloc_coherent(&b->pdev->dev, b->alloc_bytes, &b->bdl_dma, GFP_KERNEL);
	if (!b->irq_ns || !b->irq_bufs || !b->bdl) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < NR_BD; i++) {
		b->bdl[2 * i] = cpu_to_le32(b->bdl_dma + NR_BD * 8 + i * buf_bytes);
		b->bdl[2 * i + 1] = cpu_to_le32(BD_IOC | (period_frames * 2));
	}
	ret = request_irq(b->pdev->irq, bench_irq, IRQF_SHARED, "ac97bench", b);
	if (ret)
		goto out;
	outl(b->bdl_dma, b->nabm + PO_BDBAR);
	outb(NR_BD - 1, b->nabm + PO_LVI);
	b->last_civ = 0;
	outb(CR_RPBM | CR_IOCE, b->nabm + PO_CR);
	msleep(200);
	picb_resolution(b, 300);
	msleep(secs * 1000);
	outb(0, b->nabm + PO_CR);
	outb(CR_RR, b->nabm + PO_CR);
	free_irq(b->pdev->irq, b);
	report_pacing(b);
out:
	if (b->bdl)
		dma_free_coherent(&b->pdev->dev, b->alloc_bytes, b->bdl, b->bdl_dma);
	kfree(b->irq_ns);
	kfree(b->irq_bufs);
	return ret;
}

static int codec_ready(struct bench *b)
{
	unsigned int i;

	outl(0, b->nabm + GLOB_CNT);
	outl(GC_COLD, b->nabm + GLOB_CNT);
	for (i = 0; i < 100; i++) {
		if (inl(b->nabm + GLOB_STA) & GS_PCR)
			return 0;
		usleep_range(10000, 20000);
	}
	return -ETIMEDOUT;
}

static int __init ac97bench_init(void)
{
	struct bench b = { 0 };
	int ret;

	b.pdev = pci_get_device(PCI_VENDOR_ID_INTEL, 0x2415, NULL);
	if (!b.pdev) {
		pr_info("ac97bench: no 8086:2415\n");
		return -ENODEV;
	}
	ret = pci_enable_device(b.pdev);
	if (ret)
		goto out_put;
	pci_set_master(b.pdev);
	b.nam = pci_resource_start(b.pdev, 0);
	b.nabm = pci_resource_start(b.pdev, 1);
	ret = codec_ready(&b);
	if (ret)
		goto out_disable;
	outw(0, b.nam + NAM_MASTER);
	outw(0x0808, b.nam + NAM_PCM_OUT);
	pr_info("ac97bench: device nam=%#lx nabm=%#lx irq=%d\n", b.nam, b.nabm, b.pdev->irq);
	time_registers(&b);
	if (secs)
		ret = run_pacing(&b);
	pr_info("ac97bench: done ret=%d\n", ret);
out_disable:
	pci_disable_device(b.pdev);
out_put:
	pci_dev_put(b.pdev);
	return ret;
}

static void __exit ac97bench_exit(void)
{
}

module_init(ac97bench_init);
module_exit(ac97bench_exit);
MODULE_DESCRIPTION("Measures an emulated AC'97 from inside the guest");
MODULE_LICENSE("GPL");
