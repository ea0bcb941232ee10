#!/usr/bin/env bash
# Userspace unit tests: ac97play's pure parts (cmocka, TAP output), and the
# build of every userspace tool with -Wall -Wextra -Werror.
# Last line: "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_packages gcc make libc6-dev libcmocka-dev libasound2-dev libsndfile1-dev kmod \
	linux-headers-6.12-amd64
out=$AC97_CACHE/run/unit
rm -rf "$out" && mkdir -p "$out"
if make -s -C "$AC97_ROOT/tools" OUT="$out" all linux play "$out/play_util_test" >"$out/build.log" 2>&1; then
	result 0 "userspace tools build with -Wall -Wextra -Werror"
else
	cat "$out/build.log" >&2
	result 1 "userspace tools build"
fi
# cmocka's TAP: every test of the plan must report ok, and the program exit 0.
if [ -x "$out/play_util_test" ]; then
	CMOCKA_MESSAGE_OUTPUT=TAP "$out/play_util_test" >"$out/tap.txt" 2>&1 && rc=0 || rc=$?
	cat "$out/tap.txt"
	plan=$(sed -n 's/^1\.\.\([0-9]\+\)$/\1/p' "$out/tap.txt" | head -n1)
	p=$(grep -cE '^ok ' "$out/tap.txt" || true)
	f=$(grep -cE '^not ok ' "$out/tap.txt" || true)
	passed=$((passed + p))
	failed=$((failed + f))
	result $([ "$rc" = 0 ] && [ -n "$plan" ] && [ "$p" = "$plan" ]; echo $?) \
		"play_util_test: $p of its plan of ${plan:-?} passed, exit $rc"
else
	result 1 "play_util_test was not built"
fi
# The checkers the rig's verdicts rest on: each must fail what it should.
self_test() {	# $1 = name, $2 = cases it must judge, then the command
	local name=$1 want=$2 rc p
	shift 2
	"$@" >"$out/$name.txt" 2>&1 && rc=0 || rc=1
	sed -n 's/^\(not \)\{0,1\}ok /  &/p' "$out/$name.txt"
	p=$(grep -cE '^ok ' "$out/$name.txt" || true)
	[ "$rc" = 0 ] && [ "$p" = "$want" ] || { cat "$out/$name.txt" >&2; rc=1; }
	result $rc "$name --self-test: $p of $want cases judged right"
}
self_test check-pattern.py 7 python3 "$AC97_ROOT/scripts/check-pattern.py" --self-test
self_test analyze-capture.py 11 python3 "$AC97_ROOT/scripts/analyze-capture.py" --self-test
self_test pcm-find 18 python3 "$AC97_ROOT/scripts/pcm-find-self-test.py" "$out/pcm-find"
self_test l1-hang-dump.py 6 python3 "$AC97_ROOT/scripts/l1-hang-dump.py" --self-test
self_test count-pio-exits.py 10 python3 "$AC97_ROOT/scripts/count-pio-exits.py" --self-test
# make install / uninstall, staged under a scratch root, for a stock kernel.
kver=$(dpkg-query -W -f='${Depends}' linux-headers-6.12-amd64 | grep -oE 'linux-headers-[0-9][^ ,]*-amd64' | head -n1)
kver=${kver#linux-headers-}
stage=$out/stage
src=$out/src
mkdir -p "$src"
(cd "$AC97_ROOT" && cp -r Kbuild Makefile dkms.conf udev ./*.c ./*.h include kunit tools "$src/")
rm -rf "$src/tools/out"
installed="lib/modules/$kver/updates/ac97_emu.ko.xz etc/udev/rules.d/60-ac97-emu.rules usr/local/include/linux/ac97_emu.h usr/local/bin/ac97play usr/local/bin/ac97rec"
rc=0
make -C "$src" -s install KDIR="/usr/src/linux-headers-$kver" KVER="$kver" \
	INSTALL_MOD_PATH="$stage" DESTDIR="$stage" >"$out/install.log" 2>&1 || rc=1
for f in $installed; do [ -e "$stage/$f" ] || { echo "missing after install: $f" >&2; rc=1; }; done
params=$(modinfo -b "$stage" -k "$kver" -F parm ac97_emu 2>/dev/null | grep -c ':.\{20,\}' || true)
[ "$params" -ge 2 ] || { echo "modinfo: $params documented parameters" >&2; rc=1; }
make -C "$src" -s uninstall KVER="$kver" INSTALL_MOD_PATH="$stage" DESTDIR="$stage" \
	>>"$out/install.log" 2>&1 || rc=1
for f in $installed; do [ ! -e "$stage/$f" ] || { echo "left after uninstall: $f" >&2; rc=1; }; done
result $rc "make install/uninstall (staged, $kver): module, udev rule, uapi header, ac97play, ac97rec; modinfo documents $params parameters"

totals
