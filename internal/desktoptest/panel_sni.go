package desktoptest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	sniWatcher = "org.kde.StatusNotifierWatcher"
	sniItem    = "org.kde.StatusNotifierItem"
	dbusmenu   = "com.canonical.dbusmenu"
	callWait   = 2 * time.Second
)

// SNIItems is the watcher's RegisteredStatusNotifierItems, e.g.
// ":1.13/StatusNotifierItem".
func SNIItems(conn *dbus.Conn) ([]string, error) {
	v, err := getProp(conn, sniWatcher, "/StatusNotifierWatcher", sniWatcher, "RegisteredStatusNotifierItems")
	if err != nil {
		return nil, err
	}
	items, ok := v.Value().([]string)
	if !ok {
		return nil, fmt.Errorf("RegisteredStatusNotifierItems is %s", v.Signature())
	}
	return items, nil
}

// getProp is Properties.Get with a deadline (godbus's GetProperty has none).
func getProp(conn *dbus.Conn, dest string, path dbus.ObjectPath, iface, name string) (dbus.Variant, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callWait)
	defer cancel()
	var v dbus.Variant
	err := conn.Object(dest, path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, iface, name).Store(&v)
	return v, err
}

// OwnerOf is the unique bus name owning name.
func OwnerOf(conn *dbus.Conn, name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callWait)
	defer cancel()
	var owner string
	err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, name).Store(&owner)
	return owner, err
}

// MenuNode is one dbusmenu item as GetLayout returns it.
type MenuNode struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []*MenuNode
}

// Label is the item's label ("" for separators).
func (n *MenuNode) Label() string { s, _ := n.Props["label"].Value().(string); return s }

// Enabled reports the "enabled" property (default true).
func (n *MenuNode) Enabled() bool {
	if v, ok := n.Props["enabled"]; ok {
		b, _ := v.Value().(bool)
		return b
	}
	return true
}

// Visible reports the "visible" property (default true).
func (n *MenuNode) Visible() bool {
	if v, ok := n.Props["visible"]; ok {
		b, _ := v.Value().(bool)
		return b
	}
	return true
}

// Separator reports whether the item is a separator.
func (n *MenuNode) Separator() bool {
	s, _ := n.Props["type"].Value().(string)
	return s == "separator"
}

// Toggled is the "toggle-state" (1 = checked).
func (n *MenuNode) Toggled() bool { i, _ := n.Props["toggle-state"].Value().(int32); return i == 1 }

// Find is the first item, depth first, whose label is label.
func (n *MenuNode) Find(label string) *MenuNode {
	for _, c := range n.Children {
		if c.Label() == label {
			return c
		}
		if f := c.Find(label); f != nil {
			return f
		}
	}
	return nil
}

// FindPrefix is the first item, depth first, whose label starts with p.
func (n *MenuNode) FindPrefix(p string) *MenuNode {
	for _, c := range n.Children {
		if strings.HasPrefix(c.Label(), p) {
			return c
		}
		if f := c.FindPrefix(p); f != nil {
			return f
		}
	}
	return nil
}

// Labels lists the labels of the direct children ("---" for separators).
func (n *MenuNode) Labels() []string {
	var out []string
	for _, c := range n.Children {
		if c.Separator() {
			out = append(out, "---")
		} else {
			out = append(out, c.Label())
		}
	}
	return out
}

