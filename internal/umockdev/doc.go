// Package umockdev is a thin cgo wrapper over libumockdev's testbed API, used
// by tests that need fake USB devices which libusb (and so gousb) sees as real.
//
// The test binary must run under umockdev-wrapper (go test -exec
// umockdev-wrapper): the wrapper LD_PRELOADs the library that redirects /sys
// and /dev to the testbed and delivers its uevents. Outside the wrapper the
// testbed can be created but nothing sees its devices; InWrapper tells.
//
// It is behind the "umockdev" build tag so normal builds need no
// libumockdev-dev.
package umockdev
