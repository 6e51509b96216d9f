package watcher

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// watchSocket reports, through the channel, every time a file named like
// the socket is created, moved in or has its attributes changed (usbmuxd
// binds a fresh socket and chmods it) in the socket's directory. The
// channel is closed when the watch ends by itself (directory removed);
// stop ends it and waits for its goroutine. ok is false when inotify or
// the directory is unavailable.
func watchSocket(path string) (<-chan struct{}, func(), bool) {
	dir, name := filepath.Split(filepath.Clean(path))
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, nil, false
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_ATTRIB); err != nil {
		unix.Close(fd)
		return nil, nil, false
	}
	// Non-blocking, so os.File reads through the poller and Close unblocks them.
	f := os.NewFile(uintptr(fd), "inotify")
	ch := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			hit, gone := socketEvents(buf[:n], name)
			if hit {
				select {
				case ch <- struct{}{}:
				default: // one pending wake is enough
				}
			}
			if gone {
				return
			}
		}
	}()
	stop := sync.OnceFunc(func() {
		f.Close()
		wg.Wait()
	})
	return ch, stop, true
}

// socketEvents reads a batch of inotify events: hit when one is about
// name (or events were lost), gone when the watch itself ended.
func socketEvents(b []byte, name string) (hit, gone bool) {
	for len(b) >= unix.SizeofInotifyEvent {
		// struct inotify_event: wd, mask, cookie, len (host order), name.
		mask := binary.NativeEndian.Uint32(b[4:])
		size := unix.SizeofInotifyEvent + int(binary.NativeEndian.Uint32(b[12:]))
		if size > len(b) {
			return hit, gone
		}
		evName := string(bytes.TrimRight(b[unix.SizeofInotifyEvent:size], "\x00"))
		switch {
		case mask&unix.IN_Q_OVERFLOW != 0:
			hit = true
		case mask&unix.IN_IGNORED != 0:
			gone = true
		case evName == name:
			hit = true
		}
		b = b[size:]
	}
	return hit, gone
}
