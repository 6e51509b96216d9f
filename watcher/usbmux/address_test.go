package usbmux

import (
	"runtime"
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	ok := []struct {
		in, network, path, str string
	}{
		{"UNIX:///var/run/usbmuxd", "unix", "/var/run/usbmuxd", "unix:///var/run/usbmuxd"},
		{"UNIX:/var/run/usbmuxd", "unix", "/var/run/usbmuxd", "unix:///var/run/usbmuxd"},
		{"unix:///tmp/a b/mux.sock", "unix", "/tmp/a b/mux.sock", "unix:///tmp/a b/mux.sock"},
		{"unix:/tmp/m", "unix", "/tmp/m", "unix:///tmp/m"},
		{"Unix:///tmp/m", "unix", "/tmp/m", "unix:///tmp/m"},
		{"/abs/path", "unix", "/abs/path", "unix:///abs/path"},
		{"  /abs/path\t", "unix", "/abs/path", "unix:///abs/path"},
		{"127.0.0.1:27015", "tcp", "127.0.0.1:27015", "tcp://127.0.0.1:27015"},
		{"localhost:27015", "tcp", "localhost:27015", "tcp://localhost:27015"},
		{"tcp://127.0.0.1:27015", "tcp", "127.0.0.1:27015", "tcp://127.0.0.1:27015"},
		{"TCP://127.0.0.1:27015/", "tcp", "127.0.0.1:27015", "tcp://127.0.0.1:27015"},
		{"[::1]:27015", "tcp", "[::1]:27015", "tcp://[::1]:27015"},
		{"tcp://[::1]:5", "tcp", "[::1]:5", "tcp://[::1]:5"},
		{"host.example:0027015", "tcp", "host.example:27015", "tcp://host.example:27015"},
	}
	for _, c := range ok {
		a, err := ParseAddress(c.in)
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", c.in, err)
			continue
		}
		if a.Network != c.network || a.Path != c.path {
			t.Errorf("ParseAddress(%q) = %+v, want %s %s", c.in, a, c.network, c.path)
		}
		if a.String() != c.str {
			t.Errorf("ParseAddress(%q).String() = %q, want %q", c.in, a.String(), c.str)
		}
		// The JSON form must parse back to the same address.
		b, err := ParseAddress(a.String())
		if err != nil || b != a {
			t.Errorf("round trip of %q: %+v, %v", a.String(), b, err)
		}
	}
	bad := []struct{ in, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"relative/path", "host:port"},
		{"unix://relative", "absolute"},
		{"unix:relative", "absolute"},
		{"unix:", "absolute"},
		{"unix:///", "root"},
		{"/", "root"},
		{"tcp:127.0.0.1:1", "tcp://host:port"},
		{"tcp://127.0.0.1", "host:port"},
		{"tcp://:27015", "missing host"},
		{"127.0.0.1:0", "port"},
		{"127.0.0.1:65536", "port"},
		{"127.0.0.1:http", "port"},
		{"http://127.0.0.1:80", "unknown scheme"},
		{"ws://x:1", "unknown scheme"},
		{":27015", "missing host"},
		{"/var/run/usbmuxd\x00", "control"},
		{"a b:1", "invalid host"},
		{"garbage", "host:port"},
	}
	for _, c := range bad {
		a, err := ParseAddress(c.in)
		if err == nil {
			t.Errorf("ParseAddress(%q) = %+v, want error", c.in, a)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseAddress(%q) error %q does not mention %q", c.in, err, c.want)
		}
	}
}

func TestDefaultAndEnv(t *testing.T) {
	def := DefaultAddress()
	want := "unix:///var/run/usbmuxd"
	if runtime.GOOS == "windows" {
		want = "tcp://127.0.0.1:27015"
	}
	if def.String() != want {
		t.Fatalf("DefaultAddress() = %s, want %s", def, want)
	}
	t.Setenv(EnvAddress, "")
	if a, err := AddressFromEnv(); err != nil || a != def {
		t.Fatalf("unset env: %v %v", a, err)
	}
	t.Setenv(EnvAddress, "UNIX:/tmp/x.sock")
	if a, err := AddressFromEnv(); err != nil || a.String() != "unix:///tmp/x.sock" {
		t.Fatalf("env UNIX:/tmp/x.sock: %v %v", a, err)
	}
	t.Setenv(EnvAddress, "nonsense")
	if _, err := AddressFromEnv(); err == nil || !strings.Contains(err.Error(), EnvAddress) {
		t.Fatalf("bad env: error %v should name %s", err, EnvAddress)
	}
}

func TestNormalizeUDID(t *testing.T) {
	cases := map[string]string{
		"00008030-001A2B3C4D5E6F70":                "00008030001A2B3C4D5E6F70",
		"00008030001a2b3c4d5e6f70":                 "00008030001A2B3C4D5E6F70",
		" 00008030-001a2b3c4d5e6f70\n":             "00008030001A2B3C4D5E6F70",
		"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678": "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678",
		"": "",
	}
	for in, want := range cases {
		if got := NormalizeUDID(in); got != want {
			t.Errorf("NormalizeUDID(%q) = %q, want %q", in, got, want)
		}
	}
}
