#!/usr/bin/env bash
# QEMU with ac97-emu: a stock Linux guest plays and records through QEMU's
# "-device ac97-kvm" (qemu/ac97-kvm.c, built into Debian's QEMU by
# qemu-build.sh) with its own snd_intel8x0 and no driver options.
# For each stock kernel: L1 = the kernel under QEMU/TCG with kvm-amd and
# ac97_emu.ko, running the patched QEMU (-accel kvm); L2 = the same kernel.
# QEMU's audiodev is ALSA in L1, through alsa-lib's file plugin on its null
# device (no sound card needed, and nothing in between that mixes or
# resamples: QEMU's mixing engine is off): what the guest plays lands in one
# raw file per format, what it records is read from a file.
#
# L2, first boot: arecord (PCM in at 48 and 44.1 kHz, mic in) while aplay
# plays, aplay at both rates, amixer volume and mute steps, a pause; L1 stops
# the VM for 1 s mid-aplay (monitor "stop", "cont") and counts, with KVM's
# tracepoints, exits to userspace on the AC'97 ports. Then "system_reset"
# mid-aplay, a play after it, "reboot" in the guest, a play after that.
# Checked: every item bit-identical (analyze-capture.py), each recording
# holds what the audiodev fed (pcm-find), no access reached QEMU's side of
# the ports, no warning in either kernel.
#   scripts/qemu-guest.sh             both kernels
#   AC97_RIG_KERNELS=linux-image-amd64 scripts/qemu-guest.sh
# Last line: "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest-lib.sh"

KERNELS=${AC97_RIG_KERNELS:-"linux-image-amd64 linux-image-6.12-amd64"}

need_packages qemu-system-x86 qemu-system-data seabios busybox-static cpio xz-utils gzip gcc \
	make libc6-dev binutils alsa-utils libasound2-dev python3

qemu_bin=$("$AC97_ROOT/scripts/qemu-build.sh" | tail -n 1)
[ -x "$qemu_bin" ] || die "no QEMU with ac97-kvm"

work=$AC97_CACHE/run/qemu-guest
rm -rf "$work" && mkdir -p "$work/audio" "$work/rec" "$work/feed"
# The device in QEMU's style: QEMU's own checkpatch.pl, from the source it was built from.
mkdir -p "$work/qemu-checkpatch"
tar -xf "$(ls "$AC97_CACHE"/qemu-src/qemu_*.orig.tar.xz | sort -V | tail -n 1)" -C "$work/qemu-checkpatch" \
	--wildcards '*/scripts/checkpatch.pl'
