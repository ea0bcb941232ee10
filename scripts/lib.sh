# Shared helpers for the ac97-emu scripts. Sourced, not run.
# shellcheck shell=bash

AC97_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AC97_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/ac97-emu
JOBS=$(($(nproc) + 1))

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Install the Debian packages named as arguments that are not installed yet.
need_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing: ${missing[*]}"
	if [ ! -f "$AC97_CACHE/.apt-updated" ] ||
	   [ -n "$(find "$AC97_CACHE/.apt-updated" -mmin +720 2>/dev/null)" ]; then
		apt-get update -q >/dev/null || die "apt-get update failed"
		mkdir -p "$AC97_CACHE" && touch "$AC97_CACHE/.apt-updated"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# Print the version apt would install for package $1.
candidate_version() {
	apt-cache policy "$1" | awk '/Candidate:/ { print $2 }'
}

# Download package $1 (version $2) into the cache and print the .deb path.
fetch_deb() {
	local pkg=$1 ver=$2 dir="$AC97_CACHE/debs" deb
	mkdir -p "$dir"
	deb=$(find "$dir" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" | head -n1)
	if [ -z "$deb" ]; then
		(cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >/dev/null) ||
			die "apt-get download $pkg=$ver failed"
		deb=$(find "$dir" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" | head -n1)
	fi
	[ -n "$deb" ] || die "no .deb for $pkg $ver"
	echo "$deb"
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

# The modules kernel tree $1 needs to load module $2, dependencies first, one
# per line (read from each module's depends=, as modprobe would). Nothing if
# the tree has no such module (a built-in or a flavour without it).
module_closure() {
	local tree=$1 name=$2 f dep
	f=$(find "$tree/lib/modules" \( -name "$name.ko" -o -name "$name.ko.xz" \) | head -n1)
	[ -n "$f" ] || return 0
	for dep in $(case "$f" in *.xz) xz -dc "$f" ;; *) cat "$f" ;; esac |
		strings | sed -n 's/^depends=//p' | tr ',' ' '); do
		module_closure "$tree" "$dep"
	done
	echo "$name"
}

# Copy module $2 of kernel tree $1 and what it depends on into directory $3,
# and append their load order to $3/$4 (no duplicates). Fails if $2 is absent.
copy_module_closure() {
	local tree=$1 name=$2 dest=$3 order=$3/$4 m
	touch "$order"
	for m in $(module_closure "$tree" "$name"); do
		grep -qx "$m" "$order" && continue
		copy_module "$tree" "$m" "$dest"
		echo "$m" >>"$order"
	done
	grep -qx "$name" "$order"
}

# Build ac97_emu.ko for kernel $1 (its headers installed) in directory $2.
build_module_for() {
	local kver=$1 dir=$2
	need_packages "linux-headers-$kver"
	mkdir -p "$dir"
	(cd "$AC97_ROOT" && cp -r Kbuild Makefile ./*.c ./*.h include kunit "$dir/")
	make -C "/usr/src/linux-headers-$kver" M="$dir" modules >"$dir/build.log" 2>&1 ||
		{ tail -n 20 "$dir/build.log" >&2; return 1; }
}

# Boot kernel $1 (vmlinuz) with initrd $2 under QEMU/TCG; console to file $3.
# Extra QEMU arguments follow. Returns QEMU's exit status (124: cut short).
# AC97_TCG_THREAD=single: one host thread runs both L1 CPUs (see nested-rig.sh).
# AC97_QEMU_CPU: L1's CPU model, "max" unless a kernel needs more (-rt: invtsc).
# AC97_QEMU_SILENCE=S: an L1 whose console says nothing for S seconds is
# hung: where its CPUs are goes to $3.hang (l1-hang-dump.py, through QEMU's
# monitor; named from l1_kallsyms, which nokaslr makes valid for every boot
# of the kernel), then it is stopped, without waiting for AC97_QEMU_TIMEOUT.
qemu_tcg_once() {
	local kernel=$1 initrd=$2 console=$3 pid size last=-1 quiet=0
	shift 3
	rm -f "$console.mon" "$console.hang"
	timeout "${AC97_QEMU_TIMEOUT:-900}" qemu-system-x86_64 \
		-accel "tcg${AC97_TCG_THREAD:+,thread=$AC97_TCG_THREAD}" \
		-cpu "${AC97_QEMU_CPU:-max}" -smp 2 -m 2048 \
		-nodefaults -display none -no-reboot -serial "file:$console" "$@" \
		-monitor "unix:$console.mon,server=on,wait=off" \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet loglevel=5 nokaslr ${AC97_QEMU_APPEND:-}" </dev/null &
	pid=$!
	while [ -n "${AC97_QEMU_SILENCE:-}" ] && kill -0 "$pid" 2>/dev/null; do
		sleep 5
		size=$(stat -c %s "$console" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			last=$size quiet=0
			continue
		fi
		quiet=$((quiet + 5))
		[ "$quiet" -ge "$AC97_QEMU_SILENCE" ] || continue
		{
			echo "L1 HUNG: its console said nothing for $quiet s; where its CPUs are:"
			python3 "$AC97_ROOT/scripts/l1-hang-dump.py" "$console.mon"
		} >"$console.hang.raw" 2>&1
		kill "$pid" 2>/dev/null
		wait "$pid"
		python3 "$AC97_ROOT/scripts/l1-hang-dump.py" --name "$(l1_kallsyms "$kernel")" \
			<"$console.hang.raw" >"$console.hang" 2>&1
		return 124
	done
	wait "$pid"
}

# The text symbols of kernel $1 as it runs under nokaslr (Debian's System.map
# is a placeholder): read once from /proc/kallsyms of a boot that does only
# that, cached next to the kernel. Prints the file's name (empty if none).
l1_kallsyms() {
	local kernel=$1 dir file
	file=$AC97_CACHE/run/kallsyms-$(basename "$kernel")
	if [ ! -s "$file" ]; then
		dir=$(mktemp -d)
		mkdir -p "$dir/root/bin" "$dir/root/proc" "$dir/root/dev"
		cp /bin/busybox "$dir/root/bin/"
		cat >"$dir/root/init" <<'SYMS'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox grep -i ' [tw] ' /proc/kallsyms >/dev/ttyS1
/bin/busybox poweroff -f
SYMS
		chmod +x "$dir/root/init"
		pack_initramfs "$dir/root" "$dir/initrd.gz"
		AC97_QEMU_TIMEOUT=300 AC97_QEMU_SILENCE= qemu_tcg_once "$kernel" "$dir/initrd.gz" \
			"$dir/console" -serial "file:$file" >/dev/null 2>&1
		rm -rf "$dir"
	fi
	[ -s "$file" ] && echo "$file"
}

# Where a kernel report begins in a console (sed basic regex).
L1_REPORT_START='BUG:\|Oops\|WARNING:\|general protection\|Kernel panic\|int3\|KASAN\|UBSAN\|refcount_t:\|corruption\|corrupted'
# Signatures of memory corruption, or of our own code: never forgiven.
L1_NEVER_RETRY='ac97_|kvm_io_bus|KASAN|UBSAN|refcount_t|corrupt|Bad page|kmem_cache|kmalloc|slab|__kmem|list_add|list_del|stack-protector|stack guard|stack end|double fault|general protection|page fault'

# Did L1 die of the one TCG artefact the rig forgives? Multi-threaded TCG
# sometimes runs stale code after the kernel patches a static key: an "int3"
# oops at the patched site although no patch is in progress (README, "Known
# limits"). Forgiven only if that oops is the console's first report of any
# kind (an earlier WARNING, BUG or KASAN line could be ours), nothing in the
# report names ac97-emu, KVM's I/O bus, an allocator or a corruption, QEMU
# left on its own, L1 panicked, and it is not a debug kernel (AC97_NO_RETRY).
# The module list of an oops ("Modules linked in:") does not count.
l1_died_of_tcg() {
	local console=$1 report
	[ -z "${AC97_NO_RETRY:-}" ] || return 1
	grep -q '^=== DMESG END' "$console" && return 1
	grep -q 'Kernel panic' "$console" || return 1
	report=$(tr -d '\r' <"$console" | sed -n "/$L1_REPORT_START/,\$p" | grep -v 'Modules linked in:')
	head -n 1 <<<"$report" | grep -q 'Oops: int3' || return 1
	! grep -qE "$L1_NEVER_RETRY" <<<"$report"
}

# Did L1 hang in the same artefact's other form? The stale int3 at a
# static-key site, trapped over and over: in every look of the hang dump
# ($1.hang, named from kallsyms) every CPU is in the int3 handler (its RIP or
# stack names an int3 entry) or at the trapping site itself (its RIP is a
# return address on such a CPU's stack). Forgiven under the same terms as
# the oops: no report on the console before it, nothing in the dump naming
# our code, KVM's I/O bus or an allocator, not a debug kernel.
l1_hung_in_int3() {
	local console=$1 dump looks sites line rip
	[ -z "${AC97_NO_RETRY:-}" ] || return 1
	[ -s "$console.hang" ] || return 1
	tr -d '\r' <"$console" | grep -q "$L1_REPORT_START" && return 1
	dump=$(grep -E '^look [0-9]+ cpu [0-9]+: RIP ' "$console.hang")
	looks=$(cut -d' ' -f2 <<<"$dump" | sort -u | wc -l)
	[ "$looks" -ge 2 ] || return 1
	! grep -qE "$L1_NEVER_RETRY" <<<"$dump" || return 1
	sites=$(grep -E 'int3' <<<"$dump" | sed 's/.*; stack: //' | tr '<' '\n' | tr -d ' ')
	while IFS= read -r line; do
		grep -q 'int3' <<<"$line" && continue
		rip=$(sed -n 's/^look [0-9]* cpu [0-9]*: RIP \([^ ;]*\).*/\1/p' <<<"$line")
		[ -n "$rip" ] && grep -qxF "$rip" <<<"$sites" || return 1
	done <<<"$dump"
}

# qemu_tcg_once, but an L1 that died of the TCG artefact above, or hung in
# it (and only that), boots once more. The dead boot's console is kept as
# $3.died (and its hang dump as $3.died.hang). Callers send QEMU's output to
# a file, so they call l1_retry_note afterwards to say so; make check fails
# if more than AC97_RETRY_BUDGET boots were retried in one run.
qemu_tcg() {
	local console=$3 rc
	rm -f "$console.died" "$console.died.hang"
	qemu_tcg_once "$@"
	rc=$?
	if [ "$rc" -eq 124 ]; then
		l1_hung_in_int3 "$console" || return "$rc"
		cp "$console.hang" "$console.died.hang"
	else
		l1_died_of_tcg "$console" || return "$rc"
	fi
	cp "$console" "$console.died"
	echo "L1 died of the TCG int3 artefact; booting it once more" >&2
	qemu_tcg_once "$@"
}

# The report of a dead console $1, for the suite's output.
l1_report() {
	tr -d '\r' <"$1" |
		sed -n "/$L1_REPORT_START/,\$p" |
		grep -vE '\] +(RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2|PKRU):' | head -n 40 | sed 's/^/    | /' >&2
}

# If the boot whose console is $1 was retried, say so ("RETRIED", which
# make check counts) with the dead boot's report.
l1_retry_note() {
	[ -f "$1.died" ] || return 0
	log "RETRIED: L1 died of TCG's stale-code int3 (see README); its report:"
	l1_report "$1.died"
	[ -f "$1.died.hang" ] && sed 's/^/    | /' "$1.died.hang" >&2
	log "RETRIED: booting the same L1 once more (dead console kept: $1.died)"
}

# Write initramfs $2 (gzip'd newc cpio) from directory $1.
pack_initramfs() {
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"
}

# Build ac97_emu.ko for kernel $1 through DKMS (dkms.conf, the way users
# install it), in a private DKMS tree; copy the result to $2/ac97_emu.ko.
build_module_dkms() {
	local kver=$1 dir=$2 ver base ko
	need_packages dkms "linux-headers-$kver"
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$AC97_ROOT/dkms.conf")
	base=$AC97_CACHE/run/dkms-$kver
	rm -rf "$base" && mkdir -p "$base/tree" "$base/src/ac97-emu-$ver" "$dir"
	(cd "$AC97_ROOT" && cp -r Kbuild Makefile dkms.conf ./*.c ./*.h include kunit "$base/src/ac97-emu-$ver/")
	dkms build --dkmstree "$base/tree" --sourcetree "$base/src" -m ac97-emu -v "$ver" \
		-k "$kver" >"$dir/dkms.log" 2>&1 || { tail -n 20 "$dir/dkms.log" >&2; return 1; }
	ko=$(find "$base/tree" -path "*/$kver/*" -name 'ac97_emu.ko*' | head -n1)
	[ -n "$ko" ] || { echo "dkms built no module" >&2; return 1; }
	case "$ko" in
	*.xz) xz -dc "$ko" >"$dir/ac97_emu.ko" ;;
	*) cp "$ko" "$dir/ac97_emu.ko" ;;
	esac
}

# Test results: one "ok - ..." / "not ok - ..." line each, and the totals.
passed=0
failed=0
# Did L1's init reach its end ("=== DMESG END" on console file $1)? If not,
# show the console's last lines (the panic, if L1 died) on stderr.
l1_finished() {
	grep -q '^=== DMESG END' "$1" && return 0
	log "L1 did not reach the end of its init; its report, if it has one:"
	l1_report "$1"
	for hang in "$1.hang" "${1%.txt}.log.hang"; do
		[ -f "$hang" ] && sed 's/^/    | /' "$hang" >&2
	done
	log "and the last lines of $1:"
	tr -d '\r' <"$1" | tail -n 60 | sed 's/^/    | /' >&2
	return 1
}

result() {	# $1 = 0 for pass, $2 = description
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"; passed=$((passed + 1))
	else
		echo "not ok - $2"; failed=$((failed + 1))
	fi
}
totals() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
