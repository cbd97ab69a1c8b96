"""The engine on a real RocksDB in a temp dir: pending overlay, merge iteration, commit."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledis.storage import engine as engine_module
from ledis.storage import overlay as overlay_module
from ledis.storage import rocks
from ledis.storage.engine import Engine
from ledis.storage.layout import CF_NAMES, DATA, META
from ledis.storage.rocks import StoreLockedError


@pytest.fixture
def engine(tmp_path):
    eng = Engine(str(tmp_path / "db"), fsync="no")
    yield eng
    eng.close()


def test_pending_writes_visible_before_commit(engine):
    engine.put(META, b"a", b"1")
    assert engine.get(META, b"a") == b"1"
    assert list(engine.iterate(META, b"")) == [(b"a", b"1")]
    engine.commit()
    engine.clear_cache()
    assert engine.get(META, b"a") == b"1"


def test_delete_range_hides_stored_and_pending(engine):
    for i in range(10):
        engine.put(DATA, b"k%d" % i, b"v")
    engine.commit()
    engine.put(DATA, b"k3x", b"new")
    engine.delete_range(DATA, b"k2", b"k5")
    engine.put(DATA, b"k4", b"again")
    keys = [k for k, _ in engine.iterate(DATA, b"k")]
    assert keys == [b"k0", b"k1", b"k4", b"k5", b"k6", b"k7", b"k8", b"k9"]
    engine.commit()
    assert [k for k, _ in engine.iterate(DATA, b"k")] == keys


def test_reverse_iteration_with_bounds(engine):
    for k in (b"a", b"b", b"c", b"d"):
        engine.put(DATA, k, k)
    engine.commit()
    engine.put(DATA, b"bb", b"bb")
    engine.delete(DATA, b"c")
    got = [k for k, _ in engine.iterate(DATA, b"b", b"d", reverse=True)]
    assert got == [b"bb", b"b"]
    engine.commit()
    assert [k for k, _ in engine.iterate(DATA, b"b", b"d", reverse=True)] == [b"bb", b"b"]
    assert [k for k, _ in engine.iterate(DATA, b"", None, reverse=True)] == [
        b"d", b"bb", b"b", b"a"]


def test_second_open_of_same_dir_fails_clearly(tmp_path):
    eng = Engine(str(tmp_path / "db"), fsync="no")
    try:
        with pytest.raises(StoreLockedError):
            Engine(str(tmp_path / "db"), fsync="no")
    finally:
        eng.close()


ops = st.lists(
    st.tuples(
        st.sampled_from(["put", "delete", "range", "commit"]),
        st.binary(min_size=0, max_size=2),
        st.binary(min_size=0, max_size=2),
    ),
    max_size=60,
)


def _write(eng: Engine, model: dict[bytes, bytes], op: str, a: bytes, b: bytes) -> bool:
    """Apply a put, delete or range delete (``a`` to ``b``) to the engine and the model; False
    for any other op (or an empty range), left to the caller."""
    if op == "put":
        eng.put(DATA, a, b)
        model[a] = b
    elif op == "delete":
        eng.delete(DATA, a)
        model.pop(a, None)
    elif op == "range" and a < b:
        eng.delete_range(DATA, a, b)
        for k in [k for k in model if a <= k < b]:
            del model[k]
    else:
        return False
    return True


@settings(max_examples=80, deadline=None)
@given(ops, st.booleans())
def test_merge_matches_a_dict_model(tmp_path_factory, program, reverse):
    """Any mix of puts, deletes, range deletes and commits iterates like a sorted dict."""
    eng = Engine(str(tmp_path_factory.mktemp("m") / "db"), fsync="no")
    model: dict[bytes, bytes] = {}
    try:
        for op, a, b in program:
            if op == "range":
                a, b = min(a, b), max(a, b)
                if a == b:
                    continue
            if not _write(eng, model, op, a, b):
                eng.commit()
            lo = random.choice([b"", b"\x00", b"\x80"])
            got = list(eng.iterate(DATA, lo, None, reverse))
            want = sorted(((k, v) for k, v in model.items() if k >= lo), reverse=reverse)
            assert got == want
            for k in list(model)[:3]:
                assert eng.get(DATA, k) == model[k]
    finally:
        eng.close()


bounded_ops = st.lists(
    st.tuples(
        st.sampled_from(["put", "delete", "range", "commit", "savepoint", "rollback", "seek"]),
        st.binary(min_size=0, max_size=2),
        st.binary(min_size=0, max_size=2),
    ),
    max_size=80,
)


@settings(max_examples=80, deadline=None)
@given(bounded_ops, st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=8))
def test_bounded_seeks_over_a_dirty_overlay_match_a_model(tmp_path_factory, program,
                                                         sorted_max, range_scan_max):
    """Bounded forward and reverse seeks between writes (the sorted pending-key list kept
    by put/delete, dropped by savepoint rollbacks, commits and past its size cap, and used
    and trimmed by range deletes over more than ``_RANGE_SCAN_MAX`` pending keys) see
    exactly what a dict model holds."""
    cap, scan = overlay_module.SORTED_MAX, engine_module._RANGE_SCAN_MAX
    overlay_module.SORTED_MAX = sorted_max
    engine_module._RANGE_SCAN_MAX = range_scan_max
    eng = Engine(str(tmp_path_factory.mktemp("b") / "db"), fsync="no")
    model: dict[bytes, bytes] = {}
    saved: list[dict[bytes, bytes]] = []
    try:
        for op, a, b in program:
            if _write(eng, model, op, a, b):
                pass
            elif op == "commit" and not saved:
                eng.commit()
            elif op == "savepoint" and not saved:
                saved.append(dict(model))
                position = eng.savepoint()
            elif op == "rollback" and saved:
                eng.rollback_to(position)
                eng.release(position)
                model = saved.pop()
            lo, hi = min(a, b), max(a, b)
            for reverse in (False, True):
                got = list(eng.iterate(DATA, lo, hi or None, reverse))
                want = sorted(((k, v) for k, v in model.items()
                               if k >= lo and (not hi or k < hi)), reverse=reverse)
                assert got == want
        if saved:
            eng.release(position)
    finally:
        overlay_module.SORTED_MAX, engine_module._RANGE_SCAN_MAX = cap, scan
        eng.close()


def test_a_walk_shows_the_overlay_as_it_was_when_it_started(engine):
    for k in (b"a", b"c", b"e"):
        engine.put(DATA, k, b"1")
    walk = engine.iterate(DATA, b"", None)
    assert next(walk) == (b"a", b"1")
    engine.put(DATA, b"b", b"2")  # written while the walk is open: not part of it
    engine.delete(DATA, b"c")
    assert list(walk) == [(b"c", b"1"), (b"e", b"1")]
    assert list(engine.iterate(DATA, b"", None)) == [(b"a", b"1"), (b"b", b"2"), (b"e", b"1")]


def test_write_log_records_effects_in_the_same_batch(tmp_path):
    path = str(tmp_path / "db")
    eng = Engine(path, fsync="no")
    eng.put(META, b"a", b"1")
    eng.delete(META, b"b")
    eng.commit()
    eng.delete_range(DATA, b"x", b"y")
    eng.commit()
    eng.commit()  # nothing pending: no record
    eng.close()
    eng = Engine(path, fsync="no")
    try:
        records = list(eng.log_records(0))
        assert [seq for seq, _, _ in records] == [1, 2]
        assert sorted(records[0][2]) == [[0, META, b"a", b"1"], [1, META, b"b"]]
        assert records[1][2] == [[2, DATA, b"x", b"y"]]
        assert eng.log_seq == 2
    finally:
        eng.close()


def test_write_log_replays_ranges_before_final_values(tmp_path):
    """A key written several times is logged once; a put covered by a later range delete
    is gone; a put after the range delete survives the replay."""
    eng = Engine(str(tmp_path / "db"), fsync="no")
    try:
        eng.put(DATA, b"a1", b"x")
        eng.put(DATA, b"a1", b"y")
        eng.put(DATA, b"a2", b"z")
        eng.delete_range(DATA, b"a", b"b")
        eng.put(DATA, b"a3", b"after")
        eng.commit()
        [(_, _, effects)] = list(eng.log_records(0))
        assert effects == [[2, DATA, b"a", b"b"], [0, DATA, b"a3", b"after"]]
    finally:
        eng.close()


def test_commit_builds_the_batch_from_the_overlay(tmp_path):
    """Range deletes first, then each key's final value once: a key written 1,000 times in
    one group commit costs one RocksDB operation, and the stored result is the overlay's."""
    path = str(tmp_path / "db")
    eng = Engine(path, fsync="no", write_log=False)
    eng.put(DATA, b"a1", b"x")
    eng.put(DATA, b"a2", b"z")
    eng.delete_range(DATA, b"a", b"b")
    eng.put(DATA, b"a3", b"after")
    for i in range(1000):
        eng.put(META, b"hot", b"%d" % i)
    eng.put(META, b"gone", b"1")
    eng.delete(META, b"gone")
    before = eng.db.latest_sequence_number()
    eng.commit()
    assert eng.db.latest_sequence_number() - before == 4  # range, a3, hot, gone
    eng.close()
    eng = Engine(path, fsync="no")
    try:
        assert eng.get(META, b"hot") == b"999"
        assert eng.get(META, b"gone") is None
        assert [k for k, _ in eng.iterate(DATA, b"a", b"b")] == [b"a3"]
    finally:
        eng.close()


