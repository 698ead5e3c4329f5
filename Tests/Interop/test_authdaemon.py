"""The authdaemon socket of a real `courier start` (spec/access.md §4.2), spoken to in Courier's
wire format by a Python client, by our lean tools (`courier authenumerate`), and, when the
anchors' unpacked courier-authlib is there, by Courier's own `authtest` and `authenumerate`.
"""
import base64
import hmac
import os
import pathlib
import queue
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time

import pytest

from courier_site import BIN_DIR, COURIER, CourierSite, free_port, require_courier, set_variable, tool  # noqa: F401

COURIER_DIST = pathlib.Path(os.environ.get("ANCHORS_HOME", "/var/tmp/courier-anchors")) / "courier-dist"


class Site(CourierSite):
    """A demo site running `courier start`, SMTP on free ports, the rest off; `start()` waits
    for the authdaemon socket."""

    def __init__(self, root):
        super().__init__(root, services=("esmtpd", "esmtpd-msa", "esmtpd-ssl"))
        self.socket_dir = self.root / "var" / "run" / "authdaemon"
        self.socket_path = self.socket_dir / "socket"

    def start(self, wait="authdaemon listening on", timeout=30):
        return super().start(wait, timeout)

    def ask(self, request: bytes, timeout=10) -> bytes:
        """One request on one connection, as Courier's library does; everything until close."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.socket_path))
            s.sendall(request)
            out = b""
            while True:
                data = s.recv(65536)
                if not data:
                    return out
                out += data


def auth_request(service, authtype, data: bytes, remote=b"127.0.0.1") -> bytes:
    payload = service.encode() + b"\n" + authtype.encode() + b"\n" + data
    return b"TCPREMOTEIP=" + remote + b"\n" + b"AUTH %d\n" % len(payload) + payload


def parse_account(reply: bytes) -> dict:
    lines = reply.decode().split("\n")
    assert lines[-2:] == [".", ""], reply
    return dict(line.split("=", 1) for line in lines[:-2])


@pytest.fixture()
def site(tmp_path):
    require_courier()
    site = Site(tmp_path / "site")
    site.start()
    yield site
    site.stop()


def test_socket_place_and_modes(site):
    assert stat.S_ISSOCK(site.socket_path.stat().st_mode)
    assert stat.S_IMODE(site.socket_path.stat().st_mode) == 0o777
    assert stat.S_IMODE(site.socket_dir.stat().st_mode) == 0o750
    if os.geteuid() == 0:
        # The mail group (which owns the site's files) may reach a daemon running as root.
        assert site.socket_dir.stat().st_gid == (site.root / "etc" / "userdb").stat().st_gid


def test_pre_and_login(site):
    home = str(site.root / "mail" / "example.test" / "demo")
    account = parse_account(site.ask(b"PRE . imap demo@example.test\n"))
    assert account["HOME"] == home
    assert account["MAILDIR"] == home + "/Maildir"
    assert account["ADDRESS"] == "demo@example.test"
    assert account["PASSWD"].startswith("$6$")
    assert "PASSWD2" not in account
    assert list(account)[:2] == ["UID", "GID"]
    assert site.ask(b"PRE . imap nobody\n") == b"FAIL\n"
    assert site.ask(b"PRE authpgsql imap demo\n") == b"FAIL\n"

    ok = parse_account(site.ask(auth_request("imap", "login", b"demo\ndemo\n")))
    assert ok["PASSWD2"] == "demo" and ok["HOME"] == home
    assert site.ask(auth_request("imap", "login", b"demo\nwrong\n")) == b"FAIL\n"
    assert site.ask(auth_request("imap", "login", b"nobody\ndemo\n")) == b"FAIL\n"
    assert site.ask(auth_request("imap", "gssapi", b"x\n")) == b"FAIL\n"


def test_cram_md5_and_sha1_with_userdb_hmac_states(site):
    for option, field in [("-hmac-md5", "hmac-md5pw"), ("-hmac-sha1", "hmac-sha1pw")]:
        state = tool(site.root, "userdbpw", option, input="tanstaaf\n")
        assert state.returncode == 0, state.stderr
        assert tool(site.root, "userdb", "demo", "set", f"{field}={state.stdout.strip()}").returncode == 0
    assert tool(site.root, "makeuserdb").returncode == 0
    challenge = b"<1896.697170952@postoffice.example.net>"
    for authtype, digest in [("cram-md5", "md5"), ("cram-sha1", "sha1")]:
        answer = hmac.new(b"tanstaaf", challenge, digest).hexdigest()
        data = base64.b64encode(challenge) + b"\n" + base64.b64encode(b"demo " + answer.encode()) + b"\n"
        account = parse_account(site.ask(auth_request("imap", authtype, data)))
        assert account["ADDRESS"] == "demo"
        assert "PASSWD" not in account and "PASSWD2" not in account
        wrong = base64.b64encode(challenge) + b"\n" + base64.b64encode(b"demo " + b"0" * len(answer)) + b"\n"
        assert site.ask(auth_request("imap", authtype, wrong)) == b"FAIL\n"


def test_passwd_rewrites_userdb(site):
    assert site.ask(b"PASSWD imap\tdemo\twrong\tnewpass\n") == b"FAIL\n"
    assert site.ask(b"PASSWD imap\tdemo\tdemo\tnew pass\n") == b"OK\n"
    assert site.ask(auth_request("imap", "login", b"demo\ndemo\n")) == b"FAIL\n"
    assert parse_account(site.ask(auth_request("imap", "login", b"demo\nnew pass\n")))["PASSWD2"] == "new pass"
    # The other record (demo@example.test) keeps its password; the source file holds the new hash.
    assert "PASSWD2" in parse_account(site.ask(auth_request("imap", "login", b"demo@example.test\ndemo\n")))
    source = (site.root / "etc" / "userdb").read_text()
    assert source.count("systempw=$6$") == 2


def test_enumerate_and_lean_tool(site):
    reply = site.ask(b"ENUMERATE\n").decode()
    assert reply.startswith("# authuserdb\n\n") and reply.endswith("\n.\n")
    names = [line.split("\t")[0] for line in reply.split("\n")[2:-2]]
    assert sorted(names) == ["demo", "demo@example.test"]
    listed = tool(site.root, "authenumerate", "-o")
    assert listed.returncode == 0, listed.stderr
    home = str(site.root / "mail" / "example.test" / "demo")
    rows = {line.split("\t")[0]: line.split("\t") for line in listed.stdout.splitlines()}
    assert sorted(rows) == ["demo", "demo@example.test"]
    assert rows["demo"][3:] == [home, home + "/Maildir", ""]
    # Our daemon answered (it is running): an account added to the text source and compiled shows up.
    assert tool(site.root, "userdb", "zed", "set", "home=/srv/zed", "uid=9", "gid=9").returncode == 0
    assert tool(site.root, "makeuserdb").returncode == 0
    assert "zed\t9\t9\t/srv/zed\t" in tool(site.root, "authenumerate").stdout
    # With no daemon the tool reads the compiled userdb itself.
    site.stop()
    assert not site.socket_path.exists()
    offline = tool(site.root, "authenumerate")
    assert offline.returncode == 0, offline.stderr
    assert "zed\t9\t9\t/srv/zed\t" in offline.stdout


def test_garbage_gets_no_answer_and_the_daemon_goes_on(site):
    for junk in [b"HELLO\n", b"PRE .\n", b"AUTH 99999999\n", b"AUTH -1\n", b"AUTH 4\nimap", b"\x00\xff\n",
                 b"X" * 20000, b"A=b\n" * 100 + b"ENUMERATE\n", b"PASSWD imap\tdemo\n"]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(str(site.socket_path))
            try:
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
                assert s.recv(100) == b""
            except (BrokenPipeError, ConnectionResetError):
                pass
    # A client that connects and says nothing does not stop others.
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    idle.connect(str(site.socket_path))
    assert site.ask(b"PRE . imap demo\n").endswith(b".\n")
    idle.close()


def test_many_clients_at_once(site):
    results = []

    def worker(i):
        password = b"demo" if i % 2 == 0 else b"bad"
        results.append((i, site.ask(auth_request("pop3", "login", b"demo\n" + password + b"\n"))))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 60
    for i, reply in results:
        assert (reply == b"FAIL\n") == (i % 2 == 1), (i, reply)


def courier_tool_in_namespace(site, program, *args):
    """Runs one of Courier's own client programs with its compiled-in socket directory
    (/run/courier/authdaemon) bound to our socket directory, in a private mount namespace."""
    dist = COURIER_DIST
    script = ('mount -t tmpfs courier-run /run && mkdir -p /run/courier/authdaemon && '
              'mount --bind "$1" /run/courier/authdaemon && shift && exec "$@"')
    env = dict(os.environ, LD_LIBRARY_PATH=str(dist / "usr" / "lib"))
    return subprocess.run(["unshare", "-m", "--propagation", "private", "--", "sh", "-c", script, "sh",
                           str(site.socket_dir), str(dist / "usr" / "sbin" / program), *args],
                          capture_output=True, text=True, env=env, timeout=60)


def need_courier_clients():
    if not (COURIER_DIST / "usr" / "sbin" / "authtest").exists():
        pytest.skip(f"Courier's authtest is not unpacked under {COURIER_DIST} (anchors install.sh)")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to show Courier's authtest our socket at its compiled-in path")


def test_courier_authtest_against_our_daemon(site):
    need_courier_clients()
    home = str(site.root / "mail" / "example.test" / "demo")
    ok = courier_tool_in_namespace(site, "authtest", "-s", "imap", "demo", "demo")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("Authentication succeeded.\n")
    assert f"Home Directory: {home}\n" in ok.stdout
    assert "Cleartext Password: demo\n" in ok.stdout
    bad = courier_tool_in_namespace(site, "authtest", "-s", "imap", "demo", "wrong")
    assert bad.returncode == 1
    assert "Authentication FAILED: Operation not permitted" in bad.stderr
    lookup = courier_tool_in_namespace(site, "authtest", "demo@example.test")
    assert lookup.returncode == 0 and "Cleartext Password: (none)" in lookup.stdout
    changed = courier_tool_in_namespace(site, "authtest", "demo", "demo", "s3cret")
    assert changed.returncode == 0 and "Password change succeeded." in changed.stderr, changed.stdout + changed.stderr
    assert courier_tool_in_namespace(site, "authtest", "demo", "s3cret").returncode == 0
    listed = courier_tool_in_namespace(site, "authenumerate")
    assert listed.returncode == 0
    assert sorted(line.split("\t")[0] for line in listed.stdout.splitlines()) == ["demo", "demo@example.test"]


def test_init_compiles_the_userdb(tmp_path):
    for args in (["--demo"], ["--domain", "example.com"]):
        root = tmp_path / args[-1].lstrip("-")
        made = subprocess.run([str(COURIER), "init", "--root", str(root), *args], capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        etc = root / "etc"
        for name, mode in [("userdb.dat", 0o644), ("userdbshadow.dat", 0o600)]:
            assert f"{etc / name}\n" in made.stdout + "\n"
            info = (etc / name).stat()
            assert stat.S_IMODE(info.st_mode) == mode
            assert (info.st_uid, info.st_gid) == ((etc / "userdb").stat().st_uid, (etc / "userdb").stat().st_gid)
        # Courier's tools read the compiled file with no daemon running.
        listed = tool(root, "authenumerate")
        assert listed.returncode == 0, listed.stderr
        expected = ["demo", "demo@example.test"] if args == ["--demo"] else []
        assert sorted(line.split("\t")[0] for line in listed.stdout.splitlines()) == expected


def test_bad_auth_configuration_stops_start_and_check(tmp_path):
    site = Site(tmp_path / "site")
    rc = site.root / "etc" / "authdaemonrc"
    set_variable(rc, "authmodulelist", '"authuserdb authldap"')
    line = next(i for i, text in enumerate(rc.read_text().splitlines(), 1) if text.startswith("authmodulelist="))
    for command in ("check", "start"):
        out = subprocess.run([str(COURIER), command, "--root", str(site.root)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 78, (command, out.stdout, out.stderr)
        assert f"courier: {rc}:{line}: authmodulelist: module authldap is not available" in out.stderr, out.stderr
    assert not site.socket_path.exists()
