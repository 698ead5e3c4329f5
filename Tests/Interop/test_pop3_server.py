"""The POP3 server (pop3d, pop3d-ssl) of a real `courier start` on a demo site, driven by
Python's poplib, raw sockets, fetchmail and getmail6: Courier's dialogue, UIDL stable across
sessions, byte-exact RETR with dot-stuffing, TOP, DELE only at QUIT, dropped connections,
two sessions on one mailbox, STLS, POP3S, SASL, garbage input and login throttling.
"""
import base64
import os
import pathlib
import poplib
import queue
import random
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import threading
import time

import pytest

from test_auth_pgsql import cluster  # noqa: F401  (the PostgreSQL fixture)

from courier_site import COURIER, CourierSite, free_port, require_courier, set_variable  # noqa: F401


class Site(CourierSite):
    """A demo site with pop3d, pop3d-ssl and esmtpd on free ports, running `courier start`."""

    def __init__(self, root, extra_users="", prepare=None):
        super().__init__(root, services=("pop3d", "pop3d-ssl", "esmtpd"))
        self.pop3, self.pop3s, self.smtp = self.ports["pop3d"], self.ports["pop3d-ssl"], self.ports["esmtpd"]
        if extra_users:
            userdb = self.etc / "userdb"
            demo = [l for l in userdb.read_text().splitlines() if l.startswith("demo@")][0]
            fields = demo.split("\t", 1)[1]
            for name, options in extra_users:
                userdb.write_text(userdb.read_text() + f"{name}\t{fields}|options={options}\n")
        if prepare:
            prepare(self.root)
        # The userdb module reads the compiled userdb, as Courier's does: recompile after editing.
        self.makeuserdb()
        self.start()

    def deliver(self, name, data: bytes, sub="new"):
        path = self.maildir / sub / name
        tmp = self.maildir / "tmp" / name
        tmp.write_bytes(data)
        tmp.rename(path)
        return path

    def files(self):
        return sorted(p.name for sub in ("new", "cur") for p in (self.maildir / sub).iterdir())

    def login(self, user="demo", password="demo"):
        client = poplib.POP3("127.0.0.1", self.pop3, timeout=30)
        client.user(user)
        client.pass_(password)
        return client


@pytest.fixture()
def site(tmp_path):
    require_courier()
    s = Site(tmp_path / "root", extra_users=[("nopop@example.test", "disablepop3=1")],
             prepare=lambda root: set_variable(root / "etc" / "pop3d", "POP3_LOG_DELETIONS", "1"))
    yield s
    s.stop()


class Raw:
    """A line-level POP3 client over a plain socket, to see the exact bytes."""

    def __init__(self, port, tls=False):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        if tls:
            sock = ssl._create_unverified_context().wrap_socket(sock)
        self.sock = sock
        self.buffer = b""
        self.greeting = self.line()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buffer)
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def command(self, text: str) -> bytes:
        self.send(text.encode() + b"\r\n")
        return self.line()

    def multiline(self) -> list:
        lines = []
        while True:
            line = self.line()
            if line == b".":
                return lines
            lines.append(line)

    def close(self):
        self.sock.close()


MESSAGE = (b"From: sender@example.test\nTo: demo@example.test\nSubject: dots\n\n"
           b".starts with a dot\n..two dots\n.\nmiddle line\r\nwith CRLF\nno final newline")


def test_courier_dialogue_before_login(site):
    raw = Raw(site.pop3)
    assert raw.greeting == b"+OK Hello there."
    assert raw.command("CAPA") == b"+OK Here's what I can do:"
    assert raw.multiline() == [b"SASL PLAIN LOGIN", b"STLS", b"TOP", b"USER", b"LOGIN-DELAY 10", b"PIPELINING",
                               b"UIDL", b"UTF8 USER", b"LANG", b"IMPLEMENTATION Courier Mail Server"]
    assert raw.command("APOP demo 0123456789abcdef0123456789abcdef") == b"-ERR Invalid command."
    assert raw.command("STAT") == b"-ERR Invalid command."
    assert raw.command("AUTH") == b"-ERR Invalid command."
    assert raw.command("PASS demo") == b"-ERR USER/PASS required."
    assert raw.command("UTF8") == b"+OK UTF8 enabled"
    assert raw.command("QUIT") == b"+OK Better luck next time."
    raw.close()


