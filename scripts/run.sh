#!/usr/bin/env bash
# Build and start the trustwatch tray on a Debian/Ubuntu desktop. Installs
# what it needs when it can (libusb for the USB layer, usbmuxd itself).
set -euo pipefail

usage() {
  cat <<'EOF_USAGE'
usage: scripts/run.sh [--help] [--] [trustwatch arguments…]

Builds trustwatch and starts it (the tray, or the command given), on a
Debian/Ubuntu desktop:
  1. installs pkg-config, libusb-1.0-0-dev (the USB layer) and usbmuxd (the
     Apple device service) if missing, through apt-get as root or sudo;
     if that fails it goes on, and the USB layer is off (built without cgo);
  2. builds out/trustwatch;
  3. runs it with the arguments given: "scripts/run.sh demo" plays the
     built-in simulated iPhone, "scripts/run.sh -- --help" shows
     trustwatch's own help.
EOF_USAGE
}
case "${1-}" in
  -h | --help) usage; exit 0 ;;
  --) shift ;;
esac
cd "$(dirname "$0")/.."
need=()
for p in pkg-config libusb-1.0-0-dev usbmuxd; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "installing ${need[*]} (for the USB layer and the Apple device service)"
  if $SUDO apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
     { $SUDO apt-get update -qq && $SUDO apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }; then :; else
    echo "could not install ${need[*]}; continuing (without libusb the USB layer is off)" >&2
  fi
fi
export PATH=$PATH:/usr/local/go/bin
CGO=0; pkg-config --exists libusb-1.0 2>/dev/null && CGO=1
mkdir -p out
CGO_ENABLED=$CGO go build -o out/trustwatch .
exec ./out/trustwatch "$@"
