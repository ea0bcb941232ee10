#!/usr/bin/env bash
# `make bench`: ac97-emu against QEMU's own AC'97 and against the floor, side by
# side, measured in the same L1 boot (Debian's stock kernel under QEMU/TCG with
# kvm-amd). Per run, in L1:
#   1. a Linux guest (the stock kernel again) under tools/vmm/ac97-vmm with
#      ac97-emu: tools/bench/ac97bench.ko times port accesses (PO_CIV, PO_PICB,
#      GLOB_STA, NAM reset, SR W1C; PIC 0x21 = KVM in-kernel floor; 0xcf8 = a
#      userspace exit in the VMM) and paces a DMA stream; then aplay plays a
#      file while L1 counts exits to userspace (kvm_userspace_exit) and CPU time;
#   2. the same guest under qemu-system-x86_64 -accel kvm -device AC97 (wav
#      audiodev);
#   3. the same guest under the same QEMU binary with -device ac97-kvm (QEMU
#      + ac97-emu: scripts/qemu-build.sh, which both QEMU stages run);
#   4. 1, 4 and 16 test VMs playing at once on ac97-emu: per-device CPU, rate.
# Prints the table and writes out/bench/bench.{md,csv} (+ raw logs).
#   scripts/bench.sh            3 runs, 60 s pacing, 10 s aplay, scale 1/4/16 x 5 s
#   scripts/bench.sh --smoke    1 run, 2 s pacing, 2 s aplay, scale 1/2 x 1 s
# Last line: "N passed, N failed" (the checks: each figure was produced, audio bit-exact).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest-lib.sh"

RUNS=${AC97_BENCH_RUNS:-3}
PACING_SECS=${AC97_BENCH_PACING_SECS:-60}
PLAY_SECS=${AC97_BENCH_PLAY_SECS:-10}
SCALE=${AC97_BENCH_SCALE:-"1 4 16"}
SCALE_SECS=${AC97_BENCH_SCALE_SECS:-5}
L1_LIMIT=3000	# s per L1 boot; a hang is cut short by the L1 script's own limits first
out=$AC97_ROOT/out/bench
if [ "${1:-}" = --smoke ]; then
	RUNS=1 PACING_SECS=2 PLAY_SECS=2 SCALE="1 2" SCALE_SECS=1 L1_LIMIT=900
	out=$AC97_CACHE/run/bench-smoke-out
fi

need_packages qemu-system-x86 qemu-system-data seabios busybox-static cpio xz-utils gzip gcc \
	make libc6-dev binutils alsa-utils python3
meta=${AC97_BENCH_KERNEL:-linux-image-amd64}
pkg=$(versioned "$meta")
tree=$(kernel_tree "$pkg")
kver=$(ls "$tree/lib/modules")
work=$AC97_CACHE/run/bench
rm -rf "$work" "$out" && mkdir -p "$work" "$out"

qemu_bin=$("$AC97_ROOT/scripts/qemu-build.sh" | tail -n 1)
[ -x "$qemu_bin" ] || die "no QEMU with ac97-kvm"
log "building ac97_emu.ko, ac97bench.ko ($kver) and the tools"
build_module_for "$kver" "$work/src" || die "ac97_emu.ko build failed"
mkdir -p "$work/bench"
cp "$AC97_ROOT/tools/bench/ac97bench.c" "$AC97_ROOT/tools/bench/Kbuild" "$work/bench/"
make -C "/usr/src/linux-headers-$kver" M="$work/bench" modules >"$work/bench/build.log" 2>&1 ||
	{ tail -n 20 "$work/bench/build.log" >&2; die "ac97bench.ko build failed"; }
make -s -C "$AC97_ROOT/tools" OUT="$work" all linux >/dev/null || die "tools build failed"
python3 "$AC97_ROOT/scripts/bench-report.py" make-audio "$work/bench.wav" "$PLAY_SECS"

