/* SPDX-License-Identifier: GPL-2.0 */
/* What ac97play and ac97rec share: finding a device's PCM node, a clock. */
#ifndef PCM_NODE_H
#define PCM_NODE_H

#include <signal.h>

/* Seconds on the monotonic clock. */
double mono_seconds(void);

/*
 * Open @node with @flags (O_RDONLY to hear a VM, O_WRONLY to feed it). With
 * no module or no VM attached yet, wait for one (a line on stderr unless
 * @quiet) until *@stop, or fail at once if @no_wait. Errors, with a hint,
 * go to stderr under the name @prog. Returns the fd, or -1.
 */
int pcm_node_open(const char *prog, const char *node, int flags, int quiet,
		  int no_wait, volatile sig_atomic_t *stop);

#endif
