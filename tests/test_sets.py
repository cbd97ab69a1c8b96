"""Set commands through redis-py over TCP: normal use, edge cases, exact error texts."""

from __future__ import annotations

import time

import pytest
import redis

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


@pytest.fixture
def r2(server):
    """An explicit RESP2 client (redis-py 8 speaks RESP3 by default)."""
    client = server.client(protocol=2)
    client.flushall()
    yield client
    client.close()


def error_of(client, *args) -> str:
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


def raw_command(client, *args):
    """Send a command and return the reply without redis-py's response callbacks."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        client.connection_pool.release(conn)


# --- SADD / SREM / SCARD / SISMEMBER / SMISMEMBER / SMEMBERS -------------------------------------
def test_sadd_srem_scard(r):
    assert r.sadd("s", "a", "b", "a") == 2
    assert r.sadd("s", "b", "c") == 1
    assert r.scard("s") == 3
    assert r.type("s") == b"set"
    assert r.srem("s", "a", "a", "zz") == 1
    assert r.scard("s") == 2
    assert r.srem("s", "b", "c") == 2
    assert r.exists("s") == 0
    assert r.scard("s") == 0
    assert r.srem("s", "x") == 0
    assert r.scard("nokey") == 0


def test_membership(r):
    r.sadd("s", "a", b"\x00b")
    assert r.sismember("s", "a") == 1
    assert r.sismember("s", b"\x00b") == 1
    assert r.sismember("s", "b") == 0
    assert r.sismember("nokey", "a") == 0
    assert r.smismember("s", ["a", "x", b"\x00b"]) == [1, 0, 1]
    assert r.smismember("nokey", ["a", "b"]) == [0, 0]


def test_smembers(r, r2):
    members = {b"m%d" % i for i in range(100)} | {b"", b"\x00\xff"}
    r.sadd("s", *members)
    assert r.smembers("s") == members
    assert r.smembers("nokey") == set()
    assert sorted(raw_command(r2, "SMEMBERS", "s")) == sorted(members)


def resp3_bytes(server, *args) -> bytes:
    """The raw RESP3 bytes of one reply (hiredis turns sets into lists)."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        wire = b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
        wire += b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
        sock.sendall(wire)
        data = b""
        sock.settimeout(5)
        while True:
            data += sock.recv(65536)
            # HELLO's map ends with the modules entry: "$7\r\nmodules\r\n*0\r\n"
            head, sep, rest = data.partition(b"modules\r\n*0\r\n")
            if sep and rest.endswith(b"\r\n"):
                return rest


def test_resp3_set_replies(r3, server):
    r3.sadd("s", "a", "b")
    assert resp3_bytes(server, "SMEMBERS", "s") == b"~2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert resp3_bytes(server, "SINTER", "s", "s") == b"~2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert resp3_bytes(server, "SPOP", "nokey", "3") == b"~0\r\n"
    assert resp3_bytes(server, "SRANDMEMBER", "nokey", "3") == b"*0\r\n"
    assert resp3_bytes(server, "SPOP", "nokey") == b"_\r\n"
    assert len(raw_command(r3, "SRANDMEMBER", "s", "-3")) == 3


# --- SRANDMEMBER / SPOP ---------------------------------------------------------------------
def test_srandmember(r):
    assert r.srandmember("nokey") is None
    assert r.srandmember("nokey", 3) == []
    r.sadd("s", *range(10))
    members = {b"%d" % i for i in range(10)}
    assert {r.srandmember("s") for _ in range(100)} == members
    got = r.srandmember("s", 5)
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= members
    assert sorted(r.srandmember("s", 50)) == sorted(members)
    neg = r.srandmember("s", -40)
    assert len(neg) == 40 and set(neg) <= members
    assert r.srandmember("s", 0) == []
    assert r.scard("s") == 10


