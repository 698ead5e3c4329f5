"""IMAP ACLs (RFC 4314, Courier's `courierimapacl` files, spec/access.md §1.6) with Python's
imaplib against `courier start`, and the file format checked against the real Courier-IMAP:
ACLs our server sets are read and enforced by Courier's imapd, and the reverse. Courier's imapd
runs pre-authenticated on a pipe as `demo` (as its login program would start it).
"""
import imaplib
import os
import shlex

import pytest

from courier_site import CourierSite, require_courier
from test_courier_imap_interop import courier_dist, message

imaplib.Commands.setdefault("LISTRIGHTS", ("AUTH", "SELECTED"))


class Site(CourierSite):
    def __init__(self, root, settings=None):
        super().__init__(root, services=("imapd",), settings=settings)

    def give_demo_options(self, options):
        """Adds `options=` to demo's userdb lines and recompiles the database."""
        path = self.etc / "userdb"
        lines = []
        for line in path.read_text().splitlines():
            if line.startswith("demo") and "\t" in line:
                line += "|options=" + options
            lines.append(line)
        path.write_text("\n".join(lines) + "\n")
        self.makeuserdb()


@pytest.fixture()
def site(tmp_path):
    require_courier()
    s = Site(tmp_path / "site")
    yield s
    s.stop()


def courier_imap(maildir, options=""):
    """A session with Courier's own imapd on `maildir`, logged in as `demo` with `options`."""
    dist = courier_dist()
    env = {
        "LD_LIBRARY_PATH": f"{dist}/usr/lib",
        "IMAP_KEYWORDS": "1",
        "IMAP_ACL": "1",
        "IMAP_MAILBOX_SANITY_CHECK": "0",
        "IMAP_CAPABILITY": "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE QUOTA IDLE",
        "HOSTNAME": "courier-imap.test",
        "AUTHENTICATED": "demo",
        "OPTIONS": options,
    }
    command = ("cd " + shlex.quote(str(maildir)) + " && exec env -i "
               + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
               + " " + shlex.quote(str(dist / "usr/bin/imapd")) + " . 2>/dev/null")
    client = imaplib.IMAP4_stream(command)
    assert client.state == "AUTH", client.welcome
    return client


def listrights(client, mailbox, identifier):
    typ, data = client._simple_command("LISTRIGHTS", mailbox, identifier)
    return typ, client._untagged_response(typ, data, "LISTRIGHTS")[1]


def acl_view(client, folders):
    """What GETACL, MYRIGHTS and LISTRIGHTS answer for `folders`."""
    view = {}
    for folder in folders:
        view[folder] = (client.getacl(folder), client.myrights(folder), listrights(client, folder, "bob"),
                        listrights(client, folder, "demo"))
    return view


def test_capabilities_and_commands(site):
    site.start()
    client = site.imap()
    assert "ACL" in client.capabilities and "ACL2=UNION" in client.capabilities
    assert client.myrights("INBOX") == ("OK", [b'"INBOX" "acdilrsw"'])
    assert client.getacl("INBOX") == ("OK", [b'"INBOX" "owner" "acdilrsw" "administrators" "acdilrsw"'])
    assert client.create("INBOX.Sent")[0] == "OK"
    assert client.setacl("INBOX.Sent", "bob", "lr") == ("OK", [b"ACLs updated."])
    assert client.getacl("INBOX.Sent")[1] == [b'"INBOX.Sent" "owner" "acdilrsw" "administrators" "acdilrsw" "bob" "lr"']
    assert listrights(client, "INBOX.Sent", "bob") == ("OK", [b'"INBOX.Sent" "bob" "" a c d i l p r s w'])
    assert client.setacl("INBOX.Sent", "-anyone", "w") == ("NO", [b"[NOPERM] Cannot modify ACLs on this mailbox."])
    assert client.setacl("INBOX.Sent", "owner", "-a") == ("NO", [b"[NOPERM] Cannot modify ACLs as requested."])
    assert client.setacl("INBOX.Sent", "group=staff", "lr") == ("NO", [b"Invalid ACL identifier."])
    assert client.deleteacl("INBOX.Sent", "bob") == ("OK", [b"ACLs updated."])
    assert (site.maildir / ".Sent" / "courierimapacl").read_text() == "owner aceilrstwx\nadministrators aceilrstwx\n"
    typ, _ = client.select("INBOX")
    assert typ == "OK"
    assert [b'[MYRIGHTS "acdilrsw"] ACL'] == [x for x in client.untagged_responses.get("OK", []) if b"MYRIGHTS" in x]
    client.logout()


