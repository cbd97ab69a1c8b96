"""Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO."""

from __future__ import annotations

import socket
import time

import pytest
import redis

from tests.test_protocol import exchange


def error_of(client, *args) -> str:
    with pytest.raises(redis.RedisError) as info:
        client.execute_command(*args)
    return str(info.value)


def test_ping_echo(server, r):
    assert r.ping() is True
    assert exchange(server.port, b"PING hi\r\nPING\r\n")[0] == b"$2\r\nhi\r\n+PONG\r\n"
    assert r.echo(b"a\x00b") == b"a\x00b"
    assert error_of(r, "PING", "a", "b") == "wrong number of arguments for 'ping' command"
    assert error_of(r, "ECHO") == "wrong number of arguments for 'echo' command"


def test_ping_errors_match_redis(r, ref):
    for args in (("PING", "a", "b"), ("ECHO",), ("ECHO", "a", "b"), ("SELECT", "x"),
                 ("SELECT", "99"), ("SELECT", "-1"), ("AUTH", "a"), ("AUTH", "a", "b"),
                 ("AUTH", "a", "b", "c"), ("HELLO", "4"), ("HELLO", "abc"), ("HELLO", "0"),
                 ("HELLO", "3", "auth", "a"), ("HELLO", "3", "foo"), ("HELLO", "3", "setname"),
                 ("HELLO", "3", "setname", "a b"), ("RESET", "x")):
        assert error_of(r, *args) == error_of(ref, *args), args


def test_quit_closes(server):
    out, closed = exchange(server.port, b"QUIT\r\nPING\r\n")
    assert out == b"+OK\r\n"
    assert closed


def _half_closed(port: int, request: bytes, pause: float) -> bytes:
    """Send ``request``, shut the sending side (after ``pause``), read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        time.sleep(pause)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(4096):
            out += chunk
    return out


@pytest.mark.parametrize("pause", [0, 0.2], ids=["same-read", "later"])
def test_half_closed_client_gets_its_replies_then_eof(server, redis_server, pause):
    """A client that shuts its side down (EOF after its requests) gets the replies, then the
    server closes the connection, as Redis does, and goes on serving others. (Connection has
    no asyncio.Protocol base since it is typed for Cython: its own ``eof_received`` gives
    asyncio's default; uvloop would also close without one.)"""
    request = b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"
    ours = _half_closed(server.port, request, pause)
    assert ours == _half_closed(redis_server.port, request, pause) == b"+PONG\r\n$2\r\nhi\r\n"
    assert server.client().ping() is True


def test_select(server):
    c = server.client()
    c.flushall()
    c.set("k", "db0")
    assert c.execute_command("SELECT", "3") in (True, b"OK")
    assert c.get("k") is None
    c.set("k", "db3")
    c.execute_command("SELECT", "0")
    assert c.get("k") == b"db0"
    assert server.client(db=3).get("k") == b"db3"


def test_reset(server):
    out, closed = exchange(
        server.port,
        b"SELECT 2\r\nCLIENT SETNAME n1\r\nHELLO 3\r\nRESET\r\nCLIENT GETNAME\r\n"
        b"CLIENT INFO\r\n")
    assert not closed
    assert b"+RESET\r\n$-1\r\n" in out  # back to RESP2 (null bulk), no name
    assert b" db=0 " in out and b" resp=2" in out


def test_hello(server):
    out, _ = exchange(server.port, b"HELLO\r\n")
    assert out.startswith(b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15"
                          b"\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:")
    assert out.endswith(b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
                        b"$7\r\nmodules\r\n*0\r\n")
    out, _ = exchange(server.port, b"HELLO 3 SETNAME me\r\nCLIENT GETNAME\r\n")
    assert out.startswith(b"%7\r\n") and b"$5\r\nproto\r\n:3\r\n" in out
    assert out.endswith(b"$2\r\nme\r\n")


def test_hello_shape_matches_redis(r, ref):
    mine, theirs = r.execute_command("HELLO", "2"), ref.execute_command("HELLO", "2")
    assert mine[0::2] == theirs[0::2]


@pytest.fixture
def locked(fresh_server):
    return fresh_server("--requirepass", "s3cret")


def test_auth_required(locked):
    out, closed = exchange(locked.port, b"GET k\r\nAUTH nope\r\nAUTH other s3cret\r\n"
                           b"HELLO 3\r\nAUTH s3cret\r\nSET k v\r\n")
    assert out == (
        b"-NOAUTH Authentication required.\r\n"
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        b"HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
        b"the RESP protocol version at the same time\r\n"
        b"+OK\r\n+OK\r\n")
    assert locked.client(password="s3cret").get("k") == b"v"
    assert locked.client(username="default", password="s3cret").get("k") == b"v"
    with pytest.raises(redis.AuthenticationError):
        locked.client(password="bad").get("k")


def test_auth_allowed_commands_before_auth(locked):
    out, closed = exchange(locked.port, b"PING\r\nHELLO 3 AUTH default s3cret\r\nPING\r\n")
    assert out.startswith(b"-NOAUTH Authentication required.\r\n%7\r\n")
    assert out.endswith(b"+PONG\r\n")
    out, closed = exchange(locked.port, b"QUIT\r\n")
    assert out == b"+OK\r\n" and closed


def test_auth_without_password_configured(r):
    assert error_of(r, "AUTH", "x") == (
        "AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?")
    assert r.execute_command("AUTH", "default", "anything") in (True, b"OK")


def test_requirepass_via_config_set(fresh_server):
    srv = fresh_server()
    admin = srv.client()
    admin.config_set("requirepass", "pw")
    assert admin.ping() is True  # existing connections stay authenticated
    with pytest.raises(redis.AuthenticationError):
        srv.client().get("x")
    assert srv.client(password="pw").ping() is True
    admin.config_set("requirepass", "")
    assert srv.client().ping() is True


def test_reset_leaves_subscriptions_and_multi(server, r):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"SUBSCRIBE resetch\r\n")
        time.sleep(0.3)
        s.sendall(b"RESET\r\nMULTI\r\nRESET\r\nPING\r\n")
        got = b""
        deadline = time.time() + 5
        while not got.endswith(b"+PONG\r\n") and time.time() < deadline:
            got += s.recv(1000)
        assert got.endswith(b"+RESET\r\n+OK\r\n+RESET\r\n+PONG\r\n")
        assert r.publish("resetch", "x") == 0
