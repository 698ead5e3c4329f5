"""The `courier` command: init, start, demo, check, install-links, --help, --version.

Runs the built binary named by COURIER_BIN (default: .build/debug/courier) on temporary
config roots, and checks the results with real tools: /bin/sh reads the VAR=value files,
openssl reads the certificate and the password hash.
"""
import os
import pathlib
import pwd
import grp
import queue
import random
import re
import socket
import signal
import stat
import subprocess
import threading
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
COURIER = pathlib.Path(os.environ.get("COURIER_BIN", REPO / ".build" / "debug" / "courier")).resolve()

# The demo-site contract (DESIGN.md): file, port variable, port.
DEMO_PORTS = [
    ("esmtpd", "PORT", 2525),
    ("esmtpd-msa", "PORT", 2587),
    ("esmtpd-ssl", "SSLPORT", 2465),
    ("imapd", "PORT", 2143),
    ("imapd-ssl", "SSLPORT", 2993),
    ("pop3d", "PORT", 2110),
    ("pop3d-ssl", "SSLPORT", 2995),
    ("webmail", "PORT", 8080),
    ("webadmin", "PORT", 8081),
    ("metrics", "PORT", 9187),
]
def free_port_offset():
    """An offset that puts every demo port on a free loopback port below the ephemeral range.

    A fixed offset such as 30000 lands in Linux's ephemeral range (32768-60999), where any
    outgoing connection on the machine may hold the port the daemon wants."""
    for _ in range(200):
        offset = random.randrange(3000, 23000)
        sockets = []
        try:
            for _, _, port in DEMO_PORTS:
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port + offset))
            return offset
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise AssertionError("no free port offset found")


VARIABLE_FILES = [name for name, _, _ in DEMO_PORTS] + ["courierd", "authdaemonrc"]
ONE_LINE_FILES = ["me", "defaultdomain", "queuetime", "warntime", "sizelimit", "dsnfrom"]
LIST_FILES = ["locals", "hosteddomains", "esmtpacceptmailfor.dir/default", "aliases/system", "smtpaccess/default"]


@pytest.fixture(scope="session")
def courier():
    if not COURIER.exists():
        pytest.fail(f"{COURIER} does not exist: run swift build first (or set COURIER_BIN)")
    return COURIER


def run(*args, env=None, cwd=None, input=None, timeout=60):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd,
                          input=input, timeout=timeout)


def make_site(courier, root, *extra):
    result = run(courier, "init", "--root", root, *extra)
    assert result.returncode == 0, result.stderr
    return result


def shell_values(path, names):
    """What /bin/sh sees after sourcing the file the way Courier's start scripts do."""
    script = "set -a; . " + str(path) + "; " + "; ".join(f'printf "%s\\0" "${n}"' for n in names)
    result = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return dict(zip(names, result.stdout.split("\0")))


def file_values(etc, name, names):
    """Like Courier: esmtpd-msa reads esmtpd first, *-ssl read their base file first."""
    base = {"esmtpd-msa": "esmtpd", "esmtpd-ssl": "esmtpd", "imapd-ssl": "imapd", "pop3d-ssl": "pop3d"}.get(name)
    script = "set -a; "
    if base:
        script += f". {etc / base}; "
    script += f". {etc / name}; " + "; ".join(f'printf "%s\\0" "${n}"' for n in names)
    result = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return dict(zip(names, result.stdout.split("\0")))


class Daemon:
    """A running `courier start` (or `courier demo`) whose stderr is read line by line."""

    def __init__(self, args, env=None, cwd=None):
        self.proc = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env, cwd=cwd)
        self.lines = queue.Queue()
        self.seen = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern, timeout=20):
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        for line in self.seen:
            if regex.search(line):
                return line
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if regex.search(line):
                return line
        raise AssertionError(f"no line matching {pattern!r}; stderr so far:\n" + "\n".join(self.seen))

    def stop(self, sig=signal.SIGTERM, timeout=5):
        self.proc.send_signal(sig)
        started = time.monotonic()
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - started

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture()
def daemons():
    started = []

    def start(args, **kwargs):
        daemon = Daemon(args, **kwargs)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


