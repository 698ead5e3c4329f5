#!/usr/bin/env python3
"""Sequential RETR latency of one POP3 session against a running server (not part of the test
run): logs in, RETRs messages 2..N+1 one after another on a plain blocking socket (as a
downloading client does) and prints the wall time per RETR, the server's CPU time per RETR and
the voluntary context switches of all its threads per RETR (thread-pool round trips show there).

  Benchmarks/pop3-retr-latency.py PORT PID [N] [--user demo --password demo]

PID is the server process (e.g. `ss -Hltnp 'sport = :PORT'`); the maildrop needs N+1 messages.
"""
import argparse
import glob
import socket
import time


def switches(pid):
    total = 0
    for path in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(__import__("os").sysconf("SC_CLK_TCK"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("pid", type=int)
    ap.add_argument("n", type=int, nargs="?", default=3000)
    ap.add_argument("--user", default="demo")
    ap.add_argument("--password", default="demo")
    a = ap.parse_args()
    sock = socket.create_connection(("127.0.0.1", a.port))
    f = sock.makefile("rb")
    f.readline()

    def command(text, multi=False):
        sock.sendall(text.encode() + b"\r\n")
        line = f.readline()
        if not line.startswith(b"+OK"):
            raise SystemExit("%s -> %r" % (text.split()[0], line))
        if multi:
            while f.readline() != b".\r\n":
                pass

    command("USER " + a.user)
    command("PASS " + a.password)
    command("RETR 1", True)
    s0, c0, t0 = switches(a.pid), cpu_seconds(a.pid), time.time()
    for i in range(2, a.n + 2):
        command("RETR %d" % i, True)
    t1, c1, s1 = time.time(), cpu_seconds(a.pid), switches(a.pid)
    command("QUIT")
    print("%d RETRs: %.3f ms wall, %.3f ms server cpu, %.1f voluntary context switches per RETR"
          % (a.n, (t1 - t0) * 1000 / a.n, (c1 - c0) * 1000 / a.n, (s1 - s0) / a.n))


if __name__ == "__main__":
    main()
