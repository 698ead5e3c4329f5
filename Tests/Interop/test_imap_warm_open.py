"""A restarted server's first SELECT of an unchanged folder (issue 3): it takes the messages and
their MODSEQs from `courierswiftsnapshot` and `courierswiftsnapmodseq` instead of the
mod-sequence log. Whatever path the open takes, CONDSTORE must say the same: HIGHESTMODSEQ and
every MODSEQ survive restarts, a change by another program (Courier's own imapd, a plain rename,
a delivery) while the server is down gets a new, higher MODSEQ, nothing is ever handed out
twice, and a damaged, stale or foreign cache file is ignored and written again.
"""
import re
import time

import pytest

from courier_site import CourierSite, require_courier
from test_courier_imap_interop import courier_dist, courier_imap
from test_imap_condstore import highest_modseq, message, raw

SETTLE = 3.1   # the store trusts its caches only for folders unchanged for 2 whole seconds


@pytest.fixture()
def site(tmp_path):
    require_courier()
    s = CourierSite(tmp_path / "site", services=("imapd",)).start()
    yield s
    s.stop()


FETCH = re.compile(r"^\* (\d+) FETCH \(UID (\d+) MODSEQ \((\d+)\) FLAGS \(([^)]*)\)\)$")


def state(site):
    """(HIGHESTMODSEQ, {uid: (modseq, flags)}) as a CONDSTORE SELECT and FETCH report them."""
    client = site.imap()
    lines = raw(client, "SELECT INBOX (CONDSTORE)")
    assert lines[-1].endswith("OK [READ-WRITE] Ok"), lines
    highest = highest_modseq(lines)
    fetched = raw(client, "FETCH 1:* (UID MODSEQ FLAGS)")
    client.logout()
    messages = {}
    for line in fetched[:-1]:
        m = FETCH.match(line)
        assert m, line
        messages[int(m.group(2))] = (int(m.group(3)), frozenset(m.group(4).split()) - {"\\Recent"})
    assert all(modseq <= highest for modseq, _ in messages.values()), (highest, messages)
    return highest, messages


def restart_settled(site):
    site.stop()
    time.sleep(SETTLE)
    site.restart()


def filled(site, count=6):
    client = site.imap()
    for i in range(count):
        client.append("INBOX", "(\\Seen)" if i % 2 else None, None, message(f"w{i}"))
    raw(client, "SELECT INBOX")
    raw(client, "STORE 2 +FLAGS (\\Flagged $Work)")
    client.logout()
    # The first open merges the keyword update (courierimapkeywords/ changes); the first open
    # after the folder settled again writes both caches.
    time.sleep(SETTLE)
    first = state(site)
    time.sleep(SETTLE)
    assert state(site) == first
    assert (site.maildir / "courierswiftsnapshot").exists()
    assert (site.maildir / "courierswiftsnapmodseq").exists()
    return first


def test_restarts_report_the_same_modseqs(site):
    before = filled(site)
    cache = site.maildir / "courierswiftsnapmodseq"
    written = cache.stat().st_mtime_ns
    for _ in range(2):
        restart_settled(site)
        assert state(site) == before
    # The warm opens took the saved numbers (the file was not written again).
    assert cache.stat().st_mtime_ns == written


