#!/usr/bin/env python3
"""Open + list of a big folder: our IMAP server against Courier-IMAP's imapd and Dovecot's imap.

usage: Benchmarks/bench-folder-open.py [--sizes 10000,100000] [--rounds R] [--bin-dir DIR]
                                       [--courier-dist DIR] [--no-dovecot] [--no-courier]

"Open + list" is what a client does to see a folder: `SELECT INBOX`, then
`FETCH 1:* (UID FLAGS RFC822.SIZE)`. For each size N one Maildir of N small messages is written
(Courier-style names with `,S=`, mixed flags, all in cur/), and each server gets its own copy of
it (hard-linked message files, own directories, so no server sees another's uid or index files):

* Courier-IMAP (Debian's, unpacked: `$D/usr/bin/imapd .` pre-authenticated on a pipe, as
  Courier's own login runs it, with IMAP_KEYWORDS=1): cold = no `courierimapuiddb`, warm = the
  next runs (Courier keeps no other index; every run is a new process).
* Dovecot (`/usr/lib/dovecot/imap` pre-authenticated on a pipe with a two-line config, run as
  the `anchors` user): cold = no index, warm = the next runs (its mmapped index).
* Ours (`courier start` on a temporary demo site, as the interop tests run it, over a loopback
  connection with LOGIN): cold = new process, no uid database and no caches; `rescan` = new
  process, `courierswiftindex` warm but no snapshot (a full directory scan); warm = new process
  with the snapshot (`courierswiftsnapshot`) current, i.e. a server restart; `warm-same` = the
  same process again (its in-memory list).

Times are the client's wall clock from sending the command to its tagged OK, in ms (median of
R rounds for the warm rows); cpu is the server's CPU over SELECT+FETCH (ours from
/proc/<pid>/stat, theirs the whole process from its rusage, start-up included). The script
checks that the three servers report the same flags and sizes. Needs a release build
(`swift build -c release --product courier`) and the anchors' Courier (`courier-dist`).
A measurement tool, not a test.
"""
import argparse
import os
import pathlib
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "Interop"))
FLAG_CHOICES = ["S"] * 14 + ["FS", "", "RS", "", "ST", "DS"]


