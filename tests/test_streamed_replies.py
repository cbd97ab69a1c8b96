"""Streamed replies (issue #19): long replies go out in chunks, one per loop iteration.

KEYS, SCAN with a huge COUNT, HGETALL / HKEYS / HVALS, SMEMBERS, LRANGE, ZRANGE by rank, score or
lex, and XRANGE / XREVRANGE of more than ``reply_chunk_entries`` entries (1024 by default) are
sent in chunks over a walk pinned when the command ran (ledis/commands/streaming.py). Checked
here: the replies equal redis-server's in RESP2 and RESP3 (20k entries: ~20 chunks at the
default size, ~200 at the lowered one of the private servers), writes by other clients while a
reply is being sent do not show in it, pipelined commands after it keep their order, MULTI/EXEC
and Lua still see the plain (atomic, synchronous) reply, and CLIENT KILL / CLIENT REPLY OFF in
the middle of one behave. The stall bound itself is measured by tests/test_stall.py (slow).
"""

from __future__ import annotations

import select
import socket

import hiredis
import pytest

from tests.diff import pairs, unordered

N = 20_000
CHUNK = 100  # the private servers' reply_chunk_entries: many chunks per reply


def _fill(client, n: int = N, value: bytes = b"v") -> None:
    pipe = client.pipeline(transaction=False)
    for first in range(0, n, 1000):
        ids = range(first, min(first + 1000, n))
        pipe.hset("h", mapping={b"f%d" % i: value + b"%d" % i for i in ids})
        pipe.sadd("s", *[b"m%d" % i for i in ids])
        pipe.rpush("l", *[b"e%d" % i for i in ids])
        pipe.zadd("z", {b"z%d" % i: (i % 977) / 4 - 100 for i in ids})
        pipe.mset({b"k%d" % i: b"x" for i in ids})
    pipe.execute()


def _scan_keys(value):
    cursor, keys = value
    return cursor, sorted(keys)


@pytest.mark.parametrize("command", [
    ("HGETALL", "h"), ("HKEYS", "h"), ("HVALS", "h"), ("SMEMBERS", "s"),
    ("LRANGE", "l", 0, -1), ("LRANGE", "l", 7, -9), ("LRANGE", "l", -15000, 19990),
    ("ZRANGE", "z", 0, -1), ("ZRANGE", "z", 3, -1500), ("ZREVRANGE", "z", 1200, -1),
    ("ZRANGE", "z", 0, -1, "REV"), ("ZRANGE", "z", 0, -1, "WITHSCORES"),
    ("ZREVRANGE", "z", 5000, -3, "WITHSCORES"), ("ZRANGESTORE", "dst", "z", 0, -1),
    ("KEYS", "*"), ("KEYS", "k1*"), ("KEYS", "*9"), ("SCAN", 0, "COUNT", 1_000_000),
    # by score (z's scores lie in [-100, 144.25), each shared by ~20 members)
    ("ZRANGEBYSCORE", "z", "-inf", "+inf"), ("ZRANGEBYSCORE", "z", "(-90", 50, "WITHSCORES"),
    ("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", 1500, 5000),
    ("ZRANGE", "z", -50, "(80", "BYSCORE", "LIMIT", 3000, -1),
    ("ZRANGE", "z", "(120", -99, "BYSCORE", "REV", "WITHSCORES"),
])
def test_streamed_reply_matches_redis(pair23, command):
    pair23.raw()
    for client in pair23:
        _fill(client)
    norm = None
    if command[0] in ("HGETALL",):
        norm = pairs
    elif command[0] in ("HKEYS", "HVALS", "SMEMBERS", "KEYS"):
        norm = unordered
    elif command[0] == "SCAN":
        norm = _scan_keys
    got = pair23.same(*command, norm=norm)
    if command[0] == "ZRANGESTORE":
        return
    assert len(got[1][1] if command[0] == "SCAN" else got[1]) > 1000  # really a long reply


def _fill_words(client) -> None:
    """A one-score zset (what lex ranges are for) of N members."""
    for first in range(0, N, 2000):
        client.zadd("w", {b"w%05d" % i: 0 for i in range(first, first + 2000)})


def _fill_stream(client, n: int = N) -> None:
    """Entries with explicit IDs (``<i>-1``, some with two fields), the same on both servers."""
    pipe = client.pipeline(transaction=False)
    for i in range(1, n + 1):
        fields = {"f": i} if i % 3 else {"f": i, "g": "x" * (i % 7)}
        pipe.xadd("x", fields, id=f"{i}-1")
        if i % 2000 == 0:
            pipe.execute()
    pipe.execute()


# key -> what fills it (``missing``: nothing)
_RANGE_FILLS = {"z": _fill, "w": _fill_words, "x": _fill_stream, "missing": lambda client: None}


