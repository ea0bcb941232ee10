#!/usr/bin/env bash
# Build (once, cached) a User-Mode Linux kernel with KUnit and the debug options from
# Debian's linux-source package, and print its build directory.
#   scripts/uml-kernel.sh                -> prints the build dir on stdout
#   scripts/uml-kernel.sh --source-only  -> only extracts; prints the source dir
# Cache: $XDG_CACHE_HOME/ac97-emu/uml/<package>-<version>-<config hash>/
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRCPKG=${AC97_UML_SOURCE:-linux-source-6.12}
FRAGMENT=$AC97_ROOT/kunit/uml.config

need_packages gcc make flex bison libelf-dev bc xz-utils python3 busybox-static
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

hash=$(sha256sum "$FRAGMENT" | cut -c1-12)
build=$AC97_CACHE/uml/$SRCPKG-$ver-$hash
if [ ! -f "$build/.built" ]; then
	mkdir -p "$build"
	log "configuring UML kernel in $build"
	make -s -C "$src" O="$build" ARCH=um defconfig >/dev/null
	cat "$FRAGMENT" >>"$build/.config"
	make -s -C "$src" O="$build" ARCH=um olddefconfig >/dev/null 2>&1
	# Every option of the fragment must have taken, or the run proves less than it claims.
	while read -r line; do
		case "$line" in
		CONFIG_*) grep -qxF "$line" "$build/.config" || die "option did not take: $line" ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			! grep -q "^$opt=" "$build/.config" || die "option still set: $opt" ;;
		esac
	done <"$FRAGMENT"
	log "building UML kernel (a few minutes the first time)"
	start=$(date +%s)
	make -s -C "$src" O="$build" ARCH=um -j"$JOBS" >"$build/build.log" 2>&1 ||
		{ tail -n 40 "$build/build.log" >&2; die "UML kernel build failed"; }
	log "UML kernel built in $(($(date +%s) - start)) s"
	touch "$build/.built"
fi
echo "$build"
