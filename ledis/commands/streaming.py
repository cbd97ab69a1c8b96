"""Streamed replies (issue #19): when a long reply goes out in chunks, and its chunk makers.

A command whose reply has more than ``reply_chunk_entries`` entries (KEYS, SCAN with a huge
COUNT, HGETALL / HKEYS / HVALS, SMEMBERS, LRANGE, ZRANGE by rank, score or lex, XRANGE of a big
collection) would
hold every other client while it walks (1.8 s for 1M entries). For a network client outside
MULTI/EXEC and scripts (which must stay atomic and synchronous: their reply is a value), the
handler returns ``Pending.streaming(Stream(...))`` over a walk pinned when the command runs
(``Engine.walk``); the connection (``ledis/server/connection.py``, "streamed replies") sends
one chunk per event-loop iteration and holds the client's next command until the last one.

The chunk makers below encode bulk strings directly (the same bytes in RESP2 and RESP3; only
the header differs, ``Stream.header``), one ``bytes %`` per entry in a list comprehension: the
cheapest per-element Python work, as in LRANGE's ``Raw`` replies. Each chunk is a bounded
amount of work: ``size`` entries walked (and for KEYS, examined, whether they match or not).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain, islice
from typing import TypeVar

from ledis.replies import Pending, Stream
from ledis.storage.layout import U64

Walk = Iterator[tuple[bytes, bytes]]
T = TypeVar("T")
Chunks = Iterator[tuple[int, bytes]]


# Replies of this many entries or fewer are never streamed, whatever ``reply_chunk_entries``
# says: handlers test it inline (``size > STREAM_MIN and chunk_size(...)``), so a small
# collection's reply pays one comparison, not a call (HGETALL of 10 fields: callgrind).
STREAM_MIN = 64


def chunk_size(ctx, entries: int) -> int:  # noqa: ANN001 - a core Context
    """Entries per chunk if a reply of ``entries`` entries should be streamed, else 0."""
    size = ctx.core.config.reply_chunk_entries
    if (entries > size > 0 and ctx.wire and ctx.multi is None and not ctx.in_script
            and ctx.db.engine.pinned_walks):
        return size
    return 0


def streamed(chunks: Chunks, count: int | None = None, kind: bytes = b"*",
             opening: Callable[[], bytes] | None = None) -> Pending:
    return Pending.streaming(Stream(chunks, count, kind, opening))


def peek(walk: Iterator[T], size: int, limit: int = -1) -> tuple[list[T], Iterator[T] | None]:
    """Whether a reply whose length its bounds do not tell (a score, lex or stream range) is
    long: up to a chunk and one more entry of ``walk`` is read (at most ``limit`` when > 0).
    Returns ``(entries, None)`` when they are the whole reply, to answer at once from what was
    read (one walk, as the plain path), else ``([], walk)``: a walk of those entries and then
    the rest, at most ``limit``, to stream."""
    head = list(islice(walk, size + 1 if limit <= 0 else min(size + 1, limit)))
    if len(head) <= size:
        return head, None
    rest = chain(head, walk)
    return [], islice(rest, limit) if limit > 0 else rest


def sub_keys(walk: Walk, skip: int, size: int) -> Chunks:
    """The keys of ``walk`` without their first ``skip`` bytes (HKEYS, SMEMBERS, ZRANGE's
    members when ``skip`` covers the score too)."""
    while True:
        part = [k for k, _ in islice(walk, size)]
        if not part:
            return
        yield len(part), b"".join([b"$%d\r\n%s\r\n" % (len(k) - skip, k[skip:]) for k in part])


def values(walk: Walk, size: int) -> Chunks:
    """The values of ``walk`` (HVALS, LRANGE)."""
    while True:
        part = [v for _, v in islice(walk, size)]
        if not part:
            return
        yield len(part), b"".join([b"$%d\r\n%s\r\n" % (len(v), v) for v in part])


def pairs(walk: Walk, skip: int, size: int) -> Chunks:
    """``key[skip:], value`` of each item of ``walk`` (HGETALL)."""
    while True:
        part = list(islice(walk, size))
        if not part:
            return
        yield len(part), b"".join([b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k) - skip, k[skip:],
                                                                     len(v), v)
                                   for k, v in part])


def live_keys(walk: Walk, skip: int, size: int, now: int,
              matches: Callable[[bytes], object] | None) -> Chunks:
    """KEYS: the metadata keys of ``walk`` that are not expired at ``now`` (the command's
    start) and match, ``size`` examined per chunk (a chunk may hold none)."""
    unpack = U64.unpack_from
    while True:
        part = list(islice(walk, size))
        if not part:
            return
        names = [k[skip:] for k, raw in part if not 0 < unpack(raw, 1)[0] <= now]
        if matches is not None:
            names = [k for k in names if matches(k)]
        yield len(names), b"".join([b"$%d\r\n%s\r\n" % (len(k), k) for k in names])


def passed_over(walk: Walk, skip: int, size: int) -> Chunks:
    """Skip the first ``skip`` items of ``walk``, ``size`` at a time, an empty chunk each (so
    a far start does not stall either: ZRANGE z 900000 -1)."""
    while skip > 0:
        step = min(skip, size)
        next(islice(walk, step - 1, step), None)  # consumes ``step`` entries
        skip -= step
        yield 0, b""


def ranked(walk: Walk, skip: int, count: int, cut: int, size: int) -> Chunks:
    """ZRANGE by rank: ``count`` members after the first ``skip`` index entries."""
    yield from passed_over(walk, skip, size)
    yield from sub_keys(islice(walk, count), cut, size)
