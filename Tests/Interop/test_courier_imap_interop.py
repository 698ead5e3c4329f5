"""The Maildir is shared with the real Courier-IMAP (Debian's courier-imap, unpacked by
Scripts/test; issue 3's proof): a Maildir our server wrote, with UIDs, flags, keywords and a
folder, is served by Courier's imapd with the same UIDVALIDITY, UIDs, flags and keywords; and a
Maildir Courier's imapd wrote is served by ours the same way. Courier's imapd runs pre-authenticated
on a pipe (`imapd DIR`, as its login program would start it), driven by imaplib.IMAP4_stream.
"""
import imaplib
import os
import pathlib
import re
import shlex
import time

import pytest

from courier_site import CourierSite, require_courier

# Where Scripts/test unpacks Courier's courier-imap (and courier-authlib for its library), or
# the benchmark anchors' unpacked Courier.
DIST_CANDIDATES = [
    os.environ.get("COURIER_IMAP_DIST", ""),
    "/var/cache/courier-swift-test/courier-dist",
    "/var/tmp/courier-anchors/courier-dist",
]


def courier_dist():
    for candidate in DIST_CANDIDATES:
        if candidate and (pathlib.Path(candidate) / "usr/bin/imapd").exists():
            return pathlib.Path(candidate)
    pytest.fail("Courier's imapd is not unpacked (Scripts/test downloads courier-imap into "
                "/var/cache/courier-swift-test/courier-dist)")


def courier_imap(maildir):
    """A pre-authenticated session with Courier's own imapd on `maildir`."""
    dist = courier_dist()
    env = {
        "LD_LIBRARY_PATH": f"{dist}/usr/lib",
        "IMAP_KEYWORDS": "1",
        "IMAP_MAILBOX_SANITY_CHECK": "0",
        "IMAP_CAPABILITY": "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE QUOTA IDLE",
        "HOSTNAME": "courier-imap.test",
    }
    command = ("cd " + shlex.quote(str(maildir)) + " && exec env -i "
               + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
               + " " + shlex.quote(str(dist / "usr/bin/imapd")) + " . 2>/dev/null")
    client = imaplib.IMAP4_stream(command)
    assert client.state == "AUTH", client.welcome
    return client


@pytest.fixture()
def site(tmp_path):
    require_courier()
    courier_dist()
    s = CourierSite(tmp_path / "site", services=("imapd",))
    yield s
    s.stop()


def message(subject, body="hello\r\n"):
    return (f"From: Alice <alice@example.test>\r\nTo: demo@example.test\r\nSubject: {subject}\r\n"
            f"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{subject.replace(' ', '.')}@example.test>\r\n"
            f"\r\n{body}").encode()


def normalise(flags):
    """A flag list as a set, without \\Recent (a session property, not a stored one)."""
    return frozenset(f.lower() for f in flags.split() if f.lower() != "\\recent")


def folder_state(client, folder):
    """UIDVALIDITY, UIDNEXT and {uid: (flags, subject)} of `folder` as `client` serves it."""
    typ, data = client.select(folder, readonly=True)
    assert typ == "OK", data
    uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", b" ".join(
        x for x in client.untagged_responses.get("OK", []) if isinstance(x, bytes))).group(1))
    typ, data = client.status(folder, "(UIDNEXT MESSAGES)")
    assert typ == "OK", data
    uidnext = int(re.search(rb"UIDNEXT (\d+)", data[0]).group(1))
    messages = {}
    if int(re.search(rb"MESSAGES (\d+)", data[0]).group(1)) > 0:
        typ, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK", data
        for item in data:
            if not isinstance(item, tuple):
                continue
            head = item[0].decode()
            uid = int(re.search(r"UID (\d+)", head).group(1))
            flags = re.search(r"FLAGS \(([^)]*)\)", head).group(1)
            subject = item[1].decode().strip()
            messages[uid] = (normalise(flags), subject)
    client.close() if client.state == "SELECTED" else None
    return uidvalidity, uidnext, messages


def write_mailbox(client):
    """The same changes through either server: appends with flags and keywords, an expunge that
    leaves a UID gap, a folder with a keyword added later."""
    appends = [
        ("first", r"(\Seen)"),
        ("second", r"(\Flagged \Answered)"),
        ("third", "($Label1 Project)"),
        ("fourth", None),
        ("fifth", r"(\Draft \Seen)"),
        ("sixth", None),
    ]
    for subject, flags in appends:
        typ, data = client.append("INBOX", flags, None, message(subject))
        assert typ == "OK", data
    typ, data = client.select("INBOX")
    assert typ == "OK", data
    typ, data = client.search(None, "SUBJECT", "fourth")
    assert typ == "OK" and data[0], data
    client.store(data[0].decode(), "+FLAGS", r"(\Deleted)")
    typ, data = client.expunge()
    assert typ == "OK", data
    typ, data = client.search(None, "SUBJECT", "sixth")
    client.store(data[0].decode(), "+FLAGS", "(Later)")
    client.close()
    typ, data = client.create("INBOX.Work")
    assert typ == "OK", data
    for subject in ("work one", "work two"):
        typ, data = client.append("INBOX.Work", r"(\Seen)", None, message(subject))
        assert typ == "OK", data
    client.select("INBOX.Work")
    client.store("2", "+FLAGS", "(Urgent)")
    client.close()


