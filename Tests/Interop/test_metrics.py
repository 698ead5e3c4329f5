"""The `metrics` listener of a real `courier start`: it announces `metrics listening on
ADDRESS:PORT`, answers Prometheus' text format at /metrics, and its counters move when SMTP
sessions, accepted and delivered messages, bounces and AUTH failures happen."""
import os
import re
import smtplib
import subprocess
import urllib.error
import urllib.request

import pytest

import test_smtp_server
from courier_site import COURIER, CourierSite, require_courier


class MetricsSite(CourierSite):
    """A demo site like test_smtp_server's, with the metrics listener on too (free port)."""

    stored_messages = test_smtp_server.Site.stored_messages
    messages_containing = test_smtp_server.Site.messages_containing

    def __init__(self, root):
        super().__init__(root, services=("esmtpd", "esmtpd-msa", "esmtpd-ssl", "metrics"),
                         settings={("metrics", "ADDRESS"): "127.0.0.1"})
        self.metrics_port = self.ports["metrics"]
        self.start()


@pytest.fixture()
def site(tmp_path):
    require_courier()
    s = MetricsSite(tmp_path / "site")
    yield s
    s.stop()


def scrape(site):
    with urllib.request.urlopen(f"http://127.0.0.1:{site.metrics_port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def value(text, name, labels=None):
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        if labels and all(f'{k}="{v}"' in (match.group(2) or "") for k, v in labels.items()):
            return float(match.group(3))
        if not labels:
            return float(match.group(3))
    return 0.0


def test_metrics_listener_serves_moving_counters(site):
    before = scrape(site)
    with smtplib.SMTP("127.0.0.1", site.ports["esmtpd"], timeout=10) as client:
        client.ehlo("client.example")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("demo", "wrong")
        client.sendmail("demo@example.test", ["demo@example.test"], "Subject: marker-metrics\r\n\r\nhi\r\n")
    env = dict(os.environ, COURIER_ROOT=str(site.root))
    subprocess.run([str(COURIER), "sendmail", "-f", "demo@example.test", "nobody-metrics@example.test"],
                   input=b"Subject: bounce me\n\nx\n", env=env, check=True, timeout=30)
    assert len(site.messages_containing("marker-metrics")) == 1
    site.wait_for("nobody-metrics@example.test>: bounced")
    site.wait_for("DSN (failed)")
    after = scrape(site)
    assert value(after, "courier_smtp_sessions_total") >= value(before, "courier_smtp_sessions_total") + 1
    assert value(after, "courier_smtp_auth_failures_total") >= 1
    assert value(after, "courier_messages_accepted_total", {"source": "smtp"}) >= 1
    assert value(after, "courier_deliveries_total", {"result": "delivered"}) >= 1
    assert value(after, "courier_deliveries_total", {"result": "failed"}) >= 1
    assert value(after, "courier_messages_bounced_total") >= 1
    assert "# TYPE courier_smtp_sessions_total counter" in after


def test_metrics_listening_line_and_404(site):
    # The announcement came before "ready" (the fixture waited for ready).
    log = (site.root / "var" / "log" / "courier.log").read_text()
    assert f"metrics listening on 127.0.0.1:{site.metrics_port}" in log
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{site.metrics_port}/nothing", timeout=10)
    assert missing.value.code == 404
