#!/usr/bin/env bash
# Auth benchmark (issue #4): user lookups and password verifications per second with N users
# (default 100,000) in userdb and in PostgreSQL. Starts a private PostgreSQL cluster on a free
# port (as the postgres user when run as root), loads N rows into Courier's `passwd` table,
# then runs `courier bench-auth` of a release build (--debug: the debug build) and prints its BENCH lines.
#   Benchmarks/bench-auth.sh [--users N] [--debug]
# Not part of the test run: benchmarks measure, tests check behaviour.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
USERS=100000
CONFIG=release
while [ $# -gt 0 ]; do
	case "$1" in
	--users) USERS="$2"; shift 2 ;;
	--debug) CONFIG=debug; shift ;;
	*) echo "usage: $0 [--users N] [--debug]" >&2; exit 2 ;;
	esac
done
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
BASE="$(mktemp -d /tmp/courier-bench-pg-XXXXXX)"
chmod 755 "$BASE"
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); chown postgres:postgres "$BASE"; fi
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cleanup() { "${AS[@]}" "$PGBIN/pg_ctl" -D "$BASE/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$BASE"; }
trap cleanup EXIT
"${AS[@]}" "$PGBIN/initdb" -D "$BASE/data" -U pgadmin --auth-local=trust --auth-host=trust -E UTF8 >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$BASE/data" -w -l "$BASE/log" -o "-p $PORT -k $BASE -c listen_addresses=127.0.0.1" start >/dev/null
psql() { "${AS[@]}" "$PGBIN/psql" -h "$BASE" -p "$PORT" -U pgadmin -v ON_ERROR_STOP=1 -qAt "$@"; }
psql -d postgres -c "CREATE DATABASE mail" -c "CREATE ROLE courier LOGIN"
HASH="$(python3 -c 'import base64,hashlib,os; s=os.urandom(4); print("{SSHA}"+base64.b64encode(hashlib.sha1(b"benchpw"+s).digest()+s).decode())')"
psql -d mail <<SQL
CREATE TABLE passwd (id varchar(128) DEFAULT '' NOT NULL PRIMARY KEY, crypt varchar(128) DEFAULT '' NOT NULL,
  clear varchar(128) DEFAULT '' NOT NULL, name varchar(128) DEFAULT '' NOT NULL, uid int4 DEFAULT 65534 NOT NULL,
  gid int4 DEFAULT 65534 NOT NULL, home varchar(255) DEFAULT '' NOT NULL, maildir varchar(255) DEFAULT '' NOT NULL,
  defaultdelivery varchar(255) DEFAULT '' NOT NULL, quota varchar(255) DEFAULT '' NOT NULL,
  options varchar(255) DEFAULT '' NOT NULL);
INSERT INTO passwd (id, crypt, home) SELECT 'user' || i || '@bench.test', '$HASH', '/srv/mail/user' || i
  FROM generate_series(0, $USERS - 1) AS i;
GRANT SELECT ON passwd TO courier;
ANALYZE passwd;
SQL
cd "$ROOT"
COURIER="$ROOT/.build/$CONFIG/courier"
[ -x "$COURIER" ] || swift build -c "$CONFIG" --product courier
echo "uptime: $(uptime)"
"$COURIER" bench-auth --users "$USERS" --pg-port "$PORT" --pg-user courier
echo "uptime: $(uptime)"
