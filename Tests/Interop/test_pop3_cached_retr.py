"""RETR and TOP of a message whose file is in the kernel's caches are answered on the event loop
(openat2 RESOLVE_CACHED, preadv2 RWF_NOWAIT), others on the thread pool. Both must give the same
bytes, and the event-loop path must keep the thread pool's rule for symbolic links: a link in
cur/ to a file only the server may read is refused, never sent (the cached open refuses every
link, the thread pool then decides)."""
import os

from test_pop3_server import Raw, site  # noqa: F401  (the demo-site fixture)
from test_pop3_streaming import unstuffed, wire


def message(i, lines):
    body = b"".join(b"line %d of message %d\n" % (n, i) for n in range(lines))
    return b"Subject: cached %d\n\n.dot first\n" % i + body


def test_cached_retr_top_and_a_private_symlink(site, tmp_path):
    messages = {b"cached %d" % i: message(i, lines) for i, lines in ((1, 3), (2, 400), (3, 5000))}
    for i, data in enumerate(messages.values()):
        site.deliver("17100000%02d.M1P1.host" % i, data)
    secret = tmp_path / "secret"
    secret.write_bytes(b"Subject: stolen\n\nTOP SECRET\n")
    secret.chmod(0o600)
    os.symlink(secret, site.maildir / "cur" / "1710000099.M1P1.evil:2,S")
    raw = Raw(site.pop3)
    raw.command("USER demo")
    assert raw.command("PASS demo") == b"+OK logged in."
    assert raw.command("STAT").startswith(b"+OK 4 ")
    # Twice over, pipelined: the second round reads files the first one left in the page cache
    # (and RETR n+1 comes from what RETR n read ahead).
    raw.send(b"".join(b"RETR %d\r\nTOP %d 1\r\n" % (n, n) for _ in range(2) for n in range(1, 5)))
    refused = 0
    for _ in range(2):
        seen = set()
        for _n in range(1, 5):
            status = raw.line()
            if status.startswith(b"-ERR"):
                refused += 1
                assert raw.line().startswith(b"-ERR")   # TOP of the link: refused too
                continue
            body = raw.multiline()
            assert b"TOP SECRET" not in b"".join(body)
            subject = body[0][len(b"Subject: "):]
            data = messages[subject]
            assert status == b"+OK %d octets follow." % len(wire(data))
            assert unstuffed(body) == wire(data)
            seen.add(subject)
            assert raw.line() == b"+OK headers follow."
            assert raw.multiline() == [b"Subject: " + subject, b"", b"..dot first"]
        assert seen == set(messages)
    assert refused == 2
    assert raw.command("QUIT") == b"+OK Bye-bye."
    raw.close()
