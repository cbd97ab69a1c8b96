"""The zset rank index (ledis/storage/types/zset.py) on a real RocksDB, against a sorted-list
model: random inserts, deletes, score updates, range removals and pops, with tiny node sizes
so blocks and groups split, empty and move all the time, committed at random points."""

from __future__ import annotations

import bisect
import random

import pytest

from ledis.storage.engine import Engine
from ledis.storage.keyspace import Store
from ledis.storage.memory import MemoryEngine
from ledis.storage.types import zset, zset_rank


@pytest.fixture
def tiny_nodes(monkeypatch):
    monkeypatch.setattr(zset_rank, "BLOCK_MAX", 4)
    monkeypatch.setattr(zset_rank, "GROUP_MAX", 3)
    monkeypatch.setattr(zset_rank, "BUILD_FILL", 3)
    monkeypatch.setattr(zset_rank, "INDEX_MIN", 20)
    monkeypatch.setattr(zset, "SKIP_BY_RANK", 2)


@pytest.fixture(params=["rocksdb", "memory"])
def db(tmp_path, request):
    # The index's batch state reads the store through Engine.seeker / store_iter, which the
    # memory backend implements on its own: both run the model.
    if request.param == "rocksdb":
        engine = Engine(str(tmp_path / "db"), fsync="no")
    else:
        engine = MemoryEngine()
    yield Store(engine).dbs[0]
    engine.close()


def _check(db, key: bytes, model: list[tuple[float, bytes]], rng: random.Random) -> None:
    raw = zset.meta(db, key)
    assert (raw is not None) == bool(model)
    if not model:
        return
    size = len(model)
    assert zset.size_of(raw) == size
    if size >= zset_rank.INDEX_MIN:
        assert zset.indexed(raw)
    if zset.indexed(raw):
        assert zset_rank.check_index(db.engine, zset._prefix(db, raw, key)) is None
    for _ in range(5):
        i = rng.randrange(size)
        member = model[i][1]
        assert zset.rank(db, key, member) == i
        assert zset.rank(db, key, member, reverse=True) == size - 1 - i
    for _ in range(5):
        start, stop = rng.randint(-size - 2, size + 2), rng.randint(-size - 2, size + 2)
        lo, hi = start + size if start < 0 else start, stop + size if stop < 0 else stop
        lo = max(lo, 0)
        want = [m for _, m in model[lo:hi + 1]] if lo <= hi else []
        assert zset.range_by_rank(db, key, start, stop) == want
        want = [m for _, m in model[::-1][lo:hi + 1]] if lo <= hi else []
        assert zset.range_by_rank(db, key, start, stop, reverse=True) == want
    _check_score_ranges(db, key, model, rng)
    picks = zset.random_members(db, key, min(size - 1, 5), with_scores=True)
    assert len({m for m, _ in picks}) == len(picks)
    assert all((s, m) in model for m, s in picks)
    assert {m for m in zset.random_members(db, key, -12, False)} <= {m for _, m in model}


def _check_score_ranges(db, key: bytes, model: list[tuple[float, bytes]],
                        rng: random.Random) -> None:
    """ZCOUNT and ZRANGEBYSCORE with LIMIT (offsets from 2 on seek by rank) against the model."""
    for _ in range(5):
        lo, hi = float(rng.randrange(-22, 22)), float(rng.randrange(-22, 22))
        minex, maxex = rng.random() < 0.3, rng.random() < 0.3
        spec = zset.ScoreRange(lo, hi, minex, maxex)
        inside = [m for s, m in model
                  if (lo < s if minex else lo <= s) and (s < hi if maxex else s <= hi)]
        assert zset.count_by_score(db, key, spec) == len(inside)
        offset, count = rng.randrange(len(model) + 3), rng.choice([-1, 0, 1, 4])
        for reverse, members in ((False, inside), (True, inside[::-1])):
            want = members[offset:] if count < 0 else members[offset:offset + count]
            assert zset.range_by_score(db, key, spec, reverse, offset, count) == want


