"""Differential tests: random hash command sequences against ledis and a real redis-server,
compared reply by reply (unordered replies sorted, random replies by shape)."""

from __future__ import annotations

import random

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = [b"h1", b"h2", b"str"]
FIELDS = [b"f0", b"f1", b"f2", b"f3", b"", b"\x00bin\xff", b"n"]
VALUES = [b"v", b"", b"1", b"-7", b"1.5", b"1e3", b"abc", b"9223372036854775807", b" 2",
          b"\x00\xff"]
INCRS = [b"1", b"-3", b"0", b"x", b"9223372036854775807", b"1.5"]
FLOAT_INCRS = [b"0.1", b"-2.5", b"1e3", b"x", b"inf", b"3", b"-0.0", b"1e-20"]


@pytest.fixture
def pair(server, redis_server):
    ours = server.client(protocol=2)
    ref = redis_server.client(protocol=2)
    ours.flushall()
    ref.flushall()
    yield ours, ref
    ours.close()
    ref.close()


def run(client, args):
    try:
        return ("ok", client.execute_command(*args))
    except redis.ResponseError as exc:
        return ("err", str(exc))


def normalize(args, reply, client):
    """Make order-free replies comparable; random replies become their shape."""
    kind, value = reply
    if kind == "err":
        return reply
    name = args[0].upper()
    if name in (b"HKEYS", b"HVALS"):
        return kind, sorted(value)
    if name == b"HGETALL":
        if isinstance(value, dict):
            return kind, sorted(value.items())
        return kind, sorted(zip(value[::2], value[1::2], strict=True))
    if name == b"HRANDFIELD":
        members = set(client.hkeys(args[1])) if client.type(args[1]) == b"hash" else set()
        if len(args) == 2:
            assert value is None or value in members
            return kind, value is None
        picked = value
        if len(args) == 4:  # WITHVALUES: flat list
            picked = value[::2]
        assert set(picked) <= members
        count = int(args[2])
        if count > 0:
            assert len(set(picked)) == len(picked)
        return kind, len(value)
    if name == b"HSCAN":
        return kind, value
    return reply


def full_hscan(client, key, match=None, count=None):
    cursor, out = 0, {}
    while True:
        cursor, chunk = client.hscan(key, cursor, match=match, count=count)
        out.update(chunk)
        if cursor == 0:
            return out


def random_command(rng: random.Random) -> list[bytes]:
    key = rng.choice(KEYS)
    field = rng.choice(FIELDS)
    value = rng.choice(VALUES)
    pick = rng.randrange(24)
    if pick < 5:
        args = [b"HSET", key]
        for _ in range(rng.randint(1, 3)):
            args += [rng.choice(FIELDS), rng.choice(VALUES)]
        return args
    return [
        [b"HSETNX", key, field, value],
        [b"HGET", key, field],
        [b"HMGET", key, field, rng.choice(FIELDS)],
        [b"HDEL", key, field, rng.choice(FIELDS)],
        [b"HLEN", key],
        [b"HSTRLEN", key, field],
        [b"HEXISTS", key, field],
        [b"HKEYS", key],
        [b"HVALS", key],
        [b"HGETALL", key],
        [b"HINCRBY", key, field, rng.choice(INCRS)],
        [b"HINCRBYFLOAT", key, field, rng.choice(FLOAT_INCRS)],
        [b"HRANDFIELD", key],
        [b"HRANDFIELD", key, b"%d" % rng.randint(-5, 5)],
        [b"HRANDFIELD", key, b"%d" % rng.randint(-5, 5), b"WITHVALUES"],
        [b"HMSET", key, field, value],
        [b"SET", b"str", value],
        [b"DEL", key],
        [b"EXISTS", key],
    ][pick - 5]


@pytest.mark.parametrize("seed", range(12))
def test_random_sequences(pair, seed):
    ours, ref = pair
    rng = random.Random(seed)
    for step in range(250):
        args = random_command(rng)
        got = normalize(args, run(ours, args), ours)
        want = normalize(args, run(ref, args), ref)
        assert got == want, (seed, step, args)
    for key in (b"h1", b"h2"):
        if ref.type(key) == b"hash":
            assert full_hscan(ours, key) == full_hscan(ref, key)
            assert ours.hgetall(key) == ref.hgetall(key)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.binary(max_size=12), st.binary(max_size=20), max_size=40),
       st.lists(st.binary(max_size=12), max_size=10))
