# Sourced by Benchmarks/bench-anchors.sh and bench-server-bound.sh: starts our demo site from the
# release build on a temporary root and the anchors beside it; stops both on exit.
# The caller sets ROOT (the repository). After bench_site_start:
#   SITE (temporary dir), R (our root), PID (our `courier start`), SMTP IMAP POP3 (our ports),
#   MD (our demo Maildir). COURIER_BIN= picks another build, ANCHORS_DIR= another anchors kit.
# Our site listens on the demo ports plus a random offset (20000-30000), never on the demo
# defaults, so a run does not collide with tests on a shared machine; connection limits are
# raised to the anchors' 2000, as their start.sh does.
ANCHORS="${ANCHORS_DIR:-/work/shared/anchors}"
COURIER="${COURIER_BIN:-$ROOT/.build/release/courier}"
SITE=""; R=""; PID=""

bench_site_cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	"$ANCHORS/stop.sh" all >/dev/null 2>&1 || true
	[ -n "$SITE" ] && rm -rf "$SITE"
	return 0
}

# bench_site_port SERVICE: the port our site's log says SERVICE listens on
bench_site_port() { sed -n "s/^$1 listening on 127.0.0.1:\([0-9]*\)$/\1/p" "$SITE/log" | head -1; }

bench_site_start() {
	[ -x "$COURIER" ] || { echo "no release build: swift build -c release --product courier" >&2; exit 1; }
	SITE="$(mktemp -d /tmp/courier-bench-XXXXXX)"; chmod 755 "$SITE"
	R="$SITE/root"
	trap bench_site_cleanup EXIT
	"$COURIER" init --root "$R" --domain example.test --demo --port-offset "$((20000 + RANDOM % 10000))" >/dev/null
	local f
	for f in esmtpd imapd pop3d; do
		sed -i "s/^MAXDAEMONS=.*/MAXDAEMONS=2000/; s/^MAXPERIP=.*/MAXPERIP=2000/" "$R/etc/$f"
	done
	"$COURIER" start --root "$R" 2>"$SITE/log" &
	PID=$!
	for _ in $(seq 150); do grep -q "courier: ready" "$SITE/log" && break; sleep 0.2; done
	grep "listening\|ready" "$SITE/log" || { cat "$SITE/log"; exit 1; }
	SMTP="$(bench_site_port esmtpd)"; IMAP="$(bench_site_port imapd)"; POP3="$(bench_site_port pop3d)"
	MD="$R/mail/example.test/demo/Maildir"
}

# bench_anchors_start NAME...: start.sh of the anchors kit (a running anchor is left alone)
bench_anchors_start() { "$ANCHORS/start.sh" "$@"; }

# bench_site_warnings: our server's log warnings and errors, counted (time stamps cut)
bench_site_warnings() {
	echo "### our server's log: warnings and errors (time stamps cut)"
	grep -E " (WARN|WARNING|ERROR|CRIT|CRITICAL|FATAL) " "$SITE/log" | cut -d' ' -f4- | sort | uniq -c | sort -rn | head -20 || true
}
