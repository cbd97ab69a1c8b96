"""The wire protocol: malformed RESP, inline commands, pipelining, limits, disconnects.

Raw sockets, compared byte for byte with a reference redis-server where one is installed.
"""

from __future__ import annotations

import socket
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import have_redis_server


def exchange(port: int, data: bytes, wait: float = 3.0) -> tuple[bytes, bool]:
    """Send ``data``; return (everything received, whether the server closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        try:
            s.sendall(data)
        except OSError:  # the server refused and closed while we were still sending
            pass
        out = b""
        s.settimeout(wait)
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk
            s.settimeout(0.3)  # once replies flow, a short idle ends the read
        return out, False


MALFORMED = [
    b"*a\r\n",
    b"*1\r\n:4\r\n",
    b"*1\r\n$a\r\n",
    b'set "a b\r\n',
    b"*3000000000\r\n",
    b"*1\r\n$600000000\r\n",
    b"*1\r\n$-1\r\n",
    b"*1\r\n$-5\r\n",
    # items that hiredis returns as bytes but Redis refuses in a request: a simple string (with
    # a CRLF in another argument's payload, so that the read holds 2n + 1 CRLFs) and a
    # verbatim string (as many CRLFs as a bulk string)
    b"*2\r\n+ECHO\r\n$4\r\na\r\nb\r\n",
    b"*1\r\n=7\r\ntxt:abc\r\n",
    b"*2\r\n$4\r\nECHO\r\n=7\r\ntxt:abc\r\n",
    b"ping 'a'b\r\n",
    b'echo "a""b"\r\n',
    b"*2\r\n$3\r\nget\r\n$536870913\r\n",
    b"x" * 70000,
    b"*" + b"1" * 70000,
    b"*1\r\n$" + b"1" * 70000,
    b"*1\r\n$4\r\nping\r\n*x\r\n",
    b"*1\r\n+OK\r\n",
    b"*1\r\n*1\r\n$1\r\na\r\n",
]

EXPECTED = {
    b"*a\r\n": b"-ERR Protocol error: invalid multibulk length\r\n",
    b"*1\r\n:4\r\n": b"-ERR Protocol error: expected '$', got ':'\r\n",
    b"*1\r\n$a\r\n": b"-ERR Protocol error: invalid bulk length\r\n",
    b'set "a b\r\n': b"-ERR Protocol error: unbalanced quotes in request\r\n",
    b"*3000000000\r\n": b"-ERR Protocol error: invalid multibulk length\r\n",
    b"*1\r\n$600000000\r\n": b"-ERR Protocol error: invalid bulk length\r\n",
}


@pytest.mark.parametrize("data", list(EXPECTED), ids=lambda d: repr(d[:20]))
def test_protocol_error_texts_then_close(server, data):
    out, closed = exchange(server.port, data)
    assert out == EXPECTED[data]
    assert closed


@pytest.mark.skipif(not have_redis_server(), reason="redis-server not installed")
@pytest.mark.parametrize("data", MALFORMED, ids=lambda d: repr(d[:20]))
def test_malformed_matches_redis(server, redis_server, data):
    assert exchange(server.port, data) == exchange(redis_server.port, data)


WELL_FORMED_ODDITIES = [
    b"*-1\r\nPING\r\n",
    b"*0\r\nPING\r\n",
    b"PING\r\n\r\nPING\r\n",
    b"\r\n",
    b"$3\r\nabc\r\n",
    b'echo "\\x41\\n"\r\n',
    b"PING\r\n*1\r\n$4\r\nPING\r\n",
    b"*2\r\n$4\r\necho\r\n$3\r\nabc\r\nPING\r\n",
    b"ECHO  a   b\r\n",
    b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI",
    b"*2\r\n$4\r\necho\r\n$3\r\nabcde\r\n",
    b"echo 'it\\'s'\r\n",
    b"*1\r\n$4\r\nPINGxx\r\n",
    b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
    b"  PING  \r\n",
    b"\n\n\nPING\n",
    b"*01\r\n$04\r\nPING\r\n",
    b"*1\r\n$+4\r\nPING\r\n",
    b"*1 \r\n$4\r\nPING\r\n",
    b"*2\r\n$4\r\nECHO\r\n$-0\r\n\r\n",
]


@pytest.mark.skipif(not have_redis_server(), reason="redis-server not installed")
@pytest.mark.parametrize("data", WELL_FORMED_ODDITIES, ids=lambda d: repr(d[:20]))
def test_oddities_match_redis(server, redis_server, data):
    assert exchange(server.port, data) == exchange(redis_server.port, data)


def test_inline_commands(server):
    out, closed = exchange(server.port, b"SET inl 'hello world'\r\nGET inl\nDEL inl\r\n")
    assert out == b"+OK\r\n$11\r\nhello world\r\n:1\r\n"
    assert not closed


def test_command_names_in_any_letter_case(server):
    """The dispatcher remembers names by their exact spelling: each spelling must still
    find the command (or give Redis's unknown-command text with the name as sent)."""
    out, closed = exchange(server.port, b"sEt lc 1\r\nSET lc 2\r\nget lc\r\nGeT lc\r\n"
                           b"dEl lc\r\nNoSuCh a\r\nNOSUCH a\r\n")
    assert out == (b"+OK\r\n+OK\r\n$1\r\n2\r\n$1\r\n2\r\n:1\r\n"
                   b"-ERR unknown command 'NoSuCh', with args beginning with: 'a' \r\n"
                   b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' \r\n")
    assert not closed


def test_commands_before_a_protocol_error_still_run(server, r):
    out, closed = exchange(server.port, b"*3\r\n$3\r\nSET\r\n$2\r\npe\r\n$1\r\n1\r\n*x\r\n")
    assert out == b"+OK\r\n-ERR Protocol error: invalid multibulk length\r\n"
    assert closed
    assert r.get("pe") == b"1"


def test_request_split_across_reads(server):
    """A request arriving byte by byte is answered once, whole."""
    payload = (b"*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$10\r\n0123456789\r\n"
               b"*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        for i in range(len(payload)):
            s.sendall(payload[i:i + 1])
            if i % 7 == 0:
                time.sleep(0.001)
        want = b"+OK\r\n$10\r\n0123456789\r\n"
        got = b""
        while len(got) < len(want):
            got += s.recv(1024)
        assert got == want


def test_big_pipeline_in_one_write(server, r):
    n = 10_000
    payload = b"".join(
        b"*3\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$%d\r\nv%d\r\n"
        % (len(b"k%d" % i), i, len(b"v%d" % i), i)
        for i in range(n))
    payload += b"*1\r\n$6\r\nDBSIZE\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(payload)
        want = b"+OK\r\n" * n + b":%d\r\n" % n
        got = b""
        while len(got) < len(want):
            chunk = s.recv(1 << 20)
            assert chunk
            got += chunk
        assert got == want
    assert r.get("k9999") == b"v9999"


def test_big_value_across_many_reads(server, r):
    value = b"x" * (3 * 1024 * 1024 + 17)
    r.set("big", value)
    assert r.strlen("big") == len(value)
    assert r.get("big") == value


def test_proto_max_bulk_len(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.config_set("proto-max-bulk-len", "1mb")
    header = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (2 * 1024 * 1024)
    out, closed = exchange(srv.port, header + b"y" * 1000)
    assert out == b"-ERR Protocol error: invalid bulk length\r\n"
    assert closed
    # within the limit still works, also when the whole request arrives in one read
    c.set("k", b"z" * (1024 * 1024))
    assert c.strlen("k") == 1024 * 1024
    out, closed = exchange(srv.port, header + b"y" * (2 * 1024 * 1024) + b"\r\n")
    # refused at the header: the error, or a reset if the close beat our read (as with Redis)
    assert out in (b"-ERR Protocol error: invalid bulk length\r\n", b"") and closed
    assert c.strlen("k") == 1024 * 1024


def test_unauthenticated_request_limits(fresh_server):
    srv = fresh_server("--requirepass", "pw")
    out, closed = exchange(srv.port, b"*11\r\n")
    assert out == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    assert closed
    out, closed = exchange(srv.port, b"*2\r\n$4\r\nECHO\r\n$20000\r\n")
    assert out == b"-ERR Protocol error: unauthenticated bulk length\r\n"
    assert closed
    out, closed = exchange(srv.port, b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"
                           b"*2\r\n$4\r\nECHO\r\n$20000\r\n" + b"e" * 20000 + b"\r\n")
    assert out == b"+OK\r\n$20000\r\n" + b"e" * 20000 + b"\r\n"
    assert not closed


def test_client_disconnect_mid_command(server, r):
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$3\r\nmid\r\n$100\r\nabc")
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nmid\r\n")
    s.close()  # gone before the reply
    assert r.get("mid") is None
    assert r.ping() is True


def test_resp3_after_hello(server):
    out, _ = exchange(server.port, b"HELLO 3\r\nCONFIG GET maxclients\r\nGET nokey\r\n")
    assert out.startswith(b"%7\r\n")
    assert b"%1\r\n$10\r\nmaxclients\r\n" in out
    assert out.endswith(b"_\r\n")


# --- the parser on its own: every way of cutting a stream into reads ----------------------


class _Config:
    proto_max_bulk_len = 512 * 1024 * 1024


class _Core:
    config = _Config()
    stats = {"total_net_input_bytes": 0}


class _Ctx:
    authenticated = True


def _parser():
    import collections

    import hiredis

    from ledis.server import connection

    conn = connection.Connection.__new__(connection.Connection)
    conn.reader = hiredis.Reader()
    conn.queue = collections.deque()
    conn._inline = b""
    conn._scanner = connection.HeaderScanner()
    conn._deferred = b""
    conn._held = []
    conn._held_len = 0
    conn.core = _Core()
    conn.ctx = _Ctx()
    return conn


STREAM_REQUESTS = [
    [b"SET", b"k", b"v" * 300],
    [b"GET", b"k"],
    [b"ECHO", b"\r\n*3\r\n$1\r\n"],  # protocol bytes inside a value
    [b"MSET"] + [b"x%d" % i for i in range(40)],
    [b"ECHO", b""],
    [b"PING"],
]


def _encode(request):
    return b"*%d\r\n" % len(request) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in request)


@pytest.mark.parametrize("step", [1, 2, 3, 5, 7, 11, 64, 1000])
def test_parser_any_read_boundaries(step):
    stream = b"".join(_encode(r) for r in STREAM_REQUESTS) + b"PING\r\n"
    conn = _parser()
    for i in range(0, len(stream), step):
        conn._parse(stream[i:i + step])
    assert list(conn.queue) == STREAM_REQUESTS + [[b"PING"]]
    assert not conn._scanner.active


@pytest.mark.parametrize("step", [1, 3, 7, 64, 1000, 5000])
def test_parser_big_count_request_is_held_until_whole(step):
    # a request over HOLD_COUNT arguments never reaches hiredis unfinished (hiredis would
    # allocate its whole argument list from the count), whatever the read boundaries
    from ledis.server.connection import HOLD_COUNT

    big = [b"MSET"] + [b"f%d" % i for i in range(2 * HOLD_COUNT)]
    stream = _encode([b"PING"]) + _encode(big) + _encode([b"GET", b"k"])
    conn = _parser()
    for i in range(0, len(stream), step):
        conn._parse(stream[i:i + step])
        assert conn.reader.len() < 4096 + step
    assert list(conn.queue) == [[b"PING"], big, [b"GET", b"k"]]
    assert not conn._held and not conn._scanner.active


def test_parser_huge_count_refused_before_hiredis():
    from ledis.errors import ProtocolError

    conn = _parser()
    with pytest.raises(ProtocolError) as info:
        conn._parse(_encode([b"PING"]) + b"*2147483648\r\n")
    assert info.value.text == "ERR Protocol error: invalid multibulk length"
    assert list(conn.queue) == [[b"PING"]]  # the complete request before it still runs


def test_parser_one_request_then_a_header_in_the_same_read():
    """One request and the next one's header (or header and first argument) in one read:
    the read holds more CRLFs than the request, so it is not taken for a boundary and the
    next read's rest of the request is scanned from there."""
    echo = _encode([b"ECHO", b"x"])
    for cut in (4, 14):  # after "*2\r\n", after "$4\r\nECHO\r\n"
        conn = _parser()
        conn._parse(_encode([b"GET", b"k"]) + echo[:cut])
        assert conn._scanner.active
        conn._parse(echo[cut:])
        assert list(conn.queue) == [[b"GET", b"k"], [b"ECHO", b"x"]]
        assert not conn._scanner.active


def test_parser_boundary_of_one_request_without_re_encoding(monkeypatch):
    """A read of one request from a clean start (-P 1) is known to end on a boundary by
    counting its CRLFs, without hiredis re-encoding it; a payload with a CRLF, a "\\n+" or
    two requests in the read take the re-encoding (and still end on a boundary)."""
    import hiredis

    from ledis.server import connection

    packed = []

    class Counting:
        Reader = hiredis.Reader

        @staticmethod
        def pack_command(args):
            packed.append(args)
            return hiredis.pack_command(args)

    monkeypatch.setattr(connection, "hiredis", Counting)
    conn = _parser()
    for request in ([b"SET", b"key:000000012345", b"xxx"], [b"PING"], [b"ECHO", b""]):
        conn._parse(_encode(request))
    assert packed == [] and not conn._scanner.active
    for data in (_encode([b"ECHO", b"a\r\nb"]), _encode([b"ECHO", b"a\n+b"]),
                 _encode([b"PING"]) * 2):
        conn._parse(data)
        assert packed and not conn._scanner.active
        packed.clear()
    assert len(conn.queue) == 7


_PROTO_BYTES = b"*$+=:\r\n0123-"


@settings(max_examples=300, deadline=None)
@given(requests=st.lists(st.lists(st.binary(min_size=0, max_size=12).map(
           lambda b: bytes(_PROTO_BYTES[x % len(_PROTO_BYTES)] if x % 3 else x for x in b)),
           min_size=1, max_size=4), min_size=1, max_size=6),
       cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=12))
def test_parser_any_payload_any_cuts(requests, cuts):
    """Payloads made of protocol bytes ("*", "$", "+", "=", CRLF, digits), cut anywhere, one
    request at a time or several per read: every request comes out whole and in order, and
    the parser ends on a boundary (a read wrongly taken for a boundary would make the next
    read's header scan start inside a request and fail)."""
    stream = b"".join(_encode(r) for r in requests)
    conn = _parser()
    start = 0
    for cut in sorted({c for c in cuts if c < len(stream)}) + [len(stream)]:
        conn._parse(stream[start:cut])
        start = cut
    assert list(conn.queue) == requests
    assert not conn._scanner.active


def test_parser_random_read_boundaries():
    import random

    rng = random.Random(7)
    requests = STREAM_REQUESTS * 3
    pieces = []
    expected = []
    for request in requests:
        if rng.random() < 0.2 and all(a.isalnum() for a in request):
            pieces.append(b" ".join(request) + b"\r\n")  # an inline request in between
        else:
            pieces.append(_encode(request))
        expected.append(request)
    stream = b"".join(pieces)
    for _ in range(200):
        conn = _parser()
        cuts = sorted(rng.sample(range(1, len(stream)), rng.randint(1, 30)))
        start = 0
        for cut in cuts + [len(stream)]:
            conn._parse(stream[start:cut])
            start = cut
        assert list(conn.queue) == expected, cuts


def test_parser_read_ending_like_a_request_boundary():
    """A read that ends with "\\nk\\r\\n" inside a request is not mistaken for a boundary."""
    conn = _parser()
    conn._parse(_encode([b"GET", b"k"]) + b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n")
    conn._parse(b"$1\r\nv\r\n")
    assert list(conn.queue) == [[b"GET", b"k"], [b"SET", b"k", b"v"]]
