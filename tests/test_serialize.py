"""DUMP / RESTORE against ledis alone: round trips of every type, options, TTL semantics,
errors, MULTI, Lua, blocked clients. Comparisons with a real redis-server are in
tests/test_serialize_diff.py."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from ledis import rdb


def content(client, key):
    kind = client.type(key)
    read = {
        b"string": client.get,
        b"list": lambda k: client.lrange(k, 0, -1),
        b"set": client.smembers,
        b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
        b"hash": client.hgetall,
    }[kind]
    return kind, read(key)


def fill(r):
    r.set("str", "hello")
    r.set("int", "-12345")
    r.rpush("list", "a", "1", "b" * 5000, "-7")
    r.sadd("set", "x", "y", "3")
    r.zadd("zset", {"a": 1.5, "b": -2, "c": float("inf")})
    r.hset("hash", mapping={"f": "v", "n": "1", "big": "z" * 300})
    r.rpush("biglist", *range(2000))
    r.sadd("bigset", *[f"m{i}" for i in range(1000)])
    r.zadd("bigzset", {f"m{i}": i / 7 for i in range(1000)})
    r.hset("bighash", mapping={f"f{i}": f"v{i}" for i in range(1000)})
    return ["str", "int", "list", "set", "zset", "hash", "biglist", "bigset", "bigzset",
            "bighash"]


def test_dump_missing_key_is_nil(r):
    assert r.dump("nothing") is None


def test_round_trip_every_type(r):
    for key in fill(r):
        payload = r.dump(key)
        assert rdb.loads(payload)[0] == r.type(key).decode()
        assert r.restore(key + ":copy", 0, payload)
        assert content(r, key + ":copy") == content(r, key)
        assert r.pttl(key + ":copy") == -1


def test_round_trip_resp3(r3):
    r3.hset("h", mapping={"a": "1", "b": "2"})
    payload = r3.dump("h")
    assert isinstance(payload, bytes)
    r3.restore("h2", 0, payload)
    assert r3.hgetall("h2") == {b"a": b"1", b"b": b"2"}


def test_busykey_and_replace(r):
    r.set("a", "1")
    r.rpush("b", "x")
    payload = r.dump("a")
    with pytest.raises(redis.ResponseError) as exc:
        r.restore("b", 0, payload)
    assert str(exc.value) == "BUSYKEY Target key name already exists."
    assert r.lrange("b", 0, -1) == [b"x"]
    assert r.restore("b", 0, payload, replace=True)
    assert r.type("b") == b"string" and r.get("b") == b"1"


def test_replace_drops_old_ttl_and_collection(r):
    r.hset("h", mapping={f"f{i}": "v" for i in range(50)})
    r.expire("h", 100)
    r.sadd("s", "m")
    r.restore("h", 0, r.dump("s"), replace=True)
    assert r.smembers("h") == {b"m"} and r.ttl("h") == -1
    assert r.dbsize() == 2


def test_restore_over_expired_key_needs_no_replace(r):
    r.set("k", "old", px=30)
    payload = r.dump("k")
    time.sleep(0.06)
    assert r.restore("k", 0, payload)
    assert r.get("k") == b"old"


def test_relative_ttl(r):
    r.set("s", "v")
    r.restore("t", 5000, r.dump("s"))
    assert 4000 < r.pttl("t") <= 5000


def test_absttl(r):
    r.rpush("l", "a")
    when = int(time.time() * 1000) + 60_000
    r.restore("l2", when, r.dump("l"), absttl=True)
    assert r.pexpiretime("l2") == when
    assert r.lrange("l2", 0, -1) == [b"a"]


def test_past_absttl_does_not_create(r):
    r.set("s", "v")
    payload = r.dump("s")
    assert r.restore("gone", 1000, payload, absttl=True)
    assert r.exists("gone") == 0
    r.set("old", "x")
    assert r.restore("old", 1000, payload, absttl=True, replace=True)
    assert r.exists("old") == 0  # REPLACE still deleted the old value


def test_ttl_errors(r):
    payload = r.dump("x") or rdb.dumps("string", b"v")
    with pytest.raises(redis.ResponseError, match="Invalid TTL value, must be >= 0"):
        r.restore("k", -1, payload)
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("RESTORE", "k", "1.5", payload)


def test_idletime_and_freq(r):
    payload = rdb.dumps("string", b"v")
    assert r.restore("a", 0, payload, idletime=10)
    assert r.restore("b", 0, payload, frequency=255)
    assert r.get("a") == b"v" and r.get("b") == b"v"
    cases = [
        (["IDLETIME", "-1"], "Invalid IDLETIME value, must be >= 0"),
        (["FREQ", "256"], "Invalid FREQ value, must be >= 0 and <= 255"),
        (["FREQ", "-1"], "Invalid FREQ value, must be >= 0 and <= 255"),
        (["FREQ", "x"], "value is not an integer or out of range"),
        (["IDLETIME", "1", "FREQ", "1"], "syntax error"),
        (["FREQ", "1", "IDLETIME", "1"], "syntax error"),
        (["IDLETIME"], "syntax error"),
        (["BOGUS"], "syntax error"),
    ]
    for extra, message in cases:
        with pytest.raises(redis.ResponseError, match=message):
            r.execute_command("RESTORE", "c", "0", payload, *extra)
    assert r.exists("c") == 0


def test_payload_errors(r):
    good = rdb.dumps("string", b"v")
    bad = good[:-1] + bytes((good[-1] ^ 0xFF,))
    for payload in (bad, b"", b"short", good[:-1]):
        with pytest.raises(redis.ResponseError,
                           match="^DUMP payload version or checksum are wrong$"):
            r.restore("k", 0, payload)
    for body in (b"\x2a\x00", b"\x02\x00", b"\x00\x40\x30abc", b"\x07\x00"):
        with pytest.raises(redis.ResponseError, match="^Bad data format$"):
            r.restore("k", 0, rdb.seal(body))
    assert r.exists("k") == 0


def test_error_order_matches_redis(r):
    """Options first, then BUSYKEY, then the TTL, then the payload (restoreCommand)."""
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("RESTORE", "k", "-1", "junk", "BOGUS")
    with pytest.raises(redis.ResponseError, match="Target key name already exists"):
        r.execute_command("RESTORE", "k", "-1", "junk")
    with pytest.raises(redis.ResponseError, match="Invalid TTL"):
        r.execute_command("RESTORE", "k", "-1", "junk", "REPLACE")
    with pytest.raises(redis.ResponseError, match="checksum"):
        r.execute_command("RESTORE", "k", "0", "junk", "REPLACE")
    assert r.get("k") == b"v"


def test_restore_in_multi(r):
    r.zadd("z", {"a": 1})
    payload = r.dump("z")
    with r.pipeline(transaction=True) as pipe:
        pipe.restore("z2", 0, payload)
        pipe.restore("z2", 0, payload)  # BUSYKEY inside EXEC: that command alone fails
        pipe.zscore("z2", "a")
        result = pipe.execute(raise_on_error=False)
    assert result[0] in (True, b"OK")
    assert isinstance(result[1], redis.ResponseError)
    assert result[2] == 1.0


def test_dump_and_restore_from_lua(r):
    r.sadd("s", "a", "b")
    script = """
        local payload = redis.call('DUMP', KEYS[1])
        redis.call('RESTORE', KEYS[2], 0, payload)
        return payload
    """
    payload = r.eval(script, 2, "s", "s2")
    assert payload == r.dump("s")
    assert r.smembers("s2") == {b"a", b"b"}
    with pytest.raises(redis.ResponseError, match="Target key name already exists"):
        r.eval("return redis.call('RESTORE', KEYS[1], 0, ARGV[1])", 1, "s2", payload)


def test_restore_wakes_blocked_pop(server, r):
    r.rpush("src", "item")
    payload = r.dump("src")
    got = []

    def waiter():
        client = server.client()
        got.append(client.blpop(["dst"], timeout=5))
        client.close()

    thread = threading.Thread(target=waiter)
    thread.start()
    deadline = time.time() + 5
    while r.execute_command("CLIENT", "LIST").count(b"cmd=blpop") == 0:
        assert time.time() < deadline
        time.sleep(0.01)
    r.restore("dst", 0, payload)
    thread.join(5)
    assert got == [(b"dst", b"item")]



@pytest.mark.parametrize("name", ["dump", "restore", "migrate"])
def test_declarations_match_redis(name):
    import json
    from pathlib import Path

    from ledis.commands.registry import REGISTRY
    from ledis.server.compose import load_commands

    load_commands()
    ref_path = Path("/work/shared/reference/redis-7.0/commands.json")
    if not ref_path.exists():
        pytest.skip("reference not available")
    ref = json.loads(ref_path.read_text())["commands"][name]
    cmd = REGISTRY.lookup(name.encode())
    assert cmd.arity == ref["arity"]
    assert cmd.flags == frozenset(ref["flags"])
    assert (cmd.first_key, cmd.last_key, cmd.step) == (ref["first_key"], ref["last_key"],
                                                        ref["step"])
    assert set(cmd.acl_categories) == set(ref["acl_categories"])
    doc = json.loads((ref_path.parent / "command-docs.json").read_text())["docs"][name]
    assert (cmd.summary, cmd.since, cmd.complexity, cmd.group) == (
        doc["summary"], doc["since"], doc["complexity"], doc["group"])


def test_stream_round_trip_replace_and_ttl(r):
    r.xadd("s", {"a": "1"}, id="1-0")
    r.xadd("s", {"a": "2", "b": "3"}, id="2-0")
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"}, count=1)
    payload = r.dump("s")
    assert rdb.loads(payload)[0] == "stream"
    r.rpush("dst", "old")
    with pytest.raises(redis.ResponseError, match="Target key name already exists"):
        r.restore("dst", 0, payload)
    assert r.restore("dst", 5000, payload, replace=True)
    assert r.type("dst") == b"stream"
    assert 4000 < r.pttl("dst") <= 5000
    assert r.xrange("dst") == r.xrange("s")
    assert r.xpending("dst", "g") == r.xpending("s", "g")
    assert r.xinfo_consumers("dst", "g")[0]["pending"] == 1
    assert r.xack("dst", "g", "1-0") == 1  # the restored PEL is a working PEL
    assert r.xpending("dst", "g")["pending"] == 0 and r.xpending("s", "g")["pending"] == 1
    with pytest.raises(redis.ResponseError, match="^Bad data format$"):
        r.restore("bad", 0, rdb.seal(payload[:-10][:-3]))  # a group cut short
    assert r.exists("bad") == 0


def test_restore_wakes_blocked_xread(server, r):
    r.xadd("src", {"f": "v"}, id="7-0")
    payload = r.dump("src")
    got = []

    def waiter():
        client = server.client()
        got.append(client.xread({"dst": "$"}, block=5000))
        client.close()

    thread = threading.Thread(target=waiter)
    thread.start()
    deadline = time.time() + 5
    while r.execute_command("CLIENT", "LIST").count(b"cmd=xread") == 0:
        assert time.time() < deadline
        time.sleep(0.01)
    r.restore("dst", 0, payload)
    thread.join(5)
    assert got == [[[b"dst", [(b"7-0", {b"f": b"v"})]]]]
