"""The SMTP server (esmtpd, esmtpd-msa, esmtpd-ssl) of a real `courier start` on a demo site,
driven by Python's smtplib and raw sockets: delivery to the demo user, no open relay,
STARTTLS, implicit TLS, SMTP smuggling, garbage input, and a client vanishing mid-DATA.
"""
import os
import pathlib
import queue
import random
import re
import shutil
import signal
import socket
import smtplib
import ssl
import subprocess
import threading
import time

import pytest

from courier_site import COURIER, CourierSite, free_port, require_courier, set_variable  # noqa: F401


class Site(CourierSite):
    """A demo site with the three SMTP services on free ports, running `courier start`."""

    def __init__(self, root, configure=None):
        """`configure(etc)` may edit the site's files before it starts."""
        super().__init__(root, services=("esmtpd", "esmtpd-msa", "esmtpd-ssl"))
        # A test site never mails the internet: remote recipients go to a closed loopback port
        # and are deferred (tests that send mail out write their own esmtproutes).
        (self.etc / "esmtproutes").write_text(": [127.0.0.1],1\n")
        if configure:
            configure(self.etc)
        self.start()

    def stored_messages(self):
        """Every message delivered to the demo user's Maildir (new/ and cur/)."""
        maildir = self.root / "mail" / "example.test" / "demo" / "Maildir"
        return [p for sub in ("new", "cur") for p in (maildir / sub).glob("*") if p.is_file()]

    def messages_containing(self, marker, timeout=20):
        """The delivered messages holding `marker`: waits for the queue runner to deliver,
        then a moment more so that a duplicate would show too."""
        deadline = time.monotonic() + timeout
        while True:
            found = [p for p in self.stored_messages() if marker.encode() in p.read_bytes()]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if found:
            time.sleep(0.5)
            found = [p for p in self.stored_messages() if marker.encode() in p.read_bytes()]
        return found

    def any_file_containing(self, marker):
        time.sleep(1)
        return [p for p in self.root.rglob("*") if p.is_file() and marker.encode() in p.read_bytes()]


@pytest.fixture()
def site(tmp_path):
    require_courier()
    s = Site(tmp_path / "site")
    yield s
    s.stop()


def tls_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def message(subject, body="hello\r\n"):
    return f"From: sender@client.example\r\nTo: demo@example.test\r\nSubject: {subject}\r\n\r\n{body}"


def test_listens_on_the_three_ports(site):
    for name, port in site.ports.items():
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass


