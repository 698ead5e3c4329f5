#!/usr/bin/env python3
"""Runs one of the anchors' Python load clients unchanged and adds, to each operation's line, the
client process's own CPU per op (user and system) and its context switches per op.

  Benchmarks/client-cpu.py /work/shared/anchors/bench-pop3.py 127.0.0.1:2110 --ops list --pid PID

Patches `benchlib.run_phase` / `Phase.line` of the anchors kit (its directory is taken from the
client's path) so the figures cover exactly the timed part of each phase. Used to ask whether a
server's answers cost the client more (Docs/benchmarks.md, POP3 against the Python client).
Not part of the test run.
"""
import os
import resource
import runpy
import sys

if len(sys.argv) < 2:
    sys.exit(__doc__)
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[1])))
import benchlib  # noqa: E402  (the anchors kit's, found through the client's directory)

run_phase = benchlib.run_phase
line = benchlib.Phase.line


async def measured_phase(phase, *args, **kwargs):
    t0, r0 = os.times(), resource.getrusage(resource.RUSAGE_SELF)
    result = await run_phase(phase, *args, **kwargs)
    t1, r1 = os.times(), resource.getrusage(resource.RUSAGE_SELF)
    phase.cpu_split = (t1.user - t0.user, t1.system - t0.system,
                       r1.ru_nvcsw - r0.ru_nvcsw, r1.ru_nivcsw - r0.ru_nivcsw)
    return result


def measured_line(self, proto, target, unit="ops"):
    text = line(self, proto, target, unit)
    split = getattr(self, "cpu_split", None)
    if split is None:
        return text
    n = max(len(self.lat), 1)
    user, system, voluntary, involuntary = split
    return text + "  client cpu %.3f ms/op (user %.3f, sys %.3f), switches/op %.2f voluntary %.2f involuntary" % (
        (user + system) * 1000 / n, user * 1000 / n, system * 1000 / n, voluntary / n, involuntary / n)


benchlib.run_phase = measured_phase
benchlib.Phase.line = measured_line
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
