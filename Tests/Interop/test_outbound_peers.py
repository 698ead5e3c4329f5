"""Outbound mail to misbehaving and unusual peers, on a real `courier start` site with dnsmasq
for the MX records (spec/mta.md §5.3.4, §5.3.5, §5.3.7):

- a 5xx greeting bounces and the next MX is not tried; a 4xx greeting defers, next MX not tried;
- a slow server (every reply a second late) still gets the mail;
- a server refusing EHLO gets HELO and a plain MAIL FROM;
- 554 at the end of DATA bounces every accepted recipient, 451 defers them;
- a server announcing SIZE refuses MAIL FROM's SIZE= for a large message: nothing is sent;
- `/SECURITY=NONE` never says STARTTLS to a server that offers it (the default does);
- `ip6out` is the source of IPv6 connections (an address we do not have: deferred).
The broken peers are small asyncio scripts (`Scripted`); the good ones Python's aiosmtpd.
"""
import asyncio
import email
import email.policy
import socket
import time

import pytest
from aiosmtpd.controller import Controller

from test_dns import start_dnsmasq
from test_outbound import RawServer, Recorder, drain, mailq, self_signed, wait_until
from test_smtp_server import Site

ZONE = [
    # twomx.test: MX 10 is the scripted server under test, MX 20 a good one.
    "--mx-host=twomx.test,mx1.twomx.test,10",
    "--mx-host=twomx.test,mx2.twomx.test,20",
    "--host-record=mx1.twomx.test,127.0.0.5",
    "--host-record=mx2.twomx.test,127.0.0.6",
    "--mx-host=v6.test,mx.v6.test,10",
    "--host-record=mx.v6.test,::1",
]


def port_free_on(*hosts):
    """A TCP port free on every one of `hosts`."""
    for _ in range(100):
        with socket.socket(socket.AF_INET6 if ":" in hosts[0] else socket.AF_INET) as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        try:
            for host in hosts[1:]:
                with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
                    s.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no common free port")


class Scripted(RawServer):
    """An SMTP server that answers from a script: `greeting`, and per verb (EHLO, HELO, MAIL,
    RCPT, DATA, and `.` for the end of data) a reply; every reply `delay` seconds late. Records
    the command lines and the message data it saw."""

    def __init__(self, host, port, greeting="220 scripted ESMTP", replies=None, delay=0.0,
                 ehlo="250-scripted\r\n250 PIPELINING"):
        self.greeting, self.delay, self.ehlo = greeting, delay, ehlo
        self.replies = {"HELO": "250 scripted", "MAIL": "250 2.1.0 ok", "RCPT": "250 2.1.5 ok",
                        "DATA": "354 go ahead", ".": "250 2.0.0 queued", "RSET": "250 ok", "QUIT": "221 bye"}
        self.replies.update(replies or {})
        self.commands, self.messages, self.connections = [], [], 0
        self.start(host, port)

    async def _say(self, writer, text):
        if self.delay:
            await asyncio.sleep(self.delay)
        writer.write(text.encode() + b"\r\n")
        await writer.drain()

    async def _client(self, reader, writer):
        self.connections += 1
        try:
            await self._say(writer, self.greeting)
            if not self.greeting.startswith("2"):
                await reader.readline()  # QUIT
                await self._say(writer, "221 bye")
                return
            while True:
                line = await reader.readline()
                if not line:
                    return
                command = line.decode(errors="replace").rstrip("\r\n")
                self.commands.append(command)
                verb = command.split(" ", 1)[0].split(":", 1)[0].upper()
                if verb == "EHLO":
                    reply = self.replies.get("EHLO", self.ehlo)
                else:
                    reply = self.replies.get(verb, "250 ok")
                await self._say(writer, reply)
                if verb == "DATA" and reply.startswith("354"):
                    data = b""
                    while True:
                        chunk = await reader.readline()
                        if not chunk or chunk == b".\r\n":
                            break
                        data += chunk
                    self.messages.append(data)
                    await self._say(writer, self.replies["."])
                if verb == "QUIT":
                    return
        finally:
            writer.close()


