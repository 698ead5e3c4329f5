"""RFC 3030 CHUNKING (BDAT) against a real `courier start`: chunks over a raw socket (pipelined,
split, binary-safe, smuggling look-alikes, lying sizes, BDAT out of sequence, RSET, size limit
across chunks, header checks, XVERP) and Exim, a real MTA that sends BDAT when CHUNKING is
offered, delivering to the demo Maildir byte for byte."""
import os
import pathlib
import random
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile

import pytest

from test_smtp_server import Raw, Site, tls_context, site  # noqa: F401 (the shared pytest fixture)


def marker(name):
    return f"{name}-{random.randrange(1 << 30)}"


def open_transaction(raw, sender="sender@client.example", mail_options=""):
    """Greeting, EHLO, MAIL, RCPT demo: all answered positively."""
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\n")
    code, lines = raw.reply()
    assert code == 250 and b"CHUNKING" in [line[4:] for line in lines], lines
    raw.send(f"MAIL FROM:<{sender}>{mail_options}\r\nRCPT TO:<demo@example.test>\r\n".encode())
    assert [raw.reply()[0] for _ in range(2)] == [250, 250]


def bdat(data, last=False):
    return f"BDAT {len(data)}{' LAST' if last else ''}\r\n".encode() + data


def assert_stored_as(path, expected):
    """The stored file is `expected` after only the trace fields the site adds (Return-Path,
    Delivered-To, Received)."""
    data = path.read_bytes()
    assert data.endswith(expected), data[-300:]
    added = data[:len(data) - len(expected)]
    for line in added.split(b"\n")[:-1]:
        assert line.startswith((b"Return-Path: ", b"Delivered-To: ", b"Received: ", b" ", b"\t")), added


def test_ehlo_offers_chunking_on_all_three_services(site):
    for name in ("esmtpd", "esmtpd-msa"):
        with smtplib.SMTP("127.0.0.1", site.ports[name], timeout=10) as client:
            client.ehlo("client.example")
            assert client.has_extn("chunking"), name
    with smtplib.SMTP_SSL("127.0.0.1", site.ports["esmtpd-ssl"], timeout=10, context=tls_context()) as client:
        client.ehlo("client.example")
        assert client.has_extn("chunking")


def test_bdat_over_implicit_tls(site):
    tag = marker("bdat-tls")
    raw = Raw(site.ports["esmtpd-ssl"])
    raw.sock = tls_context().wrap_socket(raw.sock)
    open_transaction(raw)
    message = f"Subject: {tag}\r\n\r\nover TLS\r\n".encode()
    raw.send(bdat(message[:7]) + bdat(message[7:], last=True) + b"QUIT\r\n")
    assert [raw.reply()[0] for _ in range(3)] == [250, 250, 221]
    raw.close()
    stored = site.messages_containing(tag)
    assert len(stored) == 1
    assert_stored_as(stored[0], message.replace(b"\r\n", b"\n"))


