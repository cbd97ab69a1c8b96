"""A raw RESP client for tests that must see exactly what a server sends: replies that a
client library would hide (push messages, dropped replies under CLIENT REPLY, replies that
never come). The same scenario runs against ledis and redis-server and the two transcripts
are compared."""

from __future__ import annotations

import socket
import time

import hiredis

_NOTHING = object()


class RawClient:
    """One connection; ``send`` writes commands, ``read`` returns the next reply (or
    ``NOTHING`` after ``timeout`` seconds), ``drain`` every reply that arrives in time."""

    NOTHING = "<nothing>"

    def __init__(self, port: int, resp3: bool = False) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.reader = hiredis.Reader(notEnoughData=_NOTHING)
        if resp3:
            self.call("HELLO", "3")

    def send(self, *args) -> None:
        self.sock.sendall(hiredis.pack_command(tuple(args)))

    def send_many(self, *commands) -> None:
        self.sock.sendall(b"".join(hiredis.pack_command(tuple(c)) for c in commands))

    def read(self, timeout: float = 2.0):
        deadline = time.monotonic() + timeout
        while True:
            reply = self.reader.gets()
            if reply is not _NOTHING:
                return _plain(reply)
            left = deadline - time.monotonic()
            if left <= 0:
                return self.NOTHING
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return self.NOTHING
            if not data:
                return "<closed>"
            self.reader.feed(data)

    def call(self, *args, timeout: float = 2.0):
        self.send(*args)
        return self.read(timeout)

    def drain(self, timeout: float = 0.2) -> list:
        out = []
        while True:
            reply = self.read(timeout)
            if reply == self.NOTHING:
                return out
            out.append(reply)

    def close(self) -> None:
        self.sock.close()

    def transaction(self, commands) -> list:
        """MULTI, each of ``commands``, EXEC: the replies in order (QUEUED or the refusal,
        then EXEC's reply)."""
        return ([self.call("MULTI")] + [self.call(*command) for command in commands]
                + [self.call("EXEC")])


def _plain(reply):
    """Errors become ``("err", text)`` at any depth, so transcripts compare by value."""
    if isinstance(reply, hiredis.ReplyError):
        return ("err", str(reply))
    if isinstance(reply, list):
        return [_plain(item) for item in reply]
    return reply


# --- differential scenarios ---------------------------------------------------------------
def both(ports, scenario):
    """Run ``scenario(port, clients)`` on ledis and on redis-server; return both
    transcripts (the connections it opened are closed afterwards)."""
    out = []
    for port in ports:
        opened: list[RawClient] = []

        def client(resp3: bool = False, _port=port, _opened=opened) -> RawClient:
            c = RawClient(_port, resp3)
            _opened.append(c)
            return c

        try:
            out.append(scenario(port, client))
        finally:
            for c in opened:
                c.close()
    return out


def assert_same(ports, scenario):
    """Both transcripts must be equal; the first differing step is named on failure."""
    ours, theirs = both(ports, scenario)
    if isinstance(ours, list) and isinstance(theirs, list):
        # not strict: the first differing step; the lengths are compared below
        for step, (a, b) in enumerate(zip(ours, theirs, strict=False)):
            assert a == b, f"step {step}: ledis {a!r} != redis {b!r}"
    assert ours == theirs
    return ours
