#!/usr/bin/env bash
# Builds the per-user Windows installer on Linux with wixl (Debian msitools):
#
#   scripts/build-msi.sh <version> <arch> <path-to-exe> <out-dir>
#
# version: 1.2.3, v1.2.3 or 1.2.3-suffix (the MSI's ProductVersion is 1.2.3);
# arch: amd64, arm64 or 386; the exe: a GUI build (-ldflags "-H=windowsgui").
# Prints the path of the .msi it wrote,
# <out-dir>/trustwatch_<version>_windows_<arch>.msi (named like
# release.sh's zips).
#
# wixl knows no arm64 package template, so the arm64 exe ships in an x86
# ("Intel") package: it is per-user with no 64-bit components (HKCU and
# %LOCALAPPDATA% are not redirected), and Windows on ARM installs x86
# packages.
#
# The package (packaging/windows/trustwatch.wxs) installs for the current
# user only, without elevation, under %LOCALAPPDATA%\Programs\trustwatch:
# the exe, the toast icon, a Start menu shortcut carrying the
# AppUserModelID "trustwatch", the trustwatch: URL scheme and the
# AppUserModelID key; STARTATLOGIN=1 (default) adds the HKCU Run value,
# STARTNOW=1 (default) starts the tray when the install ends. Uninstall stops
# the tray and removes all of it, the Run value and Task Manager's
# StartupApproved entry included.
#
# wixl lacks a few WiX elements; the rows they would make are added here
# with msibuild's SQL: the StartAtLogin component's condition, immediate
# custom actions, "delete this key on uninstall" rows, and the
# MsiShortcutProperty table that puts the AppUserModelID on the shortcut.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	echo "usage: $0 <version> <arch: amd64|arm64|386> <path-to-trustwatch.exe> <out-dir>" >&2
	exit 2
}
[[ $# -eq 4 ]] || usage
version=$1 arch=$2 exe=$3 out=$4

for tool in wixl msibuild msiinfo; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "build-msi.sh: $tool missing; apt-get install wixl msitools" >&2
		exit 1
	}
done
numeric=$(sed -nE 's/^v?([0-9]+\.[0-9]+\.[0-9]+)([-+][0-9A-Za-z.+-]*)?$/\1/p' <<<"$version")
[[ -n $numeric ]] || {
	echo "build-msi.sh: version $version is not N.N.N[-suffix]" >&2
	exit 2
}
IFS=. read -r major minor patch <<<"$numeric"
((major <= 255 && minor <= 255 && patch <= 65535)) || {
	echo "build-msi.sh: version $numeric is out of the MSI range (255.255.65535)" >&2
	exit 2
}
case $arch in
amd64) wixarch=x64 ;;
386 | arm64) wixarch=x86 ;;
*)
	echo "build-msi.sh: unknown arch $arch (amd64, arm64, 386)" >&2
	exit 2
	;;
esac
[[ -f $exe ]] || {
	echo "build-msi.sh: no such file: $exe" >&2
	exit 2
}
mkdir -p "$out"
msi=$(cd "$out" && pwd)/trustwatch_${version}_windows_$arch.msi

stage=$(mktemp -d /tmp/trustwatch-msi.XXXXXX)
trap 'rm -rf "$stage"' EXIT
# wixl takes sources relative to where it runs.
cp "$exe" "$stage/trustwatch.exe"
cp "$root/icons/png/app-256.png" "$stage/trustwatch.png"
cp "$root/icons/ico/app.ico" "$stage/trustwatch.ico"
cp "$root/packaging/windows/trustwatch.wxs" "$stage/"
rm -f "$msi"
(cd "$stage" && wixl -a "$wixarch" -D "Version=$numeric" -o "$msi" trustwatch.wxs)

sql() { msibuild "$msi" -q "$1"; }
# Immediate (not in-script) actions that ignore the exit code: 18 runs an
# installed file, +64 continue on failure, +128 do not wait.
sql "UPDATE \`CustomAction\` SET \`Type\` = 82 WHERE \`Action\` = 'StopTray'"
sql "UPDATE \`CustomAction\` SET \`Type\` = 82 WHERE \`Action\` = 'RemoveLoginItem'"
sql "UPDATE \`CustomAction\` SET \`Type\` = 210 WHERE \`Action\` = 'StartTray'"
sql "UPDATE \`Component\` SET \`Condition\` = 'STARTATLOGIN = \"1\"' WHERE \`Component\` = 'StartAtLogin'"
# Name "-": the key and everything under it go on uninstall (go-toast and
# the tray may have added values of their own).
for row in "RemoveURLScheme|Software\\Classes\\trustwatch|URLScheme" \
	"RemoveAppUserModelID|Software\\Classes\\AppUserModelId\\trustwatch|AppUserModelID" \
	"RemoveSettings|Software\\trustwatch|Program"; do
	IFS='|' read -r id key comp <<<"$row"
	sql "INSERT INTO \`Registry\` (\`Registry\`, \`Root\`, \`Key\`, \`Name\`, \`Component_\`) VALUES ('$id', 1, '$key', '-', '$comp')"
done
sql "CREATE TABLE \`MsiShortcutProperty\` (\`MsiShortcutProperty\` CHAR(72) NOT NULL, \`Shortcut_\` CHAR(72) NOT NULL, \`PropertyKey\` CHAR(0) NOT NULL, \`PropVariantValue\` CHAR(0) NOT NULL PRIMARY KEY \`MsiShortcutProperty\`)"
sql "INSERT INTO \`MsiShortcutProperty\` (\`MsiShortcutProperty\`, \`Shortcut_\`, \`PropertyKey\`, \`PropVariantValue\`) VALUES ('ShortcutAppUserModelID', 'StartMenuShortcut', 'System.AppUserModel.ID', 'trustwatch')"

# What was written is what was meant.
msiinfo export "$msi" MsiShortcutProperty | grep -q "System.AppUserModel.ID	trustwatch" || {
	echo "build-msi.sh: the shortcut's AppUserModelID is missing" >&2
	exit 1
}
echo "$msi"