@pytest.mark.parametrize("seed", range(6))
def test_ranks_follow_a_sorted_list_model(tiny_nodes, db, seed):
    rng = random.Random(seed)
    key = b"z"
    model: list[tuple[float, bytes]] = []
    scores: dict[bytes, float] = {}

    def drop(member: bytes) -> None:
        model.remove((scores.pop(member), member))

    for _ in range(400):
        op = rng.random()
        if op < 0.45:  # add a few members, or move existing ones (ZADD / ZINCRBY)
            pairs = []
            for _ in range(rng.randint(1, 6)):
                member = b"m%d" % rng.randrange(150)
                pairs.append((float(rng.randrange(-20, 20)), member))
            last: dict[bytes, float] = {}
            for value, member in pairs:
                last[member] = value
            zset.add(db, key, pairs)
            for member, value in last.items():
                if member in scores:
                    drop(member)
                scores[member] = value
                bisect.insort(model, (value, member))
        elif op < 0.65:  # ZREM
            members = [b"m%d" % rng.randrange(150) for _ in range(rng.randint(1, 4))]
            zset.remove(db, key, members)
            for member in set(members):
                if member in scores:
                    drop(member)
        elif op < 0.75 and model:  # ZREMRANGEBYRANK
            size = len(model)
            start = rng.randrange(size)
            stop = min(size - 1, start + rng.randrange(3 if rng.random() < 0.8 else size))
            assert zset.remove_range_by_rank(db, key, start, stop) == stop - start + 1
            for _, member in model[start:stop + 1]:
                del scores[member]
            del model[start:stop + 1]
        elif op < 0.82 and model:  # ZPOPMIN / ZPOPMAX
            highest = rng.random() < 0.5
            count = rng.randint(1, 3)
            got = zset.pop(db, key, count, highest)
            want = model[::-1][:count] if highest else model[:count]
            assert [(m, s) for s, m in want] == got
            for _, member in want:
                drop(member)
        elif op < 0.86 and model:  # ZREMRANGEBYSCORE
            lo = float(rng.randrange(-20, 20))
            spec = zset.ScoreRange(lo, lo + rng.randrange(3))
            gone = [m for s, m in model if spec.min <= s <= spec.max]
            assert zset.remove_range_by_score(db, key, spec) == len(gone)
            for member in gone:
                drop(member)
        if rng.random() < 0.3:
            db.engine.commit()
        _check(db, key, model, rng)


def test_store_builds_the_index_and_old_zsets_get_it_on_their_next_write(tiny_nodes, db):
    items = [(b"m%03d" % i, float(i % 7)) for i in range(50)]
    zset.store(db, b"s", items)
    raw = zset.meta(db, b"s")
    assert zset.indexed(raw)
    model = sorted((s, m) for m, s in items)
    assert [zset.rank(db, b"s", m) for _, m in model] == list(range(50))
    # A zset written without the index (an older ledis): ranks walk, the next ZADD builds it.
    zset.store(db, b"old", items[:10])
    zset.add(db, b"old", [(float(i), b"x%d" % i) for i in range(15)])
    raw = zset.meta(db, b"old")
    assert zset.indexed(raw) and zset.size_of(raw) == 25
    assert zset_rank.check_index(db.engine, zset._prefix(db, raw, b"old")) is None


def test_check_index_finds_a_wrong_count(tiny_nodes, db):
    zset.add(db, b"z", [(float(i), b"m%d" % i) for i in range(40)])
    db.engine.commit()
    raw = zset.meta(db, b"z")
    prefix = zset._prefix(db, raw, b"z")
    assert zset_rank.check_index(db.engine, prefix) is None
    last_block = prefix + b"\xff\xff\x00\xff\xff"
    db.engine.put(2, last_block, (99).to_bytes(8, "big"))
    assert zset_rank.check_index(db.engine, prefix) is not None
    zset_rank.build_index(db.engine, prefix)
    assert zset_rank.check_index(db.engine, prefix) is None


