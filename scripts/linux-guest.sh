#!/usr/bin/env bash
# A real Linux guest plays and records through ac97-emu with its own
# snd_intel8x0 driver: arecord on PCM in (48 and 44.1 kHz) and mic in, while
# aplay plays, fed by ac97rec in L1 from files; pcm-find in L2 locates each
# file in its recording by exact search.
# For each stock kernel: L1 = the kernel under QEMU/TCG with kvm-amd and
# ac97_emu.ko; L2 = the same kernel booted by tools/vmm/ac97-vmm with the
# AC'97 as a PCI device, running aplay, amixer and a pause test on WAVs from
# make-test-audio.py. L1 captures the device's PCM node (ac97-capture) and
# sends it out on a second serial port; analyze-capture.py then checks it
# bit for bit, the rates, and the mixer's attenuation.
#   scripts/linux-guest.sh             both kernels
#   AC97_RIG_KERNELS=linux-image-amd64 scripts/linux-guest.sh
# Last line: "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest-lib.sh"

KERNELS=${AC97_RIG_KERNELS:-"linux-image-amd64 linux-image-6.12-amd64"}

need_packages qemu-system-x86 busybox-static cpio xz-utils gzip gcc make libc6-dev \
	binutils alsa-utils libasound2-dev python3


work=$AC97_CACHE/run/linux-guest
rm -rf "$work" && mkdir -p "$work/audio"
log "building tools and test audio"
make -s -C "$AC97_ROOT/tools" OUT="$work" all linux play >/dev/null || die "tools build failed"
python3 "$AC97_ROOT/scripts/make-test-audio.py" "$work/audio"
# What L1's ac97rec feeds and L2 records (and checks against: pcm-find).
mkdir -p "$work/rec"
python3 "$AC97_ROOT/scripts/make-test-audio.py" --capture "$work/rec"

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

	# L2: the guest plays the test sequence.
	make_l2_root "$k/l2root" "$tree"
	copy_program "$work/pcm-pause" "$k/l2root"
	cp "$work/pcm-find" "$k/l2root/bin/"	# static
	cp "$work/audio/"*.wav "$k/l2root/a/"
	mkdir -p "$k/l2root/r"
	cp "$work/rec/"*.wav "$k/l2root/r/"
	cat >"$k/l2root/play.sh" <<'PLAY'
mix() { amixer -q -c 0 sset "$@"; }
level() { amixer -c 0 sget "$1" | grep -oE '\[-?[0-9.]+dB\]' | head -n 1; }
play() { echo "L2 play $1"; aplay -D hw:0,0 "/a/$1.wav" 2>&1 | sed 's/^/L2 aplay: /'; }
# $1 name, $2 device, $3 channels, $4 rate: 3 s, then find /r/$1.wav in it.
# (snd_intel8x0 opens the MIC ADC, hw:0,1, as 2 channels: its mono stream
# comes as pairs of consecutive samples, and pcm-find compares samples.)
rec() {
	echo "L2 record $1"
	arecord -D "$2" -f S16_LE -c "$3" -r "$4" -d 3 "/tmp/$1.wav" 2>&1 | sed 's/^/L2 arecord: /'
	echo "L2 find $1: $(pcm-find "/tmp/$1.wav" "/r/$1.wav" 2>&1)"
}
# The card's line, and how often its handler found nothing pending so far.
irq=$(grep -E 'intel8x0' /proc/interrupts | head -n 1 | cut -d: -f1 | tr -d ' ')
unhandled() { echo "L2 unhandled after $1: $(sed -n 's/^unhandled *//p' /proc/irq/$irq/spurious 2>/dev/null)"; }
after() { unhandled "$1"; }
# Record the line input at 0 dB: L1's ac97rec feeds it.
amixer -q -c 0 cset name='Capture Source' Line
mix Capture 0 cap
mix Mic 23 unmute
echo "L2 mixer Capture=$(level Capture) Mic=$(level Mic) source=$(amixer -c 0 cget name='Capture Source' | grep -o ': values=.*')"
echo "L2 devices: $(cat /proc/asound/pcm | tr '\n' ';')"
echo "L2 mixer Master=$(level Master) PCM=$(level PCM)"
rec rec48 hw:0,0 2 48000 &
play test48
wait
unhandled "rec48 and test48"
rec mic48 hw:0,1 2 48000 &
rec rec44 hw:0,0 2 44100
wait
unhandled "mic48 and rec44"
# Live: L1 plays loop48 into snd-aloop over and over, and its ac97rec feeds
# the loop's capture side to the line. At 0 dB a whole copy must be exact;
# through each record gain step, the copy scaled by what amixer says. Live
# audio through an L1 under TCG has gaps now and then (a late ac97rec is an
# underrun, a late guest a drop: both counted); 4 s hold three chances of a
# whole copy of the 1 s loop, where 3 s held one or two (CI once failed a
# gain step with its only chance cut).
loop_rec() {	# $1 name, $2 Capture step, $3 seconds
	mix Capture "$2" cap
	arecord -D hw:0,0 -f S16_LE -c 2 -r 48000 -d "$3" "/tmp/$1.wav" 2>&1 | sed 's/^/L2 arecord: /'
}
loop_rec loop 0 4
unhandled loop
echo "L2 find loop: $(pcm-find -a /tmp/loop.wav /r/loop48.wav 2>&1)"
for g in 1 8 15; do
	loop_rec gain$g $g 4
	unhandled gain$g
	echo "L2 gain step $g nominal $(level Capture | tr -d '[]dB'): $(pcm-find -g /tmp/gain$g.wav /r/loop48.wav 2>&1)"
