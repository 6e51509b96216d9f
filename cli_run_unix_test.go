//go:build unix

package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// run2 runs the binary with extra environment, optionally as another user.
type run2 struct {
	env   []string
	cred  *syscall.Credential
	stdin string
	wrap  []string // a command the binary runs under (unshare …)
}

func (o run2) do(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append(append([]string{}, o.wrap...), binary)
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), o.env...)
	if o.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.cred}
		cmd.Dir = "/"
	}
	cmd.Stdin = strings.NewReader(o.stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", argv, err)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("trustwatch %v panicked:\n%s", args, r.stderr)
	}
	return r
}

type muxJSON struct {
	Usbmux struct {
		Address   string `json:"address"`
		Reachable bool   `json:"reachable"`
		Error     string `json:"error"`
		State     string `json:"state"`
		Advice    string `json:"advice"`
	} `json:"usbmux"`
	Devices []map[string]any `json:"devices"`
}
