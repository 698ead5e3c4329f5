"""The DNS resolver against Debian's dnsmasq serving a private zone on a loopback port:
`courier testmxlookup` (Courier's output format, spec/mta.md §5.3.8) and `courier dnsquery`."""
import os
import shutil
import socket
import subprocess
import time

import pytest

BIG_TXT = ["a" * 250, "b" * 250, "c" * 250]


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def start_dnsmasq(records):
    """Debian's dnsmasq on a free loopback port, authoritative for `.test` with `records`
    (dnsmasq options such as --mx-host=...); returns (process, "127.0.0.1:PORT")."""
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.path.exists(dnsmasq):
        pytest.fail("Debian's dnsmasq is not installed (Scripts/test installs dnsmasq-base)")
    port = free_port()
    args = [
        dnsmasq, "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
        "--no-resolv", "--no-hosts", "--local=/test/", "--local-ttl=30", "--log-facility=-",
    ] + records
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("dnsmasq did not start: " + proc.stdout.read().decode(errors="replace"))
            time.sleep(0.1)
    return proc, f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
def dns_server():
    proc, address = start_dnsmasq([
        # example.test: two MX at preference 10, one at 20 (dual-stack).
        "--mx-host=example.test,mx2.example.test,20",
        "--mx-host=example.test,mx1.example.test,10",
        "--mx-host=example.test,mx1b.example.test,10",
        "--host-record=mx1.example.test,192.0.2.1",
        "--host-record=mx1b.example.test,192.0.2.11",
        "--host-record=mx2.example.test,192.0.2.2,2001:db8::2",
        # plain.test: no MX, an address (implicit MX); alias.test: a CNAME to it.
        "--host-record=plain.test,192.0.2.9",
        "--cname=alias.test,plain.test",
        # nullmx.test: RFC 7505 null MX.
        "--mx-host=nullmx.test,.,0",
        # literal.test: an MX whose target is an IP address (RFC 1035 violation).
        "--mx-host=literal.test,192.0.2.7,10",
        # txtonly.test: a TXT record and nothing else; big.test: a TXT too large for 512-byte UDP.
        "--txt-record=txtonly.test,v=spf1 -all",
        "--txt-record=big.test," + ",".join(BIG_TXT),
    ])
    yield address
    proc.terminate()
    proc.wait(timeout=10)


def courier(bin_dir, server, *args):
    env = dict(os.environ, DNS_SERVER=server)
    env.pop("COURIER_ROOT", None)
    return subprocess.run([str(bin_dir / "courier"), *args], env=env, capture_output=True, text=True, timeout=120)


def relays(output):
    lines = output.splitlines()
    assert lines[0].startswith("Domain ")
    result = []
    for line in lines[1:]:
        assert line.startswith("Relay: "), line
        host, priority, address = (part.split(": ", 1)[1] for part in line.split(", "))
        result.append((host, int(priority), address))
    return result