done
mix Capture 0 cap
PLAY
	l2_playback_steps >>"$k/l2root/play.sh"
	cat >>"$k/l2root/play.sh" <<'PLAY'
# The card's interrupts, and those its handler found nothing pending for
# (the kernel's "unhandled": spurious). This guest has no ACPI: an 8259,
# which is EOI'd before the handler runs.
n=$(grep -E 'intel8x0' /proc/interrupts | head -n 1 | cut -d: -f1 | tr -d ' ')
echo "L2 irq line=$n count=$(grep -E "^ *$n:" /proc/interrupts | awk '{ print $2 }') unhandled=$(sed -n 's/^unhandled *//p' /proc/irq/$n/spurious 2>/dev/null)"
PLAY
	pack_initramfs "$k/l2root" "$k/l2-initrd.gz"
	make_l1_root "$k/l1root" "$tree" "$k/src/ac97_emu.ko" "$work" "$k/l2-initrd.gz"
	pack_initramfs "$k/l1root" "$k/l1-initrd.gz"

	console=$k/console.txt
	boot_and_report "$tree/boot/vmlinuz-$kver" "$k/l1-initrd.gz" "$k" "$kver" "ac97-vmm"
	get() { grep -E "^RIG $1=" "$console" | tail -n1 | cut -d= -f2-; }

	# The host's two copies, each checked item by item (analyze-capture.py):
	# ac97-capture's segments, and ac97play's files (one per format).
	analyse() {	# $1 = label, then the analyser's arguments
		local label=$1
		shift
		python3 "$AC97_ROOT/scripts/analyze-capture.py" "$@" >"$k/analysis-$label.txt" 2>&1 || true
		sed "s/^/  [$kver $label] /" "$k/analysis-$label.txt"
	}
	analyse capture "$k/out/cap" "$work/audio"
	analyse player --player "$k/out/cap" "$work/audio"
	an() {	# $1 = label, $2 = key
		tr ' ' '\n' <"$k/analysis-$1.txt" | grep -E "^(RESULT )?$2=" | tail -n1 | cut -d= -f2-
	}
	item_ok() {	# $1 = label, $2 = item: exact, in one segment, at its rate, both channels' level
		[ "$(an "$1" "$2_bit_exact")" = yes ] && [ "$(an "$1" "$2_in_one_segment")" = yes ] &&
			[ "$(an "$1" "$2_rate_ok")" = yes ] && [ "$(an "$1" "$2_level_ok")" = yes ]
	}

	result $([ "$(get vmm_rc)" = 0 ] && grep -q '^L2 done' "$console"; echo $?) \
		"$kver: ac97-vmm boots Linux, snd_intel8x0 finds the card ($(grep -m1 '^L2 card:' "$console" | cut -d: -f2- | xargs)), guest reboots cleanly (L2 run ${secs}s)"
	result $(item_ok capture test48; echo $?) \
		"$kver: aplay 48 kHz S16_LE stereo: capture bit-identical, frame-aligned in its segment ($(an capture test48_bytes) bytes, rate $(an capture test48_rate), per-channel mismatches $(an capture test48_mismatched_samples))"
	result $(item_ok capture test44; echo $?) \
		"$kver: aplay 44.1 kHz (VRA): bit-identical, frame-aligned, reader told $(an capture test44_rate) Hz"
	for t in tone1 tone2 tone3; do
		result $(item_ok capture $t; echo $?) \
			"$kver: amixer step $t: measured $(an capture ${t}_level_db) dB (left/right) for nominal $(an capture ${t}_nominal_db) dB, samples exact"
	done
	result $([ "$(an capture mute_all_zero)" = yes ]; echo $?) \
		"$kver: Master mute: silence ($(an capture mute_zero_run_bytes) bytes of silent frames for a $(an capture mute_tone_bytes)-byte tone)"
	result $(item_ok capture pause && grep -q '^L2 pause: pcm-pause: paused' "$console"; echo $?) \
		"$kver: pause/resume mid-stream and a later aplay: bit-identical"
	result $([ "$(an capture analysis)" = PASS ]; echo $?) \
		"$kver: the whole capture ($(an capture capture_segments)) passes every check of analyze-capture.py"
	result $(! grep -qiE '^L2 (aplay|arecord|dmesg|pause):.*(underrun|overrun|xrun)' "$console"; echo $?) \
		"$kver: no underrun/overrun/XRUN in the guest"
	# An interrupt whose cause the guest withdrew (stopped the function)
	# after KVM had it and before the guest took it comes with nothing
	# pending: an irqfd cannot take a line back, and this guest's 8259 is
	# EOI'd first. The module counts those; any other is ours.
	irqline=$(grep -m1 '^L2 irq line=' "$console" | tr -d '\r' || true)
	withdrawn=$(sed -n 's/.* \([0-9]*\) lowered before the EOI.*/\1/p' "$console" | tail -n 1)
	unhandled=$(echo "$irqline" | sed -n 's/.*count=[1-9][0-9]* unhandled=\([0-9]*\)$/\1/p')
	result $([ -n "$unhandled" ] && [ -n "$withdrawn" ] && [ "$unhandled" -le "$withdrawn" ]; echo $?) \
		"$kver: no spurious interrupt in the guest but for causes it withdrew itself: ${irqline#L2 irq }, withdrawn ${withdrawn:-?} ($(grep -E '^L2 unhandled after' "$console" | awk '$NF > 0 { print $4 }' | tr '\n' ' ' | xargs))"
	for r in rec48 rec44 mic48; do
		result $(grep -q "^L2 find $r: PASS" "$console"; echo $?) \
			"$kver: arecord $r (fed by ac97rec in L1) holds the whole file bit-identical: $(grep -m1 "^L2 find $r:" "$console" | cut -d: -f2- | xargs)"
	done
	result $([ "$(get rec_line_rc)" = 0 ] && [ "$(get rec_mic_rc)" = 0 ]; echo $?) \
		"$kver: both ac97rec feeders (line: 48 kHz then, once the guest switched, 44.1 kHz; mic) end cleanly"
	result $(grep -q '^L2 find loop: PASS' "$console" && [ "$(get rec_loop_rc)" = ended ]; echo $?) \
		"$kver: live through snd-aloop (L1: aplay into hw:Loopback,0,0; ac97rec -D hw:Loopback,1,0 feeds the line; it ends with the device: $(get rec_loop_rc)): arecord holds a whole copy bit-identical: $(grep -m1 '^L2 find loop:' "$console" | cut -d: -f2- | xargs)"
	for g in 1 8 15; do
		line=$(grep -m1 "^L2 gain step $g " "$console" | tr -d '\r' || true)
		nominal=$(echo "$line" | sed -n 's/^L2 gain step [0-9]* nominal \([-0-9.]*\):.*/\1/p')
		measured=$(echo "$line" | sed -n 's/.*PASS: gain \([-+0-9.]*\) dB.*/\1/p')
		result $(awk -v n="$nominal" -v m="$measured" 'BEGIN { d = n - m; exit !(n != "" && m != "" && d < 0.1 && d > -0.1) }'; echo $?) \
			"$kver: record gain step $g: measured ${measured:-?} dB for amixer's ${nominal:-?} dB (within 0.1 dB), every sample the scaled loop within 1: ${line#*: }"
	done
	# ac97play followed the rate changes: one WAV per format, every item in it exact.
	result $([ "$(get player_rc)" = 0 ] && [ "$(an player player_split_ok)" = yes ] &&
		[ "$(an player analysis)" = PASS ]; echo $?) \
		"$kver: ac97play -o follows the format changes ($(an player player_files)); every item in its files bit-identical and frame-aligned"
	sed -n '/^=== DMESG BEGIN/,/^=== DMESG END/p' "$console" >"$k/dmesg.txt"
	result $([ -s "$k/dmesg.txt" ] && "$AC97_ROOT/scripts/scan-kernel-log.sh" "$k/dmesg.txt" >"$k/reports.txt"; echo $?) \
		"$kver: L1 kernel log has no oops/WARN/BUG/lockdep line"
	result $(! grep -E '^L2 dmesg:' "$console" | grep -qE 'WARNING|BUG|Oops|Call Trace'; echo $?) \
		"$kver: L2 kernel log (sound lines) has no warning"
done
totals
