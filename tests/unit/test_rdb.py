"""Unit tests of ledis.rdb, the DUMP payload codec: CRC64, LZF, listpack / ziplist / intset
entry encodings, trailers, and what is refused. Payloads from a real Redis are checked in
tests/test_serialize_diff.py."""

from __future__ import annotations

import math
import random

import pytest

from ledis import rdb
from tests import rdb_helpers as h


def test_crc64_check_value():
    # The check value in Redis's crc64.c self test ("123456789").
    assert rdb.crc64(b"123456789") == 0xE9C6D914C4B8D9CA


@pytest.mark.parametrize("size", [0, 1, 255, 256 * 64 - 1, 256 * 64, 256 * 64 + 1, 100_003])
def test_crc64_blockwise_equals_bytewise(size):
    data = random.Random(size).randbytes(size)
    for start in (0, 0xFFFF_FFFF_FFFF_FFFF, 12345):
        assert rdb.crc64(data, start) == rdb.crc64_bytewise(data, start)


@pytest.mark.parametrize("data", [
    b"a" * 100, b"abc" * 50, b"0123456789" * 30 + b"tail", bytes(range(256)) * 4,
    b"x" * 5000, b"hello world, hello world, hello world!!",
])
def test_lzf_round_trip(data):
    packed = rdb.lzf_compress(data, len(data) - 4)
    assert packed is not None and len(packed) < len(data) - 4
    assert rdb.lzf_decompress(packed, len(data)) == data


def test_lzf_round_trip_random():
    rng = random.Random(7)
    for _ in range(200):
        alphabet = rng.choice([b"ab", b"abcdef", bytes(range(256))])
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(21, 2000)))
        packed = rdb.lzf_compress(data, len(data) + 64)  # room for incompressible input
        assert packed is not None
        assert rdb.lzf_decompress(packed, len(data)) == data


def test_lzf_gives_up_when_it_does_not_save():
    rng = random.Random(1)
    data = bytes(rng.getrandbits(8) for _ in range(100))
    assert rdb.lzf_compress(data, len(data) - 4) is None
    assert rdb.encode_string(data, compress=True) == rdb.encode_length(100) + data


def test_lzf_decompress_refuses_bad_streams():
    packed = rdb.lzf_compress(b"a" * 100, 96)
    with pytest.raises(rdb.FormatError):
        rdb.lzf_decompress(packed, 99)  # wrong length
    with pytest.raises(rdb.FormatError):
        rdb.lzf_decompress(b"\x20\x05", 10)  # back reference before the start
    with pytest.raises(rdb.FormatError):
        rdb.lzf_decompress(b"\x05ab", 6)  # literal run past the input


@pytest.mark.parametrize("value,encoded", [
    (b"0", b"\xc0\x00"), (b"-128", b"\xc0\x80"), (b"127", b"\xc0\x7f"),
    (b"128", b"\xc1\x80\x00"), (b"-32768", b"\xc1\x00\x80"),
    (b"32768", b"\xc2\x00\x80\x00\x00"), (b"2147483647", b"\xc2\xff\xff\xff\x7f"),
    (b"2147483648", b"\x0a2147483648"), (b"007", b"\x03007"), (b"-0", b"\x02-0"),
    (b"+5", b"\x02+5"), (b"", b"\x00"),
])
def test_string_integer_encodings(value, encoded):
    assert rdb.encode_string(value) == encoded
    assert rdb.Reader(encoded).string() == value


@pytest.mark.parametrize("n,encoded", [
    (0, b"\x00"), (63, b"\x3f"), (64, b"\x40\x40"), (16383, b"\x7f\xff"),
    (16384, b"\x80\x00\x00\x40\x00"), (2**32, b"\x81" + (2**32).to_bytes(8, "big")),
])
def test_lengths(n, encoded):
    assert rdb.encode_length(n) == encoded
    assert rdb.Reader(encoded).length() == n


