#!/usr/bin/env bash
# Benchmark our lean per-message tools against Debian's Courier tools (package maildrop)
# in one run, on the same inputs, and print the ratio of mean wall times (ours / theirs).
# Start-up is included: these tools run once per message on a busy server.
#   Benchmarks/bench-tools.sh [--runs N] [--no-build] [--bin DIR]
# --bin DIR times the reformail/reformime/makemime in DIR instead of the release build.
# Needs: python3, maildrop (Debian), a release build of the lean tools (made here).
# Not part of the test run: benchmarks measure, tests check behaviour.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${COURIER_SHARED:-$ROOT/../shared}"
RUNS=200
BUILD=1
OURS=""
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) RUNS="$2"; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--bin) OURS="$(cd "$2" && pwd)"; BUILD=0; shift 2 ;;
	*) echo "usage: $0 [--runs N] [--no-build] [--bin DIR]" >&2; exit 2 ;;
	esac
done
for cmd in perl python3; do
	command -v "$cmd" >/dev/null || { echo "$0: needs $cmd (apt-get install -y maildrop)" >&2; exit 2; }
done
[ -x /usr/bin/reformail ] || { echo "$0: needs Debian's maildrop package" >&2; exit 2; }

cd "$ROOT"
if [ "$BUILD" = 1 ]; then
	for p in reformail reformime makemime; do
		swift build -c release --product "$p" >/dev/null
	done
fi
[ -n "$OURS" ] || OURS="$(swift build -c release --show-bin-path)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-tools.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# Ours run from copies, as installed tools (Debian's are): a binary the linker has just written
# sits in the page cache in small pieces and costs every new process more page faults (the same
# deliverquota: 78 faults from .build, 65-69 from a copy; Docs/benchmarks.md, sixth session).
mkdir -p "$WORK/bin"
for p in reformail reformime makemime; do cp "$OURS/$p" "$WORK/bin/$p"; done
OURS="$WORK/bin"
CORPUS="$SHARED/difftools/corpus"
DATA="$SHARED/difftools/data"
cp "$CORPUS"/*.eml "$DATA"/part-*.* "$WORK/"
cd "$WORK"
# A larger message: a 2 MB multipart with text, QP and base64 parts.
python3 - <<'PY'
import base64, random
random.seed(7)
words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split()
text = "\n".join(" ".join(random.choice(words) for _ in range(12)) for _ in range(20000))
blob = bytes(random.getrandbits(8) for _ in range(600000))
b64 = base64.encodebytes(blob).decode()
msg = ("From: Big <big@example.org>\nTo: you@example.com\nSubject: big\nMessage-ID: <big@example.org>\n"
       "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\npreamble\n--b1\n"
       "Content-Type: text/plain; charset=us-ascii\n\n" + text + "\n--b1\n"
       "Content-Type: application/octet-stream; name=\"x.bin\"\nContent-Transfer-Encoding: base64\n\n" + b64 + "--b1--\n")
open("big.eml", "w").write(msg)
PY

# name | command template ({T} = tool path)
CASES=$(cat <<'T'
reformail copy|reformail|{T} < 01-plain.eml
reformail -I|reformail|{T} -I 'Subject: replaced' < 04-duplicate-headers.eml
reformail -x From:|reformail|{T} -x From: < 23-reply-to.eml
reformail -c big|reformail|{T} -c < big.eml
reformime structure|reformime|{T} < 07-nested-alternative.eml
reformime -i|reformime|{T} -i < 06-multipart-mixed.eml
reformime -e -s 1.2|reformime|{T} -e -s 1.2 < 06-multipart-mixed.eml
reformime -i big|reformime|{T} -i < big.eml
reformime -h|reformime|{T} -c utf-8 -h '=?UTF-8?B?w6TDtsO8?= and =?ISO-8859-1?Q?caf=E9?='
makemime -c auto|makemime|{T} -c auto part-text.txt
makemime base64|makemime|{T} -c image/gif -e base64 part-image.gif
makemime base64 big|makemime|{T} -c application/octet-stream -e base64 big.eml
T
)

echo "$(uptime)"
printf '%-24s %12s %12s %8s %10s %10s %8s\n' "case" "ours (ms)" "courier (ms)" "ratio" "ours cpu" "cour. cpu" "ratio"
# Each case: fork/exec to exit with no shell in between (as hyperfine -N), the input file on
# standard input, runs of ours and Courier's alternating; medians (the shared machine's load
# makes means noise).
python3 "$ROOT/Benchmarks/spawn_timer.py" "start-up (no input)" "$RUNS" "{T} -c utf-8 -h x" "$OURS/reformime" /usr/bin/reformime
while IFS='|' read -r name tool tmpl; do
	[ -z "$name" ] && continue
	python3 "$ROOT/Benchmarks/spawn_timer.py" "$name" "$RUNS" "$tmpl" "$OURS/$tool" "/usr/bin/$tool"
done <<< "$CASES"
echo "(ratio = ours / Courier's median wall time, start-up included; target <= 1.20;"
echo " cpu = median user+system time of the child, exec and exit included: steadier under load)"
