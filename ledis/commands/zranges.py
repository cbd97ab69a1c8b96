"""The ZRANGE family: ZRANGE (BYSCORE / BYLEX / REV / LIMIT), ZRANGESTORE, ZREVRANGE,
ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX and ZREVRANGEBYLEX (Redis 7.0), one generic
handler as Redis's ``zrangeGenericCommand``.

Long ranges of a network client are streamed replies (``ledis.commands.streaming``): by rank
with the count known from the bounds, by score with the count from two ranks of the rank
index, by lex with the chunks held to the end of the walk. Whether a score or lex range is
long is not known from its bounds, so up to a chunk and one more entry is read first, and
those entries are the reply when the range ends there. Argument parsing and the WITHSCORES
reply shapes are shared with the other sorted-set commands in ``ledis.commands.zsets``.
"""

from __future__ import annotations

from itertools import islice

from ledis import errors
from ledis.commands import streaming
from ledis.commands.args import ArgCursor, parse_int
from ledis.commands.registry import command
from ledis.commands.zsets import (
    WIRE2,
    WIRE3,
    parse_lex_range,
    parse_score_range,
    scored_stored,
    wire_score,
)
from ledis.errors import LedisError
from ledis.storage.types import zset

_RANK, _SCORE, _LEX = 1, 2, 3


def _zrange(ctx, argv, first: int, dst: bytes | None, rangetype: int | None,
            reverse: bool | None):
    """Redis's ``zrangeGenericCommand``: ``argv[first]`` is the source, then min, max and
    options. ``rangetype`` / ``reverse`` preset by the legacy commands (None = from options)."""
    key = argv[first]
    minidx, maxidx = first + 1, first + 2
    withscores = False
    offset, limit = 0, -1
    args = ArgCursor(argv, first + 3)
    while args:
        opt = args.word()
        if dst is None and opt == b"WITHSCORES":
            withscores = True
        elif opt == b"LIMIT" and args.remaining() >= 2:
            offset = args.take_int()
            limit = args.take_int()
        elif reverse is None and opt == b"REV":
            reverse = True
        elif rangetype is None and opt == b"BYLEX":
            rangetype = _LEX
        elif rangetype is None and opt == b"BYSCORE":
            rangetype = _SCORE
        else:
            raise LedisError(errors.SYNTAX)
    reverse = bool(reverse)
    if rangetype is None:
        rangetype = _RANK
    if limit != -1 and rangetype == _RANK:
        raise LedisError(errors.ZRANGE_LIMIT_BY_RANK)
    if withscores and rangetype == _LEX:
        raise LedisError(errors.ZRANGE_BYLEX_WITHSCORES)
    if reverse and rangetype != _RANK:
        minidx, maxidx = maxidx, minidx
    db = ctx.db
    scores = withscores or dst is not None
    if rangetype == _RANK:
        start = parse_int(argv[minidx])
        stop = parse_int(argv[maxidx])
        zset.read_meta(db, key)  # the counted read, after the range parsed (as Redis's)
        if dst is None and ctx.wire and (start < 0 or stop < 0 or stop - start >= _STREAM_MIN):
            streamed = _streamed_rank_range(ctx, key, start, stop, reverse, withscores)
            if streamed is not None:
                return streamed
        items = zset.range_by_rank(db, key, start, stop, reverse, scores)
    elif rangetype == _SCORE:
        spec = parse_score_range(argv[minidx], argv[maxidx])
        zset.read_meta(db, key)
        if dst is None and ctx.wire and limit != 0:
            streamed = _streamed_score_range(ctx, key, spec, reverse, offset, limit, withscores)
            if streamed is not None:
                return streamed
        items = zset.range_by_score(db, key, spec, reverse, offset, limit, scores)
    else:
        lex = parse_lex_range(argv[minidx], argv[maxidx])
        zset.read_meta(db, key)
        if dst is None and ctx.wire and limit != 0 and offset >= 0:
            streamed = _streamed_lex_range(ctx, key, lex, reverse, offset, limit)
            if streamed is not None:
                return streamed
        items = zset.range_by_lex(db, key, lex, reverse, offset, limit, scores)
    if dst is not None:
        return zset.store(db, dst, items)
    return scored_stored(ctx, items) if withscores else items


# ZRANGE by rank (WITHSCORES too) streams when the range is long. A cheap first test before
# the size is read: a range with a negative end (``0 -1``) may be long, ``5 9`` never is.
_STREAM_MIN = streaming.STREAM_MIN


def _streamed_rank_range(ctx, key: bytes, start: int, stop: int, reverse: bool,
                         withscores: bool):
    """ZRANGE / ZREVRANGE of many members by rank, sent in chunks (None: build it at once)."""
    found = zset.walk_by_rank(ctx.db, key, start, stop, reverse)
    if found is None:
        return None
    walk, skip, count, cut = found
    size = streaming.chunk_size(ctx, count)
    if not size:
        return None
    if not withscores:
        return streaming.streamed(streaming.ranked(walk, skip, count, cut, size), count)
    resp3 = ctx.resp == 3
    return streaming.streamed(_scored_chunks(walk, skip, count, cut, size, resp3),
                              count if resp3 else 2 * count)


