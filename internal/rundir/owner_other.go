//go:build !unix

package rundir

import (
	"os"
	"os/user"
	"strings"
)

func userTag() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return strings.NewReplacer(`\`, "-", "/", "-").Replace(u.Username)
	}
	return "user"
}

// checkOwner: per-user profile directories are already private on Windows.
func checkOwner(string, os.FileInfo) error { return nil }
