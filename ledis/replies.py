"""Reply values returned by command handlers.

Handlers return plain Python values and one encoder (``ledis.resp``, or the JSON
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
``Stream``         sent in chunks (below)      sent in chunks (below)
``LedisError``     error ``-``                 error ``-``
=================  ==========================  ==========================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from ledis.errors import LedisError


class Simple(bytes):
    """A status reply (``+OK``). A bytes subclass so it can be compared and joined."""

    __slots__ = ()


OK = Simple(b"OK")
PONG = Simple(b"PONG")
QUEUED = Simple(b"QUEUED")

# ``Context.reply_mode`` (CLIENT REPLY): 0 replies on; OFF; SKIP just sent (its own reply is
# dropped); SKIP armed for the next command. The connection drops replies accordingly.
REPLY_OFF, REPLY_SKIP_PENDING, REPLY_SKIP_NEXT = 1, 2, 3


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


class Stream:
    """A long reply of bulk strings sent in chunks across event-loop iterations (issue #19).

    KEYS, HGETALL, SMEMBERS, LRANGE 0 -1 ... of a huge collection would hold every other
    client for the whole walk (1.8 s for 1M entries). Instead the handler returns a ``Stream``
    (wrapped in a :class:`Pending`, see :meth:`Pending.streaming`) over a walk *pinned* when
    the command ran (``Engine.walk``: RocksDB's iterator snapshot plus the pending overlay of
    that moment), so the reply is what the command would have answered at once, whatever is
    written while it is sent. The connection pulls one chunk per loop iteration, writes it
    and holds its next pipelined command until the reply is complete.

    ``chunks`` yields ``(entries, encoded bulk strings)``, each chunk a bounded amount of work
    (it may hold no entry: KEYS with a pattern that matches little). ``count`` is the number
    of top-level entries when known up front (the header goes first, chunks follow as they
    are made); ``None`` holds the chunks until the walk ends and counts them (KEYS), and then
    ``opening`` (if given) returns what goes before the header (SCAN's cursor). ``kind`` is the
    RESP3 type: ``b"*"`` array, ``b"%"`` map (``count`` pairs, ``2 * count`` bulk strings in
    RESP2), ``b"~"`` set. Only for network clients outside MULTI, scripts and FUNCTIONs
    (``ledis.commands.streaming.chunk_size``): those must stay synchronous.
    """

    __slots__ = ("chunks", "count", "kind", "opening", "entries", "held", "discard")

    def __init__(self, chunks: Iterator[tuple[int, bytes]], count: int | None = None,
                 kind: bytes = b"*", opening: Callable[[], bytes] | None = None) -> None:
        self.chunks = chunks
        self.count = count
        self.kind = kind
        self.opening = opening
        self.entries = 0  # made so far (the count of a deferred header)
        self.held: list[bytes] = []  # the chunks of a deferred header
        self.discard = False  # CLIENT REPLY OFF / SKIP: walk, send nothing

    def header(self, count: int, resp3: bool) -> bytes:
        kind = self.kind
        if kind == b"%" and not resp3:
            return b"*%d\r\n" % (2 * count)
        return b"%s%d\r\n" % (kind if resp3 else b"*", count)

    def close(self) -> None:
        """Drop the walk (the client went away): frees the RocksDB iterator and snapshot."""
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


class Pending:
    """A reply that is not ready yet (blocking commands, WAIT, semi-sync acks).

    Wraps an ``asyncio.Future`` whose result is a reply value, or whose exception is a
    LedisError. The connection stops processing its pipeline until it is done; ``on_cancel``
    runs when the client goes away first (to unregister a waiter). A streamed reply
    (``stream`` set, no future) holds the pipeline the same way until its last chunk is out.
    """

    __slots__ = ("future", "on_cancel", "stream")

    def __init__(self, future: asyncio.Future[object], on_cancel=None) -> None:  # noqa: ANN001
        self.future = future
        self.on_cancel = on_cancel
        self.stream: Stream | None = None

    @classmethod
    def streaming(cls, stream: Stream) -> Pending:
        pending = cls(None, stream.close)  # type: ignore[arg-type]
        pending.stream = stream
        return pending

    def add_done_callback(self, callback) -> None:  # noqa: ANN001
        self.future.add_done_callback(lambda _f: callback(self))

    def cancel(self) -> None:
        if self.future is not None and not self.future.done():
            self.future.cancel()
        if self.on_cancel is not None:
            self.on_cancel()

    def result_or_error(self) -> object:
        from ledis.errors import LedisError

        try:
            return self.future.result()
        except LedisError as exc:
            return exc


def resp2(value: object) -> object:
    """The RESP2 form of a RESP3-only value (one level; call it on types in
    ``RESP2_SHAPED``): maps as flat ``key, value`` lists, sets as lists, doubles as Redis's
    text, booleans as 0/1, verbatim strings as plain bulk strings. The one place these rules
    live: the RESP encoder, the Lua conversion (before ``redis.setresp(3)``) and the embedded
    API's ``protocol=2`` all shape through it."""
    t = type(value)
    if t is Map:
        flat: list = []
        for k, v in value.items():  # type: ignore[attr-defined]
            flat.append(k)
            flat.append(v)
        return flat
    if t is PairList:
        return [x for pair in value for x in pair]  # type: ignore[attr-defined]
    if t is SetReply:
        return list(value)  # type: ignore[call-overload]
    if t is Double or t is float:
        return format_double(value)  # type: ignore[arg-type]
    if t is Bool or t is bool:
        return int(value)  # type: ignore[call-overload]
    if t is Verbatim:
        return bytes(value)  # type: ignore[call-overload]
    return value


def decode_raw(raw: bytes) -> object:
    """A pre-encoded reply (:class:`Raw`: a script's table reply, a cached one...) decoded back
    into reply values (bytes, int, None, list, Map, SetReply, Double, LedisError): the one
    decoder of every front end that does not send RESP as is (Lua, HTTP, the embedded API)."""
    import hiredis

    reader = hiredis.Reader()
    reader.feed(raw)
    return _from_hiredis(reader.gets())


def _from_hiredis(value: object) -> object:
    import hiredis

    from ledis.errors import LedisError

    if isinstance(value, hiredis.ReplyError):
        return LedisError(str(value))
    if isinstance(value, list):
        return [_from_hiredis(v) for v in value]
    if isinstance(value, dict):
        return Map({_from_hiredis(k): _from_hiredis(v) for k, v in value.items()})
    if isinstance(value, (set, frozenset)):
        return SetReply(_from_hiredis(v) for v in value)
    if isinstance(value, float):
        return Double(value)
    return value


# The types ``resp2`` reshapes (a frozenset of types: one hash test per value).
RESP2_SHAPED = frozenset((Map, PairList, SetReply, Double, float, Bool, bool, Verbatim))

# The dispatcher's answer for a command held by CLIENT PAUSE: a marker the connection parks
# on (ledis/commands/monitoring.py decides which commands a pause holds), never awaited.
PAUSED = Pending(None)  # type: ignore[arg-type]

import asyncio  # noqa: E402

# What a command handler may return, for type hints (``Handler`` in ledis/commands/registry.py):
# the values of the table above (Simple, Map, Double ... subclass bytes, dict, float ...), a
# Pending, or a LedisError that is the reply (an error inside an array, EXEC's results).
Reply = bytes | int | float | list | tuple | dict | _NullArray | Pending | LedisError | None
