"""Sorted sets through a real server with redis-py: every command's normal use, edge cases,
exact error texts, RESP3 shapes, blocking pops and persistence of the on-disk layout."""

from __future__ import annotations

import threading
import time

import pytest
import redis

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


@pytest.fixture
def r(server):
    """RESP2 on purpose (redis-py 8 defaults to RESP3); RESP3 has its own tests below."""
    client = server.client(protocol=2)
    client.flushall()
    yield client
    client.close()


def raw(client, *args):
    """Send a command and return the reply as parsed by the protocol only (no redis-py
    response callbacks), so tests see exactly what the server sent."""
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        pool.release(conn)


def err(client, *args) -> str:
    with pytest.raises(redis.ResponseError) as info:
        raw(client, *args)
    return str(info.value)


# --- ZADD / ZINCRBY -------------------------------------------------------------------------


def test_zadd_new_existing_and_card(r):
    assert raw(r, "ZADD", "z", 1, "a", 2, "b") == 2
    assert raw(r, "ZADD", "z", 1, "a", 3, "c") == 1  # a unchanged, c new
    assert r.zcard("z") == 3
    assert r.zcard("missing") == 0
    assert raw(r, "ZADD", "z", 5, "a", 5, "a") == 0  # duplicate member in one call
    assert r.zscore("z", "a") == 5.0
    assert r.zcard("z") == 3


def test_zadd_options(r):
    r.zadd("z", {"a": 1, "b": 2})
    assert raw(r, "ZADD", "z", "NX", 10, "a", 3, "c") == 1
    assert r.zscore("z", "a") == 1.0
    assert raw(r, "ZADD", "z", "XX", 10, "a", 4, "d") == 0
    assert r.zscore("z", "a") == 10.0 and r.zscore("z", "d") is None
    assert raw(r, "ZADD", "z", "XX", "CH", 11, "a", 2, "b") == 1
    assert raw(r, "ZADD", "z", "GT", "CH", 5, "a", 20, "b", 7, "new") == 2  # b up, new added
    assert r.zscore("z", "a") == 11.0 and r.zscore("z", "b") == 20.0
    assert raw(r, "ZADD", "z", "LT", "CH", 50, "a", 1, "b") == 1
    assert r.zscore("z", "b") == 1.0
    assert raw(r, "ZADD", "missing", "XX", 1, "a") == 0
    assert r.exists("missing") == 0


def test_zadd_incr(r):
    assert raw(r, "ZADD", "z", "INCR", 1.5, "a") == b"1.5"
    assert raw(r, "ZADD", "z", "INCR", 1, "a") == b"2.5"
    assert raw(r, "ZADD", "z", "NX", "INCR", 1, "a") is None
    assert raw(r, "ZADD", "z", "XX", "INCR", 1, "nope") is None
    assert raw(r, "ZADD", "z", "GT", "INCR", -1, "a") is None
    assert raw(r, "ZADD", "z", "LT", "INCR", -1, "a") == b"1.5"
    assert raw(r, "ZADD", "missing", "XX", "INCR", 1, "a") is None


def test_zadd_errors(r):
    r.set("str", "v")
    assert err(r, "ZADD", "z", 1) == "wrong number of arguments for 'zadd' command"
    assert err(r, "ZADD", "z", "NX", 1) == "syntax error"
    assert err(r, "ZADD", "z", 1, "a", 2) == "syntax error"
    assert err(r, "ZADD", "z", "NX", "XX", 1, "a") == \
        "XX and NX options at the same time are not compatible"
    for opts in (("GT", "LT"), ("GT", "NX"), ("LT", "NX")):
        assert err(r, "ZADD", "z", *opts, 1, "a") == \
            "GT, LT, and/or NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "INCR", 1, "a", 2, "b") == \
        "INCR option supports a single increment-element pair"
    for bad in ("nan", "abc", " 1", "1 ", "", "1e400", "-1e400", "1e-400"):
        assert err(r, "ZADD", "z", bad, "a") == "value is not a valid float", bad
    assert err(r, "ZADD", "str", 1, "a") == WRONGTYPE
    assert r.exists("z") == 0  # nothing was created by the failed calls


def test_zadd_nan_result_and_infinities(r):
    r.zadd("z", {"a": float("inf"), "b": float("-inf")})
    assert raw(r, "ZSCORE", "z", "a") == b"inf"
    assert raw(r, "ZSCORE", "z", "b") == b"-inf"
    assert err(r, "ZINCRBY", "z", "-inf", "a") == "resulting score is not a number (NaN)"
    assert err(r, "ZADD", "z", "INCR", "+inf", "b") == "resulting score is not a number (NaN)"
    assert r.zscore("z", "a") == float("inf")
    assert raw(r, "ZADD", "z", "inf", "c", "-INF", "d", "+Infinity", "e") == 3


