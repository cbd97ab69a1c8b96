"""`ledis check` finds injected corruption; `ledis repair` fixes it and says what it did."""

from __future__ import annotations

import os

from ledis.storage import layout
from ledis.storage.engine import Engine
from ledis.storage.layout import DATA, EXPIRE, META, SYS, U64, ZSCORE
from tests.test_tools_dump import ledis_cli, populate, snapshot


def stopped_store(fresh_server):
    srv = fresh_server()
    populate(srv.client())
    before = snapshot(srv.port)
    srv.stop()
    return srv, os.path.join(srv.dir, "db"), before


def first_sub(engine, cf, key, db=0):
    raw = engine.get(META, layout.meta_key(db, key))
    prefix = layout.sub_prefix(db, U64.unpack_from(raw, 9)[0])
    return next(engine.iterate(cf, prefix, layout.prefix_end(prefix)))[0], raw, prefix


def test_clean_store_checks_clean(fresh_server):
    _srv, data_dir, _ = stopped_store(fresh_server)
    proc = ledis_cli("check", data_dir)
    assert b"0 problem(s)" in proc.stdout


def test_check_refuses_a_locked_store(fresh_server):
    srv = fresh_server()
    proc = ledis_cli("check", os.path.join(srv.dir, "db"), check=False)
    assert proc.returncode != 0 and b"locked by a running server" in proc.stderr


def test_check_finds_and_repair_fixes_injected_corruption(fresh_server):
    srv, data_dir, before = stopped_store(fresh_server)
    engine = Engine(data_dir, fsync="no")
    # 1. a deleted sub-key of a set (size now wrong)
    sub, _raw, _ = first_sub(engine, DATA, b"bigset")
    engine.delete(DATA, sub)
    # 2. a wrong size in a hash's metadata
    raw = engine.get(META, layout.meta_key(0, b"hash"))
    engine.put(META, layout.meta_key(0, b"hash"), raw[:17] + U64.pack(99) + raw[25:])
    # 3. a hole in a list
    sub, _raw, _ = first_sub(engine, DATA, b"list")
    engine.delete(DATA, sub[:-8] + U64.pack(U64.unpack(sub[-8:])[0] + 2))
    # 4. a missing score-index entry of a sorted set
    sub, _raw, _ = first_sub(engine, ZSCORE, b"zset")
    engine.delete(ZSCORE, sub)
    # 5. orphan sub-keys of a version nobody points to
    orphan = layout.sub_prefix(0, 12345)
    engine.put(DATA, orphan + b"f", b"v")
    # 6. a stale expire-index entry and a missing one
    engine.put(EXPIRE, layout.expire_key(0, 4102444800000, b"str"), b"")
    hash_raw = engine.get(META, layout.meta_key(0, b"hash"))
    engine.delete(EXPIRE, layout.expire_key(0, U64.unpack_from(hash_raw, 1)[0], b"hash"))
    # 7. a wrong key counter
    engine.put(SYS, b"count:3", b"\0" * 7 + b"\x09" + b"\0" * 8)
    # 8. a set whose only member is gone (must be removed)
    sub, _raw, _ = first_sub(engine, DATA, b"set-db3", db=3)
    prefix_raw = engine.get(META, layout.meta_key(3, b"set-db3"))
    engine.delete(DATA, sub)
    engine.commit()
    engine.close()

    proc = ledis_cli("check", data_dir, check=False)
    out = proc.stdout.decode()
    assert proc.returncode == 1
    for needle in ("key 'bigset': set metadata says 1500, 1499 stored",
                   "key 'hash': hash metadata says 99, 3 stored",
                   "key 'list': list metadata says 5 elements",
                   "with holes",
                   "key 'zset': sorted set metadata says 7 members, 7 in data, 6",
                   "db0: 1 data sub-keys of id (version) 12345",
                   "key 'str': expire index entry 4102444800000",
                   "key 'hash': expiry",
                   "db3: key counter says 9 keys",
                   "key 'set-db3': set metadata says 1, 0 stored"):
        assert needle in out, (needle, out)

    proc = ledis_cli("repair", data_dir)
    assert b"0 left" in proc.stdout, proc.stdout
    assert b"0 problem(s)" in ledis_cli("check", data_dir).stdout

    srv.start()
    c = srv.client()
    after = snapshot(srv.port)
    assert c.scard(b"bigset") == 1499 and len(c.smembers(b"bigset")) == 1499
    assert c.hlen(b"hash") == 3
    assert c.lrange(b"list", 0, -1) == [b"a", b"b", b"\x00", b""]
    assert c.llen(b"list") == 4 and c.lindex(b"list", 3) == b""
    assert c.zcard(b"zset") == 7 and c.zrange(b"zset", 0, -1, withscores=True) == \
        before[(0, b"zset")][1]
    assert c.zrangebyscore(b"zset", "-inf", "+inf") == [m for m, _ in before[(0, b"zset")][1]]
    assert (3, b"set-db3") not in after and prefix_raw is not None
    import redis

    db3 = redis.Redis(port=srv.port, db=3)
    assert db3.dbsize() == 1 and db3.exists(b"set-db3") == 0
    assert c.ttl(b"hash") > 0 and c.ttl(b"str") == -1
    for key in before:
        if key[1] not in (b"bigset", b"list", b"set-db3"):
            assert after[key] == before[key], key
