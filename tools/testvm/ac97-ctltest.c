// SPDX-License-Identifier: GPL-2.0
/*
 * ac97-ctltest: the control interface against bad input from userspace.
 * Every case expects a precise errno (or success); each prints "ok - ..." or
 * "not ok - ...", and the last line is "N passed, N failed".
 *
 *   ac97-ctltest [-n ATTACH_CYCLES]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ac97_emu.h>

#include "proc_util.h"

static int passed, failed;

static void check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (cond)
		passed++;
	else
		failed++;
}

/* errno of an ioctl, 0 on success (closing any fd it returned). */
static int ioctl_errno(int fd, unsigned long cmd, void *arg)
{
	int r = ioctl(fd, cmd, arg);

	if (r < 0)
		return errno;
	if (cmd == AC97_CTL_ATTACH)
		close(r);
	return 0;
}

static int kvm_fd, ctl;

static int new_vm(void)
{
	int vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);

	if (vm < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) {
		perror("KVM_CREATE_VM/IRQCHIP");
		exit(2);
	}
	return vm;
}

/* A fresh eventfd: every device needs two of its own. */
static int new_efd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	if (fd < 0) {
		perror("eventfd");
		exit(2);
	}
	return fd;
}

/* A valid request: @vm, the irq eventfd @irq, the resample eventfd @rs. */
static struct ac97_attach good_with(int vm, int irq, int rs)
{
	struct ac97_attach a = {
		.vm_fd = vm, .irq_fd = irq, .resample_fd = rs,
		.bars = { .nam_base = 0xc000, .nabm_base = 0xc100,
			  .map = AC97_MAP_NAM | AC97_MAP_NABM },
	};
	return a;
}

/* The same with a fresh resample eventfd (left open: a test's few dozen). */
static struct ac97_attach good(int vm, int efd)
{
	return good_with(vm, efd, new_efd());
}

static const char *err_name(int e)
{
	return e ? strerrorname_np(e) : "success";
}

#define EXPECT_ERR(want, call, what) do {					\
		int e_ = (call);						\
		check(e_ == (want), "%s: %s (got %s)", what, err_name(want),	\
		      err_name(e_));						\
	} while (0)

/* A descriptor number that is not open (take it right before use). */
static int closed_fd(void)
{
	int fd = eventfd(0, 0);

	close(fd);
	return fd;
}

static void bad_fds(int vm, int efd)
{
	struct ac97_attach a;

	a = good(-1, efd);
	EXPECT_ERR(EBADF, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "VM fd -1");
	a = good(vm, efd);
	a.vm_fd = closed_fd();
	EXPECT_ERR(EBADF, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "closed VM fd");
	a = good(efd, efd);
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "eventfd as VM fd");
	a = good(kvm_fd, efd);
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "/dev/kvm (not a VM) as VM fd");
	a = good(ctl, efd);
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "/dev/ac97ctl as VM fd");
	a = good(vm, -1);
	EXPECT_ERR(EBADF, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "irq fd -1");
	a = good(vm, vm);
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "VM fd as irq eventfd");
	a = good(vm, efd);
	a.resample_fd = closed_fd();
	EXPECT_ERR(EBADF, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "closed resample fd");
	a.resample_fd = kvm_fd;
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "/dev/kvm as resample eventfd");
	a.resample_fd = a.irq_fd;
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a),
		   "the irq eventfd as its own resample eventfd (would re-raise itself for ever)");
	EXPECT_ERR(EFAULT, ioctl_errno(ctl, AC97_CTL_ATTACH, (void *)8), "bad pointer");
	EXPECT_ERR(ENOTTY, ioctl_errno(ctl, _IO(0xa9, 0x7f), NULL), "unknown ioctl on /dev/ac97ctl");
}