def test_kept_counts_give_way_to_index_entries_pending_in_the_batch(tiny_nodes, db):
    """A batch whose zset already has index entries pending when its nodes are made (written
    past the index code, before anything forgot the kept state) reads the index afresh
    instead of taking the kept groups and counts."""
    engine = db.engine
    zset.add(db, b"z", [(float(i), b"m%d" % i) for i in range(40)])
    engine.commit()
    zset.add(db, b"z", [(100.0, b"m0")])  # a move: counts read and kept
    engine.commit()
    raw = zset.meta(db, b"z")
    prefix = zset._prefix(db, raw, b"z")
    kept_blocks = engine.kept[prefix]["nodes"][2]
    block, count = next((b, c) for b, c in kept_blocks.items() if c is not None)
    engine.put(2, prefix + b"\xff\xff\x00" + block, (count + 5).to_bytes(8, "big"))
    nodes = zset_rank._nodes(engine, prefix)
    assert nodes.blocks is not kept_blocks and nodes.count(block) == count + 5
    engine.rollback()


@pytest.mark.parametrize("seed", range(4))
def test_block_lists_kept_across_batches_survive_rollbacks_and_foreign_writes(
        tiny_nodes, db, seed):
    """The groups' block lists, the groups and the block counts read so far outlive a batch
    (Engine.kept): after a rolled-back batch that split blocks, or after the zset is
    rewritten past the index code (a replica's apply calls forget_kept), the next writes
    must not use lists or counts of a layout that is not stored."""
    rng = random.Random(seed)
    key = b"z"
    committed: dict[bytes, float] = {}
    scores: dict[bytes, float] = {}
    engine = db.engine
    seen_kept = seen_nodes = False
    for step in range(300):
        pairs = [(float(rng.randrange(-30, 30)), b"m%d" % rng.randrange(200))
                 for _ in range(rng.randint(1, 8))]
        zset.add(db, key, pairs)
        scores.update({m: s for s, m in pairs})
        if rng.random() < 0.3:
            gone = [b"m%d" % rng.randrange(200) for _ in range(3)]
            zset.remove(db, key, gone)
            for member in gone:
                scores.pop(member, None)
        roll = rng.random()
        if roll < 0.15:  # a failed batch: its splits and new blocks never reach the store
            engine.rollback()
            scores = dict(committed)
        elif roll < 0.5:
            engine.commit()
            committed = dict(scores)
            seen_kept |= any(kept.get("lists") for kept in engine.kept.values())
            seen_nodes |= any(kept.get("nodes") for kept in engine.kept.values())
            if step % 7 == 0:
                # a foreign writer (the replica's apply) changes blocks under the kept lists
                raw = zset.meta(db, key)
                if raw is not None and zset.indexed(raw):
                    zset_rank.build_index(engine, zset._prefix(db, raw, key))
                    engine.forget_kept()
                    engine.commit()
        model = sorted((s, m) for m, s in scores.items())
        _check(db, key, model, rng)
    assert seen_kept and seen_nodes  # lists and counts really were kept between batches


def test_a_replica_applying_records_forgets_the_kept_block_lists(tiny_nodes, tmp_path):
    """A node that wrote a big zset as a master keeps its block lists (Engine.kept); when it
    then follows a master, the records it applies split and create blocks past the index
    code, so ReplicaLink.apply must forget the lists, or its next writes as a master again
    (a failover back) would count members into blocks that no longer bound them."""
    from ledis.replication.replica import ReplicaLink
    from ledis.storage.layout import LOG, U64

    rng = random.Random(7)
    engine = Engine(str(tmp_path / "a"), fsync="no")
    db = Store(engine).dbs[0]
    scores: dict[bytes, float] = {}

    def add(target, n: int) -> None:
        for _ in range(n):
            pairs = [(float(rng.randrange(1000)), b"m%d" % rng.randrange(400))]
            zset.add(target, b"z", pairs)
            scores.update({m: s for s, m in pairs})
            target.engine.commit()

    add(db, 300)  # indexed, with lists kept for its groups
    assert any(k.get("lists") for k in engine.kept.values())
    engine.checkpoint(str(tmp_path / "b"))
    other = Engine(str(tmp_path / "b"), fsync="no")  # the same store: the master to follow
    start = other.log_seq
    add(Store(other).dbs[0], 300)  # blocks split and move there
    records = list(other._iterate_store(LOG, U64.pack(start + 1), None, False))
    other.close()
    link = ReplicaLink.__new__(ReplicaLink)
    link.engine, link.core = engine, None
    for key, record in records:
        link.apply(U64.unpack(key)[0], record)
    add(db, 300)  # a master again
    model = sorted((s, m) for m, s in scores.items())
    _check(db, b"z", model, rng)
    engine.close()


