"""String and bitmap commands, black-box through a real ledis server (redis-py over TCP),
plus a few checks against the storage layer (WRONGTYPE on collections, sub-key cleanup when a
SET overwrites a collection) that run the dispatcher in-process.

Exact reply and error texts are Redis 7.0's (checked against redis-server; the differential
module test_strings_diff.py compares whole command sequences with it).
"""

from __future__ import annotations

import time

import pytest
import redis

from ledis.errors import LedisError
from tests.test_replication import wait_until


def err(client: redis.Redis, *args) -> str:
    """The error text of a command that must fail."""
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


# --- GET / SET -------------------------------------------------------------------------------
def test_set_get_binary_and_empty(r):
    assert r.set(b"k\x00ey", b"v\x00\r\n\xff") is True
    assert r.get(b"k\x00ey") == b"v\x00\r\n\xff"
    assert r.set("empty", b"") is True
    assert r.get("empty") == b""
    assert r.exists("empty") == 1
    assert r.get("missing") is None
    big = bytes(range(256)) * 4096  # 1 MiB
    r.set("big", big)
    assert r.get("big") == big
    assert r.strlen("big") == len(big)


def test_set_nx_xx(r):
    assert r.set("k", "1", nx=True) is True
    assert r.set("k", "2", nx=True) is None
    assert r.get("k") == b"1"
    assert r.set("k", "3", xx=True) is True
    assert r.set("other", "3", xx=True) is None
    assert r.exists("other") == 0
    assert r.get("k") == b"3"


def test_set_get_option(r):
    assert r.set("k", "a", get=True) is None
    assert r.set("k", "b", get=True) == b"a"
    # NX + GET (allowed since 7.0): returns the old value and does not write.
    assert r.execute_command("SET", "k", "c", "NX", "GET", get=True) == b"b"
    assert r.get("k") == b"b"
    assert r.execute_command("SET", "new", "c", "XX", "GET", get=True) is None
    assert r.exists("new") == 0


def test_set_expiry_options(r):
    r.set("k", "v", ex=100)
    assert 98 <= r.ttl("k") <= 100
    r.set("k", "v", px=100000)
    assert 98000 <= r.pttl("k") <= 100000
    at = int(time.time()) + 200
    r.set("k", "v", exat=at)
    assert 198 <= r.ttl("k") <= 200
    r.set("k", "v", pxat=at * 1000)
    assert 198 <= r.ttl("k") <= 200
    r.set("k", "w", keepttl=True)
    assert 198 <= r.ttl("k") <= 200
    assert r.get("k") == b"w"
    r.set("k", "x")  # a plain SET clears the TTL
    assert r.ttl("k") == -1
    # An absolute time in the past: OK, and the key reads as missing. As in Redis 7.0 it is
    # stored expired (SET publishes set and expire, not del), so DBSIZE counts it until the
    # expiry cycle removes it (Redis: until a read or its cycle does).
    assert r.set("k", "y", exat=1) is True
    assert r.exists("k") == 0
    assert r.get("k") is None
    assert r.ttl("k") == -2
    wait_until(lambda: r.dbsize() == 0, what="the expiry cycle removing the expired key")


def test_set_expired_key_reads_missing_and_is_replaced(r):
    r.set("k", "v", px=30)
    time.sleep(0.08)
    assert r.get("k") is None
    assert r.set("k", "again", nx=True) is True
    assert r.ttl("k") == -1
    assert r.get("k") == b"again"
    assert r.dbsize() == 1


@pytest.mark.parametrize("args", [
    ("NX", "XX"), ("XX", "NX"), ("EX", "10", "PX", "10"), ("KEEPTTL", "EX", "10"),
    ("EX", "10", "KEEPTTL"), ("EXAT", "10", "PXAT", "10"), ("EX",), ("PERSIST",), ("BOGUS",),
    ("EX", "abc", "NX", "XX"),
])
def test_set_syntax_errors(r, args):
    assert err(r, "SET", "k", "v", *args) == "syntax error"
    assert r.exists("k") == 0


@pytest.mark.parametrize("args", [("EX", "0"), ("PX", "-1"), ("EXAT", "0"), ("PXAT", "-5"),
                                  ("EX", "9223372036854775807"), ("PX", "9223372036854775807")])
