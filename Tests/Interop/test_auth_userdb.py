"""userdb, makeuserdb, userdbpw, pw2userdb and authtest against other tools' hashes.

Ours verify theirs: hashes made by Python's crypt, passlib, mkpasswd (Debian whois), openssl
passwd and Courier's own userdbpw (Debian courier-authlib-userdb) go into a userdb, and
`courier authtest` must accept the right password and refuse a wrong one.
Theirs verify ours: `courier userdbpw` hashes are checked by Python's crypt and passlib,
and the HMAC states are compared with Courier's userdbpw byte for byte.
"""
import base64
import hashlib
import shutil
import subprocess
import warnings

import pytest

from auth_support import courier_tool, make_root, write_userdb

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # noqa: E402  (deprecated, still in 3.11; the point is an independent crypt)

PASSWORD = "Tr0ub4dor&3"


def require(tool):
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if shutil.os.path.exists(f"/usr/sbin/{tool}") else None)
    if not path:
        pytest.fail(f"{tool} is not installed (Scripts/test installs it)")
    return path


def passlib():
    try:
        import passlib.hash  # noqa: F401
        return passlib.hash
    except ImportError:
        pytest.fail("passlib is not installed (Scripts/test installs it)")


def foreign_hashes():
    """(label, stored value) pairs made by other tools for PASSWORD."""
    ph = passlib()
    hashes = [
        ("python-crypt-md5", crypt.crypt(PASSWORD, crypt.METHOD_MD5)),
        ("python-crypt-sha256", crypt.crypt(PASSWORD, crypt.METHOD_SHA256)),
        ("python-crypt-sha512", crypt.crypt(PASSWORD, crypt.METHOD_SHA512)),
        ("passlib-md5crypt", ph.md5_crypt.hash(PASSWORD)),
        ("passlib-sha256crypt", ph.sha256_crypt.hash(PASSWORD)),
        ("passlib-sha512crypt", ph.sha512_crypt.hash(PASSWORD)),
        ("passlib-ldap-md5", ph.ldap_md5.hash(PASSWORD)),
        ("passlib-ldap-sha1", ph.ldap_sha1.hash(PASSWORD)),
        ("passlib-ldap-salted-sha1", ph.ldap_salted_sha1.hash(PASSWORD)),
        ("passlib-ldap-hex-md5", "{MD5RAW}" + ph.ldap_hex_md5.hash(PASSWORD)[len("{MD5}"):]),
        ("passlib-des", ph.des_crypt.hash(PASSWORD)),
        ("python-sha256", "{SHA256}" + base64.b64encode(hashlib.sha256(PASSWORD.encode()).digest()).decode()),
        ("python-sha512", "{SHA512}" + base64.b64encode(hashlib.sha512(PASSWORD.encode()).digest()).decode()),
        ("crypt-prefixed", "{CRYPT}" + crypt.crypt(PASSWORD, crypt.METHOD_SHA512)),
    ]
    mkpasswd = require("mkpasswd")
    for method in ["md5crypt", "sha256crypt", "sha512crypt", "yescrypt"]:
        out = subprocess.run([mkpasswd, "-m", method, "--stdin"], input=PASSWORD, capture_output=True, text=True, check=True)
        hashes.append((f"mkpasswd-{method}", out.stdout.strip()))
    openssl = require("openssl")
    for flag in ["-1", "-5", "-6"]:
        out = subprocess.run([openssl, "passwd", flag, "-stdin"], input=PASSWORD, capture_output=True, text=True, check=True)
        hashes.append((f"openssl{flag}", out.stdout.strip()))
    userdbpw = require("userdbpw")
    out = subprocess.run([userdbpw, "-md5"], input=PASSWORD + "\n", capture_output=True, text=True, check=True)
    hashes.append(("courier-userdbpw-md5", out.stdout.strip()))
    return hashes