@pytest.mark.parametrize("damage", ["missing", "junk", "torn", "flipped", "other-version", "snapshot-junk"])
def test_a_damaged_or_foreign_cache_is_ignored_and_rewritten(site, damage):
    before = filled(site)
    cache = site.maildir / "courierswiftsnapmodseq"
    good = cache.read_bytes()
    site.stop()
    if damage == "missing":
        cache.unlink()
    elif damage == "junk":
        cache.write_bytes(b"courierswiftsnapmodseq 1\n1 2 3\n")
    elif damage == "torn":
        cache.write_bytes(good[: len(good) // 2])
    elif damage == "flipped":
        cache.write_bytes(good[:-3] + bytes([good[-3] ^ 0x40]) + good[-2:])
    elif damage == "other-version":
        cache.write_bytes(b"CSWMSEQ0" + good[8:])
    else:
        (site.maildir / "courierswiftsnapshot").write_bytes(b"CSWSNAP2" + b"\0" * 100)
    time.sleep(SETTLE)
    site.restart()
    assert state(site) == before
    # Written again by that open: the next restart is warm and still says the same.
    assert cache.read_bytes()[:8] == b"CSWMSEQ1"
    restart_settled(site)
    assert state(site) == before


def test_changes_while_the_server_is_down_get_higher_modseqs(site):
    highest, messages = filled(site)
    uids = sorted(messages)
    site.stop()
    # Courier's own imapd (which knows nothing of mod-sequences) flags one message.
    courier_dist()
    theirs = courier_imap(site.maildir)
    theirs.select("INBOX")
    assert theirs.uid("STORE", str(uids[0]), "+FLAGS", "(\\Answered)")[0] == "OK"
    theirs.logout()
    time.sleep(SETTLE)
    site.restart()
    after, now = state(site)
    assert after > highest
    assert now[uids[0]][0] > highest and "\\Answered" in now[uids[0]][1]
    assert {u: v for u, v in now.items() if u != uids[0]} == {u: v for u, v in messages.items() if u != uids[0]}

    # A plain rename in cur/ and a delivery into new/ while the server is down.
    site.stop()
    cur = site.maildir / "cur"
    victim = next(p for p in cur.iterdir() if b"Subject: w3\n" in p.read_bytes())
    victim.rename(cur / (victim.name.split(":2,")[0] + ":2,DS"))
    (site.maildir / "new" / "1800000000.M1P1.example.test").write_bytes(b"Subject: dropped in\n\nhello\n")
    time.sleep(SETTLE)
    site.restart()
    later, last = state(site)
    assert later > after
    assert len(last) == len(now) + 1
    new_uid = max(last)
    assert new_uid > max(now) and last[new_uid][0] > after
    changed = {u for u in now if last[u] != now[u]}
    assert len(changed) == 1 and last[changed.pop()][0] > after
    # And the next restart (warm) says the same again.
    restart_settled(site)
    assert state(site) == (later, last)


def test_changes_after_a_warm_open_and_modseqs_never_repeat(site):
    highest, messages = filled(site)
    restart_settled(site)
    client = site.imap()
    raw(client, "ENABLE CONDSTORE")
    lines = raw(client, "SELECT INBOX")
    assert highest_modseq(lines) == highest
    # A STORE right after the warm open (the log is read only now) gets a higher MODSEQ.
    stored = raw(client, "UID STORE %d +FLAGS (\\Deleted)" % min(messages))
    m = re.search(r"MODSEQ \((\d+)\)", stored[0])
    assert m and int(m.group(1)) > highest, stored
    first_store = int(m.group(1))
    # Another session (a second connection) and CHANGEDSINCE see it; UNCHANGEDSINCE at the old
    # number is refused for that message.
    other = site.imap()
    raw(other, "SELECT INBOX (CONDSTORE)")
    since = raw(other, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {highest})")
    assert len(since) == 2 and f"UID {min(messages)} " in since[0], since
    refused = raw(other, f"UID STORE {min(messages)} (UNCHANGEDSINCE {highest}) +FLAGS (\\Seen)")
    assert "[MODIFIED" in refused[-1], refused
    other.logout()
    expunged = raw(client, "EXPUNGE")
    assert highest_modseq(expunged) > first_store
    client.logout()
    after, now = state(site)
    assert min(messages) not in now and after > first_store
    restart_settled(site)
    assert state(site) == (after, now)
    # Every MODSEQ seen along the way was handed out once and only grows.
    seen = [highest, first_store, after]
    assert seen == sorted(seen) and len(set(seen)) == 3
