"""UUCP bang paths (`host!user@domain`) at RCPT on a real `courier start`, with smtplib: Courier's
local and esmtp modules both pass such an address on, so without a uucp module it is
`511 Undeliverable address.` even for a client that may relay (spec/mta.md §2.12 RCPT step 9);
a client that may not relay keeps getting `513 Relaying denied.`."""
import smtplib

import pytest

from test_smtp_server import Site, require_courier


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_courier()
    s = Site(tmp_path_factory.mktemp("bang") / "site")
    yield s
    s.stop()


def rcpt(site, recipient, login):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo("client.example")
        if login:
            assert client.login("demo", "demo")[0] == 235
        assert client.mail("demo@example.test")[0] == 250
        code, text = client.rcpt(recipient)
        return code, text.decode()


@pytest.mark.parametrize("recipient", ["gateway!user@remote.example", "gateway!demo@example.test",
                                       "a!b!c@remote.example"])
def test_relay_client_gets_undeliverable(site, recipient):
    assert rcpt(site, recipient, login=True) == (511, "5.1.2 Undeliverable address.")


def test_other_clients_are_refused_the_relay(site):
    assert rcpt(site, "gateway!user@remote.example", login=False) == (513, "5.7.1 Relaying denied.")


def test_plain_addresses_still_work(site):
    assert rcpt(site, "someone@remote.example", login=True)[0] == 250
    assert rcpt(site, "demo@example.test", login=False)[0] == 250
