#!/usr/bin/env bash
# Regenerates docs/screenshot-tray.png (the tray menu open on xfce4-panel)
# and docs/screenshot-notification.png (a dunst notification) by running
# `trustwatch demo` (the real tray, engine and notifier against the
# built-in simulated iPhones) on a private Xvfb display and D-Bus bus.
# With a language, `trustwatch --lang <lang> demo` is shot instead, into
# docs/screenshot-tray-<lang>.png and docs/screenshot-notification-<lang>.png.
#
# Needs: xvfb x11-utils xdotool imagemagick dbus dunst xfce4-panel.
# Usage: scripts/screenshots.sh [outdir [lang]]   (default: docs, English)
#        scripts/screenshots.sh docs ru
# Every process it starts is recorded and killed by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs}
SHOT_LANG=${2:-}
SUFFIX=${SHOT_LANG:+-$SHOT_LANG}
LANG_ARGS=()
[ -n "$SHOT_LANG" ] && LANG_ARGS=(--lang "$SHOT_LANG")
export PATH=$PATH:/usr/local/go/bin

for t in Xvfb xdotool import dbus-daemon dunst xfce4-panel; do
  command -v "$t" >/dev/null || { echo "screenshots.sh: $t is missing (apt-get install xvfb xdotool imagemagick dbus dunst xfce4-panel)" >&2; exit 1; }
done

D=$(mktemp -d /tmp/twshots.XXXXXX)
PIDS=()
cleanup() {
  local i
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do kill "${PIDS[i]}" 2>/dev/null || true; done
  sleep 0.3
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do kill -9 "${PIDS[i]}" 2>/dev/null || true; done
  rm -rf "$D"
}
trap cleanup EXIT

echo "== building trustwatch"
go build -o "$D/trustwatch" .

mkdir -p "$D/config/xfce4/xfconf/xfce-perchannel-xml" "$D/config/dunst" "$D/cache" "$D/home" "$D/state"
install -d -m 700 "$D/run"
export HOME=$D/home XDG_CONFIG_HOME=$D/config XDG_CACHE_HOME=$D/cache XDG_RUNTIME_DIR=$D/run XDG_STATE_HOME=$D/state

# X display: Xvfb picks a free number and reports it on fd 3.
exec 3>"$D/display"
Xvfb -displayfd 3 -screen 0 1024x600x24 -nolisten tcp 2>"$D/xvfb.log" &
PIDS+=($!)
exec 3>&-
for _ in $(seq 100); do [ -s "$D/display" ] && break; sleep 0.05; done
export DISPLAY=:$(head -n1 "$D/display")
echo "== Xvfb on $DISPLAY"

# Private session bus (standard session config: xfconfd is activated).
read -r DBUS_SESSION_BUS_ADDRESS BUS_PID < <(dbus-daemon --session --fork --print-address=1 --print-pid=1 | paste -sd' ')
export DBUS_SESSION_BUS_ADDRESS
PIDS+=("$BUS_PID")

has_owner() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q "boolean true"
}
wait_name() {
  for _ in $(seq 200); do has_owner "$1" && return 0; sleep 0.05; done
  echo "screenshots.sh: $1 never appeared on the bus" >&2; exit 1
}

# dunst: readable size, below the panel, long timeout so the shot catches it.
cat >"$D/config/dunst/dunstrc" <<'DUNST'
[global]
    font = DejaVu Sans 11
    width = 420
    origin = top-right
    offset = 12x52
    frame_width = 2
    frame_color = "#1a6fe0"
    padding = 10
    horizontal_padding = 12
    icon_position = left
    min_icon_size = 48
    max_icon_size = 48
    corner_radius = 6
[urgency_low]
    background = "#2b2f36"
    foreground = "#f4f5f7"
    timeout = 60
[urgency_normal]
    background = "#2b2f36"
    foreground = "#f4f5f7"
    timeout = 60
[urgency_critical]
    background = "#2b2f36"
    foreground = "#f4f5f7"
    frame_color = "#d32f2f"
    timeout = 60
DUNST
dunst -config "$D/config/dunst/dunstrc" 2>"$D/dunst.log" &
PIDS+=($!)
wait_name org.freedesktop.Notifications