def test_bdat_before_auth_on_submission_is_refused_and_discarded(site):
    """esmtpd-msa wants AUTH first: the BDAT is refused, its chunk (holding commands) dropped."""
    raw = Raw(site.ports["esmtpd-msa"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\n" + bdat(b"MAIL FROM:<a@client.example>\r\nRSET\r\n", last=True) + b"NOOP\r\n")
    assert [raw.reply()[0] for _ in range(3)] == [250, 535, 250]
    raw.close()


def test_chunks_land_in_maildir_byte_for_byte(site):
    """Three chunks, each in its own write: CR LF stored as LF (as DATA stores), a leading dot
    kept (no dot-stuffing in BDAT), 8-bit bytes, a CR LF split over two chunks, a bare CR kept."""
    tag = marker("bdat-bytes")
    message = (f"From: sender@client.example\r\nTo: demo@example.test\r\nSubject: {tag}\r\n\r\n".encode()
               + b".leading dot stays\r\n..two dots stay\r\n8-bit \xc3\xa9\xff\x80 bytes\r\nbare\rCR\r\nlast line\r\n")
    cut1, cut2 = 40, message.index(b"\r\nlast line") + 1   # the second cut splits CR | LF
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw)
    for piece, last in ((message[:cut1], False), (message[cut1:cut2], False), (message[cut2:], True)):
        raw.send(bdat(piece, last))
        code, lines = raw.reply()
        assert code == 250, lines
        if not last:
            assert lines[0] == f"250 2.0.0 {len(piece)} octets received.".encode()
    assert re.match(rb"250 2\.0\.0 Ok\. \S+", lines[0]), lines
    raw.send(b"QUIT\r\n")
    assert raw.reply()[0] == 221
    stored = site.messages_containing(tag)
    assert len(stored) == 1
    assert_stored_as(stored[0], message.replace(b"\r\n", b"\n"))
    text = stored[0].read_bytes()
    assert re.search(rb"Received: from client\.example \(\[127\.0\.0\.1\]\)\n", text)


def test_pipelined_bdat_with_following_commands_in_one_segment(site):
    """RFC 2920 + RFC 3030: the whole session in one write; each BDAT is answered once, the
    bytes after each chunk are commands again, and a second transaction follows."""
    tag = marker("bdat-pipe")
    first = f"Subject: {tag}-one\r\n\r\nbody one\r\n".encode()
    second = f"Subject: {tag}-two\r\n\r\nbody two\r\n".encode()
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<demo@example.test>\r\n"
             + bdat(first[:10]) + bdat(first[10:]) + b"BDAT 0 LAST\r\n"
             + b"MAIL FROM:<b@client.example>\r\nRCPT TO:<demo@example.test>\r\n" + bdat(second, last=True)
             + b"NOOP\r\nQUIT\r\n")
    codes = [raw.reply()[0] for _ in range(11)]
    assert codes == [250, 250, 250, 250, 250, 250, 250, 250, 250, 250, 221]
    raw.close()
    one = site.messages_containing(f"{tag}-one")
    two = site.messages_containing(f"{tag}-two")
    assert len(one) == 1 and len(two) == 1
    assert_stored_as(one[0], first.replace(b"\r\n", b"\n"))
    assert_stored_as(two[0], second.replace(b"\r\n", b"\n"))


def test_commands_and_end_of_data_inside_a_chunk_are_data(site):
    """SMTP smuggling through BDAT: a chunk holding `CR LF . CR LF` and a whole second
    transaction is stored as the text of one message."""
    tag = marker("bdat-smuggle")
    chunk = (f"Subject: {tag}-outer\r\n\r\nfirst part\r\n.\r\n".encode()
             + b"MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
             + f"Subject: {tag}-inner\r\n\r\nsmuggled\r\n.\r\nBDAT 5 LAST\r\nhello\r\n".encode())
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw)
    raw.send(bdat(chunk, last=True) + b"NOOP\r\n")
    assert raw.reply()[0] == 250
    assert raw.reply()[0] == 250   # the NOOP, nothing in between
    raw.send(b"QUIT\r\n")
    assert raw.reply()[0] == 221
    outer = site.messages_containing(f"{tag}-outer")
    assert len(outer) == 1
    assert_stored_as(outer[0], chunk.replace(b"\r\n", b"\n"))
    assert len(site.messages_containing(tag)) == 1


def test_too_small_chunk_size_closes_instead_of_reading_text_as_commands(site):
    """A size that stops short: the message text after it is no command, so the server ends
    the connection; the smuggled transaction behind it is never accepted."""
    tag = marker("bdat-short")
    real = f"Subject: {tag}-outer\r\n\r\nfirst part".encode()
    tail = (b" continues\r\nMAIL FROM:<evil@attacker.example>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
            + f"Subject: {tag}-inner\r\n\r\nsmuggled\r\n.\r\n".encode())
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw)
    raw.send(bdat(real, last=True) + tail)
    assert raw.reply()[0] == 250             # the chunk as announced is a message
    code, lines = raw.reply()
    assert code == 500 and b"BDAT" in lines[0], lines
    with pytest.raises(ConnectionError):
        raw.reply()
    raw.close()
    assert site.messages_containing(f"{tag}-inner", timeout=3) == []
    assert len(site.messages_containing(f"{tag}-outer")) == 1


