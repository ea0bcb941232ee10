#!/usr/bin/env bash
# Self-test of the rule that boots a dead L1 once more (lib.sh: qemu_tcg,
# l1_died_of_tcg): only TCG's stale-code int3 oops, as the console's first
# report, is retried, once; a report that names ac97-emu, KVM's I/O bus, an
# allocator, memory corruption, KASAN/UBSAN/refcount, an earlier WARNING, a
# debug kernel, a hang elsewhere, a clean end or a second death are not;
# a hang whose dump shows every CPU trapping on that int3 is; a retried
# boot, and only that, is announced with "RETRIED". QEMU is replaced by a
# stub that writes a scripted console.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

clean_end() {
	printf 'RIG load=ok\r\n=== DMESG BEGIN\r\n[    1.0] Linux version 6.12\r\n=== DMESG END\r\n'
}
int3() {	# the stale-code death seen under multi-threaded TCG
	cat <<'EOF2'
[   12.0] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
[   12.0] CPU: 1 UID: 0 PID: 61 Comm: kworker/1:1 Not tainted 6.12.117+deb12-amd64 #1
[   12.0] RIP: 0010:__schedule+0x428/0xbf0
[   12.0] Modules linked in: ac97_emu kvm_amd kvm ccp irqbypass
[   12.0] Kernel panic - not syncing: Fatal exception in interrupt
EOF2
}
stack_end() {	# corruption: could be ours
	cat <<'EOF2'
RIG load=ok
[   41.2] Kernel panic - not syncing: corrupted stack end detected inside scheduler
[   41.2] CPU: 1 UID: 0 PID: 233 Comm: ac97-testvm Not tainted 6.12.117+deb12-amd64 #1
[   41.2] Call Trace:
[   41.2]  __schedule+0x9a1/0xa10
EOF2
}
gpf_slab() {	# a GPF in the allocator on a test VMM's task
	cat <<'EOF2'
[   30.0] general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI
[   30.0] CPU: 0 UID: 0 PID: 240 Comm: ac97-testvm Not tainted 6.12.117+deb12-amd64 #1
[   30.0] RIP: 0010:__kmem_cache_alloc_node+0x9c/0x2f0
[   30.0] Kernel panic - not syncing: Fatal exception
EOF2
}
warn_then_int3() {	# an earlier WARNING may be ours: the int3 is not forgiven
	cat <<'EOF2'
[   10.0] WARNING: CPU: 0 PID: 200 at kernel/kthread.c:76 kthread_stop+0x1c/0x1e0
[   10.0] Call Trace:
EOF2
	int3
}
kasan_then_panic() {
	cat <<'EOF2'
[   20.0] BUG: KASAN: slab-use-after-free in eventfd_signal_mask+0x2c/0x120
[   20.0] Kernel panic - not syncing: KASAN: panic_on_warn set ...
EOF2
}
death_ours() {
	cat <<'EOF2'
[   30.0] BUG: kernel NULL pointer dereference, address: 0000000000000008
[   30.0] RIP: 0010:ac97_dma_step+0x51/0x300 [ac97_emu]
[   30.0] Modules linked in: ac97_emu kvm_amd kvm ccp irqbypass
[   30.0] Kernel panic - not syncing: Fatal exception
EOF2
}
death_bus() {
	cat <<'EOF2'
[   30.0] BUG: unable to handle page fault for address: ffff888104a3c010
[   30.0] RIP: 0010:kvm_io_bus_read+0x3c/0x110 [kvm]
[   30.0] Kernel panic - not syncing: Fatal exception
EOF2
}
hang() {
	echo 'RIG load=ok'
}
# Hangs with a dump ($console.hang, as qemu_tcg_once writes it): the stale
# int3 trapped over and over (both CPUs in the handler or at the site, in
# every look; seen on 6.1), the same with one CPU in our code, and a plain
# idle hang.
HANG_INT3='look 0 cpu 0: RIP asm_exc_int3+0x0; stack: __schedule+0x2ac < 0xffffffff82a03e48 < schedule_idle+0x26 < do_idle+0x166
look 0 cpu 1: RIP __schedule+0x2ab; stack: schedule_idle+0x26 < do_idle+0x166 < cpu_startup_entry+0x26
look 1 cpu 0: RIP exc_int3+0x4e; stack: irqentry_nmi_exit+0x5 < asm_exc_int3+0x35 < __schedule+0x2ab < __schedule+0x2ac
look 1 cpu 1: RIP exc_int3+0x4e; stack: irqentry_nmi_exit+0x5 < asm_exc_int3+0x35 < __schedule+0x2ab < __schedule+0x2ac
look 2 cpu 0: RIP asm_exc_int3+0x3; stack: __schedule+0x2ac < schedule_idle+0x26 < do_idle+0x166
look 2 cpu 1: RIP exc_int3+0x4e; stack: irqentry_nmi_exit+0x5 < asm_exc_int3+0x35 < __schedule+0x2ab'
hang_int3() {
	echo 'RIG load=ok'
	printf 'L1 HUNG: its console said nothing for 300 s; where its CPUs are:\n%s\n' "$HANG_INT3" >"$console.hang"
}
hang_int3_ours() {
	echo 'RIG load=ok'
	sed '3s/^look 1 cpu 0: .*/look 1 cpu 0: RIP ac97_dma_step+0x51; stack: ac97_dma_thread+0x90 < kthread+0xd2/' \
		<<<"$HANG_INT3" >"$console.hang"
}
hang_idle() {
	echo 'RIG load=ok'
	sed 's/RIP [^;]*;/RIP native_safe_halt+0xb (halted);/' <<<"$HANG_INT3" >"$console.hang"
}