@pytest.mark.parametrize("seed", range(3))
def test_lex_counts_of_one_score_zsets_follow_a_model(tiny_nodes, db, seed):
    """ZLEXCOUNT of an indexed zset whose members share one score counts by rank; with mixed
    scores it walks: both against the sorted members."""
    rng = random.Random(seed)
    members = sorted({b"%c%d" % (rng.choice(b"abcd"), rng.randrange(60)) for _ in range(90)})
    zset.add(db, b"lex", [(0.0, m) for m in members])
    zset.add(db, b"mixed", [(float(rng.randrange(5)), m) for m in members])
    assert zset.indexed(zset.meta(db, b"lex")) and zset.indexed(zset.meta(db, b"mixed"))
    bounds = [None, b"", b"a", b"a3", b"b", b"b55", b"c1", b"d", b"e"]
    for _ in range(60):
        lo, hi = rng.choice(bounds), rng.choice(bounds)
        minex, maxex = rng.random() < 0.5, rng.random() < 0.5
        spec = zset.LexRange(lo, hi, minex, maxex, -1 if lo is None else 0,
                             1 if hi is None else 0)
        want = sum(1 for m in members
                   if (lo is None or (lo < m if minex else lo <= m))
                   and (hi is None or (m < hi if maxex else m <= hi)))
        assert zset.count_by_lex(db, b"lex", spec) == want
        assert zset.count_by_lex(db, b"mixed", spec) == want
        if rng.random() < 0.2:
            db.engine.commit()


def test_index_reads_do_not_walk_the_zset(tiny_nodes, db, monkeypatch):
    """ZCOUNT, ZLEXCOUNT, ZRANDMEMBER and a deep LIMIT offset of an indexed zset read a few
    nodes and at most a block of members, not the 2,000 members a walk would step over."""
    monkeypatch.setattr(zset_rank, "BLOCK_MAX", 16)
    monkeypatch.setattr(zset_rank, "GROUP_MAX", 16)
    monkeypatch.setattr(zset_rank, "BUILD_FILL", 12)
    zset.add(db, b"z", [(float(i), b"m%05d" % i) for i in range(2000)])
    zset.add(db, b"lex", [(0.0, b"m%05d" % i) for i in range(2000)])
    db.engine.commit()
    steps = 0
    iterate = db.engine.iterate

    def counted(*args, **kwargs):
        nonlocal steps
        for item in iterate(*args, **kwargs):
            steps += 1
            yield item

    monkeypatch.setattr(db.engine, "iterate", counted)
    reads = [
        (lambda: zset.count_by_score(db, b"z", zset.ScoreRange(100.0, 1800.0)), 1701),
        (lambda: zset.count_by_lex(db, b"lex", zset.LexRange(b"m00100", b"m01800", False,
                                                              True)), 1700),
        (lambda: len(zset.random_members(db, b"z", 3, False)), 3),
        (lambda: zset.range_by_score(db, b"z", zset.ScoreRange(0.0, 2000.0), False, 1500,
                                     2), [b"m01500", b"m01501"]),
        (lambda: zset.range_by_score(db, b"z", zset.ScoreRange(0.0, 2000.0), True, 1500,
                                     2), [b"m00499", b"m00498"]),
    ]
    for read, want in reads:
        steps = 0
        assert read() == want
        assert steps < 250, steps
