"""``Core.call``: the one dispatch-and-catch every replying client uses (a connection, EXEC,
HTTP, clients served while a script is BUSY). In process on a real store (memory backend),
built by the composition root like the server's."""

from __future__ import annotations

import copy

import pytest

from benchmarks.hotpath import CountingTransport
from ledis.config import Config
from ledis.errors import LedisError
from ledis.server.compose import build


@pytest.fixture()
def core(tmp_path):
    c = build(Config(dir=str(tmp_path / "db"), backend="memory"))
    yield c
    c.close()


def test_call_returns_the_reply(core) -> None:
    ctx = core.new_context()
    assert core.call(ctx, [b"SET", b"k", b"v"]) == b"OK"
    assert core.call(ctx, [b"get", b"k"]) == b"v"


def test_call_returns_errors_and_counts_them(core) -> None:
    ctx = core.new_context()
    core.call(ctx, [b"SET", b"k", b"v"])
    reply = core.call(ctx, [b"LPUSH", b"k", b"x"])
    assert isinstance(reply, LedisError) and reply.text.startswith("WRONGTYPE")
    reply = core.call(ctx, [b"NOSUCHCOMMAND"])
    assert isinstance(reply, LedisError) and reply.text.startswith("ERR unknown command")
    assert core.errorstats == {"WRONGTYPE": 1, "ERR": 1}
    assert core.stats["total_error_replies"] == 2
    with pytest.raises(LedisError):  # dispatch (Lua's redis.call) raises instead
        core.dispatch(ctx, [b"LPUSH", b"k", b"x"])


def test_call_answers_an_internal_error_without_leaking_it(core, caplog) -> None:
    """A handler bug is logged and answered ``ERR internal error`` (never a Python repr)."""
    def broken(ctx, argv):
        raise RuntimeError("secret detail")

    cmd = copy.copy(core.commands[b"ping"])
    cmd.handler = broken
    core.commands[b"boom"] = cmd
    reply = core.call(core.new_context(), [b"boom"])
    assert isinstance(reply, LedisError)
    assert reply.text == "ERR internal error"
    assert "secret" not in reply.text
    assert core.errorstats == {"ERR": 1}
    assert "internal error running" in caplog.text


class _Transport(CountingTransport):
    """The hot-path benchmark's socket stand-in, keeping what is written."""

    def __init__(self) -> None:
        super().__init__()
        self.data = b""

    def write(self, data: bytes) -> None:
        super().write(data)
        self.data += data


def test_a_connection_answers_errors_as_call_does(core, caplog) -> None:
    """The connection's request loop writes ``call``'s try inline and shares its error half
    (``Core.error_reply``): the same replies, counts and log as ``call``."""
    import asyncio

    from ledis.server.app import Server
    from ledis.server.connection import Connection

    def broken(ctx, argv):
        raise RuntimeError("secret detail")

    cmd = copy.copy(core.commands[b"ping"])
    cmd.handler = broken
    core.commands[b"boom"] = cmd
    server = Server(core)
    server.loop = asyncio.new_event_loop()
    try:
        conn = Connection(server)
        transport = _Transport()
        conn.connection_made(transport)  # type: ignore[arg-type]
        conn.data_received(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
                           b"*3\r\n$5\r\nLPUSH\r\n$1\r\nk\r\n$1\r\nx\r\n"
                           b"*1\r\n$4\r\nboom\r\n")
        server.flush()
    finally:
        server.loop.close()
    assert transport.data.startswith(b"+OK\r\n-WRONGTYPE ")
    assert transport.data.endswith(b"\r\n-ERR internal error\r\n")
    assert b"secret" not in transport.data
    assert core.errorstats == {"WRONGTYPE": 1, "ERR": 1}
    assert "internal error running" in caplog.text


@pytest.mark.parametrize("argv", [
    [b"SET", b"k", b"v"],
    [b"REPLCONF", b"ACK", b"123"],
    [b"X", b"", b"a\r\nb", bytes(range(256))],
    [b"SELECT", 7, "text"],  # ints and str go as their text
])
def test_pack_request_matches_hiredis(argv) -> None:
    """The one request packer (replication links, MIGRATE, dump tools) writes what hiredis
    (an independent implementation) writes."""
    import hiredis

    from ledis.resp import pack_request

    assert pack_request(argv) == hiredis.pack_command(tuple(argv))
    assert pack_request(tuple(argv)) == pack_request(list(argv))


def test_only_wire_clients_get_pre_encoded_replies(core) -> None:
    """``ctx.wire`` (a RESP connection) is the one test of whether a handler may answer with
    pre-encoded bytes; other clients (scripts, HTTP, embedded) get values they can read."""
    from ledis.replies import Raw, decode_raw

    plain = core.new_context()
    core.call(plain, [b"ZADD", b"z", b"1.5", b"a", b"2", b"b"])
    values = core.call(plain, [b"ZRANGE", b"z", b"0", b"-1", b"WITHSCORES"])
    assert type(values) is not Raw
    wire = core.new_context()
    wire.wire = True
    encoded = core.call(wire, [b"ZRANGE", b"z", b"0", b"-1", b"WITHSCORES"])
    assert type(encoded) is Raw
    assert decode_raw(encoded) == [b"a", b"1.5", b"b", b"2"]
    assert [bytes(v) for v in values] == [b"a", b"1.5", b"b", b"2"]
