"""Differential tests: stream commands against ledis and a real redis-server, compared reply by
reply in RESP2 and RESP3. IDs are explicit so replies are comparable; ``*`` IDs are compared by
shape; times (idle, delivery and seen times) are dropped, everything else must be equal.
Replies are read raw (redis-py's response callbacks switched off)."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.diff import Pair

KEYS = [b"s1", b"s2", b"str"]
GROUPS = [b"g1", b"g2"]
CONSUMERS = [b"c1", b"c2", b"c3"]
FIELDS = [b"f", b"g", b"", b"\x00bin\xff"]
ID_RE = re.compile(rb"^\d+-\d+$")


@pytest.fixture
def pair(pair23: Pair) -> Pair:
    """RESP2 and RESP3, raw replies (no redis-py callbacks)."""
    return pair23.raw()


def _strip_times(value, name: bytes):
    """Drop what depends on the clock (and the radix tree shape, which ledis estimates)."""
    if isinstance(value, dict):
        return {k: _strip_times(v, name) for k, v in value.items()
                if k not in (b"idle", b"seen-time", b"radix-tree-keys", b"radix-tree-nodes")}
    if isinstance(value, list):
        if name == b"XINFO" and value and value[0] in (b"length", b"name") and \
                len(value) % 2 == 0:  # a RESP2 flat map
            return _strip_times(dict(zip(value[::2], value[1::2], strict=True)), name)
        if name == b"XPENDING" and len(value) == 4 and isinstance(value[0], bytes) and \
                ID_RE.match(value[0]) and isinstance(value[2], int):
            return [value[0], value[1], value[3]]  # id, consumer, (idle), deliveries
        if name == b"XINFO" and len(value) in (3, 4) and isinstance(value[0], bytes) and \
                ID_RE.match(value[0]) and isinstance(value[-2], int):
            return [value[0], *value[1:-2], value[-1]]  # PEL rows: drop the delivery time
        return [_strip_times(v, name) for v in value]
    return value


def normalize(args, reply):
    kind, value = reply
    if kind == "err":
        return reply
    name = args[0].upper()
    if name == b"XADD" and b"*" in args[1:] and value is not None:
        assert ID_RE.match(value), value
        return kind, "an id"
    return kind, _strip_times(value, name)


def compare(pair: Pair, args):
    got, want = (normalize(args, reply) for reply in pair.run(*args))
    assert got == want, args
    return want


class Gen:
    """Random stream commands with explicit, mostly increasing IDs."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ms = 1

    def sid(self) -> bytes:
        rng = self.rng
        pick = rng.randrange(10)
        if pick == 0:
            return b"%d" % rng.randint(0, self.ms + 1)
        if pick == 1:
            return b"%d-*" % rng.randint(max(self.ms - 1, 0), self.ms + 1)
        return b"%d-%d" % (rng.randint(max(self.ms - 2, 0), self.ms + 1), rng.randint(0, 3))

    def bound(self, low: bool) -> bytes:
        rng = self.rng
        pick = rng.randrange(6)
        if pick == 0:
            return b"-" if low else b"+"
        if pick == 1:
            return b"(" + self.sid().replace(b"*", b"0")
        return self.sid().replace(b"-*", b"")

    def command(self) -> list[bytes]:
        rng = self.rng
        key = rng.choice(KEYS[:2]) if rng.random() < 0.95 else b"str"
        group = rng.choice(GROUPS)
        consumer = rng.choice(CONSUMERS)
        pick = rng.randrange(30)
        if pick < 8:
            self.ms += rng.randrange(3)
            args = [b"XADD", key]
            if rng.random() < 0.15:
                args += [b"MAXLEN", rng.choice([b"=", b""]) or b"=", b"%d" % rng.randint(0, 6)]
            elif rng.random() < 0.1:
                args += [b"MINID", self.sid().replace(b"-*", b"")]
            if rng.random() < 0.1:
                args.append(b"NOMKSTREAM")
            args.append(self.sid())
            for _ in range(rng.randint(1, 2)):
                args += [rng.choice(FIELDS), b"v%d" % rng.randrange(9)]
            return args
        count = [b"COUNT", b"%d" % rng.randint(0, 4)] if rng.random() < 0.5 else []
        return rng.choice([
            [b"XLEN", key],
            [b"XRANGE", key, self.bound(True), self.bound(False), *count],
            [b"XREVRANGE", key, self.bound(False), self.bound(True), *count],
            [b"XDEL", key, self.sid().replace(b"-*", b""), self.sid().replace(b"-*", b"")],
            [b"XTRIM", key, b"MAXLEN", b"%d" % rng.randint(0, 5)],
            [b"XTRIM", key, b"MINID", b"=", self.sid().replace(b"-*", b"")],
            [b"XREAD", *count, b"STREAMS", key, self.sid().replace(b"-*", b"")],
            [b"XREAD", *count, b"STREAMS", b"s1", b"s2", b"0", self.bound(True)],
            [b"XGROUP", b"CREATE", key, group, rng.choice([b"0", b"$", self.sid().replace(
                b"-*", b"")]), *([b"MKSTREAM"] if rng.random() < 0.5 else [])],
            [b"XGROUP", b"SETID", key, group, rng.choice([b"0", b"$", b"+"])],
            [b"XGROUP", b"DESTROY", key, group],
            [b"XGROUP", b"CREATECONSUMER", key, group, consumer],
            [b"XGROUP", b"DELCONSUMER", key, group, consumer],
            [b"XREADGROUP", b"GROUP", group, consumer, *count, b"STREAMS", key, b">"],
            [b"XREADGROUP", b"GROUP", group, consumer, *count, b"STREAMS", key, b">"],
            [b"XREADGROUP", b"GROUP", group, consumer, b"NOACK", b"STREAMS", key, b">"],
            [b"XREADGROUP", b"GROUP", group, consumer, *count, b"STREAMS", key, b"0"],
            [b"XACK", key, group, self.sid().replace(b"-*", b""),
             self.sid().replace(b"-*", b"")],
            [b"XPENDING", key, group],
            [b"XPENDING", key, group, b"-", b"+", b"10"],
            [b"XPENDING", key, group, b"-", b"+", b"10", consumer],
            [b"XCLAIM", key, group, consumer, b"0", self.sid().replace(b"-*", b""),
             self.sid().replace(b"-*", b""), *rng.choice([[], [b"JUSTID"], [b"FORCE"],
                                                           [b"RETRYCOUNT", b"5"]])],
            [b"XAUTOCLAIM", key, group, consumer, b"0", b"0", b"COUNT",
             b"%d" % rng.randint(1, 3), *([b"JUSTID"] if rng.random() < 0.3 else [])],
            [b"XINFO", b"GROUPS", key],
            [b"XINFO", b"CONSUMERS", key, group],
            [b"XINFO", b"STREAM", key],
            [b"XINFO", b"STREAM", key, b"FULL"],
            [b"XSETID", key, self.sid().replace(b"-*", b"")],
            [b"DEL", key] if rng.random() < 0.3 else [b"EXISTS", key],
        ])