def test_imap_acl_0_hides_the_capability(tmp_path):
    require_courier()
    s = Site(tmp_path / "site", settings={("imapd", "IMAP_ACL"): "0"})
    try:
        s.start()
        client = s.imap()
        assert "ACL" not in client.capabilities and "ACL2=UNION" not in client.capabilities
        # Courier 5.0 (observed): the ACLs still apply, only the capability goes.
        assert client.myrights("INBOX") == ("OK", [b'"INBOX" "acdilrsw"'])
        assert client.setacl("INBOX", "bob", "lr") == ("OK", [b"ACLs updated."])
        client.logout()
    finally:
        s.stop()


def test_rights_are_enforced(site):
    site.give_demo_options("group=staff")
    site.start()
    client = site.imap()
    for folder in ("INBOX.Drop", "INBOX.Closed", "INBOX.Hidden"):
        assert client.create(folder)[0] == "OK"
    assert client.setacl("INBOX.Drop", "owner", "-i")[0] == "OK"
    typ, data = client.append("INBOX.Drop", None, None, message("refused"))
    assert (typ, data) == ("NO", [b'[NOPERM] Access denied for APPEND on INBOX.Drop (ACL "i" required)'])
    assert client.setacl("INBOX.Closed", "owner", "-r")[0] == "OK"
    typ, data = client.select("INBOX.Closed")
    assert (typ, data) == ("NO", [b'[NOPERM] Access denied for SELECT/EXAMINE on INBOX.Closed (ACL "r" required)'])
    # An administrator (or maildiracl) can take `l` from a group; demo is in `staff` (userdb options).
    acl = site.maildir / ".Hidden" / "courierimapacl"
    acl.write_text(acl.read_text() + "-group=staff l\n")
    typ, data = client.list('""', "*")
    names = b"\n".join(data)
    assert b"INBOX.Drop" in names and b"INBOX.Hidden" not in names
    client.append("INBOX", None, None, message("one"))
    client.select("INBOX")
    assert client.copy("1", "INBOX.Drop") == ("NO", [b'[NOPERM] Access denied for COPY on INBOX.Drop (ACL "i" required)'])
    client.logout()


FOLDERS = ("INBOX", "INBOX.Shared", "INBOX.Drop")


def set_acls(client):
    """The same ACL changes through either server."""
    for folder in FOLDERS[1:]:
        assert client.create(folder)[0] == "OK"
    assert client.setacl("INBOX", "bob", "lr")[0] == "OK"
    assert client.setacl("INBOX", "-bob", "rw")[0] == "OK"
    assert client.setacl("INBOX.Shared", "anyone", "+d")[0] == "OK"
    assert client.setacl("INBOX.Shared", "bob", "lrswi")[0] == "OK"
    assert client.setacl("INBOX.Drop", "owner", "-i")[0] == "OK"


def test_courier_imapd_reads_and_enforces_our_acls(site):
    site.start()
    client = site.imap()
    set_acls(client)
    ours = acl_view(client, FOLDERS)
    client.logout()
    site.stop()
    assert (site.maildir / "courierimapacl").read_text() == (
        "owner aceilrstwx\nadministrators aceilrstwx\nuser=bob lr\n-user=bob rw\n")
    theirs_client = courier_imap(site.maildir)
    theirs = acl_view(theirs_client, FOLDERS)
    typ, data = theirs_client.append("INBOX.Drop", None, None, message("refused"))
    theirs_client.logout()
    assert theirs == ours
    assert typ == "NO" and b'ACL "i" required' in data[0]