def test_set_invalid_expire(r, args):
    assert err(r, "SET", "k", "v", *args) == "invalid expire time in 'set' command"


def test_set_expire_not_integer(r):
    assert err(r, "SET", "k", "v", "EX", "1.5") == "value is not an integer or out of range"
    assert err(r, "SET", "k", "v", "PX", "") == "value is not an integer or out of range"


def test_setnx_setex_psetex(r):
    assert r.setnx("k", "1") is True
    assert r.setnx("k", "2") is False
    assert r.get("k") == b"1"
    assert r.execute_command("SETEX", "k", 100, "x") is True
    assert 98 <= r.ttl("k") <= 100
    assert r.execute_command("PSETEX", "k", 100000, "y") is True
    assert 98000 <= r.pttl("k") <= 100000
    assert err(r, "SETEX", "k", "0", "v") == "invalid expire time in 'setex' command"
    assert err(r, "PSETEX", "k", "-3", "v") == "invalid expire time in 'psetex' command"
    assert err(r, "SETEX", "k", "x", "v") == "value is not an integer or out of range"
    assert r.get("k") == b"y"


def test_getset_getdel(r):
    assert r.getset("k", "1") is None
    r.expire("k", 100)
    assert r.getset("k", "2") == b"1"
    assert r.ttl("k") == -1  # GETSET clears the TTL, like SET
    assert r.getdel("k") == b"2"
    assert r.getdel("k") is None
    assert r.exists("k") == 0
    assert r.dbsize() == 0


def test_getex(r):
    assert r.getex("missing", ex=10) is None
    r.set("k", "v")
    assert r.getex("k") == b"v"
    assert r.ttl("k") == -1
    assert r.getex("k", ex=100) == b"v"
    assert 98 <= r.ttl("k") <= 100
    assert r.getex("k", persist=True) == b"v"
    assert r.ttl("k") == -1
    assert r.getex("k", px=50000) == b"v"
    assert 48000 <= r.pttl("k") <= 50000
    assert r.getex("k", exat=int(time.time()) + 300) == b"v"
    assert 298 <= r.ttl("k") <= 300
    assert r.getex("k", pxat=1) == b"v"  # in the past: deleted after the reply
    assert r.exists("k") == 0
    r.set("k", "v")
    assert err(r, "GETEX", "k", "EX", "0") == "invalid expire time in 'getex' command"
    assert err(r, "GETEX", "k", "EX", "5", "PERSIST") == "syntax error"
    assert err(r, "GETEX", "k", "KEEPTTL") == "syntax error"
    assert err(r, "GETEX", "k", "NX") == "syntax error"
    # Redis looks the key up before validating the time: a missing key answers nil.
    assert r.execute_command("GETEX", "nokey", "EX", "abc") is None


def test_mget_mset_msetnx(r):
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "c") == [b"1", b"2", None]
    assert r.execute_command("MSET", "a", "x", "a", "y") is True
    assert r.get("a") == b"y"
    assert err(r, "MSET", "a", "1", "b") == "wrong number of arguments for 'mset' command"
    assert err(r, "MSETNX", "a") == "wrong number of arguments for 'msetnx' command"
    assert r.msetnx({"a": "1", "z": "2"}) is False
    assert r.exists("z") == 0
    assert r.msetnx({"y": "1", "z": "2"}) is True
    assert r.mget("y", "z") == [b"1", b"2"]
    r.expire("y", 100)
    r.mset({"y": "3"})
    assert r.ttl("y") == -1


# --- counters --------------------------------------------------------------------------------
def test_incr_decr(r):
    assert r.incr("n") == 1
    assert r.incr("n", 10) == 11
    assert r.decr("n") == 10
    assert r.decr("n", 15) == -5
    assert r.get("n") == b"-5"
    r.set("n", "9223372036854775806")
    assert r.incr("n") == 9223372036854775807
    assert err(r, "INCR", "n") == "increment or decrement would overflow"
    r.set("n", "-9223372036854775808")
    assert err(r, "DECR", "n") == "increment or decrement would overflow"
    assert err(r, "DECRBY", "x", "-9223372036854775808") == "decrement would overflow"
    assert err(r, "INCRBY", "x", "1.0") == "value is not an integer or out of range"
    assert err(r, "INCRBY", "x", "9223372036854775808") == "value is not an integer or out of range"


