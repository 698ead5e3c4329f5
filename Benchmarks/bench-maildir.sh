#!/usr/bin/env bash
# Maildir delivery throughput: our lean `deliverquota` against Debian's Courier
# `deliverquota.courier` (from the anchors' unpacked courier-dist), Debian's `maildrop` (package
# maildrop, a one-line filter `to "$1"`) and maildrop's `deliverquota` when present, 1 and 8
# deliverers in parallel, into a
# fresh Maildir with a maildirsize quota (so the quota path is included). Prints messages/s
# and the ratio ours / theirs.
#   Benchmarks/bench-maildir.sh [--messages N] [--no-build] [--tmpfs] [--bin PATH]
# --tmpfs delivers into a directory on /dev/shm, where fsync costs nothing: the tools are then
# compared apart from the disk's fsync cost (ours makes two per message, the file and new/, as
# its durability contract says; Courier's deliverquota makes none; Debian's maildrop one, the
# file's, and none of new/). Without it the maildirs are under
# $TMPDIR (/tmp, ext4 here). --bin times another deliverquota build of ours (no build then).
# Needs: a release build of deliverquota (made here), the anchors installed
# (sudo /work/shared/anchors/install.sh) for Courier's binary.
# Open+list of 10k/100k-message folders (warm and cold) against Courier-IMAP and Dovecot:
# Benchmarks/bench-folder-open.py; the store's caches: Docs/maildir-store.md.
# Not part of the test run: benchmarks measure, tests check behaviour.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ANCHORS="${ANCHORS_DIR:-$ROOT/../shared/anchors}"
ANCHORS_HOME="${ANCHORS_HOME:-/var/tmp/courier-anchors}"
MESSAGES=2000
BUILD=1
BASE="${TMPDIR:-/tmp}"
OURS=""
while [ $# -gt 0 ]; do
	case "$1" in
	--messages) MESSAGES="$2"; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--tmpfs) BASE=/dev/shm; shift ;;
	--bin) OURS="$2"; BUILD=0; shift 2 ;;
	*) echo "usage: $0 [--messages N] [--no-build] [--tmpfs] [--bin PATH]" >&2; exit 2 ;;
	esac
done
cd "$ROOT"
[ "$BUILD" = 1 ] && swift build -c release --product deliverquota >/dev/null
[ -n "$OURS" ] || OURS="$(swift build -c release --show-bin-path)/deliverquota"
COURIER="$ANCHORS_HOME/courier-dist/usr/bin/deliverquota.courier"

WORK="$(mktemp -d "$BASE/bench-maildir.XXXXXX")"
echo "maildirs on $(df --output=fstype "$WORK" | tail -1) ($WORK); $(uptime)"
python3 - "$WORK/msg.eml" <<'PY'
import sys
body = "".join(f"line {i} of a typical message body, some words to fill it\n" for i in range(60))
open(sys.argv[1], "w").write("From: a@example.test\nTo: demo@example.test\nSubject: bench\n"
                             "Message-ID: <bench@example.test>\n\n" + body)
PY
# Both deliverquotas run from copies on the disk, as installed tools would be (also with
# --tmpfs: only the maildirs go there). A file the linker has just written sits in the page
# cache in small pieces, and so does any file on tmpfs; a fresh process then takes more page
# faults to map it. Measured with perf stat, the same deliverquota binary: 78 faults run from
# .build, 82 from /dev/shm, 65–69 from a copy on ext4 (Courier's: 68 unpacked, 65 copied); run
# from /dev/shm ours cost 1.11–1.14x Courier's CPU per delivery, from ext4 copies 0.90–0.93x.
BIN="$(mktemp -d /var/tmp/bench-maildir-bin.XXXXXX)"
trap 'rm -rf "$WORK" "$BIN"' EXIT
cp "$OURS" "$BIN/deliverquota"; OURS="$BIN/deliverquota"
if [ -x "$COURIER" ]; then cp "$COURIER" "$BIN/deliverquota.courier"; COURIER="$BIN/deliverquota.courier"; fi
# Debian's maildrop delivering to the maildir given as its first argument (like deliverquota).
printf 'to "$1"\n' > "$WORK/to.mf"
chmod 600 "$WORK/to.mf"
MAILDROP=/usr/bin/maildrop

