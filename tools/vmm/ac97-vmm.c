// SPDX-License-Identifier: GPL-2.0
/*
 * ac97-vmm: a small VMM that boots a Linux bzImage with ac97-emu as its
 * sound card. It is the reference for VMM authors integrating ac97-emu: all
 * it needs to do for the device is in pci_ac97_*() and attach_ac97().
 *
 *   ac97-vmm -k bzImage [-i initrd] [-c "cmdline"] [-m MiB]
 *
 * The guest gets: an in-kernel irqchip (8259 PIC, IOAPIC, LAPIC) and PIT,
 * a 16550 UART at 0x3f8/IRQ4 on our stdout, PCI configuration mechanism #1
 * with a host bridge (00:00.0) and the AC'97 function (00:04.0, 8086:2415,
 * BAR0 = NAM 256 ports, BAR1 = NABM 64 ports, INTA# on IRQ 5). The guest's
 * BAR and command-register writes move, map and unmap the in-kernel ranges.
 * The VMM exits when the guest resets (`reboot -f`): with no ACPI there is
 * no other way for it to power off. Exit status: 0 after a guest reset.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/ac97_emu.h>

#define BOOT_PARAMS_GPA	0x7000
#define CMDLINE_GPA	0x20000
#define KERNEL_GPA	0x100000
#define AC97_IRQ	5
#define UART_IRQ	4
#define UART_BASE	0x3f8
#define PCI_ADDR_PORT	0xcf8
#define PCI_DATA_PORT	0xcfc
#define AC97_SLOT	4

struct vmm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *ram;
	uint64_t ram_size;
};

static void die(const char *what)
{
	fprintf(stderr, "ac97-vmm: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void irq_line(struct vmm *v, int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (ioctl(v->vm, KVM_IRQ_LINE, &l) < 0)
		die("KVM_IRQ_LINE");
}

/* --- 16550 UART: output only, with the THR-empty interrupt Linux waits for --- */

static struct {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	int thre_pending;
} uart;

static void uart_update_irq(struct vmm *v)
{
	if ((uart.ier & 0x02) && uart.thre_pending) {
		irq_line(v, UART_IRQ, 1);
		irq_line(v, UART_IRQ, 0);
	}
}

static void uart_out(struct vmm *v, unsigned int off, uint8_t val)
{
	int dlab = uart.lcr & 0x80;

	switch (off) {
	case 0:
		if (dlab) {
			uart.dll = val;
			break;
		}
		putchar(val);
		if (val == '\n')
			fflush(stdout);
		uart.thre_pending = 1;
		uart_update_irq(v);
		break;
	case 1:
		if (dlab) {
			uart.dlm = val;
			break;
		}
		if ((val & 0x02) && !(uart.ier & 0x02))
			uart.thre_pending = 1;
		uart.ier = val & 0x0f;
		uart_update_irq(v);
		break;
	case 3: uart.lcr = val; break;
	case 4: uart.mcr = val; break;
	case 7: uart.scr = val; break;
	}
}

static uint8_t uart_in(unsigned int off)
{
	int dlab = uart.lcr & 0x80;

	switch (off) {
	case 0: return dlab ? uart.dll : 0;
	case 1: return dlab ? uart.dlm : uart.ier;
	case 2:
		if ((uart.ier & 0x02) && uart.thre_pending) {
			uart.thre_pending = 0;
			return 0xc2;	/* FIFOs on, THR empty */
		}
		return 0xc1;		/* FIFOs on, nothing pending */
	case 3: return uart.lcr;
	case 4: return uart.mcr;
	case 5: return 0x60;		/* THR and transmitter empty */
	case 6: return (uart.mcr & 0x10) ? 0xf0 : 0xb0;	/* loopback or DCD|DSR|CTS */
	default: return uart.scr;
	}
}

/* --- PCI: mechanism #1, a host bridge and the AC'97 function --- */

struct pci_fn {
	uint32_t cfg[64];	/* 256 bytes of configuration space */
	uint32_t bar_size[6];	/* 0: no BAR */
};

static struct pci_fn host_bridge, ac97_fn;
static uint32_t pci_addr;
static int ac97_handle = -1;