static void bad_bars(int vm, int efd)
{
	struct ac97_attach a;

	a = good(vm, efd);
	a.bars.nam_base = 0xc001;
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "NAM base not 256-aligned");
	a = good(vm, efd);
	a.bars.nabm_base = 0xc120;
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "NABM base not 64-aligned");
	a = good(vm, efd);
	a.bars.nabm_base = 0xc040;
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "NABM inside NAM");
	a = good(vm, efd);
	a.bars.map = 0x80;
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "unknown map bit");
	a = good(vm, efd);
	a.bars.reserved = 1;
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "reserved field set");
	a = good(vm, efd);
	a.flags = 1;
	EXPECT_ERR(EINVAL, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "unknown flag");
	a = good(vm, efd);
	a.bars.nabm_base = 0x0000;	/* 0x00-0x3f holds the PIC at 0x20 */
	EXPECT_ERR(EBUSY, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "NABM over KVM's own PIC (0x20)");
	a = good(vm, efd);
	a.bars.nam_base = 0x0400;	/* 0x400-0x4ff holds the ELCR at 0x4d0 */
	EXPECT_ERR(EBUSY, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "NAM over KVM's own ELCR (0x4d0)");
	a = good(vm, efd);
	a.bars.nam_base = 0xff00;
	a.bars.nabm_base = 0xfec0;
	EXPECT_ERR(0, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "ranges ending at port 0xffff");
	a = good(vm, efd);
	a.bars.map = 0;
	a.bars.nam_base = 0x0001;	/* unmapped ranges need not be valid */
	EXPECT_ERR(0, ioctl_errno(ctl, AC97_CTL_ATTACH, &a), "attach with decoding off");
}

static void double_attach_and_move(int vm, int efd)
{
	struct ac97_attach a = good(vm, efd), b, c;
	struct ac97_dev_info i1, i2;
	struct ac97_bars bars;
	int h1, h2, ok;

	h1 = ioctl(ctl, AC97_CTL_ATTACH, &a);
	check(h1 >= 0, "first attach");
	b = good(vm, new_efd());
	b.bars = a.bars;
	EXPECT_ERR(EBUSY, ioctl_errno(ctl, AC97_CTL_ATTACH, &b), "second attach on the same ports");
	b.bars.nam_base = 0xd000;
	EXPECT_ERR(EBUSY, ioctl_errno(ctl, AC97_CTL_ATTACH, &b), "second attach, NABM overlapping");
	b.bars.nabm_base = 0xd100;
	/* Eventfds wired to another device's in either role would re-raise each other. */
	c = b;
	c.irq_fd = a.resample_fd;
	EXPECT_ERR(EBUSY, ioctl_errno(ctl, AC97_CTL_ATTACH, &c),
		   "irq eventfd that is another device's resample eventfd");
	c = b;
	c.resample_fd = a.irq_fd;
	EXPECT_ERR(EBUSY, ioctl_errno(ctl, AC97_CTL_ATTACH, &c),
		   "resample eventfd that is another device's irq eventfd");
	h2 = ioctl(ctl, AC97_CTL_ATTACH, &b);
	check(h2 >= 0, "second device on the same VM, other ports");
	if (h1 < 0 || h2 < 0)
		return;
	memset(&i1, 0xff, sizeof(i1));
	memset(&i2, 0xff, sizeof(i2));
	ok = !ioctl(h1, AC97_DEV_GET_INFO, &i1) && !ioctl(h2, AC97_DEV_GET_INFO, &i2);
	check(ok && i1.index != i2.index, "two devices, two PCM nodes (%u, %u)", i1.index, i2.index);
	bars = b.bars;
	EXPECT_ERR(EBUSY, ioctl_errno(h1, AC97_DEV_SET_BARS, &bars), "move onto the other device");
	/* Still h1's: a third device cannot have them. */
	c = good(vm, new_efd());
	c.bars = a.bars;
	EXPECT_ERR(EBUSY, ioctl_errno(ctl, AC97_CTL_ATTACH, &c),
		   "failed move left the old BARs in place (a new device on them is refused)");
	bars = a.bars;
	bars.nam_base = 0xe000;
	bars.nabm_base = 0xe100;
	EXPECT_ERR(0, ioctl_errno(h1, AC97_DEV_SET_BARS, &bars), "move both BARs");
	c = good(vm, new_efd());
	c.bars = a.bars;
	EXPECT_ERR(0, ioctl_errno(ctl, AC97_CTL_ATTACH, &c), "the old ports are free again");
	bars.map = 0;
	EXPECT_ERR(0, ioctl_errno(h1, AC97_DEV_SET_BARS, &bars), "unmap (I/O decode off)");
	bars.map = AC97_MAP_NAM;
	bars.nam_base = 0xd000;
	EXPECT_ERR(EBUSY, ioctl_errno(h1, AC97_DEV_SET_BARS, &bars), "map NAM over the other device's NAM");
	bars.nam_base = 0xe000;
	EXPECT_ERR(0, ioctl_errno(h1, AC97_DEV_SET_BARS, &bars), "map NAM only");
	bars.map = 0x10;
	EXPECT_ERR(EINVAL, ioctl_errno(h1, AC97_DEV_SET_BARS, &bars), "SET_BARS with unknown map bit");
	EXPECT_ERR(ENOTTY, ioctl_errno(h1, _IO(0xa9, 0x7f), NULL), "unknown ioctl on a handle");
	close(h1);
	close(h2);
}

