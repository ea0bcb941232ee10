/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the test programs read off /proc and debugfs: a device's DMA thread,
 * the VMs alive (KVM's debugfs directories) and the files open in the system.
 */
#ifndef PROC_UTIL_H
#define PROC_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

/* The pid of device @index's DMA thread ("ac97-dma/N"), or 0. */
static inline long dma_thread_pid(unsigned int index)
{
	char want[32], path[300], comm[64];
	struct dirent *de;
	DIR *proc = opendir("/proc");
	long pid = 0;
	FILE *f;

	snprintf(want, sizeof(want), "ac97-dma/%u\n", index);
	while (proc && !pid && (de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, want))
			pid = atol(de->d_name);
		fclose(f);
	}
	if (proc)
		closedir(proc);
	return pid;
}

/* Entries of a directory but . and .., or -1. */
static inline int count_entries(const char *path)
{
	struct dirent *d;
	DIR *dir = opendir(path);
	int n = 0;

	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/*
 * Files open in the whole system: the first field of file-nr, a per-CPU
 * counter's quick sum (off by tens either way). -1 if unreadable.
 */
static inline long open_files(void)
{
	long n = -1;
	FILE *f = fopen("/proc/sys/fs/file-nr", "r");

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

#endif /* PROC_UTIL_H */
