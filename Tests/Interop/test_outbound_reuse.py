"""Outbound session reuse (spec/mta.md §5.3.2) on a real `courier start` site: several queued
messages to one destination go over few SMTP connections, each later message after an RSET,
within the esmtp module's MAXHOST (`etc/module.esmtp`), and `esmtptimeoutkeepalive` 0 turns the
reuse off; a message with more recipients in one domain than MAXRCPT goes in several
transactions over one session. The peers are Python's aiosmtpd, counting connections (open at once and in all),
RSETs, QUITs and transactions, and an asyncio server that hangs up after every message: a kept
session that died must be replaced by a new connection, never cost a deferral.
"""
import asyncio
import smtplib
import threading
import time

import pytest

from test_smtp_server import Site

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from courier_site import free_port


class Counter:
    """aiosmtpd handler keeping each transaction, the RSETs, and the connections."""

    def __init__(self):
        self.lock = threading.Lock()
        self.transactions = []
        self.rsets = 0
        self.quits = 0
        self.connections = 0
        self.open = 0
        self.most_open = 0

    def opened(self):
        with self.lock:
            self.connections += 1
            self.open += 1
            self.most_open = max(self.most_open, self.open)

    def closed(self):
        with self.lock:
            self.open -= 1

    def clear(self):
        with self.lock:
            self.connections = self.most_open = self.open = 0

    async def handle_RSET(self, server, session, envelope):
        with self.lock:
            self.rsets += 1
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        with self.lock:
            self.quits += 1
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.transactions.append((session.peer, envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content))
        return "250 2.0.0 accepted"


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        self.event_handler.opened()
        super().connection_made(transport)

    def connection_lost(self, error):
        self.event_handler.closed()
        super().connection_lost(error)


class CountingController(Controller):
    def factory(self):
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


class HangUpAfterEachMessage:
    """A raw asyncio SMTP server that closes the connection right after answering 250 to a
    message's final dot (no QUIT): every session our client keeps open is dead when reused."""

    def __init__(self, port):
        self.port = port
        self.messages = []
        self.connections = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        assert self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()

    async def _client(self, reader, writer):
        self.connections += 1
        writer.write(b"220 hangup ESMTP\r\n")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250 hangup\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    content = b""
                    while True:
                        data = await reader.readline()
                        if not data or data == b".\r\n":
                            break
                        content += data
                    self.messages.append(content)
                    writer.write(b"250 2.0.0 taken, goodbye\r\n")
                    await writer.drain()
                    break
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        finally:
            writer.close()

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def send_many(site, count, domain, marker):
    """`count` messages, one transaction each, over one authenticated submission session."""
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        client.login("demo", "demo")
        for number in range(count):
            text = (f"From: demo@example.test\r\nTo: r{number}@{domain}\r\nSubject: {marker} {number}\r\n\r\n"
                    f"message {number}\r\n")
            assert client.sendmail("demo@example.test", [f"r{number}@{domain}"], text.encode()) == {}


def wait_until(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture()
def peer():
    counter = Counter()
    controller = CountingController(counter, hostname="127.0.0.1", port=free_port())
    controller.start()
    # The controller's own readiness check connected once: wait until it is gone.
    assert wait_until(lambda: counter.open == 0, timeout=10)
    counter.clear()
    yield counter, controller.port
    controller.stop()


def make_site(tmp_path, port, extra_files=None):
    def configure(etc):
        (etc / "esmtproutes").write_text(f"reuse.test: [127.0.0.1],{port}\n")
        for name, text in (extra_files or {}).items():
            (etc / name).write_text(text)
    return Site(tmp_path / "site", configure=configure)


def subjects(counter):
    return sorted(content.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0].decode()
                  for _, _, _, content in counter.transactions)


def test_one_session_carries_every_message_with_maxhost_1(tmp_path, peer):
    counter, port = peer
    site = make_site(tmp_path, port, {"module.esmtp": "MAXDELS=40\nMAXHOST=1\n"})
    try:
        send_many(site, 12, "reuse.test", "marker-reuse-one")
        assert wait_until(lambda: len(counter.transactions) >= 12), counter.transactions
        time.sleep(0.5)
        assert len(counter.transactions) == 12
        assert subjects(counter) == sorted(f"marker-reuse-one {n}" for n in range(12))
        for _, sender, rcpts, _ in counter.transactions:
            assert sender == "demo@example.test" and len(rcpts) == 1
        # One connection for all twelve, each later message checked with RSET first.
        assert counter.connections == 1
        assert len({peer_address for peer_address, _, _, _ in counter.transactions}) == 1
        assert counter.rsets == 11
        # Kept open after the last message (esmtptimeoutkeepalive, 60 s by default), and
        # ended with QUIT when the server stops.
        assert counter.open == 1 and counter.quits == 0
    finally:
        site.stop()
    assert wait_until(lambda: counter.open == 0, timeout=10)
    assert counter.quits == 1


