"""What the protocol servers of a real `courier start` do with authentication, seen by real
clients (smtplib, imaplib, poplib): a module that cannot answer (PostgreSQL down) is a
temporary failure in each protocol's words, never a wrong password; account options
(`disableimap`, `disableinsecureimap`, `disablepop3`, `disableinsecurepop3`) are enforced;
clear passwords are refused without TLS off loopback unless the service file allows them;
failed logins are throttled per address and per user, and the log says so.
"""
import base64
import imaplib
import os
import poplib
import smtplib
import socket
import ssl
import subprocess

import pytest

from courier_site import COURIER, CourierSite, free_port, require_courier

SERVICES = ("esmtpd", "imapd", "pop3d")


def tls_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def non_loopback_address():
    """An address of this machine that is not loopback (the route towards a TEST-NET address;
    no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.123", 9))
            address = s.getsockname()[0]
        except OSError:
            address = ""
    if not address or address.startswith("127.") or address == "0.0.0.0":
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    return address


def with_users(site, users):
    """Adds accounts that share demo's password, with the given options, and recompiles."""
    userdb = site.etc / "userdb"
    demo = [line for line in userdb.read_text().splitlines() if line.startswith("demo@")][0]
    fields = demo.split("\t", 1)[1]
    text = userdb.read_text()
    for name, options in users:
        text += f"{name}\t{fields}|options={options}\n"
    userdb.write_text(text)
    site.makeuserdb()


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


@pytest.fixture()
def site(tmp_path):
    require_courier()
    s = CourierSite(tmp_path / "site", services=SERVICES)
    yield s
    s.stop()


def test_database_down_is_a_temporary_failure_in_every_protocol(site):
    (site.etc / "authdaemonrc").write_text('authmodulelist="authpgsql"\nDEFAULTOPTIONS=""\n')
    rc = site.etc / "authpgsqlrc"
    rc.write_text(f"PGSQL_CONNECTION host=127.0.0.1 port={free_port()} user=courier password=x dbname=mail\n"
                  "PGSQL_TIMEOUT 2\n")
    rc.chmod(0o600)
    site.start()
    # SMTP (RFC 4954 §6): 454 4.7.0, the session goes on.
    smtp = smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30)
    smtp.ehlo("client.test")
    assert smtp.docmd("AUTH", "PLAIN " + plain("demo", "demo")) == (454, b"4.7.0 Temporary authentication failure.")
    assert smtp.noop()[0] == 250
    smtp.quit()
    # Logged as the outage it is, not as a wrong password.
    site.wait_for("authentication temporarily unavailable,mechanism=PLAIN")
    # IMAP: Courier's "* BYE Temporary problem", for LOGIN and AUTHENTICATE alike.
    imap = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=30)
    with pytest.raises(imaplib.IMAP4.abort, match="Temporary problem, please try again later"):
        imap.login("demo", "demo")
    # (imaplib reports a BYE during AUTHENTICATE only as EOF: read the raw answer.)
    with socket.create_connection(("127.0.0.1", site.ports["imapd"]), timeout=30) as raw:
        raw.recv(4096)
        raw.sendall(b"a AUTHENTICATE PLAIN " + plain("demo", "demo").encode() + b"\r\n")
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
        assert answer == b"* BYE Temporary problem, please try again later\r\n"
    # POP3: -ERR with Courier's text.
    pop = poplib.POP3("127.0.0.1", site.ports["pop3d"], timeout=30)
    pop.user("demo")
    with pytest.raises(poplib.error_proto, match="Temporary problem, please try again later"):
        pop.pass_("demo")
    site.wait_for("TEMPFAIL")
    site.wait_for("LOGIN TEMPFAIL, user=demo")
    assert not any("LOGIN FAILED" in line for line in site.log)