def test_retr_is_byte_exact_with_dot_stuffing(site):
    site.deliver("1700000000.M1P1.host", MESSAGE)
    raw = Raw(site.pop3)
    raw.command("USER demo")
    assert raw.command("PASS demo") == b"+OK logged in."
    wire = MESSAGE.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n"
    assert raw.command("STAT") == b"+OK 1 %d" % len(wire)
    assert raw.command("RETR 1") == b"+OK %d octets follow." % len(wire)
    body = raw.multiline()
    # On the wire: every line dot-stuffed; unstuffed, the stored message exactly.
    assert b"..starts with a dot" in body and b"...two dots" in body and b".." in body
    unstuffed = b"".join((l[1:] if l.startswith(b".") else l) + b"\r\n" for l in body)
    assert unstuffed == wire
    raw.command("QUIT")
    # poplib agrees, and the message is now marked seen (Courier renames to :2,S).
    client = site.login()
    response, lines, octets = client.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == wire
    client.quit()
    assert site.files() == ["1700000000.M1P1.host:2,S"]


def test_top_stat_list_uidl(site):
    site.deliver("1700000000.M1P1.host", b"Subject: a\n\nl1\nl2\nl3\n")
    site.deliver("1700000001.M1P1.host", b"Subject: b\nX: y\n\nbody\n")
    client = site.login()
    assert client.stat() == (2, len(b"Subject: a\n\nl1\nl2\nl3\n") + 5 + len(b"Subject: b\nX: y\n\nbody\n") + 4)
    response, listing, _ = client.list()
    assert response == b"+OK POP3 clients that break here, they violate STD53."
    assert listing == [b"1 26", b"2 26"]
    response, lines, _ = client.top(1, 2)
    assert response == b"+OK headers follow."
    assert lines == [b"Subject: a", b"", b"l1", b"l2"]
    assert client.top(2, 0)[1] == [b"Subject: b", b"X: y", b""]
    uidl = client.uidl()[1]
    assert [u.split()[1].startswith(b"UID") for u in uidl] == [True, True]
    client.quit()
    # TOP does not mark seen.
    assert site.files() == ["1700000000.M1P1.host:2,", "1700000001.M1P1.host:2,"]


def test_uidl_stable_across_sessions_and_deletions(site):
    for i in range(3):
        site.deliver(f"17000000{i:02d}.M1P1.host", f"Subject: {i}\n\nbody {i}\n".encode())
    client = site.login()
    first = client.uidl()[1]
    client.quit()
    text = (site.maildir / "courierpop3dsizelist").read_text().splitlines()
    uidv = text[0].split()[2]
    assert text[0] == f"/3 4 {uidv}"
    assert [l.split()[-1] for l in text[1:]] == [f"{n}:{uidv}:0" for n in (1, 2, 3)]
    assert [l.split()[1] for l in first] == [f"UID{n}-{uidv}".encode() for n in (1, 2, 3)]
    client = site.login()
    assert client.uidl()[1] == first
    client.dele(1)
    client.quit()
    site.deliver("1700000099.M1P1.host", b"Subject: new\n\nnew\n")
    client = site.login()
    assert [l.split()[1] for l in client.uidl()[1]] == [f"UID{n}-{uidv}".encode() for n in (2, 3, 4)]
    client.quit()