LISTPACK_VALUES = [
    b"0", b"127", b"128", b"-1", b"-4096", b"4095", b"4096", b"-4097", b"32767", b"-32768",
    b"32768", b"8388607", b"-8388608", b"8388608", b"2147483647", b"-2147483648",
    b"2147483648", b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808",
    b"", b"x" * 63, b"y" * 64, b"z" * 4095, b"w" * 4096, b"01", b"1.5", b"\x00\xff",
]


def test_listpack_round_trip_every_encoding():
    blob = rdb.listpack([rdb._listpack_entry(v) for v in LISTPACK_VALUES])
    assert rdb.listpack_entries(blob) == LISTPACK_VALUES


@pytest.mark.parametrize("value,first", [
    (b"5", 0x05), (b"-1", 0xDF), (b"300", 0xC1), (b"32767", 0xF1), (b"8388607", 0xF2),
    (b"2147483647", 0xF3), (b"9223372036854775807", 0xF4), (b"abc", 0x83),
    (b"a" * 100, 0xE0), (b"a" * 5000, 0xF0),
])
def test_listpack_encoding_chosen(value, first):
    assert rdb._listpack_entry(value)[0] == first


def test_listpack_backlen_of_long_entries():
    values = [b"a" * 200, b"b" * 20000, b"c"]
    blob = rdb.listpack([rdb._listpack_entry(v) for v in values])
    assert rdb.listpack_entries(blob) == values
    # The backlen of the 200-byte string entry (202 bytes) takes two bytes, last one first.
    entry = rdb._listpack_entry(values[0])
    assert entry[-2:] == bytes((202 >> 7, (202 & 127) | 128))


def test_ziplist_every_integer_encoding():
    ints = [0, 12, 13, -1, 127, -128, 128, 32767, -32768, 32768, 8388607, -8388608, 8388608,
            2147483647, -2147483648, 2147483648, 2**63 - 1, -(2**63)]
    strings = [b"", b"a", b"s" * 63, b"m" * 64, b"l" * 16384, b"n" * 300]
    blob = h.ziplist(ints + strings)
    assert rdb.ziplist_entries(blob) == [b"%d" % i for i in ints] + strings


def test_intset_widths():
    for width, values in ((2, [-5, 1, 300]), (4, [-70000, 70000]), (8, [-(2**40), 2**40])):
        blob = (width.to_bytes(4, "little") + len(values).to_bytes(4, "little")
                + b"".join(v.to_bytes(width, "little", signed=True) for v in values))
        assert rdb.intset_members(blob) == [b"%d" % v for v in values]
    with pytest.raises(rdb.FormatError):
        rdb.intset_members(b"\x03\x00\x00\x00\x01\x00\x00\x00\x01\x02\x03")


def test_dumps_loads_round_trip_every_kind():
    cases = [
        ("string", b"hello"), ("string", b"12345"), ("string", b"z" * 1000),
        ("list", [b"a", b"1", b"-300", b"x" * 9000, b"b"] * 50),
        ("set", [b"m%d" % i for i in range(600)]),
        ("zset", [(b"a", 1.5), (b"b", -math.inf), (b"c", math.inf), (b"d", -0.0)]),
        ("hash", [(b"f%d" % i, b"v" * i) for i in range(300)]),
    ]
    for kind, value in cases:
        assert rdb.loads(rdb.dumps(kind, value)) == (kind, value)


def test_old_encodings():
    assert rdb.loads(h.old_list([b"a", b"7"])) == ("list", [b"a", b"7"])
    assert rdb.loads(h.old_zset([(b"a", 1.25), (b"b", math.inf)])) == (
        "zset", [(b"a", 1.25), (b"b", math.inf)])
    zm = h.payload(rdb.RDB_TYPE_HASH_ZIPMAP, rdb.encode_string(h.zipmap([(b"f", b"v")])))
    assert rdb.loads(zm) == ("hash", [(b"f", b"v")])
    quick = h.payload(rdb.RDB_TYPE_LIST_QUICKLIST, b"\x02" + rdb.encode_string(h.ziplist([1, b"a"]))
                      + rdb.encode_string(h.ziplist([b"b"])))
    assert rdb.loads(quick) == ("list", [b"1", b"a", b"b"])


