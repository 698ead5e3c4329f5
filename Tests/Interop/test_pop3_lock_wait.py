"""Logins that wait for another session's folder lock (a real `courier start`, Python's
poplib on threads). A login that has to rewrite `courierpop3dsizelist` takes the maildir's
dot-lock `tmp/courier.lock` (the lock Courier-IMAP takes for its own UID list); while someone
else holds it the login waits on a timer, not on one of the server's few file-work threads:
other users log in and read mail meanwhile, and when the lock goes away every waiting session
gets the same UIDLs. And new/ is moved to cur/ under the quota lock (flock on the maildir).
"""
import fcntl
import os
import poplib
import re
import socket
import threading
import time

import pytest

from courier_site import CourierSite, set_variable
from pop3_site import deliver_numbered, pop3_login, running_site


class Site(CourierSite):
    def __init__(self, root):
        super().__init__(root, services=("pop3d",))
        self.pop3 = self.ports["pop3d"]
        # Every session comes from 127.0.0.1: lift the per-address limit (4 by default).
        set_variable(self.etc / "pop3d", "MAXPERIP", 100)
        # A second account with its own maildir and demo's password.
        self.other = self.root / "mail" / "example.test" / "other" / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (self.other / sub).mkdir(parents=True)
        userdb = self.etc / "userdb"
        demo = next(l for l in userdb.read_text().splitlines() if l.startswith("demo\t"))
        fields = dict(f.split("=", 1) for f in demo.split("\t", 1)[1].split("|"))
        fields["home"], fields["mail"] = str(self.other.parent), str(self.other)
        line = "|".join("%s=%s" % kv for kv in fields.items())
        with userdb.open("a") as f:
            f.write("other@example.test\t%s\nother\t%s\n" % (line, line))
        self.makeuserdb()
        self.start()


site = running_site(Site)


def login(site, user="demo"):
    return pop3_login(site.pop3, user, timeout=90)


def uidls(client):
    return [line.decode().split(" ", 1)[1] for line in client.uidl()[1]]


def hold_dot_lock(maildir):
    """The lock file of a live process on this host (this one): never stale."""
    lock = maildir / "tmp" / "courier.lock"
    lock.write_text("%d:%s" % (os.getpid(), socket.gethostname()))
    return lock


def test_waiting_logins_leave_the_server_free(site):
    for i in range(3):
        deliver_numbered(site.maildir, i, "cur")
    first = login(site)
    before = uidls(first)
    first.quit()
    assert len(before) == 3
    # A new message: the next logins must write the size list, so they need the lock.
    deliver_numbered(site.maildir, 3)
    lock = hold_dot_lock(site.maildir)

    waiting = 12   # far more than the server's file-work threads (one per core)
    sent, results, errors = [], [], []

    def session(index):
        try:
            client = poplib.POP3("127.0.0.1", site.pop3, timeout=90)
            client.user("demo")
            sent.append(index)
            client.pass_("demo")
            # TOP, not RETR: RETR's seen-flag rename would make the others' RETR find the file
            # gone (Courier's behaviour with concurrent sessions, test_pop3_server.py).
            results.append((index, uidls(client), client.top(4, 5)[1]))
            client.quit()
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=session, args=(i,)) for i in range(waiting)]
    for t in threads:
        t.start()
    while len(sent) < waiting and not errors:
        time.sleep(0.05)
    time.sleep(1)   # let every PASS reach the server and start waiting
    # Meanwhile another account logs in, lists and reads.
    deliver_numbered(site.other, 7, "cur")
    other = login(site, "other")
    assert other.stat() == (1, len(b"Subject: message 7\r\n\r\nbody 7\r\n"))
    assert other.retr(1)[1] == [b"Subject: message 7", b"", b"body 7"]
    other.quit()
    # ... and demo's sessions are all still waiting for the lock.
    assert results == [] and errors == []
    assert all(t.is_alive() for t in threads)
    lock.unlink()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(results) == waiting
    # Everyone got the same UIDLs: the three old ones, and one new UID for the new message.
    views = {tuple(view) for _, view, _ in results}
    assert len(views) == 1
    (view,) = views
    assert list(view[:3]) == before and re.fullmatch(r"UID4-\d+", view[3])
    assert all(body == [b"Subject: message 3", b"", b"body 3"] for _, _, body in results)
    later = login(site)
    assert uidls(later) == list(view)
    later.quit()


def test_sessions_wait_for_each_other_on_one_mailbox(site):
    """Several sessions on one mailbox, each delivering and logging in again while the others
    are logged in: every login shows every message once, and UIDLs never change."""
    seen = {}
    errors = []
    lock = threading.Lock()

    def worker(index):
        try:
            for round_ in range(5):
                deliver_numbered(site.maildir, index * 10 + round_)
                client = login(site)
                _, lines, _ = client.uidl()
                count = client.stat()[0]
                for line in lines:
                    number, uidl = line.decode().split(" ", 1)
                    subject = client.top(int(number), 0)[1][0].decode()
                    with lock:
                        assert seen.setdefault(subject, uidl) == uidl
                assert count == len(lines)
                client.quit()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(seen) == 30 and len(set(seen.values())) == 30
    client = login(site)
    assert client.stat()[0] == 30
    client.quit()


def test_new_messages_move_to_cur_under_the_quota_lock(site):
    """With a quota (maildirsize), the move of new/ into cur/ waits for the flock() on the
    maildir that deliveries and quota rebuilds hold."""
    (site.maildir / "maildirsize").write_text("1000000S,1000C\n0 0\n")
    deliver_numbered(site.maildir, 1)
    holder = os.open(site.maildir, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    done = []
    thread = threading.Thread(target=lambda: done.append(uidls(login(site))))
    try:
        thread.start()
        time.sleep(1)
        assert len(os.listdir(site.maildir / "new")) == 1 and done == []
    finally:
        fcntl.flock(holder, fcntl.LOCK_UN)
        os.close(holder)
    thread.join(60)
    assert len(done) == 1 and len(done[0]) == 1
    assert os.listdir(site.maildir / "new") == []
    assert os.listdir(site.maildir / "cur") == ["1700000001.M1P1.host:2,"]