def _streamed_score_range(ctx, key: bytes, spec, reverse: bool, offset: int, limit: int,
                          withscores: bool):
    """ZRANGE BYSCORE / ZRANGEBYSCORE of an indexed zset, sent in chunks when it is long;
    else the whole reply, built from the entries read to find out; None: the plain path.

    Whether a score range is long is not known from its bounds: up to a chunk and one more
    entry is read first. That is the reply itself when the range ends there (one walk, as the
    plain path). Past it, the count for the reply's header comes from the rank index (two
    ranks, ``zset.count_by_score``), and the entries read open the first chunk."""
    size = streaming.chunk_size(ctx, limit if limit > 0 else 1 << 62)
    if not size:
        return None
    db = ctx.db
    found = zset.walk_by_score(db, key, spec, reverse, offset)
    if found is None:
        return None
    walk, skip, cut = found
    head, long_walk = streaming.peek(islice(walk, skip, None), size, limit)
    if long_walk is None:
        if withscores:
            return scored_stored(ctx, [(k[cut:], k[cut - 8:cut]) for k, _ in head])
        return [k[cut:] for k, _ in head]
    count = zset.count_by_score(db, key, spec) - offset
    if limit > 0:
        count = min(count, limit)
    walk = long_walk
    if not withscores:
        return streaming.streamed(streaming.ranked(walk, 0, count, cut, size), count)
    resp3 = ctx.resp == 3
    return streaming.streamed(_scored_chunks(walk, 0, count, cut, size, resp3),
                              count if resp3 else 2 * count)


def _streamed_lex_range(ctx, key: bytes, lex, reverse: bool, offset: int, limit: int):
    """ZRANGE BYLEX / ZRANGEBYLEX of a big zset, sent in chunks when long (as a score range;
    the count is known at the end of the walk, so the chunks are held until then, as KEYS
    does), else the whole reply from the entries read to find out; None: the plain path."""
    size = streaming.chunk_size(ctx, limit if limit > 0 else 1 << 62)
    if not size:
        return None
    found = zset.walk_by_lex(ctx.db, key, lex, reverse, size)
    if found is None:
        return None
    walk, cut = found
    head, long_walk = streaming.peek(islice(walk, offset, None), size, limit)
    if long_walk is None:
        return [k[cut:] for k, _ in head]
    return streaming.streamed(streaming.sub_keys(long_walk, cut, size))


def _scored_chunks(walk, skip: int, count: int, cut: int, size: int, resp3: bool):
    """WITHSCORES chunks in ``scored_stored``'s wire form: [member, double] pairs in RESP3
    (one entry each), member and score text in RESP2 (two entries)."""
    yield from streaming.passed_over(walk, skip, size)
    walk = islice(walk, count)
    get = (WIRE3 if resp3 else WIRE2).get
    shape = b"*2\r\n$%d\r\n%s\r\n%s" if resp3 else b"$%d\r\n%s\r\n%s"
    p = cut - 8
    while True:
        part = list(islice(walk, size))
        if not part:
            return
        yield (len(part) if resp3 else 2 * len(part)), b"".join(
            [shape % (len(k) - cut, k[cut:], get(k[p:cut]) or wire_score(k[p:cut], resp3))
             for k, _ in part])


@command("zrange", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set", since="1.2.0",
         acl="@read @sortedset @slow")
def cmd_zrange(ctx, argv):
    return _zrange(ctx, argv, 1, None, None, None)


@command("zrangestore", arity=-5, flags="write denyoom", keys=(1, 2, 1), group="sorted-set",
         summary="Store a range of members from sorted set into another key", since="6.2.0",
         acl="@write @sortedset @slow")
def cmd_zrangestore(ctx, argv):
    return _zrange(ctx, argv, 2, argv[1], None, None)


@command("zrevrange", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set, by index, with scores ordered "
                 "from high to low", since="1.2.0", acl="@read @sortedset @slow")
def cmd_zrevrange(ctx, argv):
    return _zrange(ctx, argv, 1, None, _RANK, True)


@command("zrangebyscore", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set, by score", since="1.0.5",
         acl="@read @sortedset @slow")
def cmd_zrangebyscore(ctx, argv):
    return _zrange(ctx, argv, 1, None, _SCORE, False)


@command("zrevrangebyscore", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set, by score, with scores ordered "
                 "from high to low", since="2.2.0", acl="@read @sortedset @slow")
def cmd_zrevrangebyscore(ctx, argv):
    return _zrange(ctx, argv, 1, None, _SCORE, True)


@command("zrangebylex", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set, by lexicographical range",
         since="2.8.9", acl="@read @sortedset @slow")
def cmd_zrangebylex(ctx, argv):
    return _zrange(ctx, argv, 1, None, _LEX, False)


@command("zrevrangebylex", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set, by lexicographical range, "
                 "ordered from higher to lower strings.", since="2.8.9",
         acl="@read @sortedset @slow")
def cmd_zrevrangebylex(ctx, argv):
    return _zrange(ctx, argv, 1, None, _LEX, True)
