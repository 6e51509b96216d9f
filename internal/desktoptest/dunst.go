package desktoptest

import (
	"context"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// DunstShown asks a running dunst how many notifications it shows on
// screen now (displayed plus waiting for room), through its own
// org.dunstproject.cmd0 properties, as `dunstctl count` does.
func DunstShown(conn *dbus.Conn) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	total := 0
	for _, prop := range []string{"displayedLength", "waitingLength"} {
		var v dbus.Variant
		err := conn.Object(notifName, notifPath).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
			"org.dunstproject.cmd0", prop).Store(&v)
		if err != nil {
			return 0, fmt.Errorf("dunst %s: %w", prop, err)
		}
		n, ok := v.Value().(uint32)
		if !ok {
			return 0, fmt.Errorf("dunst %s is %v, not a uint32", prop, v)
		}
		total += int(n)
	}
	return total, nil
}
