#!/usr/bin/env bash
# Run the KUnit suites of ac97-emu in User-Mode Linux with lockdep, KASAN and
# DEBUG_ATOMIC_SLEEP on. Builds (cached) the UML kernel, builds ac97_emu.ko and
# ac97_emu_kunit.ko against it with W=1, boots UML with a hostfs root, checks
# that UML keeps its processes' FP/vector registers (tools/fpcheck: UML moves
# them through the host's ptrace, sized by the host CPU), loads both modules,
# collects each suite's KTAP from debugfs and scans the kernel log. Fails on a
# failed test, a missing suite, a build warning, or any lockdep/KASAN/WARN/BUG
# report; if UML cannot run on this host at all, says why in one line.
# Prints per-suite results and a last line "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SUITES="ac97_mixer ac97_volume ac97_bus_master ac97_dma ac97_capture ac97_pcm ac97_pcm_read ac97_fuzz"

# AC97_UML_BUILD=DIR: a UML build of one's own instead (e.g. a mutant kernel).
build=${AC97_UML_BUILD:-$("$AC97_ROOT/scripts/kernel-build.sh")}
run=$AC97_CACHE/run/kunit-uml
rm -rf "$run"
mkdir -p "$run/src" "$run/root"/{bin,proc,sys,dev,mod,results,tmp}

log "building ac97_emu.ko and ac97_emu_kunit.ko for UML (W=1)"
(cd "$AC97_ROOT" && cp -r Kbuild Makefile ./*.c ./*.h include kunit "$run/src/")
if ! make -C "$build" M="$run/src" ARCH=um W=1 modules >"$run/build.log" 2>&1; then
	cat "$run/build.log" >&2
	die "module build for UML failed"
fi
if grep -E 'warning:|error:' "$run/build.log" >&2; then
	die "module build for UML has warnings"
fi
cp "$run/src/ac97_emu.ko" "$run/src/kunit/ac97_emu_kunit.ko" "$run/root/mod/"
cp /bin/busybox "$run/root/bin/busybox"
make -s -C "$AC97_ROOT/tools" OUT="$run/root/bin" "$run/root/bin/fpcheck" ||
	die "tools/fpcheck build failed"

cat >"$run/root/init" <<'INIT'
#!/bin/busybox sh
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mount -t debugfs debugfs /sys/kernel/debug
$bb mount -t devtmpfs dev /dev 2>/dev/null
# UML's processes keep their own FP/vector registers across switches.
/bin/fpcheck 2000 >/results/fpcheck.txt 2>&1
echo "rc=$?" >>/results/fpcheck.txt
# The production module must load and unload cleanly where no KVM exists.
if $bb insmod /mod/ac97_emu.ko && [ -c /dev/ac97pcm ] && $bb rmmod ac97_emu; then
	echo "ok" >/results/module-load
else
	echo "not ok" >/results/module-load
fi
$bb insmod /mod/ac97_emu_kunit.ko
for d in /sys/kernel/debug/kunit/*/; do
	s=$($bb basename "$d")
	$bb cat "$d/results" >"/results/$s.ktap"
done
$bb rmmod ac97_emu_kunit
$bb dmesg >/results/dmesg.txt
$bb poweroff -f
INIT
chmod +x "$run/root/init"

log "booting UML"
start=$(date +%s)
mkdir -p "$run/tmp"
set +e
# (A UML that panics aborts: the braces keep bash's "Aborted" notice out.)
{
	TMPDIR=$run/tmp timeout 900 "$build/linux" mem=768M root=/dev/root rootfstype=hostfs \
		rootflags="$run/root" rw init=/init log_buf_len=16M con=null \
		con0=null,fd:1 console=tty0 >"$run/console.log" 2>&1
	uml_rc=$?
} 2>/dev/null
set -e
log "UML ran $(($(date +%s) - start)) s (exit $uml_rc)"

# UML that did not get to run init: one line on why, not a panic trace.
if [ ! -s "$run/root/results/fpcheck.txt" ]; then
	why=$(grep -m1 -E 'failed, errno|errno = |XSAVE|[Cc]heck.*failed|segfault|not syncing|[Ff]atal|Error' \
		"$run/console.log" | tr -s ' \t' ' ' | cut -c1-160)
	echo "not ok - UML could not run on this host (exit $uml_rc): ${why:-no message; console in $run/console.log}"
	echo "0 passed, 1 failed"
	exit 1
fi

fail=0
[ "$uml_rc" -eq 0 ] || { log "UML exited with $uml_rc"; fail=1; }
dmesg_file=$run/root/results/dmesg.txt
[ -s "$dmesg_file" ] || { log "no kernel log from UML"; tail -n 30 "$run/console.log" >&2; fail=1; }

passed=0
failed=0
fp=$run/root/results/fpcheck.txt
if grep -q '^rc=0$' "$fp" && grep -q '^fpcheck: ok ' "$fp"; then
	passed=$((passed + 1))
	echo "ok - UML keeps each thread's FP registers ($(sed -n 's/^fpcheck: ok //p' "$fp"))"
else
	failed=$((failed + 1))
	echo "not ok - UML keeps each thread's FP registers: $(grep -m1 'FAIL' "$fp" || tail -n1 "$fp")"
fi
if [ "$(cat "$run/root/results/module-load" 2>/dev/null)" = ok ]; then
	passed=$((passed + 1))
	echo "ok - ac97_emu.ko loads, creates /dev/ac97pcm, unloads (UML)"
else
	failed=$((failed + 1))
	echo "not ok - ac97_emu.ko load/unload in UML"
fi
for s in $SUITES; do
	f=$run/root/results/$s.ktap
	if [ ! -s "$f" ]; then
		echo "not ok - suite $s did not run"
		failed=$((failed + 1))
		continue
	fi
	# A skipped case proves nothing: it counts as a failure.
	p=$(grep -E '^    ok [0-9]+ ' "$f" | grep -cv '# SKIP' || true)
	n=$(grep -cE '^    not ok [0-9]+ |^    ok [0-9]+ .*# SKIP' "$f" || true)
	grep -E '^    not ok |^    ok [0-9]+ .*# SKIP|^    # .*(Expected|FAIL|fail)|^        # ' "$f" | head -n 40 >&2 || true
	printf '%-18s %3d passed, %d failed\n' "$s" "$p" "$n"
	passed=$((passed + p))
	failed=$((failed + n))
	[ "$p" -gt 0 ] || failed=$((failed + 1))
done
grep -hE '# .*(measured rate|wake-ups|PICB:|fuzz:|of clock)' "$run/root/results/"*.ktap 2>/dev/null | sed 's/^ *# */  /' || true

# Reports that do not fail a KUnit test by themselves.
if [ -s "$dmesg_file" ]; then
	if ! "$AC97_ROOT/scripts/scan-kernel-log.sh" "$dmesg_file" >"$run/reports.txt"; then
		log "kernel log reports problems:"
		head -n 40 "$run/reports.txt" >&2
		echo "not ok - kernel log clean (lockdep/KASAN/WARN/BUG)"
		failed=$((failed + 1))
	else
		echo "ok - kernel log clean (lockdep/KASAN/WARN/BUG)"
		passed=$((passed + 1))
	fi
fi
[ "$fail" -eq 0 ] || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