# The stub: boot N writes the console that $SCRIPT's word N names, exits 0
# (or 124 for "hang", as timeout(1) would).
qemu_tcg_once() {
	local console=$3 n what
	n=$(($(cat "$tmp/boots") + 1))
	echo "$n" >"$tmp/boots"
	what=$(echo "$SCRIPT" | cut -d' ' -f"$n")
	rm -f "$console.hang"
	"$what" >"$console"
	case "$what" in hang*) return 124 ;; esac
	return 0
}

# check SCRIPT BOOTS_EXPECTED FINISHED(0/1) DESCRIPTION
check() {
	SCRIPT=$1
	echo 0 >"$tmp/boots"
	qemu_tcg vmlinuz initrd "$tmp/console" 2>"$tmp/log"
	l1_retry_note "$tmp/console" 2>"$tmp/note"
	local boots fin=0 said
	boots=$(cat "$tmp/boots")
	said=$(grep -c 'RETRIED: booting' "$tmp/note")
	grep -q '^=== DMESG END' "$tmp/console" && fin=1
	if [ "$boots" = "$2" ] && [ "$fin" = "$3" ] && [ "$said" = $(($2 - 1)) ] &&
	   { [ "$boots" = 1 ] || [ -s "$tmp/console.died" ]; }; then
		result 0 "retry rule: $4 ($boots boot(s))"
	else
		result 1 "retry rule: $4 (booted $boots times, finished=$fin, RETRIED said $said times)"
		sed 's/^/    /' "$tmp/log" "$tmp/note"
	fi
}

check "clean_end" 1 1 "a boot that reaches its end is not repeated"
check "int3 clean_end" 2 1 "TCG's stale-code int3 oops (module list names ac97_emu) is retried once"
check "stack_end clean_end" 1 0 "'corrupted stack end detected inside scheduler' is not retried"
check "gpf_slab clean_end" 1 0 "a GPF in __kmem_cache_alloc_node on ac97-testvm is not retried"
check "warn_then_int3 clean_end" 1 0 "an int3 oops after an earlier WARNING is not retried"
check "kasan_then_panic clean_end" 1 0 "a KASAN report is not retried"
check "death_ours clean_end" 1 0 "a panic in ac97_emu's code is not retried"
check "death_bus clean_end" 1 0 "a page fault in KVM's I/O bus is not retried"
check "hang clean_end" 1 0 "a hang (timeout) without a dump is not retried"
check "hang_idle clean_end" 1 0 "a hang with both CPUs idle is not retried"
check "hang_int3 clean_end" 2 1 "a hang with every CPU in every look trapping on the stale int3 (or at its site) is retried once"
check "hang_int3_ours clean_end" 1 0 "the same hang with a CPU in ac97_emu's code is not retried"
check "hang_int3 hang_int3" 2 0 "a second int3 hang is not retried"
AC97_NO_RETRY=1 check "hang_int3 clean_end" 1 0 "a debug kernel's int3 hang is not retried"
check "int3 int3 clean_end" 2 0 "a second death is not retried"
AC97_NO_RETRY=1 check "int3 clean_end" 1 0 "on a debug kernel nothing is retried"
totals
