"""One demo site running a real `courier start`, shared by the interop tests: `courier init
--demo` on a temp root, the chosen services on free loopback ports (every other service off),
then start, wait for a line on stderr (default `courier: ready`), stop with SIGTERM."""
import os
import pathlib
import queue
import random
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("COURIER_BIN_DIR", REPO / ".build" / "debug"))
COURIER = BIN_DIR / "courier"

# service -> (its file in etc/, its on/off variable, its port variable)
SERVICES = {
    "esmtpd": ("esmtpd", "ESMTPDSTART", "PORT"),
    "esmtpd-msa": ("esmtpd-msa", "ESMTPDSTART", "PORT"),
    "esmtpd-ssl": ("esmtpd-ssl", "ESMTPDSSLSTART", "SSLPORT"),
    "imapd": ("imapd", "IMAPDSTART", "PORT"),
    "imapd-ssl": ("imapd-ssl", "IMAPDSSLSTART", "SSLPORT"),
    "pop3d": ("pop3d", "POP3DSTART", "PORT"),
    "pop3d-ssl": ("pop3d-ssl", "POP3DSSLSTART", "SSLPORT"),
    "webmail": ("webmail", "WEBMAILSTART", "PORT"),
    "webadmin": ("webadmin", "WEBADMINSTART", "PORT"),
    "metrics": ("metrics", "METRICSSTART", "PORT"),
}


def free_port(taken=()):
    """A loopback port free now and not in `taken` (two binds to port 0 in a row can get the same)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken:
            return port


def set_variable(path, name, value):
    text = path.read_text()
    text, count = re.subn(rf"^{name}=.*$", f"{name}={value}", text, flags=re.M)
    if count == 0:
        text += f"\n{name}={value}\n"
    path.write_text(text)


def tool(root, name, *args, input=None):
    """`courier NAME ARGS` with COURIER_ROOT set to the site."""
    env = dict(os.environ, COURIER_ROOT=str(root))
    return subprocess.run([str(COURIER), name, *args], capture_output=True, text=True, input=input, env=env,
                          timeout=60)


def require_courier():
    if not COURIER.exists():
        pytest.fail(f"{COURIER} does not exist: run swift build first (or set COURIER_BIN_DIR)")


class CourierSite:
    """A demo site with `services` on free loopback ports; `start()` runs `courier start`.

    `ports` maps each chosen service to its port; `log` holds every stderr line seen so far."""

    def __init__(self, root, services=("esmtpd",), settings=None):
        self.root = pathlib.Path(root)
        result = subprocess.run([str(COURIER), "init", "--root", str(self.root), "--demo", "--port-offset",
                                 str(random.randint(20000, 30000))], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        self.etc = self.root / "etc"
        self.ports = {}
        for service, (file, switch, port_variable) in SERVICES.items():
            path = self.etc / file
            if not path.exists():
                continue
            if service in services:
                self.ports[service] = free_port(taken=set(self.ports.values()))
                set_variable(path, port_variable, self.ports[service])
            else:
                set_variable(path, switch, "NO")
        for (file, name), value in (settings or {}).items():
            set_variable(self.etc / file, name, value)
        self.maildir = self.maildir_of("demo")
        self.proc = None
        self.log = []

    def start(self, wait="courier: ready", timeout=30):
        """Runs `courier start` and waits for `wait` on its stderr (None: do not wait)."""
        self.proc = subprocess.Popen([str(COURIER), "start", "--root", str(self.root)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc, self.lines), daemon=True).start()
        if wait:
            self.wait_for(wait, timeout)
        return self

    def _read(self, proc, lines):
        for line in proc.stderr:
            self.log.append(line)
            lines.put(line)

    def wait_for(self, text, timeout=30):
        """The next stderr line containing `text`; fails the test if none comes in time."""
        deadline = time.time() + timeout
        seen = []
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            if text in line:
                return line
        pytest.fail(f"no {text!r} from courier start; got:\n{''.join(seen)}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self, wait="courier: ready"):
        self.stop()
        return self.start(wait)

    def maildir_of(self, user):
        """The demo domain's Maildir of `user` (demo, bob, ...)."""
        return self.root / "mail" / "example.test" / user / "Maildir"

    def imap(self, user="demo", password="demo"):
        """An imaplib client logged in to the site's imapd."""
        import imaplib
        client = imaplib.IMAP4("127.0.0.1", self.ports["imapd"], timeout=20)
        client.login(user, password)
        return client

    def makeuserdb(self):
        """Recompiles etc/userdb (the userdb module reads the compiled file, as Courier's does)."""
        result = tool(self.root, "makeuserdb")
        assert result.returncode == 0, result.stderr
        return result
