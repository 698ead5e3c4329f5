"""Large messages over IMAP on a real `courier start`, driven by Python's imaplib: every kind
of section of a ~45 MB multipart message (BODY[TEXT], BODY[n], BODY[n.MIME], BODY[HEADER],
BODY[n.HEADER]/[n.TEXT] of an enclosed message, partials, RFC822.HEADER/TEXT, BINARY[n]
decoding base64 and quoted-printable, BINARY[n]<partial>, BINARY.SIZE, BODYSTRUCTURE,
ENVELOPE), SEARCH BODY/TEXT, and COPY, checked byte for byte, while the server's memory
(VmRSS from /proc) grows by far less than the message: the sections are read from the file
in pieces, never held whole (issue 6).
"""
import os
import random
import re
import threading
import time

import pytest

from test_imap_server import rss_kib, site  # noqa: F401 (site: the shared pytest fixture)


def qp_encode(text):
    """Quoted-printable as a mail client writes it: `=XX` for bytes above 126 and `=`, soft
    line breaks (`=` CRLF) every 72 characters or so."""
    out, line = [], b""
    for byte in text:
        if byte == 10:
            out.append(line + b"\r\n")
            line = b""
            continue
        piece = b"=%02X" % byte if byte > 126 or byte == 61 else bytes([byte])
        if len(line) + len(piece) > 72:
            out.append(line + b"=\r\n")
            line = b""
        line += piece
    out.append(line)
    return b"".join(out)


def b64_lines(data):
    import base64
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


class Big:
    """A multipart message with a quoted-printable text part, a base64 attachment and an
    enclosed message, and the exact bytes of each of its sections."""

    def __init__(self):
        rng = random.Random(6)
        self.text = ("Grüße aus Köln, naïve café = fine. " * 40 + "\n").encode() * 4000   # ~6 MB
        self.binary = rng.randbytes(24 * 1024 * 1024) + b"\x00tail"
        self.header = (b"From: Big Sender <big@example.test>\r\nTo: demo@example.test\r\n"
                       b"Subject: a very large message\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                       b"Message-ID: <big@example.test>\r\nX-Marker: headeronlyword\r\nMIME-Version: 1.0\r\n"
                       b"Content-Type: multipart/mixed; boundary=\"BIGBOUNDARY\"\r\n\r\n")
        self.mime1 = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        self.body1 = qp_encode(self.text)
        self.mime2 = (b"Content-Type: application/octet-stream; name=\"blob.bin\"\r\n"
                      b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"blob.bin\"\r\n\r\n")
        self.body2 = b64_lines(self.binary)
        self.mime3 = b"Content-Type: message/rfc822\r\n\r\n"
        self.inner_header = b"From: inner@example.test\r\nSubject: enclosed\r\n\r\n"
        self.inner_text = b"the enclosed body with farawayneedle in it\r\n" * 1000
        self.body3 = self.inner_header + self.inner_text
        self.text_section = (b"preamble\r\n--BIGBOUNDARY\r\n" + self.mime1 + self.body1 + b"\r\n--BIGBOUNDARY\r\n"
                             + self.mime2 + self.body2 + b"\r\n--BIGBOUNDARY\r\n" + self.mime3 + self.body3
                             + b"\r\n--BIGBOUNDARY--\r\n")
        self.whole = self.header + self.text_section


def fetch_items(client, uid, items):
    """UID FETCH `items` of one message: {item name: value} (literals as bytes, the rest of
    the response line as text)."""
    typ, data = client.uid("FETCH", str(uid), items)
    assert typ == "OK", data
    found = {}
    for entry in data:
        if isinstance(entry, tuple):
            name = re.search(rb"(BODY\[[^]]*\](?:<\d+>)?|BINARY\[[^]]*\](?:<\d+>)?|RFC822\.\w+) ~?\{\d+\}$", entry[0])
            found[name.group(1).decode()] = entry[1]
    return found, data


class Peak:
    """The server's largest VmRSS while a block runs, sampled every few milliseconds."""

    def __init__(self, pid):
        self.pid = pid
        self.start = rss_kib(pid)
        self.peak = self.start
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self):
        while not self.done.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.005)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    @property
    def grown_mib(self):
        return (self.peak - self.start) / 1024


