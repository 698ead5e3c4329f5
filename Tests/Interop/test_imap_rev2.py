"""IMAP4rev2 (RFC 9051) and the capabilities around it on a real `courier start`: ENABLE
IMAP4rev2 and what changes with it (no \\Recent, ESEARCH, the LIST response of SELECT),
LIST \\NonExistent / CHILDINFO, STATUS DELETED and SIZE, CREATE-SPECIAL-USE, APPENDLIMIT,
BINARY (literal8 APPEND and BINARY fetches), LITERAL-, UTF8=ACCEPT with UTF-8 mailbox names,
RENAME INBOX, IMAP_IDLE_TIMEOUT; driven by imaplib, imapclient and raw sockets.
"""
import imaplib
import re
import time

import pytest

from courier_site import require_courier
from test_imap_server import Raw, Site, message, site  # noqa: F401 (site: the shared pytest fixture)


def login(site):
    raw = Raw(site.ports["imapd"])
    raw.send(b"l1 LOGIN demo demo\r\n")
    assert raw.until(b"l1")[-1].startswith(b"l1 OK ")
    return raw


def command(raw, tag, text):
    raw.send(tag + b" " + text + b"\r\n")
    lines = raw.until(tag)
    return lines[:-1], lines[-1]


def test_capabilities_advertise_rev2_and_the_new_extensions(site):
    client = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=20)
    caps = client.capabilities
    for word in ["IMAP4REV1", "IMAP4REV2", "LITERAL+", "BINARY", "CREATE-SPECIAL-USE", "SEARCHRES", "ENABLE",
                 "UTF8=ACCEPT", "ESEARCH", "SPECIAL-USE", "LIST-EXTENDED", "STATUS=SIZE"]:
        assert word in caps, caps
    limits = [c for c in caps if c.startswith("APPENDLIMIT=")]
    assert limits == ["APPENDLIMIT=%d" % (64 << 20)], caps
    client.logout()


def test_enable_imap4rev2_changes_select_search_and_flags(site):
    client = site.imap()
    for n in range(3):
        client.append("INBOX", "(\\Seen)" if n == 0 else None, None, message(f"m{n}"))
    client.logout()
    # Mail still in new/: a rev1 session would see it \Recent.
    (site.maildir / "new" / "1700000000.X1.host").write_bytes(message("fresh"))
    raw = login(site)
    untagged, done = command(raw, b"e1", b"ENABLE IMAP4rev2")
    assert untagged == [b"* ENABLED IMAP4rev2\r\n"] and done.startswith(b"e1 OK")
    untagged, done = command(raw, b"e2", b"SELECT INBOX")
    assert done.startswith(b"e2 OK [READ-WRITE]")
    text = b"".join(untagged)
    assert b"* 4 EXISTS\r\n" in untagged
    assert b"RECENT" not in text and b"\\Recent" not in text and b"[UNSEEN " not in text, text
    assert any(re.fullmatch(rb'\* LIST \(\\Has(No)?Children\) "\." "INBOX"\r\n', line) for line in untagged), untagged
    untagged, _ = command(raw, b"e3", b"FETCH 1:* FLAGS")
    assert b"\\Recent" not in b"".join(untagged)
    # RFC 9051 §6.4.4: SEARCH answers ESEARCH, with ALL when nothing else was asked.
    untagged, done = command(raw, b"e4", b"SEARCH UNSEEN")
    assert untagged == [b'* ESEARCH (TAG "e4") ALL 2:4\r\n'], untagged
    untagged, _ = command(raw, b"e5", b"UID SEARCH SUBJECT nothing-matches")
    assert untagged == [b'* ESEARCH (TAG "e5") UID\r\n'], untagged
    untagged, _ = command(raw, b"e6", b"SEARCH RETURN (COUNT MIN) ALL")
    assert untagged == [b'* ESEARCH (TAG "e6") MIN 1 COUNT 4\r\n'], untagged
    # A message delivered now shows as EXISTS only.
    (site.maildir / "new" / "1700000001.X2.host").write_bytes(message("later"))
    untagged, _ = command(raw, b"e7", b"NOOP")
    assert b"* 5 EXISTS\r\n" in untagged and not any(b"RECENT" in line for line in untagged), untagged
    # UID EXPUNGE works in every session (UIDPLUS is part of rev2).
    command(raw, b"e8", b"STORE 1 +FLAGS.SILENT (\\Deleted)")
    untagged, done = command(raw, b"e9", b"UID EXPUNGE 1:*")
    assert untagged == [b"* 1 EXPUNGE\r\n"] and done.startswith(b"e9 OK")
    # A rev1 session on the same folder still sees RECENT and SEARCH.
    other = login(site)
    untagged, _ = command(other, b"r1", b"EXAMINE INBOX")
    assert any(re.match(rb"\* \d+ RECENT", line) for line in untagged)
    untagged, _ = command(other, b"r2", b"SEARCH ALL")
    assert untagged == [b"* SEARCH 1 2 3 4\r\n"], untagged


