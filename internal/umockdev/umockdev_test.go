//go:build umockdev && cgo && linux

package umockdev

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	if !InWrapper() {
		msg := "*** umockdev tests need umockdev-wrapper: go test -tags umockdev -exec umockdev-wrapper ./internal/umockdev/ ***"
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "FAIL:", msg)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "SKIP:", msg)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const hubSys = "/sys/devices/pci0000:00/0000:00:14.0/usb1"

func TestTestbed(t *testing.T) {
	tb, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	root := tb.Root()
	if root == "" {
		t.Fatal("empty Root")
	}
	fixtures := filepath.Join("..", "..", "testdata", "usb")
	if err := tb.AddFromFile(filepath.Join(fixtures, "roothub.umockdev")); err != nil {
		t.Fatal(err)
	}
	if err := tb.AddFromFile(filepath.Join(fixtures, "iphone.umockdev")); err != nil {
		t.Fatal(err)
	}
	// Pure-Go reads must go through Root (umockdev only redirects libc).
	b, err := os.ReadFile(root + hubSys + "/1-1/idProduct")
	if err != nil || strings.TrimSpace(string(b)) != "12a8" {
		t.Fatalf("idProduct = %q, %v", b, err)
	}
	if err := tb.Unplug(hubSys + "/1-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root + hubSys + "/1-1"); !os.IsNotExist(err) {
		t.Fatalf("device still in sysfs after Unplug: %v", err)
	}

	if err := tb.AddFromFile(filepath.Join(fixtures, "missing.umockdev")); err == nil {
		t.Error("AddFromFile(missing) = nil")
	}
	if err := tb.AddFromString("not a description"); err == nil || !strings.Contains(err.Error(), "umockdev") {
		t.Errorf("AddFromString(garbage) = %v, want a umockdev error", err)
	}

	tb.Close()
	tb.Close() // idempotent
	if err := tb.AddFromString("P: /devices/x\nE: SUBSYSTEM=usb\n"); err == nil {
		t.Error("AddFromString after Close = nil")
	}
	if err := tb.Uevent(hubSys, "change"); err == nil {
		t.Error("Uevent after Close = nil")
	}
	if tb.Root() != "" {
		t.Error("Root after Close not empty")
	}
}