@pytest.mark.parametrize("stored", ["abc", " 1", "1 ", "01", "+1", "-0", "", "1.0",
                                    "99999999999999999999"])
def test_incr_rejects_non_integers(r, stored):
    r.set("n", stored)
    assert err(r, "INCR", "n") == "value is not an integer or out of range"
    assert r.get("n") == stored.encode()



def test_hot_counter_shared_with_other_keys_and_writes(r):
    """INCR remembers the record it wrote last (string.incr_plain): copies of that record,
    overwrites, TTLs and other counters in between must all still count right."""
    assert [r.incr("c1") for _ in range(3)] == [1, 2, 3]
    assert r.copy("c1", "c2") is True
    assert r.incr("c2") == 4 and r.incr("c1") == 4
    r.rename("c1", "c3")
    assert r.incrby("c3", 10) == 14 and r.incr("c2") == 5
    r.set("c3", "14")
    assert r.incr("c3") == 15
    r.expire("c3", 100)
    assert r.incr("c3") == 16 and 98 <= r.ttl("c3") <= 100
    r.set("c2", "9223372036854775806")
    assert r.incr("c2") == 9223372036854775807
    assert err(r, "INCR", "c2") == "increment or decrement would overflow"
    assert r.decr("c2") == 9223372036854775806
    r.set("c2", "x")
    assert err(r, "INCR", "c2") == "value is not an integer or out of range"
    assert r.mget("c2", "c3") == [b"x", b"16"]
    assert r.dbsize() == 2 and r.incr("c4") == 1 and r.dbsize() == 3

def test_incr_of_new_and_expired_keys(r):
    """INCR/INCRBY/DECR of a missing key write the counter directly (string.incr_plain): the
    key counts (DBSIZE, INFO keyspace), carries no TTL, and an expired key restarts from 0."""
    assert [r.incr("new:1"), r.incrby("new:2", 9223372036854775807), r.decr("new:3")] == [
        1, 9223372036854775807, -1]
    assert r.dbsize() == 3 and r.info("keyspace")["db0"]["keys"] == 3
    assert err(r, "INCR", "new:2") == "increment or decrement would overflow"
    assert r.ttl("new:1") == -1 and r.get("new:3") == b"-1"
    r.set("gone", "41", px=1)
    time.sleep(0.01)
    assert r.incr("gone") == 1 and r.ttl("gone") == -1
    assert r.dbsize() == 4


def test_incr_keeps_ttl(r):
    r.set("n", "5", ex=100)
    assert r.incr("n") == 6
    assert 98 <= r.ttl("n") <= 100
    r.set("f", "1.5", ex=100)
    assert r.incrbyfloat("f", 1) == 2.5
    assert 98 <= r.ttl("f") <= 100


@pytest.mark.parametrize("start, incr, expected", [
    ("10.5", "0.1", b"10.6"),
    ("3.0e3", "0", b"3000"),
    ("5.0", ".5", b"5.5"),
    ("0", "-0.1", b"-0.1"),
    ("1", "1e-20", b"1"),  # below long double precision
    ("0", "1e-17", b"0.00000000000000001"),
    ("0", "5e-18", b"0"),
    ("3", "-3", b"0"),
    ("0", "1.23456789012345678901", b"1.23456789012345679"),
    ("0", "0x1.8p1", b"3"),
    ("12345678901234567890", "0.1", b"12345678901234567890"),  # ulp is 1 there
])
def test_incrbyfloat_formatting(r, start, incr, expected):
    r.response_callbacks.clear()  # the exact reply bytes, not redis-py's float
    r.set("f", start)
    assert r.execute_command("INCRBYFLOAT", "f", incr) == expected
    assert r.get("f") == expected


def test_incrbyfloat_huge_value_prints_all_digits(r):
    r.response_callbacks.clear()
    reply = r.execute_command("INCRBYFLOAT", "f", "1e300")
    assert reply.startswith(b"10000000000000000000089973240795591938705239442732907479382600823")
    assert len(reply) == 301 and b"." not in reply


@pytest.mark.parametrize("incr", ["abc", " 1", "1 ", "nan", "1e5000", "1e-5000", "1e", ".", "",
                                  "1_0"])
def test_incrbyfloat_rejects_bad_increment(r, incr):
    assert err(r, "INCRBYFLOAT", "f", incr) == "value is not a valid float"
    assert r.exists("f") == 0


