"""SORT / SORT_RO on ledis: what the differential tests cannot show (blocked clients woken by
STORE, WATCH, TTLs, scripts through EVAL, FCALL and ``ledis.sort``, overflowing weights)."""

from __future__ import annotations

import threading
import time

import pytest
import redis

LIBRARY = """#!lua name=sorttest
redis.register_function('members_in_order', function(keys, args)
  return redis.call('SORT', keys[1], 'BY', 'nosort')
end)
redis.register_function{function_name='ro_sort', callback=function(keys, args)
  return redis.call('SORT_RO', keys[1], 'ALPHA', 'DESC')
end, flags={'no-writes'}}
"""


def test_store_wakes_a_blocked_client(server, r):
    r.rpush("src", 3, 1, 2)
    result = {}

    def wait():
        client = server.client()
        try:
            result["popped"] = client.blpop(["dst"], timeout=10)
        finally:
            client.close()

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.3)  # let BLPOP block
    assert r.sort("src", store="dst") == 3
    thread.join(10)
    assert result["popped"] == (b"dst", b"1")
    assert r.lrange("dst", 0, -1) == [b"2", b"3"]


def test_store_replaces_any_type_and_drops_the_ttl(r):
    r.rpush("src", "b", "a")
    r.hset("dst", "f", "v")
    r.expire("dst", 100)
    assert r.sort("src", alpha=True, store="dst") == 2
    assert r.type("dst") == b"list" and r.ttl("dst") == -1
    assert r.lrange("dst", 0, -1) == [b"a", b"b"]
    assert r.sort("missing", store="dst") == 0
    assert r.exists("dst") == 0


def test_store_into_the_sorted_key(r):
    r.rpush("l", 5, 3, 4)
    assert r.sort("l", store="l") == 3
    assert r.lrange("l", 0, -1) == [b"3", b"4", b"5"]


def test_watch_sees_sort_store(server, r):
    other = server.client()
    try:
        r.rpush("src", 2, 1)
        with r.pipeline() as pipe:
            pipe.watch("dst")
            other.sort("src", store="dst")
            pipe.multi()
            pipe.get("x")
            with pytest.raises(redis.WatchError):
                pipe.execute()
    finally:
        other.close()


@pytest.mark.parametrize("weight", [b"1e400", b"-1e400", b"1e-400", b"4e-320", b"nan", b"1 "])
def test_unconvertible_weights(r, weight):
    r.rpush("l", 1, weight)
    with pytest.raises(redis.ResponseError,
                       match="^One or more scores can't be converted into double$"):
        r.sort("l")
    r.set("w_1", weight)
    with pytest.raises(redis.ResponseError, match="converted into double"):
        r.sort("l", by="w_*")
    # ALPHA needs no number; the element without a weight key sorts first
    assert r.sort("l", by="w_*", alpha=True) == [weight, b"1"]


def test_expired_key_sorts_as_empty(r):
    r.rpush("l", 1, 2)
    r.pexpire("l", 1)
    time.sleep(0.05)
    assert r.sort("l") == []
    assert r.sort("l", store="dst") == 0


def test_scripts_sort_sets_deterministically(r):
    r.sadd("s", "b", "c", "a", "10", "9")
    expected = [b"10", b"9", b"a", b"b", b"c"]
    assert r.eval("return redis.call('SORT', KEYS[1], 'BY', 'nosort')", 1, "s") == expected
    assert r.eval("return ledis.sort(KEYS[1], 'BY', 'nosort', 'DESC')", 1, "s") == expected[::-1]
    r.function_load(LIBRARY, replace=True)
    assert r.fcall("members_in_order", 1, "s") == expected
    assert r.fcall_ro("ro_sort", 1, "s") == expected[::-1]
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed"):
        r.eval_ro("return redis.call('SORT', KEYS[1])", 1, "s")


def test_sort_ro_is_readonly(r):
    r.rpush("l", 2, 1)
    assert r.sort_ro("l") == [b"1", b"2"]
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SORT_RO", "l", "STORE", "x")
    assert r.command_getkeys("SORT", "l", "STORE", "x") == ["l", "x"]
    assert r.command_getkeys("SORT_RO", "l", "GET", "x") == ["l"]


def test_big_list_sorts_quickly(r):
    values = [str((i * 7919) % 20011) for i in range(20000)]
    r.rpush("big", *values)
    started = time.monotonic()
    result = r.sort("big")
    took = time.monotonic() - started
    assert result == sorted((v.encode() for v in values), key=int)
    assert took < 5, took
