"""Differential test of BODY[section] on enclosed messages: the same Maildir served by our
`courier start` and by Dovecot, every section kind (n, n.MIME, n.HEADER, n.TEXT,
n.HEADER.FIELDS, nested n.m, BINARY[n], BINARY.SIZE[n], partials) and BODYSTRUCTURE on
message/rfc822 parts (holding single parts, multiparts and further message/rfc822 parts),
compared byte for byte, for messages held whole and for one over 1 MiB (read in pieces).

Where the two servers differ by design it is left out here: HEADER/TEXT of a part that is
not message/rfc822 (we answer as Courier-IMAP does, with the part's MIME header and body;
Dovecot answers nothing), and the degenerate parts of test_header_only_enclosed_message.
"""
import imaplib
import os
import pathlib
import pwd
import re
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from test_imap_dovecot_diff import chown_tree, start_dovecot, stop_dovecot  # noqa: E402
from test_imap_server import Site  # noqa: E402

M1 = (b"From: a@b.test\nSubject: m1\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n"
      b"--b1\nContent-Type: text/plain\n\nouter\n--b1\nContent-Type: message/rfc822\n\n"
      b"From: inner@b.test\nSubject: inner\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b2\n\n"
      b"--b2\nContent-Type: text/plain; charset=utf-8\n\nin text\n--b2\nContent-Type: text/html\n\n<p>in</p>\n--b2--\n"
      b"--b1--\n")
M2 = (b"From: a@b.test\nSubject: m2\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n"
      b"--b1\nContent-Type: text/plain\n\nouter\n\n--b1\nContent-Type: message/rfc822\n\n"
      b"From: x@b.test\nSubject: simple inner\n\nsimple body\nline two\n\n--b1\nContent-Type: message/rfc822\n\n"
      b"From: y@b.test\nSubject: wrapper\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
      b"From: z@b.test\nSubject: deepest\n\ndeep body\n--b1--\nepilogue\n")
M3 = (b"From: a@b.test\nSubject: m3 top rfc822\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
      b"From: in@b.test\nSubject: inside\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=q\n\n"
      b"--q\n\npart one\n--q\nContent-Type: text/plain\n\npart two\n--q--\n")
M4 = (b"From: a@b.test\r\nSubject: m4 crlf\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"c d\"\r\n\r\n"
      b"pre\r\n--c d\r\nContent-Type: message/rfc822\r\n\r\n"
      b"From: in@b.test\r\nSubject: inside\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=e\r\n\r\n"
      b"--e\r\nContent-Type: text/plain\r\n\r\nA\r\n--e\r\nContent-Type: message/rfc822\r\n\r\nSubject: d\r\n\r\nB\r\n--e--\r\n"
      b"\r\n--c d--\r\n")
PADDING = b"".join(b"line %06d of padding text for a large message part\n" % i for i in range(24000))
M6 = (b"From: a@b.test\nSubject: m6 large\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n"
      b"--b1\nContent-Type: text/plain\n\n" + PADDING + b"--b1\nContent-Type: message/rfc822\n\n"
      b"From: x@b.test\nSubject: simple inner\n\nsimple body\nline two\n\n--b1\nContent-Type: message/rfc822\n\n"
      b"From: y@b.test\nSubject: wrapper\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
      b"From: z@b.test\nSubject: deepest\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b2\n\n"
      b"--b2\nContent-Type: text/plain\n\ndeep body\n--b2--\n--b1--\nepilogue\n")
M5 = (b"From: a@b.test\nSubject: m5 header-only enclosed\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n"
      b"--b1\nContent-Type: message/rfc822\n\nSubject: headers only\n--b1\nContent-Type: message/rfc822\n\n--b1--")

# (message, its sections, the message/rfc822 ones among them)
CASES = [
    (M1, ["1", "1.1", "2", "2.1", "2.2"], ["2"]),
    (M2, ["1", "2", "2.1", "3", "3.1", "3.1.1"], ["2", "3", "3.1"]),
    (M3, ["1", "1.1", "1.2"], ["1"]),
    (M4, ["1", "1.1", "1.2", "1.2.1"], ["1", "1.2"]),
    (M6, ["1", "2", "2.1", "3", "3.1", "3.1.1", "3.1.1.1"], ["2", "3", "3.1"]),
]


