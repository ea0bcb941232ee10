// SPDX-License-Identifier: GPL-2.0
/*
 * ac97-stress: everything userspace can do to ac97-emu, at once, for a while
 * - for the rig, and above all its debug kernel (KASAN, lockdep, kmemleak).
 *
 *   ac97-stress [-t SECONDS] [-f]     threads racing each other (below)
 *   ac97-stress -u                    the io_uring reference cycle
 *   ac97-stress -c                    a device's cost lands in its VMM's cgroup
 *
 * Threads: two attach/detach loops (new VMs now and then, BAR moves,
 * AC97_DEV_GET_INFO, AC97_DEV_OPEN_PCM readers that outlive their device,
 * the VM fd closed before the handle), a thread writing every resample
 * eventfd in a loop (EOIs during attach and detach), PCM openers of
 * /dev/ac97pcm and /dev/ac97pcmN whose files are read by two threads at once
 * (read, AC97_PCM_READ, AC97_PCM_GET_FORMAT, poll). With -f also a thread
 * that makes, in turn, every allocation of an attach and of a detach fail
 * (/proc/thread-self/fail-nth; the debug kernel has fault injection).
 * Every call must succeed or fail with an errno it may give; at the end every
 * VM is destroyed and no file is left open.
 *
 * -u: a child attaches a device, puts the handle into an io_uring's fixed
 * files, keeps the ring mapped and exits without closing anything. The ring
 * then holds the handle and the handle the VMM's mm: unless the module holds
 * only the mm_struct (not its address space), that cycle never ends, and the
 * VM, its memory and the device leak for good. The VM must be gone within
 * seconds.
 *
 * Prints "ok - ..." / "not ok - ..." lines; exit status 0 if all passed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ac97_emu.h>

#include "proc_util.h"

#define POOL	12	/* eventfds, written by the resample thread all along */

static int kvm_fd, ctl_fd, pool[POOL];
static atomic_int stop;
static atomic_ulong ops, unexpected;

static void die(const char *what)
{
	fprintf(stderr, "ac97-stress: %s: %s\n", what, strerror(errno));
	exit(2);
}

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245 + 12345;
	return *s >> 8;
}

/* An errno that op @what may not give: say it, count it. */
static void odd(const char *what, int err)
{
	if (atomic_fetch_add(&unexpected, 1) < 20)
		fprintf(stderr, "ac97-stress: %s: unexpected %s\n", what, strerrorname_np(err));
}

static int new_vm(void)
{
	int vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);

	if (vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");
	return vm;
}

/* Read a PCM file every way there is, without blocking. */
static void pcm_poke(int fd, unsigned int *seed)
{
	struct ac97_pcm_read rd = { 0 };
	struct ac97_pcm_format fmt;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];

	switch (rnd(seed) % 4) {
	case 0:
		if (read(fd, buf, 1 + rnd(seed) % sizeof(buf)) < 0 && errno != EAGAIN)
			odd("read", errno);
		break;
	case 1:
		rd.buf = (unsigned long)buf;
		rd.len = 1 + rnd(seed) % sizeof(buf);
		if (ioctl(fd, AC97_PCM_READ, &rd) < 0 && errno != EAGAIN)
			odd("AC97_PCM_READ", errno);
		break;
	case 2:
		if (ioctl(fd, AC97_PCM_GET_FORMAT, &fmt) < 0 && errno != EINTR)
			odd("AC97_PCM_GET_FORMAT", errno);
		else if (fmt.bytes_ready > (1u << 26))
			odd("bytes_ready beyond any ring", ERANGE);
		break;
	default:
		if (poll(&p, 1, 0) < 0)
			odd("poll", errno);
		break;
	}
	atomic_fetch_add(&ops, 1);
}

struct shared_file {
	int fd;
	unsigned int seed;
};

static void *pcm_twin(void *arg)
{
	struct shared_file *sf = arg;
	int i;

	for (i = 0; i < 50; i++)
		pcm_poke(sf->fd, &sf->seed);
	return NULL;
}

