#!/usr/bin/env bash
# The release, tested as a user meets it: a snapshot release for linux/amd64
# and windows/amd64 (the full matrix is the release workflow's), then
#   - every artifact is there and matches checksums.txt;
#   - the .deb's Depends still agree with dpkg-shlibdeps on its binary;
#   - `apt-get install ./…deb`: `trustwatch version` prints the stamped version
#     and commit, desktop-file-validate passes on the installed entry, `man
#     trustwatch` renders without a warning and lists every verb of --help;
#   - an upgrade to a later version, then `apt-get purge`: no file is left;
#   - the .rpm through rpm -qip/-qlp/-qpR/--recommends/-K;
#   - the Windows zip holds a GUI-subsystem trustwatch.exe stamped with the version,
#     in its version resource too, and the committed .syso files are left as they were;
#   - actionlint (pinned, via go run) on .github/workflows.
# lintian and rpmlint run inside release.sh (errors fail it).
#
# Needs (apt, installed by scripts/test.sh): lintian rpm rpmlint man-db
# desktop-file-utils zip unzip dpkg-dev. Missing: skipped with a message, or a
# failure when CI=true. Installs and purges the package "trustwatch" on this
# machine (root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
ACTIONLINT=(go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)

fail() { echo "test-release.sh: FAIL: $*" >&2; exit 1; }
say() { echo "test-release.sh: $*"; }
t0=$(date +%s)

missing=()
for tool in lintian rpm rpmlint man desktop-file-validate zip unzip dpkg-shlibdeps apt-get python3; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
	echo "test-release.sh: missing ${missing[*]}; apt-get install lintian rpm rpmlint man-db desktop-file-utils zip unzip dpkg-dev" >&2
	[[ ${CI:-} == true ]] && fail "tools missing (CI=true)"
	echo "test-release.sh: SKIPPED (set CI=true to make this a failure)" >&2
	exit 0
fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -qq)
[[ $(id -u) -eq 0 ]] || APT=(sudo "${APT[@]}")