def test_write_log_is_trimmed(tmp_path):
    eng = Engine(str(tmp_path / "db"), fsync="no", log_keep=10)
    try:
        for i in range(1100):
            eng.put(META, b"k", b"%d" % i)
            eng.commit()
        seqs = [seq for seq, _, _ in eng.log_records(0)]
        assert seqs[-1] == 1100
        assert len(seqs) <= 1010
    finally:
        eng.close()


def test_point_read_after_pending_range_delete(engine):
    engine.put(META, b"\x00k", b"1")
    engine.commit()
    engine.clear_cache()
    engine.delete_range(META, b"\x00", b"\x01", drop_cached=True)
    assert engine.get(META, b"\x00k") is None
    engine.put(META, b"\x00k", b"2")
    assert engine.get(META, b"\x00k") == b"2"
    engine.commit()
    engine.clear_cache()
    assert engine.get(META, b"\x00k") == b"2"


@pytest.mark.parametrize("cached", [100, 10_000], ids=["scanned-cache", "replaced-cache"])
def test_range_delete_drop_cached_keeps_what_is_outside(engine, cached):
    """FLUSHDB's ``drop_cached``: a small cache is scanned, a big one (more than
    _CACHE_SCAN_MAX entries) replaced by the pending writes. Either way the range reads as
    empty, and committed, cached and pending keys outside it read as before."""
    for i in range(cached):
        engine.put(META, b"\x00k%d" % i, b"old")
        engine.put(META, b"\x01k%d" % i, b"kept")
    engine.commit()
    engine.put(META, b"\x00pending", b"gone")
    engine.put(META, b"\x01pending", b"stays")
    engine.delete(META, b"\x01k1")
    engine.delete_range(META, b"\x00", b"\x01", drop_cached=True)
    engine.put(META, b"\x00after", b"new")
    for _ in range(2):  # before the commit, then from RocksDB after it
        assert engine.get(META, b"\x00k0") is None
        assert engine.get(META, b"\x00k%d" % (cached - 1)) is None
        assert engine.get(META, b"\x00pending") is None
        assert engine.get(META, b"\x00after") == b"new"
        assert engine.get(META, b"\x01k0") == b"kept"
        assert engine.get(META, b"\x01k1") is None
        assert engine.get(META, b"\x01k%d" % (cached - 1)) == b"kept"
        assert engine.get(META, b"\x01pending") == b"stays"
        assert [k for k, _ in engine.iterate(META, b"\x00", b"\x01")] == [b"\x00after"]
        engine.commit()
        engine.clear_cache()


