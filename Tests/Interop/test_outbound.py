"""Outbound mail (the esmtp transport) on a real `courier start` site: dnsmasq serves a test
zone whose MX hosts are 127.0.0.x peers; `esmtproutes` gives each relay its port (Courier's
`domain: relay,port`). Peers: Python's aiosmtpd (a well-behaved server, and one that refuses
some recipients with 4xx and 5xx) and an asyncio server that drops the connection in the
middle of DATA. One message sent with smtplib and AUTH to recipients in three domains must
end up delivered (bytes at the peer, one transaction per domain), deferred (still in mailq)
and bounced (an RFC 3464 DSN with the remote reply in the sender's Maildir).
"""
import asyncio
import email
import os
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from test_smtp_server import Site, COURIER

# aiosmtpd comes from pip (Scripts/test PIP_PACKAGES); without it the module fails to load.
from aiosmtpd.controller import Controller

ZONE = [
    "--mx-host=alpha.test,mx.alpha.test,10",
    "--host-record=mx.alpha.test,127.0.0.2",
    "--mx-host=beta.test,mx.beta.test,10",
    "--host-record=mx.beta.test,127.0.0.3",
    "--mx-host=gamma.test,mx.gamma.test,10",
    "--host-record=mx.gamma.test,127.0.0.4",
    "--mx-host=nullmx.test,.,0",
    # loop.test's only MX is a loopback address, with no esmtproutes line: a mail loop.
    "--mx-host=loop.test,mx.loop.test,10",
    "--host-record=mx.loop.test,127.0.0.1",
    # Certificate checks: a peer whose certificate names its MX, one naming another host, one
    # signed by a CA we do not trust.
    "--mx-host=theta.test,mx.theta.test,10",
    "--host-record=mx.theta.test,127.0.0.2",
    "--mx-host=iota.test,mx.iota.test,10",
    "--host-record=mx.iota.test,127.0.0.3",
    "--mx-host=kappa.test,mx.kappa.test,10",
    "--host-record=mx.kappa.test,127.0.0.4",
]


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Recorder:
    """An aiosmtpd handler keeping every transaction; RCPTs starting with `later` get 450 and
    those starting with `gone` get 550 when `picky`."""

    def __init__(self, picky=False):
        self.picky = picky
        self.transactions = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.picky and address.startswith("later"):
            return "450 4.2.1 mailbox busy, try later"
        if self.picky and address.startswith("gone"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.transactions.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 accepted for delivery"


class RawServer:
    """A hand-written asyncio SMTP server on its own loop thread (for peers aiosmtpd cannot play):
    subclasses set their state and write `_client`, then call `start()`."""

    def start(self, host, port):
        self.host, self.port = host, port
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        assert self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._client, self.host, self.port))
        self.ready.set()
        self.loop.run_forever()

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


class DropMidData(RawServer):
    """A raw asyncio SMTP server that accepts the envelope, then closes the connection after
    the first line of message data."""

    def __init__(self, host, port):
        self.seen_data = threading.Event()
        self.start(host, port)

    async def _client(self, reader, writer):
        writer.write(b"220 dropper ESMTP\r\n")
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250 dropper\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                await reader.readline()
                self.seen_data.set()
                writer.close()
                return
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()



@pytest.fixture()
def outbound(tmp_path, monkeypatch, dns_zone):
    monkeypatch.setenv("DNS_SERVER", dns_zone)
    alpha, beta = Recorder(), Recorder(picky=True)
    ports = {"alpha": free_port("127.0.0.2"), "beta": free_port("127.0.0.3"), "gamma": free_port("127.0.0.4")}
    controllers = [Controller(alpha, hostname="127.0.0.2", port=ports["alpha"]),
                   Controller(beta, hostname="127.0.0.3", port=ports["beta"])]
    for controller in controllers:
        controller.start()
    dropper = DropMidData("127.0.0.4", ports["gamma"])
    site = Site(tmp_path / "site")
    # Courier's way to reach a relay on another port; the relay name is still resolved in DNS.
    (site.root / "etc" / "esmtproutes").write_text(
        "# test routes\n"
        f"alpha.test: mx.alpha.test,{ports['alpha']}\n"
        f"beta.test: mx.beta.test,{ports['beta']}\n"
        f"gamma.test: mx.gamma.test,{ports['gamma']}\n")
    yield site, alpha, beta, dropper
    site.stop()
    for controller in controllers:
        controller.stop()
    dropper.stop()


