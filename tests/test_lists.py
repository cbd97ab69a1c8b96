"""List commands, black-box through redis-py. Every test runs against ledis and, where
redis-server is installed, against Redis 7.0 too: the expectations are Redis's."""

from __future__ import annotations

import pytest
import redis

from tests.helpers import have_redis_server

BACKENDS = ["ledis", pytest.param("redis", marks=pytest.mark.skipif(
    not have_redis_server(), reason="redis-server not installed"))]


@pytest.fixture(params=BACKENDS)
def c(request):
    if request.param == "ledis":
        return request.getfixturevalue("r")
    return request.getfixturevalue("ref")


@pytest.fixture(params=BACKENDS)
def c3(request, server):
    """RESP3 clients."""
    if request.param == "ledis":
        client = server.client(protocol=3)
    else:
        client = request.getfixturevalue("redis_server").client(protocol=3)
    client.flushall()
    yield client
    client.close()


def err(c, *cmd) -> str:
    with pytest.raises(redis.ResponseError) as info:
        c.execute_command(*cmd)
    return str(info.value)


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


# --- pushes ------------------------------------------------------------------------------------
def test_lpush_rpush_order_and_length(c):
    assert c.rpush("l", "a", "b") == 2
    assert c.lpush("l", "x", "y") == 4
    assert c.lrange("l", 0, -1) == [b"y", b"x", b"a", b"b"]
    assert c.llen("l") == 4
    assert c.type("l") == b"list"


def test_pushx_only_on_existing(c):
    assert c.lpushx("l", "a") == 0
    assert c.rpushx("l", "a", "b") == 0
    assert c.exists("l") == 0
    c.rpush("l", "m")
    assert c.lpushx("l", "a", "b") == 3
    assert c.rpushx("l", "z") == 4
    assert c.lrange("l", 0, -1) == [b"b", b"a", b"m", b"z"]


def test_binary_and_empty_elements(c):
    values = [b"", b"\x00", b"\xff\xfe\r\n", b"x" * 10000]
    c.rpush("l", *values)
    assert c.lrange("l", 0, -1) == values
    assert c.lindex("l", 2) == b"\xff\xfe\r\n"
    assert c.lpos("l", b"\x00") == 1
    c.rpush(b"\x00key\xff", b"v")
    assert c.lrange(b"\x00key\xff", 0, -1) == [b"v"]


def test_push_keeps_ttl(c):
    c.rpush("l", "a")
    c.expire("l", 100)
    c.rpush("l", "b")
    c.lpop("l")
    assert 0 < c.ttl("l") <= 100


def test_push_on_expired_list_starts_fresh(c):
    c.rpush("l", "old1", "old2")
    c.pexpire("l", 1)
    import time
    time.sleep(0.01)
    assert c.rpush("l", "new") == 1
    assert c.lrange("l", 0, -1) == [b"new"]
    assert c.ttl("l") == -1


# --- pops --------------------------------------------------------------------------------------
def test_pop_without_count(c):
    c.rpush("l", "a", "b", "c")
    assert c.lpop("l") == b"a"
    assert c.rpop("l") == b"c"
    assert c.rpop("l") == b"b"
    assert c.exists("l") == 0
    assert c.lpop("l") is None
    assert c.rpop("missing") is None


def test_pop_with_count(c):
    c.rpush("l", *"abcde")
    assert c.lpop("l", 2) == [b"a", b"b"]
    assert c.rpop("l", 2) == [b"e", b"d"]
    assert c.lpop("l", 0) == []
    assert c.rpop("l", 100) == [b"c"]
    assert c.exists("l") == 0
    assert c.lpop("l", 2) is None
    assert c.lpop("l", 0) is None


def test_pop_count_errors(c):
    c.rpush("l", "a")
    assert err(c, "LPOP", "l", "-1") == "value is out of range, must be positive"
    assert err(c, "RPOP", "l", "x") == "value is out of range, must be positive"
    assert err(c, "LPOP", "l", "1", "2") == "wrong number of arguments for 'lpop' command"
    assert c.lrange("l", 0, -1) == [b"a"]


