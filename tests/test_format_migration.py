"""Disk format 1 -> 2 (``ledis.storage.migrate``), on real RocksDB stores.

A format-1 store is made from a format-2 one by ``to_format_1``: every collection's sub-keys
moved back under format 1's ``db | len(key) | key | version`` prefix, the ``format`` and
version-floor records removed (format 1 had neither). Two keys are also given the same
version, which format 1 allowed (the key name kept their sub-keys apart) and format 2 must
not keep. Then the store is opened by the current code: everything reads back the same
(``LEDIS.DIGEST``), ``ledis check`` is clean; a migration interrupted after some batches
resumes; a store of an unknown newer format is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from ledis.config import Config
from ledis.server.compose import build, load_commands
from ledis.storage import layout, migrate
from ledis.storage.engine import Engine
from ledis.storage.layout import DATA, META, SYS, U64, ZSCORE
from tests.helpers import ROOT, free_port
from tests.test_tools_dump import ledis_cli


def run(core, ctx, *argv):
    return core.dispatch(ctx, [a if isinstance(a, bytes) else str(a).encode() for a in argv])


def populate(core) -> bytes:
    """Every type (big ones too), TTLs, two dbs; returns the digest."""
    ctx = core.new_context()
    run(core, ctx, "SET", "s", "v")
    run(core, ctx, "HSET", "h", *[x for i in range(2500) for x in (f"f{i}", f"v{i}")])
    run(core, ctx, "EXPIRE", "h", 5000)
    run(core, ctx, "RPUSH", "l", *[f"e{i}" for i in range(1200)])
    run(core, ctx, "SADD", "set", *[f"m{i}" for i in range(700)])
    run(core, ctx, "ZADD", "z", *[x for i in range(900) for x in (i * 0.5, f"z{i}")])
    for i in range(30):
        run(core, ctx, "XADD", "x", f"1-{i + 1}", "i", i)
    run(core, ctx, "XGROUP", "CREATE", "x", "g", "0")
    run(core, ctx, "XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "x", ">")
    run(core, ctx, "HSET", "twin", "a", "1")
    run(core, ctx, "SELECT", 4)
    run(core, ctx, "HSET", "h", "in", "db4")
    run(core, ctx, "ZADD", "z4", 1, "a", 2, "b")
    core.commit()
    return run(core, ctx, "LEDIS.DIGEST")


def to_format_1(path: str, shared: tuple[bytes, bytes] | None = None) -> None:
    """Rewrite the closed store at ``path`` in format 1 (see the module docstring); the two
    meta keys in ``shared`` get the same version."""
    engine = Engine(path, fsync="no")
    engine.write_log = False  # a tool's rewrite, not a replicated write
    metas = list(engine.iterate(META, b""))
    shared_version = None
    for mkey, raw in metas:
        if raw[0] == layout.STRING:
            continue
        version = raw[9:17]
        if shared and mkey in shared:
            shared_version = shared_version or version
            engine.put(META, mkey, raw[:9] + shared_version + raw[17:])
        new = layout.sub_prefix(mkey[0], U64.unpack(version)[0])
        old = migrate.old_sub_prefix(mkey[0], mkey[1:], shared_version if shared and
                                     mkey in shared else version)
        for cf in (DATA, ZSCORE):
            for sub, value in list(engine.iterate(cf, new, layout.prefix_end(new))):
                engine.put(cf, old + sub[len(new):], value)
            engine.delete_range(cf, new, layout.prefix_end(new))
    engine.delete(SYS, layout.FORMAT_KEY)
    engine.delete(SYS, layout.VERSION_FLOOR_KEY)
    engine.commit()
    assert migrate.store_format(engine) == 1
    engine.close()


@pytest.fixture
def store_dir():
    load_commands()
    path = tempfile.mkdtemp(prefix="ledis-format-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def open_core(path: str):
    config = Config()
    config.dir = path
    return build(config)


def make_format_1(path: str) -> bytes:
    core = open_core(path)
    digest = populate(core)
    core.engine.put(SYS, b"repl:id", b"f" * 40)  # a replication history that must end
    core.engine.commit()
    core.close()
    to_format_1(path, shared=(b"\x00h", b"\x00twin"))
    return digest


def test_a_format_1_store_is_migrated_at_open(store_dir):
    digest = make_format_1(store_dir)
    core = open_core(store_dir)
    try:
        ctx = core.new_context()
        assert run(core, ctx, "LEDIS.DIGEST") == digest
        assert run(core, ctx, "HLEN", "h") == 2500 and run(core, ctx, "HGET", "twin", "a") == b"1"
        assert 4000 < run(core, ctx, "TTL", "h") <= 5000
        assert migrate.stored_format(core.engine) == layout.FORMAT_VERSION
        assert core.engine.get(SYS, migrate.MIGRATE_KEY) is None
        # new ids: replicas cannot resume the old history, they resync in full
        assert core.replication.replid != b"f" * 40
        assert core.engine.log_seq == 0  # the migration wrote no write-log records
        # the shared format-1 version became two ids
        assert core.store.dbs[0].raw(b"h")[9:17] != core.store.dbs[0].raw(b"twin")[9:17]
        # and the migrated store works on: O(1) rename of the big hash
        assert run(core, ctx, "RENAME", "h", "h2") == b"OK"
        assert run(core, ctx, "HGET", "h2", "f2499") == b"v2499"
        run(core, ctx, "RENAME", "h2", "h")
        core.commit()
    finally:
        core.close()
    proc = ledis_cli("check", store_dir)
    assert b"0 problem(s)" in proc.stdout, proc.stdout


def test_an_interrupted_migration_resumes(store_dir, monkeypatch):
    digest = make_format_1(store_dir)
    monkeypatch.setattr(migrate, "BATCH", 500)  # many batches, some inside one collection
    batches = []

    def crash(collections, sub_keys):
        batches.append(sub_keys)
        if len(batches) == 3:
            raise KeyboardInterrupt  # as a kill would: the pending batch is lost

    engine = Engine(store_dir, fsync="no")
    with pytest.raises(KeyboardInterrupt):
        migrate.ensure_format(engine, layout.Versions(), on_progress=crash)
    marker = engine.get(SYS, migrate.MIGRATE_KEY)
    engine.rollback()  # nothing of an unfinished batch survives a crash
    engine.close()
    # stopped inside the big hash: some of its sub-keys are copied under a version in progress
    assert marker is not None and U64.unpack_from(marker)[0] != 0 and marker[8:] == b"\x00h"
    core = open_core(store_dir)
    try:
        assert run(core, core.new_context(), "LEDIS.DIGEST") == digest
    finally:
        core.close()
    assert b"0 problem(s)" in ledis_cli("check", store_dir).stdout


def test_check_reports_format_1_and_repair_migrates(store_dir):
    make_format_1(store_dir)
    proc = ledis_cli("check", store_dir, check=False)
    assert proc.returncode == 1
    want = b"[format] the store is in disk format 1, this ledis writes %d" % layout.FORMAT_VERSION
    assert want in proc.stdout
    proc = ledis_cli("repair", store_dir)
    assert b"0 left" in proc.stdout, proc.stdout
    assert b"0 problem(s)" in ledis_cli("check", store_dir).stdout


def test_a_newer_format_is_refused(store_dir):
    core = open_core(store_dir)
    populate(core)
    core.engine.put(SYS, layout.FORMAT_KEY, U64.pack(layout.FORMAT_VERSION + 1))
    core.commit()
    core.close()
    proc = subprocess.run([sys.executable, "-m", "ledis", "server", "--port", str(free_port()),
                           "--dir", store_dir], cwd=str(ROOT), capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    line = proc.stderr.strip()
    assert "unknown disk format" in line and f"disk format {layout.FORMAT_VERSION + 1}" in line
    proc = ledis_cli("check", store_dir, check=False)
    assert proc.returncode == 1 and b"newer than this ledis reads" in proc.stdout
    assert os.path.exists(os.path.join(store_dir, "CURRENT"))  # untouched


def test_ids_never_repeat_after_a_restart_with_the_clock_set_back(store_dir, monkeypatch):
    """A version is a collection's id: after a restart whose clock went back an hour, new
    collections still get versions above every stored one (the persisted floor)."""
    core = open_core(store_dir)
    ctx = core.new_context()
    for i in range(50):
        run(core, ctx, "HSET", f"h{i}", "f", "v")
    core.commit()
    highest = max(U64.unpack_from(raw, 9)[0] for _k, raw in core.store.dbs[0].scan_keys())
    core.close()
    real_time = layout.time.time
    monkeypatch.setattr(layout.time, "time", lambda: real_time() - 3600)
    core = open_core(store_dir)
    try:
        ctx = core.new_context()
        run(core, ctx, "HSET", "new", "f", "v")
        assert U64.unpack_from(core.store.dbs[0].raw(b"new"), 9)[0] > highest
        assert run(core, ctx, "HGET", "h0", "f") == b"v"
    finally:
        core.close()