// String renders the tree, one item per line, for failure messages.
func (n *MenuNode) String() string {
	var b strings.Builder
	var walk func(*MenuNode, int)
	walk = func(m *MenuNode, depth int) {
		for _, c := range m.Children {
			label := c.Label()
			if c.Separator() {
				label = "---"
			}
			fmt.Fprintf(&b, "%s[%d] %s", strings.Repeat("  ", depth), c.ID, label)
			if !c.Enabled() {
				b.WriteString(" (disabled)")
			}
			b.WriteByte('\n')
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

type rawLayout = struct {
	V0 int32
	V1 map[string]dbus.Variant
	V2 []dbus.Variant
}

// MenuLayout reads the whole menu of the item owned by dest (a bus name)
// through com.canonical.dbusmenu.GetLayout. Some servers (fyne.io/systray)
// answer the first call after a rebuild one level deep only, so submenus
// that claim children but have none are fetched again by their own id.
func MenuLayout(conn *dbus.Conn, dest string) (*MenuNode, error) {
	obj := conn.Object(dest, "/StatusNotifierItem/menu")
	get := func(id int32) (*MenuNode, error) {
		ctx, cancel := context.WithTimeout(context.Background(), callWait)
		defer cancel()
		var rev uint32
		var raw rawLayout
		if err := obj.CallWithContext(ctx, dbusmenu+".GetLayout", 0, id, int32(-1), []string{}).Store(&rev, &raw); err != nil {
			return nil, err
		}
		return convert(raw)
	}
	root, err := get(0)
	if err != nil {
		return nil, err
	}
	var fill func(*MenuNode, int) error
	fill = func(n *MenuNode, depth int) error {
		if depth > 8 {
			return fmt.Errorf("menu deeper than 8 levels")
		}
		for i, c := range n.Children {
			if s, _ := c.Props["children-display"].Value().(string); s == "submenu" && len(c.Children) == 0 {
				full, err := get(c.ID)
				if err != nil {
					return fmt.Errorf("GetLayout(%d): %w", c.ID, err)
				}
				n.Children[i] = full
				c = full
			}
			if err := fill(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return root, fill(root, 0)
}

func convert(raw rawLayout) (*MenuNode, error) {
	n := &MenuNode{ID: raw.V0, Props: raw.V1}
	for _, v := range raw.V2 {
		var child rawLayout
		if err := dbus.Store([]interface{}{v.Value()}, &child); err != nil {
			return nil, fmt.Errorf("menu item under %d: %w", raw.V0, err)
		}
		c, err := convert(child)
		if err != nil {
			return nil, err
		}
		n.Children = append(n.Children, c)
	}
	return n, nil
}

// MenuClick sends a "clicked" event for item id, as a panel does.
func MenuClick(conn *dbus.Conn, dest string, id int32) error {
	ctx, cancel := context.WithTimeout(context.Background(), callWait)
	defer cancel()
	return conn.Object(dest, "/StatusNotifierItem/menu").CallWithContext(ctx, dbusmenu+".Event", 0,
		id, "clicked", dbus.MakeVariant(int32(0)), uint32(time.Now().Unix())).Err
}

// SNIPixmap is one IconPixmap entry: ARGB32, network byte order.
type SNIPixmap struct {
	W, H int32
	ARGB []byte
}

// IconPixmap reads the item's IconPixmap property.
func IconPixmap(conn *dbus.Conn, dest string) ([]SNIPixmap, error) {
	v, err := getProp(conn, dest, "/StatusNotifierItem", sniItem, "IconPixmap")
	if err != nil {
		return nil, err
	}
	var out []SNIPixmap
	if err := dbus.Store([]interface{}{v.Value()}, &out); err != nil {
		return nil, fmt.Errorf("IconPixmap %s: %w", v.Signature(), err)
	}
	return out, nil
}

// ToolTip reads the title of the item's ToolTip property.
func ToolTip(conn *dbus.Conn, dest string) (string, error) {
	v, err := getProp(conn, dest, "/StatusNotifierItem", sniItem, "ToolTip")
	if err != nil {
		return "", err
	}
	var tt struct {
		Name  string
		Icons []SNIPixmap
		Title string
		Body  string
	}
	if err := dbus.Store([]interface{}{v.Value()}, &tt); err != nil {
		return "", fmt.Errorf("ToolTip %s: %w", v.Signature(), err)
	}
	return tt.Title, nil
}