def test_pop_count_resp3_shapes(c3):
    c3.rpush("l", "a", "b")
    assert c3.execute_command("LPOP", "nokey", "2") is None
    assert c3.execute_command("LPOP", "nokey") is None
    assert c3.execute_command("LPOP", "l", "0") == []
    assert c3.execute_command("RPOP", "l", "5") == [b"b", b"a"]


def test_pop_count_null_array_on_the_wire(server, redis_server):
    import socket

    def raw(port):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"DEL zzq\r\nLPOP zzq 2\r\nLPOP zzq\r\nLPOP zzq 0\r\nLMPOP 1 zzq LEFT\r\n")
            s.settimeout(3)
            data = b""
            while data.count(b"\r\n") < 5:
                data += s.recv(100)
            return data

    assert raw(server.port) == b":0\r\n*-1\r\n$-1\r\n*-1\r\n*-1\r\n"
    if have_redis_server():
        assert raw(redis_server.port) == raw(server.port)


# --- reads -------------------------------------------------------------------------------------
def test_lindex(c):
    c.rpush("l", "a", "b", "c")
    assert [c.lindex("l", i) for i in (0, 1, 2, 3, -1, -3, -4)] == [
        b"a", b"b", b"c", None, b"c", b"a", None]
    assert c.lindex("missing", 0) is None
    assert err(c, "LINDEX", "l", "x") == "value is not an integer or out of range"
    assert c.lindex("l", 2**63 - 1) is None
    assert c.lindex("l", -(2**63)) is None


@pytest.mark.parametrize("start,stop,expected", [
    (0, -1, "abcde"), (1, 3, "bcd"), (-2, -1, "de"), (-100, 1, "ab"), (3, 100, "de"),
    (4, 4, "e"), (5, 10, ""), (3, 1, ""), (-1, -2, ""), (0, 0, "a"),
    (-(2**63), 2**63 - 1, "abcde"), (2**63 - 1, -(2**63), ""),
])
def test_lrange(c, start, stop, expected):
    c.rpush("l", *"abcde")
    assert c.lrange("l", start, stop) == [ch.encode() for ch in expected]


def test_lrange_missing_and_errors(c):
    assert c.lrange("missing", 0, -1) == []
    assert err(c, "LRANGE", "l", "a", "1") == "value is not an integer or out of range"
    assert err(c, "LRANGE", "l", "0", "1.5") == "value is not an integer or out of range"


def test_llen(c):
    assert c.llen("missing") == 0
    c.rpush("l", *range(100))
    assert c.llen("l") == 100


def test_lpos(c):
    c.rpush("l", *"abcabcab")
    assert c.lpos("l", "c") == 2
    assert c.lpos("l", "z") is None
    assert c.lpos("l", "a", rank=2) == 3
    assert c.lpos("l", "a", rank=-1) == 6
    assert c.lpos("l", "a", rank=-2) == 3
    assert c.lpos("l", "a", count=0) == [0, 3, 6]
    assert c.lpos("l", "a", count=2) == [0, 3]
    assert c.lpos("l", "a", rank=-1, count=2) == [6, 3]
    assert c.lpos("l", "a", rank=2, count=0) == [3, 6]
    assert c.lpos("l", "b", maxlen=1) is None
    assert c.lpos("l", "b", maxlen=2) == 1
    assert c.lpos("l", "b", rank=-1, maxlen=2) == 7
    assert c.lpos("l", "a", count=0, maxlen=4) == [0, 3]
    assert c.lpos("l", "a", rank=10) is None
    assert c.lpos("l", "a", rank=10, count=1) == []
    assert c.lpos("missing", "a") is None
    assert c.lpos("missing", "a", count=1) == []
    # the last option given wins
    assert c.execute_command("LPOS", "l", "a", "RANK", "1", "RANK", "2") == 3


def test_lpos_errors(c):
    c.rpush("l", "a")
    assert err(c, "LPOS", "l", "a", "RANK", "0").startswith("RANK can't be zero")
    assert err(c, "LPOS", "l", "a", "COUNT", "-1") == "COUNT can't be negative"
    assert err(c, "LPOS", "l", "a", "MAXLEN", "-1") == "MAXLEN can't be negative"
    assert err(c, "LPOS", "l", "a", "RANK") == "syntax error"
    assert err(c, "LPOS", "l", "a", "FOO", "1") == "syntax error"
    assert err(c, "LPOS", "l", "a", "RANK", "x") == "value is not an integer or out of range"
    # options are checked before the key's type
    c.set("s", "v")
    assert err(c, "LPOS", "s", "a", "COUNT", "-1") == "COUNT can't be negative"
    assert err(c, "LPOS", "s", "a") == WRONGTYPE