@pytest.mark.parametrize("seed", range(8))
def test_random_sequences(pair, seed):
    for client in pair:
        client.execute_command("SET", "str", "x")
    rng = random.Random(seed)
    gen = Gen(rng)
    for step in range(200):
        args = gen.command()
        got, want = (normalize(args, reply) for reply in pair.run(*args))
        assert got == want, (seed, step, args)
    for key in KEYS[:2]:
        compare(pair, [b"XRANGE", key, b"-", b"+"])
        compare(pair, [b"XINFO", b"STREAM", key, b"FULL", b"COUNT", b"0"])


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3),
                          st.lists(st.binary(max_size=6), min_size=2, max_size=4)),
                max_size=12),
       st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=4),
       st.integers(0, 8))
def test_hypothesis_add_delete_trim(pair, adds, deletes, maxlen):
    for client in pair:
        client.execute_command("DEL", "hs")
    for ms, seq, fields in adds:
        if len(fields) % 2:
            fields = fields[:-1]
        compare(pair, [b"XADD", b"hs", b"%d-%d" % (ms, seq), *fields])
    if deletes:
        compare(pair, [b"XDEL", b"hs", *[b"%d-%d" % d for d in deletes]])
    compare(pair, [b"XTRIM", b"hs", b"MAXLEN", b"%d" % maxlen])
    compare(pair, [b"XRANGE", b"hs", b"-", b"+"])
    compare(pair, [b"XREVRANGE", b"hs", b"+", b"-", b"COUNT", b"3"])
    compare(pair, [b"XLEN", b"hs"])
    compare(pair, [b"XINFO", b"STREAM", b"hs"])


