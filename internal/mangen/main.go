// Command mangen writes trustwatch's manual page, trustwatch(1), from
// internal/cliref: the one description of the command line that also prints
// `trustwatch --help`, every `VERB --help`, the README's verb table and
// docs/cli.md. The page therefore says what the help says; its test runs the
// real binary's help and checks that every verb and flag is in the page.
//
//	go run ./internal/mangen -version 1.2.0 -date 2025-06-01 -o trustwatch.1
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	version := flag.String("version", "", "version shown in the page (required)")
	date := flag.String("date", "", "date shown in the page footer, YYYY-MM-DD (default: today)")
	out := flag.String("o", "", "write the page here (default: standard output)")
	flag.Parse()
	if *version == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: mangen -version V [-date YYYY-MM-DD] [-o FILE]")
		os.Exit(2)
	}
	if *date == "" {
		*date = time.Now().UTC().Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, *date); err != nil {
		fmt.Fprintf(os.Stderr, "mangen: -date %q is not YYYY-MM-DD\n", *date)
		os.Exit(2)
	}
	var page bytes.Buffer
	render(&page, *version, *date)
	var err error
	if *out == "" {
		_, err = os.Stdout.Write(page.Bytes())
	} else {
		err = os.WriteFile(*out, page.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}
