// SPDX-License-Identifier: GPL-2.0
/*
 * A fake guest for the KUnit suites and the userspace fuzzer: two banks of
 * RAM with a hole between them, and an interrupt line that records its
 * edges. Reads and writes that touch any byte outside RAM are refused
 * whole, as the KVM host refuses them.
 */
#include <linux/vmalloc.h>

#include "fake_guest.h"

static bool in_bank(u64 gpa, size_t len, u64 base, u64 size)
{
	return gpa >= base && len <= size && gpa - base <= size - len;
}

void *fake_ptr(struct fake_guest *g, u64 gpa)
{
	if (in_bank(gpa, 1, FAKE_RAM_BASE, FAKE_RAM_SIZE))
		return g->ram + (gpa - FAKE_RAM_BASE);
	if (in_bank(gpa, 1, FAKE_HIGH_BASE, FAKE_HIGH_SIZE))
		return g->high + (gpa - FAKE_HIGH_BASE);
	return NULL;
}

static void fake_check_alive(struct fake_guest *g)
{
	if (READ_ONCE(g->host_gone))
		WRITE_ONCE(g->called_after_gone, true);
}

static int fake_read_guest(void *host, u64 gpa, void *buf, size_t len)
{
	struct fake_guest *g = host;

	fake_check_alive(g);
	g->reads++;
	if (g->read_hook)
		g->read_hook(g);
	if (in_bank(gpa, len, FAKE_RAM_BASE, FAKE_RAM_SIZE) ||
	    in_bank(gpa, len, FAKE_HIGH_BASE, FAKE_HIGH_SIZE)) {
		memcpy(buf, fake_ptr(g, gpa), len);
		return 0;
	}
	g->refused_reads++;
	return -EFAULT;
}

static int fake_write_guest(void *host, u64 gpa, const void *buf, size_t len)
{
	struct fake_guest *g = host;

	g->writes++;
	if (in_bank(gpa, len, FAKE_RAM_BASE, FAKE_RAM_SIZE) ||
	    in_bank(gpa, len, FAKE_HIGH_BASE, FAKE_HIGH_SIZE)) {
		memcpy(fake_ptr(g, gpa), buf, len);
		g->written_bytes += len;
		return 0;
	}
	g->refused_writes++;
	return -EFAULT;
}

static void fake_set_irq(void *host, bool level)
{
	struct fake_guest *g = host;

	g->irq_changes++;
	if (level)
		g->irq_raises++;
	g->irq_level = level;
}

/*
 * The DMA thread borrows the guest's memory for its runs, as the KVM host
 * borrows the VMM's address space, and gives it back when idle; it refuses
 * once the memory is gone for good.
 */
static int fake_dma_begin(void *host)
{
	struct fake_guest *g = host;

	if (READ_ONCE(g->memory_gone))
		return -ESRCH;
	g->dma_begins++;
	if (!g->borrowed) {
		g->borrowed = true;
		g->borrows++;
	}
	return 0;
}

/* The register accessors run in the guest's context, unless told not to. */
static bool fake_dma_here(void *host)
{
	struct fake_guest *g = host;

	fake_check_alive(g);
	return !READ_ONCE(g->memory_gone) && !g->thread_only;
}

static void fake_dma_end(void *host, bool idle)
{
	struct fake_guest *g = host;

	g->dma_ends++;
	if (idle && g->borrowed) {
		g->borrowed = false;
		g->gives_back++;
	}
}

const struct ac97_host_ops fake_guest_ops = {
	.read_guest = fake_read_guest,
	.write_guest = fake_write_guest,
	.set_irq = fake_set_irq,
	.dma_begin = fake_dma_begin,
	.dma_here = fake_dma_here,
	.dma_end = fake_dma_end,
};

int fake_guest_alloc(struct fake_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->ram = vzalloc(FAKE_RAM_SIZE);
	g->high = vzalloc(FAKE_HIGH_SIZE);
	if (g->ram && g->high)
		return 0;
	fake_guest_release(g);
	return -ENOMEM;
}

void fake_guest_release(struct fake_guest *g)
{
	vfree(g->ram);
	vfree(g->high);
	g->ram = NULL;
	g->high = NULL;
}

void fake_write_bd(struct fake_guest *g, u64 bdbar, unsigned int index,
		   u32 addr, u32 ctl)
{
	__le32 *bd = fake_ptr(g, bdbar + index * AC97_BD_SIZE);

	bd[0] = cpu_to_le32(addr);
	bd[1] = cpu_to_le32(ctl);
}
