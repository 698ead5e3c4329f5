#!/usr/bin/env python3
"""Times the IMAP hot paths of our server on one big INBOX, without the anchors.

usage: Benchmarks/imap-bigfolder.py [N] [--bin-dir DIR] [--rounds R] [--tiny] [--settle S] [--select-only]

Starts a real `courier start` demo site on a temporary root (free ports, as the interop tests
do), fills its INBOX with N messages (/work/shared/anchors/fill-maildir.py, seed 1), then over
one imaplib connection times, R rounds each: SELECT INBOX (the first one is the cold open),
UID FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE), UID FETCH <uid> BODY.PEEK[] for 50 UIDs,
UID SEARCH FROM/SUBJECT/UNSEEN/SINCE/FLAGGED (the bench-imap.py searches). Prints the
median and the first (cold) time of each in milliseconds. A measurement tool, not a test.
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
    args = parser.parse_args()
    import os
    os.environ["COURIER_BIN_DIR"] = args.bin_dir
    import test_imap_server as t  # the interop tests' Site: a real `courier start`

    with tempfile.TemporaryDirectory() as tmp:
        site = t.Site(pathlib.Path(tmp) / "site")
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

            def timed(name, action):
                start = time.perf_counter()
                value = action()
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
            client.logout()
            print(f"{args.count} messages, {args.rounds} rounds, {args.bin_dir}")
            for name, times in results.items():
                print(f"{name:10} first {times[0]:9.1f} ms   median {statistics.median(times):9.1f} ms")
        finally:
            site.stop()


if __name__ == "__main__":
    main()
