#!/usr/bin/env python3
"""Times two commands the way hyperfine -N does (fork/exec to exit, no shell), but with a file
on standard input, which hyperfine 1.15 cannot give without a shell. Runs alternate between the
two commands so that load changes hit both alike; prints the two medians in ms and their ratio,
then the medians of the children's CPU time (user + system, from wait4: exec, page faults and
exit included) and their ratio, which a busy machine disturbs much less than wall time.
  spawn_timer.py NAME RUNS 'TEMPLATE' OURS THEIRS
TEMPLATE is a command with {T} for the tool and an optional `< FILE` at the end (shell words)."""
import os
import shlex
import statistics
import sys
import time

name, runs, template, ours, theirs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]


def command(tool):
    words = shlex.split(template.replace("{T}", tool))
    stdin = None
    if "<" in words:
        at = words.index("<")
        stdin = words[at + 1]
        words = words[:at]
    return words, stdin


def once(words, stdin, null):
    actions = [(os.POSIX_SPAWN_DUP2, null, 1)]
    fd = None
    if stdin:
        fd = os.open(stdin, os.O_RDONLY)
        actions.append((os.POSIX_SPAWN_DUP2, fd, 0))
    start = time.perf_counter()
    pid = os.posix_spawn(words[0], words, os.environ, file_actions=actions)
    _, _, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if fd is not None:
        os.close(fd)
    return elapsed, usage.ru_utime + usage.ru_stime


null = os.open(os.devnull, os.O_WRONLY)
commands = [command(ours), command(theirs)]
for _ in range(max(runs // 10, 5)):  # warm-up: page cache, CPU frequency
    for words, stdin in commands:
        once(words, stdin, null)
times = [[], []]
cpu = [[], []]
for _ in range(runs):
    for index, (words, stdin) in enumerate(commands):
        wall, used = once(words, stdin, null)
        times[index].append(wall)
        cpu[index].append(used)
o, t = statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000
oc, tc = statistics.median(cpu[0]) * 1000, statistics.median(cpu[1]) * 1000
print(f"{name:<24} {o:12.2f} {t:12.2f} {o / t:8.2f} {oc:10.2f} {tc:10.2f} {oc / tc if tc else 0:8.2f}")
