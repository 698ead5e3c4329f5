"""maildrop's -M, -w/-W, KEYWORDS and VERBOSE (issue 9), side by side with Debian's maildrop 2.9.3
where the Debian build can be compared (its -M needs the passwd home of the running user, so -M
is checked against Courier's documented behaviour only)."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

MESSAGE = b"Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: hello there\n\nbody line\n"


def run(binary, args, cwd, env_extra=None, message=MESSAGE):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(cwd), "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    env.update(env_extra or {})
    return subprocess.run([str(binary)] + args, cwd=cwd, env=env, input=message,
                          capture_output=True, timeout=60)


def maildirmake(*args):
    subprocess.run(["/usr/bin/maildirmake.maildrop"] + [str(a) for a in args], check=True)


def write(path, text, mode=0o600):
    path.write_text(text)
    os.chmod(path, mode)


def scratch(tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    return d


def both(tmp_path, bin_dir, oracle, prepare):
    """Runs prepare(dir) -> args for ours and Debian's maildrop in two fresh directories."""
    results = {}
    for who, binary in (("ours", bin_dir / "maildrop"), ("debian", oracle / "maildrop")):
        d = scratch(tmp_path, who)
        args, env = prepare(d)
        results[who] = (d, run(binary, args, d, env))
    return results


VERBOSE_FILTER = """X = "abc"
import HOME
unset X
if ("a-b" =~ /a-(.)/)
{
  echo "m $MATCH1"
}
exception {
  include "nonexistent"
}
include "inc.mf"
dotlock "lk.lock" {
  cc mbox
}
flock "lk2" {
  system "true"
}
logfile "log"
xfilter "cat"
B = `echo hi`
cc "|cat >/dev/null"
to Maildir
"""


def test_verbose_trace_is_debians(tmp_path, bin_dir, oracle):
    def prepare(d):
        maildirmake(d / "Maildir")
        write(d / "f.mf", VERBOSE_FILTER)
        write(d / "inc.mf", "Z = 1\n")
        return ["f.mf"], {"VERBOSE": "5"}
    r = both(tmp_path, bin_dir, oracle, prepare)
    ours, debian = r["ours"][1], r["debian"][1]
    assert ours.returncode == debian.returncode == 0
    assert ours.stdout == debian.stdout == b"m b\n"
    assert b"f.mf(12): Creating dotlock lk.lock\nmaildrop: Delivering to mbox\n" in debian.stderr
    assert ours.stderr.decode() == debian.stderr.decode()


def test_verbose_levels_two_and_one(tmp_path, bin_dir, oracle):
    def prepare(d):
        write(d / "f.mf", 'X = 1\nsystem "true"\nexit\n')
        return ["-V", "2", "f.mf"], {}
    r = both(tmp_path, bin_dir, oracle, prepare)
    ours, debian = r["ours"][1], r["debian"][1]
    assert debian.stderr == (b"Message envelope sender=joe@example.com\nmaildrop: Attempting f.mf\n"
                             b"maildrop: Executing system command true\n")
    assert ours.stderr == debian.stderr


def strip_names(text):
    text = re.sub(r"\d{10}\.M\S*?\.(vm|[\w-]+)(,S=\d+)", r"NAME\2", text)
    text = re.sub(r"<\d+\.overquota@", "<T.overquota@", text)
    return re.sub(r"(?m)^Date: .*$", "Date: D", text)


def test_quota_warning_is_debians(tmp_path, bin_dir, oracle):
    def prepare(d):
        maildirmake(d / "Maildir")
        maildirmake("-f", "Sub", d / "Maildir")
        maildirmake("-q", "1000S", d / "Maildir")
        write(d / "warn", "From: Mail System <MAILER-DAEMON>\nSubject: quota warning\n\nYou are near quota.\n")
        write(d / "f.mf", "to Maildir/.Sub\n")
        return ["-w", "5", "-W", str(d / "warn"), "f.mf"], {}
    r = both(tmp_path, bin_dir, oracle, prepare)
    outputs = {}
    for who, (d, res) in r.items():
        assert res.returncode == 0, res.stderr
        warnings = sorted((d / "Maildir" / "new").iterdir())
        assert len(warnings) == 1
        assert (d / "Maildir" / "quotawarn").exists()
        assert len(list((d / "Maildir" / ".Sub" / "new").iterdir())) == 1
        outputs[who] = strip_names(warnings[0].name + "\n" + warnings[0].read_text())
    assert outputs["ours"] == outputs["debian"]
    assert "Message-Id: <T.overquota@" in outputs["ours"]
    # Under the percentage: no warning.
    for who, binary in (("ours", bin_dir / "maildrop"), ("debian", oracle / "maildrop")):
        d = scratch(tmp_path, who + "-under")
        maildirmake(d / "Maildir")
        maildirmake("-q", "100000S", d / "Maildir")
        write(d / "warn", "Subject: w\n\nw\n")
        write(d / "f.mf", "to Maildir\n")
        assert run(binary, ["-w", "90", "-W", str(d / "warn"), "f.mf"], d).returncode == 0
        assert len(list((d / "Maildir" / "new").iterdir())) == 1
        assert not (d / "Maildir" / "quotawarn").exists()


