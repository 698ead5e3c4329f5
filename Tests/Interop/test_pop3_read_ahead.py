"""RETR's read-ahead: after RETR n the server reads message n+1 while the client takes in n,
and a RETR of n+1 answers from it. Whatever order a client asks in, every answer must be the
stored message, byte-exact (poplib and a raw socket), with the seen flag set once it was sent:
sequential RETRs, skips, TOP and DELE in between, a message with 8-bit headers (wrapped for
clients without UTF8, never read ahead), and a next message another session had renamed.
"""
import poplib
import time

import pytest

from test_pop3_server import Raw, site  # noqa: F401  (the demo-site fixture)
from test_pop3_streaming import unstuffed, wire


def message(i, size=0):
    body = b"".join(b"line %d of message %d\n" % (n, i) for n in range(size // 20 + 1))
    return b"Subject: message %d\n\n.dot line\n" % i + body


def test_sequential_and_skipping_retrs_are_byte_exact(site):
    messages = [message(i, size=i * 3000) for i in range(8)]
    for i, data in enumerate(messages):
        site.deliver("17000000%02d.M1P1.host" % i, data)
    raw = Raw(site.pop3)
    raw.command("USER demo")
    assert raw.command("PASS demo") == b"+OK logged in."
    # 1, 2, 3 in order; then 5 (3's read-ahead of 4 is dropped), TOP 6 between RETR 5 and 6,
    # DELE 8 after RETR 7 read 8 ahead, RETR 8 refused, RETR 4 at last.
    raw.send(b"RETR 1\r\nRETR 2\r\nRETR 3\r\nRETR 5\r\nTOP 6 1\r\nRETR 6\r\nRETR 7\r\nDELE 8\r\nRETR 8\r\nRETR 4\r\n")
    for n in (1, 2, 3, 5):
        data = messages[n - 1]
        assert raw.line() == b"+OK %d octets follow." % len(wire(data))
        assert unstuffed(raw.multiline()) == wire(data)
    assert raw.line() == b"+OK headers follow."
    assert raw.multiline() == [b"Subject: message 5", b"", b"..dot line"]
    for n in (6, 7):
        data = messages[n - 1]
        assert raw.line() == b"+OK %d octets follow." % len(wire(data))
        assert unstuffed(raw.multiline()) == wire(data)
    assert raw.line() == b"+OK Deleted."
    assert raw.line() == b"-ERR Invalid message number."
    assert raw.line() == b"+OK %d octets follow." % len(wire(messages[3]))
    assert unstuffed(raw.multiline()) == wire(messages[3])
    assert raw.command("QUIT") == b"+OK Bye-bye."
    raw.close()
    site.wait_for("LOGOUT, user=demo")
    # Every RETR marked its message seen; the deleted one is gone.
    assert site.files() == ["17000000%02d.M1P1.host:2,S" % i for i in range(7)]


def test_a_message_with_8bit_headers_is_wrapped_after_a_retr(site):
    plain = b"Subject: plain\n\nplain body\n"
    utf8 = "Subject: caf\u00e9\n\nbody\n".encode()
    site.deliver("1700000001.M1P1.host", plain)
    site.deliver("1700000002.M1P1.host", utf8)
    client = site.login()
    assert client.retr(1)[1] == [b"Subject: plain", b"", b"plain body"]
    wrapped = client.retr(2)
    # Not UTF8: the message goes out inside Courier's multipart wrapper, as without read-ahead.
    assert b"Content-Type: multipart/mixed" in b"\n".join(wrapped[1])
    assert "Subject: caf\u00e9".encode() in wrapped[1]
    client.utf8()
    assert client.retr(2)[1] == ["Subject: caf\u00e9".encode(), b"", b"body"]
    client.quit()


def test_next_message_renamed_by_another_session(site):
    """The read-ahead of a file another session renamed finds nothing: the RETR gets Courier's
    answer for a vanished file, as without read-ahead, and the session goes on."""
    for i in range(3):
        site.deliver("170000000%d.M1P1.host" % i, message(i))
    one = site.login()
    two = site.login()
    # The other session reads message 2 first: its file is renamed to ...:2,S.
    assert two.retr(2)[1][0] == b"Subject: message 1"
    two.quit()
    site.wait_for("LOGOUT, user=demo")
    # (poplib takes the dot-stuffing off.)
    assert b"".join(l + b"\r\n" for l in one.retr(1)[1]) == wire(message(0))
    with pytest.raises(poplib.error_proto, match="it's gone"):
        one.retr(2)
    assert one.retr(3)[1][0] == b"Subject: message 2"
    one.quit()
    site.wait_for("LOGOUT, user=demo")
    assert site.files() == ["170000000%d.M1P1.host:2,S" % i for i in range(3)]


def test_retr_of_a_message_already_read_ahead_answers_once(site):
    """A client that waits after each message (as most do): the read-ahead is complete when the
    next RETR comes, and the answer goes out at once — exactly once, and the next command gets
    its own answer."""
    messages = [message(i, size=i * 500) for i in range(4)]
    for i, data in enumerate(messages):
        site.deliver("170000000%d.M1P1.host" % i, data, sub="cur")
    raw = Raw(site.pop3)
    raw.command("USER demo")
    assert raw.command("PASS demo") == b"+OK logged in."
    for n, data in enumerate(messages, 1):
        assert raw.command("RETR %d" % n) == b"+OK %d octets follow." % len(wire(data))
        assert unstuffed(raw.multiline()) == wire(data)
        time.sleep(0.3)   # not a measurement: gives the read-ahead time to finish
        assert raw.command("NOOP") == b"+OK Yup."
    raw.send(b"RETR 1\r\nNOOP\r\n")
    assert raw.line() == b"+OK %d octets follow." % len(wire(messages[0]))
    assert unstuffed(raw.multiline()) == wire(messages[0])
    assert raw.line() == b"+OK Yup."
    assert raw.command("QUIT") == b"+OK Bye-bye."
    raw.close()
