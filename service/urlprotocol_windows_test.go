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

// An action URL reaches the tray's window and nothing else answers it.
func TestActionHandoff(t *testing.T) {
	e, _ := testEnv(t)
	if err := e.sendAction("trustwatch:guide/step-3"); err != ErrNoTray {
		t.Fatalf("with no tray: %v", err)
	}
	got := make(chan string, 4)
	stop, err := e.serveActions(func(u string) { got <- u })
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"trustwatch:guide/step-3", "trustwatch:fix/00008030-001A2B3C4D5E6F70"} {
		if err := e.sendAction(u); err != nil {
			t.Fatalf("send %q: %v", u, err)
		}
		if g := <-got; g != u {
			t.Fatalf("received %q, want %q", g, u)
		}
	}
	if err := e.sendAction(string(make([]byte, 2000))); err == nil {
		t.Fatal("an oversized action was sent")
	}
	stop()
	if err := e.sendAction("trustwatch:guide/step-3"); err != ErrNoTray {
		t.Fatalf("after stop: %v", err)
	}
}