perl "$work"/qemu-checkpatch/*/scripts/checkpatch.pl --no-tree -f "$AC97_ROOT/qemu/ac97-kvm.c" \
	>"$work/qemu-checkpatch.txt" 2>&1 && rc=0 || rc=1
[ "$rc" = 0 ] || cat "$work/qemu-checkpatch.txt" >&2
result $rc "qemu/ac97-kvm.c: QEMU's checkpatch.pl: $(tail -n 1 "$work/qemu-checkpatch.txt")"
log "building tools and test audio"
make -s -C "$AC97_ROOT/tools" OUT="$work" all linux play >/dev/null || die "tools build failed"
python3 "$AC97_ROOT/scripts/make-test-audio.py" "$work/audio"
python3 "$AC97_ROOT/scripts/make-test-audio.py" --capture "$work/rec"
# What the audiodev records: 200 ms of silence, then rec48's samples. Every
# capture voice opens the file afresh and reads it as its own format, so the
# guest's recordings hold the same bytes: rec48 whole as 48 kHz stereo, its
# first second as 44.1 kHz stereo, its first 96000 bytes as the mono mic.
# The silence covers the up to 40 ms a source holds before the guest records;
# 10 s of it after the samples keep every voice away from the file's end
# (where alsa-lib's file plugin passes its slave's buffer on untouched).
python3 - "$work/rec" "$work/feed" <<'PY'
import sys
import wave
src, out = sys.argv[1:]
with wave.open(f'{src}/rec48.wav') as w:
    data = w.readframes(w.getnframes())
with open(f'{out}/feed.raw', 'wb') as f:
    f.write(bytes(48000 * 4 // 5) + data + bytes(48000 * 4 * 10))
for name, rate, channels, size in (('rec48', 48000, 2, len(data)), ('rec44', 44100, 2, 176400),
                                   ('mic48', 48000, 1, 96000)):
    with wave.open(f'{out}/{name}.wav', 'wb') as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data[:size])
PY

# L2: the guest's part. Which boot this is, it keeps in a CMOS byte (0x6e,
# unused by QEMU and SeaBIOS), which a machine reset does not clear.
write_play_script() {	# $1 = file
	cat >"$1" <<'PLAY'
cmos() {	# $1: write it; none: read
	printf '\156' | dd of=/dev/port bs=1 seek=112 count=1 2>/dev/null
	if [ $# = 1 ]; then
		printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=113 count=1 2>/dev/null
	else
		dd if=/dev/port bs=1 skip=113 count=1 2>/dev/null | od -An -tu1 | tr -d ' '
	fi
}
mix() { amixer -q -c 0 sset "$@"; }
after() { :; }
level() { amixer -c 0 sget "$1" | grep -oE '\[-?[0-9.]+dB\]' | head -n 1; }
play() {
	echo "L2 play $1"
	aplay -D hw:0,0 "/a/$1.wav" 2>&1 | sed 's/^/L2 aplay: /'
	echo "L2 played $1"
}
rec() {	# $1 name, $2 device, $3 channels, $4 rate
	echo "L2 record $1"
	arecord -D "$2" -f S16_LE -c "$3" -r "$4" -d 3 "/tmp/$1.wav" 2>&1 | sed 's/^/L2 arecord: /'
	echo "L2 find $1: $(pcm-find "/tmp/$1.wav" "/r/$1.wav" 2>&1)"
}
irq=$(grep -E 'intel8x0' /proc/interrupts | head -n 1 | cut -d: -f1 | tr -d ' ')
warnings() { dmesg | grep -B2 -A3 -E 'WARNING|BUG|Oops|Call Trace' | sed 's/^/L2 dmesg: /'; }
irqs() {
	echo "L2 irq line=$irq count=$(grep -E "^ *$irq:" /proc/interrupts | awk '{ print $2 }') unhandled=$(sed -n 's/^unhandled *//p' /proc/irq/$irq/spurious 2>/dev/null)"
}
boot=$(cmos)
echo "L2 boot $boot"
case "$boot" in
0)
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor):$(cat $d/device)" = 0x8086:0x2415 ] || continue
		echo "L2 device $(basename $d) subsystem $(cat $d/subsystem_vendor):$(cat $d/subsystem_device) bars $(head -n 2 $d/resource | cut -d' ' -f1,2 | tr '\n' ' ')"
	done
	echo "L2 driver: $(dmesg | grep -m1 -E 'intel8x0.*(VM|KVM)' | sed 's/^\[[^]]*\] //')"
	amixer -q -c 0 cset name='Capture Source' Line
	mix Capture 0 cap
	mix Mic 23 unmute
	rec rec48 hw:0,0 2 48000 &
	play test48
	wait
	rec mic48 hw:0,1 2 48000 &
	rec rec44 hw:0,0 2 44100
	wait
	. /playback-steps.sh
	irqs
	warnings
	cmos 1
	play reset	# L1 resets the machine 1 s into it
	sleep 600
	;;
1)
	play test48
	irqs
	warnings
	cmos 2
	echo "L2 reboot"
	reboot -f
	sleep 600
	;;
2)
	play test48
	irqs
	warnings
	cmos 3
	;;
*)
	sleep 600
	;;
esac
PLAY
}

