"""Hostile and huge inputs for the per-message tools: they must never crash or hang, and their
memory must stay bounded (spec: a 100 MB message, a 1 MB header line).

Each run is a real process of the lean executable; a crash shows as a negative return code
(killed by a signal). Memory is read from the kernel's accounting of the child (ru_maxrss).
"""
import os
import random
import re
import subprocess
import tempfile

import pytest

MB = 1024 * 1024


def run(tool_path, args, data, timeout=300):
    """Runs a tool with data on stdin; returns (returncode, stdout, stderr, peak RSS in bytes).

    The tool runs under GNU time, which reports the peak RSS of the tool alone (measuring
    from this process would count the pages of the forked Python image)."""
    with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout, \
            tempfile.TemporaryFile() as ferr, tempfile.NamedTemporaryFile() as frss:
        fin.write(data)
        fin.seek(0)
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", frss.name, str(tool_path)] + args,
                           stdin=fin, stdout=fout, stderr=ferr, timeout=timeout)
        fout.seek(0)
        ferr.seek(0)
        report = open(frss.name).read()
        text = report.split()
        rss = int(text[-1]) * 1024 if text and text[-1].isdigit() else 0
        code = p.returncode
        m = re.search(r"terminated by signal (\d+)", report)
        if m:
            code = -int(m.group(1))
        return code, fout.read(), ferr.read(), rss


def big_message(size):
    """A multipart message of about `size` bytes: a text part, a QP part and a base64 part."""
    rnd = random.Random(42)
    line = b"The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\n"
    text = line * (size // 3 // len(line))
    qp = (b"caf=E9 na=EFve soft=\n break " * 2 + b"\n") * (size // 3 // 60)
    b64line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n"
    b64 = b64line * (size // 3 // len(b64line))
    return (b"From: a@example.org\nTo: b@example.org\nSubject: big\nMessage-ID: <big@x>\n"
            b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"BB\"\n\npre\n"
            b"--BB\nContent-Type: text/plain\n\n" + text +
            b"--BB\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n" + qp +
            b"--BB\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" + b64 +
            b"--BB--\n")


HOSTILE = {
    "empty": b"",
    "nul-bytes": b"\0" * 1000,
    "only-newlines": b"\n" * 10000,
    "only-cr": b"\r" * 10000,
    "long-header-line": b"Subject: " + b"x" * MB + b"\n\nbody\n",
    "long-folded-header": b"Subject: a\n" + b" folded\n" * 100000 + b"\nbody\n",
    "many-headers": b"X-H: v\n" * 200000 + b"\nbody\n",
    "deep-nesting": (b"MIME-Version: 1.0\n" + b"".join(
        b"Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n" % (i, i) for i in range(2000)) + b"\nx\n"),
    "many-parts": (b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"p\"\n\n" +
                   b"--p\nContent-Type: text/plain\n\nx\n" * 20000 + b"--p--\n"),
    "unterminated-everything": (b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"\n"
                                b"From: \"unterminated (comment <x@\n\n--\n=?utf-8?B?====?=\n"),
    "bad-encodings": (b"MIME-Version: 1.0\nContent-Type: text/plain; charset=\"x-no-such\"\n"
                      b"Content-Transfer-Encoding: base64\nSubject: =?x-bogus?Q?=ZZ?= =?utf-8?B?*?=\n\n"
                      b"!!!!====@@@@\n=\n=Z\n"),
    "rfc2231-garbage": (b"MIME-Version: 1.0\nContent-Type: text/plain; name*0*=utf-8''%ZZ; name*99=x; name*=''%\n\nx\n"),
}


def random_inputs(n=30, seed=7):
    rnd = random.Random(seed)
    alphabet = b"ab:= \t\r\n-\"<>()@,;.\\?=_%*'" + bytes(range(0x80, 0x90))
    fragments = [b"MIME-Version: 1.0\n", b"Content-Type: multipart/mixed; boundary=x\n", b"\n--x\n",
                 b"--x--\n", b"Content-Transfer-Encoding: base64\n", b"=?utf-8?q?", b"?=", b"From: ",
                 b"Content-Type: message/rfc822\n"]
    for _ in range(n):
        out = bytearray()
        for _ in range(rnd.randrange(1, 400)):
            if rnd.random() < 0.3:
                out += rnd.choice(fragments)
            else:
                out += bytes(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 20)))
        yield bytes(out)


CASES = [
    ("reformail", []), ("reformail", ["-c"]), ("reformail", ["-f1"]), ("reformail", ["-f0"]),
    ("reformail", ["-x", "Subject:"]), ("reformail", ["-I", "Subject: x", "-u", "X-H:"]),
    ("reformime", []), ("reformime", ["-i"]), ("reformime", ["-e", "-s", "1.2"]),
    ("reformime", ["-r"]), ("reformime", ["-r7"]), ("reformime", ["-u"]), ("reformime", ["-d"]),
]


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("tool,args", CASES)
def test_hostile_input_never_crashes(bin_dir, tool, args, name):
    code, _out, _err, _rss = run(bin_dir / tool, args, HOSTILE[name], timeout=120)
    assert code >= 0, f"{tool} {args} on {name}: killed by signal {-code}"
    assert code in (0, 1, 75), f"{tool} {args} on {name}: unexpected exit {code}"


@pytest.mark.parametrize("tool,args", CASES)
def test_random_input_never_crashes(bin_dir, tool, args):
    for i, data in enumerate(random_inputs()):
        code, _out, _err, _rss = run(bin_dir / tool, args, data, timeout=60)
        assert code >= 0, f"{tool} {args} on random input {i}: killed by signal {-code}"


def test_memory_is_bounded_on_100mb_message(bin_dir, tmp_path):
    """Streaming tools hold a bounded window; parsing tools keep structure, not copies."""
    data = big_message(100 * MB)
    assert len(data) > 95 * MB
    # reformail copies the body through: its memory must not grow with the message.
    for args in ([], ["-I", "Subject: new"], ["-c"]):
        code, out, _err, rss = run(bin_dir / "reformail", args, data)
        assert code == 0
        assert len(out) >= len(data) - 100
        assert rss < 64 * MB, f"reformail {args}: peak RSS {rss // MB} MB on a 100 MB message"
    # reformime parses the whole message: at most the message once plus a margin.
    for args in ([], ["-i"], ["-e", "-s", "1.3"]):
        code, out, _err, rss = run(bin_dir / "reformime", args, data)
        assert code == 0, (args, _err[:200])
        assert rss < len(data) + 80 * MB, f"reformime {args}: peak RSS {rss // MB} MB on a 100 MB message"
    # makemime encodes a file in chunks.
    f = tmp_path / "big.bin"
    f.write_bytes(data)
    code, out, _err, rss = run(bin_dir / "makemime", ["-c", "application/octet-stream", "-e", "base64", str(f)], b"")
    assert code == 0
    assert len(out) > len(data) * 4 // 3
    assert rss < 3 * len(data) + 80 * MB


def test_one_megabyte_header_line(bin_dir):
    data = b"Subject: " + b"y" * MB + b"\nFrom: a@b\n\nbody\n"
    code, out, _err, _rss = run(bin_dir / "reformail", ["-x", "Subject:"], data)
    assert code == 0 and out == b"y" * MB + b"\n"
    code, out, _err, _rss = run(bin_dir / "reformime", ["-i"], data)
    assert code == 0 and b"section: 1\n" in out