class _FailingWrites:
    """The real Rdict with a fault injected: its next ``fail`` writes raise as RocksDB does on
    an I/O error. Everything else (reads, the write that follows) goes to the real store."""

    def __init__(self, db, fail: int = 1) -> None:
        self._db = db
        self.fail = fail

    def write(self, batch, options=None):
        if self.fail:
            self.fail -= 1
            raise Exception("IO error: No space left on device")  # noqa: TRY002 - as rocksdict
        return self._db.write(batch, options)

    def __getattr__(self, name):
        return getattr(self._db, name)


def test_failed_write_discards_the_batch_and_keeps_log_seq(engine):
    """Issue #18: a failed RocksDB write used to leave the overlay reset, the cache holding the
    unstored values and ``log_seq`` advanced, so readers saw values that were never stored."""
    from ledis.storage.engine import CommitFailed

    engine.put(META, b"a", b"stored")
    engine.put(DATA, b"r1", b"x")
    engine.commit()
    engine.clear_cache()
    seq = engine.log_seq
    engine.db = _FailingWrites(engine.db)
    engine.put(META, b"a", b"lost")
    engine.put(META, b"b", b"lost")
    engine.delete_range(DATA, b"r", b"s")
    assert engine.get(DATA, b"r1") is None  # read under the pending range delete: cached None
    with pytest.raises(CommitFailed):
        engine.commit()
    assert engine.log_seq == seq
    assert not engine.dirty
    assert engine.get(META, b"a") == b"stored"
    assert engine.get(META, b"b") is None
    assert engine.get(DATA, b"r1") == b"x"
    assert list(engine.iterate(DATA, b"")) == [(b"r1", b"x")]
    # The store still works: the next commit is written and logged with the next sequence.
    engine.put(META, b"b", b"later")
    engine.commit()
    assert engine.log_seq == seq + 1
    engine.clear_cache()
    assert engine.get(META, b"b") == b"later"
    assert engine.get(META, b"a") == b"stored"
    assert [s for s, _, _ in engine.log_records(seq)] == [seq + 1]


