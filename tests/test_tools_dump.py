"""`ledis dump` / `ledis load`: round trips offline and online, the RESP stream into a real
redis-server (redis-cli --pipe) and back, and damaged dump files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import redis

from tests.helpers import ROOT, have_redis_server

LUA = b"return 'dumped script'"


def ledis_cli(*args: str, input: bytes | None = None, check: bool = True):
    proc = subprocess.run([sys.executable, "-m", "ledis", *args], cwd=str(ROOT),
                          capture_output=True, input=input, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"ledis {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout.decode()}\n{proc.stderr.decode()}")
    return proc


def populate(client: redis.Redis, scripts: bool = True) -> None:
    """A dataset with every type, TTLs, binary keys, big collections, several dbs."""
    c = client
    c.set(b"str", b"hello")
    c.set(b"empty", b"")
    c.set(b"bin\x00\xff\r\nkey", bytes(range(256)))
    c.set(b"ttl:str", b"v", px=500_000)
    c.hset(b"hash", mapping={b"f1": b"v1", b"f\x00": b"\xff", b"num": b"12"})
    c.hset(b"bighash", mapping={b"field:%d" % i: b"value:%d" % i for i in range(2500)})
    c.rpush(b"list", b"a", b"b", b"a", b"\x00", b"")
    c.rpush(b"biglist", *[b"item:%d" % i for i in range(2300)])
    c.sadd(b"set", b"x", b"y", b"\x00z")
    c.sadd(b"bigset", *[b"m%d" % i for i in range(1500)])
    c.zadd(b"zset", {b"a": 1.5, b"b": -2, b"inf": float("inf"), b"ninf": float("-inf"),
                     b"tiny": 1e-300, b"big": 1.7976931348623157e308, b"third": 1 / 3})
    c.zadd(b"bigzset", {b"z%d" % i: i * 0.25 for i in range(1200)})
    c.expire(b"hash", 1000)
    c.pexpire(b"biglist", 900_000)
    c.set(b"gone", b"x", px=1)
    db3 = redis.Redis(port=c.connection_pool.connection_kwargs["port"], db=3)
    db3.set(b"in-db3", b"3")
    db3.sadd(b"set-db3", b"q")
    db3.close()
    if scripts:
        c.script_load(LUA)
    time.sleep(0.01)


def snapshot(port: int, dbs=(0, 3)) -> dict:
    """(db, key) -> (type, value, has_ttl) read through commands."""
    out = {}
    for db in dbs:
        c = redis.Redis(port=port, db=db, protocol=2)
        for key in c.scan_iter(count=1000):
            kind = c.type(key)
            if kind == b"string":
                value = c.get(key)
            elif kind == b"hash":
                value = c.hgetall(key)
            elif kind == b"list":
                value = c.lrange(key, 0, -1)
            elif kind == b"set":
                value = c.smembers(key)
            elif kind == b"zset":
                value = c.zrange(key, 0, -1, withscores=True)
            else:
                raise AssertionError(kind)
            pttl = c.pttl(key)
            out[(db, key)] = (kind, value, pttl > 0)
            if pttl > 0:
                assert pttl > 400_000 or key == b"hash"  # the absolute expiry survived
        c.close()
    return out


@pytest.fixture
def tmp(tmp_path):
    return tmp_path


def test_dump_load_online_round_trip(fresh_server, tmp):
    src = fresh_server()
    populate(src.client())
    before = snapshot(src.port)
    assert (0, b"gone") not in before and len(before) == 14
    out = str(tmp / "dump.ldmp")
    proc = ledis_cli("dump", "--port", str(src.port), "-o", out)
    assert b"dumped 14 keys" in proc.stderr
    dst = fresh_server()
    proc = ledis_cli("load", "--port", str(dst.port), out)
    assert b"loaded 14 keys" in proc.stderr, proc.stderr
    assert snapshot(dst.port) == before


def test_dump_load_offline_round_trip(fresh_server, tmp):
    src = fresh_server()
    populate(src.client())
    before = snapshot(src.port)
    data_dir = os.path.join(src.dir, "db")
    # The running server holds the store: an offline dump is refused, clearly.
    proc = ledis_cli("dump", "--dir", data_dir, "-o", str(tmp / "x"), check=False)
    assert proc.returncode != 0 and b"locked by a running server" in proc.stderr
    assert not os.path.exists(tmp / "x")
    src.stop()
    out = str(tmp / "dump.ldmp")
    ledis_cli("dump", "--dir", data_dir, "-o", out)
    new_dir = tempfile.mkdtemp(prefix="ledis-load-")
    try:
        proc = ledis_cli("load", "--dir", os.path.join(new_dir, "db"), out)
        assert b"loaded 14 keys" in proc.stderr
        dst = fresh_server(data_dir=new_dir)
        assert snapshot(dst.port) == before
        # the script cache came along
        assert dst.client().evalsha(__import__("hashlib").sha1(LUA).hexdigest(), 0) == \
            b"dumped script"
        assert dst.client().dbsize() == 12
    finally:
        shutil.rmtree(new_dir, ignore_errors=True)


def test_dump_uncompressed_and_stdout(fresh_server, tmp):
    src = fresh_server()
    populate(src.client(), scripts=False)
    raw = ledis_cli("dump", "--port", str(src.port), "-o", "-", "--codec", "none").stdout
    packed = ledis_cli("dump", "--port", str(src.port), "-o", "-").stdout
    assert raw[:8] == packed[:8] == b"LEDISDMP"
    assert len(packed) < len(raw) / 2  # zlib does compress
    dst = fresh_server()
    ledis_cli("load", "--port", str(dst.port), "-", input=raw)
    assert snapshot(dst.port) == snapshot(src.port)


def test_corrupt_and_truncated_dumps_are_refused(fresh_server, tmp):
    src = fresh_server()
    populate(src.client(), scripts=False)
    out = tmp / "dump.ldmp"
    ledis_cli("dump", "--port", str(src.port), "-o", str(out))
    data = out.read_bytes()
    dst = fresh_server()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    (tmp / "bad").write_bytes(bytes(flipped))
    proc = ledis_cli("load", "--port", str(dst.port), str(tmp / "bad"), check=False)
    assert proc.returncode == 1 and b"checksum mismatch" in proc.stderr
    (tmp / "short").write_bytes(data[:-20])
    proc = ledis_cli("load", "--port", str(dst.port), str(tmp / "short"), check=False)
    assert proc.returncode == 1 and b"truncated" in proc.stderr
    (tmp / "junk").write_bytes(b"REDIS0009" + data[9:])
    proc = ledis_cli("load", "--port", str(dst.port), str(tmp / "junk"), check=False)
    assert proc.returncode == 1 and b"not a ledis dump" in proc.stderr


@pytest.mark.skipif(not have_redis_server() or not shutil.which("redis-cli"),
                    reason="redis-server / redis-cli not installed")
def test_resp_stream_into_real_redis_and_back(fresh_server, redis_server, ref, tmp):
    src = fresh_server()
    populate(src.client(), scripts=False)
    ref.select(3)
    ref.flushdb()
    ref.select(0)
    before = snapshot(src.port)
    out = tmp / "dump.resp"
    ledis_cli("dump", "--port", str(src.port), "--resp", "-o", str(out))
    proc = subprocess.run(["redis-cli", "-p", str(redis_server.port), "--pipe"],
                          input=out.read_bytes(), capture_output=True, timeout=60)
    assert proc.returncode == 0 and b"errors: 0" in proc.stdout, proc.stdout
    assert snapshot(redis_server.port) == before
    # ... and back: the same stream loaded into a fresh ledis with `ledis load --resp`
    dst = fresh_server()
    proc = ledis_cli("load", "--resp", "--port", str(dst.port), str(out))
    assert snapshot(dst.port) == before
    # ... and into a data dir
    new_dir = tempfile.mkdtemp(prefix="ledis-load-")
    try:
        ledis_cli("load", "--resp", "--dir", os.path.join(new_dir, "db"), str(out))
        third = fresh_server(data_dir=new_dir)
        assert snapshot(third.port) == before
    finally:
        shutil.rmtree(new_dir, ignore_errors=True)


def test_online_dump_while_writes_continue(fresh_server, tmp):
    """Keys written during the dump may or may not be in it, but every dumped key is whole:
    each writer key is a list that only ever grows by whole batches of 10."""
    src = fresh_server()
    c = src.client()
    for i in range(2000):
        c.set(b"k%d" % i, b"v%d" % i)
    stop = threading.Event()

    def writer():
        w = src.client()
        n = 0
        while not stop.is_set():
            w.rpush(b"grow%d" % (n % 50), *[b"x"] * 10)
            w.set(b"k%d" % (n % 2000), b"changed%d" % n)
            n += 1
        w.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        out = str(tmp / "dump.ldmp")
        ledis_cli("dump", "--port", str(src.port), "-o", out)
    finally:
        stop.set()
        thread.join()
    dst = fresh_server()
    ledis_cli("load", "--port", str(dst.port), out)
    d = dst.client()
    assert sum(1 for k in d.scan_iter(match="k*", count=1000)) == 2000
    for key in d.scan_iter(match="grow*"):
        assert d.llen(key) % 10 == 0


LIBRARY = b"#!lua name=dumplib\nredis.register_function('dumped', function() return 'fn ok' end)"


def test_functions_survive_dump_and_load(fresh_server, tmp):
    src = fresh_server()
    c = src.client()
    c.function_load(LIBRARY.decode())
    c.set(b"k", b"v")
    online = str(tmp / "online.ldmp")
    ledis_cli("dump", "--port", str(src.port), "-o", online)
    src.stop()
    offline = str(tmp / "offline.ldmp")
    ledis_cli("dump", "--dir", os.path.join(src.dir, "db"), "-o", offline)
    for path in (online, offline):
        dst = fresh_server()
        ledis_cli("load", "--port", str(dst.port), path)
        assert dst.client().fcall("dumped", 0) == b"fn ok"
        assert dst.client().get(b"k") == b"v"
        dst.cleanup()
    new_dir = tempfile.mkdtemp(prefix="ledis-load-")
    try:
        ledis_cli("load", "--dir", os.path.join(new_dir, "db"), offline)
        dst = fresh_server(data_dir=new_dir)
        assert dst.client().fcall("dumped", 0) == b"fn ok"
    finally:
        shutil.rmtree(new_dir, ignore_errors=True)


def test_online_snapshot_dump_is_point_in_time(fresh_server, tmp):
    """--snapshot fetches a full sync: keys written together (MULTI) are dumped together,
    while the writer keeps running."""
    src = fresh_server()
    c = src.client()
    populate(c)
    before = snapshot(src.port)
    stop = threading.Event()
    rounds = []

    def writer():
        w = src.client()
        n = 0
        while not stop.is_set():
            pipe = w.pipeline(transaction=True)
            pipe.set(b"pair:a", n)
            pipe.set(b"pair:b", n)
            pipe.rpush(b"pair:list", n)
            pipe.execute()
            n += 1
        rounds.append(n)
        w.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.2)
        out = str(tmp / "snap.ldmp")
        proc = ledis_cli("dump", "--port", str(src.port), "--snapshot", "-o", out)
    finally:
        stop.set()
        thread.join()
    assert b"dumped 17 keys" in proc.stderr, proc.stderr
    assert not [n for n in os.listdir(tmp) if n.startswith("ledis-snapshot-")]
    dst = fresh_server()
    ledis_cli("load", "--port", str(dst.port), out)
    d = dst.client()
    a, b = int(d.get(b"pair:a")), int(d.get(b"pair:b"))
    assert a == b and d.llen(b"pair:list") == a + 1 and a < rounds[0]
    after = snapshot(dst.port)
    assert {k: v for k, v in after.items() if not k[1].startswith(b"pair:")} == before
    # the script cache came along (a snapshot holds the sys records)
    import hashlib

    assert d.evalsha(hashlib.sha1(LUA).hexdigest(), 0) == b"dumped script"


def test_progress_bar_on_a_tty_only(fresh_server, tmp):
    import fcntl
    import pty
    import struct
    import termios

    src = fresh_server()
    c = src.client()
    c.mset({b"k%d" % i: b"v" for i in range(3000)})
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    try:
        proc = subprocess.run([sys.executable, "-m", "ledis", "dump", "--port", str(src.port),
                               "-o", str(tmp / "d")], cwd=str(ROOT), stderr=slave,
                              stdout=subprocess.DEVNULL, timeout=60)
        assert proc.returncode == 0
        os.close(slave)
        slave = -1
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert b"100%" in seen and b"3.00k/3.00k" in seen and b"key/s" in seen  # keys, rate
    assert b"dumped 3000 keys" in seen
    # not a TTY: the summary line only
    quiet = ledis_cli("dump", "--port", str(src.port), "-o", str(tmp / "e")).stderr
    assert b"key/s" not in quiet and quiet.startswith(b"dumped 3000 keys")


def test_load_reports_failed_commands(fresh_server, tmp):
    from ledis.resp import pack_request as resp_command

    stream = b"".join(resp_command(argv) for argv in (
        [b"SET", b"a", b"1"], [b"SET", b"only-key"], [b"NOSUCHCMD", b"x"],
        [b"RPUSH", b"l", b"x"], [b"SELECT", b"2"], [b"SET", b"in2", b"y"]))
    (tmp / "s.resp").write_bytes(stream + b"*2\r\n$3\r\nGET")  # a partial command at the end
    dst = fresh_server()
    proc = ledis_cli("load", "--resp", "--port", str(dst.port), str(tmp / "s.resp"),
                     check=False)
    assert proc.returncode == 1
    assert b"truncated RESP stream" in proc.stderr
    assert dst.client().lrange(b"l", 0, -1) == [b"x"]  # what came before the cut is loaded
    dst.client().flushall()
    (tmp / "s.resp").write_bytes(stream)
    proc = ledis_cli("load", "--resp", "--port", str(dst.port), str(tmp / "s.resp"),
                     check=False)
    assert proc.returncode == 1 and b"2 errors" in proc.stderr, proc.stderr
    assert b"wrong number of arguments" in proc.stderr and b"unknown command" in proc.stderr
    c = dst.client()
    assert c.get(b"a") == b"1" and c.lrange(b"l", 0, -1) == [b"x"]
    assert redis.Redis(port=dst.port, db=2).get(b"in2") == b"y"


def test_offline_dump_follows_swapdb(fresh_server, tmp):
    src = fresh_server()
    c = src.client()
    c.set(b"was-in-0", b"0")
    redis.Redis(port=src.port, db=3).hset(b"was-in-3", b"f", b"3")
    c.swapdb(0, 3)
    src.stop()
    out = str(tmp / "d.ldmp")
    ledis_cli("dump", "--dir", os.path.join(src.dir, "db"), "-o", out)
    dst = fresh_server()
    ledis_cli("load", "--port", str(dst.port), out)
    assert dst.client().hget(b"was-in-3", b"f") == b"3"
    assert redis.Redis(port=dst.port, db=3).get(b"was-in-0") == b"0"
    assert dst.client().dbsize() == 1