# L2: probe with ac97bench before the driver binds, then aplay the file.
make_l2_root "$work/l2root" "$tree"
cp "$work/bench/ac97bench.ko" "$work/l2root/mod/"
cp "$work/bench.wav" "$work/l2root/a/"
cat >"$work/l2root/pre.sh" <<PRE
insmod /mod/ac97bench.ko secs=$PACING_SECS
rmmod ac97bench
dmesg | grep -o 'ac97bench: .*' | sed 's/^/L2 /'
PRE
cat >"$work/l2root/play.sh" <<'PLAY'
# Interrupts the guest took on the AC'97 line, and those its handler found
# nothing pending for (the kernel's "unhandled" count: spurious).
irqs() {
	n=$(grep -iE 'intel8x0|ICH' /proc/interrupts | head -n 1 | cut -d: -f1 | tr -d ' ')
	count=$(grep -E "^ *$n:" /proc/interrupts | awk '{ s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }')
	echo "L2 irq $1 count=${count:-0} unhandled=$(sed -n 's/^unhandled *//p' /proc/irq/$n/spurious 2>/dev/null)"
}
irqs start
echo "L2 aplay start"
aplay -q -D hw:0,0 /a/bench.wav 2>&1 | sed 's/^/L2 aplay: /'
echo "L2 aplay end"
irqs end
PLAY
pack_initramfs "$work/l2root" "$work/l2-initrd.gz"

# L1: KVM, ac97-emu, both VMMs (QEMU with its libraries and firmware), test VMs.
l1=$work/l1root
mkdir -p "$l1"/{bin,proc,sys,dev,tmp,mod,l2,usr/share/qemu}
cp /bin/busybox "$l1/bin/"
for m in irqbypass ccp kvm kvm-amd; do copy_module "$tree" "$m" "$l1/mod"; done
cp "$work/src/ac97_emu.ko" "$l1/mod/"
cp "$work/ac97-vmm" "$work/ac97-capture" "$work/ac97-testvm" "$work/guest.bin" "$work/kvm-keeper" "$l1/bin/"
copy_program "$qemu_bin" "$l1"
for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin \
	 /usr/share/qemu/linuxboot_dma.bin; do
	cp -L "$f" "$l1/usr/share/qemu/"