# --- in-place writes ---------------------------------------------------------------------------
def test_lset(c):
    c.rpush("l", "a", "b", "c")
    assert c.lset("l", 0, "A") is True
    assert c.lset("l", -1, "C") is True
    assert c.lrange("l", 0, -1) == [b"A", b"b", b"C"]
    assert err(c, "LSET", "l", "3", "x") == "index out of range"
    assert err(c, "LSET", "l", "-4", "x") == "index out of range"
    assert err(c, "LSET", "missing", "0", "x") == "no such key"
    assert err(c, "LSET", "l", "x", "x") == "value is not an integer or out of range"


def test_linsert(c):
    c.rpush("l", "a", "b", "c")
    assert c.linsert("l", "BEFORE", "a", "0") == 4
    assert c.linsert("l", "after", "c", "9") == 5
    assert c.linsert("l", "AFTER", "a", "a+") == 6
    assert c.linsert("l", "BEFORE", "c", "c-") == 7
    assert c.lrange("l", 0, -1) == [b"0", b"a", b"a+", b"b", b"c-", b"c", b"9"]
    assert c.linsert("l", "BEFORE", "zz", "x") == -1
    assert c.linsert("missing", "BEFORE", "a", "x") == 0
    assert c.exists("missing") == 0
    assert err(c, "LINSERT", "l", "MIDDLE", "a", "x") == "syntax error"
    assert c.llen("l") == 7


def test_linsert_first_match_only(c):
    c.rpush("l", "x", "p", "x", "p")
    c.linsert("l", "AFTER", "p", "new")
    assert c.lrange("l", 0, -1) == [b"x", b"p", b"new", b"x", b"p"]


@pytest.mark.parametrize("count,expected", [
    (0, "bcbd"), (1, "bacabad"), (2, "bcabad"), (-1, "abacabd"), (-2, "abacbd"), (10, "bcbd"),
    (-10, "bcbd"),
])
def test_lrem(c, count, expected):
    c.rpush("l", *"abacabad")
    removed = c.lrem("l", count, "a")
    assert c.lrange("l", 0, -1) == [ch.encode() for ch in expected]
    assert removed == 8 - len(expected)
    assert c.llen("l") == len(expected)


def test_lrem_edge_cases(c):
    c.rpush("l", "a", "a")
    assert c.lrem("l", 0, "zz") == 0
    assert c.lrem("missing", 0, "a") == 0
    assert c.lrem("l", 0, "a") == 2
    assert c.exists("l") == 0
    assert err(c, "LREM", "l", "x", "a") == "value is not an integer or out of range"


def test_ltrim(c):
    c.rpush("l", *"abcdef")
    assert c.ltrim("l", 1, -2) is True
    assert c.lrange("l", 0, -1) == [b"b", b"c", b"d", b"e"]
    c.ltrim("l", -100, 100)
    assert c.llen("l") == 4
    c.ltrim("l", 2, 2)
    assert c.lrange("l", 0, -1) == [b"d"]
    c.ltrim("l", 5, 10)
    assert c.exists("l") == 0
    assert c.ltrim("missing", 0, 1) is True
    assert err(c, "LTRIM", "l", "a", "1") == "value is not an integer or out of range"


def test_ltrim_big_ends(c):
    c.rpush("l", *range(200))
    c.ltrim("l", 50, 149)
    assert c.lrange("l", 0, -1) == [str(i).encode() for i in range(50, 150)]
    c.lpush("l", "head")
    c.rpush("l", "tail")
    assert c.lindex("l", 0) == b"head" and c.lindex("l", -1) == b"tail"
    assert c.llen("l") == 102


