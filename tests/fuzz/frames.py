"""Seeded generators of RESP and inline frames for the protocol fuzzer.

Two kinds of frame. A *command* frame is a well-formed request (RESP or inline) naming a real
command with random arguments: the server must answer each with exactly one reply. A
*hostile* frame is malformed or adversarial (absurd lengths and counts, nested arrays, binary
junk, unbalanced quotes, a 512 MB bulk header with no body ...): the server may answer it with
an error and close, wait for more bytes, or run it, but it must not crash, hang the other
clients or grow without bound. A hostile frame is always the last frame of its connection,
since what follows it may be swallowed as its payload.
"""

from __future__ import annotations

import random

# Commands the fuzzer must not send with random arguments: they change the server for everyone
# (CONFIG SET maxclients 1, ACL SETUSER default off, CLIENT PAUSE, REPLICAOF, SHUTDOWN), block
# by design (WAIT, blocking pops: a blocked client is not a hang), change the reply protocol
# (HELLO, SUBSCRIBE, MONITOR), close the connection (QUIT) or run code (EVAL, FCALL; the Lua
# fuzz is tests/fuzz/test_lua_hostile.py).
EXCLUDED = {
    "acl", "auth", "client", "cluster", "config", "eval", "eval_ro", "evalsha", "evalsha_ro",
    "fcall", "fcall_ro", "function", "hello", "ledis.function", "ledis.timers",
    "ledis.triggers", "migrate", "quit", "script", "wait", "waitaof", "failover", "debug",
}
EXCLUDED_FLAGS = {"admin", "blocking", "pubsub"}

KEYS = [b"k%d" % i for i in range(12)] + [b"", b"{t}a", b"{t}b"]
TOKENS = [
    b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR", b"EX", b"PX", b"EXAT", b"PXAT", b"KEEPTTL",
    b"GET", b"WITHSCORES", b"LIMIT", b"COUNT", b"MATCH", b"TYPE", b"BYSCORE", b"BYLEX", b"REV",
    b"LEFT", b"RIGHT", b"BEFORE", b"AFTER", b"STORE", b"STOREDIST", b"ASC", b"DESC", b"ALPHA",
    b"BY", b"WEIGHTS", b"AGGREGATE", b"SUM", b"MIN", b"MAX", b"MAXLEN", b"MINID", b"~", b"=",
    b"*", b"$", b"-", b"+", b"(1", b"[a", b"-inf", b"+inf", b"RANK", b"IDLE", b"JUSTID",
    b"FROMMEMBER", b"FROMLONLAT", b"BYRADIUS", b"BYBOX", b"m", b"km", b"WITHCOORD", b"ANY",
    b"REPLACE", b"ABSTTL", b"FREQ", b"DB", b"ENCODING", b"USAGE", b"SAMPLES", b"FIELDS",
    b"STREAMS", b"GROUP", b"CREATE", b"MKSTREAM", b"ENTRIESREAD", b"0-0", b"1-1", b">",
]
# Numbers stay small: a command whose reply or value size the client picks (HRANDFIELD with
# count -2000000000, SETRANGE at 500 MB) is allowed to use that much, in Redis as in ledis.
NUMBERS = [
    b"0", b"1", b"-1", b"2", b"3", b"10", b"-10", b"100", b"9999", b"-9999", b"0.5", b"-0.5",
    b"1e3", b"inf", b"-inf", b"nan", b"+5", b"-0", b"007", b"1 ", b" 1", b"0x10", b"1_000",
    b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808",
    b"99999999999999999999999999", b"1.7976931348623157e309", b"\x00", b"",
]


def command_names(command_reply: list) -> list[bytes]:
    """The fuzzable command names out of a COMMAND reply (RESP2 form)."""
    names = []
    for entry in command_reply:
        name = entry[0].decode().lower()
        flags = {f.decode() if isinstance(f, bytes) else str(f) for f in entry[2]}
        if name in EXCLUDED or flags & EXCLUDED_FLAGS:
            continue
        names.append(name.encode())
    return sorted(names)


def _arg(rng: random.Random) -> bytes:
    pick = rng.random()
    if pick < 0.3:
        return rng.choice(KEYS)
    if pick < 0.55:
        return rng.choice(NUMBERS)
    if pick < 0.75:
        return rng.choice(TOKENS)
    if pick < 0.95:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 24)))
    return rng.choice([b"x" * 1000, b"\r\n" * 50, b"*3\r\n$3\r\nSET\r\n", b"\xff\xfe" * 100])