def test_migrated_courier_sizelist_keeps_uidls(site):
    """A courierpop3dsizelist written by Courier's pop3d keeps its UIDLs and sizes."""
    name = "1795709277.M843640P26006V000000000000FE00I0000000000F86323.vm,S=20:2,S"
    site.deliver(name, b"Subject: hell\n\nbody\n", sub="cur")
    old = "1795709442.M230684P31311V000000000000FE00I0000000000F8630B.vm,S=20:2,"
    site.deliver(old, b"Subject: hell\n\nbody\n", sub="cur")
    (site.maildir / "courierpop3dsizelist").write_text(
        f"/3 4 1795709431\n{name} 23 1:1795709431:0\n{old} 23 2:1795709431:0\n")
    client = site.login()
    assert client.uidl()[1] == [b"1 UID1-1795709431", b"2 UID2-1795709431"]
    assert client.list()[1] == [b"1 23", b"2 23"]
    client.quit()


def test_dele_takes_effect_at_quit_only(site):
    site.deliver("1700000000.M1P1.host", b"Subject: a\n\na\n")
    site.deliver("1700000001.M1P1.host", b"Subject: b\n\nb\n")
    client = site.login()
    assert client.dele(1) == b"+OK Deleted."
    assert client.stat()[0] == 1
    with pytest.raises(poplib.error_proto, match="Invalid message number"):
        client.retr(1)
    assert len(site.files()) == 2, "deleted before QUIT"
    assert client.rset() == b"+OK Resurrected."
    assert client.stat()[0] == 2
    client.dele(2)
    assert client.quit() == b"+OK Bye-bye."
    deadline = time.time() + 10
    while len(site.files()) != 1 and time.time() < deadline:
        time.sleep(0.05)
    assert site.files() == ["1700000000.M1P1.host:2,"]
    site.wait_for("DELETED, user=demo@example.test, ip=[127.0.0.1]")
    site.wait_for("LOGOUT, user=demo@example.test")


def test_dropped_connection_deletes_nothing(site):
    site.deliver("1700000000.M1P1.host", b"Subject: a\n\na\n")
    raw = Raw(site.pop3)
    raw.command("USER demo")
    raw.command("PASS demo")
    assert raw.command("DELE 1") == b"+OK Deleted."
    raw.sock.shutdown(socket.SHUT_RDWR)
    raw.close()
    site.wait_for("DISCONNECTED, user=demo@example.test")
    assert site.files() == ["1700000000.M1P1.host:2,"]


def test_two_sessions_on_one_mailbox(site):
    site.deliver("1700000000.M1P1.host", b"Subject: a\n\na\n")
    site.deliver("1700000001.M1P1.host", b"Subject: b\n\nb\n")
    one = site.login()
    two = site.login()
    assert one.uidl()[1] == two.uidl()[1]
    one.dele(1)
    one.quit()
    deadline = time.time() + 10
    while len(site.files()) != 1 and time.time() < deadline:
        time.sleep(0.05)
    with pytest.raises(poplib.error_proto, match="it's gone"):
        two.retr(1)
    assert two.retr(2)[1][0] == b"Subject: b"
    two.quit()


def test_garbage_and_overlong_lines_keep_the_session(site):
    site.deliver("1700000000.M1P1.host", b"Subject: a\n\na\n")
    raw = Raw(site.pop3)
    for junk in [b"\x00\x01\x02", b"HELO there", b"", b"RETR", b"\xff\xfe" * 10, b"USER"]:
        assert raw.command(junk.decode("latin-1")).startswith(b"-ERR"), junk
    raw.send(b"X" * 100000 + b"\r\n")
    assert raw.line() == b"-ERR Invalid command."
    raw.command("USER demo")
    assert raw.command("PASS demo") == b"+OK logged in."
    for junk in ["RETR x", "TOP 1", "LIST 0", "DELE 99", "RETR 1 2", "LIST 99999999999999999999"]:
        assert raw.command(junk).startswith(b"-ERR"), junk
    assert raw.command("STAT") == b"+OK 1 17"
    raw.send(b"NOOP\r\nSTAT\r\nNOOP\r\n")   # RFC 2449 PIPELINING
    assert [raw.line(), raw.line(), raw.line()] == [b"+OK Yup.", b"+OK 1 17", b"+OK Yup."]
    raw.command("QUIT")


