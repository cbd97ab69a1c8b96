"""Sorted-set commands: the Redis 7.0 Z* family, blocking pops, LedisDB's ZCLEAR/ZMCLEAR
(the ZRANGE family is in ``ledis.commands.zranges``; ZUNION/ZINTER/ZDIFF and their STORE
forms are in ``ledis.commands.zsetops``).

Handlers parse every argument (in the order Redis checks them, so the same bad command gets
the same error), then call ``ledis.storage.types.zset`` and shape the reply. Scores leave as
``Double`` (RESP3 ``,1.5``; RESP2 bulk string in Redis's ``%.17g`` format, ``-0`` included);
ranges hand over their scores still encoded so that each distinct score is formatted once
(``score_text`` / ``score_double``, here: storage never builds replies). WITHSCORES
replies are flat ``member, score, ...``
arrays in RESP2 and arrays of ``[member, score]`` pairs in RESP3, as Redis 7.0 does; ZSCAN
scores are bulk strings in both.

Known differences from Redis 7.0 (see also the storage module): a stored -0 always reads
back as 0 (Redis keeps -0 in zsets above 128 members); lex ranges over members with
different scores follow byte order (Redis's answer there depends on its encoding); ZSCAN of
a zset above 128 members walks members in byte order with an exact COUNT, and a cursor this
server never issued is answered ``ERR invalid cursor``.

Number parsing mimics the two C paths Redis uses: scores, increments and weights go through
``getDoubleFromObject`` (strict: no spaces, overflow like ``1e400`` rejected), range bounds
through ``zslParseRange`` (plain ``strtod``: leading spaces, ``(`` alone meaning ``(0``, and
``1e400`` as inf are all accepted).
"""

from __future__ import annotations

import math
import re

from ledis import blocking, errors
from ledis.commands.args import (
    SPACE,
    UNDERSCORE,
    ArgCursor,
    parse_int,
    parse_mpop,
    parse_positive,
    parse_scan_cursor,
    parse_scan_options,
)
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import Double, NullArray, Raw, format_double
from ledis.storage.types import zset
from ledis.storage.types.zset import LexRange, ScoreRange

# A score of at most this many decimal digits is exact as a double (ZADD's fast path)
_EXACT_DIGITS = 15
_LONG_MAX = 2**63 - 1
_INF_WORDS = frozenset((b"inf", b"infinity"))
_NONZERO_DIGIT = re.compile(rb"[1-9]")


# --- scores as replies ----------------------------------------------------------------------
# Range replies format one score per element; real data repeats scores a lot (counters,
# timestamps), so each distinct encoded score is formatted once (bounded caches). Small and
# emptied when full, so they follow the scores in use: at 65,536 entries that were kept once
# full, random scores filled them over tens of minutes with ~20 MB of Python objects, a slow
# RSS rise of the soak (docs/soak.md).
_CACHE_MAX = 4096
_TEXT: dict[bytes, bytes] = {}
_DOUBLES: dict[bytes, Double] = {}


def score_text(raw: bytes) -> bytes:
    """Redis's text for an encoded score (RESP2 WITHSCORES), cached."""
    text = _TEXT.get(raw)
    if text is None:
        text = format_double(zset.decode_score(raw))
        if len(_TEXT) >= _CACHE_MAX:
            _TEXT.clear()
        _TEXT[raw] = text
    return text


def score_double(raw: bytes) -> Double:
    """A RESP3 double reply for an encoded score, cached."""
    value = _DOUBLES.get(raw)
    if value is None:
        value = Double(zset.decode_score(raw))
        if len(_DOUBLES) >= _CACHE_MAX:
            _DOUBLES.clear()
        _DOUBLES[raw] = value
    return value


# --- number parsing ---------------------------------------------------------------------------


