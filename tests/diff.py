"""The one differential-test harness: the same commands on ledis and on a real redis-server 7.0
(the reference), compared reply by reply. Every ``tests/*_diff.py`` builds on it.

Three levels, by how much of the reply a test must see:

- ``Pair`` (fixtures ``pair`` = RESP2, ``pair3`` = RESP3, ``pair23`` = each of them in turn):
  two redis-py clients, one per server, both flushed. ``pair.same(*args)`` runs a command on
  both and asserts the outcomes are equal: ``("ok", value)`` or ``("err", text)`` (an error's
  text is part of the behaviour). Replies with no defined order go through a normaliser
  (``unordered``, ``pairs``) given as ``norm=``; ``pair.walk`` compares a random walk of
  commands. ``pair.raw()`` drops redis-py's reply callbacks, so ``SET ... GET`` stays the bulk
  string Redis sent instead of a bool.
- ``WireClient`` (fixture ``wire_pair``): the exact bytes of each reply, for tests where the
  RESP type counts (status vs bulk, double formatting, push vs array).
- ``tests/rawresp.py`` (``ports`` fixture, ``assert_same(ports, scenario)``): whole
  multi-connection transcripts, including "no reply came" (CLIENT REPLY, pub/sub, blocking).
  Re-exported here so that a differential test needs one import.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import hiredis
import pytest
import redis

from tests.rawresp import RawClient, assert_same  # noqa: F401 (re-exported)

Outcome = tuple[str, Any]
Normaliser = Callable[[Any], Any]


def plain(value: Any) -> Any:
    """Errors nested in a reply (EXEC, script tables) become ``("err", text)``."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Exception):
        return ("err", str(value))
    return value


def outcome(client: redis.Redis, *args: Any) -> Outcome:
    """``("ok", reply)`` or ``("err", error text)`` of one command."""
    try:
        return ("ok", plain(client.execute_command(*args)))
    except redis.ResponseError as exc:
        return ("err", str(exc))


# --- normalisers for replies whose order Redis leaves undefined ---------------------------
def unordered(value: Any) -> Any:
    """A set-like reply (list or set) as a sorted list; anything else unchanged."""
    if isinstance(value, (list, set)):
        return sorted(value, key=repr)
    return value


def pairs(value: Any) -> Any:
    """A map reply (RESP3 dict or RESP2 flat list) as a sorted list of (field, value) pairs."""
    if isinstance(value, dict):
        return sorted(value.items(), key=repr)
    if isinstance(value, list):
        return sorted(zip(value[::2], value[1::2], strict=True), key=repr)
    return value


class Pair:
    """A client on ledis (``ours``) and one on redis-server (``ref``). Unpacks as
    ``ours, ref = pair`` for tests that drive the two by hand."""

    def __init__(self, ours: redis.Redis, ref: redis.Redis) -> None:
        self.ours = ours
        self.ref = ref

    def __iter__(self) -> Iterator[redis.Redis]:
        return iter((self.ours, self.ref))

    def raw(self) -> Pair:
        """Compare what the servers sent, without redis-py's per-command reply shaping."""
        for client in self:
            client.response_callbacks.clear()
        return self

    def run(self, *args: Any, norm: Normaliser | None = None) -> tuple[Outcome, Outcome]:
        """Both outcomes of one command, the "ok" values passed through ``norm``."""
        got, want = outcome(self.ours, *args), outcome(self.ref, *args)
        if norm is not None:
            got = (got[0], norm(got[1])) if got[0] == "ok" else got
            want = (want[0], norm(want[1])) if want[0] == "ok" else want
        return got, want

    def same(self, *args: Any, norm: Normaliser | None = None) -> Outcome:
        """Run one command on both; the outcomes must be equal. Returns ledis's."""
        got, want = self.run(*args, norm=norm)
        assert got == want, f"{args!r}: ledis {got!r} != redis {want!r}"
        return got

    def same_all(self, commands: Iterable[Iterable[Any]],
                 norm: Normaliser | None = None) -> list[Outcome]:
        return [self.same(*cmd, norm=norm) for cmd in commands]

    def walk(self, command: Callable[[random.Random], list], rng: random.Random, steps: int,
             normalise: Callable[[list, Outcome, redis.Redis], Any] | None = None) -> None:
        """A random walk: ``steps`` commands drawn by ``command(rng)``, each compared. A
        ``normalise(args, outcome, client)`` may consult the client it ran on (to check that
        a random pick is a member, say) before the outcomes compare."""
        for step in range(steps):
            args = command(rng)
            got, want = outcome(self.ours, *args), outcome(self.ref, *args)
            if normalise is not None:
                got, want = normalise(args, got, self.ours), normalise(args, want, self.ref)
            assert got == want, f"step {step}, {args!r}: ledis {got!r} != redis {want!r}"

    def both(self, fn: Callable[[redis.Redis], Any]) -> Any:
        """``fn`` on each client; the results must be equal. Returns ledis's."""
        got, want = fn(self.ours), fn(self.ref)
        assert got == want, f"ledis {got!r} != redis {want!r}"
        return got

    def each(self, *args: Any) -> None:
        """Set-up: run a command on both servers, not compared (it must not fail)."""
        for client in self:
            client.execute_command(*args)

    def close(self) -> None:
        for client in self:
            client.close()


