#!/usr/bin/env bash
# One command for every artifact this machine can build, into dist/ with
# SHA-256 checksums:
#
#   Linux host:  trustwatch_<ver>_linux_{amd64,arm64}.tar.gz, trustwatch_<ver>_{amd64,arm64}.deb,
#                trustwatch-<ver>-1.{x86_64,aarch64}.rpm, trustwatch_<ver>_windows_{amd64,arm64}.zip,
#                and the MSI when scripts/build-msi.sh exists
#   macOS host:  trustwatch_<ver>_macos_universal.zip (trustwatch.app, arm64 + amd64)
#
#   scripts/release.sh [--snapshot] [--targets "linux/amd64 windows/amd64"] [--out dist]
#
# Without --snapshot HEAD must be a clean checkout of a tag vX.Y.Z; the version
# is the tag. --snapshot works anywhere: X.Y.(Z+1)-snapshot.<commit time>.<sha>
# after the last tag (0.0.1-… before the first).
#
# Tools: Go; for Linux packages nfpm (run as a pinned Go module, nothing to
# install), zip, and lintian/rpmlint when present (their errors fail the
# release); gcc-aarch64-linux-gnu plus an arm64 libusb (scripts/arm64-sysroot.sh)
# for linux/arm64. On macOS: Xcode's clang, lipo, codesign, and a universal
# static libusb in $LIBUSB_PREFIX (the release workflow builds one).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin

NFPM=(go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2)
MAINTAINER=${TRUSTWATCH_MAINTAINER:-trustwatch maintainers <maintainers@trustwatch.invalid>}
LICENSE=${TRUSTWATCH_LICENSE:-LicenseRef-unpublished}

die() { echo "release.sh: $*" >&2; exit 1; }
say() { echo "release.sh: $*"; }

snapshot=0 targets='' out=dist
while (($#)); do
	case $1 in
	--snapshot) snapshot=1 ;;
	--targets) targets=${2:?--targets needs a list}; shift ;;
	--targets=*) targets=${1#*=} ;;
	--out) out=${2:?--out needs a directory}; shift ;;
	--out=*) out=${1#*=} ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (try --help)" ;;
	esac
	shift
done
if [[ -z $targets ]]; then
	case $(uname -s) in
	Darwin) targets="darwin/universal" ;;
	*) targets="linux/amd64 linux/arm64 windows/amd64 windows/arm64" ;;
	esac
fi

# --- version, commit, date -------------------------------------------------
git rev-parse --git-dir >/dev/null 2>&1 || die "not a git checkout: the version comes from git"
commit=$(git rev-parse HEAD)
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
export SOURCE_DATE_EPOCH
date=$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd)
first=$(git log -1 --format=%cd --date=format:%Y "$(git rev-list --max-parents=0 HEAD | tail -n 1)")
years=$first; [[ $first == "${date:0:4}" ]] || years="$first-${date:0:4}"
dirty=$(git status --porcelain --untracked-files=no)
semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$'
if ((snapshot)); then
	last=$(git describe --tags --abbrev=0 --match 'v[0-9]*.[0-9]*.[0-9]*' 2>/dev/null || echo v0.0.0)
	[[ $last =~ $semver ]] || die "last tag $last is not vX.Y.Z"
	stamp=$(TZ=UTC git log -1 --date=format-local:%Y%m%d%H%M%S --format=%cd)
	version="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.$((BASH_REMATCH[3] + 1))-snapshot.$stamp.${commit:0:7}"
	[[ -z $dirty ]] || version+=".dirty"
else
	tag=$(git describe --exact-match --tags --match 'v[0-9]*' HEAD 2>/dev/null) ||
		die "HEAD is not a tag vX.Y.Z; tag it (git tag v1.2.0) or use --snapshot"
	[[ $tag =~ $semver ]] || die "tag $tag is not vX.Y.Z"
	[[ -z $dirty ]] || die "the work tree has uncommitted changes; a release is built from the tag as committed"
	version=${tag#v}
fi
say "version $version, commit ${commit:0:12}, date $date, targets: $targets"

ldflags="-s -w -X main.version=$version -X main.commit=$commit -X main.date=$date"

# build OS ARCH OUTPUT: one binary, stamped, reproducible paths.
build() {
	local os=$1 arch=$2 bin=$3 flags=$ldflags
	local -a env=(GOOS="$os" GOARCH="$arch")
	case $os in
	windows)
		# A GUI-subsystem program: no console window at login; CLI verbs
		# attach to the parent console.
		flags+=" -H=windowsgui"
		env+=(CGO_ENABLED=0)
		;;
	linux)
		# cgo for libusb (the USB layer); PIE and full RELRO like Debian's own binaries.
		env+=(CGO_ENABLED=1)
		flags+=" -extldflags '-Wl,-z,relro,-z,now'"
		if [[ $arch != "$(go env GOHOSTARCH)" ]]; then
			linux_cross_env "$arch" env
		fi
		build_args=(-buildmode=pie)
		;;
	darwin)
		env+=(CGO_ENABLED=1)
		;;
	esac
	say "go build $os/$arch"
	env "${env[@]}" go build -trimpath ${build_args[@]+"${build_args[@]}"} -ldflags "$flags" -o "$bin" .
	build_args=()
}
build_args=()

