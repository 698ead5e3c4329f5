"""Bad input against a real `courier start`: 10,000 random and malformed command lines (the
server answers every one and stays up), 100 MB of DATA (refused per SIZE up front, or read to
the end and refused with 523 without the daemon's memory growing by the message), and a client
that vanishes in the middle of DATA (nothing is delivered)."""
import random
import smtplib
import socket
import time

import pytest

from test_smtp_server import Raw, Site, site  # noqa: F401 (the shared pytest fixture)


# Verbs that change what the following lines mean (DATA reads a message, STARTTLS a TLS
# handshake, QUIT and BDAT end or confuse the count) are left out of the generated lines.
VERBS = [b"EHLO", b"HELO", b"MAIL FROM:", b"RCPT TO:", b"RSET", b"NOOP", b"VRFY", b"EXPN", b"HELP", b"AUTH",
         b"MAIL", b"RCPT", b"ETRN", b"TURN", b"XCLIENT", b"mail from:", b"Rcpt To:"]
PARAMETERS = [b"SIZE=", b"BODY=8BITMIME", b"BODY=BINARYMIME", b"RET=FULL", b"RET=X", b"ENVID=", b"NOTIFY=",
              b"NOTIFY=NEVER,SUCCESS", b"ORCPT=rfc822;", b"SMTPUTF8", b"VERP", b"AUTH=<>", b"SECURITY=STARTTLS",
              b"=", b"\x00", b"\xff\xfe"]


def malformed_line(rng):
    kind = rng.randrange(6)
    noise = bytes(rng.choice([b for b in range(256) if b not in (10, 13)]) for _ in range(rng.randrange(0, 120)))
    if kind == 0:
        return b"X" + noise
    if kind == 1:
        return rng.choice(VERBS) + b" " + noise
    if kind == 2:
        address = rng.choice([b"<>", b"<a@b.example>", b"<demo@example.test>", b"<@a,@b:c@d.example>", b"<\"q@x\"@e.example>",
                              b"a@b", b"<a@[127.0.0.1]>", b"<" + b"x" * rng.randrange(1, 600) + b"@y.example>", b"<a@b"])
        params = b" ".join(rng.choice(PARAMETERS) + noise[:rng.randrange(0, 20)] for _ in range(rng.randrange(0, 4)))
        return rng.choice([b"MAIL FROM:", b"RCPT TO:"]) + address + (b" " + params if params else b"")
    if kind == 3:
        return b"AUTH " + rng.choice([b"PLAIN", b"LOGIN", b"CRAM-MD5", b"XYZ", b"SCRAM-SHA-256", b""]) + b" " + noise[:40]
    if kind == 4:
        return b" " * rng.randrange(0, 10) + noise
    return rng.choice(VERBS) + b"\x00" + noise


def test_ten_thousand_malformed_lines_each_get_a_reply(site):
    rng = random.Random(20261126)
    lines = [malformed_line(rng) for _ in range(10000)]
    lines[1234] = b"Z" * 100000   # one very long line
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    codes = []
    # In batches, so neither side's socket buffer fills while the other waits.
    for start in range(0, len(lines), 200):
        batch = lines[start:start + 200]
        raw.send(b"".join(line + b"\r\n" for line in batch))
        codes += [raw.reply()[0] for _ in batch]
    assert len(codes) == 10000
    assert all(200 <= code < 600 for code in codes)
    assert sum(1 for code in codes if code >= 500) > 5000
    # The session still works, and so does the server.
    raw.send(b"RSET\r\nNOOP\r\n")
    assert [raw.reply()[0] for _ in range(2)] == [250, 250]
    raw.close()
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        client.sendmail("a@b.example", ["demo@example.test"], "Subject: marker-after-garbage\r\n\r\nok\r\n")
    assert len(site.messages_containing("marker-after-garbage")) == 1


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_hundred_megabytes_of_data(site):
    hundred_mb = 100 * 1024 * 1024
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=60) as client:
        client.ehlo("client.example")
        # Declared: refused before a byte of data (534, spec/mta.md §2.6).
        code, _ = client.mail("a@b.example", [f"SIZE={hundred_mb}"])
        assert code == 534
    before = peak_rss_kib(site.proc.pid)
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n")
    assert [raw.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    raw.send(b"Subject: marker-100mb\r\n\r\n")
    line = b"m" * 1022 + b"\r\n"
    chunk = line * 1024            # 1 MiB
    for _ in range(100):
        raw.send(chunk)
    raw.send(b".\r\n")
    code, text = raw.reply()
    assert code == 523, text
    raw.send(b"NOOP\r\n")
    assert raw.reply()[0] == 250
    raw.close()
    after = peak_rss_kib(site.proc.pid)
    # The body was not kept: the peak grew by far less than the 100 MB that went through.
    assert after - before < 40 * 1024, (before, after)
    assert site.any_file_containing("marker-100mb") == []


def test_client_vanishing_mid_data_in_many_sessions(site):
    marker = f"vanish-many-{random.randrange(1 << 30)}"
    for i in range(20):
        sock = socket.create_connection(("127.0.0.1", site.ports["esmtpd"]), timeout=10)
        sock.sendall(b"EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
                     + f"Subject: {marker}\r\n\r\n".encode() + b"partial line without end" * (i * 100))
        if i % 2:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")   # RST
        sock.close()
    time.sleep(1)
    assert site.any_file_containing(marker) == []
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        assert client.noop()[0] == 250


def test_large_message_under_a_raised_limit_is_spooled_and_delivered(site):
    """With sizelimit 0 (no limit) a 30 MB message is accepted: it goes to var/queue/spool/
    while it arrives (not into memory), then into the Maildir whole."""
    (site.root / "etc" / "sizelimit").write_text("0\n")
    site.restart()
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n")
    assert [raw.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    raw.send(b"Subject: marker-30mb\r\n\r\n")
    line = b"s" * 1022 + b"\r\n"
    for _ in range(30):
        raw.send(line * 1024)
    raw.send(b".\r\n")
    code, text = raw.reply()
    assert code == 250, text
    raw.close()
    stored = site.messages_containing("marker-30mb", timeout=60)
    assert len(stored) == 1
    assert stored[0].read_bytes().count(b"s" * 1022 + b"\n") == 30 * 1024
    deadline = time.monotonic() + 20
    spool = site.root / "var" / "queue" / "spool"
    while any(spool.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(spool.iterdir()) == []   # removed once delivered
