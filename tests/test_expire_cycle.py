"""Active expiry's time cap (issue #18): a mass expiry is spread over runs, at most 2.5 ms of
each 10 ms (25 ms of each 100 ms until session 8), instead of stalling the event loop until
nothing is due.

The first tests drive ``Core.expire_cycle`` in process on a real RocksDB (no sockets); the last
one measures PING round trips against a server subprocess while 200,000 keys expire at once.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time

import pytest

from ledis.config import Config
from ledis.core import Core
from ledis.server.compose import build, load_commands

N_KEYS = 200_000

# Sets ARGV[3] keys "<ARGV[1]>:<i>" (i from ARGV[2]) that all expire at ARGV[4] (ms).
FILL = """
local prefix, first, count, at = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
for i = first, first + count - 1 do
    redis.call('SET', prefix .. ':' .. i, 'v', 'PXAT', at)
end
return count
"""


@pytest.fixture
def core():
    load_commands()
    config = Config()
    config.dir = tempfile.mkdtemp(prefix="ledis-expire-cycle-")
    c = build(config)
    yield c
    c.close()
    shutil.rmtree(config.dir, ignore_errors=True)


def run(core: Core, *argv):
    ctx = core.new_context()
    return core.dispatch(ctx, [a if isinstance(a, bytes) else str(a).encode() for a in argv])


def fill_due(core: Core, count: int) -> None:
    """``count`` keys whose expiry time has passed (active expiry's work, not yet done). They
    must all be stored before they are due (SET with a PXAT in the past stores nothing), so
    the common time comes from the SET rate measured on 2,000 keys that never expire."""
    started = time.monotonic()
    run(core, "EVAL", FILL, 0, "warmup", 0, 2000, int(time.time() * 1000) + 3_600_000)
    per_key = (time.monotonic() - started) / 2000
    at = int(time.time() * 1000 + (count * per_key * 3 + 0.2) * 1000)
    run(core, "EVAL", FILL, 0, "k", 0, count, at)
    core.commit()
    assert time.time() * 1000 < at, "filling took longer than planned"
    time.sleep(at / 1000 - time.time() + 0.01)


def test_expire_cycle_stops_at_the_deadline_and_leaves_the_rest(core):
    fill_due(core, 20_000)
    deadline = time.monotonic() + 0.025
    removed = core.expire_cycle(200, deadline=deadline)
    finished = time.monotonic()
    # It stopped at the first slice boundary after the deadline: one 200-key slice late at
    # most (a few ms), and with keys left for the next tick.
    assert finished - deadline < 0.02
    assert 0 < removed < 20_000
    assert removed % 200 == 0
    assert core.stats["expired_time_cap_reached_count"] == 1
    assert int(run(core, "DBSIZE")) == 2000 + 20_000 - removed
    # Later ticks finish the job; a tick with less than a slice left does not hit the cap.
    total = removed
    for _ in range(1000):
        got = core.expire_cycle(200, deadline=time.monotonic() + 0.025)
        total += got
        if got == 0:
            break
    assert total == 20_000
    assert int(run(core, "DBSIZE")) == 2000
    assert core.stats["expired_keys"] == 20_000


def test_expire_cycle_without_deadline_is_one_slice(core):
    fill_due(core, 1000)
    assert core.expire_cycle(200) == 200
    assert core.stats["expired_time_cap_reached_count"] == 0
    core.commit()
    assert int(run(core, "DBSIZE")) == 2000 + 800


def test_a_slice_starts_after_the_last_ones_victims(core):
    """A slice seeks the expire index just after the previous slice's last victim
    (``Database.expire_from``), not over the tombstones of every entry deleted so far; a TTL
    that sorts before that point (a clock that went back) makes the next slice start from the
    db's start again, so that key is not skipped."""
    fill_due(core, 1000)
    db = core.store.dbs[0]
    assert db.expire_slice(100) == 100
    assert db.expire_from is not None and db.expire_from[:1] == db.prefix
    at = core.engine.get(3, db.expire_from[:-1])  # the last victim's index entry: gone
    assert at is None
    # as written by a clock that went back: an expiry before where the next slice starts
    late = int.from_bytes(db.expire_from[1:9], "big") - 1000
    db.replace(b"late", b"\x01" + late.to_bytes(8, "big") + b"v", None)
    assert db.expire_from is None
    assert db.expire_slice(10_000) == 901  # 900 left of the fill, and "late"
    assert db.expire_slice(10_000) == 0 and db.expire_from is None  # caught up
    core.commit()
    assert int(run(core, "DBSIZE")) == 2000


def _set_many(port: int, prefix: bytes, count: int, at_ms: int | None) -> None:
    """SET ``count`` keys over one raw socket (redis-py's pipeline encodes 4x slower than the
    server runs SET), with PXAT ``at_ms`` when given; waits for every +OK."""
    at = b"%d" % at_ms if at_ms is not None else b""
    tail = b"$4\r\nPXAT\r\n$%d\r\n%s\r\n" % (len(at), at) if at else b""
    head = b"*5\r\n" if at else b"*3\r\n"
    keys = (prefix + b":%d" % i for i in range(count))
    data = b"".join(b"%s$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n%s" % (head, len(k), k, tail)
                    for k in keys)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)
        want, got = len(b"+OK\r\n") * count, b""
        while len(got) < want:
            chunk = sock.recv(1 << 20)
            assert chunk, "server closed the connection"
            got += chunk
        assert got == b"+OK\r\n" * count


