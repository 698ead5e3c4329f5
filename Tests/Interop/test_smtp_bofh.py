"""Sender and recipient policy of the SMTP server against a real `courier start` and a real
DNS server (Debian's dnsmasq serving a private zone): the `bofh` file (badfrom, badmx,
spamtrap, maxrcpts, opt), BOFHCHECKDNS, BOFHCHECKHELO and DNS block lists (BLACKLISTS),
with Python's smtplib as the client (spec/mta.md §2.12, §2.14, §2.17)."""
import os
import re
import signal
import subprocess
import smtplib

import pytest

from test_dns import start_dnsmasq
from test_smtp_server import COURIER, Site, message, set_variable

ZONE = [
    # good.test: a sane MX; badmx.test: its MX is a blocked server; literal.test: an MX
    # that names an IP address (RFC 1035 §3.3.9); nullmx.test: RFC 7505; plain.test: no MX,
    # an address (implicit MX). nothing.test does not exist.
    "--mx-host=good.test,mx.good.test,10",
    "--host-record=mx.good.test,192.0.2.10",
    "--mx-host=badmx.test,mx.badmx.test,10",
    "--host-record=mx.badmx.test,192.0.2.66",
    "--mx-host=literal.test,192.0.2.77,10",
    "--mx-host=nullmx.test,.,0",
    "--host-record=plain.test,192.0.2.9",
    # HELO names: loop.test is this client (127.0.0.1), elsewhere.test is not.
    "--host-record=loop.test,127.0.0.1",
    "--host-record=elsewhere.test,192.0.2.200",
    # DNS block lists: 127.0.0.1 is listed in bl.test (with a TXT reason), not in clean.test.
    "--host-record=1.0.0.127.bl.test,127.0.0.2",
    "--txt-record=1.0.0.127.bl.test,listed for testing",
    "--host-record=1.0.0.127.txtbl.test,127.0.0.2",
    "--txt-record=1.0.0.127.txtbl.test,your address is on txtbl",
    # SPF (RFC 7208) records.
    "--txt-record=pass.test,v=spf1 ip4:127.0.0.0/8 -all",
    "--txt-record=fail.test,v=spf1 ip4:192.0.2.0/24 -all",
    "--txt-record=soft.test,v=spf1 ~all",
    "--txt-record=inc.test,v=spf1 include:pass.test -all",
    "--mx-host=mxspf.test,mx.mxspf.test,10",
    "--host-record=mx.mxspf.test,127.0.0.1",
    "--txt-record=mxspf.test,v=spf1 mx -all",
    "--txt-record=explain.test,v=spf1 -all exp=why.%{d}",
    "--txt-record=why.explain.test,%{i} is not one of %{d}'s servers",
    "--txt-record=broken.test,v=spf1 bogus-mechanism -all",
    "--txt-record=loop.test,v=spf1 a -all",
    "--txt-record=elsewhere.test,v=spf1 a -all",
    "--txt-record=redir.test,v=spf1 redirect=fail.test",
]

BOFH = """# bofh for the tests
badfrom spammer@example.org
badfrom @junk.test
badfrom @.sub.test   # any subdomain
badmx 192.0.2.66
spamtrap trap@example.test
maxrcpts 3 hard
"""


@pytest.fixture(scope="module")
def dns():
    proc, address = start_dnsmasq(ZONE)
    yield address
    proc.terminate()
    proc.wait(timeout=10)


def make_site(tmp_path, dns, **variables):
    if not COURIER.exists():
        pytest.fail(f"{COURIER} does not exist: run swift build first")

    def configure(etc):
        (etc / "bofh").write_text(BOFH)
        set_variable(etc / "esmtpd", "DNS_SERVER", dns)
        for name, value in variables.items():
            set_variable(etc / "esmtpd", name, value)
        # Postmaster and a second local address for the spam trap test.
        (etc / "aliases" / "trap").write_text("trap: demo\nteam: demo, inner\ninner: trap@example.test\n")
    return Site(tmp_path / "site", configure=configure)


@pytest.fixture()
def site(tmp_path, dns):
    s = make_site(tmp_path, dns, BOFHCHECKDNS="1")
    yield s
    s.stop()