def _strtod(text: bytes) -> float | None:
    """C ``strtod`` over the whole of ``text`` (None if it stops early). Leading whitespace
    is skipped, the empty string reads as 0, hex floats work; NaN comes back as NaN."""
    body = text.lstrip(SPACE)
    if not body:
        return 0.0 if not text else None
    if body[-1] in SPACE or UNDERSCORE in body:
        return None
    try:
        return float(body)
    except ValueError:
        pass
    unsigned = body.lstrip(b"+-")
    if unsigned[:2].lower() == b"0x" and len(body) - len(unsigned) <= 1:
        try:
            return float.fromhex(body.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            return None
    return None


def parse_score(raw: bytes, message: str = errors.NOT_FLOAT) -> float:
    """A score / increment / weight as Redis's ``getDoubleFromObject`` reads it."""
    if raw.isdigit() and len(raw) <= _EXACT_DIGITS:  # a plain integer (the commonest)
        return float(raw)
    if not raw or raw[0] in SPACE:
        raise LedisError(message)
    value = _strtod(raw)
    if value is None or value != value:
        raise LedisError(message)
    if math.isinf(value):
        if raw.lstrip(b"+-").lower() not in _INF_WORDS:  # overflow: strtod sets ERANGE
            raise LedisError(message)
    elif value == 0.0:
        mantissa = raw.lower()
        if mantissa.lstrip(b"+-")[:2] == b"0x":
            mantissa = mantissa.lstrip(b"+-")[2:].split(b"p")[0]
        else:
            mantissa = mantissa.split(b"e")[0]
        if _NONZERO_DIGIT.search(mantissa):  # underflow to zero: ERANGE
            raise LedisError(message)
    return value


def parse_score_range(lo: bytes, hi: bytes) -> ScoreRange:
    """``min max`` of ZRANGEBYSCORE & co. (``zslParseRange``)."""
    bounds = []
    for raw in (lo, hi):
        exclusive = raw[:1] == b"("
        value = _strtod(raw[1:] if exclusive else raw)
        if value is None or value != value:
            raise LedisError(errors.MIN_MAX_FLOAT)
        bounds.append((value, exclusive))
    return ScoreRange(bounds[0][0], bounds[1][0], bounds[0][1], bounds[1][1])


def _lex_item(raw: bytes) -> tuple[bytes | None, bool, int]:
    first = raw[:1]
    if first == b"+" and len(raw) == 1:
        return None, False, 1
    if first == b"-" and len(raw) == 1:
        return None, False, -1
    if first == b"(":
        return raw[1:], True, 0
    if first == b"[":
        return raw[1:], False, 0
    raise LedisError(errors.MIN_MAX_LEX)


def parse_lex_range(lo: bytes, hi: bytes) -> LexRange:
    """``min max`` of ZRANGEBYLEX & co.: ``[a``, ``(a``, ``-``, ``+``."""
    lo_v, lo_ex, lo_inf = _lex_item(lo)
    hi_v, hi_ex, hi_inf = _lex_item(hi)
    return LexRange(lo_v, hi_v, lo_ex, hi_ex, lo_inf, hi_inf)


# --- reply shaping ----------------------------------------------------------------------------


WIRE2: dict[bytes, bytes] = {}  # encoded score -> RESP2 bulk string of its text
WIRE3: dict[bytes, bytes] = {}  # encoded score -> RESP3 double


def wire_score(score: bytes, resp3: bool) -> bytes:
    cache = WIRE3 if resp3 else WIRE2
    wire = cache.get(score)
    if wire is None:
        text = score_text(score)
        wire = b",%s\r\n" % text if resp3 else b"$%d\r\n%s\r\n" % (len(text), text)
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[score] = wire
    return wire


def scored_stored(ctx, pairs: list) -> list | Raw:
    """(member, encoded score) pairs from a range as a WITHSCORES reply for this protocol:
    one flat array in RESP2, [member, double] pairs in RESP3 (Redis 7.0).

    For network clients the reply is pre-encoded (``Raw``): range replies are the hot, long
    ones, and each distinct score's wire form is cached. Other callers (scripts, HTTP,
    embedded) get plain values."""
    if ctx.wire:
        resp3 = ctx.resp == 3
        cache = WIRE3 if resp3 else WIRE2
        get = cache.get
        if resp3:
            parts = [b"*%d\r\n" % len(pairs)]
            shape = b"*2\r\n$%d\r\n%s\r\n%s"
        else:
            parts = [b"*%d\r\n" % (2 * len(pairs))]
            shape = b"$%d\r\n%s\r\n%s"
        append = parts.append
        for m, e in pairs:
            append(shape % (len(m), m, get(e) or wire_score(e, resp3)))
        return Raw(b"".join(parts))
    if ctx.resp == 3:
        double = score_double
        return [[m, double(e)] for m, e in pairs]
    out: list = []
    append = out.append
    text = score_text
    for m, e in pairs:
        append(m)
        append(text(e))
    return out


def scored_reply(ctx, pairs: list) -> list:
    """(member, float score) pairs as a WITHSCORES reply (-0.0 prints "-0", as Redis)."""
    if ctx.resp == 3:
        return [[m, Double(s)] for m, s in pairs]
    out: list = []
    for m, s in pairs:
        out.append(m)
        out.append(format_double(s))
    return out


def _pairs3(pairs: list) -> list:
    """Pairs as nested [member, score] arrays in both protocols (ZMPOP, BZMPOP)."""
    return [[m, Double(s)] for m, s in pairs]


# --- ZADD / ZINCRBY / ZREM / point reads ------------------------------------------------------
# ZADD's flags, in the order cmd_zadd unpacks them
_ZADD_FLAGS = (b"NX", b"XX", b"CH", b"INCR", b"GT", b"LT")


@command("zadd", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="sorted-set",
         summary="Add one or more members to a sorted set, or update its score if it already "
                 "exists", since="1.2.0", acl="@write @sortedset @fast")
def cmd_zadd(ctx, argv):
    score = argv[2] if len(argv) == 4 else b""
    if score.isdigit() and len(score) <= _EXACT_DIGITS:
        # ZADD key score member with a plain integer score, the commonest call: no flag can
        # be there, and the score is exact as a double (parse_score's fast case, inline)
        return zset.add(ctx.db, argv[1], [(float(score), argv[3])])[0]
    # Flags come first and end at the first word that is not one (the first score).
    flags = dict.fromkeys(_ZADD_FLAGS, False)
    args = ArgCursor(argv, 2)
    while (word := args.peek()) is not None and word.upper() in flags:
        flags[args.word()] = True
    nx, xx, ch, incr, gt, lt = flags.values()
    i, n = args.pos, len(argv)
    elements = n - i
    if elements % 2 or not elements:
        raise LedisError(errors.SYNTAX)
    if nx and xx:
        raise LedisError(errors.ZADD_XX_NX)
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise LedisError(errors.GT_LT_NX)
    if incr and elements > 2:
        raise LedisError(errors.ZADD_INCR_PAIR)
    pairs = [(parse_score(argv[j]), argv[j + 1]) for j in range(i, n, 2)]
    added, updated, processed, last = zset.add(ctx.db, argv[1], pairs, nx, xx, gt, lt, incr)
    if incr:
        return Double(last) if processed else None
    return added + updated if ch else added


@command("zincrby", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="sorted-set",
         summary="Increment the score of a member in a sorted set", since="1.2.0",
         acl="@write @sortedset @fast")
def cmd_zincrby(ctx, argv):
    if argv[2].upper() in _ZADD_FLAGS:
        # Redis runs ZINCRBY through ZADD's parser, whose flag loop takes this word as a flag:
        # one argument is left for a score-member pair
        raise LedisError(errors.SYNTAX)
    increment = parse_score(argv[2])
    _, _, _, last = zset.add(ctx.db, argv[1], [(increment, argv[3])], incr=True)
    return Double(last)


@command("zrem", arity=-3, flags="write fast", keys=(1, 1, 1), group="sorted-set",
         summary="Remove one or more members from a sorted set", since="1.2.0",
         acl="@write @sortedset @fast")
def cmd_zrem(ctx, argv):
    return zset.remove(ctx.db, argv[1], argv[2:])


@command("zcard", arity=2, flags="readonly fast", keys=(1, 1, 1), group="sorted-set",
         summary="Get the number of members in a sorted set", since="1.2.0",
         acl="@read @sortedset @fast")
def cmd_zcard(ctx, argv):
    return zset.card(ctx.db, argv[1])


@command("zscore", arity=3, flags="readonly fast", keys=(1, 1, 1), group="sorted-set",
         summary="Get the score associated with the given member in a sorted set",
         since="1.2.0", acl="@read @sortedset @fast")
def cmd_zscore(ctx, argv):
    value = zset.score(ctx.db, argv[1], argv[2])
    return None if value is None else Double(value)


@command("zmscore", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="sorted-set",
         summary="Get the score associated with the given members in a sorted set",
         since="6.2.0", acl="@read @sortedset @fast")
def cmd_zmscore(ctx, argv):
    return [None if v is None else Double(v) for v in zset.scores(ctx.db, argv[1], argv[2:])]


@command("zrank", arity=3, flags="readonly fast", keys=(1, 1, 1), group="sorted-set",
         summary="Determine the index of a member in a sorted set", since="2.0.0",
         acl="@read @sortedset @fast")
def cmd_zrank(ctx, argv):
    return zset.rank(ctx.db, argv[1], argv[2])


@command("zrevrank", arity=3, flags="readonly fast", keys=(1, 1, 1), group="sorted-set",
         summary="Determine the index of a member in a sorted set, with scores ordered from "
                 "high to low", since="2.0.0", acl="@read @sortedset @fast")
def cmd_zrevrank(ctx, argv):
    return zset.rank(ctx.db, argv[1], argv[2], reverse=True)


@command("zcount", arity=4, flags="readonly fast", keys=(1, 1, 1), group="sorted-set",
         summary="Count the members in a sorted set with scores within the given values",
         since="2.0.0", acl="@read @sortedset @fast")
def cmd_zcount(ctx, argv):
    spec = parse_score_range(argv[2], argv[3])
    zset.read_meta(ctx.db, argv[1])  # the counted read: count_by_score (shared with the
    # streamed ZRANGE, which counts its own) counts none
    return zset.count_by_score(ctx.db, argv[1], spec)


@command("zlexcount", arity=4, flags="readonly fast", keys=(1, 1, 1), group="sorted-set",
         summary="Count the number of members in a sorted set between a given lexicographical "
                 "range", since="2.8.9", acl="@read @sortedset @fast")
def cmd_zlexcount(ctx, argv):
    spec = parse_lex_range(argv[2], argv[3])
    return zset.count_by_lex(ctx.db, argv[1], spec)


# --- removals by range ------------------------------------------------------------------------


@command("zremrangebyrank", arity=4, flags="write", keys=(1, 1, 1), group="sorted-set",
         summary="Remove all members in a sorted set within the given indexes", since="2.0.0",
         acl="@write @sortedset @slow")
def cmd_zremrangebyrank(ctx, argv):
    start = parse_int(argv[2])
    stop = parse_int(argv[3])
    return zset.remove_range_by_rank(ctx.db, argv[1], start, stop)


@command("zremrangebyscore", arity=4, flags="write", keys=(1, 1, 1), group="sorted-set",
         summary="Remove all members in a sorted set within the given scores", since="1.2.0",
         acl="@write @sortedset @slow")
def cmd_zremrangebyscore(ctx, argv):
    spec = parse_score_range(argv[2], argv[3])
    return zset.remove_range_by_score(ctx.db, argv[1], spec)


@command("zremrangebylex", arity=4, flags="write", keys=(1, 1, 1), group="sorted-set",
         summary="Remove all members in a sorted set between the given lexicographical range",
         since="2.8.9", acl="@write @sortedset @slow")
def cmd_zremrangebylex(ctx, argv):
    spec = parse_lex_range(argv[2], argv[3])
    return zset.remove_range_by_lex(ctx.db, argv[1], spec)


# --- pops -------------------------------------------------------------------------------------


def _zpop(ctx, argv, highest: bool):
    if len(argv) > 3:
        raise LedisError(errors.SYNTAX)
    count = parse_positive(argv[2]) if len(argv) == 3 else None
    db = ctx.db
    if zset.meta(db, argv[1]) is None or count == 0:
        return []
    pairs = zset.pop(db, argv[1], 1 if count is None else count, highest)
    if count is None:
        member, value = pairs[0]
        return [member, Double(value)]
    return scored_reply(ctx, pairs)


@command("zpopmin", arity=-2, flags="write fast", keys=(1, 1, 1), group="sorted-set",
         summary="Remove and return members with the lowest scores in a sorted set",
         since="5.0.0", acl="@write @sortedset @fast")
def cmd_zpopmin(ctx, argv):
    return _zpop(ctx, argv, False)


@command("zpopmax", arity=-2, flags="write fast", keys=(1, 1, 1), group="sorted-set",
         summary="Remove and return members with the highest scores in a sorted set",
         since="5.0.0", acl="@write @sortedset @fast")
def cmd_zpopmax(ctx, argv):
    return _zpop(ctx, argv, True)


_WHERE = {b"MIN": False, b"MAX": True}


def _parse_mpop(argv: list[bytes], numkeys_at: int) -> tuple[list[bytes], bool, int]:
    """``numkeys key [key ...] MIN|MAX [COUNT count]`` -> (keys, highest, count)."""
    return parse_mpop(argv, numkeys_at, _WHERE)


def _mpop_attempt(db, keys: list[bytes], highest: bool, count: int):
    """Pop from the first non-empty zset of ``keys``; None when all are empty."""
    for key in keys:
        if zset.meta(db, key) is not None:
            return [key, _pairs3(zset.pop(db, key, count, highest))]
    return None


@command("zmpop", arity=-4, flags="write movablekeys", keys=(0, 0, 0), group="sorted-set",
         summary="Remove and return members with scores in a sorted set", since="7.0.0",
         acl="@write @sortedset @slow")
def cmd_zmpop(ctx, argv):
    keys, highest, count = _parse_mpop(argv, 1)
    result = _mpop_attempt(ctx.db, keys, highest, count)
    return NullArray if result is None else result


# --- blocking pops ----------------------------------------------------------------------------


def _block(ctx, keys: list[bytes], timeout: float, attempt):
    """Serve now or wait for one of ``keys`` (``ledis.blocking``); ``attempt`` returns a
    reply or None when every key is empty. Inside MULTI or a script the timeout reply comes
    at once, as in Redis."""

    def retry():
        value = attempt()
        return blocking.NOT_READY if value is None else value

    return blocking.block(ctx, keys, timeout, retry, NullArray)


def _bzpop(ctx, argv, highest: bool):
    timeout = blocking.parse_timeout(argv[-1])
    keys = argv[1:-1]

    def attempt():
        db = ctx.db
        for key in keys:
            if zset.meta(db, key) is not None:
                member, value = zset.pop(db, key, 1, highest)[0]
                return [key, member, Double(value)]
        return None

    return _block(ctx, keys, timeout, attempt)


@command("bzpopmin", arity=-3, flags="write noscript blocking fast", keys=(1, -2, 1),
         group="sorted-set", summary="Remove and return the member with the lowest score from "
         "one or more sorted sets, or block until one is available", since="5.0.0",
         acl="@write @sortedset @fast @blocking")
def cmd_bzpopmin(ctx, argv):
    return _bzpop(ctx, argv, False)


@command("bzpopmax", arity=-3, flags="write noscript blocking fast", keys=(1, -2, 1),
         group="sorted-set", summary="Remove and return the member with the highest score from "
         "one or more sorted sets, or block until one is available", since="5.0.0",
         acl="@write @sortedset @fast @blocking")
def cmd_bzpopmax(ctx, argv):
    return _bzpop(ctx, argv, True)


@command("bzmpop", arity=-5, flags="write blocking movablekeys", keys=(0, 0, 0),
         group="sorted-set", summary="Remove and return members with scores in a sorted set or "
         "block until one is available", since="7.0.0",
         acl="@write @sortedset @slow @blocking")
def cmd_bzmpop(ctx, argv):
    keys, highest, count = _parse_mpop(argv, 2)
    timeout = blocking.parse_timeout(argv[1])  # after the keys and options, as Redis
    return _block(ctx, keys, timeout, lambda: _mpop_attempt(ctx.db, keys, highest, count))


# --- ZRANDMEMBER / ZSCAN ----------------------------------------------------------------------


@command("zrandmember", arity=-2, flags="readonly", keys=(1, 1, 1), group="sorted-set",
         summary="Get one or multiple random elements from a sorted set", since="6.2.0",
         acl="@read @sortedset @slow")
def cmd_zrandmember(ctx, argv):
    db = ctx.db
    if len(argv) == 2:
        return zset.random_member(db, argv[1])
    count = parse_int(argv[2])
    if count < -_LONG_MAX:
        raise LedisError(errors.COUNT_RANGE_SIGNED)
    withscores = False
    if len(argv) > 4 or (len(argv) == 4 and argv[3].upper() != b"WITHSCORES"):
        raise LedisError(errors.SYNTAX)
    if len(argv) == 4:
        withscores = True
        if count < -(_LONG_MAX // 2) or count > _LONG_MAX // 2:
            raise LedisError(errors.COUNT_OUT_OF_RANGE)
    items = zset.random_members(db, argv[1], count, withscores)
    return scored_reply(ctx, items) if withscores else items


class _ZScanCursors:
    """Cursor number -> (key, last member returned): ZSCAN walks members in byte order, so
    a position is "after this member". Bounded; the oldest cursors are forgotten first."""

    MAX = 50_000

    def __init__(self) -> None:
        import random

        self.next_id = random.randrange(1 << 20, 1 << 40)
        self.positions: dict[int, tuple[bytes, bytes]] = {}

    def issue(self, key: bytes, member: bytes) -> int:
        self.next_id += 1
        self.positions[self.next_id] = (key, member)
        if len(self.positions) > self.MAX:
            del self.positions[next(iter(self.positions))]
        return self.next_id


_CURSORS = _ZScanCursors()
# Redis keeps small zsets as one listpack and ZSCAN returns them whole; do the same.
_SCAN_WHOLE = 128


@command("zscan", arity=-3, flags="readonly", keys=(1, 1, 1), group="sorted-set",
         summary="Incrementally iterate sorted sets elements and associated scores",
         since="2.8.0", acl="@read @sortedset @slow")
def cmd_zscan(ctx, argv):
    cursor = parse_scan_cursor(argv[2])
    db = ctx.db
    key = argv[1]
    raw = zset.read_meta(db, key)
    if raw is None:
        return [b"0", []]
    count, pattern, _ = parse_scan_options(argv, 3)
    if zset.size_of(raw) <= _SCAN_WHOLE:
        # One reply with everything, in score order, cursor 0: Redis's listpack behaviour.
        pairs = zset.range_by_rank(db, key, 0, -1, False, True)
        next_cursor = 0
    else:
        after = None
        if cursor:
            position = _CURSORS.positions.get(cursor)
            if position is None:
                raise LedisError(errors.INVALID_CURSOR)
            after = position[1]
        pairs, more = zset.scan(db, key, after, count)
        next_cursor = _CURSORS.issue(key, pairs[-1][0]) if more and pairs else 0
    if pattern is not None and pattern != b"*":
        from ledis import glob

        matcher = glob.compile(pattern)
        pairs = [(m, s) for m, s in pairs if matcher(m)]
    out: list = []
    text = score_text
    for m, e in pairs:
        out.append(m)
        out.append(text(e))  # a bulk string in both protocols, as in Redis
    return [b"%d" % next_cursor, out]


# --- LedisDB extras ---------------------------------------------------------------------------


@command("zclear", arity=2, flags="write", keys=(1, 1, 1), group="sorted-set",
         summary="Delete a sorted set, returning how many members it had (LedisDB)",
         since="1.0.0", acl="@write @sortedset @fast")
def cmd_zclear(ctx, argv):
    return zset.clear(ctx.db, argv[1])


@command("zmclear", arity=-2, flags="write", keys=(1, -1, 1), group="sorted-set",
         summary="Delete several sorted sets, returning how many keys were given (LedisDB)",
         since="1.0.0", acl="@write @sortedset @slow")
def cmd_zmclear(ctx, argv):
    db = ctx.db
    for key in argv[1:]:
        zset.meta(db, key)  # WRONGTYPE before anything is deleted
    for key in argv[1:]:
        zset.clear(db, key)
    return len(argv) - 1
