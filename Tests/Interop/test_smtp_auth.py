"""SMTP AUTH on a real `courier start` demo site: smtplib and swaks log in as demo/demo through
the site's userdb; relaying is allowed only after AUTH; the submission port wants AUTH before
MAIL; the Received header and the log name the login; wrong passwords get 535.
"""
import re
import shutil
import smtplib
import subprocess

import pytest

from test_smtp_server import Raw, Site, message, site, tls_context  # noqa: F401 (site: the shared pytest fixture)


def test_ehlo_offers_plain_login_on_loopback(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        code, banner = client.ehlo("client.example")
        assert "AUTH PLAIN LOGIN" in banner.decode().split("\n")


def test_login_then_relay_allowed(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        client.ehlo("client.example")
        client.mail("demo@example.test")
        code, _ = client.rcpt("someone@foreign.example")
        assert code == 513
        client.rset()
        assert client.login("demo", "demo")[0] == 235
        client.mail("demo@example.test")
        assert client.rcpt("someone@foreign.example")[0] == 250
        client.rset()


def test_wrong_password_is_refused_and_logged(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        client.ehlo("client.example")
        with pytest.raises(smtplib.SMTPAuthenticationError) as failure:
            client.login("demo", "not-the-password")
        assert failure.value.smtp_code == 535
        # Still no relaying.
        client.mail("demo@example.test")
        assert client.rcpt("someone@foreign.example")[0] == 513
    site.wait_for("authentication failed,mechanism=")


def test_submission_requires_auth_and_records_it(site):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd-msa"], timeout=10) as client:
        client.ehlo("laptop.example")
        code, reply = client.mail("demo@example.test")
        assert code == 535, reply
        client.starttls(context=tls_context())
        client.ehlo("laptop.example")
        client.login("demo@example.test", "demo")
        client.mail("demo@example.test")
        assert client.rcpt("someone@foreign.example")[0] == 250
        client.rset()
        client.sendmail("demo@example.test", ["demo@example.test"], message("marker-auth-msa"))
    stored = site.messages_containing("marker-auth-msa")
    assert len(stored) == 1
    data = stored[0].read_bytes()
    assert re.search(rb"Received: from laptop\.example \(\[127\.0\.0\.1\]\)\n  \(AUTH: (PLAIN|LOGIN) demo@example\.test, TLS\)\n"
                     rb"  by [^ ]+ with ESMTPSA;", data), data[:400]
    site.wait_for(",auth=demo@example.test,")


def test_login_mechanism_without_initial_response(site):
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO c.example\r\nAUTH LOGIN\r\n")
    assert raw.reply()[0] == 250
    code, text = raw.reply()
    assert code == 334
    raw.send(b"ZGVtbw==\r\n")            # demo
    assert raw.reply()[0] == 334
    raw.send(b"ZGVtbw==\r\n")            # demo
    assert raw.reply()[0] == 235
    raw.send(b"AUTH PLAIN AGRlbW8AZGVtbw==\r\n")   # a second AUTH is refused
    assert raw.reply()[0] == 535
    raw.close()


def test_cancelled_exchange_and_unoffered_mechanism(site):
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO c.example\r\nAUTH LOGIN\r\n")
    assert raw.reply()[0] == 250
    assert raw.reply()[0] == 334
    raw.send(b"*\r\n")
    assert raw.reply()[0] == 501
    raw.send(b"AUTH CRAM-MD5\r\n")   # not in ESMTPAUTH: refused, not run
    assert raw.reply()[0] == 535
    raw.send(b"NOOP\r\n")
    assert raw.reply()[0] == 250
    raw.close()


def test_swaks_auth_on_submission(site):
    swaks = shutil.which("swaks")
    if not swaks:
        pytest.fail("swaks is not installed (Scripts/test installs it)")
    base = [swaks, "--server", "127.0.0.1", "--port", str(site.ports["esmtpd-msa"]), "--from", "demo@example.test",
            "--helo", "laptop.example"]
    refused = subprocess.run(base + ["--to", "someone@foreign.example"], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    result = subprocess.run(base + ["--to", "demo@example.test", "--tls", "--auth", "LOGIN", "--auth-user", "demo",
                                    "--auth-password", "demo", "--header", "Subject: marker-swaks-auth"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<~  235 2.7.0 Ok" in result.stdout
    assert len(site.messages_containing("marker-swaks-auth")) == 1


def make_client_certificates(directory):
    """A private CA and two client certificates signed by it (openssl): one naming the demo
    account in emailAddress, one naming nobody we know."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory, timeout=60)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
            "-keyout", "ca.key", "-out", "ca.pem")
    for name, email in (("demo", "demo@example.test"), ("stranger", "nobody@example.test")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}/emailAddress={email}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-out", f"{name}.pem")
    return directory


@pytest.fixture()
def cert_site(tmp_path):
    certificates = make_client_certificates(tmp_path)

    def configure(etc):
        from courier_site import set_variable
        for name, value in (("TLS_VERIFYPEER", "PEER"), ("TLS_TRUSTCERTS", str(certificates / "ca.pem")),
                            ("TLS_EXTERNAL", "emailaddress")):
            set_variable(etc / "esmtpd", name, value)
    s = Site(tmp_path / "site", configure=configure)
    yield s, certificates
    s.stop()


def client_with_certificate(site, certificates, name):
    context = tls_context()
    if name:
        context.load_cert_chain(str(certificates / f"{name}.pem"), str(certificates / f"{name}.key"))
    client = smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20)
    client.ehlo("client.example")
    client.starttls(context=context)
    client.ehlo("client.example")
    return client


def test_auth_external_with_a_client_certificate(cert_site):
    """SASL EXTERNAL (RFC 4422 Appendix A): TLS_VERIFYPEER=PEER asks for a client certificate,
    TLS_EXTERNAL=emailaddress names the account, and AUTH EXTERNAL logs in without a password."""
    site, certificates = cert_site
    client = client_with_certificate(site, certificates, "demo")
    assert "EXTERNAL" in client.esmtp_features["auth"].split()
    code, reply = client.docmd("AUTH", "EXTERNAL =")
    assert code == 235, reply
    # an authenticated client may relay
    assert client.mail("demo@example.test")[0] == 250
    assert client.rcpt("someone@remote.example")[0] == 250
    client.quit()
    assert any("mechanism=EXTERNAL,user=demo@example.test" in line for line in site.log)


def test_auth_external_refuses_other_identities_and_plain_clients(cert_site):
    site, certificates = cert_site
    # an authorization identity other than the certificate's
    client = client_with_certificate(site, certificates, "demo")
    code, _ = client.docmd("AUTH", "EXTERNAL " + __import__("base64").b64encode(b"other@example.test").decode())
    assert code == 535
    client.quit()
    # a certificate naming no account
    client = client_with_certificate(site, certificates, "stranger")
    code, _ = client.docmd("AUTH", "EXTERNAL =")
    assert code == 535
    client.quit()
    # no certificate: nothing to offer
    client = client_with_certificate(site, certificates, None)
    assert "EXTERNAL" not in client.esmtp_features.get("auth", "").split()
    assert client.docmd("AUTH", "EXTERNAL =")[0] in (504, 535)
    client.quit()
