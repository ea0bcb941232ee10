# The two-level stack the Linux-guest test and the demo run: L1 = a stock
# kernel under QEMU/TCG with kvm-amd and ac97_emu.ko; L2 = the same kernel
# booted by tools/vmm/ac97-vmm, with snd_intel8x0 and alsa-utils, running
# /play.sh. L1 captures the device's PCM node and sends the capture out on
# its second serial port. Sourced after lib.sh.
# shellcheck shell=bash

SOUND_MODULES="soundcore snd snd-timer snd-pcm ac97_bus snd-ac97-codec snd-intel8x0"

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

# The playback half of the Linux guest's sequence, as play-script text
# (analyze-capture.py's PLAN): test44 at 0 dB, three tones through Master
# and PCM steps, one with Master muted, then pause.wav paused and resumed
# mid-stream. The play script defines play, mix and level, and "after",
# which runs after test44 and after the pause.
l2_playback_steps() {
	cat <<'STEPS'
play test44
after test44
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
after "tones and pause"
STEPS
}

# L1's /l1-start.sh, which its init sources first (mounts, KVM and
# ac97_emu.ko, one idle VM for the whole boot, then "RIG L1 up"), and
# /l1-end.sh, which it sources last (/tmp/cap out on the second serial
# port as a tar, the kernel log, power off), in root $1.
write_l1_start_end() {
	cat >"$1/l1-start.sh" <<'START'
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
export PATH=/bin
for m in irqbypass ccp kvm kvm-amd ac97_emu; do insmod /mod/$m.ko || echo "RIG insmod $m failed"; done
# One idle VM for the whole boot: L2's VM then flips no static key when it
# comes and goes (kvm-keeper.c; README, "Known limits").
kvm-keeper >/tmp/keeper.txt 2>&1 &
for i in $(seq 50); do grep -q 'KEEPER up' /tmp/keeper.txt && break; sleep 0.1; done
echo "RIG keeper=$(grep -q 'KEEPER up' /tmp/keeper.txt && echo up || cat /tmp/keeper.txt)"
echo "RIG L1 up"
mkdir -p /tmp/cap
START
	cat >"$1/l1-end.sh" <<'END'
stty -F /dev/ttyS1 raw -echo
tar -c -C /tmp cap >/dev/ttyS1
echo "RIG sent=yes"
echo "=== DMESG BEGIN"
dmesg
echo "=== DMESG END"
poweroff -f
END
}

# L2 root in $1 from kernel tree $2: busybox, the sound modules, aplay and
# amixer with ALSA's configuration, and an init that runs /pre.sh if the
# caller adds one, loads the driver (options: /intel8x0.opts if the caller
# adds one), sets the mixer to 0 dB, runs /play.sh
# (which the caller adds) and reboots.
make_l2_root() {
	local l2=$1 tree=$2 m
	mkdir -p "$l2"/{bin,proc,sys,dev,tmp,mod,a,usr/share}
	cp /bin/busybox "$l2/bin/"
	for m in $SOUND_MODULES; do copy_module "$tree" "$m" "$l2/mod"; done
	copy_program /usr/bin/aplay "$l2"
	copy_program /usr/bin/arecord "$l2"
	copy_program /usr/bin/amixer "$l2"
	cp -r /usr/share/alsa "$l2/usr/share/"
	cat >"$l2/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
export PATH=/bin
[ -f /pre.sh ] && . /pre.sh	# before the driver binds (the benchmark's probe)
for m in soundcore snd snd-timer snd-pcm ac97_bus snd-ac97-codec; do insmod /mod/$m.ko; done
# The driver's options: /intel8x0.opts if the caller adds one (QEMU's
# subsystem ID tells the driver it runs in a VM; ac97-vmm's does not).
opts="inside_vm=1 ac97_clock=48000"
[ -f /intel8x0.opts ] && opts=$(cat /intel8x0.opts)
insmod /mod/snd-intel8x0.ko $opts
echo "L2 card: $(head -n 2 /proc/asound/cards | tail -n 1 | sed 's/^ *//')"
# ALSA starts the AC'97 mixer muted; 31 and 23 are 0 dB on Master and PCM.
amixer -q -c 0 sset Master 31 unmute
amixer -q -c 0 sset PCM 23 unmute
. /play.sh
dmesg | grep -iE 'intel8x0|ac97|xrun|underrun' | sed 's/^/L2 dmesg: /'
echo "L2 done"
sleep 1	# let the serial port drain
reboot -f
INIT
	chmod +x "$l2/init"
}