# linux_cross_env ARCH ARRAYNAME: the C cross compiler and the target's
# libusb, from $TRUSTWATCH_SYSROOT_<arch> (scripts/arm64-sysroot.sh makes one)
# or from Debian multiarch (libusb-1.0-0-dev:<arch>).
linux_cross_env() {
	local arch=$1 triplet
	local -n e=$2
	case $arch in
	arm64) triplet=aarch64-linux-gnu ;;
	*) die "no cross toolchain known for linux/$arch" ;;
	esac
	command -v "$triplet-gcc" >/dev/null || die "linux/$arch needs $triplet-gcc: apt-get install gcc-$triplet libc6-dev-$arch-cross"
	local var=TRUSTWATCH_SYSROOT_$arch
	local sysroot=${!var:-} pc
	if [[ -n $sysroot ]]; then
		pc=$sysroot/usr/lib/$triplet/pkgconfig
		e+=(PKG_CONFIG_SYSROOT_DIR="$sysroot" CGO_LDFLAGS="-Wl,-rpath-link,$sysroot/usr/lib/$triplet -Wl,-rpath-link,$sysroot/lib/$triplet")
	else
		pc=/usr/lib/$triplet/pkgconfig
	fi
	[[ -f $pc/libusb-1.0.pc ]] ||
		die "linux/$arch needs libusb for $arch: run scripts/arm64-sysroot.sh DIR and set $var=DIR (or apt-get install libusb-1.0-0-dev:$arch)"
	e+=(CC="$triplet-gcc" PKG_CONFIG_LIBDIR="$pc" PKG_CONFIG_PATH=)
}

# Reproducible archives: sorted, root-owned, dated by the commit.
tarball() { # DIR OUTPUT
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
		-C "$(dirname "$1")" -cf - "$(basename "$1")" | gzip -9n >"$2"
}
zipdir() { # DIR OUTPUT (DIR's contents at the top of the zip)
	command -v zip >/dev/null || die "zip not found: apt-get install zip"
	find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	(cd "$1" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | zip -X -q -9 "$2" -@)
}

# --- the man page (internal/mangen renders it from internal/cliref, the one
# source of --help) ----------------------------------------------------------------
manpage=
need_manpage() {
	[[ -n $manpage ]] && return
	manpage=$work/trustwatch.1
	go run ./internal/mangen -version "$version" -date "${date:0:10}" -o "$manpage"
	gzip -9n <"$manpage" >"$manpage.gz"
}

# stage_linux ARCH ROOT: the installed tree under ROOT/usr.
stage_linux() {
	local arch=$1 root=$2 s
	install -d "$root/usr/bin" "$root/usr/share/applications" "$root/usr/share/man/man1" "$root/usr/share/doc/trustwatch"
	build linux "$arch" "$root/usr/bin/trustwatch"
	need_manpage
	install -m 0644 packaging/linux/trustwatch.desktop "$root/usr/share/applications/"
	# hicolor's own sizes (20 and 40 px are Windows tray sizes, not theme directories)
	for s in 16 22 24 32 48 64 128 256; do
		install -D -m 0644 "icons/png/app-$s.png" "$root/usr/share/icons/hicolor/${s}x$s/apps/trustwatch.png"
	done
	install -m 0644 "$manpage.gz" "$root/usr/share/man/man1/trustwatch.1.gz"
	sed "s/@YEARS@/$years/" packaging/linux/copyright >"$root/usr/share/doc/trustwatch/copyright"
	chmod 0644 "$root/usr/share/doc/trustwatch/copyright"
	install -m 0644 README.md "$root/usr/share/doc/trustwatch/README.md"
	{
		echo "trustwatch ($(deb_version)) unstable; urgency=medium"
		echo
		echo "  * Release $version (commit ${commit:0:12})."
		echo
		echo " -- $MAINTAINER  $(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a, %d %b %Y %H:%M:%S +0000')"
	} | gzip -9n >"$root/usr/share/doc/trustwatch/changelog.Debian.gz"
}