# --- moves -------------------------------------------------------------------------------------
@pytest.mark.parametrize("src_side,dst_side,src_after,dst_after,moved", [
    ("LEFT", "LEFT", "bc", "axy", "a"), ("LEFT", "RIGHT", "bc", "xya", "a"),
    ("RIGHT", "LEFT", "ab", "cxy", "c"), ("RIGHT", "RIGHT", "ab", "xyc", "c"),
])
def test_lmove(c, src_side, dst_side, src_after, dst_after, moved):
    c.rpush("s", *"abc")
    c.rpush("d", *"xy")
    assert c.lmove("s", "d", src_side, dst_side) == moved.encode()
    assert c.lrange("s", 0, -1) == [ch.encode() for ch in src_after]
    assert c.lrange("d", 0, -1) == [ch.encode() for ch in dst_after]


def test_lmove_same_key_rotates_and_keeps_ttl(c):
    c.rpush("l", *"abc")
    c.expire("l", 100)
    assert c.lmove("l", "l", "LEFT", "RIGHT") == b"a"
    assert c.lrange("l", 0, -1) == [b"b", b"c", b"a"]
    assert c.rpoplpush("l", "l") == b"a"
    assert c.lrange("l", 0, -1) == [b"a", b"b", b"c"]
    assert c.lmove("l", "l", "LEFT", "LEFT") == b"a"
    assert c.lrange("l", 0, -1) == [b"a", b"b", b"c"]
    c.delete("l")
    c.rpush("l", "only")
    c.expire("l", 100)
    assert c.lmove("l", "l", "RIGHT", "LEFT") == b"only"
    assert c.lrange("l", 0, -1) == [b"only"]
    assert c.ttl("l") > 0


def test_lmove_empties_source_and_creates_destination(c):
    c.rpush("s", "v")
    assert c.rpoplpush("s", "d") == b"v"
    assert c.exists("s") == 0
    assert c.lrange("d", 0, -1) == [b"v"]
    assert c.rpoplpush("missing", "d") is None
    assert c.lmove("missing", "d", "LEFT", "LEFT") is None


def test_lmove_wrongtype_and_syntax(c):
    c.set("str", "x")
    c.rpush("l", "a")
    assert err(c, "LMOVE", "l", "str", "LEFT", "LEFT") == WRONGTYPE
    assert c.lrange("l", 0, -1) == [b"a"]  # nothing popped
    assert err(c, "LMOVE", "str", "l", "LEFT", "LEFT") == WRONGTYPE
    assert c.lmove("missing", "str", "LEFT", "LEFT") is None  # source checked first
    assert err(c, "LMOVE", "l", "d", "UP", "LEFT") == "syntax error"
    assert err(c, "LMOVE", "l", "d", "LEFT", "DOWN") == "syntax error"
    assert err(c, "RPOPLPUSH", "l", "str") == WRONGTYPE


def test_lmpop(c):
    c.rpush("b", *"123")
    assert c.execute_command("LMPOP", 2, "a", "b", "LEFT") == [b"b", [b"1"]]
    assert c.execute_command("LMPOP", 2, "a", "b", "RIGHT", "COUNT", 10) == [b"b", [b"3", b"2"]]
    assert c.exists("b") == 0
    assert c.execute_command("LMPOP", 2, "a", "b", "LEFT") is None


def test_lmpop_errors(c):
    assert err(c, "LMPOP", 0, "a", "LEFT") == "numkeys should be greater than 0"
    assert err(c, "LMPOP", -1, "a", "LEFT") == "numkeys should be greater than 0"
    assert err(c, "LMPOP", "x", "a", "LEFT") == "numkeys should be greater than 0"
    assert err(c, "LMPOP", 3, "a", "LEFT") == "syntax error"
    assert err(c, "LMPOP", 1, "a", "UP") == "syntax error"
    assert err(c, "LMPOP", 1, "a", "LEFT", "COUNT", 0) == "count should be greater than 0"
    assert err(c, "LMPOP", 1, "a", "LEFT", "COUNT", "x") == "count should be greater than 0"
    assert err(c, "LMPOP", 1, "a", "LEFT", "COUNT") == "syntax error"
    assert err(c, "LMPOP", 1, "a", "LEFT", "COUNT", 1, "COUNT", 1) == "syntax error"
    c.set("s", "x")
    assert err(c, "LMPOP", 2, "missing", "s", "LEFT") == WRONGTYPE


