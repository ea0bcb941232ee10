// SPDX-License-Identifier: GPL-2.0
/*
 * ac97-testvm: a minimal VMM that attaches ac97-emu to a KVM VM and runs
 * the freestanding test guest (guest.bin) against it, while a second thread
 * reads the device's PCM node and checks every byte against the pattern.
 *
 *   ac97-testvm [-s SECONDS] [-b BUF_SAMPLES] [-m] [-D MS] [-P MS] [-r] [-W PID,...]
 *               [-H N [-V N]] [-C] [-q] guest.bin
 *
 *   -m     move the BARs after attaching (as a guest reprogramming PCI
 *          config would); the guest checks the old ranges no longer decode
 *   -M N   with -V: move the BARs N times between two placements (decoding
 *          off every fifth time) while the racing vCPUs read both, inside
 *          the handlers; every read must give the device's value or all
 *          ones; then the guest plays at the first placement
 *   -D MS  detach the device MS milliseconds into playback, mid-DMA; the
 *          PCM reader must then see end of file after a clean prefix
 *   -P MS  a third into playback, stop the VM for MS milliseconds as QEMU's
 *          stop and cont do (the vCPU leaves KVM_RUN and parks, then
 *          AC97_DEV_SET_STOPPED 1; 0 before it runs again): the device must
 *          move no sample and raise no interrupt meanwhile, and the rest
 *          must play as usual
 *   -H N   hostile guest: N rounds of attacks on the device (see guest.c);
 *          passes if the guest finishes and then its register sweep passes
 *   -V N   with -H: N more vCPUs race run/stop/reset/LVI/BDBAR meanwhile
 *   -r     five more readers of the node, reading 1, 3, 7, 4095 and 65536
 *          bytes at a time: each must get the whole pattern too
 *   -U     also put the device handle into an io_uring's fixed files, with
 *          the ring mapped (kill this VMM mid-stream: the ring holds the
 *          handle, and only a module that does not keep the VMM's address
 *          space alive lets the device, and the reader, see the end)
 *   -C     capture instead of play: host writers feed the device's line and
 *          mic sources through its PCM node while the guest records 32
 *          buffers of PCM in and of mic in at once (-b samples each, the
 *          memslot logging dirty pages); every recorded sample must be the
 *          writers' pattern (after silence, if the writer started late),
 *          and every page the device wrote must be in KVM's dirty log
 *   -W PIDS  before the guest runs, wait until each of these processes
 *          (comma-separated) has the PCM node open: a reader that opens
 *          late misses the start of the stream (readers begin at the
 *          writer's position), and the test would blame the device
 *
 * Exit status 0 only if the guest's register sweep passed, it played to the
 * end, and the PCM node delivered exactly the pattern, in order (with -D:
 * a non-empty, exact prefix of it, then end of file).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/ac97_emu.h>
#include "proc_util.h"
#include "testvm_proto.h"
#include "capture_check.h"

#define GUEST_RAM	(16u << 20)
#define AC97_GSI	5
#define NAM_BASE	0xc000
#define NABM_BASE	0xc100
#define NAM_MOVED	0xd000
#define NABM_MOVED	0xd140
#define EXIT_DETACHED	100

static const char *const result_names[TV_R_COUNT] = {
	[TV_R_SWEEP_CHECKS] = "sweep_checks",
	[TV_R_SWEEP_FAILS] = "sweep_fails",
	[TV_R_FIRST_FAIL_WHERE] = "first_fail_where",
	[TV_R_FIRST_FAIL_GOT] = "first_fail_got",
	[TV_R_FIRST_FAIL_WANT] = "first_fail_want",
	[TV_R_IRQS] = "guest_irqs",
	[TV_R_BUFFERS_DONE] = "buffers_done",
	[TV_R_SAMPLES_QUEUED] = "samples_queued",
	[TV_R_FIFO_ERRORS] = "fifo_errors",
	[TV_R_UNEXPECTED_IRQS] = "unexpected_irqs",
	[TV_R_FINAL_SR] = "final_sr",
	[TV_R_FINAL_CIV] = "final_civ",
	[TV_R_OLD_BARS_DEAD] = "old_bars_dead",
	[TV_R_HOSTILE_ROUNDS] = "hostile_rounds",
	[TV_R_RACE_OPS] = "race_ops",
	[TV_R_RACERS_PARKED] = "racers_parked",
	[TV_R_SPURIOUS_IRQS] = "spurious_irqs",
	[TV_R_COALESCED] = "coalesced_completions",
	[TV_R_EARLY_COMPLETIONS] = "early_completions",
	[TV_R_PI_BUFFERS] = "pi_buffers",
	[TV_R_MC_BUFFERS] = "mc_buffers",
	[TV_R_PI_FINAL_SR] = "pi_final_sr",
	[TV_R_MC_FINAL_SR] = "mc_final_sr",
};

/* -C: the guest's memory slot logs dirty pages, for the capture check. */
static int dirty_logging;

#define MAX_RACERS	7

struct vm {
	int kvm, fd, vcpu, handle;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *ram;
	uint32_t results[TV_R_COUNT];
	int have[TV_R_COUNT];
};

struct pcm_check {
	char path[64];
	size_t read_size;	/* bytes per read(); odd sizes split samples */
	uint64_t samples;	/* verified */
	uint64_t mismatches;
	uint64_t first_bad;
	/*
	 * A stream that ends mid-frame (a detach after an odd number of
	 * samples) gets its last frame finished with silence: a silent right
	 * sample at the very end is that pad, not a mismatch.
	 */
	int pad_pending, pad;
	int error;
	/* Least-squares fit of bytes read against time: the stream's rate. */
	double t_first, st, sb, stt, stb;
	uint64_t bytes, points;
};

