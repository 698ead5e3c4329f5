"""ONE message to nine recipients in seven domains, each with its own fate, on a real `courier
start` site (spec/mta.md §5.3.7, §4.8):

| recipient | peer | outcome |
| ann@pf.test | Debian's Postfix (private instance, postfix_peer.py) | delivered to its Maildir |
| nobody@pf.test | Postfix: 550 5.1.1 at RCPT | bounced |
| ok@sink.test | Postfix's smtp-sink | delivered |
| ok@plain.test | aiosmtpd | delivered |
| later@plain.test | aiosmtpd: 450 at RCPT | deferred (in mailq) |
| gone@plain.test | aiosmtpd: 550 at RCPT | bounced |
| x@drop.test | asyncio script hanging up mid-DATA | deferred |
| y@nullmx.test | RFC 7505 null MX in dnsmasq | bounced |
| z@nosuch.test | NXDOMAIN from dnsmasq | bounced |

The four failures come back in ONE delivery status notification, each with its own reason;
the deferred two stay queued; the delivered ones are at their peers, once each.
"""
import email
import email.policy
import pathlib
import shutil
import smtplib
import subprocess
import tempfile
import time

import pytest
from aiosmtpd.controller import Controller

from postfix_peer import PostfixPeer
from test_dns import start_dnsmasq
from test_outbound import DropMidData, Recorder, mailq, wait_until
from test_outbound_peers import port_free_on
from test_smtp_server import Site


@pytest.fixture()
def world(tmp_path, monkeypatch):
    postfix = PostfixPeer(mail_domains=("pf.test",), mailboxes=("ann@pf.test",))
    dns, server = start_dnsmasq(["--mx-host=nullmx.test,.,0"])
    monkeypatch.setenv("DNS_SERVER", server)
    ports = {"sink": port_free_on("127.0.0.3"), "plain": port_free_on("127.0.0.2"), "drop": port_free_on("127.0.0.4")}
    plain = Recorder(picky=True)
    controller = Controller(plain, hostname="127.0.0.2", port=ports["plain"])
    controller.start()
    dropper = DropMidData("127.0.0.4", ports["drop"])
    dumps = pathlib.Path(tempfile.mkdtemp(prefix="sink-"))
    dumps.chmod(0o777)
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", "-d", str(dumps / "m"), f"127.0.0.3:{ports['sink']}", "20"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    routes = (f"pf.test: [127.0.0.1],{postfix.port}\n"
              f"sink.test: [127.0.0.3],{ports['sink']}\n"
              f"plain.test: [127.0.0.2],{ports['plain']}\n"
              f"drop.test: [127.0.0.4],{ports['drop']}\n")
    site = Site(tmp_path / "site", configure=lambda etc: (etc / "esmtproutes").write_text(routes))
    yield {"site": site, "postfix": postfix, "plain": plain, "dropper": dropper, "dumps": dumps}
    site.stop()
    sink.terminate()
    sink.wait(timeout=10)
    controller.stop()
    dropper.stop()
    dns.terminate()
    dns.wait(timeout=10)
    postfix.stop()
    shutil.rmtree(dumps, ignore_errors=True)


RECIPIENTS = ["ann@pf.test", "nobody@pf.test", "ok@sink.test", "ok@plain.test", "later@plain.test",
              "gone@plain.test", "x@drop.test", "y@nullmx.test", "z@nosuch.test"]


