"""Differential tests of DUMP / RESTORE: values move between ledis and a real redis-server in
both directions and must arrive whole; strings dump to the same bytes; errors read the same;
old encodings (ziplist, zipmap, text doubles) that Redis 7.0 still loads load the same here."""

from __future__ import annotations

import math
import time

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledis import rdb
from tests import rdb_helpers as h


def content(client, key):
    kind = client.type(key)
    if kind == b"string":
        return kind, client.get(key)
    if kind == b"list":
        return kind, client.lrange(key, 0, -1)
    if kind == b"set":
        return kind, sorted(client.smembers(key))
    if kind == b"zset":
        return kind, sorted(client.zrange(key, 0, -1, withscores=True))
    if kind == b"hash":
        return kind, sorted(client.hgetall(key).items())
    return kind, None


def build(client, key, kind, value):
    if kind == "string":
        client.set(key, value)
    elif kind == "list":
        client.rpush(key, *value)
    elif kind == "set":
        client.sadd(key, *value)
    elif kind == "zset":
        client.zadd(key, dict(value))
    else:
        client.hset(key, mapping=dict(value))


CASES = {
    "string-int": ("string", b"-12345"),
    "string-big-int": ("string", b"9223372036854775807"),
    "string-short": ("string", b"hello"),
    "string-lzf": ("string", b"abc" * 200),
    "list-small": ("list", [b"a", b"1", b"-300", b"70000", b"x" * 100]),
    "list-big": ("list", [b"e%d" % i for i in range(1000)] + [b"z" * 20000]),
    "set-intset": ("set", [b"1", b"-5", b"70000", b"4294967296"]),
    "set-small": ("set", [b"a", b"b", b"1"]),
    "set-big": ("set", [b"m%d" % i for i in range(1000)]),
    "set-big-ints": ("set", [b"%d" % i for i in range(1000)]),
    "zset-small": ("zset", [(b"a", 1.5), (b"b", -2.0), (b"c", math.inf), (b"d", 1e-300)]),
    "zset-big": ("zset", [(b"m%d" % i, i / 7) for i in range(1000)]),
    "hash-small": ("hash", [(b"f", b"v"), (b"n", b"12"), (b"e", b"")]),
    "hash-long-value": ("hash", [(b"f", b"v" * 100)]),
    "hash-big": ("hash", [(b"f%d" % i, b"v%d" % i) for i in range(1000)]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_redis_to_ledis(pair23, case):
    ours, ref = pair23
    kind, value = CASES[case]
    build(ref, "k", kind, value)
    payload = ref.dump("k")
    assert ours.restore("k", 0, payload)
    assert content(ours, "k") == content(ref, "k")


@pytest.mark.parametrize("case", list(CASES))
def test_ledis_to_redis(pair23, case):
    ours, ref = pair23
    kind, value = CASES[case]
    build(ours, "k", kind, value)
    build(ref, "direct", kind, value)
    assert ref.restore("k", 0, ours.dump("k"))
    assert content(ref, "k") == content(ours, "k")
    # Redis ends up with the encoding it picks for the same value built by commands.
    assert ref.object("encoding", "k") == ref.object("encoding", "direct")


STRINGS = [b"", b"0", b"-1", b"127", b"128", b"-32768", b"2147483647", b"-2147483648",
           b"2147483648", b"12345678901", b"007", b"+1", b"1.5", b"hello", b"a" * 20,
           b"a" * 21, b"a" * 100, b"abcd" * 1000, bytes(range(256)), b"x" * 16384]


def test_string_dump_is_byte_identical(pair):
    ours, ref = pair
    for value in STRINGS:
        ours.set("k", value)
        ref.set("k", value)
        assert ours.dump("k") == ref.dump("k"), value


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.binary(max_size=400),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda i: b"%d" % i),
    st.tuples(st.binary(min_size=1, max_size=8), st.integers(2, 80)).map(lambda t: t[0] * t[1]),
))
def test_string_dump_identical_random(pair, value):
    ours, ref = pair
    ours.set("k", value)
    ref.set("k", value)
    assert ours.dump("k") == ref.dump("k")