def test_failed_logins_are_throttled_and_refused(site):
    raw = Raw(site.pop3)
    for _ in range(5):
        raw.command("USER demo")
        assert raw.command("PASS wrong") == b"-ERR Login failed."
    site.wait_for("repeated login failures")
    raw.command("USER nobody")
    assert raw.command("PASS demo") == b"-ERR Login failed."
    raw.command("QUIT")
    raw = Raw(site.pop3)
    raw.command("USER nopop@example.test")
    assert raw.command("PASS demo") == b"-ERR POP3 access disabled for this account."
    with pytest.raises(EOFError):
        raw.line()


def test_sasl_plain_and_login(site):
    raw = Raw(site.pop3)
    assert raw.command("AUTH PLAIN " + base64.b64encode(b"\0demo\0wrong").decode()) == b"-ERR Authentication failed."
    assert raw.command("AUTH LOGIN") == b"+ VXNlcm5hbWU6"
    assert raw.command("*") == b"-ERR Authentication aborted."
    assert raw.command("AUTH LOGIN") == b"+ VXNlcm5hbWU6"
    assert raw.command(base64.b64encode(b"demo").decode()) == b"+ UGFzc3dvcmQ6"
    assert raw.command(base64.b64encode(b"demo").decode()) == b"+OK logged in."
    raw.command("QUIT")
    raw = Raw(site.pop3)
    assert raw.command("AUTH PLAIN " + base64.b64encode(b"\0demo\0demo").decode()) == b"+OK logged in."
    raw.command("QUIT")


def test_stls_and_pop3s(site):
    site.deliver("1700000000.M1P1.host", MESSAGE)
    context = ssl._create_unverified_context()
    client = poplib.POP3("127.0.0.1", site.pop3, timeout=30)
    assert client.stls(context) == b"+OK Begin SSL/TLS negotiation now."
    assert "STLS" not in client.capa()
    client.user("demo")
    client.pass_("demo")
    assert client.stat()[0] == 1
    client.quit()
    client = poplib.POP3_SSL("127.0.0.1", site.pop3s, context=context, timeout=30)
    assert client.getwelcome() == b"+OK Hello there."
    assert "STLS" not in client.capa()
    client.user("demo")
    client.pass_("demo")
    assert b"\r\n".join(client.retr(1)[1]) + b"\r\n" == MESSAGE.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n"
    client.quit()
    site.wait_for("stls=1")


def test_large_message_streams(site):
    body = b"".join(b"line %06d .with some text to make it longer than a short line\n" % i for i in range(60000))
    data = b"Subject: big\n\n" + body
    site.deliver("1700000000.M1P1.host", data)
    client = site.login()
    response, lines, octets = client.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == data.replace(b"\n", b"\r\n")
    client.quit()


def test_smtp_then_fetchmail(site, tmp_path):
    if not shutil.which("fetchmail"):
        pytest.fail("fetchmail is not installed (Scripts/test installs it)")
    with smtplib.SMTP("127.0.0.1", site.smtp, timeout=30) as smtp:
        smtp.sendmail("someone@example.org", ["demo@example.test"],
                      b"From: someone@example.org\r\nTo: demo@example.test\r\nSubject: via smtp\r\n\r\n.dot\r\nhello\r\n")
    deadline = time.time() + 20
    while not site.files() and time.time() < deadline:
        time.sleep(0.1)
    site.deliver("1700000000.M1P1.host", MESSAGE)
    out = tmp_path / "fetched"
    out.mkdir()
    rc = tmp_path / "fetchmailrc"
    rc.write_text(f'poll 127.0.0.1 service {site.pop3} protocol pop3 uidl no dns\n'
                  f'  user "demo" password "demo" is "{os.environ.get("USER", "root")}" here\n'
                  f'  mda "/bin/sh -c \'cat > {out}/msg.$$$$\'"\n'
                  f'  sslproto "" no sslcertck\n')
    rc.chmod(0o600)
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(["fetchmail", "-f", str(rc), "--nodetach", "-v", "--nosyslog"], capture_output=True,
                            text=True, timeout=120, env=dict(os.environ, HOME=str(home), FETCHMAILHOME=str(home)))
    assert result.returncode == 0, result.stdout + result.stderr
    fetched = sorted(p.read_bytes() for p in out.iterdir())
    assert len(fetched) == 2, result.stdout
    assert any(b".dot\nhello" in m for m in fetched)
    assert any(b".starts with a dot\n..two dots\n.\nmiddle line" in m.replace(b"\r\n", b"\n") for m in fetched)
    # fetchmail deletes what it fetched (no keep): the Maildir is empty after its QUIT.
    deadline = time.time() + 10
    while site.files() and time.time() < deadline:
        time.sleep(0.05)
    assert site.files() == []