def test_too_large_chunk_size_swallows_commands_as_data(site):
    """A size past the data: what follows is message text until the size is reached, never
    commands; a client that goes away then leaves nothing behind."""
    tag = marker("bdat-long")
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw)
    raw.send(f"BDAT 5000 LAST\r\nSubject: {tag}\r\n\r\nshort\r\n".encode()
             + b"MAIL FROM:<x@client.example>\r\nRCPT TO:<demo@example.test>\r\nNOOP\r\n")
    raw.sock.settimeout(1.5)
    with pytest.raises(socket.timeout):
        raw.reply()
    raw.close()
    assert site.any_file_containing(tag) == []


@pytest.mark.parametrize("before", [b"", b"EHLO client.example\r\n",
                                    b"EHLO client.example\r\nMAIL FROM:<a@client.example>\r\n"],
                         ids=["no-helo", "no-mail", "no-rcpt"])
def test_bdat_out_of_sequence_gets_503_and_its_chunk_is_discarded(site, before):
    """RFC 3030 §3: the refused chunk is read and thrown away; commands inside it get no reply."""
    inside = b"MAIL FROM:<a@client.example>\r\nRCPT TO:<demo@example.test>\r\nQUIT\r\n"
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(before + bdat(inside, last=True) + b"NOOP\r\n")
    replies = [raw.reply() for _ in range(before.count(b"\r\n") + 2)]
    assert [code for code, _ in replies[-2:]] == [503, 250], replies
    raw.send(b"QUIT\r\n")
    assert raw.reply()[0] == 221


def test_data_after_bdat_and_rset_discard_the_chunks(site):
    tag = marker("bdat-rset")
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw)
    raw.send(bdat(f"Subject: {tag}\r\n\r\npart one\r\n".encode()) + b"DATA\r\nRSET\r\n"
             + bdat(b"part two\r\n", last=True))
    assert [raw.reply()[0] for _ in range(4)] == [250, 503, 250, 503]
    # A fresh transaction on the same connection works.
    raw.send(b"MAIL FROM:<sender@client.example>\r\nRCPT TO:<demo@example.test>\r\n"
             + bdat(f"Subject: {tag}-fresh\r\n\r\nfresh\r\n".encode(), last=True) + b"QUIT\r\n")
    assert [raw.reply()[0] for _ in range(4)] == [250, 250, 250, 221]
    assert len(site.messages_containing(f"{tag}-fresh")) == 1
    assert site.messages_containing(f"{tag}\n", timeout=2) == []
    assert not any(b"part one" in p.read_bytes() for p in site.stored_messages())


def test_bdat_zero_last_delivers(site):
    """`BDAT 0 LAST` after a chunk ends the message; `BDAT 0 LAST` alone sends an empty one."""
    sender = marker("zero") + "@client.example"
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw, sender=sender)
    raw.send(b"BDAT 0 LAST\r\n")
    code, lines = raw.reply()
    assert code == 250 and b"Ok." in lines[0], lines
    raw.send(b"QUIT\r\n")
    assert raw.reply()[0] == 221
    stored = site.messages_containing(f"<{sender}>")
    assert len(stored) == 1
    assert stored[0].read_bytes().endswith(b"\n")