def test_failed_commit_restores_the_key_counters(tmp_path):
    """The key counters live in memory beside the overlay (DBSIZE reads them): a discarded
    batch must take its counter updates along, or DBSIZE counts keys that were never stored."""
    from ledis.config import Config
    from ledis.errors import LedisError
    from ledis.server.compose import build, load_commands
    from ledis.storage.engine import CommitFailed

    load_commands()
    config = Config()
    config.dir = str(tmp_path / "core")
    core = build(config)
    try:
        ctx = core.new_context()
        core.dispatch(ctx, [b"SET", b"kept", b"1"])
        core.commit()
        core.engine.db = _FailingWrites(core.engine.db)
        core.dispatch(ctx, [b"SET", b"lost", b"1"])
        core.dispatch(ctx, [b"SET", b"lost2", b"1"])
        assert core.dispatch(ctx, [b"DBSIZE"]) == 3
        with pytest.raises(CommitFailed):
            core.commit()
        assert core.dispatch(ctx, [b"DBSIZE"]) == 1
        assert core.dispatch(ctx, [b"GET", b"kept"]) == b"1"
        assert core.dispatch(ctx, [b"GET", b"lost"]) is None
        # Writes are refused until the store proves writable again (issue #21, disk full).
        with pytest.raises(LedisError, match="^MISCONF"):
            core.dispatch(ctx, [b"SET", b"new", b"1"])
        core.engine.db = core.engine.db._db  # the fault is over
        assert core.engine.recover() is True  # reopens the store
        assert core.dispatch(ctx, [b"DBSIZE"]) == 1
        core.dispatch(ctx, [b"SET", b"new", b"1"])
        core.commit()
        assert core.dispatch(ctx, [b"DBSIZE"]) == 2
    finally:
        core.close()


class _Held:
    """A scratch value holding one write until the engine asks for it (``flush``)."""

    def __init__(self, engine: Engine, key: bytes) -> None:
        self.engine, self.key, self.flushes = engine, key, 0

    def flush(self) -> None:
        self.flushes += 1
        if self.key:
            self.engine.put(DATA, self.key, b"held")
            self.key = b""


