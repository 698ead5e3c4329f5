#!/usr/bin/env bash
# POP3 benchmark (issue #7): our pop3d against Dovecot's and Courier's pop3d in one run, on the
# same 10,000-message mailbox (fill-maildir.py, seed 1, all in cur/), through the anchors'
# compare.sh and bench-pop3.py (logins/s, STAT, LIST, UIDL, RETR of every message). Prints
# compare.sh's table: each metric with its ratio to OUR server (the first target; >1.00x means
# the anchor is faster than us, <1.00x that we are faster).
#   Benchmarks/bench-pop3.sh [--messages N] [--connections C] [--seconds S] [--debug]
# Needs the anchors (sudo /work/shared/anchors/install.sh) and, unless --debug, a release build
# (built here). Not part of the test run: benchmarks measure, tests check behaviour.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ANCHORS="${COURIER_SHARED:-$ROOT/../shared}/anchors"
[ -d "$ANCHORS" ] || ANCHORS=/work/shared/anchors
MESSAGES=10000
CONNECTIONS=4
SECONDS_PER_OP=5
CONFIG=release
while [ $# -gt 0 ]; do
	case "$1" in
	--messages) MESSAGES="$2"; shift 2 ;;
	--connections) CONNECTIONS="$2"; shift 2 ;;
	--seconds) SECONDS_PER_OP="$2"; shift 2 ;;
	--debug) CONFIG=debug; shift ;;
	*) echo "usage: $0 [--messages N] [--connections C] [--seconds S] [--debug]" >&2; exit 2 ;;
	esac
done
[ -x "$ANCHORS/compare.sh" ] || { echo "no anchors in $ANCHORS" >&2; exit 1; }
cd "$ROOT"
swift build -c "$CONFIG" --product courier 2>&1 | tail -1
COURIER="$ROOT/.build/$CONFIG/courier"

SITE="$(mktemp -d /tmp/courier-bench-pop3-XXXXXX)"
chmod 755 "$SITE"
PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	rm -rf "$SITE"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
"$COURIER" init --root "$SITE/root" --demo --port-offset 40000 >/dev/null
ETC="$SITE/root/etc"
PORT="$(free_port)"
sed -i "s/^PORT=.*/PORT=$PORT/" "$ETC/pop3d"
# Only pop3d runs; the load client holds many sessions at once.
for f in esmtpd:ESMTPDSTART esmtpd-msa:ESMTPDSTART esmtpd-ssl:ESMTPDSSLSTART imapd:IMAPDSTART \
	imapd-ssl:IMAPDSSLSTART pop3d-ssl:POP3DSSLSTART webmail:WEBMAILSTART webadmin:WEBADMINSTART \
	metrics:METRICSSTART; do
	file="$ETC/${f%%:*}"; var="${f#*:}"
	[ -f "$file" ] && sed -i "s/^$var=.*/$var=NO/" "$file"
done
sed -i "s/^MAXDAEMONS=.*/MAXDAEMONS=0/; s/^MAXPERIP=.*/MAXPERIP=0/" "$ETC/pop3d"
MAILDIR="$SITE/root/mail/example.test/demo/Maildir"
"$COURIER" start --root "$SITE/root" 2>"$SITE/log" &
PID=$!
for _ in $(seq 100); do grep -q "courier: ready" "$SITE/log" && break; sleep 0.2; done
grep -q "courier: ready" "$SITE/log" || { cat "$SITE/log"; exit 1; }

"$ANCHORS/start.sh" dovecot courier-pop3
COMPARE_FILL="$MESSAGES" "$ANCHORS/compare.sh" pop3 "127.0.0.1:$PORT=$MAILDIR" dovecot courier-pop3 -- \
	--connections "$CONNECTIONS" --seconds "$SECONDS_PER_OP"