# run NAME PARALLEL COMMAND... : delivers $MESSAGES messages with PARALLEL workers, prints rate.
run() {
	local name="$1" parallel="$2"; shift 2
	local md="$WORK/md-$name-$parallel"
	rm -rf "$md"; mkdir -p "$md"/{tmp,new,cur}
	printf '1000000000S,1000000C\n' > "$md/maildirsize"
	local per=$((MESSAGES / parallel))
	local start end
	start=$(date +%s.%N)
	for ((w = 0; w < parallel; w++)); do
		( for ((i = 0; i < per; i++)); do "$@" "$md" < "$WORK/msg.eml" || exit 1; done ) &
	done
	wait
	end=$(date +%s.%N)
	local n; n=$(ls "$md/new" | wc -l)
	python3 -c "import sys; n=$n; t=$end-$start; print(f'{sys.argv[1]:28s} x{sys.argv[2]}: {n} msgs in {t:.2f} s = {n/t:.0f} msg/s')" "$name" "$parallel" \
		| tee -a "$WORK/results"
}

for p in 1 8; do
	run ours "$p" "$OURS"
	# deliverquota.courier links only libc and reads no config, so it runs straight from
	# courier-dist (through courier-ns.sh every delivery would also pay an unshare + mounts).
	if [ -x "$COURIER" ]; then run courier "$p" "$COURIER"; fi
	if [ -x "$MAILDROP" ]; then run maildrop "$p" "$MAILDROP" "$WORK/to.mf"; fi
	if [ -x /usr/bin/deliverquota ]; then run maildrop-deliverquota "$p" /usr/bin/deliverquota; fi
done
# Single deliveries, ours and Courier's alternating into one maildir (quota included), timed
# one process at a time with no shell in between: medians of wall and of the child's CPU time,
# which a busy machine disturbs less than the throughput loops above.
if [ -x "$COURIER" ]; then
	md="$WORK/md-alternating"
	mkdir -p "$md"/{tmp,new,cur}
	printf '1000000000S,1000000C\n' > "$md/maildirsize"
	printf '%-24s %12s %12s %8s %10s %10s %8s\n' "one delivery" "ours (ms)" "courier (ms)" "ratio" "ours cpu" "cour. cpu" "ratio"
	python3 "$ROOT/Benchmarks/spawn_timer.py" "deliverquota" "$MESSAGES" "{T} $md < $WORK/msg.eml" "$OURS" "$COURIER"
fi
if [ -x "$MAILDROP" ]; then
	md="$WORK/md-alternating-maildrop"
	mkdir -p "$md"/{tmp,new,cur}
	printf '1000000000S,1000000C\n' > "$md/maildirsize"
	printf '%-24s %12s %12s %8s %10s %10s %8s\n' "one delivery" "ours (ms)" "maildrop (ms)" "ratio" "ours cpu" "md. cpu" "ratio"
	python3 "$ROOT/Benchmarks/spawn_timer.py" "maildrop" "$MESSAGES" "{T} $md < $WORK/msg.eml" "$OURS" "$MAILDROP $WORK/to.mf"
fi
python3 - "$WORK/results" <<'PY'
import re, sys
rates = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+)\s+x(\d+): .* = (\d+) msg/s", line)
    if m: rates[(m[1], m[2])] = int(m[3])
for (name, p), r in sorted(rates.items()):
    if name != "ours" and ("ours", p) in rates and r:
        print(f"ratio ours/{name} x{p}: {rates[('ours', p)] / r:.2f}")
PY
