"""DEBUG (ledis/commands/debug.py) against redis-server 7.0, byte for byte: refused by default
(``enable-debug-command no``) before AUTH, MULTI queueing and the ACL; with it on, DIGEST and
DIGEST-VALUE of every type (Redis's SHA1 mix), PROTOCOL in RESP2 and RESP3, OBJECT (its
encoding, serialized length and quicklist figures; addresses and clocks differ), POPULATE,
ERROR, SLEEP, SET-ACTIVE-EXPIRE and the errors."""

from __future__ import annotations

import random
import re
import socket
import time

import hiredis
import pytest

from tests.diff import WireClient
from tests.helpers import LedisProcess, RedisProcess, have_redis_server
from tests.rawresp import RawClient

pytestmark = pytest.mark.skipif(not have_redis_server(), reason="redis-server not installed")


@pytest.fixture(scope="module")
def debug_pair(tmp_path_factory):
    """A ledis and a redis-server with ``enable-debug-command yes`` and
    ``enable-module-command yes``: (ledis port, redis port)."""
    config = tmp_path_factory.mktemp("debug") / "ledis.yaml"
    config.write_text('redis:\n  enable-debug-command: "yes"\n  enable-module-command: "yes"\n')
    ours = LedisProcess(config=str(config)).start()
    ref = RedisProcess("--enable-debug-command", "yes", "--enable-module-command", "yes").start()
    yield ours.port, ref.port
    ours.cleanup()
    ref.cleanup()


def _both(ports, *commands, protocol: int = 2) -> list[tuple[bytes, bytes]]:
    """Each command's raw reply from ledis and from Redis, on one connection each."""
    clients = [WireClient(port, protocol) for port in ports]
    try:
        return [tuple(c.call(*command) for c in clients) for command in commands]
    finally:
        for c in clients:
            c.close()


def test_refused_by_default_as_in_redis(ports):
    """The shared servers run with the default ``no``: every subcommand, HELP included, and
    inside MULTI (refused when queued: EXECABORT)."""
    for ours, theirs in _both(ports, ("DEBUG", "SLEEP", "0"), ("DEBUG", "HELP"),
                              ("DEBUG", "DIGEST"), ("CONFIG", "GET", "enable-debug-command"),
                              ("MULTI",), ("DEBUG", "DIGEST"), ("EXEC",), ("DEBUG",)):
        assert ours == theirs
    assert b"DEBUG command not allowed" in _both(ports, ("DEBUG", "HELP"))[0][0]


def test_refused_before_auth_as_in_redis(ports):
    """A client that has not authenticated gets the DEBUG refusal, not NOAUTH."""
    replies = []
    for port in ports:
        admin = RawClient(port)
        admin.call("ACL", "SETUSER", "default", "resetpass", ">debug-secret")
        try:
            c = RawClient(port)
            replies.append([c.call("DEBUG", "SLEEP", "0"), c.call("GET", "x")])
            c.close()
        finally:
            admin.call("AUTH", "debug-secret")
            admin.call("ACL", "SETUSER", "default", "nopass")
            admin.close()
    assert replies[0] == replies[1]
    assert "DEBUG command not allowed" in replies[0][0][1] and "NOAUTH" in replies[0][1][1]


MODULE_CALLS = [("MODULE", "LIST"), ("MODULE", "HELP"), ("MODULE", "LOAD", "/no/such.so"),
                ("MODULE", "LOAD", "/no/such.so", "arg"), ("MODULE", "LOADEX", "/x.so", "CONFIG",
                                                           "a", "b"),
                ("MODULE", "UNLOAD", "x"), ("MODULE", "LOAD"), ("MODULE", "nope"), ("MODULE",),
                ("MODULE", "LIST", "x")]


def test_module_as_in_redis(ports, debug_pair):
    """MODULE LIST (empty: no Redis module is loaded) and HELP answer; LOAD, LOADEX and
    UNLOAD are refused by default, as in Redis, and fail as Redis's do for a missing file
    when ``enable-module-command`` allows them."""
    for pair in (ports, debug_pair):
        for ours, theirs in _both(pair, *MODULE_CALLS):
            assert ours == theirs
    assert b"MODULE command not allowed" in _both(ports, MODULE_CALLS[2])[0][0]
    assert b"Error loading the extension" in _both(debug_pair, MODULE_CALLS[2])[0][0]