static void pci_init(void)
{
	host_bridge.cfg[0] = 0x12378086;	/* i440FX */
	host_bridge.cfg[2] = 0x06000002;	/* host bridge, rev 2 */

	ac97_fn.cfg[0] = 0x24158086;		/* 82801AA AC'97 */
	ac97_fn.cfg[1] = 0x02800000 | 0x1;	/* status: fast b2b, medium DEVSEL; I/O on */
	ac97_fn.cfg[2] = 0x04010001;		/* multimedia audio, rev 1 */
	ac97_fn.cfg[4] = 0xc000 | 1;		/* BAR0: NAM, I/O */
	ac97_fn.cfg[5] = 0xc100 | 1;		/* BAR1: NABM, I/O */
	ac97_fn.bar_size[0] = 256;
	ac97_fn.bar_size[1] = 64;
	ac97_fn.cfg[11] = 0x00008086;		/* subsystem 8086:0000 */
	ac97_fn.cfg[15] = 0x00000100 | AC97_IRQ;	/* INTA#, line 5 */
}

static struct pci_fn *pci_lookup(uint32_t addr)
{
	unsigned int bus = (addr >> 16) & 0xff, dev = (addr >> 11) & 0x1f;
	unsigned int fn = (addr >> 8) & 7;

	if (!(addr & 0x80000000) || bus || fn)
		return NULL;
	if (dev == 0)
		return &host_bridge;
	if (dev == AC97_SLOT)
		return &ac97_fn;
	return NULL;
}

/* Tell ac97-emu where the guest put the BARs and whether I/O decodes. */
static void pci_ac97_sync_bars(void)
{
	struct ac97_bars bars = {
		.nam_base = ac97_fn.cfg[4] & 0xff00,
		.nabm_base = ac97_fn.cfg[5] & 0xffc0,
	};

	if (ac97_fn.cfg[1] & 1)		/* command: I/O space enable */
		bars.map = AC97_MAP_NAM | AC97_MAP_NABM;
	if (ioctl(ac97_handle, AC97_DEV_SET_BARS, &bars) < 0)
		fprintf(stderr, "ac97-vmm: BARs %#x/%#x: %s\n", bars.nam_base,
			bars.nabm_base, strerror(errno));
}

static void pci_cfg_write(struct pci_fn *f, unsigned int reg, unsigned int off,
			  unsigned int len, uint32_t val)
{
	uint32_t mask = (len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1) << (8 * off);
	uint32_t old = f->cfg[reg], new = (old & ~mask) | ((val << (8 * off)) & mask);
	unsigned int bar = reg - 4;

	if (reg == 1) {			/* command: only I/O enable and friends */
		f->cfg[1] = (old & 0xffff0000) | (new & 0x0405);
	} else if (reg >= 4 && reg < 10) {
		if (!f->bar_size[bar])
			return;
		f->cfg[reg] = (new & ~(f->bar_size[bar] - 1) & 0xffff) | 1;
	} else if (reg == 15) {		/* interrupt line is writable, pin is not */
		f->cfg[15] = (old & ~0xffu) | (new & 0xff);
		return;
	} else {
		return;			/* everything else is read-only */
	}
	if (f == &ac97_fn && f->cfg[reg] != old)
		pci_ac97_sync_bars();
}

static uint32_t pci_data(struct vmm *v, int out, unsigned int port,
			 unsigned int len, uint32_t val)
{
	struct pci_fn *f = pci_lookup(pci_addr);
	unsigned int reg = (pci_addr >> 2) & 0x3f, off = port - PCI_DATA_PORT;
	uint32_t word;

	(void)v;
	if (!f)
		return 0xffffffff;
	if (out) {
		pci_cfg_write(f, reg, off, len, val);
		return 0;
	}
	word = f->cfg[reg];
	/* A BAR reads back its size mask after the guest wrote all ones. */
	return word >> (8 * off);
}

/* --- port I/O that exits to us --- */

static int handle_io(struct vmm *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	unsigned int i, port = r->io.port, len = r->io.size;
	int out = r->io.direction == KVM_EXIT_IO_OUT;

	for (i = 0; i < r->io.count; i++, data += len) {
		uint32_t val = 0;

		if (out)
			memcpy(&val, data, len);
		if (port >= UART_BASE && port < UART_BASE + 8) {
			if (out)
				uart_out(v, port - UART_BASE, val);
			else
				val = uart_in(port - UART_BASE);
		} else if (port == PCI_ADDR_PORT && len == 4) {
			if (out)
				pci_addr = val;
			else
				val = pci_addr;
		} else if (port >= PCI_DATA_PORT && port < PCI_DATA_PORT + 4) {
			val = pci_data(v, out, port, len, val);
		} else if (port == 0x64 && out && val == 0xfe) {
			return 1;	/* keyboard controller reset: the guest rebooted */
		} else {
			val = 0xffffffff;	/* nothing there */
		}
		if (!out)
			memcpy(data, &val, len);
	}
	return 0;
}