def test_getmail6(site, tmp_path):
    getmail = shutil.which("getmail")
    if not getmail:
        pytest.fail("getmail6 is not installed (Scripts/test installs it with pip)")
    site.deliver("1700000000.M1P1.host", MESSAGE)
    site.deliver("1700000001.M1P1.host", b"Subject: second\n\nsecond\n")
    target = tmp_path / "got"
    for sub in ("cur", "new", "tmp"):
        (target / sub).mkdir(parents=True)
    config = tmp_path / "getmail"
    config.mkdir()
    (config / "getmailrc").write_text(
        "[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\n"
        f"port = {site.pop3}\nusername = demo\npassword = demo\n\n"
        # getmail refuses to deliver as root (the test may run as root): an external MDA may.
        "[destination]\ntype = MDA_external\npath = /bin/sh\nallow_root_commands = true\n"
        f"arguments = (\"-c\", \"cat > {target}/new/msg.$$\")\n\n[options]\nread_all = false\ndelete = false\n")
    run = lambda: subprocess.run([getmail, "--getmaildir", str(config), "--rcfile", "getmailrc"],
                                 capture_output=True, text=True, timeout=120)
    got = lambda: sorted(p.read_bytes() for p in (target / "new").iterdir())
    first = run()
    assert first.returncode == 0, first.stdout + first.stderr
    messages = got()
    assert len(messages) == 2, first.stdout
    assert any(b"Subject: second" in m for m in messages)
    assert any(b".starts with a dot\n..two dots\n.\nmiddle line" in m.replace(b"\r\n", b"\n") for m in messages)
    # getmail remembers UIDLs: a second run finds nothing new, so nothing is fetched twice.
    second = run()
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(got()) == 2, second.stdout


def test_apop_with_a_clear_password_from_postgres(tmp_path, cluster):
    """APOP (ours, POP3_APOP=1; Courier has none) for an account whose module keeps a clear
    password: PostgreSQL's clear column. Python's poplib computes the digest."""
    from test_auth_pgsql import DB_PASSWORD
    home = tmp_path / "dave"
    for sub in ("cur", "new", "tmp"):
        (home / "Maildir" / sub).mkdir(parents=True)
    (home / "Maildir" / "new" / "1700000000.M1P1.host").write_bytes(b"Subject: apop\n\nhi\n")
    cluster.psql("DELETE FROM passwd WHERE id = 'dave@example.test'")
    cluster.psql(f"INSERT INTO passwd (id, clear, name, home) VALUES ('dave@example.test', 'davepw', 'Dave', '{home}')")

    def prepare(root):
        etc = root / "etc"
        set_variable(etc / "authdaemonrc", "authmodulelist", '"authuserdb authpgsql"')
        password = DB_PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
        rc = etc / "authpgsqlrc"
        rc.write_text(f"PGSQL_CONNECTION host=127.0.0.1 port={cluster.port} user=courier password='{password}' dbname=mail\n"
                      "PGSQL_CLEAR_PWFIELD clear\nDEFAULT_DOMAIN example.test\n")
        rc.chmod(0o600)
        set_variable(etc / "pop3d", "POP3_APOP", "1")

    site = Site(tmp_path / "root", prepare=prepare)
    try:
        client = poplib.POP3("127.0.0.1", site.pop3, timeout=30)
        assert re.fullmatch(rb"\+OK Hello there\. <\d+\.[0-9a-f]+@[^>]+>", client.getwelcome())
        with pytest.raises(poplib.error_proto, match="Login failed"):
            client.apop("dave@example.test", "wrongpw")
        assert client.apop("dave@example.test", "davepw") == b"+OK logged in."
        assert client.retr(1)[1] == [b"Subject: apop", b"", b"hi"]
        client.quit()
        # The demo user's password is only a hash: no APOP for it.
        client = poplib.POP3("127.0.0.1", site.pop3, timeout=30)
        with pytest.raises(poplib.error_proto, match="Login failed"):
            client.apop("demo", "demo")
        client.quit()
    finally:
        site.stop()


