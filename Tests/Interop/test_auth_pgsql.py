"""authpgsql against a real PostgreSQL: a private cluster on a free port, run by an
unprivileged user, with Courier's documented `passwd` table (README.authpostgres).

Nothing here is skipped: if PostgreSQL is missing or does not start, the tests fail.
"""
import glob
import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile
import time
import warnings

import pytest

from auth_support import courier_tool, make_root, write_userdb
from courier_site import free_port

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # noqa: E402

DB_PASSWORD = "db-secret'pw"

SCHEMA = """
CREATE TABLE passwd (
    id              varchar(128) DEFAULT '' NOT NULL PRIMARY KEY,
    crypt           varchar(128) DEFAULT '' NOT NULL,
    clear           varchar(128) DEFAULT '' NOT NULL,
    name            varchar(128) DEFAULT '' NOT NULL,
    uid             int4 DEFAULT 65534 NOT NULL,
    gid             int4 DEFAULT 65534 NOT NULL,
    home            varchar(255) DEFAULT '' NOT NULL,
    maildir         varchar(255) DEFAULT '' NOT NULL,
    defaultdelivery varchar(255) DEFAULT '' NOT NULL,
    quota           varchar(255) DEFAULT '' NOT NULL,
    options         varchar(255) DEFAULT '' NOT NULL
);
"""


def pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL is not installed (Debian package postgresql; Scripts/test installs it)")
    return os.path.dirname(found[-1])


