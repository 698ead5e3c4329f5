"""Answers the IMAP server gives on its event loop (a repeated SELECT of an unchanged folder, a
UID FETCH BODY.PEEK[] of a cached message) next to changes made by other programs and other
sessions: Python's imaplib sees every change at the next command, with no pause in between.
"""
import os
import time

from test_imap_server import message, site  # noqa: F401 (site: the shared pytest fixture)


def drop_into_new(maildir, name, data):
    """Delivers a message the way a local delivery agent does: tmp/, then a rename into new/."""
    tmp = maildir / "tmp" / name
    tmp.write_bytes(data)
    os.rename(tmp, maildir / "new" / name)


def exists(client, mailbox="INBOX"):
    typ, data = client.select(mailbox)
    assert typ == "OK", data
    return int(data[0])


def test_repeated_select_sees_each_delivery_at_once(site):
    client = site.imap()
    base = exists(client)
    for round_ in range(20):
        # Several SELECTs of the unchanged folder (the later ones come from memory)...
        for _ in range(3):
            assert exists(client) == base + round_
        # ...then a delivery by another program, and the very next SELECT counts it.
        drop_into_new(site.maildir, f"{int(time.time())}.M{round_}P1.elsewhere", message(f"drop {round_}"))
        assert exists(client) == base + round_ + 1
    client.logout()


def test_body_fetch_sees_other_sessions_changes_in_order(site):
    a = site.imap()
    b = site.imap()
    for n in range(3):
        drop_into_new(site.maildir, f"{int(time.time())}.M{n}P2.elsewhere", message(f"body {n}", body=f"text {n}\r\n"))
    exists(a)
    exists(b)
    typ, data = a.uid("SEARCH", None, "ALL")
    uids = data[0].split()
    assert len(uids) == 3
    for _ in range(5):
        typ, data = a.uid("FETCH", uids[1], "(BODY.PEEK[])")
        assert typ == "OK" and b"text 1\r\n" in data[0][1]
    # Another session flags a message: a's next UID FETCH reports the new flags first.
    typ, _ = b.uid("STORE", uids[2], "+FLAGS", "(\\Flagged)")
    assert typ == "OK"
    typ, data = a.uid("FETCH", uids[1], "(BODY.PEEK[])")
    assert typ == "OK"
    flat = b" ".join(part if isinstance(part, bytes) else b" ".join(part) for part in data)
    assert b"\\Flagged" in flat and b"text 1\r\n" in flat
    # A new message from elsewhere shows as EXISTS on the next UID FETCH.
    drop_into_new(site.maildir, f"{int(time.time())}.M9P2.elsewhere", message("late"))
    a.uid("FETCH", uids[0], "(BODY.PEEK[])")
    typ, data = a.response("EXISTS")
    assert data[-1] == b"4", data
    # PEEK never set \Seen, on the event loop or not.
    typ, data = a.uid("FETCH", uids[1], "(FLAGS)")
    assert b"\\Seen" not in data[0]
    a.logout()
    b.logout()


def test_a_folder_created_where_one_was_renamed_away_is_watched_afresh(site):
    """RENAME Old Moved, then CREATE Old: the new Old is another directory, and a delivery to it
    shows at the next SELECT (the server once kept counting the moved directory's changes)."""
    client = site.imap()
    typ, data = client.create("INBOX.Old")
    assert typ == "OK", data
    # The keyword directory appears with the first keyword; made here so that it is watched too.
    os.makedirs(site.maildir / ".Old" / "courierimapkeywords", exist_ok=True)
    assert exists(client, "INBOX.Old") == 0
    assert exists(client, "INBOX.Old") == 0
    typ, data = client.rename("INBOX.Old", "INBOX.Moved")
    assert typ == "OK", data
    typ, data = client.create("INBOX.Old")
    assert typ == "OK", data
    os.makedirs(site.maildir / ".Old" / "courierimapkeywords", exist_ok=True)
    for _ in range(3):
        assert exists(client, "INBOX.Old") == 0
    drop_into_new(site.maildir / ".Old", f"{int(time.time())}.M1P3.elsewhere", message("to the new Old"))
    assert exists(client, "INBOX.Old") == 1
    # The moved folder kept its (empty) contents and still answers.
    assert exists(client, "INBOX.Moved") == 0
    client.logout()