/* --- Linux boot protocol, 32-bit entry --- */

static void put_e820(uint8_t *bp, int i, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t *e = bp + 0x2d0 + 20 * i;

	memcpy(e, &addr, 8);
	memcpy(e + 8, &size, 8);
	memcpy(e + 16, &type, 4);
}

static size_t read_file(const char *path, uint8_t **out)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	*out = malloc(st.st_size);
	if (!*out || read(fd, *out, st.st_size) != st.st_size)
		die(path);
	close(fd);
	return st.st_size;
}

static void load_linux(struct vmm *v, const char *kernel, const char *initrd,
		       const char *cmdline)
{
	uint8_t *img, *bp = v->ram + BOOT_PARAMS_GPA, *rd;
	size_t len = read_file(kernel, &img), setup, rd_len;
	uint32_t u32, rd_gpa, rd_max;
	uint16_t u16;

	if (len < 0x300 || memcmp(img + 0x202, "HdrS", 4))
		die("not a bzImage");
	setup = (img[0x1f1] ? img[0x1f1] : 4) + 1;
	setup *= 512;
	memset(bp, 0, 4096);
	memcpy(bp + 0x1f1, img + 0x1f1, 0x202 + img[0x201] - 0x1f1);
	memcpy(v->ram + KERNEL_GPA, img + setup, len - setup);

	bp[0x210] = 0xff;			/* type_of_loader: undefined */
	bp[0x211] |= 0x80;			/* loadflags: CAN_USE_HEAP */
	u16 = 0xfe00;
	memcpy(bp + 0x224, &u16, 2);		/* heap_end_ptr */
	u32 = CMDLINE_GPA;
	memcpy(bp + 0x228, &u32, 4);		/* cmd_line_ptr */
	strcpy((char *)v->ram + CMDLINE_GPA, cmdline);

	if (initrd) {
		rd_len = read_file(initrd, &rd);
		memcpy(&rd_max, img + 0x22c, 4);	/* initrd_addr_max */
		if (rd_max > v->ram_size - 1)
			rd_max = v->ram_size - 1;
		rd_gpa = (rd_max - rd_len) & ~0xfffu;
		memcpy(v->ram + rd_gpa, rd, rd_len);
		memcpy(bp + 0x218, &rd_gpa, 4);
		u32 = rd_len;
		memcpy(bp + 0x21c, &u32, 4);
		free(rd);
	}
	put_e820(bp, 0, 0, 0x9fc00, 1);
	put_e820(bp, 1, 0x9fc00, 0x400, 2);
	put_e820(bp, 2, 0xf0000, 0x10000, 2);
	put_e820(bp, 3, KERNEL_GPA, v->ram_size - KERNEL_GPA, 1);
	bp[0x1e8] = 4;				/* e820_entries */
	free(img);
}

