#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine: installs what the
# tests need (as root, or through sudo), then runs format, vet, cross-builds,
# unit + integration tests against real parts, and each scripts/test-*.sh.
set -euo pipefail

usage() {
  cat <<'EOF_USAGE'
usage: scripts/test.sh [--help]

Runs trustwatch's whole test suite (CI runs exactly this), from a fresh
Debian/Ubuntu machine:
  1. installs the Debian packages the tests need, if any is missing
     (apt-get, as root or through sudo): libusb and pkg-config, umockdev,
     libimobiledevice's tools, D-Bus, Xvfb, dunst, xfce4-panel, chromium,
     wine64 and mingw, lintian, rpm and rpmlint (the full list is PKGS in
     this script);
  2. gofmt, go vet, and cross-builds for Windows, macOS and cgo-less Linux;
  3. go test ./... against real parts (simulator, umockdev, private D-Bus
     and desktop), with CI=true unless set: a missing tool fails its test
     instead of skipping it;
  4. each executable scripts/test-*.sh (USB under umockdev, Windows under Wine,
     a snapshot release installed, upgraded and purged with apt).
Exits non-zero at the first failing step.
EOF_USAGE
}
case "${1-}" in
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) echo "scripts/test.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

PKGS=(
  pkg-config libusb-1.0-0-dev                                   # gousb (cgo)
  umockdev libumockdev-dev gir1.2-umockdev-1.0 python3-gi         # USB tests under umockdev
  libimobiledevice-utils libusbmuxd-tools                         # conformance: idevicepair, ideviceinfo
  dbus dbus-x11 xvfb x11-utils xdotool imagemagick                # private desktop: bus, X, screenshots
  dunst libnotify-bin xfce4-panel xclip                           # notification server, tray host, clipboard
  systemd desktop-file-utils                                      # login-item checks
  chromium                                                        # guide rendering
  wine64 gcc-mingw-w64-x86-64                                     # Windows tests under Wine
  wixl msitools                                                   # the Windows installer (build-msi.sh)
  lintian rpm rpmlint dpkg-dev man-db zip unzip shellcheck        # the release: packages, man page, workflows
)

need=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  echo "== installing: ${need[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export PATH=$PATH:/usr/local/go/bin
export CI=${CI:-true}   # tests fail instead of skipping when a tool is missing

echo "== gofmt"
bad=$(gofmt -l . | grep -v '^testdata/' || true)
[ -z "$bad" ] || { echo "gofmt needed:"; echo "$bad"; exit 1; }

echo "== go vet"
go vet ./...

echo "== cross-builds"
GOOS=windows CGO_ENABLED=0 go build -trimpath ./...   # -trimpath as release.sh builds it: its cache is reused there
GOOS=darwin CGO_ENABLED=0 go vet ./...
GOOS=darwin CGO_ENABLED=0 go build ./...   # (also warms the cache for the .app test's cross-build)
GOOS=linux CGO_ENABLED=0 go build ./...

echo "== go test"
go test -count=1 -timeout 10m ./...

for s in scripts/test-*.sh; do
  [ -x "$s" ] || continue
  echo "== $s"
  "$s"
done
echo "== all tests passed"
