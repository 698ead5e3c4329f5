"""CONDSTORE and QRESYNC (RFC 7162) on a real `courier start`, driven by imapclient and raw
imaplib: MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE, HIGHESTMODSEQ across sessions, changes by a
program that knows nothing of mod-sequences (a plain rename in cur/), a restart of the server
(mod-sequences are durable), and QRESYNC's VANISHED (EARLIER) after reconnecting.
"""
import imaplib
import re

import imapclient
import pytest

from courier_site import CourierSite, require_courier


class Site(CourierSite):
    """A demo site with imapd on a free port, running `courier start`."""

    def __init__(self, root):
        super().__init__(root, services=("imapd",))
        self.start()

    def imapclient(self):
        client = imapclient.IMAPClient("127.0.0.1", port=self.ports["imapd"], ssl=False, timeout=20)
        client.login("demo", "demo")
        return client


@pytest.fixture()
def site(tmp_path):
    require_courier()
    s = Site(tmp_path / "site")
    yield s
    s.stop()


def message(subject):
    return (f"From: Alice <alice@example.test>\r\nTo: demo@example.test\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@example.test>\r\n\r\nbody of {subject}\r\n").encode()


def raw(client, line):
    """Sends one command through imaplib and returns every untagged line and the tagged one."""
    tag = client._new_tag().decode()
    client.send(f"{tag} {line}\r\n".encode())
    lines = []
    while True:
        got = client._get_line().decode()
        lines.append(got)
        if got.startswith(tag + " "):
            return lines


def highest_modseq(lines):
    for line in lines:
        m = re.search(r"\[HIGHESTMODSEQ (\d+)\]", line)
        if m:
            return int(m.group(1))
    return None


def test_capabilities_and_imapclient_condstore(site):
    c = site.imapclient()
    for i in range(3):
        c.append("INBOX", message(f"m{i}"))
    caps = c.capabilities()
    assert b"CONDSTORE" in caps and b"QRESYNC" in caps
    assert c.enable("CONDSTORE") == [b"CONDSTORE"]
    info = c.select_folder("INBOX", readonly=False)
    highest = info[b"HIGHESTMODSEQ"]
    assert highest > 0
    fetched = c.fetch(c.search("ALL"), ["FLAGS", "MODSEQ"])
    assert sorted(fetched) == [1, 2, 3]
    assert all(0 < f[b"MODSEQ"][0] <= highest for f in fetched.values())
    c.add_flags([2], [b"\\Flagged"])
    changed = c.fetch(c.search("ALL"), ["FLAGS"], modifiers=[f"CHANGEDSINCE {highest}"])
    assert list(changed) == [2]
    assert b"\\Flagged" in changed[2][b"FLAGS"] and changed[2][b"MODSEQ"][0] > highest
    # SEARCH MODSEQ and STATUS HIGHESTMODSEQ agree with that.
    assert c.search(["MODSEQ", str(highest + 1)]) == [2]
    status = c.folder_status("INBOX", ["HIGHESTMODSEQ"])
    assert status[b"HIGHESTMODSEQ"] == changed[2][b"MODSEQ"][0]
    # Read-only select (EXAMINE) reports it as well.
    info = c.select_folder("INBOX", readonly=True)
    assert info[b"HIGHESTMODSEQ"] == status[b"HIGHESTMODSEQ"]
    c.logout()


def test_conditional_store_reports_modified(site):
    a = site.imap()
    for i in range(2):
        a.append("INBOX", None, None, message(f"c{i}"))
    highest = highest_modseq(raw(a, "SELECT INBOX (CONDSTORE)"))
    b = site.imap()
    b.select("INBOX")
    b.store("1", "+FLAGS", r"(\Answered)")
    lines = raw(a, f"UID STORE 1:2 (UNCHANGEDSINCE {highest}) +FLAGS (\\Seen)")
    assert lines[-1].endswith("OK [MODIFIED 1] Conditional STORE failed for some messages."), lines
    assert any("UID 2" in line and "\\Seen" in line and "MODSEQ" in line for line in lines), lines
    assert not any(line.startswith("* 1 FETCH") and "\\Seen" in line for line in lines), lines
    a.logout()
    b.logout()


def test_two_sessions_changedsince_and_outside_rename(site):
    """Flags changed in one session, and by a plain rename in cur/, show up via CHANGEDSINCE in
    another; mod-sequences survive a restart of the server."""
    a = site.imapclient()
    b = site.imapclient()
    for i in range(4):
        a.append("INBOX", message(f"s{i}"))
    a.enable("CONDSTORE")
    b.enable("CONDSTORE")
    start = a.select_folder("INBOX")[b"HIGHESTMODSEQ"]
    b.select_folder("INBOX")
    b.add_flags([3], [b"$Work"])
    # A program that knows nothing of mod-sequences (a shell user) flags message 1.
    cur = site.maildir / "cur"
    first = next(p for p in cur.iterdir() if b"Subject: s0\n" in p.read_bytes())
    first.rename(cur / (first.name.split(":2,")[0] + ":2,F"))
    changed = a.fetch(a.search("ALL"), ["FLAGS"], modifiers=[f"CHANGEDSINCE {start}"])
    assert set(changed) == {1, 3}, changed
    assert b"\\Flagged" in changed[1][b"FLAGS"] and b"$Work" in changed[3][b"FLAGS"]
    after = max(f[b"MODSEQ"][0] for f in changed.values())
    a.logout()
    b.logout()
    site.restart()
    c = site.imapclient()
    c.enable("CONDSTORE")
    info = c.select_folder("INBOX")
    assert info[b"HIGHESTMODSEQ"] == after
    assert c.fetch(c.search("ALL"), ["FLAGS"], modifiers=[f"CHANGEDSINCE {after}"]) == {}
    c.logout()


def test_qresync_vanished_after_reconnect(site):
    a = site.imap()
    for i in range(5):
        a.append("INBOX", None, None, message(f"q{i}"))
    assert raw(a, "ENABLE QRESYNC")[0] == "* ENABLED QRESYNC"
    lines = raw(a, "SELECT INBOX (CONDSTORE)")
    validity = int(re.search(r"\[UIDVALIDITY (\d+)\]", "".join(lines)).group(1))
    known = highest_modseq(lines)
    a.logout()
    # Another client expunges two messages and flags one while the first is away.
    b = site.imap()
    raw(b, "ENABLE QRESYNC")
    raw(b, "SELECT INBOX")
    raw(b, "STORE 2,4 +FLAGS (\\Deleted)")
    expunge = raw(b, "EXPUNGE")
    assert expunge[0] == "* VANISHED 2,4", expunge
    assert highest_modseq(expunge) > known
    raw(b, "UID STORE 5 +FLAGS (\\Flagged)")
    b.logout()
    # The first client comes back with what it knew.
    c = site.imap()
    raw(c, "ENABLE QRESYNC")
    lines = raw(c, f"SELECT INBOX (QRESYNC ({validity} {known} 1:5))")
    assert "* VANISHED (EARLIER) 2,4" in lines, lines
    assert any(re.match(r"\* 3 FETCH \(UID 5 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)", line) for line in lines), lines
    assert lines[-1].endswith("OK [READ-WRITE] Ok")
    fetch = raw(c, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {known} VANISHED)")
    assert fetch[0] == "* VANISHED (EARLIER) 2,4", fetch
    # Without QRESYNC enabled, the QRESYNC parameter is refused.
    d = site.imap()
    assert raw(d, f"SELECT INBOX (QRESYNC ({validity} {known}))")[-1].split()[1] == "BAD"
    c.logout()
    d.logout()
