#!/usr/bin/env bash
# `make demo`: the whole stack, end to end, on Debian's stock kernel in QEMU.
# Installs what it needs, builds ac97_emu.ko and the tools, boots the stock
# kernel under QEMU (TCG) with KVM inside, boots the same kernel as a guest
# of ac97-vmm with ac97-emu as its sound card, plays a bundled sound with the
# guest's own aplay, and leaves in out/demo/: the captured WAV, its
# spectrogram, and a summary.
#   scripts/demo.sh          the guest under ac97-vmm, the host reads the PCM node
#   scripts/demo.sh --qemu   `make demo-qemu`: the guest under QEMU with
#                            -device ac97-kvm (Debian's QEMU built with it by
#                            scripts/qemu-build.sh, ~6 min the first time),
#                            the sound through QEMU's wav audiodev
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest-lib.sh"

t0=$(date +%s)
vmm=ac97-vmm
[ "${1:-}" = --qemu ] && vmm=qemu
out=$AC97_ROOT/out/demo
work=$AC97_CACHE/run/demo
step() { log "[$(($(date +%s) - t0))s] $*"; }

step "1/6 installing what the demo needs (apt)"
need_packages qemu-system-x86 busybox-static cpio xz-utils gzip gcc make libc6-dev \
	binutils alsa-utils python3 sox libsox-fmt-base
rm -rf "$work" && mkdir -p "$work" "$out"

meta=${AC97_DEMO_KERNEL:-linux-image-amd64}
pkg=$(versioned "$meta")
step "2/6 fetching Debian's stock kernel $pkg"
tree=$(kernel_tree "$pkg")
kver=$(ls "$tree/lib/modules")

step "3/6 building ac97_emu.ko for $kver, the VMM and the capture tool"
build_module_for "$kver" "$work/src" || die "module build failed"
if [ "$vmm" = qemu ]; then
	need_packages qemu-system-data seabios
	log "building Debian's QEMU with -device ac97-kvm (cached after the first time)"
	qemu_bin=$("$AC97_ROOT/scripts/qemu-build.sh" | tail -n 1)
	[ -x "$qemu_bin" ] || die "no QEMU with ac97-kvm"
fi
make -s -C "$AC97_ROOT/tools" OUT="$work" linux "$work/kvm-keeper" >/dev/null || die "tools build failed"
python3 "$AC97_ROOT/scripts/make-demo-sound.py" "$work/demo.wav"

step "4/6 packing L1 (KVM host) and L2 (Linux guest with snd_intel8x0)"
make_l2_root "$work/l2root" "$tree"
cp "$work/demo.wav" "$work/l2root/a/"
cat >"$work/l2root/play.sh" <<'PLAY'
echo "L2 playing the demo sound with aplay -D hw:0,0"
aplay -D hw:0,0 /a/demo.wav 2>&1 | sed 's/^/L2 aplay: /'
PLAY
pack_initramfs "$work/l2root" "$work/l2-initrd.gz"
if [ "$vmm" = qemu ]; then
	# L1 runs QEMU with the device; its wav audiodev at 48 kHz is exact
	# (QEMU's mixing engine, a 0 dB voice at the audiodev's rate). The file's
	# PCM goes out as the capture segment the report reads.
	make_l1_qemu_base "$work/l1root" "$tree" "$work/src/ac97_emu.ko" "$work/l2-initrd.gz" \
		"$qemu_bin" "$work/kvm-keeper"
	cat >"$work/l1root/init" <<'INIT'
#!/bin/busybox sh
. /l1-start.sh
timeout 600 qemu-system-x86_64 -accel kvm -cpu host,xsave=off -m 320 -nodefaults -display none \
	-no-reboot -serial stdio -L /usr/share/qemu -kernel /l2/vmlinuz -initrd /l2/initrd.gz \
	-append "console=ttyS0 reboot=k panic=-1 quiet loglevel=3" \
	-device ac97-kvm,audiodev=snd -audiodev wav,id=snd,path=/tmp/qemu.wav,out.frequency=48000 2>&1 |
	tr -d '\r'
echo "RIG qemu_rc=$?"
dd if=/tmp/qemu.wav of=/tmp/cap/seg-001-48000-2.raw bs=44 skip=1 2>/dev/null
. /l1-end.sh
INIT
	chmod +x "$work/l1root/init"
else
	make_l1_root "$work/l1root" "$tree" "$work/src/ac97_emu.ko" "$work" "$work/l2-initrd.gz"
fi
pack_initramfs "$work/l1root" "$work/l1-initrd.gz"

step "5/6 booting: QEMU (TCG) -> $kver + KVM -> $vmm -> $kver guest (about a minute)"
run_stack "$tree/boot/vmlinuz-$kver" "$work/l1-initrd.gz" "$work" ||
	log "QEMU exited with an error; see $work/console.txt"
grep -q '^L2 done' "$work/console.txt" || die "the guest did not finish; see $work/console.txt"

step "6/6 writing the WAV, the spectrogram and the summary"
taken=$(($(date +%s) - t0))
cp "$work/demo.wav" "$out/source.wav"
echo
echo "== ac97-emu demo: what the guest played, as the host captured it"
python3 "$AC97_ROOT/scripts/demo-report.py" "$work/out/cap" "$work/demo.wav" \
	"$out/captured.wav" "$taken" | tee "$out/summary.txt"
sox "$out/captured.wav" -n remix 1 spectrogram -x 900 -y 400 \
	-t "ac97-emu: guest aplay captured on the host" -o "$out/spectrogram.png"
echo "  spectrogram $out/spectrogram.png"
echo "  summary    $out/summary.txt"
