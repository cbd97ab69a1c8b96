"""Shared fixtures: one ledis server per test session (flushed before each test), fresh
servers for tests that restart or kill, and a reference redis-server for differential tests
(the comparing fixtures, ``pair``, ``pair3``, ``pair23``, ``wire_pair``, live in tests/diff.py).
"""

from __future__ import annotations

import os

import pytest
import redis

from tests.diff import pair, pair3, pair23, wire_pair  # noqa: F401 (the diff fixtures)
from tests.helpers import LedisProcess, RedisProcess, have_redis_server
from tests.rawresp import RawClient


def pytest_collection_modifyitems(config, items):
    if os.environ.get("LEDIS_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set LEDIS_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def server():
    """A ledis server shared by the session. Tests must not rely on other tests' data."""
    proc = LedisProcess().start()
    yield proc
    proc.cleanup()


@pytest.fixture
def r(server) -> redis.Redis:
    """A redis-py client on a flushed ledis (db 0), redis-py's default protocol (RESP3 since
    redis-py 8; use ``server.client(protocol=2)`` for RESP2)."""
    client = server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def r3(server) -> redis.Redis:
    """A redis-py client speaking RESP3."""
    client = server.client(protocol=3)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def fresh_server():
    """A private ledis server for tests that restart, kill or reconfigure it."""
    procs: list[LedisProcess] = []

    def make(*extra: str, **kw) -> LedisProcess:
        proc = LedisProcess(*extra, **kw).start()
        procs.append(proc)
        return proc

    yield make
    for proc in procs:
        proc.cleanup()


@pytest.fixture(scope="session")
def redis_server():
    if not have_redis_server():
        pytest.skip("redis-server not installed")
    proc = RedisProcess().start()
    yield proc
    proc.cleanup()


@pytest.fixture
def ref(redis_server) -> redis.Redis:
    """A client on the reference redis-server, flushed."""
    client = redis_server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def ports(server, redis_server):
    """(ledis port, redis-server port), both flushed: for the raw-socket differential
    scenarios of ``tests/rawresp.py`` (``assert_same(ports, scenario)``)."""
    for port in (server.port, redis_server.port):
        c = RawClient(port)
        c.call("FLUSHALL")
        c.close()
    return server.port, redis_server.port