def test_mx_order_by_preference_with_ipv6_first(bin_dir, dns_server):
    env = dict(os.environ, DNS_SERVER=dns_server, ESMTP_PREFER_IPV6_MX="1")
    run = subprocess.run([str(bin_dir / "courier"), "testmxlookup", "example.test"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0] == "Domain example.test:"
    got = relays(run.stdout)
    # Courier (built with IPv6, as every distribution builds it) prints IPv4 addresses mapped.
    assert sorted(got[:2]) == [("mx1.example.test", 10, "::ffff:192.0.2.1"), ("mx1b.example.test", 10, "::ffff:192.0.2.11")]
    # ESMTP_PREFER_IPV6_MX=1 (courierd's setting): the AAAA address of a host before its A address.
    assert got[2:] == [("mx2.example.test", 20, "2001:db8::2"), ("mx2.example.test", 20, "::ffff:192.0.2.2")]


def test_equal_preference_order_is_randomised(bin_dir, dns_server):
    firsts = set()
    for _ in range(24):
        run = courier(bin_dir, dns_server, "testmxlookup", "example.test")
        assert run.returncode == 0
        firsts.add(relays(run.stdout)[0][0])
    assert firsts == {"mx1.example.test", "mx1b.example.test"}


def test_ipv4_first_when_ipv6_not_preferred(bin_dir, dns_server):
    env = dict(os.environ, DNS_SERVER=dns_server, ESMTP_PREFER_IPV6_MX="0")
    run = subprocess.run([str(bin_dir / "courier"), "testmxlookup", "example.test"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert relays(run.stdout)[2:] == [("mx2.example.test", 20, "::ffff:192.0.2.2"), ("mx2.example.test", 20, "2001:db8::2")]
    # Unset, as in a shell: Courier's resolver puts A first too (checked against Debian's
    # courier-mta 1.0.16 testmxlookup).
    run = courier(bin_dir, dns_server, "testmxlookup", "example.test")
    assert relays(run.stdout)[2:] == [("mx2.example.test", 20, "::ffff:192.0.2.2"), ("mx2.example.test", 20, "2001:db8::2")]


def test_implicit_mx_and_cname(bin_dir, dns_server):
    run = courier(bin_dir, dns_server, "testmxlookup", "plain.test")
    assert run.returncode == 0
    assert run.stdout == "Domain plain.test:\nRelay: plain.test, Priority: -1, Address: ::ffff:192.0.2.9\n"
    run = courier(bin_dir, dns_server, "testmxlookup", "alias.test")
    assert run.stdout == "Domain alias.test:\nRelay: alias.test, Priority: -1, Address: ::ffff:192.0.2.9\n"


def test_dotless_name_gets_the_default_domain(bin_dir, dns_server):
    """Courier's resolver appends the default domain (resolv.conf `domain`; here the standard
    LOCALDOMAIN override of it) to a name without a dot (spec/mta.md §5.3.3)."""
    env = dict(os.environ, DNS_SERVER=dns_server, LOCALDOMAIN="test")
    env.pop("COURIER_ROOT", None)
    run = subprocess.run([str(bin_dir / "courier"), "testmxlookup", "plain"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.stdout == "Domain plain:\nRelay: plain.test, Priority: -1, Address: ::ffff:192.0.2.9\n", run.stdout + run.stderr
    # Without a default domain the bare name is asked as it is (dnsmasq, authoritative for
    # .test only, does not answer for it).
    run = courier(bin_dir, dns_server, "testmxlookup", "plain")
    assert run.returncode == 1 and run.stdout.startswith("plain: "), run.stdout


def test_mx_naming_an_address_is_flagged(bin_dir, dns_server):
    # As Debian's courier-mta 1.0.16 prints it: the literal, mapped, as host and address.
    run = courier(bin_dir, dns_server, "testmxlookup", "literal.test")
    assert run.stdout == ("Domain literal.test:\n"
                          "Relay: ::ffff:192.0.2.7, Priority: 10, Address: ::ffff:192.0.2.7 [ ERROR ]\n"), run.stdout


def test_local_mx_hosts_are_marked(bin_dir, dns_server, tmp_path):
    """`[ LOCAL ]`: the MX host is ours, by `locals` (a `.domain` wildcard here) or
    `hosteddomains` (Courier's config_islocal)."""
    root = tmp_path / "site"
    init = subprocess.run([str(bin_dir / "courier"), "init", "--root", str(root), "--demo"],
                          capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    with open(root / "etc" / "locals", "a") as locals_file:
        locals_file.write(".example.test\n")
    env = dict(os.environ, DNS_SERVER=dns_server, COURIER_ROOT=str(root), ESMTP_PREFER_IPV6_MX="1")
    run = subprocess.run([str(bin_dir / "courier"), "testmxlookup", "example.test"], env=env,
                         capture_output=True, text=True, timeout=120)
    lines = run.stdout.splitlines()
    assert len(lines) == 5 and all(line.endswith(" [ LOCAL ]") for line in lines[1:]), run.stdout
    (root / "etc" / "locals").write_text("localhost\n")
    (root / "etc" / "hosteddomains").write_text("mx2.example.test\n")
    run = subprocess.run([str(bin_dir / "courier"), "testmxlookup", "example.test"], env=env,
                         capture_output=True, text=True, timeout=120)
    marked = [line.split(",")[0] for line in run.stdout.splitlines() if line.endswith(" [ LOCAL ]")]
    assert marked == ["Relay: mx2.example.test", "Relay: mx2.example.test"], run.stdout


def test_nxdomain_is_a_hard_error(bin_dir, dns_server):
    run = courier(bin_dir, dns_server, "testmxlookup", "nosuch.test")
    assert (run.returncode, run.stdout) == (1, "nosuch.test: hard error.\n")
    run = courier(bin_dir, dns_server, "dnsquery", "A", "nosuch.test")
    assert (run.returncode, run.stdout) == (1, "nosuch.test: no such domain.\n")


def test_name_without_addresses_is_a_hard_error(bin_dir, dns_server):
    run = courier(bin_dir, dns_server, "testmxlookup", "txtonly.test")
    assert (run.returncode, run.stdout) == (1, "txtonly.test: hard error.\n")


def test_null_mx(bin_dir, dns_server):
    run = courier(bin_dir, dns_server, "testmxlookup", "nullmx.test")
    assert (run.returncode, run.stdout) == (1, "nullmx.test: no mail.\n")


def test_refused_is_a_soft_error(bin_dir, dns_server):
    # dnsmasq has no upstream: outside its zone it answers REFUSED, a temporary failure.
    run = courier(bin_dir, dns_server, "testmxlookup", "example.org")
    assert (run.returncode, run.stdout) == (1, "example.org: soft error.\n")
    run = courier(bin_dir, dns_server, "dnsquery", "A", "example.org")
    assert run.returncode == 75


def test_no_server_is_a_soft_error(bin_dir):
    port = free_port()  # nothing listens there: ICMP port unreachable on loopback
    run = courier(bin_dir, f"127.0.0.1:{port}", "testmxlookup", "example.test")
    assert (run.returncode, run.stdout) == (1, "example.test: soft error.\n")


def test_txt_record(bin_dir, dns_server):
    run = courier(bin_dir, dns_server, "dnsquery", "TXT", "txtonly.test")
    assert (run.returncode, run.stdout) == (0, 'txtonly.test 30 TXT "v=spf1 -all"\n')
    run = courier(bin_dir, dns_server, "dnsquery", "TXT", "plain.test")
    assert (run.returncode, run.stdout) == (1, "plain.test: no TXT records.\n")


def test_truncated_udp_answer_is_retried_over_tcp(bin_dir, dns_server):
    # Without EDNS0 the 750-byte TXT does not fit in 512 bytes: dnsmasq sets TC, we ask by TCP.
    expected = "big.test 30 TXT " + " ".join(f'"{s}"' for s in BIG_TXT) + "\n"
    for size in ("0", "1232"):
        run = courier(bin_dir, dns_server, "dnsquery", "--udp-size", size, "TXT", "big.test")
        assert (run.returncode, run.stdout) == (0, expected), run.stderr


def test_ptr_and_mx_records(bin_dir, dns_server):
    run = courier(bin_dir, dns_server, "dnsquery", "PTR", "192.0.2.9")
    assert (run.returncode, run.stdout) == (0, "9.2.0.192.in-addr.arpa 30 PTR plain.test.\n")
    run = courier(bin_dir, dns_server, "dnsquery", "MX", "example.test")
    assert sorted(run.stdout.splitlines()) == [
        "example.test 30 MX 10 mx1.example.test.",
        "example.test 30 MX 10 mx1b.example.test.",
        "example.test 30 MX 20 mx2.example.test.",
    ]
    run = courier(bin_dir, dns_server, "dnsquery", "AAAA", "mx2.example.test")
    assert run.stdout == "mx2.example.test 30 AAAA 2001:db8::2\n"


# A deliberately broken name server (a small script, not a DNS implementation): for each UDP
# query it first sends a reply with the wrong id, then a reply cut off mid-question with the TC
# bit set; over TCP it gives the real answer. It also serves SERVFAIL and a CNAME loop.
HOSTILE_SERVER = r'''
import socket, socketserver, struct, sys, threading

def question_end(q):
    i = 12
    while q[i]:
        i += 1 + q[i]
    return i + 5

def answer(q, tcp):
    qid = struct.unpack(">H", q[:2])[0]
    end = question_end(q)
    name = q[12:end - 4]
    question = q[12:end]
    if name == b"\x08servfail\x07hostile\x00":
        return [struct.pack(">HHHHHH", qid, 0x8182, 1, 0, 0, 0) + question]
    if name == b"\x04loop\x07hostile\x00":
        # loop.hostile CNAME loop2.hostile; loop2.hostile CNAME loop.hostile
        loop2 = b"\x05loop2\xc0\x11"
        rr1 = b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, len(loop2)) + loop2
        rr2 = b"\xc0" + bytes([12 + len(question) + 12]) + struct.pack(">HHIH", 5, 1, 60, 2) + b"\xc0\x0c"
        return [struct.pack(">HHHHHH", qid, 0x8180, 1, 2, 0, 0) + question + rr1 + rr2]
    good = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question \
        + b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 99])
    if tcp:
        return [good]
    wrong_id = struct.pack(">H", qid ^ 0x5555) + good[2:-4] + bytes([203, 0, 113, 66])
    truncated = struct.pack(">HHHHHH", qid, 0x8380, 1, 1, 0, 0) + question[:3]
    return [wrong_id, truncated]

class UDP(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        for reply in answer(data, False):
            sock.sendto(reply, self.client_address)

class TCP(socketserver.BaseRequestHandler):
    def handle(self):
        length = struct.unpack(">H", self.request.recv(2))[0]
        data = b""
        while len(data) < length:
            data += self.request.recv(length - len(data))
        for reply in answer(data, True):
            self.request.sendall(struct.pack(">H", len(reply)) + reply)

port = int(sys.argv[1])
udp = socketserver.ThreadingUDPServer(("127.0.0.1", port), UDP)
tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), TCP)
threading.Thread(target=udp.serve_forever, daemon=True).start()
print("ready", flush=True)
tcp.serve_forever()
'''


@pytest.fixture(scope="module")
def hostile_server():
    port = free_port()
    proc = subprocess.Popen(["python3", "-c", HOSTILE_SERVER, str(port)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    yield f"127.0.0.1:{port}"
    proc.kill()
    proc.wait(timeout=10)


def test_wrong_id_ignored_and_truncated_reply_retried_over_tcp(bin_dir, hostile_server):
    run = courier(bin_dir, hostile_server, "dnsquery", "A", "host.hostile")
    assert (run.returncode, run.stdout) == (0, "host.hostile 60 A 192.0.2.99\n"), run.stderr
    run = courier(bin_dir, hostile_server, "testmxlookup", "host.hostile")
    assert run.stdout == "Domain host.hostile:\nRelay: host.hostile, Priority: -1, Address: ::ffff:192.0.2.99\n"


def test_servfail_is_temporary(bin_dir, hostile_server):
    run = courier(bin_dir, hostile_server, "testmxlookup", "servfail.hostile")
    assert (run.returncode, run.stdout) == (1, "servfail.hostile: soft error.\n")
    run = courier(bin_dir, hostile_server, "dnsquery", "A", "servfail.hostile")
    assert run.returncode == 75


def test_cname_loop_is_bad_dns(bin_dir, hostile_server):
    run = courier(bin_dir, hostile_server, "testmxlookup", "loop.hostile")
    assert (run.returncode, run.stdout) == (1, "loop.hostile: bad DNS records (recursive CNAME).\n")