def test_incrbyfloat_infinity_and_bad_value(r):
    assert err(r, "INCRBYFLOAT", "f", "inf") == "increment would produce NaN or Infinity"
    r.set("f", "1e4932")
    assert err(r, "INCRBYFLOAT", "f", "1e4932") == "increment would produce NaN or Infinity"
    r.set("f", "abc")
    assert err(r, "INCRBYFLOAT", "f", "1") == "value is not a valid float"


# --- APPEND / STRLEN / ranges ----------------------------------------------------------------
def test_append_strlen(r):
    assert r.append("k", b"he\x00") == 3
    assert r.append("k", "llo") == 6
    assert r.append("k", "") == 6
    assert r.get("k") == b"he\x00llo"
    assert r.strlen("k") == 6
    assert r.strlen("missing") == 0


@pytest.mark.parametrize("start, end, expected", [
    (0, 3, b"This"), (-3, -1, b"ing"), (0, -1, b"This is a string"), (10, 100, b"string"),
    (-1, -5, b""), (5, 2, b""), (-100, 3, b"This"), (100, 200, b""), (0, -100, b"T"),
    (-100, -99, b"T"),
])
def test_getrange(r, start, end, expected):
    r.set("k", "This is a string")
    assert r.getrange("k", start, end) == expected
    assert r.execute_command("SUBSTR", "k", start, end) == expected


def test_getrange_missing_and_errors(r):
    assert r.getrange("missing", 0, -1) == b""
    assert err(r, "GETRANGE", "k", "a", "1") == "value is not an integer or out of range"


def test_setrange(r):
    r.set("k", "Hello World")
    assert r.setrange("k", 6, "Redis") == 11
    assert r.get("k") == b"Hello Redis"
    assert r.setrange("k", 15, "!") == 16
    assert r.get("k") == b"Hello Redis\x00\x00\x00\x00!"
    assert r.setrange("pad", 3, b"\x00x") == 5
    assert r.get("pad") == b"\x00\x00\x00\x00x"
    assert r.setrange("nokey", 5, "") == 0
    assert r.exists("nokey") == 0
    assert r.setrange("k", 100, "") == 16
    assert err(r, "SETRANGE", "k", "-1", "x") == "offset is out of range"
    assert err(r, "SETRANGE", "k", "536870911", "xx") == (
        "string exceeds maximum allowed size (proto-max-bulk-len)")


