"""Writes over keys whose expiry time has passed but that active expiry has not removed yet
(in process on a real RocksDB: no server, so no expiry cycle runs). The write paths that read
the metadata's expiry inline (ZADD's and HSET's, like LPUSH's and SADD's) must treat such a
key as missing, and a live key of another type as WRONGTYPE."""

from __future__ import annotations

import time

import pytest

from ledis.config import Config
from ledis.errors import LedisError
from ledis.server.compose import build


@pytest.fixture()
def core(tmp_path):
    c = build(Config(dir=str(tmp_path / "db")))
    yield c
    c.close()


def _run(core, ctx, *argv):
    return core.dispatch(ctx, [a if isinstance(a, bytes) else str(a).encode() for a in argv])


def _stale(core, ctx, key: str) -> None:
    _run(core, ctx, "PEXPIRE", key, 1)
    core.engine.commit()
    time.sleep(0.01)
    assert _run(core, ctx, "EXISTS", key) == 0  # expired ...
    assert core.engine.get(0, ctx.db.prefix + key.encode()) is not None  # ... and still stored


@pytest.mark.parametrize("score", ["7", "7.5"])  # ZADD's fast path and its general one
@pytest.mark.parametrize("write", [("SET", "v"), ("LPUSH", "x"), ("HSET", "f", "v"),
                                   ("SADD", "m"), ("ZADD", 1, "old")])
def test_zadd_over_a_stale_key_makes_a_new_zset(core, write, score) -> None:
    ctx = core.new_context()
    _run(core, ctx, write[0], "k", *write[1:])
    _stale(core, ctx, "k")
    assert _run(core, ctx, "ZADD", "k", score, "m") == 1
    assert _run(core, ctx, "TYPE", "k") == b"zset"
    assert _run(core, ctx, "TTL", "k") == -1
    assert _run(core, ctx, "ZCARD", "k") == 1
    assert _run(core, ctx, "ZRANGE", "k", 0, -1) == [b"m"]


@pytest.mark.parametrize("score", ["7", "7.5"])
def test_zadd_over_a_live_key_of_another_type_is_wrongtype(core, score) -> None:
    ctx = core.new_context()
    _run(core, ctx, "SET", "s", "v")
    with pytest.raises(LedisError, match="^WRONGTYPE"):
        _run(core, ctx, "ZADD", "s", score, "m")
    assert _run(core, ctx, "GET", "s") == b"v"


@pytest.mark.parametrize("write", [("SET", "v"), ("LPUSH", "x"), ("HSET", "old", "v"),
                                   ("SADD", "m"), ("ZADD", 1, "old")])
def test_hset_over_a_stale_key_makes_a_new_hash(core, write) -> None:
    ctx = core.new_context()
    _run(core, ctx, write[0], "k", *write[1:])
    _stale(core, ctx, "k")
    assert _run(core, ctx, "HSET", "k", "f", "v") == 1
    assert _run(core, ctx, "TYPE", "k") == b"hash"
    assert _run(core, ctx, "TTL", "k") == -1
    assert _run(core, ctx, "HLEN", "k") == 1 and _run(core, ctx, "HGET", "k", "f") == b"v"
    assert _run(core, ctx, "HGET", "k", "old") is None  # nothing of a stale hash is left
    assert _run(core, ctx, "HSET", "k", "f", "w", "g", "x") == 1  # an update and a new field
    assert _run(core, ctx, "HLEN", "k") == 2


def test_hset_over_a_live_key_of_another_type_is_wrongtype(core) -> None:
    ctx = core.new_context()
    _run(core, ctx, "SET", "s", "v")
    with pytest.raises(LedisError, match="^WRONGTYPE"):
        _run(core, ctx, "HSET", "s", "f", "v")
    assert _run(core, ctx, "GET", "s") == b"v"
