"""Differential tests: random set command sequences against ledis and a real redis-server,
compared reply by reply (unordered replies sorted, random replies by shape)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.diff import outcome, unordered

KEYS = [b"s1", b"s2", b"s3", b"str", b"h"]
MEMBERS = [b"a", b"b", b"c", b"d", b"1", b"2", b"10", b"", b"\x00\xff", b"-5"]
SET_RESULT = {b"SMEMBERS", b"SINTER", b"SUNION", b"SDIFF", b"SPOP"}


def normalize(args, reply, client):
    kind, value = reply
    if kind == "err":
        return reply
    name = args[0].upper()
    if name in SET_RESULT:
        return kind, unordered(value)
    if name == b"SRANDMEMBER":
        members = set(client.smembers(args[1])) if client.type(args[1]) == b"set" else set()
        if len(args) == 2:
            assert value is None or value in members
            return kind, value is None
        assert set(value) <= members
        if int(args[2]) > 0:
            assert len(set(value)) == len(value)
        return kind, len(value)
    return reply


def full_sscan(client, key, match=None, count=None):
    cursor, out = 0, []
    while True:
        cursor, chunk = client.sscan(key, cursor, match=match, count=count)
        out.extend(chunk)
        if cursor == 0:
            return sorted(set(out))


def random_command(rng: random.Random) -> list[bytes]:
    key = rng.choice(KEYS)
    other = rng.choice(KEYS)
    member = rng.choice(MEMBERS)
    pick = rng.randrange(26)
    if pick < 5:
        return [b"SADD", key] + rng.sample(MEMBERS, rng.randint(1, 4))
    return [
        [b"SREM", key, member, rng.choice(MEMBERS)],
        [b"SCARD", key],
        [b"SISMEMBER", key, member],
        [b"SMISMEMBER", key, member, rng.choice(MEMBERS)],
        [b"SMEMBERS", key],
        [b"SRANDMEMBER", key],
        [b"SRANDMEMBER", key, b"%d" % rng.randint(-6, 6)],
        [b"SPOP", key, b"%d" % rng.choice([0, 100])],  # deterministic: none or all
        [b"SMOVE", key, other, member],
        [b"SINTER", key, other],
        [b"SINTERCARD", b"2", key, other] + ([b"LIMIT", b"%d" % rng.randint(0, 3)]
                                             if rng.random() < 0.5 else []),
        [b"SUNION", key, other, rng.choice(KEYS)],
        [b"SDIFF", key, other],
        [b"SINTERSTORE", rng.choice(KEYS), key, other],
        [b"SUNIONSTORE", rng.choice(KEYS), key, other],
        [b"SDIFFSTORE", rng.choice(KEYS), key, other],
        [b"SET", b"str", member],
        [b"HSET", b"h", member, member],
        [b"DEL", key],
        [b"EXISTS", key],
        [b"TYPE", key],
    ][pick - 5]


@pytest.mark.parametrize("seed", range(12))
def test_random_sequences(pair, seed):
    ours, ref = pair
    pair.walk(random_command, random.Random(1000 + seed), 250, normalize)
    for key in KEYS:
        assert ours.type(key) == ref.type(key)
        if ref.type(key) == b"set":
            assert ours.smembers(key) == ref.smembers(key)
            assert full_sscan(ours, key) == full_sscan(ref, key)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sets(st.binary(max_size=6), max_size=30), min_size=1, max_size=4))
def test_hypothesis_algebra(pair, sets):
    ours, ref = pair
    keys = [b"k%d" % i for i in range(len(sets))]
    for client in pair:
        client.flushall()
        for key, members in zip(keys, sets, strict=True):
            if members:
                client.sadd(key, *members)
    for cmd in (b"SINTER", b"SUNION", b"SDIFF"):
        assert sorted(ours.execute_command(cmd, *keys)) == sorted(ref.execute_command(cmd, *keys))
    for cmd in (b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"):
        assert ours.execute_command(cmd, b"dst", *keys) == ref.execute_command(cmd, b"dst", *keys)
        assert ours.smembers(b"dst") == ref.smembers(b"dst")
        assert ours.exists(b"dst") == ref.exists(b"dst")
    assert ours.sintercard(len(keys), keys) == ref.sintercard(len(keys), keys)
    assert ours.sintercard(len(keys), keys, limit=2) == ref.sintercard(len(keys), keys, limit=2)


def test_large_set_scan_and_algebra(pair):
    ours, ref = pair
    for client in pair:
        pipe = client.pipeline(transaction=False)
        for i in range(0, 3000, 300):
            pipe.sadd("big", *[b"item:%d" % j for j in range(i, i + 300)])
            pipe.sadd("odd", *[b"item:%d" % j for j in range(i + 1, i + 300, 2)])
        pipe.sadd("few", "item:7", "item:8", "zzz")
        pipe.execute()
    assert ours.scard("big") == ref.scard("big") == 3000
    for match in (None, "item:1*", "*7", "item:?", "none*"):
        assert full_sscan(ours, "big", match=match, count=41) == full_sscan(
            ref, "big", match=match, count=41)
    for args in ([b"SINTER", b"big", b"few"], [b"SINTER", b"few", b"odd", b"big"],
                 [b"SDIFF", b"big", b"odd"], [b"SDIFF", b"few", b"big"],
                 [b"SUNION", b"odd", b"few"]):
        assert sorted(ours.execute_command(*args)) == sorted(ref.execute_command(*args))
    assert ours.sdiffstore("d", "big", "odd") == ref.sdiffstore("d", "big", "odd") == 1500
    assert ours.smembers("d") == ref.smembers("d")


@pytest.mark.parametrize("args", [
    [b"SSCAN", b"s1", b"0", b"COUNT", b"0"], [b"SSCAN", b"s1", b"x"],
    [b"SSCAN", b"s1", b"0", b"MATCH"], [b"SSCAN", b"nokey", b"0", b"BAD"],
    [b"SSCAN", b"str", b"0"], [b"SPOP", b"s1", b"-1"], [b"SPOP", b"s1", b"x"],
    [b"SPOP", b"s1", b"1", b"2"], [b"SPOP", b"str", b"0"], [b"SRANDMEMBER", b"s1", b"1", b"2"],
    [b"SRANDMEMBER", b"s1", b"x"], [b"SRANDMEMBER", b"s1", b"-9223372036854775808"],
    [b"SRANDMEMBER", b"str"], [b"SINTERCARD", b"0", b"s1"], [b"SINTERCARD", b"2", b"s1"],
    [b"SINTERCARD", b"1", b"s1", b"LIMIT", b"-1"], [b"SINTERCARD", b"1", b"s1", b"LIMIT"],
    [b"SINTERCARD", b"1", b"s1", b"BAD", b"1"], [b"SINTERCARD", b"1", b"str"],
    [b"SMOVE", b"nokey", b"str", b"a"], [b"SMOVE", b"s1", b"str", b"zz"],
    [b"SMOVE", b"str", b"s1", b"a"], [b"SADD", b"s1"], [b"SMISMEMBER", b"s1"],
    [b"SINTERSTORE", b"d"], [b"SMOVE", b"s1", b"s1", b"a"],
])
def test_error_cases_match_redis(pair, args):
    ours, ref = pair
    for client in pair:
        client.sadd("s1", "a", "b")
        client.set("str", "x")
    assert outcome(ours, *args) == outcome(ref, *args)
