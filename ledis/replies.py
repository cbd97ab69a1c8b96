"""Reply values returned by command handlers.

Handlers return plain Python values and one encoder (``ledis.server.resp``, or the JSON
mapping of the HTTP API) decides how they look on the wire for RESP2 or RESP3:

=================  ==========================  ==========================
value              RESP2                       RESP3
=================  ==========================  ==========================
``bytes``          bulk string                 bulk string
``None``           null bulk ``$-1``           null ``_``
``int``            integer                     integer
``list``/``tuple`` array                       array
``Simple``         status ``+OK``              status
``Map``            flat array k1 v1 k2 v2      map ``%``
``SetReply``       array                       set ``~``
``Double``         bulk string (Redis format)  double ``,``
``NullArray``      ``*-1``                     null ``_``
``Bool``           integer 0/1                 boolean ``#t``/``#f``
``Verbatim``       bulk string                 verbatim ``=``
``Raw``            bytes sent as they are      bytes sent as they are
``Push``           array                       push ``>``
``Multiple``       each item, in order         each item, in order
``LedisError``     error ``-``                 error ``-``
=================  ==========================  ==========================
"""

from __future__ import annotations

import math

from ledis.errors import LedisError


class Simple(bytes):
    """A status reply (``+OK``). A bytes subclass so it can be compared and joined."""

    __slots__ = ()


OK = Simple(b"OK")
PONG = Simple(b"PONG")
QUEUED = Simple(b"QUEUED")


class Map(dict):
    """A RESP3 map; a flat array in RESP2. Keys and values are reply values."""

    __slots__ = ()


class PairList(list):
    """A map given as a list of (key, value) pairs: keeps duplicates and order cheaply."""

    __slots__ = ()


class SetReply(list):
    """A RESP3 set; an array in RESP2."""

    __slots__ = ()


class Double(float):
    """A RESP3 double; a bulk string in Redis's number format in RESP2."""

    __slots__ = ()


class Bool(int):
    """A RESP3 boolean; 0/1 integer in RESP2."""

    __slots__ = ()


class Verbatim(bytes):
    """A RESP3 verbatim string (``txt`` format); a bulk string in RESP2."""

    __slots__ = ()


class Raw(bytes):
    """Pre-encoded protocol bytes, written unchanged (used for hot range replies)."""

    __slots__ = ()


class Push(list):
    """A RESP3 out-of-band push (``>``: pub/sub messages); an array in RESP2."""

    __slots__ = ()


class Multiple(list):
    """Several top-level replies from one command (SUBSCRIBE a b: one confirmation per
    channel), encoded one after the other."""

    __slots__ = ()


class _NullArray:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NullArray"


NullArray = _NullArray()


def format_double(value: float) -> bytes:
    """Format a float the way Redis 7.0 does for scores and INCRBYFLOAT-style replies.

    17 significant digits (``%.17g``), integers without a fraction, ``inf``/``-inf``.
    """
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    if value == int(value) and abs(value) < 1e17:
        if not value and math.copysign(1.0, value) < 0:
            return b"-0"  # %.17g keeps the sign of a negative zero (e.g. ZINCRBY z -0 m)
        return b"%d" % int(value)
    return (b"%.17g" % value)


class Pending:
    """A reply that is not ready yet (blocking commands, WAIT, semi-sync acks).

    Wraps an ``asyncio.Future`` whose result is a reply value, or whose exception is a
    LedisError. The connection stops processing its pipeline until it is done; ``on_cancel``
    runs when the client goes away first (to unregister a waiter).
    """

    __slots__ = ("future", "on_cancel")

    def __init__(self, future: asyncio.Future[object], on_cancel=None) -> None:  # noqa: ANN001
        self.future = future
        self.on_cancel = on_cancel

    def add_done_callback(self, callback) -> None:  # noqa: ANN001
        self.future.add_done_callback(lambda _f: callback(self))

    def cancel(self) -> None:
        if not self.future.done():
            self.future.cancel()
        if self.on_cancel is not None:
            self.on_cancel()

    def result_or_error(self) -> object:
        from ledis.errors import LedisError

        try:
            return self.future.result()
        except LedisError as exc:
            return exc


import asyncio  # noqa: E402

# What a command handler may return, for type hints (``Handler`` in ledis/commands/registry.py):
# the values of the table above (Simple, Map, Double ... subclass bytes, dict, float ...), a
# Pending, or a LedisError that is the reply (an error inside an array, EXEC's results).
Reply = bytes | int | float | list | tuple | dict | _NullArray | Pending | LedisError | None
