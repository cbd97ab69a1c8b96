"""MEMORY (USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP) and OBJECT FREQ / IDLETIME through
real clients, with redis-cli's --memkeys and --hotkeys, and Redis's replies and errors next to
ours where they are deterministic."""

from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path

import pytest
import redis

from ledis.access import LFU_INIT_VAL
from tests.helpers import RedisProcess


def _error(client, *args) -> str:
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


# --- MEMORY USAGE -------------------------------------------------------------------------------


def test_usage_grows_with_the_value(r):
    assert r.memory_usage("nokey") is None
    r.set("small", "x")
    r.set("big", "x" * 1000)
    small, big = r.memory_usage("small"), r.memory_usage("big")
    assert 0 < small < 100
    assert 990 <= big - small <= 1010  # the value lives in the key's metadata record
    r.expire("big", 100)
    assert r.memory_usage("big") > big  # the expiry index record counts too


def test_usage_samples_estimate_collections(r):
    r.hset("h", mapping={f"field:{i:04d}": "v" * 20 for i in range(500)})
    exact = r.memory_usage("h", samples=0)
    sampled = r.memory_usage("h")  # default: 5 samples
    # Uniform fields: the estimate from 5 is the exact size up to rounding.
    assert abs(sampled - exact) <= 0.01 * exact
    assert exact > 500 * (10 + 20)  # at least every field and value
    r.rpush("l", *["e" * 10] * 50)
    r.sadd("s", *[f"m{i}" for i in range(50)])
    r.zadd("z", {f"m{i}": i for i in range(50)})
    r.geoadd("g", [1.0, 2.0, "a", 3.0, 4.0, "b"])
    for key in ("l", "s", "z", "g"):
        assert r.memory_usage(key, samples=0) > 0
    # A sorted set member costs two records (member order and score order).
    r.sadd("s2", "member")
    r.zadd("z2", {"member": 1})
    assert r.memory_usage("z2") > r.memory_usage("s2") + len("member")


def test_usage_errors_like_redis(r, ref):
    for client in (r, ref):
        client.set("a", "b")
    for args in (("MEMORY", "USAGE", "a", "SAMPLES", "x"),
                 ("MEMORY", "USAGE", "a", "SAMPLES", "-1"),
                 ("MEMORY", "USAGE", "a", "SAMPLES"),
                 ("MEMORY", "USAGE", "a", "FOO", "1"),
                 ("MEMORY", "USAGE"),
                 ("MEMORY", "NOPE")):
        assert _error(r, *args) == _error(ref, *args), args
    assert r.execute_command("MEMORY", "USAGE", "nokey", "SAMPLES", "0") is None
    assert ref.execute_command("MEMORY", "USAGE", "nokey", "SAMPLES", "0") is None


# --- STATS / DOCTOR / MALLOC-STATS / PURGE / HELP -------------------------------------------------


def test_stats_fields(server, redis_server):
    ours = server.client(protocol=2)
    theirs = redis_server.client(protocol=2)
    for client in (ours, theirs):
        client.response_callbacks.clear()
        client.flushall()
        client.mset({"k1": "v", "k2": "v"})
    mine = ours.execute_command("MEMORY", "STATS")
    ref = theirs.execute_command("MEMORY", "STATS")
    mine_map = dict(zip(mine[::2], mine[1::2], strict=True))
    ref_names = ref[::2]
    # Every field Redis reports, in Redis's order, then ledis's RocksDB figures.
    assert mine[::2][:len(ref_names)] == ref_names
    assert mine_map[b"keys.count"] == 2
    assert mine_map[b"total.allocated"] > 10_000_000  # a Python process's RSS
    assert mine_map[b"peak.allocated"] >= mine_map[b"total.allocated"]
    assert mine_map[b"rocksdb.block-cache-usage"] >= 0
    # the read cache holds what was just written (k1, k2: their metadata, in one family)
    assert mine_map[b"ledis.read-cache-entries"] >= 2
    ours.get("k1")  # a cache hit adds nothing; a new key read adds its entry
    before = ours.execute_command("MEMORY", "STATS")
    ours.get("never-written")
    after = ours.execute_command("MEMORY", "STATS")
    count = dict(zip(before[::2], before[1::2], strict=True))[b"ledis.read-cache-entries"]
    assert dict(zip(after[::2], after[1::2], strict=True))[b"ledis.read-cache-entries"] > count
    ours.close()
    theirs.close()


def test_stats_resp3_is_a_map(r3):
    r3.response_callbacks.clear()
    r3.set("k", "v")
    stats = r3.execute_command("MEMORY", "STATS")
    assert isinstance(stats, dict) and stats[b"keys.count"] == 1
    assert isinstance(stats[b"dataset.percentage"], float)
    assert stats[b"db.0"] == {b"overhead.hashtable.main": 0, b"overhead.hashtable.expires": 0,
                              b"overhead.hashtable.slot-to-keys": 0}