# L1 root in $1 from kernel tree $2, with ac97_emu.ko $3, the tools in $4 and
# L2's initramfs $5. Its init runs ac97-capture and ac97-vmm, then sends the
# capture as a tar on /dev/ttyS1 and prints its kernel log. If the tools
# have ac97rec and a rec/ directory of WAVs (make-test-audio.py --capture),
# two ac97rec feed them to what L2 records: rec48 then rec44 to PCM in,
# mic48 to mic in. Once the line file feeder is done, a third, live, takes
# over the line from snd-aloop's capture side, into whose playback side an
# aplay plays loop48 over and over (L2's loop and gain recordings).
make_l1_root() {
	local l1=$1 tree=$2 ko=$3 tools=$4 l2initrd=$5 kver m
	kver=$(ls "$tree/lib/modules")
	mkdir -p "$l1"/{bin,proc,sys,dev,tmp,mod,l2}
	cp /bin/busybox "$l1/bin/"
	for m in irqbypass ccp kvm kvm-amd; do copy_module "$tree" "$m" "$l1/mod"; done
	cp "$ko" "$l1/mod/"
	cp "$tools/ac97-vmm" "$tools/ac97-capture" "$tools/kvm-keeper" "$l1/bin/"
	[ -x "$tools/ac97play" ] && copy_program "$tools/ac97play" "$l1"
	if [ -x "$tools/ac97rec" ] && [ -d "$tools/rec" ]; then
		copy_program "$tools/ac97rec" "$l1"
		cp -r "$tools/rec" "$l1/rec"
		for m in soundcore snd snd-timer snd-pcm snd-aloop; do copy_module "$tree" "$m" "$l1/mod"; done
		copy_program /usr/bin/aplay "$l1"
		mkdir -p "$l1/usr/share"
		cp -r /usr/share/alsa "$l1/usr/share/"
	fi
	cp "$tree/boot/vmlinuz-$kver" "$l1/l2/vmlinuz"
	cp "$l2initrd" "$l1/l2/initrd.gz"
	echo "${AC97_L2_CMDLINE:-quiet loglevel=3}" >"$l1/l2/cmdline"
	write_l1_start_end "$l1"
	cat >"$l1/init" <<'INIT'
#!/bin/busybox sh
. /l1-start.sh
ac97-capture -w 300 /tmp/cap >/tmp/segments.txt &
cap=$!
player=
if [ -x /bin/ac97play ]; then
	ac97play -q -o /tmp/cap/player.wav &
	player=$!
fi
recl= recm=
if [ -x /bin/ac97rec ] && [ -d /rec ]; then
	ac97rec -s -i /rec/rec48.wav -i /rec/rec44.wav >/tmp/rec-line.txt 2>&1 &
	recl=$!
	ac97rec -s -m -i /rec/mic48.wav >/tmp/rec-mic.txt 2>&1 &
	recm=$!
	for m in soundcore snd snd-timer snd-pcm snd-aloop; do insmod /mod/$m.ko || echo "RIG insmod $m failed"; done
	(
		while kill -0 $recl 2>/dev/null; do sleep 0.2; done
		ac97rec -s -D hw:Loopback,1,0 >/tmp/rec-loop.txt 2>&1 &
		echo $! >/tmp/rec-loop.pid
		# The loop runs at one rate on both ends: play into it once the
		# feeder has its capture end open at loop48's (the guest records at
		# 44.1 kHz until then). One aplay, fed without a gap.
		until grep -q 'open at 48000 Hz' /tmp/rec-loop.txt 2>/dev/null; do
			[ -e /tmp/loop.stop ] && exit 0
			sleep 0.2
		done
		while [ ! -e /tmp/loop.stop ]; do
			(while cat /rec/loop48.raw; do :; done) |
				aplay -q -t raw -f S16_LE -r 48000 -c 2 -D hw:Loopback,0,0 2>>/tmp/loop-aplay.txt
			sleep 0.2
		done
	) &
	loop=$!
fi
start=$(cut -d' ' -f1 /proc/uptime)
timeout 600 ac97-vmm -k /l2/vmlinuz -i /l2/initrd.gz -m 320 \
	-c "console=ttyS0 reboot=k panic=-1 $(cat /l2/cmdline) snd_intel8x0.inside_vm=1 snd_intel8x0.ac97_clock=48000"
echo "RIG vmm_rc=$?"
echo "RIG l2_wall=$(awk -v s=$start '{ print $1 - s }' /proc/uptime)"
wait $cap
echo "RIG capture_rc=$?"
if [ -n "$player" ]; then
	wait $player
	echo "RIG player_rc=$?"
fi
if [ -n "$recl" ]; then
	wait $recl
	echo "RIG rec_line_rc=$?"
	wait $recm
	echo "RIG rec_mic_rc=$?"
	# The live feeder ends as its device goes; then the loop is stopped.
	pid=$(cat /tmp/rec-loop.pid 2>/dev/null)
	i=0
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
	if [ -z "$pid" ]; then
		echo "RIG rec_loop_rc=never-started"
	elif kill -0 "$pid" 2>/dev/null; then
		echo "RIG rec_loop_rc=still-running"
		kill "$pid"
	else
		echo "RIG rec_loop_rc=ended"
	fi
	touch /tmp/loop.stop
	killall aplay cat 2>/dev/null
	wait $loop
	tail -n 3 /tmp/rec-line.txt /tmp/rec-mic.txt | sed 's/^/RIG ac97rec: /'
	grep -v '^ *[0-9]* Hz' /tmp/rec-loop.txt | head -n 8 | sed 's/^/RIG ac97rec loop: /'
	tail -n 2 /tmp/rec-loop.txt | sed 's/^/RIG ac97rec loop: /'
	sort /tmp/loop-aplay.txt 2>/dev/null | uniq -c | head -n 5 | sed 's/^/RIG loop aplay: /'
fi
sed 's/^/RIG /' /tmp/segments.txt
. /l1-end.sh
INIT
	chmod +x "$l1/init"
}

