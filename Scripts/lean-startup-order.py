#!/usr/bin/env python3
"""Writes Sources/LeanStart/startup-order.txt, the symbol ordering file the lean tools are
linked with (Package.swift, leanLinker): every function and data symbol a typical run of each
tool touches, in first-touch order, so that lld packs them into a few pages.

    swift build -c release --product makemime   (and the other lean tools)
    Scripts/lean-startup-order.py [BIN_DIR]      (default: the release bin path)
    rm the built lean tools; swift build -c release --product makemime   (…: relinks with the
        new order; SwiftPM does not notice a changed order file by itself)

How: each tool runs under valgrind's lackey (every instruction and data address), addresses are
mapped to symbols with `nm -S`. Two corrections:
  - glibc's string functions are IFUNCs: valgrind's CPU selects other variants than the real
    one, so the EVEX/AVX-512 variants of every touched IFUNC are listed too (x86-64 with
    AVX-512, as the benchmark machine; on another CPU only those few functions stay unsorted).
  - the Swift standard library keeps 1.6 MB of functions in one `.text` section of Swift.o; a
    symbol of it in the list moves the whole section, so those symbols go last (the section then
    sits right after the packed ones instead of in the middle of them).
Needs valgrind and binutils (strip: see `main`). Only the order of sections changes, never code: a stale or empty
file costs page faults, nothing else.
"""
import bisect
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Sources", "LeanStart", "startup-order.txt")
SHARED = os.environ.get("COURIER_SHARED", os.path.join(ROOT, "..", "shared"))
DATA = os.path.join(SHARED, "difftools", "data")
CORPUS = os.path.join(SHARED, "difftools", "corpus")
SWIFT_CORE = "/opt/swift/usr/lib/swift_static/linux/libswiftCore.a"

# tool -> list of (arguments, stdin file or None); {W} is the scratch directory
RUNS = {
    "makemime": [(["-c", "auto", "{W}/part-text.txt"], None),
                 (["-c", "image/gif", "-e", "base64", "{W}/part-image.gif"], None),
                 (["-c", "text/plain", "-e", "quoted-printable", "{W}/part-8bit.txt"], None)],
    "reformail": [([], "01-plain.eml"), (["-I", "Subject: replaced"], "04-duplicate-headers.eml"),
                  (["-x", "From:"], "23-reply-to.eml")],
    "reformime": [([], "07-nested-alternative.eml"), (["-i"], "06-multipart-mixed.eml"),
                  (["-e", "-s", "1.2"], "06-multipart-mixed.eml"),
                  (["-c", "utf-8", "-h", "=?UTF-8?B?w6TDtsO8?= x"], None)],
    "deliverquota": [(["{W}/Maildir"], "01-plain.eml")],
    "maildirmake": [(["{W}/Made"], None)],
    "lockmail": [(["{W}/lockfile", "/bin/true"], None)],
}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def symbols(binary):
    table = []
    for line in run(["nm", "-S", "--defined-only", binary]).splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tTwWiIbBdDrRvV":
            address, size = int(p[0], 16), int(p[1], 16)
            if size:
                table.append((address, size, p[3], p[2]))
    table.sort()
    return table


def touched(binary, table, log):
    starts = [entry[0] for entry in table]
    names = []
    for line in open(log, errors="replace"):
        parts = line.split()
        if len(parts) != 2 or parts[0] not in ("I", "L", "S", "M"):
            continue
        try:
            address = int(parts[1].split(",")[0], 16)
        except ValueError:
            continue
        index = bisect.bisect_right(starts, address) - 1
        if index >= 0:
            start, size, name, kind = table[index]
            if address < start + size:
                names.append((name, kind))
    return names


