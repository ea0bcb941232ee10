#!/usr/bin/env bash
# Print the lines of a kernel log ($1) that report a kernel problem: WARN,
# BUG, oops, lockdep, KASAN, kmemleak, sleeping in atomic context, hung task.
# Exit 1 if there is any, 0 if the log is clean.
#   scripts/scan-kernel-log.sh LOG
#   scripts/scan-kernel-log.sh --self-test
set -u

PATTERN='WARNING:|BUG:|BUG |Oops|general protection fault|Kernel panic|KASAN:|kmemleak: [0-9]+ new suspected memory leak|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|lock held when returning|sleeping function called from invalid context|scheduling while atomic|INFO: task .* blocked|Call Trace:|UBSAN:|refcount_t:'

scan() {
	! grep -E "$PATTERN" "$1"
}

# One real report line per alternative of PATTERN: each must be flagged, and
# each alternative must flag at least one of them (so none is dead).
SAMPLES='WARNING: CPU: 0 PID: 42 at ac97_bm.c:100 po_transfer+0x10/0x20
BUG: KASAN: slab-use-after-free in resample_work_fn+0x1c/0x60 [ac97_emu]
BUG: sleeping function called from invalid context at mm/slab.c:1
WARNING: possible recursive locking detected
WARNING: possible circular locking dependency detected
BUG: scheduling while atomic: ac97-dma/0/12/0x00000002
kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
INFO: task ac97-dma/0:12 blocked for more than 120 seconds.
Oops: 0000 [#1] PREEMPT SMP
[ BUG: Invalid wait context ]
BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c:48
general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1]
Kernel panic - not syncing: Fatal exception
KASAN: null-ptr-deref in range [0x0000000000000008-0x000000000000000f]
WARNING: inconsistent lock state
WARNING: suspicious RCU usage
WARNING: lock held when returning to user space!
Call Trace:
UBSAN: shift-out-of-bounds in ac97_bm.c:416:33
refcount_t: underflow; use-after-free.
BUG unable to handle page fault for address: ffff888104a3c010'

self_test() {
	local tmp rc=0 line kinds=0 alt
	tmp=$(mktemp)
	while IFS= read -r line; do
		printf '[    1.000000] %s\n' "$line" >"$tmp"
		if scan "$tmp" >/dev/null; then
			echo "not ok - scanner misses: $line"; rc=1
		fi
		kinds=$((kinds + 1))
	done <<<"$SAMPLES"
	while IFS= read -r alt; do
		grep -qE "$alt" <<<"$SAMPLES" || { echo "not ok - no sample for pattern: $alt"; rc=1; }
	done < <(tr '|' '\n' <<<"$PATTERN")
	cat >"$tmp" <<'CLEAN'
[    0.000000] Linux version 6.12.117 (debian-kernel@lists.debian.org)
[    0.100000] ... MAX_LOCKDEP_SUBCLASSES:  8
[    0.200000] KernelAddressSanitizer initialized
[    0.300000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15787)
[    1.000000] ac97-emu 0: PCM out DMA from 0xfffff000: not guest RAM, halted
CLEAN
	scan "$tmp" >/dev/null || { echo "not ok - scanner flags a clean log"; rc=1; }
	rm -f "$tmp"
	if [ $rc -eq 0 ]; then
		echo "ok - kernel-log scanner flags all $kinds sample reports (every pattern has one: KASAN, UBSAN, refcount, RCU, lockdep, RT wait-context and rtmutex sleeps among them) and passes a clean log"
		echo "1 passed, 0 failed"
	else
		echo "0 passed, 1 failed"
	fi
	return $rc
}

if [ "${1:-}" = --self-test ]; then
	self_test
	exit
fi
scan "$1"
