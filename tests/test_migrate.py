"""MIGRATE from ledis to a real redis-server and to another ledis, and the same calls made
from redis-server, compared (replies, what moves, what stays)."""

from __future__ import annotations

import pytest
import redis

from tests.helpers import RedisProcess, have_redis_server


def _reply(client, *args):
    try:
        return ("ok", client.execute_command(*args))
    except redis.ResponseError as exc:
        return ("err", str(exc))
    except redis.exceptions.ConnectionError as exc:  # IOERR is not an error class redis-py knows
        return ("conn", str(exc))


@pytest.fixture
def target(redis_server):
    client = redis_server.client()
    client.flushall()
    yield redis_server, client
    client.close()


def fill(client):
    client.set("s", "v")
    client.rpush("l", *range(300))
    client.hset("h", mapping={"a": "1"})
    client.zadd("z", {"m": 2.5})
    client.sadd("set", "x")
    client.set("ttl", "t", px=60_000)


def test_migrate_every_type_to_redis(r, target):
    from tests.test_serialize import content

    proc, dst = target
    fill(r)
    keys = ("s", "l", "h", "z", "set", "ttl")
    before = {key: content(r, key) for key in keys}
    for key in keys:
        assert r.migrate("127.0.0.1", proc.port, key, 0, 1000)
        assert r.exists(key) == 0
        assert content(dst, key) == before[key]
    assert 50_000 < dst.pttl("ttl") <= 60_000 and dst.pttl("s") == -1


def test_migrate_keys_copy_replace_db(r, target):
    proc, _ = target
    fill(r)
    dst3 = proc.client(db=3)
    dst3.set("s", "old")
    busy = ("err", "Target instance replied with error: BUSYKEY Target key name already exists.")
    assert _reply(r, "MIGRATE", "127.0.0.1", proc.port, "", 3, 1000, "COPY",
                  "KEYS", "s", "h", "missing") == busy
    assert dst3.get("s") == b"old" and dst3.hgetall("h") == {b"a": b"1"}
    assert _reply(r, "MIGRATE", "127.0.0.1", proc.port, "", 3, 1000, "COPY", "REPLACE",
                  "KEYS", "s", "h") == ("ok", b"OK")
    assert dst3.get("s") == b"v" and dst3.hgetall("h") == {b"a": b"1"}
    assert r.exists("s", "h") == 2  # COPY keeps them
    dst3.close()


def test_migrate_busykey_keeps_source_and_reports_first_error(r, target):
    proc, dst = target
    r.set("a", "1")
    r.set("b", "2")
    dst.set("a", "taken")
    result = _reply(r, "MIGRATE", "127.0.0.1", proc.port, "", 0, 1000, "KEYS", "a", "b")
    assert result == ("err", "Target instance replied with error: "
                             "BUSYKEY Target key name already exists.")
    assert r.get("a") == b"1" and r.exists("b") == 0  # b was accepted, so it moved
    assert dst.get("a") == b"taken" and dst.get("b") == b"2"


def test_migrate_to_ledis(r, fresh_server):
    other = fresh_server()
    dst = other.client()
    r.zadd("z", {f"m{i}": i for i in range(200)})
    assert r.migrate("127.0.0.1", other.port, "z", 5, 1000)
    assert r.exists("z") == 0
    assert other.client(db=5).zcard("z") == 200
    dst.close()


@pytest.mark.skipif(not have_redis_server(), reason="redis-server not installed")
def test_migrate_replies_match_redis(server, target):
    """The same MIGRATE calls from ledis and from a second redis-server to one target."""
    proc, dst = target
    source_ref = RedisProcess().start()
    try:
        ours = server.client(protocol=2)
        ref = source_ref.client(protocol=2)
        ours.flushall()
        dead_port = 1
        cases = [
            ("MIGRATE", "127.0.0.1", proc.port, "missing", 0, 1000),
            ("MIGRATE", "127.0.0.1", proc.port, "", 0, 1000, "KEYS", "missing"),
            ("MIGRATE", "127.0.0.1", proc.port, "k", 0, 1000, "KEYS", "k"),
            ("MIGRATE", "127.0.0.1", proc.port, "k", "x", 1000),
            ("MIGRATE", "127.0.0.1", proc.port, "k", 0, "x"),
            ("MIGRATE", "127.0.0.1", proc.port, "k", 0, 1000, "AUTH"),
            ("MIGRATE", "127.0.0.1", proc.port, "k", 0, 1000, "AUTH2", "u"),
            ("MIGRATE", "127.0.0.1", proc.port, "k", 0, 1000, "BOGUS"),
            ("MIGRATE", "127.0.0.1", proc.port, "k", 99, 1000),
            ("MIGRATE", "127.0.0.1", proc.port, "k", 0, 1000, "AUTH", "pw"),
            ("MIGRATE", "127.0.0.1", dead_port, "k", 0, 1000),
            ("MIGRATE", "127.0.0.1", proc.port, "k", 0, 1000),
            ("MIGRATE", "127.0.0.1", proc.port, "k", 0, 1000),
        ]
        for args in cases:
            for client in (ours, ref):
                client.set("k", "v")
            dst.delete("k")
            mine = _reply(ours, *args)
            dst.delete("k")
            theirs = _reply(ref, *args)
            assert mine == theirs, args
            assert ours.exists("k") == ref.exists("k"), args
        ours.close()
        ref.close()
    finally:
        source_ref.cleanup()
