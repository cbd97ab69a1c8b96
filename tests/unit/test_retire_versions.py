"""Retiring a collection's sub-keys (DEL, overwrite, expiry, an emptied key): key by key up to
``Engine.FEW_KEYS`` of them, one range tombstone beyond (``Database._drop_version``). A
range tombstone in the memtable makes RocksDB rebuild its tombstone list at the family's next
read, O(tombstones), so retiring every small collection with one stalled reads (see
benchmarks/churn_bench.py). In process, built by the composition root, on a real RocksDB;
what reached the store is read back from the write log of the commit."""

from __future__ import annotations

import time

import pytest

from ledis.config import Config
from ledis.server.compose import build
from ledis.storage.layout import DATA, MOVED_PREFIX, SYS, ZSCORE


@pytest.fixture()
def core(tmp_path):
    c = build(Config(dir=str(tmp_path / "db"), repl_log="always"))  # effects in the log
    yield c
    c.close()


def fill(core, ctx, kind: str, key: bytes, n: int) -> None:
    members = [b"m%05d" % i for i in range(n)]
    argv = {
        "hash": [b"HSET", key, *(x for m in members for x in (m, b"v"))],
        "set": [b"SADD", key, *members],
        "list": [b"RPUSH", key, *members],
        "zset": [b"ZADD", key, *(x for i, m in enumerate(members) for x in (b"%d" % i, m))],
    }[kind]
    assert core.call(ctx, argv) == n


def committed_ops(core) -> list[tuple[int, int]]:
    """(operation, family) of the effects of the next commit: 0 put, 1 delete, 2 range."""
    engine = core.engine
    before = engine.log_seq
    engine.commit()
    return [(e[0], e[1]) for _, _, effects in engine.log_records(before) for e in effects]


def no_walk(core, monkeypatch) -> None:
    """Fail if the key's removal still looks for sub-keys (the caller deleted them all)."""
    def walk(*args):
        raise AssertionError(f"walked for sub-keys already deleted: {args[:2]}")
    monkeypatch.setattr(core.engine, "delete_few", walk)
    monkeypatch.setattr(core.engine, "delete_range", walk)


def retire(core, ctx, how: str, key: bytes) -> None:
    if how == "del":
        assert core.call(ctx, [b"DEL", key]) == 1
    elif how == "overwrite":
        assert core.call(ctx, [b"SET", key, b"string now"]) == b"OK"
    else:  # expiry, as the active cycle does it
        assert core.call(ctx, [b"PEXPIRE", key, b"1"]) == 1
        core.engine.commit()
        time.sleep(0.01)
        ctx.db.expire_slice(1000)


@pytest.mark.parametrize("kind", ["hash", "set", "list", "zset"])
@pytest.mark.parametrize("how", ["del", "overwrite", "expire"])
def test_small_collections_are_retired_without_range_tombstones(core, kind, how):
    ctx = core.new_context()
    few = core.engine.FEW_KEYS
    families = {DATA, ZSCORE} if kind == "zset" else {DATA}
    for n, ranges in ((few, False), (few + 1, True)):
        key = b"%s:%d" % (kind.encode(), n)
        fill(core, ctx, kind, key, n)
        core.engine.commit()
        retire(core, ctx, how, key)
        ops = committed_ops(core)
        used = {cf for op, cf in ops if op == 2}
        assert used == (families if ranges else set()), (n, ops[:5])
        if not ranges:  # every sub-key deleted one by one
            assert sum(1 for op, cf in ops if op == 1 and cf in families) >= n * len(families)
        # the old members are gone for good: a new collection of the name starts empty
        core.call(ctx, [b"DEL", key])
        fill(core, ctx, kind, key, 1)
        core.engine.commit()
        core.engine.clear_cache()
        read = {"hash": [b"HLEN", key], "set": [b"SCARD", key], "list": [b"LLEN", key],
                "zset": [b"ZCARD", key]}[kind]
        assert core.call(ctx, read) == 1
        for cf in families:  # no sub-key of an old version is left anywhere
            assert core.engine.count(cf, b"", None) == 1
        core.call(ctx, [b"DEL", key])
        core.engine.commit()


