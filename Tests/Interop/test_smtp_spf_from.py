"""BOFHSPFFROM: the SPF check of the `From:` header's address at the end of the header
section (spec/mta.md §2.12 DATA stage, §2.13, §2.15), against a real `courier start`, a real
DNS server (dnsmasq serving test_smtp_bofh's private zone) and Python's smtplib."""
import os
import smtplib
import subprocess

import pytest

from test_smtp_server import COURIER
from test_smtp_bofh import dns, make_site, text_of  # noqa: F401 (dns is a fixture)


def spf_from_site(tmp_path, dns, **variables):
    return make_site(tmp_path, dns, **variables)


def send(site, sender, header, marker, body="hello\r\n", helo="loop.test"):
    """One message with `header` (CRLF lines) in front of a Subject holding `marker`."""
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo(helo)
        assert client.mail(sender)[0] == 250
        assert client.rcpt("demo@example.test")[0] == 250
        data = header + f"To: demo@example.test\r\nSubject: {marker}\r\n"
        if body is not None:
            data += "\r\n" + body
        return client.data(data)


@pytest.fixture(scope="module")
def strict(tmp_path_factory, dns):
    s = spf_from_site(tmp_path_factory.mktemp("strict"), dns, BOFHSPFFROM="pass,none")
    yield s
    s.stop()


def stored_text(site, marker):
    stored = site.messages_containing(marker)
    assert len(stored) == 1
    return stored[0].read_text()


def test_passing_from_gets_received_spf_at_the_end_of_the_header(strict):
    code, _ = send(strict, "bounce@good.test", "From: Someone <someone@pass.test>\r\n", "marker-from-pass",
                   body="body line\r\n")
    assert code == 250
    text = stored_text(strict, "marker-from-pass")
    head, body = text.split("\n\n", 1)
    assert body == "body line\n"
    # Courier's submit adds it after the message's own fields: the last field of the header.
    last = head[head.rindex("Received-SPF:"):]
    assert last.splitlines() == [
        "Received-SPF: pass (pass.test designates 127.0.0.1 as a permitted sender)",
        "  identity=from;", "  SPF=FROM;", "  sender=someone@pass.test;", "  remoteip=127.0.0.1;",
        "  helo=loop.test;", "  receiver=mail.example.test;"]
    assert head.index("Subject: marker-from-pass") < head.index("Received-SPF:")


def test_failing_from_is_refused_at_the_end_of_data(strict):
    with smtplib.SMTP("127.0.0.1", strict.ports["esmtpd"], timeout=20) as client:
        client.ehlo("loop.test")
        client.mail("bounce@good.test")
        client.rcpt("demo@example.test")
        code, reply = client.data("From: \"Fail\" <x@fail.test>\r\nSubject: marker-from-fail\r\n\r\n"
                                  + "long body\r\n" * 20000)
        assert (code, text_of(reply)) == (
            517, "SPF fail x@fail.test: fail.test does not designate 127.0.0.1 as a permitted sender")
        # The session goes on.
        client.mail("bounce@good.test")
        client.rcpt("demo@example.test")
        assert client.data("From: y@pass.test\r\nSubject: marker-from-after\r\n\r\nok\r\n")[0] == 250
    assert len(strict.messages_containing("marker-from-after")) == 1
    assert strict.any_file_containing("marker-from-fail") == []


@pytest.mark.parametrize("header,code", [
    ("From: x@broken.test\r\n", 417),              # permerror ("unknown") is not a hard error
    ("From: x@soft.test\r\n", 517),                # softfail is
    ("From: x@outside.example\r\n", 417),          # temperror ("error"): the DNS server refuses
    ("From: group: x@fail.test, y@pass.test;\r\n", 517),  # the first address counts
    ("From: x@good.test\r\n", 250),                # no SPF record: none
    ("", 250),                                     # no From: nothing to check
])
def test_results(strict, header, code):
    got, reply = send(strict, "bounce@good.test", header, "marker-results")
    assert got == code, reply


def test_header_only_message_is_checked(strict):
    code, reply = send(strict, "bounce@good.test", "From: x@fail.test\r\n", "marker-headonly", body=None)
    assert code == 517, reply
    code, reply = send(strict, "bounce@good.test", "From: x@pass.test\r\n", "marker-headonly-ok", body=None)
    assert code == 250, reply
    assert "identity=from;" in stored_text(strict, "marker-headonly-ok")


