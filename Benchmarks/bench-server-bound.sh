#!/usr/bin/env bash
# IMAP and POP3 against the anchors with a compiled load client that is not the bottleneck
# (Benchmarks/loadclient/loadclient.c: the operations of the anchors' bench-imap.py and
# bench-pop3.py from one epoll loop), so that ops/s measure the servers, not the Python client.
# Starts our demo site from the release build and the anchors as bench-anchors.sh does
# (Benchmarks/lib/bench-site.sh), fills every Maildir with the same N messages (seed 1; IMAP 20%
# in new/, POP3 all in cur/, as compare.sh does), runs each client against ours, Dovecot and
# Courier in turn, R times, and prints per operation the median ops/s, ours / the better anchor,
# the server's CPU per op (its process tree) and the client's CPU per op.
# Every client run starts from the freshly filled Maildir: the fill is kept as hard links and put
# back (messages and the anchors' index files removed, as fill-maildir.py --clear does) before
# each run, so no run inherits another's flag changes (Dovecot's SELECT slows down ~30x after a
# STORE run until its index is rebuilt; without this the second client would measure that).
#   Benchmarks/bench-server-bound.sh [--messages N] [--seconds S] [--connections C] [--repeat R]
#        [--clients K] [--python] [--quickack] [--imap-ops a,b] [--pop3-ops a,b] [imap] [pop3]
# --python also runs bench-imap.py / bench-pop3.py in the same session (same targets, same order),
# so the two clients' rates sit side by side. --clients K runs K client processes at once per
# target and adds their rates (does a second client double the rate? then one was client-bound).
# --quickack sets TCP_QUICKACK before reads (hides Courier's Nagle/delayed-ACK stall; off by
# default, as for real clients). Needs cc, a release build of `courier` and the anchors
# (sudo /work/shared/anchors/install.sh). The ANCHORS_HOME / ANCHORS_PORT_* variables of the
# anchors kit choose a private instance. Not part of the test run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/Benchmarks/lib/bench-site.sh"
MESSAGES=10000; SECS=5; CONNS=4; REPEAT=1; CLIENTS=1; PYTHON=0; QUICKACK=""; ONLY=""
IMAP_OPS=login,select,fetch_all,body,search,store; POP3_OPS=login,stat,list,uidl,retr
while [ $# -gt 0 ]; do
	case "$1" in
	--messages) MESSAGES="$2"; shift 2 ;;
	--seconds) SECS="$2"; shift 2 ;;
	--connections) CONNS="$2"; shift 2 ;;
	--repeat) REPEAT="$2"; shift 2 ;;
	--clients) CLIENTS="$2"; shift 2 ;;
	--python) PYTHON=1; shift ;;
	--quickack) QUICKACK="--quickack"; shift ;;
	--imap-ops) IMAP_OPS="$2"; shift 2 ;;
	--pop3-ops) POP3_OPS="$2"; shift 2 ;;
	imap|pop3) ONLY="$ONLY $1"; shift ;;
	*) echo "usage: $0 [--messages N] [--seconds S] [--connections C] [--repeat R] [--clients K] [--python] [--quickack] [--imap-ops a,b] [--pop3-ops a,b] [imap] [pop3]" >&2; exit 2 ;;
	esac
done
[ -n "$ONLY" ] || ONLY="imap pop3"
# the anchors kit's names, ports, Maildirs and listener_pid
. "$ANCHORS/lib.sh"

echo "### $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, load at start:$(cut -d' ' -f1-3 /proc/loadavg | sed 's/^/ /')"
bench_site_start
LC="$SITE/loadclient"
cc -O2 -Wall -o "$LC" "$ROOT/Benchmarks/loadclient/loadclient.c"
NAMES=""
for p in $ONLY; do
	case "$p" in imap) NAMES="$NAMES dovecot courier-imap" ;; pop3) NAMES="$NAMES dovecot courier-pop3" ;; esac
