// Command mangen writes trustwatch's manual page, trustwatch(1), from the
// program's own help: it runs `trustwatch --help` and `trustwatch VERB --help`
// for every verb that help lists, and turns the text into roff. The release
// runs it on the very binary it packages, so the page cannot drift from the
// program; its test checks every verb and flag arrives.
//
//	go run ./internal/mangen -bin ./trustwatch -version 1.2.0 -date 2025-06-01 -o trustwatch.1
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "", "the trustwatch binary to read the help from (required)")
	version := flag.String("version", "", "version shown in the page footer (required)")
	date := flag.String("date", "", "date shown in the page footer, YYYY-MM-DD (default: today)")
	out := flag.String("o", "", "write the page here (default: standard output)")
	flag.Parse()
	if *bin == "" || *version == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: mangen -bin PATH -version V [-date YYYY-MM-DD] [-o FILE]")
		os.Exit(2)
	}
	if *date == "" {
		*date = time.Now().UTC().Format("2006-01-02")
	}
	page, err := Generate(*bin, *version, *date)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(page)
	} else {
		err = os.WriteFile(*out, page, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}

// Generate runs bin for its help texts and renders the page.
func Generate(bin, version, date string) ([]byte, error) {
	top, err := help(bin)
	if err != nil {
		return nil, err
	}
	verbs := listedVerbs(top)
	if len(verbs) == 0 {
		return nil, errors.New("`trustwatch --help` lists no verb (expected lines like \"  trustwatch status ...\")")
	}
	verbHelp := map[string]string{}
	for _, v := range verbs {
		if verbHelp[v], err = help(bin, v); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	render(&b, page{version: version, date: date, top: top, verbHelp: verbHelp})
	return b.Bytes(), nil
}

// help runs `bin [verb] --help` in English, with nothing of the caller's
// session that could change what it prints.
func help(bin string, verb ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	home, err := os.MkdirTemp("", "mangen-home-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(home)
	args := append(append([]string{}, verb...), "--help")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C", "LC_ALL=C", "TRUSTWATCH_LANG=en"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	if stdout.Len() == 0 {
		return "", fmt.Errorf("%s %s printed nothing on standard output", bin, strings.Join(args, " "))
	}
	return stdout.String(), nil
}

// listedVerbs reads the verbs from the top-level help's usage lines
// ("  trustwatch status [--json] ...   diagnose ..."); the tray's own line
// ("  trustwatch [--allow-root]") names none.
func listedVerbs(top string) []string {
	var verbs []string
	seen := map[string]bool{}
	for _, line := range strings.Split(top, "\n") {
		f := strings.Fields(line)
		if !strings.HasPrefix(line, " ") || len(f) < 2 || f[0] != "trustwatch" {
			continue
		}
		v := f[1]
		if strings.HasPrefix(v, "-") || strings.HasPrefix(v, "[") || seen[v] {
			continue
		}
		seen[v] = true
		verbs = append(verbs, v)
	}
	return verbs
}
