"""A private Postfix instance (Debian's postfix package) on a free loopback port, as a real peer
MTA for the tests: it relays to our server (`relayhost`) or receives our outbound mail. Its
config, queue and Maildirs live in a fresh directory under /var/tmp (the postfix user must be
able to reach it); the system Postfix is never touched. Modelled on ../shared/anchors/start.sh."""
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
from courier_site import free_port


class PostfixPeer:
    def __init__(self, extra="", mail_domains=(), mailboxes=()):
        """`mail_domains`: domains Postfix delivers itself (virtual Maildirs under mail/<domain>/);
        every address there is taken, unless `mailboxes` lists the addresses that exist: then
        the others are refused at RCPT with 550 5.1.1."""
        if not shutil.which("postfix"):
            pytest.fail("Debian's postfix is not installed (Scripts/test installs it)")
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="courier-postfix-", dir="/var/tmp"))
        os.chmod(self.root, 0o755)
        self.port = free_port()
        for sub in ("etc", "spool", "data", "log", "mail"):
            (self.root / sub).mkdir()
        shutil.chown(self.root / "data", "postfix")
        uid = os.getuid()
        # The virtual agent writes the Maildirs as that user (not root).
        owner = max(uid, 100) if uid else 65534
        os.chown(self.root / "mail", owner, owner)
        if mailboxes:
            entries = " ".join(f"{a}=mail/{a.split('@')[1]}/{a.split('@')[0]}/" for a in mailboxes)
        else:
            entries = " ".join(f"@{d}=mail/{d}/" for d in mail_domains)
        (self.root / "etc" / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.root}/spool
data_directory = {self.root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-peer.test
mydomain = postfix-peer.test
myorigin = postfix-peer.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
relay_domains =
biff = no
append_dot_mydomain = no
smtputf8_enable = no
maillog_file_prefixes = {self.root}/log
maillog_file = {self.root}/log/postfix.log
virtual_mailbox_domains = {" ".join(mail_domains)}
virtual_mailbox_base = {self.root}
virtual_mailbox_maps = {"inline:{ " + entries + " }" if mail_domains else ""}
virtual_uid_maps = static:{owner}
virtual_gid_maps = static:{owner}
virtual_minimum_uid = 100
smtp_host_lookup = native
disable_dns_lookups = yes
{extra}
""")
        (self.root / "etc" / "master.cf").write_text(f"""\
127.0.0.1:{self.port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
""")
        self.config = str(self.root / "etc")
        check = subprocess.run(["postfix", "-c", self.config, "check"], capture_output=True, text=True)
        if check.returncode != 0:
            pytest.fail("postfix check failed: " + check.stdout + check.stderr)
        start = subprocess.run(["postfix", "-c", self.config, "start"], capture_output=True, text=True,
                               stdin=subprocess.DEVNULL)
        if start.returncode != 0:
            pytest.fail("postfix start failed: " + start.stdout + start.stderr + self.log())
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(100).startswith(b"220"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("postfix did not answer on its port: " + self.log())
            time.sleep(0.2)

    def log(self):
        path = self.root / "log" / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def maildir_messages(self, address):
        """The files delivered to `address`'s Maildir (new/), oldest first."""
        local, domain = address.split("@")
        new = self.root / "mail" / domain / local / "new"
        return sorted(new.glob("*"), key=lambda p: p.stat().st_mtime) if new.exists() else []

    def queue_is_empty(self):
        result = subprocess.run(["postqueue", "-c", self.config, "-p"], capture_output=True, text=True)
        return "Mail queue is empty" in result.stdout

    def stop(self):
        subprocess.run(["postfix", "-c", self.config, "stop"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