done
# shellcheck disable=SC2086
bench_anchors_start $NAMES
LOGS="$SITE/logs"; mkdir -p "$LOGS"
CLIENT_KINDS="c"; [ "$PYTHON" = 1 ] && CLIENT_KINDS="c python"

# snapshot_maildir MD TEMPLATE / restore_maildir TEMPLATE MD: keep the filled messages as hard
# links; put them back after removing every message and the index files fill-maildir.py --clear
# removes (the servers only rename message files, never change them)
snapshot_maildir() {
	rm -rf "$2"; mkdir -p "$2"
	cp -al "$1/cur" "$1/new" "$1/tmp" "$2/"
}
restore_maildir() {
	python3 - "$2" "$ANCHORS/fill-maildir.py" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("fill", sys.argv[2])
fill = importlib.util.module_from_spec(spec); spec.loader.exec_module(fill)
fill.clear(sys.argv[1])
PY
	local sub
	for sub in cur new tmp; do
		cp -al "$1/$sub/." "$2/$sub/"
	done
}

# run_clients KIND PROTO NAME ADDR REP: K client processes at once, one log each
run_clients() {
	local kind="$1" proto="$2" name="$3" addr="$4" rep="$5" pid j pids="" ops
	pid="$(listener_pid "${addr##*:}")"
	ops="$IMAP_OPS"; [ "$proto" = pop3 ] && ops="$POP3_OPS"
	for j in $(seq "$CLIENTS"); do
		local log="$LOGS/$kind.$proto.$name.$rep.$j"
		if [ "$kind" = c ]; then
			"$LC" "$proto" "$addr" --connections "$CONNS" --seconds "$SECS" --ops "$ops" --pid "$pid" --seed "$j" $QUICKACK >"$log" 2>&1 &
		else
			python3 "$ANCHORS/bench-$proto.py" "$addr" --connections "$CONNS" --seconds "$SECS" --ops "$ops" --pid "$pid" $QUICKACK >"$log" 2>&1 &
		fi
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids || true
	sed "s/^/[$kind x$CLIENTS, $rep\/$REPEAT] /" "$LOGS/$kind.$proto.$name.$rep".*
}

for proto in $ONLY; do
	if [ "$proto" = imap ]; then
		targets="ours=127.0.0.1:$IMAP=$MD dovecot=$HOST:$(anchor_port dovecot)=$(anchor_maildir dovecot) courier=$HOST:$(anchor_port courier-imap)=$(anchor_maildir courier-imap)"
		nf=0.2
	else
		targets="ours=127.0.0.1:$POP3=$MD dovecot=$HOST:$(anchor_port dovecot-pop3)=$(anchor_maildir dovecot-pop3) courier=$HOST:$(anchor_port courier-pop3)=$(anchor_maildir courier-pop3)"
		nf=0
	fi
	echo "### $proto, $MESSAGES messages, $CONNS connections x $CLIENTS client process(es), $SECS s per operation"
	for t in $targets; do
		name="${t%%=*}"; md="${t#*=}"; md="${md#*=}"
		"$ANCHORS/fill-maildir.py" "$md" "$MESSAGES" --seed 1 --clear --new-fraction "$nf"
		snapshot_maildir "$md" "$SITE/fill-$proto-$name"
	done
	for rep in $(seq "$REPEAT"); do
		for t in $targets; do
			name="${t%%=*}"; addr="${t#*=}"; addr="${addr%%=*}"; md="${t#*=}"; md="${md#*=}"
			for kind in $CLIENT_KINDS; do
				restore_maildir "$SITE/fill-$proto-$name" "$md"
				sync; sleep 1
				run_clients "$kind" "$proto" "$name" "$addr" "$rep"
			done
		done
	done
done
echo "### load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$ROOT/Benchmarks/loadclient/server-bound-table.py" "$LOGS"
bench_site_warnings
