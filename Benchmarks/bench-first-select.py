#!/usr/bin/env python3
"""The first SELECT of a restarted server, repeated: our `courier start` only (no anchors).

usage: Benchmarks/bench-first-select.py [--size N] [--rounds R] [--mode warm|rescan] [--bin-dir DIR] [--perf]

One INBOX of N messages (written once under --keep, as bench-folder-open.py writes it) is
opened cold, then R times: wait for the folder to settle, restart the server, LOGIN, time
`SELECT INBOX` (wall, from the client) and the server's CPU over it (all threads, ns, from
/proc/<pid>/task/*/schedstat), then FETCH 1:* (UID FLAGS RFC822.SIZE). `--mode rescan` removes
`courierswiftsnapshot` before each restart (a full scan of cur/ and the uid database, as after
any change). `--perf` records the server with `perf record -g` during the SELECT (FETCH is
skipped) into /tmp/bench-first-select-<mode>-<round>.data. A measurement tool, not a test;
needs a release build. The first warm round after the cold open is usually a rescan (the
cold open's stamps were not settled, so it saved no snapshot).
"""
import argparse
import importlib.util
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "Interop"))
spec = importlib.util.spec_from_file_location("bfo", REPO / "Benchmarks" / "bench-folder-open.py")
bfo = importlib.util.module_from_spec(spec); spec.loader.exec_module(bfo)

p = argparse.ArgumentParser()
p.add_argument("--size", type=int, default=100000)
p.add_argument("--rounds", type=int, default=5)
p.add_argument("--bin-dir", default=str(REPO / ".build" / "release"))
p.add_argument("--perf", action="store_true")
p.add_argument("--mode", default="warm", choices=["warm", "rescan"])
p.add_argument("--keep", default="/var/tmp/bench-first-select")
a = p.parse_args()
os.environ["COURIER_BIN_DIR"] = a.bin_dir
keep = pathlib.Path(a.keep); keep.mkdir(parents=True, exist_ok=True); os.chmod(keep, 0o755)
master = keep / f"master-{a.size}"
if not master.exists():
    bfo.write_folder(master, a.size)
site_root = keep / "site"
if site_root.exists(): shutil.rmtree(site_root)
ours = bfo.Ours(site_root)
ours.load(master)
ours.restart()
r = ours.run()  # cold
print(f"cold SELECT {r[0]:.1f} FETCH {r[1]:.1f} cpu {r[4]:.0f}", flush=True)
sel = []
for i in range(a.rounds):
    if a.mode == "rescan":
        for f in ("courierswiftsnapshot",):
            try: os.unlink(ours.maildir / f)
            except FileNotFoundError: pass
    time.sleep(3.1)   # stamps settle after 2 whole seconds
    ours.restart()
    perf = None
    if a.perf:
        perf = subprocess.Popen(["perf", "record", "-F", "4999", "-g", "-o", f"/tmp/bench-first-select-{a.mode}-{i}.data", "-p", str(ours.site.proc.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    sock = socket.create_connection(("127.0.0.1", ours.site.ports["imapd"]), timeout=900)
    s = bfo.Session(sock.sendall, sock.recv); s.read_line(); s.command("l", "LOGIN demo demo")
    def ns():
        t = 0
        for d in pathlib.Path(f"/proc/{ours.site.proc.pid}/task").iterdir():
            try: t += int((d / "schedstat").read_text().split()[0])
            except Exception: pass
        return t / 1e6
    c0 = ns()
    ms, _ = s.command("a", "SELECT INBOX")
    c1 = ns()
    fms = 0.0
    if not a.perf:
        fms, data = s.command("b", "FETCH 1:* (UID FLAGS RFC822.SIZE)")
    sock.close()
    if perf:
        perf.send_signal(2); perf.wait()
    sel.append(ms)
    print(f"{a.mode} SELECT {ms:.1f} ms (cpu {c1-c0:.1f}) FETCH {fms:.1f}", flush=True)
ours.stop()
sel.sort()
print("median SELECT", sel[len(sel)//2], "min", sel[0])
