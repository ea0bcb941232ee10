#!/usr/bin/env bash
# Userspace unit tests: ac97play's pure parts (cmocka, TAP output), and the
# build of every userspace tool with -Wall -Wextra -Werror.
# Last line: "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_packages gcc make libc6-dev libcmocka-dev libasound2-dev libsndfile1-dev
out=$AC97_CACHE/run/unit
rm -rf "$out" && mkdir -p "$out"
passed=0
failed=0
if make -s -C "$AC97_ROOT/tools" OUT="$out" all linux play "$out/play_util_test" >"$out/build.log" 2>&1; then
	echo "ok - userspace tools build with -Wall -Wextra -Werror"; passed=$((passed + 1))
else
	cat "$out/build.log" >&2
	echo "not ok - userspace tools build"; failed=$((failed + 1))
fi
if [ -x "$out/play_util_test" ]; then
	CMOCKA_MESSAGE_OUTPUT=TAP "$out/play_util_test" >"$out/tap.txt" 2>&1 || true
	cat "$out/tap.txt"
	p=$(grep -cE '^ok ' "$out/tap.txt" || true)
	f=$(grep -cE '^not ok ' "$out/tap.txt" || true)
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$p" -gt 0 ] || failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
