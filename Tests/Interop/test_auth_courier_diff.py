"""Ours next to Courier's own courier-authlib 0.71 (the anchors' unpacked packages): the same
userdb text, the same `authtest` command lines, byte-for-byte the same output and exit codes;
and Courier's authdaemond verifies every hash our `userdbpw` makes.

Courier's authdaemond and authtest run in a private mount namespace where the unpacked
packages sit at their compiled-in paths (/usr overlay, /etc/courier, /run/courier), as
anchors/courier-ns.sh does. Needs root, unshare(1) and `anchors/install.sh` done once.
"""
import os
import re
import shutil
import subprocess
import textwrap

import pytest

from auth_support import courier_tool, make_root, write_userdb

COURIER_DIST = os.path.join(os.environ.get("ANCHORS_HOME", "/var/tmp/courier-anchors"), "courier-dist")

NAMESPACE_SCRIPT = textwrap.dedent("""\
    set -e
    mount -t overlay anchors-courier-usr -o ro,lowerdir="$DIST/usr":/usr /usr
    mount --bind "$ETC" /etc/courier
    mount --bind "$RUN" /run/courier
    export LD_LIBRARY_PATH=/usr/lib PATH=/usr/sbin:/usr/bin:/sbin:/bin
    mkdir -p /run/courier/authdaemon
    /usr/sbin/makeuserdb
    /usr/lib/courier/courier-authlib/authdaemond >/dev/null 2>&1 &
    daemon=$!
    for i in $(seq 100); do [ -S /run/courier/authdaemon/socket ] && break; sleep 0.1; done
    set +e
    "$@"
    status=$?
    kill $daemon; wait $daemon 2>/dev/null
    exit $status
""")

# Each case: authtest's arguments, run once per line in both worlds; output and status compared.
CASES_SCRIPT = textwrap.dedent("""\
    while IFS= read -r line; do
        echo "=== $line"
        eval "set -- $line"
        $AUTHTEST "$@" 2>&1
        echo "status $?"
    done
""")


def need_courier():
    if not os.path.exists(os.path.join(COURIER_DIST, "usr", "lib", "courier", "courier-authlib", "authdaemond")):
        pytest.skip(f"Courier's authlib is not unpacked under {COURIER_DIST} (anchors install.sh)")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to run Courier's authdaemond at its compiled-in paths")


def courier_userdbpw(*args, password="pw"):
    path = shutil.which("userdbpw") or os.path.join(COURIER_DIST, "usr", "sbin", "userdbpw")
    return subprocess.run([path, *args], input=password + "\n", capture_output=True, text=True, check=True).stdout.strip()


def run_courier(tmp_path, userdb_text, *command):
    etc = tmp_path / "courier-etc"
    run = tmp_path / "courier-run"
    etc.mkdir()
    run.mkdir()
    (etc / "authdaemonrc").write_text('authmodulelist="authuserdb"\ndaemons=2\n'
                                      'authdaemonvar=/run/courier/authdaemon\nDEBUG_LOGIN=0\nDEFAULTOPTIONS=""\n')
    (etc / "userdb").write_text(userdb_text)
    (etc / "userdb").chmod(0o600)
    env = dict(os.environ, DIST=COURIER_DIST, ETC=str(etc), RUN=str(run))
    return subprocess.run(["unshare", "-m", "--propagation", "private", "--", "bash", "-c", NAMESPACE_SCRIPT, "bash",
                           *command], capture_output=True, text=True, env=env, timeout=120)


def run_ours(bin_dir, tmp_path, userdb_text, cases):
    root = make_root(tmp_path / "ours")
    write_userdb(root, userdb_text)
    assert courier_tool(bin_dir, root, "makeuserdb").returncode == 0
    env = dict(os.environ, COURIER_ROOT=str(root), AUTHTEST=f"{bin_dir / 'courier'} authtest")
    return subprocess.run(["bash", "-c", CASES_SCRIPT], input=cases, capture_output=True, text=True, env=env,
                          timeout=300).stdout


def compare(bin_dir, tmp_path, userdb_text, cases, normalize=lambda text: text):
    cases_file = tmp_path / "cases"
    cases_file.write_text(cases)
    theirs = run_courier(tmp_path, userdb_text, "bash", "-c", f"AUTHTEST=authtest bash -c '{CASES_SCRIPT}' < {cases_file}")
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.stdout.count("=== ") == len(cases.splitlines())
    ours = run_ours(bin_dir, tmp_path, userdb_text, cases)
    assert normalize(ours) == normalize(theirs.stdout)
    return ours, theirs.stdout