/* The handle's holder may hear its VM: a PCM reader straight from the handle. */
static void pcm_from_handle(int vm)
{
	struct ac97_attach a = good(vm, new_efd());
	struct ac97_pcm_format fmt;
	char byte;
	int h = ioctl(ctl, AC97_CTL_ATTACH, &a), pcm = -1, fl;

	check(h >= 0, "attach for AC97_DEV_OPEN_PCM");
	if (h < 0)
		return;
	EXPECT_ERR(EINVAL, ioctl_errno(h, AC97_DEV_OPEN_PCM, (void *)1), "AC97_DEV_OPEN_PCM with an argument");
	pcm = ioctl(h, AC97_DEV_OPEN_PCM, 0);
	fl = pcm >= 0 ? fcntl(pcm, F_GETFD) : -1;
	check(pcm >= 0 && (fl & FD_CLOEXEC), "AC97_DEV_OPEN_PCM gives a close-on-exec fd (%d)", pcm);
	if (pcm >= 0) {
		fcntl(pcm, F_SETFL, O_NONBLOCK);
		check(read(pcm, &byte, 1) < 0 && errno == EAGAIN,
		      "its read waits for audio (EAGAIN when non-blocking)");
		check(!ioctl(pcm, AC97_PCM_GET_FORMAT, &fmt) && fmt.rate == 48000 && fmt.channels == 2,
		      "AC97_PCM_GET_FORMAT on it");
		check(write(pcm, &byte, 1) < 0, "it is read-only");
	}
	close(h);
	if (pcm >= 0) {
		fcntl(pcm, F_SETFL, 0);
		check(read(pcm, &byte, 1) == 0, "after the detach it reads end of file");
		close(pcm);
	}
}

/* The VMM's stop and cont, and its machine reset: arguments checked, repeats harmless. */
static void stop_and_reset(int vm)
{
	struct ac97_attach a = good(vm, new_efd());
	struct ac97_dev_info info;
	int h = ioctl(ctl, AC97_CTL_ATTACH, &a);

	check(h >= 0, "attach for AC97_DEV_SET_STOPPED and AC97_DEV_RESET");
	if (h < 0)
		return;
	EXPECT_ERR(EINVAL, ioctl_errno(h, AC97_DEV_SET_STOPPED, (void *)2), "AC97_DEV_SET_STOPPED 2");
	EXPECT_ERR(EINVAL, ioctl_errno(h, AC97_DEV_RESET, (void *)1), "AC97_DEV_RESET with an argument");
	check(!ioctl(h, AC97_DEV_SET_STOPPED, 1) && !ioctl(h, AC97_DEV_SET_STOPPED, 1) &&
	      !ioctl(h, AC97_DEV_SET_STOPPED, 0) && !ioctl(h, AC97_DEV_SET_STOPPED, 0),
	      "AC97_DEV_SET_STOPPED 1, 1, 0, 0: each accepted");
	check(!ioctl(h, AC97_DEV_SET_STOPPED, 1) && !ioctl(h, AC97_DEV_RESET, 0) &&
	      !ioctl(h, AC97_DEV_SET_STOPPED, 0) && !ioctl(h, AC97_DEV_GET_INFO, &info) &&
	      !info.irq_level, "AC97_DEV_RESET while stopped, then resumed: the line low");
	close(h);
}

/* Devices per VM are capped (module parameter max_per_vm, 4 by default). */
static void per_vm_cap(void)
{
	int vm = new_vm(), h[5], i, n;

	for (n = 0; n < 5; n++) {
		struct ac97_attach a = good(vm, new_efd());

		a.bars.nam_base = 0xa000 + n * 0x200;
		a.bars.nabm_base = 0xa100 + n * 0x200;
		h[n] = ioctl(ctl, AC97_CTL_ATTACH, &a);
		if (h[n] < 0)
			break;
	}
	check(n == 4 && errno == EMFILE, "a fifth device on one VM: EMFILE (got %d devices, %s)",
	      n, n < 5 ? err_name(errno) : "none refused");
	for (i = 0; i < n; i++)
		close(h[i]);
	close(vm);
}

