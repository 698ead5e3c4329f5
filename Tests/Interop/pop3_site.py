"""Helpers shared by the POP3 interop tests: a fixture for a site class, numbered messages
dropped into a Maildir the way a delivery agent does (tmp/ then rename), and a poplib login."""
import poplib

import pytest

from courier_site import require_courier


def running_site(make):
    """A pytest fixture named `site`: `make(root)` builds and starts a site on a temp root; the
    site is stopped after the test. Use as `site = running_site(Site)`."""
    @pytest.fixture()
    def site(tmp_path):
        require_courier()
        s = make(tmp_path / "root")
        yield s
        s.stop()
    return site


def deliver_numbered(maildir, index, folder="new"):
    """Message `index` ("Subject: message <index>") into `folder` (new, or cur with `:2,`)."""
    name = "17000%05d.M%dP1.host" % (index, index)
    (maildir / "tmp" / name).write_bytes(b"Subject: message %d\n\nbody %d\n" % (index, index))
    (maildir / "tmp" / name).rename(maildir / folder / (name + (":2," if folder == "cur" else "")))


def pop3_login(port, user="demo", password="demo", utf8=False, timeout=30):
    """A poplib client logged in on `port` (after `UTF8` when `utf8`)."""
    client = poplib.POP3("127.0.0.1", port, timeout=timeout)
    if utf8:
        assert client.utf8() == b"+OK UTF8 enabled"
    client.user(user)
    client.pass_(password)
    return client
