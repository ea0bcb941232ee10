// SPDX-License-Identifier: GPL-2.0
/*
 * The device model's sources, and the part of their host (ac97_pcm.c's PCM
 * nodes) that the userspace harnesses do not exercise: included by the
 * libFuzzer target (tools/fuzz) and the race test (tools/race).
 */
#include "../../../ac97_mixer.c"
#include "../../../ac97_bm.c"
#include "../../../ac97_dma.c"
#include "../../../ac97_dev.c"
#include "../../../ac97_source.c"
#include "../../../ac97_ring.c"
#include "../../../kunit/fake_guest.c"

unsigned int ac97_ring_kb = 64;

int ac97_pcm_node_reserve(struct ac97_dev *dev)
{
	dev->index = 0;
	return 0;
}

int ac97_pcm_node_publish(struct ac97_dev *dev)
{
	(void)dev;
	return 0;
}

void ac97_pcm_node_del(struct ac97_dev *dev)
{
	(void)dev;
}
