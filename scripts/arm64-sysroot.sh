#!/usr/bin/env bash
# Makes a small arm64 sysroot with libusb in DIR, for release.sh's linux/arm64
# cgo build (set TRUSTWATCH_SYSROOT_arm64=DIR), without touching the
# machine's dpkg: apt reads arm64 package lists into a private state directory
# and downloads the .debs, which are unpacked, not installed.
#
#   scripts/arm64-sysroot.sh /tmp/sysroot-arm64
#
# Needs apt-get and dpkg-deb (Debian/Ubuntu), and gcc-aarch64-linux-gnu for the
# build itself (its libc comes with the cross compiler, not from here).
set -euo pipefail
dir=${1:?usage: arm64-sysroot.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
state=$(mktemp -d /tmp/arm64-apt.XXXXXX)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs"
: >"$state/status"
apt=(apt-get -qq -o APT::Architecture=arm64 -o APT::Architectures=arm64
	-o Dir::State::Lists="$state/lists" -o Dir::State::status="$state/status"
	-o Dir::Cache="$state/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
"${apt[@]}" update
# libusb and what its .so links against (libudev), for the linker.
(cd "$state/debs" && "${apt[@]}" download libusb-1.0-0 libusb-1.0-0-dev libudev1)
for deb in "$state"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dir"
done
pc=$dir/usr/lib/aarch64-linux-gnu/pkgconfig/libusb-1.0.pc
[[ -f $pc ]] || { echo "arm64-sysroot.sh: no $pc after unpacking" >&2; exit 1; }
debs=("$state"/debs/*.deb)
echo "arm64-sysroot.sh: $dir (${debs[*]##*/})"