# The panel layout the desktop tests use: separator, systray (SNI host), clock.
cat >"$D/config/xfce4/xfconf/xfce-perchannel-xml/xfce4-panel.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array"><value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="40"/>
      <property name="icon-size" type="uint" value="32"/>
      <property name="length" type="uint" value="100"/>
      <property name="plugin-ids" type="array"><value type="int" value="1"/><value type="int" value="2"/><value type="int" value="3"/></property>
    </property></property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="separator"><property name="expand" type="bool" value="true"/></property>
    <property name="plugin-2" type="string" value="systray"><property name="square-icons" type="bool" value="true"/></property>
    <property name="plugin-3" type="string" value="clock"/>
  </property>
</channel>
XML
setsid xfce4-panel --disable-wm-check >"$D/panel.log" 2>&1 &
PANEL_PID=$!
PIDS+=("$PANEL_PID")
wait_name org.kde.StatusNotifierWatcher
# a plain desktop colour instead of black (ImageMagick draws the root window)
convert -size 1024x600 xc:'#5b7083' "$D/bg.png" && display -window root "$D/bg.png" 2>/dev/null || true

echo "== trustwatch demo"
SPEED=${SPEED:-1}  # normal speed: the notifier is shown exactly as a person sees it
"$D/trustwatch" "${LANG_ARGS[@]}" demo --allow-root --speed "$SPEED" >"$D/demo.log" 2>"$D/demo.err" &
PIDS+=($!)

# story_line ID: the demo's line ID (cli.demo.*) in the shot's language, read
# from the catalog, so the waits below follow the story in any language.
story_line() {
  awk -v id="[\"$1\"]" '$0 == id { getline; sub(/^other = "/, ""); sub(/"$/, ""); print; exit }' \
    "internal/catalog/messages/${SHOT_LANG:-en}/cli.toml"
}

wait_line() { # wait_line MESSAGE-ID SECONDS
  local text n=$(( $2 * 20 ))
  text=$(story_line "$1")
  [ -n "$text" ] || { echo "screenshots.sh: no $1 in the ${SHOT_LANG:-en} catalog" >&2; exit 1; }
  for _ in $(seq "$n"); do grep -qF -- "$text" "$D/demo.log" && return 0; sleep 0.05; done
  echo "screenshots.sh: demo never printed '$text'" >&2; cat "$D/demo.log" "$D/demo.err" >&2; exit 1
}

mkdir -p "$OUT"
# The notification shot: Anna's one bubble, replaced in place from "is
# locked" to "is asking to trust this computer" once the unlock is seen
# (the watcher polls once a second), before she taps Trust.
wait_line cli.demo.anna_unlocks 60
sleep $(awk "BEGIN{print 2.5/$SPEED}")
import -window root "$D/full.png"
convert "$D/full.png" -crop 470x250+554+44 +repage "$OUT/screenshot-notification$SUFFIX.png"
echo "== wrote $OUT/screenshot-notification$SUFFIX.png"

# At the end of the story three phones are connected: Anna's is ready,
# Ben's only charges, and "Don't Trust" was tapped on Chris's.
wait_line cli.demo.over 90
sleep 1.5

# The tray shot: notifications away, menu open, first device's submenu open.
# (paused dunst queues new notifications instead of drawing them)
dunstctl set-paused true && dunstctl close-all || echo "screenshots.sh: dunstctl failed; notifications may cover the menu" >&2
sleep 0.5
ICON_X=${ICON_X:-936}   # the systray plugin sits left of the clock (1024x600, 40 px top panel)
xdotool mousemove "$ICON_X" 20 click 1
sleep 1
xdotool mousemove $((ICON_X - 200)) 106  # third menu line: the second phone ("Don't Trust"), opens its submenu
sleep 1.2
import -window root "$D/full.png"
# the menu is a light box below the icon; a dark pixel there means it did not open
lum=$(convert "$D/full.png" -crop 1x1+$((ICON_X - 150))+225 -format '%[fx:int(255*mean)]' info:)
if [ "$lum" -lt 200 ]; then
  echo "screenshots.sh: the tray menu did not open (pixel luminance $lum); is the icon at x=$ICON_X?" >&2
  exit 1
fi
convert "$D/full.png" -crop 1024x360+0+0 +repage "$OUT/screenshot-tray$SUFFIX.png"
echo "== wrote $OUT/screenshot-tray$SUFFIX.png"