_member = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda i: b"%d" % i),
    st.binary(max_size=12),
    st.binary(min_size=60, max_size=90),
)
_score = st.floats(allow_nan=False, width=64)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.tuples(st.just("list"), st.lists(_member, min_size=1, max_size=200)),
    st.tuples(st.just("set"), st.lists(_member, min_size=1, max_size=200, unique=True)),
    st.tuples(st.just("zset"), st.lists(st.tuples(_member, _score), min_size=1, max_size=200,
                                        unique_by=lambda p: p[0])),
    st.tuples(st.just("hash"), st.lists(st.tuples(_member, _member), min_size=1, max_size=200,
                                        unique_by=lambda p: p[0])),
))
def test_random_collections_both_ways(pair, case):
    ours, ref = pair
    kind, value = case
    ours.delete("k", "back")
    ref.delete("k", "back")
    build(ref, "k", kind, value)
    assert ours.restore("k", 0, ref.dump("k"))
    assert content(ours, "k") == content(ref, "k")
    assert ref.restore("back", 0, ours.dump("k"))
    assert content(ref, "back") == content(ref, "k")
    assert ref.object("encoding", "back") == ref.object("encoding", "k")


def _old_payloads():
    zl = rdb.encode_string
    return {
        "list-ziplist": h.payload(rdb.RDB_TYPE_LIST_ZIPLIST,
                                  zl(h.ziplist([b"a", 5, -200, 70000, 2**40, b"x" * 70]))),
        "quicklist-v1": h.payload(rdb.RDB_TYPE_LIST_QUICKLIST, b"\x02"
                                  + zl(h.ziplist([1, 2, b"three"])) + zl(h.ziplist([b"four"]))),
        "quicklist-plain": h.payload(rdb.RDB_TYPE_LIST_QUICKLIST_2, b"\x02\x01" + zl(b"big" * 10)
                                     + b"\x02" + zl(rdb.listpack([rdb._listpack_entry(b"7")]))),
        "hash-ziplist": h.payload(rdb.RDB_TYPE_HASH_ZIPLIST,
                                  zl(h.ziplist([b"f", b"v", b"n", 12, b"neg", -1]))),
        "zset-ziplist": h.payload(rdb.RDB_TYPE_ZSET_ZIPLIST,
                                  zl(h.ziplist([b"a", 1, b"b", b"2.5", b"c", -3]))),
        "hash-zipmap": h.payload(rdb.RDB_TYPE_HASH_ZIPMAP,
                                 zl(h.zipmap([(b"f", b"v"), (b"g", b"")]))),
        "old-list": h.old_list([b"a", b"12", b"c" * 30]),
        "old-zset": h.old_zset([(b"a", 1.25), (b"b", math.inf), (b"c", -math.inf)]),
        "zset2": h.payload(rdb.RDB_TYPE_ZSET_2, b"\x02" + zl(b"a") + h.binary_double(0.5)
                           + zl(b"b") + h.binary_double(-1e300)),
        "intset": h.payload(rdb.RDB_TYPE_SET_INTSET, zl(
            b"\x04\x00\x00\x00\x02\x00\x00\x00" + (-70000).to_bytes(4, "little", signed=True)
            + (5).to_bytes(4, "little", signed=True))),
        "lzf-string": h.payload(rdb.RDB_TYPE_STRING, rdb.encode_string(b"q" * 50, True)),
    }


@pytest.mark.parametrize("name", list(_old_payloads()))
def test_old_and_handmade_encodings_load_as_on_redis(pair, name):
    ours, ref = pair
    payload = _old_payloads()[name]
    assert ref.restore("k", 0, payload)
    assert ours.restore("k", 0, payload)
    assert content(ours, "k") == content(ref, "k")


def _reply(client, *args):
    try:
        return ("ok", client.execute_command(*args))
    except redis.ResponseError as exc:
        return ("err", str(exc))