def test_zincrby(r):
    assert raw(r, "ZINCRBY", "z", 2, "a") == b"2"
    assert raw(r, "ZINCRBY", "z", "0.1", "a") == b"2.1000000000000001"
    assert err(r, "ZINCRBY", "z", "x", "a") == "value is not a valid float"
    r.set("str", "v")
    assert err(r, "ZINCRBY", "str", 1, "a") == WRONGTYPE


@pytest.mark.parametrize("value,text", [
    ("0.1", b"0.10000000000000001"), ("1e300", b"1.0000000000000001e+300"), ("3.0", b"3"),
    ("-0.0", b"0"), ("1e17", b"1e+17"), ("123456789", b"123456789"), ("-2.5", b"-2.5"),
    ("0x10", b"16"), ("1.5e-300", b"1.5000000000000001e-300"),
])
def test_score_formatting(r, value, text):
    r.execute_command("ZADD", "z", value, "m")
    assert raw(r, "ZSCORE", "z", "m") == text
    assert raw(r, "ZRANGE", "z", 0, -1, "WITHSCORES") == [b"m", text]


def test_negative_zero_ties_with_zero(r):
    r.execute_command("ZADD", "z", "-0.0", "b", "0", "a", "-1e-300", "c")
    assert r.zrange("z", 0, -1) == [b"c", b"a", b"b"]


def test_binary_members(r):
    members = {b"\x00": 1, b"a\x00b": 1, b"\xff\xfe": 1, b"": 2, b"\x00\x00": 1}
    r.zadd("z", members)
    assert r.zcard("z") == 5
    assert r.zrange("z", 0, -1) == [b"\x00", b"\x00\x00", b"a\x00b", b"\xff\xfe", b""]
    assert r.zscore("z", b"a\x00b") == 1.0
    assert r.zrangebylex("z", b"[\x00", b"(a") == [b"\x00", b"\x00\x00"]
    assert r.zrem("z", b"\x00", b"") == 2
    assert r.zrange("z", 0, -1) == [b"\x00\x00", b"a\x00b", b"\xff\xfe"]


# --- reads ----------------------------------------------------------------------------------


def test_zscore_zmscore_missing(r):
    r.zadd("z", {"a": 1})
    assert r.zscore("z", "b") is None
    assert r.zscore("nokey", "a") is None
    assert raw(r, "ZMSCORE", "z", "a", "b") == [b"1", None]
    assert raw(r, "ZMSCORE", "nokey", "a") == [None]


def test_zrank_ties_ordered_by_member(r):
    r.zadd("z", {"c": 1, "b": 1, "a": 1, "d": 0})
    assert [r.zrank("z", m) for m in "dabc"] == [0, 1, 2, 3]
    assert [r.zrevrank("z", m) for m in "dabc"] == [3, 2, 1, 0]
    assert r.zrank("z", "x") is None and r.zrank("nokey", "a") is None
    r.set("str", "v")
    assert err(r, "ZRANK", "str", "a") == WRONGTYPE