def test_smtplib_delivers_to_demo(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        code, banner = client.ehlo("client.example")
        assert code == 250
        features = banner.decode().split("\n")
        assert features[0].endswith(" Ok.")
        for keyword in ["STARTTLS", "XVERP=Courier", "XEXDATA", "XSECURITY=NONE,STARTTLS", "PIPELINING", "8BITMIME",
                        "SMTPUTF8", "SIZE", "DSN"]:
            assert keyword in features, features
        client.mail("sender@client.example")
        assert client.rcpt("demo@example.test")[0] == 250
        code, reply = client.data(message("marker-plain", "line one\r\n.leading dot\r\n"))
        assert code == 250 and reply.startswith(b"2.0.0 Ok. ")  # RFC 2034: the code after EHLO
    stored = site.messages_containing("marker-plain")
    assert len(stored) == 1
    data = stored[0].read_bytes()
    assert b"\r\n" not in data
    assert b"\n.leading dot\n" in data
    assert re.search(rb"Received: from client\.example \(\[127\.0\.0\.1\]\)\n", data)


def test_unknown_local_user_is_refused(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        client.ehlo("client.example")
        client.mail("sender@client.example")
        code, reply = client.rcpt("nobody-here@example.test")
        assert code == 550, reply


@pytest.mark.parametrize("recipient", [
    "someone@foreign.example",
    "someone%foreign.example@example.test",     # percent hack
    "@example.test:someone@foreign.example",    # source route
    '"someone@foreign.example"@example.test',   # quoted @
    "foreign.example!someone@example.test",     # bang path
])
def test_no_relay_from_loopback_without_auth(site, recipient):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        client.ehlo("client.example")
        client.mail("sender@client.example")
        code, reply = client.rcpt(recipient if recipient.startswith("@") else recipient)
        assert 500 <= code < 600, (code, reply)
        # And the transaction is still usable.
        assert client.rcpt("demo@example.test")[0] == 250


def test_no_relay_on_submission_without_auth(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd-msa"], timeout=10) as client:
        client.ehlo("client.example")
        code, _ = client.mail("sender@client.example")
        if code == 250:
            code, _ = client.rcpt("someone@foreign.example")
        assert 500 <= code < 600


def test_starttls(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        client.ehlo("client.example")
        assert client.has_extn("starttls")
        code, _ = client.starttls(context=tls_context())
        assert code == 220
        client.ehlo("client.example")
        assert not client.has_extn("starttls")
        client.sendmail("sender@client.example", ["demo@example.test"], message("marker-starttls"))
    stored = site.messages_containing("marker-starttls")
    assert len(stored) == 1
    assert b"with ESMTPS;" in stored[0].read_bytes()


def test_implicit_tls(site):
    with smtplib.SMTP_SSL("127.0.0.1", site.ports["esmtpd-ssl"], timeout=10, context=tls_context()) as client:
        code, _ = client.ehlo("client.example")
        assert code == 250
        assert not client.has_extn("starttls")
        client.sendmail("sender@client.example", ["demo@example.test"], message("marker-smtps"))
    assert len(site.messages_containing("marker-smtps")) == 1


class Raw:
    """A raw SMTP connection that reads complete replies."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """One (possibly multi-line) reply: (code, [lines])."""
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"closed; partial {self.buffer!r}, lines {lines}")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), lines

    def close(self):
        self.sock.close()


SMUGGLING_VECTORS = [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r", b"\n.\r"]


@pytest.mark.parametrize("vector", SMUGGLING_VECTORS, ids=lambda v: repr(v))
def test_smuggling_vectors_do_not_split_messages(site, vector):
    marker = f"smuggle-{random.randrange(1 << 30)}"
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\n")
    assert raw.reply()[0] == 250
    raw.send(b"MAIL FROM:<sender@client.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n")
    assert [raw.reply()[0] for _ in range(3)] == [250, 250, 354]
    body = (f"Subject: {marker}-outer\r\n\r\nfirst part".encode() + vector
            + b"MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
            + f"Subject: {marker}-inner\r\n\r\nsmuggled\r\n.\r\nNOOP\r\n".encode())
    raw.send(body)
    code, lines = raw.reply()
    assert code == 250, lines
    assert raw.reply()[0] == 250  # the NOOP: no stray replies in between
    raw.send(b"QUIT\r\n")
    assert raw.reply()[0] == 221
    raw.close()
    outer = site.messages_containing(f"{marker}-outer")
    assert len(outer) == 1
    assert f"{marker}-inner".encode() in outer[0].read_bytes()
    assert len(site.messages_containing(marker)) == 1


def test_garbage_lines_get_5xx_and_session_survives(site):
    rng = random.Random(5321)
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    lines = []
    for i in range(1000):
        length = rng.randrange(0, 200)
        garbage = bytes(rng.choice([b for b in range(256) if b not in (10, 13)]) for _ in range(length))
        lines.append(b"X" + garbage)
    lines[100] = b"Z" * 20000  # one overlong line
    lines[200] = b"MAIL FROM:<" + b"a" * 300 + b"@b.example>"
    raw.send(b"".join(line + b"\r\n" for line in lines))
    codes = [raw.reply()[0] for _ in lines]
    assert all(500 <= code < 600 for code in codes), [c for c in codes if not 500 <= c < 600]
    raw.send(b"NOOP\r\nEHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<demo@example.test>\r\nQUIT\r\n")
    assert [raw.reply()[0] for _ in range(5)] == [250, 250, 250, 250, 221]
    raw.close()


def test_client_vanishing_mid_data_commits_nothing(site):
    marker = f"vanish-{random.randrange(1 << 30)}"
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\nMAIL FROM:<sender@client.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n")
    assert [raw.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    raw.send(f"Subject: {marker}\r\n\r\n".encode() + b"x" * 200000 + b"\r\n")
    time.sleep(0.3)
    raw.close()
    time.sleep(1.5)
    assert site.any_file_containing(marker) == []
    # The server still serves.
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        assert client.noop()[0] == 250


def test_pipelined_transaction_replies_in_order(site):
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<demo@example.test>\r\n"
             b"RCPT TO:<x@foreign.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n")
    assert [raw.reply()[0] for _ in range(6)] == [250, 250, 250, 513, 250, 354]
    raw.send(b"Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    assert raw.reply()[0] == 250
    assert raw.reply()[0] == 221
    raw.close()


def test_swaks_delivers_with_starttls_and_pipelining(site):
    swaks = shutil.which("swaks")
    if not swaks:
        pytest.fail("swaks is not installed (Scripts/test installs it)")
    result = subprocess.run([swaks, "--server", "127.0.0.1", "--port", str(site.ports["esmtpd"]), "--to",
                             "demo@example.test", "--from", "sender@client.example", "--tls", "--pipeline",
                             "--header", "Subject: marker-swaks", "--helo", "client.example"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(site.messages_containing("marker-swaks")) == 1


def test_swaks_relay_refused(site):
    swaks = shutil.which("swaks")
    if not swaks:
        pytest.fail("swaks is not installed (Scripts/test installs it)")
    result = subprocess.run([swaks, "--server", "127.0.0.1", "--port", str(site.ports["esmtpd"]), "--to",
                             "victim@foreign.example", "--from", "sender@client.example"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "<** 513 5.7.1 Relaying denied." in result.stdout


def test_large_message_streams_through(site):
    body = ("y" * 998 + "\r\n") * 5000  # ~5 MB
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=60) as client:
        client.sendmail("sender@client.example", ["demo@example.test"], message("marker-large", body))
        client.sendmail("sender@client.example", ["demo@example.test"], message("marker-second"))
    stored = site.messages_containing("marker-large")
    assert len(stored) == 1
    assert stored[0].read_bytes().count(b"y" * 998 + b"\n") == 5000
    assert len(site.messages_containing("marker-second")) == 1


def test_oversized_message_is_refused(site):
    body = ("z" * 998 + "\r\n") * 11000  # ~11 MB > the 10 MB default sizelimit
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=60) as client:
        client.ehlo("client.example")
        client.mail("sender@client.example")
        client.rcpt("demo@example.test")
        code, reply = client.data(message("marker-huge", body))
        assert code == 523, reply
        assert client.noop()[0] == 250
    assert site.any_file_containing("marker-huge") == []


def test_maxperip_limits_connections(tmp_path):
    require_courier()
    root = tmp_path / "site"
    site = None
    try:
        # Start a site, then restart it with MAXPERIP=2.
        site = Site(root)
        set_variable(root / "etc" / "esmtpd", "MAXPERIP", "2")
        site.restart()
        first, second = Raw(site.ports["esmtpd"]), Raw(site.ports["esmtpd"])
        assert first.reply()[0] == 220 and second.reply()[0] == 220
        third = Raw(site.ports["esmtpd"])
        code, _ = third.reply()
        assert code == 421
        first.send(b"QUIT\r\n")
        assert first.reply()[0] == 221
        first.close()
        time.sleep(0.3)
        fourth = Raw(site.ports["esmtpd"])
        assert fourth.reply()[0] == 220
        for raw in (second, third, fourth):
            raw.close()
    finally:
        if site:
            site.stop()


def test_makeacceptmailfor_and_makehosteddomains_check_and_reload(site):
    """Courier's make* commands for the domain lists: a bad line is reported with its file and
    line and nothing changes; a good list is compiled and the running server takes it."""
    from courier_site import tool

    def rcpt(address):
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
            client.ehlo("client.example")
            client.mail("a@client.example")
            return client.rcpt(address)[0]

    assert rcpt("anyone@backup.test") == 513  # not ours: no relaying
    listing = site.etc / "esmtpacceptmailfor.dir"
    (listing / "backup").write_text("backup.test\nnot a domain\n")
    result = tool(site.root, "makeacceptmailfor")
    assert result.returncode == 1 and f"{listing}/backup:2:" in result.stderr, result.stderr
    assert rcpt("anyone@backup.test") == 513
    (listing / "backup").write_text("# backup MX for\nbackup.test\n")
    result = tool(site.root, "makeacceptmailfor")
    assert result.returncode == 0, result.stderr
    assert "backup.test\n" in (site.etc / "esmtpacceptmailfor.dat").read_text()
    deadline = time.monotonic() + 20
    while rcpt("anyone@backup.test") != 250 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert rcpt("anyone@backup.test") == 250

    (site.etc / "hosteddomains").write_text("hosted.test\nalias.test\thosted.test\n")
    result = tool(site.root, "makehosteddomains")
    assert result.returncode == 0, result.stderr
    assert (site.etc / "hosteddomains.dat").read_text() == "hosted.test\nalias.test\thosted.test\n"
    (site.etc / "hosteddomains").write_text("alias.test\tnot_a domain\n")
    assert tool(site.root, "makehosteddomains").returncode == 1


def test_verp_return_path_on_local_delivery(site):
    """XVERP: each recipient's copy names it in the return path (Courier's encoding), local
    deliveries included."""
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo("client.example")
        refused = client.sendmail("list-owner@client.example", ["demo@example.test"], message("marker-verp-local"),
                                  mail_options=["XVERP"])
        assert refused == {}
    stored = site.messages_containing("marker-verp-local")
    assert len(stored) == 1
    text = stored[0].read_text()
    assert "\nReturn-Path: <list-owner-demo=example.test@client.example>\n" in "\n" + text