@pytest.fixture()
def dns_zone(request):
    """dnsmasq (test_dns.start_dnsmasq) with the outbound test zone."""
    from test_dns import start_dnsmasq
    proc, address = start_dnsmasq(ZONE)
    yield address
    proc.terminate()
    proc.wait(timeout=10)


def send(site, recipients, subject, body="Hello from the outbound test.\r\n.leading dot line\r\n"):
    text = f"From: demo@example.test\r\nTo: outside@alpha.test\r\nSubject: {subject}\r\n\r\n{body}"
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        client.login("demo", "demo")
        refused = client.sendmail("demo@example.test", recipients, text.encode())
        assert refused == {}


def wait_until(predicate, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def wait_for_all(site, texts, timeout=40):
    """Log lines in any order (Site.wait_for consumes the lines it reads)."""
    missing = list(texts)
    deadline = time.monotonic() + timeout
    seen = []
    while missing and time.monotonic() < deadline:
        try:
            line = site.lines.get(timeout=0.2)
        except Exception:
            continue
        seen.append(line)
        missing = [text for text in missing if text not in line]
    assert not missing, f"missing {missing} in:\n{''.join(seen)}"


def mailq(site):
    env = dict(os.environ, COURIER_ROOT=str(site.root))
    return subprocess.run([str(COURIER), "mailq"], env=env, capture_output=True, text=True, timeout=30).stdout


def test_mixed_outcomes_across_three_domains(outbound):
    site, alpha, beta, dropper = outbound
    recipients = ["one@alpha.test", "two@alpha.test", "ok@beta.test", "later@beta.test", "gone@beta.test",
                  "x@gamma.test"]
    send(site, recipients, "marker-outbound-mixed")

    # alpha: both recipients in one transaction, bytes intact (dot-unstuffed by the peer).
    assert wait_until(lambda: len(alpha.transactions) >= 1)
    sender, rcpts, content = alpha.transactions[0]
    assert sender == "demo@example.test"
    assert sorted(rcpts) == ["one@alpha.test", "two@alpha.test"]
    assert b"Subject: marker-outbound-mixed" in content
    assert b"\r\n.leading dot line\r\n" in content
    assert len(alpha.transactions) == 1

    # beta: ok accepted, later deferred (450), gone refused (550) — one transaction.
    assert wait_until(lambda: len(beta.transactions) >= 1)
    assert beta.transactions[0][1] == ["ok@beta.test"]

    # gamma dropped the connection mid-DATA: deferred.
    assert dropper.seen_data.wait(40)
    wait_for_all(site, ["addr=<x@gamma.test>: deferred", "addr=<later@beta.test>: deferred: mx.beta.test",
                        "addr=<gone@beta.test>: bounced: 550 5.1.1 no such user here"])

    # The bounce for gone@beta.test reaches the sender's Maildir, with the remote reply.
    bounces = site.messages_containing("gone@beta.test", timeout=40)
    assert len(bounces) == 1
    report = email.message_from_bytes(bounces[0].read_bytes())
    assert report.get_content_type() == "multipart/report"
    status = [part for part in report.walk() if part.get_content_type() == "message/delivery-status"]
    assert status
    text = bounces[0].read_bytes().decode(errors="replace")
    assert "Final-Recipient: rfc822; gone@beta.test" in text
    assert "Diagnostic-Code: smtp; 550 5.1.1 no such user here" in text
    # RFC 3464 §2.3.5: the server that refused.
    assert "Remote-MTA: dns; mx.beta.test\n" in text.replace("\r\n", "\n")
    assert "Action: failed" in text
    # Delivered and deferred recipients are not in the failure report.
    assert "Final-Recipient: rfc822; one@alpha.test" not in text
    assert "Final-Recipient: rfc822; later@beta.test" not in text

    # The deferred recipients keep the message in the queue.
    queued = mailq(site)
    assert "<later@beta.test> deferred" in queued and "<x@gamma.test> deferred" in queued, queued
    assert "<one@alpha.test> delivered" in queued and "<two@alpha.test> delivered" in queued, queued
    assert "<ok@beta.test> delivered" in queued, queued
    assert "<gone@beta.test> deferred" not in queued, queued


def test_null_mx_and_unknown_domain_bounce(outbound):
    site, alpha, beta, dropper = outbound
    send(site, ["a@nullmx.test", "b@nosuch.test", "c@loop.test"], "marker-outbound-nullmx")
    bounces = site.messages_containing("marker-outbound-nullmx", timeout=40)
    assert bounces
    text = b"".join(p.read_bytes() for p in bounces).decode(errors="replace")
    assert "Domain does not receive mail." in text
    assert "No such domain." in text
    assert "mail loops back to myself (MX problem)." in text
    assert "Final-Recipient: rfc822; a@nullmx.test" in text


def test_eight_bit_message_to_a_server_with_8bitmime(outbound):
    site, alpha, beta, dropper = outbound
    body = "Caf\u00e9 cr\u00e8me\r\n"
    text = ("From: demo@example.test\r\nTo: x@alpha.test\r\nSubject: marker-8bit\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body)
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        client.login("demo", "demo")
        client.sendmail("demo@example.test", ["x@alpha.test"], text.encode(), mail_options=["BODY=8BITMIME"])
    assert wait_until(lambda: any(b"marker-8bit" in t[2] for t in alpha.transactions))
    content = next(t[2] for t in alpha.transactions if b"marker-8bit" in t[2])
    # aiosmtpd announces 8BITMIME: the bytes go through unchanged.
    assert "Caf\u00e9 cr\u00e8me".encode() in content


class NoEightBit(Recorder):
    """A server that does not announce 8BITMIME (RFC 6152)."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [line for line in responses if "8BITMIME" not in line]


def self_signed(tmp_path):
    import ssl
    key, cert = tmp_path / "peer.key", tmp_path / "peer.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=mx.delta.test"], check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


def test_downgrade_starttls_and_auth_to_a_smarthost(tmp_path, monkeypatch, dns_zone):
    """delta.test goes to a peer without 8BITMIME (the 8-bit body arrives as quoted-printable);
    epsilon.test to a smarthost that wants STARTTLS and then AUTH (`esmtpauthclient`)."""
    monkeypatch.setenv("DNS_SERVER", dns_zone)
    from aiosmtpd.smtp import AuthResult

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((mechanism, auth_data.login, auth_data.password, session.ssl is not None))
        return AuthResult(success=auth_data.login == b"relayuser" and auth_data.password == b"s3cret")

    plain, secure = NoEightBit(), Recorder()
    ports = {"delta": free_port("127.0.0.2"), "epsilon": free_port("127.0.0.3")}
    controllers = [
        Controller(plain, hostname="127.0.0.2", port=ports["delta"]),
        Controller(secure, hostname="127.0.0.3", port=ports["epsilon"], tls_context=self_signed(tmp_path),
                   require_starttls=True, authenticator=authenticator, auth_required=True),
    ]
    for controller in controllers:
        controller.start()
    site = Site(tmp_path / "site")
    try:
        etc = site.root / "etc"
        (etc / "esmtproutes").write_text(f"delta.test: [127.0.0.2],{ports['delta']}\n"
                                         f".epsilon.test: [127.0.0.3],{ports['epsilon']}\n"
                                         f"epsilon.test: [127.0.0.3],{ports['epsilon']}\n")
        (etc / "esmtpauthclient").write_text(f"127.0.0.3,{ports['epsilon']} relayuser s3cret\n")
        os.chmod(etc / "esmtpauthclient", 0o600)
        body = "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e\r\n"
        text = ("From: demo@example.test\r\nTo: x@delta.test\r\nSubject: marker-downgrade\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body)
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
            client.ehlo("client.example")
            client.login("demo", "demo")
            client.sendmail("demo@example.test", ["x@delta.test", "y@mail.epsilon.test"], text.encode(),
                            mail_options=["BODY=8BITMIME"])
        assert wait_until(lambda: plain.transactions and secure.transactions)
        content = plain.transactions[0][2]
        assert all(byte < 0x80 for byte in content), content
        assert b"Content-Transfer-Encoding: quoted-printable" in content
        assert b"8bit" not in content
        decoded = email.message_from_bytes(content).get_payload(decode=True).decode("utf-8")
        assert decoded.replace("\r\n", "\n") == body.replace("\r\n", "\n")
        # The smarthost: TLS first (aiosmtpd refuses AUTH and MAIL before it), then AUTH PLAIN.
        assert logins and logins[0][1:] == (b"relayuser", b"s3cret", True)
        assert secure.transactions[0][1] == ["y@mail.epsilon.test"]
        assert "Caf\u00e9".encode() in secure.transactions[0][2]
    finally:
        site.stop()
        for controller in controllers:
            controller.stop()


def test_no_bounce_for_a_bounce(outbound):
    """A message with the null sender that a remote server refuses: no report to the (empty)
    sender; Courier's double bounce goes to the postmaster (demo here), from `#@[]`."""
    site, alpha, beta, dropper = outbound
    text = "From: MAILER-DAEMON@example.test\r\nTo: gone@beta.test\r\nSubject: marker-null-sender\r\n\r\nreport\r\n"
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        client.login("demo", "demo")
        client.sendmail("", ["gone@beta.test", "ok@beta.test"], text.encode())
    wait_for_all(site, ["addr=<gone@beta.test>: bounced: 550 5.1.1 no such user here",
                        "addr=<ok@beta.test>,size="])
    assert wait_until(lambda: any(b"marker-null-sender" in t[2] for t in beta.transactions))
    mail_from = next(t for t in beta.transactions if b"marker-null-sender" in t[2])[0]
    assert mail_from in ("", "<>"), mail_from
    log = "".join(drain(site))
    assert "DSN (failed) to <postmaster>" in log
    found = site.messages_containing("marker-null-sender", timeout=20)
    assert len(found) == 1
    report = found[0].read_bytes().decode(errors="replace")
    assert "Final-Recipient: rfc822; gone@beta.test" in report
    # The delivered (ok@beta.test) recipient is not reported to the postmaster.
    assert "Final-Recipient: rfc822; ok@beta.test" not in report
    assert report.startswith("Return-Path: <#@[]>") or "\nReturn-Path: <#@[]>" in report, report[:400]


def drain(site):
    lines = []
    time.sleep(1)
    while True:
        try:
            lines.append(site.lines.get_nowait())
        except Exception:
            return lines


def test_smtps_route_and_required_tls(tmp_path, monkeypatch, dns_zone):
    """`/SECURITY=SMTPS` talks TLS from the first byte; `/SECURITY=REQUIRED` to a server without
    STARTTLS bounces instead of sending in the clear."""
    monkeypatch.setenv("DNS_SERVER", dns_zone)
    tls_peer, plain_peer = Recorder(), Recorder()
    ports = {"tls": free_port("127.0.0.2"), "plain": free_port("127.0.0.3")}
    controllers = [Controller(tls_peer, hostname="127.0.0.2", port=ports["tls"], ssl_context=self_signed(tmp_path)),
                   Controller(plain_peer, hostname="127.0.0.3", port=ports["plain"])]
    for controller in controllers:
        controller.start()
    site = Site(tmp_path / "site")
    try:
        (site.root / "etc" / "esmtproutes").write_text(
            f"zeta.test: [127.0.0.2],{ports['tls']} /SECURITY=SMTPS\n"
            f"eta.test: [127.0.0.3],{ports['plain']} /SECURITY=REQUIRED\n")
        send(site, ["a@zeta.test", "b@eta.test"], "marker-smtps")
        assert wait_until(lambda: tls_peer.transactions)
        assert tls_peer.transactions[0][1] == ["a@zeta.test"]
        assert b"marker-smtps" in tls_peer.transactions[0][2]
        bounces = site.messages_containing("b@eta.test", timeout=40)
        assert len(bounces) == 1
        assert b"TLS is not available" in bounces[0].read_bytes()
        assert plain_peer.transactions == []
    finally:
        site.stop()
        for controller in controllers:
            controller.stop()


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_ca(directory, name):
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return key, cert


def server_context(directory, ca, host):
    """A TLS server context whose certificate for `host` is signed by `ca` (key, cert)."""
    import ssl
    key, csr, cert = directory / f"{host}.key", directory / f"{host}.csr", directory / f"{host}.pem"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={host}")
    extensions = directory / f"{host}.ext"
    extensions.write_text(f"subjectAltName=DNS:{host}\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[1]), "-CAkey", str(ca[0]), "-CAcreateserial",
            "-out", str(cert), "-days", "2", "-extfile", str(extensions))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


def test_certificate_verification(tmp_path, monkeypatch, dns_zone):
    """`ESMTP_TLS_VERIFY_DOMAIN=1` with `TLS_TRUSTCERTS` (courierd): a certificate from the trusted
    CA naming the MX host is accepted; one naming another host, or from an unknown CA, fails the
    handshake and the mail is deferred (never sent in the clear: the peers require STARTTLS).
    With the setting back to 0 the same peer gets the mail."""
    monkeypatch.setenv("DNS_SERVER", dns_zone)
    pki = tmp_path / "pki"
    pki.mkdir()
    trusted, stranger = make_ca(pki, "TestTrustedCA"), make_ca(pki, "UnknownCA")
    good, wrong_name, untrusted = Recorder(), Recorder(), Recorder()
    ports = {"theta": free_port("127.0.0.2"), "iota": free_port("127.0.0.3"), "kappa": free_port("127.0.0.4")}
    controllers = [
        Controller(good, hostname="127.0.0.2", port=ports["theta"], require_starttls=True,
                   tls_context=server_context(pki, trusted, "mx.theta.test")),
        Controller(wrong_name, hostname="127.0.0.3", port=ports["iota"], require_starttls=True,
                   tls_context=server_context(pki, trusted, "somewhere.else.test")),
        Controller(untrusted, hostname="127.0.0.4", port=ports["kappa"], require_starttls=True,
                   tls_context=server_context(pki, stranger, "mx.kappa.test")),
    ]
    for controller in controllers:
        controller.start()
    site = Site(tmp_path / "site")
    try:
        etc = site.root / "etc"
        (etc / "esmtproutes").write_text("".join(f"{name}.test: mx.{name}.test,{port}\n"
                                                 for name, port in ports.items()))
        (etc / "esmtpdelay").write_text("0\n")
        courierd = etc / "courierd"
        original = courierd.read_text() if courierd.exists() else ""
        courierd.write_text(original + f"\nESMTP_TLS_VERIFY_DOMAIN=1\nTLS_TRUSTCERTS={trusted[1]}\n")
        send(site, ["a@theta.test", "b@iota.test", "c@kappa.test"], "marker-verify")
        assert wait_until(lambda: good.transactions)
        assert good.transactions[0][1] == ["a@theta.test"]
        wait_for_all(site, ["addr=<b@iota.test>: deferred: TLS with mx.iota.test failed",
                            "addr=<c@kappa.test>: deferred: TLS with mx.kappa.test failed"])
        queued = mailq(site)
        assert "<b@iota.test> deferred" in queued and "<c@kappa.test> deferred" in queued, queued
        assert "<a@theta.test> delivered" in queued, queued
        assert wrong_name.transactions == [] and untrusted.transactions == []
        assert site.messages_containing("b@iota.test", timeout=2) == []

        # Verification off: opportunistic TLS takes any certificate.
        courierd.write_text(original + f"\nESMTP_TLS_VERIFY_DOMAIN=0\nTLS_TRUSTCERTS={trusted[1]}\n")
        send(site, ["d@iota.test"], "marker-noverify")
        assert wait_until(lambda: any(t[1] == ["d@iota.test"] for t in wrong_name.transactions))
        assert b"marker-noverify" in wrong_name.transactions[0][2]

        # TLS_TRUSTCERTS may name a hashed directory of CA certificates (`openssl rehash`).
        cadir = tmp_path / "cadir"
        cadir.mkdir()
        (cadir / "trusted.pem").write_bytes(trusted[1].read_bytes())
        openssl("rehash", str(cadir))
        courierd.write_text(original + f"\nESMTP_TLS_VERIFY_DOMAIN=1\nTLS_TRUSTCERTS={cadir}\n")
        send(site, ["e@theta.test"], "marker-cadir")
        assert wait_until(lambda: any(t[1] == ["e@theta.test"] for t in good.transactions))
    finally:
        site.stop()
        for controller in controllers:
            controller.stop()


def test_percent_hack_relays_only_listed_domains(outbound):
    """esmtppercentrelay (spec/mta.md §3.22): `user%domain@ourdomain` from anyone is relayed
    to `user@domain` when makepercentrelay listed the domain; other % addresses stay refused."""
    from courier_site import tool
    site, alpha, _, _ = outbound

    def rcpt(address):
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
            client.ehlo("client.example")
            client.mail("someone@client.example")
            return client.rcpt(address)[0]

    assert rcpt("friend%alpha.test@example.test") == 513
    listing = site.root / "etc" / "esmtppercentrelay.dir"
    listing.mkdir(exist_ok=True)
    (listing / "partners").write_text("alpha.test\n")
    result = tool(site.root, "makepercentrelay")
    assert result.returncode == 0, result.stderr
    assert wait_until(lambda: rcpt("friend%alpha.test@example.test") == 250)
    assert rcpt("friend%beta.test@example.test") == 513
    assert rcpt("friend%alpha.test@elsewhere.test") == 513  # only through one of our domains
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        refused = client.sendmail("someone@client.example", ["friend%alpha.test@example.test"],
                                  b"From: someone@client.example\r\nSubject: percent\r\n\r\nvia the percent hack\r\n")
        assert refused == {}
    assert wait_until(lambda: any(b"via the percent hack" in t[2] for t in alpha.transactions))
    transaction = next(t for t in alpha.transactions if b"via the percent hack" in t[2])
    assert transaction[1] == ["friend@alpha.test"]


class BrokenStartTLS(RawServer):
    """A raw SMTP server that offers STARTTLS, answers it 220 and then hangs up (a broken TLS
    stack); without STARTTLS it takes mail normally. Counts the STARTTLS attempts."""

    def __init__(self, host, port):
        self.starttls_attempts = 0
        self.messages = []
        self.start(host, port)

    async def _client(self, reader, writer):
        writer.write(b"220 broken ESMTP\r\n")
        recipients = []
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-broken\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
            elif verb == b"STAR":
                self.starttls_attempts += 1
                writer.write(b"220 go ahead\r\n")
                await writer.drain()
                writer.write(b"\x15\x03\x01\x00\x02\x02\x28")  # a TLS alert instead of a ServerHello
                await writer.drain()
                writer.close()
                return
            elif verb == b"RCPT":
                recipients.append(line[8:].strip(b"<>\r\n").decode())
                writer.write(b"250 ok\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = await reader.readline()
                    if not chunk:
                        return
                    data += chunk
                self.messages.append((recipients, data))
                recipients = []
                writer.write(b"250 stored\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()



def test_broken_starttls_is_remembered_and_mail_goes_in_the_clear(tmp_path):
    """spec/mta.md §5.3.4: when opportunistic STARTTLS breaks, the relay is remembered as broken
    and the mail goes without TLS (the next message does not try STARTTLS again); with
    /SECURITY=REQUIRED the mail never goes in the clear."""
    port = free_port("127.0.0.2")
    peer = BrokenStartTLS("127.0.0.2", port)
    site = Site(tmp_path / "site")
    try:
        (site.root / "etc" / "esmtproutes").write_text(
            f"broken.test: [127.0.0.2],{port}\nstrict.test: [127.0.0.2],{port} /SECURITY=REQUIRED\n")
        send(site, ["a@broken.test"], "marker-broken-1")
        assert wait_until(lambda: any(b"marker-broken-1" in m[1] for m in peer.messages))
        attempts = peer.starttls_attempts
        assert attempts >= 1
        send(site, ["b@broken.test"], "marker-broken-2")
        assert wait_until(lambda: any(b"marker-broken-2" in m[1] for m in peer.messages))
        assert peer.starttls_attempts == attempts  # remembered: no second try
        send(site, ["c@strict.test"], "marker-strict")
        # required TLS still tries STARTTLS (the memory is for opportunistic TLS only), fails,
        # and the message waits in the queue instead of going in the clear
        assert wait_until(lambda: peer.starttls_attempts > attempts)
        queue = subprocess.run([str(COURIER), "mailq"], env=dict(os.environ, COURIER_ROOT=str(site.root)),
                               capture_output=True, text=True, timeout=30)
        assert "c@strict.test" in queue.stdout, queue.stdout
        assert not any(b"marker-strict" in m[1] for m in peer.messages)
    finally:
        site.stop()
        peer.stop()


def fail_after_acceptance(site, sender, marker):
    """An unauthenticated SMTP message to demo-fail (a `.courier-fail` program exiting 100):
    accepted, then it fails, and a bounce is due to `sender`."""
    home = site.root / "mail" / "example.test" / "demo"
    (home / ".courier-fail").write_text("| exit 100\n")
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        refused = client.sendmail(sender, ["demo-fail@example.test"],
                                  f"From: {sender}\r\nSubject: {marker}\r\n\r\nbody\r\n".encode())
        assert refused == {}


def test_backscatter_bounce_is_dropped_by_default(outbound):
    """ESMTP_BLOCKBACKSCATTER=smtp/dsn (Courier's default, spec/mta.md §4.10): the bounce of
    mail an unauthenticated SMTP client sent is not sent out by SMTP (its sender may be forged)."""
    site, alpha, _, _ = outbound
    fail_after_acceptance(site, "forged@alpha.test", "marker-backscatter")
    assert wait_until(lambda: any("backscatter bounce dropped" in line for line in site.log))
    assert not any(b"marker-backscatter" in t[2] for t in alpha.transactions)


def test_backscatter_setting_empty_sends_the_bounce(outbound):
    site, alpha, _, _ = outbound
    courierd = site.root / "etc" / "courierd"
    courierd.write_text(courierd.read_text() + '\nESMTP_BLOCKBACKSCATTER=""\n')
    fail_after_acceptance(site, "real@alpha.test", "marker-bounce-sent")
    assert wait_until(lambda: any(b"marker-bounce-sent" in t[2] and t[0] in ("", "<>") for t in alpha.transactions))


def test_a_silent_peer_times_out_and_the_mail_waits(tmp_path):
    """A peer that accepts the connection and never answers (spec/mta.md §5.3.5 timeouts,
    `esmtptimeouthelo`/`esmtptimeout`/`esmtptimeoutdata`): the attempt ends after the timeout and
    the message stays queued for a later try; the server keeps working meanwhile."""
    port = free_port("127.0.0.2")
    silent = socket.socket()
    silent.bind(("127.0.0.2", port))
    silent.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])  # never greets
            except OSError:
                continue
    threading.Thread(target=accept, daemon=True).start()
    site = Site(tmp_path / "site")
    try:
        for name in ("esmtptimeouthelo", "esmtptimeout", "esmtptimeoutdata"):
            (site.root / "etc" / name).write_text("2\n")
        (site.root / "etc" / "esmtproutes").write_text(f"slow.test: [127.0.0.2],{port}\n")
        send(site, ["a@slow.test"], "marker-slow")
        assert wait_until(lambda: held)
        assert wait_until(lambda: any("Timeout talking to" in line for line in site.log), timeout=30), \
            "".join(site.log[-20:])
        queue = subprocess.run([str(COURIER), "mailq"], env=dict(os.environ, COURIER_ROOT=str(site.root)),
                               capture_output=True, text=True, timeout=30)
        assert "a@slow.test" in queue.stdout, queue.stdout
        # the server still takes mail
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
            assert client.noop()[0] == 250
    finally:
        stop.set()
        site.stop()
        for connection in held:
            connection.close()
        silent.close()
