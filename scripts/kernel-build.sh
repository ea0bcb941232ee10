#!/usr/bin/env bash
# Build (once, cached) a kernel from Debian's linux-source package with a config
# fragment on top of defconfig, and print its build directory.
#   scripts/kernel-build.sh               UML kernel for KUnit (kunit/uml.config)
#   scripts/kernel-build.sh --x86-debug   x86-64 kernel with KVM, KASAN, lockdep and
#                                         kmemleak for the rig (scripts/x86-debug.config)
#   scripts/kernel-build.sh --x86-debug-rt  the same with PREEMPT_RT (+ x86-debug-rt.config)
#   scripts/kernel-build.sh --source-only only extracts; prints the source dir
# The UML kernel is built from a copy of the source with kunit/uml-patches/
# applied (hard links, so the copy costs little; patch breaks them where it
# writes). Cache: $XDG_CACHE_HOME/ac97-emu/{uml,x86-debug}/<package>-<version>-<hash>/,
# the hash over the config fragment and the patches.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRCPKG=${AC97_UML_SOURCE:-linux-source-6.12}
ARCH=um
FRAGMENTS=$AC97_ROOT/kunit/uml.config
KIND=uml
PATCHES=$(find "$AC97_ROOT/kunit/uml-patches" -name '*.patch' | sort)
case "${1:-}" in
--x86-debug) ARCH=x86_64 FRAGMENTS=$AC97_ROOT/scripts/x86-debug.config KIND=x86-debug PATCHES= ;;
--x86-debug-rt)
	ARCH=x86_64 KIND=x86-debug-rt PATCHES=
	FRAGMENTS="$AC97_ROOT/scripts/x86-debug.config $AC97_ROOT/scripts/x86-debug-rt.config" ;;
esac

need_packages gcc make flex bison libelf-dev libssl-dev bc xz-utils python3 busybox-static patch
[ -n "$(apt-cache policy "$SRCPKG" | awk '/Candidate:/ {print $2}')" ] ||
	{ apt-get update -q >/dev/null; touch "$AC97_CACHE/.apt-updated"; }
ver=$(candidate_version "$SRCPKG")
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "apt knows no $SRCPKG"

src=$AC97_CACHE/src/$SRCPKG-$ver
if [ ! -f "$src/.extracted" ]; then
	deb=$(fetch_deb "$SRCPKG" "$ver")
	log "extracting $SRCPKG $ver"
	tmp=$(mktemp -d "$AC97_CACHE/tmp.XXXXXX")
	dpkg-deb -x "$deb" "$tmp"
	tarball=$(find "$tmp/usr/src" -maxdepth 1 -name 'linux-source-*.tar.*' | head -n1)
	[ -n "$tarball" ] || die "no tarball in $deb"
	rm -rf "$src" && mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	rm -rf "$tmp"
	touch "$src/.extracted"
fi

if [ "${1:-}" = --source-only ]; then
	echo "$src"
	exit 0
fi

# shellcheck disable=SC2086
hash=$(cat $FRAGMENTS $PATCHES | sha256sum | cut -c1-12)
if [ -n "$PATCHES" ]; then
	patched=$AC97_CACHE/src/$SRCPKG-$ver-$KIND-$hash
	if [ ! -f "$patched/.patched" ]; then
		log "patching a copy of $SRCPKG for $KIND: $(basename -a $PATCHES | tr '\n' ' ')"
		rm -rf "$patched" && cp -al "$src" "$patched"
		for p in $PATCHES; do
			patch -d "$patched" -p1 -s -N <"$p" || die "$(basename "$p") does not apply"
		done
		touch "$patched/.patched"
	fi
	src=$patched
fi
build=$AC97_CACHE/$KIND/$SRCPKG-$ver-$hash
if [ ! -f "$build/.built" ]; then
	mkdir -p "$build"
	log "configuring the $KIND kernel in $build"
	make -s -C "$src" O="$build" ARCH="$ARCH" defconfig >/dev/null
	# shellcheck disable=SC2086
	cat $FRAGMENTS >>"$build/.config"
	make -s -C "$src" O="$build" ARCH="$ARCH" olddefconfig >/dev/null 2>&1
	# Every option of the fragment must have taken, or the run proves less than it claims.
	while read -r line; do
		case "$line" in
		CONFIG_*) grep -qxF "$line" "$build/.config" || die "option did not take: $line" ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			! grep -q "^$opt=" "$build/.config" || die "option still set: $opt" ;;
		esac
	done < <(cat $FRAGMENTS)
	log "building the $KIND kernel (minutes the first time)"
	start=$(date +%s)
	make -s -C "$src" O="$build" ARCH="$ARCH" -j"$JOBS" >"$build/build.log" 2>&1 ||
		{ tail -n 40 "$build/build.log" >&2; die "$KIND kernel build failed"; }
	log "$KIND kernel built in $(($(date +%s) - start)) s"
	touch "$build/.built"
fi
echo "$build"