work=$(mktemp -d /tmp/trustwatch-release.XXXXXX)
installed=0
cleanup() {
	if ((installed)); then "${APT[@]}" purge trustwatch >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# --- build ----------------------------------------------------------------
dist=$work/dist
scripts/release.sh --snapshot --targets "linux/amd64 windows/amd64" --out "$dist"
deb=$(ls "$dist"/trustwatch_*_amd64.deb)
rpmfile=$(ls "$dist"/trustwatch-*.x86_64.rpm)
tgz=$(ls "$dist"/trustwatch_*_linux_amd64.tar.gz)
zipfile=$(ls "$dist"/trustwatch_*_windows_amd64.zip)
# The MSI comes from scripts/build-msi.sh (installed and removed under Wine
# by scripts/test-wine.sh); here it only has to be part of the release.
msifile=$(ls "$dist"/trustwatch_*_windows_amd64.msi) || fail "no MSI in dist/"
version=${tgz##*/trustwatch_}
version=${version%_linux_amd64.tar.gz}
commit=$(git rev-parse HEAD)
say "built $version"
(cd "$dist" && sha256sum --quiet -c checksums.txt) || fail "checksums.txt does not match"
[[ $(wc -l <"$dist/checksums.txt") -eq 5 ]] || fail "checksums.txt should list 5 artifacts: $(cat "$dist/checksums.txt")"

# --- the tarball ------------------------------------------------------------
tar -xzf "$tgz" -C "$work"
top=$work/trustwatch_${version}_linux_amd64
for f in bin/trustwatch share/applications/trustwatch.desktop share/man/man1/trustwatch.1.gz \
	share/icons/hicolor/48x48/apps/trustwatch.png share/doc/trustwatch/README.md; do
	[[ -e $top/$f ]] || fail "tarball lacks $f"
done
[[ $("$top/bin/trustwatch" version | head -1) == "trustwatch $version" ]] || fail "tarball binary: $("$top/bin/trustwatch" version | head -1)"

# --- the deb's metadata -----------------------------------------------------
[[ $(dpkg-deb -f "$deb" Recommends) == usbmuxd ]] || fail "Recommends: $(dpkg-deb -f "$deb" Recommends)"
mkdir -p "$work/shlibs/debian"
printf 'Source: trustwatch\n\nPackage: trustwatch\nArchitecture: any\n' >"$work/shlibs/debian/control"
want=$(cd "$work/shlibs" && dpkg-shlibdeps -O "$top/bin/trustwatch" 2>/dev/null | sed 's/^shlibs:Depends=//')
[[ $(dpkg-deb -f "$deb" Depends) == "$want" ]] ||
	fail "Depends '$(dpkg-deb -f "$deb" Depends)' but dpkg-shlibdeps says '$want': update packaging/linux/nfpm.yaml"

# --- install ----------------------------------------------------------------
if dpkg-query -W -f='${Status}' trustwatch 2>/dev/null | grep -q "ok installed"; then
	fail "a package named trustwatch is already installed here; apt-get purge trustwatch first"
fi
before=$work/before.txt
find /usr /etc /var/lib/dpkg/info -xdev -path '*trustwatch*' 2>/dev/null | sort >"$before"
say "apt-get install $(basename "$deb")"
installed=1
"${APT[@]}" install --no-install-recommends "$deb" >/dev/null
dpkg -L trustwatch | grep -vx "/\." | sort >"$work/files.txt"
for f in /usr/bin/trustwatch /usr/share/applications/trustwatch.desktop /usr/share/man/man1/trustwatch.1.gz \
	/usr/share/doc/trustwatch/copyright /usr/share/doc/trustwatch/changelog.Debian.gz; do
	grep -qx "$f" "$work/files.txt" || fail "package lacks $f"
done
for s in 16 22 24 32 48 64 128 256; do
	grep -qx "/usr/share/icons/hicolor/${s}x$s/apps/trustwatch.png" "$work/files.txt" || fail "no ${s}px icon"
done
if grep -E '^/(etc/xdg/autostart|usr/lib/systemd/user|etc/systemd)' "$work/files.txt"; then
	fail "the package must not start trustwatch at login for every user"
fi

out=$(trustwatch version)
[[ $(head -1 <<<"$out") == "trustwatch $version" ]] || fail "trustwatch version says: $(head -1 <<<"$out")"
grep -qx "commit:    $commit" <<<"$out" || fail "version lacks commit $commit: $out"
grep -q '^date:      20[0-9][0-9]-' <<<"$out" || fail "version lacks the date: $out"
say "installed: $(head -1 <<<"$out")"

desktop-file-validate /usr/share/applications/trustwatch.desktop || fail "desktop-file-validate"
[[ $(man -w trustwatch) == /usr/share/man/man1/trustwatch.1.gz ]] || fail "man -w: $(man -w trustwatch)"
page=$(MANWIDTH=100 man --warnings -E UTF-8 trustwatch 2>"$work/man.err" | sed 's/.\x08//g')
[[ ! -s $work/man.err ]] || fail "man warnings: $(cat "$work/man.err")"
flat=$(tr -s ' \n' '  ' <<<"$page")
for want in NAME SYNOPSIS COMMANDS "EXIT STATUS" USBMUXD_SOCKET_ADDRESS "describes trustwatch $version;"; do
	grep -qF "$want" <<<"$flat" || fail "man trustwatch lacks $want"
done
for verb in $(trustwatch --help | awk '/^ +trustwatch / && $2 !~ /^[-[]/ { print $2 }'); do
	grep -q "^   trustwatch $verb\$" <<<"$page" || fail "man trustwatch has no section for '$verb'"
done
say "man trustwatch: $(wc -l <<<"$page") lines, every verb of --help"

# --- upgrade, then purge ------------------------------------------------------
# The same files under a later version, as the next release would be.
dpkg-deb -R "$deb" "$work/next"
next=$(dpkg-deb -f "$deb" Version | sed 's/-1$/.1-1/')
sed -i "s/^Version: .*/Version: $next/" "$work/next/DEBIAN/control"
dpkg-deb --root-owner-group -b "$work/next" "$work/trustwatch_next.deb" >/dev/null
"${APT[@]}" install --no-install-recommends "$work/trustwatch_next.deb" >/dev/null
[[ $(dpkg-query -W -f='${Version}' trustwatch) == "$next" ]] || fail "upgrade did not take"
dpkg -L trustwatch | grep -vx "/\." | sort | cmp -s - "$work/files.txt" || fail "upgrade changed the file list"
say "upgraded to $next"

"${APT[@]}" purge trustwatch >/dev/null
installed=0
while read -r f; do
	[[ -d $f ]] && continue # shared directories (/usr/share/man/man1, …) stay
	[[ -e $f || -L $f ]] && fail "purge left $f"
done <"$work/files.txt"
[[ ! -e /usr/share/doc/trustwatch ]] || fail "purge left /usr/share/doc/trustwatch"
find /usr /etc /var/lib/dpkg/info -xdev -path '*trustwatch*' 2>/dev/null | sort | cmp -s - "$before" ||
	fail "purge left: $(find /usr /etc /var/lib/dpkg/info -xdev -path '*trustwatch*' | sort | comm -13 "$before" -)"
dpkg-query -W -f='${Status}' trustwatch 2>/dev/null | grep -q "ok installed" && fail "still installed"
say "purged: no file left"

# --- the rpm ------------------------------------------------------------------
rpm -qip "$rpmfile" >/dev/null || fail "rpm -qip"
rpm -qlp "$rpmfile" >"$work/rpm-files.txt"
for f in /usr/bin/trustwatch /usr/share/applications/trustwatch.desktop /usr/share/man/man1/trustwatch.1.gz \
	/usr/share/icons/hicolor/256x256/apps/trustwatch.png /usr/share/licenses/trustwatch/copyright; do
	grep -qx "$f" "$work/rpm-files.txt" || fail "rpm lacks $f"
done
grep -q '^/usr/share/icons/hicolor$' "$work/rpm-files.txt" && fail "rpm owns hicolor's directories"
rpm -qpR "$rpmfile" | grep -qx 'libusb-1.0.so.0()(64bit)' || fail "rpm Requires: $(rpm -qpR "$rpmfile")"
[[ $(rpm -qp --recommends "$rpmfile") == usbmuxd ]] || fail "rpm Recommends: $(rpm -qp --recommends "$rpmfile")"
rpm -qp --qf '%{VERSION}\n' "$rpmfile" | grep -qF "${version//-/\~}" || fail "rpm version: $(rpm -qp --qf '%{VERSION}' "$rpmfile")"
rpm -K --nosignature "$rpmfile" >/dev/null || fail "rpm digests"
say "rpm: $(wc -l <"$work/rpm-files.txt") paths, Requires and Recommends as expected"

# --- the Windows zip ------------------------------------------------------------
unzip -q "$zipfile" -d "$work/win"
[[ -f $work/win/trustwatch.exe ]] || fail "zip lacks trustwatch.exe: $(unzip -l "$zipfile")"
python3 - "$work/win/trustwatch.exe" <<'PY' || fail "trustwatch.exe is not a Windows GUI program"
import struct, sys
b = open(sys.argv[1], "rb").read()
pe = struct.unpack_from("<I", b, 0x3C)[0]
assert b[pe:pe + 4] == b"PE\0\0"
subsystem = struct.unpack_from("<H", b, pe + 24 + 68)[0]  # optional header + 68
sys.exit(0 if subsystem == 2 else 1)  # 2 = IMAGE_SUBSYSTEM_WINDOWS_GUI, 3 = console
PY
grep -qaF "$version" "$work/win/trustwatch.exe" || fail "trustwatch.exe is not stamped with $version"
# the version resource Explorer and the MSI read, not only the Go string
go run ./internal/cmd/winres -check "$work/win/trustwatch.exe" -version "$version" ||
	fail "trustwatch.exe's version resource does not say $version"
git diff --quiet -- rsrc_windows_amd64.syso rsrc_windows_arm64.syso ||
	fail "release.sh left the committed rsrc_windows_*.syso changed"
say "windows zip: GUI-subsystem trustwatch.exe, version stamped (string and version resource)"

# --- the workflows -------------------------------------------------------------
"${ACTIONLINT[@]}" -no-color .github/workflows/*.yml || fail "actionlint"
workflows=(.github/workflows/*.yml)
say "actionlint: ${#workflows[@]} workflows clean"

say "PASS in $(($(date +%s) - t0)) s"