def test_parallel_sessions_stay_within_maxhost(tmp_path, peer):
    counter, port = peer
    site = make_site(tmp_path, port)
    try:
        send_many(site, 30, "reuse.test", "marker-reuse-four")
        assert wait_until(lambda: len(counter.transactions) >= 30), counter.transactions
        time.sleep(0.5)
        assert subjects(counter) == sorted(f"marker-reuse-four {n}" for n in range(30))
        # Courier's default MAXHOST is 4: never more sessions to one domain, and far fewer
        # connections than messages.
        assert counter.most_open <= 4
        assert counter.connections <= 4
        assert counter.rsets == 30 - counter.connections
    finally:
        site.stop()


def test_keepalive_zero_closes_after_each_message(tmp_path, peer):
    counter, port = peer
    site = make_site(tmp_path, port, {"esmtptimeoutkeepalive": "0\n", "module.esmtp": "MAXHOST=1\n"})
    try:
        send_many(site, 5, "reuse.test", "marker-reuse-off")
        assert wait_until(lambda: len(counter.transactions) >= 5), counter.transactions
        assert wait_until(lambda: counter.open == 0, timeout=20), (counter.open, counter.connections)
        assert len(counter.transactions) == 5
        assert counter.connections == 5
        assert counter.rsets == 0
        assert counter.quits == 5
    finally:
        site.stop()


def test_a_dead_kept_session_is_replaced_without_deferral(tmp_path):
    port = free_port()
    hangup = HangUpAfterEachMessage(port)
    site = make_site(tmp_path, port, {"module.esmtp": "MAXHOST=1\n"})
    try:
        send_many(site, 6, "reuse.test", "marker-reuse-hangup")
        assert wait_until(lambda: len(hangup.messages) >= 6), hangup.messages
        time.sleep(0.5)
        assert len(hangup.messages) == 6
        assert hangup.connections == 6
        log = "".join(site.log)
        assert "deferred" not in log, log
        assert log.count("delivered: 127.0.0.1 [127.0.0.1]: 250 2.0.0 taken, goodbye") == 6, log
    finally:
        site.stop()
        hangup.stop()


def test_maxrcpt_splits_a_message_into_transactions_on_one_session(tmp_path, peer):
    counter, port = peer
    site = make_site(tmp_path, port, {"module.esmtp": "MAXRCPT=2\n"})
    try:
        recipients = [f"r{n}@reuse.test" for n in range(5)]
        text = "From: demo@example.test\r\nTo: list@reuse.test\r\nSubject: marker-maxrcpt\r\n\r\nhi\r\n"
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
            client.ehlo("client.example")
            client.login("demo", "demo")
            assert client.sendmail("demo@example.test", recipients, text.encode()) == {}
        assert wait_until(lambda: len(counter.transactions) >= 3), counter.transactions
        time.sleep(0.5)
        # spec/mta.md §4.6: at most MAXRCPT recipients per transaction, in order; one session.
        assert [rcpts for _, _, rcpts, _ in counter.transactions] == [recipients[0:2], recipients[2:4], recipients[4:]]
        assert all(b"Subject: marker-maxrcpt" in content for _, _, _, content in counter.transactions)
        assert counter.connections == 1
        assert counter.rsets == 2
        for address in recipients:
            site.wait_for(f"addr=<{address}>,size=")
    finally:
        site.stop()


def test_keepalive_ping_sends_rset_while_idle_and_the_session_is_reused(tmp_path, peer):
    """`esmtptimeoutkeepaliveping` 1: the idle kept session gets an RSET every second (each
    answered 250, so it stays); the next message still goes over that one connection."""
    counter, port = peer
    site = make_site(tmp_path, port, {"esmtptimeoutkeepalive": "120\n", "esmtptimeoutkeepaliveping": "1\n"})
    try:
        send_many(site, 1, "reuse.test", "marker-ping-first")
        assert wait_until(lambda: len(counter.transactions) >= 1)
        assert wait_until(lambda: counter.rsets >= 3, timeout=30), counter.rsets
        assert len(counter.transactions) == 1 and counter.quits == 0
        send_many(site, 1, "reuse.test", "marker-ping-second")
        assert wait_until(lambda: len(counter.transactions) >= 2)
        assert subjects(counter) == ["marker-ping-first 0", "marker-ping-second 0"]
        assert counter.connections == 1
    finally:
        site.stop()


def test_no_ping_by_default(tmp_path, peer):
    """Without `esmtptimeoutkeepaliveping` an idle session hears nothing until it is reused."""
    counter, port = peer
    site = make_site(tmp_path, port)
    try:
        send_many(site, 1, "reuse.test", "marker-noping-first")
        assert wait_until(lambda: len(counter.transactions) >= 1)
        send_many(site, 1, "reuse.test", "marker-noping-second")
        assert wait_until(lambda: len(counter.transactions) >= 2)
        # Exactly one RSET: the check before the second message, none while idle.
        assert counter.rsets == 1 and counter.connections == 1
    finally:
        site.stop()