def test_a_list_trimmed_by_a_few_gets_no_range_tombstone(core):
    ctx = core.new_context()
    few = core.engine.FEW_KEYS
    fill(core, ctx, "list", b"l", 3 * few)
    core.engine.commit()
    assert core.call(ctx, [b"LTRIM", b"l", b"%d" % few, b"-1"]) == b"OK"
    ops = committed_ops(core)
    assert 2 not in {op for op, _ in ops} and sum(op == 1 for op, _ in ops) == few
    assert core.call(ctx, [b"LTRIM", b"l", b"%d" % (few + 1), b"-1"]) == b"OK"
    assert 2 in {op for op, _ in committed_ops(core)}
    assert core.call(ctx, [b"LLEN", b"l"]) == few - 1
    assert core.call(ctx, [b"LINDEX", b"l", b"0"]) == b"m%05d" % (2 * few + 1)


@pytest.mark.parametrize("moved", [False, True])
def test_a_list_popped_empty_deletes_each_element_once(core, moved, monkeypatch):
    """A queue drained by pops: each pop deletes its element, and the last one removes the
    key without walking for sub-keys that are already gone (nor a range tombstone); a list
    that MOVE brought from another db also drops its registry entry."""
    ctx = core.new_context()
    fill(core, ctx, "list", b"q", 3)
    if moved:
        assert core.call(ctx, [b"MOVE", b"q", b"1"]) == 1
        core.call(ctx, [b"SELECT", b"1"])
    core.engine.commit()
    assert core.engine.count(SYS, MOVED_PREFIX, MOVED_PREFIX + b"\xff") == int(moved)
    no_walk(core, monkeypatch)
    for i in range(3):
        assert core.call(ctx, [b"RPOP", b"q"]) == b"m%05d" % (2 - i)
    ops = committed_ops(core)
    assert [op for op, cf in ops if cf == DATA] == [1, 1, 1]
    assert core.call(ctx, [b"EXISTS", b"q"]) == 0
    assert core.engine.count(DATA, b"", None) == 0
    assert core.engine.count(SYS, MOVED_PREFIX, MOVED_PREFIX + b"\xff") == 0


@pytest.mark.parametrize("kind", ["hash", "set"])
@pytest.mark.parametrize("moved", [False, True])
def test_a_collection_emptied_by_removals_deletes_each_member_once(core, kind, moved,
                                                                  monkeypatch):
    """HDEL / SREM / SMOVE taking the last members delete them one by one and remove the key
    with nothing left to look for; a moved version drops its registry entry too."""
    ctx = core.new_context()
    fill(core, ctx, kind, b"c", 3)
    if moved:
        assert core.call(ctx, [b"MOVE", b"c", b"1"]) == 1
        core.call(ctx, [b"SELECT", b"1"])
    core.engine.commit()
    no_walk(core, monkeypatch)
    if kind == "hash":
        assert core.call(ctx, [b"HDEL", b"c", b"m00000", b"nope"]) == 1
        assert core.call(ctx, [b"HDEL", b"c", b"m00001", b"m00002"]) == 2
    else:
        assert core.call(ctx, [b"SREM", b"c", b"m00000"]) == 1
        assert core.call(ctx, [b"SMOVE", b"c", b"other", b"m00001"]) == 1
        assert core.call(ctx, [b"SREM", b"c", b"m00002", b"nope"]) == 1
    ops = committed_ops(core)
    moved_to_other = int(kind == "set")  # SMOVE put m00001 into "other"
    assert sorted(op for op, cf in ops if cf == DATA) == [0] * moved_to_other + [1, 1, 1]
    assert core.call(ctx, [b"EXISTS", b"c"]) == 0
    assert core.engine.count(DATA, b"", None) == moved_to_other
    assert core.engine.count(SYS, MOVED_PREFIX, MOVED_PREFIX + b"\xff") == 0


def test_a_small_zset_with_a_rank_index_is_retired_whole(core, monkeypatch):
    """A zset's size counts its members, not the blocks and groups of its rank index in the
    score family: an indexed zset (INDEX_MIN lowered) under FEW_KEYS leaves nothing behind."""
    from ledis.storage.types import zset_rank

    monkeypatch.setattr(zset_rank, "INDEX_MIN", 20)
    monkeypatch.setattr(zset_rank, "BUILD_FILL", 4)
    ctx = core.new_context()
    fill(core, ctx, "zset", b"z", 60)
    core.engine.commit()
    assert core.call(ctx, [b"ZRANK", b"z", b"m00042"]) == 42
    assert core.engine.count(ZSCORE, b"", None) > 60  # the members and the index's nodes
    assert core.call(ctx, [b"DEL", b"z"]) == 1
    ops = committed_ops(core)
    assert 2 not in {op for op, _ in ops}
    assert core.engine.count(ZSCORE, b"", None) == 0
    assert core.engine.count(DATA, b"", None) == 0