def test_hypothesis_hset_hdel(pair, mapping, to_delete):
    ours, ref = pair
    ours.delete("hh")
    ref.delete("hh")
    if mapping:
        assert ours.hset("hh", mapping=mapping) == ref.hset("hh", mapping=mapping)
    if to_delete:
        assert ours.hdel("hh", *to_delete) == ref.hdel("hh", *to_delete)
    assert ours.hgetall("hh") == ref.hgetall("hh")
    assert ours.hlen("hh") == ref.hlen("hh")
    assert ours.exists("hh") == ref.exists("hh")
    assert full_hscan(ours, "hh", count=3) == full_hscan(ref, "hh", count=3)


def test_large_hash_scan_and_match(pair):
    ours, ref = pair
    data = {b"user:%d:%s" % (i, b"ab"[i % 2:i % 2 + 1]): b"%d" % i for i in range(2000)}
    for client in pair:
        pipe = client.pipeline(transaction=False)
        items = list(data.items())
        for i in range(0, len(items), 200):
            pipe.hset("big", mapping=dict(items[i:i + 200]))
        pipe.execute()
    assert ours.hlen("big") == ref.hlen("big") == 2000
    for match in (None, "user:1*", "*:a", "user:?:b", "nomatch*"):
        assert full_hscan(ours, "big", match=match, count=37) == full_hscan(
            ref, "big", match=match, count=37)
    assert ours.hgetall("big") == ref.hgetall("big")


@pytest.mark.parametrize("args", [
    [b"HSCAN", b"h1", b"0", b"COUNT", b"0"], [b"HSCAN", b"h1", b"0", b"COUNT", b"-1"],
    [b"HSCAN", b"h1", b"0", b"COUNT", b"x"], [b"HSCAN", b"h1", b"0", b"MATCH"],
    [b"HSCAN", b"h1", b"x"], [b"HSCAN", b"h1", b"-1"], [b"HSCAN", b"h1", b"18446744073709551616"],
    [b"HSCAN", b"nokey", b"0", b"COUNT", b"0"], [b"HSCAN", b"str", b"0"],
    [b"HRANDFIELD", b"h1", b"1", b"WITHVALUE"], [b"HRANDFIELD", b"h1", b"-9223372036854775808"],
    [b"HRANDFIELD", b"h1", b"9223372036854775807", b"WITHVALUES"],
    [b"HRANDFIELD", b"h1", b"-4611686018427387904", b"WITHVALUES"],
    [b"HRANDFIELD", b"str", b"0"], [b"HRANDFIELD", b"nokey", b"x"],
    [b"HINCRBYFLOAT", b"h1", b"a", b"nan"], [b"HINCRBYFLOAT", b"h1", b"a", b"-inf"],
    [b"HINCRBYFLOAT", b"str", b"a", b"x"], [b"HINCRBYFLOAT", b"str", b"a", b"1"],
    [b"HINCRBY", b"str", b"a", b"x"], [b"HINCRBY", b"h1", b"a", b"99999999999999999999"],
    [b"HSET", b"h1", b"a"], [b"HSET", b"h1", b"a", b"b", b"c"], [b"HGET", b"h1"],
    [b"HSETNX", b"h1", b"a"], [b"HSTRLEN", b"h1"], [b"HMGET", b"h1"],
])
def test_error_cases_match_redis(pair, args):
    ours, ref = pair
    for client in pair:
        client.hset("h1", "a", "1")
        client.set("str", "x")
    got, want = run(ours, args), run(ref, args)
    if args[0] == b"HRANDFIELD" and want[0] == "ok":
        assert got[0] == "ok" and len(got[1]) == len(want[1])
    else:
        assert got == want


def test_hincrbyfloat_formats_match(pair):
    ours, ref = pair
    rng = random.Random(7)
    steps = [b"0.1", b"0.2", b"1e10", b"-3.3333333333333333", b"1.7976931348623157e308",
             b"5e-324", b"123456789.123456789", b"-1e-5", b"0x10", b"1e300", b".5", b"5."]
    for i in range(200):
        field = b"f%d" % rng.randrange(4)
        incr = rng.choice(steps)
        assert run(ours, [b"HINCRBYFLOAT", b"h", field, incr]) == run(
            ref, [b"HINCRBYFLOAT", b"h", field, incr]), (i, field, incr)
    assert ours.hgetall("h") == ref.hgetall("h")
