"""IMAP leftovers on a real `courier start`, driven by imaplib (raw commands where it has no
method): LIST-MYRIGHTS (RFC 8440) with the LIST-EXTENDED/LIST-STATUS options (RFC 5258, 5819,
6154), QRESYNC's seq-match-data (RFC 7162 §3.2.5.2), and COPY, MOVE and APPEND into and out of
another account's `#shared.` folder by its ACL, with UIDPLUS answers and the owner's quota; the
same COPY through Courier's own imapd leaves the owner's files in the same state.
"""
import imaplib
import re
import shlex

import pytest

from courier_site import CourierSite, require_courier
from test_courier_imap_interop import courier_dist
from test_imap_acl import add_bob, login, public_dir  # noqa: F401 (a fixture)
from test_imap_condstore import raw


@pytest.fixture()
def site(tmp_path):
    require_courier()
    s = CourierSite(tmp_path / "site", services=("imapd",))
    yield s
    s.stop()


def message(subject, body="hello\r\n"):
    return (f"From: Alice <alice@example.test>\r\nTo: demo@example.test\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@example.test>\r\n\r\n{body}").encode()


def tagged(lines):
    return lines[-1].split(" ", 1)[1]


def test_list_myrights_and_list_extended_combinations(site):
    site.start()
    client = site.imap()
    assert "LIST-MYRIGHTS" in client.capabilities and "LIST-EXTENDED" in client.capabilities
    for folder in ("INBOX.Archive", "INBOX.Projects", "INBOX.Drop"):
        assert client.create(folder)[0] == "OK"
    client.append("INBOX", None, None, message("one"))
    # A drop box: the owner has only `a i l` on it (Courier keeps `a` and `l` for the owner).
    (site.maildir / ".Drop" / "courierimapacl").write_text("owner ail\nadministrators aceilrstwx\n")
    lines = raw(client, 'LIST "" "*" RETURN (MYRIGHTS STATUS (MESSAGES))')
    assert tagged(lines).startswith("OK")
    assert 'MYRIGHTS "INBOX" "acdilrsw"' in " ".join(lines)
    assert '* STATUS "INBOX" (MESSAGES 1)' in lines
    assert '* MYRIGHTS "INBOX.Drop" "ail"' in lines
    # RFC 5819 / RFC 4314: no STATUS for a mailbox the user may not read.
    assert not any(line.startswith('* STATUS "INBOX.Drop"') for line in lines)
    # Every listed mailbox gets exactly one MYRIGHTS, right after its LIST (and STATUS).
    listed = [line for line in lines if line.startswith("* LIST ")]
    assert len([line for line in lines if line.startswith("* MYRIGHTS ")]) == len(listed) == 4
    # MYRIGHTS agrees with the MYRIGHTS command.
    assert client.myrights("INBOX.Archive")[1] == [b'"INBOX.Archive" "acdilrsw"']
    # Selection options: SPECIAL-USE with RECURSIVEMATCH, REMOTE (no remote mailboxes here),
    # SUBSCRIBED with return options.
    assert client.subscribe("INBOX.Projects")[0] == "OK"
    lines = raw(client, 'LIST (SPECIAL-USE RECURSIVEMATCH) "" "%" RETURN (MYRIGHTS)')
    assert lines == ['* LIST (\\HasChildren) "." "INBOX" ("CHILDINFO" ("SPECIAL-USE"))',
                     '* MYRIGHTS "INBOX" "acdilrsw"', lines[-1]]
    lines = raw(client, 'LIST (REMOTE SUBSCRIBED) "" "*" RETURN (CHILDREN SPECIAL-USE STATUS (UIDNEXT) MYRIGHTS)')
    assert lines[:3] == ['* LIST (\\HasNoChildren \\Subscribed) "." "INBOX.Projects"',
                         '* STATUS "INBOX.Projects" (UIDNEXT 1)', '* MYRIGHTS "INBOX.Projects" "acdilrsw"']
    lines = raw(client, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (MYRIGHTS)')
    assert lines[0] == '* LIST (\\HasChildren) "." "INBOX" ("CHILDINFO" ("SUBSCRIBED"))'
    # RFC 5258 §3: RECURSIVEMATCH alone (or with REMOTE only) is BAD; so is an unknown option.
    assert tagged(raw(client, 'LIST (RECURSIVEMATCH REMOTE) "" "*"')).startswith("BAD")
    assert tagged(raw(client, 'LIST "" "*" RETURN (NOSUCH)')).startswith("BAD")
    client.logout()


def test_qresync_seq_match_data(site):
    site.start()
    client = site.imap()
    for i in range(6):
        client.append("INBOX", None, None, message(f"m{i}"))
    assert raw(client, "ENABLE QRESYNC")[0] == "* ENABLED QRESYNC"
    lines = raw(client, "SELECT INBOX")
    validity = int(re.search(r"UIDVALIDITY (\d+)", " ".join(lines)).group(1))
    raw(client, r"UID STORE 2 +FLAGS.SILENT (\Deleted)")
    assert raw(client, "EXPUNGE")[0] == "* VANISHED 2"
    raw(client, r"UID STORE 5 +FLAGS.SILENT (\Deleted)")
    raw(client, "EXPUNGE")
    client.logout()

    again = site.imap()
    raw(again, "ENABLE QRESYNC")
    # A MODSEQ older than the server's log: every UID missing below UIDNEXT is reported...
    lines = raw(again, f"SELECT INBOX (QRESYNC ({validity} 1))")
    assert "* VANISHED (EARLIER) 2,5" in lines
    # ...unless seq-match-data shows the client's view still holds up to UID 4.
    lines = raw(again, f"SELECT INBOX (QRESYNC ({validity} 1 1:6 (1:3 1,3:4)))")
    assert "* VANISHED (EARLIER) 5" in lines and tagged(lines).startswith("OK")
    # A view that is wrong at its first pair gets the full answer.
    lines = raw(again, f"SELECT INBOX (QRESYNC ({validity} 1 (2 2)))")
    assert "* VANISHED (EARLIER) 2,5" in lines
    # Uneven sets are BAD.
    assert tagged(raw(again, f"SELECT INBOX (QRESYNC ({validity} 1 (1:3 1))))")).startswith("BAD")
    # UID FETCH (VANISHED) only names UIDs of its own set (RFC 7162 §3.2.6).
    raw(again, "SELECT INBOX")
    lines = raw(again, "UID FETCH 3:5 (FLAGS) (CHANGEDSINCE 1 VANISHED)")
    assert lines[0] == "* VANISHED (EARLIER) 5"
    assert tagged(raw(again, "FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)")).startswith("BAD")
    again.logout()


def share_team(site, rights):
    """bob's INBOX.Team with one message, shared with demo by `rights`; bob's quota 4000 bytes."""
    bob = login(site, "bob")
    assert bob.create("INBOX.Team")[0] == "OK"
    assert bob.append("INBOX.Team", None, None, message("team news"))[0] == "OK"
    assert bob.setacl("INBOX.Team", "demo", rights)[0] == "OK"
    bob.logout()
    size = sum(p.stat().st_size for p in (site.maildir_of("bob") / ".Team" / "cur").iterdir())
    (site.maildir_of("bob") / "maildirsize").write_text(f"4000S\n{size} 1\n")


def quota_usage(maildir):
    lines = (maildir / "maildirsize").read_text().splitlines()[1:]
    return tuple(sum(int(line.split()[i]) for line in lines) for i in (0, 1))


def test_copy_move_append_into_another_accounts_shared_folder(site):
    add_bob(site)
    site.start()
    share_team(site, "lri")
    demo = site.imap()
    for i in range(3):
        demo.append("INBOX", None, None, message(f"mine {i}"))
    demo.select("INBOX")
    before = quota_usage(site.maildir_of("bob"))
    # COPY with `i`: COPYUID names bob's folder's UIDVALIDITY and the new UID.
    lines = raw(demo, "UID COPY 1 #shared.bob.Team")
    assert re.match(r"OK \[COPYUID \d+ 1 2\]", tagged(lines)), lines
    # MOVE with `i` on the target (and every right on the own INBOX): COPYUID, then EXPUNGE.
    lines = raw(demo, "UID MOVE 2 #shared.bob.Team")
    assert re.match(r"\* OK \[COPYUID \d+ 2 3\]", lines[0]), lines
    assert lines[1] == "* 2 EXPUNGE" and tagged(lines).startswith("OK")
    # APPEND with `i`: APPENDUID.
    typ, data = demo.append("#shared.bob.Team", None, None, message("appended"))
    assert typ == "OK" and re.match(rb"\[APPENDUID \d+ 4\]", data[0]), data
    # The three new files count in bob's maildirsize, the moved one left demo's INBOX.
    team = sorted((site.maildir_of("bob") / ".Team" / "cur").iterdir())
    assert len(team) == 4
    after = quota_usage(site.maildir_of("bob"))
    assert after[1] == before[1] + 3 and after[0] > before[0]
    assert demo.status("INBOX", "(MESSAGES)")[1] == [b'"INBOX" (MESSAGES 2)']
    # Over bob's 4000-byte quota: NO [OVERQUOTA], nothing left behind.
    typ, data = demo.append("#shared.bob.Team", None, None, message("big", "x" * 5000 + "\r\n"))
    assert typ == "NO" and data[0].startswith(b"[OVERQUOTA]"), data
    assert len(list((site.maildir_of("bob") / ".Team" / "cur").iterdir())) == 4
    assert list((site.maildir_of("bob") / ".Team" / "tmp").iterdir()) == []
    # Out of bob's folder: COPY needs `r` there only; MOVE also `e` and `t`, which `lri` lacks.
    demo.select("#shared.bob.Team")
    assert tagged(raw(demo, "UID COPY 1 INBOX")).startswith("OK [COPYUID ")
    lines = raw(demo, "UID MOVE 1 INBOX")
    assert tagged(lines) == 'NO [NOPERM] Access denied for MOVE on current mailbox (ACL "e" required)'
    demo.logout()

    # bob grants `e` and `t`: now the MOVE out works, reported as VANISHED to a QRESYNC client.
    bob = login(site, "bob")
    assert bob.setacl("INBOX.Team", "demo", "lrietw")[0] == "OK"
    bob.logout()
    demo = site.imap()
    raw(demo, "ENABLE QRESYNC")
    raw(demo, "SELECT #shared.bob.Team")
    lines = raw(demo, "UID MOVE 1 INBOX")
    assert re.match(r"\* OK \[COPYUID \d+ 1 \d+\]", lines[0]), lines
    assert lines[1] == "* VANISHED 1" and tagged(lines).startswith("OK")
    assert len(list((site.maildir_of("bob") / ".Team" / "cur").iterdir())) == 3
    assert quota_usage(site.maildir_of("bob"))[1] == after[1] - 1
    demo.logout()


def test_courier_imapd_copies_into_a_shared_folder_too(site):
    """Courier's own imapd, as demo on the same index and files: a COPY into bob's folder with
    `i` works there too and lands in bob's folder. Courier charges it to the copier's own
    `maildirsize` (demo's), not to the Maildir the file is in; we charge the owner's (bob's),
    whose quota the file takes up (a difference on purpose, Docs/imap-acl.md)."""
    index = add_bob(site)
    site.start()
    share_team(site, "lri")
    demo = site.imap()
    demo.append("INBOX", None, None, message("mine"))
    demo.select("INBOX")
    before = quota_usage(site.maildir_of("bob"))
    assert demo.copy("1", "#shared.bob.Team")[0] == "OK"
    demo.logout()
    ours = quota_usage(site.maildir_of("bob"))
    site.stop()
    copied = ours[0] - before[0]
    assert ours[1] == before[1] + 1 and copied > 0

    dist = courier_dist()
    env = {
        "LD_LIBRARY_PATH": f"{dist}/usr/lib", "IMAP_KEYWORDS": "1", "IMAP_MAILBOX_SANITY_CHECK": "0",
        "HOSTNAME": "courier-imap.test", "AUTHENTICATED": "demo", "IMAP_SHAREDINDEXFILE": str(index),
        "IMAP_CAPABILITY": "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE QUOTA IDLE ACL ACL2=UNION",
    }
    command = ("cd " + shlex.quote(str(site.maildir)) + " && exec env -i "
               + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
               + " " + shlex.quote(str(dist / "usr/bin/imapd")) + " . 2>/dev/null")
    (site.maildir / "maildirsize").write_text("100000S\n0 0\n")
    courier = imaplib.IMAP4_stream(command)
    courier.select("INBOX")
    typ, data = courier.copy("1", "#shared.bob.Team")
    assert typ == "OK", data
    courier.logout()
    assert len(list((site.maildir_of("bob") / ".Team" / "cur").iterdir())) == 3
    assert quota_usage(site.maildir_of("bob")) == ours
    assert quota_usage(site.maildir) == (copied, 1)


def test_list_options_on_filesystem_shared_folders(site, public_dir):
    """`shared.` (Courier's filesystem shared folders): SUBSCRIBED selects the subscribed ones
    (the levels above only with RECURSIVEMATCH, with CHILDINFO), STATUS and MYRIGHTS come for
    the folders that open (the subscribed ones)."""
    import subprocess
    from courier_site import COURIER
    sharable = public_dir / "S1"
    for args in (["-S", str(sharable)], ["-s", "read", "-f", "notes", str(sharable)],
                 ["-s", "read", "-f", "news", str(sharable)], ["--add", f"pub={sharable}", str(site.maildir)]):
        result = subprocess.run([str(COURIER), "maildirmake", *args], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    (sharable / ".notes" / "new" / "1795700000.M1P1.host").write_bytes(message("notice").replace(b"\r\n", b"\n"))
    site.start()
    client = site.imap()
    assert client.subscribe("shared.pub.notes")[0] == "OK"
    lines = raw(client, 'LIST "" "shared.*" RETURN (SUBSCRIBED MYRIGHTS STATUS (MESSAGES))')
    assert lines[:-1] == ['* LIST (\\Noselect \\HasChildren) "." "shared.pub"',
                          '* LIST (\\HasNoChildren) "." "shared.pub.news"',
                          '* LIST (\\HasNoChildren \\Subscribed) "." "shared.pub.notes"',
                          '* STATUS "shared.pub.notes" (MESSAGES 1)',
                          '* MYRIGHTS "shared.pub.notes" "lrsw"'], lines
    lines = raw(client, 'LIST (SUBSCRIBED) "" "shared.*"')
    assert lines[:-1] == ['* LIST (\\HasNoChildren \\Subscribed) "." "shared.pub.notes"'], lines
    lines = raw(client, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "shared.%"')
    assert lines[:-1] == ['* LIST (\\Noselect \\HasChildren) "." "shared.pub" ("CHILDINFO" ("SUBSCRIBED"))'], lines
    assert raw(client, 'LIST (SPECIAL-USE) "" "shared.*"')[:-1] == []
    client.logout()


def test_adding_to_a_writable_filesystem_shared_folder(site, public_dir):
    """A `maildirmake -s write` folder (mode 1777: everybody may add) takes APPEND (also
    streamed) and COPY from any user, with APPENDUID/COPYUID in the user's local copy; the new
    files land in the sharable folder without flags (flags are each user's, on their links),
    Courier's imapd sees them, MOVE into it stays refused, and EXPUNGE there removes the
    user's own post (test_imap_sharable_expunge has the rest of EXPUNGE's rules)."""
    import os
    import subprocess
    from courier_site import COURIER
    from test_imap_acl import courier_imap
    sharable = public_dir / "S1"
    for args in (["-S", str(sharable)], ["-s", "write", "-f", "board", str(sharable)],
                 ["--add", f"pub={sharable}", str(site.maildir)]):
        result = subprocess.run([str(COURIER), "maildirmake", *args], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    for sub in ("", "/tmp", "/new", "/cur"):  # what `-s write` gives under umask 0
        os.chmod(str(sharable / ".board") + sub, 0o1777)
    site.start()
    client = site.imap()
    assert client.subscribe("shared.pub.board")[0] == "OK"
    assert client.myrights("shared.pub.board")[1][-1] == b'"shared.pub.board" "ilrsw"'
    typ, data = client.append("shared.pub.board", r"(\Flagged)", None, message("posted"))
    assert typ == "OK" and re.match(rb"\[APPENDUID \d+ 1\]", data[0]), data
    big = message("big post", "B" * 100000 + "\r\n")
    typ, data = client.append("shared.pub.board", None, None, big)   # streamed (over 64 KiB)
    assert typ == "OK" and re.match(rb"\[APPENDUID \d+ 2\]", data[0]), data
    client.append("INBOX", r"(\Seen)", None, message("mine"))
    client.select("INBOX")
    lines = raw(client, "UID COPY 1 shared.pub.board")
    assert re.match(r"OK \[COPYUID \d+ 1 3\]", tagged(lines)), lines
    assert tagged(raw(client, "MOVE 1 shared.pub.board")).startswith("NO [CANNOT]")
    # The sharable folder holds three flagless files; demo's flags are on its links.
    remote = sorted(p.name for p in (sharable / ".board" / "cur").iterdir())
    assert len(remote) == 3 and all(name.endswith(":2,") for name in remote), remote
    typ, _ = client.select("shared.pub.board")
    assert typ == "OK" and client.untagged_responses.get("EXISTS") == [b"3"]
    typ, data = client.fetch("1:3", "(FLAGS RFC822.SIZE)")
    flags = [item.decode() for item in data]
    assert "\\Flagged" in flags[0] and "\\Seen" in flags[2] and f"RFC822.SIZE {len(big)}" in flags[1], flags
    # COPY inside the folder itself is another post.
    lines = raw(client, "UID COPY 1 shared.pub.board")
    assert re.match(r"\* 4 EXISTS", lines[0]) and re.match(r"OK \[COPYUID \d+ 1 4\]", tagged(lines)), lines
    # Expunging demo's own post removes it from the sharable folder too (sticky bit: the
    # poster may).
    assert client.store("1", "+FLAGS", r"(\Deleted)")[0] == "OK"
    assert client.expunge()[0] == "OK"
    client.logout()
    assert len(list((sharable / ".board" / "cur").iterdir())) == 3
    # The `shared` link lives in the user's Maildir: pointed anywhere else (here another
    # world-writable maildir), it takes no new messages.
    other = public_dir / "elsewhere"
    subprocess.run([str(COURIER), "maildirmake", str(other)], check=True)
    for sub in ("", "/tmp", "/new", "/cur"):
        os.chmod(str(other) + sub, 0o1777)
    link = site.maildir / "shared-folders" / "pub" / "board" / "shared"
    link.unlink()
    link.symlink_to(other)
    client = site.imap()
    assert client.myrights("shared.pub.board")[1][-1] == b'"shared.pub.board" "lrsw"'
    typ, data = client.append("shared.pub.board", None, None, message("diverted"))
    assert typ == "NO" and b'ACL "i" required' in data[0]
    typ, data = client.append("shared.pub.board", None, None, big)   # streamed: refused up front
    assert typ == "NO", data
    client.logout()
    assert list((other / "cur").iterdir()) == [] and list((other / "tmp").iterdir()) == []
    link.unlink()
    link.symlink_to(sharable / ".board")
    site.stop()
    # Courier's imapd, as demo on the same local copy, sees the posts.
    courier = courier_imap(site.maildir)
    typ, data = courier.select("shared.pub.board")
    assert typ == "OK" and courier.untagged_responses.get("EXISTS") == [b"3"], (typ, data)
    typ, data = courier.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"Subject: big post" in data[0][1]
    courier.logout()
