"""`sharedindexsplit` and `sharedindexinstall` (spec/access.md §1.7 (A)): our split is compared
with Debian's (Courier's Perl script, from the anchors' courier-dist) on the same input, and the
whole chain `authenumerate -s | sharedindexsplit etc/shared.tmp N`, `sharedindexinstall` is
followed by a real `courier start` whose IMAP server lists the other account's shared folder.
"""
import os
import pathlib
import subprocess

import pytest

from courier_site import COURIER, require_courier, tool
from test_imap_acl import Site, add_bob, login

DEBIAN_SPLIT = pathlib.Path(os.environ.get("ANCHORS_HOME", "/var/tmp/courier-anchors")) / "courier-dist/usr/sbin/sharedindexsplit"

INDEX = ("alice\t1\t1\t/home/alice\n# a comment line\nbob\t1\t1\t/home/bob\t./Maildir\tsharedgroup=g1,x=y\n"
         "carol\t1\t1\t/home/carol\t\tfoo=1\nshort\t1\t1\n\nal\t1\t1\t/home/al\t\t\t\n"
         "dave\t1\t1\t/home/dave # comment\tsharedgroup=g2\nj\u00fcrgen\t1\t1\t/home/j\n"
         "x\t2\t2\t/home/x\tMail\tsharedgroup=,sharedgroup=g2\n")


def contents(directory):
    """Each file's lines; group files (`*` records) as a sorted list (Perl writes them in hash order)."""
    out = {}
    for path in sorted(directory.iterdir()):
        lines = path.read_bytes().decode().splitlines(keepends=True)
        out[path.name] = sorted(lines) if any("\t*\t" in line for line in lines) else lines
    return out


@pytest.mark.parametrize("letters", [None, "0", "1", "2", "3"])
def test_split_matches_courier(tmp_path, letters):
    require_courier()
    if not DEBIAN_SPLIT.exists():
        pytest.skip(f"{DEBIAN_SPLIT} not installed (sudo /work/shared/anchors/install.sh)")
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    # An existing account file is appended to, as Courier's script does.
    for d in (ours, theirs):
        (d / "indexal").write_text("old\t1\t1\t/old\n")
    extra = [letters] if letters is not None else []
    mine = subprocess.run([str(COURIER), "sharedindexsplit", str(ours), *extra], input=INDEX.encode(),
                          capture_output=True, timeout=60)
    real = subprocess.run(["perl", str(DEBIAN_SPLIT), str(theirs), *extra], input=INDEX.encode(),
                          capture_output=True, timeout=60)
    assert (mine.returncode, real.returncode) == (0, 0), (mine.stderr, real.stderr)
    assert contents(ours) == contents(theirs)


def test_split_usage():
    require_courier()
    result = subprocess.run([str(COURIER), "sharedindexsplit", "/nonexistent/dir"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "Usage:" in result.stderr


def test_install_and_the_server_reads_the_new_index(tmp_path):
    require_courier()
    site = Site(tmp_path / "site")
    add_bob(site)
    shared = site.etc / "shared"
    (shared / "indexold").write_text("gone\t1\t1\t/nowhere\n")
    # Nothing to install yet.
    result = tool(site.root, "sharedindexinstall")
    assert (result.returncode, result.stdout) == (1, f"{site.etc}/shared.tmp is empty!\n")
    # authenumerate -s | sharedindexsplit etc/shared.tmp 1 | sharedindexinstall
    accounts = tool(site.root, "authenumerate", "-s")
    assert accounts.returncode == 0 and "bob\t" in accounts.stdout, accounts.stderr
    (site.etc / "shared.tmp").mkdir()
    env = dict(os.environ, COURIER_ROOT=str(site.root))
    split = subprocess.run([str(COURIER), "sharedindexsplit", str(site.etc / "shared.tmp"), "1"],
                           input=accounts.stdout, text=True, capture_output=True, env=env, timeout=60)
    assert split.returncode == 0, split.stderr
    result = tool(site.root, "sharedindexinstall")
    assert (result.returncode, result.stdout) == (0, "")
    assert sorted(p.name for p in shared.iterdir()) == ["index", "indexb", "indexd"]
    assert list((site.etc / "shared.tmp").iterdir()) == []
    assert "bob\t" in (shared / "indexb").read_text()
    assert sorted((shared / "index").read_text().splitlines()) == ["b\t*\tindexb", "d\t*\tindexd"]

    site.start()
    try:
        bob = login(site, "bob")
        assert bob.create("INBOX.Team")[0] == "OK"
        assert bob.setacl("INBOX.Team", "demo", "lr")[0] == "OK"
        bob.logout()
        demo = site.imap()
        typ, listed = demo.list('""', "#shared.*")
        assert typ == "OK" and any(b'"#shared.b.bob.Team"' in line for line in listed), listed
        demo.logout()
    finally:
        site.stop()
