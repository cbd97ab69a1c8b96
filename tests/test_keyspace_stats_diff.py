"""INFO's ``keyspace_hits`` / ``keyspace_misses`` and the ``keymiss`` event (class ``m``),
compared with redis-server 7.0 command by command.

Redis counts its *read* lookups (``lookupKeyRead``): a key found is a hit (WRONGTYPE comes
after, so it counts too), a missing or expired key a miss, which publishes ``keymiss``. Writes'
lookups count nothing; some writes start with a read (SET ... GET, GETDEL, GETEX, PFMERGE's
inputs, COPY's source); OBJECT counts without publishing, MEMORY USAGE not at all; SORT's BY / GET
patterns look every element's key up; SCAN ... TYPE looks every key it checks up; XREAD looks
each stream up twice. The grammar walks (``tests/fuzz/test_grammar_diff.py``) compare the same
counters and events over random commands; this file pins the cases down one by one. Also
INFO's ``total_reads_processed`` / ``total_writes_processed`` (socket reads and reply writes).
"""

from __future__ import annotations

import re
import time

import pytest

from tests.rawresp import RawClient

SETUP = [("SET", "s", "hello"), ("RPUSH", "l", "a", "b", "c"), ("HSET", "h", "f", "v"),
         ("SADD", "st", "m1", "m2"), ("ZADD", "z", "1", "a", "2", "b"),
         ("XADD", "x", "1-1", "f", "v"), ("XGROUP", "CREATE", "x", "g", "0"),
         ("PFADD", "hll", "a"), ("SET", "gone", "1", "PX", "1")]

COMMANDS = [
    ("GET", "s"), ("GET", "nope"), ("GET", "l"), ("GET", "gone"), ("MGET", "s", "nope", "l"),
    ("SET", "s", "x"), ("SET", "s", "y", "GET"), ("SET", "n2", "v", "NX", "GET"),
    ("SETNX", "s", "v"), ("INCR", "cnt"), ("APPEND", "s", "z"), ("GETDEL", "nope"),
    ("GETEX", "s", "PERSIST"), ("GETSET", "n3", "v"), ("STRLEN", "l"), ("LCS", "s", "nope"),
    ("EXISTS", "s", "nope", "gone", "s"), ("TOUCH", "s", "nope"), ("TYPE", "gone"),
    ("TTL", "nope"), ("PTTL", "s"), ("EXPIRETIME", "l"), ("EXPIRE", "nope", "10"),
    ("OBJECT", "ENCODING", "nope"), ("OBJECT", "ENCODING", "s"), ("MEMORY", "USAGE", "nope"),
    ("DUMP", "nope"), ("DUMP", "h"), ("COPY", "s", "s2"), ("COPY", "nope", "s4"),
    ("RENAME", "s2", "s3"), ("DEL", "nope", "s3"),
    ("BITCOUNT", "s"), ("GETBIT", "nope", "1"), ("BITFIELD", "s", "GET", "u8", "0"),
    ("BITFIELD", "s", "SET", "u8", "0", "1"), ("BITOP", "AND", "d", "s", "nope"),
    ("LRANGE", "l", "x", "1"), ("LRANGE", "l", "0", "-1"), ("LINDEX", "nope", "x"),
    ("LINDEX", "l", "x"), ("LLEN", "h"), ("LPOS", "l", "b"), ("LPOP", "nope"),
    ("RPUSH", "l", "d"), ("LMOVE", "l", "l2", "LEFT", "RIGHT"),
    ("HGET", "h", "f"), ("HGETALL", "nope"), ("HMGET", "l", "f"), ("HINCRBY", "h", "n", "1"),
    ("HSCAN", "h", "0"), ("HRANDFIELD", "nope"),
    ("SISMEMBER", "st", "m1"), ("SINTER", "st", "nope", "st"), ("SINTERCARD", "2", "st", "h"),
    ("SUNIONSTORE", "dst", "st", "nope"), ("SMOVE", "st", "st2", "m1"), ("SPOP", "st", "10"),
    ("ZSCORE", "z", "a"), ("ZRANGE", "z", "0", "x"), ("ZRANGE", "z", "0", "-1"),
    ("ZRANGESTORE", "zd", "nope", "0", "-1"), ("ZCOUNT", "nope", "x", "1"),
    ("ZCOUNT", "z", "-inf", "+inf"), ("ZUNION", "3", "z", "nope", "s"), ("ZPOPMIN", "nope"),
    ("ZSCAN", "z", "0"), ("GEOPOS", "nope", "a"), ("GEOSEARCH", "z", "FROMMEMBER", "a",
                                                      "BYRADIUS", "1", "km"),
    ("SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f"), ("SORT", "nope", "STORE", "sd"),
    ("XRANGE", "x", "-", "+"), ("XREAD", "STREAMS", "x", "nope", "0", "0"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"), ("XAUTOCLAIM", "x", "g", "c", "no",
                                                             "0"),
    ("XACK", "nope", "g", "1-1"), ("XLEN", "x"),
    ("PFCOUNT", "hll"), ("PFCOUNT", "hll", "nope"), ("PFMERGE", "hll2", "hll", "nope"),
    ("PFADD", "hll", "b"),
    # (a COUNT past the keyspace: which keys TYPE checks is then all of them, not the
    # buckets Redis's hash order visits first)
    ("SCAN", "0", "TYPE", "string", "COUNT", "1000"),
    ("SCAN", "0", "MATCH", "s*", "TYPE", "list", "COUNT", "1000"),
    ("SCAN", "0"), ("RANDOMKEY",), ("DBSIZE",),
    ("EVAL", "return redis.call('GET', KEYS[1])", "1", "nope"),
    ("EVAL", "return redis.pcall('HGET', KEYS[1], 'f')", "1", "s"),
    ("MULTI",), ("GET", "nope"), ("HLEN", "h"), ("EXEC",),
    ("WATCH", "nope"), ("UNWATCH",),
]


