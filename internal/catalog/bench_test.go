package catalog

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

// What a language costs: reading its files into a bundle happens once per
// process, on first use (the tray's start, a CLI verb's first line), and
// the bundle then stays for the life of the process — reported as
// live-B/lang, the live heap it holds after a full collection.
func BenchmarkReadLanguage(b *testing.B) {
	for _, tag := range []string{"en", "ru"} {
		b.Run(tag, func(b *testing.B) {
			s, err := openShelf(files)
			if err != nil {
				b.Fatal(err)
			}
			before := liveHeap()
			kept := s.read(tag)
			held := liveHeap() - before
			runtime.KeepAlive(kept)
			b.ReportAllocs()
			for b.Loop() {
				if bk := s.read(tag); bk.err != nil {
					b.Fatal(bk.err)
				}
			}
			b.ReportMetric(float64(held), "live-B/lang") // after the loop: b.Loop starts the figures afresh
		})
	}
}

// What a sentence costs once the language is read: the tray renders a few
// dozen of these per menu rebuild, a notification two or three.
func BenchmarkRender(b *testing.B) {
	for _, tag := range []string{"en", "ru"} {
		w := In(tag)
		b.Run(tag+"/plain", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if w.T("tray.status.none", nil) == "" {
					b.Fatal("empty")
				}
			}
		})
		b.Run(tag+"/plural", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if w.N("tray.status.connected", 5, nil) == "" {
					b.Fatal("empty")
				}
			}
		})
	}
}

// liveHeap is the live heap after two full collections (the first may
// leave finalizers' objects for the second).
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// What asking for a language costs: the tray and the CLI ask for
// Current() per label, line and notification.
func BenchmarkIn(b *testing.B) {
	In("ru") // read once
	b.ReportAllocs()
	for b.Loop() {
		if In("ru").Lang() != "ru" {
			b.Fatal("wrong language")
		}
	}
}