def test_we_read_and_enforce_courier_imapds_acls(site):
    theirs_client = courier_imap(site.maildir)
    set_acls(theirs_client)
    theirs = acl_view(theirs_client, FOLDERS)
    theirs_client.logout()
    site.start()
    client = site.imap()
    ours = acl_view(client, FOLDERS)
    typ, data = client.append("INBOX.Drop", None, None, message("refused"))
    assert typ == "NO" and b'ACL "i" required' in data[0]
    # Our changes to a file Courier wrote, read back by Courier.
    assert client.setacl("INBOX.Shared", "bob", "-w")[0] == "OK"
    after = acl_view(client, ["INBOX.Shared"])
    client.logout()
    assert ours == theirs
    site.stop()
    theirs_client = courier_imap(site.maildir)
    assert acl_view(theirs_client, ["INBOX.Shared"]) == after
    theirs_client.logout()


# Virtual shared folders (spec/access.md §1.7 (A)): bob shares a folder with demo by ACL; the
# shared index lists both accounts; demo sees it as #shared.bob.Team, through our server and
# through Courier's imapd on the same files.

def add_bob(site):
    """A second account `bob` (same password as demo) and the shared index of both."""
    path = site.etc / "userdb"
    lines = path.read_text().splitlines()
    demo = next(line for line in lines if line.startswith("demo\t"))
    bob_home = site.root / "mail" / "example.test" / "bob"
    demo_home = site.maildir.parent
    lines.append(demo.replace("demo\t", "bob\t", 1).replace(str(demo_home), str(bob_home)))
    path.write_text("\n".join(lines) + "\n")
    site.makeuserdb()
    for sub in ("cur", "new", "tmp"):
        (bob_home / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
    (site.etc / "shared").mkdir(exist_ok=True)
    index = site.etc / "shared" / "index"
    index.write_text(f"# accounts that share folders\ndemo\t8\t8\t{demo_home}\nbob\t8\t8\t{bob_home}\n")
    return index


def login(site, user):
    client = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=20)
    client.login(user, "demo")
    return client


def shared_view(client):
    """What demo sees of bob's shared folders."""
    _, listed = client.list('""', "#shared.*")
    _, listed_top = client.list('""', "#shared.%")
    typ, _ = client.select("#shared.bob.Team")
    rights = [x for x in client.untagged_responses.get("OK", []) if b"MYRIGHTS" in x]
    exists = client.untagged_responses.get("EXISTS")
    client.close()
    return {
        "list": sorted(listed), "top": sorted(listed_top), "select": typ, "select-rights": rights, "exists": exists,
        "myrights": client.myrights("#shared.bob.Team"),
        "inbox": client.select("#shared.bob"),
        "status": client.status("#shared.bob.Team", "(MESSAGES)"),
    }


