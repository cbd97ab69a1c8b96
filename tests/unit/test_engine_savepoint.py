"""Engine savepoints (used by keyspace triggers' on_error='abort'): a rollback restores the
pending overlay, the cache and the write counter exactly; savepoints nest; journaling is off
again once the outermost one is released. Both backends (RocksDB and memory)."""

from __future__ import annotations

import pytest

from ledis.storage.engine import Engine
from ledis.storage.layout import DATA, META
from ledis.storage.memory import MemoryEngine


@pytest.fixture(params=["rocksdb", "memory"])
def engine(request, tmp_path):
    eng = Engine(str(tmp_path / "db"), fsync="no") if request.param == "rocksdb" \
        else MemoryEngine()
    yield eng
    eng.close()


def state(engine):
    return (list(engine.iterate(META, b"")), list(engine.iterate(DATA, b"")),
            [engine.get(META, k) for k in (b"a", b"b", b"c", b"d")])


def test_rollback_restores_overlay_cache_and_counter(engine):
    engine.put(META, b"a", b"1")
    engine.put(DATA, b"x1", b"v")
    engine.commit()
    engine.put(META, b"b", b"2")  # pending before the savepoint: must survive the rollback
    before, writes = state(engine), engine.writes
    sp = engine.savepoint()
    engine.put(META, b"a", b"changed")
    engine.delete(META, b"b")
    engine.put(META, b"c", b"3")
    engine.delete_range(DATA, b"x", b"y")
    engine.delete_range(META, b"a", b"z", drop_cached=True)
    assert state(engine) != before
    engine.rollback_to(sp)
    engine.release(sp)
    assert state(engine) == before and engine.writes == writes
    assert "put" not in engine.__dict__  # the plain methods are back
    engine.commit()
    engine.clear_cache()
    assert state(engine) == before


def test_nested_savepoints(engine):
    outer = engine.savepoint()
    engine.put(META, b"a", b"outer")
    inner = engine.savepoint()
    engine.put(META, b"a", b"inner")
    engine.put(META, b"d", b"inner")
    engine.rollback_to(inner)  # only the inner writes go
    engine.release(inner)
    assert engine.get(META, b"a") == b"outer" and engine.get(META, b"d") is None
    assert "put" in engine.__dict__  # still journaling for the outer one
    engine.release(outer)  # kept
    assert "put" not in engine.__dict__
    engine.commit()
    engine.clear_cache()
    assert engine.get(META, b"a") == b"outer"


def test_release_keeps_everything(engine):
    sp = engine.savepoint()
    engine.put(META, b"a", b"1")
    engine.delete_range(DATA, b"", b"\xff")
    engine.release(sp)
    engine.commit()
    engine.clear_cache()
    assert engine.get(META, b"a") == b"1"
