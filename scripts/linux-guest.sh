#!/usr/bin/env bash
# A real Linux guest plays through ac97-emu with its own snd_intel8x0 driver.
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

KERNELS=${AC97_RIG_KERNELS:-"linux-image-amd64 linux-image-6.12-amd64"}
SOUND_MODULES="soundcore snd snd-timer snd-pcm ac97_bus snd-ac97-codec snd-intel8x0"

need_packages qemu-system-x86 busybox-static cpio xz-utils gzip gcc make libc6-dev \
	binutils alsa-utils libasound2-dev python3

passed=0
failed=0
result() {
	if [ "$1" -eq 0 ]; then echo "ok - $2"; passed=$((passed + 1))
	else echo "not ok - $2"; failed=$((failed + 1)); fi
}

# Copy program $1 and the shared libraries it needs into root $2.
copy_program() {
	local prog=$1 root=$2 lib
	mkdir -p "$root/bin"
	cp "$prog" "$root/bin/"
	for lib in $(ldd "$prog" | grep -oE '/[^ ]+\.so[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

work=$AC97_CACHE/run/linux-guest
rm -rf "$work" && mkdir -p "$work/audio"
log "building tools and test audio"
make -s -C "$AC97_ROOT/tools" OUT="$work" all linux >/dev/null || die "tools build failed"
python3 "$AC97_ROOT/scripts/make-test-audio.py" "$work/audio"

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

	# L2: the guest's initramfs.
	l2=$k/l2root
	mkdir -p "$l2"/{bin,proc,sys,dev,tmp,mod,a}
	cp /bin/busybox "$l2/bin/"
	for m in $SOUND_MODULES; do copy_module "$tree" "$m" "$l2/mod"; done
	copy_program /usr/bin/aplay "$l2"
	copy_program /usr/bin/amixer "$l2"
	copy_program "$work/pcm-pause" "$l2"
	mkdir -p "$l2/usr/share"
	cp -r /usr/share/alsa "$l2/usr/share/"
	cp "$work/audio/"*.wav "$l2/a/"
	cat >"$l2/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
export PATH=/bin
for m in soundcore snd snd-timer snd-pcm ac97_bus snd-ac97-codec; do insmod /mod/$m.ko; done
insmod /mod/snd-intel8x0.ko inside_vm=1 ac97_clock=48000
echo "L2 card: $(head -n 2 /proc/asound/cards | tail -n 1 | sed 's/^ *//')"
mix() { amixer -q -c 0 sset "$@"; }
level() { amixer -c 0 sget "$1" | grep -oE '\[-?[0-9.]+dB\]' | head -n 1; }
play() { echo "L2 play $1"; aplay -D hw:0,0 "/a/$1.wav" 2>&1 | sed 's/^/L2 aplay: /'; }
mix Master 31 unmute
mix PCM 23 unmute
echo "L2 mixer Master=$(level Master) PCM=$(level PCM)"
play test48
grep -E ' (0|4|5):' /proc/interrupts | sed 's/^/L2 interrupts: /'
play test44
mix Master 25
echo "L2 mixer Master=$(level Master) PCM=$(level PCM)"
play tone1
mix Master 31
mix PCM 20
echo "L2 mixer Master=$(level Master) PCM=$(level PCM)"
play tone2
mix PCM 27
echo "L2 mixer Master=$(level Master) PCM=$(level PCM)"
play tone3
mix PCM 23
mix Master mute
play tone4
mix Master unmute
echo "L2 play pause"
pcm-pause hw:0,0 /a/pause.wav 1.0 0.5 2>&1 | sed 's/^/L2 pause: /'
dmesg | grep -iE 'intel8x0|ac97|xrun|underrun' | sed 's/^/L2 dmesg: /'
echo "L2 done"
reboot -f
INIT
	chmod +x "$l2/init"
	pack_initramfs "$l2" "$k/l2-initrd.gz"

	# L1: the host of the guest.
	l1=$k/l1root
	mkdir -p "$l1"/{bin,proc,sys,dev,tmp,mod,l2}
	cp /bin/busybox "$l1/bin/"
	for m in irqbypass ccp kvm kvm-amd; do copy_module "$tree" "$m" "$l1/mod"; done
	cp "$k/src/ac97_emu.ko" "$l1/mod/"
	cp "$work/ac97-vmm" "$work/ac97-capture" "$l1/bin/"
	cp "$tree/boot/vmlinuz-$kver" "$l1/l2/vmlinuz"
	cp "$k/l2-initrd.gz" "$l1/l2/initrd.gz"
	echo "${AC97_L2_CMDLINE:-quiet loglevel=3}" >"$l1/l2/cmdline"
	echo "${AC97_L1_TRACE:-}" >"$l1/l2/trace"
	cat >"$l1/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
export PATH=/bin
for m in irqbypass ccp kvm kvm-amd ac97_emu; do insmod /mod/$m.ko || echo "RIG insmod $m failed"; done
if [ -n "$(cat /l2/trace 2>/dev/null)" ]; then
	mount -t tracefs tracefs /sys/kernel/tracing
	for e in kvm_set_irq kvm_pic_set_irq kvm_ack_irq; do
		echo 1 >/sys/kernel/tracing/events/kvm/$e/enable
	done
	echo 'port >= 0xc100 && port < 0xc140' >/sys/kernel/tracing/events/kvm/kvm_pio/filter
	echo 1 >/sys/kernel/tracing/events/kvm/kvm_pio/enable
	echo 16384 >/sys/kernel/tracing/buffer_size_kb
fi
mkdir -p /tmp/cap
ac97-capture -w 300 /tmp/cap >/tmp/segments.txt &
cap=$!
start=$(cut -d' ' -f1 /proc/uptime)
timeout 600 ac97-vmm -k /l2/vmlinuz -i /l2/initrd.gz -m 320 \
	-c "console=ttyS0 reboot=k panic=-1 $(cat /l2/cmdline) snd_intel8x0.inside_vm=1 snd_intel8x0.ac97_clock=48000"
echo "RIG vmm_rc=$?"
echo "RIG l2_wall=$(awk -v s=$start '{ print $1 - s }' /proc/uptime)"
wait $cap
echo "RIG capture_rc=$?"
sed 's/^/RIG /' /tmp/segments.txt
stty -F /dev/ttyS1 raw -echo
tar -c -C /tmp cap >/dev/ttyS1
echo "RIG sent=yes"
if [ -n "$(cat /l2/trace 2>/dev/null)" ]; then
	grep -E 'gsi 5|pin 5|kvm_pio' /sys/kernel/tracing/trace | grep -vE 'pio_read at 0xc13[0-4]' | head -n 150 | sed 's/^/TRACE /'
fi
echo "=== DMESG BEGIN"
dmesg
echo "=== DMESG END"
poweroff -f
INIT
	chmod +x "$l1/init"
	pack_initramfs "$l1" "$k/l1-initrd.gz"

	log "booting $kver: L1 in QEMU (TCG), L2 Linux in ac97-vmm"
	start=$(date +%s)
	console=$k/console.log
	set +e
	qemu_tcg "$tree/boot/vmlinuz-$kver" "$k/l1-initrd.gz" "$console" \
		-serial "file:$k/capture.tar" >"$k/qemu.log" 2>&1
	qrc=$?
	set -e
	secs=$(($(date +%s) - start))
	log "$kver: QEMU exited $qrc after $secs s"
	tr -d '\r' <"$console" >"$console.txt"
	grep -E '^(RIG|L2) ' "$console.txt" | sed "s/^/  [$kver] /"
	get() { grep -E "^RIG $1=" "$console.txt" | tail -n1 | cut -d= -f2-; }

	mkdir -p "$k/out"
	tar -x -C "$k/out" -f "$k/capture.tar" 2>/dev/null || true
	python3 "$AC97_ROOT/scripts/analyze-capture.py" "$k/out/cap" "$work/audio" >"$k/analysis.txt" 2>&1 || true
	sed "s/^/  [$kver] /" "$k/analysis.txt"
	an() { tr ' ' '\n' <"$k/analysis.txt" | grep -E "^(RESULT )?$1=" | tail -n1 | cut -d= -f2-; }

	result $([ "$(get vmm_rc)" = 0 ] && grep -q '^L2 done' "$console.txt"; echo $?) \
		"$kver: ac97-vmm boots Linux, snd_intel8x0 finds the card ($(grep -m1 '^L2 card:' "$console.txt" | cut -d: -f2- | xargs)), guest reboots cleanly (L2 run ${secs}s)"
	result $([ "$(an test48_bit_exact)" = yes ]; echo $?) \
		"$kver: aplay 48 kHz S16_LE stereo: capture bit-identical ($(an test48_bytes) bytes, rate $(an test48_rate))"
	result $([ "$(an test44_bit_exact)" = yes ] && [ "$(an test44_rate)" = 44100 ]; echo $?) \
		"$kver: aplay 44.1 kHz (VRA): bit-identical, reader told $(an test44_rate) Hz"
	for t in tone1 tone2 tone3; do
		result $([ "$(an ${t}_bit_exact)" = yes ] && awk -v m="$(an ${t}_level_db | cut -d/ -f1)" -v n="$(an ${t}_nominal_db)" 'BEGIN { d = m - n; exit !(d < 0.1 && d > -0.1) }'; echo $?) \
			"$kver: amixer step $t: measured $(an ${t}_level_db) dB for nominal $(an ${t}_nominal_db) dB, samples exact"
	done
	result $([ "$(an mute_all_zero)" = yes ]; echo $?) "$kver: Master mute: silence ($(an mute_gap_bytes) zero bytes)"
	result $([ "$(an pause_bit_exact)" = yes ] && grep -q '^L2 pause: pcm-pause: paused' "$console.txt"; echo $?) \
		"$kver: pause/resume mid-stream and a later aplay: bit-identical"
	result $(! grep -qiE '^L2 (aplay|dmesg|pause):.*(underrun|xrun)' "$console.txt"; echo $?) \
		"$kver: no underrun/XRUN in the guest"
	sed -n '/^=== DMESG BEGIN/,/^=== DMESG END/p' "$console.txt" >"$k/dmesg.txt"
	result $([ -s "$k/dmesg.txt" ] && "$AC97_ROOT/scripts/scan-kernel-log.sh" "$k/dmesg.txt" >"$k/reports.txt"; echo $?) \
		"$kver: L1 kernel log has no oops/WARN/BUG/lockdep line"
	result $(! grep -E '^L2 dmesg:' "$console.txt" | grep -qE 'WARNING|BUG|Oops|Call Trace'; echo $?) \
		"$kver: L2 kernel log (sound lines) has no warning"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
