"""stdlib/counter.lua: idempotent increments (dedup id with TTL), time buckets and rollup."""

from __future__ import annotations

import time

import pytest

from tests.stdlib_helpers import load_stdlib, race


@pytest.fixture
def c(r):
    load_stdlib(r, "counter")
    yield r


def test_dedup_expires(c):
    assert c.fcall("ctr_incr", 1, "N", 5, "req", 150) == [5, 1]
    assert c.fcall("ctr_incr", 1, "N", 5, "req", 150) == [5, 0]
    time.sleep(0.25)
    assert c.fcall("ctr_incr", 1, "N", 5, "req", 150) == [10, 1]


def test_racing_retries_count_once(c, server):
    """8 clients retry the same 20 requests: each request counts exactly once."""
    results = race(server, 8, 20, lambda cl, t, i: cl.fcall("ctr_incr", 1, "RN", 1, f"r{i}")[1])
    assert sum(results) == 20
    assert c.get("RN") == b"20"


def test_racing_plain_increments(c, server):
    race(server, 8, 25, lambda cl, t, i: cl.fcall("ctr_incr", 1, "PN", 2))
    assert c.get("PN") == b"400"


def test_buckets_and_retention(c):
    now = int(c.time()[0])
    assert c.fcall("ctr_bucket_incr", 1, "S", 2, 10) == 2
    assert c.fcall("ctr_bucket_incr", 1, "S", 3, 10) == 5
    rolled = c.fcall("ctr_rollup", 1, "S", 10, now - 20, now + 20)
    assert rolled[0] == 5
    c.fcall("ctr_bucket_incr", 1, "S", 1, 10, 0, now - 1000)
    assert c.hlen("S:10") == 2
    c.fcall("ctr_bucket_incr", 1, "S", 1, 10, 100)  # retention 100 s drops the old bucket
    assert c.hlen("S:10") == 1