def test_size_limit_counts_across_chunks(site):
    """sizelimit over several chunks: 552 once it is passed (the chunk still read whole), then
    the pipelined rest gets 503 with its chunk discarded; nothing is delivered."""
    tag = marker("bdat-size")
    (site.root / "etc" / "sizelimit").write_text("1000\n")
    site.restart()
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw)
    header = f"Subject: {tag}\r\n\r\n".encode()
    raw.send(bdat(header + b"a" * 500) + bdat(b"b" * 600) + bdat(b"MAIL FROM:<x@y.example>\r\n", last=True)
             + b"NOOP\r\n")
    replies = [raw.reply() for _ in range(4)]
    assert [code for code, _ in replies] == [250, 552, 503, 250], replies
    assert replies[1][1][0].startswith(b"552 5.3.4 ")
    raw.close()
    assert site.any_file_containing(tag) == []


def test_declared_size_over_limit_refused_at_mail(site):
    raw = Raw(site.ports["esmtpd"])
    assert raw.reply()[0] == 220
    raw.send(b"EHLO client.example\r\nMAIL FROM:<a@client.example> SIZE=999999999\r\n")
    assert [raw.reply()[0] for _ in range(2)] == [250, 534]


def test_header_checks_apply_to_chunks(site):
    """The DATA stage's header checks run at BDAT LAST: 101 Received: fields are a loop."""
    tag = marker("bdat-loop")
    headers = b"".join(b"Received: from hop%d.example by x\r\n" % i for i in range(101))
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw)
    raw.send(bdat(headers) + bdat(f"Subject: {tag}\r\n\r\nloop\r\n".encode(), last=True))
    assert raw.reply()[0] == 250
    code, lines = raw.reply()
    assert code == 546, lines
    raw.close()
    assert site.any_file_containing(tag) == []


def test_xverp_and_dsn_parameters_with_bdat(site):
    tag = marker("bdat-verp")
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw, sender="list-owner@client.example", mail_options=" XVERP RET=HDRS ENVID=bdat-test")
    raw.send(bdat(f"Subject: {tag}\r\n\r\nverp\r\n".encode(), last=True) + b"QUIT\r\n")
    assert [raw.reply()[0] for _ in range(2)] == [250, 221]
    stored = site.messages_containing(tag)
    assert len(stored) == 1
    assert b"\nReturn-Path: <list-owner-demo=example.test@client.example>\n" in b"\n" + stored[0].read_bytes()


def test_large_message_in_chunks_streams_to_the_spool(site):
    """12 MB in 1 MB chunks with sizelimit 0: spooled while it arrives, delivered whole."""
    tag = marker("bdat-large")
    (site.root / "etc" / "sizelimit").write_text("0\n")
    site.restart()
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw)
    line = b"c" * 1022 + b"\r\n"
    raw.send(bdat(f"Subject: {tag}\r\n\r\n".encode()))
    assert raw.reply()[0] == 250
    for _ in range(12):
        raw.send(bdat(line * 1024))
        assert raw.reply()[0] == 250
    raw.send(b"BDAT 0 LAST\r\n")
    code, lines = raw.reply()
    assert code == 250, lines
    raw.close()
    stored = site.messages_containing(tag, timeout=60)
    assert len(stored) == 1
    assert stored[0].read_bytes().count(b"c" * 1022 + b"\n") == 12 * 1024


# MARK: Exim, a real client that sends BDAT

EXIM = pathlib.Path(os.environ.get("EXIM_DIST", "/var/cache/courier-swift-test/exim-dist")) / "usr/sbin/exim4"