def wait_for_log(path, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in {path}:\n" + (path.read_text() if path.exists() else "(missing)"))


def expected_owner():
    if os.getuid() == 0:
        entry = pwd.getpwnam("mail")
    else:
        entry = pwd.getpwuid(os.getuid())
    return entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name


# --- help and version -------------------------------------------------------------------------


def test_help_lists_commands_and_tools_one_line_each(courier):
    result = run(courier, "--help")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for command in ["init", "start", "demo", "install-links", "check"]:
        assert any(re.match(rf"\s+{command}\s+\S", line) for line in lines), f"{command} missing:\n{result.stdout}"
    for tool in ["reformail", "reformime", "makemime"]:
        line = next((l for l in lines if re.match(rf"\s+{tool}\s+\S", l)), None)
        assert line, f"{tool} missing:\n{result.stdout}"
    # a tool's summary is on the same line as its name, not wrapped onto the next
    reformail = next(l for l in lines if re.match(r"\s+reformail\s", l))
    assert "duplicates" in reformail


def test_version(courier):
    result = run(courier, "--version")
    assert result.returncode == 0
    assert re.search(r"courier .*\d+\.\d+\.\d+", result.stdout), result.stdout


def test_subcommand_help(courier):
    result = run(courier, "init", "--help")
    assert result.returncode == 0
    assert "--port-offset" in result.stdout and "--demo" in result.stdout


# --- init ---------------------------------------------------------------------------------------


def test_init_demo_makes_the_site(courier, tmp_path):
    root = tmp_path / "site"
    result = make_site(courier, root, "--demo")
    etc = root / "etc"
    for name in VARIABLE_FILES + ONE_LINE_FILES + LIST_FILES + ["userdb", "esmtpd.pem", "imapd.pem", "pop3d.pem"]:
        assert (etc / name).is_file(), name
        assert str(etc / name) in result.stdout, f"init did not report {name}"
    for directory in ["var/queue", "var/log", "mail"]:
        assert (root / directory).is_dir(), directory
    assert (etc / "me").read_text() == "mail.example.test\n"
    assert (etc / "defaultdomain").read_text() == "example.test\n"
    assert "example.test" in (etc / "hosteddomains").read_text().split()
    assert "demo@example.test" in result.stdout and "password demo" in result.stdout

    maildir = root / "mail" / "example.test" / "demo" / "Maildir"
    for sub in ["cur", "new", "tmp"]:
        assert (maildir / sub).is_dir()
        assert stat.S_IMODE((maildir / sub).stat().st_mode) == 0o700
    assert stat.S_IMODE(maildir.stat().st_mode) == 0o700


def test_demo_userdb_record_and_password(courier, tmp_path):
    root = tmp_path / "site"
    make_site(courier, root, "--demo")
    userdb = root / "etc" / "userdb"
    assert stat.S_IMODE(userdb.stat().st_mode) == 0o600
    records = {}
    for line in userdb.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, fields = line.partition("\t")
        assert fields, f"no TAB in {line!r}"
        records[name] = dict(field.split("=", 1) for field in fields.split("|"))
    assert set(records) == {"demo@example.test", "demo"}
    demo = records["demo@example.test"]
    maildir = root / "mail" / "example.test" / "demo" / "Maildir"
    assert demo["home"] == str(maildir.parent)
    assert demo["mail"] == str(maildir)
    owner = pwd.getpwnam(expected_owner()[0])
    assert demo["uid"] == str(owner.pw_uid) and demo["gid"] == str(owner.pw_gid)
    hashed = demo["systempw"]
    assert hashed.startswith("$6$") or hashed.startswith("$y$")
    if hashed.startswith("$6$"):
        salt = hashed.split("$")[2]
        again = run("openssl", "passwd", "-6", "-salt", salt, "demo").stdout.strip()
        assert again == hashed
        wrong = run("openssl", "passwd", "-6", "-salt", salt, "wrong").stdout.strip()
        assert wrong != hashed
    assert records["demo"] == demo


def test_variable_files_are_courier_format_and_valid_shell(courier, tmp_path):
    root = tmp_path / "site"
    make_site(courier, root, "--demo")
    etc = root / "etc"
    for name in VARIABLE_FILES:
        text = (etc / name).read_text()
        assignments = re.findall(r"^([A-Za-z_][A-Za-z_0-9]*)=", text, re.M)
        assert assignments, name
        for variable in assignments:
            # every setting has a ##NAME: block with an explanation before it
            assert re.search(rf"^##NAME: {variable}:\d+\n#\n(# .*\n)*\n{variable}=", text, re.M), f"{name}: {variable}"
        values = shell_values(etc / name, assignments)
        assert len(values) == len(assignments)
    courierd = shell_values(etc / "courierd", ["MAILUSER", "MAILGROUP"])
    assert (courierd["MAILUSER"], courierd["MAILGROUP"]) == expected_owner()
    imap = file_values(etc, "imapd-ssl", ["IMAP_CAPABILITY_TLS", "IMAP_CAPABILITY"])
    assert imap["IMAP_CAPABILITY_TLS"] == imap["IMAP_CAPABILITY"] + " AUTH=PLAIN"


def test_no_relaying_for_anyone_by_default(courier, tmp_path):
    root = tmp_path / "site"
    make_site(courier, root, "--demo")
    rules = [line for line in (root / "etc" / "smtpaccess" / "default").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert rules, "expected explicit loopback rules"
    assert all("RELAYCLIENT" not in rule for rule in rules)
    assert all("\t" in rule for rule in rules)


def test_certificate_is_valid_and_matches_its_key(courier, tmp_path):
    root = tmp_path / "site"
    make_site(courier, root, "--demo")
    etc = root / "etc"
    pem = etc / "esmtpd.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    text = pem.read_text()
    assert "PRIVATE KEY-----" in text and "BEGIN CERTIFICATE-----" in text
    shown = run("openssl", "x509", "-in", pem, "-noout", "-text")
    assert shown.returncode == 0, shown.stderr
    assert "IP Address:127.0.0.1" in shown.stdout
    assert "DNS:localhost" in shown.stdout and "DNS:mail.example.test" in shown.stdout
    from_cert = run("openssl", "x509", "-in", pem, "-noout", "-pubkey")
    from_key = run("openssl", "pkey", "-in", pem, "-pubout")
    assert from_cert.returncode == 0 and from_key.returncode == 0, from_key.stderr
    assert from_cert.stdout == from_key.stdout
    for name in ["esmtpd-ssl", "imapd-ssl", "pop3d-ssl"]:
        certfile = file_values(etc, name, ["TLS_CERTFILE"])["TLS_CERTFILE"]
        assert pathlib.Path(certfile).is_file(), f"{name}: TLS_CERTFILE={certfile}"


@pytest.mark.parametrize("offset", [0, 1000])
def test_port_offset_shifts_every_port(courier, tmp_path, offset):
    root = tmp_path / "site"
    make_site(courier, root, "--demo", "--port-offset", str(offset))
    etc = root / "etc"
    for name, variable, port in DEMO_PORTS:
        address_variable = "SSLADDRESS" if variable == "SSLPORT" else "ADDRESS"
        values = file_values(etc, name, [variable, address_variable])
        assert values[variable] == str(port + offset), f"{name}: {variable}={values[variable]}"
        assert values[address_variable] == "127.0.0.1", f"{name}: {address_variable}"


def test_init_refuses_to_overwrite_without_force(courier, tmp_path):
    root = tmp_path / "site"
    make_site(courier, root, "--demo")
    (root / "etc" / "me").write_text("changed.example\n")
    again = run(courier, "init", "--root", root, "--demo")
    assert again.returncode != 0
    assert "--force" in again.stderr
    assert (root / "etc" / "me").read_text() == "changed.example\n"
    forced = run(courier, "init", "--root", root, "--demo", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (root / "etc" / "me").read_text() == "mail.example.test\n"


def test_init_needs_a_domain(courier, tmp_path):
    result = run(courier, "init", "--root", tmp_path / "site")
    assert result.returncode != 0
    assert "--domain" in result.stderr


def test_plain_init_is_not_the_demo(courier, tmp_path):
    root = tmp_path / "site"
    make_site(courier, root, "--domain", "example.com")
    etc = root / "etc"
    assert (etc / "me").read_text() == "mail.example.com\n"
    assert "example.com" in (etc / "hosteddomains").read_text().split()
    assert "demo" not in (etc / "userdb").read_text()
    esmtpd = file_values(etc, "esmtpd", ["ADDRESS", "PORT", "ESMTPAUTH"])
    assert esmtpd == {"ADDRESS": "0", "PORT": "2525", "ESMTPAUTH": ""}   # no plain-text logins off loopback
    assert file_values(etc, "imapd-ssl", ["IMAP_TLS_REQUIRED"])["IMAP_TLS_REQUIRED"] == "1"
    assert not (root / "mail" / "example.com").exists()


# --- start ------------------------------------------------------------------------------------


def test_start_ready_reload_and_sigterm(courier, tmp_path, daemons):
    root = tmp_path / "site"
    make_site(courier, root, "--demo", "--port-offset", str(free_port_offset()))
    daemon = daemons([courier, "start", "--root", root])
    daemon.wait_for(rf"^courier: ready \(root {re.escape(str(root))}, \d+ services\)$")
    log = root / "var" / "log" / "courier.log"
    wait_for_log(log, "ready (root")
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_for("configuration reloaded")
    text = wait_for_log(log, "configuration reloaded")
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4} INFO courier: configuration reloaded", text, re.M)
    code, took = daemon.stop(signal.SIGTERM)
    assert code == 0
    assert took < 3
    assert "stopped" in log.read_text()


def test_sigint_stops_cleanly(courier, tmp_path, daemons):
    root = tmp_path / "site"
    make_site(courier, root, "--demo")
    daemon = daemons([courier, "start", "--root", root])
    daemon.wait_for("courier: ready")
    code, _ = daemon.stop(signal.SIGINT)
    assert code == 0


def test_reload_with_a_bad_file_keeps_the_old_config(courier, tmp_path, daemons):
    root = tmp_path / "site"
    make_site(courier, root, "--demo")
    daemon = daemons([courier, "start", "--root", root])
    daemon.wait_for("courier: ready")
    imapd = root / "etc" / "imapd"
    lines = imapd.read_text().splitlines()
    imapd.write_text("\n".join(lines + ["PORT=not-a-port"]) + "\n")
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_for(rf"reload failed: {re.escape(str(imapd))}:{len(lines) + 1}: ")
    daemon.wait_for("keeping the previous configuration")
    assert daemon.proc.poll() is None
    code, _ = daemon.stop()
    assert code == 0


def test_bad_config_file_stops_start_with_file_and_line(courier, tmp_path):
    root = tmp_path / "site"
    make_site(courier, root, "--demo")
    esmtpd = root / "etc" / "esmtpd"
    lines = esmtpd.read_text().splitlines()
    lines.insert(5, "this line is not a setting")
    esmtpd.write_text("\n".join(lines) + "\n")
    result = run(courier, "start", "--root", root, timeout=20)
    assert result.returncode != 0
    assert f"{esmtpd}:6: " in result.stderr, result.stderr
    assert "ready" not in result.stderr
    check = run(courier, "check", "--root", root)
    assert check.returncode != 0 and f"{esmtpd}:6: " in check.stderr


def test_missing_site_is_reported(courier, tmp_path):
    result = run(courier, "start", "--root", tmp_path / "nothing", timeout=20)
    assert result.returncode != 0
    assert "courier init" in result.stderr


def test_courier_root_environment_is_honoured(courier, tmp_path, daemons):
    root = tmp_path / "site"
    make_site(courier, root, "--demo")
    env = dict(os.environ, COURIER_ROOT=str(root))
    check = run(courier, "check", env=env)
    assert check.returncode == 0, check.stderr
    assert str(root) in check.stdout
    daemon = daemons([courier, "start"], env=env)
    daemon.wait_for(rf"courier: ready \(root {re.escape(str(root))},")
    assert daemon.stop()[0] == 0
    # --root wins over the environment
    other = tmp_path / "other"
    make_site(courier, other, "--domain", "other.test")
    check = run(courier, "check", "--root", other, env=env)
    assert str(other) in check.stdout


# --- demo -------------------------------------------------------------------------------------


def test_demo_makes_and_starts_a_site(courier, tmp_path, daemons):
    root = tmp_path / "demo"
    offset = free_port_offset()
    daemon = daemons([courier, "demo", "--root", root, "--port-offset", str(offset)])
    daemon.wait_for(rf"courier: ready \(root {re.escape(str(root))}, ")
    assert (root / "mail" / "example.test" / "demo" / "Maildir" / "new").is_dir()
    assert file_values(root / "etc", "imapd", ["PORT"])["PORT"] == str(2143 + offset)
    assert daemon.stop()[0] == 0
    # a second run reuses the site
    again = daemons([courier, "demo", "--root", root])
    again.wait_for("courier: ready")
    assert again.stop()[0] == 0


def test_demo_default_root_is_demo_site_in_the_current_directory(courier, tmp_path, daemons):
    daemon = daemons([courier, "demo", "--port-offset", str(free_port_offset())], cwd=tmp_path)
    daemon.wait_for(rf"courier: ready \(root {re.escape(str(tmp_path / 'demo-site'))}, ")
    assert (tmp_path / "demo-site" / "etc" / "userdb").is_file()
    assert daemon.stop()[0] == 0


# --- multi-call and install-links --------------------------------------------------------------

MESSAGE = "From: a@example.test\nSubject: hi\n\nbody\n"


def assert_ran_reformail(result):
    """reformail -I adds the header; until reformail is written it says so itself."""
    if result.returncode == 0:
        assert "X-Test: 1" in result.stdout
    else:
        assert result.stderr.startswith("reformail:"), result.stderr


def test_courier_tool_runs_the_tool(courier):
    assert_ran_reformail(run(courier, "reformail", "-I", "X-Test: 1", input=MESSAGE))


def test_install_links(courier, tmp_path):
    target = tmp_path / "bin"
    result = run(courier, "install-links", target)
    assert result.returncode == 0, result.stderr
    for tool in ["reformail", "reformime", "makemime"]:
        path = target / tool
        assert os.access(path, os.X_OK), tool
        lean = COURIER.parent / tool
        if lean.exists():
            assert not path.is_symlink() and path.read_bytes() == lean.read_bytes()
        else:
            assert path.resolve() == COURIER
    assert_ran_reformail(run(target / "reformail", "-I", "X-Test: 1", input=MESSAGE))
    # again: replaces its own files without --force
    assert run(courier, "install-links", target).returncode == 0


def test_install_links_to_courier_itself(courier, tmp_path):
    target = tmp_path / "bin"
    result = run(courier, "install-links", "--lean", "none", target)
    assert result.returncode == 0, result.stderr
    link = target / "reformail"
    assert link.is_symlink() and link.resolve() == COURIER
    assert_ran_reformail(run(link, "-I", "X-Test: 1", input=MESSAGE))


def test_install_links_keeps_foreign_files(courier, tmp_path):
    target = tmp_path / "bin"
    target.mkdir()
    (target / "makemime").write_text("#!/bin/sh\necho mine\n")
    result = run(courier, "install-links", target)
    assert result.returncode != 0
    assert "--force" in result.stderr
    assert (target / "makemime").read_text() == "#!/bin/sh\necho mine\n"
    assert run(courier, "install-links", "--force", target).returncode == 0
    assert (target / "makemime").read_bytes() != b"#!/bin/sh\necho mine\n"
