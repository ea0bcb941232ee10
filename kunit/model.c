// SPDX-License-Identifier: GPL-2.0
/*
 * The device model under test, compiled into the KUnit module so the suites
 * need no exports from ac97_emu.ko (and run where no KVM exists).
 */
#include "../ac97_mixer.c"
#include "../ac97_bm.c"
#include "../ac97_pcm.c"

#include <linux/module.h>

MODULE_DESCRIPTION("KUnit suites for ac97-emu's device model");
MODULE_LICENSE("GPL");