def test_zcount_and_zlexcount(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": float("inf")})
    assert raw(r, "ZCOUNT", "z", "-inf", "+inf") == 4
    assert raw(r, "ZCOUNT", "z", "(1", "3") == 2
    assert raw(r, "ZCOUNT", "z", "(1", "(3") == 1
    assert raw(r, "ZCOUNT", "z", "3", "1") == 0
    assert raw(r, "ZCOUNT", "z", "(inf", "inf") == 0
    assert raw(r, "ZCOUNT", "z", "inf", "inf") == 1
    assert raw(r, "ZCOUNT", "nokey", 0, 1) == 0
    assert err(r, "ZCOUNT", "z", "x", 1) == "min or max is not a float"
    assert err(r, "ZCOUNT", "z", 1, "nan") == "min or max is not a float"
    r.zadd("l", {m: 0 for m in "abcde"})
    assert raw(r, "ZLEXCOUNT", "l", "-", "+") == 5
    assert raw(r, "ZLEXCOUNT", "l", "[b", "(d") == 2
    assert raw(r, "ZLEXCOUNT", "l", "(b", "[d") == 2
    assert raw(r, "ZLEXCOUNT", "l", "+", "-") == 0
    assert err(r, "ZLEXCOUNT", "l", "a", "+") == "min or max not valid string range item"


def test_zrange_by_rank(r):
    r.zadd("z", {m: i for i, m in enumerate("abcdefg")})
    assert r.zrange("z", 0, -1) == [bytes([c]) for c in b"abcdefg"]
    assert r.zrange("z", 2, 4) == [b"c", b"d", b"e"]
    assert r.zrange("z", -2, -1) == [b"f", b"g"]
    assert r.zrange("z", -100, 1) == [b"a", b"b"]
    assert r.zrange("z", 5, 100) == [b"f", b"g"]
    assert r.zrange("z", 4, 2) == []
    assert r.zrange("z", 7, 10) == []
    assert r.zrevrange("z", 0, 1) == [b"g", b"f"]
    assert r.zrevrange("z", 5, 6) == [b"b", b"a"]  # walks from the near end
    assert raw(r, "ZRANGE", "z", 0, 1, "REV", "WITHSCORES") == [b"g", b"6", b"f", b"5"]
    assert r.zrange("nokey", 0, -1) == []


def test_zrange_by_score(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "ninf": float("-inf")})
    assert raw(r, "ZRANGE", "z", "(1", "4", "BYSCORE") == [b"b", b"c", b"d"]
    assert raw(r, "ZRANGE", "z", "4", "(1", "BYSCORE", "REV") == [b"d", b"c", b"b"]
    assert raw(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 2, 2) == [b"b", b"c"]
    assert raw(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 1, -1) == \
        [b"a", b"b", b"c", b"d", b"e"]
    assert raw(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", -1, 5) == []
    assert raw(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 10, 5) == []
    assert raw(r, "ZRANGEBYSCORE", "z", "(", "(3") == [b"a", b"b"]  # "(" alone is (0
    assert raw(r, "ZRANGEBYSCORE", "z", " 2", "2") == [b"b"]  # strtod skips leading spaces
    assert raw(r, "ZRANGEBYSCORE", "z", "-inf", "(1") == [b"ninf"]
    assert raw(r, "ZRANGEBYSCORE", "z", 2, 3, "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert raw(r, "ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", 0, 2) == [b"e", b"d"]
    assert raw(r, "ZRANGEBYSCORE", "z", 3, 2) == []
    assert raw(r, "ZRANGEBYSCORE", "z", "(2", "(2") == []


def test_zrange_by_lex(r):
    r.zadd("z", {m: 0 for m in ["a", "b", "c", "d", "e", "aa"]})
    assert r.zrangebylex("z", "-", "+") == [b"a", b"aa", b"b", b"c", b"d", b"e"]
    assert r.zrangebylex("z", "[aa", "(c") == [b"aa", b"b"]
    assert r.zrangebylex("z", "(a", "[b") == [b"aa", b"b"]
    assert r.zrangebylex("z", "-", "+", 1, 2) == [b"aa", b"b"]
    assert r.zrevrangebylex("z", "+", "[c") == [b"e", b"d", b"c"]
    assert raw(r, "ZRANGE", "z", "[d", "-", "BYLEX", "REV", "LIMIT", 1, 10) == \
        [b"c", b"b", b"aa", b"a"]
    assert r.zrangebylex("z", "+", "-") == []
    assert r.zrangebylex("z", "[c", "[b") == []
    assert raw(r, "ZRANGEBYLEX", "z", "(", "+") == [b"a", b"aa", b"b", b"c", b"d", b"e"]


def test_zrange_errors(r):
    r.zadd("z", {"a": 1})
    r.set("str", "v")
    assert err(r, "ZRANGE", "z", 0, -1, "LIMIT", 0, 1) == \
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    assert err(r, "ZRANGE", "z", "[a", "[b", "BYLEX", "WITHSCORES") == \
        "syntax error, WITHSCORES not supported in combination with BYLEX"
    assert err(r, "ZRANGE", "z", 0, 1, "REV", "REV") == "syntax error"
    assert err(r, "ZRANGE", "z", 0, 1, "BYSCORE", "BYLEX") == "syntax error"
    assert err(r, "ZRANGE", "z", 0, 1, "LIMIT", 1) == "syntax error"
    assert err(r, "ZRANGE", "z", 0, 1, "BYSCORE", "LIMIT", "x", 1) == \
        "value is not an integer or out of range"
    assert err(r, "ZRANGE", "z", "a", 1) == "value is not an integer or out of range"
    assert err(r, "ZRANGEBYSCORE", "z", "1 ", 2) == "min or max is not a float"
    assert err(r, "ZRANGEBYSCORE", "z", 0, 1, "BYSCORE") == "syntax error"
    assert err(r, "ZREVRANGE", "z", 0, 1, "REV") == "syntax error"
    assert err(r, "ZRANGEBYLEX", "z", "a", "b") == "min or max not valid string range item"
    assert err(r, "ZRANGE", "str", 0, -1) == WRONGTYPE
    assert err(r, "ZRANGESTORE", "d", "z", 0, -1, "WITHSCORES") == "syntax error"


def test_zrangestore(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    r.set("dst", "old")
    r.expire("dst", 100)
    assert raw(r, "ZRANGESTORE", "dst", "z", 1, -1) == 2
    assert r.ttl("dst") == -1
    assert raw(r, "ZRANGE", "dst", 0, -1, "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert raw(r, "ZRANGESTORE", "dst", "z", "(1", "+inf", "BYSCORE", "LIMIT", 0, 1) == 1
    assert r.zrange("dst", 0, -1) == [b"b"]
    assert raw(r, "ZRANGESTORE", "dst", "z", "[c", "[a", "BYLEX", "REV") == 3
    assert raw(r, "ZRANGESTORE", "dst", "nokey", 0, -1) == 0
    assert r.exists("dst") == 0
    assert raw(r, "ZRANGESTORE", "z", "z", 0, 0) == 1  # source == destination
    assert r.zrange("z", 0, -1, withscores=True) == [(b"a", 1.0)]


# --- removals ---------------------------------------------------------------------------------


def test_zrem_deletes_empty_key(r):
    r.zadd("z", {"a": 1, "b": 2})
    assert r.zrem("z", "a", "x", "a") == 1
    assert r.zrem("z", "b") == 1
    assert r.exists("z") == 0
    assert r.zrem("z", "b") == 0
    r.set("str", "v")
    assert err(r, "ZREM", "str", "a") == WRONGTYPE


def test_zremrangeby(r):
    r.zadd("z", {m: i for i, m in enumerate("abcdefgh")})
    assert r.zremrangebyrank("z", 0, 1) == 2
    assert r.zremrangebyrank("z", -2, -1) == 2
    assert r.zrange("z", 0, -1) == [b"c", b"d", b"e", b"f"]
    assert r.zremrangebyrank("z", 5, 10) == 0
    assert r.zremrangebyscore("z", "(2", 4) == 2
    assert r.zrange("z", 0, -1) == [b"c", b"f"]
    assert r.zremrangebyscore("z", "-inf", "+inf") == 2
    assert r.exists("z") == 0
    r.zadd("l", {m: 0 for m in "abcde"})
    assert r.zremrangebylex("l", "(a", "[c") == 2
    assert r.zrange("l", 0, -1) == [b"a", b"d", b"e"]
    assert r.zremrangebylex("l", "-", "+") == 3
    assert r.exists("l") == 0
    assert err(r, "ZREMRANGEBYRANK", "l", "a", 1) == "value is not an integer or out of range"
    assert err(r, "ZREMRANGEBYSCORE", "l", "x", 1) == "min or max is not a float"
    assert err(r, "ZREMRANGEBYLEX", "l", "x", "+") == "min or max not valid string range item"


def test_zpopmin_zpopmax(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert raw(r, "ZPOPMIN", "z") == [b"a", b"1"]
    assert raw(r, "ZPOPMAX", "z", 2) == [b"d", b"4", b"c", b"3"]
    assert raw(r, "ZPOPMIN", "z", 0) == []
    assert raw(r, "ZPOPMIN", "z", 10) == [b"b", b"2"]
    assert r.exists("z") == 0
    assert raw(r, "ZPOPMIN", "z") == []
    assert err(r, "ZPOPMIN", "z", -1) == "value is out of range, must be positive"
    assert err(r, "ZPOPMIN", "z", 1, 2) == "syntax error"
    r.set("str", "v")
    assert err(r, "ZPOPMAX", "str", 0) == WRONGTYPE


def test_zmpop(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert raw(r, "ZMPOP", 2, "nokey", "z", "MIN") == [b"z", [[b"a", b"1"]]]
    assert raw(r, "ZMPOP", 1, "z", "MAX", "COUNT", 5) == [b"z", [[b"c", b"3"], [b"b", b"2"]]]
    assert raw(r, "ZMPOP", 1, "z", "MAX") is None
    assert err(r, "ZMPOP", 0, "z", "MIN") == "numkeys should be greater than 0"
    assert err(r, "ZMPOP", "x", "z", "MIN") == "numkeys should be greater than 0"
    assert err(r, "ZMPOP", 1, "z", "MIN", "COUNT", 0) == "count should be greater than 0"
    assert err(r, "ZMPOP", 1, "z", "FOO") == "syntax error"
    assert err(r, "ZMPOP", 2, "z", "MIN") == "syntax error"
    assert err(r, "ZMPOP", 1, "z", "MIN", "COUNT", 1, "COUNT", 1) == "syntax error"
    r.set("str", "v")
    assert err(r, "ZMPOP", 2, "nokey", "str", "MIN") == WRONGTYPE


# --- random, scan --------------------------------------------------------------------------------


def test_zrandmember(r):
    members = {f"m{i}".encode(): i for i in range(20)}
    r.zadd("z", members)
    assert r.zrandmember("z") in members
    assert r.zrandmember("nokey") is None
    picked = raw(r, "ZRANDMEMBER", "z", 5)
    assert len(picked) == 5 and len(set(picked)) == 5 and set(picked) <= set(members)
    # A count >= size gives the whole set, highest score first (as Redis for small zsets).
    assert raw(r, "ZRANDMEMBER", "z", 100) == sorted(members, key=members.get, reverse=True)
    many = raw(r, "ZRANDMEMBER", "z", -50)
    assert len(many) == 50 and set(many) <= set(members)
    flat = raw(r, "ZRANDMEMBER", "z", 3, "WITHSCORES")
    assert len(flat) == 6
    for m, s in zip(flat[::2], flat[1::2], strict=True):
        assert float(s) == members[m]
    assert raw(r, "ZRANDMEMBER", "z", 0) == []
    assert raw(r, "ZRANDMEMBER", "nokey", 3) == []
    assert err(r, "ZRANDMEMBER", "z", 1, "x") == "syntax error"
    assert err(r, "ZRANDMEMBER", "z", -9223372036854775808) == (
        "value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")
    assert err(r, "ZRANDMEMBER", "z", -4611686018427387904, "WITHSCORES") == \
        "value is out of range"
    r.set("str", "v")
    assert err(r, "ZRANDMEMBER", "str", 0) == WRONGTYPE


def test_zscan_small_and_match(r):
    r.zadd("z", {"a1": 1, "a2": 2.5, "b": 3})
    assert raw(r, "ZSCAN", "z", 0) == [b"0", [b"a1", b"1", b"a2", b"2.5", b"b", b"3"]]
    assert raw(r, "ZSCAN", "z", 0, "MATCH", "a*") == [b"0", [b"a1", b"1", b"a2", b"2.5"]]
    assert raw(r, "ZSCAN", "nokey", 0) == [b"0", []]
    assert err(r, "ZSCAN", "z", 0, "COUNT", 0) == "syntax error"
    assert err(r, "ZSCAN", "z", 0, "FOO") == "syntax error"
    assert err(r, "ZSCAN", "z", "x") == "invalid cursor"
    r.set("str", "v")
    assert err(r, "ZSCAN", "str", 0) == WRONGTYPE


def test_zscan_large_walks_everything_once(r):
    members = {f"m{i:04}".encode(): i for i in range(500)}
    r.zadd("z", members)
    seen: dict[bytes, float] = {}
    cursor = 0
    calls = 0
    while True:
        cursor, page = r.zscan("z", cursor, count=37)
        calls += 1
        for m, s in page:
            assert m not in seen
            seen[m] = s
        if cursor == 0:
            break
    assert seen == {m: float(s) for m, s in members.items()}
    assert calls >= 500 // 37
    # Members that stay in the set during the scan are returned even if others are removed.
    cursor, first = r.zscan("z", 0, count=100)
    r.zrem("z", *[m for m, _ in first])
    rest = set()
    while cursor:
        cursor, page = r.zscan("z", cursor, count=100)
        rest.update(m for m, _ in page)
    assert rest == set(members) - {m for m, _ in first}


# --- set operations -------------------------------------------------------------------------------


def test_zunion_zinter_zdiff(r):
    r.zadd("z1", {"a": 1, "b": 2, "c": 3})
    r.zadd("z2", {"b": 10, "c": 20, "d": 30})
    r.sadd("s", "a", "d", "x")
    assert raw(r, "ZUNION", 2, "z1", "z2", "WITHSCORES") == \
        [b"a", b"1", b"b", b"12", b"c", b"23", b"d", b"30"]
    assert raw(r, "ZUNION", 3, "z1", "z2", "s", "WEIGHTS", 1, 2, 3, "AGGREGATE", "MAX",
               "WITHSCORES") == [b"a", b"3", b"x", b"3", b"b", b"20", b"c", b"40", b"d", b"60"]
    assert raw(r, "ZINTER", 2, "z1", "z2", "WITHSCORES") == [b"b", b"12", b"c", b"23"]
    assert raw(r, "ZINTER", 2, "z1", "z2", "AGGREGATE", "MIN") == [b"b", b"c"]
    assert raw(r, "ZINTER", 2, "z1", "s", "WITHSCORES") == [b"a", b"2"]
    assert raw(r, "ZDIFF", 2, "z1", "z2", "WITHSCORES") == [b"a", b"1"]
    assert raw(r, "ZDIFF", 3, "z1", "nokey", "s") == [b"b", b"c"]
    assert raw(r, "ZUNION", 1, "nokey") == []
    assert raw(r, "ZINTERCARD", 2, "z1", "z2") == 2
    assert raw(r, "ZINTERCARD", 2, "z1", "z2", "LIMIT", 1) == 1
    assert raw(r, "ZINTERCARD", 2, "z1", "nokey") == 0


def test_zunion_inf_and_nan_rules(r):
    r.zadd("p", {"a": float("inf")})
    r.zadd("n", {"a": float("-inf")})
    assert raw(r, "ZUNION", 2, "p", "n", "WITHSCORES") == [b"a", b"0"]  # inf + -inf -> 0
    assert raw(r, "ZUNION", 1, "p", "WEIGHTS", 0, "WITHSCORES") == [b"a", b"0"]  # inf*0 -> 0


def test_store_variants(r):
    r.zadd("z1", {"a": 1, "b": 2})
    r.zadd("z2", {"b": 3, "c": 4})
    r.set("out", "string")
    assert raw(r, "ZUNIONSTORE", "out", 2, "z1", "z2") == 3
    assert raw(r, "ZRANGE", "out", 0, -1, "WITHSCORES") == [b"a", b"1", b"c", b"4", b"b", b"5"]
    assert raw(r, "ZINTERSTORE", "out", 2, "z1", "z2", "WEIGHTS", 2, 1) == 1
    assert raw(r, "ZRANGE", "out", 0, -1, "WITHSCORES") == [b"b", b"7"]
    assert raw(r, "ZDIFFSTORE", "out", 2, "z1", "z2") == 1
    assert r.zrange("out", 0, -1) == [b"a"]
    assert raw(r, "ZINTERSTORE", "out", 2, "z1", "nokey") == 0
    assert r.exists("out") == 0
    assert raw(r, "ZUNIONSTORE", "z1", 2, "z1", "z2") == 3  # destination among inputs
    assert r.zcard("z1") == 3


def test_setop_errors(r):
    r.zadd("z", {"a": 1})
    r.set("str", "v")
    assert err(r, "ZUNIONSTORE", "d", 0, "z") == \
        "at least 1 input key is needed for 'zunionstore' command"
    assert err(r, "ZINTER", -1, "z") == "at least 1 input key is needed for 'zinter' command"
    assert err(r, "ZINTERCARD", 0, "z") == \
        "at least 1 input key is needed for 'zintercard' command"
    assert err(r, "ZUNIONSTORE", "d", 3, "z") == "syntax error"
    assert err(r, "ZUNION", 1, "z", "WEIGHTS") == "syntax error"
    assert err(r, "ZUNION", 1, "z", "WEIGHTS", "x") == "weight value is not a float"
    assert err(r, "ZUNION", 1, "z", "WEIGHTS", 1, 2) == "syntax error"
    assert err(r, "ZUNION", 1, "z", "AGGREGATE", "foo") == "syntax error"
    assert err(r, "ZUNIONSTORE", "d", 1, "z", "WITHSCORES") == "syntax error"
    assert err(r, "ZDIFF", 1, "z", "WEIGHTS", 1) == "syntax error"
    assert err(r, "ZUNION", 2, "z", "str", "foo") == WRONGTYPE  # type errors come first
    assert err(r, "ZINTERCARD", 1, "z", "LIMIT", -1) == "LIMIT can't be negative"
    assert err(r, "ZINTERCARD", 1, "z", "LIMIT", "x") == "LIMIT can't be negative"
    assert err(r, "ZINTERCARD", 1, "z", "WEIGHTS", 1) == "syntax error"
    assert err(r, "ZUNION", "x", "z") == "value is not an integer or out of range"


# --- LedisDB extras ------------------------------------------------------------------------------


def test_zclear_zmclear(r):
    r.zadd("z1", {"a": 1, "b": 2})
    r.zadd("z2", {"a": 1})
    assert raw(r, "ZCLEAR", "z1") == 2
    assert raw(r, "ZCLEAR", "z1") == 0
    r.zadd("z1", {"a": 1})
    assert raw(r, "ZMCLEAR", "z1", "z2", "nokey") == 3
    assert r.exists("z1", "z2") == 0
    r.set("str", "v")
    assert err(r, "ZCLEAR", "str") == WRONGTYPE


# --- RESP3 ---------------------------------------------------------------------------------------


def test_resp3_shapes(server):
    c = server.client(protocol=3)
    c.flushall()
    conn = c.connection_pool.get_connection()
    try:
        def call(*args):
            conn.send_command(*args)
            return conn.read_response()

        call("ZADD", "z", 1, "a", 2.5, "b", 3, "c")
        assert call("ZSCORE", "z", "b") == 2.5
        assert call("ZMSCORE", "z", "a", "q") == [1.0, None]
        assert call("ZRANGE", "z", 0, 1, "WITHSCORES") == [[b"a", 1.0], [b"b", 2.5]]
        assert call("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", 2, 1) == \
            [[b"c", 3.0]]
        assert call("ZUNION", 1, "z", "WITHSCORES")[0] == [b"a", 1.0]
        assert call("ZRANDMEMBER", "z", 1, "WITHSCORES")[0][1] in (1.0, 2.5, 3.0)
        assert call("ZSCAN", "z", 0) == [b"0", [b"a", b"1", b"b", b"2.5", b"c", b"3"]]
        assert call("ZINCRBY", "z", 1, "a") == 2.0
        assert call("ZPOPMIN", "z") == [b"a", 2.0]
        assert call("ZPOPMAX", "z", 1) == [[b"c", 3.0]]
        assert call("ZMPOP", 1, "z", "MIN") == [b"z", [[b"b", 2.5]]]
        assert call("ZMPOP", 1, "z", "MIN") is None
        assert call("ZRANK", "z", "a") is None
        call("ZADD", "z", "inf", "i")
        assert call("ZSCORE", "z", "i") == float("inf")
    finally:
        c.connection_pool.release(conn)
        c.close()


# --- blocking ------------------------------------------------------------------------------------


def test_bzpop_served_at_once_and_timeout(r):
    r.zadd("z", {"a": 1, "b": 2})
    assert raw(r, "BZPOPMIN", "nokey", "z", 0) == [b"z", b"a", b"1"]
    assert raw(r, "BZPOPMAX", "z", 0) == [b"z", b"b", b"2"]
    start = time.monotonic()
    assert raw(r, "BZPOPMIN", "z", "0.2") is None
    assert 0.15 < time.monotonic() - start < 2
    assert raw(r, "BZMPOP", "0.1", 1, "z", "MIN") is None
    assert err(r, "BZPOPMIN", "z", "x") == "timeout is not a float or out of range"
    assert err(r, "BZPOPMIN", "z", -1) == "timeout is negative"
    assert err(r, "BZMPOP", 0, 0, "z", "MIN") == "numkeys should be greater than 0"
    r.set("str", "v")
    assert err(r, "BZPOPMIN", "str", 0) == WRONGTYPE


@pytest.mark.parametrize("command,expected", [
    (("BZPOPMIN", "z", 5), [b"z", b"a", b"1"]),
    (("BZPOPMAX", "nokey", "z", 5), [b"z", b"b", b"2"]),
    (("BZMPOP", 5, 1, "z", "MAX", "COUNT", 10), [b"z", [[b"b", b"2"], [b"a", b"1"]]]),
])
def test_bzpop_wakes_on_zadd(server, r, command, expected):
    result = {}

    def waiter():
        c = server.client(protocol=2)
        result["value"] = raw(c, *command)
        c.close()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    assert r.zadd("z", {"a": 1, "b": 2}) == 2
    t.join(5)
    assert result["value"] == expected


def test_bzpopmin_wakes_on_zunionstore(server, r):
    r.zadd("src", {"x": 7})
    result = {}

    def waiter():
        c = server.client(protocol=2)
        result["value"] = raw(c, "BZPOPMIN", "dst", 5)
        c.close()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    assert raw(r, "ZUNIONSTORE", "dst", 1, "src") == 1
    t.join(5)
    assert result["value"] == [b"dst", b"x", b"7"]
    assert r.exists("dst") == 0


# --- expiry, overwrite, persistence -------------------------------------------------------------


def test_expired_zset_reads_as_missing_and_is_recreated_clean(r):
    r.zadd("z", {"a": 1, "b": 2})
    r.pexpire("z", 50)
    time.sleep(0.1)
    assert r.zcard("z") == 0
    assert r.zadd("z", {"c": 3}) == 1
    assert r.zrange("z", 0, -1) == [b"c"]
    assert r.ttl("z") == -1


def test_overwritten_zset_leaves_no_members(r):
    r.zadd("z", {"a": 1, "b": 2})
    r.set("z", "string")
    r.delete("z")
    r.zadd("z", {"c": 3})
    assert r.zrange("z", 0, -1, withscores=True) == [(b"c", 3.0)]
    assert r.zrangebylex("z", "-", "+") == [b"c"]


def test_zset_survives_restart(fresh_server):
    srv = fresh_server()
    c = srv.client(protocol=2)
    c.zadd("z", {"a": 1.5, "b": -2, b"\x00bin": float("inf")})
    srv.restart()
    c = srv.client(protocol=2)
    assert c.zrange("z", 0, -1, withscores=True) == \
        [(b"b", -2.0), (b"a", 1.5), (b"\x00bin", float("inf"))]
    assert c.zcard("z") == 3
    assert c.zrank("z", "a") == 1


def test_large_zset_ranks_and_ranges(r):
    n = 3000
    pipe = r.pipeline(transaction=False)
    for start in range(0, n, 500):
        pipe.zadd("big", {f"m{i:05}": i for i in range(start, min(n, start + 500))})
    pipe.execute()
    assert r.zcard("big") == n
    assert r.zrank("big", "m02999") == n - 1
    assert r.zrevrank("big", "m00000") == n - 1
    assert r.zrange("big", 2990, -1) == [f"m{i:05}".encode() for i in range(2990, n)]
    assert r.zrange("big", -3000, -2999) == [b"m00000", b"m00001"]
    assert raw(r, "ZCOUNT", "big", 100, "(200") == 100
    assert raw(r, "ZREMRANGEBYRANK", "big", 10, -11) == n - 20
    assert r.zcard("big") == 20
    assert r.zrange("big", 9, 10) == [b"m00009", b"m02990"]


# --- the score encoding (no server) ------------------------------------------------------------


def test_score_encoding_preserves_order_and_round_trips():
    import math
    import random

    from ledis.storage.types.zset_score import _decode, encode_score

    values = [float("-inf"), -1e308, -2.5, -1.0, -5e-324, -0.0, 0.0, 5e-324, 1e-300, 0.1, 1.0,
              3.0, 1e17, 1.7976931348623157e308, float("inf")]
    rng = random.Random(7)
    values += [rng.uniform(-1e6, 1e6) for _ in range(300)]
    values += [math.ldexp(rng.random(), rng.randint(-1070, 1020)) * rng.choice((-1, 1))
               for _ in range(300)]
    for v in values:
        assert _decode(encode_score(v)) == v
        assert len(encode_score(v)) == 8
    ordered = sorted(values)
    encoded = [encode_score(v) for v in ordered]
    assert encoded == sorted(encoded)
    assert encode_score(-0.0) == encode_score(0.0)
    # neighbours: the list against itself shifted by one
    for a, b in zip(ordered, ordered[1:], strict=False):
        assert (encode_score(a) < encode_score(b)) == (a < b)


def test_zadd_same_score_is_two_reads_and_no_write(tmp_path):
    from ledis.storage.engine import Engine
    from ledis.storage.keyspace import Store
    from ledis.storage.types import zset

    engine = Engine(str(tmp_path / "db"), fsync="no")
    try:
        db = Store(engine).dbs[0]
        zset.add(db, b"z", [(1.0, b"a"), (2.0, b"b")])
        engine.commit()
        calls = []
        real_get = engine.get
        engine.get = lambda cf, key: calls.append(cf) or real_get(cf, key)  # type: ignore
        assert zset.add(db, b"z", [(1.0, b"a")]) == (0, 0, 1, 1.0)
        assert len(calls) == 2
        assert not engine.dirty
        assert zset.add(db, b"z", [(5.0, b"a")]) == (0, 1, 1, 5.0)
        assert engine.dirty
    finally:
        engine.close()


def test_two_waiters_served_in_arrival_order(server, r):
    results: dict[int, object] = {}

    def waiter(i: int) -> None:
        c = server.client(protocol=2)
        results[i] = raw(c, "BZPOPMIN", "q", 5)
        c.close()

    threads = []
    for i in range(2):
        t = threading.Thread(target=waiter, args=(i,))
        t.start()
        threads.append(t)
        time.sleep(0.2)
    assert raw(r, "ZADD", "q", 1, "low", 2, "high", 3, "left") == 3
    for t in threads:
        t.join(5)
    assert results == {0: [b"q", b"low", b"1"], 1: [b"q", b"high", b"2"]}
    assert r.zrange("q", 0, -1) == [b"left"]


def test_range_replies_inside_scripts_and_transactions(r):
    r.zadd("z", {"a": 1, "b": 2.5})
    script = "return redis.call('zrange', KEYS[1], 0, -1, 'withscores')"
    assert raw(r, "EVAL", script, 1, "z") == [b"a", b"1", b"b", b"2.5"]
    pipe = r.pipeline(transaction=True)
    pipe.execute_command("ZRANGE", "z", 0, -1, "WITHSCORES")
    pipe.execute_command("ZINCRBY", "z", "-0", "new")
    ranged, incremented = pipe.execute()  # (redis-py converts the ZINCRBY reply to float)
    assert ranged == [b"a", b"1", b"b", b"2.5"]
    assert incremented == 0.0 and str(incremented) == "-0.0"


@pytest.mark.slow
def test_hundred_thousand_members(r):
    n = 100_000
    pipe = r.pipeline(transaction=False)
    for start in range(0, n, 1000):
        pipe.zadd("huge", {b"m%06d" % i: i * 0.5 for i in range(start, start + 1000)})
    pipe.execute()
    assert r.zcard("huge") == n
    started = time.monotonic()
    assert r.zrange("huge", -3, -1) == [b"m099997", b"m099998", b"m099999"]
    assert raw(r, "ZRANGE", "huge", "(49000", "+inf", "BYSCORE", "LIMIT", 0, 2) == \
        [b"m098001", b"m098002"]
    assert r.zscore("huge", "m050000") == 25000.0
    assert raw(r, "ZCOUNT", "huge", "-inf", "+inf") == n
    assert time.monotonic() - started < 2  # seeks, not scans
    assert r.zrank("huge", "m090000") == 90_000  # O(rank), still well under a second
    assert r.zremrangebyscore("huge", 0, "(25000") == 50_000
    assert r.zcard("huge") == 50_000
    assert r.zpopmin("huge") == [(b"m050000", 25000.0)]