def text_of(reply):
    """A reply's text without its RFC 3463 enhanced status code (ENHANCEDSTATUSCODES)."""
    return "\n".join(re.sub(r"^[245]\.\d{1,3}\.\d{1,3} ", "", line) for line in reply.decode().split("\n"))


def mail_reply(site, sender, helo="client.example"):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo(helo)
        return client.mail(sender)


@pytest.mark.parametrize("sender", ["spammer@example.org", "anyone@junk.test", "x@deep.sub.test"])
def test_badfrom_refuses_the_sender(site, sender):
    code, reply = mail_reply(site, sender)
    assert code == 517, reply
    assert text_of(reply) == f"Sender rejected: {sender}"


@pytest.mark.parametrize("sender", ["someone@good.test", "x@plain.test"])
def test_other_senders_pass(site, sender):
    code, reply = mail_reply(site, sender)
    assert code == 250, reply


def test_null_sender_is_not_checked(site):
    assert mail_reply(site, "")[0] == 250


def test_nonexistent_sender_domain(site):
    code, reply = mail_reply(site, "a@nothing.test")
    assert code == 517
    assert text_of(reply).splitlines() == [
        "Domain does not exist: nothing.test.",
        "Invalid domain, see <URL:https://datatracker.ietf.org/doc/html/rfc1035>"]


def test_badmx_refuses_domains_served_by_that_server(site):
    code, reply = mail_reply(site, "a@badmx.test")
    assert (code, text_of(reply)) == (517, "Mail server at 192.0.2.66 is blocked.")


def test_mx_naming_an_address_violates_rfc1035(site):
    code, reply = mail_reply(site, "a@literal.test")
    assert code == 517
    assert text_of(reply).splitlines()[0] == "MX records for literal.test violate section 3.3.9 of RFC 1035."


def test_null_mx_sender_cannot_take_bounces(site):
    code, _ = mail_reply(site, "a@nullmx.test")
    assert code == 517