def test_virtual_shared_folders(site):
    index = add_bob(site)
    site.start()
    bob = login(site, "bob")
    for folder in ("INBOX.Team", "INBOX.Team.Sub", "INBOX.Private"):
        assert bob.create(folder)[0] == "OK"
    assert bob.append("INBOX.Team", None, None, message("team news"))[0] == "OK"
    assert bob.setacl("INBOX.Team", "demo", "lrs") == ("OK", [b"ACLs updated."])
    bob.logout()

    demo = site.imap()
    typ, data = demo.namespace()
    assert data == [b'(("INBOX." ".")) NIL (("#shared." ".")("shared." "."))']  # as Courier's
    ours = shared_view(demo)
    assert ours["list"] == [b'(\\HasNoChildren) "." "#shared.bob.Team"', b'(\\Noselect \\HasChildren) "." "#shared.bob"']
    assert ours["select"] == "OK" and ours["select-rights"] == [b'[MYRIGHTS "lrs"] ACL'] and ours["exists"] == [b"1"]
    assert ours["inbox"] == ("NO", [b'[NOPERM] Access denied for SELECT/EXAMINE on #shared.bob (ACL "r" required)'])
    # demo may set \Seen (s) but not \Flagged (w), and may not append (i).
    demo.select("#shared.bob.Team")
    typ, data = demo.store("1", "+FLAGS", r"(\Seen \Flagged)")
    assert typ == "OK" and b"\\Seen" in data[0] and b"\\Flagged" not in data[0]
    typ, data = demo.append("#shared.bob.Team", None, None, message("refused"))
    assert (typ, data) == ("NO", [b'[NOPERM] Access denied for APPEND on #shared.bob.Team (ACL "i" required)'])
    # A copy of bob's message into demo's own INBOX.
    typ, data = demo.copy("1", "INBOX")
    assert typ == "OK" and data[0].startswith(b"[COPYUID "), data
    assert demo.status("INBOX", "(MESSAGES)")[1] == [b'"INBOX" (MESSAGES 1)']
    demo.logout()
    seen = list((site.root / "mail" / "example.test" / "bob" / "Maildir" / ".Team" / "cur").iterdir())
    assert len(seen) == 1 and seen[0].name.endswith(":2,S")
    site.stop()

    # Courier's imapd, as demo on the same files and index, sees the same.
    dist = courier_dist()
    env = {
        "LD_LIBRARY_PATH": f"{dist}/usr/lib", "IMAP_KEYWORDS": "1", "IMAP_MAILBOX_SANITY_CHECK": "0",
        "HOSTNAME": "courier-imap.test", "AUTHENTICATED": "demo", "IMAP_SHAREDINDEXFILE": str(index),
    }
    command = ("cd " + shlex.quote(str(site.maildir)) + " && exec env -i "
               + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
               + " " + shlex.quote(str(dist / "usr/bin/imapd")) + " . 2>/dev/null")
    courier = imaplib.IMAP4_stream(command)
    theirs = shared_view(courier)
    courier.logout()
    assert theirs["list"] == ours["list"] and theirs["top"] == ours["top"]
    assert theirs["select"] == ours["select"] and theirs["select-rights"] == ours["select-rights"]
    assert theirs["exists"] == ours["exists"] and theirs["myrights"] == ours["myrights"]
    assert theirs["status"] == ours["status"]
    assert theirs["inbox"][0] == "NO" and theirs["inbox"][1][0] in ours["inbox"][1][0]


def test_disableshared_and_sharedgroup(site):
    add_bob(site)
    (site.etc / "shared" / "indexempty").write_text("")
    site.start()
    bob = login(site, "bob")
    assert bob.create("INBOX.Team")[0] == "OK"
    assert bob.setacl("INBOX.Team", "anyone", "lr")[0] == "OK"
    bob.logout()
    demo = site.imap()
    assert sorted(demo.list('""', "#shared.*")[1]) == [b'(\\HasNoChildren) "." "#shared.bob.Team"',
                                                      b'(\\Noselect \\HasChildren) "." "#shared.bob"']
    demo.logout()
    site.stop()
    site.give_demo_options("sharedgroup=empty")
    site.start()
    demo = site.imap()
    assert demo.list('""', "#shared.*")[1] == [None]
    assert demo.select("#shared.bob.Team")[0] == "NO"
    demo.logout()
    site.stop()
    path = site.etc / "userdb"
    path.write_text(path.read_text().replace("sharedgroup=empty", "disableshared=1"))
    site.makeuserdb()
    site.start()
    demo = site.imap()
    assert demo.list('""', "#shared.*")[1] == [None]
    demo.logout()


def test_idle_in_a_shared_folder_sees_the_owners_new_mail(site):
    from test_imap_server import Raw
    add_bob(site)
    site.start()
    bob = login(site, "bob")
    assert bob.create("INBOX.Team")[0] == "OK"
    assert bob.setacl("INBOX.Team", "demo", "lr")[0] == "OK"
    raw = Raw(site.ports["imapd"])
    raw.send(b"a1 LOGIN demo demo\r\n")
    assert raw.until(b"a1")[-1].startswith(b"a1 OK")
    raw.send(b"a2 SELECT #shared.bob.Team\r\n")
    lines = raw.until(b"a2")
    assert b"* 0 EXISTS\r\n" in lines and lines[-1].startswith(b"a2 OK [READ-ONLY]")
    raw.send(b"a3 IDLE\r\n")
    assert raw.file.readline().startswith(b"+ ")
    assert bob.append("INBOX.Team", None, None, message("while idling"))[0] == "OK"
    assert raw.file.readline() == b"* 1 EXISTS\r\n"
    raw.send(b"DONE\r\n")
    assert raw.until(b"a3")[-1].startswith(b"a3 OK")
    bob.logout()


