#!/usr/bin/env bash
# Build ac97_emu.ko against Debian's stock x86_64 headers for 6.1 and 6.12,
# in each of the three flavours (generic, PREEMPT_RT -rt, -cloud; resolved
# through their metapackages) with W=1 and sparse (C=1), then checkpatch
# --strict and kernel-doc over the kernel sources. Each is one test; a warning
# fails it.
# Last line: "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

META_HEADERS="linux-headers-amd64 linux-headers-6.12-amd64
	linux-headers-rt-amd64 linux-headers-6.12-rt-amd64
	linux-headers-cloud-amd64 linux-headers-6.12-cloud-amd64"
# shellcheck disable=SC2086
need_packages gcc make sparse perl $META_HEADERS

# The versioned headers package a metapackage points at.
headers_dir() {
	local dep
	dep=$(dpkg-query -W -f='${Depends}' "$1" | tr ',' '\n' |
		grep -oE 'linux-headers-[0-9][^ ]*-amd64' | head -n1)
	echo "/usr/src/$dep"
}

work=$AC97_CACHE/run/build-check
for meta in $META_HEADERS; do
	kdir=$(headers_dir "$meta")
	rm -rf "$work" && mkdir -p "$work"
	(cd "$AC97_ROOT" && cp -r Kbuild Makefile ./*.c ./*.h include kunit "$work/")
	rc=0
	make -C "$kdir" M="$work" W=1 C=1 modules >"$work.log" 2>&1 || rc=$?
	if [ $rc -ne 0 ] || grep -E 'warning:|error:' "$work.log" >&2 || [ ! -f "$work/ac97_emu.ko" ]; then
		[ $rc -eq 0 ] || tail -n 30 "$work.log" >&2
		rc=1
	fi
	result $rc "W=1 + sparse build against $(basename "$kdir")"
done

src=$("$AC97_ROOT/scripts/kernel-build.sh" --source-only)
cd "$AC97_ROOT"
# (qemu/ is QEMU code in QEMU's style: qemu-guest.sh runs QEMU's checkpatch.pl on it.)
kernel_files=$(git ls-files '*.c' '*.h' | grep -vE '^(tools|qemu)/' || true; git ls-files 'tools/bench/*.c')
rc=0
for f in $kernel_files; do
	perl "$src/scripts/checkpatch.pl" --no-tree --strict --terse -f "$f" >&2 || rc=1
done
result $rc "checkpatch --strict on $(echo "$kernel_files" | wc -w) files"

rc=0
out=$("$src/scripts/kernel-doc" -none -Wall ac97.h ac97_*.c include/uapi/linux/*.h 2>&1) || rc=1
[ -z "$out" ] || { echo "$out" >&2; rc=1; }
result $rc "kernel-doc -Wall on the ops, the device and the uapi"

totals
