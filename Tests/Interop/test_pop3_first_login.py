"""The size list under stress. Many first logins at the same moment on a maildrop that has
neither `courierpop3dsizelist` nor `courierimapuiddb` (a real `courier start`, Python's poplib
and imaplib on threads): every
POP3 session must show one UIDVALIDITY and the same UIDL for each message, every IMAP SELECT
one UIDVALIDITY and the same UIDs, and a later login must agree with them. And a list that
cannot be written (disk full): Courier's ENOMEM recovery.
"""
import imaplib
import poplib
import re
import threading
import time

import pytest

from courier_site import CourierSite, set_variable
from pop3_site import deliver_numbered, running_site


class Site(CourierSite):
    def __init__(self, root):
        super().__init__(root, services=("pop3d", "imapd"))
        self.pop3, self.imap = self.ports["pop3d"], self.ports["imapd"]
        # Every session comes from 127.0.0.1: lift the per-address limits (4 by default).
        for config in ("pop3d", "imapd"):
            set_variable(self.etc / config, "MAXPERIP", 100)
        self.makeuserdb()
        self.start()


site = running_site(Site)


def fill(maildir, count):
    for i in range(count):
        deliver_numbered(maildir, i, "cur" if i % 2 else "new")
    for name in ("courierpop3dsizelist", "courierimapuiddb"):
        assert not (maildir / name).exists()


class Start:
    """A barrier that releases everyone just before the server's clock turns to the next
    second: logins that each made their own size list would then straddle two seconds and
    show two UIDVALIDITYs."""

    def __init__(self, parties):
        self.at = 0.0
        self.barrier = threading.Barrier(parties, action=self.aim)

    def aim(self):
        now = time.time()
        self.at = int(now) + 1 if now % 1 < 0.8 else int(now) + 2

    def wait(self, offset=0.0):
        self.barrier.wait()
        time.sleep(max(0.0, self.at + offset - time.time()))

    def abort(self):
        self.barrier.abort()


def pop3_view(site, barrier, index):
    client = poplib.POP3("127.0.0.1", site.pop3, timeout=60)
    client.user("demo")
    # PASS 4 ms before the second turns, 4 ms after, then every 8 ms: the first logins scan
    # the maildrop at the same time on both sides of the turn.
    barrier.wait((index - 0.5) * 0.008)
    client.pass_("demo")
    _, lines, _ = client.uidl()
    client.quit()
    return sorted(line.decode().split(" ", 1)[1] for line in lines)


def imap_view(site, barrier, index):
    client = imaplib.IMAP4("127.0.0.1", site.imap, timeout=60)
    client.login("demo", "demo")
    barrier.wait((index - 0.5) * 0.008)
    typ, _ = client.select("INBOX")
    assert typ == "OK"
    validity = client.response("UIDVALIDITY")[1][0].decode()
    typ, data = client.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK"
    uids = {}
    for item in data:
        if isinstance(item, tuple):
            uid = re.search(rb"UID (\d+)", item[0]).group(1).decode()
            subject = item[1].decode().strip()
            uids[subject] = uid
    client.logout()
    return validity, uids


@pytest.mark.parametrize("round_", range(3))
def test_simultaneous_first_pop3_logins_agree(site, round_):
    race(site, pop3_sessions=8, imap_sessions=0)


@pytest.mark.parametrize("round_", range(2))
def test_simultaneous_first_pop3_and_imap_logins_agree(site, round_):
    race(site, pop3_sessions=6, imap_sessions=6)


def race(site, pop3_sessions, imap_sessions):
    messages = 400
    fill(site.maildir, messages)
    barrier = Start(pop3_sessions + imap_sessions)
    results, errors = {"pop3": [], "imap": []}, []

    def run(kind, fn, index):
        try:
            results[kind].append(fn(site, barrier, index))
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(repr(e))
            barrier.abort()

    threads = [threading.Thread(target=run, args=("pop3", pop3_view, i)) for i in range(pop3_sessions)]
    threads += [threading.Thread(target=run, args=("imap", imap_view, i)) for i in range(imap_sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert len(results["pop3"]) == pop3_sessions and len(results["imap"]) == imap_sessions
    if not imap_sessions:
        return check_pop3(site, results["pop3"], messages)
    check_pop3(site, results["pop3"], messages)
    check_imap(results["imap"], messages)


def check_pop3(site, views, messages):

    # POP3: all sessions saw all messages with the same UIDLs, one UIDVALIDITY.
    first = views[0]
    assert len(first) == messages
    assert all(view == first for view in views)
    assert len({uidl.split("-")[1] for uidl in first}) == 1
    # A later session agrees.
    client = poplib.POP3("127.0.0.1", site.pop3, timeout=30)
    client.user("demo")
    client.pass_("demo")
    later = sorted(line.decode().split(" ", 1)[1] for line in client.uidl()[1])
    client.quit()
    assert later == first


def check_imap(views, messages):
    # IMAP: one UIDVALIDITY, and every SELECT gave each message the same UID.
    validities = {validity for validity, _ in views}
    assert len(validities) == 1
    uids = {}
    for _, view in views:
        assert len(view) == messages
        for subject, uid in view.items():
            assert uids.setdefault(subject, uid) == uid
    assert len(set(uids.values())) == messages


def test_size_list_that_cannot_be_saved(site):
    """Courier's disk-full recovery (here tmp/ is not a directory, so the list cannot be
    written): a first login shows the first message alone with an ENOMEM UIDL, and logs it."""
    fill(site.maildir, 3)
    (site.maildir / "tmp").rmdir()
    (site.maildir / "tmp").write_text("not a directory")
    client = poplib.POP3("127.0.0.1", site.pop3, timeout=30)
    client.user("demo")
    client.pass_("demo")
    assert client.stat()[0] == 1
    (line,) = client.uidl()[1]
    assert re.fullmatch(rb"1 ENOMEM-[0-9A-F]{16}-[0-9A-F]{16}-[0-9A-F]{16}", line)
    assert client.retr(1)[1][0] == b"Subject: message 0"
    client.quit()
    site.wait_for("Error while saving courierpop3dsizelist, user=demo@example.test")
    (site.maildir / "tmp").unlink()
    (site.maildir / "tmp").mkdir()
    client = poplib.POP3("127.0.0.1", site.pop3, timeout=30)
    client.user("demo")
    client.pass_("demo")
    assert [l.split()[1].startswith(b"UID") for l in client.uidl()[1]] == [True] * 3
    client.quit()
