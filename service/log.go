package service

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maxLogSize caps the log file; one older file (.1) is kept beside it, so the
// logs never take more than twice this.
const maxLogSize = 1 << 20

// SetupLogging returns the process logger and where it writes ("stderr",
// "journal" or the log file path). It logs to stderr when toStderr is set,
// under systemd (JOURNAL_STREAM, the journal adds timestamps itself) or on a
// terminal; otherwise to a size-capped file (see LogLocation). If the file
// cannot be opened it still returns a working stderr logger, with the error.
// TRUSTWATCH_LOG=debug lowers the level to debug.
func SetupLogging(toStderr bool) (*slog.Logger, string, error) {
	level := slog.LevelInfo
	if strings.EqualFold(os.Getenv("TRUSTWATCH_LOG"), "debug") {
		level = slog.LevelDebug
	}
	journal := underJournal()
	if toStderr || journal || isTerminal(os.Stderr) {
		where := "stderr"
		if journal {
			where = "journal"
		}
		return slog.New(slog.NewTextHandler(os.Stderr, handlerOptions(level, journal))), where, nil
	}
	path := LogLocation()
	if path == "" {
		return slog.New(slog.NewTextHandler(os.Stderr, handlerOptions(level, false))), "stderr",
			errors.New("no folder for the log file; logging to stderr")
	}
	w, err := openCappedFile(path, maxLogSize)
	if err != nil {
		return slog.New(slog.NewTextHandler(os.Stderr, handlerOptions(level, false))), "stderr",
			fmt.Errorf("log file: %w; logging to stderr", err)
	}
	return slog.New(slog.NewTextHandler(w, handlerOptions(level, false))), path, nil
}

// LogLocation is the log file the tray writes when it has no terminal and is
// not under systemd (then its logs are in the journal: journalctl --user -u
// trustwatch). "" when no home folder is known.
func LogLocation() string {
	e, err := defaultEnv()
	if err != nil {
		return ""
	}
	return e.logPath()
}

// sensitiveKeys are attribute-name fragments whose values never reach a log:
// pair records carry private keys and the escrow bag unlocks the phone.
var sensitiveKeys = []string{"escrow", "privatekey", "private_key", "pairrecord", "pair_record", "password", "passcode", "secret", "token"}

func handlerOptions(level slog.Level, noTime bool) *slog.HandlerOptions {
	return &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if noTime && len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			k := strings.ToLower(a.Key)
			for _, s := range sensitiveKeys {
				if strings.Contains(k, s) {
					return slog.String(a.Key, "[redacted]")
				}
			}
			return a
		},
	}
}

// cappedFile is an append-only log file that moves itself to <path>.1 when
// the next write would pass max bytes.
type cappedFile struct {
	mu   sync.Mutex
	path string
	max  int64
	f    *os.File
	size int64
}

func openCappedFile(path string, max int64) (*cappedFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &cappedFile{path: path, max: max, f: f, size: fi.Size()}, nil
}

func (c *cappedFile) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return 0, os.ErrClosed
	}
	if c.size > 0 && c.size+int64(len(p)) > c.max {
		if err := c.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := c.f.Write(p)
	c.size += int64(n)
	return n, err
}

func (c *cappedFile) rotate() error {
	c.f.Close()
	c.f = nil
	_ = os.Remove(c.path + ".1") // Windows cannot rename over a file
	if err := os.Rename(c.path, c.path+".1"); err != nil && !errors.Is(err, os.ErrNotExist) {
		// Keep logging into the old file rather than losing messages.
		f, oerr := os.OpenFile(c.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if oerr != nil {
			return oerr
		}
		c.f = f
		return nil
	}
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	c.f, c.size = f, 0
	return nil
}

// Close closes the file; later writes fail with os.ErrClosed.
func (c *cappedFile) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f = nil
	return err
}

var _ io.WriteCloser = (*cappedFile)(nil)
