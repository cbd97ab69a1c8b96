"""CLIENT TRACKING through real clients: redis-py's client-side cache, writes arriving over
HTTP, active expiry, cleanup on RESET and disconnect, INFO fields.

redis-py (8.x) refuses client-side caching with any server that reports a version below 7.4
(real Redis 7.0 included) before it sends anything; the tests lower that client-side gate
(``CacheProxyConnection.MIN_ALLOWED_VERSION``) and run the very same test against the
reference redis-server 7.0, so what is checked is the server's side of the protocol."""

from __future__ import annotations

import time

import pytest
import redis
from redis.cache import CacheConfig
from redis.connection import CacheProxyConnection

from tests.rawresp import RawClient
from tests.test_http import Http, _start


@pytest.fixture(params=["ledis", "redis"])
def target(request, server, redis_server):
    return server if request.param == "ledis" else redis_server


def _get_calls(client) -> int:
    return client.info("commandstats").get("cmdstat_get", {}).get("calls", 0)


def _wait(predicate, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_redis_py_client_side_cache(target, monkeypatch):
    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")
    cached = redis.Redis(port=target.port, protocol=3, cache_config=CacheConfig())
    other = target.client()
    try:
        other.flushall()
        other.config_resetstat()
        other.set("k", "v1")
        assert cached.get("k") == b"v1"
        assert cached.get("k") == b"v1"  # from the cache: the server saw one GET
        assert _get_calls(other) == 1
        other.set("k", "v2")  # the invalidation push empties the cached entry
        assert _wait(lambda: cached.get("k") == b"v2")
        assert _get_calls(other) == 2
        assert cached.get("k") == b"v2"
        assert _get_calls(other) == 2
        assert cached.mget("a", "k") == [None, b"v2"]
        other.set("a", "x")
        assert _wait(lambda: cached.mget("a", "k") == [b"x", b"v2"])
        other.flushall()  # a null invalidation: the whole cache goes
        assert _wait(lambda: cached.get("k") is None)
    finally:
        cached.close()
        other.close()


def test_active_expiry_invalidates(target):
    a = RawClient(target.port, resp3=True)
    w = target.client()
    try:
        w.set("exp", "v", px=150)
        assert a.call("CLIENT", "TRACKING", "ON") == b"OK"
        assert a.call("GET", "exp") == b"v"
        assert a.read(timeout=3) == [b"invalidate", [b"exp"]]
    finally:
        a.close()
        w.close()


def test_reset_and_disconnect_stop_tracking(target):
    a = RawClient(target.port, resp3=True)
    w = target.client()
    try:
        a.call("CLIENT", "TRACKING", "ON")
        assert w.info("clients")["tracking_clients"] >= 1
        assert a.call("RESET") == b"RESET"
        assert a.call("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1,
                                                    b"prefixes", []]  # RESP2 after RESET
        a.call("HELLO", "3")
        a.call("GET", "k")
        w.set("k", "1")
        assert a.drain() == []
        before = w.info("clients")["tracking_clients"]
        b = RawClient(target.port, resp3=True)
        b.call("CLIENT", "TRACKING", "ON")
        assert w.info("clients")["tracking_clients"] == before + 1
        b.close()
        assert _wait(lambda: w.info("clients")["tracking_clients"] == before)
    finally:
        a.close()
        w.close()


def test_http_writes_invalidate():
    proc, port = _start()
    a = RawClient(proc.port, resp3=True)
    try:
        a.call("CLIENT", "TRACKING", "ON")
        a.call("GET", "web")
        status, _body, _ctype = Http(port).request("GET", "/SET/web/1")
        assert status == 200
        assert a.read(timeout=3) == [b"invalidate", [b"web"]]
    finally:
        a.close()
        proc.cleanup()


def test_bcast_info_counts_prefixes(server):
    a = RawClient(server.port, resp3=True)
    w = server.client()
    try:
        a.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p1:", "PREFIX", "p2:")
        assert w.info("stats")["tracking_total_prefixes"] >= 2
        line = [x for x in w.client_list() if x["id"] == str(a.call("CLIENT", "ID"))]
        assert line and line[0]["flags"] == "tB" and line[0]["redir"] == "0"
    finally:
        a.close()
        w.close()


def test_embedded_tracking_has_nowhere_to_send(tmp_path):
    """The embedded API has no connection: CLIENT TRACKING is accepted and kept, writes run
    through the same invalidation path, and nothing piles up (BCAST keys are dropped)."""
    import ledis

    db = ledis.open(str(tmp_path / "db"))
    try:
        assert db.execute("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:") == "OK"
        db.execute("SET", "p:1", "v")
        db.execute("MSET", "p:2", "v", "q", "w")
        assert db._shared.core.tracking.changed == {}
        assert db.execute("CLIENT", "TRACKINGINFO") == {
            b"flags": {b"on", b"bcast"}, b"redirect": 0, b"prefixes": [b"p:"]}
        assert db.execute("CLIENT", "TRACKING", "OFF") == "OK"
    finally:
        db.close()
