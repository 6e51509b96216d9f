package service

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows/registry"
)

func applyTestOverrides(e *env) {
	e.os.mutexSuffix = os.Getenv("TW_TEST_MUTEX_SUFFIX")
	e.os.prefix = os.Getenv("TW_TEST_REG_PREFIX")
}

// testEnv is an env whose registry keys live in a throwaway HKCU subtree and
// whose mutex and pid file do not collide with a real trustwatch.
func testEnv(t *testing.T) (*env, []string) {
	t.Helper()
	d := tempDir(t)
	suffix := fmt.Sprintf("-test-%d-%s", os.Getpid(), filepath.Base(d))
	prefix := fmt.Sprintf(`Software\trustwatch-test-%d-%s\`, os.Getpid(), filepath.Base(d))
	t.Cleanup(func() { deleteRegTree(registry.CURRENT_USER, prefix[:len(prefix)-1]) })
	home := filepath.Join(d, "home")
	e := &env{
		home:        home,
		cacheDir:    filepath.Join(d, "cache"),
		exe:         func() (string, error) { return `C:\Program Files\trust watch\trustwatch.exe`, nil },
		euid:        func() int { return -1 },
		systemdUser: func() bool { return false },
		os: osEnv{
			root:         registry.CURRENT_USER,
			prefix:       prefix,
			localAppData: filepath.Join(d, "appdata"),
			mutexSuffix:  suffix,
		},
	}
	vars := []string{
		"LOCALAPPDATA=" + e.os.localAppData,
		"TW_TEST_MUTEX_SUFFIX=" + suffix,
		"TW_TEST_REG_PREFIX=" + prefix,
	}
	return e, vars
}

// deleteRegTree removes a key and everything under it.
func deleteRegTree(root registry.Key, path string) {
	k, err := registry.OpenKey(root, path, registry.ENUMERATE_SUB_KEYS)
	if err == nil {
		names, _ := k.ReadSubKeyNames(-1)
		k.Close()
		for _, n := range names {
			deleteRegTree(root, path+`\`+n)
		}
	}
	_ = registry.DeleteKey(root, path)
}

// expectedLogPath is where a helper with vars should log.
func expectedLogPath(vars []string) string {
	return filepath.Join(envValue(vars, "LOCALAPPDATA"), "trustwatch", "trustwatch.log")
}