def test_imap_enforces_disableimap_and_disableinsecureimap(site):
    with_users(site, [("noimap@example.test", "disableimap=1"), ("tlsonly@example.test", "disableinsecureimap=1"),
                      ("nopop@example.test", "disablepop3=1"), ("tlspop@example.test", "disableinsecurepop3=1"),
                      ("fine@example.test", "disablewebmail=1,disableshared=1")])
    site.start()
    port = site.ports["imapd"]
    # access.md §4.6: OK LOGIN, then BYE, then the connection ends.
    for user, text, login in [("noimap@example.test", "IMAP access disabled for this account.", "login"),
                              ("noimap@example.test", "IMAP access disabled for this account.", "plain"),
                              ("tlsonly@example.test", "IMAP access disabled via insecure connection.", "login")]:
        client = imaplib.IMAP4("127.0.0.1", port, timeout=30)
        if login == "login":
            assert client.login(user, "demo")[0] == "OK"
        else:
            assert client.authenticate("PLAIN", lambda _: f"\0{user}\0demo".encode())[0] == "OK"
        with pytest.raises(imaplib.IMAP4.abort, match=text):
            client.select("INBOX")
    site.wait_for("LOGIN REFUSED, user=noimap@example.test")
    # disableinsecureimap: fine after STARTTLS.
    client = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    client.starttls(ssl_context=tls_context())
    client.login("tlsonly@example.test", "demo")
    assert client.select("INBOX")[0] == "OK"
    client.logout()
    # Options for other services do not stop IMAP.
    for user in ("nopop@example.test", "fine@example.test"):
        client = imaplib.IMAP4("127.0.0.1", port, timeout=30)
        client.login(user, "demo")
        assert client.select("INBOX")[0] == "OK"
        client.logout()
    # POP3's own options.
    pop = poplib.POP3("127.0.0.1", site.ports["pop3d"], timeout=30)
    pop.user("nopop@example.test")
    with pytest.raises(poplib.error_proto, match="POP3 access disabled for this account"):
        pop.pass_("demo")
    pop = poplib.POP3("127.0.0.1", site.ports["pop3d"], timeout=30)
    pop.user("tlspop@example.test")
    with pytest.raises(poplib.error_proto, match="POP3 access disabled via insecure connection"):
        pop.pass_("demo")
    pop = poplib.POP3("127.0.0.1", site.ports["pop3d"], timeout=30)
    pop.stls(context=tls_context())
    pop.user("tlspop@example.test")
    assert pop.pass_("demo").startswith(b"+OK")
    pop.quit()


def listen_everywhere(site):
    for file in SERVICES:
        text = (site.etc / file).read_text().replace("ADDRESS=127.0.0.1", "ADDRESS=0")
        (site.etc / file).write_text(text)


def test_clear_passwords_refused_without_tls_off_loopback(site):
    address = non_loopback_address()
    listen_everywhere(site)
    site.start()
    # SMTP: PLAIN/LOGIN not offered and not accepted; after STARTTLS they are.
    smtp = smtplib.SMTP(address, site.ports["esmtpd"], timeout=30)
    smtp.ehlo("client.test")
    assert "PLAIN" not in smtp.esmtp_features.get("auth", "")
    assert smtp.docmd("AUTH", "PLAIN " + plain("demo", "demo"))[0] == 535
    smtp.starttls(context=tls_context())
    smtp.ehlo("client.test")
    assert "PLAIN" in smtp.esmtp_features.get("auth", "")
    assert smtp.docmd("AUTH", "PLAIN " + plain("demo", "demo"))[0] == 235
    smtp.quit()
    # IMAP: LOGINDISABLED, LOGIN refused; after STARTTLS it works.
    imap = imaplib.IMAP4(address, site.ports["imapd"], timeout=30)
    assert "LOGINDISABLED" in imap.capabilities
    with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED"):
        imap.login("demo", "demo")
    imap.starttls(ssl_context=tls_context())
    assert imap.login("demo", "demo")[0] == "OK"
    imap.logout()
    # POP3: USER/PASS and AUTH PLAIN refused without TLS; after STLS they work.
    pop = poplib.POP3(address, site.ports["pop3d"], timeout=30)
    with pytest.raises(poplib.error_proto, match="TLS required"):
        pop.user("demo")
        pop.pass_("demo")
    pop = poplib.POP3(address, site.ports["pop3d"], timeout=30)
    with pytest.raises(poplib.error_proto, match="TLS required"):
        pop._shortcmd("AUTH PLAIN " + plain("demo", "demo"))
    pop.stls(context=tls_context())
    pop.user("demo")
    assert pop.pass_("demo").startswith(b"+OK")
    pop.quit()
    # The same server still takes clear passwords from loopback.
    pop = poplib.POP3("127.0.0.1", site.ports["pop3d"], timeout=30)
    pop.user("demo")
    assert pop.pass_("demo").startswith(b"+OK")
    pop.quit()


