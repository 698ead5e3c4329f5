"""Differential test: the same Maildir served by our `courier start` and by Dovecot
(Debian's dovecot-imapd, run as a private instance here), compared answer by answer for
ENVELOPE, BODYSTRUCTURE, BODY sections, SEARCH and SORT. The messages come from the anchors
kit's fill-maildir.py (realistic plain, alternative and mixed messages with attachments)
plus a few hand-made edge cases.
"""
import imaplib
import os
import pathlib
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from test_imap_server import Site, free_port  # noqa: E402


EDGE_CASES = [
    b"From: \"Doe, John\" <john@example.test>\nTo: undisclosed-recipients:;\nCc: group: a@b.test, c@d.test;\n"
    b"Subject: =?UTF-8?Q?caf=C3=A9?=\nDate: Tue, 3 Mar 2026 08:00:00 -0500\nMessage-ID: <edge1@x>\n\nbody\n",
    b"From: a@b.test\nMessage-ID: <edge2@x>\nSubject: message/rfc822 inside\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n"
    b"--b1\nContent-Type: text/plain\n\nouter\n--b1\nContent-Type: message/rfc822\n\n"
    b"From: inner@b.test\nSubject: inner\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b2\n\n"
    b"--b2\nContent-Type: text/plain; charset=utf-8\n\nin text\n--b2\nContent-Type: text/html\n\n<p>in</p>\n--b2--\n"
    b"--b1--\n",
    b"Subject: no from, no date\nMessage-ID: <edge3@x>\n\nbare\n",
    b"From: x@y.test\nMessage-ID: <edge4@x>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=\"iso-8859-1\"; format=flowed\n"
    b"Content-Transfer-Encoding: quoted-printable\nContent-Language: en\nContent-Disposition: inline\n\nq=3Dp\n",
]


def chown_tree(top, uid):
    """Gives the anchors' Dovecot (running as `uid`) the mail tree it serves."""
    for dirpath, _, filenames in os.walk(top):
        os.chown(dirpath, uid, -1)
        for f in filenames:
            os.chown(os.path.join(dirpath, f), uid, -1)


def stop_dovecot(root):
    """Stops the Dovecot `start_dovecot` started under `root`."""
    pidfile = root / "run" / "master.pid"
    if pidfile.exists():
        os.kill(int(pidfile.read_text().split()[0]), signal.SIGTERM)
        time.sleep(0.5)