/* Open PCM nodes (the alias or a numbered one) and read each from two threads. */
static void *pcm_opener(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	char path[32];

	while (!atomic_load(&stop)) {
		struct shared_file a, b;
		pthread_t t;
		int fd;

		if (rnd(&seed) % 3)
			snprintf(path, sizeof(path), "/dev/ac97pcm%u", rnd(&seed) % 8);
		else
			snprintf(path, sizeof(path), "/dev/ac97pcm");
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ENOENT && errno != ENODEV && errno != ENXIO)
				odd("open PCM node", errno);
			continue;
		}
		a = (struct shared_file){ fd, rnd(&seed) };
		b = (struct shared_file){ fd, rnd(&seed) };
		if (pthread_create(&t, NULL, pcm_twin, &a))
			die("pthread_create");
		pcm_twin(&b);
		pthread_join(t, NULL);
		close(fd);
	}
	return NULL;
}

/* The guest EOIs all the time: every resample eventfd fires, in a loop. */
static void *resampler(void *arg)
{
	unsigned long long one = 1;
	int i;

	(void)arg;
	while (!atomic_load(&stop))
		for (i = 0; i < POOL; i++)
			if (write(pool[i], &one, sizeof(one)) != sizeof(one))
				odd("write resample eventfd", errno);
	return NULL;
}

static const struct ac97_bars placements[] = {
	{ 0xc000, 0xc100, AC97_MAP_NAM | AC97_MAP_NABM, 0 },
	{ 0xd000, 0xd140, AC97_MAP_NAM | AC97_MAP_NABM, 0 },
	{ 0xe000, 0xe100, AC97_MAP_NABM, 0 },
	{ 0xc000, 0xc100, 0, 0 },
};

/* Attach and detach, with everything a VMM may do in between. */
static void *attacher(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg, n = 0;
	int vm = -1;

	while (!atomic_load(&stop)) {
		struct ac97_attach a = { 0 };
		struct ac97_dev_info info;
		struct ac97_bars bars;
		int h, pcm = -1;

		if (vm < 0 || n++ % 50 == 0) {
			if (vm >= 0)
				close(vm);
			vm = new_vm();
		}
		a.vm_fd = vm;
		a.irq_fd = pool[rnd(&seed) % POOL];
		a.resample_fd = pool[rnd(&seed) % POOL];
		a.bars = placements[rnd(&seed) % 3];
		h = ioctl(ctl_fd, AC97_CTL_ATTACH, &a);
		atomic_fetch_add(&ops, 1);
		if (h < 0) {
			/* same eventfd twice; shared with the other thread's device */
			if (errno != EINVAL && errno != EBUSY)
				odd("AC97_CTL_ATTACH", errno);
			continue;
		}
		if (ioctl(h, AC97_DEV_GET_INFO, &info) < 0)
			odd("AC97_DEV_GET_INFO", errno);
		if (rnd(&seed) % 2) {
			pcm = ioctl(h, AC97_DEV_OPEN_PCM, 0);
			if (pcm < 0)
				odd("AC97_DEV_OPEN_PCM", errno);
		}
		bars = placements[rnd(&seed) % 4];
		if (ioctl(h, AC97_DEV_SET_BARS, &bars) < 0 && errno != EBUSY)
			odd("AC97_DEV_SET_BARS", errno);
		if (rnd(&seed) % 8 == 0) {	/* the VM fd goes first */
			close(vm);
			vm = -1;
		}
		close(h);
		if (pcm >= 0) {			/* a reader that outlived its device */
			char c;

			if (read(pcm, &c, 1) != 0)
				odd("read after detach (want end of file)", errno);
			close(pcm);
		}
	}
	if (vm >= 0)
		close(vm);
	return NULL;
}

/* Write @n to this thread's fail-nth: the nth allocation from now fails. */
static int fail_nth(int n)
{
	char s[16];
	int fd = open("/proc/thread-self/fail-nth", O_WRONLY), ok;

	if (fd < 0)
		return -1;
	snprintf(s, sizeof(s), "%d", n);
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			perror(path);
		close(fd);
	}
}

static unsigned long injected_attach, injected_detach;

/*
 * Every allocation of an attach fails once, in turn (the nth, for n = 1,
 * 2, ...), and the first of each detach: each must fail cleanly or succeed.
 */
