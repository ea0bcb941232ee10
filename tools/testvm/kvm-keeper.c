// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-keeper: hold one idle VM (in-kernel irqchip, one vCPU that never runs)
 * open until killed.
 *
 * Why: creating the first VM and destroying the last one flips static keys
 * in L1 (the preempt notifiers, the local APIC's "software disabled" key), and
 * each flip rewrites kernel text on a live SMP system. The rig's L1 runs under
 * multi-threaded TCG, where those rewrites are the suspect of rare L1 deaths
 * (an int3 oops at a patched static-key site in finish_task_switch(), a
 * corrupted stack end on a VMM thread that exits). With one VM kept open for
 * the whole boot, the test VMs come and go without flipping any of them.
 *
 * Usage: kvm-keeper &   (prints "KEEPER up" once the VM exists)
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	int kvm, vm, vcpu;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvm-keeper: /dev/kvm");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("kvm-keeper: KVM_CREATE_VM");
		return 1;
	}
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) {
		perror("kvm-keeper: KVM_CREATE_IRQCHIP");
		return 1;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		perror("kvm-keeper: KVM_CREATE_VCPU");
		return 1;
	}
	printf("KEEPER up\n");
	fflush(stdout);
	for (;;)
		pause();
}
