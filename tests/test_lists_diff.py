"""Differential tests: random sequences of non-blocking list commands against ledis and a real
redis-server 7.0, comparing every reply (errors included) and the final contents."""

from __future__ import annotations

import random

import pytest
import redis

from tests.diff import outcome

KEYS = [b"l1", b"l2", b"l3", b"str"]
ELEMENTS = [b"a", b"b", b"c", b"", b"\x00\xff", b"a" * 70]


def _arg_index(rng: random.Random) -> bytes:
    if rng.random() < 0.05:  # not an integer: which error, or none, depends on the key
        return rng.choice([b"x", b"1.5", b""])
    return str(rng.choice([0, 1, 2, -1, -2, -3, 5, -7, 100, -100, 2**63 - 1, -(2**63)])).encode()


def _random_command(rng: random.Random) -> list[bytes]:
    key = rng.choice(KEYS)
    other = rng.choice(KEYS)
    el = rng.choice(ELEMENTS)
    side = rng.choice([b"LEFT", b"RIGHT", b"left", b"middle"] if rng.random() < 0.1
                      else [b"LEFT", b"RIGHT"])
    pick = rng.randrange(23)
    if pick == 22:  # blocking commands that are answered at once (data there) or time out fast
        keys = rng.sample(KEYS, rng.randint(1, 2))
        kind = rng.randrange(4)
        if kind == 0:
            return [rng.choice([b"BLPOP", b"BRPOP"]), *keys, b"0.01"]
        if kind == 1:
            return [b"BLMOVE", key, other, side, rng.choice([b"LEFT", b"RIGHT"]), b"0.01"]
        if kind == 2:
            return [b"BRPOPLPUSH", key, other, b"0.01"]
        return [b"BLMPOP", b"0.01", str(len(keys)).encode(), *keys, side, b"COUNT", b"2"]
    if pick < 4:
        name = rng.choice([b"LPUSH", b"RPUSH"])
        return [name, key] + [rng.choice(ELEMENTS) for _ in range(rng.randint(1, 4))]
    if pick == 4:
        return [rng.choice([b"LPUSHX", b"RPUSHX"]), key, el]
    if pick in (5, 6):
        cmd = [rng.choice([b"LPOP", b"RPOP"]), key]
        if rng.random() < 0.5:
            cmd.append(rng.choice([b"0", b"1", b"2", b"10", b"-1", b"x"]))
        return cmd
    if pick == 7:
        return [b"LLEN", key]
    if pick == 8:
        return [b"LINDEX", key, _arg_index(rng)]
    if pick in (9, 10):
        return [b"LRANGE", key, _arg_index(rng), _arg_index(rng)]
    if pick == 11:
        return [b"LSET", key, _arg_index(rng), el]
    if pick == 12:
        return [b"LINSERT", key, rng.choice([b"BEFORE", b"AFTER", b"after", b"x"]),
                rng.choice(ELEMENTS), el]
    if pick == 13:
        return [b"LREM", key, rng.choice([b"0", b"1", b"2", b"-1", b"-2", b"5"]), el]
    if pick == 14:
        return [b"LTRIM", key, _arg_index(rng), _arg_index(rng)]
    if pick == 15:
        cmd = [b"LPOS", key, el]
        for _ in range(rng.randint(0, 3)):
            opt = rng.choice([b"RANK", b"COUNT", b"MAXLEN"])
            if rng.random() < 0.05:  # an option without its value
                return cmd + [opt]
            cmd += [opt, rng.choice([b"1", b"2", b"-1", b"-2", b"0", b"3", b"x", b"1.5",
                                     b"99999999999999999999", b"-9223372036854775808"])]
        return cmd
    if pick == 16:
        return [b"LMOVE", key, other, side, rng.choice([b"LEFT", b"RIGHT"])]
    if pick == 17:
        return [b"RPOPLPUSH", key, other]
    if pick == 18:
        keys = rng.sample(KEYS, rng.randint(1, 3))
        cmd = [b"LMPOP", str(len(keys)).encode(), *keys, side]
        if rng.random() < 0.5:
            cmd += [b"COUNT", rng.choice([b"1", b"2", b"5", b"0"])]
        return cmd
    if pick == 19:
        return [b"SET", b"str", b"x"] if rng.random() < 0.3 else [b"DEL", key]
    if pick == 20:
        return [b"TYPE", key]
    return [b"EXISTS", key]


def _state(client: redis.Redis):
    return [outcome(client, b"LRANGE", k, b"0", b"-1") for k in KEYS]


@pytest.mark.parametrize("seed", range(6))
def test_random_sequences_match_redis(pair, seed):
    pair.walk(_random_command, random.Random(seed), 250)
    pair.both(_state)
    pair.same("DBSIZE")


@pytest.mark.parametrize("seed", range(2))
def test_random_sequences_match_redis_resp3(pair3, seed):
    pair3.walk(_random_command, random.Random(100 + seed), 200)