def test_errors_match_redis(pair):
    ours, ref = pair
    good = rdb.dumps("string", b"v")
    bad_crc = good[:-1] + bytes((good[-1] ^ 1,))
    cases = [
        ("RESTORE", "busy", 0, good),
        ("RESTORE", "busy", 0, good, "REPLACE"),
        ("RESTORE", "k", -1, good),
        ("RESTORE", "k", "x", good),
        ("RESTORE", "k", 0, bad_crc),
        ("RESTORE", "k", 0, b"short"),
        ("RESTORE", "k", 0, good, "IDLETIME", -1),
        ("RESTORE", "k", 0, good, "IDLETIME", "x"),
        ("RESTORE", "k", 0, good, "FREQ", 256),
        ("RESTORE", "k", 0, good, "FREQ", 1, "IDLETIME", 1),
        ("RESTORE", "k", 0, good, "IDLETIME"),
        ("RESTORE", "k", 0, good, "NOPE"),
        ("RESTORE", "k2", 0, good, "IDLETIME", 5, "ABSTTL"),
        ("RESTORE", "k", 0, rdb.seal(b"\x2a\x00")),  # unknown type
        ("RESTORE", "k", 0, rdb.seal(b"\x06\x00")),  # module type
        ("RESTORE", "k", 0, rdb.seal(b"\x02\x00")),  # empty set
        ("RESTORE", "k", 0, rdb.seal(b"\x02\x02\x01a\x01a")),  # duplicate member
        ("RESTORE", "k", 0, rdb.seal(b"\x00\x40\x30ab")),  # truncated
        ("RESTORE", "k3", 0, rdb.seal(b"\x00\x05ab")),  # runs into the trailer: Redis reads it
        ("RESTORE", "k", 0, rdb.seal(b"\x00\xc3\x02\x05\x01a")),  # LZF length mismatch
        ("RESTORE", "k"),
        ("DUMP",),
        ("DUMP", "missing"),
        ("DUMP", "a", "b"),
    ]
    for client in (ours, ref):
        client.set("busy", "old")
    for args in cases:
        assert _reply(ours, *args) == _reply(ref, *args), args
    assert content(ours, "busy") == content(ref, "busy")
    assert ours.exists("k") == ref.exists("k") == 0


def test_ttl_options_match_redis(pair):
    ours, ref = pair
    payload = rdb.dumps("hash", [(b"f", b"v")])
    later = int(time.time() * 1000) + 100_000
    for client in (ours, ref):
        client.set("old", "x")
        client.restore("rel", 50_000, payload)
        client.restore("abs", later, payload, absttl=True)
        client.restore("past", 1, payload, absttl=True)
        client.restore("old", 1, payload, absttl=True, replace=True)
    for client in (ours, ref):
        assert 49_000 < client.pttl("rel") <= 50_000
        assert client.pexpiretime("abs") == later
        assert client.exists("past", "old") == 0


def test_command_info_matches_redis(pair):
    ours, ref = pair
    for name in ("dump", "restore", "migrate"):
        assert ours.execute_command("COMMAND", "INFO", name) == ref.execute_command(
            "COMMAND", "INFO", name)


# --- streams ---------------------------------------------------------------------------------
def build_stream(client, key):
    """A stream with all the parts a payload carries: entries with different field sets and
    integer / long values (SAMEFIELDS and not, several listpack nodes on Redis), deleted and
    trimmed entries, a negative seq diff, groups with pending entries (one claimed, so
    delivered twice, one pending entry deleted from the stream), consumers without pending
    entries, a group whose entries-read is unknown."""
    client.xadd(key, {"a": "1", "b": "2"}, id="1-1")
    client.xadd(key, {"a": "3", "b": "4"}, id="1-2")
    client.xadd(key, {"c": "x" * 100}, id="2-0")
    for i in range(230):
        fields = {"n": str(i), "v": "y" * (i % 7)} if i % 3 else {"n": str(-i * 70000)}
        client.xadd(key, fields, id=f"{3 + i // 2}-{i % 2}")
    client.xdel(key, "1-2", "50-1")
    client.xtrim(key, minid="2-0")  # trims 1-1 as well
    client.xgroup_create(key, "g1", "0")
    client.xreadgroup("g1", "alice", {key: ">"}, count=3)
    client.xreadgroup("g1", "bob", {key: ">"}, count=4)
    client.xclaim(key, "g1", "bob", 0, ["3-0"])
    client.xack(key, "g1", "3-1")
    client.xgroup_create(key, "g0", "$")
    client.xgroup_createconsumer(key, "g0", "idle")
    client.xgroup_create(key, "g2", "0")
    client.xreadgroup("g2", "carol", {key: ">"}, count=2)
    client.xdel(key, "4-0")  # pending in g1, gone from the stream
    client.xgroup_setid(key, "g2", "10-0")  # entries-read unknown (nil in XINFO)


