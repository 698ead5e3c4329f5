"""Messages as they may lie in a Maildir, not as RFC 5322 wants them (no final newline,
CR-only lines, NUL bytes, 8-bit headers, empty, header only, an unterminated multipart, a
message/rfc822 part ending at a boundary), served by a real `courier start` to real clients:
imaplib fetches everything about each, mbsync copies the folder; the server answers all of it
and RFC822.SIZE agrees with the bytes of BODY[] every time.
"""
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from test_imap_server import site  # noqa: E402,F401

ODD = [
    b"From: a@b.test\nSubject: no final newline\n\nbody without newline",
    b"From: a@b.test\rSubject: cr only\r\rline one\rline two\r",
    b"From: a@b.test\nSubject: nul\n\nbefore\x00after\nsecond\x00\n",
    b"From: J\xc3\xbcrgen <j@b.test>\nSubject: caf\xc3\xa9 8bit\nTo: \xe9t\xe9@b.test\n\nbody \xff\xfe\n",
    b"",
    b"\n",
    b"Subject: header only no newline",
    b"From: a@b.test\nSubject: mixed ends\r\n\r\nline\r\nline2\nline3\r\r\n",
    b"From: a@b.test\nSubject: mp no end\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\nunterminated",
    b"From: a@b.test\nSubject: enclosed\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n"
    b"--b1\nContent-Type: message/rfc822\n\nSubject: in\n\ninner body\n\n--b1--\n",
]


@pytest.fixture()
def odd_site(site):
    for i, body in enumerate(ODD):
        (site.maildir / "cur" / f"17000000{i:02d}.M{i}P1.odd:2,S").write_bytes(body)
    return site


def literal_after(data, name):
    for entry in data:
        if isinstance(entry, tuple) and name in entry[0]:
            return entry[1]
    return None


def test_imaplib_fetches_every_item_of_odd_messages(odd_site):
    client = odd_site.imap()
    typ, data = client.select("INBOX")
    assert typ == "OK" and int(data[0]) == len(ODD)
    for seq in range(1, len(ODD) + 1):
        typ, data = client.fetch(str(seq), "(FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[] BODY.PEEK[TEXT] "
                                           "BODY.PEEK[HEADER] BODY.PEEK[1] BODY.PEEK[1.MIME] BINARY.PEEK[1] "
                                           "BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[]<3.5>)")
        assert typ == "OK", (seq, data)
        head = data[0][0] if isinstance(data[0], tuple) else data[0]
        size = int(re.search(rb"RFC822\.SIZE (\d+)", head).group(1))
        whole = literal_after(data, b"BODY[] ")
        if whole is None:  # an empty message: a quoted ""
            assert size == 0
        else:
            assert len(whole) == size, seq
            # Every line ends with CRLF except a last unfinished one (RFC 3501 §2.3.1).
            assert b"\n" not in whole.replace(b"\r\n", b"")
    # Search over all of them, then the session still works.
    typ, data = client.search(None, "TEXT", "body")
    assert typ == "OK"
    assert client.noop()[0] == "OK"
    client.logout()


def test_mbsync_copies_odd_messages(odd_site, tmp_path):
    if not shutil.which("mbsync"):
        pytest.fail("mbsync (isync) is not installed (Scripts/test installs it)")
    local = tmp_path / "local"
    local.mkdir()
    config = tmp_path / "mbsyncrc"
    config.write_text(f"""IMAPAccount demo
Host 127.0.0.1
Port {odd_site.ports['imapd']}
User demo
Pass demo
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account demo

MaildirStore local
Path {local}/
Inbox {local}/INBOX

Channel sync
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
""")
    result = subprocess.run(["mbsync", "-c", str(config), "-a"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    copied = [p.read_bytes() for d in ("cur", "new") for p in (local / "INBOX" / d).iterdir()]
    # mbsync itself skips a message whose header has no end (no blank line): the CR-only one,
    # the empty one and the header-only one; it copies the other seven.
    skipped = sorted(int(n) for n in re.findall(r"message (\d+) from far side has incomplete header", result.stderr))
    assert skipped == [2, 5, 7], result.stderr
    assert len(copied) == len(ODD) - 3
    assert any(b"inner body" in c for c in copied)
    assert any(b"caf\xc3\xa9 8bit" in c for c in copied)
    assert any(b"before\x00after" in c for c in copied)


def test_one_line_message_envelope(odd_site):
    """A message that is one line without a line feed: its Subject is in ENVELOPE and found by
    SEARCH (Courier-IMAP and Dovecot answer so), whichever way the envelope is read."""
    client = odd_site.imap()
    client.select("INBOX")
    seq = ODD.index(b"Subject: header only no newline") + 1
    typ, data = client.fetch(str(seq), "(ENVELOPE)")
    assert b'(NIL "header only no newline" NIL' in data[0]
    typ, data = client.fetch(str(seq), "(BODY.PEEK[] ENVELOPE)")
    assert b'ENVELOPE (NIL "header only no newline" NIL' in b"".join(
        x if isinstance(x, bytes) else x[0] + x[1] for x in data)
    assert client.search(None, "SUBJECT", '"header only"')[1][0].split() == [str(seq).encode()]
    client.logout()
