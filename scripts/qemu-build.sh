#!/usr/bin/env bash
# Build QEMU with the ac97-kvm device the way a user or a distribution would:
# Debian's source package of the QEMU in the archive (7.2 in bookworm, with
# Debian's own patches), our device (qemu/ac97-kvm.c) and its glue
# (qemu/glue.patch: Kconfig and meson), ac97-emu's uapi header in QEMU's
# linux-headers/, and a minimal x86_64-softmmu with KVM and the audio
# backends Debian builds that this machine has the headers of (wav is always
# there; ALSA, PulseAudio, which PipeWire serves too).
#
#   scripts/qemu-build.sh           prints the binary's path (cached)
#   AC97_QEMU_KEEP_TREE=1 scripts/qemu-build.sh
#                                   keeps the build tree, and rebuilds in it
#                                   when only our files changed (seconds, for
#                                   working on the device)
#
# The source comes through a private apt configuration under the cache (its
# own sources list with deb-src lines, lists and archives): the system's apt
# setup is not touched. The result is cached under the source version and a
# hash of everything of ours that goes in; ac97-kvm.patch next to it is the
# whole change as one patch (what would go upstream).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CONFIGURE_FLAGS=(--target-list=x86_64-softmmu --enable-kvm --disable-tcg
	--disable-install-blobs --disable-docs --disable-tools --disable-user --disable-werror
	--audio-drv-list=alsa,pa --disable-gtk --disable-sdl --disable-vnc --disable-opengl
	--disable-virglrenderer --disable-spice --disable-libusb --disable-usb-redir
	--disable-curses --disable-xen --disable-capstone)

need_packages dpkg-dev meson ninja-build pkg-config python3 libglib2.0-dev libpixman-1-dev \
	libfdt-dev libasound2-dev libpulse-dev zlib1g-dev

# The source package, fetched once.
apt_dir=$AC97_CACHE/qemu-apt
src_dir=$AC97_CACHE/qemu-src
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$src_dir"
apt_opts=(-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Etc::SourceList=$apt_dir/src.list"
	-o Dir::Etc::SourceParts=/nonexistent -o "Dir::Cache=$apt_dir/cache")
if ! ls "$src_dir"/qemu_*.dsc >/dev/null 2>&1; then
	uris=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 2)
	main=$(echo "$uris" | grep -v security | head -n 1)
	security=$(echo "$uris" | grep security | head -n 1)
	{
		echo "deb-src ${main:-http://deb.debian.org/debian} bookworm main"
		echo "deb-src ${security:-http://deb.debian.org/debian-security} bookworm-security main"
	} >"$apt_dir/src.list"
	log "fetching Debian's QEMU source package (private apt configuration)"
	apt-get "${apt_opts[@]}" update -q >/dev/null || die "apt-get update (deb-src) failed"
	(cd "$src_dir" && apt-get "${apt_opts[@]}" source --download-only qemu >/dev/null 2>&1) ||
		die "apt-get source qemu failed"
fi
dsc=$(ls "$src_dir"/qemu_*.dsc | sort -V | tail -n 1)
version=$(basename "$dsc" .dsc | sed 's/^qemu_//')

ours=("$AC97_ROOT/qemu/ac97-kvm.c" "$AC97_ROOT/qemu/glue.patch" "$AC97_ROOT/include/uapi/linux/ac97_emu.h")
key=$( (cat "${ours[@]}"; echo "${CONFIGURE_FLAGS[*]}") | sha256sum | cut -c1-16)
out=$AC97_CACHE/qemu/$version-$key
if [ -x "$out/qemu-system-x86_64" ]; then
	echo "$out/qemu-system-x86_64"
	exit 0
fi

tree=$AC97_CACHE/run/qemu-build/qemu-$version
start=$(date +%s)
if [ -n "${AC97_QEMU_KEEP_TREE:-}" ] && [ -x "$tree/build/qemu-system-x86_64" ]; then
	log "rebuilding in the kept tree (AC97_QEMU_KEEP_TREE)"
	cp "$AC97_ROOT/qemu/ac97-kvm.c" "$tree/hw/audio/"
	cp "$AC97_ROOT/include/uapi/linux/ac97_emu.h" "$tree/linux-headers/linux/"
	(cd "$tree/build" && ninja -j"$(nproc)" qemu-system-x86_64 >ninja.log 2>&1) ||
		{ grep -B2 -A12 'error' "$tree/build/ninja.log" | head -n 60 >&2; die "QEMU build failed"; }
	mkdir -p "$out"
	cp "$tree/build/qemu-system-x86_64" "$out/"
	echo "$out/qemu-system-x86_64"
	exit 0
fi
rm -rf "$AC97_CACHE/run/qemu-build" && mkdir -p "$AC97_CACHE/run/qemu-build"
log "unpacking qemu $version with Debian's patches"
# (Its signature is not checked: the .dsc came through apt, which checked the
# archive's Release file and the files' hashes.)
(cd "$AC97_CACHE/run/qemu-build" &&
	dpkg-source --no-check -x "$dsc" "qemu-$version" >dpkg-source.log 2>&1) ||
	{ cat "$AC97_CACHE/run/qemu-build/dpkg-source.log" >&2; die "dpkg-source -x failed"; }
cp "$AC97_ROOT/qemu/ac97-kvm.c" "$tree/hw/audio/"
(cd "$tree" && patch -p1 -s <"$AC97_ROOT/qemu/glue.patch") || die "qemu/glue.patch does not apply"
cp "$AC97_ROOT/include/uapi/linux/ac97_emu.h" "$tree/linux-headers/linux/"
# The dfsg tarball has no firmware blobs; meson would unpack them whenever
# bzip2 is found. The binary uses the system's firmware (-L /usr/share/qemu).
sed -i 's/unpack_edk2_blobs = bzip2.found()/unpack_edk2_blobs = false/' "$tree/meson.build"

log "configuring (x86_64-softmmu, KVM, audio: wav, alsa, pa)"
mkdir -p "$tree/build"
(cd "$tree/build" && ../configure "${CONFIGURE_FLAGS[@]}" >configure.log 2>&1) ||
	{ tail -n 30 "$tree/build/configure.log" >&2; die "QEMU configure failed"; }
log "building qemu-system-x86_64 (ninja -j$(nproc))"
(cd "$tree/build" && ninja -j"$(nproc)" qemu-system-x86_64 >ninja.log 2>&1) ||
	{ grep -B2 -A12 'error' "$tree/build/ninja.log" | head -n 60 >&2; die "QEMU build failed"; }

mkdir -p "$out"
cp "$tree/build/qemu-system-x86_64" "$out/"
# The whole change as one patch: the new file, then the glue. (diff exits
# 1 when the files differ, which they always do here.)
{
	printf 'diff --git a/hw/audio/ac97-kvm.c b/hw/audio/ac97-kvm.c\nnew file mode 100644\n'
	printf -- '--- /dev/null\n+++ b/hw/audio/ac97-kvm.c\n'
	{ diff -u /dev/null "$AC97_ROOT/qemu/ac97-kvm.c" || true; } | tail -n +3
	cat "$AC97_ROOT/qemu/glue.patch"
} >"$out/ac97-kvm.patch"
echo "$(($(date +%s) - start))" >"$out/build-seconds"
log "built qemu $version + ac97-kvm in $(cat "$out/build-seconds") s; patch: $(grep -c '^+[^+]' "$out/ac97-kvm.patch") lines added"
[ -n "${AC97_QEMU_KEEP_TREE:-}" ] || rm -rf "$AC97_CACHE/run/qemu-build"
echo "$out/qemu-system-x86_64"