class Cluster:
    def __init__(self, base):
        self.bin = pg_bin()
        self.base = base
        self.data = os.path.join(base, "data")
        self.sockets = os.path.join(base, "sock")
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            # initdb refuses root: run the cluster as Debian's postgres user (or nobody).
            name = "postgres" if _user_exists("postgres") else "nobody"
            self.as_user = ["runuser", "-u", name, "--"]
            self.owner = pwd.getpwnam(name)
        else:
            self.owner = pwd.getpwuid(os.geteuid())

    def run(self, *args, input=None, check=True):
        return subprocess.run(self.as_user + list(args), input=input, capture_output=True, text=True,
                              check=check, timeout=120)

    def start(self):
        os.makedirs(self.sockets)
        for path in (self.base, self.sockets):
            os.chown(path, self.owner.pw_uid, self.owner.pw_gid)
        os.chmod(self.base, 0o755)
        pwfile = os.path.join(self.base, "pw")
        with open(pwfile, "w") as f:
            f.write("superpw\n")
        os.chown(pwfile, self.owner.pw_uid, self.owner.pw_gid)
        self.run(f"{self.bin}/initdb", "-D", self.data, "-U", "pgadmin", "--pwfile", pwfile,
                 "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8")
        result = self.run(f"{self.bin}/pg_ctl", "-D", self.data, "-w", "-t", "60", "-l", os.path.join(self.base, "log"),
                          "-o", f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1", "start", check=False)
        if result.returncode != 0:
            log = open(os.path.join(self.base, "log")).read() if os.path.exists(os.path.join(self.base, "log")) else ""
            pytest.fail(f"PostgreSQL did not start: {result.stdout}{result.stderr}{log}")

    def resume(self):
        """Starts the stopped cluster again (same data, port and sockets)."""
        self.run(f"{self.bin}/pg_ctl", "-D", self.data, "-w", "-t", "60", "-l", os.path.join(self.base, "log"),
                 "-o", f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1", "start")

    def stop(self):
        self.run(f"{self.bin}/pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop", check=False)

    def psql(self, sql, database="mail"):
        return self.run(f"{self.bin}/psql", "-h", self.sockets, "-p", str(self.port), "-U", "pgadmin", "-d", database,
                        "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql)


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def cluster():
    # Not under pytest's tmp dir: that is private to root, and the cluster runs as another user.
    base = tempfile.mkdtemp(prefix="courier-pg-")
    c = Cluster(base)
    c.start()
    try:
        c.psql("CREATE DATABASE mail", database="postgres")
        quoted = DB_PASSWORD.replace("'", "''")
        c.psql(f"CREATE ROLE courier LOGIN PASSWORD '{quoted}'", database="postgres")
        c.psql(SCHEMA)
        c.psql("GRANT SELECT, UPDATE ON passwd TO courier")
        sha = crypt.crypt("alicepw", crypt.METHOD_SHA512)
        c.psql("INSERT INTO passwd (id, crypt, name, home, maildir, quota, options) VALUES "
               f"('alice@example.test', '{sha}', 'Alice A', '/srv/mail/alice', '/srv/mail/alice/Maildir', '1000000S', 'disableimap=1'),"
               "('bob@example.test', '', 'Bob', '/srv/mail/bob', '', '', ''),"
               f"('carol@other.test', '{crypt.crypt('carolpw', crypt.METHOD_MD5)}', 'Carol', '/srv/mail/carol', '', '', ''),"
               f"('x'' OR ''1''=''1', '{sha}', 'Tricky', '/srv/mail/tricky', '', '', '')")
        c.psql("UPDATE passwd SET clear = 'bobpw', uid = 1234, gid = 5678 WHERE id = 'bob@example.test'")
        yield c
    finally:
        c.stop()
        shutil.rmtree(base, ignore_errors=True)


def pg_root(tmp_path, cluster, extra="", modules="authpgsql"):
    root = make_root(tmp_path, modules)
    rc = root / "etc" / "authpgsqlrc"
    password = DB_PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
    rc.write_text(
        f"PGSQL_CONNECTION host=127.0.0.1 port={cluster.port} user=courier password='{password}' dbname=mail\n"
        "PGSQL_CLEAR_PWFIELD clear\n"
        "PGSQL_MAILDIR_FIELD maildir\n"
        "PGSQL_QUOTA_FIELD quota\n"
        "PGSQL_AUXOPTIONS_FIELD options\n"
        "DEFAULT_DOMAIN example.test\n"
        "PGSQL_TIMEOUT 3\n" + extra)
    rc.chmod(0o600)
    return root


def test_logins_through_postgres(bin_dir, tmp_path, cluster):
    root = pg_root(tmp_path, cluster)
    out = courier_tool(bin_dir, root, "authtest", "-s", "imap", "alice", "alicepw")
    assert out.returncode == 0, out.stderr
    assert "     Authenticated: alice@example.test  (uid 65534, gid 65534)\n" in out.stdout
    assert "           Maildir: /srv/mail/alice/Maildir\n" in out.stdout
    assert "             Quota: 1000000S\n" in out.stdout
    assert "           Options: disableimap=1\n" in out.stdout
    # Clear password column, integer uid/gid columns, the full address given.
    out = courier_tool(bin_dir, root, "authtest", "bob@example.test", "bobpw")
    assert out.returncode == 0 and "(uid 1234, gid 5678)" in out.stdout, out.stderr
    assert courier_tool(bin_dir, root, "authtest", "carol@other.test", "carolpw").returncode == 0
    for user, password in [("alice", "wrong"), ("bob", "alicepw"), ("carol", "carolpw"), ("nobody", "x")]:
        out = courier_tool(bin_dir, root, "authtest", user, password)
        assert (out.returncode, out.stderr) == (1, "Authentication FAILED: Operation not permitted\n"), user


@pytest.mark.parametrize("user", [
    "x' OR '1'='1", "alice@example.test' --", "alice@example.test'; DROP TABLE passwd; --",
    "' UNION SELECT 'alice@example.test', crypt, clear, uid, gid, home, maildir, quota, name, options FROM passwd --",
    "alice@example.test\\", "%", "alice@example.%", "\u00e4lice", "a" * 10_000,
])
def test_sql_injection_attempts_fail(bin_dir, tmp_path, cluster, user):
    root = pg_root(tmp_path, cluster)
    out = courier_tool(bin_dir, root, "authtest", user, "alicepw")
    assert out.returncode == 1, out.stdout
    assert cluster.psql("SELECT count(*) FROM passwd").stdout.strip() == "4"


def test_literal_quote_user_is_just_a_name(bin_dir, tmp_path, cluster):
    """The row whose id really is x' OR '1'='1 logs in with its own password only."""
    root = pg_root(tmp_path, cluster, extra="DEFAULT_DOMAIN\n")
    out = courier_tool(bin_dir, root, "authtest", "x' OR '1'='1", "alicepw")
    assert out.returncode == 0 and "Authenticated: x' OR '1'='1  (" in out.stdout, out.stderr


def test_where_and_custom_select_clauses(bin_dir, tmp_path, cluster):
    root = pg_root(tmp_path, cluster, extra="PGSQL_WHERE_CLAUSE name <> 'Bob'\n")
    assert courier_tool(bin_dir, root, "authtest", "bob", "bobpw").returncode == 1
    assert courier_tool(bin_dir, root, "authtest", "alice", "alicepw").returncode == 0
    select = ("PGSQL_SELECT_CLAUSE SELECT id, crypt, clear, uid, gid, home, maildir, quota, name, options "
              "FROM passwd WHERE id = '$(local_part)@$(domain)' AND '$(service)' <> 'pop3'\n")
    root = pg_root(tmp_path / "custom", cluster, extra=select)
    assert courier_tool(bin_dir, root, "authtest", "-s", "imap", "alice", "alicepw").returncode == 0
    assert courier_tool(bin_dir, root, "authtest", "-s", "pop3", "alice", "alicepw").returncode == 1
    assert courier_tool(bin_dir, root, "authtest", "-s", "imap", "carol@other.test", "carolpw").returncode == 0
    assert courier_tool(bin_dir, root, "authtest", "-s", "imap", "x' OR '1'='1", "alicepw").returncode == 1


def test_module_order_userdb_then_pgsql(bin_dir, tmp_path, cluster):
    root = pg_root(tmp_path, cluster, modules="authuserdb authpgsql")
    write_userdb(root, f"alice\tuid=1|gid=1|home=/u/alice|systempw={crypt.crypt('userdbpw', crypt.METHOD_SHA512)}\n")
    assert courier_tool(bin_dir, root, "makeuserdb").returncode == 0
    out = courier_tool(bin_dir, root, "authtest", "alice", "userdbpw")
    assert out.returncode == 0 and "Home Directory: /u/alice" in out.stdout
    # Wrong for userdb, right for PostgreSQL: the next module is asked.
    out = courier_tool(bin_dir, root, "authtest", "alice", "alicepw")
    assert out.returncode == 0 and "Home Directory: /srv/mail/alice\n" in out.stdout


def test_password_change_in_postgres(bin_dir, tmp_path, cluster):
    root = pg_root(tmp_path, cluster)
    cluster.psql(f"INSERT INTO passwd (id, crypt, home) VALUES ('dora@example.test', '{crypt.crypt('old', crypt.METHOD_SHA512)}', '/d')")
    out = courier_tool(bin_dir, root, "authtest", "dora", "old", "new")
    assert out.returncode == 0 and "Password change succeeded." in out.stderr, out.stdout
    stored = cluster.psql("SELECT crypt FROM passwd WHERE id = 'dora@example.test'").stdout.strip()
    assert stored.startswith("$6$") and crypt.crypt("new", stored) == stored
    assert courier_tool(bin_dir, root, "authtest", "dora", "old").returncode == 1
    cluster.psql("DELETE FROM passwd WHERE id = 'dora@example.test'")


def test_database_down_is_a_temporary_failure(bin_dir, tmp_path, cluster):
    root = pg_root(tmp_path, cluster)
    # A port where nothing listens.
    rc = root / "etc" / "authpgsqlrc"
    rc.write_text(rc.read_text().replace(f"port={cluster.port}", f"port={free_port()}"))
    started = time.monotonic()
    out = courier_tool(bin_dir, root, "authtest", "alice", "alicepw")
    assert out.returncode == 75, out.stdout + out.stderr
    assert out.stderr.startswith("Authentication FAILED: Resource temporarily unavailable")
    assert time.monotonic() - started < 20
    # Wrong database password: also temporary (a configuration problem, not a wrong user password).
    rc.write_text(rc.read_text().replace("user=courier", "user=nosuchrole"))
    assert courier_tool(bin_dir, root, "authtest", "alice", "alicepw").returncode == 75


def test_authdaemon_socket_over_postgres(tmp_path, cluster):
    """`courier start` answers Courier's socket protocol from PostgreSQL; a database that is
    down gets the connection closed without an answer (Courier's clients: temporary failure)."""
    from test_authdaemon import Site, auth_request, parse_account
    site = Site(tmp_path / "site")
    settings = pg_root(tmp_path / "rc", cluster, modules="authuserdb authpgsql")
    for name in ("authdaemonrc", "authpgsqlrc"):
        text = (settings / "etc" / name).read_text()
        if name == "authdaemonrc":
            text += "authdaemonvar=var/run/authdaemon\n"
        (site.root / "etc" / name).write_text(text)
        (site.root / "etc" / name).chmod(0o600)
    site.start()
    try:
        account = parse_account(site.ask(b"PRE . imap alice\n"))
        assert account["ADDRESS"] == "alice@example.test" and account["OPTIONS"] == "disableimap=1"
        assert account["NAME"] == "Alice A" and account["QUOTA"] == "1000000S"
        assert parse_account(site.ask(auth_request("imap", "login", b"bob\nbobpw\n")))["UID"] == "1234"
        assert site.ask(auth_request("imap", "login", b"alice\nwrong\n")) == b"FAIL\n"
        assert site.ask(auth_request("imap", "login", b"x' OR '1'='1\nalicepw\n")) == b"FAIL\n"
        # The userdb demo user still comes first.
        assert "PASSWD" in parse_account(site.ask(b"PRE . imap demo\n"))
    finally:
        site.stop()
    rc = site.root / "etc" / "authpgsqlrc"
    rc.write_text(rc.read_text().replace(f"port={cluster.port}", f"port={free_port()}"))
    site.start()
    try:
        assert site.ask(b"PRE . imap alice\n") == b""
        assert site.ask(auth_request("imap", "login", b"alice\nalicepw\n")) == b""
        # userdb answers before the broken module is reached.
        assert "HOME" in parse_account(site.ask(b"PRE . imap demo\n"))
        assert cluster.psql("SELECT count(*) FROM passwd").stdout.strip() == "4"
    finally:
        site.stop()


def test_custom_table_and_field_names_with_the_separate_connection_keys(bin_dir, tmp_path, cluster):
    """Every field-name key of authpgsqlrc pointed at other columns, the options column an SQL
    expression, and the connection given by the separate keys over the Unix socket directory."""
    cluster.psql("CREATE TABLE IF NOT EXISTS mailusers (login text PRIMARY KEY, pw text, plainpw text, fullname text, "
                 "u int, g int, homedir text, mdir text, q text, grp text, off boolean DEFAULT false)")
    cluster.psql("GRANT SELECT, UPDATE ON mailusers TO courier")
    cluster.psql("DELETE FROM mailusers")
    cluster.psql("INSERT INTO mailusers VALUES "
                 f"('erin@example.test', '{crypt.crypt('erinpw', crypt.METHOD_SHA256)}', '', 'Erin E', 501, 502, "
                 "'/srv/erin', '/srv/erin/Mail', '5000S', 'staff', false),"
                 "('fred@example.test', '', 'fredpw', 'Fred', 503, 504, '/srv/fred', '', '', 'ops', true)")
    root = make_root(tmp_path, "authpgsql")
    rc = root / "etc" / "authpgsqlrc"
    rc.write_text(
        f"PGSQL_HOST {cluster.sockets}\n"
        f"PGSQL_PORT {cluster.port}\n"
        "PGSQL_USERNAME courier\n"
        "PGSQL_PASSWORD unused-over-the-trusted-socket\n"
        "PGSQL_DATABASE mail\n"
        "PGSQL_USER_TABLE mailusers\n"
        "PGSQL_LOGIN_FIELD login\n"
        "PGSQL_CRYPT_PWFIELD pw\n"
        "PGSQL_CLEAR_PWFIELD plainpw\n"
        "PGSQL_NAME_FIELD fullname\n"
        "PGSQL_UID_FIELD u\n"
        "PGSQL_GID_FIELD g\n"
        "PGSQL_HOME_FIELD homedir\n"
        "PGSQL_MAILDIR_FIELD mdir\n"
        "PGSQL_QUOTA_FIELD q\n"
        "PGSQL_AUXOPTIONS_FIELD 'group=' || grp || CASE WHEN off THEN ',disableimap=1' ELSE '' END\n"
        "PGSQL_WHERE_CLAUSE fullname <> 'Nobody'\n"
        "DEFAULT_DOMAIN example.test\n"
        "PGSQL_TIMEOUT 5\n")
    rc.chmod(0o600)
    stored = cluster.psql("SELECT pw FROM mailusers WHERE login = 'erin@example.test'").stdout.strip()
    out = courier_tool(bin_dir, root, "authtest", "-s", "imap", "erin", "erinpw")
    assert out.returncode == 0, out.stderr
    assert out.stdout == ("Authentication succeeded.\n\n"
                          "     Authenticated: erin@example.test  (uid 501, gid 502)\n"
                          "    Home Directory: /srv/erin\n"
                          "           Maildir: /srv/erin/Mail\n"
                          "             Quota: 5000S\n"
                          f"Encrypted Password: {stored}\n"
                          "Cleartext Password: erinpw\n"
                          "           Options: group=staff\n")
    out = courier_tool(bin_dir, root, "authtest", "fred@example.test", "fredpw")
    assert out.returncode == 0 and "(uid 503, gid 504)" in out.stdout and "Options: group=ops,disableimap=1\n" in out.stdout
    assert courier_tool(bin_dir, root, "authtest", "erin", "fredpw").returncode == 1
    # The WHERE clause is ANDed to the lookup.
    cluster.psql("UPDATE mailusers SET fullname = 'Nobody' WHERE login = 'erin@example.test'")
    assert courier_tool(bin_dir, root, "authtest", "erin", "erinpw").returncode == 1
    # A password change writes the configured columns.
    out = courier_tool(bin_dir, root, "authtest", "fred", "fredpw", "fred2")
    assert out.returncode == 0, out.stdout + out.stderr
    row = cluster.psql("SELECT pw, plainpw FROM mailusers WHERE login = 'fred@example.test'").stdout.strip().split("|")
    assert crypt.crypt("fred2", row[0]) == row[0] and row[1] == "fred2"


def _wait_for_files(directory, count=1, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = sorted(directory.iterdir()) if directory.exists() else []
        if len(found) >= count:
            return found
        time.sleep(0.1)
    return sorted(directory.iterdir()) if directory.exists() else []


def _owned_maildir(path, owner):
    for sub in ("", "new", "cur", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
        os.chown(path / sub, owner.pw_uid, owner.pw_gid)


def test_mail_to_postgres_only_accounts(tmp_path, cluster):
    """`courier start` with authmodulelist "authuserdb authpgsql": RCPT and local delivery find
    accounts that live only in PostgreSQL (asked with service "courier", so PGSQL_DEFAULTDELIVERY
    stands in for the maildir); an unknown name is 550; a database that is down is 451 at RCPT
    and a deferral (never a bounce) for mail already queued. Runs last: it stops the cluster."""
    import smtplib
    from courier_site import CourierSite, set_variable, tool
    owner = pwd.getpwnam("nobody")
    # Homes outside pytest's root-only tmp dir: delivery files belong to the account.
    homes = pathlib.Path(tempfile.mkdtemp(prefix="courier-pghome-"))
    os.chmod(homes, 0o755)
    try:
        pghome, ddhome, pipehome = homes / "pguser", homes / "pgdd", homes / "pgpipe"
        for home in (pghome, ddhome, pipehome):
            home.mkdir()
            os.chown(home, owner.pw_uid, owner.pw_gid)
        _owned_maildir(pghome / "Maildir", owner)
        _owned_maildir(ddhome / "Box", owner)
        cluster.psql("DELETE FROM passwd WHERE id IN ('pguser@example.test', 'pgdd@example.test', 'pglate@example.test', "
                     "'pgpipe@example.test')")
        # pguser: the maildir column is not what delivery uses (service "courier" selects
        # defaultdelivery instead; empty there: courierd's DEFAULTDELIVERY, ./Maildir).
        cluster.psql("INSERT INTO passwd (id, uid, gid, home, maildir, defaultdelivery) VALUES "
                     f"('pguser@example.test', {owner.pw_uid}, {owner.pw_gid}, '{pghome}', '/nonexistent/Maildir', ''),"
                     f"('pgdd@example.test', {owner.pw_uid}, {owner.pw_gid}, '{ddhome}', '', '{ddhome}/Box/'),"
                     f"('pglate@example.test', {owner.pw_uid}, {owner.pw_gid}, '{pghome}', '', ''),"
                     # A program as the default delivery: `.courier` instructions, run as the account.
                     f"('pgpipe@example.test', {owner.pw_uid}, {owner.pw_gid}, '{pipehome}', '', '| /bin/cat > piped')")

        site = CourierSite(tmp_path / "site", services=("esmtpd",))
        set_variable(site.etc / "authdaemonrc", "authmodulelist", '"authuserdb authpgsql"')
        rc = pg_root(tmp_path / "rc", cluster, extra="PGSQL_DEFAULTDELIVERY defaultdelivery\n")
        (site.etc / "authpgsqlrc").write_text((rc / "etc" / "authpgsqlrc").read_text())
        (site.etc / "authpgsqlrc").chmod(0o600)
        site.start()
        try:
            with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as smtp:
                smtp.ehlo("client.test")
                smtp.mail("sender@example.org")
                assert smtp.rcpt("pguser@example.test")[0] == 250
                assert smtp.rcpt("pgdd@example.test")[0] == 250
                assert smtp.rcpt("pgpipe@example.test")[0] == 250
                assert smtp.rcpt("demo@example.test")[0] == 250   # userdb as before
                code, text = smtp.rcpt("nosuchuser@example.test")
                assert code == 550, text
                code, text = smtp.data(b"From: sender@example.org\r\nSubject: to postgres\r\n\r\nHello PG.\r\n")
                assert code == 250, text
            delivered = _wait_for_files(pghome / "Maildir" / "new")
            assert len(delivered) == 1, "".join(site.log)
            assert b"Hello PG." in delivered[0].read_bytes()
            info = delivered[0].stat()
            assert (info.st_uid, info.st_gid) == (owner.pw_uid, owner.pw_gid)
            boxed = _wait_for_files(ddhome / "Box" / "new")
            assert len(boxed) == 1 and b"Hello PG." in boxed[0].read_bytes(), "".join(site.log)
            assert boxed[0].stat().st_uid == owner.pw_uid
            assert len(_wait_for_files(site.maildir / "new")) == 1
            piped = pipehome / "piped"
            deadline = time.time() + 30
            while time.time() < deadline and b"Hello PG." not in (piped.read_bytes() if piped.exists() else b""):
                time.sleep(0.1)
            assert b"Hello PG." in piped.read_bytes(), "".join(site.log)
            assert piped.stat().st_uid == owner.pw_uid
            assert not os.path.exists("/nonexistent/Maildir")

            cluster.stop()
            try:
                with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=30) as smtp:
                    smtp.ehlo("client.test")
                    smtp.mail("sender@example.org")
                    code, text = smtp.rcpt("pglate@example.test")
                    assert code == 451 and b"4.4.3" in text, (code, text)
                    assert smtp.rcpt("demo@example.test")[0] == 250   # userdb still answers
                # Queued without the RCPT check (sendmail): delivery defers it.
                sent = tool(site.root, "sendmail", "-f", "sender@example.org", "pglate@example.test",
                            input="Subject: queued\n\nwhile the database is down\n")
                assert sent.returncode == 0, sent.stderr
                site.wait_for("addr=<pglate@example.test>: deferred")
                assert not any("bounced" in line for line in site.log), "".join(site.log)
                assert "1 message" in tool(site.root, "mailq").stdout
            finally:
                cluster.resume()
            # The database is back: the deferred message goes to the account's Maildir.
            assert tool(site.root, "flush").returncode == 0
            delivered = _wait_for_files(pghome / "Maildir" / "new", count=2)
            assert len(delivered) == 2, "".join(site.log)
            assert any(b"while the database is down" in path.read_bytes() for path in delivered)
        finally:
            site.stop()
    finally:
        shutil.rmtree(homes, ignore_errors=True)
