"""Our esmtp transport delivering to a real Postfix (Debian's, a private instance on a loopback
port, tests/postfix_peer.py) that keeps mail for `pf.test` in Maildirs: `esmtproutes` sends the
domain there; a plain message, an 8-bit one (8BITMIME, passed through unchanged) and a message
to a mailbox Postfix does not have (550 5.1.1 at RCPT, so we bounce it with an RFC 3464 DSN
naming Postfix's reply) are checked byte for byte in Postfix's Maildir, below its trace fields.
"""
import smtplib
import time

import pytest

from postfix_peer import PostfixPeer
from test_dsn import reports, status_fields
from test_smtp_server import Site


@pytest.fixture(scope="module")
def postfix():
    peer = PostfixPeer(mail_domains=("pf.test",), mailboxes=("ann@pf.test", "bob@pf.test"))
    yield peer
    peer.stop()


@pytest.fixture()
def site(tmp_path, postfix):
    def configure(etc):
        (etc / "esmtproutes").write_text(f"pf.test: [127.0.0.1],{postfix.port}\n")
    s = Site(tmp_path / "site", configure=configure)
    yield s
    s.stop()


TRACE = (b"return-path:", b"delivered-to:", b"received:", b"x-original-to:")


def below_trace_fields(data):
    """The message without the trace fields at its top (Postfix's and ours)."""
    lines = data.split(b"\n")
    index = 0
    while index < len(lines) and lines[index].lower().startswith(TRACE):
        index += 1
        while index < len(lines) and lines[index][:1] in (b" ", b"\t"):
            index += 1
    return b"\n".join(lines[index:])


def wait_for(postfix, address, marker, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in postfix.maildir_messages(address):
            data = path.read_bytes()
            if marker in data:
                return data
        time.sleep(0.2)
    pytest.fail(f"{marker!r} did not reach {address} at Postfix: " + postfix.log()[-3000:])


def message(marker, to, body, extra=""):
    return (f"From: Demo <demo@example.test>\nTo: {to}\nSubject: {marker}\n"
            f"Date: Fri, 27 Nov 2026 06:00:00 +0000\nMessage-ID: <{marker}@example.test>\n{extra}\n{body}")


def submit(site, recipients, text, **options):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        client.login("demo", "demo")
        return client.sendmail("demo@example.test", recipients, text.replace("\n", "\r\n").encode(), **options)


def test_plain_and_8bit_messages_arrive_unchanged(site, postfix):
    plain = message("marker-pf-plain", "ann@pf.test", "line one\n.leading dot\n\nlast line\n")
    assert submit(site, ["ann@pf.test"], plain) == {}
    eight = message("marker-pf-8bit", "bob@pf.test", "Grüße aus Zürich, ½ €\n",
                    "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n")
    assert submit(site, ["bob@pf.test"], eight, mail_options=["BODY=8BITMIME"]) == {}

    stored = wait_for(postfix, "ann@pf.test", b"marker-pf-plain")
    assert below_trace_fields(stored) == plain.encode()
    assert stored.startswith(b"Return-Path: <demo@example.test>\n")
    # Postfix's Received names us by our EHLO name (`me` by default).
    assert b"Received: from mail.example.test (localhost [127.0.0.1])\n\tby postfix-peer.test (Postfix)" in stored

    stored = wait_for(postfix, "bob@pf.test", b"marker-pf-8bit")
    assert below_trace_fields(stored) == eight.encode()
    assert "Grüße aus Zürich".encode() in stored


def test_refused_recipient_bounces_with_postfix_reply(site, postfix):
    text = message("marker-pf-mixed", "ann@pf.test, nobody@pf.test", "one gets it\n")
    assert submit(site, ["ann@pf.test", "nobody@pf.test"], text) == {}
    stored = wait_for(postfix, "ann@pf.test", b"marker-pf-mixed")
    assert below_trace_fields(stored) == text.encode()
    found = reports(site, "marker-pf-mixed", timeout=30)
    assert len(found) == 1, [p.name for p in site.stored_messages()]
    parts, per_message, per_recipient = status_fields(found[0])
    assert len(per_recipient) == 1
    block = per_recipient[0]
    assert block["Final-Recipient"] == "rfc822; nobody@pf.test"
    assert block["Action"] == "failed"
    assert block["Status"] == "5.1.1"
    assert block["Remote-MTA"] == "dns; [127.0.0.1]"
    assert block["Diagnostic-Code"].startswith("smtp; 550 5.1.1 <nobody@pf.test>")
    assert "User unknown" in block["Diagnostic-Code"]


def test_verp_message_gets_one_return_path_per_mailbox(site, postfix):
    """Postfix announces no `XVERP=Courier`: each mailbox gets its own transaction, and Postfix
    records each VERP return path in its `Return-Path:`."""
    text = message("marker-pf-verp", "ann@pf.test, bob@pf.test", "verp body\n")
    assert submit(site, ["ann@pf.test", "bob@pf.test"], text, mail_options=["XVERP"]) == {}
    for local in ("ann", "bob"):
        stored = wait_for(postfix, f"{local}@pf.test", b"marker-pf-verp")
        assert stored.startswith(f"Return-Path: <demo-{local}=pf.test@example.test>\n".encode())
        assert below_trace_fields(stored) == text.encode()