def test_proto_max_bulk_len_limits(fresh_server, tmp_path):
    limit = 1048576  # the smallest value Redis (and ledis's config check) accepts: 1mb
    config = tmp_path / "ledis.yaml"
    config.write_text(f"proto_max_bulk_len: {limit}\n")
    c = fresh_server(config=str(config)).client()
    c.set("k", "x" * (limit - 10))
    assert err(c, "APPEND", "k", "y" * 11) == (
        "string exceeds maximum allowed size (proto-max-bulk-len)")
    assert c.append("k", "y" * 10) == limit
    assert err(c, "SETRANGE", "k", str(limit - 5), "123456") == (
        "string exceeds maximum allowed size (proto-max-bulk-len)")
    assert err(c, "SETBIT", "k", str(8 * limit), "1") == (
        "bit offset is not an integer or out of range")
    assert c.setbit("k", 8 * (limit - 1) + 6, 1) == 0  # the last byte is "y": 0b01111001
    assert err(c, "BITFIELD", "k", "GET", "u8", f"#{limit}") == (
        "bit offset is not an integer or out of range")
    c.set("short", "abcd")
    assert err(c, "LCS", "k", "short") == (
        "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    assert c.execute_command("LCS", "short", "short", "LEN") == 4


# --- LCS -------------------------------------------------------------------------------------
def test_lcs(r):
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r.execute_command("LCS", "a", "b") == b"mytext"
    assert r.execute_command("LCS", "a", "b", "LEN") == 6
    assert r.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert r.execute_command("LCS", "a", "b", "IDX") == [
        b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert r.execute_command("LCS", "a", "missing") == b""
    assert err(r, "LCS", "a", "b", "LEN", "IDX") == (
        "If you want both the length and indexes, please just use IDX.")
    assert err(r, "LCS", "a", "b", "FOO") == "syntax error"


def test_lcs_idx_is_a_map_in_resp3(r3):
    r3.mset({"a": "ohmytext", "b": "mynewtext"})
    reply = r3.execute_command("LCS", "a", "b", "IDX")
    assert reply == {b"matches": [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len": 6}


def test_lcs_long_strings_length_matches_table(r):
    import random

    rng = random.Random(7)
    a = bytes(rng.choice(b"acgt") for _ in range(300))
    b = bytes(rng.choice(b"acgt") for _ in range(280))
    r.mset({"a": a, "b": b})
    text = r.execute_command("LCS", "a", "b")
    assert r.execute_command("LCS", "a", "b", "LEN") == len(text)
    it = iter(a)
    assert all(ch in it for ch in text)  # a subsequence of a
    it = iter(b)
    assert all(ch in it for ch in text)  # and of b


# --- bits ------------------------------------------------------------------------------------
def test_setbit_getbit(r):
    assert r.setbit("b", 7, 1) == 0
    assert r.get("b") == b"\x01"
    assert r.setbit("b", 7, 0) == 1
    assert r.setbit("b", 0, 1) == 0
    assert r.get("b") == b"\x80"
    assert r.getbit("b", 0) == 1
    assert r.getbit("b", 1) == 0
    assert r.getbit("b", 10**6) == 0
    assert r.getbit("missing", 3) == 0
    assert r.setbit("big", 8 * 1_000_000 + 3, 1) == 0  # grows the string, zero padded
    assert r.strlen("big") == 1_000_001
    assert r.getbit("big", 8 * 1_000_000 + 3) == 1
    assert r.bitcount("big") == 1
    assert err(r, "SETBIT", "b", "-1", "1") == "bit offset is not an integer or out of range"
    assert err(r, "SETBIT", "b", "4294967296", "1") == (
        "bit offset is not an integer or out of range")
    assert err(r, "SETBIT", "b", "1", "2") == "bit is not an integer or out of range"
    assert err(r, "GETBIT", "b", "x") == "bit offset is not an integer or out of range"


def test_bitcount(r):
    r.set("s", "foobar")
    assert r.bitcount("s") == 26
    assert r.bitcount("s", 0, 0) == 4
    assert r.bitcount("s", 1, 1) == 6
    assert r.bitcount("s", 1, 1, "BYTE") == 6
    assert r.bitcount("s", 5, 30, "BIT") == 17
    assert r.bitcount("s", -1, -5) == 0
    assert r.bitcount("missing") == 0
    assert err(r, "BITCOUNT", "s", "0") == "syntax error"
    assert err(r, "BITCOUNT", "s", "0", "1", "WORD") == "syntax error"
    assert err(r, "BITCOUNT", "s", "a", "1") == "value is not an integer or out of range"
    # A missing key answers 0 before its arguments are even looked at (as Redis).
    assert r.execute_command("BITCOUNT", "missing", "a") == 0


def test_bitpos(r):
    r.set("p", b"\xff\xf0\x00")
    assert r.bitpos("p", 0) == 12
    assert r.bitpos("p", 1) == 0
    r.set("p", b"\x00\xff\xf0")
    assert r.bitpos("p", 1, 0) == 8
    assert r.bitpos("p", 1, 2) == 16
    assert r.bitpos("p", 1, 2, -1, "BYTE") == 16
    assert r.bitpos("p", 1, 7, 15, "BIT") == 8
    assert r.bitpos("p", 0, 8, 11, "BIT") == -1
    r.set("ones", b"\xff\xff")
    assert r.bitpos("ones", 0) == 16  # past the end: clear bits are implied
    assert r.bitpos("ones", 0, 0, -1) == -1  # an explicit end: none in range
    assert r.bitpos("missing", 0) == 0
    assert r.bitpos("missing", 1) == -1
    assert err(r, "BITPOS", "p", "2") == "The bit argument must be 1 or 0."
    assert err(r, "BITPOS", "p", "1", "0", "1", "WORD") == "syntax error"


def test_bitop(r):
    r.set("a", b"\xff\x0f")
    r.set("b", b"\xf0")
    assert r.bitop("AND", "d", "a", "b") == 2
    assert r.get("d") == b"\xf0\x00"
    assert r.bitop("OR", "d", "a", "b") == 2
    assert r.get("d") == b"\xff\x0f"
    assert r.bitop("XOR", "d", "a", "b") == 2
    assert r.get("d") == b"\x0f\x0f"
    assert r.bitop("NOT", "d", "a") == 2
    assert r.get("d") == b"\x00\xf0"
    assert r.bitop("AND", "d", "a", "missing") == 2
    assert r.get("d") == b"\x00\x00"
    r.expire("d", 100)
    assert r.bitop("OR", "d", "a") == 2
    assert r.ttl("d") == -1
    assert r.bitop("OR", "d", "missing") == 0
    assert r.exists("d") == 0
    assert err(r, "BITOP", "NOT", "d", "a", "b") == (
        "BITOP NOT must be called with a single source key.")
    assert err(r, "BITOP", "NAND", "d", "a") == "syntax error"


def test_bitfield(r):
    def bitfield(*args):
        return r.execute_command("BITFIELD", *args)

    assert bitfield("bf", "SET", "i8", "0", "100", "GET", "i8", "0") == [0, 100]
    assert bitfield("bf", "INCRBY", "i8", "0", "100") == [-56]
    assert bitfield("bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-100") == [-128]
    assert bitfield("bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1", "GET", "u8", "0") == [
        None, 128]
    assert bitfield("bf", "SET", "u8", "#1", "255", "GET", "u4", "#2") == [0, 15]
    assert bitfield("bf", "OVERFLOW", "WRAP", "INCRBY", "u2", "100", "5") == [1]
    assert r.execute_command("BITFIELD", "x", "SET", "i64", "0", "-9223372036854775808",
                             "INCRBY", "i64", "0", "-1") == [0, 9223372036854775807]
    assert r.execute_command("BITFIELD_RO", "x", "GET", "i64", "0") == [9223372036854775807]
    assert r.execute_command("BITFIELD", "bf") == []
    assert r.execute_command("BITFIELD", "missing", "GET", "u8", "0") == [0]
    assert r.exists("missing") == 0
    # A write whose every op FAILs still creates the key, padded up to the field.
    assert bitfield("new", "OVERFLOW", "FAIL", "INCRBY", "u8", "16", "300") == [None]
    assert r.get("new") == b"\x00\x00\x00"


@pytest.mark.parametrize("args, message", [
    (("GET", "u64", "0"), "Invalid bitfield type. Use something like i16 u8. Note that u64 is "
                          "not supported but i64 is."),
    (("GET", "i65", "0"), "Invalid bitfield type. Use something like i16 u8. Note that u64 is "
                          "not supported but i64 is."),
    (("GET", "U8", "0"), "Invalid bitfield type. Use something like i16 u8. Note that u64 is "
                         "not supported but i64 is."),
    (("GET", "u8", "-1"), "bit offset is not an integer or out of range"),
    (("GET", "u8", "#x"), "bit offset is not an integer or out of range"),
    (("SET", "u8", "0", "1.5"), "value is not an integer or out of range"),
    (("OVERFLOW", "BOUNCE", "GET", "u8", "0"), "Invalid OVERFLOW type specified"),
    (("GET", "u8"), "syntax error"),
    (("FOO",), "syntax error"),
])
def test_bitfield_errors(r, args, message):
    assert err(r, "BITFIELD", "bf", *args) == message
    assert r.exists("bf") == 0


def test_bitfield_ro(r):
    r.set("k", b"\x0f")
    assert r.execute_command("BITFIELD_RO", "k", "GET", "u4", "4", "GET", "i4", "4") == [15, -1]
    assert err(r, "BITFIELD_RO", "k", "SET", "u8", "0", "1") == (
        "BITFIELD_RO only supports the GET subcommand")
    assert err(r, "BITFIELD_RO", "k", "INCRBY", "u8", "0", "1") == (
        "BITFIELD_RO only supports the GET subcommand")
    assert r.get("k") == b"\x0f"


# --- arity -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ("GET",), ("GET", "a", "b"), ("SET", "a"), ("SETNX", "a"), ("SETEX", "a", "1"),
    ("PSETEX", "a", "1"), ("GETSET", "a"), ("GETDEL",), ("GETEX",), ("MGET",), ("MSET", "a"),
    ("MSETNX", "a"), ("INCR",), ("DECR", "a", "b"), ("INCRBY", "a"), ("DECRBY", "a"),
    ("INCRBYFLOAT", "a"), ("APPEND", "a"), ("STRLEN",), ("GETRANGE", "a", "0"),
    ("SUBSTR", "a", "0"), ("SETRANGE", "a", "0"), ("LCS", "a"), ("SETBIT", "a", "0"),
    ("GETBIT", "a"), ("BITCOUNT",), ("BITPOS", "a"), ("BITOP", "AND", "d"), ("BITFIELD",),
    ("BITFIELD_RO",),
])
def test_wrong_arity(r, args):
    assert err(r, *args) == f"wrong number of arguments for '{args[0].lower()}' command"


# --- WRONGTYPE over the wire ------------------------------------------------------------------
MAKERS = {
    "hash": ("HSET", "h", "f", "v"), "list": ("RPUSH", "h", "a", "b"),
    "set": ("SADD", "h", "m"), "zset": ("ZADD", "h", "1", "m"),
}


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_wrongtype_over_tcp(r, kind):
    r.execute_command(*MAKERS[kind])
    for argv in WRONGTYPE_COMMANDS:
        assert err(r, *argv) == (
            "WRONGTYPE Operation against a key holding the wrong kind of value"), argv
    assert r.type("h") == kind.encode()
    assert r.mget("h") == [None]
    assert err(r, "LCS", "h", "h") == "The specified keys must contain string values"
    assert r.setnx("h", "v") is False
    assert r.set("h", "v") is True  # a plain SET replaces any type
    assert r.type("h") == b"string"
    assert r.get("h") == b"v"
    r.execute_command(*MAKERS[kind][:1], "h2", *MAKERS[kind][2:])
    assert r.bitop("OR", "h2", "h") == 1  # BITOP's destination may hold any type
    assert r.get("h2") == b"v"


# --- WRONGTYPE and overwriting collections (in-process, through the dispatcher) ----------------
@pytest.fixture
def core(tmp_path):
    from ledis.config import Config
    from ledis.server.compose import build, load_commands

    load_commands()
    instance = build(Config(dir=str(tmp_path / "db")))
    yield instance
    instance.close()


def _make_collection(db, key: bytes, subkeys: int = 3) -> bytes:
    """A hash-typed metadata record with ``subkeys`` fields, written straight through the gate."""
    from ledis.storage import layout

    version = db.new_version()
    db.replace(key, layout.COLLECTION.pack(layout.HASH, 0, version, subkeys), None)
    prefix = layout.sub_prefix(db.index, version)
    for i in range(subkeys):
        db.engine.put(layout.DATA, prefix + b"field%d" % i, b"value")
    return prefix


WRONGTYPE_COMMANDS = [
    ["GET", "h"], ["SET", "h", "v", "GET"], ["GETSET", "h", "v"], ["GETDEL", "h"],
    ["GETEX", "h", "EX", "10"], ["INCR", "h"], ["DECR", "h"], ["INCRBY", "h", "1"],
    ["DECRBY", "h", "1"], ["INCRBYFLOAT", "h", "1"], ["APPEND", "h", "x"], ["STRLEN", "h"],
    ["GETRANGE", "h", "0", "1"], ["SUBSTR", "h", "0", "1"], ["SETRANGE", "h", "0", "x"],
    ["SETBIT", "h", "0", "1"], ["GETBIT", "h", "0"], ["BITCOUNT", "h"], ["BITPOS", "h", "1"],
    ["BITOP", "AND", "dest", "h"], ["BITFIELD", "h", "GET", "u8", "0"],
    ["BITFIELD", "h", "SET", "u8", "0", "1"], ["BITFIELD_RO", "h", "GET", "u8", "0"],
]


@pytest.mark.parametrize("argv", WRONGTYPE_COMMANDS, ids=lambda a: " ".join(a))
def test_wrongtype_on_collections(core, argv):
    ctx = core.new_context()
    _make_collection(ctx.db, b"h")
    with pytest.raises(LedisError) as info:
        core.dispatch(ctx, [a.encode() for a in argv])
    assert info.value.text == "WRONGTYPE Operation against a key holding the wrong kind of value"
    assert ctx.db.lookup(b"h")[0] != 1  # untouched


def test_non_strings_in_mget_lcs_and_nx(core):
    ctx = core.new_context()
    _make_collection(ctx.db, b"h")
    run = lambda *a: core.dispatch(ctx, [x.encode() for x in a])  # noqa: E731
    run("SET", "s", "v")
    assert run("MGET", "s", "h", "x") == [b"v", None, None]
    with pytest.raises(LedisError) as info:
        run("LCS", "s", "h")
    assert info.value.text == "ERR The specified keys must contain string values"
    assert run("SETNX", "h", "v") == 0
    assert run("MSETNX", "h", "v", "y", "w") == 0
    assert run("SET", "h", "v", "NX") is None
    assert run("SET", "h", "v", "XX") == b"OK"


@pytest.mark.parametrize("argv", [
    ["SET", "h", "v"], ["SET", "h", "v", "EX", "100"], ["SETEX", "h", "100", "v"],
    ["MSET", "h", "v"], ["BITOP", "OR", "h", "s"], ["GETSET", "s2", "v"],
])
def test_set_over_collection_drops_its_subkeys(core, argv):
    from ledis.storage import layout

    ctx = core.new_context()
    db = ctx.db
    core.dispatch(ctx, [b"SET", b"s", b"v"])
    prefix = _make_collection(db, b"h")
    end = layout.prefix_end(prefix)
    assert len(list(db.engine.iterate(layout.DATA, prefix, end))) == 3
    keys_before = db.keys
    core.dispatch(ctx, [a.encode() for a in argv])
    if argv[1] == "h" or argv[2] == "h":
        assert list(db.engine.iterate(layout.DATA, prefix, end)) == []
        assert core.dispatch(ctx, [b"GET", b"h"]) is not None
        assert db.keys == keys_before
    core.commit()
    assert db.lookup(b"h") is not None


def test_counts_stay_exact(core):
    ctx = core.new_context()
    db = ctx.db
    run = lambda *a: core.dispatch(ctx, [x.encode() for x in a])  # noqa: E731
    run("SET", "a", "1")
    run("SET", "a", "2")
    run("SET", "b", "1", "EX", "100")
    run("MSET", "c", "1", "a", "3")
    assert (db.keys, db.expires) == (3, 1)
    run("SET", "b", "2")  # clears the TTL
    assert (db.keys, db.expires) == (3, 0)
    run("GETEX", "b", "PX", "100000")
    assert (db.keys, db.expires) == (3, 1)
    run("GETDEL", "b")
    run("SET", "c", "x", "PXAT", "1")  # stored expired, counted until removed
    assert (db.keys, db.expires) == (2, 1)
    run("DEL", "c")
    assert (db.keys, db.expires) == (1, 0)
    run("BITOP", "AND", "a", "nothing")
    assert (db.keys, db.expires) == (0, 0)


# --- persistence -----------------------------------------------------------------------------
def test_strings_survive_restart(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.set("plain", b"v\x00")
    c.set("ttl", "x", ex=1000)
    c.incrbyfloat("f", "1.5")
    c.setbit("bits", 20, 1)
    srv.restart()
    c = srv.client()
    assert c.get("plain") == b"v\x00"
    assert 990 <= c.ttl("ttl") <= 1000
    assert c.get("f") == b"1.5"
    assert c.getbit("bits", 20) == 1
    assert c.dbsize() == 4


# --- declarations match Redis's COMMAND reply ------------------------------------------------
def test_declarations_match_redis_command_table():
    import json
    from pathlib import Path

    from ledis.commands.registry import REGISTRY
    from ledis.server.compose import load_commands

    load_commands()
    ref = Path("/work/shared/reference/redis-7.0/commands.json")
    if not ref.exists():  # the copy shipped in the package (COMMAND's data)
        ref = Path(__file__).resolve().parent.parent / "ledis" / "data" / "redis_commands.json"
    table = json.loads(ref.read_text())
    table = table.get("commands", table)
    names = """get set setnx setex psetex getset getdel getex mget mset msetnx incr decr incrby
        decrby incrbyfloat append strlen getrange substr setrange lcs setbit getbit bitcount
        bitpos bitop bitfield bitfield_ro""".split()
    for name in names:
        cmd = REGISTRY.lookup(name.encode())
        want = table[name]
        assert cmd is not None, name
        assert cmd.arity == want["arity"], name
        assert cmd.flags == frozenset(want["flags"]), name
        assert (cmd.first_key, cmd.last_key, cmd.step) == (
            want["first_key"], want["last_key"], want["step"]), name
        assert set(cmd.acl_categories) == set(want["acl_categories"]), name