def test_long_lists_lrem_linsert_ltrim_match_redis(pair3):
    """Bigger lists exercise the shifting code paths (LINSERT/LREM pick a side)."""
    r, ref = pair3
    rng = random.Random(7)
    values = [rng.choice([b"x", b"y", b"z"]) for _ in range(300)]
    for c in (r, ref):
        c.rpush("big", *values)
    for step in range(300):
        op = rng.randrange(6)
        if op == 0:
            cmd = [b"LREM", b"big", str(rng.choice([0, 1, 3, -1, -4])).encode(),
                   rng.choice([b"x", b"y", b"z"])]
        elif op == 1:
            cmd = [b"LINSERT", b"big", rng.choice([b"BEFORE", b"AFTER"]),
                   rng.choice([b"x", b"y", b"z"]), str(step).encode()]
        elif op == 2:
            cmd = [b"LTRIM", b"big", str(rng.randint(0, 3)).encode(),
                   str(-rng.randint(1, 3)).encode()]
        elif op == 3:
            cmd = [rng.choice([b"LPUSH", b"RPUSH"]), b"big",
                   *[rng.choice([b"x", b"y", b"z"]) for _ in range(rng.randint(1, 40))]]
        elif op == 4:
            cmd = [b"LSET", b"big", str(rng.randint(-50, 50)).encode(), b"set%d" % step]
        else:
            cmd = [b"LPOS", b"big", rng.choice([b"x", b"y", b"z"]), b"RANK",
                   str(rng.choice([1, 2, -1, -3])).encode(), b"COUNT", b"0"]
        pair3.same(*cmd)
        if step % 25 == 0:
            assert r.lrange("big", 0, -1) == ref.lrange("big", 0, -1), step
    assert r.lrange("big", 0, -1) == ref.lrange("big", 0, -1)


@pytest.mark.parametrize("shape", ["uniform", "ends-equal", "mixed", "long-uniform"])
def test_hot_ranges_read_again_match_redis(pair, shape):
    """LRANGE of a hot list, read again and again across runs of 256 sequence numbers while
    the list changes: the second read of a run serves its sub-keys from ``_RUNS`` (kept key
    objects); replies of elements of one length take the one-join encoding, the others (the
    first and last of one length but not the middle, elements of 512 bytes or more) the
    general one."""
    r, ref = pair
    rng = random.Random(shape)

    def element(i: int) -> bytes:
        if shape == "uniform":
            return b"%05d" % (i % 100_000)
        if shape == "long-uniform":
            return (b"%05d" % i) * 120  # 600 bytes: past the precomputed headers
        if shape == "ends-equal":  # every other element one byte longer
            return b"e%04d" % i + (b"" if i % 2 == 0 else b"+")
        return b"m" * rng.randrange(0, 40)

    values = [element(i) for i in range(700)]
    for c in (r, ref):
        c.rpush("hot", *values)
    for step in range(120):
        start = rng.randrange(-720, 720)
        stop = start + rng.randrange(0, 300) if start >= 0 else rng.randrange(-720, 720)
        for _ in range(2):  # the second read finds the runs the first one asked for
            pair.same(b"LRANGE", b"hot", str(start).encode(), str(stop).encode())
        op = step % 4
        if op == 0:
            pair.same(b"LSET", b"hot", str(rng.randrange(-600, 600)).encode(), element(step))
        elif op == 1:
            pair.same(b"LPUSH", b"hot", *[element(step + j) for j in range(rng.randrange(1, 9))])
        elif op == 2:
            pair.same(b"RPOP", b"hot", str(rng.randrange(1, 5)).encode())
        else:
            pair.same(b"LTRIM", b"hot", b"0", b"-2")
    assert r.lrange("hot", 0, -1) == ref.lrange("hot", 0, -1)


def test_bad_index_errors_match_redis(pair):
    """A non-integer index: Redis looks the key up first, so a missing key or one of another
    type decides the reply before the index is parsed (LSET: no such key, LINDEX: nil)."""
    pair.same(b"RPUSH", b"list", b"a", b"b")
    pair.same(b"SET", b"str", b"v")
    for key in (b"list", b"str", b"missing"):
        for index in (b"x", b"1.5", b""):
            pair.same(b"LSET", key, index, b"v")
            pair.same(b"LINDEX", key, index)
            pair.same(b"LRANGE", key, index, b"1")
            pair.same(b"LRANGE", key, b"0", index)


def test_blmpop_reads_its_timeout_last_as_redis(pair):
    """BLMPOP parses numkeys, the keys, the side and COUNT before its timeout (Redis's
    lmpopGenericCommand), so a bad timeout is named only when the rest is right."""
    pair.same(b"RPUSH", b"list", b"a")
    for timeout in (b"x", b"-1", b"0"):
        for rest in ([b"0", b"list", b"LEFT"], [b"1", b"list", b"FOO"],
                     [b"1", b"list", b"LEFT", b"COUNT", b"0"], [b"x", b"list", b"LEFT"],
                     [b"1", b"list", b"LEFT", b"COUNT", b"x"]):
            pair.same(b"BLMPOP", timeout, *rest)
