"""Durability: acknowledged writes survive kill -9 (appendfsync always), expired keys stay gone
across restarts, key counters stay exact, and DEL of a huge collection is O(1) with its
sub-keys physically reclaimed at compaction.

The store is inspected directly with rocksdict (after the server stopped) to count what is
physically there.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time

import pytest
import redis
import rocksdict
from redis.backoff import NoBackoff
from redis.retry import Retry

from ledis import errors
from ledis.config import Config
from ledis.server.compose import build, load_commands
from ledis.storage import layout
from ledis.storage.layout import CF_NAMES, COLLECTION, DATA


def open_store(path: str) -> rocksdict.Rdict:
    """Open a stopped server's data dir with every column family, raw bytes."""
    opts = rocksdict.Options(raw_mode=True)
    return rocksdict.Rdict(path, options=opts,
                           column_families={name: rocksdict.Options(raw_mode=True)
                                            for name in CF_NAMES})


def test_acknowledged_writes_survive_kill9(fresh_server):
    srv = fresh_server("--appendfsync", "always")
    c = srv.client()
    for i in range(200):
        c.set(f"k{i}", i)
    c.delete("k0", "k1")
    c.expire("k2", 1000)
    c.rename("k3", "renamed")
    c.copy("k4", "copied")
    c.move("k5", 1)
    c.swapdb(2, 3)
    c.execute_command("SELECT", 3)
    c.set("in3", 1)
    srv.kill()
    srv.start()
    c = srv.client()
    assert c.dbsize() == 200 - 2 + 1 - 1  # DEL 2, COPY +1, MOVE -1
    assert c.get("k0") is None and c.get("k1") is None
    assert 990 < c.ttl("k2") <= 1000
    assert c.get("renamed") == b"3" and c.get("k3") is None
    assert c.get("copied") == b"4" and c.get("k4") == b"4"
    assert c.get("k5") is None
    assert srv.client(db=1).get("k5") == b"5"
    assert srv.client(db=3).get("in3") == b"1"
    assert srv.client(db=2).dbsize() == 0


def test_concurrent_writer_kill9_loses_nothing_acknowledged(fresh_server):
    """A writer SETs keys in a loop; we kill -9 at a random moment. Every key whose SET was
    acknowledged must be there after restart."""
    srv = fresh_server("--appendfsync", "always")
    acked: list[str] = []
    stop = threading.Event()

    def writer():
        c = srv.client(socket_timeout=5, retry=Retry(NoBackoff(), 0))  # fail fast at the kill
        i = 0
        while not stop.is_set():
            try:
                c.set(f"w{i}", i)
            except (redis.ConnectionError, redis.TimeoutError):
                return
            acked.append(f"w{i}")
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.5 + random.random() * 0.5)
    srv.kill()
    stop.set()
    t.join(10)
    assert len(acked) > 50
    srv.start()
    c = srv.client()
    pipe = c.pipeline(transaction=False)
    for k in acked:
        pipe.exists(k)
    assert all(pipe.execute())
    # DBSIZE is exact: the acknowledged keys plus at most one in flight
    assert len(acked) <= c.dbsize() <= len(acked) + 1


def test_counts_exact_after_active_expiry_and_kill9(fresh_server):
    srv = fresh_server("--appendfsync", "always")
    c = srv.client()
    pipe = c.pipeline(transaction=False)
    for i in range(300):
        pipe.set(f"e{i}", i)
        pipe.pexpire(f"e{i}", 50)
    for i in range(10):
        pipe.set(f"p{i}", i)
    pipe.execute()
    deadline = time.time() + 5
    while time.time() < deadline and c.dbsize() != 10:
        time.sleep(0.05)
    assert c.dbsize() == 10
    srv.kill()
    srv.start()
    c = srv.client()
    assert c.dbsize() == 10
    assert sorted(c.keys("*")) == sorted(f"p{i}".encode() for i in range(10))
    assert all(c.ttl(f"p{i}") == -1 for i in range(10))


def _build_synthetic_hash(data_dir: str, fields: int) -> None:
    """Create hash 'big' (``fields`` sub-keys) and hash 'keep' (10) in the storage layout,
    in-process, without relying on the hash command module."""
    load_commands()
    config = Config()
    config.dir = data_dir
    core = build(config)
    db = core.store.dbs[0]
    for key, n in ((b"big", fields), (b"keep", 10)):
        version = db.new_version()
        prefix = layout.sub_prefix(db.index, version)
        for i in range(n):
            core.engine.put(DATA, prefix + b"field:%08d" % i, b"value-%d" % i)
            if i % 10000 == 9999:
                core.commit()
        db.replace(key, COLLECTION.pack(layout.HASH, 0, version, n), db.raw(key))
        core.commit()
    core.close()


