#!/usr/bin/env bash
# Benchmark our lean maildrop against Debian's maildrop 2.9.3 in one run: messages per second
# through a 20-rule filter delivering into Maildir folders (one process per message, as the
# local transport runs it), and start-up time. Prints ours, theirs and the ratio.
#   Benchmarks/bench-maildrop.sh [--messages N] [--runs N] [--no-build]
# Needs: hyperfine, maildrop (Debian), python3; builds the release maildrop unless --no-build
# or MAILDROP_BIN names the binary to measure (e.g. a saved "before" build).
# Start-up is measured with an empty message on stdin and a filter that only exits.
# Not part of the test run: benchmarks measure, tests check behaviour.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${COURIER_SHARED:-$ROOT/../shared}"
MESSAGES=1000
RUNS=200
BUILD=1
while [ $# -gt 0 ]; do
	case "$1" in
	--messages) MESSAGES="$2"; shift 2 ;;
	--runs) RUNS="$2"; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	*) echo "usage: $0 [--messages N] [--runs N] [--no-build]" >&2; exit 2 ;;
	esac
done
for cmd in hyperfine python3; do
	command -v "$cmd" >/dev/null || { echo "$0: needs $cmd (apt-get install -y hyperfine maildrop)" >&2; exit 2; }
done
THEIRS=/usr/bin/maildrop
[ -x "$THEIRS" ] || { echo "$0: needs Debian's maildrop package" >&2; exit 2; }
cd "$ROOT"
[ "$BUILD" = 1 ] && [ -z "${MAILDROP_BIN:-}" ] && swift build -c release --product maildrop >/dev/null
OURS="${MAILDROP_BIN:-$(swift build -c release --show-bin-path)/maildrop}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-maildrop.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# Ours runs from a copy, as an installed tool (Debian's is): a binary the linker has just written
# sits in the page cache in small pieces and costs every new process more page faults
# (Docs/benchmarks.md, sixth session).
mkdir -p "$WORK/bin"
cp "$OURS" "$WORK/bin/maildrop"
OURS="$WORK/bin/maildrop"
cp "$SHARED"/difftools/corpus/*.eml "$WORK/"
cd "$WORK"

# The target maildir is $1 (Debian's maildrop takes HOME from passwd, not the environment).
# 20 rules: header patterns, a body pattern, hasaddr, a weighted score, variables.
cat > filter.mf <<'MF'
DEFAULT="$1"
if (/^X-Spam-Flag: *YES/)
  to "$DEFAULT/.Spam"
if (/^Precedence: *(bulk|junk|list)/)
  to "$DEFAULT/.Lists"
if (/^List-Id:/)
  to "$DEFAULT/.Lists"
if (/^From:.*@spam\.example/)
  to "$DEFAULT/.Spam"
if (/^Subject:.*\[announce\]/)
  to "$DEFAULT/.Lists"
if (/^Subject:.*(viagra|lottery|winner)/)
  to "$DEFAULT/.Spam"
if (/^To:.*boss@example\.org/)
  to "$DEFAULT/.Work"
if (/^Cc:.*team@example\.org/)
  to "$DEFAULT/.Work"
if (/^Received:.*bad-relay\.example/)
  to "$DEFAULT/.Spam"
if (/^Content-Type: *multipart\/report/)
  to "$DEFAULT/.Bounces"
if (/^From: *MAILER-DAEMON/)
  to "$DEFAULT/.Bounces"
if (/^X-Mailer:.*BulkMailer/)
  to "$DEFAULT/.Spam"
if (/^Auto-Submitted: *auto-/)
  to "$DEFAULT/.Auto"
if (/unsubscribe/:b)
  to "$DEFAULT/.Lists"
SCORE = (/free/:b,1,2)
if ($SCORE > 20)
  to "$DEFAULT/.Spam"
if (hasaddr("nobody-here@example.org"))
  to "$DEFAULT/.Work"
if (/^Subject:.*invoice/)
  to "$DEFAULT/.Work"
if (/^Message-ID:.*@calendar\./)
  to "$DEFAULT/.Work"
if (/^X-Priority: *1/)
  to "$DEFAULT/.Urgent"
if ($SIZE > 10000000)
  to "$DEFAULT/.Big"
to "$DEFAULT"
MF
chmod 600 filter.mf
cat > empty.mf <<'MF'
exit
MF
chmod 600 empty.mf
ls *.eml > list.txt

run_batch() { # tool home
	local tool="$1" home="$2" n=0
	rm -rf "$home"; mkdir -p "$home"
	/usr/bin/maildirmake.maildrop "$home/Maildir" 2>/dev/null || maildirmake "$home/Maildir"
	for f in Spam Lists Work Bounces Auto Urgent Big; do
		/usr/bin/maildirmake.maildrop -f "$f" "$home/Maildir" 2>/dev/null || maildirmake -f "$f" "$home/Maildir"
	done
	local start end
	start=$(date +%s.%N)
	while [ "$n" -lt "$MESSAGES" ]; do
		for m in $(cat list.txt); do
			[ "$n" -ge "$MESSAGES" ] && break
			"$tool" filter.mf "$home/Maildir" < "$m" || { echo "delivery failed: $tool $m" >&2; exit 1; }
			n=$((n + 1))
		done
	done
	end=$(date +%s.%N)
	python3 -c "print(f'{$MESSAGES / ($end - $start):.1f}')"
}

ours_rate=$(run_batch "$OURS" "$WORK/home-ours")
theirs_rate=$(run_batch "$THEIRS" "$WORK/home-theirs")
ours_count=$(find "$WORK/home-ours/Maildir" -type f -path '*/new/*' | wc -l)
theirs_count=$(find "$WORK/home-theirs/Maildir" -type f -path '*/new/*' | wc -l)

hyperfine -N --warmup 30 --runs "$RUNS" --export-json start.json \
	"$OURS empty.mf" "$THEIRS empty.mf" >/dev/null 2>&1

printf '%-34s %12s %12s %8s\n' "case" "ours" "courier" "ratio"
python3 - "$ours_rate" "$theirs_rate" <<'PY'
import json, sys
o, t = float(sys.argv[1]), float(sys.argv[2])
print(f"{'20-rule filter, messages/s':<34} {o:12.1f} {t:12.1f} {o/t:8.2f}")
r = json.load(open("start.json"))["results"]
o, t = r[0]["mean"] * 1000, r[1]["mean"] * 1000
print(f"{'start-up + exit (ms)':<34} {o:12.2f} {t:12.2f} {t/o:8.2f}")
PY
echo "messages delivered: ours $ours_count, courier $theirs_count (ratios > 1: ours faster)"
# Both must have sorted the messages into the same folders.
per_folder() { (cd "$1/Maildir" && for d in . .*/; do [ -d "$d/new" ] && echo "$d $(ls "$d/new" | wc -l)"; done) | sort; }
if [ "$(per_folder "$WORK/home-ours")" = "$(per_folder "$WORK/home-theirs")" ]; then
	echo "per-folder counts: identical"
else
	echo "per-folder counts DIFFER:"; diff <(per_folder "$WORK/home-ours") <(per_folder "$WORK/home-theirs") || true
fi