# L1 root in $1 for a QEMU guest: kernel tree $2's KVM modules, ac97_emu.ko
# $3, L2's kernel and initramfs $4, QEMU $5 with its libraries and the
# firmware it loads, kvm-keeper $6, /l1-start.sh and /l1-end.sh
# (write_l1_start_end). The caller writes the init.
make_l1_qemu_base() {
	local l1=$1 tree=$2 ko=$3 l2initrd=$4 qemu=$5 keeper=$6 kver m f
	kver=$(ls "$tree/lib/modules")
	mkdir -p "$l1"/{bin,proc,sys,dev,tmp,mod,l2,usr/share/qemu}
	cp /bin/busybox "$l1/bin/"
	for m in irqbypass ccp kvm kvm-amd; do copy_module "$tree" "$m" "$l1/mod"; done
	cp "$ko" "$l1/mod/"
	cp "$keeper" "$l1/bin/"
	copy_program "$qemu" "$l1"
	for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin \
		 /usr/share/qemu/linuxboot_dma.bin; do
		cp -L "$f" "$l1/usr/share/qemu/"
	done
	cp "$tree/boot/vmlinuz-$kver" "$l1/l2/vmlinuz"
	cp "$l2initrd" "$l1/l2/initrd.gz"
	write_l1_start_end "$l1"
}

# Boot L1 (vmlinuz $1, initramfs $2), writing the console to $3/console.log
# and the capture to $3/capture.tar; show the guest's progress lines as they
# come. Extracts the capture into $3/out/cap. Returns QEMU's status.
run_stack() {
	local vmlinuz=$1 initrd=$2 dir=$3 qrc pid shown=0 n
	: >"$dir/console.log"
	AC97_QEMU_SILENCE=${AC97_QEMU_SILENCE:-300} qemu_tcg "$vmlinuz" "$initrd" "$dir/console.log" \
		-serial "file:$dir/capture.tar" >"$dir/qemu.log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		n=$(tr -d '\r' <"$dir/console.log" | grep -cE '^(RIG L1 up|L2 )' || true)
		if [ "$n" -gt "$shown" ]; then
			tr -d '\r' <"$dir/console.log" | grep -E '^(RIG L1 up|L2 )' |
				tail -n $((n - shown)) | grep -vE '^L2 (dmesg|aplay: Playing)' |
				sed 's/^/    | /' >&2 || true
			shown=$n
		fi
	done
	wait "$pid"
	qrc=$?
	l1_retry_note "$dir/console.log"
	tr -d '\r' <"$dir/console.log" >"$dir/console.txt"
	mkdir -p "$dir/out"
	tar -x -C "$dir/out" -f "$dir/capture.tar" 2>/dev/null || true
	return $qrc
}

# Boot the stack (run_stack: vmlinuz $1, initramfs $2, directory $3) for
# kernel version $4, L2 running under $5, and report: the time taken (sets
# secs), whether L1 ran its init to the end (a result), the console's RIG
# and L2 lines.
boot_and_report() {
	local start qrc retried=
	log "booting $4: L1 in QEMU (TCG), L2 Linux in $5"
	start=$(date +%s)
	run_stack "$1" "$2" "$3" && qrc=0 || qrc=$?
	secs=$(($(date +%s) - start))
	log "$4: QEMU (L1) exited $qrc after $secs s"
	[ -f "$3/console.log.died" ] &&
		retried=" (booted twice: the first died of TCG's int3 artefact, RETRIED)"
	result $(l1_finished "$3/console.txt"; echo $?) "$4: L1 runs its init to the end$retried"
	grep -E '^(RIG|L2) ' "$3/console.txt" | grep -vE '^RIG SEGMENT|^L2 (aplay|arecord): (Playing|Recording)' |
		sed "s/^/  [$4] /"
}
