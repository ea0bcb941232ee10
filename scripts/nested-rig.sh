#!/usr/bin/env bash
# The nested rig: run the real ac97_emu.ko with real KVM on Debian's stock
# kernels. For each kernel (resolved through its metapackage), download the
# image, build the module against the matching headers, pack an initramfs
# (busybox-static, KVM modules, ac97_emu.ko, the test VMM and its guest), boot
# it under QEMU/TCG (-cpu max: nested SVM), load kvm-amd and ac97_emu, run the
# tests in L1, and check the results and L1's kernel log.
#   scripts/nested-rig.sh                 the stock kernels of make check
#   AC97_RIG_KERNELS=linux-image-amd64 scripts/nested-rig.sh
#       any Debian x86-64 image metapackage: linux-image-rt-amd64,
#       linux-image-6.12-cloud-amd64, ...; "debug" and "debug-rt" below
#   scripts/nested-rig.sh --debug   (in make check; alone: make check-debug)
#       the same suites on an x86-64 kernel built from Debian's linux-source
#       with KASAN, lockdep, kmemleak and debug objects (scripts/x86-debug.config);
#       KVM is built in, there is no sound (the live-ALSA step is skipped), and
#       kmemleak is scanned at the end.
#   scripts/nested-rig.sh --debug-rt   (make check-flavours)
#       the same on that kernel with PREEMPT_RT (+ scripts/x86-debug-rt.config)
#   scripts/nested-rig.sh --flavours   (make check-flavours)
#       the -rt and -cloud kernels of 6.1 and 6.12
# Kernels without sound drivers (-cloud) skip the live-ALSA step and say so.
# Last line: "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest-lib.sh"

KERNELS=${AC97_RIG_KERNELS:-"linux-image-amd64 linux-image-6.12-amd64"}
FLAVOURS="linux-image-rt-amd64 linux-image-6.12-rt-amd64 linux-image-cloud-amd64 linux-image-6.12-cloud-amd64"
case "${1:-}" in
--debug) KERNELS=debug ;;
--debug-rt) KERNELS=debug-rt ;;
--flavours) KERNELS=$FLAVOURS ;;
esac
# A silent console for this long is a hung L1 (lib.sh: qemu_tcg_once).
case "$KERNELS" in
*debug*) export AC97_QEMU_TIMEOUT=${AC97_QEMU_TIMEOUT:-3600} AC97_QEMU_SILENCE=${AC97_QEMU_SILENCE:-1500} ;;
*) export AC97_QEMU_SILENCE=${AC97_QEMU_SILENCE:-600} ;;
esac
SECONDS_TO_PLAY=${AC97_RIG_SECONDS:-3}

need_packages qemu-system-x86 busybox-static cpio xz-utils gzip gcc make libc6-dev binutils \
	dkms alsa-utils libasound2-dev libsndfile1-dev flac python3


# Each kernel boots twice: "main" runs every suite but the hostile guest under
# multi-threaded TCG; "race" runs the hostile guest with its racing vCPUs under
# single-threaded TCG. With multi-threaded TCG, L1 died or a racer failed in 4
# of ~45 runs of the racing-vCPU guest ("corrupted stack end detected inside
# scheduler" on a VMM thread, an "int3" oops at a patched static-key site in
# finish_task_switch(), a racer vCPU's triple fault); 25 runs under
# thread=single showed none. Single-threaded TCG starves slow PCM readers,
# though, hence not for the main boot. Emulated nested SVM, not ac97-emu, is
# the suspect (see README). The int3 oops points at kernel text rewritten
# while another CPU runs it: the first VM's creation and the last one's
# teardown flip static keys. So an idle VM (kvm-keeper) stays open for the
# whole of each boot, and a boot that still dies outside ac97-emu is booted
# once more (lib.sh, qemu_tcg).