def _fill(ports, seed: int) -> None:
    """The same random data of every type on both servers, in databases 0 and 2."""
    rng = random.Random(seed)
    commands: list[tuple] = [("FLUSHALL",)]
    for db in (0, 2):
        commands.append(("SELECT", str(db)))
        for i in range(12):
            size = rng.choice([1, 3, 20, 200])
            words = [rng.choice([b"a", b"bb", b"%d" % rng.randrange(-5000, 5000), b"x" * 70,
                                 b"\x00\xff", b"3.5"]) + b"%d" % j for j in range(size)]
            kind = i % 6
            key = b"k%d:%d" % (kind, i)
            if kind == 0:
                commands.append(("SET", key, words[0]))
            elif kind == 1:
                commands.append(("RPUSH", key, *words))
            elif kind == 2:
                commands.append(("SADD", key, *words))
            elif kind == 3:
                flat = [x for w in words for x in (b"%r" % (rng.randrange(-10**6, 10**6) / 7), w)]
                commands.append(("ZADD", key, *flat))
            elif kind == 4:
                commands.append(("HSET", key, *[x for w in words for x in (w, w[::-1])]))
            else:
                for j in range(min(size, 30)):
                    commands.append(("XADD", key, f"{j + 1}-{j % 3}", *words[:3]))
            if rng.random() < 0.3:
                commands.append(("EXPIRE", key, "1000"))
    commands.append(("SELECT", "0"))
    for ours, theirs in _both(ports, *commands):
        assert ours == theirs


@pytest.mark.parametrize("seed", range(3))
def test_digest_matches_redis(debug_pair, seed):
    """DEBUG DIGEST of the whole dataset and DIGEST-VALUE of each key (and of a missing one)
    are Redis's, byte for byte: a migration can be checked with one command per side."""
    _fill(debug_pair, seed)
    keys = [b"k%d:%d" % (i % 6, i) for i in range(12)] + [b"missing"]
    for ours, theirs in _both(debug_pair, ("DEBUG", "DIGEST"), ("DEBUG", "DIGEST-VALUE", *keys),
                              ("SELECT", "2"), ("DEBUG", "DIGEST-VALUE", *keys)):
        assert ours == theirs
    assert _both(debug_pair, ("DEBUG", "DIGEST"))[0][0] != b"+" + b"0" * 40 + b"\r\n"


@pytest.mark.parametrize("protocol", [2, 3])
def test_protocol_types_match_redis(debug_pair, protocol):
    types = ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib",
             "push", "verbatim", "true", "false", "nope"]
    streams = []
    for port in debug_pair:  # the whole byte stream: RESP3's push comes before its reply
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            if protocol == 3:
                sock.sendall(hiredis.pack_command(("HELLO", "3")))
            sock.sendall(b"".join(hiredis.pack_command(("DEBUG", "PROTOCOL", t))
                                  for t in types) + hiredis.pack_command(("PING", "end")))
            data = b""
            while not data.endswith(b"end\r\n"):
                data += sock.recv(65536)
        streams.append(data[data.index(b"Hello World") - 6:] if protocol == 3 else data)
    assert streams[0] == streams[1]
    assert b"\r\n>2\r\n" in streams[0] if protocol == 3 else b"RESP2 is not" in streams[0]


def test_other_subcommands_match_redis(debug_pair):
    commands = [("FLUSHALL",), ("DEBUG", "ERROR", "boom x"), ("DEBUG", "ERROR", "ERR x y"),
                ("DEBUG", "SLEEP", "0"), ("DEBUG", "SLEEP", "x"), ("DEBUG", "SLEEP", "0.01"),
                ("DEBUG", "POPULATE", "3"), ("DEBUG", "POPULATE", "2", "p", "10"),
                ("SET", "key:1", "taken"), ("DEBUG", "POPULATE", "3"), ("MGET", "key:0", "key:1",
                                                                     "key:2", "p:1"),
                ("DEBUG", "POPULATE", "x"), ("DEBUG", "POPULATE", "-1"), ("DEBUG", "nope"),
                ("DEBUG", "OBJECT"), ("DEBUG", "OBJECT", "missing"), ("DEBUG", "PROTOCOL"),
                ("DEBUG", "RELOAD"), ("DBSIZE",), ("DEBUG", "LOG", "hello"),
                ("DEBUG", "SET-ACTIVE-EXPIRE", "1")]
    for ours, theirs in _both(debug_pair, *commands):
        assert ours == theirs


