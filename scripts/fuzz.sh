#!/usr/bin/env bash
# The device model under libFuzzer (clang, AddressSanitizer + UBSan): the
# kernel's ac97_bm.c, ac97_mixer.c and ac97_ring.c compiled in userspace
# against tools/fuzz/kshim, driven by kunit/fuzz_core.c (the engine the KUnit
# fuzz suite runs in UML).
#   scripts/fuzz.sh              smoke: replay every saved finding, then a short
#                                seeded run (part of make check)
#   scripts/fuzz.sh --long [S]   fuzz for S seconds (default 3600) on all cores,
#                                corpus kept in the cache; findings land in
#                                tools/fuzz/regressions/ to be committed
# Last line: "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_packages clang libclang-rt-dev make
out=$AC97_CACHE/run/fuzz
corpus=$AC97_CACHE/fuzz-corpus
regressions=$AC97_ROOT/tools/fuzz/regressions
rm -rf "$out" && mkdir -p "$out" "$corpus"
if make -s -C "$AC97_ROOT/tools" OUT="$out" fuzz >"$out/build.log" 2>&1; then
	result 0 "libFuzzer target builds (clang, ASan + UBSan, -Werror) from the kernel sources"
else
	cat "$out/build.log" >&2
	result 1 "libFuzzer target builds"
	totals
	exit 1
fi
fuzzer=$out/ac97-fuzz

if [ "${1:-}" = --long ]; then
	secs=${2:-3600}
	log "fuzzing for $secs s on $(nproc) cores; corpus in $corpus"
	set +e
	"$fuzzer" -max_total_time="$secs" -jobs="$(nproc)" -workers="$(nproc)" \
		-artifact_prefix="$regressions/" -print_final_stats=1 "$corpus" 2>&1 |
		tee "$out/long.log" | grep -E 'stat::|ERROR|runtime error|WARN:|ac97-fuzz:'
	set -e
	grep -h 'stat::number_of_executed_units' "$out"/fuzz-*.log 2>/dev/null |
		awk '{ n += $2 } END { printf "executions over all workers: %d\n", n }'
	found=$(find "$regressions" -newer "$out/build.log" -type f | wc -l)
	result $([ "$found" -eq 0 ]; echo $?) "long run: $found new findings in tools/fuzz/regressions/"
	totals
	exit
fi

# Every finding ever made stays fixed.
n=0
for f in "$regressions"/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	if "$fuzzer" "$f" >"$out/replay.log" 2>&1; then
		result 0 "regression $(basename "$f") replays clean"
	else
		grep -E 'runtime error|ERROR|WARN:|ac97-fuzz:' "$out/replay.log" | head -n 5 >&2
		result 1 "regression $(basename "$f")"
	fi
done
[ "$n" -gt 0 ] || result 1 "no saved findings in $regressions (expected at least one)"

# A short run from a fixed seed, growing the cached corpus.
set +e
timeout 300 "$fuzzer" -seed=44100 -runs="${AC97_FUZZ_RUNS:-30000}" -print_final_stats=1 \
	-artifact_prefix="$out/" "$corpus" >"$out/smoke.log" 2>&1
rc=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/smoke.log")
cov=$(grep -oE 'cov: [0-9]+' "$out/smoke.log" | tail -n1)
if [ "$rc" -eq 0 ] && [ "${runs:-0}" -gt 0 ]; then
	result 0 "libFuzzer smoke run: $runs inputs, $cov edges, no crash/UB/broken invariant"
else
	grep -E 'runtime error|ERROR|WARN:|ac97-fuzz:' "$out/smoke.log" | head -n 5 >&2
	ls "$out"/crash-* 2>/dev/null >&2 || true
	result 1 "libFuzzer smoke run (exit $rc; crash inputs in $out)"
fi
totals
