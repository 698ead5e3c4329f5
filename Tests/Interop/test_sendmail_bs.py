"""`sendmail -bs`: an SMTP session on a pipe, driven by Debian's swaks (`--pipe`), with and
without the daemon running; the message reaches the demo Maildir (spec/mta.md §6.1)."""
import os
import subprocess

import pytest

from test_smtp_server import COURIER, Site, site  # noqa: F401 (the shared pytest fixture)


def swaks(root, *args):
    env = dict(os.environ, COURIER_ROOT=str(root))
    return subprocess.run(["swaks", "--pipe", f"{COURIER} sendmail -bs", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_swaks_over_a_pipe_delivers(site):
    result = swaks(site.root, "--from", "someone@client.example", "--to", "demo@example.test",
                   "--header", "Subject: marker-bs-pipe", "--body", "hello over a pipe")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<-  220 " in result.stdout and "<-  250 2.0.0 Ok. " in result.stdout
    stored = site.messages_containing("marker-bs-pipe")
    assert len(stored) == 1
    data = stored[0].read_bytes()
    assert b"hello over a pipe" in data
    assert b"Return-Path: <someone@client.example>" in data


def test_two_messages_in_one_session_and_errors(site):
    script = ("EHLO local\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
              "Subject: marker-bs-one\r\n\r\none\r\n.\r\n"
              "RCPT TO:<demo@example.test>\r\n"                 # out of sequence
              "MAIL FROM:<a@client.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
              "Subject: marker-bs-two\r\n\r\ntwo\r\n.\r\nQUIT\r\n")
    env = dict(os.environ, COURIER_ROOT=str(site.root))
    result = subprocess.run([str(COURIER), "sendmail", "-bs"], input=script.encode(), env=env,
                            capture_output=True, timeout=60)
    codes = [line[:3] for line in result.stdout.decode().split("\r\n") if line[:3].isdigit() and line[3:4] == " "]
    assert codes == ["220", "250", "250", "250", "354", "250", "502", "250", "250", "354", "250", "221"], result.stdout
    one, two = site.messages_containing("marker-bs-one"), site.messages_containing("marker-bs-two")
    assert len(one) == 1 and len(two) == 1
    ids = [line for p in one + two for line in p.read_text().splitlines() if line.startswith("Message-ID:")]
    assert len(ids) == 2 and ids[0] != ids[1]


def test_without_the_daemon_the_message_waits_in_the_queue(tmp_path):
    root = tmp_path / "site"
    subprocess.run([str(COURIER), "init", "--root", str(root), "--demo"], check=True, capture_output=True)
    result = swaks(root, "--from", "someone@client.example", "--to", "demo@example.test",
                   "--header", "Subject: marker-bs-offline")
    assert result.returncode == 0, result.stdout + result.stderr
    assert any((root / "var" / "queue" / "incoming").iterdir())
    # A vanished client (no DATA end) leaves nothing behind.
    env = dict(os.environ, COURIER_ROOT=str(root))
    subprocess.run([str(COURIER), "sendmail", "-bs"], input=b"HELO x\r\nMAIL FROM:<a@b.example>\r\n"
                   b"RCPT TO:<demo@example.test>\r\nDATA\r\nSubject: marker-bs-cut\r\n\r\npartial",
                   env=env, capture_output=True, timeout=60)
    assert len(list((root / "var" / "queue" / "incoming").iterdir())) == 1