def test_srandmember_errors(r):
    r.sadd("s", "a")
    assert error_of(r, "SRANDMEMBER", "s", "x") == "value is not an integer or out of range"
    assert error_of(r, "SRANDMEMBER", "s", "1", "2") == "syntax error"
    assert error_of(r, "SRANDMEMBER", "s", str(-(2**63))) == (
        "value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")


def test_spop(r):
    assert r.spop("nokey") is None
    assert r.spop("nokey", 3) == []
    r.sadd("s", *range(10))
    members = {b"%d" % i for i in range(10)}
    one = r.spop("s")
    assert one in members
    assert r.scard("s") == 9
    assert r.sismember("s", one) == 0
    three = r.spop("s", 3)
    assert len(set(three)) == 3 and one not in three
    assert r.scard("s") == 6
    assert r.spop("s", 0) == []
    rest = r.spop("s", 100)
    assert len(rest) == 6
    assert set(rest) | set(three) | {one} == members
    assert r.exists("s") == 0


def test_spop_errors(r):
    r.sadd("s", "a")
    assert error_of(r, "SPOP", "s", "-1") == "value is out of range, must be positive"
    assert error_of(r, "SPOP", "s", "x") == "value is out of range, must be positive"
    assert error_of(r, "SPOP", "s", "1", "2") == "syntax error"


def test_random_on_large_set(r):
    pipe = r.pipeline(transaction=False)
    for i in range(0, 5000, 500):
        pipe.sadd("s", *[b"member:%d" % j for j in range(i, i + 500)])
    pipe.execute()
    picks = [r.srandmember("s") for _ in range(300)]
    assert len(set(picks)) > 200  # uniform would give ~291 distinct
    # short members ("member:5") are not favoured over long ones ("member:4999")
    assert sum(len(p) < len(b"member:1000") for p in picks) < 95  # 1000 of 5000: ~60 ideal
    distinct = r.srandmember("s", 200)
    assert len(set(distinct)) == 200
    popped = r.spop("s", 100)
    assert len(set(popped)) == 100
    assert r.scard("s") == 4900
    assert not any(r.smismember("s", popped))


# --- SMOVE ------------------------------------------------------------------------------------
def test_smove(r):
    r.sadd("a", "x", "y")
    r.sadd("b", "z")
    assert r.smove("a", "b", "x") == 1
    assert r.smembers("a") == {b"y"}
    assert r.smembers("b") == {b"x", b"z"}
    assert r.smove("a", "b", "nope") == 0
    assert r.smove("a", "c", "y") == 1
    assert r.exists("a") == 0
    assert r.smembers("c") == {b"y"}
    assert r.smove("nokey", "c", "y") == 0
    assert r.smove("c", "c", "y") == 1
    assert r.smove("c", "c", "q") == 0
    r.sadd("d", "y")
    assert r.smove("c", "d", "y") == 1
    assert r.smembers("d") == {b"y"}
    assert r.exists("c") == 0


def test_smove_wrongtype_order(r):
    r.set("str", "x")
    r.sadd("s", "a")
    assert r.smove("nokey", "str", "a") == 0  # a missing source answers 0 first
    assert error_of(r, "SMOVE", "str", "s", "a") == WRONGTYPE
    assert error_of(r, "SMOVE", "s", "str", "zz") == WRONGTYPE
    assert error_of(r, "SMOVE", "s", "str", "a") == WRONGTYPE
    assert r.smembers("s") == {b"a"}


# --- algebra ------------------------------------------------------------------------------------
def test_sinter_sunion_sdiff(r):
    r.sadd("a", "1", "2", "3", "4")
    r.sadd("b", "2", "3", "5")
    r.sadd("c", "3", "4", "5")
    assert r.sinter("a", "b") == {b"2", b"3"}
    assert r.sinter("a", "b", "c") == {b"3"}
    assert r.sinter("a", "nokey") == set()
    assert r.sinter("a") == {b"1", b"2", b"3", b"4"}
    assert r.sunion("a", "b", "nokey") == {b"1", b"2", b"3", b"4", b"5"}
    assert r.sdiff("a", "b") == {b"1", b"4"}
    assert r.sdiff("a", "b", "c") == {b"1"}
    assert r.sdiff("nokey", "a") == set()
    assert r.sdiff("a", "nokey") == {b"1", b"2", b"3", b"4"}


