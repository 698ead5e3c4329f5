"""EXPUNGE, STORE \\Deleted and MOVE in Courier's filesystem shared folders (spec/access.md
§1.7 (B), maildirmake(1) "Accessing shared folders") on a real `courier start`, driven by
imaplib: \\Deleted is each user's flag on their own link; EXPUNGE removes the real message
from the sharable folder when the folder's permissions let the user (a folder others may
write: any message; with the sticky bit, `-s write`: only the user's own posts; `-s read`:
none), and a message the user may not remove stays, without \\Deleted. Other subscribers lose
a removed message at their next sync; Courier's own imapd then sees the same folder.
"""
import os
import re
import subprocess

from courier_site import COURIER
from test_imap_acl import add_bob, courier_imap, login
from test_imap_extras import message, public_dir, site, tagged  # noqa: F401 (fixtures)
from test_imap_condstore import raw


def make_sharable(site, public_dir, mode, folder="board"):
    """A sharable maildir with one folder made by `maildirmake -s <mode>`, linked for demo and
    bob as `pub`; returns the folder's path."""
    add_bob(site)
    sharable = public_dir / "S1"
    for args in (["-S", str(sharable)], ["-s", mode, "-f", folder, str(sharable)],
                 ["--add", f"pub={sharable}", str(site.maildir)], ["--add", f"pub={sharable}", str(site.maildir_of("bob"))]):
        result = subprocess.run([str(COURIER), "maildirmake", *args], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    return sharable / ("." + folder)


def posted_by_someone_else(remote, name, subject):
    """A message another user put into the sharable folder (written straight into its cur/)."""
    (remote / "cur" / name).write_bytes(message(subject).replace(b"\r\n", b"\n"))


def remote_names(remote):
    return sorted(p.name for p in (remote / "cur").iterdir())


def subjects(client, count):
    typ, data = client.fetch(f"1:{count}", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", data
    return [(re.search(rb"FLAGS \(([^)]*)\)", entry[0]).group(1).decode().replace("\\Recent", "").strip(),
             entry[1].strip().decode()) for entry in data if isinstance(entry, tuple)]


def test_read_only_sharable_folder_keeps_messages_and_drops_deleted(site, public_dir):
    remote = make_sharable(site, public_dir, "read", "notes")
    posted_by_someone_else(remote, "1795700000.M1P1.host:2,", "notice")
    site.start()
    client = site.imap()
    assert client.subscribe("shared.pub.notes")[0] == "OK"
    assert client.myrights("shared.pub.notes")[1][-1] == b'"shared.pub.notes" "lrsw"'  # e and t are not shown without x (Courier)
    typ, _ = client.select("shared.pub.notes")
    assert typ == "OK"
    typ, data = client.store("1", "+FLAGS", r"(\Deleted)")
    assert typ == "OK" and b"\\Deleted" in data[0]
    # The user may not remove the real file: EXPUNGE answers OK, expunges nothing, and the
    # message loses \Deleted (Courier renames the link without its T flag).
    lines = raw(client, "EXPUNGE")
    assert tagged(lines).startswith("OK"), lines
    assert not any(line.endswith(" EXPUNGE") for line in lines), lines
    assert any(re.match(r"\* 1 FETCH \(FLAGS \((\\Recent)?\)\)", line) for line in lines), lines
    assert remote_names(remote) == ["1795700000.M1P1.host:2,"]
    links = list((site.maildir / "shared-folders" / "pub" / "notes" / "cur").iterdir())
    assert [link.name for link in links] == ["1795700000.M1P1.host:2,"] and links[0].is_symlink()
    # MOVE out of it would have to remove the real file: refused, nothing copied.
    lines = raw(client, "MOVE 1 INBOX")
    assert tagged(lines).startswith("NO [CANNOT]"), lines
    assert client.select("INBOX")[1] == [b"0"]
    client.logout()


def test_sticky_writable_sharable_folder_expunges_only_own_posts(site, public_dir):
    remote = make_sharable(site, public_dir, "write")
    for sub in ("", "/tmp", "/new", "/cur"):  # what `-s write` gives under umask 0
        os.chmod(str(remote) + sub, 0o1777)
    posted_by_someone_else(remote, "1795700000.M1P1.host:2,", "from someone else")
    site.start()
    demo = site.imap()
    bob = login(site, "bob")
    for client in (demo, bob):
        assert client.subscribe("shared.pub.board")[0] == "OK"
    assert demo.myrights("shared.pub.board")[1][-1] == b'"shared.pub.board" "ilrsw"'
    typ, data = demo.append("shared.pub.board", None, None, message("demo's post"))
    assert typ == "OK", data
    assert len(remote_names(remote)) == 2
    typ, data = bob.select("shared.pub.board")
    assert typ == "OK" and data == [b"2"]
    typ, data = demo.select("shared.pub.board")
    assert typ == "OK" and data == [b"2"]
    assert subjects(demo, 2) == [("", "Subject: from someone else"), ("", "Subject: demo's post")]
    assert demo.store("1:2", "+FLAGS", r"(\Deleted)")[0] == "OK"
    # Bob's \Deleted is his own: he sees none of demo's.
    assert [flags for flags, _ in subjects(bob, 2)] == ["", ""]
    lines = raw(demo, "EXPUNGE")
    assert tagged(lines).startswith("OK"), lines
    # demo's own post goes (the real file too); the other one stays, undeleted.
    assert [line for line in lines if line.endswith("EXPUNGE")] == ["* 2 EXPUNGE"], lines
    assert any(re.match(r"\* 1 FETCH \(FLAGS \((\\Recent)?\)\)", line) for line in lines), lines
    assert remote_names(remote) == ["1795700000.M1P1.host:2,"]
    assert subjects(demo, 1) == [("", "Subject: from someone else")]
    # Bob's copy drops the message when he opens the folder again (the sync on opening finds
    # its file gone, as Courier's does).
    typ, data = bob.select("shared.pub.board")
    assert typ == "OK" and data == [b"1"]
    assert list((site.maildir_of("bob") / "shared-folders" / "pub" / "board" / "cur").iterdir())[0].name.startswith("1795700000.")
    # Bob may not remove demo's or anybody else's post either.
    assert bob.store("1", "+FLAGS", r"(\Deleted)")[0] == "OK"
    lines = raw(bob, "EXPUNGE")
    assert tagged(lines).startswith("OK") and not any(line.endswith(" EXPUNGE") for line in lines), lines
    assert remote_names(remote) == ["1795700000.M1P1.host:2,"]
    # MOVE of one's own post: copied out, removed from the sharable folder.
    typ, data = bob.append("shared.pub.board", None, None, message("bob's post"))
    assert typ == "OK", data
    bob.select("shared.pub.board")
    lines = raw(bob, "MOVE 2 INBOX")
    assert tagged(lines).startswith("OK") and "* 2 EXPUNGE" in lines, lines
    assert remote_names(remote) == ["1795700000.M1P1.host:2,"]
    assert tagged(raw(bob, "MOVE 1 INBOX")).startswith("NO [CANNOT]")
    bob.select("INBOX")
    assert subjects(bob, 1) == [("", "Subject: bob's post")]
    demo.logout()
    bob.logout()
    site.stop()
    # Courier's imapd on demo's local copy sees what ours left: one message, not deleted.
    courier = courier_imap(site.maildir)
    typ, data = courier.select("shared.pub.board")
    assert typ == "OK" and courier.untagged_responses.get("EXISTS") == [b"1"], (typ, data)
    typ, data = courier.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"\\Deleted" not in data[0][0] and b"Subject: from someone else" in data[0][1]
    courier.logout()


def test_writable_sharable_folder_without_sticky_bit_lets_anyone_expunge(site, public_dir):
    remote = make_sharable(site, public_dir, "write")
    for sub in ("", "/tmp", "/new", "/cur"):
        os.chmod(str(remote) + sub, 0o777)
    posted_by_someone_else(remote, "1795700000.M1P1.host:2,", "first")
    posted_by_someone_else(remote, "1795700001.M1P1.host:2,", "second")
    site.start()
    demo = site.imap()
    assert demo.subscribe("shared.pub.board")[0] == "OK"
    demo.select("shared.pub.board")
    assert demo.store("1", "+FLAGS", r"(\Deleted)")[0] == "OK"
    lines = raw(demo, "UID EXPUNGE 1")
    assert tagged(lines).startswith("OK") and "* 1 EXPUNGE" in lines, lines
    assert remote_names(remote) == ["1795700001.M1P1.host:2,"]
    lines = raw(demo, "MOVE 1 INBOX")
    assert tagged(lines).startswith("OK") and "* 1 EXPUNGE" in lines, lines
    assert remote_names(remote) == []
    demo.select("INBOX")
    assert subjects(demo, 1) == [("", "Subject: second")]
    demo.logout()
