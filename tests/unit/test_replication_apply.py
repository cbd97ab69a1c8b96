"""The replica's apply path without sockets: two embedded stores, the master's committed log
records (and full-sync chunks) fed straight into ``ReplicaLink``; digests must agree."""

from __future__ import annotations

import random

import pytest

import ledis
from ledis.commands.replication import digest
from ledis.replication.master import FULL_SYNC_CFS, ReplicaStream
from ledis.replication.replica import ReplicaLink
from ledis.storage.layout import LOG, U64


@pytest.fixture
def pair(tmp_path):
    master = ledis.open(str(tmp_path / "m"), repl_log="always")  # records fed by hand
    replica = ledis.open(str(tmp_path / "r"))
    yield master, replica
    master.close()
    replica.close()


def core_of(handle):
    return handle._shared.core


def ship(master, link, after):
    """Apply every committed master record after ``after``; returns the last seq."""
    engine = core_of(master).engine
    last = after
    for key, value in engine._iterate_store(LOG, U64.pack(after + 1), None, False):
        last = U64.unpack(key)[0]
        link.apply(last, value)
    return last


def full_sync(master, link):
    mcore = core_of(master)
    mcore.engine.commit()
    seq = mcore.engine.log_seq
    link.begin_full(mcore.replication.replid, seq)
    for cf in FULL_SYNC_CFS:
        it = mcore.engine._cfs[cf].iter()
        it.seek_to_first()
        done = False
        while not done:
            items, done = ReplicaStream._chunk(it, cf, b"%d" % cf)
            if len(items) > 2:
                link.load_chunk(cf, items[2:])
    link.end_full(seq)
    return seq


def random_writes(db, rnd, n):
    for _ in range(n):
        k = f"k{rnd.randrange(50)}"
        op = rnd.randrange(12)
        try:
            if op == 0:
                db.execute("SET", k, rnd.random())
            elif op == 1:
                db.execute("HSET", k + "h", rnd.choice("abc"), rnd.random())
            elif op == 2:
                db.execute("RPUSH", k + "l", rnd.random())
            elif op == 3:
                db.execute("SADD", k + "s", rnd.randrange(5))
            elif op == 4:
                db.execute("ZADD", k + "z", rnd.random(), rnd.randrange(5))
            elif op == 5:
                db.execute("DEL", k, k + "h", k + "l")
            elif op == 6:
                db.execute("EXPIRE", k + "s", 1000)
            elif op == 7:
                db.execute("EVAL", "redis.call('incr', KEYS[1]); return 1", 1, k + "c")
            elif op == 8:
                db.execute("SELECT", rnd.randrange(3))
            elif op == 9 and rnd.random() < 0.05:
                db.execute("SWAPDB", 0, rnd.randrange(1, 3))
            elif op == 10 and rnd.random() < 0.03:
                db.execute("FLUSHDB")
            elif op == 11:
                db.execute("LPOP", k + "l")
        except ledis.ResponseError:
            pass  # WRONGTYPE etc.: nothing written


def test_incremental_apply_matches_digest(pair):
    master, replica = pair
    link = ReplicaLink(core_of(replica).replication, "test", 0)
    rnd = random.Random(7)
    seq = full_sync(master, link)
    for _ in range(20):
        random_writes(master, rnd, 50)
        seq = ship(master, link, seq)
        assert digest(core_of(master)) == digest(core_of(replica))
    rcore, mcore = core_of(replica), core_of(master)
    assert rcore.engine.log_seq == mcore.engine.log_seq
    assert [db.keys for db in rcore.store.dbs] == [db.keys for db in mcore.store.dbs]


def test_full_sync_then_stream(pair):
    master, replica = pair
    rnd = random.Random(11)
    random_writes(master, rnd, 500)
    replica.execute("SET", "only-on-replica", 1)
    link = ReplicaLink(core_of(replica).replication, "test", 0)
    seq = full_sync(master, link)
    assert digest(core_of(master)) == digest(core_of(replica))
    assert replica.execute("EXISTS", "only-on-replica") == 0
    random_writes(master, rnd, 300)
    ship(master, link, seq)
    assert digest(core_of(master)) == digest(core_of(replica))


def test_corrupt_or_out_of_order_record_is_refused(pair):
    master, replica = pair
    link = ReplicaLink(core_of(replica).replication, "test", 0)
    seq = full_sync(master, link)
    master.execute("SET", "a", 1)
    master.execute("SET", "b", 2)
    engine = core_of(master).engine
    records = list(engine._iterate_store(LOG, U64.pack(seq + 1), None, False))
    first, second = records[-2], records[-1]
    with pytest.raises(ConnectionError, match="out of order"):
        link.apply(U64.unpack(second[0])[0], second[1])
    bad = first[1][:-1] + bytes([first[1][-1] ^ 1])
    with pytest.raises(ConnectionError, match="CRC"):
        link.apply(U64.unpack(first[0])[0], bad)
    ship(master, link, seq)
    assert replica.execute("MGET", "a", "b") == [b"1", b"2"]


def test_full_sync_from_a_master_in_another_disk_format_is_refused(pair):
    """A master whose sys records carry no ``format`` (format 1, before #19) ships sub-keys
    this replica would misread: the link stops, and the store is marked format 1, so the
    replica's next open migrates what it received. A master in the same format is fine, and
    so is one in format 2 (format 3 only adds what a format-2 master never writes)."""
    from ledis.storage import layout
    from ledis.storage.migrate import store_format

    master, replica = pair
    master.execute("HSET", "h", "f", "v")
    link = ReplicaLink(core_of(replica).replication, "test", 0)
    full_sync(master, link)
    assert not link.stopped and replica.execute("HGET", "h", "f") == b"v"

    mcore = core_of(master)
    # a format-2 master (before MOVE in O(1)) is followed: its data is valid format 3
    mcore.engine.put(layout.SYS, layout.FORMAT_KEY, U64.pack(2))
    mcore.engine.commit()
    link = ReplicaLink(core_of(replica).replication, "test", 0)
    full_sync(master, link)
    assert not link.stopped and replica.execute("HGET", "h", "f") == b"v"
    assert store_format(core_of(replica).engine) == layout.FORMAT_VERSION

    mcore.engine.delete(layout.SYS, layout.FORMAT_KEY)  # as a format-1 master's sys
    mcore.engine.commit()
    link = ReplicaLink(core_of(replica).replication, "test", 0)
    with pytest.raises(ConnectionError, match="disk format 1"):
        full_sync(master, link)
    assert link.stopped
    assert store_format(core_of(replica).engine) == 1
