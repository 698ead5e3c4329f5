#!/usr/bin/env bash
# One run of every protocol benchmark against the anchors (Docs/benchmarks.md records a run):
# starts a demo site from the release build on a temporary root (connection limits raised to
# the anchors' 2000, as their start.sh does), starts Postfix, Dovecot and Courier, then runs
# compare.sh for SMTP (1 and 20 sessions), IMAP (10,000 messages, idle memory) and POP3.
# Ratios in compare.sh's tables are anchor / ours (ours is the first target).
#   Benchmarks/bench-anchors.sh [--messages N] [--smtp N] [--seconds S] [--idle K] [--only smtp,imap,pop3] [smtp] [imap] [pop3]
# Naming protocols (or --only) runs only those (default: all three). Our site listens on the demo
# ports plus a random offset (20000-30000), never on the demo defaults, so a run does not collide
# with tests on a shared machine. COURIER_BIN= compares another build.
# Needs a release build of `courier` (swift build -c release --product courier) and the anchors
# (sudo /work/shared/anchors/install.sh). Not part of the test run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ANCHORS="${ANCHORS_DIR:-/work/shared/anchors}"
MESSAGES=10000; SMTP_MESSAGES=1000; SECS=5; IDLE=500; ONLY="smtp,imap,pop3"; BARE=""
while [ $# -gt 0 ]; do
	case "$1" in
	--messages) MESSAGES="$2"; shift 2 ;;
	--smtp) SMTP_MESSAGES="$2"; shift 2 ;;
	--seconds) SECS="$2"; shift 2 ;;
	--idle) IDLE="$2"; shift 2 ;;
	--only) ONLY="$2"; shift 2 ;;
	smtp|imap|pop3) BARE="$BARE,$1"; shift ;;
	*) echo "usage: $0 [--messages N] [--smtp N] [--seconds S] [--idle K] [--only smtp,imap,pop3] [smtp] [imap] [pop3]" >&2; exit 2 ;;
	esac
done
[ -n "$BARE" ] && ONLY="${BARE#,}"
COURIER="${COURIER_BIN:-$ROOT/.build/release/courier}"
[ -x "$COURIER" ] || { echo "no release build: swift build -c release --product courier" >&2; exit 1; }
SITE="$(mktemp -d /tmp/courier-bench-XXXXXX)"; chmod 755 "$SITE"
R="$SITE/root"; PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	"$ANCHORS/stop.sh" all >/dev/null 2>&1 || true
	rm -rf "$SITE"
}
trap cleanup EXIT
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
"$COURIER" init --root "$R" --domain example.test --demo --port-offset "$((20000 + RANDOM % 10000))" >/dev/null
for f in esmtpd imapd pop3d; do
	sed -i "s/^MAXDAEMONS=.*/MAXDAEMONS=2000/; s/^MAXPERIP=.*/MAXPERIP=2000/" "$R/etc/$f"
done
"$COURIER" start --root "$R" 2>"$SITE/log" &
PID=$!
for _ in $(seq 150); do grep -q "courier: ready" "$SITE/log" && break; sleep 0.2; done
grep "listening\|ready" "$SITE/log" || { cat "$SITE/log"; exit 1; }
port() { sed -n "s/^$1 listening on 127.0.0.1:\([0-9]*\)$/\1/p" "$SITE/log" | head -1; }
SMTP="$(port esmtpd)"; IMAP="$(port imapd)"; POP3="$(port pop3d)"
MD="$R/mail/example.test/demo/Maildir"
ANCHOR_NAMES=""
wants smtp && ANCHOR_NAMES="$ANCHOR_NAMES postfix courier-mta"
wants imap && ANCHOR_NAMES="$ANCHOR_NAMES dovecot courier-imap"
wants pop3 && ANCHOR_NAMES="$ANCHOR_NAMES dovecot courier-pop3"
# shellcheck disable=SC2086
"$ANCHORS/start.sh" $ANCHOR_NAMES

if wants smtp; then
	echo "### SMTP, 1 session"
	"$ANCHORS/compare.sh" smtp "127.0.0.1:$SMTP=$MD" postfix courier-mta -- "$SMTP_MESSAGES" 1 4096
	echo "### SMTP, 20 sessions"
	"$ANCHORS/compare.sh" smtp "127.0.0.1:$SMTP=$MD" postfix courier-mta -- "$SMTP_MESSAGES" 20 4096
fi
if wants imap; then
	echo "### IMAP, $MESSAGES messages"
	COMPARE_FILL="$MESSAGES" COMPARE_IDLE="$IDLE" "$ANCHORS/compare.sh" imap "127.0.0.1:$IMAP=$MD" dovecot courier-imap -- --seconds "$SECS"
fi
if wants pop3; then
	echo "### POP3, $MESSAGES messages"
	COMPARE_FILL="$MESSAGES" "$ANCHORS/compare.sh" pop3 "127.0.0.1:$POP3=$MD" dovecot courier-pop3 -- --seconds "$SECS"
fi
echo "### our server's log: warnings and errors (time stamps cut)"
grep -E " (WARN|WARNING|ERROR|CRIT|CRITICAL|FATAL) " "$SITE/log" | cut -d' ' -f4- | sort | uniq -c | sort -rn | head -20 || true