def resp(args: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def command_frame(rng: random.Random, names: list[bytes]) -> bytes:
    """A well-formed request: a real command, 0-7 random arguments, RESP or inline."""
    args = [rng.choice(names)] + [_arg(rng) for _ in range(rng.randrange(0, 8))]
    plain = all(a and all(48 <= c < 127 and c not in b"\"'\\" for c in a) for a in args)
    if plain and rng.random() < 0.3:
        return b" ".join(args) + rng.choice([b"\r\n", b"\n"])
    if rng.random() < 0.05:
        args[0] = args[0].upper() if rng.random() < 0.5 else args[0].swapcase()
    return resp(args)


def _huge_bulk(rng: random.Random) -> bytes:
    length = rng.choice([b"536870912", b"536870913", b"2147483648", b"9223372036854775807",
                         b"9223372036854775808", b"-2", b"-1000", b"", b"abc", b"1e9",
                         b"4294967296", b"18446744073709551615", b" 5", b"5 "])
    body = rng.choice([b"", b"xyz", b"y" * rng.randrange(1, 4096)])
    return b"*%d\r\n$3\r\nSET\r\n$1\r\nk\r\n$%s\r\n%s" % (rng.choice([3, 2, 9]), length, body)


def _huge_count(rng: random.Random) -> bytes:
    count = rng.choice([b"2147483647", b"2147483648", b"1048577", b"1000000000", b"-5",
                        b"-2147483648", b"-9223372036854775809", b"", b"x", b"-0", b"+3",
                        b"99999999999999999999", b"3 ", b"0x10"])
    return b"*%s\r\n%s" % (count, rng.choice([b"", b"$4\r\nPING\r\n", b"PING\r\n"]))


def _nested(rng: random.Random) -> bytes:
    depth = rng.randrange(1, 200)
    return b"*1\r\n" * depth + rng.choice([b"$4\r\nPING\r\n", b":1\r\n", b"*0\r\n", b""])


def _junk(rng: random.Random) -> bytes:
    size = rng.choice([1, 2, 7, 64, 512, 4096])
    data = bytes(rng.randrange(256) for _ in range(size))
    if rng.random() < 0.4:
        data = b"*" + data
    return data


def _inline_quotes(rng: random.Random) -> bytes:
    return rng.choice([
        b'SET "a b\r\n', b"SET 'a b\r\n", b'ECHO "a"b\r\n', b"ECHO 'a'b\r\n", b'"\r\n',
        b'ECHO "\\x4\r\n', b'ECHO "\\\r\n', b"ECHO '\\'\r\n", b'SET k "' + b"v" * 3000 + b"\r\n",
        b'ECHO "\\xZZ"\r\n', b"\x00\x00\r\n", b"ECHO \x00 \xff\r\n",
    ])


def _type_bytes(rng: random.Random) -> bytes:
    return b"*2\r\n$4\r\nECHO\r\n" + rng.choice([
        b":1\r\n", b"+OK\r\n", b"-ERR x\r\n", b"%1\r\n", b"~1\r\n", b"_\r\n", b",1.5\r\n",
        b"#t\r\n", b"(1\r\n", b"=5\r\ntxt:a\r\n", b">1\r\n", b"|1\r\n", b"!3\r\nerr\r\n",
    ])


def _long_line(rng: random.Random) -> bytes:
    return rng.choice([b"x", b"*", b"*1\r\n$", b"$"]) + b"9" * rng.choice([1000, 70000])


def _header_only(rng: random.Random) -> bytes:
    return rng.choice([b"$536870912\r\n", b"*1\r\n$536870912\r\n", b"*3\r\n$3\r\nSET\r\n",
                       b"*1\r\n", b"*1\r\n$4\r\nPI", b"*", b"*1\r", b"PING"])


HOSTILE = [_huge_bulk, _huge_count, _nested, _junk, _inline_quotes, _type_bytes, _long_line,
           _header_only]


def hostile_frame(rng: random.Random) -> bytes:
    return rng.choice(HOSTILE)(rng)


def split(data: bytes, rng: random.Random) -> list[bytes]:
    """``data`` cut at 0-6 random points (each piece is written on its own)."""
    if len(data) < 2 or rng.random() < 0.6:
        return [data]
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randrange(1, 7))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
