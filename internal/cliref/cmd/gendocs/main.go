// Command gendocs rewrites the generated regions of README.md and
// docs/cli.md from internal/cliref (run by `go generate` at the repository
// root; a test fails when they are stale).
package main

import (
	"fmt"
	"os"

	"github.com/trustwatch/trustwatch/internal/cliref"
)

func main() {
	for _, path := range cliref.Documents {
		old, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gendocs:", err)
			os.Exit(1)
		}
		text, err := cliref.Apply(string(old))
		if err != nil {
			fmt.Fprintf(os.Stderr, "gendocs: %s: %v\n", path, err)
			os.Exit(1)
		}
		if text != string(old) {
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "gendocs:", err)
				os.Exit(1)
			}
			fmt.Println("gendocs: updated", path)
		}
	}
}