class TLSRecorder(Recorder):
    """Notes whether each transaction ran over TLS."""

    def __init__(self):
        super().__init__()
        self.encrypted = []

    async def handle_DATA(self, server, session, envelope):
        self.encrypted.append(session.ssl is not None)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture()
def dns(monkeypatch):
    proc, address = start_dnsmasq(ZONE)
    monkeypatch.setenv("DNS_SERVER", address)
    yield address
    proc.terminate()
    proc.wait(timeout=10)


def site_with(tmp_path, routes, **files):
    def configure(etc):
        (etc / "esmtproutes").write_text(routes)
        (etc / "esmtpdelay").write_text("0\n")
        for name, text in files.items():
            (etc / name).write_text(text)
    return Site(tmp_path / "site", configure=configure)


def send(site, recipients, subject, body="Hello from the peers test.\r\n", mail_options=()):
    text = f"From: demo@example.test\r\nTo: x@twomx.test\r\nSubject: {subject}\r\n\r\n{body}"
    with smtplib_client(site) as client:
        assert client.sendmail("demo@example.test", recipients, text.encode(), mail_options=list(mail_options)) == {}


def smtplib_client(site):
    import smtplib
    client = smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30)
    client.ehlo("client.example")
    client.login("demo", "demo")
    return client


def report_about(site, marker, timeout=40):
    deadline = time.monotonic() + timeout
    while True:
        for path in site.stored_messages():
            data = path.read_bytes()
            if marker.encode() in data and b"multipart/report" in data:
                return email.message_from_bytes(data, policy=email.policy.default)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


@pytest.fixture()
def good_mx2():
    """aiosmtpd on 127.0.0.6 (twomx.test's MX 20) and the port both MX share."""
    port = port_free_on("127.0.0.5", "127.0.0.6")
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.6", port=port)
    controller.start()
    yield port, recorder
    controller.stop()


@pytest.mark.parametrize("greeting,outcome", [("554 5.7.1 go away", "bounced"), ("421 4.3.2 busy now", "deferred")])
def test_refusing_greeting_decides_without_trying_the_next_mx(tmp_path, dns, good_mx2, greeting, outcome):
    port, backup = good_mx2
    peer = Scripted("127.0.0.5", port, greeting=greeting)
    site = site_with(tmp_path, f"twomx.test: twomx.test,{port}\n")
    try:
        send(site, ["a@twomx.test"], "marker-greeting")
        site.wait_for(f"addr=<a@twomx.test>: {outcome}", timeout=40)
        assert peer.connections >= 1
        assert backup.transactions == []
        if outcome == "bounced":
            report = report_about(site, "marker-greeting")
            assert report is not None
            assert "554 5.7.1 go away" in report.as_string()
        else:
            assert "<a@twomx.test> deferred" in mailq(site)
    finally:
        site.stop()
        peer.stop()


def test_unreachable_first_mx_falls_to_the_second(tmp_path, dns, good_mx2):
    port, backup = good_mx2
    site = site_with(tmp_path, f"twomx.test: twomx.test,{port}\n")
    try:
        send(site, ["b@twomx.test"], "marker-second-mx")
        assert wait_until(lambda: backup.transactions)
        assert backup.transactions[0][1] == ["b@twomx.test"]
    finally:
        site.stop()


def test_slow_server_gets_the_mail(tmp_path, dns):
    port = port_free_on("127.0.0.5")
    peer = Scripted("127.0.0.5", port, delay=1.0)
    site = site_with(tmp_path, f"twomx.test: [127.0.0.5],{port}\n")
    try:
        send(site, ["slow@twomx.test"], "marker-slow")
        line = site.wait_for("addr=<slow@twomx.test>", timeout=60)
        assert "delivered: 127.0.0.5 [127.0.0.5]: 250 2.0.0 queued" in line, line
        assert peer.messages and b"marker-slow" in peer.messages[0]
    finally:
        site.stop()
        peer.stop()


