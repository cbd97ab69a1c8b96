"""stdlib/audit.lua: changes of keys under watched prefixes appended by a trigger to capped
streams, whatever wrote them (commands, MULTI, scripts, expiry)."""

from __future__ import annotations

import json
import time

import pytest
import redis

from tests.stdlib_helpers import load_stdlib


@pytest.fixture
def c(r):
    r.function_flush()
    load_stdlib(r, "audit")
    yield r
    r.function_flush()


def entries(client, stream: str) -> list[dict]:
    """The stream's entries as dicts of str, oldest first."""
    return [{k.decode(): v.decode() for k, v in fields.items()}
            for _id, fields in client.xrange(stream)]


def test_commands_are_recorded_with_type_and_value(c):
    assert c.fcall("audit_watch", 0, "user:", "audit:users") == 1
    c.set("user:1:name", "ann")
    c.hset("user:2", mapping={"name": "bob", "city": "paris"})
    c.incrby("user:count", 5)
    c.rpush("user:list", "a")
    c.delete("user:1:name")
    c.set("other", "x")  # not watched
    got = entries(c, "audit:users")
    assert [(e["event"], e["key"], e["type"]) for e in got] == [
        ("set", "user:1:name", "string"), ("hset", "user:2", "hash"),
        ("incrby", "user:count", "string"), ("rpush", "user:list", "list"),
        ("del", "user:1:name", "none")]
    assert got[0]["value"] == "ann"
    assert json.loads(got[1]["value"]) == {"name": "bob", "city": "paris"}
    assert got[2]["value"] == "5"
    assert "value" not in got[3] and "value" not in got[4]


def test_large_values_are_left_out(c):
    c.fcall("audit_watch", 0, "k:", "log")
    c.set("k:big", "x" * 513)
    c.set("k:small", "x" * 512)
    c.hset("k:wide", mapping={f"f{i}": i for i in range(17)})
    got = entries(c, "log")
    assert "value" not in got[0] and got[1]["value"] == "x" * 512
    assert got[2]["type"] == "hash" and "value" not in got[2]


def test_expire_then_expiry(c):
    c.fcall("audit_watch", 0, "s:", "log")
    c.set("s:1", "v")
    c.pexpire("s:1", 200)
    deadline = time.time() + 5
    while len(entries(c, "log")) < 3 and time.time() < deadline:
        time.sleep(0.05)
    got = entries(c, "log")
    assert [(e["event"], e["type"]) for e in got] == [
        ("set", "string"), ("expire", "string"), ("expired", "none")]
    assert 0 < int(got[1]["ttl_ms"]) <= 200
    assert c.get("s:1") is None


def test_multi_and_scripts_are_recorded(c):
    c.fcall("audit_watch", 0, "m:", "log")
    with c.pipeline(transaction=True) as pipe:
        pipe.set("m:a", "1").hset("m:h", "f", "v").incr("m:a")
        pipe.execute()
    # a script's entries are recorded when it returns: they see its final values
    c.eval("redis.call('SET', KEYS[1], 'first'); redis.call('APPEND', KEYS[1], '+2')",
           1, "m:s")
    got = entries(c, "log")
    assert [(e["event"], e["key"], e.get("value")) for e in got] == [
        ("set", "m:a", "1"), ("hset", "m:h", '{"f":"v"}'), ("incrby", "m:a", "2"),
        ("set", "m:s", "first+2"), ("append", "m:s", "first+2")]


def test_stream_is_capped_and_tail_reads_the_last_entries(c):
    c.fcall("audit_watch", 0, "n:", "log", 5)
    for i in range(12):
        c.set("n:x", i)
    assert c.xlen("log") == 5
    tail = c.fcall_ro("audit_tail", 1, "log", 3)
    # FCALL replies entries as Lua got them: [id, [field, value, ...]]
    assert [fields[fields.index(b"value") + 1] for _id, fields in tail] == [b"9", b"10", b"11"]
    assert [i for i, _f in tail] == [i for i, _f in c.xrange("log")][-3:]
    assert len(c.fcall_ro("audit_tail", 1, "log")) == 5  # default 10, only 5 kept


def test_unwatch_stops_and_streams_never_audit_themselves(c):
    # the stream is under the watched prefix: its own XADDs must not be recorded
    assert c.fcall("audit_watch", 0, "a:", "a:log") == 1
    assert c.fcall("audit_watch", 0, "b:", "a:log", 100) == 2
    assert c.fcall_ro("audit_watches", 0) == [b"a:", b"a:log", 1000, b"b:", b"a:log", 100]
    c.set("a:1", "x")
    c.set("b:1", "y")
    got = entries(c, "a:log")
    assert [e["key"] for e in got] == ["a:1", "b:1"]
    assert c.fcall("audit_unwatch", 0, "a:") == 1
    assert c.fcall("audit_unwatch", 0, "a:") == 0
    c.set("a:2", "z")
    c.xadd("a:log", {"manual": "1"})  # a direct write to the stream is not audited either
    assert [e.get("key") for e in entries(c, "a:log")] == ["a:1", "b:1", None]
    assert c.get("a:2") == b"z"


def test_argument_errors(c):
    with pytest.raises(redis.ResponseError, match="usage audit_watch"):
        c.fcall("audit_watch", 0, "p")
    with pytest.raises(redis.ResponseError, match="maxlen must be a positive integer"):
        c.fcall("audit_watch", 0, "p", "s", 0)
    c.set("str", "v")
    with pytest.raises(redis.ResponseError, match="str holds a string, not a stream"):
        c.fcall("audit_watch", 0, "p", "str")
    with pytest.raises(redis.ResponseError, match="cannot be audit:watches"):
        c.fcall("audit_watch", 0, "p", "audit:watches")
    assert c.fcall_ro("audit_watches", 0) == []


def test_a_write_that_cannot_be_audited_is_refused(c):
    c.fcall("audit_watch", 0, "w:", "log")
    c.set("log", "now a string")  # someone broke the stream after the watch
    with pytest.raises(redis.ResponseError, match="trigger audit.audit_record failed on set"):
        c.set("w:1", "v")
    assert c.get("w:1") is None  # nothing changes unaudited
