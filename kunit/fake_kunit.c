// SPDX-License-Identifier: GPL-2.0
/* Fake guests and devices owned by a KUnit test: freed when the test ends. */
#include "ac97_test.h"

static void fake_guest_free(void *data)
{
	fake_guest_release(data);
}

struct fake_guest *fake_guest_new(struct kunit *test)
{
	struct fake_guest *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, g);
	KUNIT_ASSERT_EQ(test, 0, fake_guest_alloc(g));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, fake_guest_free, g));
	return g;
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