@pytest.mark.parametrize("command", [
    # by score, of an indexed zset: the count from two ranks (z's scores lie in [-100, 144.25))
    ("ZRANGEBYSCORE", "z", -100, -99.5), ("ZRANGEBYSCORE", "z", 10, 10, "WITHSCORES"),
    ("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 10, 1024),
    ("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 10, 1025),
    ("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", 19_000, 10),
    ("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 19_000, -1),
    ("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 25_000, -1),
    ("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 10, 0),
    ("ZRANGEBYSCORE", "z", 50, 40), ("ZRANGEBYSCORE", "missing", 0, 1),
    # by lex, of a one-score zset: the chunks held to the end of the walk
    ("ZRANGEBYLEX", "w", "-", "+"), ("ZREVRANGEBYLEX", "w", "+", "-"),
    ("ZRANGEBYLEX", "w", "[w05", "(w15"), ("ZRANGE", "w", "(w1", "[w0", "BYLEX", "REV"),
    ("ZRANGEBYLEX", "w", "-", "+", "LIMIT", 300, 5000),
    ("ZRANGEBYLEX", "w", "-", "+", "LIMIT", 10, 1024),
    ("ZRANGEBYLEX", "w", "-", "+", "LIMIT", 10, 1025), ("ZRANGEBYLEX", "w", "[w1999", "+"),
    ("ZRANGEBYLEX", "w", "-", "+", "LIMIT", 19_500, -1), ("ZRANGEBYLEX", "w", "[x", "+"),
    # stream ranges: the count is XLEN's for - +, else known at the end
    ("XRANGE", "x", "-", "+"), ("XREVRANGE", "x", "+", "-"),
    ("XRANGE", "x", 100, "15000-0"), ("XREVRANGE", "x", "(19000-1", "(300-1"),
    ("XRANGE", "x", "-", "+", "COUNT", 5000), ("XREVRANGE", "x", "+", "-", "COUNT", 1025),
    ("XRANGE", "x", "-", "+", "COUNT", 1024), ("XRANGE", "x", 500, 1524),
    ("XRANGE", "x", 500, 1525), ("XRANGE", "x", 3, 9), ("XRANGE", "x", 9, 3),
    ("XRANGE", "x", "19990-0", "+", "COUNT", 5000),
])
def test_ranges_of_any_length_match_redis(pair23, command):
    """Score, lex and stream ranges: short ones come whole, long ones in chunks (the default
    1,024 entries each); the same replies as redis-server either way, including at the
    chunk's edge and past the end."""
    pair23.raw()
    for client in pair23:
        _RANGE_FILLS[command[1]](client)
    pair23.same(*command)


def test_long_score_ranges_are_streamed_and_pinned(fresh_server):
    server = fresh_server("--reply-chunk-entries", str(CHUNK))
    c = server.client(protocol=2)
    _fill(c, 5000)
    # 40k more members in the long range: its reply takes ~440 chunks (loop iterations), so
    # the two writes below land while it streams even on a loaded machine (~4,100 entries
    # left a window of ~40, which a starved client missed once: ZCARD came back 5001).
    c.zadd("z", {b"y%d" % i: (i % 600) / 4 - 50 for i in range(40_000)})
    before = c.zrangebyscore("z", -50, 100, withscores=True)
    streamed = c.info("stats")["streamed_replies"]
    assert c.zrangebyscore("z", -50, 100, withscores=True) == before
    assert c.zrangebyscore("z", -100, -99) == [m for m, s in c.zrange("z", 0, 99, withscores=True)
                                               if s <= -99]
    assert c.info("stats")["streamed_replies"] == streamed + 1  # the long one only
    reader = Raw(server.port)
    reader_id = reader.client_id()
    reader.send(("ZRANGEBYSCORE", "z", -50, 100, "WITHSCORES"), ("ZCARD", "z"))
    _wait_running(c, reader_id, "zrangebyscore")
    c.zadd("z", {"late": 0, "z10": 200})
    c.zrem("z", "z11", "z4999")
    got = reader.read()
    assert [(m, float(s)) for m, s in zip(got[::2], got[1::2], strict=True)] == before
    assert reader.read() == 44_999  # ZCARD ran after the writes: +1 -2 (z10 moved)
    reader.close()


def test_long_lex_ranges_are_streamed(fresh_server):
    server = fresh_server("--reply-chunk-entries", str(CHUNK))
    c = server.client(protocol=2)
    c.zadd("w", {b"w%05d" % i: 0 for i in range(3000)})
    streamed = c.info("stats")["streamed_replies"]
    assert c.zrangebylex("w", "[w00100", "(w02900") == [b"w%05d" % i for i in range(100, 2900)]
    assert c.zrangebylex("w", "[w00100", "(w00150") == [b"w%05d" % i for i in range(100, 150)]
    assert c.zrevrangebylex("w", "+", "-", 2950, 100) == [b"w%05d" % i for i in range(49, -1, -1)]
    assert c.info("stats")["streamed_replies"] == streamed + 1  # the long one only


def test_long_stream_ranges_are_streamed_and_pinned(fresh_server):
    server = fresh_server("--reply-chunk-entries", str(CHUNK))
    c = server.client(protocol=2)
    # 300 chunks (~1 MB): more than the socket buffers hold for a reader that does not read,
    # so the stream is still going when the writes below land (with 3,000 entries, 30
    # chunks, a CI run saw it end, and XLEN run, before the first CLIENT LIST)
    _fill_stream(c, 30_000)
    before = c.xrange("x", "-", "+")
    streamed = c.info("stats")["streamed_replies"]
    assert c.xrange("x", 200, 2500) == before[199:2500]
    assert c.xrange("x", 200, 250) == before[199:250]
    assert c.info("stats")["streamed_replies"] == streamed + 1  # the long one only
    reader = Raw(server.port)
    reader_id = reader.client_id()
    reader.send(("XRANGE", "x", "-", "+"), ("XLEN", "x"))
    _wait_running(c, reader_id, "xrange")
    c.xadd("x", {"late": 1}, id="50000-1")
    c.xdel("x", "1-1", "2999-1")
    # still streaming: the writes landed while it was sent, and XLEN waits behind it
    assert [i["cmd"] for i in c.client_list() if i["id"] == str(reader_id)] == ["xrange"]
    got = reader.read()
    assert [(i, dict(zip(f[::2], f[1::2], strict=True))) for i, f in got] == before
    assert reader.read() == 29_999  # XLEN ran after the writes: +1 -2
    reader.close()


def test_scan_with_a_big_count_hands_back_a_cursor(fresh_server):
    server = fresh_server("--reply-chunk-entries", str(CHUNK))
    c = server.client(protocol=2)
    _fill(c, 5000)
    seen = []
    cursor, keys = c.scan(0, count=3000)  # streamed: more than CHUNK keys examined
    seen += keys
    assert cursor != 0
    while cursor:
        cursor, keys = c.scan(cursor, count=3000)
        seen += keys
    assert sorted(seen) == sorted([b"k%d" % i for i in range(5000)] + [b"h", b"s", b"l", b"z"])


class Raw:
    """A RESP2 socket client that reads on demand (to leave a reply unread)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.reader = hiredis.Reader()

    def send(self, *commands: tuple) -> None:
        out = b""
        for argv in commands:
            parts = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
            out += b"*%d\r\n" % len(parts) + b"".join(
                b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        self.sock.sendall(out)

    def read(self):
        while True:
            reply = self.reader.gets()
            if reply is not False:
                return reply
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("closed")
            self.reader.feed(data)

    def client_id(self) -> int:
        self.send(("CLIENT", "ID"))
        return self.read()

    def readable(self) -> bool:
        return bool(select.select([self.sock], [], [], 0)[0])

    def close(self) -> None:
        self.sock.close()


def _wait_running(client, client_id: int, name: str) -> None:
    """Until the server has dispatched ``name`` for the client ``client_id`` (CLIENT LIST's
    ``cmd=``): two connections' requests have no order of their own."""
    for _ in range(1000):
        for info in client.client_list():
            if info["id"] == str(client_id) and info["cmd"] == name:
                return
    raise AssertionError(f"{name} never ran")


def test_writes_during_a_streamed_reply_do_not_show_in_it(fresh_server):
    server = fresh_server("--reply-chunk-entries", str(CHUNK))
    c = server.client(protocol=2)
    _fill(c, value=b"x" * 400)  # ~8 MB of HGETALL: more than the socket buffers hold
    before = c.hgetall("h")
    keys_before = sorted(c.keys("*"))
    reader = Raw(server.port)
    reader_id = reader.client_id()
    reader.send(("HGETALL", "h"), ("KEYS", "*"))
    # while the reply is unread (the stream waits for the client) another client writes
    _wait_running(c, reader_id, "hgetall")
    c.hset("h", mapping={"f1": "changed", "new": "field"})
    c.hdel("h", "f2", "f19999")
    c.delete("k5")
    c.set("brand-new", "key")
    c.execute_command("UNLINK", "s")
    after = c.hgetall("h")
    assert after[b"f1"] == b"changed" and b"f2" not in after  # the writes were done
    got = reader.read()
    assert dict(zip(got[::2], got[1::2], strict=True)) == before
    # KEYS was pinned when it ran: after the HGETALL, so after the writes
    keys = reader.read()
    assert sorted(keys) == sorted(set(keys_before) - {b"k5", b"s"} | {b"brand-new"})
    reader.close()


def test_keys_is_pinned_at_its_start(fresh_server):
    server = fresh_server("--reply-chunk-entries", "50")
    c = server.client(protocol=2)
    c.mset({b"k%d" % i: b"x" for i in range(50_000)})
    reader = Raw(server.port)
    reader_id = reader.client_id()
    reader.send(("KEYS", "*"))
    _wait_running(c, reader_id, "keys")  # served between two chunks of the walk (1,000)
    for i in range(10):
        c.delete(f"k{i}")
        c.set(f"late{i}", "x")
    assert not reader.readable()  # KEYS still walking (its chunks are held to the end)
    keys = reader.read()
    assert sorted(keys) == sorted(b"k%d" % i for i in range(50_000))
    reader.close()


def test_pipelined_commands_after_a_streamed_reply_keep_their_order(fresh_server):
    server = fresh_server("--reply-chunk-entries", str(CHUNK))
    c = server.client(protocol=2)
    _fill(c, 5000)
    raw = Raw(server.port)
    raw.send(("HGETALL", "h"), ("SET", "x", "1"), ("KEYS", "k49*"), ("GET", "x"),
             ("LRANGE", "l", 0, -1), ("INCR", "x"), ("SMEMBERS", "s"), ("PING",))
    assert len(raw.read()) == 10_000
    assert raw.read() == b"OK"
    assert sorted(raw.read()) == sorted(b"k%d" % i for i in range(5000)
                                        if (b"%d" % i).startswith(b"49"))
    assert raw.read() == b"1"
    assert raw.read() == [b"e%d" % i for i in range(5000)]
    assert raw.read() == 2
    assert len(raw.read()) == 5000
    assert raw.read() == b"PONG"
    raw.close()


def test_multi_and_lua_get_the_whole_reply_at_once(fresh_server):
    server = fresh_server("--reply-chunk-entries", str(CHUNK))
    c = server.client(protocol=2)
    _fill(c, 3000)
    pipe = c.pipeline(transaction=True)
    pipe.hgetall("h")
    pipe.hset("h", "added", "1")
    pipe.hlen("h")
    pipe.keys("*")
    got, _, length, keys = pipe.execute()
    assert len(got) == 3000 and length == 3001 and len(keys) == 3004
    script = "local a = redis.call('hgetall', KEYS[1]) redis.call('hdel', KEYS[1], 'added') " \
             "return {#a, #redis.call('keys', '*'), #redis.call('zrange', KEYS[2], 0, -1)}"
    assert c.eval(script, 2, "h", "z") == [6002, 3004, 3000]
    c.execute_command("FUNCTION", "LOAD",
                      "#!lua name=big\nredis.register_function('big', function(keys) "
                      "return #redis.call('smembers', keys[1]) end)")
    assert c.execute_command("FCALL", "big", 1, "s") == 3000


def test_client_kill_during_a_streamed_reply(fresh_server):
    server = fresh_server("--reply-chunk-entries", str(CHUNK))
    c = server.client(protocol=2)
    _fill(c, value=b"y" * 400)
    victim = Raw(server.port)
    victim_id = victim.client_id()
    victim.send(("HGETALL", "h"), ("PING",))  # never read: the stream waits on the client
    _wait_running(c, victim_id, "hgetall")
    assert c.client_kill_filter(_id=victim_id) == 1
    assert c.ping() and c.hlen("h") == N
    with pytest.raises(ConnectionError):
        while True:  # what was sent before the kill, then the end of the connection
            victim.read()
    victim.close()
    assert all(client["id"] != str(victim_id) for client in c.client_list())


def test_client_reply_off_drops_a_streamed_reply(fresh_server):
    server = fresh_server("--reply-chunk-entries", str(CHUNK))
    c = server.client(protocol=2)
    _fill(c, 3000)
    raw = Raw(server.port)
    raw.send(("CLIENT", "REPLY", "SKIP"), ("HGETALL", "h"), ("KEYS", "*"),
             ("CLIENT", "REPLY", "OFF"), ("SMEMBERS", "s"), ("CLIENT", "REPLY", "ON"),
             ("PING",))
    assert len(raw.read()) == 3004
    assert raw.read() == b"OK"
    assert raw.read() == b"PONG"
    raw.close()


def test_memory_backend_builds_long_replies_at_once(fresh_server):
    server = fresh_server("--backend", "memory", "--reply-chunk-entries", str(CHUNK))
    c = server.client(protocol=3)
    _fill(c, 3000)
    assert len(c.hgetall("h")) == 3000 and len(c.keys("*")) == 3004
    assert c.lrange("l", 0, -1) == [b"e%d" % i for i in range(3000)]