# The version as dpkg and rpm see it: nfpm turns a pre-release's "-" into
# "~" (so it sorts before the release) and adds the package release "-1".
deb_version() { echo "${version/-/\~}-1"; }

package_linux() { # ARCH
	local arch=$1
	local root=$work/linux_$arch/root name
	stage_linux "$arch" "$root"
	name=trustwatch_${version}_linux_$arch
	mkdir -p "$work/tar/$name"
	# bin/ and share/ at the top, so `tar -C ~/.local --strip-components=1` installs it
	cp -a "$root/usr/." "$work/tar/$name/"
	tarball "$work/tar/$name" "$out/$name.tar.gz"

	# The rpm's changelog, in nfpm's chglog format: one entry, this release.
	cat >"$work/changelog.yml" <<-EOF
		- semver: $(deb_version)
		  date: $date
		  packager: $MAINTAINER
		  changes:
		    - commit: $commit
		      note: Release $version.
	EOF
	local fmt changelog
	for fmt in deb rpm; do
		changelog=$work/changelog.yml
		[[ $fmt == rpm ]] || changelog='""'
		TW_ARCH=$arch TW_VERSION=$version TW_MAINTAINER=$MAINTAINER TW_LICENSE=$LICENSE TW_RPM_LIB64="(64bit)" \
			TW_CHANGELOG=$changelog TW_RPM_KEY=${TRUSTWATCH_RPM_KEY:-} \
			perl -pe 's/\$\{(TW_[A-Z0-9_]+)\}/exists $ENV{$1} ? $ENV{$1} : die "nfpm.yaml: $1 is not set\n"/ge' \
			packaging/linux/nfpm.yaml >"$work/nfpm-$fmt.yaml"
		say "nfpm $fmt linux/$arch"
		(cd "$root" && "${NFPM[@]}" package --config "$work/nfpm-$fmt.yaml" --packager "$fmt" --target "$out/") | sed "s/^/  nfpm: /"
	done
}

package_windows() { # ARCH
	local arch=$1 name=trustwatch_${version}_windows_$1
	mkdir -p "$work/$name"
	stamp_windows_resources
	build windows "$arch" "$work/$name/trustwatch.exe"
	say "winres -check windows/$arch: icon, manifest, version $version"
	go run ./internal/cmd/winres -check "$work/$name/trustwatch.exe" -version "$version"
	cp README.md "$work/$name/README.md"
	zipdir "$work/$name" "$out/$name.zip"
	if [[ -x scripts/build-msi.sh ]]; then
		say "scripts/build-msi.sh $version $arch"
		scripts/build-msi.sh "$version" "$arch" "$work/$name/trustwatch.exe" "$out"
	else
		say "no MSI for windows/$arch: scripts/build-msi.sh is not in this checkout"
	fi
}

# stamp_windows_resources: the committed rsrc_windows_*.syso say version
# "dev"; a release's exe carries its own version in Explorer's Details tab
# and in the MSI's file table. The committed files are put back at exit, so
# the checkout stays clean.
stamp_windows_resources() {
	[[ -z ${windows_stamped:-} ]] || return 0
	copy_syso . "$work"
	windows_stamped=1
	say "winres: version $version into rsrc_windows_*.syso"
	go run ./internal/cmd/winres -version "$version"
}
restore_windows_resources() {
	[[ -n ${windows_stamped:-} ]] || return 0
	copy_syso "$work" .
	windows_stamped=
}
copy_syso() { # FROM TO
	local f
	for f in rsrc_windows_amd64.syso rsrc_windows_arm64.syso; do
		cp -p "$1/$f" "$2/$f"
	done
}