def test_auto_ids_have_the_same_shape(pair):
    for _ in range(3):
        compare(pair, [b"XADD", b"a", b"*", b"f", b"v"])
    compare(pair, [b"XADD", b"a", b"MAXLEN", b"2", b"*", b"f", b"v"])
    compare(pair, [b"XLEN", b"a"])
    compare(pair, [b"XADD", b"b", b"NOMKSTREAM", b"*", b"f", b"v"])
    compare(pair, [b"EXISTS", b"b"])


def test_consumer_group_lifecycle(pair):
    steps = [
        [b"XGROUP", b"CREATE", b"s", b"g", b"$", b"MKSTREAM"],
        [b"XINFO", b"GROUPS", b"s"],
        *[[b"XADD", b"s", b"%d-1" % i, b"n", b"%d" % i] for i in range(1, 7)],
        [b"XINFO", b"GROUPS", b"s"],
        [b"XREADGROUP", b"GROUP", b"g", b"alice", b"COUNT", b"2", b"STREAMS", b"s", b">"],
        [b"XREADGROUP", b"GROUP", b"g", b"bob", b"COUNT", b"2", b"STREAMS", b"s", b">"],
        [b"XINFO", b"GROUPS", b"s"],
        [b"XPENDING", b"s", b"g"],
        [b"XPENDING", b"s", b"g", b"-", b"+", b"10"],
        [b"XPENDING", b"s", b"g", b"(1-1", b"+", b"1", b"bob"],
        [b"XACK", b"s", b"g", b"1-1", b"9-9"],
        [b"XDEL", b"s", b"2-1"],
        [b"XREADGROUP", b"GROUP", b"g", b"alice", b"STREAMS", b"s", b"0"],
        [b"XCLAIM", b"s", b"g", b"bob", b"0", b"2-1", b"3-1"],
        [b"XPENDING", b"s", b"g"],
        [b"XAUTOCLAIM", b"s", b"g", b"carol", b"0", b"0", b"COUNT", b"1"],
        [b"XAUTOCLAIM", b"s", b"g", b"carol", b"0", b"0", b"COUNT", b"5", b"JUSTID"],
        [b"XCLAIM", b"s", b"g", b"dave", b"0", b"5-1", b"FORCE", b"RETRYCOUNT", b"3"],
        [b"XCLAIM", b"s", b"g", b"dave", b"0", b"6-1", b"FORCE", b"JUSTID", b"LASTID", b"9-0"],
        [b"XPENDING", b"s", b"g", b"-", b"+", b"10"],
        [b"XINFO", b"CONSUMERS", b"s", b"g"],
        [b"XINFO", b"GROUPS", b"s"],
        [b"XINFO", b"STREAM", b"s", b"FULL"],
        [b"XGROUP", b"DELCONSUMER", b"s", b"g", b"carol"],
        [b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"erin"],
        [b"XGROUP", b"SETID", b"s", b"g", b"0", b"ENTRIESREAD", b"0"],
        [b"XINFO", b"GROUPS", b"s"],
        [b"XREADGROUP", b"GROUP", b"g", b"erin", b"STREAMS", b"s", b">"],
        [b"XINFO", b"GROUPS", b"s"],
        [b"XPENDING", b"s", b"g"],
        [b"XGROUP", b"DESTROY", b"s", b"g"],
        [b"XINFO", b"GROUPS", b"s"],
        [b"XSETID", b"s", b"10-0", b"ENTRIESADDED", b"20", b"MAXDELETEDID", b"7-0"],
        [b"XINFO", b"STREAM", b"s"],
        [b"XADD", b"s", b"10-*", b"a", b"b"],
    ]
    for args in steps:
        compare(pair, args)


