"""HyperLogLog commands on ledis: through scripts (EVAL, FCALL, the ``ledis.*`` functions),
transactions and WATCH, TTLs, and the stored value (a plain string in Redis's format).
Byte-for-byte agreement with Redis is in test_hyperloglog_diff.py."""

from __future__ import annotations

import pytest
import redis

LIBRARY = """#!lua name=hlltest
redis.register_function('count_after_add', function(keys, args)
  redis.call('PFADD', keys[1], unpack(args))
  return redis.call('PFCOUNT', keys[1])
end)
"""


def test_pfadd_pfcount_basics(r):
    assert r.pfadd("h", "a", "b", "c") == 1
    assert r.pfadd("h", "a", "b") == 0
    assert r.pfcount("h") == 3
    assert r.pfcount("missing") == 0
    assert r.get("h").startswith(b"HYLL\x01")  # sparse, as Redis creates it
    assert r.type("h") == b"string"
    assert r.pfadd("empty") == 1 and r.exists("empty") == 1
    assert r.pfadd("empty") == 0


def test_pfcount_caches_in_the_value(r):
    r.pfadd("h", *[f"e{i}" for i in range(50)])
    before = r.get("h")
    assert before[15] & 0x80  # invalid cache after PFADD
    card = r.pfcount("h")
    after = r.get("h")
    assert not after[15] & 0x80
    assert int.from_bytes(after[8:16], "little") == card
    assert after[16:] == before[16:]
    assert r.pfadd("h", "e1") == 0 and r.get("h") == after  # no change keeps the cache


def test_pfmerge_union(r):
    r.pfadd("a", *range(600))
    r.pfadd("b", *range(300, 900))
    union = r.pfcount("a", "b")
    assert abs(union - 900) < 30
    assert r.pfmerge("dst", "a", "b") is True
    assert r.pfcount("dst") == union
    assert r.pfcount("a") < union  # several keys are never cached into the sources


def test_errors(r):
    r.hset("hash", "f", "v")
    r.set("plain", "not an hll")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE Operation against"):
        r.pfadd("hash", "x")
    with pytest.raises(redis.ResponseError,
                       match="^WRONGTYPE Key is not a valid HyperLogLog string value."):
        r.pfadd("plain", "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE Key is not a valid"):
        r.pfcount("h2", "plain")
    r.set("bad", b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80\x40\x63")
    with pytest.raises(redis.ResponseError, match="^INVALIDOBJ Corrupted HLL object detected"):
        r.pfcount("bad")
    with pytest.raises(redis.ResponseError, match="^INVALIDOBJ"):
        r.pfmerge("dst", "bad")
    assert r.exists("dst") == 0  # a failed merge writes nothing


def test_ttl_survives_updates(r):
    r.pfadd("h", "a")
    r.expire("h", 500)
    r.pfadd("h", "b")
    r.pfcount("h")
    r.pfmerge("h", "h")
    assert 490 < r.ttl("h") <= 500


def test_scripts_eval_fcall_and_ledis_functions(r):
    assert r.eval("redis.call('PFADD', KEYS[1], 'x', 'y'); return redis.call('PFCOUNT', KEYS[1])",
                  1, "h") == 2
    assert r.eval("return ledis.pfadd(KEYS[1], 'z')", 1, "h") == 1
    assert r.eval("return ledis.pfcount(KEYS[1])", 1, "h") == 3
    # PFCOUNT may replicate (it caches the count in the value): as Redis, a read-only run
    # refuses it (tests/test_scripting.py compares with redis-server)
    with pytest.raises(redis.ResponseError, match="^Write commands are not allowed from read"):
        r.eval_ro("return redis.call('PFCOUNT', KEYS[1])", 1, "h")
    r.function_load(LIBRARY, replace=True)
    assert r.fcall("count_after_add", 1, "f", "a", "b", "c", "a") == 3


def test_transaction_and_watch(server, r):
    other = server.client()
    try:
        with r.pipeline() as pipe:
            pipe.watch("h")
            other.pfadd("h", "from-another-client")
            pipe.multi()
            pipe.pfadd("h", "x")
            with pytest.raises(redis.WatchError):
                pipe.execute()
        pipe = r.pipeline()
        pipe.pfadd("h", "x").pfadd("h", "y").pfcount("h")
        assert pipe.execute() == [1, 1, 3]
    finally:
        other.close()


def test_resp3(r3):
    assert r3.pfadd("h", "a") == 1
    assert r3.pfcount("h") == 1
    assert r3.pfmerge("d", "h") is True
