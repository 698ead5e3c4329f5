"""`backuprelay` (spec/mta.md §3.16, §4.7) on a real `courier start` site: mail for a domain
that keeps deferring (its esmtproutes entry points at a closed port) is, once `warntime` has
passed, sent to the backup relay (itself routed by esmtproutes to an aiosmtpd peer) with its
envelope unchanged, and the sender gets no delayed-mail warning."""
import time

from test_dsn import reports, sendmail
from test_outbound_reuse import make_site, peer, wait_until  # noqa: F401 (fixture)


def test_mail_goes_to_the_backup_relay_after_warntime(tmp_path, peer):
    counter, port = peer
    site = make_site(tmp_path, port, {
        "esmtproutes": f"down.test: [127.0.0.1],1\nbackup.test: [127.0.0.1],{port}\n",
        "backuprelay": "backup.test\n",
        "warntime": "3s\n",
        "retryalpha": "1s\n", "retrygamma": "1s\n", "retrymaxdelta": "0\n",
        "esmtpdelay": "0\n",
    })
    try:
        marker = "marker-backuprelay"
        sendmail(site, f"From: demo@example.test\nSubject: {marker}\n\nbody {marker}\n".encode(),
                 "-f", "demo@example.test", "bob@down.test")
        site.wait_for("addr=<bob@down.test>: deferred")
        assert wait_until(lambda: len(counter.transactions) >= 1, timeout=60), counter.transactions
        _, sender, rcpts, content = counter.transactions[0]
        assert (sender, rcpts) == ("demo@example.test", ["bob@down.test"])
        assert f"body {marker}".encode() in content
        site.wait_for("rerouted to backuprelay backup.test")
        site.wait_for("addr=<bob@down.test>,size=")
        # No warning went to the sender: the backup relay replaced it.
        time.sleep(1)
        assert reports(site, marker, timeout=0) == []
        assert not any("DSN (delayed)" in line for line in site.log)
        assert len(counter.transactions) == 1
    finally:
        site.stop()
