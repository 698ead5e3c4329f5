"""maildrop as the local transport runs it (issue 9): `| maildrop` lines in the `.courier` files
of the demo account (a userdb virtual account), with
a `.mailfilter` in its home that sorts into a folder; the daemon's deliveries run as the mailbox
owner, never as root."""
import os
import pathlib
import shutil
import smtplib
import subprocess
import tempfile
import time

import pytest

from test_smtp_server import COURIER, Site

MAILDROP = COURIER.parent / "maildrop"
FILTER = 'if (/^Subject: .*urgent/)\n{\n  to "Maildir/.Urgent"\n}\n'


@pytest.fixture()
def reachable_root():
    """A root the mailbox owner can reach (pytest's tmp_path is root-only)."""
    top = tempfile.mkdtemp(prefix="courier-maildrop-", dir="/var/tmp")
    os.chmod(top, 0o755)
    yield pathlib.Path(top)
    shutil.rmtree(top, ignore_errors=True)


def prepare_home(root, courier_file=None):
    home = root / "mail" / "example.test" / "demo"
    subprocess.run([str(COURIER.parent / "maildirmake"), "-f", "Urgent", str(home / "Maildir")], check=True)
    (home / ".mailfilter").write_text(FILTER)
    os.chmod(home / ".mailfilter", 0o600)
    if courier_file:
        (home / courier_file).write_text(f"| {MAILDROP}\n")
    st = os.stat(home)
    subprocess.run(["chown", "-R", f"{st.st_uid}:{st.st_gid}", str(home)], check=True)
    return home


def send(site, recipient, subject):
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=20) as client:
        client.sendmail("someone@client.example", [recipient], f"Subject: {subject}\r\n\r\nhello\r\n")


def wait_for_file(directory, marker, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in directory.glob("*") if marker.encode() in p.read_bytes()]
        if found:
            return found
        time.sleep(0.2)
    return []


def test_pipe_to_maildrop_from_a_dot_courier_file(reachable_root):
    if not MAILDROP.exists():
        pytest.fail(f"{MAILDROP} does not exist: run swift build first")
    site = Site(reachable_root / "site")
    try:
        home = prepare_home(site.root, ".courier-sorted")
        send(site, "demo-sorted@example.test", "an urgent marker-md-1")
        send(site, "demo-sorted@example.test", "a normal marker-md-2")
        urgent = wait_for_file(home / "Maildir" / ".Urgent" / "new", "marker-md-1")
        normal = wait_for_file(home / "Maildir" / "new", "marker-md-2")
        assert len(urgent) == 1 and len(normal) == 1, open(site.root / "var/log/courier.log").read()[-2000:]
        assert wait_for_file(home / "Maildir" / "new", "marker-md-1", timeout=1) == []
        # Written by the mailbox owner, not root.
        assert urgent[0].stat().st_uid == os.stat(home).st_uid
    finally:
        site.stop()


def test_default_dot_courier_pipes_everything_through_maildrop(reachable_root):
    """The account's own `.courier` (no extension) with `| maildrop`: all its mail is filtered.
    (DEFAULTDELIVERY applies to accounts without a maildir of their own; the demo account has one
    in userdb, which wins as in Courier.)"""
    if not MAILDROP.exists():
        pytest.fail(f"{MAILDROP} does not exist: run swift build first")
    site = Site(reachable_root / "site")
    try:
        home = prepare_home(site.root, ".courier")
        send(site, "demo@example.test", "urgent marker-md-3")
        send(site, "demo@example.test", "plain marker-md-4")
        log = site.root / "var" / "log" / "courier.log"
        assert len(wait_for_file(home / "Maildir" / ".Urgent" / "new", "marker-md-3")) == 1, log.read_text()[-1500:]
        assert len(wait_for_file(home / "Maildir" / "new", "marker-md-4")) == 1, log.read_text()[-1500:]
    finally:
        site.stop()