static void *injector(void *arg)
{
	int vm = new_vm(), n = 1;

	(void)arg;
	while (!atomic_load(&stop)) {
		struct ac97_attach a = {
			.vm_fd = vm, .irq_fd = eventfd(0, EFD_CLOEXEC),
			.resample_fd = eventfd(0, EFD_CLOEXEC),
			.bars = { 0xb000, 0xb100, AC97_MAP_NAM | AC97_MAP_NABM, 0 },
		};
		int h, err;

		if (fail_nth(n) < 0)
			break;
		h = ioctl(ctl_fd, AC97_CTL_ATTACH, &a);
		err = errno;
		fail_nth(0);
		injected_attach++;
		if (h < 0 && err != ENOMEM && err != EINTR && err != EAGAIN)
			odd("AC97_CTL_ATTACH with an allocation failing", err);
		n = h < 0 ? n + 1 : 1;	/* past the last allocation: start again */
		if (h >= 0) {
			fail_nth(1);	/* the bus copy of the detach, most likely */
			close(h);
			fail_nth(0);
			injected_detach++;
		}
		close(a.irq_fd);
		close(a.resample_fd);
	}
	close(vm);
	return NULL;
}

static int stress(double seconds, int inject)
{
	int vms0 = count_entries("/sys/kernel/debug/kvm"), vms1, i, fails = 0;
	long files0 = open_files(), files1;
	pthread_t thr[8];
	int nthr = 0;

	for (i = 0; i < POOL; i++)
		pool[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (inject) {
		/* GFP_KERNEL allocations too, and no stack dump per failure. */
		write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
		write_file("/sys/kernel/debug/failslab/verbose", "0");
	}
	pthread_create(&thr[nthr++], NULL, attacher, (void *)1);
	pthread_create(&thr[nthr++], NULL, attacher, (void *)2);
	pthread_create(&thr[nthr++], NULL, resampler, NULL);
	pthread_create(&thr[nthr++], NULL, pcm_opener, (void *)3);
	pthread_create(&thr[nthr++], NULL, pcm_opener, (void *)4);
	if (inject)
		pthread_create(&thr[nthr++], NULL, injector, NULL);
	usleep(seconds * 1e6);
	atomic_store(&stop, 1);
	for (i = 0; i < nthr; i++)
		pthread_join(thr[i], NULL);
	for (i = 0; i < POOL; i++)
		close(pool[i]);
	usleep(500000);		/* files go after an RCU grace period */
	vms1 = count_entries("/sys/kernel/debug/kvm");
	files1 = open_files();

	printf("%s - %lu operations in %.0f s by 2 attachers, a resampler, 2 PCM openers x 2 readers%s: %lu unexpected errors\n",
	       atomic_load(&unexpected) ? "not ok" : "ok", atomic_load(&ops), seconds,
	       inject ? ", a fault injector" : "", atomic_load(&unexpected));
	fails += !!atomic_load(&unexpected);
	if (inject) {
		int done = injected_attach > 50 && injected_detach > 0;

		printf("%s - allocation failures injected into %lu attaches (each allocation in turn) and %lu detaches\n",
		       done ? "ok" : "not ok", injected_attach, injected_detach);
		fails += !done;
	}
	printf("%s - every VM destroyed afterwards (KVM debugfs VM directories %d before, %d after)\n",
	       vms1 == vms0 ? "ok" : "not ok", vms0, vms1);
	fails += vms1 != vms0;
	/* (file-nr is a per-CPU counter's quick sum: off by tens either way) */
	printf("%s - no file left open (%ld open files before, %ld after)\n",
	       files1 - files0 < 256 ? "ok" : "not ok", files0, files1);
	fails += files1 - files0 >= 256;
	return fails;
}

/*
 * -c: in a memory cgroup of its own, the attaching process is charged for
 * the device (its ring alone is ring_kb), and the device's DMA thread runs
 * in that cgroup. Needs cgroup2 at /sys/fs/cgroup with the memory controller.
 */
static long read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* 1 if device @index's DMA thread is in cgroup @cg, -1 if elsewhere, 0 if not found. */
static int thread_in_cgroup(unsigned int index, const char *cg)
{
	long pid = dma_thread_pid(index);
	char path[64], line[256];
	int found = -1;
	FILE *f;

	if (!pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/cgroup", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, cg))
			found = 1;
	if (f)
		fclose(f);
	return found;
}

static int cgroup_charge(void)
{
	const char *cg = "/sys/fs/cgroup/ac97-stress";
	struct ac97_attach a = {
		.vm_fd = new_vm(), .irq_fd = eventfd(0, 0), .resample_fd = eventfd(0, 0),
		.bars = { 0xc000, 0xc100, AC97_MAP_NAM | AC97_MAP_NABM, 0 },
	};
	long ring = read_long("/sys/module/ac97_emu/parameters/ring_kb") * 1024;
	long before, after;
	struct ac97_dev_info info;
	char pid[16], path[300];
	int h, in_cg, ok;

	mkdir(cg, 0755);
	write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	snprintf(pid, sizeof(pid), "%d", getpid());
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	write_file(path, pid);
	snprintf(path, sizeof(path), "%s/memory.current", cg);
	before = read_long(path);
	h = ioctl(ctl_fd, AC97_CTL_ATTACH, &a);
	after = read_long(path);
	if (h < 0 || before < 0 || ring <= 0) {
		printf("not ok - charging a device to its VMM's memory cgroup: attach %s, memory.current %ld, ring_kb %ld\n",
		       h < 0 ? strerror(errno) : "ok", before, ring / 1024);
		return 1;
	}
	ioctl(h, AC97_DEV_GET_INFO, &info);
	in_cg = thread_in_cgroup(info.index, "/ac97-stress");
	ok = after - before >= ring && in_cg == 1;
	printf("%s - a device is charged to its VMM's memory cgroup (memory.current +%ld KiB for a %ld KiB ring) and its DMA thread runs in that cgroup (%s)\n",
	       ok ? "ok" : "not ok", (after - before) / 1024, ring / 1024,
	       in_cg == 1 ? "yes" : in_cg < 0 ? "no: elsewhere" : "thread not found");
	close(h);
	write_file("/sys/fs/cgroup/cgroup.procs", pid);	/* back to the root */
	rmdir(cg);
	return !ok;
}

/* -u: see the top of the file. */
static int uring_cycle(void)
{
	int vms0 = count_entries("/sys/kernel/debug/kvm"), vms = vms0, status, i;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		struct io_uring_params p = { 0 };
		struct ac97_attach a = {
			.vm_fd = new_vm(), .irq_fd = eventfd(0, 0), .resample_fd = eventfd(0, 0),
			.bars = { 0xc000, 0xc100, AC97_MAP_NAM | AC97_MAP_NABM, 0 },
		};
		int h = ioctl(ctl_fd, AC97_CTL_ATTACH, &a);
		int ring = syscall(__NR_io_uring_setup, 4, &p);
		void *sq;

		if (h < 0 || ring < 0)
			_exit(10 + (h < 0));
		sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(__u32),
			  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
			  IORING_OFF_SQ_RING);
		if (sq == MAP_FAILED ||
		    syscall(__NR_io_uring_register, ring, IORING_REGISTER_FILES, &h, 1) < 0)
			_exit(12);
		_exit(0);	/* nothing closed: exit tears it down */
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("not ok - io_uring cycle: the child could not set it up (status %#x)\n", status);
		return 1;
	}
	for (i = 0; i < 100; i++) {
		vms = count_entries("/sys/kernel/debug/kvm");
		if (vms == vms0)
			break;
		usleep(100000);
	}
	printf("%s - a VMM exits with its device handle in an io_uring's fixed files and the ring mapped: the VM is destroyed (%d VM directories before, %d after %.1f s)\n",
	       vms == vms0 ? "ok" : "not ok", vms0, vms, i / 10.0);
	return vms != vms0;
}

int main(int argc, char **argv)
{
	double seconds = 20;
	int opt, inject = 0, uring = 0, charge = 0, fails;

	while ((opt = getopt(argc, argv, "t:fuc")) != -1) {
		switch (opt) {
		case 't': seconds = atof(optarg); break;
		case 'f': inject = 1; break;
		case 'u': uring = 1; break;
		case 'c': charge = 1; break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] [-f] | -u | -c\n", argv[0]);
			return 2;
		}
	}
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ctl_fd = open("/dev/ac97ctl", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0 || ctl_fd < 0)
		die("open /dev/kvm or /dev/ac97ctl");
	fails = uring ? uring_cycle() : charge ? cgroup_charge() : stress(seconds, inject);
	return fails ? 1 : 0;
}