def keyword_files(maildir):
    kw = maildir / "courierimapkeywords"
    return sorted(sorted(p.read_text().split()) for p in kw.iterdir() if p.name != ":list")


def test_keywords_are_debians(tmp_path, bin_dir, oracle):
    def prepare(d):
        maildirmake(d / "Maildir")
        write(d / "f.mf", "KEYWORDS=',Work,,$Junk,later,'\nFLAGS=S\ncc Maildir\nKEYWORDS=''\nFLAGS=''\nto Maildir\n")
        return ["f.mf"], {}
    r = both(tmp_path, bin_dir, oracle, prepare)
    found = {}
    for who, (d, res) in r.items():
        assert res.returncode == 0, res.stderr
        cur = list((d / "Maildir" / "cur").iterdir())
        new = list((d / "Maildir" / "new").iterdir())
        assert len(cur) == 1 and len(new) == 1
        names = [p.name for p in (d / "Maildir" / "courierimapkeywords").iterdir()]
        assert names == [cur[0].name.split(":")[0]]
        found[who] = keyword_files(d / "Maildir")
    assert found["ours"] == found["debian"] == [["$Junk", "Work", "later"]]


def test_embedded_filter_from_mailfilters(tmp_path, bin_dir):
    maildrop = bin_dir / "maildrop"
    home = scratch(tmp_path, "home")
    maildirmake(home / "Maildir")
    env = {"LOGNAME": "no-such-user-here"}
    # No .mailfilters at all: nothing runs, nothing is delivered, exit 0.
    r = run(maildrop, ["-M", "lists-announce"], home, env)
    assert (r.returncode, r.stdout) == (0, b"")
    (home / ".mailfilters").mkdir(mode=0o700)
    write(home / ".mailfilters" / "lists-default",
          'echo "filter=$MAILFILTER arg=$1"\nif (/^Subject: hello/)\n{\n  EXITCODE=3\n}\n')
    r = run(maildrop, ["-V", "2", "-M", "lists-announce.x/y", "first"], home, env)
    assert r.returncode == 3, r.stderr
    assert r.stdout == b"filter=lists-announce:x:y arg=first\n"
    assert r.stderr.decode().splitlines()[-3:] == [
        "maildrop: Attempting .mailfilters/lists-announce:x:y",
        "maildrop: Attempting .mailfilters/lists-announce:x:y-default",
        "maildrop: Attempting .mailfilters/lists-default",
    ]
    assert list((home / "Maildir" / "new").iterdir()) == []
    # Embedded mode: deliveries are refused while the file is read.
    write(home / ".mailfilters" / "default", "to Maildir\n")
    r = run(maildrop, ["-M", "other"], home, env)
    assert r.returncode == 75
    assert b"'to' disabled in embedded mode." in r.stderr
    # .mailfilters must not be open to group or world.
    os.chmod(home / ".mailfilters", 0o755)
    r = run(maildrop, ["-M", "lists-x"], home, env)
    assert r.returncode == 75
    assert b"Invalid permissions on $HOME/.mailfilters" in r.stderr
    r = run(maildrop, ["-M", ""], home, env)
    assert r.returncode == 75



@pytest.mark.skipif(os.geteuid() != 0, reason="needs to run as root")
def test_embedded_delivery_as_root_keeps_site_includes_restricted(tmp_path, bin_dir):
    # -M started by root: a site maildroprcs file would lift the embedded restrictions and run
    # its programs (and deliveries) as root; a delivery never does, so they stay restricted.
    maildrop = bin_dir / "maildrop"
    home = scratch(tmp_path, "home")
    os.chmod(home, 0o700)
    site = scratch(tmp_path, "site")
    (site / "etc" / "maildroprcs").mkdir(parents=True)
    write(site / "etc" / "maildroprcs" / "runs", f'system "touch {home}/ran"\n', mode=0o644)
    (home / ".mailfilters").mkdir(mode=0o700)
    write(home / ".mailfilters" / "lists-default", f'include "{site}/etc/maildroprcs/runs"\n')
    r = run(maildrop, ["-M", "lists-x"], home, {"LOGNAME": "no-such-user-here", "COURIER_ROOT": str(site)})
    assert r.returncode == 75, r.stderr
    assert b"'system' disabled in embedded mode." in r.stderr
    assert not (home / "ran").exists()

LEVEL6_FILTER = """A = 1 + 2 * 3
B = (4 / 8) - 1
C = 3 < 4 && 2 >= 5
D = 0 || "x" eq "x"
E = "abc" lt "abd" || 1
F = !$A
G = ~5
H = length("hello")
I = 6 | 3 & 2
J = "b" ge "a"
K = 1 != 1 || "z" ne "z" && 1 == 1
L = 1 <= 2 && 3 > 2
exit
"""


def test_verbose_level_six_operations_are_debians(tmp_path, bin_dir, oracle):
    def prepare(d):
        write(d / "f.mf", LEVEL6_FILTER)
        return ["f.mf"], {"VERBOSE": "6"}
    r = both(tmp_path, bin_dir, oracle, prepare)
    ours, debian = r["ours"][1], r["debian"][1]
    assert b"f.mf(1): Operation on: 2 and 3 - multiply, result is 6\n" in debian.stderr
    assert b"string grater than or equal" in debian.stderr
    assert ours.stderr.decode() == debian.stderr.decode()