def test_ehlo_refused_falls_back_to_helo(tmp_path, dns):
    port = port_free_on("127.0.0.5")
    peer = Scripted("127.0.0.5", port, replies={"EHLO": "502 5.5.1 no ESMTP here"})
    site = site_with(tmp_path, f"twomx.test: [127.0.0.5],{port}\n")
    try:
        send(site, ["old@twomx.test"], "marker-helo", mail_options=["BODY=8BITMIME"])
        site.wait_for("addr=<old@twomx.test>", timeout=40)
        verbs = [c.split(" ", 1)[0].upper() for c in peer.commands]
        assert verbs[:2] == ["EHLO", "HELO"], peer.commands
        mail = next(c for c in peer.commands if c.upper().startswith("MAIL FROM:"))
        # RFC 5321 §4.1.1.1: no service extensions after HELO: no parameters on MAIL FROM.
        assert mail == "MAIL FROM:<demo@example.test>", mail
        assert peer.messages and b"marker-helo" in peer.messages[0]
    finally:
        site.stop()
        peer.stop()


@pytest.mark.parametrize("reply,outcome", [("554 5.6.0 content rejected", "bounced"),
                                           ("451 4.3.0 try again", "deferred")])
def test_reply_to_the_end_of_data_decides_for_every_recipient(tmp_path, dns, reply, outcome):
    port = port_free_on("127.0.0.5")
    peer = Scripted("127.0.0.5", port, replies={".": reply})
    site = site_with(tmp_path, f"twomx.test: [127.0.0.5],{port}\n")
    try:
        send(site, ["one@twomx.test", "two@twomx.test"], "marker-dataend")
        lines = [site.wait_for(f"addr=<{r}@twomx.test>: {outcome}", timeout=40) for r in ("one", "two")]
        assert all(lines)
        if outcome == "bounced":
            report = report_about(site, "marker-dataend")
            text = report.as_string()
            assert "Final-Recipient: rfc822; one@twomx.test" in text
            assert "Final-Recipient: rfc822; two@twomx.test" in text
            assert "554 5.6.0 content rejected" in text
        else:
            queued = mailq(site)
            assert "<one@twomx.test> deferred" in queued and "<two@twomx.test> deferred" in queued, queued
    finally:
        site.stop()
        peer.stop()


def test_size_refused_at_mail_from_before_any_data(tmp_path, dns):
    """aiosmtpd announces `SIZE 2000` and answers 552 to a MAIL FROM whose SIZE= is larger."""
    port = port_free_on("127.0.0.5")
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.5", port=port, data_size_limit=2000)
    controller.start()
    site = site_with(tmp_path, f"twomx.test: [127.0.0.5],{port}\n")
    try:
        send(site, ["big@twomx.test"], "marker-size", body=("y" * 70 + "\r\n") * 100)
        send(site, ["small@twomx.test"], "marker-size-small")
        site.wait_for("addr=<big@twomx.test>: bounced", timeout=40)
        report = report_about(site, "marker-size")
        assert report is not None and "552" in report.as_string()
        assert wait_until(lambda: recorder.transactions)
        assert [t[1] for t in recorder.transactions] == [["small@twomx.test"]]
    finally:
        site.stop()
        controller.stop()


def test_security_none_never_starts_tls(tmp_path, dns):
    ports = [port_free_on("127.0.0.5"), port_free_on("127.0.0.6")]
    recorders = [TLSRecorder(), TLSRecorder()]
    controllers = [Controller(recorders[i], hostname=f"127.0.0.{5 + i}", port=ports[i],
                              tls_context=self_signed(tmp_path)) for i in range(2)]
    for controller in controllers:
        controller.start()
    site = site_with(tmp_path, f"plain.twomx.test: [127.0.0.5],{ports[0]} /SECURITY=NONE\n"
                               f"tls.twomx.test: [127.0.0.6],{ports[1]}\n")
    try:
        send(site, ["a@plain.twomx.test", "b@tls.twomx.test"], "marker-security-none")
        assert wait_until(lambda: recorders[0].transactions and recorders[1].transactions)
        assert recorders[0].encrypted == [False]
        assert recorders[1].encrypted == [True]
        # courierd ESMTP_USE_STARTTLS=0: opportunistic TLS is off everywhere.
        courierd = site.root / "etc" / "courierd"
        courierd.write_text((courierd.read_text() if courierd.exists() else "") + "\nESMTP_USE_STARTTLS=0\n")
        time.sleep(1.2)
        send(site, ["c@tls.twomx.test"], "marker-no-starttls")
        assert wait_until(lambda: len(recorders[1].transactions) == 2)
        assert recorders[1].encrypted == [True, False]
    finally:
        site.stop()
        for controller in controllers:
            controller.stop()


