"""`courier start` when a listener's port is taken: one clear line naming the service, the
address and the reason, no "ready", and a non-zero exit status (not a raw NIO error)."""
import socket
import subprocess

import pytest

from courier_site import COURIER, CourierSite, require_courier, set_variable


def occupied_port(host):
    """A listening socket on a free port of `host`; the caller closes it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen()
    return sock, sock.getsockname()[1]


@pytest.mark.parametrize("service,file,variable,address,occupant,shown", [
    ("esmtpd", "esmtpd", "PORT", "127.0.0.1", "127.0.0.1", "127.0.0.1"),
    ("imapd", "imapd", "PORT", "0", "0.0.0.0", "*"),
    ("pop3d", "pop3d", "PORT", "127.0.0.1", "127.0.0.1", "127.0.0.1"),
    ("metrics", "metrics", "PORT", "127.0.0.1", "127.0.0.1", "127.0.0.1"),
])
def test_port_in_use_stops_start_with_one_clear_line(tmp_path, service, file, variable, address, occupant, shown):
    require_courier()
    site = CourierSite(tmp_path / "site", services=("esmtpd", "imapd", "pop3d", "metrics"))
    root = site.root
    sock, port = occupied_port(occupant)
    try:
        set_variable(root / "etc" / file, variable, port)
        set_variable(root / "etc" / file, "ADDRESS", address)
        started = subprocess.run([str(COURIER), "start", "--root", str(root)],
                                 capture_output=True, text=True, timeout=60)
    finally:
        sock.close()
    assert started.returncode != 0
    expected = f"courier: {service}: cannot listen on {shown}:{port}: address already in use"
    lines = started.stderr.splitlines()
    assert expected in lines, started.stderr
    assert "courier: ready" not in started.stderr
    # One line, not a stack of NIO errors.
    assert not any("errno" in line or "IOError" in line for line in lines), started.stderr
    assert expected in (root / "var" / "log" / "courier.log").read_text()
