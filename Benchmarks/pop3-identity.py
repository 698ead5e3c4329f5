#!/usr/bin/env python3
"""Our pop3d against Courier's on the same maildrop, byte for byte (not part of the test run:
needs the anchors and a build of `courier`).

  Benchmarks/pop3-identity.py [--messages N] [--courier-bin PATH]

Fills the courier-pop3 anchor's demo Maildir with fill-maildir.py (seed 1, 20% in new/),
keeps a copy, and records Courier's raw answers to STAT, LIST, UIDL, LIST n, UIDL n, TOP and
RETR. Then our server (a demo site on a temporary root) answers the same commands:
  1. on a copy of the maildrop as Courier left it (its courierpop3dsizelist): every answer must
     be byte-identical, so clients that switch over keep their UIDLs;
  2. on the untouched copy (no size list yet): the same new/ -> cur/ names, and the same
     answers once the UIDVALIDITY in the UIDLs (the clock at the first login) is set aside.
The anchor must be running (start.sh courier-pop3; ANCHORS_HOME and ANCHORS_PORT_* as usual).
Prints one line per check and exits non-zero on a difference.
"""
import argparse
import os
import pathlib
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

KIT = pathlib.Path(os.environ.get("ANCHORS_DIR", "/work/shared/anchors"))
ROOT = pathlib.Path(__file__).resolve().parent.parent


def anchors_home():
    out = subprocess.run(["bash", "-c", ". %s/lib.sh; echo \"$ANCHORS_HOME\"" % KIT], capture_output=True, text=True,
                         check=True)
    return pathlib.Path(out.stdout.strip())


def session(port, commands):
    """Raw bytes of each answer (multi-line ones up to their final dot line)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    f = sock.makefile("rb")
    f.readline()
    answers = []
    for command, multi in [("USER demo", False), ("PASS demo", False)] + commands + [("QUIT", False)]:
        sock.sendall(command.encode() + b"\r\n")
        data = f.readline()
        if multi and data.startswith(b"+OK"):
            while True:
                line = f.readline()
                if not line:
                    break
                data += line
                if line == b".\r\n":
                    break
        answers.append((command, data))
    sock.close()
    return answers


def commands(n):
    rng = random.Random(7)
    picks = sorted(rng.sample(range(1, n), min(5, n - 1)))
    out = [("STAT", False), ("LIST", True), ("UIDL", True)]
    for i in picks:
        # RETR i then i+1: the second one is answered from our read-ahead.
        out += [("LIST %d" % i, False), ("UIDL %d" % i, False), ("TOP %d 3" % i, True), ("RETR %d" % i, True),
                ("RETR %d" % (i + 1), True)]
    out += [("LIST %d" % (n + 1), False), ("UIDL 0", False)]
    return out


def copy_maildir(src, dst, owner):
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(dst):
        for name in [dirpath] + [os.path.join(dirpath, x) for x in filenames]:
            os.chown(name, owner.st_uid, owner.st_gid)


def start_ours(courier, root):
    subprocess.run([courier, "init", "--root", str(root), "--domain", "example.test", "--demo", "--port-offset",
                    str(20000 + random.randrange(10000))], check=True, capture_output=True)
    log = open(root.parent / "log", "w+")
    proc = subprocess.Popen([courier, "start", "--root", str(root)], stderr=log)
    for _ in range(150):
        log.seek(0)
        text = log.read()
        if "courier: ready" in text:
            port = int(re.search(r"^pop3d listening on 127\.0\.0\.1:(\d+)$", text, re.M).group(1))
            return proc, port
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("our server did not start:\n" + text)


def compare(label, theirs, ours, normalize=None):
    bad = 0
    for (command, a), (_, b) in zip(theirs, ours):
        if normalize:
            a, b = normalize(a), normalize(b)
        if a != b:
            bad += 1
            print("  DIFF %s: courier %r... ours %r..." % (command, a[:120], b[:120]))
    print("%s: %d answers (%d bytes), %s" % (label, len(theirs), sum(len(a) for _, a in theirs),
                                           "identical" if not bad else "%d differ" % bad))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--courier-bin", default=str(ROOT / ".build" / "release" / "courier"))
    a = ap.parse_args()
    home = anchors_home()
    port = int(subprocess.run(["bash", "-c", ". %s/lib.sh; anchor_port courier-pop3" % KIT], capture_output=True,
                              text=True, check=True).stdout)
    theirs_md = home / "courier" / "mail" / "demo" / "Maildir"
    work = pathlib.Path(tempfile.mkdtemp(prefix="pop3-identity-"))
    os.chmod(work, 0o755)
    proc = None
    try:
        subprocess.run([str(KIT / "fill-maildir.py"), str(theirs_md), str(a.messages), "--seed", "1", "--clear",
                        "--new-fraction", "0.2"], check=True, stdout=subprocess.DEVNULL)
        pristine = work / "pristine"
        shutil.copytree(theirs_md, pristine, symlinks=True)
        cmds = commands(a.messages)
        theirs = session(port, cmds)
        courier_cur = sorted(os.listdir(theirs_md / "cur"))
        proc, our_port = start_ours(a.courier_bin, work / "root")
        ours_md = work / "root" / "mail" / "example.test" / "demo" / "Maildir"
        owner = os.stat(ours_md)
        bad = 0
        copy_maildir(theirs_md, ours_md, owner)
        bad += compare("Courier's size list", theirs, session(our_port, cmds))
        copy_maildir(pristine, ours_md, owner)
        ours = session(our_port, cmds)
        same_names = sorted(os.listdir(ours_md / "cur")) == courier_cur
        print("new/ -> cur/ names: %s" % ("identical" if same_names else "DIFFER"))
        bad += 0 if same_names else 1
        bad += compare("fresh maildrop (UIDVALIDITY set aside)", theirs, ours,
                       lambda b: re.sub(rb"(UID\d+)-\d+", rb"\1-V", b))
        return 1 if bad else 0
    finally:
        if proc:
            proc.terminate()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
