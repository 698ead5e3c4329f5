"""RETR and TOP of messages whose line ends and dots fall exactly on the server's 128 KiB read
boundary, pipelined RETRs in one write, and RETR twice in a session after the seen-flag
rename: byte-exact against the stored files, through a raw socket and poplib."""
from test_pop3_server import Raw, site  # noqa: F401  (the demo-site fixture)

CHUNK = 128 * 1024


def wire(data: bytes) -> bytes:
    """POP3's form of a stored message: CRLF line ends, a line end after the last line."""
    out = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return out if out.endswith(b"\r\n") else out + b"\r\n"


def unstuffed(lines) -> bytes:
    return b"".join((l[1:] if l.startswith(b".") else l) + b"\r\n" for l in lines)


def filler(size: int, head: bytes = b"Subject: edge\n\n") -> bytes:
    """`head` then text lines, exactly `size` bytes long."""
    body = b""
    n = 0
    while len(head) + len(body) < size:
        body += b"line %05d of the filler text\n" % n
        n += 1
    return (head + body)[:size]


def edge_messages():
    dot_at_boundary = filler(CHUNK)[:-1] + b"\n" + b".dot starts the second chunk\n..\n"
    crlf_split = filler(CHUNK)[:-1] + b"\r" + b"\nafter the split CRLF\n"
    exact_with_newline = filler(CHUNK - 1) + b"\n"
    exact_without_newline = filler(CHUNK)[:-1] + b"x"
    two_chunks_and_a_bit = filler(2 * CHUNK + 17)
    return [dot_at_boundary, crlf_split, exact_with_newline, exact_without_newline, two_chunks_and_a_bit]


def test_retr_across_the_read_boundary_is_byte_exact(site):
    messages = edge_messages()
    assert messages[0][CHUNK - 1:CHUNK + 1] == b"\n."
    assert messages[1][CHUNK - 1:CHUNK + 1] == b"\r\n"
    assert len(messages[2]) == CHUNK and len(messages[3]) == CHUNK
    for i, data in enumerate(messages):
        site.deliver("17000000%02d.M1P1.host" % i, data, sub="cur")
    raw = Raw(site.pop3)
    raw.command("USER demo")
    assert raw.command("PASS demo") == b"+OK logged in."
    # All five RETRs in one write (RFC 2449 PIPELINING): answers come back in order.
    raw.send(b"".join(b"RETR %d\r\n" % (i + 1) for i in range(len(messages))))
    for data in messages:
        assert raw.line() == b"+OK %d octets follow." % len(wire(data))
        assert unstuffed(raw.multiline()) == wire(data)
    # TOP stops inside the second chunk: headers, blank line, 6000 body lines.
    big = messages[4]
    assert len(b"\n".join(big.split(b"\n")[:6002])) > CHUNK
    assert raw.command("TOP 5 6000") == b"+OK headers follow."
    lines = raw.multiline()
    assert lines[:2] == [b"Subject: edge", b""] and len(lines) == 6002
    assert unstuffed(lines) == b"".join(l + b"\r\n" for l in big.split(b"\n")[:6002])
    assert raw.command("QUIT") == b"+OK Bye-bye."
    raw.close()


def test_retr_twice_after_the_seen_rename(site):
    data = b"Subject: twice\n\n.one\ntwo\n"
    site.deliver("1700000000.M1P1.host", data)
    client = site.login()
    first = client.retr(1)[1]
    second = client.retr(1)[1]
    # poplib takes the dot-stuffing off.
    assert first == second == [b"Subject: twice", b"", b".one", b"two"]
    assert client.uidl()[1][0].startswith(b"1 UID")
    client.quit()
    assert site.files() == ["1700000000.M1P1.host:2,S"]


def test_pipelined_retr_top_dele_of_a_message_being_marked_seen(site):
    """The seen-flag rename runs while the next command is read: a pipelined RETR, TOP or DELE
    of the same message must still find it, and QUIT must delete it under its new name."""
    data = b"Subject: pipelined\n\nbody\n"
    for i in range(3):
        site.deliver("170000000%d.M1P1.host" % i, data)
    raw = Raw(site.pop3)
    raw.command("USER demo")
    assert raw.command("PASS demo") == b"+OK logged in."
    raw.send(b"RETR 1\r\nRETR 1\r\nTOP 1 0\r\nRETR 2\r\nDELE 2\r\nRETR 3\r\nDELE 1\r\nQUIT\r\n")
    for _ in range(2):
        assert raw.line() == b"+OK %d octets follow." % len(wire(data))
        assert unstuffed(raw.multiline()) == wire(data)
    assert raw.line() == b"+OK headers follow."
    assert raw.multiline() == [b"Subject: pipelined", b""]
    assert raw.line() == b"+OK %d octets follow." % len(wire(data))
    raw.multiline()
    assert raw.line() == b"+OK Deleted."
    assert raw.line() == b"+OK %d octets follow." % len(wire(data))
    raw.multiline()
    assert raw.line() == b"+OK Deleted."
    assert raw.line() == b"+OK Bye-bye."
    raw.close()
    site.wait_for("LOGOUT, user=demo")
    assert site.files() == ["1700000002.M1P1.host:2,S"]
