"""MX routing with no `esmtproutes` line, on a real `courier start` site (spec/mta.md §5.3.3):
mail goes to port 25 of the hosts dnsmasq names, and the backup-MX rule applies. Our own host
is a name in `locals` (the site's `me`, mail.example.test) or a loopback address.

- we are MX 20 behind a real MX 10: the mail goes to MX 10;
- we are MX 10 (by address, or by name on a non-loopback address: `me`, a `hosteddomains`
  entry, a `.domain` line of `locals`): "mail loops back to myself";
- esmtproutes wildcards: `.domain` matches subdomains (not the domain itself), the first
  matching line wins, domains match case-insensitively, an empty relay exempts a domain from a
  later wildcard (plain DNS routing for it).
The MX 10 peer listens on port 25 of this machine's first non-loopback IPv4 address (the
test needs one, and root for port 25).
"""
import os
import pathlib
import socket
import time

import pytest
from aiosmtpd.controller import Controller

from test_dns import start_dnsmasq
from test_outbound import Recorder, wait_until
from test_outbound_peers import port_free_on, send
from test_smtp_server import Site


def global_ipv4():
    """This machine's first IPv4 address outside 127/8 (the kernel's local routes)."""
    try:
        lines = pathlib.Path("/proc/net/fib_trie").read_text().splitlines()
    except OSError:
        return None
    for previous, line in zip(lines, lines[1:]):
        if line.strip() == "/32 host LOCAL":
            address = previous.strip().lstrip("|-+ ").strip()
            if address and not address.startswith("127."):
                return address
    return None


@pytest.fixture()
def primary(monkeypatch):
    """aiosmtpd on <global address>:25, and dnsmasq naming it."""
    address = global_ipv4()
    if address is None or os.geteuid() != 0:
        pytest.skip("needs a non-loopback IPv4 address and root (port 25)")
    try:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((address, 25))
    except OSError as error:
        pytest.skip(f"port 25 on {address} is taken: {error}")
    recorder = Recorder()
    controller = Controller(recorder, hostname=address, port=25)
    controller.start()
    dns, server = start_dnsmasq([
        # backup.test: a real MX 10, and us (a loopback address) at 20.
        "--mx-host=backup.test,mx1.backup.test,10",
        "--host-record=mx1.backup.test," + address,
        "--mx-host=backup.test,mx2.backup.test,20",
        "--host-record=mx2.backup.test,127.0.0.1",
        # loopfirst.test: us at 10 (loopback), the real one at 20.
        "--mx-host=loopfirst.test,mx1.loopfirst.test,10",
        "--host-record=mx1.loopfirst.test,127.0.0.1",
        "--mx-host=loopfirst.test,mx1.backup.test,20",
        # byname.test: its only MX is our `me` name, on the non-loopback address.
        "--mx-host=byname.test,mail.example.test,10",
        "--host-record=mail.example.test," + address,
        # Hosts that are ours by `hosteddomains` and by a `.domain` line in `locals`.
        "--mx-host=byhosted.test,mx.hostedhere.test,10",
        "--host-record=mx.hostedhere.test," + address,
        "--mx-host=bywildcard.test,mx.wild.test,10",
        "--host-record=mx.wild.test," + address,
    ])
    monkeypatch.setenv("DNS_SERVER", server)
    yield recorder
    controller.stop()
    dns.terminate()
    dns.wait(timeout=10)


def test_backup_mx_sends_to_the_preferred_host_and_never_loops(tmp_path, primary):
    def configure(etc):
        (etc / "esmtproutes").write_text("# DNS only\n")
        with open(etc / "hosteddomains", "a") as hosted:
            hosted.write("mx.hostedhere.test\n")
        with open(etc / "locals", "a") as local:
            local.write(".wild.test\n")
    site = Site(tmp_path / "site", configure=configure)
    try:
        send(site, ["a@backup.test", "b@loopfirst.test", "c@byname.test", "d@byhosted.test", "e@bywildcard.test"],
             "marker-backup-mx")
        assert wait_until(lambda: primary.transactions)
        assert primary.transactions[0][1] == ["a@backup.test"]
        for address in ("b@loopfirst.test", "c@byname.test", "d@byhosted.test", "e@bywildcard.test"):
            line = site.wait_for(f"addr=<{address}>: bounced", timeout=40)
            assert "configuration error: mail loops back to myself (MX problem)." in line
        time.sleep(1)
        assert [t[1] for t in primary.transactions] == [["a@backup.test"]]
    finally:
        site.stop()


def test_esmtproutes_wildcards_first_match_and_exemption(tmp_path, monkeypatch):
    dns, server = start_dnsmasq(["--mx-host=dns.sub.test,mx.dns.sub.test,10",
                                 "--host-record=mx.dns.sub.test,127.0.0.7",
                                 "--mx-host=exempt.sub.test,mx.exempt.sub.test,10",
                                 "--host-record=mx.exempt.sub.test,127.0.0.8"])
    monkeypatch.setenv("DNS_SERVER", server)
    ports = {host: port_free_on(host) for host in ("127.0.0.5", "127.0.0.6", "127.0.0.7")}
    recorders = {host: Recorder() for host in ports}
    controllers = [Controller(recorders[h], hostname=h, port=p) for h, p in ports.items()]
    for controller in controllers:
        controller.start()
    # x.sub.test → the `.sub.test` line; sub.test itself does not match `.sub.test` → catch-all;
    # dns.sub.test's own line comes first (a host route: its MX, on that port); exempt.sub.test
    # has an empty relay: plain DNS, whose MX is a loopback address, so the mail loops (bounces)
    # instead of taking the `.sub.test` route.
    routes = ("exempt.sub.test:\n"
              f"dns.sub.test: mx.dns.sub.test,{ports['127.0.0.7']}\n"
              f".sub.test: [127.0.0.5],{ports['127.0.0.5']}\n"
              f"SUB.other.test: [127.0.0.5],{ports['127.0.0.5']}\n"
              f": [127.0.0.6],{ports['127.0.0.6']}\n")
    site = Site(tmp_path / "site", configure=lambda etc: (etc / "esmtproutes").write_text(routes))
    try:
        send(site, ["a@x.sub.test", "b@deep.x.sub.test", "c@sub.test", "d@dns.sub.test", "e@sub.other.test",
                    "f@elsewhere.test", "g@exempt.sub.test"], "marker-routes")
        line = site.wait_for("addr=<g@exempt.sub.test>: bounced", timeout=40)
        assert "mail loops back to myself" in line
        assert wait_until(lambda: all(r.transactions for r in recorders.values()))
        time.sleep(1)
        got = {host: sorted(rcpt for t in r.transactions for rcpt in t[1]) for host, r in recorders.items()}
        assert got == {"127.0.0.5": ["a@x.sub.test", "b@deep.x.sub.test", "e@sub.other.test"],
                       "127.0.0.6": ["c@sub.test", "f@elsewhere.test"],
                       "127.0.0.7": ["d@dns.sub.test"]}, got
    finally:
        site.stop()
        for controller in controllers:
            controller.stop()
        dns.terminate()
        dns.wait(timeout=10)
