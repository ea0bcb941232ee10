// SPDX-License-Identifier: GPL-2.0
/*
 * ac97-emu: an Intel ICH AC'97 controller emulated in the host kernel for KVM
 * guests. Module entry points.
 */
#include <linux/module.h>

#include "ac97.h"

static int __init ac97_emu_init(void)
{
	int ret;

	ret = ac97_pcm_init();
	if (ret)
		return ret;
	ret = ac97_kvm_init();
	if (ret)
		ac97_pcm_exit();
	return ret;
}

/* Every device handle and PCM reader holds the module: none is left here. */
static void __exit ac97_emu_exit(void)
{
	ac97_kvm_exit();
	ac97_pcm_exit();
}

module_init(ac97_emu_init);
module_exit(ac97_emu_exit);

MODULE_DESCRIPTION("In-kernel Intel ICH AC'97 audio controller for KVM guests");
MODULE_LICENSE("GPL");