def test_sections_of_a_large_message_stream_from_the_file(site):
    big = Big()
    assert len(big.whole) > 40 * 1024 * 1024
    client = site.imap()
    client.sock.settimeout(600)   # a hang fails; the reads themselves take what the machine takes
    typ, data = client.append("INBOX", None, None, big.whole)
    assert typ == "OK", data
    uid = int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))
    assert client.create("INBOX.Copies")[0] == "OK"
    client.select("INBOX")

    with Peak(site.proc.pid) as peak:
        found, data = fetch_items(client, uid, "(RFC822.SIZE BODY.PEEK[TEXT] BODY.PEEK[HEADER] BODY.PEEK[1.MIME])")
        assert b"RFC822.SIZE %d" % len(big.whole) in data[0][0]
        assert found["BODY[TEXT]"] == big.text_section
        assert found["BODY[HEADER]"] == big.header
        assert found["BODY[1.MIME]"] == big.mime1
        found, _ = fetch_items(client, uid, "(BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[3.HEADER] BODY.PEEK[3.TEXT])")
        assert found["BODY[1]"] == big.body1
        assert found["BODY[2.MIME]"] == big.mime2
        assert found["BODY[3.HEADER]"] == big.inner_header
        # The enclosed message's text ends where the small-message path ends it (MIMEParser's
        # positions, which here keep the CRLF before the closing delimiter).
        assert found["BODY[3.TEXT]"] in (big.inner_text, big.inner_text + b"\r\n")
        text3 = found["BODY[3.TEXT]"]
        found, _ = fetch_items(client, uid, "(BODY.PEEK[2])")
        assert found["BODY[2]"] == big.body2
        # Partials: of the whole message (deep inside the attachment) and of a part.
        found, _ = fetch_items(client, uid, "(BODY.PEEK[]<30000000.5000> BODY.PEEK[2]<1000.77> BODY.PEEK[1]<0.10>)")
        assert found["BODY[]<30000000>"] == big.whole[30000000:30005000]
        assert found["BODY[2]<1000>"] == big.body2[1000:1077]
        assert found["BODY[1]<0>"] == big.body1[:10]
        # RFC 3516: BINARY decodes as it streams; the decoded attachment holds NULs (literal8).
        found, data = fetch_items(client, uid, "(BINARY.PEEK[2] BINARY.SIZE[2] BINARY.SIZE[1])")
        assert found["BINARY[2]"] == big.binary
        line = b" ".join(entry[0] if isinstance(entry, tuple) else entry for entry in data)
        assert b"BINARY.SIZE[2] %d" % len(big.binary) in line
        assert b"BINARY.SIZE[1] %d" % len(big.text.replace(b"\n", b"\r\n")) in line
        found, _ = fetch_items(client, uid, "(BINARY.PEEK[1] BINARY.PEEK[2]<20000000.4096>)")
        assert found["BINARY[1]"] == big.text.replace(b"\n", b"\r\n")
        assert found["BINARY[2]<20000000>"] == big.binary[20000000:20004096]
        # BODYSTRUCTURE and ENVELOPE, from one scan of the file.
        typ, data = client.uid("FETCH", str(uid), "(BODYSTRUCTURE ENVELOPE)")
        text = data[0] if isinstance(data[0], bytes) else b"".join(x if isinstance(x, bytes) else x[0] + x[1] for x in data)
        assert b'("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" %d %d' % (
            len(big.body1), big.body1.count(b"\n")) in text, text[:600]
        assert b'("application" "octet-stream" ("name" "blob.bin") NIL NIL "base64" %d NIL' % len(big.body2) in text
        assert b'"enclosed"' in text and b'"mixed" ("boundary" "BIGBOUNDARY")' in text
        assert b'ENVELOPE ("Thu, 26 Nov 2026 10:00:00 +0000" "a very large message"' in text
        # SEARCH BODY looks past the header, TEXT into it; both read the file in pieces.
        assert client.uid("SEARCH", None, "BODY", "farawayneedle")[1] == [str(uid).encode()]
        assert client.uid("SEARCH", None, "BODY", "headeronlyword")[1] == [b""]
        assert client.uid("SEARCH", None, "TEXT", "headeronlyword")[1] == [str(uid).encode()]
        assert client.uid("SEARCH", None, "TEXT", "nowhereatall")[1] == [b""]
        # Header keys and SORT come from the folder's summaries, made from the file in pieces.
        assert client.uid("SEARCH", None, "FROM", "big@example.test")[1] == [str(uid).encode()]
        assert client.uid("SEARCH", None, "SUBJECT", '"very large"')[1] == [str(uid).encode()]
        assert client.uid("SORT", "(SUBJECT)", "UTF-8", "ALL")[1] == [str(uid).encode()]
        # Other header fields: from the message's header block, read by itself.
        assert client.uid("SEARCH", None, "HEADER", "X-Marker", "headeronlyword")[1] == [str(uid).encode()]
        assert client.uid("SEARCH", None, "HEADER", "X-Marker", "elsewhere")[1] == [b""]
        # RFC822.HEADER and RFC822.TEXT (which sets \Seen).
        found, data = fetch_items(client, uid, "(RFC822.HEADER RFC822.TEXT)")
        assert found["RFC822.HEADER"] == big.header
        assert found["RFC822.TEXT"] == big.text_section
        typ, data = client.uid("FETCH", str(uid), "(FLAGS)")
        assert b"\\Seen" in data[0]
        # COPY: the file is copied in pieces; the copy reads back the same.
        typ, data = client.uid("COPY", str(uid), "INBOX.Copies")
        assert typ == "OK", data
    # Holding the message would take its 45 MB at least once (plus the CRLF copy and the
    # decoded attachment: over 100 MB); the pieces take a few MB.
    print(f"server memory grew by {peak.grown_mib:.1f} MiB (peak) for a {len(big.whole) >> 20} MiB message")
    assert peak.grown_mib < 64, f"server memory grew by {peak.grown_mib:.0f} MiB for a {len(big.whole) >> 20} MiB message"

    client.select("INBOX.Copies")
    with Peak(site.proc.pid) as peak:
        typ, data = client.fetch("1", "(BODY.PEEK[] BODY.PEEK[3.TEXT])")
        assert typ == "OK"
        parts = [entry[1] for entry in data if isinstance(entry, tuple)]
        assert parts[0] == big.whole and parts[1] == text3
    assert peak.grown_mib < 64, f"server memory grew by {peak.grown_mib:.0f} MiB reading the copy"
    copies = list((site.maildir / ".Copies" / "cur").iterdir()) + list((site.maildir / ".Copies" / "new").iterdir())
    assert len(copies) == 1 and copies[0].stat().st_size == len(big.whole) - big.whole.count(b"\r\n")
    client.logout()


