package service

import "testing"

// The trustwatch: scheme is registered for this user, pointing at this exe,
// and re-registering changes nothing.
func TestRegisterURLProtocol(t *testing.T) {
	e, _ := testEnv(t)
	if cmd, err := e.urlProtocolCommand(); err != nil || cmd != "" {
		t.Fatalf("before: %q %v", cmd, err)
	}
	for range 2 {
		if err := e.registerURLProtocol(); err != nil {
			t.Fatal(err)
		}
	}
	cmd, err := e.urlProtocolCommand()
	if err != nil || cmd != `"C:\Program Files\trust watch\trustwatch.exe" "%1"` {
		t.Fatalf("command %q %v", cmd, err)
	}
}
