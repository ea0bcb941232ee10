#!/usr/bin/env bash
# The device model with real threads under ThreadSanitizer (tools/race/ac97-race.c):
# two vCPUs, the DMA engine, readers (two threads sharing one among them) and
# a detach, all at once, on the kernel's own sources. Fails on any data race
# TSan sees and on any broken check. Last line: "N passed, N failed".
#   scripts/race.sh [SECONDS]     (default 3)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_packages clang libclang-rt-dev make
out=$AC97_CACHE/run/race
rm -rf "$out" && mkdir -p "$out"
if ! make -s -C "$AC97_ROOT/tools" OUT="$out" race >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	result 1 "ac97-race builds (clang, ThreadSanitizer, -Werror) from the kernel sources"
	totals
fi
result 0 "ac97-race builds (clang, ThreadSanitizer, -Werror) from the kernel sources"
# Without address-space randomisation: older TSan runtimes refuse the layouts
# that large mmap_rnd_bits give.
norand=()
setarch "$(uname -m)" -R true 2>/dev/null && norand=(setarch "$(uname -m)" -R)
rc=0
TSAN_OPTIONS="halt_on_error=1 exitcode=66" timeout 600 "${norand[@]}" "$out/ac97-race" "${1:-3}" \
	>"$out/race.txt" 2>&1 || rc=$?
grep -E '^(not )?ok - ' "$out/race.txt" || true
if [ "$rc" -ne 0 ]; then
	grep -m1 -A30 'WARNING: ThreadSanitizer' "$out/race.txt" >&2 || tail -n 30 "$out/race.txt" >&2
fi
result $([ "$rc" = 0 ] && [ "$(grep -c '^ok - ' "$out/race.txt")" = 3 ]; echo $?) \
	"model under ThreadSanitizer with real threads: vCPUs, DMA, readers and detach at once (exit $rc)"
totals