def test_trailer_checks():
    good = rdb.dumps("string", b"v")
    assert rdb.loads(good) == ("string", b"v")
    bad_crc = good[:-1] + bytes((good[-1] ^ 1,))
    newer = rdb.seal(b"\x00\x01v")[:-10] + b"\x0b\x00"
    newer += rdb.crc64(newer).to_bytes(8, "little")
    for payload in (b"", b"123456789", bad_crc, newer):
        with pytest.raises(rdb.ChecksumError):
            rdb.loads(payload)
    older = rdb.seal(b"\x00\x01v")[:-10] + b"\x06\x00"
    older += rdb.crc64(older).to_bytes(8, "little")
    assert rdb.loads(older) == ("string", b"v")


@pytest.mark.parametrize("body", [
    b"\x06\x00",  # module type
    b"\x0f\x00",  # stream of no nodes whose length runs into the trailer: 10, not 0
    b"\x2a\x00",  # unknown type
    b"\x00\x40\x30ab",  # truncated string (longer than the trailer too)
    b"\x02\x00",  # empty set
    b"\x02\x02\x01a\x01a",  # duplicate set member
    b"\x04\x02\x01f\x01v\x01f\x01w",  # duplicate hash field
    b"\x05\x01\x01a" + b"\x00\x00\x00\x00\x00\x00\xf8\x7f",  # NaN score
    b"\x12\x01\x03\x01a",  # unknown quicklist container
    b"\x10\x05hello",  # a hash listpack that is not a listpack
    b"\x00\xc3\x02\x05\x01a",  # LZF that does not decompress to its length
    b"\x00\xc4",  # unknown string encoding
])
def test_bad_format(body):
    with pytest.raises(rdb.FormatError):
        rdb.loads(rdb.seal(body))


def test_odd_listpack_for_a_hash():
    blob = rdb.listpack([rdb._listpack_entry(b"f")])
    with pytest.raises(rdb.FormatError):
        rdb.loads(h.payload(rdb.RDB_TYPE_HASH_LISTPACK, rdb.encode_string(blob)))


# --- streams ---------------------------------------------------------------------------------
def _stream(entries, groups=(), last=None, added=None, max_deleted=(0, 0)):
    return {"entries": entries, "last": last or entries[-1][0],
            "added": len(entries) if added is None else added, "max_deleted": max_deleted,
            "groups": list(groups)}


def test_stream_round_trip_and_samefields():
    entries = [((1, 5), [b"a", b"1", b"b", b"x"]), ((1, 6), [b"a", b"-7", b"b", b""]),
               ((2, 0), [b"c", b"y" * 300]),  # seq below the master's: a negative diff
               ((2**64 - 1, 3), [b"a", b"1", b"b", b"2"])]  # ms diff wraps around int64
    entries += [((3, i), [b"n", b"%d" % i]) for i in range(250)]
    entries.sort()
    group = {"name": b"g", "last": (2, 0), "entries_read": -1,
             "consumers": [(b"alice", 1700000000000), (b"bob", 5)],
             "pending": [((1, 5), 17, 2, b"bob"), ((1, 6), 18, 1, b"alice"),
                         ((2, 0), 19, 9, b"bob")]}
    value = _stream(entries, [group], added=300, max_deleted=(1, 4))
    payload = rdb.dumps("stream", value)
    assert payload[0] == rdb.RDB_TYPE_STREAM_LISTPACKS_2
    kind, back = rdb.loads(payload)
    assert kind == "stream"
    assert back == value
    # entries with the node's first field names are written SAMEFIELDS: values only
    assert payload.count(b"\x81a\x02") < 10


def _node(master, items):
    key = rdb.encode_string(master[0].to_bytes(8, "big") + master[1].to_bytes(8, "big"))
    return key + rdb.encode_string(rdb.listpack([rdb._listpack_entry(i) for i in items]))