# L1: make_l1_qemu_base's, and ALSA's files for the audiodev.
make_l1_qemu_root() {	# $1 root, $2 kernel tree, $3 ac97_emu.ko, $4 L2 initramfs
	local l1=$1
	make_l1_qemu_base "$@" "$qemu_bin" "$work/kvm-keeper"
	mkdir -p "$l1/etc"
	cp -r /usr/share/alsa "$l1/usr/share/"
	cp "$work/feed/feed.raw" "$l1/feed.raw"
	# Playback: one new file per voice QEMU opens (truncate false adds .0001, ...).
	cat >"$l1/etc/asound.conf" <<'ALSA'
pcm.ac97out {
	type file
	slave.pcm "null"
	file "/tmp/out/ac97out-%r-%c.raw"
	format "raw"
	truncate false
}
pcm.ac97in {
	type file
	slave.pcm "null"
	file "/dev/null"
	infile "/feed.raw"
	format "raw"
}
ALSA
	cat >"$l1/init" <<'INIT'
#!/bin/busybox sh
. /l1-start.sh
mount -t tracefs tracefs /sys/kernel/tracing
mkdir -p /tmp/out
T=/sys/kernel/tracing
echo 16384 >$T/buffer_size_kb
mkfifo /tmp/mon.in /tmp/mon.out
cat /tmp/mon.out >/tmp/cap/monitor.txt &
mon() { echo "RIG monitor: $*"; echo "$*" >&3; }
# Follows the guest's console and does L1's part: stop and cont, tracing,
# system_reset, and quit once the guest is done.
watch_l2() {
	exec 3<>/tmp/mon.in	# read-write: never blocks, even if QEMU never came
	while IFS= read -r line; do
		line=$(echo "$line" | tr -d '\r')
		echo "$line"
		case "$line" in
		"L2 play test48")
			[ -e /tmp/traced ] && continue
			touch /tmp/traced
			for e in kvm_exit kvm_pio kvm_userspace_exit; do echo 1 >$T/events/kvm/$e/enable; done
			(sleep 1; mon stop; sleep 1; mon cont) &
			;;
		"L2 played test48")
			[ -e /tmp/trace.done ] && continue
			touch /tmp/trace.done
			# Freeze the buffer first: events switched off one by one
			# leave exits to userspace whose guest exit went untraced.
			echo 0 >$T/tracing_on
			echo 0 >$T/events/kvm/enable
			gzip -c $T/trace >/tmp/cap/trace.gz
			echo "RIG trace lines=$(wc -l <$T/trace)"
			;;
		"L2 play reset") (sleep 1; mon system_reset) & ;;
		"L2 done")
			for p in unclaimed-accesses line-underruns mic-underruns; do
				mon "qom-get /machine/peripheral/snd0 $p"
			done
			sleep 2
			mon quit
			;;
		esac
	done
}
L2CMD="console=ttyS0 reboot=k panic=-1 quiet loglevel=3"
# capture-latency=200: this QEMU's main loop, which tops up the capture
# sources, shares L1's two TCG CPUs with L2's vCPU and the DMA thread; with
# the default 50 ms it was once late enough for the guest to record silence.
# xsave=off: under L1's TCG CPU, KVM's CPUID for L2 sizes the XSAVE area
# as if only x87 and SSE were enabled, and the guest kernel WARNs about it
# at boot ("XSAVE consistency problem: size 832 != kernel_size 576"; PKRU's
# state too, with PKU). Not on real hardware; the guest then uses FXSAVE.
(
	timeout 900 qemu-system-x86_64 -name l2,debug-threads=on -accel kvm -cpu host,xsave=off -m 320 \
		-smp 1 -nodefaults -display none -serial stdio -monitor pipe:/tmp/mon \
		-L /usr/share/qemu -kernel /l2/vmlinuz -initrd /l2/initrd.gz -append "$L2CMD" \
		-device ac97-kvm,id=snd0,audiodev=snd,capture-latency=200 \
		-audiodev alsa,id=snd,out.dev=ac97out,in.dev=ac97in,out.mixing-engine=off,in.mixing-engine=off,out.try-poll=off,in.try-poll=off
	echo $? >/tmp/qemu.rc
) 2>&1 | watch_l2
echo "RIG qemu_rc=$(cat /tmp/qemu.rc)"
# Without what it needs: clear errors, no crash.
qemu-system-x86_64 -accel kvm -machine kernel-irqchip=off -nodefaults -display none -L /usr/share/qemu \
	-device ac97-kvm,audiodev=n -audiodev none,id=n 2>&1 | grep -m 2 ac97-kvm | sed 's/^/RIG err irqchip: /'
qemu-system-x86_64 -accel kvm -nodefaults -display none -L /usr/share/qemu \
	-device ac97-kvm,audiodev=n,ctl=/dev/nonexistent -audiodev none,id=n 2>&1 | head -n 3 | sed 's/^/RIG err ctl: /'
# The playback files in the order QEMU wrote them, as ac97-capture's segments.
n=0
for f in $(for f in /tmp/out/ac97out-*; do [ -s "$f" ] && echo "$(stat -c %Y "$f") $f"; done | sort -s -n -k1,1 | cut -d' ' -f2); do
	n=$((n + 1))
	fmt=$(basename "$f" | sed 's/^ac97out-\([0-9]*\)-\([0-9]*\)\.raw.*/\1-\2/')
	mv "$f" /tmp/cap/$(printf 'seg-%03d-%s.raw' $n "$fmt")
	echo "RIG segment $n $fmt $(stat -c %s /tmp/cap/seg-$(printf %03d $n)-$fmt.raw) from $(basename $f)"
