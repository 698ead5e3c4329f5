"""Delivery reports about outbound mail on a real `courier start` site (spec/mta.md §3.13, §3.15,
§4.7–§4.9): dnsmasq serves the MX records, the peers are Postfix's `smtp-sink` (announces DSN,
dumps each transaction with its RCPT parameters) and Python's aiosmtpd (no DSN extension).

- NOTIFY=SUCCESS to a server without DSN: we report "relayed"; to a server with DSN: NOTIFY
  goes along and we send nothing (the server reports).
- `dsnfrom` is the report's From:, `dsnlimit` decides whole message or header only.
- A recipient deferred until `queuetime` runs out bounces with the last attempt's reply.
- Courier's retry schedule (`retryalpha`, `retrybeta`, `retrygamma`, `retrymaxdelta`).
"""
import email
import email.policy
import os
import pathlib
import shutil
import smtplib
import subprocess
import tempfile
import time

import pytest
from aiosmtpd.controller import Controller

from test_dns import start_dnsmasq
from test_outbound import Recorder, free_port, mailq, wait_until
from test_smtp_server import Site

ZONE = [
    "--mx-host=plain.test,mx.plain.test,10",
    "--host-record=mx.plain.test,127.0.0.2",
    "--mx-host=sink.test,mx.sink.test,10",
    "--host-record=mx.sink.test,127.0.0.3",
    "--mx-host=busy.test,mx.busy.test,10",
    "--host-record=mx.busy.test,127.0.0.4",
]


class Busy(Recorder):
    """Answers every RCPT with 450 and notes when each attempt came."""

    def __init__(self):
        super().__init__()
        self.attempts = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts.append(time.monotonic())
        return "450 4.2.1 mailbox busy, try later"


@pytest.fixture()
def peers(tmp_path, monkeypatch):
    dns, address = start_dnsmasq(ZONE)
    monkeypatch.setenv("DNS_SERVER", address)
    plain, busy = Recorder(picky=True), Busy()
    ports = {"plain": free_port("127.0.0.2"), "sink": free_port("127.0.0.3"), "busy": free_port("127.0.0.4")}
    controllers = [Controller(plain, hostname="127.0.0.2", port=ports["plain"]),
                   Controller(busy, hostname="127.0.0.4", port=ports["busy"])]
    for controller in controllers:
        controller.start()
    # smtp-sink drops to `nobody`: its dump directory must be reachable for that user (pytest's
    # tmp_path is not).
    dumps = pathlib.Path(tempfile.mkdtemp(prefix="sink-"))
    dumps.chmod(0o777)
    # smtp-sink announces DSN (and PIPELINING, 8BITMIME); -d dumps every transaction.
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", "-d", str(dumps / "m"), f"127.0.0.3:{ports['sink']}", "20"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield {"ports": ports, "plain": plain, "busy": busy, "dumps": dumps}
    sink.terminate()
    sink.wait(timeout=10)
    for controller in controllers:
        controller.stop()
    dns.terminate()
    dns.wait(timeout=10)
    shutil.rmtree(dumps, ignore_errors=True)


def make_site(tmp_path, peers, **files):
    def configure(etc):
        ports = peers["ports"]
        (etc / "esmtproutes").write_text(
            f"plain.test: mx.plain.test,{ports['plain']}\n"
            f"sink.test: mx.sink.test,{ports['sink']}\n"
            f"busy.test: mx.busy.test,{ports['busy']}\n")
        for name, text in files.items():
            (etc / name).write_text(text)
    return Site(tmp_path / "site", configure=configure)


def send(site, recipients, subject, body="Hello.\r\n", rcpt_options=()):
    text = f"From: demo@example.test\r\nTo: someone@plain.test\r\nSubject: {subject}\r\n\r\n{body}"
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        client.login("demo", "demo")
        assert client.sendmail("demo@example.test", recipients, text.encode(), rcpt_options=list(rcpt_options)) == {}


def reports(site, marker, timeout=40, count=1):
    """The DSNs in demo's Maildir about the message with `marker`."""
    deadline = time.monotonic() + timeout
    while True:
        found = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                 for p in site.stored_messages() if marker.encode() in p.read_bytes()]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def recipients_of(report):
    status = next(p for p in report.iter_parts() if p.get_content_type() == "message/delivery-status")
    return status.get_payload()[1:]


