#!/usr/bin/env python3
"""Times the IMAP hot paths of our server on one big INBOX, without the anchors.

usage: Benchmarks/imap-bigfolder.py [N] [--bin-dir DIR] [--rounds R] [--tiny] [--settle S] [--select-only]
                                    [--idle K]

Starts a real `courier start` demo site on a temporary root (free ports, as the interop tests
do), fills its INBOX with N messages (/work/shared/anchors/fill-maildir.py, seed 1), then over
one imaplib connection times, R rounds each: SELECT INBOX (the first one is the cold open),
UID FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE), UID FETCH <uid> BODY.PEEK[] for 50 UIDs,
UID SEARCH FROM/SUBJECT/UNSEEN/SINCE/FLAGGED (the bench-imap.py searches). Prints the
median and the first (cold) time of each in milliseconds, and the server's CPU of each round
(from /proc/<pid>/stat, in clock ticks). With --idle K, then opens K more connections that
log in and SELECT INBOX and prints the server's PSS growth per connection (/proc/<pid>/smaps_rollup),
then again after one session stored a flag and the others ran NOOP, and once the folder settled.
A measurement tool, not a test.
"""
import argparse
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "Interop"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=10000)
    parser.add_argument("--bin-dir", default=str(REPO / ".build" / "debug"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tiny", action="store_true",
                        help="N small messages written here instead of fill-maildir.py (for 100,000)")
    parser.add_argument("--select-only", action="store_true")
    parser.add_argument("--settle", type=float, default=0,
                        help="seconds to wait before each round (a folder's snapshot is trusted once 2 s old)")
    parser.add_argument("--idle", type=int, default=0,
                        help="then open this many sessions with INBOX selected and report PSS per session")
    args = parser.parse_args()
    import os
    os.environ["COURIER_BIN_DIR"] = args.bin_dir
    import test_imap_server as t  # the interop tests' Site: a real `courier start`

    with tempfile.TemporaryDirectory() as tmp:
        limits = {("imapd", "MAXPERIP"): args.idle + 10, ("imapd", "MAXDAEMONS"): args.idle + 50}
        site = t.Site(pathlib.Path(tmp) / "site", settings=limits if args.idle else None)
        try:
            if args.tiny:
                for n in range(args.count):
                    name = f"{1700000000 + n}.M{n}P1.bench,S=120:2,S"
                    (site.maildir / "cur" / name).write_text(
                        f"From: sender{n % 97}@example.test\nTo: demo@example.test\nSubject: message {n}\n"
                        f"Date: Mon, 2 Feb 2026 10:00:00 +0000\n\nbody {n}\n")
            else:
                subprocess.run([sys.executable, "/work/shared/anchors/fill-maildir.py", str(site.maildir),
                                str(args.count), "--seed", "1", "--clear"], check=True, stdout=subprocess.DEVNULL)
            import imaplib
            client = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=900)
            client.login("demo", "demo")
            results = {}

            pid = site.proc.pid
            ticks = os.sysconf("SC_CLK_TCK")
            cpu = {}

            def cpu_ms():
                fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) * 1000 / ticks

            def pss_kb(field="Pss:"):
                for line in pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith(field):
                        return int(line.split()[1])
                return 0

            def anon_kb():
                # Pss_Anon: the process's own memory; Pss also counts its share of the Swift
                # libraries, which moves by megabytes as other processes map and unmap them.
                return pss_kb("Pss_Anon:")

            def timed(name, action):
                start = time.perf_counter()
                cpu_start = cpu_ms()
                value = action()
                cpu.setdefault(name, []).append(cpu_ms() - cpu_start)
                results.setdefault(name, []).append((time.perf_counter() - start) * 1000)
                print(f"  {name} {results[name][-1]:.1f} ms", flush=True)
                return value

            uids = []
            for _ in range(args.rounds):
                time.sleep(args.settle)
                timed("select", lambda: client.select("INBOX"))
                if args.select_only:
                    continue
                typ, data = timed("fetch_all", lambda: client.uid("FETCH", "1:*", "(FLAGS UID RFC822.SIZE ENVELOPE)"))
                assert typ == "OK", data
                if not uids:
                    typ, data = client.uid("SEARCH", "ALL")
                    uids = data[0].split()
                picks = random.Random(1).sample(uids, min(50, len(uids)))

                def bodies():
                    for u in picks:
                        typ, data = client.uid("FETCH", u, "(BODY.PEEK[])")
                        assert typ == "OK", data
                timed("body x50", bodies)

                def searches():
                    for criteria in (("FROM", '"alice"'), ("SUBJECT", '"report"'), ("UNSEEN",),
                                     ("SINCE", "1-Jan-2024"), ("FLAGGED",)):
                        typ, data = client.uid("SEARCH", *criteria)
                        assert typ == "OK", data
                timed("search x5", searches)
            idle_line = None
            if args.idle:
                time.sleep(3)
                before, anon_before = pss_kb(), anon_kb()
                sessions = []
                for _ in range(args.idle):
                    c = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=900)
                    c.login("demo", "demo")
                    c.select("INBOX")
                    sessions.append(c)
                time.sleep(2)
                after, anon_after = pss_kb(), anon_kb()
                idle_line = (f"idle      {args.idle} sessions with INBOX selected: "
                             f"{(after - before) / args.idle:.1f} kB PSS each ({before} -> {after} kB), "
                             f"{(anon_after - anon_before) / args.idle:.1f} kB anonymous PSS each "
                             f"({anon_before} -> {anon_after} kB)")
                # One session changes a flag: every other session's next NOOP copies the list;
                # once the folder is settled again, their next UID commands share one list again.
                client.store("1", "+FLAGS", "(\\Flagged)")
                for c in sessions:
                    c.noop()
                time.sleep(2)
                copied, anon_copied = pss_kb(), anon_kb()
                for _ in range(2):
                    time.sleep(3)
                    for c in sessions:
                        c.uid("FETCH", "1", "(FLAGS)")
                time.sleep(2)
                shared, anon_shared = pss_kb(), anon_kb()
                idle_line += (f"\nafter a flag change: {(copied - before) / args.idle:.1f} kB each after NOOP,"
                              f" {(shared - before) / args.idle:.1f} kB each once settled (UID FETCH);"
                              f" anonymous PSS {(anon_copied - anon_before) / args.idle:.1f} /"
                              f" {(anon_shared - anon_before) / args.idle:.1f} kB each")
                for c in sessions:
                    c.logout()
            client.logout()
            print(f"{args.count} messages, {args.rounds} rounds, {args.bin_dir}")
            for name, times in results.items():
                warm = cpu[name][1:] or cpu[name]
                print(f"{name:10} first {times[0]:9.1f} ms   median {statistics.median(times):9.1f} ms"
                      f"   server cpu median {statistics.median(warm):6.1f} ms of warm rounds"
                      f", mean of the last half {statistics.mean(cpu[name][len(cpu[name]) // 2:]):.2f} ms"
                      f" (each: {' '.join(f'{c:.0f}' for c in cpu[name][:12])}{' ...' if len(cpu[name]) > 12 else ''};"
                      f" clock ticks of {1000 / ticks:.0f} ms)")
            if idle_line:
                print(idle_line)
        finally:
            site.stop()


if __name__ == "__main__":
    main()