def items(sections, enclosed):
    out = ["BODYSTRUCTURE", "BODY.PEEK[]", "BODY.PEEK[TEXT]", "BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]<3.7>"]
    for s in sections:
        out += [f"BODY.PEEK[{s}]", f"BODY.PEEK[{s}.MIME]", f"BODY.PEEK[{s}]<2.9>", f"BODY.PEEK[{s}]<40.100000>",
                f"BINARY.PEEK[{s}]", f"BINARY.SIZE[{s}]", f"BINARY.PEEK[{s}]<1.5>"]
        if s in enclosed:
            out += [f"BODY.PEEK[{s}.HEADER]", f"BODY.PEEK[{s}.TEXT]", f"BODY.PEEK[{s}.TEXT]<1.100>",
                    f"BODY.PEEK[{s}.HEADER.FIELDS (SUBJECT FROM)]", f"BODY.PEEK[{s}.HEADER.FIELDS.NOT (SUBJECT)]"]
    return out


def answer(client, seq, item):
    """The item's answer, with the choices either server may make (quoted string or literal,
    quoted or atom header names) made the same."""
    typ, data = client.fetch(str(seq), f"({item})")
    assert typ == "OK", (item, data)
    out = []
    for entry in data:
        if isinstance(entry, tuple):
            out += [re.sub(rb"\{\d+\}$", b"", re.sub(rb"^\d+ \(", b"", entry[0])), entry[1]]
        else:
            entry = re.sub(rb"^\d+ \(", b"", entry)
            quoted = re.match(rb'^(.*[]>] )"([^"]*)"\)$', entry)
            out += [quoted.group(1), quoted.group(2), b")"] if quoted else [entry]
    return [re.sub(rb'"([A-Z-]+)"', rb"\1", out[0])] + out[1:]


@pytest.fixture()
def pair(tmp_path):
    if not shutil.which("dovecot"):
        pytest.fail("dovecot is not installed (Scripts/test installs dovecot-imapd)")
    site = Site(tmp_path / "site")
    work = pathlib.Path(tempfile.mkdtemp(prefix="imap-section-diff-"))
    os.chmod(work, 0o755)
    owner = "anchors" if any(p.pw_name == "anchors" for p in pwd.getpwall()) else "nobody"
    uid = pwd.getpwnam(owner).pw_uid
    maildir = work / "mail" / "demo" / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for i, body in enumerate([c[0] for c in CASES] + [M5]):
        name = f"17000000{i:02d}.M{i}P1.sections:2,S"
        (maildir / "cur" / name).write_bytes(body)
        (site.maildir / "cur" / name).write_bytes(body)
    chown_tree(work / "mail", uid)
    port = start_dovecot(work, uid)
    try:
        theirs = imaplib.IMAP4("127.0.0.1", port, timeout=30)
        theirs.login("demo", "demo")
        theirs.select("INBOX")
        mine = site.imap()
        mine.select("INBOX")
        yield mine, theirs
        mine.logout()
        theirs.logout()
    finally:
        stop_dovecot(work)
        site.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("index", range(len(CASES)), ids=["multipart-inside", "nested", "top-level-rfc822",
                                                          "crlf", "large"])
def test_sections_match_dovecot(pair, index):
    mine, theirs = pair
    _, sections, enclosed = CASES[index]
    differences = []
    for item in items(sections, enclosed):
        ours, dovecot = answer(mine, index + 1, item), answer(theirs, index + 1, item)
        if ours != dovecot:
            differences.append((item, ours, dovecot))
    for item, ours, dovecot in differences[:6]:
        print(item, "\n OURS   ", repr(ours)[:300], "\n DOVECOT", repr(dovecot)[:300])
    assert not differences, [d[0] for d in differences]


def test_header_only_enclosed_message(pair):
    """An enclosed message that is only a header (no blank line), then the delimiter: its text
    is empty (both servers agree). Its HEADER.FIELDS ends with one CRLF, as Courier-IMAP answers
    it and as both servers answer it for a top-level header without a blank line (Dovecot adds a
    second CRLF only for the enclosed one)."""
    mine, theirs = pair
    seq = len(CASES) + 1
    for item in ["BODY.PEEK[1.TEXT]", "BODY.PEEK[1.MIME]"]:
        assert answer(mine, seq, item) == answer(theirs, seq, item), item
    assert answer(mine, seq, "BODY.PEEK[1.HEADER.FIELDS (SUBJECT)]")[1] == b"Subject: headers only\r\n"