done
cp "$tree/boot/vmlinuz-$kver" "$l1/l2/vmlinuz"
cp "$work/l2-initrd.gz" "$l1/l2/initrd.gz"
cat >"$l1/bench.conf" <<CONF
SCALE="$SCALE"
SCALE_SECS=$SCALE_SECS
CONF
cat >"$l1/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tracefs tracefs /sys/kernel/tracing
export PATH=/bin
. /bench.conf
for m in irqbypass ccp kvm kvm-amd ac97_emu; do insmod /mod/$m.ko || echo "BENCH insmod $m failed"; done
# One idle VM for the whole boot, so that the measured VMs flip no static
# key when they come and go: each flip rewrites kernel text, which under
# multi-threaded TCG has hung this L1 (kvm-keeper.c; README, "Known limits").
kvm-keeper >/tmp/keeper.txt 2>&1 &
for i in $(seq 50); do grep -q 'KEEPER up' /tmp/keeper.txt && break; sleep 0.1; done
echo "BENCH keeper=$(grep -q 'KEEPER up' /tmp/keeper.txt && echo up || cat /tmp/keeper.txt)"
EV=/sys/kernel/tracing/events/kvm/kvm_userspace_exit
echo 'hist:keys=common_pid' >$EV/trigger || echo "BENCH no hist trigger"
exits() { sed -n 's/^ *Hits: *//p' $EV/hist | head -n 1; }
# schedstat: $1 = ns on the CPU, $3 = times it was put on the CPU (wake-ups).
kthread_stat() {	# $1 = field
	for p in /proc/[0-9]*; do
		case "$(cat $p/comm 2>/dev/null)" in ac97-dma*) cut -d' ' -f"$1" $p/schedstat ;; esac
	done | awk '{ s += $1 } END { printf "%.0f", s }'
}
# The host reader that writes ac97-vmm's output (QEMU writes its own WAV in
# its non-vCPU threads, counted there): every thread of ac97-capture.
reader_ns() {
	for p in $(pidof ac97-capture); do
		for t in /proc/$p/task/*; do cut -d' ' -f1 $t/schedstat; done
	done | awk '{ s += $1 } END { printf "%.0f", s }'
}
# CPU of a VMM's threads: its vCPU threads, and the rest (QEMU's main loop etc.).
snap() {	# $1 = label, $2 = phase, $3 = VMM process name
	pid=$(pidof "$3" | cut -d' ' -f1)
	vcpu=0 other=0 other_runs=0
	for t in /proc/$pid/task/*; do
		read -r ns _ runs <$t/schedstat
		case "$3:$(cat $t/comm)" in
		ac97-vmm:*|*:"CPU "*) vcpu=$((vcpu + ns)) ;;	# ac97-vmm: one thread, the vCPU
		*) other=$((other + ns)) other_runs=$((other_runs + runs)) ;;
		esac
	done
	echo "BENCH snap $1 $2 t=$(cut -d' ' -f1 /proc/uptime) exits=$(exits) kthread_ns=$(kthread_stat 1) kthread_runs=$(kthread_stat 3) vcpu_ns=$vcpu other_ns=$other other_runs=$other_runs reader_ns=$(reader_ns)"
}
watch_l2() {	# $1 = label, $2 = VMM process name; stdin: the guest's console
	while IFS= read -r line; do
		line=$(echo "$line" | tr -d '\r')
		echo "$line"
		case "$line" in
		"L2 aplay start") snap "$1" start "$2" ;;
		"L2 aplay end") snap "$1" end "$2" ;;
		"L2 irq "*) echo "BENCH l2irq $1 ${line#L2 irq }" ;;
		esac
	done
}
L2CMD="console=ttyS0 reboot=k panic=-1 quiet loglevel=3 snd_intel8x0.inside_vm=1 snd_intel8x0.ac97_clock=48000"
echo "BENCH L1 up"

mkdir -p /tmp/out/cap
ac97-capture -w 300 /tmp/out/cap >/dev/null &
cap=$!
echo "BENCH vmm emu"
timeout 900 ac97-vmm -k /l2/vmlinuz -i /l2/initrd.gz -m 320 -c "$L2CMD" 2>&1 | watch_l2 emu ac97-vmm
wait $cap

echo "BENCH vmm qemu"
timeout 900 qemu-system-x86_64 -name bench,debug-threads=on -accel kvm -cpu host -m 320 -smp 1 \
	-nodefaults -display none \
	-no-reboot -serial stdio -L /usr/share/qemu -kernel /l2/vmlinuz -initrd /l2/initrd.gz \
	-append "$L2CMD" -device AC97,audiodev=a \
	-audiodev wav,id=a,path=/tmp/out/qemu.wav,out.frequency=48000,out.channels=2,out.format=s16 \
	2>&1 | watch_l2 qemu qemu-system-x86_64

# QEMU's mixing engine at 48 kHz is exact (a 0 dB voice at the audiodev's
# rate); the guest plays at 48 kHz.
echo "BENCH vmm qk"
timeout 900 qemu-system-x86_64 -name bench,debug-threads=on -accel kvm -cpu host -m 320 -smp 1 \
	-nodefaults -display none \
	-no-reboot -serial stdio -L /usr/share/qemu -kernel /l2/vmlinuz -initrd /l2/initrd.gz \
	-append "$L2CMD" -device ac97-kvm,audiodev=a \
	-audiodev wav,id=a,path=/tmp/out/qk.wav,out.frequency=48000,out.channels=2,out.format=s16 \
	2>&1 | watch_l2 qk qemu-system-x86_64

# Who is stuck where, and who burns the CPU: the threads of the test VMs and
# ac97-emu's kthreads, twice 5 s apart (utime/stime in ticks), their stacks,
# and the kernel's view of every CPU.
diag() {
	for round in 1 2; do
		for t in /proc/[0-9]*/task/[0-9]*; do
			case "$(cat $t/comm 2>/dev/null)" in ac97*|kvm*|"CPU "*) ;; *) continue ;; esac
			echo "BENCH diag $round ${t#/proc/} $(cat $t/comm) $(cut -d' ' -f3,14,15 $t/stat) wchan=$(cat $t/wchan)"
			[ $round = 2 ] && sed 's/^/BENCH diag     /' $t/stack
		done
		[ $round = 1 ] && sleep 5
	done
	# Task stacks are printed at a level the console (loglevel=5) drops,
	# and a stuck L1 may never get to the dmesg below: to the console.
	echo 8 >/proc/sys/kernel/printk
	echo l >/proc/sysrq-trigger
	echo w >/proc/sysrq-trigger
	dmesg | tail -n 150 | sed 's/^/BENCH diag dmesg /'
}
for n in $SCALE; do
	i=0 pids=
	while [ $i -lt $n ]; do
		ac97-testvm -q -s $SCALE_SECS /bin/guest.bin >/tmp/scale-$n-$i.txt 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	# Far beyond what n VMs need under TCG: a hang is reported, not waited out.
	# A line every 30 s: the console's silence means a hung L1 (lib.sh).
	limit=$((120 + 10 * n * SCALE_SECS)) waited=0
	running() { for p in $pids; do kill -0 $p 2>/dev/null && return 0; done; return 1; }
	while running && [ $waited -lt $limit ]; do
		sleep 1
		waited=$((waited + 1))
		[ $((waited % 30)) = 0 ] && echo "BENCH scale n=$n: ${waited} s"
	done
	if running; then
		echo "BENCH scale n=$n hung: VMs still running after $limit s"
		diag
		kill -9 $pids 2>/dev/null
	fi
	wait $pids 2>/dev/null	# not a bare wait: the keeper never ends
	i=0
	while [ $i -lt $n ]; do
		r() { sed -n "s/^RESULT $1=//p" /tmp/scale-$n-$i.txt; }
		echo "BENCH scale n=$n vm=$i verdict=$(r verdict) rate_hz=$(r pcm_rate_hz) cpu_ns=$(r dma_thread_cpu_ns) seconds=$SCALE_SECS slips=$(r dev_clock_slips) mismatches=$(r pcm_mismatches) verified=$(r pcm_samples_verified) expected=$(r pcm_samples_expected)"
		i=$((i + 1))
	done