def write_folder(path, count):
    """A Maildir with `count` small messages in cur/ (names as Courier's deliverquota makes them)."""
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    base = 1_760_000_000
    for n in range(count):
        text = (f"Return-Path: <sender{n % 97}@example.test>\nFrom: Sender {n % 97} <sender{n % 97}@example.test>\n"
                f"To: demo@example.test\nSubject: message {n} of the big folder\n"
                f"Date: Mon, 2 Feb 2026 10:{n % 60:02d}:00 +0000\nMessage-ID: <{n}.bench@example.test>\n\n"
                f"body of message {n}\n" + "some words to make a line\n" * (n % 5)).encode()
        flags = FLAG_CHOICES[n % len(FLAG_CHOICES)]
        name = (f"{base + n // 20}.M{(n * 7919) % 1_000_000}P{1000 + n % 3000}V000000000000FD01I{0x100000 + n:016X}"
                f".bench.example.test,S={len(text)}:2,{flags}")
        (path / "cur" / name).write_bytes(text)
        os.utime(path / "cur" / name, (base + n // 20, base + n // 20))


def copy_folder(master, target):
    """`target` with its own directories and hard links to `master`'s message files."""
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(["cp", "-al", str(master), str(target)], check=True)


class Session:
    """One IMAP conversation over send/recv callables; times commands to their tagged reply."""

    def __init__(self, send, recv):
        self.send, self.recv = send, recv
        self.pending = bytearray()

    def read_line(self):
        while b"\r\n" not in self.pending:
            chunk = self.recv(65536)
            if not chunk:
                raise EOFError(bytes(self.pending[-300:]))
            self.pending += chunk
        line, _, rest = bytes(self.pending).partition(b"\r\n")
        self.pending = bytearray(rest)
        return line

    def command(self, tag, text):
        start = time.perf_counter()
        self.send(f"{tag} {text}\r\n".encode())
        buf = self.pending
        self.pending = bytearray()
        marker = f"{tag} ".encode()
        scanned = 0
        while True:
            # The tagged reply is the first line that starts with the tag.
            end = len(buf)
            at = buf.find(b"\r\n" + marker, max(0, scanned - 2))
            if buf.startswith(marker):
                at = -2
            if at != -1:
                close = buf.find(b"\r\n", at + 2)
                if close != -1:
                    elapsed = (time.perf_counter() - start) * 1000
                    reply = bytes(buf[at + 2:close])
                    self.pending = bytearray(buf[close + 2:])
                    if not reply.startswith(marker + b"OK"):
                        raise RuntimeError(f"{text}: {reply!r}")
                    return elapsed, bytes(buf[:at + 2])
            scanned = end
            chunk = self.recv(1 << 20)
            if not chunk:
                raise EOFError(bytes(buf[-300:]))
            buf += chunk


FETCH_LINE = re.compile(rb"^\* (\d+) FETCH \((.*)\)$", re.M)


def listing(data):
    """Per message in sequence order: (flags without \\Recent as a sorted tuple, RFC822.SIZE)."""
    out = []
    for m in FETCH_LINE.finditer(data):
        items = m.group(2)
        flags = re.search(rb"FLAGS \(([^)]*)\)", items).group(1).split()
        size = int(re.search(rb"RFC822\.SIZE (\d+)", items).group(1))
        out.append((tuple(sorted(f for f in flags if f.lower() != b"\\recent")), size))
    return out


def open_and_list(session):
    select_ms, select_data = session.command("a", "SELECT INBOX")
    fetch_ms, fetch_data = session.command("b", "FETCH 1:* (UID FLAGS RFC822.SIZE)")
    exists = re.search(rb"\* (\d+) EXISTS", select_data)
    return select_ms, fetch_ms, int(exists.group(1)) if exists else -1, fetch_data


def run_stdio(argv, cwd, env, user=None):
    """One pre-authenticated session of a pipe IMAP server: (select ms, fetch ms, exists, data, cpu ms)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, bufsize=0, user=user)
    try:
        session = Session(lambda b: (proc.stdin.write(b), proc.stdin.flush()), lambda n: os.read(proc.stdout.fileno(), n))
        greeting = session.read_line()
        assert b"PREAUTH" in greeting, greeting
        result = open_and_list(session)
        session.send(b"z LOGOUT\r\n")
        proc.stdin.close()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return (*result, cpu)


class Ours:
    """Our `courier start` with the demo user's INBOX replaced by a copy of the folder."""

    def __init__(self, root):
        import test_imap_server as t
        self.site = t.Site(root)
        self.maildir = self.site.maildir
        self.ticks = os.sysconf("SC_CLK_TCK")

    def cpu_ms(self):
        fields = pathlib.Path(f"/proc/{self.site.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / self.ticks

    def load(self, master):
        self.site.stop()
        shutil.rmtree(self.maildir)
        copy_folder(master, self.maildir)

    def restart(self):
        self.site.restart()

    def run(self):
        sock = socket.create_connection(("127.0.0.1", self.site.ports["imapd"]), timeout=900)
        try:
            session = Session(sock.sendall, sock.recv)
            session.read_line()
            session.command("l", "LOGIN demo demo")
            cpu = self.cpu_ms()
            result = open_and_list(session)
            cpu = self.cpu_ms() - cpu
            session.send(b"z LOGOUT\r\n")
        finally:
            sock.close()
        return (*result, cpu)

    def stop(self):
        self.site.stop()


def median_row(rows):
    return tuple(statistics.median(r[i] for r in rows) for i in range(2)) + (rows[0][2],) + (statistics.median(r[4] for r in rows),)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bin-dir", default=str(REPO / ".build" / "release"))
    parser.add_argument("--courier-dist", default=os.environ.get("COURIER_DIST", "/var/cache/courier-swift-test/courier-dist"))
    parser.add_argument("--no-dovecot", action="store_true")
    parser.add_argument("--no-courier", action="store_true")
    parser.add_argument("--settle", type=float, default=3.1,
                        help="seconds before a warm open (our snapshot is trusted once the folder's stamps are "
                             "2 whole seconds old: up to 3 s after the change)")
    args = parser.parse_args()
    os.environ["COURIER_BIN_DIR"] = args.bin_dir
    courier_imapd = pathlib.Path(args.courier_dist) / "usr" / "bin" / "imapd"
    dovecot_imap = pathlib.Path("/usr/lib/dovecot/imap")
    use_dovecot = not args.no_dovecot and dovecot_imap.exists()
    print(f"load average at start: {os.getloadavg()}", flush=True)

    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        tmp = pathlib.Path(tmp)
        os.chmod(tmp, 0o755)
        ours = Ours(tmp / "site")
        table = []   # (size, server, phase, select, fetch, exists, cpu)
        try:
            for size in (int(s) for s in args.sizes.split(",")):
                master = tmp / f"master-{size}"
                t0 = time.time()
                write_folder(master, size)
                print(f"{size} messages written in {time.time() - t0:.0f} s", flush=True)
                listings = {}

                def record(server, phase, row):
                    select_ms, fetch_ms, exists, data, cpu = row
                    if exists != size:
                        raise RuntimeError(f"{server} {phase}: {exists} EXISTS, expected {size}")
                    listings.setdefault(server, listing(data))
                    print(f"  {server:8} {phase:10} SELECT {select_ms:9.1f} ms  FETCH {fetch_ms:9.1f} ms  cpu {cpu:8.0f} ms",
                          flush=True)
                    return (select_ms, fetch_ms, exists, None, cpu)

                def add(server, phase, rows):
                    s, f, e, c = median_row(rows) if len(rows) > 1 else (rows[0][0], rows[0][1], rows[0][2], rows[0][4])
                    table.append((size, server, phase, s, f, e, c))

                # Courier-IMAP
                if courier_imapd.exists() and not args.no_courier:
                    folder = tmp / f"courier-{size}"
                    copy_folder(master, folder)
                    env = dict(os.environ, LD_LIBRARY_PATH=str(pathlib.Path(args.courier_dist) / "usr" / "lib"),
                               IMAP_KEYWORDS="1")
                    argv = [str(courier_imapd), "."]
                    add("courier", "cold", [record("courier", "cold", run_stdio(argv, folder, env))])
                    add("courier", "warm", [record("courier", "warm", run_stdio(argv, folder, env)) for _ in range(args.rounds)])
                    shutil.rmtree(folder)
                else:
                    print(f"no {courier_imapd}: Courier-IMAP skipped")

                # Dovecot
                if use_dovecot:
                    folder = tmp / f"dovecot-{size}"
                    copy_folder(master, folder)
                    for d in (folder, folder / "cur", folder / "new", folder / "tmp"):
                        shutil.chown(d, "anchors", "anchors")
                    conf = tmp / "dovecot.conf"
                    conf.write_text(f"mail_location = maildir:{folder}\nmail_uid = anchors\nmail_gid = anchors\n"
                                    "first_valid_uid = 1\nlog_path = /dev/stderr\n")
                    env = {"USER": "anchors", "HOME": str(folder), "PATH": os.environ.get("PATH", "")}
                    argv = [str(dovecot_imap), "-c", str(conf)]
                    add("dovecot", "cold", [record("dovecot", "cold", run_stdio(argv, folder, env))])
                    add("dovecot", "warm", [record("dovecot", "warm", run_stdio(argv, folder, env)) for _ in range(args.rounds)])
                    shutil.rmtree(folder)

                # Ours
                ours.load(master)
                ours.restart()
                add("ours", "cold", [record("ours", "cold", ours.run())])
                time.sleep(args.settle)
                ours.restart()
                add("ours", "rescan", [record("ours", "rescan", ours.run())])
                rows = []
                for _ in range(args.rounds):
                    time.sleep(args.settle)
                    ours.restart()
                    rows.append(record("ours", "warm", ours.run()))
                add("ours", "warm", rows)
                add("ours", "warm-same", [record("ours", "warm-same", ours.run()) for _ in range(args.rounds)])
                ours.stop()

                reference = listings.get("ours")
                for server, found in listings.items():
                    same = found == reference
                    # UIDs differ per copy; the order by name is the same, so flags and sizes line up.
                    print(f"  {server} lists the same flags and sizes as ours: {'yes' if same else 'NO'}")
                shutil.rmtree(master)
        finally:
            ours.stop()

    print(f"load average at end: {os.getloadavg()}")
    print()
    print("| messages | server | index | SELECT ms | FETCH 1:* ms | total ms | server cpu ms | ours / this (total) |")
    print("|---:|---|---|---:|---:|---:|---:|---:|")
    for size, server, phase, s, f, e, c in table:
        ours_phase = {"cold": "cold", "warm": "warm"}.get(phase)
        ratio = ""
        if server != "ours" and ours_phase:
            mine = [r for r in table if r[0] == size and r[1] == "ours" and r[2] == ours_phase]
            if mine:
                ratio = f"{(mine[0][3] + mine[0][4]) / (s + f):.2f}x"
        print(f"| {size:,} | {server} | {phase} | {s:.1f} | {f:.1f} | {s + f:.1f} | {c:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