def test_ours_verify_theirs(bin_dir, tmp_path):
    root = make_root(tmp_path)
    hashes = foreign_hashes()
    lines = [f"u{i}\tuid=1000|gid=1000|home=/home/u{i}|systempw={h}" for i, (_, h) in enumerate(hashes)]
    write_userdb(root, "\n".join(lines) + "\n")
    assert courier_tool(bin_dir, root, "makeuserdb").returncode == 0
    for i, (label, stored) in enumerate(hashes):
        good = courier_tool(bin_dir, root, "authtest", f"u{i}", PASSWORD)
        assert good.returncode == 0, f"{label} {stored}: {good.stderr}"
        assert f"Encrypted Password: {stored}\n" in good.stdout
        bad = courier_tool(bin_dir, root, "authtest", f"u{i}", "X" + PASSWORD[1:])  # DES reads 8 bytes
        assert bad.returncode == 1 and bad.stderr == "Authentication FAILED: Operation not permitted\n", label


@pytest.mark.parametrize("option,check", [
    ("-md5", "crypt"), ("-sha256", "crypt"), ("-sha512", "crypt"), ("-yescrypt", "crypt"),
    ("", "des"), ("-ldap-md5", "ldap_md5"), ("-ldap-sha", "ldap_sha1"), ("-ldap-ssha", "ldap_salted_sha1"),
])
def test_theirs_verify_ours(bin_dir, tmp_path, option, check):
    args = [option] if option else []
    out = courier_tool(bin_dir, tmp_path, "userdbpw", *args, input=PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    stored = out.stdout.strip()
    if check == "crypt":
        assert crypt.crypt(PASSWORD, stored) == stored
        assert crypt.crypt(PASSWORD + "x", stored) != stored
    elif check == "des":
        assert len(stored) == 13 and passlib().des_crypt.verify(PASSWORD, stored)
    else:
        handler = getattr(passlib(), check)
        assert handler.verify(PASSWORD, stored) and not handler.verify("nope", stored)


@pytest.mark.parametrize("option", ["-hmac-md5", "-hmac-sha1", "-hmac-sha256"])
def test_hmac_states_match_courier_userdbpw(bin_dir, tmp_path, option):
    theirs = subprocess.run([require("userdbpw"), option], input=PASSWORD + "\n", capture_output=True, text=True, check=True)
    ours = courier_tool(bin_dir, tmp_path, "userdbpw", option, input=PASSWORD + "\n")
    assert ours.returncode == 0 and ours.stdout == theirs.stdout


def test_userdbpw_rejects_what_courier_rejects(bin_dir, tmp_path):
    for option in ["-crypt", "--help", "-x"]:
        ours = courier_tool(bin_dir, tmp_path, "userdbpw", option, input="a\n")
        theirs = subprocess.run([require("userdbpw"), option], input="a\n", capture_output=True, text=True)
        # Both name themselves by argv[0].
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)
        assert ours.stderr == "userdbpw: invalid argument.\n"
        assert theirs.stderr == require("userdbpw") + ": invalid argument.\n"


def test_userdb_edits_match_courier(bin_dir, tmp_path):
    """The same userdb commands on two copies give the same records (field order aside)."""
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for f in (ours, theirs):
        f.write_text("# header\nbob\tuid=1|gid=2|home=/h\n")
        f.chmod(0o600)
    steps = [["al", "set", "uid=3", "home=/a"], ["bob", "set", "systempw=x", "uid=9"], ["bob", "unset", "gid"],
             ["al", "del"], ["carol", "set", "quota=100S"]]
    for step in steps:
        a = courier_tool(bin_dir, tmp_path, "userdb", "-f", ours, *step)
        b = subprocess.run([require("userdb"), "-f", str(theirs), *step], capture_output=True, text=True)
        assert a.returncode == b.returncode == 0, a.stderr

    def records(path):
        out = {}
        for line in path.read_text().splitlines():
            if "\t" in line:
                name, fields = line.split("\t", 1)
                out[name] = sorted(fields.split("|"))
            else:
                out[line] = None
        return out
    assert records(ours) == records(theirs)
    for name in ["bob", "carol"]:
        a = courier_tool(bin_dir, tmp_path, "userdb", "-show", "-f", ours, name)
        b = subprocess.run([require("userdb"), "-show", "-f", str(theirs), name], capture_output=True, text=True)
        assert sorted(a.stdout.splitlines()) == sorted(b.stdout.splitlines())


