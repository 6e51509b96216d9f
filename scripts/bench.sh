#!/usr/bin/env bash
# Builds trustwatch and the bench, measures (internal/bench/cmd/twbench),
# fuzzes every fuzz target in the repository, and regenerates docs/BENCH.md.
# Not run by CI (it takes about 35 minutes and wants a quiet machine).
#
#   scripts/bench.sh                 full run: 60 s idle windows, waiting phones measured
#                                    over minutes 2-12 (all at once), 30 s per fuzz target
#   scripts/bench.sh --quick         smoke run: few repetitions, short windows, 5 s fuzzing
#   options: --fuzztime DUR  --idle DUR  --wait DUR  --only attach,trust,idle,waiting,scale,flap
#            --no-fuzz  --no-doc (keep docs/BENCH.md)  --out DIR (default: a temp dir)
#
# Needs: Go, dbus-daemon (dbus), idevicepair (libimobiledevice-utils).
# Exit status: non-zero when a scenario failed, a fuzz target failed or
# found a crasher; goals that were missed are reported in BENCH.md, not here.
set -euo pipefail

quick=0 fuzztime="" idle="" wait="" only="" fuzz=1 doc=1 out=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--fuzztime) fuzztime="${2:?--fuzztime needs a duration}"; shift ;;
	--fuzztime=*) fuzztime="${1#*=}" ;;
	--idle) idle="${2:?--idle needs a duration}"; shift ;;
	--idle=*) idle="${1#*=}" ;;
	--wait) wait="${2:?--wait needs a duration}"; shift ;;
	--wait=*) wait="${1#*=}" ;;
	--only) only="${2:?--only needs a list}"; shift ;;
	--only=*) only="${1#*=}" ;;
	--no-fuzz) fuzz=0 ;;
	--no-doc) doc=0 ;;
	--out) out="${2:?--out needs a directory}"; shift ;;
	--out=*) out="${1#*=}" ;;
	-h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$fuzztime" ]; then
	if [ "$quick" = 1 ]; then fuzztime=5s; else fuzztime=30s; fi
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ -z "$out" ]; then
	out="$(mktemp -d "${TMPDIR:-/tmp}/twbench.XXXXXX")"
fi
mkdir -p "$out"
echo "bench: output in $out; load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

for tool in dbus-daemon idevicepair; do
	command -v "$tool" >/dev/null || echo "bench: warning: $tool not found (apt-get install dbus libimobiledevice-utils)" >&2
done

go build -o "$out/trustwatch" .
go build -o "$out/twbench" ./internal/bench/cmd/twbench

rc=0
args=(run --tw "$out/trustwatch" --out "$out/results.json")
[ "$quick" = 1 ] && args+=(--quick)
[ -n "$idle" ] && args+=(--idle "$idle")
[ -n "$wait" ] && args+=(--wait "$wait")
[ -n "$only" ] && args+=(--only "$only")
command -v idevicepair >/dev/null || args+=(--idevicepair "")
"$out/twbench" "${args[@]}" || rc=$?

report=(report --results "$out/results.json")
if [ "$fuzz" = 1 ]; then
	# After the measurements, so fuzzing never loads the CPU under them.
	"$out/twbench" fuzz --root "$root" --fuzztime "$fuzztime" --out "$out/fuzz.json" --crashers "$out/crashers" || rc=$?
	[ -f "$out/fuzz.json" ] && report+=(--fuzz "$out/fuzz.json")
fi

if [ "$doc" = 1 ]; then
	"$out/twbench" "${report[@]}" --out "$root/docs/BENCH.md"
	echo "bench: wrote docs/BENCH.md"
else
	"$out/twbench" "${report[@]}" --out "$out/BENCH.md"
	echo "bench: wrote $out/BENCH.md"
fi
if [ -d "$out/crashers" ]; then
	echo "bench: NEW FUZZ CRASHERS in $out/crashers:" >&2
	find "$out/crashers" -type f >&2
fi
exit "$rc"
