"""Courier's backscatter suppression list (spec/mta.md §2.12 RCPT step 8, §4.10) on a real
`courier start`: a tracked message's failed or deferred recipient is refused for two hours
(`556 Address unavailable.` / `456 Address temporarily unavailable.`) to the sources named in
BOFHSUPPRESSBACKSCATTER; `courier show all` lists it, `courier clear ADDRESS|all` takes it off,
and the list survives a restart. Clients: Python's smtplib."""
import smtplib
import time

import pytest

from courier_site import require_courier, set_variable, tool
from test_smtp_server import Site


def make_site(tmp_path, **variables):
    require_courier()

    def configure(etc):
        for name, value in variables.items():
            set_variable(etc / "esmtpd", name, value)
    site = Site(tmp_path / "site", configure=configure)
    home = site.root / "mail" / "example.test" / "demo"
    # Program deliveries: exit 100 fails the recipient, exit 75 (EX_TEMPFAIL) defers it.
    (home / ".courier-fail").write_text("| exit 100\n")
    (home / ".courier-later").write_text("| exit 75\n")
    return site


@pytest.fixture()
def site(tmp_path):
    s = make_site(tmp_path)
    yield s
    s.stop()


def send(site, recipient, login=None):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo("client.example")
        if login:
            assert client.login(*login)[0] == 235
        assert client.mail("someone@client.example")[0] == 250
        assert client.rcpt(recipient)[0] == 250
        assert client.data(f"From: someone@client.example\r\nSubject: to {recipient}\r\n\r\nhi\r\n")[0] == 250


def rcpt(site, recipient, login=None):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.ehlo("client.example")
        if login:
            assert client.login(*login)[0] == 235
        client.mail("someone@client.example")
        code, text = client.rcpt(recipient)
        return code, text.decode()


def show(site):
    result = tool(site.root, "show", "all")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def wait_for_delivery_result(site, address, word):
    """Waits until the log says the queue runner `word` (bounced, deferred, delivered) `address`."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(f"addr=<{address}>" in line and f": {word}: " in line for line in site.log):
            return
        time.sleep(0.1)
    pytest.fail(f"no '{word}' for {address} in the log:\n{''.join(site.log[-20:])}")


def test_failed_and_deferred_recipients_are_refused_then_cleared(site):
    send(site, "demo-fail@example.test")
    send(site, "demo-later@example.test")
    wait_for_delivery_result(site, "demo-fail@example.test", "bounced")
    wait_for_delivery_result(site, "demo-later@example.test", "deferred")
    # The queue runner writes the list before it logs the result.
    assert show(site) == ["demo-fail@example.test", "demo-later@example.test"]
    assert rcpt(site, "demo-fail@example.test") == (556, "5.2.1 Address unavailable.")
    assert rcpt(site, "Demo-Later@EXAMPLE.test")[0] == 250   # the local part counts as written
    assert rcpt(site, "demo-later@EXAMPLE.TEST") == (456, "4.2.1 Address temporarily unavailable.")
    assert rcpt(site, "demo@example.test")[0] == 250
    assert any("backscatter,ip=[127.0.0.1],to=<demo-fail@example.test>" in line for line in site.log)

    # The file: one `<time> <F|D><address>` line per address (Courier's track line layout).
    lines = (site.root / "var" / "track" / "backscatter").read_text().splitlines()
    assert sorted(line.split(" ", 1)[1] for line in lines) == ["Ddemo-later@example.test", "Fdemo-fail@example.test"]
    assert all(abs(int(line.split(" ")[0]) - time.time()) < 3600 for line in lines)

    result = tool(site.root, "clear", "demo-fail@example.test")
    assert (result.returncode, result.stdout) == (0, "demo-fail@example.test cleared.\n")
    site.wait_for("configuration reloaded")
    assert rcpt(site, "demo-fail@example.test")[0] == 250
    assert show(site) == ["demo-later@example.test"]

    result = tool(site.root, "clear", "all")
    assert (result.returncode, result.stdout) == (0, "")
    site.wait_for("configuration reloaded")
    assert show(site) == []
    assert rcpt(site, "demo-later@example.test")[0] == 250


def test_the_list_survives_a_restart(site):
    send(site, "demo-fail@example.test")
    wait_for_delivery_result(site, "demo-fail@example.test", "bounced")
    site.restart()
    assert rcpt(site, "demo-fail@example.test") == (556, "5.2.1 Address unavailable.")
    assert show(site) == ["demo-fail@example.test"]


def test_untracked_mail_is_neither_refused_nor_clears(site):
    home = site.root / "mail" / "example.test" / "demo"
    send(site, "demo-fail@example.test")
    wait_for_delivery_result(site, "demo-fail@example.test", "bounced")
    # Mail from a source that is not tracked (an authenticated client) is still accepted,
    # and its successful delivery clears nothing (it is not tracked)...
    (home / ".courier-fail").write_text("./Maildir/\n")
    send(site, "demo-fail@example.test", login=("demo", "demo"))
    wait_for_delivery_result(site, "demo-fail@example.test", "delivered")
    assert show(site) == ["demo-fail@example.test"]
    assert rcpt(site, "demo-fail@example.test")[0] == 556


def test_authsmtp_is_tracked_when_listed(tmp_path):
    s = make_site(tmp_path, BOFHSUPPRESSBACKSCATTER="smtp,authsmtp")
    try:
        send(s, "demo-fail@example.test", login=("demo", "demo"))
        wait_for_delivery_result(s, "demo-fail@example.test", "bounced")
        assert rcpt(s, "demo-fail@example.test", login=("demo", "demo"))[0] == 556
        # A tracked success takes it off again.
        (s.root / "mail" / "example.test" / "demo" / ".courier-fail").write_text("./Maildir/\n")
        tool(s.root, "clear", "all")
        s.wait_for("configuration reloaded")
        send(s, "demo-fail@example.test", login=("demo", "demo"))
        wait_for_delivery_result(s, "demo-fail@example.test", "delivered")
        assert show(s) == []
    finally:
        s.stop()


def test_none_tracks_nothing(tmp_path):
    s = make_site(tmp_path, BOFHSUPPRESSBACKSCATTER="none")
    try:
        send(s, "demo-fail@example.test")
        wait_for_delivery_result(s, "demo-fail@example.test", "bounced")
        assert show(s) == []
        assert rcpt(s, "demo-fail@example.test")[0] == 250
    finally:
        s.stop()


def test_show_needs_all(site):
    result = tool(site.root, "show", "everything")
    assert result.returncode == 1


def test_rcpt_answered_from_the_route_cache_before_the_list_was_read(site):
    # An authenticated client (not tracked) leaves the route in the cache; the next tracked RCPT
    # is answered on the event loop, the list never read by this process yet.
    assert rcpt(site, "demo@example.test", login=("demo", "demo"))[0] == 250
    assert rcpt(site, "demo@example.test")[0] == 250
    assert rcpt(site, "demo@example.test")[0] == 250
