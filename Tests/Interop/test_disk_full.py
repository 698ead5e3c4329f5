"""A full disk against a real `courier start` whose whole site (queue, logs, Maildirs) lives on
a small tmpfs: while the disk is full the SMTP server answers 4xx and keeps serving, nothing that
got `250` is lost, and once space is back every accepted message is delivered exactly once
(issue 5 "Bad input: disk full (4xx, nothing lost)")."""
import os
import smtplib
import subprocess
import time

import pytest

from test_smtp_server import COURIER, Site

MESSAGE_KB = 256


@pytest.fixture()
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def body(marker):
    line = "x" * 1022 + "\r\n"
    return (f"From: a@client.example\r\nTo: demo@example.test\r\nSubject: {marker}\r\n\r\n"
            + line * MESSAGE_KB)


def test_full_disk_gives_4xx_and_loses_nothing(small_disk):
    if not COURIER.exists():
        pytest.fail(f"{COURIER} does not exist: run swift build first")
    site = Site(small_disk / "site")
    try:
        accepted, refused = [], []
        for i in range(60):
            marker = f"diskfull-{i:03d}"
            try:
                with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=60) as client:
                    client.ehlo("client.example")
                    code, _ = client.mail("a@client.example")
                    if code == 250:
                        code, _ = client.rcpt("demo@example.test")
                    if code == 250:
                        code, _ = client.data(body(marker))
            except smtplib.SMTPResponseException as error:
                code = error.smtp_code
            if code == 250:
                accepted.append(marker)
            else:
                assert 400 <= code < 500, (marker, code)
                refused.append(marker)
        # 60 × 256 KiB (plus the Maildir copies) cannot fit in 6 MiB: the disk filled up.
        print(f"accepted {len(accepted)}, refused {len(refused)}")
        assert refused, "the disk never filled"
        assert accepted, "nothing was accepted before the disk filled"
        assert site.proc.poll() is None, "the daemon died on a full disk"
        # Space comes back: everything that got 250 arrives, once; nothing refused does.
        subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
        env = dict(os.environ, COURIER_ROOT=str(site.root))
        deadline = time.monotonic() + 120
        while True:
            subprocess.run([str(COURIER), "flush"], env=env, capture_output=True, timeout=60)
            contents = [p.read_bytes() for p in site.stored_messages()]
            found = {m: sum(m.encode() in c for c in contents) for m in accepted + refused}
            if all(found[m] >= 1 for m in accepted) or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert [m for m in accepted if found[m] != 1] == [], found
        assert [m for m in refused if found[m] != 0] == [], found
        # And the server accepts mail again.
        with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=60) as client:
            client.ehlo("client.example")
            client.mail("a@client.example")
            client.rcpt("demo@example.test")
            assert client.data(body("diskfull-after"))[0] == 250
    finally:
        site.stop()
