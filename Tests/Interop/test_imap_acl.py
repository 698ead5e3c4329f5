"""IMAP ACLs (RFC 4314, Courier's `courierimapacl` files, spec/access.md §1.6) with Python's
imaplib against `courier start`, and the file format checked against the real Courier-IMAP:
ACLs our server sets are read and enforced by Courier's imapd, and the reverse. Courier's imapd
runs pre-authenticated on a pipe as `demo` (as its login program would start it).
"""
import imaplib
import shlex

import pytest

from courier_site import CourierSite, require_courier
from test_courier_imap_interop import courier_dist, message

imaplib.Commands.setdefault("LISTRIGHTS", ("AUTH", "SELECTED"))


class Site(CourierSite):
    def __init__(self, root, settings=None):
        super().__init__(root, services=("imapd",), settings=settings)
        self.maildir = self.root / "mail" / "example.test" / "demo" / "Maildir"

    def imap(self):
        client = imaplib.IMAP4("127.0.0.1", self.ports["imapd"], timeout=20)
        client.login("demo", "demo")
        return client

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
        assert client.myrights("INBOX") == ("OK", [b'"INBOX" "cdilrsw"'])
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
