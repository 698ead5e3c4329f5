#!/usr/bin/env python3
"""Outbound SMTP benchmark (issue #8): our queue and esmtp transport against Postfix relaying
the same load, in one run, to the same kind of receivers.

For each target (Postfix first, then ours) the script starts DESTINATIONS fresh `smtp-sink`
receivers (Postfix's test server, Debian package postfix) on free loopback ports, one per
destination domain `dN.outbench.test`, and a fresh server configured to relay those domains to
them: ours with `esmtproutes` lines `dN.outbench.test: [127.0.0.1],PORT` and `smtpaccess`
`127.0.0.1 allow,RELAYCLIENT`; a private Postfix instance (defaults, as in
Tests/Interop/postfix_peer.py) with `transport_maps` `dN.outbench.test smtp:[127.0.0.1]:PORT`.
Then DESTINATIONS `smtp-source` clients inject MESSAGES messages of SIZE bytes (spread evenly
over the domains, SESSIONS connections per client, several messages per connection) and the
clock runs until the sinks have counted every message. Printed per target: accepted msg/s
(injection done), relayed msg/s (the last message at a sink), messages per outbound
connection (the sinks' session counters), the server's CPU per message; then the ratio.

    Benchmarks/bench-outbound.py [--messages 2000] [--size 4096] [--destinations 20]
                                 [--sessions 2] [--repeat 1] [--debug] [--no-build]
                                 [--only ours|postfix] [--courier PATH] [--keepalive SECONDS]
                                 [--mode end-to-end|queued|both]

Needs Debian's postfix (smtp-sink, smtp-source; sudo /work/shared/anchors/install.sh installs
it), root (Postfix's private instance and smtp-sink's privilege drop), and a release build of
ours (built here unless --no-build). Not part of the test run: benchmarks measure, tests check.
"""
import argparse
import os
import pathlib
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
DOMAIN = "d{}.outbench.test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_greeting(port, what, log=lambda: "", timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                if s.recv(100).startswith(b"220"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{what} did not answer on 127.0.0.1:{port}\n{log()}")


def tree_cpu(root_pid):
    """CPU seconds of a process and its descendants (utime+stime+cutime+cstime)."""
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = pathlib.Path(f"/proc/{entry}/stat").read_text()
            kids.setdefault(int(text[text.rindex(")") + 2:].split()[1]), []).append(int(entry))
        except (OSError, ValueError):
            pass
    ticks, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, []))
        try:
            text = pathlib.Path(f"/proc/{pid}/stat").read_text()
            ticks += sum(int(x) for x in text[text.rindex(")") + 2:].split()[11:15])
        except (OSError, ValueError):
            pass
    return ticks / CLK_TCK