# --- types -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cmd", [
    ("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"), ("RPUSHX", "s", "a"),
    ("LPOP", "s"), ("RPOP", "s", "2"), ("LLEN", "s"), ("LINDEX", "s", "0"),
    ("LRANGE", "s", "0", "1"), ("LSET", "s", "0", "a"), ("LINSERT", "s", "BEFORE", "a", "b"),
    ("LREM", "s", "0", "a"), ("LTRIM", "s", "0", "1"), ("LPOS", "s", "a"),
    ("LMOVE", "s", "d", "LEFT", "LEFT"), ("RPOPLPUSH", "s", "d"), ("LMPOP", "1", "s", "LEFT"),
])
def test_wrongtype(c, cmd):
    c.set("s", "string")
    assert err(c, *cmd) == WRONGTYPE
    assert c.get("s") == b"string"


def test_list_is_replaced_by_set_and_del(c):
    c.rpush("l", "a", "b")
    c.set("l", "now a string")
    assert c.get("l") == b"now a string"
    c.delete("l")
    c.rpush("l", "fresh")
    assert c.lrange("l", 0, -1) == [b"fresh"]


# --- big lists ---------------------------------------------------------------------------------
def test_large_list_ranges_and_indexes(c):
    n = 5000
    c.rpush("l", *range(n))
    c.lpush("l", *range(-1, -1001, -1))
    assert c.llen("l") == n + 1000
    assert c.lindex("l", 0) == b"-1000"
    assert c.lindex("l", 1000) == b"0"
    assert c.lindex("l", -1) == str(n - 1).encode()
    assert c.lrange("l", 999, 1001) == [b"-1", b"0", b"1"]
    assert len(c.lrange("l", 0, -1)) == n + 1000
    assert c.lpos("l", 4000) == 5000


# --- LedisDB extras (ledis only) ---------------------------------------------------------------
def test_lclear_lmclear(r):
    r.rpush("a", 1, 2, 3)
    r.rpush("b", 1)
    assert r.execute_command("LCLEAR", "a") == 3
    assert r.execute_command("LCLEAR", "a") == 0
    assert r.exists("a") == 0
    r.rpush("a", 1)
    assert r.execute_command("LMCLEAR", "a", "b", "c") == 3
    assert r.exists("a", "b") == 0
    r.set("s", "x")
    assert err(r, "LCLEAR", "s") == WRONGTYPE
    r.rpush("a", 1)
    assert err(r, "LMCLEAR", "a", "s") == WRONGTYPE
    assert r.exists("a") == 1  # failed whole


# --- persistence (cold cache: the iterator paths) ----------------------------------------------
def test_lists_survive_restart_and_read_cold(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.rpush("l", *range(300))
    c.lpush("l", *[b"h%d" % i for i in range(50)])
    c.ltrim("l", 10, -11)
    c.linsert("l", "AFTER", "150", "ins")
    c.lrem("l", 0, "7")
    c.rpush("tmp", "x")
    c.lpop("tmp")
    expected = c.lrange("l", 0, -1)
    c.close()
    srv.restart()
    c = srv.client()
    assert c.lrange("l", 0, -1) == expected
    assert c.lrange("l", 5, 120) == expected[5:121]
    assert c.lindex("l", -1) == expected[-1]
    assert c.llen("l") == len(expected)
    assert c.lpos("l", "ins") == expected.index(b"ins")
    assert c.exists("tmp") == 0
    assert c.rpop("l", 3) == expected[-1:-4:-1]
    assert c.lpop("l", 2) == expected[:2]
    assert c.lrange("l", 0, -1) == expected[2:-3]
    c.close()


def test_lrange_long_reply_in_script_and_pipeline(c):
    values = [b"v%d" % i for i in range(20)] + [b"x" * 600, b""]
    c.rpush("l", *values)
    assert c.eval("return redis.call('LRANGE', KEYS[1], 0, -1)", 1, "l") == values
    assert c.eval("return #redis.call('LRANGE', KEYS[1], 0, -1)", 1, "l") == len(values)
    p = c.pipeline(transaction=False)
    p.lrange("l", 0, -1)
    p.lrange("l", 1, 12)
    p.llen("l")
    assert p.execute() == [values, values[1:13], len(values)]


def test_lrange_resp3(c3):
    values = [b"e%d" % i for i in range(30)]
    c3.rpush("l", *values)
    assert c3.lrange("l", 0, -1) == values
    assert c3.lrange("l", -5, -1) == values[-5:]