@pytest.mark.parametrize("args", [
    [b"XADD", b"s", b"0-0", b"f", b"v"], [b"XADD", b"s", b"1-1", b"f", b"v"],
    [b"XADD", b"s", b"abc", b"f", b"v"], [b"XADD", b"s", b"9-1", b"f"],
    [b"XADD", b"s", b"MAXLEN", b"1", b"MINID", b"1", b"*", b"f", b"v"],
    [b"XADD", b"s", b"LIMIT", b"5", b"*", b"f", b"v"],
    [b"XADD", b"s", b"MAXLEN", b"5", b"LIMIT", b"5", b"*", b"f", b"v"],
    [b"XADD", b"s", b"MAXLEN", b"-1", b"*", b"f", b"v"],
    [b"XADD", b"s", b"MAXLEN", b"~", b"5", b"LIMIT", b"-1", b"*", b"f", b"v"],
    [b"XADD", b"str", b"*", b"f", b"v"], [b"XADD", b"s", b"5-18446744073709551616", b"f", b"v"],
    [b"XADD", b"s", b"18446744073709551615-18446744073709551615", b"f", b"v"],
    [b"XTRIM", b"s", b"foo", b"1"], [b"XTRIM", b"nokey", b"foo", b"1"],
    [b"XTRIM", b"str", b"MAXLEN", b"1"], [b"XTRIM", b"s", b"MAXLEN", b"x"],
    [b"XTRIM", b"s", b"MINID", b"1", b"LIMIT", b"1"],
    [b"XRANGE", b"s", b"(+", b"+"], [b"XRANGE", b"s", b"-", b"(-"],
    [b"XRANGE", b"s", b"(18446744073709551615-18446744073709551615", b"+"],
    [b"XRANGE", b"s", b"-", b"(0-0"], [b"XRANGE", b"s", b"-", b"+", b"COUNT", b"0"],
    [b"XRANGE", b"nokey", b"-", b"+", b"COUNT", b"0"], [b"XRANGE", b"s", b"-", b"+", b"X"],
    [b"XRANGE", b"s", b" 1", b"+"], [b"XRANGE", b"s", b"01", b"+"], [b"XRANGE", b"s", b"-1", b"+"],
    [b"XRANGE", b"s", b"+1", b"+"], [b"XRANGE", b"str", b"-", b"+"],
    [b"XREVRANGE", b"s", b"+", b"-", b"COUNT", b"-5"],
    [b"XDEL", b"nokey", b"abc"], [b"XDEL", b"str", b"abc"], [b"XDEL", b"s", b"abc"],
    [b"XLEN", b"str"],
    [b"XREAD", b"STREAMS", b"s"], [b"XREAD", b"STREAMS", b"s", b"s2", b"0"],
    [b"XREAD", b"GROUP", b"g", b"c", b"STREAMS", b"s", b"0"],
    [b"XREAD", b"NOACK", b"STREAMS", b"s", b"0"], [b"XREAD", b"STREAMS", b"s", b">"],
    [b"XREAD", b"COUNT", b"1", b"STREAMS", b"s", b"s", b"0", b"1"],
    [b"XREAD", b"BLOCK", b"-1", b"STREAMS", b"s", b"0"],
    [b"XREAD", b"BLOCK", b"1.5", b"STREAMS", b"s", b"0"], [b"XREAD", b"STREAMS", b"str", b"0"],
    [b"XREAD", b"COUNT", b"1", b"BLOCK", b"1", b"STREAMS", b"s", b"$"],
    [b"XREADGROUP", b"STREAMS", b"s", b"0", b"x", b"y"],
    [b"XREADGROUP", b"GROUP", b"nog", b"c", b"STREAMS", b"s", b"0"],
    [b"XREADGROUP", b"GROUP", b"g", b"c", b"STREAMS", b"s", b"$"],
    [b"XREADGROUP", b"GROUP", b"g", b"c", b"STREAMS", b"nokey", b">"],
    [b"XGROUP", b"CREATE", b"nokey", b"g", b"0"], [b"XGROUP", b"CREATE", b"s", b"g", b"0"],
    [b"XGROUP", b"CREATE", b"s", b"g2", b"0", b"FOO"],
    [b"XGROUP", b"CREATE", b"s", b"g2", b"0", b"ENTRIESREAD", b"-5"],
    [b"XGROUP", b"CREATE", b"s", b"g2", b"0", b"ENTRIESREAD"],
    [b"XGROUP", b"CREATE", b"s", b"g2", b"x"], [b"XGROUP", b"CREATE", b"str", b"g2", b"0"],
    [b"XGROUP", b"SETID", b"s", b"nog", b"0"], [b"XGROUP", b"SETID", b"s", b"g", b"0", b"X"],
    [b"XGROUP", b"SETID", b"s", b"g", b"0", b"ENTRIESREAD", b"x"],
    # the argument count is checked after the options and the key and group lookups
    [b"XGROUP", b"SETID", b"s", b"g", b"0", b"ENTRIESREAD", b"-100", b"-100"],
    [b"XGROUP", b"SETID", b"s", b"g", b"0", b"ENTRIESREAD", b"x", b"y"],
    [b"XGROUP", b"SETID", b"s", b"g", b"0", b"ENTRIESREAD", b"3", b"ENTRIESREAD", b"4"],
    [b"XGROUP", b"SETID", b"s", b"nog", b"0", b"ENTRIESREAD", b"3", b"ENTRIESREAD", b"4"],
    [b"XGROUP", b"SETID", b"nokey", b"g", b"0", b"ENTRIESREAD", b"3", b"ENTRIESREAD", b"4"],
    [b"XGROUP", b"CREATE", b"nokey", b"g", b"0", b"ENTRIESREAD", b"3", b"ENTRIESREAD", b"4"],
    [b"XGROUP", b"CREATE", b"nokey", b"g", b"0", b"ENTRIESREAD", b"3", b"ENTRIESREAD", b"4",
     b"MKSTREAM"], [b"EXISTS", b"nokey"],
    [b"XGROUP", b"CREATECONSUMER", b"s", b"nog", b"c"], [b"XGROUP", b"DESTROY", b"s", b"nog"],
    [b"XGROUP", b"FOO", b"s", b"g"], [b"XGROUP", b"HELP"], [b"XGROUP", b"CREATE", b"s"],
    [b"XACK", b"nokey", b"g", b"1"], [b"XACK", b"s", b"g", b"abc"], [b"XACK", b"s", b"nog", b"x"],
    [b"XPENDING", b"s", b"g", b"foo"], [b"XPENDING", b"s", b"nog"],
    [b"XPENDING", b"s", b"g", b"-", b"+", b"abc"], [b"XPENDING", b"s", b"g", b"IDLE", b"5",
                                                   b"-", b"+"],
    [b"XPENDING", b"s", b"g", b"IDLE", b"x", b"-", b"+", b"10"], [b"XPENDING", b"nokey", b"g"],
    [b"XPENDING", b"s", b"g", b"(18446744073709551615-18446744073709551615", b"+", b"1"],
    [b"XCLAIM", b"s", b"nog", b"c", b"0", b"1-1"], [b"XCLAIM", b"s", b"g", b"c", b"x", b"1-1"],
    [b"XCLAIM", b"s", b"g", b"c", b"0", b"1-1", b"FOO"],
    [b"XCLAIM", b"s", b"g", b"c", b"0", b"1-1", b"IDLE", b"x"],
    [b"XCLAIM", b"s", b"g", b"c", b"0", b"1-1", b"TIME", b"x"],
    [b"XCLAIM", b"s", b"g", b"c", b"0", b"1-1", b"RETRYCOUNT", b"x"],
    [b"XCLAIM", b"s", b"g", b"c", b"0", b"1-1", b"LASTID", b"x"],
    [b"XAUTOCLAIM", b"s", b"g", b"c", b"x", b"0"], [b"XAUTOCLAIM", b"s", b"g", b"c", b"0", b"x"],
    [b"XAUTOCLAIM", b"s", b"g", b"c", b"0", b"0", b"COUNT", b"0"],
    [b"XAUTOCLAIM", b"s", b"g", b"c", b"0", b"0", b"COUNT", b"x"],
    [b"XAUTOCLAIM", b"s", b"g", b"c", b"0", b"0", b"FOO"],
    [b"XAUTOCLAIM", b"s", b"nog", b"c", b"0", b"0"],
    [b"XINFO", b"FOO", b"s"], [b"XINFO", b"STREAM", b"s", b"FULL", b"COUNT"],
    [b"XINFO", b"STREAM", b"s", b"FOO"], [b"XINFO", b"STREAM", b"nokey"],
    [b"XINFO", b"STREAM", b"nokey", b"FOO"], [b"XINFO", b"STREAM", b"str", b"FOO"],
    [b"XINFO", b"STREAM", b"str", b"FULL", b"COUNT", b"x"],
    [b"XINFO", b"CONSUMERS", b"nokey", b"g"], [b"XINFO", b"CONSUMERS", b"s", b"nog"],
    [b"XINFO", b"GROUPS", b"str"], [b"XINFO", b"HELP"],
    [b"XSETID", b"s", b"0-1", b"ENTRIESADDED", b"-1"], [b"XSETID", b"nokey", b"5"],
    [b"XSETID", b"s", b"0-5"], [b"XSETID", b"s", b"5", b"MAXDELETEDID", b"6"],
    [b"XSETID", b"s", b"5", b"ENTRIESADDED", b"0"], [b"XSETID", b"s", b"5", b"FOO", b"1"],
])
def test_error_cases_match_redis(pair, args):
    for client in pair:
        client.execute_command("SET", "str", "x")
        client.execute_command("XADD", "s", "1-1", "f", "v")
        client.execute_command("XADD", "s", "2-1", "f", "v")
        client.execute_command("XGROUP", "CREATE", "s", "g", "0")
    compare(pair, args)


def test_block_in_multi_and_script_match_redis(pair):
    for client in pair:
        client.execute_command("XADD", "s", "1-1", "f", "v")
    compare(pair, [b"EVAL", b"return redis.call('xread','block','0','streams','s','$')", b"0"])
    compare(pair, [b"EVAL", b"return redis.call('xread','streams','s','0')", b"0"])
    replies = []
    for client in pair:
        pipe = client.pipeline(transaction=True)
        pipe.execute_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        pipe.execute_command("XREADGROUP", "GROUP", "nog", "c", "BLOCK", "0", "STREAMS", "s",
                             ">")
        replies.append([r if not isinstance(r, Exception) else str(r)
                        for r in pipe.execute(raise_on_error=False)])
    assert replies[0] == replies[1]
