#!/usr/bin/env python3
"""Table of bench-server-bound.sh: reads its log directory (files KIND.PROTO.TARGET.REP.J, one per
client process; KIND is c or python) and prints, per protocol, operation and client, the median
over repetitions of: ops/s of ours, Dovecot and Courier (summed over the J parallel processes),
ours / the better anchor, the server's CPU per op and the client's CPU per op (ms) for each target.
Server CPU per op: the first process's measured server CPU divided by the ops of all processes
(every process samples the same server over the same window)."""
import os
import re
import statistics
import sys

LINE = re.compile(r"(imap|pop3)\s+\S+\s+(\S+)\s+(\d+)\s+ops\s+in\s+([\d.]+)\s+s\s+=\s+([\d.]+)\s+ops/s")
SERVER = re.compile(r"server cpu ([\d.]+) ms/op \(server (\d+)%, client (\d+)% of a core\)")
CLIENT = re.compile(r"client cpu ([\d.]+) ms/op")
TARGETS = ["ours", "dovecot", "courier"]


def main(logdir):
    runs = {}  # (proto, op, kind, target, rep) -> list of per-process dicts (j order)
    for fn in sorted(os.listdir(logdir)):
        parts = fn.split(".")
        if len(parts) != 5:
            continue
        kind, proto, target, rep, j = parts
        for line in open(os.path.join(logdir, fn), errors="replace"):
            m = LINE.match(line)
            if not m:
                continue
            n, secs, rate = int(m.group(3)), float(m.group(4)), float(m.group(5))
            d = {"j": int(j), "n": n, "secs": secs, "rate": rate, "server_ms": None, "client_ms": None}
            s = SERVER.search(line)
            if s:
                d["server_ms"] = float(s.group(1))
                d["client_ms"] = int(s.group(3)) / 100.0 * secs * 1000 / max(n, 1)
            c = CLIENT.search(line)
            if c:
                d["client_ms"] = float(c.group(1))
            runs.setdefault((proto, m.group(2), kind, target, int(rep)), []).append(d)

    agg = {}  # (proto, op, kind, target) -> {"rate": [...], "server": [...], "client": [...]}
    order = []
    for (proto, op, kind, target, rep), ds in sorted(runs.items(), key=lambda kv: kv[0][4]):
        ds.sort(key=lambda d: d["j"])
        total = sum(d["n"] for d in ds)
        a = agg.setdefault((proto, op, kind, target), {"rate": [], "server": [], "client": []})
        if (proto, op, kind) not in order:
            order.append((proto, op, kind))
        a["rate"].append(sum(d["rate"] for d in ds))
        if ds[0]["server_ms"] is not None:
            a["server"].append(ds[0]["server_ms"] * ds[0]["n"] / max(total, 1))
        cl = [d["client_ms"] * d["n"] for d in ds if d["client_ms"] is not None]
        if cl:
            a["client"].append(sum(cl) / max(total, 1))

    def med(v):
        return statistics.median(v) if v else None

    def fmt(v, digits):
        return "-" if v is None else "%.*f" % (digits, v)

    for proto in ("imap", "pop3"):
        rows = [(p, op, kind) for (p, op, kind) in order if p == proto]
        if not rows:
            continue
        reps = max(len(agg[(proto, op, kind, t)]["rate"]) for (p, op, kind) in rows for t in TARGETS
                   if (proto, op, kind, t) in agg)
        print()
        print("%s: median of %d run(s); ratio = ours / the better anchor (ops/s: above 1 is better)" % (proto.upper(), reps))
        print()
        print("| op | client | ours ops/s | Dovecot | Courier | ours / best | server ms/op ours / Dovecot / Courier"
              " | client ms/op ours / Dovecot / Courier |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        rows.sort(key=lambda r: ([o for (p, o, k) in order if p == proto].index(r[1]), r[2]))
        for (_, op, kind) in rows:
            vals = {t: agg.get((proto, op, kind, t)) for t in TARGETS}
            rate = {t: med(v["rate"]) if v else None for t, v in vals.items()}
            best = max([rate[t] for t in ("dovecot", "courier") if rate[t] is not None], default=None)
            ratio = "%.2fx" % (rate["ours"] / best) if rate["ours"] and best else "-"
            srv = " / ".join(fmt(med(vals[t]["server"]) if vals[t] else None, 3) for t in TARGETS)
            cli = " / ".join(fmt(med(vals[t]["client"]) if vals[t] else None, 3) for t in TARGETS)
            print("| %s | %s | %s | %s | %s | **%s** | %s | %s |" % (
                op, "C" if kind == "c" else "Python", fmt(rate["ours"], 1), fmt(rate["dovecot"], 1),
                fmt(rate["courier"], 1), ratio, srv, cli))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: server-bound-table.py LOGDIR")
    main(sys.argv[1])