# Filesystem shared folders (spec/access.md §1.7 (B)): a sharable maildir made with
# `maildirmake -S`, linked with `maildirmake --add`, subscribed and read through our server; the
# user's local copy (shared-folders/<nick>/<folder>, symlinks, flags) is the one Courier's imapd
# keeps, so Courier's imapd then serves it with the flags demo set through ours.

@pytest.fixture()
def public_dir():
    """A directory every local user can reach (pytest's tmp_path is 0700 under root): a sharable
    maildir is read through links only when any user could read it (MessageFileAccess)."""
    import pathlib
    import shutil
    import tempfile
    path = pathlib.Path(tempfile.mkdtemp(dir="/var/tmp", prefix="courier-sharable-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_sharable_maildirs(site, tmp_path, public_dir):
    import subprocess
    from courier_site import COURIER
    sharable = public_dir / "S1"
    for args in (["-S", str(sharable)], ["-s", "read", "-f", "notes", str(sharable)],
                 ["--add", f"pub={sharable}", str(site.maildir)]):
        result = subprocess.run([str(COURIER), "maildirmake", *args], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    # A line naming a private (0700) Maildir opens nothing: one process serves every user here.
    private = tmp_path / "private"
    subprocess.run([str(COURIER), "maildirmake", str(private)], check=True)
    subprocess.run([str(COURIER), "maildirmake", "-f", "secret", str(private)], check=True)
    os.chmod(private, 0o700)
    with open(site.maildir / "shared-maildirs", "a") as f:
        f.write(f"priv\t{private}\n")
    (sharable / ".notes" / "new" / "1795700000.M1P1.host").write_bytes(message("shared notice").replace(b"\r\n", b"\n"))
    site.start()
    client = site.imap()
    assert sorted(client.list('""', "shared.*")[1]) == [b'(\\HasNoChildren) "." "shared.pub.notes"',
                                                     b'(\\Noselect \\HasChildren) "." "shared.pub"']
    assert client.select("shared.pub.notes")[0] == "NO"  # not subscribed yet
    assert client.subscribe("shared.priv.secret")[0] == "NO"
    assert client.subscribe("shared.pub.notes") == ("OK", [b"SUBSCRIBE completed."])
    assert sorted(client.lsub('""', "shared*")[1]) == [b'(\\HasNoChildren) "." "shared.pub.notes"',
                                                     b'(\\Noselect \\HasChildren) "." "shared"',
                                                     b'(\\Noselect \\HasChildren) "." "shared.pub"']
    # LSUB "" "*" shows them along with the own subscriptions, as Courier's does.
    client.subscribe("INBOX")
    everything = client.lsub('""', "*")[1]
    assert b'(\\HasNoChildren) "." "shared.pub.notes"' in everything and any(b'"INBOX"' in x for x in everything)
    local = site.maildir / "shared-folders" / "pub" / "notes"
    assert (local / "shared").is_symlink() and os.readlink(local / "shared") == f"{sharable}/.notes"
    typ, data = client.select("shared.pub.notes")
    assert typ == "OK" and client.untagged_responses.get("EXISTS") == [b"1"]
    typ, data = client.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"Subject: shared notice" in data[0][1]
    assert client.store("1", "+FLAGS", r"(\Flagged)")[0] == "OK"
    # (imaplib files SELECT's [MYRIGHTS] code under the same key: the command's answer is last)
    assert client.myrights("shared.pub.notes")[1][-1] == b'"shared.pub.notes" "lrsw"'
    typ, data = client.append("shared.pub.notes", None, None, message("refused"))
    assert typ == "NO" and b'ACL "i" required' in data[0]
    client.logout()
    # The original keeps its own name and flags; demo's flags live on the local symlink.
    assert [p.name for p in (sharable / ".notes" / "cur").iterdir()] == ["1795700000.M1P1.host:2,"]
    links = list((local / "cur").iterdir())
    assert len(links) == 1 and links[0].is_symlink() and links[0].name.endswith(":2,F")
    site.stop()

    courier = courier_imap(site.maildir)
    typ, data = courier.select("shared.pub.notes")
    assert typ == "OK", data
    typ, data = courier.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"\\Flagged" in data[0][0] and b"Subject: shared notice" in data[0][1]
    courier.logout()