def test_large_message_from_delivery_without_index_size(site):
    """A large message put straight into new/ (as a delivery agent does, without a size in
    its name): RFC822.SIZE is counted from the file in pieces, and its last line has no line
    end (the literal still has exactly the promised length)."""
    body = b"line of a delivered message\n" * (2 * 1024 * 1024 // 28) + b"no final newline"
    stored = b"Subject: delivered\nMIME-Version: 1.0\nContent-Type: text/plain\n\n" + body
    (site.maildir / "new" / "1700000000.M1P1.bigdelivery").write_bytes(stored)
    client = site.imap()
    client.sock.settimeout(300)
    client.select("INBOX")
    crlf = stored.replace(b"\n", b"\r\n")
    typ, data = client.fetch("1", "(RFC822.SIZE BODY.PEEK[TEXT]<0.29> BODY.PEEK[1] BINARY.SIZE[1])")
    assert typ == "OK", data
    head = b" ".join(entry[0] if isinstance(entry, tuple) else entry for entry in data)
    assert b"RFC822.SIZE %d" % len(crlf) in head
    assert b"BINARY.SIZE[1] %d" % len(body.replace(b"\n", b"\r\n")) in head
    parts = [entry[1] for entry in data if isinstance(entry, tuple)]
    assert parts[0] == b"line of a delivered message\r\n"
    assert parts[1] == body.replace(b"\n", b"\r\n")
    client.logout()


if __name__ == "__main__":
    os.sys.exit(pytest.main([__file__, "-x", "-q"]))