def test_sinter_probe_path_big_and_small(r):
    r.sadd("big", *range(3000))
    r.sadd("small", 5, 17, 4000)
    assert r.sinter("big", "small") == {b"5", b"17"}
    assert r.sinter("small", "big") == {b"5", b"17"}
    assert r.sdiff("small", "big") == {b"4000"}
    assert r.sintercard(2, ["big", "small"]) == 2


def test_sintercard(r):
    r.sadd("a", *range(10))
    r.sadd("b", *range(5, 20))
    assert r.sintercard(2, ["a", "b"]) == 5
    assert r.sintercard(2, ["a", "b"], limit=3) == 3
    assert r.sintercard(2, ["a", "b"], limit=0) == 5
    assert r.sintercard(2, ["a", "nokey"]) == 0
    assert error_of(r, "SINTERCARD", "0", "a") == "numkeys should be greater than 0"
    assert error_of(r, "SINTERCARD", "x", "a") == "numkeys should be greater than 0"
    assert error_of(r, "SINTERCARD", "3", "a", "b") == (
        "Number of keys can't be greater than number of args")
    assert error_of(r, "SINTERCARD", "1", "a", "LIMIT", "-1") == "LIMIT can't be negative"
    assert error_of(r, "SINTERCARD", "1", "a", "LIMIT", "x") == "LIMIT can't be negative"
    assert error_of(r, "SINTERCARD", "1", "a", "LIMIT") == "syntax error"
    assert error_of(r, "SINTERCARD", "1", "a", "FOO") == "syntax error"


def test_store_commands(r):
    r.sadd("a", "1", "2", "3")
    r.sadd("b", "2", "3", "4")
    assert r.sinterstore("d", "a", "b") == 2
    assert r.smembers("d") == {b"2", b"3"}
    assert r.sunionstore("d", "a", "b") == 4
    assert r.smembers("d") == {b"1", b"2", b"3", b"4"}
    assert r.sdiffstore("d", "a", "b") == 1
    assert r.smembers("d") == {b"1"}
    assert r.scard("d") == 1
    # destination may be a source
    assert r.sunionstore("a", "a", "b") == 4
    assert r.smembers("a") == {b"1", b"2", b"3", b"4"}
    # empty result deletes the destination
    assert r.sinterstore("d", "a", "nokey") == 0
    assert r.exists("d") == 0


def test_store_replaces_other_types_and_ttl(r):
    r.sadd("a", "1")
    r.set("str", "x", ex=100)
    assert r.sunionstore("str", "a") == 1
    assert r.type("str") == b"set"
    assert r.ttl("str") == -1
    r.hset("h", "f", "v")
    assert r.sdiffstore("h", "a") == 1
    assert r.smembers("h") == {b"1"}
    r.set("str2", "x")
    assert r.sinterstore("str2", "nokey") == 0
    assert r.exists("str2") == 0


def test_algebra_wrongtype(r):
    r.set("str", "x")
    r.sadd("s", "a")
    for cmd in (("SINTER", "nokey", "str"), ("SINTER", "s", "str"), ("SUNION", "s", "str"),
                ("SDIFF", "nokey", "str"), ("SDIFF", "s", "str"),
                ("SINTERSTORE", "d", "nokey", "str"), ("SUNIONSTORE", "d", "s", "str"),
                ("SDIFFSTORE", "d", "s", "str"), ("SINTERCARD", "2", "nokey", "str")):
        assert error_of(r, *cmd) == WRONGTYPE, cmd
    assert r.exists("d") == 0


# --- SSCAN ------------------------------------------------------------------------------------
def full_sscan(client, key, **kw):
    cursor, out, calls = 0, [], 0
    while True:
        cursor, chunk = client.sscan(key, cursor, **kw)
        out.extend(chunk)
        calls += 1
        if cursor == 0:
            return out, calls