work=$AC97_CACHE/run/rig${1:+-${1#--}}	# rig, rig-debug, ...: one run does not wipe another's
rm -rf "$work" && mkdir -p "$work"
log "building the test VMM and guest"
make -s -C "$AC97_ROOT/tools" OUT="$work" all play >/dev/null || die "tools build failed"

for meta in $KERNELS; do
	is_debug=
	[[ $meta == debug* ]] && is_debug=1
	if [ -n "$is_debug" ]; then
		dbg=$("$AC97_ROOT/scripts/kernel-build.sh" --x86-$meta)
		kver=$meta-$(make -s -C "$dbg" kernelrelease)
		vmlinuz=$dbg/arch/x86/boot/bzImage
		log "== x86-64 debug kernel ($kver)"
		mod=$work/$kver/src
		mkdir -p "$mod"
		(cd "$AC97_ROOT" && cp -r Kbuild Makefile ./*.c ./*.h include kunit "$mod/")
		if ! make -C "$dbg" M="$mod" W=1 modules >"$mod/build.log" 2>&1; then
			tail -n 20 "$mod/build.log" >&2
			result 1 "$kver: build of ac97_emu.ko"
			continue
		fi
		result 0 "$kver: ac97_emu.ko builds against the debug kernel (KVM built in)"
		cycles=1000
		moves=100
		stress_seconds=60
		stress_flags=-f
		# KASAN under TCG makes 1-byte reads slow: a ring of 22 s, so that the
		# odd-size readers fall behind without falling a ring behind.
		modparams=ring_kb=4096
		hostile_rounds=100
		# ac97-testvm's hang detector: the guest of the 3 s stream with its six
		# readers took 19 s on the debug kernel and 92 s on debug-rt (lockdep on
		# sleeping spinlocks, KASAN, all under TCG) against 3.5-4.5 s elsewhere.
		time_scale=2
		[[ $meta == *-rt ]] && time_scale=6
	else
		pkg=$(versioned "$meta")
		[ -n "$pkg" ] || die "cannot resolve $meta"
		tree=$(kernel_tree "$pkg")
		kver=$(ls "$tree/lib/modules")
		vmlinuz=$tree/boot/vmlinuz-$kver
		log "== $pkg ($kver)"

		# The module as users get it: built by DKMS from dkms.conf.
		mod=$work/$kver/src
		if ! build_module_dkms "$kver" "$mod"; then
			result 1 "$kver: dkms build of ac97_emu.ko"
			continue
		fi
		result 0 "$kver: dkms build against the stock headers"
		cycles=10000
		moves=200
		stress_seconds=10
		stress_flags=
		# The 1-byte reader costs ~5 us a read under TCG and fell a 256 KiB ring
		# behind the writer on 6.1-cloud once. 512 KiB: the 3 s stream (576 000
		# bytes) still wraps the ring under the odd-size readers, and a reader
		# falls a ring behind only if it has read under 51 712 bytes by its end.
		modparams=ring_kb=512
		hostile_rounds=300
		time_scale=1
		if [[ $meta == *-rt* ]]; then
			# PREEMPT_RT sets rcupdate.rcu_normal_after_boot: every expedited
			# SRCU grace period of an attach/detach (KVM's bus swaps) becomes a
			# normal one, 82 ms per cycle under TCG (10 000 cycles: 825 s); a
			# 1-byte read costs ~10 us, so the odd-size readers need a longer
			# ring to stay within one of the writer (as on the debug kernel).
			cycles=1000
			moves=40
			modparams=ring_kb=4096
		fi
	fi

	root=$work/$kver/root
	mkdir -p "$root"/{bin,proc,sys,dev,tmp,mod}
	cp /bin/busybox "$root/bin/"
	: >"$root/mod/kvm.order"
	: >"$root/mod/snd.order"
	sound=
	if [ -z "$is_debug" ]; then	# the debug kernels have KVM built in and no sound
		copy_module_closure "$tree" kvm-amd "$root/mod" kvm.order ||
			die "$kver has no kvm-amd"
		copy_module_closure "$tree" snd-aloop "$root/mod" snd.order && sound=1
	fi
	copy_program "$work/ac97play" "$root"
	copy_program /usr/bin/arecord "$root"
	mkdir -p "$root/usr/share" && cp -r /usr/share/alsa "$root/usr/share/"
	cp "$mod/ac97_emu.ko" "$root/mod/"
	cp "$work/ac97-testvm" "$work/ac97-ctltest" "$work/ac97-stress" "$work/guest.bin" "$work/kvm-keeper" "$root/"
	cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
export PATH=/bin:/
mkdir -p /tmp/out
echo "RIG boot uptime=$(cut -d' ' -f1 /proc/uptime)"
SECS=$(cat /seconds)
MODPARAMS=$(cat /modparams)
PHASE=$(cat /phase)
export AC97_TESTVM_TIME_SCALE=$(cat /time_scale)
mount -t debugfs debugfs /sys/kernel/debug
echo "RIG uname=$(uname -r) $(uname -v)"
for m in $(cat /mod/kvm.order); do	# empty: built in (debug kernels)
	insmod /mod/$m.ko || echo "RIG insmod $m failed"
done
if insmod /mod/ac97_emu.ko $MODPARAMS && [ -c /dev/ac97ctl ] && [ -c /dev/kvm ]; then
	echo "RIG load=ok"
else
	echo "RIG load=fail"
	PHASE=none	# nothing below can run (and ac97play would wait for ever)
fi
# One idle VM for the whole boot, so that the test VMs coming and going do not
# rewrite kernel text (static keys) under multi-threaded TCG: kvm-keeper.c.
kvm-keeper >/tmp/keeper.txt 2>&1 &
keeper=$!
for i in $(seq 50); do grep -q 'KEEPER up' /tmp/keeper.txt && break; sleep 0.1; done
echo "RIG keeper=$(grep -q 'KEEPER up' /tmp/keeper.txt && echo up || cat /tmp/keeper.txt)"
uptime_s() { cut -d' ' -f1 /proc/uptime; }

if [ "$PHASE" = main ]; then
# 1. The guest sweeps the registers and plays the pattern; every byte checked.
start=$(uptime_s)
ac97-testvm -q -r -s $SECS /guest.bin
echo "RIG testvm_rc=$?"
echo "RIG testvm_wall=$(awk -v s=$start '{ print $1 - s }' /proc/uptime)"

# 1b. Capture: two host writers feed the line and mic sources through the
# PCM node while the guest records PCM in and mic in at once, its memory
# slot logging dirty pages: every sample and every page checked.
ac97-testvm -q -C -b 4800 /guest.bin >/tmp/capture.txt 2>&1
echo "RIG capture_rc=$?"
grep -E '^RESULT (pi_|mc_|dev_underruns|dev_capture_samples|dev_dma_errors|guest_irqs|spurious_irqs|verdict)' /tmp/capture.txt |
	sed 's/^RESULT /RIG capture_/'
grep -v '^RESULT' /tmp/capture.txt | head -n 5 | sed 's/^/RIG capture says: /'

# 2. BARs moved by the VMM: the new ranges decode, the old ones do not.
ac97-testvm -q -m -s 0.5 /guest.bin >/tmp/move.txt
echo "RIG move_rc=$?"
grep -E '^RESULT (old_bars_dead|verdict)=' /tmp/move.txt | sed 's/^RESULT /RIG move_/'

# 2b. The VMM moves the BARs back and forth (decoding off now and then) while
# two more vCPUs read both placements, inside the handlers and across the
# bus swaps; then the guest plays at the first placement.
ac97-testvm -q -M $(cat /moves) -V 2 -s 1 /guest.bin >/tmp/moves.txt
echo "RIG moves_rc=$?"
grep -E '^RESULT (bar_moves|bar_first_bad_read|verdict)=' /tmp/moves.txt | sed 's/^RESULT /RIG moves_/'

# 3. Detach mid-DMA: the reader gets a clean prefix, then EOF.
ac97-testvm -q -D 700 -s 3 /guest.bin >/tmp/detach.txt
echo "RIG detach_rc=$?"
grep -E '^RESULT pcm_bytes_verified=' /tmp/detach.txt | sed 's/^RESULT /RIG detach_/'
grep -vE '^RESULT (pcm_bytes_verified|verdict)=' /tmp/detach.txt | tr '\n' ' ' | sed 's/^/RIG detach_says: /; s/$/\n/'

# 3b. The VMM stops the VM mid-playback (QEMU's stop and cont: vCPU out of
# KVM_RUN, then AC97_DEV_SET_STOPPED): nothing moves and no interrupt comes
# while stopped; then the rest, bit-exact, every interrupt taken once.
ac97-testvm -q -P 500 -s 2 /guest.bin >/tmp/stop.txt
echo "RIG stop_rc=$?"
grep -E '^RESULT (stop|stop_position|verdict)=' /tmp/stop.txt | sed 's/^RESULT /RIG stop_/'

# 4. Bad input from userspace on the control interface.
ac97-ctltest -n 300 >/tmp/ctl.txt
echo "RIG ctltest_rc=$?"
sed 's/^/CTL /' /tmp/ctl.txt

# 4b. 10^4 attach/detach cycles (new eventfds each, a new VM every 100): every
# VM destroyed, no file kept (ac97-ctltest checks), and unreclaimable slab and
# vmalloc use before and after. A warm-up round first, so that caches KVM and
# the allocators fill once are not counted as a leak.
mem() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
ac97-ctltest -n 1000 >/tmp/warmup.txt
sync; echo 3 >/proc/sys/vm/drop_caches; sleep 1
slab0=$(mem SUnreclaim); vm0=$(mem VmallocUsed); t0=$(cut -d' ' -f1 /proc/uptime)
ac97-ctltest -n $(cat /cycles) >/tmp/cycles.txt
rc=$?
sync; echo 3 >/proc/sys/vm/drop_caches; sleep 1
slab1=$(mem SUnreclaim); vm1=$(mem VmallocUsed)
echo "RIG cycles=$rc slab_delta_kb=$((slab1 - slab0)) vmalloc_delta_kb=$((vm1 - vm0)) seconds=$(awk -v s=$t0 '{ print $1 - s }' /proc/uptime)"
grep -E 'destroyed|no file' /tmp/cycles.txt | sed 's/^/RIG cycles_says: /'

# 4c. Everything userspace can do to the module, at once, for a while
# (ac97-stress; on the debug kernel with every allocation of an attach and a
# detach failing in turn); then a VMM that exits with its handle in an
# io_uring, whose VM must not leak.
ac97-stress -t $(cat /stress_seconds) $(cat /stress_flags) >/tmp/stress.txt 2>&1
echo "RIG stress_rc=$?"
ac97-stress -u >>/tmp/stress.txt 2>&1
echo "RIG uring_rc=$?"
mkdir -p /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup
ac97-stress -c >>/tmp/stress.txt 2>&1
echo "RIG cgroup_rc=$?"
sed 's/^/STRESS /' /tmp/stress.txt

# 5. Unload attempts at every stage: refused while anything holds the module,
# done when nothing does (then loaded again), and never a crash.
try_unload() {
	if rmmod ac97_emu 2>/dev/null; then
		echo "RIG unload_$1=unloaded"
		insmod /mod/ac97_emu.ko $MODPARAMS || echo "RIG reload_failed=$1"
	else
		echo "RIG unload_$1=refused"
	fi
}
try_unload idle
exec 3</dev/ac97ctl
try_unload ctl_open
exec 3<&-
ac97-testvm -q -s 2 /guest.bin >/tmp/busy.txt &
pid=$!
for i in $(seq 50); do [ -e /dev/ac97pcm0 ] && break; sleep 0.1; done
sleep 60 </dev/ac97pcm0 &
holder=$!
sleep 0.5
try_unload attached
wait $pid
echo "RIG busy_testvm_rc=$?"
try_unload reader_after_detach
kill $holder; wait $holder
try_unload all_closed
# Unload and load again while another process opens and closes the control node.
# The opener runs for as long as the reloads do. (A failed "exec 3<" would
# end the subshell: open with a builtin instead.)
rm -f /tmp/reloads.done
(n=0; while [ ! -e /tmp/reloads.done ]; do true 3</dev/ac97ctl 2>/dev/null && n=$((n + 1)); done
 echo $n >/tmp/opens) &
opener=$!
reloads=0
for i in $(seq 30); do
	rmmod ac97_emu 2>/dev/null && reloads=$((reloads + 1))
	insmod /mod/ac97_emu.ko $MODPARAMS 2>/dev/null
done
touch /tmp/reloads.done
wait $opener
[ -c /dev/ac97ctl ] || insmod /mod/ac97_emu.ko $MODPARAMS
echo "RIG reload_race=$reloads opens=$(cat /tmp/opens) ctl=$([ -c /dev/ac97ctl ] && echo present || echo missing)"

# 6. Two VMs at once, each with its own device and node.
ac97-testvm -q -s 2 /guest.bin >/tmp/vm1.txt &
p1=$!
ac97-testvm -q -s 2 /guest.bin >/tmp/vm2.txt &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
echo "RIG two_vms_rc=$r1,$r2 nodes=$(grep -h '^RESULT pcm_node=' /tmp/vm1.txt /tmp/vm2.txt | cut -d= -f2 | tr '\n' ' ')"

# 7. The VMM is killed mid-stream while a reader blocks on /dev/ac97pcm; its
# device handle is also in an io_uring's fixed files, the ring mapped (-U).
ac97-testvm -q -U -s 6 /guest.bin >/dev/null 2>&1 &
vmm=$!
for i in $(seq 50); do [ -e /dev/ac97pcm0 ] && break; sleep 0.1; done
cat /dev/ac97pcm >/tmp/killed.pcm &
reader=$!
sleep 1.5
kill -9 $vmm
for i in $(seq 100); do kill -0 $reader 2>/dev/null || break; sleep 0.1; done
if kill -0 $reader 2>/dev/null; then
	echo "RIG kill_reader=hung"; kill -9 $reader
else
	echo "RIG kill_reader=eof bytes=$(wc -c </tmp/killed.pcm)"
fi
wait $vmm $reader 2>/dev/null	# not a bare wait: the keeper never ends

# 8. ac97play to files: WAV and FLAC, two readers at once; they end when the device goes.
# (-W: the guest starts only once both have the node open; readers begin where the writer is.)
ac97play -q -o /tmp/out/play.wav & a=$!
ac97play -q -o /tmp/out/play.flac & b=$!
ac97-testvm -q -W $a,$b -s 2 /guest.bin >/dev/null
wait $a; ra=$?
wait $b; rb=$?
echo "RIG play_files_rc=$ra,$rb"

# 9. ac97play live, into snd-aloop; arecord records the other end.
if [ -s /mod/snd.order ]; then
for m in $(cat /mod/snd.order); do insmod /mod/$m.ko; done
# (TCG can stall a process for tens of ms: give both ends room, and report the lag seen.)
arecord -D hw:Loopback,1,0 -f S16_LE -r 48000 -c 2 -d 8 --buffer-time=1000000 /tmp/out/live.wav \
	2>/tmp/out/arecord.txt & rec=$!
ac97play -s -l 200 -D hw:Loopback,0,0 2>/tmp/out/live-status.txt & pl=$!
# (aloop drops what is played while nobody captures: wait for arecord's capture device too.)
for i in $(seq 500); do
	ls -l /proc/$rec/fd 2>/dev/null | grep -q '/dev/snd/pcmC.*c$' && break
	sleep 0.01
done
ac97-testvm -q -W $pl -s 2 /guest.bin >/dev/null
wait $pl
echo "RIG play_live_rc=$?"
wait $rec
sed 's/^/RIG status: /' /tmp/out/live-status.txt | tail -n 3
grep -v '^Recording' /tmp/out/arecord.txt | sed 's/^/RIG arecord: /'	# its overruns, if any
fi

# 10. ac97play's errors, as a user sees them.
ac97play -n -d /dev/ac97pcm 2>&1 | sed 's/^/RIG error: /'
ac97play -o /tmp/x.mp3 2>&1 | sed 's/^/RIG error: /'
ac97play -n -D nosuchdevice -d /dev/ac97pcm 2>&1 | sed 's/^/RIG error: /'

fi

if [ "$PHASE" = race ]; then
# 11. A hostile guest attacks its device with 3 more vCPUs racing run/stop/LVI
# while another VM plays next to it; a cold reset then gives the defined state.
ac97-testvm -q -H $(cat /hostile_rounds) -V 3 /guest.bin >/tmp/hostile.txt 2>&1 & h=$!
# The victim's timeout is a hang detector: it shares L1's two CPUs with the
# hostile VM's four spinning vCPUs for the whole run, so it gets the
# hostile run's budget (1 s a round), not a lone 2-second play's.
AC97_TESTVM_TIME_SCALE=$((AC97_TESTVM_TIME_SCALE * 3)) ac97-testvm -q -s 2 /guest.bin >/tmp/victim.txt 2>&1 & v=$!
wait $h; rh=$?
wait $v; rv=$?
hr() { sed -n "s/^RESULT $1=//p" /tmp/hostile.txt; }
echo "RIG hostile=$rh,$rv rounds=$(hr hostile_rounds) racers=$(hr racers_parked) race_ops=$(hr race_ops) sweep_after=$(hr sweep_checks)/$(hr sweep_fails) dma_errors=$(hr dev_dma_errors) victim_bytes=$(sed -n 's/^RESULT pcm_bytes_verified=//p' /tmp/victim.txt) victim_play_s=$(sed -n 's/^RESULT play_seconds=//p' /tmp/victim.txt)"
grep -v '^RESULT' /tmp/hostile.txt | head -n 5 | sed 's/^/RIG hostile says: /'
[ "$rv" = 0 ] || head -n 60 /tmp/victim.txt | sed 's/^/RIG victim says: /'	# which of its checks failed

fi

stty -F /dev/ttyS1 raw -echo
tar -c -C /tmp out >/dev/ttyS1

if rmmod ac97_emu; then echo "RIG unload=ok"; else echo "RIG unload=fail"; fi
kill $keeper
# kmemleak (debug kernel): two scans, as it recommends, then what is left.
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak; sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >/tmp/kmemleak.txt
	echo "RIG kmemleak=$(grep -c '^unreferenced object' /tmp/kmemleak.txt) ac97=$(grep -c 'ac97' /tmp/kmemleak.txt)"
	head -n 60 /tmp/kmemleak.txt | sed 's/^/KMEMLEAK /'
fi
echo "=== DMESG BEGIN"
dmesg
echo "=== DMESG END"
poweroff -f
INIT
	chmod +x "$root/init"
	echo "$SECONDS_TO_PLAY" >"$root/seconds"
	echo "$cycles" >"$root/cycles"
	echo "$moves" >"$root/moves"
	echo "$stress_seconds" >"$root/stress_seconds"
	echo "$stress_flags" >"$root/stress_flags"
	echo "$modparams" >"$root/modparams"
	echo "$hostile_rounds" >"$root/hostile_rounds"
	echo "$time_scale" >"$root/time_scale"
	start=$(date +%s)
	console=$work/$kver/console.log
	: >"$console.txt"
	# The debug kernel: 4-level paging (KASAN reports a wild access in early boot
	# under TCG's 5-level paging), and every KASAN report, not just the first.
	AC97_QEMU_APPEND=
	[ -n "$is_debug" ] && AC97_QEMU_APPEND="no5lvl kasan_multi_shot"
	# KVM refuses to load on PREEMPT_RT without a constant TSC ("RT requires
	# X86_FEATURE_CONSTANT_TSC"); TCG's TSC does run at a constant rate, but
	# -cpu max does not say so. Only the RT kernels get the flag: the others
	# keep the CPU model their figures were measured on.
	AC97_QEMU_CPU=max
	if [[ $meta == *-rt* ]]; then
		AC97_QEMU_CPU=max,+invtsc,x-force-features=on
		# RT threads the UART's handler; while its thread sends the results
		# tar over ttyS1, TCG's 8250 raises transmit interrupts the thread
		# has already served, and the spurious-IRQ detector reports
		# "irq 3: nobody cared" (with a Call Trace) and disables the line:
		# seen at the end of every RT boot, never on the other kernels.
		AC97_QEMU_APPEND+=" noirqdebug"
	fi
	# A debug kernel's death is never forgiven: it is there to catch ours.
	AC97_NO_RETRY=$is_debug
	export AC97_QEMU_CPU AC97_QEMU_APPEND AC97_NO_RETRY
	for phase in main race; do
		echo "$phase" >"$root/phase"
		pack_initramfs "$root" "$work/$kver/initrd-$phase.gz"
		log "booting $kver in QEMU (TCG): $phase"
		[ "$phase" = race ] && thread=single || thread=
		set +e
		AC97_TCG_THREAD=$thread qemu_tcg "$vmlinuz" "$work/$kver/initrd-$phase.gz" \
			"$console.$phase" -serial "file:$work/$kver/out-$phase.tar" \
			>"$work/$kver/qemu-$phase.log" 2>&1
		qrc=$?
		set -e
		log "$kver: QEMU exited $qrc ($phase)"
		tr -d '\r' <"$console.$phase" >>"$console.txt"
		l1_retry_note "$console.$phase"
		retried=
		[ -f "$console.$phase.died" ] && retried=", booted twice: the first died of TCG's int3 artefact (RETRIED)"
		result $(l1_finished "$console.$phase"; echo $?) \
			"$kver: L1 runs its $phase boot to the end (QEMU exit $qrc$retried)"
	done
	mv "$work/$kver/out-main.tar" "$work/$kver/out.tar" 2>/dev/null || : >"$work/$kver/out.tar"
	secs=$(($(date +%s) - start))
	grep -E '^(RIG|RESULT) ' "$console.txt" | sed "s/^/  [$kver] /"

	get() { grep -E "^(RIG|RESULT) $1=" "$console.txt" | tail -n1 | cut -d= -f2- || true; }
	if [[ $meta == *-rt* ]]; then
		result $(get uname | grep -q 'PREEMPT_RT'; echo $?) "$kver: L1 runs PREEMPT_RT ($(get uname))"
	fi
	result $([ "$(get load)" = ok ] && [ "$(grep -c '^RIG keeper=up' "$console.txt")" = 2 ]; echo $?) \
		"$kver: kvm-amd and ac97_emu.ko load, /dev/kvm and /dev/ac97ctl exist; the idle keeper VM is up in both boots"
	result $([ "$(get testvm_rc)" = 0 ] && [ "$(get verdict)" = PASS ]; echo $?) \
		"$kver: L2 guest plays $(get pcm_bytes_verified) bytes, all verified in order by 6 readers (reads of 1, 3, 7, 4095, 65536 bytes); every buffer completion seen by the guest's handler: $(get buffers_done) buffers in $(get guest_irqs) interrupts ($(get coalesced_completions) coalesced, $(get early_completions) seen early, $(get spurious_irqs) spurious), one per raise of the line ($(get dev_irq_raises))"
	result $([ "$(get capture_rc)" = 0 ] && [ "$(get capture_verdict)" = PASS ]; echo $?) \
		"$kver: L2 guest records PCM in and mic in at once, fed by two writers of the PCM node: PCM in $(get capture_pi_recorded), mic in $(get capture_mc_recorded); pages in KVM's dirty log: $(get capture_pi_dirty_pages) and $(get capture_mc_dirty_pages); $(get capture_pi_buffers)+$(get capture_mc_buffers) buffers in $(get capture_guest_irqs) interrupts ($(get capture_spurious_irqs) spurious), $(get capture_dev_underruns) underruns"
	result $([ "$(get sweep_fails)" = 0 ] && [ "$(get sweep_checks)" -gt 0 ] 2>/dev/null; echo $?) \
		"$kver: register sweep from the guest, $(get sweep_checks) checks, $(get sweep_fails) mismatches"
	result $([ "$(get move_verdict)" = PASS ] && [ "$(get move_old_bars_dead)" = 1 ]; echo $?) \
		"$kver: BARs moved at run time: new ranges decode, old ones fall through to the VMM"
	result $([ "$(get moves_rc)" = 0 ] && [ "$(get moves_verdict)" = PASS ]; echo $?) \
		"$kver: BARs moved $moves times by the VMM while 2 vCPUs read both placements inside the handlers (device value or all ones, never torn), then the guest plays bit-exact: $(get moves_bar_moves)$(get moves_bar_first_bad_read | sed "s/^./; first bad read: &/")"
	result $([ "$(get detach_rc)" = 0 ]; echo $?) \
		"$kver: detach mid-DMA: reader got an exact prefix ($(get detach_pcm_bytes_verified) bytes), then EOF"
	result $([ "$(get stop_rc)" = 0 ] && [ "$(get stop_verdict)" = PASS ]; echo $?) \
		"$kver: VM stopped mid-playback (AC97_DEV_SET_STOPPED, as QEMU's stop/cont) at sample $(get stop_stop_position): $(get stop_stop); then the rest bit-exact, every interrupt once"
	ctl_pass=$(grep -cE '^CTL ok ' "$console.txt" || true)
	grep -E '^CTL not ok ' "$console.txt" >&2 || true
	result $([ "$(get ctltest_rc)" = 0 ] && [ "$ctl_pass" -gt 30 ]; echo $?) \
		"$kver: control interface bad input: $ctl_pass cases (bad fds, bad ranges, overlaps, double attach, foreign VM, 300 attach/detach)"
	cyc=$(get cycles)
	sd=$(echo "$cyc" | sed -n 's/.*slab_delta_kb=\(-\?[0-9]*\).*/\1/p')
	vd=$(echo "$cyc" | sed -n 's/.*vmalloc_delta_kb=\(-\?[0-9]*\).*/\1/p')
	if [ -n "$is_debug" ]; then	# KASAN's quarantine holds freed objects: kmemleak judges below
		result $([ "${cyc%% *}" = 0 ]; echo $?) \
			"$kver: $cycles attach/detach cycles (ac97-ctltest -n $cycles) run; slab $sd KiB, vmalloc $vd KiB after vs before (KASAN quarantine included)"
	else
		# One 64-byte object per cycle, or any ring, leaked would fail.
		slab_limit=$((cycles * 64 / 1024))
		result $([ "${cyc%% *}" = 0 ] && [ "${sd:-99999}" -lt "$slab_limit" ] && [ "${vd:-99999}" -lt 256 ]; echo $?) \
			"$kver: $cycles attach/detach cycles after a warm-up (ac97-ctltest -n $cycles): unreclaimable slab $sd KiB, vmalloc $vd KiB after vs before (limits $slab_limit KiB = 64 bytes per cycle, and 256 KiB)"
	fi
	result $([ "$(grep -c '^RIG cycles_says: ok - ' "$console.txt")" = 2 ]; echo $?) \
		"$kver: after the cycles every VM is destroyed and no file or eventfd is left open:$(grep '^RIG cycles_says: ' "$console.txt" | cut -d: -f2- | tr '\n' ';')"
	result $([ "$(get unload_idle)" = unloaded ] && [ "$(get unload_ctl_open)" = refused ] &&
		[ "$(get unload_attached)" = refused ] && [ "$(get busy_testvm_rc)" = 0 ] &&
		[ "$(get unload_reader_after_detach)" = refused ] &&
		[ "$(get unload_all_closed)" = unloaded ] && [ -z "$(get reload_failed)" ]; echo $?) \
		"$kver: unload at every stage: idle unloads; control node open, attached and playing (playback unaffected), PCM node held after detach: refused; all closed: unloads; reloads fine"
	rr=$(get reload_race)
	result $([ "${rr%% *}" -gt 0 ] 2>/dev/null && [ "$(echo "$rr" | sed -n 's/.*opens=\([0-9]*\).*/\1/p')" -gt 0 ] &&
		[[ $rr == *ctl=present* ]]; echo $?) \
		"$kver: unload/load cycles while another process opens the control node: $rr (unloads of 30 tried, and the opens that found the node meanwhile; both must happen)"
	nodes=$(get two_vms_rc | sed -n 's/.*nodes=//p')
	result $([ "$(get two_vms_rc | cut -d' ' -f1)" = "0,0" ] && [ "$(echo $nodes | wc -w)" = 2 ] &&
		[ "$(echo $nodes | tr ' ' '\n' | sort -u | wc -l)" = 2 ]; echo $?) \
		"$kver: two VMs play at once, each verified on its own node ($nodes)"
	result $(get kill_reader | grep -qE '^eof bytes=[1-9]'; echo $?) \
		"$kver: VMM killed mid-stream, its handle also in an io_uring: the blocked reader of /dev/ac97pcm gets data, then EOF ($(get kill_reader))"
	grep '^STRESS not ok' "$console.txt" >&2 || true
	result $([ "$(get stress_rc)" = 0 ] && [ "$(grep -c '^STRESS ok - ' "$console.txt")" -ge 3 ] &&
		! grep -q '^STRESS not ok' "$console.txt"; echo $?) \
		"$kver: ac97-stress $stress_flags for $stress_seconds s:$(grep '^STRESS ok - ' "$console.txt" | grep -v 'io_uring\|cgroup' | cut -d- -f2- | tr '\n' ';')"
	result $([ "$(get uring_rc)" = 0 ]; echo $?) \
		"$kver: $(grep '^STRESS .*io_uring' "$console.txt" | cut -d- -f2- | head -n1)"
	result $([ "$(get cgroup_rc)" = 0 ]; echo $?) \
		"$kver: $(grep '^STRESS .*cgroup' "$console.txt" | cut -d- -f2- | head -n1)"
	mkdir -p "$work/$kver/files"
	tar -x -C "$work/$kver/files" -f "$work/$kver/out.tar" 2>/dev/null || true
	files=$work/$kver/files/out
	flac -s -d -f -o "$files/play-flac.wav" "$files/play.flac" 2>/dev/null || true
	check_wav() { python3 "$AC97_ROOT/scripts/check-pattern.py" "$@" 2>&1 || true; }
	wav_res=$(check_wav "$files/play.wav" 192000 exact)
	flac_res=$(check_wav "$files/play-flac.wav" 192000 exact)
	live_res=$(check_wav "$files/live.wav" 192000 contains)
	lag=$(grep -oE 'lag +[0-9]+ ms' "$console.txt" | awk '{print $2}' | sort -n | tail -n1 || true)
	result $([ "$(get play_files_rc)" = "0,0" ] && [[ $wav_res == PASS* ]]; echo $?) \
		"$kver: ac97play -o WAV: $wav_res"
	result $([[ $flac_res == PASS* ]]; echo $?) "$kver: ac97play -o FLAC: $flac_res"
	if [ -n "$sound" ]; then
		result $([ "$(get play_live_rc)" = 0 ] && [[ $live_res == PASS* ]]; echo $?) \
			"$kver: ac97play live into snd-aloop, arecord at the other end: $live_res; worst lag ${lag:-?} ms$(grep '^RIG arecord: ' "$console.txt" | head -n 3 | sed 's/^RIG/;/' | tr '\n' ' ')"
	else
		echo "skip - $kver: ac97play live into snd-aloop not run: this kernel has no sound drivers (no snd-aloop.ko)"
	fi
	result $(grep -q '^RIG error: .*hint: is the module loaded\|^RIG error: .*hint: is a VM' "$console.txt" &&
		grep -q '^RIG error: .*name a .wav or .flac' "$console.txt"; echo $?) \
		"$kver: ac97play error messages with hints"
	[ "$(get hostile | cut -d' ' -f1)" = "0,0" ] ||
		grep -E '^RIG (hostile|victim) says: ' "$console.txt" >&2 || true
	result $([ "$(get hostile | cut -d' ' -f1)" = "0,0" ]; echo $?) \
		"$kver: hostile guest (DMA at MMIO/past RAM/4 GiB edge, odd/zero/max lengths, descriptors rewritten and resets mid-DMA, every width at every offset, unacked interrupts, absurd rates, 3 vCPUs racing run/stop/reset/LVI/BDBAR), then a cold reset and a full register sweep: $(get hostile | cut -d' ' -f2-); the VM next to it played bit-exact"
	result $([ "$(grep -c '^RIG unload=ok' "$console.txt")" = 2 ]; echo $?) \
		"$kver: ac97_emu unloads after everything, in both boots"
	if [ -n "$is_debug" ]; then
		leaks=$(grep -E '^RIG kmemleak=' "$console.txt" | cut -d= -f2- | tr '\n' ';')
		grep '^KMEMLEAK ' "$console.txt" | head -n 30 >&2 || true
		result $([ "$(grep -cE '^RIG kmemleak=0 ac97=0$' "$console.txt")" = 2 ]; echo $?) \
			"$kver: kmemleak at the end of both boots: ${leaks:-no report} (unreferenced objects in all, which must be none; those naming ac97)"
	fi
	sed -n '/^=== DMESG BEGIN/,/^=== DMESG END/p' "$console.txt" >"$work/$kver/dmesg.txt"
	if [ ! -s "$work/$kver/dmesg.txt" ]; then
		result 1 "$kver: L1 kernel log captured"
	elif "$AC97_ROOT/scripts/scan-kernel-log.sh" "$work/$kver/dmesg.txt" >"$work/$kver/reports.txt"; then
		result 0 "$kver: L1 kernel log has no oops/WARN/BUG/lockdep/KASAN line"
	else
		head -n 20 "$work/$kver/reports.txt" >&2
		result 1 "$kver: L1 kernel log has no oops/WARN/BUG/lockdep/KASAN line"
	fi
	echo "  [$kver] rig wall time ${secs} s"
done
totals