def _have_hset(client) -> bool:
    try:
        client.execute_command("HSET", "__probe__", "f", "v")
    except redis.ResponseError as exc:
        if "unknown command" in str(exc):
            return False
        raise
    client.delete("__probe__")
    return True


def _data_family(data_dir: str) -> tuple[int, list[bytes]]:
    """(SST bytes, keys) of the ``data`` family after flushing its memtable to SST.
    Every handle is dropped before returning: RocksDB keeps its lock while one is alive."""
    store = open_store(data_dir)
    try:
        for name in CF_NAMES:
            store.get_column_family(name).flush()
        data = store.get_column_family("data")
        size = data.property_int_value("rocksdb.total-sst-files-size")
        keys = list(data.keys())
        del data
    finally:
        store.close()
    return size, keys


@pytest.mark.parametrize("how", ["synthetic", "hset"])
def test_del_big_collection_is_instant_and_reclaimed(fresh_server, tmp_path, how):
    fields = 200_000
    data_dir = os.path.join(str(tmp_path), "db")
    if how == "synthetic":
        _build_synthetic_hash(data_dir, fields)
        srv = fresh_server("--appendfsync", "always", data_dir=str(tmp_path))
    else:
        srv = fresh_server("--appendfsync", "always", data_dir=str(tmp_path))
        c = srv.client()
        if not _have_hset(c):
            pytest.skip("HSET not implemented yet")
        for start in range(0, fields, 10_000):
            pipe = c.pipeline(transaction=False)
            for chunk in range(start, start + 10_000, 500):
                pipe.hset("big", mapping={b"field:%08d" % i: b"value-%d" % i
                                          for i in range(chunk, chunk + 500)})
            pipe.execute()
        c.hset("keep", mapping={b"field:%08d" % i: b"value-%d" % i for i in range(10)})
        assert c.execute_command("HLEN", "big") == fields
    # make sure the sub-keys are in SST files, not only in a memtable
    srv.stop()
    size_full, keys = _data_family(data_dir)
    assert size_full > 1_000_000 and len(keys) == fields + 10
    srv.start()

    c = srv.client()
    assert c.type("big") == b"hash"
    started = time.perf_counter()
    assert c.delete("big") == 1
    elapsed = time.perf_counter() - started
    assert elapsed < 0.2, f"DEL of {fields} sub-keys took {elapsed:.3f}s"
    assert c.exists("big") == 0
    assert c.dbsize() == 1

    # The server compacts big deleted ranges in the background (Compactor.DELAY = 1 s):
    # the space comes back without anyone calling compact_range.
    time.sleep(2.5)
    srv.stop()
    size_after, remaining = _data_family(data_dir)
    assert len(remaining) == 10  # only 'keep' is left
    big_prefix = layout.DB_BYTES[0] + layout.U32.pack(3) + b"big"
    assert not any(k.startswith(big_prefix) for k in remaining)
    assert size_after < size_full / 20, (size_full, size_after)
    srv.start()
    assert srv.client().dbsize() == 1


def test_failed_store_write_acknowledges_nothing(fresh_server):
    """Issue #18: when RocksDB refuses a group commit's write, no held reply goes out (it could
    acknowledge a write that was not stored): the client gets one MISCONF error and is
    disconnected, and no reader sees the unstored value. The failure is real: the server's
    file size limit (RLIMIT_FSIZE, set on the running process) makes the WAL write fail with
    EFBIG, as a full disk would (Python ignores SIGXFSZ, so the write just fails)."""
    import resource

    server = fresh_server()
    r = server.client()
    r.set("before", "stored")
    wal = max(os.path.getsize(os.path.join(server.dir, "db", name))
              for name in os.listdir(os.path.join(server.dir, "db")) if name.endswith(".log"))
    limit = wal + 256 * 1024
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (limit, limit))
    # A raw socket: redis-py would reconnect silently, and the disconnect is what is tested.
    value = b"x" * (2 * 1024 * 1024)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as writer:
        writer.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$%d\r\n%s\r\n"
                       b"*1\r\n$4\r\nPING\r\n" % (len(value), value))
        received = b""
        while chunk := writer.recv(65536):  # until the server closes the connection
            received += chunk
    assert received == b"-%s\r\n" % errors.STORE_WRITE_FAILED.encode()
    reader = server.client()
    assert reader.get("lost") is None
    assert reader.get("before") == b"stored"
    assert reader.dbsize() == 1
    assert "commit failed" in server.log()
    # The store stays in error (RocksDB refuses every later write), but a shutdown still
    # closes it rather than hanging until it is killed.
    proc = server.proc
    server.stop(timeout=10)
    assert proc.returncode == 0