def test_service_files_can_allow_clear_passwords_anywhere(site):
    address = non_loopback_address()
    listen_everywhere(site)
    with open(site.etc / "imapd", "a") as f:
        f.write("\nIMAP_PLAINTEXT_LOGIN=1\n")
    with open(site.etc / "pop3d", "a") as f:
        f.write("\nPOP3_PLAINTEXT_LOGIN=1\n")
    with open(site.etc / "esmtpd", "a") as f:
        f.write("\nESMTP_PLAINTEXT_AUTH=1\n")
    site.start()
    smtp = smtplib.SMTP(address, site.ports["esmtpd"], timeout=30)
    smtp.ehlo("client.test")
    assert "PLAIN" in smtp.esmtp_features.get("auth", "")
    assert smtp.docmd("AUTH", "PLAIN " + plain("demo", "demo"))[0] == 235
    smtp.quit()
    imap = imaplib.IMAP4(address, site.ports["imapd"], timeout=30)
    assert "LOGINDISABLED" not in imap.capabilities
    assert imap.login("demo", "demo")[0] == "OK"
    imap.logout()
    pop = poplib.POP3(address, site.ports["pop3d"], timeout=30)
    pop.user("demo")
    assert pop.pass_("demo").startswith(b"+OK")
    pop.quit()


def smtp_from(site, source, user, password):
    smtp = smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=60, source_address=(source, 0))
    smtp.ehlo("client.test")
    code = smtp.docmd("AUTH", "PLAIN " + plain(user, password))[0]
    smtp.close()
    return code


def test_failed_logins_are_throttled_per_address_and_per_user(site):
    site.start()
    # Per user: wrong passwords for demo from four different loopback addresses.
    for n in range(4):
        assert smtp_from(site, f"127.0.0.{10 + n}", "demo", "wrong") == 535
    line = site.wait_for("repeated login failures")
    assert "user:demo" in line, line
    # Per address: wrong passwords for four different names from one address.
    for n in range(4):
        assert smtp_from(site, "127.0.0.20", f"nobody{n}", "wrong") == 535
    line = site.wait_for("repeated login failures")
    while "ip:127.0.0.20" not in line:
        line = site.wait_for("repeated login failures")
    # The right password still logs in (slowed down, not locked out), from IMAP as well.
    assert smtp_from(site, "127.0.0.30", "demo", "demo") == 235
    imap = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=60)
    assert imap.login("demo", "demo")[0] == "OK"
    imap.logout()


def test_imap_authservice_picks_the_per_service_password(tmp_path):
    """`AUTHSERVICE<port>` names the authlib service of a listener (access.md): with
    AUTHSERVICE<ssl port>=imaps, IMAPS logins check `imapspw`, plain IMAP `systempw`."""
    require_courier()
    site = CourierSite(tmp_path / "site", services=("imapd", "imapd-ssl"))
    try:
        ssl_port = site.ports["imapd-ssl"]
        with open(site.etc / "imapd-ssl", "a") as f:
            f.write(f"\nAUTHSERVICE{ssl_port}=imaps\n")
        made = subprocess.run([str(COURIER), "userdbpw", "-sha512"], input="tlspw\n", capture_output=True, text=True,
                              env=dict(os.environ, COURIER_ROOT=str(site.root)))
        userdb = site.etc / "userdb"
        demo = [line for line in userdb.read_text().splitlines() if line.startswith("demo@")][0]
        userdb.write_text(userdb.read_text() + f"split@example.test\t{demo.split(chr(9), 1)[1]}|imapspw={made.stdout.strip()}\n")
        site.makeuserdb()
        site.start()
        secure = imaplib.IMAP4_SSL("127.0.0.1", ssl_port, ssl_context=tls_context(), timeout=30)
        with pytest.raises(imaplib.IMAP4.error):
            secure.login("split@example.test", "demo")
        assert secure.login("split@example.test", "tlspw")[0] == "OK"
        secure.logout()
        plain_client = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=30)
        with pytest.raises(imaplib.IMAP4.error):
            plain_client.login("split@example.test", "tlspw")
        assert plain_client.login("split@example.test", "demo")[0] == "OK"
        plain_client.logout()
    finally:
        site.stop()
