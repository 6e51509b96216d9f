package notify

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/catalog/catalogtest"
	"github.com/trustwatch/trustwatch/internal/desktoptest"
)

// The pseudo-locale run: every notification the Core composes, with every
// string of the catalog 40 % longer and bracketed (catalogtest.Pad), sent
// by the real D-Bus backend to dunst under Xvfb. What dunst received, read
// back by a bus monitor, holds every string whole: title, body and the
// buttons' labels. Nothing between the catalog and the server cuts text.
func TestPseudoLocaleReachesDunstWhole(t *testing.T) {
	t.Parallel()
	bus := desktoptest.StartBus(t)
	display := desktoptest.StartXvfb(t)
	desktoptest.StartDunst(t, desktoptest.Env("DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+bus))
	watch := desktoptest.WatchNotify(t, bus)
	b := NewDBusBackend(desktoptest.Connect(t, bus), DBusConfig{AppName: "trustwatch", OnAction: func(Action) {}, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { b.Close() })

	pseudo := catalog.In("en").Reshaped(catalogtest.Pad)
	msgs := everyMessage(t, pseudo, 7)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range msgs {
		if err := b.Send(ctx, m); err != nil {
			t.Fatalf("dunst refused %q: %v", m.Title, err)
		}
	}
	calls := watch.Wait(t, 10*time.Second, "every message", func(c []desktoptest.NotifyCall) bool { return len(c) >= len(msgs) })
	buttons := 0
	for i, c := range calls {
		texts := map[string]string{"title": c.Summary, "body": c.Body}
		for j := 1; j < len(c.Actions); j += 2 {
			texts["button "+c.Actions[j-1]] = c.Actions[j]
			buttons++
		}
		for what, s := range texts {
			n, err := catalogtest.Whole(s)
			if err != nil {
				t.Errorf("call %d %s: %v", i, what, err)
			} else if n == 0 {
				t.Errorf("call %d %s %q: no text from the catalog in it", i, what, s)
			}
		}
	}
	if buttons == 0 {
		t.Error("no notification carried a button: dunst lists the actions capability")
	}
	t.Logf("%d notifications, %d button labels reached dunst whole in the pseudo-locale", len(calls), buttons)
}
