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
. "$ROOT/Benchmarks/lib/bench-site.sh"
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
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
bench_site_start
ANCHOR_NAMES=""
wants smtp && ANCHOR_NAMES="$ANCHOR_NAMES postfix courier-mta"
wants imap && ANCHOR_NAMES="$ANCHOR_NAMES dovecot courier-imap"
wants pop3 && ANCHOR_NAMES="$ANCHOR_NAMES dovecot courier-pop3"
# shellcheck disable=SC2086
bench_anchors_start $ANCHOR_NAMES

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
bench_site_warnings
