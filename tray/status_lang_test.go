package tray

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trustwatch/trustwatch/internal/lang"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// The status line and tooltip in Russian: the one tray surface that reads
// from the catalog so far (internal/catalog, tray.status.*), with CLDR
// plurals for the count.
func TestStatusLineRussian(t *testing.T) {
	defer lang.Set(lang.Current())
	lang.Set(lang.Choice{Tag: "ru", Source: "test"})
	ready := dev("a", "Anna's iPhone", engine.StateReady)
	pending := dev("b", "Ben's iPhone", engine.StateTrustPending)
	probing := dev("d", "Dee", engine.StateProbing)
	many := func(n int, extra ...engine.Device) engine.Snapshot {
		var ds []engine.Device
		for i := range n - len(extra) {
			ds = append(ds, dev(fmt.Sprint("r", i), "R", engine.StateReady))
		}
		return snap(true, append(ds, extra...)...)
	}
	for _, tc := range []struct {
		name string
		snap engine.Snapshot
		want string
	}{
		{"before the first snapshot", engine.Snapshot{}, "Запуск…"},
		{"no phone", snap(true), "iPhone не подключён"},
		{"unreachable, with a phone", snap(false, dev("u", "", engine.StateServiceUnavailable)), "1 iPhone на USB — нет связи с usbmuxd"},
		{"one ready", snap(true, ready), "1 iPhone подключён — готов к работе"},
		{"one pending", snap(true, pending), "1 iPhone подключён — требует внимания"},
		{"two, one pending", snap(true, ready, pending), "2 iPhone подключены — 1 требует внимания"},
		{"two ready", many(2), "2 iPhone подключены — все готовы к работе"},
		{"five, checking", many(5, probing), "5 iPhone подключено — проверка…"},
		{"eleven", many(11), "11 iPhone подключено — все готовы к работе"},
		{"twenty-one", many(21), "21 iPhone подключён — все готовы к работе"},
		{"twenty-two, two need", many(22, pending, dev("c", "C", engine.StateNoData)), "22 iPhone подключены — 2 требуют внимания"},
		{"twenty-five", many(25), "25 iPhone подключено — все готовы к работе"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := build(tc.snap, false, "linux")
			if got[0].Title != tc.want {
				t.Errorf("status item = %q, want %q", got[0].Title, tc.want)
			}
			if first := strings.SplitN(tooltip(tc.snap, "linux"), "\n", 2)[0]; first != "trustwatch: "+tc.want {
				t.Errorf("tooltip starts %q", first)
			}
		})
	}
}