static void setup_cpu(struct vmm *v)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .present = 1,
		.type = 0xb, .db = 1, .s = 1, .g = 1,
	}, data = code;
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	int n = 256;

	cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
	cpuid->nent = n;
	if (ioctl(v->kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
		die("KVM_GET_SUPPORTED_CPUID");
	/* KVM leaves the hypervisor bit to us; without it Linux never finds kvm-clock. */
	for (n = 0; n < (int)cpuid->nent; n++)
		if (cpuid->entries[n].function == 1)
			cpuid->entries[n].ecx |= 1u << 31;
	if (ioctl(v->vcpu, KVM_SET_CPUID2, cpuid) < 0)
		die("KVM_SET_CPUID2");
	free(cpuid);

	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	data.type = 0x3;
	data.selector = 0x18;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr0 |= 1;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	regs.rip = KERNEL_GPA;
	regs.rsi = BOOT_PARAMS_GPA;
	regs.rflags = 2;
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
}

static void create_vm(struct vmm *v)
{
	struct kvm_userspace_memory_region mem = { 0 };
	struct kvm_pit_config pit = { 0 };

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		die("/dev/kvm");
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(v->vm, KVM_SET_TSS_ADDR, 0xfffbd000) < 0)
		die("KVM_SET_TSS_ADDR");
	if (ioctl(v->vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");
	if (ioctl(v->vm, KVM_CREATE_PIT2, &pit) < 0)
		die("KVM_CREATE_PIT2");
	v->ram = mmap(NULL, v->ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->ram == MAP_FAILED)
		die("mmap guest RAM");
	mem.memory_size = v->ram_size;
	mem.userspace_addr = (uintptr_t)v->ram;
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &mem) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		die("KVM_CREATE_VCPU");
	v->run_size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		die("mmap kvm_run");
}

/* Everything ac97-emu needs from a VMM: an irqfd pair on the INTx GSI, and the BARs. */
static void attach_ac97(struct vmm *v)
{
	int irq = eventfd(0, EFD_CLOEXEC), resample = eventfd(0, EFD_CLOEXEC);
	struct kvm_irqfd irqfd = {
		.fd = irq, .gsi = AC97_IRQ, .flags = KVM_IRQFD_FLAG_RESAMPLE,
		.resamplefd = resample,
	};
	struct ac97_attach a = {
		.vm_fd = v->vm, .irq_fd = irq, .resample_fd = resample,
		.bars = { .nam_base = 0xc000, .nabm_base = 0xc100,
			  .map = AC97_MAP_NAM | AC97_MAP_NABM },
	};
	struct ac97_dev_info info;
	int ctl;

	if (irq < 0 || resample < 0)
		die("eventfd");
	if (ioctl(v->vm, KVM_IRQFD, &irqfd) < 0)
		die("KVM_IRQFD");
	ctl = open("/dev/ac97ctl", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die("/dev/ac97ctl (is ac97_emu loaded?)");
	ac97_handle = ioctl(ctl, AC97_CTL_ATTACH, &a);
	if (ac97_handle < 0)
		die("AC97_CTL_ATTACH");
	close(ctl);
	close(irq);		/* the module and KVM keep what they need */
	close(resample);
	if (ioctl(ac97_handle, AC97_DEV_GET_INFO, &info) == 0)
		fprintf(stderr, "ac97-vmm: AC'97 on /dev/ac97pcm%u\n", info.index);
}

int main(int argc, char **argv)
{
	const char *kernel = NULL, *initrd = NULL;
	const char *cmdline = "console=ttyS0 reboot=k panic=-1 "
		"snd_intel8x0.inside_vm=1 snd_intel8x0.ac97_clock=48000";
	struct vmm v = { .ram_size = 256ull << 20 };
	int opt;

	while ((opt = getopt(argc, argv, "k:i:c:m:")) != -1) {
		switch (opt) {
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 'c': cmdline = optarg; break;
		case 'm': v.ram_size = strtoull(optarg, NULL, 0) << 20; break;
		default: kernel = NULL; optind = argc; break;
		}
	}
	if (!kernel || v.ram_size < (64ull << 20) || v.ram_size > (3ull << 30)) {
		fprintf(stderr, "usage: %s -k bzImage [-i initrd] [-c cmdline] [-m MiB (64-3072)]\n",
			argv[0]);
		return 2;
	}
	create_vm(&v);
	load_linux(&v, kernel, initrd, cmdline);
	setup_cpu(&v);
	pci_init();
	attach_ac97(&v);

	for (;;) {
		if (ioctl(v.vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN");
		}
		switch (v.run->exit_reason) {
		case KVM_EXIT_IO:
			if (handle_io(&v))
				goto reset;
			break;
		case KVM_EXIT_SHUTDOWN:
			goto reset;
		case KVM_EXIT_HLT:
			fprintf(stderr, "ac97-vmm: guest halted\n");
			goto reset;
		default:
			fprintf(stderr, "ac97-vmm: unhandled exit %u\n", v.run->exit_reason);
			return 3;
		}
	}
reset:
	fflush(stdout);
	{
		struct ac97_dev_info info;

		if (!ioctl(ac97_handle, AC97_DEV_GET_INFO, &info))
			fprintf(stderr, "ac97-vmm: device played %llu samples, irq line %u, "
				"%llu DMA errors, %llu clock slips, %llu engine wake-ups, "
				"%llu catch-ups in register reads, %llu irq raises, "
				"%llu lowered before the EOI\n",
				(unsigned long long)info.samples, info.irq_level,
				(unsigned long long)info.dma_errors,
				(unsigned long long)info.clock_slips,
				(unsigned long long)info.engine_wakeups,
				(unsigned long long)info.catch_ups,
				(unsigned long long)info.irq_raises,
				(unsigned long long)info.irq_lowered_before_eoi);
	}
	fprintf(stderr, "ac97-vmm: guest reset, shutting down\n");
	close(ac97_handle);	/* detach: PCM readers see end of file */
	munmap(v.run, v.run_size);
	return 0;
}