def test_doctor_malloc_purge_help(r, ref):
    # MEMORY DOCTOR compared with a redis-server of its own: the shared one keeps memory from
    # other tests after FLUSHALL (its doctor then reports on that), which would make the
    # comparison depend on the order the tests ran in.
    fresh = RedisProcess().start()
    try:
        empty = r.execute_command("MEMORY", "DOCTOR")
        assert empty == fresh.client().execute_command("MEMORY", "DOCTOR")  # the same sentence
    finally:
        fresh.cleanup()
    r.set("k", "v")
    text = r.execute_command("MEMORY", "DOCTOR")
    assert text.startswith(b"Hi Sam, I can't find any memory issue") or b"Peak memory" in text
    assert r.execute_command("MEMORY", "MALLOC-STATS") == (
        b"Stats not supported for the current allocator")
    assert r.execute_command("MEMORY", "PURGE") in (b"OK", "OK", True)
    assert r.execute_command("MEMORY", "HELP") == ref.execute_command("MEMORY", "HELP")


def test_redis_cli_memkeys(server):
    client = server.client()
    client.flushall()
    client.set("tiny", "x")
    client.set("bigstring", "x" * 2000)
    client.rpush("biglist", *["element"] * 100)
    client.rpush("smalllist", "a")
    client.hset("bighash", mapping={f"f{i}": "v" * 50 for i in range(40)})
    client.sadd("set", "a", "b")
    client.zadd("zset", {"a": 1})
    out = subprocess.run(["redis-cli", "-p", str(server.port), "--memkeys"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert "Biggest string found '\"bigstring\"'" in out
    assert "Biggest   list found '\"biglist\"'" in out
    assert "Biggest   hash found '\"bighash\"'" in out
    assert "Biggest    set found '\"set\"'" in out
    assert "Biggest   zset found '\"zset\"'" in out
    client.close()


# --- OBJECT FREQ / IDLETIME ---------------------------------------------------------------------


@pytest.fixture
def lfu(server, redis_server):
    """ledis and Redis under allkeys-lfu (restored afterwards: the servers are shared)."""
    clients = [server.client(), redis_server.client()]
    for client in clients:
        client.flushall()
        client.config_set("maxmemory-policy", "allkeys-lfu")
    yield clients
    for client in clients:
        client.config_set("maxmemory-policy", "noeviction")
        client.close()


def test_freq_of_a_key_made_again_starts_over_like_redis(lfu):
    """A removed key's counter goes with it (Redis frees the object): after DEL, expiry or
    FLUSHDB the key made again counts from LFU_INIT_VAL; an overwrite keeps it."""
    for client in lfu:
        client.set("k", "v")
        pipe = client.pipeline(transaction=False)
        for _ in range(300):
            pipe.get("k")
        pipe.execute()
        assert client.object("freq", "k") > LFU_INIT_VAL + 2
    steps = [("DEL", "k"), ("SET", "k", "v"), ("SET", "k", "v2"),
             ("SET", "e", "v", "PX", "50"), ("SET", "e", "v"),  # the second after it expired
             ("SET", "f", "v"), ("GET", "f"), ("FLUSHDB",), ("SET", "f", "v")]
    seen = []
    for step in steps:
        if step == ("SET", "e", "v"):
            time.sleep(0.1)
        for client in lfu:
            client.execute_command(*step)
        seen.append([client.object("freq", step[1]) if len(step) > 1 else None
                     for client in lfu])
    assert all(ours == theirs for ours, theirs in seen), seen
    assert seen[1] == [LFU_INIT_VAL] * 2 and seen[2] == [LFU_INIT_VAL + 1] * 2


def test_freq_and_idletime_policy_errors(r, ref):
    for client in (r, ref):
        client.set("k", "v")
    assert _error(r, "OBJECT", "FREQ", "k") == _error(ref, "OBJECT", "FREQ", "k")
    assert r.object("idletime", "nokey") is None


def test_freq_counts_accesses_like_redis(lfu):
    ours, theirs = lfu
    for client in lfu:
        client.set("k", "v")
    # A new key starts at LFU_INIT_VAL; the first access always increments.
    assert ours.object("freq", "k") == theirs.object("freq", "k") == LFU_INIT_VAL
    for client in lfu:
        client.get("k")
    assert ours.object("freq", "k") == theirs.object("freq", "k") == LFU_INIT_VAL + 1
    # OBJECT FREQ itself is not an access.
    assert ours.object("freq", "k") == LFU_INIT_VAL + 1
    assert ours.object("freq", "nokey") is None
    assert _error(ours, "OBJECT", "IDLETIME", "k") == _error(theirs, "OBJECT", "IDLETIME", "k")
    # Logarithmic: 2000 hits give a counter in Redis's range for lfu-log-factor 10. The
    # increments are random: 2,000 simulated runs of LFULogIncr from 6 ended at 18-34
    # (median 25, 3% above 30), so the bounds leave room on both sides.
    pipe = ours.pipeline(transaction=False)
    for _ in range(2000):
        pipe.get("k")
    pipe.execute()
    assert 12 <= ours.object("freq", "k") <= 45
    # Other keys are unaffected; multi-key commands touch every key.
    ours.mset({"a": 1, "b": 2})
    ours.mget("a", "b")
    assert ours.object("freq", "a") == ours.object("freq", "b") == LFU_INIT_VAL + 1


@pytest.fixture
def lru(r):
    """ledis under allkeys-lru, where keys' accesses are tracked (restored afterwards)."""
    r.config_set("maxmemory-policy", "allkeys-lru")
    yield r
    r.config_set("maxmemory-policy", "noeviction")


def test_idletime_is_not_tracked_under_noeviction(r):
    """The default policy keeps the hot path free of access bookkeeping: an access does not
    reset OBJECT IDLETIME (it counts from when tracking last started)."""
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.config_set("maxmemory-policy", "noeviction")
    r.set("k", "v")
    time.sleep(1.1)
    r.get("k")
    assert r.object("idletime", "k") >= 1


def test_idletime_tracks_last_access(lru):
    r = lru
    r.set("k", "v")
    r.set("other", "v")
    assert r.object("idletime", "k") == 0
    time.sleep(2.1)
    assert r.object("idletime", "k") >= 2
    # Looking at a key is not using it (Redis's LOOKUP_NOTOUCH commands).
    r.type("k")
    r.exists("k")
    r.ttl("k")
    r.memory_usage("k")
    assert r.object("idletime", "k") >= 2
    r.get("k")
    assert r.object("idletime", "k") == 0
    assert r.object("idletime", "other") >= 2
    r.append("other", "x")  # writes are accesses too
    assert r.object("idletime", "other") == 0


def test_redis_cli_hotkeys(server, lfu):
    ours, _ = lfu
    ours.set("cold", "1")
    ours.set("warm", "1")
    ours.set("hot", "1")
    pipe = ours.pipeline(transaction=False)
    for _ in range(300):
        pipe.get("hot")
    for _ in range(3):
        pipe.get("warm")
    pipe.execute()
    out = subprocess.run(["redis-cli", "-p", str(server.port), "--hotkeys"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    lines = [line for line in out.splitlines() if line.startswith("hot key found")]
    assert lines and 'keyname: "hot"' in lines[0], out
    assert any('"cold"' in line for line in lines)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the malloc figures are glibc's")
def test_stats_rocksdb_and_allocator_fields(r):
    """MEMORY STATS breaks RSS down (docs/memory.md): RocksDB's memtables, table readers and
    block cache, Python's allocated blocks and glibc's heap, so a soak can tell a cache filling
    up from a leak."""

    def stats() -> dict:
        return r.memory_stats()

    before = stats()
    for name in ("rocksdb.block-cache-usage", "rocksdb.block-cache-pinned-usage",
                 "rocksdb.memtables", "rocksdb.memtables-all", "rocksdb.table-readers",
                 "rocksdb.sst-files-size", "ledis.read-cache-entries", "ledis.python-blocks",
                 "ledis.malloc-heap", "ledis.malloc-used", "ledis.malloc-free",
                 "ledis.malloc-mmapped", "ledis.malloc-mmap-threshold",
                 "ledis.malloc-trim-threshold"):
        assert isinstance(before[name], int) and before[name] >= 0, name
    # 2 MB of values go to the memtables (they are not flushed at 2 MB)
    r.mset({f"mem:{i}": "x" * 2000 for i in range(1000)})
    after = stats()
    assert after["rocksdb.memtables"] >= before["rocksdb.memtables"] + 1_000_000
    assert after["rocksdb.memtables-all"] >= after["rocksdb.memtables"]
    # glibc's heap holds at least what it says is in use; Python's objects are counted
    assert after["ledis.malloc-heap"] >= after["ledis.malloc-used"] > 0
    assert after["ledis.python-blocks"] > 10_000
    # the pinned part of the block cache is part of its usage
    assert after["rocksdb.block-cache-usage"] >= after["rocksdb.block-cache-pinned-usage"]
    assert r.execute_command("MEMORY", "PURGE") in (b"OK", "OK", True)


def test_memory_options_reach_rocksdb(fresh_server, tmp_path):
    """``write_buffer_mb`` sizes RocksDB's memtables and their shared budget (twice it), as
    RocksDB's own OPTIONS file records; ``malloc_trim_s`` is taken and
    ``malloc_mmap_threshold_kb`` pinned in glibc (MEMORY STATS says so) (docs/memory.md)."""
    config = tmp_path / "ledis.yaml"
    config.write_text("storage:\n  write_buffer_mb: 2\n  malloc_trim_s: 1\n"
                      "  malloc_mmap_threshold_kb: 256\n")
    server = fresh_server(config=str(config))
    client = server.client()
    client.set("k", "v")
    time.sleep(1.2)  # a trim ran in the cron's thread; the server serves on
    assert client.get("k") == b"v"
    options = sorted(Path(server.dir, "db").glob("OPTIONS-*"))[-1].read_text()
    assert "  write_buffer_size=2097152\n" in options
    assert "  db_write_buffer_size=4194304\n" in options
    if platform.libc_ver()[0] == "glibc":
        stats = client.memory_stats()
        assert stats["ledis.malloc-mmap-threshold"] == 256 * 1024
        assert stats["ledis.malloc-trim-threshold"] == 128 * 1024
    client.close()
