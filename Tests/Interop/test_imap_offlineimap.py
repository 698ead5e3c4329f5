"""offlineimap (the Python 3 OfflineIMAP, pip package `offlineimap`) syncing a local Maildir
with a real `courier start` both ways: server mail and folders come down, local mail goes up,
flag changes and deletions travel in both directions.
"""
import shutil
import subprocess

import pytest

from test_imap_server import message, site  # noqa: F401 (site: the shared pytest fixture)


def sync(config):
    result = subprocess.run(["offlineimap", "-c", str(config), "-o", "-u", "basic"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def local_files(folder):
    return [p for sub in ("cur", "new") for p in (folder / sub).iterdir()]


def with_subject(folder, subject):
    found = [p for p in local_files(folder) if f"Subject: {subject}".encode() in p.read_bytes()]
    assert len(found) == 1, (subject, [p.name for p in local_files(folder)])
    return found[0]


def test_offlineimap_syncs_both_ways(site, tmp_path):
    if not shutil.which("offlineimap"):
        pytest.fail("offlineimap is not installed (Scripts/test installs the pip package offlineimap)")
    client = site.imap()
    client.create("INBOX.Work")
    client.append("INBOX", "(\\Seen)", None, message("server-side"))
    client.append("INBOX", None, None, message("to-be-flagged"))
    client.append("INBOX.Work", None, None, message("work-item"))
    local = tmp_path / "local"
    config = tmp_path / "offlineimaprc"
    config.write_text(f"""[general]
accounts = demo
metadata = {tmp_path}/metadata
ui = basic

[Account demo]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = {local}
sep = .

[Repository remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = {site.ports['imapd']}
remoteuser = demo
remotepass = demo
ssl = no
starttls = no
""")
    sync(config)
    inbox, work = local / "INBOX", local / "INBOX.Work"
    assert len(local_files(inbox)) == 2
    seen = with_subject(inbox, "server-side")
    assert seen.name.endswith(",S"), seen.name  # \Seen came down as the Maildir S flag
    with_subject(work, "work-item")

    # Local changes go up: a new message, a flag, a deletion; a new local folder.
    (inbox / "new" / "1700000000.local.host").write_bytes(message("made-locally").replace(b"\r\n", b"\n"))
    flagged = with_subject(inbox, "to-be-flagged")
    flagged.rename(flagged.parent.parent / "cur" / (flagged.name.split(":2,")[0] + ":2,F"))
    with_subject(work, "work-item").unlink()
    sync(config)
    client.select("INBOX")
    assert client.search(None, "SUBJECT", "made-locally")[1] == [b"3"]
    assert client.search(None, "FLAGGED")[1] == [b"2"]
    # offlineimap marks the message \Deleted and expunges it (its default `expunge = yes`).
    assert client.select("INBOX.Work")[1] == [b"0"]

    # Server changes come down: a flag cleared, a message expunged, a new message.
    client.select("INBOX")
    client.store("1", "-FLAGS", "(\\Seen)")
    client.store("2", "+FLAGS", "(\\Deleted)")
    client.expunge()
    client.append("INBOX", None, None, message("second-round"))
    client.logout()
    sync(config)
    names = sorted(p.read_bytes().split(b"Subject: ")[1].split(b"\n")[0].strip() for p in local_files(inbox))
    assert names == [b"made-locally", b"second-round", b"server-side"], names
    assert not with_subject(inbox, "server-side").name.endswith("S")
