"""stdlib/lock.lua: acquire/release/extend/owner, fencing tokens, expiry, racing clients."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from tests.stdlib_helpers import load_stdlib


@pytest.fixture
def c(r, server):
    load_stdlib(r, "lock")
    yield r


def test_acquire_release_cycle(c):
    t1 = c.fcall("lock_acquire", 1, "L", "alice", 10000)
    assert t1 >= 1
    assert c.fcall("lock_acquire", 1, "L", "bob", 10000) is None
    owner, token, pttl = c.fcall("lock_owner", 1, "L")
    assert (owner, token) == (b"alice", t1) and 0 < pttl <= 10000
    assert c.fcall("lock_release", 1, "L", "bob", t1) == 0
    assert c.fcall("lock_release", 1, "L", "alice", t1 + 1) == 0
    assert c.fcall("lock_release", 1, "L", "alice", t1) == 1
    assert c.fcall("lock_owner", 1, "L") is None
    t2 = c.fcall("lock_acquire", 1, "L", "bob", 10000)
    assert t2 == t1 + 1  # fencing tokens only grow


def test_reentrant_acquire_keeps_token_and_refreshes(c):
    t1 = c.fcall("lock_acquire", 1, "L", "alice", 200)
    assert c.fcall("lock_acquire", 1, "L", "alice", 10000) == t1
    assert c.pttl("L") > 5000


def test_expiry_and_fencing(c):
    t1 = c.fcall("lock_acquire", 1, "L", "alice", 100)
    time.sleep(0.25)
    assert c.fcall("lock_owner", 1, "L") is None
    t2 = c.fcall("lock_acquire", 1, "L", "bob", 10000)
    assert t2 > t1
    # the paused old owner can neither extend nor release the new owner's lock
    assert c.fcall("lock_extend", 1, "L", "alice", t1, 10000) == 0
    assert c.fcall("lock_release", 1, "L", "alice", t1) == 0
    assert c.fcall("lock_owner", 1, "L")[0] == b"bob"


def test_extend(c):
    t = c.fcall("lock_acquire", 1, "L", "alice", 150)
    assert c.fcall("lock_extend", 1, "L", "alice", t, 2000) == 1
    time.sleep(0.3)
    assert c.fcall("lock_owner", 1, "L")[0] == b"alice"


def test_custom_fence_key_and_errors(c):
    assert c.fcall("lock_acquire", 2, "L", "F", "a", 1000) == 1
    assert c.get("F") == b"1"
    for args in (("a", 0), ("a", -5), ("a", "x"), ("a", 1.5)):
        with pytest.raises(redis.ResponseError, match="ttl_ms must be a positive integer"):
            c.fcall("lock_acquire", 1, "L2", *args)
    with pytest.raises(redis.ResponseError, match="owner must not be empty"):
        c.fcall("lock_acquire", 1, "L2", "", 100)
    with pytest.raises(redis.ResponseError, match="write flag"):
        c.fcall_ro("lock_acquire", 1, "L3", "a", 100)
    assert c.fcall_ro("lock_owner", 1, "L") is not None


def test_racing_clients_one_winner(c, server):
    """Many clients race for a free lock at once: exactly one token is granted."""
    n = 16
    barrier = threading.Barrier(n)
    results = []

    def worker(i):
        cl = server.client()
        barrier.wait()
        results.append((i, cl.fcall("lock_acquire", 1, "race", f"w{i}", 10000)))
        cl.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    winners = [r for r in results if r[1] is not None]
    assert len(results) == n and len(winners) == 1


def test_mutual_exclusion_under_contention(c, server):
    """Workers loop acquire -> critical section -> release: never two inside, tokens unique."""
    n, rounds = 6, 15
    tokens = []
    violations = []

    def worker(i):
        cl = server.client()
        done = 0
        while done < rounds:
            token = cl.fcall("lock_acquire", 1, "mx", f"w{i}", 5000)
            if token is None:
                time.sleep(0.001)
                continue
            inside = cl.incr("inside")
            if inside != 1:
                violations.append(inside)
            tokens.append(token)
            cl.decr("inside")
            assert cl.fcall("lock_release", 1, "mx", f"w{i}", token) == 1
            done += 1
        cl.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert violations == []
    assert len(tokens) == n * rounds
    assert len(set(tokens)) == len(tokens)
