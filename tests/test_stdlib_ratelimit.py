"""stdlib/ratelimit.lua: token bucket and sliding window; racing clients never exceed the
limit; capacity comes back with time."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from tests.stdlib_helpers import load_stdlib


@pytest.fixture
def c(r):
    load_stdlib(r, "ratelimit")
    yield r


def race(server, n_threads, per_thread, call):
    allowed = []
    barrier = threading.Barrier(n_threads)

    def worker():
        cl = server.client()
        barrier.wait()
        for _ in range(per_thread):
            allowed.append(call(cl)[0])
        cl.close()

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(allowed) == n_threads * per_thread
    return sum(allowed)


def test_bucket_basic(c):
    assert c.fcall("rl_bucket", 1, "b", 3, 1) == [1, 2, 0]
    assert c.fcall("rl_bucket", 1, "b", 3, 1) == [1, 1, 0]
    assert c.fcall("rl_bucket", 1, "b", 3, 1) == [1, 0, 0]
    allowed, remaining, retry = c.fcall("rl_bucket", 1, "b", 3, 1)
    assert (allowed, remaining) == (0, 0) and 500 < retry <= 1000
    assert c.fcall("rl_bucket", 1, "b2", 3, 1, 5) == [0, 3, -1]  # cost > capacity: never
    assert c.fcall("rl_bucket", 1, "b3", 10, 1, 4) == [1, 6, 0]  # weighted cost
    assert 0 < c.pttl("b") <= 3000  # expires once it would be full again


def test_bucket_refills(c):
    # 4 tokens/s: one comes back every 250 ms, so the six calls below see an empty bucket
    # even on a loaded machine (each elapsed ms is measured, not assumed).
    start = time.monotonic()
    for _ in range(5):
        c.fcall("rl_bucket", 1, "b", 5, 4)
    refused = c.fcall("rl_bucket", 1, "b", 5, 4)[0]
    if time.monotonic() - start < 0.25:
        assert refused == 0
    time.sleep(1.3)  # ~5 tokens back
    tokens, full_in = c.fcall("rl_peek", 1, "b", 5, 4)
    assert 4 <= tokens <= 5 and full_in <= 250
    assert c.fcall("rl_bucket", 1, "b", 5, 4)[0] == 1


def test_window_basic_and_expiry(c):
    # a 1.5 s window: the four calls must fall inside it even on a loaded machine
    for i in range(3):
        assert c.fcall("rl_window", 1, "w", 3, 1500) == [1, 2 - i, 0]
    allowed, remaining, retry = c.fcall("rl_window", 1, "w", 3, 1500)
    assert (allowed, remaining) == (0, 0) and 0 < retry <= 1501
    time.sleep(retry / 1000 + 0.05)
    assert c.fcall("rl_window", 1, "w", 3, 1500)[0] == 1
    assert c.fcall("rl_window", 1, "w2", 3, 1500, 5)[2] == -1


def test_window_weighted_retry_after(c):
    first = time.monotonic()
    c.fcall("rl_window", 1, "w", 4, 1000, 2)
    time.sleep(0.1)
    c.fcall("rl_window", 1, "w", 4, 1000, 2)
    allowed, remaining, retry = c.fcall("rl_window", 1, "w", 4, 1000, 2)
    elapsed_ms = (time.monotonic() - first) * 1000
    # room for 2 comes back when the first pair leaves: 1000 ms after it, so ~900 ms from
    # now on a quiet machine, less by however long the calls took on a loaded one
    assert allowed == 0 and remaining == 0
    assert 1000 - elapsed_ms - 5 <= retry <= 1001


def test_bad_arguments(c):
    for args in ((0, 1), (-1, 1), ("x", 1), (3, 0), ("inf", 1)):
        with pytest.raises(redis.ResponseError, match="must be a positive number"):
            c.fcall("rl_bucket", 1, "b", *args)


def test_bucket_racing_clients_respect_capacity(c, server):
    granted = race(server, 8, 20, lambda cl: cl.fcall("rl_bucket", 1, "race", 50, 0.001))
    assert granted == 50


def test_window_racing_clients_respect_limit(c, server):
    granted = race(server, 8, 10, lambda cl: cl.fcall("rl_window", 1, "racew", 30, 60000))
    assert granted == 30
    assert c.zcard("racew") == 30