done

cp /tmp/scale-*.txt /tmp/out/
stty -F /dev/ttyS1 raw -echo
tar -c -C /tmp out >/dev/ttyS1
echo "=== DMESG BEGIN"
dmesg
echo "=== DMESG END"
poweroff -f
INIT
chmod +x "$l1/init"
pack_initramfs "$l1" "$work/l1-initrd.gz"

for run in $(seq "$RUNS"); do
	d=$work/run$run
	mkdir -p "$d"
	log "run $run/$RUNS: L1 boots; ac97-emu, then QEMU's AC'97, then the scale test"
	start=$(date +%s)
	set +e
	AC97_QEMU_TIMEOUT=$L1_LIMIT AC97_QEMU_SILENCE=300 qemu_tcg "$tree/boot/vmlinuz-$kver" "$work/l1-initrd.gz" "$d/console.log" \
		-serial "file:$d/out.tar" >"$d/qemu.log" 2>&1
	set -e
	log "run $run: $(($(date +%s) - start)) s"
	l1_retry_note "$d/console.log"
	tr -d '\r' <"$d/console.log" >"$d/console.txt"
	l1_finished "$d/console.log" || true	# the report names what is missing
	tar -x -C "$d" -f "$d/out.tar" 2>/dev/null || true
	grep -E '^(BENCH|L2 ac97bench|L2 aplay:)' "$d/console.txt" | sed "s/^/  [run $run] /" >&2 || true
	cp "$d/console.txt" "$out/run$run-console.txt"
done

python3 "$AC97_ROOT/scripts/bench-report.py" report "$work" "$work/bench.wav" "$out" \
	"$RUNS x [pacing ${PACING_SECS} s, aplay ${PLAY_SECS} s, scale ${SCALE// //} x ${SCALE_SECS} s], L1 = $kver under QEMU/TCG" \
	>"$work/report.txt" || true
cat "$work/report.txt"
while read -r verdict what; do
	result $([ "$verdict" = PASS ]; echo $?) "bench: $what"
done < <(grep -E '^(PASS|FAIL) ' "$work/report.txt")
[ -s "$out/bench.md" ] || result 1 "bench: no table written"
totals