def test_pending_in_and_the_batch_state_end_with_the_batch(engine):
    engine.put(DATA, b"a", b"1")
    engine.put(DATA, b"c", b"3")
    engine.commit()
    engine.put(DATA, b"b", b"2")
    engine.delete(DATA, b"c")
    engine.put(DATA, b"z", b"26")
    assert engine.pending_in(DATA, b"a", b"d") == ([(b"b", b"2"), (b"c", None)], False)
    it = engine.seeker(DATA)
    assert engine.seeker(DATA) is it  # reused within the batch
    it.seek(b"b")
    assert it.key() == b"c"  # the committed store only: the pending write is the caller's
    engine.delete_range(DATA, b"y", b"zz")
    assert engine.pending_in(DATA, b"a", b"d")[1] is False
    assert engine.pending_in(DATA, b"x", b"zzz") == ([], True)
    held = engine.scratch["x"] = _Held(engine, b"h")
    assert engine.get(DATA, b"h") is None  # held
    assert list(engine.iterate(DATA, b"h", b"i")) == [(b"h", b"held")]  # flushed first
    engine.commit()
    assert engine.scratch == {} and held.flushes >= 2
    fresh = engine.seeker(DATA)
    assert fresh is not it
    fresh.seek(b"b")
    assert fresh.key() == b"b"  # a new iterator sees what the commit wrote
    held = engine.scratch["x"] = _Held(engine, b"s")
    pos = engine.savepoint()  # flushes: the held write belongs before the savepoint
    engine.put(DATA, b"q", b"1")
    engine.rollback_to(pos)
    engine.release(pos)
    assert engine.scratch == {} and engine.get(DATA, b"s") == b"held"
    assert engine.get(DATA, b"q") is None
    engine.scratch["x"] = _Held(engine, b"r")
    engine.delete_range(DATA, b"r", b"rr")  # flushed first, so the range delete covers it
    engine.commit()
    assert list(engine.iterate(DATA, b"r", b"rr")) == []
    engine.scratch["x"] = _Held(engine, b"t")
    engine.rollback()
    assert engine.scratch == {} and engine.get(DATA, b"t") is None


def _ops(engine) -> list[int]:
    """Operation codes (0 put, 1 delete, 2 delete_range) of the last committed record."""
    *_, (_, _, effects) = engine.log_records(0)
    return [effect[0] for effect in effects]


def test_delete_few_deletes_stored_and_pending_keys_one_by_one(engine):
    n = engine.FEW_KEYS
    for i in range(n):
        engine.put(DATA, b"s%04d" % i, b"v")
    engine.put(DATA, b"t", b"outside")
    engine.commit()
    engine.delete(DATA, b"s0000")  # deleted in this batch: not counted, not deleted again
    engine.put(DATA, b"s9999", b"pending")  # put in this batch: counted and deleted
    assert engine.delete_few(DATA, b"s", b"t")
    assert list(engine.iterate(DATA, b"s", b"t")) == []
    engine.commit()
    assert _ops(engine) == [1] * (n + 1)  # point deletes only, no range tombstone
    engine.clear_cache()
    assert list(engine.iterate(DATA, b"")) == [(b"t", b"outside")]


def test_delete_few_leaves_more_keys_to_delete_range(engine):
    n = engine.FEW_KEYS
    for i in range(n):
        engine.put(DATA, b"s%04d" % i, b"v")
    engine.commit()
    engine.put(DATA, b"s9999", b"one too many")
    writes = engine.writes
    assert not engine.delete_few(DATA, b"s", b"t")
    assert engine.writes == writes  # nothing written: the caller deletes the range
    assert len(list(engine.iterate(DATA, b"s", b"t"))) == n + 1


def test_delete_few_is_undone_by_a_savepoint_rollback(engine):
    for i in range(3):
        engine.put(DATA, b"s%d" % i, b"v")
    engine.commit()
    engine.put(DATA, b"s3", b"pending")
    position = engine.savepoint()
    assert engine.delete_few(DATA, b"s", b"t")
    assert list(engine.iterate(DATA, b"s", b"t")) == []
    engine.rollback_to(position)
    engine.release(position)
    assert [k for k, _ in engine.iterate(DATA, b"s", b"t")] == [b"s0", b"s1", b"s2", b"s3"]


