#!/usr/bin/env bash
# `make demo`: the whole stack, end to end, on Debian's stock kernel in QEMU.
# Installs what it needs, builds ac97_emu.ko and the tools, boots the stock
# kernel under QEMU (TCG) with KVM inside, boots the same kernel as a guest
# of ac97-vmm with ac97-emu as its sound card, plays a bundled sound with the
# guest's own aplay, and leaves in out/demo/: the captured WAV, its
# spectrogram, and a summary.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest-lib.sh"

t0=$(date +%s)
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
make_l1_root "$work/l1root" "$tree" "$work/src/ac97_emu.ko" "$work" "$work/l2-initrd.gz"
pack_initramfs "$work/l1root" "$work/l1-initrd.gz"

step "5/6 booting: QEMU (TCG) -> $kver + KVM -> ac97-vmm -> $kver guest (about a minute)"
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