def test_stream_deleted_entries_are_skipped_and_type_15_loads():
    # master: 1 valid, 1 deleted, fields [f]; entry 1-1 deleted (flags 3), entry 1-2 live
    node = _node((1, 1), [b"1", b"1", b"1", b"f", b"0",
                          b"3", b"0", b"0", b"v", b"4",
                          b"2", b"0", b"1", b"w", b"4"])
    tail = b"".join(rdb.encode_length(n) for n in (1, 1, 2))  # length, last id
    groups = rdb.encode_length(1) + rdb.encode_string(b"g") + b"\x01\x01"  # last 1-1
    groups += b"\x00\x00"  # no PEL, no consumer
    _, value = rdb.loads(rdb.seal(b"\x0f\x01" + node + tail + groups))
    assert value["entries"] == [((1, 2), [b"f", b"w"])]
    # type 15 has no entries-added / max-deleted / entries-read: Redis derives them
    assert value["added"] == 1 and value["max_deleted"] == (0, 0)
    assert value["groups"][0]["entries_read"] == 0  # before the first entry


@pytest.mark.parametrize(("name", "reason"), [
    ("lp-count", "lp-count"), ("counts", "counts mismatch"), ("length", "length or last ID"),
    ("order", "out of order"), ("pel-owner", "not in the group PEL"),
    ("pel-orphan", "without a consumer"), ("duplicate-group", "duplicate consumer group"),
    ("node-key", "16 bytes")])
def test_stream_bad_format(name, reason):
    good = [b"1", b"0", b"1", b"f", b"0", b"2", b"0", b"0", b"v", b"4"]
    items, length, node_key = list(good), 1, (1, 1)
    group = b"\x01" + rdb.encode_string(b"g") + b"\x01\x01\x01"  # last 1-1, entries-read 1
    pel = b"\x01" + (1).to_bytes(8, "big") + (1).to_bytes(8, "big") + bytes(8) + b"\x01"
    consumer = rdb.encode_string(b"c") + bytes(8) + b"\x01" + pel[1:17]
    if name == "lp-count":
        items[-1] = b"5"
    elif name == "counts":
        items[0] = b"2"
    elif name == "length":
        length = 2
    elif name == "order":
        items += [b"2", b"0", b"0", b"v", b"4"]  # the same ID twice
        items[0] = b"2"
    elif name == "pel-owner":
        consumer = rdb.encode_string(b"c") + bytes(8) + b"\x01" + (9).to_bytes(16, "big")
    elif name == "pel-orphan":
        consumer = rdb.encode_string(b"c") + bytes(8) + b"\x00"
    elif name == "duplicate-group":
        group = b"\x02" + group[1:] + pel + b"\x01" + consumer + group[1:]
    body = b"\x13\x01" + _node(node_key, items)
    if name == "node-key":
        body = b"\x13\x01\x05short" + _node(node_key, items)[17:]
    body += b"".join(rdb.encode_length(n) for n in (length, 1, 1, 1, 1, 0, 0, 1))
    body += group + pel + b"\x01" + consumer
    with pytest.raises(rdb.FormatError, match=reason):
        rdb.loads(rdb.seal(body))


def test_stream_bad_format_cases_are_otherwise_good():
    """The base of test_stream_bad_format loads: each case fails for its own defect."""
    items = [b"1", b"0", b"1", b"f", b"0", b"2", b"0", b"0", b"v", b"4"]
    group = b"\x01" + rdb.encode_string(b"g") + b"\x01\x01\x01"
    pel = b"\x01" + (1).to_bytes(8, "big") + (1).to_bytes(8, "big") + bytes(8) + b"\x01"
    consumer = rdb.encode_string(b"c") + bytes(8) + b"\x01" + pel[1:17]
    body = b"\x13\x01" + _node((1, 1), items)
    body += b"".join(rdb.encode_length(n) for n in (1, 1, 1, 1, 1, 0, 0, 1))
    body += group + pel + b"\x01" + consumer
    _, value = rdb.loads(rdb.seal(body))
    assert value["groups"][0]["pending"] == [((1, 1), 0, 1, b"c")]