done
. /l1-end.sh
INIT
	chmod +x "$l1/init"
}

for meta in $KERNELS; do
	pkg=$(versioned "$meta")
	tree=$(kernel_tree "$pkg")
	kver=$(ls "$tree/lib/modules")
	log "== $pkg ($kver)"
	k=$work/$kver
	if ! build_module_for "$kver" "$k/src"; then
		result 1 "$kver: build ac97_emu.ko"
		continue
	fi
	make_l2_root "$k/l2root" "$tree"
	: >"$k/l2root/intel8x0.opts"	# none: what a user's guest has
	copy_program "$work/pcm-pause" "$k/l2root"
	cp "$work/pcm-find" "$k/l2root/bin/"
	cp "$work/audio/"*.wav "$k/l2root/a/"
	cp "$work/audio/pause.wav" "$k/l2root/a/reset.wav"
	mkdir -p "$k/l2root/r"
	cp "$work/feed/"*.wav "$k/l2root/r/"
	write_play_script "$k/l2root/play.sh"
	l2_playback_steps >"$k/l2root/playback-steps.sh"
	pack_initramfs "$k/l2root" "$k/l2-initrd.gz"
	make_l1_qemu_root "$k/l1root" "$tree" "$k/src/ac97_emu.ko" "$k/l2-initrd.gz"
	pack_initramfs "$k/l1root" "$k/l1-initrd.gz"

	console=$k/console.txt
	boot_and_report "$tree/boot/vmlinuz-$kver" "$k/l1-initrd.gz" "$k" "$kver" "QEMU + ac97-kvm"
	get() { grep -E "^RIG $1=" "$console" | tail -n1 | cut -d= -f2-; }

	python3 "$AC97_ROOT/scripts/analyze-capture.py" "$k/out/cap" "$work/audio" >"$k/analysis.txt" 2>&1 || true
	sed "s/^/  [$kver analysis] /" "$k/analysis.txt"
	an() { tr ' ' '\n' <"$k/analysis.txt" | grep -E "^(RESULT )?$1=" | tail -n1 | cut -d= -f2-; }
	item_ok() {
		[ "$(an "$1_bit_exact")" = yes ] && [ "$(an "$1_in_one_segment")" = yes ] &&
			[ "$(an "$1_rate_ok")" = yes ] && [ "$(an "$1_level_ok")" = yes ]
	}
	boots=$(grep -c '^L2 boot ' "$console" || true)
	result $([ "$(get qemu_rc)" = 0 ] && grep -q '^L2 done' "$console" && [ "$boots" = 3 ]; echo $?) \
		"$kver: QEMU runs the guest through a system_reset and a guest reboot to the end ($boots boots, QEMU exit $(get qemu_rc), L1 run ${secs}s)"
	result $(grep -q '^L2 device .* subsystem 0x1af4:0x1100 ' "$console" &&
		grep -q '^L2 card: .*ICH' "$console"; echo $?) \
		"$kver: ac97-kvm is QEMU's AC97 to the guest (8086:2415, subsystem 1af4:1100): snd_intel8x0 binds with no options ($(grep -m1 '^L2 driver:' "$console" | cut -d: -f2- | xargs))"
	result $(item_ok test48 && grep -q '^RIG monitor: stop' "$console" && grep -q '^RIG monitor: cont' "$console"; echo $?) \
		"$kver: aplay 48 kHz with the VM stopped 1 s in the middle (monitor stop, cont): bit-identical in QEMU's audiodev, frame-aligned ($(an test48_bytes) bytes, rate $(an test48_rate))"
	result $(item_ok test44; echo $?) \
		"$kver: aplay 44.1 kHz: the voice reopened at the guest's rate, bit-identical"
	for t in tone1 tone2 tone3; do
		result $(item_ok $t; echo $?) \
			"$kver: amixer step $t: measured $(an ${t}_level_db) dB for nominal $(an ${t}_nominal_db) dB (the codec's gain, applied by the module; QEMU's voice at 0 dB)"
	done
	result $([ "$(an mute_all_zero)" = yes ]; echo $?) \
		"$kver: Master mute: silence ($(an mute_zero_run_bytes) bytes)"
	result $(item_ok pause && grep -q '^L2 pause: pcm-pause: paused' "$console"; echo $?) \
		"$kver: pause/resume mid-stream: bit-identical"
	result $([ "$(an analysis)" = PASS ]; echo $?) \
		"$kver: QEMU's output ($(sed -n 's/^RESULT capture_segments=//p' "$k/analysis.txt")) passes every check of analyze-capture.py"
	copies=$(python3 - "$k/out/cap" "$work/audio/test48.wav" <<'PY'
import glob
import sys
import wave
with wave.open(sys.argv[2]) as w:
    ref = w.readframes(w.getnframes())
n = 0
for path in glob.glob(sys.argv[1] + '/seg-*-48000-2.raw'):
    data = open(path, 'rb').read()
    at = data.find(ref)
    while at >= 0:
        n += at % 4 == 0
        at = data.find(ref, at + 1)
print(n)
PY
)
	result $([ "$copies" = 3 ] && grep -q '^RIG monitor: system_reset' "$console"; echo $?) \
		"$kver: after QMP system_reset mid-aplay and after the guest's reboot, aplay plays on: $copies whole bit-identical copies of test48 (before, after the reset, after the reboot)"
	for r in rec48 rec44 mic48; do
		result $(grep -q "^L2 find $r: PASS" "$console"; echo $?) \
			"$kver: arecord $r, fed by QEMU's audiodev: $(grep -m1 "^L2 find $r:" "$console" | cut -d: -f2- | xargs)"
	done
	result $(! grep -qiE '^L2 (aplay|arecord|pause):.*(underrun|overrun|xrun)' "$console"; echo $?) \
		"$kver: no underrun/overrun/XRUN in the guest"
	# The BARs as the guest's PCI code placed them, from L2's sysfs.
	ranges=$(sed -n 's/^L2 device .* bars \(0x[0-9a-f]*\) \(0x[0-9a-f]*\) \(0x[0-9a-f]*\) \(0x[0-9a-f]*\) *$/\1-\2,\3-\4/p' "$console" |
		head -n 1 | sed 's/0x0*//g')
	exits=$(python3 "$AC97_ROOT/scripts/count-pio-exits.py" "$k/out/cap/trace.gz" "${ranges:-0-0}" 2>&1 || true)
	ex() { echo "$exits" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
	accesses=$(ex accesses)
	result $([ -n "$ranges" ] && [ "$(ex exits_in_ranges)" = 0 ] && [ "$(ex unattributed)" = 0 ] &&
		[ "${accesses:-0}" -gt 0 ]; echo $?) \
		"$kver: no exit to userspace on the AC'97 ports ($ranges) during the first aplay (KVM's kvm_exit, kvm_userspace_exit and kvm_pio; scripts/count-pio-exits.py): $exits"
	# The three qom-get answers, in order: the only lines that are a number.
	values=$(tr -d '\r' <"$k/out/cap/monitor.txt" 2>/dev/null | sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/(qemu) //g' |
		grep -E '^[0-9]+$' | head -n 3 | tr '\n' ' ' || true)
	unclaimed=$(echo "$values" | cut -d' ' -f1)
	echo "  [$kver] capture underruns (figure; the guest recorded silence where QEMU was late): line $(echo "$values" | cut -d' ' -f2), mic $(echo "$values" | cut -d' ' -f3)"
	result $([ "$unclaimed" = 0 ]; echo $?) \
		"$kver: no guest access reached QEMU's side of the ports in the whole run (qom-get snd0 unclaimed-accesses: ${unclaimed:-?})"
	result $(grep -q '^RIG err irqchip: .*needs KVM with the in-kernel irqchip' "$console" &&
		grep -q '^RIG err ctl: .*/dev/nonexistent' "$console"; echo $?) \
		"$kver: a clear error without the in-kernel irqchip, and without the module's node: $(grep -m1 '^RIG err ctl:' "$console" | cut -d: -f2- | xargs)"
	grep -E '^L2 irq ' "$console" | sed "s/^/  [$kver] interrupts (figure): /" || true
	sed -n '/^=== DMESG BEGIN/,/^=== DMESG END/p' "$console" >"$k/dmesg.txt"
	result $([ -s "$k/dmesg.txt" ] && "$AC97_ROOT/scripts/scan-kernel-log.sh" "$k/dmesg.txt" >"$k/reports.txt"; echo $?) \
		"$kver: L1 kernel log has no oops/WARN/BUG/lockdep line"
	result $(! grep -E '^L2 ' "$console" | grep -qE 'WARNING|BUG|Oops|Call Trace'; echo $?) \
		"$kver: L2 has no warning"
done
totals