def snapshot(client):
    return {folder: folder_state(client, folder) for folder in ("INBOX", "INBOX.Work")}


def check_expected(state):
    """What write_mailbox leaves, whichever server wrote it."""
    _, uidnext, inbox = state["INBOX"]
    subjects = {subject: flags for flags, subject in inbox.values()}
    assert set(subjects) == {"Subject: first", "Subject: second", "Subject: third", "Subject: fifth",
                             "Subject: sixth"}
    assert subjects["Subject: first"] == {"\\seen"}
    assert subjects["Subject: second"] == {"\\flagged", "\\answered"}
    assert subjects["Subject: third"] == {"$label1", "project"}
    assert subjects["Subject: fifth"] == {"\\draft", "\\seen"}
    assert subjects["Subject: sixth"] == {"later"}
    assert max(inbox) < uidnext and len(inbox) == 5
    # the expunged fourth message left a gap that is never filled
    uids = sorted(inbox)
    assert uids[-1] - uids[0] == 5
    _, _, work = state["INBOX.Work"]
    assert sorted((s, f) for f, s in work.values()) == [("Subject: work one", {"\\seen"}),
                                                         ("Subject: work two", {"\\seen", "urgent"})]


def test_courier_imapd_serves_a_maildir_we_wrote(site):
    site.start()
    client = site.imap()
    write_mailbox(client)
    ours = snapshot(client)
    client.logout()
    site.stop()
    check_expected(ours)

    theirs_client = courier_imap(site.maildir)
    theirs = snapshot(theirs_client)
    theirs_client.logout()
    assert theirs == ours

    # and the other way round again: what Courier's imapd did not change, we still serve the same
    site.start()
    client = site.imap()
    assert snapshot(client) == ours
    client.logout()


def test_we_serve_a_maildir_courier_imapd_wrote(site):
    theirs_client = courier_imap(site.maildir)
    write_mailbox(theirs_client)
    theirs = snapshot(theirs_client)
    theirs_client.logout()
    check_expected(theirs)

    site.start()
    client = site.imap()
    ours = snapshot(client)
    assert ours == theirs
    # new mail appended by us after Courier's UIDs continues Courier's numbering
    typ, data = client.append("INBOX", None, None, message("seventh"))
    assert typ == "OK", data
    match = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
    assert match and int(match.group(1)) == theirs["INBOX"][0] and int(match.group(2)) == theirs["INBOX"][1]
    client.logout()
    site.stop()

    # Courier sees our new message under the UID we gave it
    theirs_client = courier_imap(site.maildir)
    validity, uidnext, inbox = folder_state(theirs_client, "INBOX")
    theirs_client.logout()
    assert validity == theirs["INBOX"][0]
    assert inbox[theirs["INBOX"][1]] == (frozenset(), "Subject: seventh")
    assert uidnext == theirs["INBOX"][1] + 1


def uid_flags(client):
    """{uid: flags} of the selected folder after a NOOP (unsolicited FETCHes dropped)."""
    client.noop()
    client.response("FETCH")
    typ, data = client.uid("FETCH", "1:*", "(UID FLAGS)")
    assert typ == "OK", data
    result = {}
    for item in data:
        uid = re.search(rb"UID (\d+)", item or b"")
        if uid:
            result[int(uid.group(1))] = normalise(re.search(rb"FLAGS \(([^)]*)\)", item).group(1).decode())
    return result


def test_flag_changes_cross_over_while_both_serve_one_maildir(site):
    """Both servers on one Maildir at the same time: a flag set by Courier's imapd is seen by our
    session, and one set by ours by Courier's (both read the file names, not a private database)."""
    site.start()
    client = site.imap()
    for subject in ("alpha", "beta"):
        client.append("INBOX", None, None, message(subject))
    client.select("INBOX")
    theirs_client = courier_imap(site.maildir)
    theirs_client.select("INBOX")
    typ, data = theirs_client.uid("STORE", "1", "+FLAGS", r"(\Flagged)")
    assert typ == "OK", data
    typ, data = client.uid("STORE", "2", "+FLAGS", r"(\Seen)")
    assert typ == "OK", data
    expected = {1: {"\\flagged"}, 2: {"\\seen"}}
    # each server notices the other's rename when it next looks (NOOP); the directory stamps
    # they compare move once the clock passes the second of the change, so ask until then
    deadline = time.time() + 15
    while True:
        ours, theirs = uid_flags(client), uid_flags(theirs_client)
        if (ours == theirs == expected) or time.time() > deadline:
            break
        time.sleep(0.2)
    theirs_client.logout()
    client.logout()
    assert ours == theirs == expected