def test_one_message_many_domains_each_outcome(world):
    site = world["site"]
    text = ("From: Demo <demo@example.test>\r\nTo: many recipients:;\r\nSubject: marker-many\r\n"
            "Message-ID: <marker-many@example.test>\r\n\r\nOne message, many fates.\r\n")
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        client.login("demo", "demo")
        assert client.sendmail("demo@example.test", RECIPIENTS, text.encode()) == {}

    # Delivered: Postfix's Maildir, smtp-sink's dump, aiosmtpd's transaction.
    deadline = time.monotonic() + 40
    while not world["postfix"].maildir_messages("ann@pf.test") and time.monotonic() < deadline:
        time.sleep(0.2)
    stored = world["postfix"].maildir_messages("ann@pf.test")
    assert len(stored) == 1 and b"marker-many" in stored[0].read_bytes(), world["postfix"].log()[-2000:]
    assert wait_until(lambda: any(b"marker-many" in p.read_bytes() for p in world["dumps"].iterdir()))
    sink_dumps = [p.read_text(errors="replace") for p in world["dumps"].iterdir()]
    assert sum("X-Rcpt-Args: <ok@sink.test>" in d for d in sink_dumps) == 1
    assert wait_until(lambda: world["plain"].transactions)
    assert [t[1] for t in world["plain"].transactions] == [["ok@plain.test"]]
    assert world["dropper"].seen_data.wait(40)

    # Every recipient's fate in the log.
    expected = {
        "ann@pf.test": "delivered", "ok@sink.test": "delivered", "ok@plain.test": "delivered",
        "later@plain.test": "deferred", "x@drop.test": "deferred",
        "nobody@pf.test": "bounced", "gone@plain.test": "bounced", "y@nullmx.test": "bounced", "z@nosuch.test": "bounced",
    }
    seen = {}
    deadline = time.monotonic() + 60
    while len(seen) < len(expected) and time.monotonic() < deadline:
        try:
            line = site.lines.get(timeout=0.5)
        except Exception:
            continue
        for address in expected:
            if f"addr=<{address}>" in line and address not in seen:
                seen[address] = line
    for address, fate in expected.items():
        assert address in seen, f"no log line for {address}"
        assert f": {fate}: " in seen[address], seen[address]

    # ONE report for the four failures, each with its own reason.
    deadline = time.monotonic() + 40
    reports = []
    while time.monotonic() < deadline:
        reports = [p for p in site.stored_messages() if b"marker-many" in p.read_bytes()]
        if reports:
            break
        time.sleep(0.2)
    time.sleep(1)
    reports = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
               for p in site.stored_messages() if b"marker-many" in p.read_bytes()]
    assert len(reports) == 1
    status = next(p for p in reports[0].iter_parts() if p.get_content_type() == "message/delivery-status")
    blocks = {b["Final-Recipient"].split("; ", 1)[1]: b for b in status.get_payload()[1:]}
    assert sorted(blocks) == ["gone@plain.test", "nobody@pf.test", "y@nullmx.test", "z@nosuch.test"]
    assert all(b["Action"] == "failed" for b in blocks.values())
    assert blocks["nobody@pf.test"]["Status"] == "5.1.1"
    assert "User unknown" in blocks["nobody@pf.test"]["Diagnostic-Code"]
    assert blocks["gone@plain.test"]["Diagnostic-Code"] == "smtp; 550 5.1.1 no such user here"
    assert "Domain does not receive mail." in blocks["y@nullmx.test"]["Diagnostic-Code"]
    assert "No such domain." in blocks["z@nosuch.test"]["Diagnostic-Code"]
    # The text part: Courier's transcript, the server, our command, its reply.
    human = reports[0].get_payload()[0].get_content()
    assert "<gone@plain.test>:\n     [127.0.0.2]:\n >>> RCPT TO:<gone@plain.test>\n <<< 550 5.1.1 no such user here" in human, human
    assert " >>> RCPT TO:<nobody@pf.test>" in human, human
    # The whole (small) original comes back with a failure report.
    assert "One message, many fates." in reports[0].get_payload()[-1].as_string()

    # The two deferred recipients keep the message queued.
    queued = mailq(site)
    for address in ("later@plain.test", "x@drop.test"):
        assert f"<{address}> deferred" in queued, queued
    for address in ("ann@pf.test", "ok@sink.test", "ok@plain.test"):
        assert f"<{address}> delivered" in queued, queued