def start_dovecot(root, maildir_owner):
    port = free_port()
    for sub in ("run", "state", "log", "mail/demo"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "passwd").write_text("demo:{PLAIN}demo::::::\n")
    user = pwd.getpwuid(maildir_owner)
    (root / "dovecot.conf").write_text(f"""instance_name = diff-dovecot-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/log/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user.pw_uid} gid={user.pw_gid} home={root}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
    subprocess.run(["dovecot", "-c", str(root / "dovecot.conf")], check=True, timeout=30)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            client = imaplib.IMAP4("127.0.0.1", port, timeout=5)
            client.logout()
            return port
        except OSError:
            time.sleep(0.2)
    pytest.fail("dovecot did not start: " + (root / "log" / "dovecot.log").read_text())


@pytest.fixture()
def pair(tmp_path, shared_dir):
    fill = shared_dir / "anchors" / "fill-maildir.py"
    if not shutil.which("dovecot"):
        pytest.fail("dovecot is not installed (Scripts/test installs dovecot-imapd)")
    if not fill.exists():
        pytest.fail(f"{fill} is missing (the anchors kit; set COURIER_SHARED)")
    site = Site(tmp_path / "site")
    # Dovecot drops privileges to the mail owner: its tree must be reachable by that user.
    work = pathlib.Path(tempfile.mkdtemp(prefix="imap-diff-"))
    os.chmod(work, 0o755)
    owner = "anchors" if any(p.pw_name == "anchors" for p in pwd.getpwall()) else "nobody"
    uid = pwd.getpwnam(owner).pw_uid
    maildir = work / "mail" / "demo" / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(fill), str(maildir), "60", "--seed", "11"], check=True, timeout=120,
                   capture_output=True)
    for i, edge in enumerate(EDGE_CASES):
        (maildir / "cur" / f"1800000000.M{i}P1.edge:2,S").write_bytes(edge)
    ours = site.maildir
    for sub in ("cur", "new"):
        for f in sorted((maildir / sub).iterdir()):
            shutil.copy2(f, ours / sub / f.name)
    chown_tree(work / "mail", uid)
    port = start_dovecot(work, uid)
    try:
        theirs = imaplib.IMAP4("127.0.0.1", port, timeout=30)
        theirs.login("demo", "demo")
        mine = site.imap()
        yield mine, theirs
        mine.logout()
        theirs.logout()
    finally:
        stop_dovecot(work)
        site.stop()
        shutil.rmtree(work, ignore_errors=True)


def fetch_items(client, item):
    """item text per message, keyed by the message's Message-ID (UIDs may differ)."""
    typ, data = client.fetch("1:*", f"(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)] {item})")
    assert typ == "OK"
    result = {}
    index = 0
    while index < len(data):
        entry = data[index]
        if isinstance(entry, tuple):
            header = entry[1].strip()
            rest = data[index + 1] if index + 1 < len(data) else b""
            if isinstance(rest, tuple):  # the item itself was a literal
                value = rest[0] + rest[1] + (data[index + 2] if index + 2 < len(data) else b"")
                index += 3
            else:
                value = rest
                index += 2
            result[header] = normalize(value)
        else:
            index += 1
    return result


def normalize(value):
    """Both servers may choose quoted strings or literals for the same string."""
    value = re.sub(rb"\{(\d+)\}\r\n", b"", value)
    return value.strip().rstrip(b")")


def test_bodystructure_matches_dovecot(pair):
    mine, theirs = pair
    mine.select("INBOX")
    theirs.select("INBOX")
    ours = fetch_items(mine, "BODYSTRUCTURE")
    dovecot = fetch_items(theirs, "BODYSTRUCTURE")
    assert len(ours) == len(dovecot) == 60 + len(EDGE_CASES)
    differences = [(k, ours[k], dovecot.get(k)) for k in ours if ours[k].lower() != (dovecot.get(k) or b"").lower()]
    for key, a, b in differences[:4]:
        print("OURS   ", key, a.decode(errors="replace"))
        print("DOVECOT", key, (b or b"").decode(errors="replace"))
    assert not differences, differences[:3]


def test_envelope_matches_dovecot(pair):
    mine, theirs = pair
    mine.select("INBOX")
    theirs.select("INBOX")
    ours = fetch_items(mine, "ENVELOPE")
    dovecot = fetch_items(theirs, "ENVELOPE")
    differences = [(k, ours[k], dovecot.get(k)) for k in ours if ours[k] != dovecot.get(k)]
    assert not differences, differences[:3]


@pytest.mark.parametrize("criteria", [
    ["FROM", "example"], ["SUBJECT", "re"], ["UNSEEN"], ["SEEN"], ["LARGER", "20000"], ["SMALLER", "3000"],
    ["TEXT", "budget"], ["BODY", "invoice"], ["HEADER", "List-Id", "\"\""], ["SENTSINCE", "1-Jan-2024"],
    ["OR", "SUBJECT", "meeting", "FROM", "alice"], ["NOT", "HEADER", "In-Reply-To", "\"\""],
])
def test_search_matches_dovecot(pair, criteria):
    mine, theirs = pair
    mine.select("INBOX")
    theirs.select("INBOX")

    def ids(client):
        typ, data = client.search(None, *criteria)
        assert typ == "OK"
        numbers = data[0].split()
        if not numbers:
            return []
        typ, headers = client.fetch(b",".join(numbers).decode(), "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        return sorted(h[1].strip() for h in headers if isinstance(h, tuple))
    assert ids(mine) == ids(theirs)


@pytest.mark.parametrize("criteria", ["(DATE)", "(REVERSE SIZE)", "(SUBJECT)", "(FROM)", "(ARRIVAL)"])
def test_sort_matches_dovecot(pair, criteria):
    mine, theirs = pair
    mine.select("INBOX")
    theirs.select("INBOX")

    def order(client):
        typ, data = client.sort(criteria, "UTF-8", "ALL")
        assert typ == "OK"
        numbers = data[0].split()
        typ, headers = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        ids = [h[1].strip() for h in headers if isinstance(h, tuple)]
        return [ids[int(n) - 1] for n in numbers]
    assert order(mine) == order(theirs)


@pytest.mark.parametrize("algorithm", ["ORDEREDSUBJECT", "REFERENCES"])
def test_thread_matches_dovecot(pair, algorithm):
    mine, theirs = pair
    mine.select("INBOX")
    theirs.select("INBOX")

    def threads(client):
        typ, data = client.thread(algorithm, "UTF-8", "ALL")
        assert typ == "OK"
        typ, headers = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        ids = [h[1].strip().decode() for h in headers if isinstance(h, tuple)]
        return re.sub(rb"\d+", lambda m: ids[int(m.group()) - 1].encode(), data[0])
    assert threads(mine) == threads(theirs)
