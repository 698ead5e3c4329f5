"""Per-recipient VERP on the way out (spec/mta.md §2.10, §5.3.5) on a real `courier start` site:
a message submitted with `XVERP` (smtplib's MAIL FROM option) or `sendmail -verp` reaches a
server without Courier's VERP extension (Python's aiosmtpd) as one transaction per recipient,
each with the return path `sender-local=domain@senderdomain`, Courier's escapes included; a
server announcing `XVERP=Courier` gets one transaction with `VERP` in MAIL FROM instead.
"""
import os
import smtplib
import subprocess

import pytest

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from test_outbound_reuse import Counter, free_port, make_site, peer, wait_until  # noqa: F401 (fixture)
from test_smtp_server import COURIER


class CourierVERPSMTP(SMTP):
    """aiosmtpd announcing Courier's `XVERP=Courier` and taking `VERP` in MAIL FROM (kept in
    the envelope's mail_options, which aiosmtpd itself would refuse as unknown)."""

    def _getparams(self, params):
        return super()._getparams([p for p in params if p != "VERP"])


class VERPHandler(Counter):
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:-1] + ["250-XVERP=Courier", responses[-1]]

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.transactions.append((list(envelope.mail_options), envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content))
        return "250 2.0.0 accepted"


class VERPController(Controller):
    def factory(self):
        return CourierVERPSMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture()
def courier_peer():
    handler = VERPHandler()
    controller = VERPController(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def submit_with_xverp(site, recipients, marker):
    text = f"From: demo@example.test\r\nTo: list@example.test\r\nSubject: {marker}\r\n\r\nbody {marker}\r\n"
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        assert "xverp" in client.esmtp_features
        client.login("demo", "demo")
        assert client.sendmail("demo@example.test", recipients, text.encode(), mail_options=["XVERP"]) == {}


def test_xverp_message_goes_once_per_recipient_with_its_own_return_path(tmp_path, peer):
    counter, port = peer
    site = make_site(tmp_path, port)
    try:
        submit_with_xverp(site, ["ann@reuse.test", "bob-x+tag@reuse.test"], "marker-verp-split")
        assert wait_until(lambda: len(counter.transactions) >= 2), counter.transactions
        senders = sorted((sender, tuple(rcpts)) for _, sender, rcpts, _ in counter.transactions)
        assert senders == [
            ("demo-ann=reuse.test@example.test", ("ann@reuse.test",)),
            ("demo-bob+2Dx+2Btag=reuse.test@example.test", ("bob-x+tag@reuse.test",)),
        ]
        for *_, content in counter.transactions:
            assert b"body marker-verp-split" in content
        # Both on one connection, as Courier does (the second after the first's transaction).
        assert counter.connections == 1
    finally:
        site.stop()


def test_sendmail_verp_sets_the_return_path(tmp_path, peer):
    counter, port = peer
    site = make_site(tmp_path, port)
    try:
        env = dict(os.environ, COURIER_ROOT=str(site.root))
        result = subprocess.run([str(COURIER), "sendmail", "-f", "demo@example.test", "-verp", "carol@reuse.test"],
                                input=b"Subject: marker-verp-sendmail\n\nhi\n", env=env, capture_output=True,
                                timeout=30)
        assert result.returncode == 0, result.stderr
        assert wait_until(lambda: len(counter.transactions) >= 1), counter.transactions
        assert [(s, r) for _, s, r, _ in counter.transactions] == [
            ("demo-carol=reuse.test@example.test", ["carol@reuse.test"])]
    finally:
        site.stop()


def test_without_verp_one_transaction_keeps_the_sender(tmp_path, peer):
    counter, port = peer
    site = make_site(tmp_path, port)
    try:
        text = b"From: demo@example.test\r\nSubject: marker-no-verp\r\n\r\nx\r\n"
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
            client.login("demo", "demo")
            assert client.sendmail("demo@example.test", ["a@reuse.test", "b@reuse.test"], text) == {}
        assert wait_until(lambda: len(counter.transactions) >= 1), counter.transactions
        assert [(s, sorted(r)) for _, s, r, _ in counter.transactions] == [
            ("demo@example.test", ["a@reuse.test", "b@reuse.test"])]
    finally:
        site.stop()


def test_courier_peer_gets_one_transaction_with_verp_keyword(tmp_path, courier_peer):
    handler, port = courier_peer
    site = make_site(tmp_path, port)
    try:
        submit_with_xverp(site, ["ann@reuse.test", "bob@reuse.test"], "marker-verp-courier")
        assert wait_until(lambda: len(handler.transactions) >= 1), handler.transactions
        assert len(handler.transactions) == 1
        options, sender, rcpts, _ = handler.transactions[0]
        assert sender == "demo@example.test"
        assert sorted(rcpts) == ["ann@reuse.test", "bob@reuse.test"]
        assert "VERP" in options
    finally:
        site.stop()