def test_ip6out_is_the_source_of_ipv6_connections(tmp_path, dns):
    port = port_free_on("::1")
    recorder = Recorder()
    seen = []

    class Peers(Recorder):
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            seen.append(session.peer[0])
            session.host_name = hostname
            return responses

        async def handle_DATA(self, server, session, envelope):
            return await recorder.handle_DATA(server, session, envelope)

    controller = Controller(Peers(), hostname="::1", port=port)
    controller.start()
    site = site_with(tmp_path, f"v6.test: mx.v6.test,{port}\n", ip6out="::1\n")
    try:
        send(site, ["a@v6.test"], "marker-ip6out")
        assert wait_until(lambda: recorder.transactions), "".join(site.log)
        assert seen == ["::1"]
        # An address this host does not have: the connection cannot be made, the mail waits.
        (site.root / "etc" / "ip6out").write_text("2001:db8::7\n")
        time.sleep(1.2)
        send(site, ["b@v6.test"], "marker-ip6out-bad")
        site.wait_for("addr=<b@v6.test>: deferred", timeout=40)
        assert len(recorder.transactions) == 1
    finally:
        site.stop()
        controller.stop()


def test_tls_verifypeer_checks_the_chain_but_not_the_name(tmp_path, dns):
    """courierd `TLS_VERIFYPEER=PEER` with `TLS_TRUSTCERTS`: a certificate from the trusted CA is
    taken whatever name it carries; one from another CA fails the handshake and the mail waits."""
    from test_outbound import make_ca, server_context
    pki = tmp_path / "pki"
    pki.mkdir()
    trusted, stranger = make_ca(pki, "TrustedCA"), make_ca(pki, "StrangerCA")
    ports = [port_free_on("127.0.0.5"), port_free_on("127.0.0.6")]
    recorders = [TLSRecorder(), TLSRecorder()]
    controllers = [
        Controller(recorders[0], hostname="127.0.0.5", port=ports[0], require_starttls=True,
                   tls_context=server_context(pki, trusted, "some.other.name.test")),
        Controller(recorders[1], hostname="127.0.0.6", port=ports[1], require_starttls=True,
                   tls_context=server_context(pki, stranger, "mx2.twomx.test")),
    ]
    for controller in controllers:
        controller.start()
    site = site_with(tmp_path, f"a.twomx.test: mx1.twomx.test,{ports[0]}\nb.twomx.test: mx2.twomx.test,{ports[1]}\n")
    try:
        courierd = site.root / "etc" / "courierd"
        original = courierd.read_text() if courierd.exists() else ""
        courierd.write_text(original + f"\nTLS_VERIFYPEER=PEER\nTLS_TRUSTCERTS={trusted[1]}\n")
        time.sleep(1.2)
        send(site, ["a@a.twomx.test", "b@b.twomx.test"], "marker-verifypeer")
        assert wait_until(lambda: recorders[0].transactions)
        assert recorders[0].encrypted == [True]
        site.wait_for("addr=<b@b.twomx.test>: deferred: TLS with mx2.twomx.test failed", timeout=40)
        assert recorders[1].transactions == []
    finally:
        site.stop()
        for controller in controllers:
            controller.stop()


def test_security_startls_route_without_its_ca_list_fails(tmp_path, dns):
    """`/SECURITY=STARTTLS` needs `TLS_TRUSTSECURITYCERTS` (Courier: 500 Unable to set minimum
    security level.); the mail bounces and nothing is sent."""
    port = port_free_on("127.0.0.5")
    peer = Scripted("127.0.0.5", port)
    site = site_with(tmp_path, f"twomx.test: [127.0.0.5],{port} /SECURITY=STARTTLS\n")
    try:
        send(site, ["sec@twomx.test"], "marker-security-startls")
        line = site.wait_for("addr=<sec@twomx.test>: bounced", timeout=40)
        assert "500 Unable to set minimum security level." in line
        assert peer.messages == []
    finally:
        site.stop()
        peer.stop()


