"""RFC 6856 in the POP3 server of a real `courier start`, as Courier's pop3d does it, driven by
Python's poplib (raw commands through its `_shortcmd`/`_longcmd`): `UTF8` before or after
login, `LANG`, and a message whose headers hold UTF-8 sent to a client that did not say
`UTF8` wrapped in a multipart whose second part (`MIME_UNICODE_MESSAGE_TYPE`, default
`message/global`) is the message itself.
"""
import email
import email.policy
import poplib
import re

import pytest

from courier_site import CourierSite, require_courier
from pop3_site import pop3_login, running_site

UNICODE = "From: José <jose@example.test>\nTo: demo@example.test\nSubject: Grüße aus Köln\n\n.Hallo\nBody\n".encode()
PLAIN = b"From: a@example.test\nSubject: plain\n\n8-bit body: \xc3\xa9 is fine\n"


class Site(CourierSite):
    def __init__(self, root, settings=None):
        super().__init__(root, services=("pop3d",), settings=settings)
        self.pop3 = self.ports["pop3d"]
        self.makeuserdb()
        self.start()
        for name, data in (("1700000000.M1P1.host", PLAIN), ("1700000001.M1P1.host", UNICODE)):
            (self.maildir / "tmp" / name).write_bytes(data)
            (self.maildir / "tmp" / name).rename(self.maildir / "new" / name)

    def client(self):
        return poplib.POP3("127.0.0.1", self.pop3, timeout=30)

    def login(self, utf8=False):
        return pop3_login(self.pop3, utf8=utf8)


site = running_site(Site)


def wire(data):
    return data.replace(b"\n", b"\r\n")


def unwrap(lines):
    """The message a wrapper carries, and the parsed wrapper."""
    raw = b"\r\n".join(lines) + b"\r\n"
    wrapper = email.message_from_bytes(raw, policy=email.policy.compat32)
    boundary = wrapper.get_boundary().encode()
    parts = raw.split(b"--" + boundary)
    assert len(parts) == 4 and parts[3] == b"--\r\n"
    head, _, inner = parts[2].partition(b"\r\n\r\n")
    # RFC 2046 §5.1.1: the line end before a delimiter belongs to the delimiter.
    assert inner.endswith(b"\r\n")
    return wrapper, head, inner[:-2]


def test_capabilities_and_languages(site):
    c = site.client()
    caps = c.capa()
    assert caps["UTF8"] == ["USER"] and "LANG" in caps
    resp, lines, _ = c._longcmd("LANG")
    assert resp == b"+OK Language listing follows:" and lines == [b"en English", b"i-default Default language"]
    assert c._shortcmd("LANG *") == b"+OK en King's English"
    assert c._shortcmd("LANG i-default") == b"+OK i-default King's English"
    with pytest.raises(poplib.error_proto, match="Language not available"):
        c._shortcmd("LANG de")
    c.user("demo")
    c.pass_("demo")
    assert c._shortcmd("LANG en") == b"+OK en King's English"
    c.quit()


def test_unicode_message_is_wrapped_for_a_client_without_utf8(site):
    c = site.login()
    assert c.list()[1] == [b"1 %d" % len(wire(PLAIN)), b"2 %d" % len(wire(UNICODE))]
    resp, lines, _ = c.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == wire(PLAIN)   # 8-bit only in the body: as it is
    resp, lines, _ = c.retr(2)
    wrapper, head, inner = unwrap(lines)
    assert wrapper["From"] == "Mail Delivery Subsystem <postmaster>"
    assert wrapper["Subject"] == "Cannot display Unicode content"
    assert wrapper.get_content_type() == "multipart/mixed"
    assert re.fullmatch(r"=_\d+-\d+", wrapper.get_boundary())
    assert [p.get_content_type() for p in wrapper.walk()][:3] == ["multipart/mixed", "text/plain", "message/global"]
    assert head == b"\r\nContent-Type: message/global"
    assert inner == wire(UNICODE)      # the message, untouched (poplib undid the dot-stuffing)
    # The announced size is what was sent.
    octets = int(resp.split()[1])
    assert octets == len(b"\r\n".join(lines) + b"\r\n")
    # TOP counts the wrapper's lines, as Courier's does.
    resp, top, _ = c.top(2, 0)
    assert resp == b"+OK headers follow."
    assert top[0] == b"From: Mail Delivery Subsystem <postmaster>" and top[-1] == b""
    assert all("Grüße".encode() not in line for line in top)
    # UTF8 after login (Courier accepts it there too): now the message as it is.
    assert c.utf8() == b"+OK UTF8 enabled"
    resp, lines, _ = c.retr(2)
    assert resp == b"+OK %d octets follow." % len(wire(UNICODE))
    assert b"\r\n".join(lines) + b"\r\n" == wire(UNICODE)
    c.quit()
    # The size list says which message is UTF-8, as Courier's does (`uid:uidv:utf8`).
    entries = (site.maildir / "courierpop3dsizelist").read_text().splitlines()[1:]
    assert [e.rsplit(":", 1)[1] for e in entries] == ["0", "1"]


def test_utf8_before_login_gets_the_message_as_it_is(site):
    c = site.login(utf8=True)
    resp, lines, _ = c.retr(2)
    assert b"\r\n".join(lines) + b"\r\n" == wire(UNICODE)
    c.quit()


def test_the_flag_of_a_migrated_courier_size_list_is_honoured(site):
    """A size list written by Courier's pop3d marks messages as UTF-8; we believe it."""
    c = site.login(utf8=True)
    c.quit()
    path = site.maildir / "courierpop3dsizelist"
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:-1] + "1"       # the plain message, marked UTF-8 by "Courier"
    path.write_text("\n".join(lines) + "\n")
    c = site.login()
    _, inner_lines, _ = c.retr(1)
    assert unwrap(inner_lines)[2] == wire(PLAIN)
    c.quit()


def test_message_type_from_configuration(tmp_path):
    require_courier()
    s = Site(tmp_path / "root", settings={("pop3d", "MIME_UNICODE_MESSAGE_TYPE"): "message/rfc822"})
    try:
        c = s.login()
        _, lines, _ = c.retr(2)
        wrapper, head, inner = unwrap(lines)
        assert head == b"\r\nContent-Type: message/rfc822"
        assert inner == wire(UNICODE)
        c.quit()
    finally:
        s.stop()