def test_imapclient_with_rev2_enabled(site):
    imapclient = pytest.importorskip("imapclient")
    with imapclient.IMAPClient("127.0.0.1", port=site.ports["imapd"], ssl=False, timeout=20) as client:
        client.login("demo", "demo")
        assert client.enable("IMAP4rev2") == [b"IMAP4rev2"]
        client.append("INBOX", message("one"), flags=[b"\\Flagged"])
        client.append("INBOX", message("two"))
        info = client.select_folder("INBOX")
        assert info[b"EXISTS"] == 2 and b"RECENT" not in info
        # (imapclient's search() reads SEARCH responses only, so an IMAP4rev2 session is not
        # asked here; the raw test above checks ESEARCH.)
        fetched = client.fetch([1, 2], ["FLAGS", "RFC822.SIZE"])
        assert fetched[1][b"FLAGS"] == (b"\\Flagged",) and fetched[2][b"FLAGS"] == ()


def test_status_deleted_and_size(site):
    client = site.imap()
    bodies = [message("a"), message("bb", body="x" * 1000 + "\r\n")]
    for body in bodies:
        client.append("INBOX", None, None, body)
    client.select("INBOX")
    client.store("2", "+FLAGS", "(\\Deleted)")
    typ, data = client.status("INBOX", "(MESSAGES DELETED SIZE)")
    assert typ == "OK"
    assert data[0] == b'"INBOX" (MESSAGES 2 DELETED 1 SIZE %d)' % sum(len(b) for b in bodies), data
    client.logout()


