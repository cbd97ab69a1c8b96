"""MOVE of a collection in O(1) (issue #19): a collection's sub-keys stay under its *home* db
(the low byte of its version, ``ledis/storage/layout.py``), only its metadata moves, and the
``moved:`` registry in ``sys`` tells FLUSHDB which sub-keys of a db byte belong elsewhere.

Checked here: MOVE writes a constant number of records whatever the size; FLUSHDB of the
home keeps a moved collection and FLUSHDB of the db it moved to drops it (no orphan left,
``ledis check`` clean); a random model of HSET / MOVE / RENAME / COPY / DEL / SET /
FLUSHDB / SWAPDB over three dbs against a dict, with ``check`` clean at the end; a format-2
collection (a version without the home flag) still moves, by a copy under a flagged version;
a format-2 store opens as format 3 with its data; a replica and ``ledis check`` after moves and
flushes over the network.
"""

from __future__ import annotations

import os
import random
import time

import pytest
import redis

from ledis.storage import layout, migrate
from ledis.storage.layout import SYS, U64
from ledis.tools.check import check
from tests.test_keys_rename import (
    TYPES,
    content,
    core,  # noqa: F401 (fixture)
    count_under,
    fresh_hash,
    id_prefix,
    make,
    run,
)
from tests.test_replication import assert_same, replica_of, servers  # noqa: F401 (fixture)
from tests.test_tools_dump import ledis_cli


def registry(core) -> dict[bytes, bytes]:  # noqa: F811
    return dict(core.engine.iterate(SYS, layout.MOVED_PREFIX, layout.MOVED_END))


def test_move_writes_a_constant_number_of_records(core):  # noqa: F811
    ctx = core.new_context()
    writes = []
    for n in (10, 20_000):
        fresh_hash(core, ctx, n)
        home = id_prefix(core, b"h")
        before = core.engine.writes
        assert run(core, ctx, "MOVE", "h", 3) == 1
        writes.append(core.engine.writes - before)
        core.commit()
        assert id_prefix(core, b"h", db=3) == home  # the sub-keys did not move
        assert count_under(core, home) == n
        ctx3 = core.new_context()
        run(core, ctx3, "SELECT", 3)
        assert run(core, ctx3, "HLEN", "h") == n
        assert run(core, ctx3, "HGET", "h", f"f{n - 1}") == b"v"
    assert writes[0] == writes[1] <= 4, writes


@pytest.mark.parametrize("kind", ["hash", "list", "set", "zset", "stream"])
def test_flushdb_of_the_home_keeps_it_and_of_its_new_db_drops_it(core, kind):  # noqa: F811
    ctx0, ctx1 = core.new_context(), core.new_context()
    run(core, ctx1, "SELECT", 1)
    for i in range(50):
        if kind == "hash":
            run(core, ctx0, "HSET", "k", f"f{i}", "v")
        elif kind == "list":
            run(core, ctx0, "RPUSH", "k", f"e{i}")
        elif kind == "set":
            run(core, ctx0, "SADD", "k", f"m{i}")
        elif kind == "zset":
            run(core, ctx0, "ZADD", "k", i, f"m{i}")
        else:
            run(core, ctx0, "XADD", "k", f"1-{i + 1}", "i", i)
    run(core, ctx0, "HSET", "stays", "f", "v")  # a collection of db 0 that does not move
    core.commit()
    prefix = id_prefix(core, b"k")
    size = count_under(core, prefix)
    assert run(core, ctx0, "MOVE", "k", 1) == 1
    core.commit()
    assert list(registry(core).values()) == [layout.DB_BYTES[core.store.dbs[1].index]]
    run(core, ctx0, "FLUSHDB")  # the home db: the moved collection survives
    core.commit()
    assert count_under(core, prefix) == size
    assert run(core, ctx1, "EXISTS", "k") == 1
    assert count_under(core, id_prefix(core, b"k", db=1)) == size
    assert check(core.engine) == []
    # back home and out again: the registry follows
    assert run(core, ctx1, "MOVE", "k", 0) == 1
    core.commit()
    assert registry(core) == {}
    assert run(core, ctx0, "MOVE", "k", 1) == 1
    run(core, ctx1, "FLUSHDB")  # its new db: it goes, sub-keys and registry entry
    core.commit()
    assert count_under(core, prefix) == 0
    assert registry(core) == {}
    assert check(core.engine) == []