def _object_fields(reply: bytes) -> bytes:
    """DEBUG OBJECT without the address, the LRU clock and the idle time."""
    return re.sub(rb"Value at:0x[0-9a-f]+ |lru:\d+ lru_seconds_idle:\d+ ?", b"", reply)


def test_object_matches_redis(debug_pair):
    """Encoding, serialized length (the DUMP payload's: list nodes LZF-compressed as Redis
    saves them), shared-integer refcount and the quicklist figures (nodes, entries per node,
    listpack bytes) are Redis's."""
    long_text = "a" * 5000
    setup = [("FLUSHALL",), ("SET", "int", "12"), ("SET", "big-int", "123456"),
             ("SET", "text", "hello"), ("SET", "long", long_text),
             ("RPUSH", "small", "x", "y"), ("RPUSH", "ints", *map(str, range(1, 3001))),
             ("RPUSH", "mixed", *map(str, range(100000, 100300)), "hello", long_text),
             ("HSET", "h", "f", "v"), ("SADD", "s", "1", "2"), ("ZADD", "z", "1", "m")]
    _both(debug_pair, *setup)
    for key in ("int", "big-int", "text", "long", "small", "ints", "mixed", "h", "s", "z"):
        ours, theirs = (_object_fields(reply)
                        for reply in _both(debug_pair, ("DEBUG", "OBJECT", key))[0])
        if key in ("h", "s", "z"):  # Redis saves these small ones in listpack / intset form
            ours, theirs = (re.sub(rb"serializedlength:\d+", b"", r) for r in (ours, theirs))
        assert ours == theirs, key


def test_set_active_expire_as_in_redis(debug_pair):
    """With the expiry cycle off an expired key stays counted (DBSIZE) until read or
    written; on again, the cycle removes it."""
    _both(debug_pair, ("FLUSHALL",), ("DEBUG", "SET-ACTIVE-EXPIRE", "0"),
          ("SET", "soon", "v", "PX", "20"), ("SET", "kept", "v"))
    time.sleep(0.4)
    off = _both(debug_pair, ("DBSIZE",))
    assert off == [(b":2\r\n", b":2\r\n")]
    _both(debug_pair, ("DEBUG", "SET-ACTIVE-EXPIRE", "1"))
    deadline = time.time() + 5
    while time.time() < deadline and _both(debug_pair, ("DBSIZE",))[0] != (b":1\r\n",) * 2:
        time.sleep(0.05)
    assert _both(debug_pair, ("DBSIZE",)) == [(b":1\r\n", b":1\r\n")]


@pytest.mark.parametrize("seed", range(800, 803))
def test_random_walks_leave_the_same_values(debug_pair, seed):
    """The grammar walk (tests/fuzz/test_grammar_diff.py), other groups included, with the
    value of every key it uses compared through DEBUG DIGEST-VALUE every 200 commands: state
    the replies did not show (an element order, a score, a TTL mark) must be the same too."""
    from tests.diff import WirePair
    from tests.fuzz.test_grammar_diff import STEPS, walk

    pair = WirePair(WireClient(debug_pair[0]), WireClient(debug_pair[1]))
    try:
        walk(pair, seed, STEPS, other=seed % 2 == 1, digests=True)
    finally:
        pair.close()



@pytest.mark.slow
@pytest.mark.parametrize("seed", range(810, 820))
def test_random_walks_leave_the_same_values_long(debug_pair, seed):
    from tests.diff import WirePair
    from tests.fuzz.test_grammar_diff import STEPS, walk

    pair = WirePair(WireClient(debug_pair[0]), WireClient(debug_pair[1]))
    try:
        walk(pair, seed, 10 * STEPS, other=seed % 2 == 1, digests=True)
    finally:
        pair.close()
