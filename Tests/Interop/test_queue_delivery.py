"""The queue end to end: sendmail enqueues into var/queue (daemon running or not),
`courier start` delivers into the demo Maildir, and a kill -9 loses or repeats nothing."""
import os
import pathlib
import random
import signal
import subprocess
import time

import pytest


def make_demo(bin_dir, tmp_path):
    root = tmp_path / "site"
    subprocess.run([str(bin_dir / "courier"), "init", "--root", str(root), "--domain", "example.test", "--demo",
                    "--port-offset", str(random.randrange(20000, 30000))],
                   check=True, capture_output=True)
    return root


def sendmail(bin_dir, root, message: bytes, *args):
    env = dict(os.environ, COURIER_ROOT=str(root))
    result = subprocess.run([str(bin_dir / "courier"), "sendmail", *args], input=message, env=env,
                            capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result


def start(bin_dir, root, log):
    return subprocess.Popen([str(bin_dir / "courier"), "start", "--root", str(root)],
                            stdout=log, stderr=subprocess.STDOUT)


def maildir_messages(root):
    new = pathlib.Path(root) / "mail" / "example.test" / "demo" / "Maildir" / "new"
    cur = new.parent / "cur"
    return [p.read_bytes() for d in (new, cur) if d.exists() for p in sorted(d.iterdir())]


def wait_for_count(root, count, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = maildir_messages(root)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    return maildir_messages(root)


def strip_trace(delivered: bytes) -> bytes:
    """Removes the trace headers delivery and sendmail add at the top (Delivered-To,
    Return-Path, Received), nothing else."""
    lines = delivered.split(b"\n")
    while lines and lines[0].split(b":")[0].lower() in (b"delivered-to", b"return-path", b"received"):
        lines.pop(0)
    return b"\n".join(lines)


MESSAGE = (b"From: Alice <a@b>\nTo: demo@example.test\nSubject: queue test\n"
           b"Date: Thu, 26 Nov 2026 12:00:00 +0000\nMessage-ID: <one@b>\n\nHello,\n.\nFrom the body\n\n")


def test_sendmail_then_start_delivers_byte_for_byte(bin_dir, tmp_path):
    root = make_demo(bin_dir, tmp_path)
    sendmail(bin_dir, root, MESSAGE, "-f", "a@b", "demo@example.test")
    with open(tmp_path / "daemon.log", "wb") as log:
        daemon = start(bin_dir, root, log)
        try:
            found = wait_for_count(root, 1)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=10)
    assert len(found) == 1
    assert found[0].startswith(b"Delivered-To: demo@example.test\nReturn-Path: <a@b>\nReceived: ")
    assert strip_trace(found[0]) == MESSAGE
    log_text = (tmp_path / "daemon.log").read_text()
    assert "accepted" in log_text and "delivered" in log_text and "completed" in log_text
    mailq = subprocess.run([str(bin_dir / "courier"), "mailq"], env=dict(os.environ, COURIER_ROOT=str(root)),
                           capture_output=True, text=True)
    assert mailq.stdout.endswith("0 messages in the queue.\n")


def test_kill_9_loses_and_repeats_nothing(bin_dir, tmp_path):
    root = make_demo(bin_dir, tmp_path)
    count = 40
    with open(tmp_path / "daemon1.log", "wb") as log:
        daemon = start(bin_dir, root, log)
        try:
            for number in range(count):
                body = b"To: demo@example.test\nSubject: n%d\nMessage-ID: <n%d@b>\n\nmessage %d\n" % (number, number, number)
                sendmail(bin_dir, root, body, "-f", "a@b", "demo@example.test")
                if number == count // 2:
                    time.sleep(0.2)
        finally:
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(timeout=10)
    # Acknowledged while the daemon is down.
    sendmail(bin_dir, root, b"To: demo@example.test\nSubject: late\nMessage-ID: <late@b>\n\nlate\n",
             "-f", "a@b", "demo@example.test")
    with open(tmp_path / "daemon2.log", "wb") as log:
        daemon = start(bin_dir, root, log)
        try:
            found = wait_for_count(root, count + 1)
            time.sleep(1.5)  # anything delivered twice would show up now
            found = maildir_messages(root)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=10)
    ids = sorted(line for message in found for line in message.split(b"\n") if line.startswith(b"Message-ID: "))
    expected = sorted([b"Message-ID: <n%d@b>" % n for n in range(count)] + [b"Message-ID: <late@b>"])
    assert ids == expected
