"""Crash test: many smtplib sessions send to the demo user while the daemon is killed with
SIGKILL at random moments and restarted, round after round. Afterwards every message that got
`250` must be in the Maildir (counted by Message-ID); duplicates are counted and reported.

In the test run: CRASH_ROUNDS rounds (default 20). By hand, N rounds:
    python3 Tests/Interop/test_crash.py 100
"""
import collections
import os
import pathlib
import random
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from courier_site import COURIER, CourierSite, set_variable  # noqa: E402

SESSIONS = 8


class CrashSite(CourierSite):
    """A demo site with esmtpd only; `start()` logs to daemon.log and waits for SMTP to answer."""

    def __init__(self, root):
        super().__init__(root, services=("esmtpd",))
        self.port = self.ports["esmtpd"]
        set_variable(self.etc / "esmtpd", "MAXPERIP", 50)
        self.log = open(self.root / "daemon.log", "ab")

    def start(self):
        self.log.write(b"--- start\n")
        self.log.flush()
        self.proc = subprocess.Popen([str(COURIER), "start", "--root", str(self.root)], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as client:
                    client.noop()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"courier start exited with {self.proc.returncode}")
                time.sleep(0.05)
        raise RuntimeError("courier start did not listen")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def delivered_ids(self):
        maildir = self.root / "mail" / "example.test" / "demo" / "Maildir"
        counts = collections.Counter()
        for sub in ("new", "cur"):
            for path in (maildir / sub).glob("*"):
                match = re.search(rb"^Message-ID: <([^>]+)>", path.read_bytes(), re.M | re.I)
                if match:
                    counts[match.group(1).decode()] += 1
        return counts

    def queue_empty(self):
        env = dict(os.environ, COURIER_ROOT=str(self.root))
        out = subprocess.run([str(COURIER), "mailq"], env=env, capture_output=True, text=True).stdout
        return out.endswith("0 messages in the queue.\n")


def sender(site, round_number, session, stop, acknowledged, lock):
    """One client: sessions of a few messages each until told to stop or the server dies."""
    n = 0
    while not stop.is_set():
        try:
            with smtplib.SMTP("127.0.0.1", site.port, timeout=10) as client:
                for _ in range(random.randint(1, 5)):
                    if stop.is_set():
                        break
                    n += 1
                    message_id = f"crash-{round_number}-{session}-{n}@test"
                    body = (f"From: crash@client.example\r\nTo: demo@example.test\r\n"
                            f"Message-ID: <{message_id}>\r\nSubject: crash {round_number}\r\n\r\n"
                            + "payload line\r\n" * random.randint(1, 50))
                    client.sendmail("crash@client.example", ["demo@example.test"], body)
                    with lock:   # sendmail returned: the server said 250
                        acknowledged.add(message_id)
        except (OSError, smtplib.SMTPException):
            time.sleep(0.02)


def run(rounds, root, report=print):
    site = CrashSite(root)
    acknowledged = set()
    lock = threading.Lock()
    try:
        for round_number in range(rounds):
            site.start()
            stop = threading.Event()
            threads = [threading.Thread(target=sender, args=(site, round_number, s, stop, acknowledged, lock))
                       for s in range(SESSIONS)]
            for thread in threads:
                thread.start()
            time.sleep(random.uniform(0.3, 2.0))
            site.kill()       # SIGKILL at a random moment: mid-DATA, mid-commit, mid-delivery
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        # A last, clean run delivers what is still queued; it may take a while on a loaded
        # machine, so the wait ends only when nothing moved for a minute.
        site.start()
        last_progress, last_count = time.monotonic(), -1
        while time.monotonic() - last_progress < 60:
            delivered = site.delivered_ids()
            if acknowledged <= set(delivered) and site.queue_empty():
                break
            if len(delivered) != last_count:
                last_progress, last_count = time.monotonic(), len(delivered)
            time.sleep(0.5)
        site.stop()
    finally:
        site.kill()
    delivered = site.delivered_ids()
    missing = sorted(acknowledged - set(delivered))
    duplicates = {k: v for k, v in delivered.items() if v > 1}
    unacknowledged_but_delivered = len(set(delivered) - acknowledged)
    queue_state = "empty" if site.queue_empty() else "NOT empty (mailq lists what is left)"
    report(f"crash test: {rounds} rounds, {len(acknowledged)} messages got 250, {len(delivered)} distinct delivered, "
           f"queue {queue_state}, "
           f"{len(missing)} missing, {len(duplicates)} delivered twice or more, "
           f"{unacknowledged_but_delivered} delivered without the client seeing 250 (killed before the reply)")
    return missing, duplicates, acknowledged


def test_crash_rounds(tmp_path):
    if not COURIER.exists():
        raise AssertionError(f"{COURIER} does not exist: run swift build first")
    rounds = int(os.environ.get("CRASH_ROUNDS", "20"))
    missing, duplicates, acknowledged = run(rounds, tmp_path / "site")
    assert acknowledged, "no message was acknowledged at all"
    assert missing == [], f"acknowledged but never delivered: {missing[:20]}"
    assert duplicates == {}, f"delivered more than once: {list(duplicates.items())[:20]}"


if __name__ == "__main__":
    import tempfile
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    if len(sys.argv) > 2:      # keep the site (daemon.log, queue, Maildir) for a look afterwards
        missing, duplicates, _ = run(count, pathlib.Path(sys.argv[2]))
    else:
        with tempfile.TemporaryDirectory() as directory:
            missing, duplicates, _ = run(count, pathlib.Path(directory) / "site")
    if missing:
        print("missing:", " ".join(missing[:50]))
    sys.exit(1 if missing else 0)
