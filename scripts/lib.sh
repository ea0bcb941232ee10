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