def stream_view(client, key):
    """Everything a client sees of a stream, minus the radix tree shape (ledis has none)."""
    full = client.execute_command("XINFO", "STREAM", key, "FULL")
    info = dict(zip(full[::2], full[1::2], strict=True))
    for name in (b"radix-tree-keys", b"radix-tree-nodes"):
        info.pop(name)
    groups = [g["name"] for g in client.xinfo_groups(key)]
    return {
        "range": client.xrange(key),
        "revrange": client.xrevrange(key, count=5),
        "full": info,
        "groups": client.xinfo_groups(key),
        # XPENDING's idle times are relative; the absolute delivery times are in "full"
        "pending": {g: (client.xpending(key, g),
                        [(p["message_id"], p["consumer"], p["times_delivered"])
                         for p in client.xpending_range(key, g, "-", "+", 100)])
                    for g in groups},
        "len": client.xlen(key),
    }


def test_stream_redis_to_ledis(pair):
    ours, ref = pair
    build_stream(ref, "s")
    assert ours.restore("s", 0, ref.dump("s"))
    assert stream_view(ours, "s") == stream_view(ref, "s")
    # and it keeps working the same: XADD after the restored last ID, XREADGROUP, XAUTOCLAIM
    for client in (ours, ref):
        client.xadd("s", {"new": "1"}, id="200-0")
        client.xreadgroup("g0", "idle", {"s": ">"})
    assert ours.xrange("s", "150", "+") == ref.xrange("s", "150", "+")
    assert ours.xinfo_groups("s") == ref.xinfo_groups("s")


def test_stream_ledis_to_redis(pair):
    ours, ref = pair
    build_stream(ours, "s")
    ref.config_set("sanitize-dump-payload", "yes")  # Redis checks every listpack deeply
    try:
        assert ref.restore("s", 0, ours.dump("s"))
    finally:
        ref.config_set("sanitize-dump-payload", "no")
    assert stream_view(ref, "s") == stream_view(ours, "s")
    # back again: Redis's own DUMP of it loads here into the same stream
    assert ours.restore("back", 0, ref.dump("s"))
    assert stream_view(ours, "back") == stream_view(ours, "s")


@pytest.mark.parametrize("setup", ["empty-after-xdel", "mkstream", "one-entry"])
def test_small_streams_both_ways(pair, setup):
    ours, ref = pair
    for client in (ours, ref):
        if setup == "mkstream":
            client.xgroup_create("s", "g", "$", mkstream=True)
        else:
            client.xadd("s", {"f": "v"}, id="5-1")
            if setup == "empty-after-xdel":
                client.xdel("s", "5-1")
    assert ours.restore("from-ref", 0, ref.dump("s"))
    assert ref.restore("from-ours", 0, ours.dump("s"))
    assert stream_view(ours, "from-ref") == stream_view(ref, "s")
    assert stream_view(ref, "from-ours") == stream_view(ours, "s")


def test_stream_restore_ttl_and_errors_match_redis(pair):
    ours, ref = pair
    build_stream(ref, "s")
    payload = ref.dump("s")
    body = payload[:-10]
    cases = [
        ("RESTORE", "t", 10000, payload),
        ("RESTORE", "x", 0, rdb.seal(body[:40])),  # truncated inside the first node
        ("RESTORE", "x", 0, rdb.seal(b"\x13\x01\x05short")),  # node key not 16 bytes
        ("RESTORE", "x", 0, rdb.seal(b"\x13\x01\x10" + bytes(16) + b"\x05hello")),  # no lp
    ]
    for args in cases:
        assert _reply(ours, *args) == _reply(ref, *args), args
    assert 9000 < ours.pttl("t") <= 10000
    assert ours.exists("x") == ref.exists("x") == 0
