"""stdlib/index.lua: a secondary index kept by a keyspace trigger follows every way a hash
changes (HSET, HDEL, HINCRBY, DEL, RENAME, expiry, MULTI, scripts)."""

from __future__ import annotations

import pytest
import redis

from tests.stdlib_helpers import load_stdlib
from tests.test_replication import wait_until


@pytest.fixture
def c(server):
    client = server.client(protocol=2)
    client.flushall()
    client.function_flush()
    load_stdlib(client, "index")
    yield client
    client.function_flush()
    client.close()


def find(c, value, name="city"):
    return c.fcall_ro("idx_find", 0, name, value)


def test_create_indexes_existing_hashes_then_follows_writes(c):
    c.hset("user:1", mapping={"name": "ann", "city": "paris"})
    c.hset("user:2", mapping={"name": "bob", "city": "rome"})
    c.hset("other:1", "city", "paris")  # outside the prefix
    assert c.fcall("idx_create", 0, "city", "user:", "city") == 2
    assert find(c, "paris") == [b"user:1"]
    c.hset("user:3", "city", "paris")
    assert find(c, "paris") == [b"user:1", b"user:3"]
    c.hset("user:1", "city", "rome")  # moves between sets
    assert find(c, "paris") == [b"user:3"]
    assert find(c, "rome") == [b"user:1", b"user:2"]
    assert c.fcall_ro("idx_count", 0, "city", "rome") == 2
    c.hdel("user:2", "city")
    c.delete("user:3")
    assert find(c, "rome") == [b"user:1"] and find(c, "paris") == []
    c.rename("user:1", "user:9")
    assert find(c, "rome") == [b"user:9"]
    c.set("user:9", "now a string")  # no longer a hash: out of the index
    assert find(c, "rome") == []


def test_numbers_multi_and_scripts(c):
    c.fcall("idx_create", 0, "level", "player:", "level")
    c.hincrby("player:1", "level", 1)
    pipe = c.pipeline(transaction=True)
    pipe.hincrby("player:1", "level", 1)
    pipe.hset("player:2", "level", 2)
    pipe.execute()
    assert find(c, "2", "level") == [b"player:1", b"player:2"]
    c.eval("redis.call('HSET', KEYS[1], 'level', 7) redis.call('HSET', KEYS[2], 'level', 7)",
           2, "player:1", "player:3")
    assert find(c, "7", "level") == [b"player:1", b"player:3"]
    assert find(c, "2", "level") == [b"player:2"]


def test_expiry_removes_from_index(c):
    c.fcall("idx_create", 0, "city", "user:", "city")
    c.hset("user:1", "city", "oslo")
    c.pexpire("user:1", 30)
    wait_until(lambda: find(c, "oslo") == [], what="the expired key leaving the index")
    assert c.hgetall("idx:city:rev") == {}


def test_drop_and_errors(c):
    c.fcall("idx_create", 0, "city", "user:", "city")
    c.hset("user:1", "city", "oslo")
    with pytest.raises(redis.ResponseError, match="index: city already exists"):
        c.fcall("idx_create", 0, "city", "user:", "city")
    with pytest.raises(redis.ResponseError, match="prefix not empty"):
        c.fcall("idx_create", 0, "x", "idx:", "f")
    with pytest.raises(redis.ResponseError, match="name must be"):
        c.fcall_ro("idx_find", 0, "bad name", "v")
    assert c.fcall("idx_drop", 0, "city") == 1
    assert c.fcall("idx_drop", 0, "city") == 0
    assert c.keys("idx:*") == []
    c.hset("user:2", "city", "oslo")  # no index any more: nothing written under idx:
    assert c.keys("idx:*") == []