static int quiet;
static volatile sig_atomic_t detached;

/*
 * -P: the VMM stops the VM mid-playback, as QEMU's stop and cont do: the
 * vCPU leaves KVM_RUN and parks, then the device is told; it is told
 * again before the vCPU runs. What the device does meanwhile is measured.
 */
struct stopper {
	struct vm *vm;
	pthread_t vcpu_thread;
	unsigned int after_ms, for_ms;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int requested, parked, done;	/* parked: 1 in vcpu_park(), -1 the guest is done */
	struct ac97_dev_info before, after;
};

static struct stopper *stopping;
static unsigned long strays;

/* Does process @pid have @node, or the /dev/ac97pcm alias, open? */
static int has_node_open(long pid, const char *node)
{
	char dir[64], link[64 + 256], target[256];
	struct dirent *d;
	int found = 0;
	DIR *fds;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	fds = opendir(dir);
	if (!fds)
		return -1;
	while (!found && (d = readdir(fds))) {
		ssize_t n;

		snprintf(link, sizeof(link), "%s/%s", dir, d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		found = !strcmp(target, node) || !strcmp(target, "/dev/ac97pcm");
	}
	closedir(fds);
	return found;
}

/* -W: wait up to 10 s for each reader; 0 if all have the node open. */
static int wait_for_readers(const char *pids, const char *node)
{
	const char *p = pids;

	while (*p) {
		char *end;
		long pid = strtol(p, &end, 10);
		int i, open_now = 0;

		if (end == p || pid <= 0)
			return -1;
		for (i = 0; i < 1000 && !(open_now = has_node_open(pid, node)); i++)
			usleep(10000);
		if (open_now != 1) {
			fprintf(stderr, "ac97-testvm: process %ld %s %s\n", pid,
				open_now < 0 ? "is gone, it never opened" : "did not open", node);
			return -1;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

/* -U: the handle in an io_uring's fixed files, the ring mapped; never closed. */
static void handle_into_uring(int handle)
{
	struct io_uring_params p = { 0 };
	int ring = syscall(__NR_io_uring_setup, 4, &p);

	if (ring < 0 ||
	    mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(__u32), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING) == MAP_FAILED ||
	    syscall(__NR_io_uring_register, ring, IORING_REGISTER_FILES, &handle, 1) < 0) {
		perror("ac97-testvm: io_uring");
		exit(2);
	}
}

static void die(const char *what)
{
	fprintf(stderr, "ac97-testvm: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time so far of device @index's DMA thread ("ac97-dma/N"), in ns; 0 if not found. */
static unsigned long long dma_thread_cpu_ns(unsigned int index)
{
	unsigned long long ns = 0;
	long pid = dma_thread_pid(index);
	char path[64];
	FILE *f;

	if (!pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/schedstat", pid);
	f = fopen(path, "r");
	if (f && fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	if (f)
		fclose(f);
	return ns;
}

static void *pcm_reader(void *arg)
{
	struct pcm_check *pc = arg;
	uint8_t *buf = malloc(65536);
	uint8_t carry = 0;
	int fd = open(pc->path, O_RDONLY), have_carry = 0;
	ssize_t n, i;

	if (fd < 0 || !buf) {
		pc->error = fd < 0 ? errno : ENOMEM;
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf, pc->read_size ? pc->read_size : 65536)) > 0) {
		double t = now_s();

		if (!pc->points++)
			pc->t_first = t;
		t -= pc->t_first;
		pc->bytes += n;
		pc->st += t;
		pc->sb += pc->bytes;
		pc->stt += t * t;
		pc->stb += t * pc->bytes;
		for (i = 0; i < n; i++) {
			uint16_t s, want;

			if (!have_carry) {
				carry = buf[i];
				have_carry = 1;
				continue;
			}
			have_carry = 0;
			s = carry | buf[i] << 8;
			want = tv_pattern(pc->samples);
			if (pc->pad_pending && !pc->mismatches++)	/* it was not the end */
				pc->first_bad = pc->samples - 1;
			pc->pad_pending = s != want && s == 0 && (pc->samples & 1);
			if (s != want && !pc->pad_pending && !pc->mismatches++)
				pc->first_bad = pc->samples;
			pc->samples++;
		}
	}
	if (n < 0)
		pc->error = errno;
	if (pc->pad_pending) {		/* the end: it was the pad */
		pc->pad = 1;
		pc->samples--;
	}
	close(fd);
	free(buf);
	return NULL;
}

static void vcpu_start(int fd, uint32_t id);

static void setup_vm(struct vm *vm, const char *guest_path)
{
	struct kvm_userspace_memory_region mem = { 0 };
	ssize_t n;
	int gfd;

	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		die("/dev/kvm");
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM");
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000) < 0)
		die("KVM_SET_TSS_ADDR");
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");
	vm->ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED)
		die("mmap guest RAM");
	mem.memory_size = GUEST_RAM;
	mem.userspace_addr = (uintptr_t)vm->ram;
	if (dirty_logging)
		mem.flags = KVM_MEM_LOG_DIRTY_PAGES;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &mem) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	gfd = open(guest_path, O_RDONLY);
	if (gfd < 0)
		die(guest_path);
	n = read(gfd, vm->ram + TV_GUEST_GPA, 1 << 20);
	if (n <= 0)
		die("read guest");
	close(gfd);

	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		die("KVM_CREATE_VCPU");
	vm->run_size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		die("mmap kvm_run");
	vcpu_start(vm->vcpu, 0);
}

/* Start vCPU @fd in flat 32-bit protected mode at the guest's entry, %ebx = @id. */
static void vcpu_start(int fd, uint32_t id)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_mp_state runnable = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_segment seg = {
		.base = 0, .limit = 0xffffffff, .selector = 0x08, .present = 1,
		.type = 0xb, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};

	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs = seg;
	seg.type = 0x3;
	seg.selector = 0x10;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	sregs.cr0 |= 1;		/* protected mode, no paging */
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	regs.rip = TV_GUEST_GPA;
	regs.rflags = 2;
	regs.rbx = id;
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
	/* With the in-kernel LAPIC, other vCPUs would wait for a SIPI. */
	if (id && ioctl(fd, KVM_SET_MP_STATE, &runnable) < 0)
		die("KVM_SET_MP_STATE");
}

