#!/usr/bin/env bash
# The authdaemon socket, ours against Courier's authdaemond (anchors' unpacked courier-authlib),
# both over the same N-user userdb (default 100,000, `{SSHA}` passwords), both driven by the
# same Python client (Benchmarks/authdaemon_load.py: one request per connection, 4 threads).
# Courier's daemon runs in a private mount namespace where the unpacked packages sit at their
# compiled-in paths (/usr overlay, /etc/courier, /run/courier), as anchors/courier-ns.sh does.
#   Benchmarks/bench-authdaemon.sh [--users N] [--requests R] [--rounds K] [--debug]
# Each case runs K alternating rounds (Courier, ours, Courier, …) and prints the median ratios of
# the rates and of the server CPU time per request (the steadier number on a shared machine).
# Needs root (mount namespace) and `sudo /work/shared/anchors/install.sh` done once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
USERS=100000
REQUESTS=20000
ROUNDS=3
CONFIG=release
while [ $# -gt 0 ]; do
	case "$1" in
	--users) USERS="$2"; shift 2 ;;
	--requests) REQUESTS="$2"; shift 2 ;;
	--rounds) ROUNDS="$2"; shift 2 ;;
	--debug) CONFIG=debug; shift ;;
	*) echo "usage: $0 [--users N] [--requests R] [--rounds K] [--debug]" >&2; exit 2 ;;
	esac
done
DIST="${ANCHORS_HOME:-/var/tmp/courier-anchors}/courier-dist"
[ -x "$DIST/usr/lib/courier/courier-authlib/authdaemond" ] || { echo "Courier not unpacked: run anchors/install.sh" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root (mount namespace for Courier's authdaemond)" >&2; exit 1; }
COURIER="$ROOT/.build/$CONFIG/courier"
[ -x "$COURIER" ] || (cd "$ROOT" && swift build -c "$CONFIG" --product courier)
W="$(mktemp -d /tmp/courier-bench-authdaemon-XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

# One userdb text for both.
python3 - "$USERS" > "$W/userdb" <<'PY'
import base64, hashlib, os, sys
salt = os.urandom(4)
pw = "{SSHA}" + base64.b64encode(hashlib.sha1(b"benchpw" + salt).digest() + salt).decode()
for i in range(int(sys.argv[1])):
    print(f"user{i}@bench.test\tuid=1000|gid=1000|home=/srv/mail/user{i}|mail=/srv/mail/user{i}/Maildir|systempw={pw}")
PY
chmod 600 "$W/userdb"

# Courier's authdaemond.
mkdir -p "$W/courier-etc" "$W/courier-run/authdaemon"
cp "$W/userdb" "$W/courier-etc/userdb"
printf 'authmodulelist="authuserdb"\nauthmodulelistorig="authuserdb"\ndaemons=5\nauthdaemonvar=/run/courier/authdaemon\nDEBUG_LOGIN=0\nDEFAULTOPTIONS=""\nLOGGEROPTS=""\n' > "$W/courier-etc/authdaemonrc"
export ANCHORS_NS_DIST="$DIST" ANCHORS_NS_ETC="$W/courier-etc" ANCHORS_NS_RUN="$W/courier-run"
unshare -m --propagation private -- bash -c '
	set -e
	mount -t overlay anchors-courier-usr -o ro,lowerdir="$ANCHORS_NS_DIST/usr":/usr /usr
	mount --bind "$ANCHORS_NS_ETC" /etc/courier
	mount --bind "$ANCHORS_NS_RUN" /run/courier
	export LD_LIBRARY_PATH=/usr/lib PATH=/usr/sbin:/usr/bin:/sbin:/bin
	/usr/sbin/makeuserdb
	exec /usr/lib/courier/courier-authlib/authdaemond' > "$W/courier.log" 2>&1 &
PIDS+=($!)

# Ours: a site whose userdb holds the same accounts.
"$COURIER" init --root "$W/site" --demo --port-offset "$((20000 + RANDOM % 10000))" > /dev/null
cp "$W/userdb" "$W/site/etc/userdb"
chown --reference="$W/site/etc/courierd" "$W/site/etc/userdb"
COURIER_ROOT="$W/site" "$COURIER" makeuserdb
"$COURIER" start --root "$W/site" > "$W/ours.log" 2>&1 &
PIDS+=($!)

# Wait (up to 5 minutes: compiling 100,000 accounts takes a while) until both answer.
python3 - "$W/courier-run/authdaemon/socket" "$W/site/var/run/authdaemon/socket" <<'PY' || { echo "a daemon did not come up; logs:" >&2; tail -5 "$W/courier.log" "$W/ours.log" >&2; exit 1; }
import socket, sys, time
deadline = time.monotonic() + 300
for path in sys.argv[1:]:
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(path)
                s.sendall(b"PRE . imap user0@bench.test\n")
                if s.recv(100):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"no answer on {path}")
        time.sleep(0.2)
PY

echo "authdaemon: $USERS users, $REQUESTS requests per case, 4 client threads, $ROUNDS alternating rounds ($CONFIG build of ours)"
echo "uptime: $(uptime)"
for kind in pre auth; do
	: > "$W/$kind.results"
	for round in $(seq "$ROUNDS"); do
		theirs="$(python3 "$ROOT/Benchmarks/authdaemon_load.py" "$W/courier-run/authdaemon/socket" --users "$USERS" --requests "$REQUESTS" --kind "$kind" --cpu-of "${PIDS[0]}")"
		ours="$(python3 "$ROOT/Benchmarks/authdaemon_load.py" "$W/site/var/run/authdaemon/socket" --users "$USERS" --requests "$REQUESTS" --kind "$kind" --cpu-of "${PIDS[1]}")"
		echo "courier: ${theirs/$W\//}"
		echo "ours:    ${ours/$W\//}"
		echo "$theirs|$ours" >> "$W/$kind.results"
	done
	python3 - "$kind" "$W/$kind.results" <<'PY'
import re, statistics, sys
rates, cpus = [], []
for line in open(sys.argv[2]):
    theirs, ours = line.split("|")
    rate = lambda text: float(re.search(r"= (\d+)/s", text).group(1))
    cpu = lambda text: float(re.search(r"CPU ([\d.]+) us", text).group(1))
    rates.append(rate(ours) / rate(theirs))
    cpus.append(cpu(ours) / cpu(theirs))
print(f"{sys.argv[1]}: median ratio ours/courier: rate {statistics.median(rates):.2f}, "
      f"server CPU per request {statistics.median(cpus):.2f} (below 1: ours uses less)")
PY
done
echo "uptime: $(uptime)"