def test_sscan(r):
    assert r.sscan("nokey", 0) == (0, [])
    r.sadd("small", "a", "b", "c")
    assert sorted(r.sscan("small", 0)[1]) == [b"a", b"b", b"c"]
    assert r.sscan("small", 0, match="a") == (0, [b"a"])
    members = {b"member-with-a-long-name:%d" % i for i in range(700)}
    members |= {b"%d" % i for i in range(300)}
    r.sadd("s", *members)
    got, calls = full_sscan(r, "s", count=40)
    assert len(got) == len(members) and set(got) == members
    assert calls >= 25
    got, _ = full_sscan(r, "s", match="*:1?", count=100)
    assert set(got) == {m for m in members if m.startswith(b"member-with-a-long-name:1")
                        and len(m) == len(b"member-with-a-long-name:10")}


def test_sscan_errors(r):
    r.sadd("s", "a")
    r.set("str", "x")
    assert error_of(r, "SSCAN", "s", "abc") == "invalid cursor"
    assert error_of(r, "SSCAN", "s", "0", "COUNT", "0") == "syntax error"
    assert error_of(r, "SSCAN", "s", "0", "FOO", "1") == "syntax error"
    assert error_of(r, "SSCAN", "str", "0") == WRONGTYPE


# --- WRONGTYPE, expiry, persistence -----------------------------------------------------------
@pytest.mark.parametrize("args", [
    ("SADD", "str", "a"), ("SREM", "str", "a"), ("SCARD", "str"), ("SISMEMBER", "str", "a"),
    ("SMISMEMBER", "str", "a"), ("SMEMBERS", "str"), ("SRANDMEMBER", "str"),
    ("SRANDMEMBER", "str", "0"), ("SPOP", "str"), ("SPOP", "str", "0"), ("SSCAN", "str", "0"),
    ("SCLEAR", "str"), ("SMCLEAR", "nokey", "str"),
])
def test_wrongtype(r, args):
    r.set("str", "x")
    assert error_of(r, *args) == WRONGTYPE
    assert r.get("str") == b"x"


def test_expired_set(r):
    r.sadd("s", "a", "b")
    r.pexpire("s", 50)
    time.sleep(0.1)
    assert r.scard("s") == 0
    assert r.smembers("s") == set()
    assert r.sadd("s", "c") == 1
    assert r.smembers("s") == {b"c"}


def test_sclear_smclear(r):
    r.sadd("a", "1", "2", "3")
    r.sadd("b", "1")
    assert r.execute_command("SCLEAR", "a") == 3
    assert r.execute_command("SCLEAR", "a") == 0
    r.sadd("a", "1")
    assert r.execute_command("SMCLEAR", "a", "b", "nokey") == 3
    assert r.exists("a", "b") == 0


def test_ten_thousand_members(r):
    pipe = r.pipeline(transaction=False)
    for i in range(10_000):
        pipe.sadd("big", b"m%d" % i)
    assert sum(pipe.execute()) == 10_000
    assert r.scard("big") == 10_000
    assert len(r.smembers("big")) == 10_000
    assert r.sismember("big", "m9999") == 1
    pipe = r.pipeline(transaction=False)
    for i in range(0, 10_000, 2):
        pipe.srem("big", b"m%d" % i)
    assert sum(pipe.execute()) == 5_000
    assert r.scard("big") == 5_000
    assert r.sintercard(1, ["big"]) == 5_000


def test_sets_survive_restart(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.sadd("s", "a", b"\x00")
    srv.restart()
    c = srv.client()
    assert c.smembers("s") == {b"a", b"\x00"}
    assert c.scard("s") == 2


# --- declarations -----------------------------------------------------------------------------
SET_COMMANDS = ("sadd srem scard sismember smismember smembers srandmember spop smove sinter "
                "sintercard sunion sdiff sinterstore sunionstore sdiffstore sscan").split()


@pytest.mark.parametrize("name", SET_COMMANDS)
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