def test_makeuserdb_reports_bad_lines_and_keeps_the_rest(bin_dir, tmp_path):
    root = make_root(tmp_path)
    good = crypt.crypt("pw", crypt.METHOD_SHA512)
    userdb = write_userdb(root, "\n".join([
        f"alice\tuid=1|gid=1|home=/a|systempw={good}",
        "garbage without a tab",
        "bob\tuid=2|gid=2|home=/b|broken",
        f"carol\tuid=3|gid=3|home=/c|systempw={good}",
        "x" * 5000 + "\tuid=4|gid=4|home=/x",
    ]) + "\n")
    out = courier_tool(bin_dir, root, "makeuserdb")
    assert out.returncode == 0
    assert out.stderr.splitlines() == [
        f"makeuserdb: {userdb}:2: expected 'name<TAB>field=value|field=value…'",
        f"makeuserdb: {userdb}:3: bad field 'broken' (expected field=value)",
        f"makeuserdb: {userdb}:5: bad account name '{'x' * 60}…'",
    ]
    for user in ["alice", "carol"]:
        assert courier_tool(bin_dir, root, "authtest", user, "pw").returncode == 0
    assert courier_tool(bin_dir, root, "authtest", "bob", "pw").returncode == 1


def test_makeuserdb_refuses_readable_source(bin_dir, tmp_path):
    root = make_root(tmp_path)
    userdb = write_userdb(root, "a\tuid=1|gid=1|home=/a\n")
    userdb.chmod(0o644)
    out = courier_tool(bin_dir, root, "makeuserdb")
    assert out.returncode == 1 and "MAY NOT HAVE GROUP OR WORLD PERMISSIONS" in out.stderr
    assert not (root / "etc" / "userdb.dat").exists()


def test_overlong_names_and_passwords(bin_dir, tmp_path):
    root = make_root(tmp_path)
    write_userdb(root, f"a\tuid=1|gid=1|home=/a|systempw={crypt.crypt('pw', crypt.METHOD_SHA512)}\n")
    assert courier_tool(bin_dir, root, "makeuserdb").returncode == 0
    for user, password in [("a" * 100_000, "pw"), ("a", "p" * 100_000), ("a\nb", "pw"), ("", "pw")]:
        out = courier_tool(bin_dir, root, "authtest", user, password)
        assert out.returncode == 1, (len(user), len(password))


def test_password_change_rewrites_userdb(bin_dir, tmp_path):
    root = make_root(tmp_path)
    write_userdb(root, "# users\nann\tuid=1|gid=1|home=/a|systempw={SHA}" +
                 base64.b64encode(hashlib.sha1(b"old").digest()).decode() + "\n")
    out = courier_tool(bin_dir, root, "authtest", "ann", "old", "new")
    assert out.returncode == 0 and "Password change succeeded." in out.stderr
    assert courier_tool(bin_dir, root, "authtest", "ann", "new").returncode == 0
    assert courier_tool(bin_dir, root, "authtest", "ann", "old").returncode == 1
    assert (root / "etc" / "userdb").read_text().startswith("# users\nann\tuid=1|gid=1|home=/a|systempw=$6$")


def test_pw2userdb_matches_courier(bin_dir, tmp_path):
    passwd = tmp_path / "passwd"
    shadow = tmp_path / "shadow"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000:Bob B,,,:/home/bob:/bin/sh\n")
    shadow.write_text("root:$6$abc$def:19000:0:99999:7:::\nbob:!:19000::::::\n")
    args = [f"--passwd={passwd}", f"--shadow={shadow}", "--domain=example.test"]
    ours = courier_tool(bin_dir, tmp_path, "pw2userdb", *args)
    theirs = subprocess.run([require("pw2userdb"), *args], capture_output=True, text=True, check=True)
    assert ours.returncode == 0
    assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())


def test_tools_are_listed_and_linked(bin_dir, tmp_path):
    help_text = subprocess.run([str(bin_dir / "courier"), "--help"], capture_output=True, text=True).stdout
    for tool in ["makeuserdb", "userdb", "userdbpw", "pw2userdb", "authtest"]:
        assert f"  {tool} " in help_text
    links = tmp_path / "bin"
    assert subprocess.run([str(bin_dir / "courier"), "install-links", str(links)], capture_output=True).returncode == 0
    out = subprocess.run([str(links / "userdbpw"), "-hmac-md5"], input="secret\n", capture_output=True, text=True)
    assert out.stdout == "cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56\n"