def test_list_nonexistent_subscribed_and_childinfo(site):
    client = site.imap()
    client.create("INBOX.Parent")
    client.create("INBOX.Parent.Child")
    client.subscribe("INBOX.Parent.Child")
    client.subscribe("INBOX.Gone")
    typ, data = client.list('""', "*")
    assert not any(b"Gone" in line for line in data)
    typ, data = client._simple_command("LIST", "(SUBSCRIBED)", '""', "*")
    lines = client._untagged_response(typ, data, "LIST")[1]
    assert b'(\\NonExistent \\Subscribed) "." "INBOX.Gone"' in lines, lines
    assert b'(\\HasNoChildren \\Subscribed) "." "INBOX.Parent.Child"' in lines, lines
    typ, data = client._simple_command("LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', "INBOX.%")
    lines = client._untagged_response(typ, data, "LIST")[1]
    assert b'(\\HasChildren) "." "INBOX.Parent" ("CHILDINFO" ("SUBSCRIBED"))' in lines, lines
    typ, data = client.lsub('""', "*")
    assert b'(\\Noselect) "." "INBOX.Gone"' in data, data
    client.logout()


def test_create_special_use(site):
    client = site.imap()
    typ, data = client._simple_command("CREATE", "INBOX.Outgoing", "(USE (\\Sent))")
    assert typ == "OK", data
    typ, data = client._simple_command("CREATE", "INBOX.Everything", "(USE (\\All))")
    assert typ == "NO" and b"[USEATTR]" in data[-1], data
    typ, data = client._simple_command("LIST", "(SPECIAL-USE)", '""', "*")
    lines = client._untagged_response(typ, data, "LIST")[1]
    assert b'(\\HasNoChildren \\Sent) "." "INBOX.Outgoing"' in lines, lines
    assert not any(b"Everything" in line for line in lines)
    # The attribute follows the folder through RENAME.
    assert client.rename("INBOX.Outgoing", '"INBOX.Sent Items"')[0] == "OK"
    typ, data = client._simple_command("LIST", '""', "*", "RETURN", "(SPECIAL-USE)")
    lines = client._untagged_response(typ, data, "LIST")[1]
    assert b'(\\HasNoChildren \\Sent) "." "INBOX.Sent Items"' in lines, lines
    client.logout()


def test_appendlimit_refuses_larger_messages(site):
    raw = login(site)
    raw.send(b"a1 APPEND INBOX {%d}\r\n" % ((64 << 20) + 1))
    assert raw.until(b"a1")[-1].startswith(b"a1 NO [TOOBIG]")
    untagged, done = command(raw, b"a2", b"STATUS INBOX (APPENDLIMIT MESSAGES)")
    assert untagged == [b'* STATUS "INBOX" (APPENDLIMIT %d MESSAGES 0)\r\n' % (64 << 20)], untagged


def test_binary_append_and_fetch(site):
    raw = login(site)
    # Every byte value but a bare LF (which the Maildir's LF line ends could not give back).
    payload = bytes(b for b in range(256) if b != 10) * 4
    body = (b"Subject: bin\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: binary\r\n\r\n" + payload)
    raw.send(b"b1 APPEND INBOX ~{%d}\r\n" % len(body))
    assert raw.file.readline().startswith(b"+ ")
    raw.send(body + b"\r\n")
    assert raw.until(b"b1")[-1].startswith(b"b1 OK [APPENDUID ")
    bad = b"Subject: lf\r\n\r\nbare\nLF\x00\r\n"
    raw.send(b"b0 APPEND INBOX ~{%d+}\r\n%s\r\n" % (len(bad), bad))
    assert raw.until(b"b0")[-1].startswith(b"b0 NO [UNKNOWN-CTE]")
    command(raw, b"b2", b"SELECT INBOX")
    raw.send(b"b3 FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\n")
    head = raw.file.readline()
    assert head.startswith(b"* 1 FETCH (BINARY.SIZE[1] %d BINARY[1] ~{%d}\r\n" % (len(payload), len(payload))), head
    assert raw.file.read(len(payload)) == payload
    assert raw.until(b"b3")[-1].startswith(b"b3 OK")
    untagged, _ = command(raw, b"b4", b"FETCH 1 FLAGS")
    assert b"\\Seen" not in untagged[0]  # BINARY.PEEK leaves \Seen alone
    # A quoted-printable part comes back decoded.
    qp = (b"Subject: qp\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
          b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =3D ok\r\n")
    raw.send(b"b5 APPEND INBOX {%d+}\r\n%s\r\n" % (len(qp), qp))
    raw.until(b"b5")
    untagged, _ = command(raw, b"b6", b"FETCH 2 BINARY[1]")
    assert untagged[0] == b"* 2 FETCH (BINARY[1] {12}\r\n", untagged
    assert untagged[1] == "café = ok\r\n".encode(), untagged
    assert untagged[2] == b" FLAGS (\\Seen))\r\n", untagged  # BINARY (not .PEEK) sets \Seen


def test_literal_minus_only_site(tmp_path):
    require_courier()
    site = Site(tmp_path / "site", {("imapd", "IMAP_CAPABILITY"): '"IMAP4rev1 LITERAL- IDLE"'})
    try:
        client = imaplib.IMAP4("127.0.0.1", site.ports["imapd"], timeout=20)
        assert "LITERAL-" in client.capabilities and "LITERAL+" not in client.capabilities, client.capabilities
        client.logout()
        raw = Raw(site.ports["imapd"])
        raw.send(b"a1 LOGIN {4+}\r\ndemo {4+}\r\ndemo\r\n")
        assert raw.until(b"a1")[-1].startswith(b"a1 OK")
        raw.send(b"a2 APPEND INBOX {5000+}\r\n")
        assert raw.file.readline().startswith(b"* BYE ")
    finally:
        site.stop()


def test_utf8_accept_mailbox_names_and_strings(site):
    client = site.imap()
    assert client.create("INBOX.Caf&AOk-")[0] == "OK"  # modified UTF-7 before ENABLE
    typ, data = client._simple_command("ENABLE", "UTF8=ACCEPT")
    assert client._untagged_response(typ, data, "ENABLED")[1] == [b"UTF8=ACCEPT"]
    client._encoding = "utf-8"
    typ, data = client.list('""', "*")
    assert '() "." "INBOX.Café"'.encode() in b" ".join(data) or any("INBOX.Café".encode() in line for line in data), data
    assert client.create('"INBOX.Größe"')[0] == "OK"
    assert client.select('"INBOX.Größe"')[0] == "OK"
    subject = "Grüße aus Köln"
    client.append('"INBOX.Größe"', None, None,
                  f"From: a@example.test\r\nSubject: {subject}\r\n\r\nhallo\r\n".encode())
    client.select('"INBOX.Größe"')
    typ, data = client.fetch("1", "(ENVELOPE)")
    assert subject.encode() in data[0], data
    typ, data = client.search(None, "SUBJECT", '"Köln"')
    assert data == [b"1"], data
    client.logout()
    # On disk both are the UTF-8 Maildir++ names Courier-IMAP 5 uses, however the client spelt them.
    assert (site.maildir / ".Größe").is_dir(), sorted(p.name for p in site.maildir.iterdir())
    assert (site.maildir / ".Café").is_dir()


def test_utf8_append_data_item(site):
    """RFC 6855 §4: APPEND … UTF8 (~{n} message) once UTF8=ACCEPT is enabled, small and streamed."""
    raw = login(site)
    command(raw, b"u0", b"ENABLE UTF8=ACCEPT")
    small = "From: a@example.test\r\nSubject: Grüße\r\n\r\nhallo\r\n".encode()
    large = "From: a@example.test\r\nSubject: Größer\r\n\r\n".encode() + b"x" * 100000 + b"\r\n"
    raw.send(b"u1 APPEND INBOX UTF8 (~{%d+}\r\n%s) UTF8 (~{%d}\r\n" % (len(small), small, len(large)))
    assert raw.file.readline().startswith(b"+ ")
    raw.send(large + b")\r\n")
    assert re.match(rb"u1 OK \[APPENDUID \d+ 1:2\]", raw.until(b"u1")[-1])
    command(raw, b"u2", b"SELECT INBOX")
    untagged, _ = command(raw, b"u3", b"FETCH 1:2 (RFC822.SIZE ENVELOPE)")
    text = b"".join(untagged)
    assert "Grüße".encode() in text and "Größer".encode() in text, text
    assert b"RFC822.SIZE %d " % len(small) in text and b"RFC822.SIZE %d " % len(large) in text, text


def test_rename_inbox_moves_its_messages(site):
    client = site.imap()
    for n in range(2):
        client.append("INBOX", "(\\Flagged)" if n else None, None, message(f"old{n}"))
    assert client.rename("INBOX", '"INBOX.Old Mail"')[0] == "OK"
    typ, data = client.select("INBOX")
    assert data == [b"0"]
    typ, data = client.select('"INBOX.Old Mail"')
    assert data == [b"2"]
    typ, data = client.fetch("1:2", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"old0" in data[0][1] and b"old1" in data[2][1]
    assert b"\\Flagged" in data[2][0]
    assert client.rename("INBOX", '"INBOX.Old Mail"')[0] == "NO"  # already exists
    client.logout()


def test_idle_timeout_polls_at_the_configured_interval(tmp_path):
    """With IMAP_IDLE_TIMEOUT set (the rescan interval when no change event comes), IDLE still
    reports a delivery (the change event triggers the rescan at once)."""
    require_courier()
    site = Site(tmp_path / "site", {("imapd", "IMAP_IDLE_TIMEOUT"): "2"})
    try:
        raw = login(site)
        command(raw, b"i1", b"SELECT INBOX")
        raw.send(b"i2 IDLE\r\n")
        assert raw.file.readline().startswith(b"+ ")
        (site.maildir / "new" / "1700000002.X3.host").write_bytes(message("idle"))
        assert raw.file.readline() == b"* 1 EXISTS\r\n"
        raw.send(b"DONE\r\n")
        assert raw.until(b"i2")[-1].startswith(b"i2 OK")
    finally:
        site.stop()


def test_unauthenticated_session_is_closed_even_while_it_talks(site):
    """The unauthenticated phase has one deadline (60 s from the greeting): a client that keeps
    sending NOOPs without logging in is still disconnected (RFC 9051 §5.4 lets a server log out
    inactive clients; unauthenticated ones sooner than the 30 minutes of logged-in ones).
    This test waits about a minute."""
    raw = Raw(site.ports["imapd"])
    raw.sock.settimeout(120)
    lines = []
    for n in range(20):
        try:
            raw.send(b"n%d NOOP\r\n" % n)
        except OSError:
            break
        line = raw.file.readline()
        lines.append(line)
        if not line or line.startswith(b"* BYE"):
            break
        assert line.startswith(b"n%d OK" % n), lines
        time.sleep(5)
    assert any(line.startswith(b"* BYE Disconnected for inactivity.") for line in lines), lines
    assert len(lines) > 3, lines  # it answered NOOPs before the deadline