def test_authtest_output_and_status_match_courier(bin_dir, tmp_path):
    need_courier()
    pw = courier_userdbpw("-md5")
    hmac = courier_userdbpw("-hmac-md5")
    userdb = (f"plain\tuid=8|gid=8|home=/tmp/p|systempw={pw}\n"
              f"full\tuid=0|gid=12|home=/tmp/f|mail=/tmp/f/Maildir|quota=10S,2C|options=disableimap=1,group=x|"
              f"gecos=Full Name|shell=/bin/sh|systempw={pw}\n"
              "nopw\tuid=8|gid=8|home=/tmp/n\n"
              f"cram\tuid=8|gid=8|home=/tmp/h|hmac-md5pw={hmac}\n"
              f"Mixed@Example.TEST\tuid=8|gid=8|home=/tmp/m|systempw={pw}\n"
              "1001=\tplain\n"
              "# a comment\n\n")
    cases = "\n".join([
        "plain pw", "plain", "plain wrong", "full pw", "full", "-s imap full pw", "-simap full pw", "nopw", "nopw x",
        "cram", "cram pw", "Mixed@Example.TEST pw", "mixed@example.test pw", "PLAIN pw", "1001", "nosuch",
        "nosuch pw", "''", "-s", "-x plain", "", "-- plain pw", "plain wrong new",
    ]) + "\n"
    compare(bin_dir, tmp_path, userdb, cases)


def test_password_change_and_extra_arguments_match_courier(bin_dir, tmp_path):
    need_courier()
    userdb = f"ann\tuid=8|gid=8|home=/tmp/a|systempw={courier_userdbpw('-md5', password='old')}\n"
    # Extra arguments after the new password are ignored by both.
    cases = "ann old new extra\nann old\nann new\nann new newer\nann newer\n"
    # The one difference: Courier stores the new password as $1$ (MD5 crypt), ours as $6$.
    hashes = re.compile(r"^Encrypted Password: .*$", re.M)
    ours, theirs = compare(bin_dir, tmp_path, userdb, cases, normalize=lambda text: hashes.sub("(hash)", text))
    assert "Encrypted Password: $6$" in ours and "Encrypted Password: $1$" in theirs


def test_service_passwords_and_tagged_services_match_courier(bin_dir, tmp_path):
    """`<service>pw` replaces systempw for that service only; a tagged service `imap.foo` looks
    for `imap.foopw` and then systempw (not imappw), in Courier and in ours."""
    need_courier()
    one, two, three = (courier_userdbpw("-md5", password=p) for p in ("one", "two", "three"))
    userdb = (f"t1\tuid=8|gid=8|home=/tmp/t1|systempw={one}|imappw={two}|imap.foopw={three}\n"
              f"t2\tuid=8|gid=8|home=/tmp/t2|systempw={one}|pop3pw={two}\n")
    cases = "\n".join(f"-s {service} {user} {password}"
                      for service in ("imap", "imap.foo", "imap.bar", "pop3", "pop3.foo", "login", "esmtp")
                      for user in ("t1", "t2") for password in ("one", "two", "three")) + "\n"
    compare(bin_dir, tmp_path, userdb, cases)


@pytest.mark.parametrize("option", ["-md5", "-sha256", "-sha512", "-yescrypt", "-ldap-md5", "-ldap-sha", "-ldap-ssha",
                                    "-ldap-sha256", "-ldap-sha512"])
def test_courier_verifies_our_userdbpw_hashes(bin_dir, tmp_path, option):
    need_courier()
    password = "Tr0ub4dor&3 x"
    made = courier_tool(bin_dir, tmp_path, "userdbpw", option, input=password + "\n")
    assert made.returncode == 0, made.stderr
    userdb = f"u\tuid=8|gid=8|home=/tmp/u|systempw={made.stdout.strip()}\n"
    result = run_courier(tmp_path, userdb, "bash", "-c",
                         f"authtest u '{password}' >/dev/null 2>&1; echo $?; authtest u 'Tr0ub4dor&3 y' >/dev/null 2>&1; echo $?")
    assert result.stdout.split() == ["0", "1"], (made.stdout, result.stdout, result.stderr)
