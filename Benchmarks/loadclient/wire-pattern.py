#!/usr/bin/env python3
"""How a server writes its answers: runs strace on the server's process tree (write, writev,
sendmsg, sendto) while one client session sends a few commands, one at a time, and prints per
command: answer bytes, how many write calls carried it and their sizes, how many reads the
client needed, and the time from the first to the last byte (a ~40 ms gap there is the Nagle /
delayed-ACK stall). Saves each raw answer as OUTDIR/NAME.N so two servers' bytes can be diffed.

  wire-pattern.py imap|pop3 HOST:PORT --pid SERVER_PID --name NAME --outdir DIR [--quickack] CMD...

Example: wire-pattern.py pop3 127.0.0.1:2110 --pid 123 --name ours --outdir /tmp/w LIST UIDL "RETR 1"
Needs root (strace -p). A diagnosis tool for Docs/benchmarks.md, not a benchmark."""
import argparse
import os
import re
import socket
import subprocess
import sys
import time

CALL = re.compile(r"^(\d+)\s+(\d+):(\d+):([\d.]+)\s+(write|writev|sendmsg|sendto)\((\d+)(<.*?>)?, .*=\s+(-?\d+)")


def read_answer(sock, proto, tag, multi, quickack):
    """Reads one answer; returns (bytes, recv count, t_first, t_last)."""
    buf, n, t_first = b"", 0, None
    while True:
        if quickack:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed")
        t = time.time()
        t_first = t_first or t
        n += 1
        buf += chunk
        if proto == "pop3":
            if not multi and b"\r\n" in buf:
                return buf, n, t_first, t
            if multi and (buf.endswith(b"\r\n.\r\n") or buf.startswith(b"-ERR") and buf.endswith(b"\r\n")):
                return buf, n, t_first, t
        else:
            # the tagged line at the end (literals can't end with our tag line and CRLF)
            if buf.endswith(b"\r\n"):
                last = buf[:-2].rsplit(b"\r\n", 1)[-1]
                if last.startswith(tag + b" "):
                    return buf, n, t_first, t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("proto", choices=["imap", "pop3"])
    ap.add_argument("target")
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--quickack", action="store_true")
    ap.add_argument("commands", nargs="+")
    a = ap.parse_args()
    host, _, port = a.target.rpartition(":")
    os.makedirs(a.outdir, exist_ok=True)
    trace = os.path.join(a.outdir, a.name + ".strace")
    st = subprocess.Popen(["strace", "-f", "-tt", "-qq", "-e", "trace=write,writev,sendmsg,sendto", "-e", "signal=none",
                           "-s", "0", "-yy", "-o", trace, "-p", str(a.pid)], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.recv(4096)  # greeting
    tagn = [0]

    def cmd(text, multi=False):
        tagn[0] += 1
        tag = b"w%d" % tagn[0]
        line = (tag + b" " if a.proto == "imap" else b"") + text.encode() + b"\r\n"
        t0 = time.time()
        s.sendall(line)
        data, nrecv, t1, t2 = read_answer(s, a.proto, tag, multi, a.quickack)
        return data, nrecv, t0, t1, t2

    if a.proto == "imap":
        cmd('LOGIN "demo" "demo"')
    else:
        cmd("USER demo")
        cmd("PASS demo")
    time.sleep(0.3)
    windows = []
    for i, c in enumerate(a.commands):
        multi = a.proto == "pop3" and c.split()[0].upper() in ("LIST", "UIDL", "RETR", "TOP", "CAPA") and len(c.split()) == 1 or \
            (a.proto == "pop3" and c.split()[0].upper() in ("RETR", "TOP"))
        data, nrecv, t0, t1, t2 = cmd(c, multi)
        with open(os.path.join(a.outdir, "%s.%d" % (a.name, i)), "wb") as f:
            f.write(data)
        windows.append((c, len(data), nrecv, t0, t1, t2))
        time.sleep(0.3)
    s.sendall((b"z LOGOUT\r\n" if a.proto == "imap" else b"QUIT\r\n"))
    time.sleep(0.3)
    s.close()
    time.sleep(0.5)
    st.terminate()
    st.wait()
    calls = []
    for line in open(trace):
        m = CALL.match(line)
        if m:
            t = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
            what = m.group(7) or ""
            kind = "tcp" if ("TCP" in what or "socket" in what) else ("eventfd" if "eventfd" in what else "other")
            calls.append((t, int(m.group(1)), m.group(5), kind, int(m.group(8))))
    day0 = time.mktime(time.localtime()[:3] + (0, 0, 0, 0, 0, -1))
    for (c, nbytes, nrecv, t0, t1, t2) in windows:
        lo, hi = t0 - day0 - 0.001, t2 - day0 + 0.001
        window = [x for x in calls if lo <= x[0] <= hi and x[4] > 0]
        mine = [x for x in window if x[3] == "tcp"]
        wakeups = len([x for x in window if x[3] == "eventfd"])
        files = len([x for x in window if x[3] == "other"])
        sizes = [x[4] for x in mine]
        kinds = sorted(set(x[2] for x in mine))
        print("%s %-8s %-22s %8d bytes  %3d socket writes (%s; sizes %s), %d eventfd wakeups, %d other writes  "
              "%3d client reads  first byte %.2f ms, first->last byte %.2f ms" % (
                  a.proto, a.name, c, nbytes, len(mine), "/".join(kinds) or "-", summarize(sizes), wakeups, files,
                  nrecv, (t1 - t0) * 1000, (t2 - t1) * 1000))


def summarize(sizes):
    if len(sizes) <= 6:
        return ",".join(map(str, sizes)) or "-"
    return "%s,... (min %d, max %d)" % (",".join(map(str, sizes[:4])), min(sizes), max(sizes))


if __name__ == "__main__":
    main()