@pytest.mark.parametrize("n_keys", [
    20_000,
    # Failed until session 8 (worst 133 ms, 820 capped ticks, ~250 keys a tick): each slice's
    # iterator skipped the tombstones of every index entry deleted so far. Slices now start
    # after the last one's victims: worst 3.9 ms.
    pytest.param(N_KEYS, marks=[pytest.mark.slow, pytest.mark.timeout(900)]),
])
def test_mass_expiry_does_not_stall_clients(fresh_server, n_keys):
    """``n_keys`` keys expire at the same moment; a probe sends PING and INFO every 2 ms
    meanwhile and records the longest round trip. Without the time cap the cron removed them
    all in one tick (measured on the 2-core test machine, 20,000 keys: worst round trip
    ~390 ms); with it (25 ms a 100 ms tick: ~30 ms measured; 2.5 ms every 10 ms since session
    8: 3.2 ms, 3.9 ms for 200,000 keys) no expire cycle may reach 50 ms (LATENCY's
    ``expire-cycle`` event, as Redis records it), nor 1% of the round trips."""
    server = fresh_server()
    r = server.client()
    r.config_set("latency-monitor-threshold", 1)  # the server's own view: "expire-cycle" events
    # The keys must all be stored before they are due (SET with a PXAT in the past stores
    # nothing), so the common expiry time is set from the measured SET rate.
    started = time.monotonic()
    _set_many(server.port, b"warmup", 5000, None)
    per_key = (time.monotonic() - started) / 5000
    at = int(time.time() * 1000 + (n_keys * per_key * 3 + 0.5) * 1000)
    _set_many(server.port, b"k", n_keys, at)
    assert time.time() * 1000 < at, "filling took longer than planned"
    assert r.dbsize() == n_keys + 5000
    time.sleep(max(0.0, at / 1000 - time.time()))

    probe = server.client()
    trips = []
    expired = 0
    deadline = time.monotonic() + 500
    while time.monotonic() < deadline:
        sent = time.perf_counter()
        probe.ping()
        trips.append(time.perf_counter() - sent)
        sent = time.perf_counter()  # the INFO's round trip counts too: a stall may hit it
        expired = int(probe.info("stats")["expired_keys"])
        trips.append(time.perf_counter() - sent)
        if expired >= n_keys:
            break
        time.sleep(0.002)
    stats = probe.info("stats")
    trips.sort()
    p99 = trips[int(len(trips) * 0.99)]
    cycle = {e[0]: e for e in r.execute_command("LATENCY", "LATEST")}.get(b"expire-cycle")
    print(f"{n_keys} keys: {len(trips)} round trips, p99 {p99 * 1000:.1f} ms, worst "
          f"{trips[-1] * 1000:.1f} ms; {stats['expired_time_cap_reached_count']} ticks hit the "
          f"cap, longest expire cycle {cycle and cycle[3]} ms")
    assert stats["expired_keys"] == n_keys
    assert r.dbsize() == 5000
    assert stats["expired_time_cap_reached_count"] > 0  # it did take several ticks
    # The server's own measure of each cycle (LATENCY LATEST's max, ms; cycles of 1 ms and more
    # are recorded, so the capped ones are there) and the clients' view: a round trip may meet
    # a scheduler or disk hiccup of the test machine once (one of 135 ms in a CI run, with 2
    # test workers), so the clients' bound is on the 99th percentile.
    assert cycle is not None and cycle[3] < 50, cycle
    assert p99 < 0.05, f"1% of round trips waited {p99 * 1000:.0f} ms or more"
    r.close()
    probe.close()
