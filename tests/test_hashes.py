"""Hash commands through redis-py over TCP: normal use, edge cases, exact error texts."""

from __future__ import annotations

import time

import pytest
import redis

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def error_of(client, *args) -> str:
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


@pytest.fixture
def r2(server):
    """An explicit RESP2 client (redis-py 8 speaks RESP3 by default)."""
    client = server.client(protocol=2)
    client.flushall()
    yield client
    client.close()


def raw_command(client, *args):
    """Send a command and return the reply without redis-py's response callbacks."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        client.connection_pool.release(conn)


# --- HSET / HGET / HMSET / HSETNX -----------------------------------------------------------
def test_hset_counts_new_fields_only(r):
    assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hset("h", mapping={"a": "3", "c": "4"}) == 1
    assert r.hget("h", "a") == b"3"
    assert r.hlen("h") == 3
    assert r.type("h") == b"hash"


def test_hset_duplicate_fields_in_one_call(r):
    assert r.execute_command("HSET", "h", "f", "1", "f", "2") == 1
    assert r.hget("h", "f") == b"2"
    assert r.hlen("h") == 1
    assert r.execute_command("HSET", "h", "g", "1", "g", "2") == 1
    assert r.hlen("h") == 2


def test_hset_odd_arguments_is_arity_error(r):
    assert error_of(r, "HSET", "h", "a", "b", "c") == "wrong number of arguments for 'hset' command"
    assert error_of(r, "HSET", "h", "a") == "wrong number of arguments for 'hset' command"
    assert error_of(r, "HMSET", "h", "a", "b", "c") == (
        "wrong number of arguments for 'hmset' command")
    assert r.exists("h") == 0


def test_hmset_returns_ok(r):
    assert r.execute_command("HMSET", "h", "a", "1", "b", "2") is True  # +OK
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2"}


def test_hsetnx(r):
    assert r.hsetnx("h", "a", "1") == 1
    assert r.hsetnx("h", "a", "2") == 0
    assert r.hget("h", "a") == b"1"
    assert r.hlen("h") == 1


def test_hget_missing(r):
    assert r.hget("nokey", "f") is None
    r.hset("h", "a", "1")
    assert r.hget("h", "zz") is None


def test_binary_fields_and_values(r):
    field = b"f\x00\xff\r\n"
    value = b"\x00v\x00" * 100
    assert r.hset("h", field, value) == 1
    assert r.hget("h", field) == value
    assert r.hget("h", b"f") is None
    assert r.hgetall("h") == {field: value}
    assert r.hset("h", b"", b"") == 1
    assert r.hget("h", b"") == b""
    assert r.hstrlen("h", b"") == 0
    assert r.hexists("h", b"") is True


def test_hmget(r):
    r.hset("h", mapping={"a": "1", "c": "3"})
    assert r.hmget("h", ["a", "b", "c"]) == [b"1", None, b"3"]
    assert r.hmget("nokey", ["a", "b"]) == [None, None]


# --- HDEL / HLEN / HEXISTS / HSTRLEN ----------------------------------------------------------
def test_hdel_and_empty_hash_is_removed(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.hdel("h", "a", "a", "zz") == 1
    assert r.hlen("h") == 1
    assert r.hdel("h", "b") == 1
    assert r.exists("h") == 0
    assert r.hlen("h") == 0
    assert r.hdel("h", "b") == 0
    assert r.hdel("nokey", "x") == 0


def test_hexists_hstrlen(r):
    r.hset("h", "f", "hello")
    assert r.hexists("h", "f") is True
    assert r.hexists("h", "g") is False
    assert r.hexists("nokey", "g") is False
    assert r.hstrlen("h", "f") == 5
    assert r.hstrlen("h", "g") == 0
    assert r.hstrlen("nokey", "g") == 0


# --- HKEYS / HVALS / HGETALL ---------------------------------------------------------------
def test_hkeys_hvals_hgetall(r):
    data = {b"x%d" % i: b"v%d" % i for i in range(50)}
    r.hset("h", mapping=data)
    assert sorted(r.hkeys("h")) == sorted(data)
    assert sorted(r.hvals("h")) == sorted(data.values())
    assert r.hgetall("h") == data
    assert r.hkeys("nokey") == []
    assert r.hvals("nokey") == []
    assert r.hgetall("nokey") == {}


def test_hgetall_resp2_and_resp3(r3, r2):
    r2.hset("h", mapping={"a": "1"})
    assert raw_command(r2, "HGETALL", "h") == [b"a", b"1"]
    assert raw_command(r3, "HGETALL", "h") == {b"a": b"1"}
    r3.delete("h")
    r3.hset("h", mapping={"a": "1", "b": "2"})
    assert r3.hgetall("h") == {b"a": b"1", b"b": b"2"}
    assert r3.hgetall("nokey") == {}


# --- HINCRBY / HINCRBYFLOAT -----------------------------------------------------------------
def test_hincrby(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    assert r.hget("h", "n") == b"-2"
    assert r.hlen("h") == 1
    r.hset("h", "big", str(2**63 - 1))
    assert error_of(r, "HINCRBY", "h", "big", "1") == "increment or decrement would overflow"
    r.hset("h", "small", str(-(2**63)))
    assert error_of(r, "HINCRBY", "h", "small", "-1") == "increment or decrement would overflow"
    r.hset("h", "s", "abc")
    assert error_of(r, "HINCRBY", "h", "s", "1") == "hash value is not an integer"
    r.hset("h", "e", "1e3")
    assert error_of(r, "HINCRBY", "h", "e", "1") == "hash value is not an integer"
    r.hset("h", "sp", " 1")
    assert error_of(r, "HINCRBY", "h", "sp", "1") == "hash value is not an integer"
    assert error_of(r, "HINCRBY", "h", "n", "x") == "value is not an integer or out of range"
    assert error_of(r, "HINCRBY", "h", "n", "1.5") == "value is not an integer or out of range"


def test_hincrbyfloat(r):
    assert raw_command(r, "HINCRBYFLOAT", "h", "f", "0.1") == b"0.1"
    assert raw_command(r, "HINCRBYFLOAT", "h", "f", "0.2") == b"0.3"
    assert raw_command(r, "HINCRBYFLOAT", "h", "g", "3.0e3") == b"3000"
    assert raw_command(r, "HINCRBYFLOAT", "h", "z", "-0.0") == b"0"
    assert raw_command(r, "HINCRBYFLOAT", "h", "t", "1e-20") == b"0"
    assert raw_command(r, "HINCRBYFLOAT", "h", "u", "1.5e-5") == b"0.000015"
    assert error_of(r, "HINCRBYFLOAT", "h", "f", "inf") == "value is NaN or Infinity"
    assert error_of(r, "HINCRBYFLOAT", "h", "f", "x") == "value is not a valid float"
    r.hset("h", "s", "abc")
    assert error_of(r, "HINCRBYFLOAT", "h", "s", "1") == "hash value is not a float"
    r.hset("h", "e", "1e3")
    assert raw_command(r, "HINCRBYFLOAT", "h", "e", "1") == b"1001"
    assert r.hget("h", "f") == b"0.3"


# --- HRANDFIELD -------------------------------------------------------------------------------
def test_hrandfield_single(r):
    assert r.hrandfield("nokey") is None
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    seen = {r.hrandfield("h") for _ in range(60)}
    assert seen == {b"a", b"b", b"c"}


def test_hrandfield_counts(r2):
    r = r2
    data = {b"f%d" % i: b"v%d" % i for i in range(10)}
    r.hset("h", mapping=data)
    got = r.hrandfield("h", 5)
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= set(data)
    assert sorted(r.hrandfield("h", 100)) == sorted(data)
    neg = r.hrandfield("h", -30)
    assert len(neg) == 30 and set(neg) <= set(data)
    assert r.hrandfield("h", 0) == []
    assert r.hrandfield("nokey", 5) == []
    flat = raw_command(r, "HRANDFIELD", "h", "3", "WITHVALUES")
    assert len(flat) == 6
    for f, v in zip(flat[::2], flat[1::2], strict=True):
        assert data[f] == v


def test_hrandfield_resp3_withvalues_pairs(r3):
    r3.hset("h", mapping={"a": "1", "b": "2"})
    got = raw_command(r3, "HRANDFIELD", "h", "-3", "WITHVALUES")
    assert len(got) == 3
    for pair in got:
        assert pair in ([b"a", b"1"], [b"b", b"2"])


def test_hrandfield_errors(r):
    r.hset("h", "a", "1")
    assert error_of(r, "HRANDFIELD", "h", "1", "WITHVALUE") == "syntax error"
    assert error_of(r, "HRANDFIELD", "h", "1", "WITHVALUES", "x") == "syntax error"
    assert error_of(r, "HRANDFIELD", "h", "x") == "value is not an integer or out of range"
    assert error_of(r, "HRANDFIELD", "h", str(-(2**63))) == (
        "value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")
    assert error_of(r, "HRANDFIELD", "nokey", str(2**63 - 1), "WITHVALUES") == (
        "value is out of range")


def test_hrandfield_large_hash_spreads(r):
    pipe = r.pipeline(transaction=False)
    for i in range(0, 3000, 500):
        pipe.hset("h", mapping={b"k%05d" % j: b"%d" % j for j in range(i, i + 500)})
    pipe.execute()
    picks = [r.hrandfield("h") for _ in range(200)]
    assert len(set(picks)) > 50
    distinct = r.hrandfield("h", 100)
    assert len(set(distinct)) == 100
    assert len(r.hrandfield("h", -100)) == 100


# --- HSCAN ------------------------------------------------------------------------------------
def full_hscan(client, key, **kw):
    cursor, out, calls = 0, {}, 0
    while True:
        cursor, chunk = client.hscan(key, cursor, **kw)
        out.update(chunk)
        calls += 1
        if cursor == 0:
            return out, calls


def test_hscan_small_hash_in_one_call(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hscan("h", 0) == (0, {b"a": b"1", b"b": b"2", b"c": b"3"})
    assert r.hscan("h", 0, match="[ab]") == (0, {b"a": b"1", b"b": b"2"})
    assert r.hscan("nokey", 0) == (0, {})


def test_hscan_large_hash_resumes(r):
    data = {b"field:%d" % i: b"%d" % i for i in range(1000)}
    r.hset("h", mapping=data)
    got, calls = full_hscan(r, "h", count=50)
    assert got == data
    assert calls >= 20
    got, _ = full_hscan(r, "h", match="field:1*", count=100)
    assert got == {k: v for k, v in data.items() if k.startswith(b"field:1")}


def test_hscan_short_and_long_fields(r):
    data = {b"%d" % i: b"x" for i in range(300)}
    data.update({b"long-field-name-%d" % i: b"y" for i in range(300)})
    data[b"\x00"] = b"z"
    r.hset("h", mapping=data)
    got, _ = full_hscan(r, "h", count=7)
    assert got == data


def test_hscan_errors(r):
    r.hset("h", "a", "1")
    r.set("str", "x")
    assert error_of(r, "HSCAN", "h", "x") == "invalid cursor"
    assert error_of(r, "HSCAN", "h", str(2**64)) == "invalid cursor"
    assert error_of(r, "HSCAN", "h", "0", "COUNT", "0") == "syntax error"
    assert error_of(r, "HSCAN", "h", "0", "COUNT", "x") == "value is not an integer or out of range"
    assert error_of(r, "HSCAN", "h", "0", "MATCH") == "syntax error"
    assert error_of(r, "HSCAN", "h", "0", "NOVALUES") == "syntax error"
    assert error_of(r, "HSCAN", "str", "0") == WRONGTYPE
    # Redis answers a missing key before looking at the options.
    assert raw_command(r, "HSCAN", "nokey", "0", "FOO", "bar") == [b"0", []]


# --- WRONGTYPE and expiry -----------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ("HSET", "str", "a", "1"), ("HSETNX", "str", "a", "1"), ("HGET", "str", "a"),
    ("HMGET", "str", "a"), ("HMSET", "str", "a", "1"), ("HDEL", "str", "a"), ("HLEN", "str"),
    ("HSTRLEN", "str", "a"), ("HEXISTS", "str", "a"), ("HKEYS", "str"), ("HVALS", "str"),
    ("HGETALL", "str"), ("HINCRBY", "str", "a", "1"), ("HINCRBYFLOAT", "str", "a", "1"),
    ("HRANDFIELD", "str"), ("HRANDFIELD", "str", "0"), ("HSCAN", "str", "0"),
    ("HCLEAR", "str"), ("HMCLEAR", "nokey", "str"),
])
def test_wrongtype(r, args):
    r.set("str", "x")
    assert error_of(r, *args) == WRONGTYPE
    assert r.get("str") == b"x"


def test_set_overwrites_hash_and_hash_after_del(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.set("h", "s")
    assert r.get("h") == b"s"
    r.delete("h")
    assert r.hset("h", "c", "3") == 1
    assert r.hgetall("h") == {b"c": b"3"}


def test_expired_hash_is_gone_and_reusable(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.pexpire("h", 50)
    time.sleep(0.1)
    assert r.hlen("h") == 0
    assert r.hget("h", "a") is None
    assert r.hset("h", "c", "3") == 1
    assert r.hgetall("h") == {b"c": b"3"}
    assert r.ttl("h") == -1


def test_hash_ttl_kept_on_update(r):
    r.hset("h", "a", "1")
    r.expire("h", 100)
    r.hset("h", "b", "2")
    r.hdel("h", "a")
    r.hincrby("h", "n", 1)
    assert 0 < r.ttl("h") <= 100


# --- LedisDB extras -----------------------------------------------------------------------------
def test_hclear_hmclear(r):
    r.hset("h1", mapping={"a": "1", "b": "2"})
    r.hset("h2", "a", "1")
    assert r.execute_command("HCLEAR", "h1") == 2
    assert r.exists("h1") == 0
    assert r.execute_command("HCLEAR", "h1") == 0
    r.hset("h1", "x", "1")
    assert r.execute_command("HMCLEAR", "h1", "h2", "nokey") == 3
    assert r.exists("h1", "h2") == 0


# --- big hash ---------------------------------------------------------------------------------
def test_ten_thousand_fields(r):
    pipe = r.pipeline(transaction=False)
    for i in range(10_000):
        pipe.hset("big", b"f%d" % i, b"v%d" % i)
    assert sum(pipe.execute()) == 10_000
    assert r.hlen("big") == 10_000
    assert r.hget("big", "f9999") == b"v9999"
    everything = r.hgetall("big")
    assert len(everything) == 10_000 and everything[b"f1234"] == b"v1234"
    pipe = r.pipeline(transaction=False)
    for i in range(0, 10_000, 2):
        pipe.hdel("big", b"f%d" % i)
    assert sum(pipe.execute()) == 5_000
    assert r.hlen("big") == 5_000
    assert len(r.hkeys("big")) == 5_000
    assert r.delete("big") == 1
    assert r.hlen("big") == 0


def test_data_survives_restart(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.hset("h", mapping={"a": "1", b"\x00": b"\xff"})
    srv.restart()
    c = srv.client()
    assert c.hgetall("h") == {b"a": b"1", b"\x00": b"\xff"}
    assert c.hlen("h") == 2


# --- declarations -----------------------------------------------------------------------------
HASH_COMMANDS = ("hset hsetnx hget hmget hmset hdel hlen hstrlen hexists hkeys hvals hgetall "
                 "hincrby hincrbyfloat hrandfield hscan").split()


@pytest.mark.parametrize("name", HASH_COMMANDS)
def test_declaration_matches_redis(name):
    import json
    from pathlib import Path

    import ledis.commands  # noqa: F401  (every @command registered)
    from ledis.commands.registry import REGISTRY

    ref_dir = Path("/work/shared/reference/redis-7.0")
    if not ref_dir.exists():
        pytest.skip("no Redis reference files")
    ref = json.loads((ref_dir / "commands.json").read_text())["commands"][name]
    doc = json.loads((ref_dir / "command-docs.json").read_text())["docs"][name]
    cmd = REGISTRY.lookup(name.encode())
    assert cmd.arity == ref["arity"]
    assert cmd.flags == frozenset(ref["flags"])
    assert (cmd.first_key, cmd.last_key, cmd.step) == (
        ref["first_key"], ref["last_key"], ref["step"])
    assert set(cmd.acl_categories) == set(ref["acl_categories"])
    assert (cmd.summary, cmd.since, cmd.group) == (doc["summary"], doc["since"], doc["group"])
    assert cmd.complexity == doc.get("complexity", "")