class Sink:
    """One `smtp-sink` on a free loopback port; `-c` makes it print `sess=S quit=Q mesg=M\\r`
    after every session end, QUIT and message, read here by a thread."""

    def __init__(self, index):
        self.port = free_port()
        self.messages = self.sessions = 0
        self.proc = subprocess.Popen(
            ["smtp-sink", "-c", "-u", "nobody", "-h", f"sink{index}.outbench.test", f"127.0.0.1:{self.port}", "256"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        pending = b""
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                return
            pending += chunk
            *records, pending = pending.split(b"\r")
            for record in records:
                match = re.search(rb"sess=(\d+) quit=\d+ mesg=(\d+)", record)
                if match:
                    self.sessions, self.messages = int(match.group(1)), int(match.group(2))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Ours:
    name = "ours"

    def __init__(self, binary, routes, keepalive=None, hold=False):
        self.binary = binary
        self.routes = routes
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="courier-outbench-", dir="/var/tmp"))
        os.chmod(self.dir, 0o755)
        root = self.dir / "root"
        subprocess.run([str(binary), "init", "--root", str(root), "--demo", "--port-offset",
                        str(random.randint(30000, 34000))], check=True, capture_output=True)
        etc = root / "etc"
        self.port = free_port()
        for path in etc.iterdir():
            if not path.is_file():
                continue
            text = path.read_text(errors="replace")
            if not re.search(r"^[A-Z0-9]+START=", text, re.M):
                continue
            text = re.sub(r"^([A-Z0-9]+START)=.*$", r"\1=NO", text, flags=re.M)
            if path.name == "esmtpd":
                text = re.sub(r"^ESMTPDSTART=.*$", "ESMTPDSTART=YES", text, flags=re.M)
                text = re.sub(r"^PORT=.*$", f"PORT={self.port}", text, flags=re.M)
                text = re.sub(r"^MAXDAEMONS=.*$", "MAXDAEMONS=0", text, flags=re.M)
                text = re.sub(r"^MAXPERIP=.*$", "MAXPERIP=0", text, flags=re.M)
            path.write_text(text)
        access = etc / "smtpaccess" / "default"
        access.write_text(re.sub(r"^127\.0\.0\.1\tallow$", "127.0.0.1\tallow,RELAYCLIENT", access.read_text(),
                                 flags=re.M))
        self.etc = etc
        self.root = root
        if hold:
            # Queued phase: every destination is a closed port at first, so each message is
            # tried once and deferred (retryalpha: 5 minutes); esmtpdelay 0 so that no domain
            # is remembered as unreachable when the routes are put right for the release.
            (etc / "esmtproutes").write_text("".join(f"{domain}: [127.0.0.1],1\n" for domain, _ in routes))
            (etc / "esmtpdelay").write_text("0\n")
        else:
            self.write_routes()
        if keepalive is not None:
            (etc / "esmtptimeoutkeepalive").write_text(f"{keepalive}\n")
        self.log_path = self.dir / "log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(binary), "start", "--root", str(root)], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while b"courier: ready" not in self.log_path.read_bytes():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                text = self.log_path.read_text(errors="replace")
                self.stop()
                sys.exit("courier start did not get ready:\n" + text)
            time.sleep(0.2)
        wait_for_greeting(self.port, "courier esmtpd")
        self.pid = self.proc.pid

    def write_routes(self):
        (self.etc / "esmtproutes").write_text("".join(f"{domain}: [127.0.0.1],{port}\n" for domain, port in self.routes))

    def held(self):
        """Messages tried once and deferred so far."""
        return self.log_path.read_bytes().count(b": deferred: ")

    def release(self):
        self.write_routes()
        time.sleep(1.2)  # the esmtp control files are re-read at most once a second
        subprocess.run([str(self.binary), "flush"], env=dict(os.environ, COURIER_ROOT=str(self.root)),
                       check=True, capture_output=True)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Postfix:
    name = "postfix"

    def __init__(self, routes, hold=False):
        if not shutil.which("postfix"):
            sys.exit("Debian's postfix is not installed (sudo /work/shared/anchors/install.sh)")
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="postfix-outbench-", dir="/var/tmp"))
        os.chmod(self.dir, 0o755)
        for sub in ("etc", "spool", "data", "log"):
            (self.dir / sub).mkdir()
        shutil.chown(self.dir / "data", "postfix")
        self.port = free_port()
        domains = " ".join(domain for domain, _ in routes)
        transports = " ".join(f"{domain}=smtp:[127.0.0.1]:{port}" for domain, port in routes)
        (self.dir / "etc" / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.dir}/spool
