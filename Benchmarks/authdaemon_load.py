#!/usr/bin/env python3
"""Load client for authdaemon sockets (Courier's wire format, one request per connection).
   authdaemon_load.py SOCKET --users N [--requests R] [--threads T] [--kind pre|auth]
Prints one line: `KIND SOCKET R requests in T s = X/s (errors E)`.
Used by Benchmarks/bench-authdaemon.sh for ours and Courier's authdaemond alike."""
import argparse
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--kind", choices=["pre", "auth"], default="pre")
    parser.add_argument("--password", default="benchpw")
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
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    print(f"{args.kind} {args.socket} {args.requests} requests in {elapsed:.2f} s = "
          f"{args.requests / elapsed:.0f}/s (errors {sum(errors)})")


if __name__ == "__main__":
    main()