def test_mutt_fetch_mail(site, tmp_path):
    """mutt (batch: its own commands pushed at start, under `script` for a terminal) fetches
    with <fetch-mail> into an mbox, then deletes on the server when told to."""
    if not shutil.which("mutt") or not shutil.which("script"):
        pytest.fail("mutt (Debian package mutt) and script (util-linux) are needed; Scripts/test installs mutt")
    site.deliver("1700000000.M1P1.host", MESSAGE)
    site.deliver("1700000001.M1P1.host", b"From: a@example.test\nSubject: second\n\nsecond\n")
    inbox = tmp_path / "inbox"
    inbox.write_text("")

    def fetch(delete):
        rc = tmp_path / "muttrc"
        rc.write_text(f'set pop_host="pop://demo@127.0.0.1:{site.pop3}"\nset pop_pass="demo"\n'
                      f'set pop_delete={"yes" if delete else "no"}\nset pop_last=no\nset ssl_starttls=no\n'
                      f'set ssl_force_tls=no\nset mbox_type=mbox\nset spoolfile="{inbox}"\nset folder="{tmp_path}"\n'
                      'set move=no\nset confirmappend=no\npush "<fetch-mail><quit>"\n')
        result = subprocess.run(["script", "-qec", f"mutt -n -F {rc}", "/dev/null"], capture_output=True,
                                timeout=60, env=dict(os.environ, TERM="xterm", HOME=str(tmp_path)))
        assert result.returncode == 0, result.stdout[-2000:]

    fetch(delete=False)
    text = inbox.read_bytes()
    assert text.count(b"\nFrom ") + text.startswith(b"From ") == 2
    assert b"Subject: second" in text and b"\n.starts with a dot\n..two dots\n.\nmiddle line" in text.replace(b"\r\n", b"\n")
    assert len(site.files()) == 2
    fetch(delete=True)
    deadline = time.time() + 10
    while site.files() and time.time() < deadline:
        time.sleep(0.05)
    assert site.files() == []


def test_sasl_cram_md5_with_stored_hmac(tmp_path):
    """AUTH CRAM-MD5 against the userdb `hmac-md5pw` field written by `courier userdbpw -hmac-md5`;
    the client side is Python's hmac."""
    import hmac

    def prepare(root):
        out = subprocess.run([str(COURIER), "userdbpw", "-hmac-md5"], input="demo\n", capture_output=True, text=True,
                             check=True)
        userdb = root / "etc" / "userdb"
        lines = [l + "|hmac-md5pw=" + out.stdout.strip() if l.startswith("demo") else l
                 for l in userdb.read_text().splitlines()]
        userdb.write_text("\n".join(lines) + "\n")

    site = Site(tmp_path / "root", prepare=prepare)
    try:
        for password, expected in [("wrong", b"-ERR Authentication failed."), ("demo", b"+OK logged in.")]:
            raw = Raw(site.pop3)
            challenge_line = raw.command("AUTH CRAM-MD5")
            assert challenge_line.startswith(b"+ ")
            challenge = base64.b64decode(challenge_line[2:])
            assert re.fullmatch(rb"<[0-9A-F]{32}@[^>]+>", challenge), challenge
            digest = hmac.new(password.encode(), challenge, "md5").hexdigest()
            assert raw.command(base64.b64encode(f"demo {digest}".encode()).decode()) == expected
            raw.command("QUIT")
            raw.close()
    finally:
        site.stop()