@pytest.mark.parametrize("overlay_sorted", [False, True])
def test_delete_few_with_a_count_finds_every_live_key(engine, overlay_sorted):
    """With the span's live count (a collection's size), the walk counts only the stored keys
    the batch has not touched: a stored key deleted in this batch must not stand in for one
    further on (which would be left behind), and a key put in this batch counts once. Both
    ways: the store first (the overlay unsorted), or the overlay's window first (sorted
    already by an ordered read of this batch)."""
    for i in range(5):
        engine.put(DATA, b"s%d" % i, b"v")
    engine.put(DATA, b"t0", b"outside")
    engine.commit()
    engine.delete(DATA, b"s0")  # deleted in this batch
    engine.put(DATA, b"s2", b"new value")  # stored, rewritten in this batch
    engine.put(DATA, b"s9", b"new key")  # only in this batch
    if overlay_sorted:
        assert len(list(engine.iterate(DATA, b"s", b"t"))) == 5
    assert (engine._sorted[DATA] is not None) == overlay_sorted
    assert engine.delete_few(DATA, b"s", b"t", 5)  # s1 s2 s3 s4 s9
    assert list(engine.iterate(DATA, b"s", b"t")) == []
    engine.commit()
    assert sorted(_ops(engine)) == [1] * 6  # s0 (before) and the five
    engine.clear_cache()
    assert list(engine.iterate(DATA, b"")) == [(b"t0", b"outside")]
    # a count of 0 deletes nothing (the walk must not take stored keys beyond the count)
    engine.put(DATA, b"s5", b"v")
    engine.commit()
    assert engine.delete_few(DATA, b"s", b"t", 0)
    engine.commit()
    assert engine.get(DATA, b"s5") == b"v"
    # a count above FEW_KEYS is the caller's sign to delete the range
    assert not engine.delete_few(DATA, b"s", b"t", engine.FEW_KEYS + 1)


def test_delete_few_with_a_count_stops_on_the_spans_last_key(engine):
    """The counted walk uses the batch's unbounded seeker and must stay on the span's last
    key: one step further would walk over the point tombstones that follow it (here those
    of 50 deleted keys) to the next live key."""
    for i in range(3):
        engine.put(DATA, b"s%d" % i, b"v")
    for i in range(50):
        engine.put(DATA, b"t%02d" % i, b"v")
    engine.put(DATA, b"u", b"live")
    engine.commit()
    for i in range(50):
        engine.delete(DATA, b"t%02d" % i)
    engine.commit()
    engine.put(DATA, b"a", b"pending elsewhere")
    assert engine.delete_few(DATA, b"s", b"t", 3)
    it = engine.seeker(DATA)
    assert it.valid() and it.key() == b"s2"
    # found in the store alone: the overlay was not sorted for it (every later put of the
    # batch would pay an insort)
    assert engine._sorted[DATA] is None
    engine.commit()
    assert list(engine.iterate(DATA, b"")) == [(b"a", b"pending elsewhere"), (b"u", b"live")]


@given(st.binary(min_size=1, max_size=12))
@settings(max_examples=500, deadline=None)
def test_prefix_end_is_the_first_key_after_the_prefix(prefix):
    """``layout.prefix_end``'s fast path (a last byte below ff) agrees with its definition:
    drop trailing ff bytes, then add one to the last byte left."""
    from ledis.storage.layout import prefix_end

    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        with pytest.raises(ValueError):
            prefix_end(prefix)
        return
    end = prefix_end(prefix)
    assert end == stripped[:-1] + bytes([stripped[-1] + 1])
    assert prefix < end and prefix + b"\xff" * 4 < end


def test_write_uncached_is_read_from_the_overlay_and_leaves_the_cache_alone(engine):
    from ledis.storage.layout import ZSCORE

    cache = engine._cache[ZSCORE]
    engine.put(ZSCORE, b"stored", b"old")
    engine.put(ZSCORE, b"gone", b"x")
    engine.commit()
    engine.clear_cache()
    assert engine.get(ZSCORE, b"stored") == b"old"  # now cached
    engine.write_uncached(ZSCORE, b"new", b"1")
    engine.write_uncached(ZSCORE, b"stored", b"2")  # cached: the cache follows
    engine.write_uncached(ZSCORE, b"gone", None)
    assert b"new" not in cache and b"gone" not in cache and cache[b"stored"] == b"2"
    # read your writes before the commit: from the overlay on a cache miss
    assert engine.get(ZSCORE, b"new") == b"1"
    assert engine.get(ZSCORE, b"gone") is None
    assert engine.get(ZSCORE, b"stored") == b"2"
    assert list(engine.iterate(ZSCORE, b"")) == [(b"new", b"1"), (b"stored", b"2")]
    # after a pending range delete, a later write_uncached is what reads see
    engine.delete_range(ZSCORE, b"a", b"z", drop_cached=True)
    engine.write_uncached(ZSCORE, b"new", b"3")
    assert b"new" not in cache
    assert engine.get(ZSCORE, b"new") == b"3"
    assert engine.get(ZSCORE, b"stored") is None
    engine.commit()
    engine.clear_cache()
    assert list(engine.iterate(ZSCORE, b"")) == [(b"new", b"3")]
    assert engine.get(ZSCORE, b"new") == b"3"