struct racer {
	int fd;
	struct kvm_run *run;
	unsigned long exits;
	int rc;
};

static struct racer *watched_racers;
static int watched_nr_racers;

/* A racing vCPU's thread: run until the guest says it is done. */
static void *racer_thread(void *arg)
{
	struct racer *r = arg;

	for (;;) {
		if (ioctl(r->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			r->rc = -errno;
			return NULL;
		}
		r->exits++;
		if (r->run->exit_reason != KVM_EXIT_IO) {
			r->rc = r->run->exit_reason;
			return NULL;
		}
		if (r->run->io.port == TV_PORT_EXIT) {
			/* 0, or 0x100 + the vector of an exception the racer took */
			memcpy(&r->rc, (uint8_t *)r->run + r->run->io.data_offset, 4);
			return NULL;
		}
		if (r->run->io.direction != KVM_EXIT_IO_OUT)
			memset((uint8_t *)r->run + r->run->io.data_offset, 0xff,
			       r->run->io.size * r->run->io.count);
	}
}

static void start_racers(struct vm *vm, struct racer *racers, pthread_t *thr, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		racers[i].fd = ioctl(vm->fd, KVM_CREATE_VCPU, i + 1);
		if (racers[i].fd < 0)
			die("KVM_CREATE_VCPU (racer)");
		racers[i].run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
				     MAP_SHARED, racers[i].fd, 0);
		if (racers[i].run == MAP_FAILED)
			die("mmap kvm_run (racer)");
		vcpu_start(racers[i].fd, i + 1);
		if (pthread_create(&thr[i], NULL, racer_thread, &racers[i]))
			die("pthread_create");
	}
}

static void attach(struct vm *vm)
{
	struct ac97_attach req = { 0 };
	struct kvm_irqfd irqfd = { 0 };
	int ctl, irq = eventfd(0, EFD_CLOEXEC), resample = eventfd(0, EFD_CLOEXEC);

	if (irq < 0 || resample < 0)
		die("eventfd");
	irqfd.fd = irq;
	irqfd.gsi = AC97_GSI;
	irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
	irqfd.resamplefd = resample;
	if (ioctl(vm->fd, KVM_IRQFD, &irqfd) < 0)
		die("KVM_IRQFD");
	ctl = open("/dev/ac97ctl", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die("/dev/ac97ctl (is ac97_emu loaded?)");
	req.vm_fd = vm->fd;
	req.irq_fd = irq;
	req.resample_fd = resample;
	req.bars.nam_base = NAM_BASE;
	req.bars.nabm_base = NABM_BASE;
	req.bars.map = AC97_MAP_NAM | AC97_MAP_NABM;
	vm->handle = ioctl(ctl, AC97_CTL_ATTACH, &req);
	if (vm->handle < 0)
		die("AC97_CTL_ATTACH");
	close(ctl);
	/* The irqfd keeps its own references; ours are not needed. */
	close(irq);
	close(resample);
}

/* Run the vCPU until the guest reports its exit code. */
/* KVM's dirty bitmap of the guest's one slot; reading it clears it. */
static void dirty_log(struct vm *vm, unsigned long *bitmap)
{
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };

	if (ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log) < 0)
		die("KVM_GET_DIRTY_LOG");
}

#define DIRTY_WORDS	(GUEST_RAM / 4096 / (8 * sizeof(unsigned long)))

/* -C: the writers, started before the guest records; 0 once both are open. */
static int capture_start(struct cap_writer *w, const char *node)
{
	int i, tries;

	for (i = 0; i < 2; i++) {
		snprintf(w[i].path, sizeof(w[i].path), "%s", node);
		w[i].source = i ? AC97_PCM_SOURCE_MIC : AC97_PCM_SOURCE_LINE;
		/* Neither stream starts with a 0, which would read as silence. */
		w[i].xor = i ? 0x5a5a : 0x0f0f;
		if (cap_writer_start(&w[i]))
			return -1;
	}
	for (tries = 0; tries < 500; tries++) {
		if ((w[0].rate || w[0].error) && (w[1].rate || w[1].error))
			return w[0].error || w[1].error ? -1 : 0;
		usleep(10000);
	}
	return -1;
}

