"""`esmtphelo` on the way out (spec/mta.md §3.11, §5.3.4) on a real `courier start` site, with
dnsmasq as the site's name server and aiosmtpd peers recording the EHLO name: a fixed name is
sent as it is; `*` sends the PTR name of the connection's local address (127.0.0.1 has one in
the test zone), or `[address]` when there is none (`ipout` 127.0.0.5, no PTR)."""
import smtplib

import pytest

from aiosmtpd.controller import Controller

from test_outbound_reuse import free_port, wait_until
from test_smtp_server import Site


ZONE = ["--ptr-record=1.0.0.127.in-addr.arpa,out-ptr.helo.test"]


class HeloRecorder:
    def __init__(self):
        self.seen = []

    async def handle_DATA(self, server, session, envelope):
        self.seen.append((session.host_name, envelope.mail_from))
        return "250 2.0.0 accepted"


@pytest.fixture()
def zone(monkeypatch):
    from test_dns import start_dnsmasq
    proc, address = start_dnsmasq(ZONE)
    monkeypatch.setenv("DNS_SERVER", address)
    yield address
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture()
def peer():
    recorder = HeloRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


def run(tmp_path, port, files):
    def configure(etc):
        (etc / "esmtproutes").write_text(f"helo.test: [127.0.0.1],{port}\n")
        for name, text in files.items():
            (etc / name).write_text(text)
    site = Site(tmp_path / "site", configure=configure)
    try:
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
            client.login("demo", "demo")
            assert client.sendmail("demo@example.test", ["x@helo.test"], b"Subject: helo\r\n\r\nx\r\n") == {}
    except Exception:
        site.stop()
        raise
    return site


@pytest.mark.parametrize("files, expected", [
    ({}, "mail.example.test"),
    ({"esmtphelo": "relay-name.example\n"}, "relay-name.example"),
    ({"esmtphelo": "*\n"}, "out-ptr.helo.test"),
    ({"esmtphelo": "*\n", "ipout": "127.0.0.5\n"}, "[127.0.0.5]"),
    # spec/mta.md §3.11: converted to ACE when sent.
    ({"esmtphelo": "relais.bücher.example\n"}, "relais.xn--bcher-kva.example"),
])
def test_ehlo_name(tmp_path, zone, peer, files, expected):
    recorder, port = peer
    site = run(tmp_path, port, files)
    try:
        assert wait_until(lambda: len(recorder.seen) >= 1), recorder.seen
        assert recorder.seen == [(expected, "demo@example.test")]
    finally:
        site.stop()
