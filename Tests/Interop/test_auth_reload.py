"""The account sources of a running `courier start` follow SIGHUP: a new userdb account, a new
authmodulelist (PostgreSQL added) and a broken authdaemonrc (the old modules stay); a bad
userdb line is logged with file and line and skipped instead of stopping the server; and
authdaemonrc `daemons` bounds how many authdaemon requests are worked on at once."""
import signal
import smtplib
import socket
import threading

import pytest

from courier_site import require_courier, set_variable
from test_auth_pgsql import DB_PASSWORD, cluster  # noqa: F401  (the PostgreSQL fixture)
from test_authdaemon import Site, auth_request, parse_account


def smtp_login(site, user, password):
    """SMTP AUTH on the submission port (real smtplib); True when accepted."""
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd-msa"], timeout=30) as client:
        client.ehlo("client.example")
        try:
            client.login(user, password)
            return True
        except smtplib.SMTPAuthenticationError:
            return False


def reload(site):
    site.signal(signal.SIGHUP)
    site.wait_for("configuration reloaded")


def demo_fields(site):
    line = next(l for l in (site.etc / "userdb").read_text().splitlines() if l.startswith("demo@"))
    return line.split("\t", 1)[1]


@pytest.fixture()
def site(tmp_path):
    require_courier()
    s = Site(tmp_path / "site")
    yield s
    s.stop()


def test_sighup_sees_a_new_userdb_account(site):
    site.start("courier: ready")
    userdb = site.etc / "userdb"
    original = userdb.read_text()
    userdb.write_text(original + f"carol@example.test\t{demo_fields(site)}\n")
    assert not smtp_login(site, "carol@example.test", "demo")
    reload(site)
    assert smtp_login(site, "carol@example.test", "demo")
    assert parse_account(site.ask(b"PRE . imap carol@example.test\n"))["ADDRESS"] == "carol@example.test"
    site.wait_for("changed: recompiled")
    # And gone again after the next reload.
    userdb.write_text(original)
    reload(site)
    assert not smtp_login(site, "carol@example.test", "demo")
    assert smtp_login(site, "demo@example.test", "demo")


def test_bad_userdb_line_is_logged_and_skipped(site):
    userdb = site.etc / "userdb"
    text = userdb.read_text()
    bad = len(text.splitlines()) + 1
    userdb.write_text(text + "this line has no tab\n" + f"dave@example.test\t{demo_fields(site)}\n")
    site.start("courier: ready")
    warning = f"{userdb}:{bad}: "
    assert any(warning in line and "line skipped" in line for line in site.log), "".join(site.log)
    assert smtp_login(site, "demo@example.test", "demo")
    # The account after the bad line is there for delivery (SMTP accepts it) and, once the
    # SIGHUP has recompiled userdb.dat, for logins.
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as client:
        client.ehlo("client.example")
        assert client.mail("someone@client.example")[0] == 250
        assert client.rcpt("dave@example.test")[0] == 250
    reload(site)   # says it again (before "configuration reloaded")
    assert len([line for line in site.log if warning in line and "line skipped" in line]) == 2, "".join(site.log)
    assert smtp_login(site, "dave@example.test", "demo")


def write_pgsqlrc(site, host_port, extra=""):
    password = DB_PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
    rc = site.etc / "authpgsqlrc"
    rc.write_text(f"PGSQL_CONNECTION host=127.0.0.1 port={host_port} user=courier password='{password}' dbname=mail\n"
                  "PGSQL_CLEAR_PWFIELD clear\nDEFAULT_DOMAIN example.test\nPGSQL_TIMEOUT 3\n" + extra)
    rc.chmod(0o600)


def test_sighup_adds_postgres_and_keeps_modules_when_the_new_file_is_bad(site, cluster):
    site.start("courier: ready")
    assert not smtp_login(site, "alice", "alicepw")
    assert site.ask(b"PRE . imap alice\n") == b"FAIL\n"
    write_pgsqlrc(site, cluster.port)
    rc = site.etc / "authdaemonrc"
    set_variable(rc, "authmodulelist", '"authuserdb authpgsql"')
    reload(site)
    assert smtp_login(site, "alice", "alicepw")
    assert parse_account(site.ask(b"PRE . imap alice\n"))["ADDRESS"] == "alice@example.test"
    site.wait_for("auth modules reloaded: authuserdb authpgsql")
    # A module we do not have: the reload of the auth part fails, the running modules stay.
    set_variable(rc, "authmodulelist", '"authuserdb authpgsql authldap"')
    reload(site)
    assert smtp_login(site, "alice", "alicepw")
    site.wait_for("auth reload failed, keeping the previous modules")
    # Back to userdb only: PostgreSQL accounts are gone, userdb ones stay.
    set_variable(rc, "authmodulelist", '"authuserdb"')
    reload(site)
    assert not smtp_login(site, "alice", "alicepw")
    assert smtp_login(site, "demo@example.test", "demo")


class SilentServer:
    """Accepts TCP connections and never answers: a database that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            self.accepted.set()

    def close(self):
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.mark.parametrize("daemons", [1, 2])
def test_daemons_bounds_concurrent_authdaemon_requests(site, daemons):
    """One request hangs on a silent database (until PGSQL_TIMEOUT, 10 s). A second request,
    answerable from userdb at once, waits for it with `daemons=1` and not with `daemons=2`."""
    hanging = SilentServer()
    try:
        write_pgsqlrc(site, hanging.port, "PGSQL_TIMEOUT 10\n")
        rc = site.etc / "authdaemonrc"
        set_variable(rc, "authmodulelist", '"authuserdb authpgsql"')
        set_variable(rc, "daemons", daemons)
        site.start("courier: ready")
        assert any(f"daemons={daemons}" in line for line in site.log), "".join(site.log)
        slow_reply, fast_reply = [], []
        slow_done, fast_done = threading.Event(), threading.Event()

        def ask(request, into, done):
            into.append(site.ask(request, timeout=60))
            done.set()

        slow = threading.Thread(target=ask, args=(auth_request("imap", "login", b"nobody\nsecret\n"), slow_reply, slow_done))
        slow.start()
        # The slow request holds a worker once the module chain has reached the database.
        assert hanging.accepted.wait(30)
        fast = threading.Thread(target=ask, args=(b"PRE . imap demo@example.test\n", fast_reply, fast_done))
        fast.start()
        if daemons == 1:
            # The only worker is busy until the database times out: no answer meanwhile.
            assert not fast_done.wait(2)
            assert fast_done.wait(60)
            assert slow_done.is_set() or slow_done.wait(5)
        else:
            assert fast_done.wait(60)
            assert not slow_done.is_set()     # answered while the slow one still waits
            assert slow_done.wait(60)
        assert parse_account(fast_reply[0])["ADDRESS"] == "demo@example.test"
        assert slow_reply == [b""]            # the database timed out: closed without an answer
    finally:
        hanging.close()