data_directory = {self.dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-outbench.test
mydomain = postfix-outbench.test
myorigin = postfix-outbench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
relay_domains = {domains}
transport_maps = inline:{{ {transports} }}
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
smtputf8_enable = no
maillog_file_prefixes = {self.dir}/log
maillog_file = {self.dir}/log/postfix.log
smtp_host_lookup = native
disable_dns_lookups = yes
{"defer_transports = smtp" if hold else ""}
""")
        (self.dir / "etc" / "master.cf").write_text(f"""\
127.0.0.1:{self.port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
""")
        self.config = str(self.dir / "etc")
        for command in (["postfix", "-c", self.config, "check"], ["postfix", "-c", self.config, "start"]):
            result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if result.returncode != 0:
                sys.exit(" ".join(command) + " failed:\n" + result.stdout + result.stderr + self.log())
        wait_for_greeting(self.port, "postfix", self.log)
        self.pid = int((self.dir / "spool" / "pid" / "master.pid").read_text().split()[0])

    def held(self):
        """Messages in the deferred queue (defer_transports = smtp keeps them there)."""
        return sum(len(files) for _, _, files in os.walk(self.dir / "spool" / "deferred"))

    def release(self):
        for command in (["postconf", "-c", self.config, "-e", "defer_transports ="],
                        ["postfix", "-c", self.config, "reload"]):
            subprocess.run(command, check=True, capture_output=True, stdin=subprocess.DEVNULL)
        time.sleep(1.2)
        subprocess.run(["postqueue", "-c", self.config, "-f"], check=True, capture_output=True)

    def log(self):
        path = self.dir / "log" / "postfix.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self):
        subprocess.run(["postfix", "-c", self.config, "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def run_once(kind, args, binary, queued=False):
    """One target, one run. End to end (default): injection and relaying overlap, the clock
    runs from the first injected message to the last one at a sink. `queued`: every message
    is first accepted and held (ours: tried once against a closed port and deferred; Postfix:
    `defer_transports = smtp`), then released (`courier flush` / `postqueue -f`); the clock
    runs from the first to the last message at a sink, so only the relaying is timed."""
    sinks = [Sink(index) for index in range(1, args.destinations + 1)]
    routes = [(DOMAIN.format(index + 1), sink.port) for index, sink in enumerate(sinks)]
    for sink in sinks:
        wait_for_greeting(sink.port, "smtp-sink")
    # The greeting checks above count as sessions at the sinks.
    time.sleep(0.3)
    base_sessions = sum(sink.sessions for sink in sinks)
    server = None
    try:
        server = Ours(binary, routes, args.keepalive, queued) if kind == "ours" else Postfix(routes, queued)
        per_domain = [args.messages // args.destinations + (1 if i < args.messages % args.destinations else 0)
                      for i in range(args.destinations)]
        cpu0 = tree_cpu(server.pid)
        start = time.monotonic()
        sources = [subprocess.Popen(
            ["smtp-source", "-d", "-s", str(args.sessions), "-m", str(count), "-l", str(args.size),
             "-f", "sender@client.outbench.test", "-t", f"rcpt@{domain}", f"127.0.0.1:{server.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
            for (domain, _), count in zip(routes, per_domain) if count > 0]
        for source in sources:
            _, errors = source.communicate()
            if source.returncode != 0:
                sys.exit(f"smtp-source failed against {kind}: {errors.decode(errors='replace')}")
        accepted = time.monotonic() - start
        if queued:
            deadline = time.monotonic() + args.timeout
            while server.held() < args.messages:
                if time.monotonic() > deadline:
                    sys.exit(f"{kind}: only {server.held()} of {args.messages} messages held in {args.timeout} s")
                time.sleep(0.1)
            time.sleep(0.5)
            server.release()
            cpu0 = tree_cpu(server.pid)
        first = None
        deadline = time.monotonic() + args.timeout
        while (count := sum(sink.messages for sink in sinks)) < args.messages:
            if first is None and count > 0:
                first = time.monotonic()
            if time.monotonic() > deadline:
                sys.exit(f"{kind}: only {count} of {args.messages} messages reached the sinks in {args.timeout} s")
            time.sleep(0.005)
        end = time.monotonic()
        relayed = end - (first if queued and first else start)
        cpu = tree_cpu(server.pid) - cpu0
        # smtp-sink counts a session when it ends: stop the server so that kept-open sessions
        # (ours: esmtptimeoutkeepalive, Postfix: its connection cache) end and are counted.
        server.stop()
        server = None
        time.sleep(1)
        sessions = sum(sink.sessions for sink in sinks) - base_sessions
        extra = sum(sink.messages for sink in sinks) - args.messages
        if extra:
            sys.exit(f"{kind}: {extra} messages more than sent reached the sinks (duplicates)")
        if queued:
            return {"relayed msg/s": args.messages / relayed, "outbound connections": sessions,
                    "msgs per connection": args.messages / max(sessions, 1),
                    "server cpu ms/msg": cpu * 1000 / args.messages}
        return {"accepted msg/s": args.messages / accepted, "relayed msg/s": args.messages / relayed,
                "outbound connections": sessions, "msgs per connection": args.messages / max(sessions, 1),
                "server cpu ms/msg": cpu * 1000 / args.messages}
    finally:
        if server:
            server.stop()
        for sink in sinks:
            sink.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--destinations", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=2, help="connections per injecting smtp-source")
    parser.add_argument("--repeat", type=int, default=1, help="runs per target; the table shows medians")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--debug", action="store_true", help="our debug build instead of release")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--only", choices=["ours", "postfix"])
    parser.add_argument("--mode", choices=["end-to-end", "queued", "both"], default="both",
                        help="end-to-end: injection and relaying overlap; queued: held, then released")
    parser.add_argument("--keepalive", type=int, help="our esmtptimeoutkeepalive (0: no session reuse)")
    parser.add_argument("--courier", help="our binary to run instead of .build/<config>/courier (implies --no-build)")
    args = parser.parse_args()
    for tool in ("smtp-sink", "smtp-source", "postfix"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: install Debian's postfix (sudo /work/shared/anchors/install.sh)")
    if os.geteuid() != 0:
        sys.exit("run as root (private Postfix instance, smtp-sink -u nobody)")
    config = "debug" if args.debug else "release"
    if not args.no_build and not args.courier and args.only != "postfix":
        subprocess.run(["swift", "build", "-c", config, "--product", "courier"], cwd=ROOT, check=True)
    binary = pathlib.Path(args.courier) if args.courier else ROOT / ".build" / config / "courier"
    kinds = [args.only] if args.only else ["postfix", "ours"]
    modes = ["end-to-end", "queued"] if args.mode == "both" else [args.mode]
    for mode in modes:
        results = {kind: [] for kind in kinds}
        for round_ in range(args.repeat):
            for kind in kinds:
                result = run_once(kind, args, binary, queued=mode == "queued")
                results[kind].append(result)
                print(f"{mode} run {round_ + 1} {kind}: " + ", ".join(f"{k} {v:.2f}" for k, v in result.items()),
                      flush=True)
        table(mode, args, config, kinds, results)


def table(mode, args, config, kinds, results):
    load = open("/proc/loadavg").read().split()[:3]
    print(f"\noutbound, {mode}: {args.messages} msgs x {args.size} B to {args.destinations} smtp-sink destinations, "
          f"{args.destinations}x{args.sessions} injecting sessions, {config} build, median of {args.repeat}, "
          + (f"our esmtptimeoutkeepalive {args.keepalive}, " if args.keepalive is not None else "") +
          f"load {' '.join(load)}")
    metrics = list(results[kinds[0]][0].keys())
    header = "| metric | " + " | ".join(kinds) + (" | ours/postfix |" if len(kinds) == 2 else " |")
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))
    for metric in metrics:
        values = [statistics.median(r[metric] for r in results[kind]) for kind in kinds]
        row = f"| {metric} | " + " | ".join(f"{v:.2f}" for v in values)
        if len(kinds) == 2:
            ratio = values[1] / values[0] if values[0] else float("nan")
            row += f" | {ratio:.2f}x"
        print(row + " |")
    print(flush=True)


if __name__ == "__main__":
    main()