def _counts(client: RawClient) -> tuple[int, int]:
    info = client.call("INFO", "stats")
    found = dict(re.findall(rb"(keyspace_hits|keyspace_misses):(\d+)", info))
    return int(found[b"keyspace_hits"]), int(found[b"keyspace_misses"])


def _moves(port: int) -> list[tuple[tuple, tuple[int, int]]]:
    """(command, (hits, misses) it added) for each of COMMANDS, after SETUP."""
    c, stats = RawClient(port), RawClient(port)
    try:
        c.call("FLUSHALL")
        for command in SETUP:
            c.call(*command)
        time.sleep(0.01)  # "gone" expires
        c.call("CONFIG", "RESETSTAT")
        assert _counts(stats) == (0, 0)
        out = []
        for command in COMMANDS:
            c.call(*command)
            out.append((command, _counts(stats)))
        return out
    finally:
        c.close()
        stats.close()


def test_hits_and_misses_match_redis(server, redis_server):
    ours, theirs = _moves(server.port), _moves(redis_server.port)
    for (command, got), (_, want) in zip(ours, theirs, strict=True):
        assert got == want, f"after {command}: ledis {got}, redis {want} (hits, misses)"
    assert theirs[-1][1][0] > 10 and theirs[-1][1][1] > 10  # both kinds were counted


def _events(port: int, classes: str) -> list:
    """Every (channel, message) but ``expired`` that COMMANDS publish under ``classes``
    (Redis publishes ``expired`` when a read finds the key expired; ledis when its expiry
    cycle removes it: docs/redis-differences.md)."""
    c, sub = RawClient(port), RawClient(port)
    try:
        c.call("FLUSHALL")
        for command in SETUP:
            c.call(*command)
        time.sleep(0.01)
        c.call("CONFIG", "SET", "notify-keyspace-events", classes)
        sub.call("PSUBSCRIBE", "__key*__:*")
        for command in COMMANDS:
            c.call(*command)
        c.call("PUBLISH", "end", "end")
        c.call("CONFIG", "SET", "notify-keyspace-events", "")
        events = [tuple(message[2:]) for message in sub.drain(0.5)]
        return [e for e in events if b"expired" not in e and not e[0].endswith(b":expired")]
    finally:
        c.close()
        sub.close()


@pytest.mark.parametrize("classes", ["Km", "Em", "KEm", "KEA", "KEAm"])
def test_keymiss_events_match_redis(server, redis_server, classes):
    ours, theirs = _events(server.port, classes), _events(redis_server.port, classes)
    assert ours == theirs
    keymiss = [e for e in theirs if b"keymiss" in e or e[0].endswith(b":keymiss")]
    assert bool(keymiss) == ("m" in classes)


def test_resetstat_and_info_stats(server):
    c = RawClient(server.port)
    try:
        c.call("CONFIG", "RESETSTAT")
        c.call("SET", "rs", "1")
        c.call("GET", "rs")
        c.call("GET", "rs-missing")
        c.call("SELECT", "3")
        c.call("GET", "rs-missing")  # every database adds to the same two counters
        assert _counts(c) == (1, 2)
        c.call("CONFIG", "RESETSTAT")
        assert _counts(c) == (0, 0)
    finally:
        c.close()


def _io_counts(port: int) -> list[tuple[int, int]]:
    """How far INFO's total_reads_processed / total_writes_processed move: three requests in
    reads of their own, then three pipelined in one read."""
    c = RawClient(port)
    try:
        def counts() -> tuple[int, int]:
            info = c.call("INFO", "stats")
            found = dict(re.findall(rb"(total_reads_processed|total_writes_processed):(\d+)",
                                    info))
            return int(found[b"total_reads_processed"]), int(found[b"total_writes_processed"])

        out = []
        before = counts()
        for _ in range(3):
            c.call("PING")
        after = counts()
        out.append((after[0] - before[0], after[1] - before[1]))
        c.send_many(("PING",), ("PING",), ("PING",))
        assert [c.read() for _ in range(3)] == [b"PONG"] * 3
        final = counts()
        out.append((final[0] - after[0], final[1] - after[1]))
        return out
    finally:
        c.close()


def test_reads_and_writes_processed_match_redis(server, redis_server):
    assert _io_counts(server.port) == _io_counts(redis_server.port) == [(4, 4), (2, 2)]


def _expired_count(port: int) -> int:
    """INFO's expired_keys after 40 keys are stored already expired (PXAT in the past), then
    20 overwritten and 20 deleted, all in one read (no expiry cycle in between)."""
    c = RawClient(port)
    try:
        c.call("FLUSHALL")
        c.call("CONFIG", "RESETSTAT")
        c.send_many(*[("SET", f"ex:{i}", "v", "PXAT", "1") for i in range(40)],
                    *[("SET", f"ex:{i}", "new") for i in range(20)],
                    *[("DEL", f"ex:{i}") for i in range(20, 40)])
        assert [c.read() for _ in range(80)] == [b"OK"] * 60 + [0] * 20
        info = c.call("INFO", "stats")
        return int(re.search(rb"expired_keys:(\d+)", info).group(1))
    finally:
        c.close()


def test_expired_keys_counts_what_writes_replace_or_delete(server, redis_server):
    assert _expired_count(server.port) == _expired_count(redis_server.port) == 40
