// SPDX-License-Identifier: GPL-2.0
/*
 * A fake guest for the KUnit suites: two banks of RAM with a hole between
 * them, and an interrupt line that records its edges. Reads that touch any
 * byte outside RAM are refused, as kvm_read_guest() refuses them.
 */
#include <linux/vmalloc.h>

#include "ac97_test.h"

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

static int fake_read_guest(void *host, u64 gpa, void *buf, size_t len)
{
	struct fake_guest *g = host;

	g->reads++;
	if (in_bank(gpa, len, FAKE_RAM_BASE, FAKE_RAM_SIZE) ||
	    in_bank(gpa, len, FAKE_HIGH_BASE, FAKE_HIGH_SIZE)) {
		memcpy(buf, fake_ptr(g, gpa), len);
		return 0;
	}
	g->refused_reads++;
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

static int fake_thread_enter(void *host)
{
	struct fake_guest *g = host;

	g->thread_enters++;
	return 0;
}

static void fake_thread_exit(void *host)
{
	struct fake_guest *g = host;

	g->thread_exits++;
}

const struct ac97_host_ops fake_guest_ops = {
	.read_guest = fake_read_guest,
	.set_irq = fake_set_irq,
	.thread_enter = fake_thread_enter,
	.thread_exit = fake_thread_exit,
};

static void fake_guest_free(void *data)
{
	struct fake_guest *g = data;

	vfree(g->ram);
	vfree(g->high);
}

struct fake_guest *fake_guest_new(struct kunit *test)
{
	struct fake_guest *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, g);
	g->ram = vzalloc(FAKE_RAM_SIZE);
	g->high = vzalloc(FAKE_HIGH_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, g->ram);
	KUNIT_ASSERT_NOT_NULL(test, g->high);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, fake_guest_free, g));
	return g;
}

void fake_write_bd(struct fake_guest *g, u64 bdbar, unsigned int index,
		   u32 addr, u32 ctl)
{
	__le32 *bd = fake_ptr(g, bdbar + index * AC97_BD_SIZE);

	bd[0] = cpu_to_le32(addr);
	bd[1] = cpu_to_le32(ctl);
}

static void fake_dev_free(void *data)
{
	ac97_dev_destroy(data);
}

struct ac97_dev *fake_dev_new(struct kunit *test, struct fake_guest *g,
			      unsigned int flags)
{
	struct ac97_dev *dev = ac97_dev_create(&fake_guest_ops, g, flags);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, fake_dev_free, dev));
	return dev;
}