def test_forged_received_spf_is_renamed(strict):
    code, _ = send(strict, "bounce@good.test", "Received-SPF: pass (forged)\r\nFrom: x@pass.test\r\n",
                   "marker-from-forged")
    assert code == 250
    text = stored_text(strict, "marker-from-forged")
    assert "Old-Received-SPF: pass (forged)" in text
    assert text.count("\nReceived-SPF:") == 1


def test_mailfromok_skips_the_from_check_after_a_passing_mail_from(tmp_path, dns):
    s = spf_from_site(tmp_path, dns, BOFHSPFMAILFROM="all", BOFHSPFFROM="pass,none,mailfromok")
    try:
        # MAIL FROM passed: the From: is not looked at.
        assert send(s, "list@pass.test", "From: x@fail.test\r\n", "marker-mailfromok")[0] == 250
        text = stored_text(s, "marker-mailfromok")
        assert "identity=mailfrom;" in text and "identity=from;" not in text
        # MAIL FROM gave none: the From: is checked.
        assert send(s, "list@good.test", "From: x@fail.test\r\n", "marker-mailfromok-2")[0] == 517
    finally:
        s.stop()


def test_quiet_text_hard_error_list_and_all(tmp_path, dns):
    s = spf_from_site(tmp_path / "quiet", dns, BOFHSPFFROM="pass", BOFHSPFNOVERBOSE="1",
                      BOFHSPFHARDERROR="fail,softfail,none")
    try:
        code, reply = send(s, "b@good.test", "From: x@fail.test\r\n", "marker-quiet")
        assert (code, text_of(reply)) == (517, "SPF fail x@fail.test: Rejected by the Sender Policy Framework.")
        assert send(s, "b@good.test", "From: x@good.test\r\n", "marker-quiet-none")[0] == 517
    finally:
        s.stop()
    s = spf_from_site(tmp_path / "all", dns, BOFHSPFFROM="all")
    try:
        assert send(s, "b@good.test", "From: x@fail.test\r\n", "marker-all")[0] == 250
        assert "Received-SPF: fail (" in stored_text(s, "marker-all")
    finally:
        s.stop()


def test_trustme_skips_relay_clients(tmp_path, dns):
    s = spf_from_site(tmp_path, dns, BOFHSPFFROM="pass,none", BOFHSPFTRUSTME="1")
    try:
        # Not a relay client yet: checked.
        assert send(s, "b@good.test", "From: x@fail.test\r\n", "marker-trustme-0")[0] == 517
        access = s.root / "etc" / "smtpaccess" / "default"
        access.write_text(access.read_text().replace("127.0.0.1\tallow", "127.0.0.1\tallow,RELAYCLIENT"))
        env = dict(os.environ, COURIER_ROOT=str(s.root))
        result = subprocess.run([str(COURIER), "makesmtpaccess"], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        s.wait_for("configuration reloaded")
        # RELAYCLIENT with BOFHSPFTRUSTME=1: no SPF for this client.
        assert send(s, "b@good.test", "From: x@fail.test\r\n", "marker-trustme")[0] == 250
        assert "identity=from;" not in stored_text(s, "marker-trustme")
    finally:
        s.stop()


def test_bdat_chunks_get_the_same_from_check(strict):
    """RFC 3030 BDAT: the header section split over chunks, the check runs where it ends."""
    from test_smtp_server import Raw
    from test_smtp_bdat import bdat, open_transaction

    def transaction(from_line, marker):
        raw = Raw(strict.ports["esmtpd"])
        open_transaction(raw, sender="bounce@good.test")
        head = f"{from_line}\r\nSubject: {marker}\r\n".encode()
        raw.send(bdat(head[:9]) + bdat(head[9:] + b"\r\nbody one\r\n") + bdat(b"body two\r\n", last=True))
        codes = [raw.reply() for _ in range(3)]
        raw.close()
        return codes

    codes = transaction("From: x@fail.test", "marker-bdat-fail")
    assert [c[0] for c in codes] == [250, 250, 517]
    assert b"SPF fail x@fail.test" in codes[2][1][0]
    codes = transaction("From: x@pass.test", "marker-bdat-pass")
    assert [c[0] for c in codes] == [250, 250, 250]
    text = stored_text(strict, "marker-bdat-pass")
    assert "identity=from;" in text and text.endswith("\n\nbody one\nbody two\n")
    assert strict.any_file_containing("marker-bdat-fail") == []
