"""CLIENT PAUSE [WRITE|ALL] / CLIENT UNPAUSE (ledis/commands/monitoring.py), raw sockets."""

from __future__ import annotations

import socket
import time

import pytest
import redis


def _conn(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _send(s: socket.socket, *parts: bytes) -> None:
    s.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))


def _recv(s: socket.socket, wait: float = 0.3) -> bytes:
    """What arrives within ``wait`` seconds (b"" if nothing: the client is paused)."""
    s.settimeout(wait)
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            s.settimeout(0.05)
    except TimeoutError:
        pass
    return buf


@pytest.fixture
def admin(server):
    s = _conn(server.port)
    yield s
    _send(s, b"CLIENT", b"UNPAUSE")
    _recv(s, 0.1)
    s.close()


def test_pause_write_blocks_writes_serves_reads(server, admin):
    c = _conn(server.port)
    _send(c, b"SET", b"pk", b"old")
    assert _recv(c) == b"+OK\r\n"
    _send(admin, b"CLIENT", b"PAUSE", b"100000", b"WRITE")
    assert _recv(admin) == b"+OK\r\n"
    w = _conn(server.port)
    _send(w, b"SET", b"pk", b"new")
    assert _recv(w) == b""  # held
    _send(c, b"GET", b"pk")
    assert _recv(c) == b"$3\r\nold\r\n"  # reads still served
    _send(c, b"PING")
    assert _recv(c) == b"+PONG\r\n"
    p = _conn(server.port)
    _send(p, b"PUBLISH", b"ch", b"m")
    assert _recv(p) == b""  # may replicate: held too
    _send(admin, b"CLIENT", b"UNPAUSE")
    assert _recv(admin) == b"+OK\r\n"
    assert _recv(w, 2) == b"+OK\r\n"
    assert _recv(p, 2) == b":0\r\n"
    _send(c, b"GET", b"pk")
    assert _recv(c) == b"$3\r\nnew\r\n"
    for s in (c, w, p):
        s.close()


def test_pause_all_holds_everything_even_unpause(server):
    # Short pause: in ALL mode even CLIENT UNPAUSE waits (as Redis), so it ends by timeout.
    a = _conn(server.port)
    _send(a, b"CLIENT", b"PAUSE", b"700", b"ALL")
    assert _recv(a) == b"+OK\r\n"
    t0 = time.time()
    c = _conn(server.port)
    _send(c, b"GET", b"x")
    e = _conn(server.port)
    _send(e, b"NOSUCHCMD")  # rejected before the pause check: answered at once (as Redis)
    assert _recv(e, 0.2).startswith(b"-ERR unknown command")
    _send(a, b"CLIENT", b"UNPAUSE")
    assert _recv(a, 0.2) == b""
    assert _recv(c, 0.1) == b""
    assert time.time() - t0 < 0.7
    got = _recv(a, 3) + _recv(c, 1)
    assert got == b"+OK\r\n$-1\r\n"
    for s_ in (a, c, e):
        s_.close()


def test_pause_all_expires_by_itself(server):
    a = _conn(server.port)
    _send(a, b"CLIENT", b"PAUSE", b"400", b"ALL")
    assert _recv(a) == b"+OK\r\n"
    t0 = time.time()
    c = _conn(server.port)
    c.sendall(b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$2\r\nek\r\n$1\r\n1\r\n"
              b"*2\r\n$4\r\nINCR\r\n$2\r\nek\r\n")
    got = b""
    while got.count(b"\r\n") < 3 and time.time() - t0 < 5:
        got += _recv(c, 0.5)
    elapsed = time.time() - t0
    assert got == b"+PONG\r\n+OK\r\n:2\r\n"
    assert 0.3 <= elapsed < 3
    a.close()
    c.close()