def exim_send(port, message, sender, recipient):
    """Runs Exim once as a client (`-odi`: deliver now), routing everything to our port, as
    nobody (Exim will not run a transport as root). Returns its -v transcript."""
    if not EXIM.exists():
        pytest.fail(f"{EXIM} missing: Scripts/test unpacks exim4-daemon-light there")
    work = pathlib.Path(tempfile.mkdtemp(prefix="bdat-exim-"))
    try:
        (work / "spool").mkdir()
        (work / "exim.conf").write_text(f"""
exim_path = {EXIM}
spool_directory = {work}/spool
log_file_path = {work}/%slog
primary_hostname = client.example
exim_user = nobody
exim_group = nogroup
never_users =
keep_environment =
begin routers
to_courier:
  driver = manualroute
  route_list = * 127.0.0.1
  transport = courier_smtp
  self = send
begin transports
courier_smtp:
  driver = smtp
  port = {port}
  hosts_try_chunking = *
  hosts_avoid_tls = *
  allow_localhost
begin retry
* * F,1m,1m
""")
        subprocess.run(["chown", "-R", "nobody:nogroup", str(work)], check=True)
        result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", str(EXIM),
                                 "-C", str(work / "exim.conf"), "-odi", "-oi", "-v", "-f", sender, recipient],
                                input=message, capture_output=True, timeout=60)
        transcript = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
        log = (work / "mainlog").read_text(errors="replace") if (work / "mainlog").exists() else ""
        assert result.returncode == 0, transcript + log
        assert "=> " + recipient in transcript + log, transcript + log
        return transcript
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_exim_sends_bdat_and_the_message_lands_byte_for_byte(site):
    tag = marker("exim-bdat")
    body = b"".join(b"line %d with a tab\tand 8-bit \xc3\xa9\n" % i for i in range(3000)) + b".dot line\n..\n"
    message = (f"From: sender@client.example\nTo: demo@example.test\nSubject: {tag}\n"
               "Message-ID: <exim-bdat@client.example>\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n").encode() + body
    transcript = exim_send(site.ports["esmtpd"], message, "sender@client.example", "demo@example.test")
    # Exim really used CHUNKING (`SMTP+>` is a pipelined command in its -v transcript).
    assert re.search(r"SMTP.> BDAT \d+ LAST", transcript), transcript
    assert not re.search(r"SMTP.> DATA", transcript), transcript
    stored = site.messages_containing(tag)
    assert len(stored) == 1
    data = stored[0].read_bytes()
    assert data.endswith(body)
    # Exim adds its own Received: field; every header line we sent is there unchanged.
    for header in message.split(b"\n\n", 1)[0].split(b"\n"):
        assert b"\n" + header + b"\n" in data


def test_half_closed_client_still_gets_its_replies(site):
    """A client that pipelines the end of its session and shuts its sending side down before
    reading (as Exim does) gets every reply, and the message is kept."""
    tag = marker("bdat-halfclose")
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw)
    raw.send(bdat(f"Subject: {tag}\r\n\r\nhalf-closed\r\n".encode(), last=True) + b"QUIT\r\n")
    raw.sock.shutdown(socket.SHUT_WR)
    assert [raw.reply()[0] for _ in range(2)] == [250, 221]
    raw.close()
    assert len(site.messages_containing(tag)) == 1


def test_hundred_megabyte_chunk_is_read_with_bounded_memory_and_refused(site):
    """One `BDAT 104857600 LAST` against the 10 MB default sizelimit: read to its end without
    keeping it (the daemon's peak memory grows by far less than 100 MB), then 552, and the
    session goes on."""
    from test_smtp_robustness import peak_rss_kib
    tag = marker("bdat-100mb")
    hundred_mb = 100 * 1024 * 1024
    before = peak_rss_kib(site.proc.pid)
    raw = Raw(site.ports["esmtpd"])
    open_transaction(raw)
    header = f"Subject: {tag}\r\n\r\n".encode()
    line = b"m" * 1022 + b"\r\n"
    raw.send(f"BDAT {hundred_mb} LAST\r\n".encode() + header)
    remaining = hundred_mb - len(header)
    block = line * 1024
    while remaining > 0:
        piece = block[:remaining]
        raw.send(piece)
        remaining -= len(piece)
    raw.send(b"NOOP\r\n")
    code, lines = raw.reply()
    assert code == 552, lines
    assert raw.reply()[0] == 250
    raw.close()
    after = peak_rss_kib(site.proc.pid)
    assert after - before < 40 * 1024, (before, after)
    assert site.any_file_containing(tag) == []