@pytest.mark.parametrize("delay", ["5m", "0"])
def test_esmtpdelay_defers_without_trying_again(tmp_path, dns, delay):
    """`esmtpdelay` (spec/mta.md §5.3.6): once no relay of a domain could be connected to,
    further mail for it is deferred at once, without a connection, for that long; `0` turns it
    off and every message tries again."""
    port = port_free_on("127.0.0.5")
    site = site_with(tmp_path, f"twomx.test: [127.0.0.5],{port}\n")
    (site.root / "etc" / "esmtpdelay").write_text(delay + "\n")
    time.sleep(1.2)
    peer = None
    try:
        send(site, ["first@twomx.test"], "marker-delay-1")
        first = site.wait_for("addr=<first@twomx.test>: deferred", timeout=40)
        # Now a server is there; the second message comes within esmtpdelay.
        peer = Scripted("127.0.0.5", port)
        send(site, ["second@twomx.test"], "marker-delay-2")
        second = site.wait_for("addr=<second@twomx.test>", timeout=40)
        if delay == "0":
            assert ": delivered: " in second, second
            assert peer.connections == 1
        else:
            assert ": deferred: " in second, second
            # The same error as the first attempt's, and no connection was made.
            assert second.split(": deferred: ", 1)[1] == first.split(": deferred: ", 1)[1]
            assert peer.connections == 0
    finally:
        site.stop()
        if peer:
            peer.stop()


class UTF8Recorder(Recorder):
    """Keeps the MAIL FROM parameters too."""

    def __init__(self):
        super().__init__()
        self.mail_options = []

    async def handle_DATA(self, server, session, envelope):
        self.mail_options.append(list(envelope.mail_options))
        return await super().handle_DATA(server, session, envelope)


def test_smtputf8_message_needs_a_server_with_smtputf8(tmp_path, dns):
    """spec/mta.md §5.3.5: a message that needs SMTPUTF8 goes to a server announcing it with the
    SMTPUTF8 parameter; a server without it gets nothing and the recipient bounces with
    Courier's 553 "Unable to deliver Unicode E-mail to a non-Unicode mail server."."""
    ports = [port_free_on("127.0.0.5"), port_free_on("127.0.0.6")]
    modern, old = UTF8Recorder(), UTF8Recorder()
    controllers = [Controller(modern, hostname="127.0.0.5", port=ports[0], enable_SMTPUTF8=True),
                   Controller(old, hostname="127.0.0.6", port=ports[1], enable_SMTPUTF8=False)]
    for controller in controllers:
        controller.start()
    site = site_with(tmp_path, f"new.twomx.test: [127.0.0.5],{ports[0]}\nold.twomx.test: [127.0.0.6],{ports[1]}\n")
    try:
        text = ("From: Jürgen <demo@example.test>\r\nTo: müller@new.twomx.test\r\nSubject: marker-utf8 Grüße\r\n"
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                "Grüße\r\n")
        with smtplib_client(site) as client:
            refused = client.sendmail("demo@example.test", ["müller@new.twomx.test", "müller@old.twomx.test"],
                                      text.encode(), mail_options=["SMTPUTF8", "BODY=8BITMIME"])
            assert refused == {}
        assert wait_until(lambda: modern.transactions)
        assert modern.transactions[0][1] == ["müller@new.twomx.test"]
        assert "SMTPUTF8" in [o.upper() for o in modern.mail_options[0]]
        assert "Grüße".encode() in modern.transactions[0][2]
        line = site.wait_for("addr=<müller@old.twomx.test>: bounced", timeout=40)
        assert "Unable to deliver Unicode E-mail to a non-Unicode mail server." in line
        assert old.transactions == []
    finally:
        site.stop()
        for controller in controllers:
            controller.stop()
