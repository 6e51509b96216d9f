// Package usbe2e holds end-to-end tests of the real trustwatch binary with
// fake USB devices (umockdev) and the usbmuxd/iPhone simulator
// (internal/sim). They need the "umockdev" build tag and umockdev-wrapper:
//
//	go test -tags umockdev -exec umockdev-wrapper ./internal/e2e/usb/
//
// scripts/test-usb.sh runs them.
package usbe2e