def make_pair(server, redis_server, protocol: int = 2, **kw: Any) -> Pair:
    """A flushed pair on the session's ledis and reference servers."""
    pair = Pair(server.client(protocol=protocol, **kw), redis_server.client(protocol=protocol,
                                                                              **kw))
    for client in pair:
        client.flushall()
    return pair


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair23(request, server, redis_server) -> Iterator[Pair]:
    """A flushed ``Pair``, once per protocol."""
    p = make_pair(server, redis_server, request.param)
    yield p
    p.close()


@pytest.fixture
def pair(server, redis_server) -> Iterator[Pair]:
    """A flushed ``Pair`` speaking RESP2."""
    p = make_pair(server, redis_server, 2)
    yield p
    p.close()


@pytest.fixture
def pair3(server, redis_server) -> Iterator[Pair]:
    """A flushed ``Pair`` speaking RESP3."""
    p = make_pair(server, redis_server, 3)
    yield p
    p.close()


# --- the exact bytes --------------------------------------------------------------------
class WireClient:
    """One connection that returns the raw bytes of the next ``n`` replies."""

    def __init__(self, port: int, protocol: int = 2) -> None:
        self.port = port
        self.protocol = protocol
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(5)
        self.reader = hiredis.Reader()
        if protocol == 3:
            self.call("HELLO", "3")

    def send(self, *args: Any) -> None:
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(parts))

    def read(self, n: int = 1) -> bytes:
        raw = b""
        got = 0
        while got < n:
            if self.reader.gets() is not False:
                got += 1
                continue
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            raw += data
            self.reader.feed(data)
        return raw

    def call(self, *args: Any, n: int = 1) -> bytes:
        self.send(*args)
        return self.read(n)

    def close(self) -> None:
        self.sock.close()

    def commandstats(self, names: Iterable[str]) -> dict[str, tuple[int, int, int]]:
        """INFO commandstats of ``names``: (calls, rejected_calls, failed_calls) each, zeros
        for a command not run since the last CONFIG RESETSTAT."""
        reader = hiredis.Reader()
        reader.feed(self.call("INFO", "commandstats"))
        text = reader.gets()
        stats = {}
        for line in (text.decode() if isinstance(text, bytes) else str(text)).splitlines():
            if line.startswith("cmdstat_"):
                name, _, fields = line[len("cmdstat_"):].partition(":")
                values = dict(kv.split("=") for kv in fields.split(","))
                stats[name] = (int(values["calls"]), int(values["rejected_calls"]),
                               int(values["failed_calls"]))
        return {name: stats.get(name, (0, 0, 0)) for name in names}


class WirePair:
    """A ``WireClient`` on each server; ``same`` compares the bytes of the replies."""

    def __init__(self, ours: WireClient, ref: WireClient) -> None:
        self.ours = ours
        self.ref = ref

    def __iter__(self) -> Iterator[WireClient]:
        return iter((self.ours, self.ref))

    def same(self, *args: Any) -> bytes:
        got, want = self.ours.call(*args), self.ref.call(*args)
        assert got == want, f"{args!r}: ledis {got!r} != redis {want!r}"
        return got

    def close(self) -> None:
        for client in self:
            client.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def wire_pair(request, server, redis_server) -> Iterator[WirePair]:
    """A flushed ``WirePair``, once per protocol."""
    p = WirePair(WireClient(server.port, request.param),
                 WireClient(redis_server.port, request.param))
    for client in p:
        client.call("FLUSHALL")
    yield p
    p.close()
