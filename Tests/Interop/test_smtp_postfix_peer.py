"""Postfix (Debian's package, a private instance on loopback) relays mail to our server as a
real peer MTA: what a Python client hands to Postfix arrives in the demo user's Maildir byte
for byte, apart from the trace headers both servers add (issue 5's proof)."""
import smtplib
import time

import pytest

from postfix_peer import PostfixPeer
from test_smtp_server import Site, site  # noqa: F401 (the shared pytest fixture)


@pytest.fixture()
def postfix(site):
    peer = PostfixPeer(extra=f"relayhost = [127.0.0.1]:{site.ports['esmtpd']}")
    yield peer
    peer.stop()


def body_without_trace(data):
    """The message after the leading Received:/Return-Path:/Delivered-To: block."""
    lines = data.split(b"\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith((b"Received:", b"Return-Path:", b"Delivered-To:")):
            index += 1
            while index < len(lines) and lines[index][:1] in (b" ", b"\t"):
                index += 1
            continue
        break
    return b"\n".join(lines[index:])


def test_postfix_relays_to_us_byte_for_byte(site, postfix):
    subject = f"postfix-peer-{time.time_ns()}"
    message = (f"From: Sender <sender@client.example>\r\nTo: demo@example.test\r\nSubject: {subject}\r\n"
               "Message-ID: <peer-test@client.example>\r\nDate: Fri, 27 Nov 2026 01:00:00 +0000\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               "Line one.\r\n.A line that starts with a dot.\r\n\r\nGr\u00fc\u00dfe, \u00e9t\u00e9 \u2014 8-bit text.\r\n"
               + "x" * 900 + "\r\n").encode()
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as client:
        client.ehlo("client.example")
        code, _ = client.mail("sender@client.example", ["BODY=8BITMIME"])
        assert code == 250
        assert client.rcpt("demo@example.test")[0] == 250
        code, reply = client.data(message)
        assert code == 250, reply
    stored = site.messages_containing(subject, timeout=60)
    assert len(stored) == 1, postfix.log()
    data = stored[0].read_bytes()
    # Delivery adds Delivered-To/Return-Path; our Received: names Postfix's HELO, Postfix's
    # own Received: comes below it.
    assert data.startswith(b"Delivered-To: demo@example.test\nReturn-Path: <sender@client.example>\n"
                           b"Received: from postfix-peer.test ([127.0.0.1])")
    assert data.index(b"by postfix-peer.test (Postfix") > data.index(b"Received: from postfix-peer.test")
    assert body_without_trace(data) == message.replace(b"\r\n", b"\n")
    deadline = time.monotonic() + 30
    while not postfix.queue_is_empty() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert postfix.queue_is_empty(), postfix.log()
    assert "status=sent" in postfix.log()


def test_postfix_gets_our_refusal_for_an_unknown_user(site, postfix):
    """A 5xx from us makes Postfix bounce to the sender instead of retrying (nothing queued
    on our side)."""
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as client:
        client.ehlo("client.example")
        client.mail("sender@client.example")
        assert client.rcpt("nobody-here@example.test")[0] == 250   # Postfix accepts, then relays
        assert client.data(b"Subject: unknown-user-test\r\n\r\nhello\r\n")[0] == 250
    deadline = time.monotonic() + 60
    while "status=bounced" not in postfix.log() and time.monotonic() < deadline:
        time.sleep(0.5)
    log = postfix.log()
    assert "status=bounced" in log and "550" in log, log
    assert site.messages_containing("unknown-user-test", timeout=2) == []
