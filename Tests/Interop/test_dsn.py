"""Delivery status notifications on a real `courier start` demo site: permanent local failures
after acceptance (unknown mailbox, a program exiting with a permanent code) come back to the
sender as RFC 3464 reports, parsed here with Python's email package; NOTIFY=SUCCESS produces a
"delivered" report; NOTIFY=NEVER and the null sender produce none; RET, ENVID and ORCPT are kept.
"""
import email
import email.policy
import os
import subprocess
import time

import pytest

from test_smtp_server import Raw, Site, COURIER, site  # noqa: F401 (the shared pytest fixture)


def sendmail(site, message, *args):
    env = dict(os.environ, COURIER_ROOT=str(site.root))
    result = subprocess.run([str(COURIER), "sendmail", *args], input=message, env=env, capture_output=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr


def reports(site, marker, timeout=20):
    """The DSNs in the demo Maildir that mention `marker`, parsed."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for path in site.stored_messages():
            data = path.read_bytes()
            if marker.encode() in data and b"multipart/report" in data:
                found.append(email.message_from_bytes(data, policy=email.policy.default))
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def status_fields(report):
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    parts = list(report.iter_parts())
    assert [p.get_content_type() for p in parts][:2] == ["text/plain", "message/delivery-status"]
    status = parts[1]
    # email parses message/delivery-status into a list of header blocks: per message, per recipient.
    blocks = status.get_payload()
    return parts, blocks[0], blocks[1:]


def test_unknown_mailbox_after_acceptance_bounces_to_sender(site):
    marker = "marker-dsn-unknown"
    message = f"From: demo@example.test\nTo: nobody-here@example.test\nSubject: {marker}\n\nbody {marker}\n".encode()
    sendmail(site, message, "-f", "demo@example.test", "nobody-here@example.test")
    found = reports(site, marker)
    assert len(found) == 1
    report = found[0]
    assert report["Subject"] == "NOTICE: mail delivery status."
    assert "Courier mail server at" in report["From"]
    parts, per_message, recipients = status_fields(report)
    assert per_message["Reporting-MTA"].startswith("dns; ")
    assert len(recipients) == 1
    assert recipients[0]["Final-Recipient"] == "rfc822; nobody-here@example.test"
    assert recipients[0]["Action"] == "failed"
    assert recipients[0]["Status"] == "5.0.0"
    assert "unknown" in recipients[0]["Diagnostic-Code"]
    # The whole original comes back (small, RET not HDRS).
    assert parts[2].get_content_type() == "message/rfc822"
    original = parts[2].get_payload()[0]
    assert original["Subject"] == marker
    # The report itself has the null sender.
    raw = [p.read_bytes() for p in site.stored_messages() if b"multipart/report" in p.read_bytes()][0]
    assert raw.split(b"\n")[1] == b"Return-Path: <>"


def test_program_exit_100_bounces_with_headers_only_for_ret_hdrs(site):
    home = site.root / "mail" / "example.test" / "demo"
    (home / ".courier-fail").write_text("| exit 100\n")
    marker = "marker-dsn-program"
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\nMAIL FROM:<demo@example.test> RET=HDRS ENVID=env+2Did-7\r\n"
             b"RCPT TO:<demo-fail@example.test> ORCPT=rfc822;Demo-Fail+40example.test\r\nDATA\r\n")
    assert [raw.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    raw.send(f"Subject: {marker}\r\n\r\nsecret body text\r\n.\r\nQUIT\r\n".encode())
    assert raw.reply()[0] == 250
    raw.close()
    found = reports(site, marker)
    assert len(found) == 1
    parts, per_message, recipients = status_fields(found[0])
    assert per_message["Original-Envelope-Id"] == "env-id-7"
    assert recipients[0]["Action"] == "failed"
    assert recipients[0]["Original-Recipient"] == "rfc822; Demo-Fail@example.test"
    assert parts[2].get_content_type() == "text/rfc822-headers"
    assert b"secret body text" not in parts[2].get_payload(decode=True)


def test_notify_success_produces_delivered_report(site):
    marker = "marker-dsn-success"
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\nMAIL FROM:<demo@example.test>\r\n"
             b"RCPT TO:<demo@example.test> NOTIFY=SUCCESS,FAILURE\r\nDATA\r\n")
    assert [raw.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    raw.send(f"Subject: {marker}\r\n\r\nhello\r\n.\r\nQUIT\r\n".encode())
    assert raw.reply()[0] == 250
    raw.close()
    found = reports(site, marker)
    assert len(found) == 1
    parts, _, recipients = status_fields(found[0])
    assert recipients[0]["Action"] == "delivered"
    assert recipients[0]["Status"] == "2.0.0"
    # Success reports carry the header only.
    assert parts[2].get_content_type() == "text/rfc822-headers"


def test_notify_never_produces_no_report_and_a_null_sender_failure_goes_to_postmaster(site):
    """NOTIFY=NEVER: nothing. The null sender: no report to it; Courier's "double bounce" goes
    to the postmaster (demo on the demo site) from `#@[]` (spec/mta.md §4.8)."""
    sendmail(site, b"Subject: marker-dsn-never\n\nx\n", "-f", "demo@example.test", "-N", "never", "nobody-a@example.test")
    sendmail(site, b"Subject: marker-dsn-null\n\nx\n", "-f", "", "nobody-b@example.test")
    site.wait_for("nobody-b@example.test>: bounced")
    site.wait_for("DSN (failed) to <postmaster>")
    time.sleep(1)
    assert reports(site, "marker-dsn-never", timeout=0) == []
    found = reports(site, "marker-dsn-null")
    assert len(found) == 1
    assert found[0]["Return-Path"] == "<#@[]>"
    parts, per_message, recipients = status_fields(found[0])
    assert [r["Final-Recipient"] for r in recipients] == ["rfc822; nobody-b@example.test"]


def mailq(site):
    env = dict(os.environ, COURIER_ROOT=str(site.root))
    return subprocess.run([str(COURIER), "mailq"], env=env, capture_output=True, text=True, timeout=30).stdout


def test_delayed_mail_warning_once_after_warntime(tmp_path):
    """A remote recipient that keeps deferring (the site's esmtproutes point at a closed port):
    once `warntime` has passed the sender gets exactly one "delayed" report, the message stays
    queued and keeps being retried, and a restart does not send the warning again."""
    def configure(etc):
        (etc / "warntime").write_text("3s\n")
        # Retries every second, so passes keep coming after the warning.
        (etc / "retryalpha").write_text("1s\n")
        (etc / "retrygamma").write_text("1s\n")
        (etc / "retrymaxdelta").write_text("0\n")

    site = Site(tmp_path / "site", configure=configure)
    try:
        marker = "marker-dsn-delayed"
        message = (f"From: demo@example.test\nTo: someone@remote.example\nSubject: {marker}\n\n"
                   f"body {marker}\n").encode()
        sendmail(site, message, "-f", "demo@example.test", "someone@remote.example")
        site.wait_for("DSN (delayed) to <demo@example.test> queued as", timeout=60)
        found = reports(site, marker)
        assert len(found) == 1
        report = found[0]
        assert report["Subject"] == "WARNING: delayed mail."
        parts, per_message, recipients = status_fields(report)
        assert per_message["Reporting-MTA"].startswith("dns; ")
        assert len(recipients) == 1
        assert recipients[0]["Final-Recipient"] == "rfc822; someone@remote.example"
        assert recipients[0]["Action"] == "delayed"
        assert recipients[0]["Status"].startswith("4.")
        assert recipients[0]["Will-Retry-Until"]
        # A warning returns the header only.
        assert parts[2].get_content_type() == "text/rfc822-headers"
        assert marker in parts[2].get_content()
        assert f"body {marker}" not in parts[2].get_content()

        # More passes after the warning: no second one.
        for _ in range(3):
            site.wait_for("addr=<someone@remote.example>: deferred")
        assert sum("DSN (delayed)" in line for line in site.log) == 1
        # The warned state survives a restart (`site.log` keeps every run's lines).
        before_restart = len(site.log)
        site.restart()
        for _ in range(2):
            site.wait_for("addr=<someone@remote.example>: deferred")
        time.sleep(1)
        assert len(reports(site, marker, timeout=0)) == 1
        assert not any("DSN (delayed)" in line for line in site.log[before_restart:]), "warned again after the restart"
        queued = mailq(site)
        assert "someone@remote.example" in queued
        assert queued.endswith("1 message in the queue.\n"), queued
    finally:
        site.stop()