def test_pause_write_in_multi_holds_queueing(server, admin):
    c = _conn(server.port)
    _send(c, b"MULTI")
    assert _recv(c) == b"+OK\r\n"
    _send(admin, b"CLIENT", b"PAUSE", b"100000", b"WRITE")
    assert _recv(admin) == b"+OK\r\n"
    _send(c, b"SET", b"mk", b"1")
    assert _recv(c) == b""
    _send(admin, b"CLIENT", b"UNPAUSE")
    assert _recv(admin) == b"+OK\r\n"
    assert _recv(c, 2) == b"+QUEUED\r\n"
    _send(c, b"EXEC")
    assert _recv(c) == b"*1\r\n+OK\r\n"
    c.close()


def test_pause_errors_match_redis(r, ref):
    cases = [
        ("CLIENT", "PAUSE", "-1"),
        ("CLIENT", "PAUSE", "x"),
        ("CLIENT", "PAUSE", "10", "FOO"),
        ("CLIENT", "PAUSE", "10", "WRITE", "X"),
        ("CLIENT", "PAUSE"),
        ("CLIENT", "UNPAUSE", "X"),
    ]
    for args in cases:
        texts = []
        for client in (r, ref):
            with pytest.raises(redis.ResponseError) as exc:
                client.execute_command(*args)
            texts.append(str(exc.value))
        assert texts[0] == texts[1], args
    assert r.execute_command("CLIENT", "PAUSE", "0", "WRITE") in (True, b"OK", "OK")
    assert r.execute_command("CLIENT", "UNPAUSE") in (True, b"OK", "OK")


PAUSE_LIBRARY = """#!lua name=pausegates
redis.register_function('w', function() return 'w' end)
redis.register_function{function_name='r', callback=function() return 'r' end,
                        flags={'no-writes'}}
"""


def test_pause_write_by_declared_flags_as_redis(ports):
    """Under CLIENT PAUSE WRITE, Redis holds what may replicate by the flags a script or
    function declares: a ``no-writes`` script or function runs, a shebang script without it
    and a compat-mode EVAL wait, and so do PUBLISH and PFCOUNT. Held or answered, and the
    answer, compared with redis-server."""
    from tests.rawresp import RawClient

    cases = [
        [("EVAL", "return 1", "0")],
        [("EVAL", "#!lua flags=no-writes\nreturn 1", "0")],
        [("EVAL", "#!lua\nreturn 1", "0")],
        [("EVAL_RO", "return 1", "0")],
        [("EVAL_RO", "#!lua\nreturn 1", "0")],
        [("FCALL", "r", "0")], [("FCALL", "w", "0")],
        [("FCALL_RO", "r", "0")], [("FCALL_RO", "w", "0")], [("FCALL", "nosuch", "0")],
        [("PUBLISH", "ch", "x")], [("PFCOUNT", "hll")], [("GET", "k")], [("SET", "k", "v")],
        [("MULTI",), ("FCALL", "r", "0"), ("EVAL", "#!lua flags=no-writes\nreturn 2", "0"),
         ("EXEC",)],
        [("MULTI",), ("GET", "k"), ("FCALL", "w", "0")],
    ]
    admins = [RawClient(port) for port in ports]
    held: list[RawClient] = []
    try:
        for admin in admins:
            assert admin.call("FUNCTION", "LOAD", "REPLACE", PAUSE_LIBRARY) == b"pausegates"
            assert admin.call("CLIENT", "PAUSE", "20000", "WRITE") == b"OK"
        for commands in cases:
            transcripts = []
            for port in ports:
                c = RawClient(port)
                held.append(c)
                replies = []
                for command in commands:
                    c.send(*command)
                    reply = c.read(timeout=0.3)
                    replies.append(reply)
                    if reply == RawClient.NOTHING:
                        break
                transcripts.append(replies)
            assert transcripts[0] == transcripts[1], commands
    finally:
        for admin in admins:
            admin.call("CLIENT", "UNPAUSE")
            admin.call("FUNCTION", "DELETE", "pausegates")
            admin.close()
        for c in held:
            c.close()
