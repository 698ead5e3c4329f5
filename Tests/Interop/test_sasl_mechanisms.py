"""IMAP AUTHENTICATE and POP3 AUTH with the SASL mechanisms of issue 4, by clients nobody here wrote:
imaplib's CRAM-MD5, the `scramp` library's SCRAM-SHA-256 client (whose server side also makes the
stored RFC 5803 verifier), and EXTERNAL with a TLS client certificate made by openssl."""
import base64
import imaplib
import poplib
import ssl
import subprocess

import pytest

from courier_site import COURIER, CourierSite, require_courier, set_variable
from test_smtp_auth import make_client_certificates

import scramp  # noqa: E402 (pip; Scripts/test installs it)


def scram_verifier(password):
    """The RFC 5803 stored form of `password`, computed by scramp."""
    mechanism = scramp.ScramMechanism("SCRAM-SHA-256")
    salt, stored_key, server_key, iterations = mechanism.make_auth_info(password, iteration_count=4096)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


@pytest.fixture()
def site(tmp_path):
    require_courier()
    certificates = make_client_certificates(tmp_path)
    s = CourierSite(tmp_path / "site", services=("imapd", "imapd-ssl", "pop3d", "pop3d-ssl"))
    hmac = subprocess.run([str(COURIER), "userdbpw", "-hmac-md5"], input="demo\n", capture_output=True,
                          text=True, check=True).stdout.strip()
    userdb = s.etc / "userdb"
    userdb.write_text("".join(
        line + (f"|hmac-md5pw={hmac}|scram-sha-256pw={scram_verifier('demo')}" if line.startswith("demo") else "") + "\n"
        for line in userdb.read_text().splitlines()))
    s.makeuserdb()
    capability = '"IMAP4rev1 UIDPLUS CHILDREN NAMESPACE IDLE AUTH=CRAM-MD5 AUTH=SCRAM-SHA-256"'
    set_variable(s.etc / "imapd", "IMAP_CAPABILITY", capability)
    for name, value in (("TLS_VERIFYPEER", "PEER"), ("TLS_TRUSTCERTS", str(certificates / "ca.pem")),
                        ("TLS_EXTERNAL", "emailaddress")):
        set_variable(s.etc / "imapd-ssl", name, value)
        set_variable(s.etc / "pop3d-ssl", name, value)
    s.start()
    s.certificates = certificates
    yield s
    s.stop()


def test_cram_md5(site):
    client = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=20)
    assert "AUTH=CRAM-MD5" in client.capabilities
    with pytest.raises(imaplib.IMAP4.error):
        client.login_cram_md5("demo", "wrong")
    client = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=20)
    typ, _ = client.login_cram_md5("demo", "demo")
    assert typ == "OK"
    assert client.select("INBOX")[0] == "OK"
    client.logout()


def scram_login(site, password):
    client = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=20)
    assert "AUTH=SCRAM-SHA-256" in client.capabilities
    scram = scramp.ScramClient(["SCRAM-SHA-256"], "demo", password)
    steps = iter([
        lambda _: scram.get_client_first().encode(),
        lambda challenge: (scram.set_server_first(challenge.decode()), scram.get_client_final().encode())[1],
        lambda challenge: (scram.set_server_final(challenge.decode()), b"")[1],
    ])
    typ, _ = client.authenticate("SCRAM-SHA-256", lambda challenge: next(steps)(challenge))
    return client, typ


def test_scram_sha_256(site):
    client, typ = scram_login(site, "demo")
    assert typ == "OK"
    assert client.select("INBOX")[0] == "OK"
    client.logout()
    with pytest.raises(imaplib.IMAP4.error):
        scram_login(site, "wrong")


def test_external_with_a_client_certificate(site):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(str(site.certificates / "demo.pem"), str(site.certificates / "demo.key"))
    client = imaplib.IMAP4_SSL("127.0.0.1", site.ports["imapd-ssl"], ssl_context=context, timeout=20)
    assert "AUTH=EXTERNAL" in client.capabilities
    typ, _ = client.authenticate("EXTERNAL", lambda _: b"")
    assert typ == "OK"
    assert client.select("INBOX")[0] == "OK"
    client.logout()
    # without a certificate nothing names a login
    plain = ssl.create_default_context()
    plain.check_hostname = False
    plain.verify_mode = ssl.CERT_NONE
    client = imaplib.IMAP4_SSL("127.0.0.1", site.ports["imapd-ssl"], ssl_context=plain, timeout=20)
    assert "AUTH=EXTERNAL" not in client.capabilities
    with pytest.raises(imaplib.IMAP4.error):
        client.authenticate("EXTERNAL", lambda _: b"")
    # a certificate naming nobody we know
    stranger = ssl.create_default_context()
    stranger.check_hostname = False
    stranger.verify_mode = ssl.CERT_NONE
    stranger.load_cert_chain(str(site.certificates / "stranger.pem"), str(site.certificates / "stranger.key"))
    client = imaplib.IMAP4_SSL("127.0.0.1", site.ports["imapd-ssl"], ssl_context=stranger, timeout=20)
    with pytest.raises(imaplib.IMAP4.error):
        client.authenticate("EXTERNAL", lambda _: b"")


def pop3_context(site, name):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if name:
        context.load_cert_chain(str(site.certificates / f"{name}.pem"), str(site.certificates / f"{name}.key"))
    return context


def test_pop3_external_with_a_client_certificate(site):
    client = poplib.POP3_SSL("127.0.0.1", site.ports["pop3d-ssl"], context=pop3_context(site, "demo"), timeout=20)
    assert "EXTERNAL" in client.capa().get("SASL", [])
    assert client._shortcmd("AUTH EXTERNAL =").startswith(b"+OK")
    assert client.stat()[0] >= 0
    client.quit()
    client = poplib.POP3_SSL("127.0.0.1", site.ports["pop3d-ssl"], context=pop3_context(site, None), timeout=20)
    assert "EXTERNAL" not in client.capa().get("SASL", [])
    with pytest.raises(poplib.error_proto):
        client._shortcmd("AUTH EXTERNAL =")
    client.quit()
    client = poplib.POP3_SSL("127.0.0.1", site.ports["pop3d-ssl"], context=pop3_context(site, "stranger"), timeout=20)
    with pytest.raises(poplib.error_proto):
        client._shortcmd("AUTH EXTERNAL =")