def swift_core_big_text():
    """Functions of Swift.o's shared `.text` section (the ones without a section of their own)."""
    with tempfile.TemporaryDirectory() as scratch:
        run(["ar", "x", SWIFT_CORE, "Swift.o"], cwd=scratch)
        obj = os.path.join(scratch, "Swift.o")
        index = None
        for line in run(["readelf", "-SW", obj]).splitlines():
            m = re.match(r"\s*\[\s*(\d+)\]\s+\.text\s", line)
            if m:
                index = m.group(1)
        big = set()
        for line in run(["readelf", "-sW", obj]).splitlines():
            p = line.split()
            if len(p) >= 8 and p[6] == index and p[3] == "FUNC":
                big.add(p[7])
        return big


def main():
    bindir = sys.argv[1] if len(sys.argv) > 1 else run(
        ["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).strip()
    for tool in ("valgrind", "nm", "readelf", "ar", "strip"):
        if not shutil.which(tool):
            sys.exit(f"{sys.argv[0]}: needs {tool}")
    order, seen, ifuncs = [], set(), set()
    all_names = set()
    with tempfile.TemporaryDirectory() as work:
        for name in os.listdir(DATA):
            if name.startswith("part-"):
                shutil.copy(os.path.join(DATA, name), work)
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(work, "Maildir", sub))
        with open(os.path.join(work, "Maildir", "maildirsize"), "w") as f:
            f.write("1000000000S,1000000C\n")
        for tool, runs in RUNS.items():
            binary = os.path.join(bindir, tool)
            if not os.path.exists(binary):
                print(f"skipping {tool} (not built)")
                continue
            table = symbols(binary)
            all_names.update(entry[2] for entry in table)
            # An IFUNC shares its address with its resolver, which nm may name instead.
            by_address = {}
            for address, _, name, kind in table:
                by_address.setdefault(address, []).append((name, kind))
            ifunc_names = {}
            for entries in by_address.values():
                resolvers = [name for name, kind in entries if kind in "iI"]
                if resolvers:
                    for name, _ in entries:
                        ifunc_names[name] = resolvers
            # valgrind 3.19 gives up on the DWARF 5 debug information of a Swift 6.3 build
            # ("Possibly corrupted debuginfo file") and traces nothing: it runs a copy without
            # it, whose code and symbols sit at the same addresses.
            os.makedirs(os.path.join(work, "traced"), exist_ok=True)
            traced = os.path.join(work, "traced", tool)
            run(["strip", "--strip-debug", "-o", traced, binary])
            for number, (args, stdin) in enumerate(runs):
                log = os.path.join(work, f"{tool}.{number}.lackey")
                argv = [a.replace("{W}", work) for a in args]
                source = open(os.path.join(CORPUS, stdin), "rb") if stdin else subprocess.DEVNULL
                subprocess.run(["valgrind", "--tool=lackey", "--trace-mem=yes", f"--log-file={log}",
                                traced, *argv], stdin=source, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=work)
                if not os.path.exists(log) or os.path.getsize(log) < 100_000:
                    sys.exit(f"{sys.argv[0]}: valgrind traced nothing of {tool}")
                for name, kind in touched(binary, table, log):
                    ifuncs.update(ifunc_names.get(name, ()))
                    if name not in seen:
                        seen.add(name)
                        order.append(name)
                os.remove(log)
    # The variants the real CPU selects (see the module comment).
    variants = []
    for name in sorted(ifuncs):
        base = name.lstrip("_")
        for suffix in ("_evex", "_evex_unaligned_erms", "_avx512_unaligned_erms"):
            candidate = f"__{base}{suffix}"
            if candidate in all_names and candidate not in seen:
                seen.add(candidate)
                variants.append(candidate)
    big = swift_core_big_text()
    packed = [n for n in order if n not in big]
    last = [n for n in order if n in big]
    with open(OUT, "w") as f:
        f.write("\n".join(packed[:1] + variants + packed[1:] + last) + "\n")
    print(f"{OUT}: {len(packed) + len(variants)} packed symbols, {len(last)} in Swift.o's .text")


if __name__ == "__main__":
    main()