/*
 * A VM that logs dirty pages to per-vCPU rings: the device's writes (capture)
 * could not be logged there, so attach refuses it.
 */
static void dirty_ring_refused(int efd)
{
	int vm = new_vm(), max = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING);
	struct kvm_enable_cap cap = { .cap = KVM_CAP_DIRTY_LOG_RING, .args[0] = 65536 };
	struct ac97_attach a = good(vm, efd);

	check(max >= 65536 && ioctl(vm, KVM_ENABLE_CAP, &cap) == 0,
	      "KVM gives a new VM a 64 KiB dirty ring (KVM_CAP_DIRTY_LOG_RING, at most %d bytes)", max);
	EXPECT_ERR(EOPNOTSUPP, ioctl_errno(ctl, AC97_CTL_ATTACH, &a),
		   "attach to a VM with a dirty ring (its pages written by the device could not be logged)");
	close(vm);
}

/* A VM belongs to the process that made it. */
static void foreign_vm(int vm, int efd)
{
	struct ac97_attach a = good(vm, efd);
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(ioctl_errno(ctl, AC97_CTL_ATTACH, &a));
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == EPERM,
	      "attach another process's VM: EPERM (got %s)",
	      err_name(WIFEXITED(status) ? WEXITSTATUS(status) : -1));
}

/* The handle keeps the VM: closing the VM fd first, then the handle, is clean. */
static void vm_closed_first(int efd)
{
	int vm = new_vm();
	struct ac97_attach a = good(vm, efd);
	int h = ioctl(ctl, AC97_CTL_ATTACH, &a);
	struct ac97_dev_info info;

	close(vm);
	check(h >= 0 && !ioctl(h, AC97_DEV_GET_INFO, &info),
	      "handle still works after the VM fd is closed");
	if (h >= 0)
		close(h);
}

/*
 * Attach and detach @n times, with new eventfds every cycle and a new VM
 * every 100: a reference the module failed to drop on a VM, a file or an
 * eventfd would keep it alive. VMs are counted by KVM's debugfs directories
 * (one per VM, removed when it is destroyed), files by file-nr.
 */
static void cycles(int n)
{
	int vms0 = count_entries("/sys/kernel/debug/kvm"), vms1, i, ok = 0;
	long files0 = open_files(), files1;
	int vm = -1;

	for (i = 0; i < n; i++) {
		int irq = eventfd(0, EFD_CLOEXEC), rs = eventfd(0, EFD_CLOEXEC), h;
		struct ac97_attach a;

		if (i % 100 == 0) {
			if (vm >= 0)
				close(vm);
			vm = new_vm();
		}
		a = good_with(vm, irq, rs);
		h = ioctl(ctl, AC97_CTL_ATTACH, &a);
		if (h >= 0) {
			ok++;
			close(h);
		}
		close(irq);
		close(rs);
	}
	close(vm);
	check(ok == n, "%d attach/detach cycles, new eventfds each, a new VM every 100 (%d succeeded)",
	      n, ok);
	usleep(200000);		/* files are freed after an RCU grace period */
	vms1 = count_entries("/sys/kernel/debug/kvm");
	files1 = open_files();
	check(vms0 >= 0 && vms1 == vms0,
	      "every VM of the cycles destroyed: KVM debugfs VM directories %d before, %d after",
	      vms0, vms1);
	check(files0 >= 0 && files1 >= 0 && files1 - files0 < n / 10 + 128,
	      "no file or eventfd kept: %ld open files before, %ld after (one per cycle would be +%d)",
	      files0, files1, n);
}

int main(int argc, char **argv)
{
	int n = 300, opt, vm, efd;

	while ((opt = getopt(argc, argv, "n:")) != -1)
		if (opt == 'n')
			n = atoi(optarg);
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ctl = open("/dev/ac97ctl", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0 || ctl < 0) {
		perror("open /dev/kvm or /dev/ac97ctl");
		return 2;
	}
	vm = new_vm();
	efd = new_efd();
	bad_fds(vm, efd);
	bad_bars(vm, efd);
	double_attach_and_move(vm, efd);
	foreign_vm(vm, efd);
	vm_closed_first(new_efd());
	pcm_from_handle(vm);
	stop_and_reset(vm);
	per_vm_cap();
	dirty_ring_refused(new_efd());
	cycles(n);
	close(vm);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