package_macos() {
	[[ $(uname -s) == Darwin ]] ||
		die "darwin needs a Mac: the menu bar (systray) and libusb need cgo with Apple's SDK (the release workflow's macOS job builds it)"
	[[ -n ${LIBUSB_PREFIX:-} && -f $LIBUSB_PREFIX/lib/libusb-1.0.a ]] ||
		die "set LIBUSB_PREFIX to a universal static libusb (see .github/workflows/release.yml)"
	# Static libusb so the app needs nothing from Homebrew; its frameworks by hand
	# because cgo asks pkg-config for --libs, not --static.
	export PKG_CONFIG_PATH=$LIBUSB_PREFIX/lib/pkgconfig
	export CGO_LDFLAGS="-framework IOKit -framework CoreFoundation -framework Security -lobjc"
	export MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-12.0}
	build darwin arm64 "$work/trustwatch-arm64"
	build darwin amd64 "$work/trustwatch-amd64"
	lipo -create -output "$work/trustwatch" "$work/trustwatch-arm64" "$work/trustwatch-amd64"
	local app=$work/app/trustwatch.app
	go run ./internal/macapp -bin "$work/trustwatch" -version "$version" -icns icons/icns/app.icns -o "$app"
	if [[ -n ${MACOS_SIGN_IDENTITY:-} ]]; then
		say "codesign with $MACOS_SIGN_IDENTITY (hardened runtime, for notarization)"
		codesign --force --options runtime --timestamp --sign "$MACOS_SIGN_IDENTITY" "$app"
	else
		say "codesign ad hoc (no Developer ID: Gatekeeper will ask on first open)"
		codesign --force --sign - "$app"
	fi
	codesign --verify --strict --verbose=2 "$app"
	local zip=$out/trustwatch_${version}_macos_universal.zip
	ditto -c -k --keepParent "$app" "$zip"
	if [[ -n ${MACOS_SIGN_IDENTITY:-} && -n ${APPLE_ID:-} && -n ${APPLE_TEAM_ID:-} && -n ${APPLE_APP_PASSWORD:-} ]]; then
		say "notarizing"
		xcrun notarytool submit "$zip" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" --password "$APPLE_APP_PASSWORD" --wait
		xcrun stapler staple "$app"
		rm -f "$zip"
		ditto -c -k --keepParent "$app" "$zip"
	else
		say "not notarized (set MACOS_SIGN_IDENTITY, APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD to notarize)"
	fi
}

# Every target's tools are checked before anything is built.
for t in $targets; do
	case $t in
	linux/*)
		if [[ ${t#linux/} != "$(go env GOHOSTARCH)" ]]; then
			# shellcheck disable=SC2034 # filled by linux_cross_env, only its checks matter here
			preflight=()
			linux_cross_env "${t#linux/}" preflight
		fi
		;;
	windows/amd64 | windows/arm64) ;;
	darwin/universal) [[ $(uname -s) == Darwin ]] || die "darwin/universal is built on a Mac (the menu bar and libusb need cgo with Apple's SDK)" ;;
	*) die "unknown target $t (linux/ARCH, windows/amd64|arm64, darwin/universal)" ;;
	esac
done

if [[ -d $out && -n $(ls -A "$out") && ! -f $out/checksums.txt ]]; then
	die "$out is not empty and holds no earlier release (no checksums.txt): refusing to clear it"
fi
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/.work
mkdir -p "$work"
trap 'restore_windows_resources; [[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"' EXIT

for t in $targets; do
	case $t in
	linux/*) package_linux "${t#linux/}" ;;
	windows/*) package_windows "${t#windows/}" ;;
	darwin/universal) package_macos ;;
	*) die "unknown target $t (linux/ARCH, windows/ARCH, darwin/universal)" ;;
	esac
done

# --- checks on what was built -------------------------------------------------
shopt -s nullglob
debs=("$out"/*.deb) rpms=("$out"/*.rpm)
if ((${#debs[@]})); then
	if command -v lintian >/dev/null; then
		say "lintian ${debs[*]##*/}"
		# Errors fail the release; warnings are printed for a person to read.
		lintian --fail-on error --suppress-tags-from-file packaging/linux/lintian-overrides.txt "${debs[@]}"
	else
		say "lintian not installed: .deb not linted (apt-get install lintian)"
	fi
fi
if ((${#rpms[@]})); then
	if command -v rpmlint >/dev/null; then
		say "rpmlint ${rpms[*]##*/}"
		# nfpm writes the rpm's cpio payload with absolute names (/usr/bin/…)
		# and rpmlint unpacks with a bare `cpio -id`: as root that writes into
		# /. A cpio that keeps names relative keeps the unpacking in its tmp dir.
		mkdir -p "$work/safe-cpio"
		printf '#!/bin/sh\nexec %s --no-absolute-filenames "$@"\n' "$(command -v cpio)" >"$work/safe-cpio/cpio"
		chmod +x "$work/safe-cpio/cpio"
		PATH=$work/safe-cpio:$PATH rpmlint -c packaging/linux/rpmlint.toml "${rpms[@]}"
	else
		say "rpmlint not installed: .rpm not linted (apt-get install rpmlint)"
	fi
fi

# Portable to macOS (no GNU find/ls there; shasum instead of sha256sum).
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }
(
	cd "$out"
	files=()
	for f in *; do
		[[ -f $f && $f != checksums.txt ]] && files+=("$f")
	done
	((${#files[@]})) || die "nothing was built"
	sha256 "${files[@]}" >checksums.txt
	say "wrote $out:"
	for f in "${files[@]}" checksums.txt; do
		printf '  %10d  %s\n' "$(wc -c <"$f")" "$f"
	done
)