def test_write_uncached_rolls_back_with_a_savepoint(engine):
    from ledis.storage.layout import ZSCORE

    engine.put(ZSCORE, b"a", b"1")
    engine.commit()
    assert engine.get(ZSCORE, b"a") == b"1"  # cached
    position = engine.savepoint()
    assert engine.savepoint_open
    engine.write_uncached(ZSCORE, b"a", None)
    engine.write_uncached(ZSCORE, b"b", b"2")
    assert engine.get(ZSCORE, b"a") is None and engine.get(ZSCORE, b"b") == b"2"
    engine.rollback_to(position)
    engine.release(position)
    assert not engine.savepoint_open
    assert engine.get(ZSCORE, b"a") == b"1" and engine.get(ZSCORE, b"b") is None
    engine.commit()
    engine.clear_cache()
    assert list(engine.iterate(ZSCORE, b"")) == [(b"a", b"1")]


def test_read_cache_trimmed_to_its_bound_in_chunks(tmp_path):
    from ledis.storage.engine import TRIM_CHUNK

    eng = Engine(str(tmp_path / "small"), fsync="no", cache_entries=100)
    try:
        cache = eng._cache[DATA]
        for i in range(100 + TRIM_CHUNK):  # at the trim bound: nothing goes yet
            eng.put(DATA, b"k%06d" % i, b"v")
        eng.commit()
        assert len(cache) == 100 + TRIM_CHUNK
        eng.put(DATA, b"last", b"v")
        eng.commit()  # one past it: back to the bound, the oldest entries out
        assert len(cache) == 100
        assert b"last" in cache and b"k%06d" % (TRIM_CHUNK + 99) in cache
        assert b"k%06d" % (TRIM_CHUNK) not in cache
        assert eng.get(DATA, b"k000000") == b"v"  # what was trimmed reads from RocksDB
    finally:
        eng.close()


def _options_sections(path) -> dict[str, str]:
    """RocksDB's own record of the options it opened the store with (the newest OPTIONS
    file), by section header."""
    text = sorted(Path(path).glob("OPTIONS-*"))[-1].read_text()
    sections = re.split(r"^\[(.+)\]$", text, flags=re.M)
    return dict(zip(sections[1::2], sections[2::2], strict=True))


def test_memtable_bloom_on_the_point_read_families_only(engine):
    """``meta`` and ``data`` (the families ``get`` reads by key, often for a key that is not
    there) have a whole-key bloom filter in their memtables; the others do not pay for one
    (docs/PERFORMANCE.md, session 16)."""
    sections = _options_sections(engine.path)
    for name in CF_NAMES:
        cf_options = sections[f'CFOptions "{name}"']
        bloom = name in rocks.POINT_READ_FAMILIES
        assert (f"  memtable_whole_key_filtering={'true' if bloom else 'false'}\n"
                in cf_options), name
        ratio = float(re.search(r"memtable_prefix_bloom_size_ratio=([\d.]+)", cf_options)[1])
        assert ratio == (rocks.MEMTABLE_BLOOM_RATIO if bloom else 0), name
        assert "  partition_filters=true\n" in sections[
            f'TableOptions/BlockBasedTable "{name}"'], name


def test_every_family_shares_one_block_cache(engine):
    """Two option sets (with and without the memtable bloom) but one block cache: blocks
    read through ``data`` show in every family's cache usage (MEMORY STATS reads it once)."""
    for i in range(2000):
        engine.put(DATA, b"key:%06d" % i, b"v" * 100)
    engine.commit()
    engine._cfs[DATA].flush()  # the family's memtable to an SST: reads go through the cache
    engine.clear_cache()
    for i in range(0, 2000, 7):
        assert engine.get(DATA, b"key:%06d" % i) == b"v" * 100
    assert engine.get(DATA, b"key:none") is None
    usage = {cf: engine.property_int(cf, "rocksdb.block-cache-usage")
             for cf in range(len(CF_NAMES))}
    assert usage[DATA] > 0
    assert set(usage.values()) == {usage[DATA]}, usage