def test_del_expire_and_overwrite_of_a_moved_collection_clear_the_registry(core):  # noqa: F811
    ctx0, ctx1 = core.new_context(), core.new_context()
    run(core, ctx1, "SELECT", 1)
    for key in ("a", "b", "c", "d"):
        run(core, ctx0, "HSET", key, "f", "v")
        run(core, ctx0, "MOVE", key, 1)
    core.commit()
    assert len(registry(core)) == 4
    run(core, ctx1, "DEL", "a")
    run(core, ctx1, "SET", "b", "string now")
    run(core, ctx1, "RENAME", "d", "c")  # c's sub-keys go, d's stay under the name c
    run(core, ctx1, "PEXPIRE", "c", 1)
    core.commit()
    time.sleep(0.01)
    core.expire_cycle()
    core.commit()
    assert registry(core) == {}
    assert check(core.engine) == []


def test_model_of_moves_flushes_and_swaps(core):  # noqa: F811
    rng = random.Random(19)
    ctxs = [core.new_context() for _ in range(3)]
    for n, ctx in enumerate(ctxs):
        run(core, ctx, "SELECT", n)
    model: list[dict[str, object]] = [{}, {}, {}]  # per logical db: key -> dict or str
    for step in range(3000):
        db = rng.randrange(3)
        ctx, here = ctxs[db], model[db]
        key = f"k{rng.randrange(12)}"
        op = rng.random()
        if op < 0.45:
            if isinstance(here.get(key), str):
                continue
            field = f"f{rng.randrange(30)}"
            run(core, ctx, "HSET", key, field, step)
            here.setdefault(key, {})[field.encode()] = str(step).encode()  # type: ignore
        elif op < 0.65:
            to = rng.choice([d for d in range(3) if d != db])
            moved = key in here and key not in model[to]
            assert run(core, ctx, "MOVE", key, to) == (1 if moved else 0)
            if moved:
                model[to][key] = here.pop(key)
        elif op < 0.72 and key in here:
            new = f"k{rng.randrange(12)}"
            run(core, ctx, "RENAME", key, new)
            here[new] = here.pop(key)
        elif op < 0.78 and key in here:
            to = rng.randrange(3)
            new = f"k{rng.randrange(12)}"
            if to == db and new == key:
                continue
            if run(core, ctx, "COPY", key, new, "DB", to, "REPLACE") == 1:
                value = here[key]
                model[to][new] = dict(value) if isinstance(value, dict) else value
        elif op < 0.86:
            run(core, ctx, "DEL", key)
            here.pop(key, None)
        elif op < 0.9:
            run(core, ctx, "SET", key, "s")
            here[key] = "s"
        elif op < 0.93:
            run(core, ctx, "FLUSHDB")
            here.clear()
        elif op < 0.96:
            other = rng.randrange(3)
            run(core, ctx, "SWAPDB", db, other)
            model[db], model[other] = model[other], model[db]
        if rng.random() < 0.3:
            core.commit()
    core.commit()
    for db, ctx in enumerate(ctxs):
        keys = sorted(k.decode() for k in run(core, ctx, "KEYS", "*"))
        assert keys == sorted(model[db]), db
        for key, value in model[db].items():
            if isinstance(value, dict):
                got = run(core, ctx, "HGETALL", key)  # field, value pairs
                assert {bytes(f): bytes(v) for f, v in got} == value, (db, key)
            else:
                assert run(core, ctx, "GET", key) == b"s"
    assert check(core.engine) == []


