#!/usr/bin/env bash
# Self-test of the rule that boots a dead L1 once more (lib.sh: qemu_tcg,
# l1_died_elsewhere): a death elsewhere is retried exactly once; a death whose
# report names ac97-emu or KVM's I/O bus, a hang, a clean end, or a second
# death are not; a retried boot, and only that, is announced with "RETRIED".
# QEMU is replaced by a stub that writes a scripted console.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

clean_end() {
	printf 'RIG load=ok\r\n=== DMESG BEGIN\r\n[    1.0] Linux version 6.12\r\n=== DMESG END\r\n'
}
death_elsewhere() {
	cat <<'EOF'
RIG load=ok
[   41.2] Kernel panic - not syncing: corrupted stack end detected inside scheduler
[   41.2] CPU: 1 UID: 0 PID: 233 Comm: ac97-testvm Not tainted 6.12.117+deb12-amd64 #1
[   41.2] Call Trace:
[   41.2]  <TASK>
[   41.2]  __schedule+0x9a1/0xa10
[   41.2]  do_exit+0x2f1/0xab0
EOF
}
death_int3() {
	cat <<'EOF'
[   12.0] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
[   12.0] RIP: 0010:finish_task_switch.isra.0+0x1a6/0x2d0
[   12.0] Modules linked in: ac97_emu kvm_amd kvm ccp irqbypass
[   12.0] Kernel panic - not syncing: Fatal exception in interrupt
EOF
}
death_ours() {
	cat <<'EOF'
[   30.0] BUG: kernel NULL pointer dereference, address: 0000000000000008
[   30.0] RIP: 0010:ac97_dma_step+0x51/0x300 [ac97_emu]
[   30.0] Modules linked in: ac97_emu kvm_amd kvm ccp irqbypass
[   30.0] Kernel panic - not syncing: Fatal exception
EOF
}
death_bus() {
	cat <<'EOF'
[   30.0] BUG: unable to handle page fault for address: ffff888104a3c010
[   30.0] RIP: 0010:kvm_io_bus_read+0x3c/0x110 [kvm]
[   30.0] Modules linked in: ac97_emu kvm_amd kvm ccp irqbypass
[   30.0] Kernel panic - not syncing: Fatal exception
EOF
}
hang() {
	echo 'RIG load=ok'
}

# The stub: boot N writes the console that $SCRIPT's word N names, exits 0
# (or 124 for "hang", as timeout(1) would).
qemu_tcg_once() {
	local console=$3 n
	n=$(($(cat "$tmp/boots") + 1))
	echo "$n" >"$tmp/boots"
	local what
	what=$(echo "$SCRIPT" | cut -d' ' -f"$n")
	"$what" >"$console"
	[ "$what" = hang ] && return 124
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
check "death_elsewhere clean_end" 2 1 "a panic in the scheduler on a VMM thread is retried once"
check "death_int3 clean_end" 2 1 "an int3 oops at a static-key site (module list names ac97_emu) is retried once"
check "death_ours clean_end" 1 0 "a panic in ac97_emu's code is not retried"
check "death_bus clean_end" 1 0 "a panic in KVM's I/O bus is not retried"
check "hang clean_end" 1 0 "a hang (timeout) is not retried"
check "death_elsewhere death_elsewhere clean_end" 2 0 "a second death is not retried"
totals
