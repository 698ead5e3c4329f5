#!/usr/bin/env python3
"""Load client for authdaemon sockets (Courier's wire format, one request per connection).
   authdaemon_load.py SOCKET --users N [--requests R] [--threads T] [--kind pre|auth] [--cpu-of PID]
Prints one line: `KIND SOCKET R requests in T s = X/s (errors E)`; with --cpu-of, also the
server's CPU time per request (user + system of PID and all its descendants, threads included),
which a busy shared machine disturbs far less than the rate.
Used by Benchmarks/bench-authdaemon.sh for ours and Courier's authdaemond alike."""
import argparse
import os
import socket
import threading
import time


def ask(path, request):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(request)
        out = b""
        while True:
            data = s.recv(65536)
            if not data:
                return out
            out += data


def tree_cpu_seconds(root):
    """User + system CPU seconds of `root` and its descendants (threads are counted in their
    process's line)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append((int(entry), int(fields[11]) + int(fields[12])))
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0, [root]
    try:
        fields = open(f"/proc/{root}/stat").read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    except OSError:
        pass
    while todo:
        for pid, cpu in children.get(todo.pop(), []):
            total += cpu
            todo.append(pid)
    return total / ticks


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--kind", choices=["pre", "auth"], default="pre")
    parser.add_argument("--password", default="benchpw")
    parser.add_argument("--cpu-of", type=int, help="server process whose CPU time per request to report")
    args = parser.parse_args()
    errors = [0] * args.threads

    def request(index):
        user = f"user{(index * 7919) % args.users}@bench.test".encode()
        if args.kind == "pre":
            return b"PRE . imap " + user + b"\n"
        payload = b"imap\nlogin\n" + user + b"\n" + args.password.encode() + b"\n"
        return b"AUTH %d\n" % len(payload) + payload

    def worker(slot):
        for index in range(slot, args.requests, args.threads):
            reply = ask(args.socket, request(index))
            if not reply.endswith(b"\n.\n"):
                errors[slot] += 1

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(args.threads)]
    cpu_before = tree_cpu_seconds(args.cpu_of) if args.cpu_of else 0
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    cpu = ""
    if args.cpu_of:
        used = tree_cpu_seconds(args.cpu_of) - cpu_before
        cpu = f", server CPU {used * 1e6 / args.requests:.1f} us/request"
    print(f"{args.kind} {args.socket} {args.requests} requests in {elapsed:.2f} s = "
          f"{args.requests / elapsed:.0f}/s (errors {sum(errors)}){cpu}")


if __name__ == "__main__":
    main()