/* -C: after the device is gone (the writers then end), judge the recording. */
static int capture_finish(struct vm *vm, struct cap_writer *w,
			  const struct ac97_dev_info *info, uint32_t buf_samples, int rc)
{
	static unsigned long bitmap[DIRTY_WORDS];
	struct cap_verdict v[2];
	const char *name[2] = { "pi", "mc" };
	uint32_t n[2] = { 32 * buf_samples, 32 * (buf_samples / 2) };
	uint64_t gpa[2] = { TV_PI_CAP_GPA, TV_MC_CAP_GPA };
	int i, ok = rc == 0 && vm->results[TV_R_SWEEP_FAILS] == 0 &&
		    vm->results[TV_R_SWEEP_CHECKS] > 0;

	dirty_log(vm, bitmap);
	for (i = 0; i < 2; i++) {
		pthread_join(w[i].thread, NULL);
		cap_check(&w[i], (const uint16_t *)(vm->ram + gpa[i]), n[i], gpa[i],
			  bitmap, &v[i]);
		printf("RESULT %s_writer=rate %u channels %u wrote %llu samples, ended by %s\n",
		       name[i], w[i].rate, w[i].channels,
		       (unsigned long long)w[i].written, strerror(w[i].error));
		printf("RESULT %s_recorded=%u samples: %u silence then %u of the pattern, %u mismatches (first at %u)\n",
		       name[i], n[i], v[i].lead_silence, v[i].matched,
		       v[i].mismatches, v[i].first_bad);
		printf("RESULT %s_dirty_pages=%u/%u\n", name[i], v[i].dirty, v[i].pages);
		/* The writer opened first: at most a buffer's worth of silence. */
		ok &= w[i].error == ENODEV && w[i].rate == 48000 &&
		      w[i].channels == (i ? 1u : 2u) && !v[i].mismatches &&
		      v[i].lead_silence < n[i] / 32 && v[i].matched + v[i].lead_silence == n[i] &&
		      v[i].dirty == v[i].pages && v[i].pages > 0;
	}
	printf("RESULT dev_capture_samples=%llu\n", (unsigned long long)info->capture_samples);
	printf("RESULT dev_underruns=%llu\n", (unsigned long long)info->underruns);
	ok &= vm->results[TV_R_PI_BUFFERS] == 32 && vm->results[TV_R_MC_BUFFERS] == 32 &&
	      vm->results[TV_R_FIFO_ERRORS] == 0 && info->dma_errors == 0 &&
	      vm->results[TV_R_SPURIOUS_IRQS] == 0 &&
	      vm->results[TV_R_UNEXPECTED_IRQS] == 0 &&
	      info->capture_samples == (uint64_t)n[0] + n[1];
	printf("RESULT verdict=%s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}

/* The vCPU, out of KVM_RUN: wait while the VM is stopped. */
static void vcpu_park(struct stopper *st)
{
	pthread_mutex_lock(&st->lock);
	if (st->requested) {
		st->parked = 1;
		pthread_cond_broadcast(&st->cond);
		while (st->requested)
			pthread_cond_wait(&st->cond, &st->lock);
		st->parked = 0;
	}
	pthread_mutex_unlock(&st->lock);
}

static void dev_info_or_die(struct vm *vm, struct ac97_dev_info *info)
{
	if (ioctl(vm->handle, AC97_DEV_GET_INFO, info) < 0)
		die("AC97_DEV_GET_INFO");
}

/* Stop the vCPU, then the device; wait; the device, then the vCPU. */
static void *stop_later(void *arg)
{
	struct stopper *st = arg;

	usleep(st->after_ms * 1000);
	pthread_mutex_lock(&st->lock);
	st->requested = 1;
	st->vm->run->immediate_exit = 1;	/* even if the signal lands outside KVM_RUN */
	pthread_kill(st->vcpu_thread, SIGUSR1);
	while (!st->parked)
		pthread_cond_wait(&st->cond, &st->lock);
	pthread_mutex_unlock(&st->lock);
	if (st->parked < 0)
		return NULL;	/* the guest was done first: no stop (the verdict fails) */
	if (ioctl(st->vm->handle, AC97_DEV_SET_STOPPED, 1) < 0)
		die("AC97_DEV_SET_STOPPED 1");
	dev_info_or_die(st->vm, &st->before);
	usleep(st->for_ms * 1000);
	dev_info_or_die(st->vm, &st->after);
	if (ioctl(st->vm->handle, AC97_DEV_SET_STOPPED, 0) < 0)
		die("AC97_DEV_SET_STOPPED 0");
	pthread_mutex_lock(&st->lock);
	st->vm->run->immediate_exit = 0;
	st->requested = 0;
	st->done = 1;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

static int run_guest(struct vm *vm)
{
	uint32_t key = 0;

	for (;;) {
		struct kvm_run *r = vm->run;
		uint32_t v = 0;

		if (detached)
			return EXIT_DETACHED;
		if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR && detached)
				return EXIT_DETACHED;
			if (errno == EINTR && stopping)
				vcpu_park(stopping);
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		switch (r->exit_reason) {
		case KVM_EXIT_IO:
			if (r->io.direction != KVM_EXIT_IO_OUT) {
				/* Nothing here: an unclaimed port reads all ones. */
				memset((uint8_t *)r + r->io.data_offset, 0xff,
				       r->io.size * r->io.count);
				strays++;
				break;
			}
			memcpy(&v, (uint8_t *)r + r->io.data_offset, r->io.size);
			if (r->io.port == TV_PORT_CONSOLE) {
				if (!quiet)
					putchar(v);
			} else if (r->io.port == TV_PORT_KEY) {
				key = v;
			} else if (r->io.port == TV_PORT_VALUE && key < TV_R_COUNT) {
				vm->results[key] = v;
				vm->have[key] = 1;
			} else if (r->io.port == TV_PORT_EXIT) {
				return v;
			} else if (!strays++ && !detached) {
				fprintf(stderr, "guest: first stray port: %s %#x\n",
					r->io.direction ? "out" : "in", r->io.port);
			}
			break;
		case KVM_EXIT_HLT:
			fprintf(stderr, "guest halted with interrupts off\n");
			return 4;
		default:
			fprintf(stderr, "unexpected exit %u\n", r->exit_reason);
			return 5;
		}
	}
}

struct detacher {
	struct vm *vm;
	pthread_t vcpu_thread;
	unsigned int ms;
};

/* -M: the VMM moves the BARs under the racing vCPUs. */
struct mover {
	struct vm *vm;
	volatile struct tv_params *p;
	unsigned int moves, done;
};

static void *mover(void *arg)
{
	struct mover *m = arg;
	unsigned int i;

	while (!m->p->race_go)
		usleep(1000);
	for (i = 0; i < m->moves; i++) {
		int last = i + 1 == m->moves, second = (i & 1) && !last;
		struct ac97_bars bars = {
			.nam_base = second ? NAM_MOVED : NAM_BASE,
			.nabm_base = second ? NABM_MOVED : NABM_BASE,
			.map = (i % 5 == 4 && !last) ? 0 : AC97_MAP_NAM | AC97_MAP_NABM,
		};

		if (ioctl(m->vm->handle, AC97_DEV_SET_BARS, &bars) == 0)
			m->done++;
	}
	m->p->race_stop = 1;	/* vCPU 0 then plays at the first placement */
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* Close the device handle in the middle of playback, then stop the vCPU. */
static void *detach_later(void *arg)
{
	struct detacher *d = arg;

	usleep(d->ms * 1000);
	close(d->vm->handle);
	detached = 1;
	/* KVM_RUN returns at once from now on, even if the signal lands outside it. */
	d->vm->run->immediate_exit = 1;
	pthread_kill(d->vcpu_thread, SIGUSR1);
	return NULL;
}

/* AC97_TESTVM_TIME_SCALE: 1 to 100, how much longer than usual to wait. */
static unsigned int time_scale(void)
{
	const char *env = getenv("AC97_TESTVM_TIME_SCALE");
	char *end;
	unsigned long scale;

	if (!env || !*env)
		return 1;
	scale = strtoul(env, &end, 10);
	if (*end || scale < 1 || scale > 100) {
		fprintf(stderr, "ac97-testvm: AC97_TESTVM_TIME_SCALE=%s: want 1 to 100\n", env);
		exit(2);
	}
	return scale;
}

static struct vm *watched;
static double watched_t0;
static struct pcm_check *watched_pcm;

/* On timeout, say where things stood, then give up. */
static void on_alarm(int sig)
{
	struct ac97_dev_info info = { 0 };
	int i;

	(void)sig;
	fprintf(stderr, "ac97-testvm: timed out\n");
	if (watched && !ioctl(watched->handle, AC97_DEV_GET_INFO, &info))
		fprintf(stderr, "device: samples=%llu irq_level=%u dma_errors=%llu irq_raises=%llu lowered_before_eoi=%llu\n",
			(unsigned long long)info.samples, info.irq_level,
			(unsigned long long)info.dma_errors,
			(unsigned long long)info.irq_raises,
			(unsigned long long)info.irq_lowered_before_eoi);
	/*
	 * A line high that the guest never took: is it asserted in KVM's 8259
	 * (IRR, the module signalled it) and is it delivered (ISR), masked?
	 */
	if (watched) {
		struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_PIC_MASTER };

		if (!ioctl(watched->fd, KVM_GET_IRQCHIP, &chip))
			fprintf(stderr, "master 8259: irr=%#x isr=%#x imr=%#x elcr=%#x last_irr=%#x\n",
				chip.chip.pic.irr, chip.chip.pic.isr, chip.chip.pic.imr,
				chip.chip.pic.elcr, chip.chip.pic.last_irr);
	}
	if (watched_pcm)
		fprintf(stderr, "reader: samples=%llu mismatches=%llu\n",
			(unsigned long long)watched_pcm->samples,
			(unsigned long long)watched_pcm->mismatches);
	if (watched) {
		struct tv_params *p = (struct tv_params *)(watched->ram + TV_PARAMS_GPA);

		fprintf(stderr, "guest play: irqs=%u queued=%u of %u done=%u last_sr=%#x "
			"sr_after=%#x finished=%u, %.1f s after start\n",
			p->play_irqs, p->play_queued, p->total_samples, p->play_done,
			p->play_sr, p->play_sr_after, p->play_finished,
			watched_t0 ? now_s() - watched_t0 : 0.0);
	}
	for (i = 1; watched && i < TV_R_COUNT; i++)
		if (watched->have[i])
			fprintf(stderr, "so far: %s=%u\n", result_names[i], watched->results[i]);
	for (i = 0; i < watched_nr_racers; i++) {
		struct racer *r = &watched_racers[i];
		struct tv_params *p = (struct tv_params *)(watched->ram + TV_PARAMS_GPA);

		/* Not a vCPU ioctl: a racer blocked in KVM_RUN holds its vCPU. */
		fprintf(stderr, "racer %d: stage=%u ops=%u userspace_exits=%lu rc=%d\n", i + 1,
			p->racer_stage[i + 1], p->racer_ops[i + 1], r->exits, r->rc);
	}
	_exit(6);
}

int main(int argc, char **argv)
{
	struct tv_params *p;
	struct ac97_dev_info info;
	struct pcm_check pc = { 0 };
	struct vm vm = { 0 };
	double seconds = 3, t0, t1;
	uint32_t buf_samples = 2048;
	static const size_t odd_sizes[] = { 1, 3, 7, 4095, 65536 };
	struct pcm_check extra[5] = { 0 };
	pthread_t extra_thr[5];
	int readers = 0;
	struct detacher det = { 0 };
	struct stopper stop = { .lock = PTHREAD_MUTEX_INITIALIZER,
				.cond = PTHREAD_COND_INITIALIZER };
	pthread_t reader, detach_thread, stop_thread;
	int opt, rc, i, ok, move = 0, hostile_rounds = 0, nr_racers = 0;
	struct racer racers[MAX_RACERS] = { 0 };
	pthread_t racer_thr[MAX_RACERS];
	const char *wait_pids = NULL;
	struct mover mv = { 0 };
	pthread_t mover_thread;
	int racers_ok = 1, uring = 0, capture = 0;
	struct cap_writer writers[2] = { 0 };
	static unsigned long discard[DIRTY_WORDS];

	while ((opt = getopt(argc, argv, "s:b:qmM:D:rUW:H:V:CP:")) != -1) {
		switch (opt) {
		case 's': seconds = atof(optarg); break;
		case 'b': buf_samples = atoi(optarg); break;
		case 'q': quiet = 1; break;
		case 'm': move = 1; break;
		case 'M': mv.moves = atoi(optarg); break;
		case 'D': det.ms = atoi(optarg); break;
		case 'r': readers = 5; break;
		case 'W': wait_pids = optarg; break;
		case 'U': uring = 1; break;
		case 'H': hostile_rounds = atoi(optarg); break;
		case 'V': nr_racers = atoi(optarg); break;
		case 'C': capture = 1; break;
		case 'P': stop.for_ms = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-s SECONDS] [-b BUF_SAMPLES] [-m] [-M MOVES -V RACERS] [-D MS] [-r] [-U] [-W PID,...] [-H ROUNDS [-V RACERS]] [-C] [-P MS] [-q] guest.bin\n", argv[0]);
			return 2;
		}
	}
	if (optind >= argc || !buf_samples || buf_samples > 0xfffe ||
	    nr_racers < 0 || nr_racers > MAX_RACERS ||
	    (nr_racers && !hostile_rounds && !mv.moves) || (mv.moves && (!nr_racers || move)) ||
	    (stop.for_ms && (hostile_rounds || capture || det.ms || mv.moves || stop.for_ms > 10000))) {
		fprintf(stderr, "usage: %s [-s SECONDS] [-b BUF_SAMPLES] [-m] [-M MOVES -V RACERS] [-D MS] [-r] [-U] [-W PID,...] [-H ROUNDS [-V RACERS]] [-C] [-P MS] [-q] guest.bin\n", argv[0]);
		return 2;
	}
	signal(SIGALRM, on_alarm);
	/*
	 * A hang detector, not a speed check: a hostile round takes well under
	 * 1 s, a move well under 0.5 s. Kernels that are slow by design (lockdep
	 * and KASAN on PREEMPT_RT, under TCG) stretch it by an integer factor.
	 */
	alarm((30 + 20 * seconds + stop.for_ms / 1000 + hostile_rounds + mv.moves / 2) *
	      time_scale());

	dirty_logging = capture;
	setup_vm(&vm, argv[optind]);
	p = (struct tv_params *)(vm.ram + TV_PARAMS_GPA);
	p->magic = TV_PARAMS_MAGIC;
	p->mode = TV_MODE_PLAY;
	p->nam_base = NAM_BASE;
	p->nabm_base = NABM_BASE;
	p->irq = AC97_GSI;
	p->total_samples = (uint32_t)(seconds * 48000) * 2;
	if (hostile_rounds) {
		p->mode = TV_MODE_HOSTILE;
		p->total_samples = hostile_rounds;
		p->racers = nr_racers;
	} else if (capture) {
		p->mode = TV_MODE_CAPTURE;
		p->total_samples = 32 * buf_samples;
	} else if (mv.moves) {
		p->racers = nr_racers;
		p->alt_nam_base = NAM_MOVED;
		p->alt_nabm_base = NABM_MOVED;
	}
	p->buf_samples = buf_samples;

	attach(&vm);
	if (uring)
		handle_into_uring(vm.handle);
	if (move) {
		struct ac97_bars bars = {
			.nam_base = NAM_MOVED, .nabm_base = NABM_MOVED,
			.map = AC97_MAP_NAM | AC97_MAP_NABM,
		};

		if (ioctl(vm.handle, AC97_DEV_SET_BARS, &bars) < 0)
			die("AC97_DEV_SET_BARS");
		p->old_nam_base = NAM_BASE;
		p->old_nabm_base = NABM_BASE;
		p->nam_base = NAM_MOVED;
		p->nabm_base = NABM_MOVED;
	}
	watched = &vm;
	watched_pcm = &pc;
	if (ioctl(vm.handle, AC97_DEV_GET_INFO, &info) < 0)
		die("AC97_DEV_GET_INFO");
	snprintf(pc.path, sizeof(pc.path), "/dev/ac97pcm%u", info.index);
	/* The node must be open before the guest plays its first sample. */
	if (pthread_create(&reader, NULL, pcm_reader, &pc))
		die("pthread_create");
	for (i = 0; i < 200 && access(pc.path, R_OK); i++)
		usleep(10000);
	/* More readers of the same node, each with its own odd read size. */
	for (i = 0; i < readers; i++) {
		extra[i] = pc;
		extra[i].read_size = odd_sizes[i];
		if (pthread_create(&extra_thr[i], NULL, pcm_reader, &extra[i]))
			die("pthread_create");
	}
	usleep(100000);
	if (wait_pids && wait_for_readers(wait_pids, pc.path))
		return 1;

	if (det.ms) {
		struct sigaction sa = { .sa_handler = on_usr1 };

		sigaction(SIGUSR1, &sa, NULL);
		det.vm = &vm;
		det.vcpu_thread = pthread_self();
		if (pthread_create(&detach_thread, NULL, detach_later, &det))
			die("pthread_create");
	}
	if (capture) {
		if (capture_start(writers, pc.path)) {
			fprintf(stderr, "ac97-testvm: capture writers: %s, %s\n",
				strerror(writers[0].error), strerror(writers[1].error));
			return 1;
		}
		dirty_log(&vm, discard);	/* from here on: the device's writes only */
	}
	if (stop.for_ms) {
		struct sigaction sa = { .sa_handler = on_usr1 };

		sigaction(SIGUSR1, &sa, NULL);
		stop.vm = &vm;
		stop.vcpu_thread = pthread_self();
		stop.after_ms = seconds * 1000 / 3;
		stopping = &stop;
		if (pthread_create(&stop_thread, NULL, stop_later, &stop))
			die("pthread_create");
	}
	t0 = now_s();
	watched_t0 = t0;
	watched_racers = racers;
	watched_nr_racers = nr_racers;
	start_racers(&vm, racers, racer_thr, nr_racers);
	if (mv.moves) {
		mv.vm = &vm;
		mv.p = p;
		if (pthread_create(&mover_thread, NULL, mover, &mv))
			die("pthread_create");
	}
	rc = run_guest(&vm);
	t1 = now_s();
	if (stop.for_ms) {
		pthread_mutex_lock(&stop.lock);
		if (!stop.done)
			stop.parked = -1;
		pthread_cond_broadcast(&stop.cond);
		pthread_mutex_unlock(&stop.lock);
		pthread_join(stop_thread, NULL);
	}
	if (mv.moves)
		pthread_join(mover_thread, NULL);
	for (i = 0; i < nr_racers; i++) {
		pthread_join(racer_thr[i], NULL);
		if (racers[i].rc) {
			struct kvm_regs regs = { 0 };

			ioctl(racers[i].fd, KVM_GET_REGS, &regs);	/* its thread is done */
			fprintf(stderr, "racer %d: exit %#x%s, stage %u, %u ops, rip %#llx\n",
				i + 1, racers[i].rc,
				racers[i].rc == KVM_EXIT_SHUTDOWN ? " (shutdown: triple fault)" :
				racers[i].rc > 0x100 ? " (0x100 + exception vector)" : "",
				p->racer_stage[i + 1], p->racer_ops[i + 1],
				(unsigned long long)regs.rip);
		}
	}
	if (det.ms) {
		pthread_join(detach_thread, NULL);
		memset(&info, 0, sizeof(info));
	} else {
		if (ioctl(vm.handle, AC97_DEV_GET_INFO, &info) < 0)
			die("AC97_DEV_GET_INFO");
		printf("RESULT dma_thread_cpu_ns=%llu\n", dma_thread_cpu_ns(info.index));
		/* Detach: the reader drains the ring, then sees end of file. */
		close(vm.handle);
	}
	munmap(vm.run, vm.run_size);
	pthread_join(reader, NULL);
	for (i = 0; i < readers; i++) {
		pthread_join(extra_thr[i], NULL);
		printf("RESULT reader_%zu_bytes_verified=%llu mismatches=%llu error=%d\n",
		       odd_sizes[i], (unsigned long long)extra[i].samples * 2,
		       (unsigned long long)extra[i].mismatches, extra[i].error);
	}

	printf("RESULT guest_exit=%d\n", rc);
	for (i = 1; i < TV_R_COUNT; i++)
		if (vm.have[i])
			printf("RESULT %s=%u\n", result_names[i], vm.results[i]);
	printf("RESULT play_seconds=%.3f\n", t1 - t0);
	printf("RESULT pcm_node=%s\n", pc.path);
	printf("RESULT pcm_samples_expected=%u\n", p->total_samples);
	printf("RESULT pcm_samples_verified=%llu\n", (unsigned long long)pc.samples);
	printf("RESULT pcm_bytes_verified=%llu\n", (unsigned long long)pc.samples * 2);
	printf("RESULT pcm_mismatches=%llu\n", (unsigned long long)pc.mismatches);
	if (pc.mismatches)
		printf("RESULT pcm_first_bad_sample=%llu\n", (unsigned long long)pc.first_bad);
	printf("RESULT pcm_read_error=%d\n", pc.error);
	printf("RESULT pcm_end_pad_samples=%d\n", pc.pad);
	if (pc.points > 2 && pc.points * pc.stt > pc.st * pc.st)
		printf("RESULT pcm_rate_hz=%.2f\n",
		       (pc.points * pc.stb - pc.st * pc.sb) /
		       (pc.points * pc.stt - pc.st * pc.st) / 4.0);
	printf("RESULT dev_dma_errors=%llu\n", (unsigned long long)info.dma_errors);
	printf("RESULT dev_clock_slips=%llu\n", (unsigned long long)info.clock_slips);
	printf("RESULT dev_samples=%llu\n", (unsigned long long)info.samples);
	printf("RESULT dev_irq_raises=%llu\n", (unsigned long long)info.irq_raises);
	printf("RESULT dev_engine_wakeups=%llu\n", (unsigned long long)info.engine_wakeups);
	printf("RESULT dev_catch_ups=%llu\n", (unsigned long long)info.catch_ups);
	printf("RESULT dev_irq_lowered_before_eoi=%llu\n", (unsigned long long)info.irq_lowered_before_eoi);
	printf("RESULT stray_port_exits=%lu\n", strays);
	if (mv.moves)
		printf("RESULT bar_moves=%u/%u reads_first=%u reads_second=%u reads_all_ones=%u reads_bad=%u\n",
		       mv.done, mv.moves, p->bar_reads[TV_BAR_READ_DEV_A],
		       p->bar_reads[TV_BAR_READ_DEV_B], p->bar_reads[TV_BAR_READ_NONE],
		       p->bar_reads[TV_BAR_READ_BAD]);
	if (mv.moves && p->bar_reads[TV_BAR_READ_BAD])
		printf("RESULT bar_first_bad_read=port %#x width %u value %#x\n",
		       p->bad_read[0] & 0xffff, p->bad_read[0] >> 16, p->bad_read[1]);
	if (capture)
		return capture_finish(&vm, writers, &info, buf_samples, rc);
	if (hostile_rounds) {
		for (i = 0; i < nr_racers; i++)
			rc |= racers[i].rc;
		/* An attack that did not attack proves nothing: DMA errors, and
		 * every racer in the race for real. */
		int raced = 1;

		for (i = 0; i < nr_racers; i++) {
			printf("RESULT racer_%d_ops=%u\n", i + 1, p->racer_ops[i + 1]);
			raced &= p->racer_ops[i + 1] >= 100;
		}
		ok = rc == 0 && vm.results[TV_R_HOSTILE_ROUNDS] == (uint32_t)hostile_rounds &&
		     vm.results[TV_R_RACERS_PARKED] == (uint32_t)nr_racers && raced &&
		     info.dma_errors > 0 &&
		     vm.results[TV_R_SWEEP_CHECKS] > 0 && vm.results[TV_R_SWEEP_FAILS] == 0;
		printf("RESULT verdict=%s\n", ok ? "PASS" : "FAIL");
		return ok ? 0 : 1;
	}
	if (det.ms) {
		/* Mid-DMA detach: an exact prefix, then EOF (we got here: no hang). */
		ok = rc == EXIT_DETACHED && !pc.error && pc.mismatches == 0 &&
		     pc.samples > 0 && pc.samples < p->total_samples &&
		     vm.results[TV_R_SWEEP_FAILS] == 0;
		printf("RESULT verdict=%s\n", ok ? "PASS" : "FAIL");
		return ok ? 0 : 1;
	}

	if (stop.for_ms) {
		printf("RESULT stop=%u ms after %u ms: moved %llu samples, %llu raises, %llu thread runs\n",
		       stop.for_ms, stop.after_ms,
		       (unsigned long long)(stop.after.samples - stop.before.samples),
		       (unsigned long long)(stop.after.irq_raises - stop.before.irq_raises),
		       (unsigned long long)(stop.after.engine_wakeups - stop.before.engine_wakeups));
		printf("RESULT stop_position=%llu of %u samples\n",
		       (unsigned long long)stop.before.samples, p->total_samples);
	}
	for (i = 0; i < nr_racers; i++)
		racers_ok &= racers[i].rc == 0;
	ok = rc == 0 && vm.results[TV_R_SWEEP_FAILS] == 0 &&
	     vm.results[TV_R_SWEEP_CHECKS] > 0 && !pc.error &&
	     pc.mismatches == 0 && pc.samples == p->total_samples &&
	     vm.results[TV_R_SAMPLES_QUEUED] == p->total_samples &&
	     /* every raise of the line reached the guest once, and nothing else */
	     vm.have[TV_R_SPURIOUS_IRQS] && vm.results[TV_R_SPURIOUS_IRQS] == 0 &&
	     vm.results[TV_R_IRQS] == info.irq_raises &&
	     vm.results[TV_R_BUFFERS_DONE] ==
		(p->total_samples + buf_samples - 1) / buf_samples &&
	     vm.results[TV_R_UNEXPECTED_IRQS] == 0 && info.dma_errors == 0 &&
	     (!move || vm.results[TV_R_OLD_BARS_DEAD] == 1) &&
	     (!readers || (extra[0].samples == pc.samples && !extra[0].mismatches &&
			   extra[1].samples == pc.samples && !extra[1].mismatches &&
			   extra[2].samples == pc.samples && !extra[2].mismatches &&
			   extra[3].samples == pc.samples && !extra[3].mismatches &&
			   extra[4].samples == pc.samples && !extra[4].mismatches)) &&
	     (move || strays == 0) &&
	     /* stopped mid-stream: nothing moved, no interrupt, then the rest */
	     (!stop.for_ms || (stop.done && stop.after.samples == stop.before.samples &&
			       stop.after.irq_raises == stop.before.irq_raises &&
			       stop.before.samples > 0 &&
			       stop.before.samples < p->total_samples &&
			       t1 - t0 >= seconds + stop.for_ms / 1000.0)) &&
	     (!mv.moves || (mv.done == mv.moves && racers_ok &&
			    vm.results[TV_R_RACERS_PARKED] == (uint32_t)nr_racers &&
			    p->bar_reads[TV_BAR_READ_BAD] == 0 &&
			    p->bar_reads[TV_BAR_READ_DEV_A] && p->bar_reads[TV_BAR_READ_DEV_B] &&
			    p->bar_reads[TV_BAR_READ_NONE]));
	printf("RESULT verdict=%s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