def test_notify_success_relayed_by_a_server_without_dsn_and_passed_on_to_one_with_it(tmp_path, peers):
    site = make_site(tmp_path, peers)
    try:
        send(site, ["ok@plain.test", "ok@sink.test"], "marker-relayed", rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        site.wait_for("addr=<ok@plain.test>", timeout=40)
        site.wait_for("addr=<ok@sink.test>", timeout=40)
        found = reports(site, "marker-relayed")
        assert len(found) == 1, [r["Subject"] for r in found]
        report = found[0]
        assert report["Subject"] == "NOTICE: mail delivery status."
        listed = recipients_of(report)
        # Only the recipient the server without DSN took: "relayed" (RFC 3464 §2.3.3).
        assert [r["Final-Recipient"] for r in listed] == ["rfc822; ok@plain.test"]
        assert listed[0]["Action"] == "relayed"
        assert listed[0]["Status"].startswith("2.")
        assert listed[0]["Remote-MTA"] == "dns; mx.plain.test"
        assert "250 2.0.0 accepted for delivery" in listed[0]["Diagnostic-Code"]
        # smtp-sink announced DSN: it got NOTIFY with the recipient and reports success itself.
        dumps = [p.read_text(errors="replace") for p in peers["dumps"].iterdir()]
        assert any("X-Rcpt-Args: <ok@sink.test> NOTIFY=SUCCESS,FAILURE" in d for d in dumps), dumps
        # Without NOTIFY=SUCCESS no report at all.
        send(site, ["again@plain.test"], "marker-no-notify")
        site.wait_for("addr=<again@plain.test>", timeout=40)
        time.sleep(1)
        assert reports(site, "marker-no-notify", timeout=0, count=0) == []
    finally:
        site.stop()


def test_dsnfrom_and_dsnlimit(tmp_path, peers):
    site = make_site(tmp_path, peers, dsnfrom='"Mail Robot" <robot@example.test>\n', dsnlimit="2000\n")
    try:
        send(site, ["gone-small@plain.test"], "marker-small", body="short body marker-small-body\r\n")
        send(site, ["gone-big@plain.test"], "marker-big", body="marker-big-body\r\n" + ("x" * 70 + "\r\n") * 60)
        small, big = reports(site, "marker-small")[0], reports(site, "marker-big")[0]
        for report in (small, big):
            sender = report["From"].addresses[0]
            assert (sender.display_name, sender.addr_spec) == ("Mail Robot", "robot@example.test")
            assert recipients_of(report)[0]["Action"] == "failed"
        # Below dsnlimit the whole message comes back, above it the header only.
        assert small.get_payload()[-1].get_content_type() == "message/rfc822"
        assert "marker-small-body" in small.get_payload()[-1].as_string()
        returned = big.get_payload()[-1]
        assert returned.get_content_type() == "text/rfc822-headers"
        assert "Subject: marker-big" in returned.get_content()
        assert "marker-big-body" not in returned.get_content()
    finally:
        site.stop()


def test_deferred_until_queuetime_then_one_final_report(tmp_path, peers):
    site = make_site(tmp_path, peers, queuetime="6s\n", warntime="0\n", retryalpha="1s\n", retrygamma="1s\n",
                     retrymaxdelta="0\n")
    try:
        send(site, ["held@busy.test", "ok@plain.test"], "marker-expiry")
        site.wait_for("addr=<held@busy.test>: bounced: Message expired", timeout=60)
        found = reports(site, "marker-expiry")
        assert len(found) == 1
        listed = recipients_of(found[0])
        assert [r["Final-Recipient"] for r in listed] == ["rfc822; held@busy.test"]
        assert listed[0]["Action"] == "failed"
        assert listed[0]["Status"] == "5.0.0"
        # The last attempt's reply is in the report.
        assert "450 4.2.1 mailbox busy, try later" in listed[0]["Diagnostic-Code"]
        assert len(peers["busy"].attempts) >= 3
        assert wait_until(lambda: "marker-expiry" not in mailq(site) and "held@busy.test" not in mailq(site), 20)
        time.sleep(1)
        assert len(reports(site, "marker-expiry", timeout=0)) == 1
    finally:
        site.stop()


def test_retry_schedule(tmp_path, peers):
    """α=1s, β=2, γ=3s, maxΔ=1: after pass k the next comes α later unless k is a multiple of β,
    then γ·2^min(k/β, maxΔ) = 6 s later (spec/mta.md §4.7)."""
    site = make_site(tmp_path, peers, retryalpha="1s\n", retrybeta="2\n", retrygamma="3s\n", retrymaxdelta="1\n")
    try:
        send(site, ["held@busy.test"], "marker-retry")
        busy = peers["busy"]
        assert wait_until(lambda: len(busy.attempts) >= 5, 60), busy.attempts
        gaps = [b - a for a, b in zip(busy.attempts, busy.attempts[1:])]
        # passes 1, 3: α (1 s); passes 2, 4: γ·2 (6 s). The queue counts in whole seconds, so
        # a gap may come up to a second short of its nominal length.
        assert gaps[1] >= 5 and gaps[3] >= 5, gaps
        assert gaps[0] < gaps[1] and gaps[2] < gaps[3], gaps
    finally:
        site.stop()


def test_a_failing_double_bounce_ends_there(tmp_path, peers):
    """The postmaster's address is refused too: the double bounce (sender `#@[]`) fails, goes out
    with the null sender, and no third report is made (spec/mta.md §4.8)."""
    site = make_site(tmp_path, peers, **{"aliases/system": "postmaster: gone-pm@plain.test\n"})
    try:
        text = "From: MAILER-DAEMON@example.test\r\nSubject: marker-triple\r\n\r\nreport\r\n"
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
            client.ehlo("client.example")
            client.login("demo", "demo")
            client.sendmail("", ["gone-first@plain.test"], text.encode())
        site.wait_for("addr=<gone-first@plain.test>: bounced", timeout=40)
        site.wait_for("DSN (failed) to <postmaster>", timeout=20)
        site.wait_for("addr=<gone-pm@plain.test>: bounced", timeout=40)
        site.wait_for("no DSN for a double bounce", timeout=20)
        time.sleep(1)
        assert not any("DSN (failed)" in line for line in site.log if "postmaster" not in line), site.log
        assert sum("DSN (failed)" in line for line in site.log) == 1
    finally:
        site.stop()


def test_notify_never_to_a_server_without_dsn_goes_from_the_null_sender(tmp_path, peers):
    """aiosmtpd announces no DSN, so NOTIFY=NEVER cannot be passed on: as Courier does, those
    recipients get a transaction of their own with MAIL FROM:<> (no bounce can reach the sender);
    smtp-sink (DSN) gets NOTIFY=NEVER itself, in the one transaction."""
    site = make_site(tmp_path, peers)
    try:
        text = "From: demo@example.test\r\nSubject: marker-never\r\n\r\nquiet please\r\n"
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
            client.ehlo("client.example")
            client.login("demo", "demo")
            client.mail("demo@example.test")
            for address, notify in (("loud@plain.test", []), ("quiet@plain.test", ["NOTIFY=NEVER"]),
                                    ("loud@sink.test", []), ("quiet@sink.test", ["NOTIFY=NEVER"])):
                assert client.rcpt(address, notify)[0] == 250
            assert client.data(text.encode())[0] == 250
        plain = peers["plain"]
        assert wait_until(lambda: len(plain.transactions) == 2)
        # aiosmtpd writes the null sender as "<>".
        assert sorted((t[0].strip("<>"), tuple(t[1])) for t in plain.transactions) == [
            ("", ("quiet@plain.test",)), ("demo@example.test", ("loud@plain.test",))]
        assert wait_until(lambda: any("marker-never" in p.read_text(errors="replace") for p in peers["dumps"].iterdir()))
        dump = next(p.read_text(errors="replace") for p in peers["dumps"].iterdir()
                    if "marker-never" in p.read_text(errors="replace"))
        assert "X-Mail-Args: <demo@example.test>" in dump
        assert "X-Rcpt-Args: <quiet@sink.test> NOTIFY=NEVER" in dump
        assert "X-Rcpt-Args: <loud@sink.test>" in dump
    finally:
        site.stop()


@pytest.mark.parametrize("setting", ["1", "0"])
def test_dsntoauthaddr_sends_reports_to_the_login(tmp_path, peers, setting):
    """courierd `DSNTOAUTHADDR=1`: the bounce of mail from a client that logged in as
    demo@example.test goes to that address, not to the envelope sender it gave; `0` (Courier's
    shipped value) keeps the envelope sender."""
    site = make_site(tmp_path, peers)
    courierd = site.root / "etc" / "courierd"
    site.stop()
    courierd.write_text((courierd.read_text() if courierd.exists() else "") + f"\nDSNTOAUTHADDR={setting}\n")
    site.start()
    try:
        text = "From: someone@elsewhere.test\r\nSubject: marker-authaddr\r\n\r\nbody\r\n"
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
            client.ehlo("client.example")
            client.login("demo@example.test", "demo")
            assert client.sendmail("someone@plain.test", ["gone-auth@plain.test"], text.encode()) == {}
        site.wait_for("addr=<gone-auth@plain.test>: bounced", timeout=40)
        line = site.wait_for("DSN (failed) to <", timeout=20)
        if setting == "1":
            assert "DSN (failed) to <demo@example.test>" in line, line
            assert len(reports(site, "marker-authaddr")) == 1
        else:
            assert "DSN (failed) to <someone@plain.test>" in line, line
    finally:
        site.stop()
