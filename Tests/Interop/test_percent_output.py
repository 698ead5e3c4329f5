"""The reverse percent hack on the way out (spec/mta.md §3.22): with a domain in
`esmtppercentrelay`, mail the esmtp transport sends carries `user@domain` as
`user%domain@defaultdomain` in MAIL FROM and in the top-level address fields, as Courier's esmtp
module rewrites for output. Real `courier start`, dnsmasq zone and aiosmtpd peers from
test_outbound; the client is smtplib with AUTH."""
import smtplib

from test_outbound import dns_zone, outbound, wait_until  # noqa: F401 (fixtures)


def test_listed_domains_are_rewritten_in_sender_and_address_fields(outbound):
    site, _, beta, _ = outbound
    (site.root / "etc" / "esmtppercentrelay").write_text("# partners\nalpha.test\n")
    site.restart()
    default = (site.root / "etc" / "defaultdomain").read_text().split()[0]
    message = ("From: Boss <boss@alpha.test>\r\n"
               "To: friend@Alpha.Test, ok@beta.test\r\n"
               "Cc: group: other@alpha.test;\r\n"
               "Reply-To: reply@alpha.test\r\n"
               "Subject: mail for boss@alpha.test\r\n"
               "\r\n"
               "body names boss@alpha.test\r\n")
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        client.login("demo", "demo")
        assert client.sendmail("boss@alpha.test", ["ok@beta.test"], message.encode()) == {}
    assert wait_until(lambda: beta.transactions)
    sender, recipients, content = beta.transactions[0]
    assert sender == f"boss%alpha.test@{default}"
    assert recipients == ["ok@beta.test"]
    text = content.decode()
    head, body = text.split("\r\n\r\n", 1)
    fields = head.split("\r\n")
    assert f"From: Boss <boss%alpha.test@{default}>" in fields
    assert f"To: friend%Alpha.Test@{default}, ok@beta.test" in fields
    assert f"Cc: group: other%alpha.test@{default};" in fields
    # Not an address field Courier rewrites; the subject and the body are left alone.
    assert "Reply-To: reply@alpha.test" in fields
    assert "Subject: mail for boss@alpha.test" in fields
    assert body == "body names boss@alpha.test\r\n"


def test_nothing_changes_without_the_list(outbound):
    site, _, beta, _ = outbound
    message = "From: Boss <boss@alpha.test>\r\nTo:   friend@alpha.test\r\nSubject: plain\r\n\r\nhi\r\n"
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        client.login("demo", "demo")
        assert client.sendmail("boss@alpha.test", ["ok@beta.test"], message.encode()) == {}
    assert wait_until(lambda: beta.transactions)
    sender, _, content = beta.transactions[0]
    assert sender == "boss@alpha.test"
    assert b"\r\nTo:   friend@alpha.test\r\n" in content
