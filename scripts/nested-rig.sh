#!/usr/bin/env bash
# The nested rig: run the real ac97_emu.ko with real KVM on Debian's stock
# kernels. For each kernel (resolved through its metapackage), download the
# image, build the module against the matching headers, pack an initramfs
# (busybox-static, KVM modules, ac97_emu.ko, the test VMM and its guest), boot
# it under QEMU/TCG (-cpu max: nested SVM), load kvm-amd and ac97_emu, run the
# tests in L1, and check the results and L1's kernel log.
#   scripts/nested-rig.sh                 both kernels
#   AC97_RIG_KERNELS=linux-image-amd64 scripts/nested-rig.sh
# Last line: "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KERNELS=${AC97_RIG_KERNELS:-"linux-image-amd64 linux-image-6.12-amd64"}
SECONDS_TO_PLAY=${AC97_RIG_SECONDS:-3}

need_packages qemu-system-x86 busybox-static cpio xz-utils gzip gcc make libc6-dev binutils

passed=0
failed=0
result() {	# $1 = 0 for pass, $2 = description
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"; passed=$((passed + 1))
	else
		echo "not ok - $2"; failed=$((failed + 1))
	fi
}

# The versioned package a metapackage points at, e.g. linux-image-6.1.0-56-amd64.
versioned() {
	apt-cache depends "$1" | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# Extract the kernel image package once; print its directory.
kernel_tree() {
	local pkg=$1 ver dir deb
	ver=$(candidate_version "$pkg")
	dir=$AC97_CACHE/kernels/$pkg-$ver
	if [ ! -f "$dir/.extracted" ]; then
		deb=$(fetch_deb "$pkg" "$ver")
		rm -rf "$dir" && mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir"
		touch "$dir/.extracted"
	fi
	echo "$dir"
}

# Copy module $2 of kernel tree $1 (decompressed) into directory $3.
copy_module() {
	local tree=$1 name=$2 dest=$3 f
	f=$(find "$tree/lib/modules" -name "$name.ko" -o -name "$name.ko.xz" | head -n1)
	[ -n "$f" ] || die "module $name not in $tree"
	case "$f" in
	*.xz) xz -dc "$f" >"$dest/$name.ko" ;;
	*) cp "$f" "$dest/$name.ko" ;;
	esac
}

work=$AC97_CACHE/run/rig
rm -rf "$work" && mkdir -p "$work"
log "building the test VMM and guest"
make -s -C "$AC97_ROOT/tools" OUT="$work" >/dev/null || die "tools build failed"

for meta in $KERNELS; do
	pkg=$(versioned "$meta")
	[ -n "$pkg" ] || die "cannot resolve $meta"
	tree=$(kernel_tree "$pkg")
	kver=$(ls "$tree/lib/modules")
	need_packages "linux-headers-$kver"
	log "== $pkg ($kver)"

	mod=$work/$kver/src
	mkdir -p "$mod"
	(cd "$AC97_ROOT" && cp -r Kbuild Makefile ./*.c ./*.h include kunit "$mod/")
	if ! make -C "/usr/src/linux-headers-$kver" M="$mod" modules >"$work/$kver/build.log" 2>&1; then
		tail -n 20 "$work/$kver/build.log" >&2
		result 1 "$kver: build ac97_emu.ko"
		continue
	fi

	root=$work/$kver/root
	mkdir -p "$root"/{bin,proc,sys,dev,tmp,mod}
	cp /bin/busybox "$root/bin/"
	for m in irqbypass ccp kvm kvm-amd; do copy_module "$tree" "$m" "$root/mod"; done
	cp "$mod/ac97_emu.ko" "$root/mod/"
	cp "$work/ac97-testvm" "$work/guest.bin" "$root/"
	cat >"$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "RIG boot uptime=\$(cut -d' ' -f1 /proc/uptime)"
for m in irqbypass ccp kvm kvm-amd; do
	insmod /mod/\$m.ko || echo "RIG insmod \$m failed"
done
if insmod /mod/ac97_emu.ko && [ -c /dev/ac97ctl ] && [ -c /dev/kvm ]; then
	echo "RIG load=ok"
else
	echo "RIG load=fail"
fi
start=\$(cut -d' ' -f1 /proc/uptime)
/ac97-testvm -s $SECONDS_TO_PLAY /guest.bin
echo "RIG testvm_rc=\$?"
echo "RIG testvm_wall=\$(awk -v s=\$start '{ print \$1 - s }' /proc/uptime)"
if rmmod ac97_emu; then echo "RIG unload=ok"; else echo "RIG unload=fail"; fi
echo "=== DMESG BEGIN"
dmesg
echo "=== DMESG END"
poweroff -f
INIT
	chmod +x "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/$kver/initrd.gz"

	log "booting $kver in QEMU (TCG)"
	start=$(date +%s)
	console=$work/$kver/console.log
	set +e
	timeout 900 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 \
		-nodefaults -display none -no-reboot -serial "file:$console" \
		-kernel "$tree/boot/vmlinuz-$kver" -initrd "$work/$kver/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4" </dev/null >"$work/$kver/qemu.log" 2>&1
	qrc=$?
	set -e
	secs=$(($(date +%s) - start))
	log "$kver: QEMU exited $qrc after $secs s"
	tr -d '\r' <"$console" >"$console.txt"
	grep -E '^(RIG|RESULT) ' "$console.txt" | sed "s/^/  [$kver] /"

	get() { grep -E "^(RIG|RESULT) $1=" "$console.txt" | tail -n1 | cut -d= -f2-; }
	result $([ "$(get load)" = ok ]; echo $?) "$kver: kvm-amd and ac97_emu.ko load, /dev/kvm and /dev/ac97ctl exist"
	result $([ "$(get testvm_rc)" = 0 ] && [ "$(get verdict)" = PASS ]; echo $?) \
		"$kver: L2 guest plays $(get pcm_bytes_verified) bytes, all verified in order; $(get guest_irqs) interrupts for $(get buffers_done) buffers"
	result $([ "$(get sweep_fails)" = 0 ] && [ "$(get sweep_checks)" -gt 0 ] 2>/dev/null; echo $?) \
		"$kver: register sweep from the guest, $(get sweep_checks) checks, $(get sweep_fails) mismatches"
	result $([ "$(get unload)" = ok ]; echo $?) "$kver: ac97_emu unloads after detach"
	sed -n '/^=== DMESG BEGIN/,/^=== DMESG END/p' "$console.txt" >"$work/$kver/dmesg.txt"
	if [ ! -s "$work/$kver/dmesg.txt" ]; then
		result 1 "$kver: L1 kernel log captured"
	elif "$AC97_ROOT/scripts/scan-kernel-log.sh" "$work/$kver/dmesg.txt" >"$work/$kver/reports.txt"; then
		result 0 "$kver: L1 kernel log has no oops/WARN/BUG/lockdep line"
	else
		head -n 20 "$work/$kver/reports.txt" >&2
		result 1 "$kver: L1 kernel log has no oops/WARN/BUG/lockdep line"
	fi
	echo "  [$kver] rig wall time ${secs} s"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