def test_spamtrap_refuses_the_whole_message(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo("client.example")
        client.mail("someone@good.test")
        assert client.rcpt("demo@example.test")[0] == 250
        assert client.rcpt("trap@example.test")[0] == 250
        code, reply = client.data(message("marker-trapped"))
        assert (code, reply.decode()) == (550, "5.7.1 Spam refused.")  # RFC 2034 after EHLO
        # The session goes on: the next message without the trap is delivered.
        client.mail("someone@good.test")
        assert client.rcpt("demo@example.test")[0] == 250
        assert client.data(message("marker-after-trap"))[0] == 250
    assert len(site.messages_containing("marker-after-trap")) == 1
    assert site.messages_containing("marker-trapped", timeout=2) == []


def test_spamtrap_behind_an_alias_refuses_the_message(site):
    """Courier matches spam traps after alias expansion: team -> inner -> trap@example.test."""
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo("client.example")
        client.mail("someone@good.test")
        assert client.rcpt("team@example.test")[0] == 250
        code, reply = client.data(message("marker-trapped-alias"))
        assert (code, text_of(reply)) == (550, "Spam refused.")
    assert site.messages_containing("marker-trapped-alias", timeout=2) == []


def test_maxrcpts_hard(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo("client.example")
        client.mail("someone@good.test")
        for _ in range(3):
            assert client.rcpt("demo@example.test")[0] == 250
        code, reply = client.rcpt("demo@example.test")
        assert (code, text_of(reply)) == (531, "Too many recipients.")
        assert client.data(message("marker-three-rcpts"))[0] == 250


def test_bofhcheckdns_off_accepts_unknown_domains(tmp_path, dns):
    s = make_site(tmp_path, dns, BOFHCHECKDNS="0")
    try:
        assert mail_reply(s, "a@nothing.test")[0] == 250
        # badfrom applies regardless of DNS checks; @.sub.test is for subdomains only, and
        # other users at a listed user's domain pass.
        assert mail_reply(s, "anyone@junk.test")[0] == 517
        assert mail_reply(s, "anyone@sub.test")[0] == 250
        assert mail_reply(s, "other@example.org")[0] == 250
    finally:
        s.stop()


def test_helo_check(tmp_path, dns):
    s = make_site(tmp_path, dns, BOFHCHECKDNS="0", BOFHCHECKHELO="1")
    try:
        code, reply = mail_reply(s, "a@good.test", helo="elsewhere.test")
        assert (code, text_of(reply)) == (517, "HELO elsewhere.test does not match 127.0.0.1")
        code, reply = mail_reply(s, "a@good.test", helo="nothing.test")
        assert (code, text_of(reply)) == (517, "HELO nothing.test does not exist.")
        assert mail_reply(s, "a@good.test", helo="loop.test")[0] == 250
        assert mail_reply(s, "a@good.test", helo="[127.0.0.1]")[0] == 250
    finally:
        s.stop()


def test_helo_check_temporary_variant(tmp_path, dns):
    s = make_site(tmp_path, dns, BOFHCHECKDNS="0", BOFHCHECKHELO="2")
    try:
        assert mail_reply(s, "a@good.test", helo="elsewhere.test")[0] == 417
    finally:
        s.stop()


def rcpt_reply(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo("client.example")
        assert client.mail("a@good.test")[0] == 250
        return client.rcpt("demo@example.test")


def test_dns_block_list_refuses_recipients(tmp_path, dns):
    s = make_site(tmp_path, dns, BLACKLISTS='"-block=clean.test -block=bl.test"')
    try:
        code, reply = rcpt_reply(s)
        assert (code, text_of(reply)) == (511, "Blacklisted by bl.test")
        assert "zone=bl.test" in s.wait_for("block,ip=[127.0.0.1]")
    finally:
        s.stop()


def test_dns_block_list_message_from_txt_and_own_code(tmp_path, dns):
    s = make_site(tmp_path, dns, BLACKLISTS='"-block=txtbl.test,BLOCK,*"')
    try:
        code, reply = rcpt_reply(s)
        assert (code, text_of(reply)) == (511, "your address is on txtbl")
    finally:
        s.stop()
    s = make_site(tmp_path / "b", dns, BLACKLISTS="'-block=bl.test,BLOCK,\"451 come back later\"'")
    try:
        code, reply = rcpt_reply(s)
        assert (code, text_of(reply)) == (451, "come back later")
    finally:
        s.stop()


def test_allow_list_shields_from_later_blocks(tmp_path, dns):
    s = make_site(tmp_path, dns, BLACKLISTS='"-allow=bl.test -block=txtbl.test"')
    try:
        code, reply = rcpt_reply(s)
        assert code == 250, reply
    finally:
        s.stop()


FORGED = ("Return-Path: <forged@evil.test>\r\nAuthentication-Results: mx.evil.test; dnswl=pass\r\n"
          "Received-SPF: pass (forged)\r\n")


def send_forged(site, marker, helo="client.example", sender="a@good.test"):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo(helo)
        assert client.mail(sender)[0] == 250
        assert client.rcpt("demo@example.test")[0] == 250
        assert client.data(FORGED + message(marker))[0] == 250
    stored = site.messages_containing(marker)
    assert len(stored) == 1
    return stored[0].read_text()


def header_names(text):
    return [line.split(":", 1)[0] for line in text.split("\n\n", 1)[0].split("\n") if line and line[0] not in " \t"]


def test_allow_list_hit_is_reported_in_authentication_results(tmp_path, dns):
    """spec/mta.md §2.13: an -allow hit gives Authentication-Results (zone, address, TXT) below
    Received; with ALLOW_EXCLUSIVE=1 the sender's own one becomes Old-Authentication-Results."""
    s = make_site(tmp_path, dns, BLACKLISTS='"-allow=bl.test,BLOCK,"', ALLOW_EXCLUSIVE="1")
    try:
        text = send_forged(s, "marker-allow")
        names = header_names(text)
        assert names.count("Authentication-Results") == 1, names
        assert names.index("Received") < names.index("Authentication-Results") < names.index("Old-Authentication-Results")
        ours = text[text.index("Authentication-Results:"):]
        assert ours.startswith("Authentication-Results: ") and "dnswl=pass dns.zone=bl.test" in ours
        assert "policy.ip=127.0.0.2" in ours and 'policy.txt="listed for testing"' in ours
        assert "Old-Authentication-Results: mx.evil.test; dnswl=pass" in text
        # the envelope sender is the one Return-Path; the sender's is kept under another name
        assert names.count("Return-Path") == 1 and "\nReturn-Path: <a@good.test>\n" in text
        assert "Old-Return-Path: <forged@evil.test>" in text
        # no SPF checking here: a Received-SPF from outside is left alone
        assert "\nReceived-SPF: pass (forged)" in text
    finally:
        s.stop()


def test_without_allow_exclusive_the_senders_authentication_results_stay(tmp_path, dns):
    s = make_site(tmp_path, dns, BLACKLISTS='"-allow=bl.test"')
    try:
        text = send_forged(s, "marker-allow2")
        assert header_names(text).count("Authentication-Results") == 2
        assert "policy.ip=127.0.0.2" in text and "policy.txt" not in text
    finally:
        s.stop()


def test_unlisted_client_is_not_blocked(tmp_path, dns):
    s = make_site(tmp_path, dns, BLACKLISTS='"-block=clean.test"')
    try:
        assert rcpt_reply(s)[0] == 250
    finally:
        s.stop()


def test_sighup_applies_an_edited_bofh_to_new_connections(site):
    assert mail_reply(site, "fresh@good.test")[0] == 250
    (site.root / "etc" / "bofh").write_text(BOFH + "badfrom fresh@good.test\n")
    site.proc.send_signal(signal.SIGHUP)
    site.wait_for("configuration reloaded")
    code, reply = mail_reply(site, "fresh@good.test")
    assert (code, text_of(reply)) == (517, "Sender rejected: fresh@good.test")


def test_bad_bofh_line_is_reported_with_its_line(tmp_path, dns):
    site = make_site(tmp_path, dns)
    try:
        (site.root / "etc" / "bofh").write_text("badfrom @junk.test\nmaxrcpts lots\n")
        site.proc.send_signal(signal.SIGHUP)
        line = site.wait_for("reload failed")
        assert "bofh:2" in line and "maxrcpts" in line
        # The previous configuration stays in force.
        assert mail_reply(site, "anyone@junk.test")[0] == 517
    finally:
        site.stop()


def test_makesmtpaccess_reloads_the_running_server(site):
    assert rcpt_reply(site)[0] == 250
    access = site.root / "etc" / "smtpaccess" / "default"
    access.write_text(access.read_text().replace("127.0.0.1\tallow", '127.0.0.1\tallow,BLOCK="550 blocked by smtpaccess"'))
    env = dict(os.environ, COURIER_ROOT=str(site.root))
    result = subprocess.run([str(COURIER), "makesmtpaccess"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "told the running courier" in result.stdout
    site.wait_for("configuration reloaded")
    code, reply = rcpt_reply(site)
    assert (code, text_of(reply)) == (550, "blocked by smtpaccess")


def test_second_start_on_the_same_root_is_refused(site):
    pid = int((site.root / "var" / "courier.pid").read_text())
    assert pid == site.proc.pid
    result = subprocess.run([str(COURIER), "start", "--root", str(site.root)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"another courier start runs on this root (pid {pid}" in result.stderr
    # The first one still serves.
    assert mail_reply(site, "a@good.test")[0] == 250


def spf_site(tmp_path, dns, **variables):
    return make_site(tmp_path, dns, BOFHSPFMAILFROM="pass,none,neutral", **variables)


@pytest.mark.parametrize("sender,code,text", [
    ("a@pass.test", 250, None),
    ("a@inc.test", 250, None),
    ("a@mxspf.test", 250, None),
    ("a@good.test", 250, None),            # no SPF record: none
    ("a@fail.test", 517, "SPF fail a@fail.test: fail.test does not designate 127.0.0.1 as a permitted sender"),
    ("a@redir.test", 517, "SPF fail a@redir.test: redir.test does not designate 127.0.0.1 as a permitted sender"),
    ("a@soft.test", 517, None),
    ("a@explain.test", 517, "SPF fail a@explain.test: 127.0.0.1 is not one of explain.test's servers"),
    ("a@broken.test", 417, None),          # permerror ("unknown"): not a hard error by default
    ("a@outside.example", 417, None),      # temperror ("error"): the DNS server refuses
])
def test_spf_mail_from(tmp_path, dns, sender, code, text):
    s = spf_site(tmp_path, dns)
    try:
        got, reply = mail_reply(s, sender)
        assert got == code, reply
        if text:
            assert text_of(reply) == text
    finally:
        s.stop()


def test_spf_results_are_recorded_in_received_spf(tmp_path, dns):
    s = spf_site(tmp_path, dns, BOFHSPFHELO="all")
    try:
        with smtplib.SMTP("127.0.0.1", s.ports["esmtpd"], timeout=20) as client:
            client.ehlo("loop.test")
            assert client.mail("a@pass.test")[0] == 250
            assert client.rcpt("demo@example.test")[0] == 250
            assert client.data(message("marker-spf"))[0] == 250
        stored = s.messages_containing("marker-spf")
        assert len(stored) == 1
        text = stored[0].read_text()
        first = text.index("Received-SPF: pass")
        assert text.index("Received-SPF: pass", first + 1) < text.index("Received: from loop.test")
        assert "identity=helo;" in text and "identity=mailfrom;" in text
        assert "sender=a@pass.test;" in text and "remoteip=127.0.0.1;" in text and "helo=loop.test;" in text
    finally:
        s.stop()


def test_received_spf_from_outside_is_renamed_when_we_check_spf(tmp_path, dns):
    s = spf_site(tmp_path, dns)
    try:
        text = send_forged(s, "marker-spf-old", helo="loop.test", sender="a@pass.test")
        names = header_names(text)
        assert names.count("Received-SPF") == 1 and names.index("Received-SPF") < names.index("Received")
        assert "Old-Received-SPF: pass (forged)" in text
    finally:
        s.stop()


def test_spf_helo_and_quiet_refusals(tmp_path, dns):
    s = make_site(tmp_path, dns, BOFHSPFHELO="pass,none", BOFHSPFNOVERBOSE="1")
    try:
        code, reply = mail_reply(s, "a@good.test", helo="elsewhere.test")
        assert (code, text_of(reply)) == (517, "SPF fail elsewhere.test: Rejected by the Sender Policy Framework.")
        assert mail_reply(s, "a@good.test", helo="loop.test")[0] == 250
        assert mail_reply(s, "a@good.test", helo="[127.0.0.1]")[0] == 250
    finally:
        s.stop()


def test_spf_hard_error_list_and_off(tmp_path, dns):
    s = spf_site(tmp_path, dns, BOFHSPFHARDERROR="fail,softfail,unknown")
    try:
        assert mail_reply(s, "a@broken.test")[0] == 517
    finally:
        s.stop()
    s = make_site(tmp_path / "off", dns, BOFHSPFMAILFROM="off")
    try:
        assert mail_reply(s, "a@fail.test")[0] == 250
    finally:
        s.stop()


def test_routing_loop_and_header_limit(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo("client.example")
        client.mail("someone@good.test")
        client.rcpt("demo@example.test")
        looped = "".join(f"Received: from hop{i}.example by hop{i + 1}.example\r\n" for i in range(101))
        code, reply = client.data(looped + "Subject: marker-looped\r\n\r\nbody\r\n")
        assert (code, text_of(reply)) == (546, "Routing loop detected -- too many Received: headers.")
        client.mail("someone@good.test")
        client.rcpt("demo@example.test")
        code, reply = client.data("X-Big: " + ("a" * 990 + "\r\n ") * 120 + "z\r\nSubject: marker-bigheader\r\n\r\nbody\r\n")
        assert (code, text_of(reply)) == (534, "Message header size exceeds policy limit.")
        client.mail("someone@good.test")
        client.rcpt("demo@example.test")
        assert client.data(looped[:3000] + "Subject: marker-fine\r\n\r\nbody\r\n")[0] == 250
    assert len(site.messages_containing("marker-fine")) == 1
    assert site.any_file_containing("marker-looped") == []
    assert site.any_file_containing("marker-bigheader") == []
