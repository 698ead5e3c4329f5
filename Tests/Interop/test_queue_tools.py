"""The queue and control-file commands: cancelmsg (Courier's messages and exit codes; the
cancelled message bounces to its sender), `courier flush` (all, one, unknown id), makealiases
and makesmtpaccess (compile, report FILE:LINE errors, exit 1), and their install-links."""
import email
import email.policy
import os
import subprocess
import time

import pytest

from test_smtp_server import COURIER, Site, site  # noqa: F401 (the shared pytest fixture)


def tool(root, *args, stdin=None):
    env = dict(os.environ, COURIER_ROOT=str(root))
    return subprocess.run([str(COURIER), *args], input=stdin, env=env, capture_output=True, text=True, timeout=30)


def queue_remote_message(site, subject):
    """A message to a remote address: it stays queued (deferred: no esmtp transport yet)."""
    result = tool(site.root, "sendmail", "-f", "demo@example.test", "someone@remote.example",
                  stdin=f"Subject: {subject}\n\nbody\n")
    assert result.returncode == 0, result.stderr
    site.wait_for("addr=<someone@remote.example>: deferred")
    mailq = tool(site.root, "mailq").stdout
    ids = [line.split()[0] for line in mailq.splitlines() if line and not line.startswith(" ") and "messages" not in line
           and "message in" not in line]
    assert ids, mailq
    return ids[-1]


def test_cancelmsg_bounces_the_message(site):
    qid = queue_remote_message(site, "marker-cancel")
    result = tool(site.root, "cancelmsg", qid, "Sent", "by", "mistake.")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Message scheduled for cancellation.\n"
    site.wait_for(f"id={qid}: cancelled: Sent by mistake.")
    deadline = time.monotonic() + 20
    report = None
    while time.monotonic() < deadline and report is None:
        for path in site.stored_messages():
            data = path.read_bytes()
            if b"marker-cancel" in data and b"multipart/report" in data:
                report = email.message_from_bytes(data, policy=email.policy.default)
        time.sleep(0.2)
    assert report is not None
    status = list(report.iter_parts())[1].get_payload()
    assert status[1]["Action"] == "failed"
    assert "Sent by mistake." in status[1]["Diagnostic-Code"]
    # Gone now: a second cancel finds nothing.
    again = tool(site.root, "cancelmsg", qid)
    assert again.returncode == 1 and again.stderr == "Message not found.\n"


def test_cancelmsg_unknown_and_no_arguments(site):
    result = tool(site.root, "cancelmsg", "0000000000000000.00000000.00000000")
    assert result.returncode == 1
    assert result.stderr == "Message not found.\n"
    assert tool(site.root, "cancelmsg").returncode == 0


def test_courier_flush(site):
    qid = queue_remote_message(site, "marker-flush")
    assert tool(site.root, "flush", qid).returncode == 0
    site.wait_for("addr=<someone@remote.example>: deferred")   # a second attempt, long before the 5 min retry
    assert tool(site.root, "flush").returncode == 0
    site.wait_for("addr=<someone@remote.example>: deferred")
    missing = tool(site.root, "flush", "0000000000000000.00000000.00000000")
    assert missing.returncode == 1 and missing.stderr == "No such message.\n"


def test_makealiases(tmp_path, site):
    aliases = site.root / "etc" / "aliases"
    if aliases.is_dir():
        target = aliases / "local"
    else:
        target = aliases
    target.write_text("# team\nteam: demo@example.test,\n  demo\nteam: other@example.test\n")
    ok = tool(site.root, "makealiases")
    assert ok.returncode == 0, ok.stderr
    dat = (site.root / "etc" / "aliases.dat").read_text()
    assert "team: demo@example.test, demo, other@example.test\n" in dat
    dump = tool(site.root, "makealiases", "-dump")
    assert "team: demo@example.test, demo, other@example.test" in dump.stdout
    chk = tool(site.root, "makealiases", "-chk")
    assert chk.returncode == 1 and "other@example.test: no such local address" in chk.stdout
    target.write_text("team: demo\nthis line has no colon\n")
    bad = tool(site.root, "makealiases")
    assert bad.returncode == 1
    assert f"{target}:2:" in bad.stderr
    assert (site.root / "etc" / "aliases.dat").read_text() == dat   # the old database stays


def test_makesmtpaccess(site):
    access = site.root / "etc" / "smtpaccess"
    target = access / "local" if access.is_dir() else access
    target.write_text("192.168.7\tallow,RELAYCLIENT\n10.1\tdeny\n")
    ok = tool(site.root, "makesmtpaccess")
    assert ok.returncode == 0, ok.stderr
    dat = (site.root / "etc" / "smtpaccess.dat").read_text()
    assert "192.168.7\tallow,RELAYCLIENT=\n" in dat and "10.1\tdeny\n" in dat
    target.write_text("192.168.7\tallow,RELAYCLIENT\n300.1.2\tallow\n")
    bad = tool(site.root, "makesmtpaccess")
    assert bad.returncode == 1
    assert f"{target}:2:" in bad.stderr
    assert tool(site.root, "makesmtpaccess-msa").returncode == 1


def test_install_links_has_the_queue_tools(tmp_path):
    result = subprocess.run([str(COURIER), "install-links", str(tmp_path / "bin")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in ["cancelmsg", "makealiases", "makesmtpaccess", "makesmtpaccess-msa", "mailq", "sendmail"]:
        assert (tmp_path / "bin" / name).exists(), name
