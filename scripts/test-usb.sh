#!/usr/bin/env bash
# USB layer tests against real libusb with fake devices (umockdev).
#
#   scripts/test-usb.sh           # fixtures check, vet, cross-builds, umockdev tests
#   scripts/test-usb.sh --idle    # also the 60 s idle-wakeup measurement (TW_USB_IDLE to change)
#
# Needs: apt-get install -y libusb-1.0-0-dev pkg-config umockdev libumockdev-dev
# Without them it skips loudly, unless CI=true, where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

idle=
# The idle measurement runs only with --idle; keep a stray TW_USB_IDLE in the
# environment from turning every test run into a minute-long one.
idle_window=${TW_USB_IDLE:-60s}
unset TW_USB_IDLE
for a in "$@"; do
	case "$a" in
	--idle) idle=1 ;;
	-h | --help) sed -n '2,8p' "$0"; exit 0 ;;
	*) echo "test-usb.sh: unknown argument $a" >&2; exit 2 ;;
	esac
done

missing=()
command -v umockdev-wrapper >/dev/null || missing+=("umockdev (umockdev-wrapper)")
pkg-config --exists libusb-1.0 2>/dev/null || missing+=("libusb-1.0-0-dev")
pkg-config --exists umockdev-1.0 2>/dev/null || missing+=("libumockdev-dev")
if ((${#missing[@]})); then
	msg="test-usb.sh: missing ${missing[*]}: apt-get install -y libusb-1.0-0-dev pkg-config umockdev libumockdev-dev"
	if [[ "${CI:-}" == "true" ]]; then
		echo "FAIL: $msg" >&2
		exit 1
	fi
	echo "*** SKIP: $msg ***" >&2
	exit 0
fi

step() { printf '\n== %s\n' "$*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step "fixtures match their generator (testdata/usb/gen)"
go run ./testdata/usb/gen "$tmp" >/dev/null
for f in "$tmp"/*.umockdev; do
	diff -u "testdata/usb/$(basename "$f")" "$f" || { echo "testdata/usb is stale: go run ./testdata/usb/gen" >&2; exit 1; }
done

step "gofmt, vet"
bad=$(gofmt -l watcher/usb internal/umockdev internal/e2e/usb testdata/usb)
[[ -z "$bad" ]] || { echo "gofmt needed: $bad" >&2; exit 1; }
go vet ./watcher/usb/...
go vet -tags umockdev ./watcher/usb/... ./internal/umockdev/...

step "cross-builds without cgo"
CGO_ENABLED=0 GOOS=windows go build ./watcher/usb/...
CGO_ENABLED=0 GOOS=darwin go vet ./watcher/usb/...
CGO_ENABLED=0 go test -count=1 ./watcher/usb/...

step "unit + host tests (cgo)"
go test -count=1 -timeout 2m ./watcher/usb/...

step "umockdev tests (real libusb, fake devices)"
go test -tags umockdev -exec umockdev-wrapper -count=1 -timeout 1m ./internal/umockdev/
go test -tags umockdev -exec umockdev-wrapper -count=1 -timeout 3m -v ./watcher/usb/... 2>&1 |
	tee "$tmp/umockdev.log" | grep -E '^(--- |FAIL|ok|PASS)|latency|leaked|goroutines' || true
if ! grep -q '^ok' "$tmp/umockdev.log" || grep -q '^FAIL' "$tmp/umockdev.log"; then
	cat "$tmp/umockdev.log" >&2
	exit 1
fi

step "end to end: the trustwatch binary under umockdev with the simulator (internal/e2e/usb)"
go vet -tags umockdev ./internal/e2e/usb/
go build -o "$tmp/trustwatch" .
TW_BINARY="$tmp/trustwatch" go test -tags umockdev -exec umockdev-wrapper -count=1 -timeout 3m -v ./internal/e2e/usb/ 2>&1 |
	tee "$tmp/e2e.log" | grep -E '^(--- |    --- |FAIL|ok|PASS)' || true
if ! grep -q '^ok' "$tmp/e2e.log" || grep -q '^FAIL' "$tmp/e2e.log"; then
	cat "$tmp/e2e.log" >&2
	exit 1
fi

if [[ -n "$idle" ]]; then
	step "idle wakeups over $idle_window (host, then umockdev with an iPhone plugged)"
	export TW_USB_IDLE=$idle_window
	go test -count=1 -timeout 10m -v -run XXX -bench 'BenchmarkIdleWakeups' -benchtime 1x ./watcher/usb/ | grep -E 'idle Watch|polling|contrast|^Benchmark|^(--- |ok|FAIL)'
	go test -tags umockdev -exec umockdev-wrapper -count=1 -timeout 10m -v -run XXX -bench 'BenchmarkIdleWakeups' -benchtime 1x ./watcher/usb/ |
		grep -E 'idle Watch|polling|contrast|^Benchmark|^(--- |ok|FAIL)'
fi

echo
echo "test-usb.sh: OK"