class _Format2Versions(layout.Versions):
    """Issues versions as format 2 did (no home flag), for the collections of a test."""

    __slots__ = ()

    def next(self, home: int) -> int:
        self.last = max(self.last + 1, int(time.time() * 1_000_000) << 11)
        return self.last


def test_a_format_2_collection_moves_by_a_copy_under_a_flagged_version(core):  # noqa: F811
    ctx0, ctx1 = core.new_context(), core.new_context()
    run(core, ctx1, "SELECT", 1)
    real = core.store.versions
    core.store.versions = _Format2Versions()
    try:
        run(core, ctx0, "HSET", "old", *[x for i in range(100) for x in (f"f{i}", "v")])
        run(core, ctx0, "RPUSH", "oldlist", "a", "b", "c")
    finally:
        core.store.versions = real
    core.commit()
    old_prefix = id_prefix(core, b"old")
    assert old_prefix[1] < 0x80  # no home flag: its db byte is that of its metadata
    assert run(core, ctx0, "MOVE", "old", 1) == 1
    assert run(core, ctx0, "MOVE", "oldlist", 1) == 1
    core.commit()
    new_prefix = id_prefix(core, b"old", db=1)
    assert new_prefix[1] >= 0x80 and new_prefix[0] == core.store.dbs[1].index
    assert count_under(core, old_prefix) == 0 and count_under(core, new_prefix) == 100
    assert run(core, ctx1, "LRANGE", "oldlist", 0, -1) == [b"a", b"b", b"c"]
    assert registry(core) == {}  # copied into its new home: nothing moved out
    assert check(core.engine) == []


def test_a_format_2_store_opens_as_format_3_with_its_data(fresh_server):
    srv = fresh_server()
    c = srv.client()
    make(c, "hash", "h", n=20)
    srv.stop()
    from ledis.storage.engine import Engine

    engine = Engine(os.path.join(srv.dir, "db"), fsync="no")
    try:
        engine.put(SYS, layout.FORMAT_KEY, U64.pack(2))
        engine.commit()
    finally:
        engine.close()
    srv.start()
    c = srv.client()
    assert c.hlen("h") == 20 and c.hget("h", "f3") == b"v3"
    srv.stop()
    engine = Engine(os.path.join(srv.dir, "db"), fsync="no")
    try:
        assert migrate.stored_format(engine) == layout.FORMAT_VERSION == 3
    finally:
        engine.close()


# --- over the network: replica and check -----------------------------------------------------
def move_workload(c: redis.Redis) -> None:
    for kind in TYPES:
        make(c, kind, f"{kind}:m", n=120)
        make(c, kind, f"{kind}:n", n=30)
        c.move(f"{kind}:m", 1)
        c.move(f"{kind}:n", 2)
    c1 = redis.Redis(port=c.connection_pool.connection_kwargs["port"], db=1)
    try:
        c1.move("hash:m", 2)  # out again, to a third db
        c1.move("list:m", 0)  # back home
    finally:
        c1.close()
    c.flushdb()  # db 0, the home of every one of them: the moved ones stay
    c.swapdb(1, 3)


def test_replica_and_check_after_moves_and_flushes(servers, tmp_path):  # noqa: F811
    m = servers()
    s = replica_of(servers, m)
    mc, sc = m.client(), s.client()
    move_workload(mc)
    assert_same(mc, sc)
    m3 = m.client(db=3)
    for kind in TYPES:
        if kind not in ("hash", "list"):
            assert m3.type(f"{kind}:m") == kind.encode()
    assert content(m.client(db=2), "hash", "hash:m") == {
        f"f{i}".encode(): f"v{i}".encode() for i in range(120)}
    assert mc.dbsize() == 0
    for server in (m, s):
        server.stop()
        proc = ledis_cli("check", os.path.join(server.dir, "db"))
        assert b"0 problem(s)" in proc.stdout, proc.stdout
