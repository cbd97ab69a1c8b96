"""Sorted sets on disk: two orderings of the same members, kept in step.

Layout (``P = sub_prefix(db, version)`` = ``db(1) | version(8)``, the version is the key's id)::

    meta    db | key                    -> type=ZSET(1) | expire_ms(8) | version(8) | size(8)
    data    P | member                  -> score(8)          member order: lex ranges, lookups
    zscore  P | score(8) | member       -> b""               score order: ranks, score ranges

``score(8)`` is the IEEE double mapped to 8 bytes whose byte order is the numeric order
(``zset_score.py``, with the score and lex range bounds). So the ``zscore`` family is sorted
by (score, member) exactly like Redis's skiplist, -inf and +inf included; NaN is rejected
before anything is stored and -0.0 is stored as 0.0 (Redis compares doubles, so -0 and 0 tie
and are ordered by member). The ``data`` value is that same encoding, so a score change
rewrites the index key without re-encoding the old score.

Why this shape:

* ZSCORE / ZMSCORE / ZADD of an existing member are point reads (``data``); ZADD with an
  unchanged score is two cached reads and no write.
* Score and rank ranges are one iterator over ``zscore`` (seek to the encoded bound), lex
  ranges one iterator over ``data`` (members are stored in byte order there). Lex ranges are
  only meaningful when all scores are equal (as in Redis), and then both orders agree.
* The size lives in the metadata, so ZCARD is O(1); a zset emptied by a removal is deleted
  (``db.remove``) so EXISTS says 0, and DEL/overwrite drop the old version (range deletes,
  or point deletes for a small zset: ``Database._drop_version``).
* **The rank index** (zsets of ``INDEX_MIN`` members or more, ``zset_rank.py``): counted
  blocks and groups of the score index after every score (``P | ff ff ...``), kept in the
  same batch as the members, so ZRANK and rank ranges seek instead of walking O(rank);
  ZCOUNT (and ZLEXCOUNT of a one-score zset) is two ranks, ZRANDMEMBER reads random ranks,
  and a LIMIT offset of ``SKIP_BY_RANK`` or more seeks by rank.

This module works on Python values (bytes members, float scores) and never sees RESP. Range
results carry the scores still encoded ((member, 8 bytes) pairs), because replies format
each distinct score once (``ledis.commands.zsets.score_text`` / ``score_double``).

Known differences from Redis 7.0: a stored -0 reads back as 0 in every zset (Redis keeps -0
in skiplist-encoded zsets of more than 128 members); lex ranges over members with unequal
scores follow byte order (Redis's answer there depends on its encoding).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from ledis import errors
from ledis.errors import LedisError
from ledis.storage import layout
from ledis.storage.keyspace import Database
from ledis.storage.layout import COLLECTION, DATA, META, U64, ZSCORE, ZSET
from ledis.storage.types import clip_range, zset_rank
from ledis.storage.types.zset_rank import (
    INDEXED,
    build_index,
    index_add,
    index_remove,
    indexed,
    members_at,
    rank_of,
    score_end,
    seek_rank,
)
from ledis.storage.types.zset_score import (  # noqa: F401 (zset.ScoreRange ... for callers)
    ALL_BITS,
    SIGN,
    SKIP_BY_RANK,
    LexRange,
    ScoreRange,
    decode_score,
    encode_score,
    pack_double,
)

_U64_pack = U64.pack
_U64_unpack = U64.unpack
_NO_EXPIRE = layout.NO_EXPIRE
_DB_BYTES = layout.DB_BYTES
_time = time.time

# Wakes the clients blocked on a key (BZPOPMIN ...) after members were added. Storage does not
# know the blocking machinery: the composition root (ledis/server/compose.py) sets this to
# ``ledis.blocking.key_ready``; offline tools keep the no-op.
def _no_waiters(db: Database, key: bytes) -> None:
    return None


key_ready: Callable[[Database, bytes], None] = _no_waiters


def _signal(db: Database, key: bytes) -> None:
    """Wake clients blocked on ``key`` (BZPOPMIN ...) after members were added."""
    key_ready(db, key)


# --- reading ------------------------------------------------------------------------------


def meta(db: Database, key: bytes) -> bytes | None:
    """Live metadata of a zset, None if missing, WRONGTYPE for another type."""
    raw = db.lookup(key)
    if raw is not None and raw[0] != ZSET:
        raise LedisError(errors.WRONGTYPE)
    return raw


def read_meta(db: Database, key: bytes) -> bytes | None:
    """``meta`` counted as a read (a keyspace hit or miss: ``Database.read``). The one-lookup
    reads below use it; the ranges and walks do not (their commands count the key once
    themselves: a streamed range may fall back to the plain one)."""
    raw = db.read(key)
    if raw is not None and raw[0] != ZSET:
        raise LedisError(errors.WRONGTYPE)
    return raw


def _prefix(db: Database, raw: bytes, key: bytes) -> bytes:
    return layout.sub_prefix(db.index, _U64_unpack(raw[9:17])[0])


def size_of(raw: bytes) -> int:
    return _U64_unpack(raw[17:25])[0]


def card(db: Database, key: bytes) -> int:
    raw = read_meta(db, key)
    return 0 if raw is None else _U64_unpack(raw[17:25])[0]


def score(db: Database, key: bytes, member: bytes) -> float | None:
    raw = read_meta(db, key)
    return None if raw is None else member_score(db, key, raw, member)


def member_score(db: Database, key: bytes, raw: bytes, member: bytes) -> float | None:
    """The score of ``member`` in the zset of metadata ``raw`` (None: not a member)."""
    enc = db.engine.get(DATA, _prefix(db, raw, key) + member)
    return None if enc is None else decode_score(enc)


def scores(db: Database, key: bytes, members: list[bytes]) -> list[float | None]:
    raw = read_meta(db, key)
    if raw is None:
        return [None] * len(members)
    prefix = _prefix(db, raw, key)
    get = db.engine.get
    out: list[float | None] = []
    for member in members:
        enc = get(DATA, prefix + member)
        out.append(None if enc is None else decode_score(enc))
    return out


def rank(db: Database, key: bytes, member: bytes, reverse: bool = False) -> int | None:
    raw = read_meta(db, key)
    if raw is None:
        return None
    prefix = _prefix(db, raw, key)
    enc = db.engine.get(DATA, prefix + member)
    if enc is None:
        return None
    if indexed(raw):
        before = rank_of(db.engine, prefix, enc + member)
    else:
        before = sum(1 for _ in db.engine.iterate(ZSCORE, prefix, prefix + enc + member))
    return size_of(raw) - 1 - before if reverse else before


def _window(it: Iterator, offset: int, count: int) -> Iterator:
    """``LIMIT offset count`` over ``it`` (a negative count: everything after ``offset``).
    Both are 64-bit, so their sum may pass what ``islice`` takes: capped, as nothing is
    that long."""
    if offset or count >= 0:
        return islice(it, offset, None if count < 0 else min(offset + count, sys.maxsize))
    return it


def _entries(db: Database, prefix: bytes, start: bytes, end: bytes, reverse: bool,
             offset: int, count: int, with_scores: bool) -> list:
    """Members (or (member, encoded score) pairs) of ``zscore`` keys in ``[start, end)``."""
    it = db.engine.iterate(ZSCORE, start, end, reverse)
    it = _window(it, offset, count)
    cut = len(prefix) + 8
    if not with_scores:
        return [k[cut:] for k, _ in it]
    p = len(prefix)
    return [(k[cut:], k[p:cut]) for k, _ in it]


def range_by_rank(db: Database, key: bytes, start: int, stop: int, reverse: bool = False,
                  with_scores: bool = False) -> list:
    """ZRANGE by index with Redis's clamping of negative / out-of-range indexes.

    Range functions return members, or with ``with_scores`` (member, encoded score) pairs:
    replies format each distinct encoded score once (``score_text`` / ``score_double``)
    instead of decoding every element."""
    raw = meta(db, key)
    if raw is None:
        return []
    size = size_of(raw)
    clipped = clip_range(start, stop, size)
    if clipped is None:
        return []
    start, stop = clipped
    prefix = _prefix(db, raw, key)
    end = score_end(prefix)
    count = stop - start + 1
    if indexed(raw):
        begin, skip = seek_rank(db.engine, prefix, size - 1 - stop if reverse else start)
        items = _entries(db, prefix, begin, end, False, skip, count, with_scores)
        if reverse:
            items.reverse()
        return items
    # Walk from the nearer end: rank r from the front is rank size-1-r from the back.
    if start <= size - 1 - stop:
        return _entries(db, prefix, prefix, end, reverse, start, count, with_scores)
    items = _entries(db, prefix, prefix, end, not reverse, size - 1 - stop, count, with_scores)
    items.reverse()
    return items


def walk_by_rank(db: Database, key: bytes, start: int, stop: int, reverse: bool = False
                 ) -> tuple[Iterator[tuple[bytes, bytes]], int, int, int] | None:
    """ZRANGE by index for a streamed reply: a walk of the score index in the reply's order,
    pinned now (``Engine.walk``), how many entries to skip then to take, and the length of an
    index key before its member. None when the range is empty."""
    raw = meta(db, key)
    if raw is None:
        return None
    clipped = clip_range(start, stop, size_of(raw))
    if clipped is None:
        return None
    prefix = _prefix(db, raw, key)
    walk = db.engine.walk(ZSCORE, prefix, score_end(prefix), reverse)  # not the rank index after it
    return walk, clipped[0], clipped[1] - clipped[0] + 1, len(prefix) + 8


def range_by_score(db: Database, key: bytes, spec: ScoreRange, reverse: bool = False,
                   offset: int = 0, count: int = -1, with_scores: bool = False) -> list:
    raw = meta(db, key)
    if raw is None or spec.empty() or offset < 0:
        return []
    prefix = _prefix(db, raw, key)
    start, end = spec.bounds(prefix)
    found = _past_offset(db.engine, raw, prefix, start, end, reverse, offset)
    if found is None:
        return []
    start, end, offset = found
    return _entries(db, prefix, start, end, reverse, offset, count, with_scores)


def walk_by_score(db: Database, key: bytes, spec: ScoreRange, reverse: bool = False,
                  offset: int = 0) -> tuple[Iterator[tuple[bytes, bytes]], int, int] | None:
    """ZRANGEBYSCORE of an indexed zset for a streamed reply: a walk of the score index in
    the reply's order, pinned now (``Engine.walk``), how many entries to skip first, and the
    length of an index key before its member. None when the zset is missing or has no rank
    index (under ``INDEX_MIN`` members: no chunk's worth at the default chunk size, and no
    cheap count), or nothing is in range; the reply's length is ``count_by_score`` minus the
    offset."""
    raw = meta(db, key)
    if raw is None or spec.empty() or offset < 0 or not indexed(raw):
        return None
    prefix = _prefix(db, raw, key)
    start, end = spec.bounds(prefix)
    found = _past_offset(db.engine, raw, prefix, start, end, reverse, offset)
    if found is None:
        return None
    start, end, skip = found
    return db.engine.walk(ZSCORE, start, end, reverse), skip, len(prefix) + 8


def _past_offset(engine, raw: bytes, prefix: bytes, start: bytes, end: bytes, reverse: bool,
                 offset: int) -> tuple[bytes, bytes, int] | None:
    """``[start, end)`` of the score index and the entries to skip in it (in the walk's
    direction) to pass LIMIT's ``offset``; None when the offset passes the whole range. An
    offset of ``SKIP_BY_RANK`` or more on an indexed zset is passed through the rank index
    (Redis 7.0 walks it): the member ``offset`` places into the range is found by its rank,
    and the range starts (or, in reverse, ends) there."""
    if offset < SKIP_BY_RANK or not indexed(raw) or start >= end:
        return start, end, offset
    p = len(prefix)
    if reverse:
        rank = rank_of(engine, prefix, end[p:]) - 1 - offset
        if rank < rank_of(engine, prefix, start[p:]):
            return None
        begin, skip = seek_rank(engine, prefix, rank)
        return start, next(islice(engine.iterate(ZSCORE, begin, end), skip, None))[0] + b"\x00", 0
    rank = rank_of(engine, prefix, start[p:]) + offset
    if rank >= size_of(raw):
        return None
    begin, skip = seek_rank(engine, prefix, rank)
    return begin, end, skip


def range_by_lex(db: Database, key: bytes, spec: LexRange, reverse: bool = False,
                 offset: int = 0, count: int = -1, with_scores: bool = False) -> list:
    raw = meta(db, key)
    if raw is None or offset < 0:
        return []
    prefix = _prefix(db, raw, key)
    bounds = spec.bounds(prefix)
    if bounds is None:
        return []
    it = db.engine.iterate(DATA, bounds[0], bounds[1], reverse)
    it = _window(it, offset, count)
    p = len(prefix)
    if with_scores:
        return [(k[p:], v) for k, v in it]
    return [k[p:] for k, _ in it]


def walk_by_lex(db: Database, key: bytes, spec: LexRange, reverse: bool, longer_than: int
                ) -> tuple[Iterator[tuple[bytes, bytes]], int] | None:
    """ZRANGEBYLEX for a streamed reply: a walk of the members in range in the reply's order,
    pinned now (``Engine.walk``), and the length of a ``data`` key before its member. None
    when the zset is missing, has ``longer_than`` members or fewer, or nothing can match."""
    raw = meta(db, key)
    if raw is None or size_of(raw) <= longer_than:
        return None
    prefix = _prefix(db, raw, key)
    bounds = spec.bounds(prefix)
    if bounds is None:
        return None
    return db.engine.walk(DATA, bounds[0], bounds[1], reverse), len(prefix)


def count_by_score(db: Database, key: bytes, spec: ScoreRange) -> int:
    raw = meta(db, key)
    if raw is None or spec.empty():
        return 0
    prefix = _prefix(db, raw, key)
    start, end = spec.bounds(prefix)
    if start == prefix + encode_score(float("-inf")) and end == layout.prefix_end(
            prefix + encode_score(float("inf"))):
        return size_of(raw)
    if indexed(raw):  # members below the end minus members below the start: O(log n)
        if start >= end:
            return 0
        p = len(prefix)
        return rank_of(db.engine, prefix, end[p:]) - rank_of(db.engine, prefix, start[p:])
    return sum(1 for _ in db.engine.iterate(ZSCORE, start, end))


def count_by_lex(db: Database, key: bytes, spec: LexRange) -> int:
    raw = read_meta(db, key)
    if raw is None:
        return 0
    prefix = _prefix(db, raw, key)
    bounds = spec.bounds(prefix)
    if bounds is None:
        return 0
    if spec.min_inf < 0 and spec.max_inf > 0:
        return size_of(raw)
    if indexed(raw):
        # Lex ranges are meant for zsets whose members all have one score (Redis's docs):
        # there the score index is in member order, and the count is two ranks. Over mixed
        # scores this counts the members in range by walking them.
        engine = db.engine
        end = score_end(prefix)
        p = len(prefix)
        lowest = next(engine.iterate(ZSCORE, prefix, end))[0][p:p + 8]
        if lowest == next(engine.iterate(ZSCORE, prefix, end, True))[0][p:p + 8]:
            above = (size_of(raw) if spec.max_inf > 0
                     else rank_of(engine, prefix, lowest + bounds[1][p:]))
            return above - rank_of(engine, prefix, lowest + bounds[0][p:])
    return sum(1 for _ in db.engine.iterate(DATA, bounds[0], bounds[1]))


def load(db: Database, key: bytes) -> dict[bytes, float] | None:
    """Every member -> score of a zset, or member -> 1.0 of a set (ZUNION & co. accept
    both, as Redis does); None when the key is missing; WRONGTYPE for other types."""
    raw = db.lookup(key)
    if raw is None:
        return None
    kind = raw[0]
    if kind != ZSET and kind != layout.SET:
        raise LedisError(errors.WRONGTYPE)
    prefix = _prefix(db, raw, key)
    p = len(prefix)
    items = db.engine.iterate(DATA, prefix, layout.prefix_end(prefix))
    if kind == ZSET:
        return {k[p:]: decode_score(v) for k, v in items}
    return {k[p:]: 1.0 for k, _ in items}


def input_size(db: Database, key: bytes) -> int:
    """Cardinality of a zset or set input (0 if missing), WRONGTYPE for other types."""
    raw = db.read(key)  # counted: Redis looks every input up as a read first
    if raw is None:
        return 0
    if raw[0] != ZSET and raw[0] != layout.SET:
        raise LedisError(errors.WRONGTYPE)
    return size_of(raw)


def random_members(db: Database, key: bytes, count: int, with_scores: bool) -> list:
    """ZRANDMEMBER with a count: distinct members for count > 0, repeats allowed for
    count < 0. Random ranks, read through the rank index (a small zset: one pass over
    ``data``, collecting the chosen positions)."""
    raw = read_meta(db, key)
    if raw is None or count == 0:
        return []
    size = size_of(raw)
    prefix = _prefix(db, raw, key)
    p = len(prefix)
    if count >= size:
        # The whole set, highest score first: what Redis 7.0 answers for (small, listpack)
        # zsets, so replies are deterministic and comparable.
        cut = p + 8
        picked = [(k[cut:], k[p:cut]) for k, _ in
                  db.engine.iterate(ZSCORE, prefix, score_end(prefix), True)]
    else:
        if count > 0:
            order = random.sample(range(size), count)
        else:
            order = [random.randrange(size) for _ in range(-count)]
        if indexed(raw):  # the members at those ranks of the score index, not a walk
            at = members_at(db.engine, prefix, order)
            picked = [(at[r][8:], at[r][:8]) for r in order]
        else:
            wanted = set(order)
            found: dict[int, tuple[bytes, bytes]] = {}
            for i, (k, v) in enumerate(db.engine.iterate(DATA, prefix,
                                                         layout.prefix_end(prefix))):
                if i in wanted:
                    found[i] = (k[p:], v)
                    if len(found) == len(wanted):
                        break
            picked = [found[i] for i in order]
    if with_scores:
        return [(m, decode_score(v)) for m, v in picked]
    return [m for m, _ in picked]


def random_member(db: Database, key: bytes) -> bytes | None:
    picked = random_members(db, key, 1, False)
    return picked[0] if picked else None


def scan(db: Database, key: bytes, after: bytes | None, count: int) -> tuple[list, bool]:
    """Up to ``count`` (member, encoded score) pairs in member order strictly after
    ``after`` (from the start when None), and whether more remain."""
    raw = meta(db, key)
    if raw is None:
        return [], False
    prefix = _prefix(db, raw, key)
    p = len(prefix)
    start = prefix if after is None else prefix + after + b"\x00"
    count = min(count, sys.maxsize - 1)  # COUNT is 64-bit; one more must fit islice
    got = list(islice(db.engine.iterate(DATA, start, layout.prefix_end(prefix)), count + 1))
    more = len(got) > count
    return [(k[p:], v) for k, v in got[:count]], more


# --- writing ------------------------------------------------------------------------------


def _new(db: Database, key: bytes) -> tuple[bytes, bytes]:
    """Metadata and prefix of a fresh, empty zset version for ``key`` (not stored yet)."""
    version = db.new_version()
    return (COLLECTION.pack(ZSET, 0, version, 0),
            layout.sub_prefix(db.index, version))


def _finish(db: Database, key: bytes, raw: bytes, old_raw: bytes | None, new_size: int,
            created: bool) -> None:
    """Store the new size (or remove the emptied key). ``raw`` is the live metadata whose
    size changes; ``old_raw`` the physical metadata before a creation."""
    if new_size == 0:
        if not created:
            db.remove(key, raw)
        return
    new_raw = raw[:17] + _U64_pack(new_size) + raw[25:]
    if created:
        db.replace(key, new_raw, old_raw)
    else:
        db.engine.put(META, db.prefix + key, new_raw)


def add(db: Database, key: bytes, pairs: list[tuple[float, bytes]], nx: bool = False,
        xx: bool = False, gt: bool = False, lt: bool = False, incr: bool = False,
        ) -> tuple[int, int, int, float]:
    """ZADD (and ZINCRBY with ``incr``). Returns (added, updated, processed, last score).

    Semantics of Redis's ``zsetAdd``: NX skips existing members, XX skips new ones, GT/LT
    only move a score up/down (after INCR's addition); an INCR that makes NaN raises before
    anything of this command is written (INCR takes a single pair).

    Long because it is ZADD's whole hot path: the metadata gate and the prefix are inline (a
    Python call each otherwise), as in ``list.push``."""
    engine = db.engine
    mkey = db.prefix + key
    raw = engine.get(META, mkey)
    old_raw = raw
    if raw is not None:
        if raw[1:9] != _NO_EXPIRE and U64.unpack_from(raw, 1)[0] <= _time() * 1000:
            raw = None  # expired: a new zset replaces it
        elif raw[0] != ZSET:
            raise LedisError(errors.WRONGTYPE)
    created = raw is None
    if created:
        if xx:
            return 0, 0, 0, pairs[-1][0]
        raw, prefix = _new(db, key)
        size = 0
    else:
        # == layout.sub_prefix (a flagged version's low byte is its home db)
        prefix = ((db.prefix if raw[9] < 0x80 else _DB_BYTES[raw[16]])  # type: ignore[index]
                  + raw[9:17])  # type: ignore[index]
        size = U64.unpack_from(raw, 17)[0]  # type: ignore[arg-type]
    # the score index's member entries are never point-read: written around the cache
    get, put, index = engine.get, engine.put, engine.write_uncached
    keep_index = raw[25:26] == INDEXED  # type: ignore[index]
    compare = incr or gt or lt  # the new score depends on the old one
    added = updated = processed = 0
    new_score = 0.0
    for value, member in pairs:
        dkey = prefix + member
        old = None if created and size == 0 else get(DATA, dkey)
        bits = _U64_unpack(pack_double(value + 0.0))[0]  # enc = encode_score(value), inline
        enc = _U64_pack(bits ^ ALL_BITS if bits & SIGN else bits | SIGN)
        if old is not None:
            if nx:
                new_score = value
                continue
            new_score = value
            if compare:
                cur = decode_score(old)
                if incr:
                    new_score = cur + value
                    if new_score != new_score:  # NaN
                        raise LedisError(errors.ZSET_NAN_RESULT)
                if (lt and new_score >= cur) or (gt and new_score <= cur):
                    new_score = cur
                    continue
                if incr:
                    enc = encode_score(new_score)
            processed += 1
            # Equal encodings are equal scores (encode_score is one-to-one but for -0.0,
            # which encodes as 0.0, and equals it): a plain ZADD decodes nothing.
            if enc != old:
                index(ZSCORE, prefix + old + member, None)
                index(ZSCORE, prefix + enc + member, b"")
                put(DATA, dkey, enc)
                if keep_index:
                    index_remove(engine, prefix, old + member)
                    index_add(engine, prefix, enc + member)
                updated += 1
        else:
            if xx:
                continue
            new_score = value
            put(DATA, dkey, enc)
            index(ZSCORE, prefix + enc + member, b"")
            if keep_index:
                index_add(engine, prefix, enc + member)
            added += 1
            processed += 1
            size += 1
    if not keep_index and size >= zset_rank.INDEX_MIN and (added or updated):
        build_index(engine, prefix)
        raw = raw[:25] + INDEXED  # type: ignore[index]
        if not added and not created:  # the size is the same: store the flag
            engine.put(META, mkey, raw)
    if added or created:
        _finish(db, key, raw, old_raw, size, created)  # type: ignore[arg-type]
        if added:
            key_ready(db, key)  # _signal, inline
    return added, updated, processed, new_score


def remove(db: Database, key: bytes, members: Iterable[bytes]) -> int:
    raw = meta(db, key)
    if raw is None:
        return 0
    prefix = _prefix(db, raw, key)
    engine = db.engine
    size = size_of(raw)
    keep_index = indexed(raw)
    removed = 0
    for member in members:
        dkey = prefix + member
        enc = engine.get(DATA, dkey)
        if enc is None:
            continue
        removed += 1
        size -= 1
        if size == 0:
            break  # the whole key goes below
        engine.delete(DATA, dkey)
        engine.write_uncached(ZSCORE, prefix + enc + member, None)
        if keep_index:
            index_remove(engine, prefix, enc + member)
    if removed:
        _finish(db, key, raw, None, size, False)
    return removed


def _delete_entries(db: Database, key: bytes, raw: bytes, prefix: bytes,
                    entries: list[tuple[bytes, bytes]]) -> int:
    """Delete (member, encoded score) pairs known to be present; fix size / remove key."""
    size = size_of(raw) - len(entries)
    if size > 0:
        engine = db.engine
        for member, enc in entries:
            engine.delete(DATA, prefix + member)
            engine.write_uncached(ZSCORE, prefix + enc + member, None)
        if indexed(raw):
            # Uncount each member (a seek and two puts), or rebuild from what remains when
            # that is cheaper (a big range removal).
            if len(entries) * 16 > size:
                build_index(engine, prefix)
            else:
                for member, enc in entries:
                    index_remove(engine, prefix, enc + member)
    if entries:
        _finish(db, key, raw, None, size, False)
    return len(entries)


def _score_slice(db: Database, prefix: bytes, start: bytes, end: bytes, reverse: bool,
                 offset: int, count: int) -> list[tuple[bytes, bytes]]:
    it = db.engine.iterate(ZSCORE, start, end, reverse)
    it = _window(it, offset, count)
    p = len(prefix)
    cut = p + 8
    return [(k[cut:], k[p:cut]) for k, _ in it]


def remove_range_by_rank(db: Database, key: bytes, start: int, stop: int) -> int:
    raw = meta(db, key)
    if raw is None:
        return 0
    size = size_of(raw)
    clipped = clip_range(start, stop, size)
    if clipped is None:
        return 0
    start, stop = clipped
    prefix = _prefix(db, raw, key)
    end = score_end(prefix)
    count = stop - start + 1
    if count == size:
        db.remove(key, raw)
        return size
    if indexed(raw):
        begin, skip = seek_rank(db.engine, prefix, start)
        entries = _score_slice(db, prefix, begin, end, False, skip, count)
    elif start <= size - 1 - stop:
        entries = _score_slice(db, prefix, prefix, end, False, start, count)
    else:
        entries = _score_slice(db, prefix, prefix, end, True, size - 1 - stop, count)
    return _delete_entries(db, key, raw, prefix, entries)


def remove_range_by_score(db: Database, key: bytes, spec: ScoreRange) -> int:
    raw = meta(db, key)
    if raw is None or spec.empty():
        return 0
    prefix = _prefix(db, raw, key)
    start, end = spec.bounds(prefix)
    return _delete_entries(db, key, raw, prefix,
                           _score_slice(db, prefix, start, end, False, 0, -1))


def remove_range_by_lex(db: Database, key: bytes, spec: LexRange) -> int:
    raw = meta(db, key)
    if raw is None:
        return 0
    prefix = _prefix(db, raw, key)
    bounds = spec.bounds(prefix)
    if bounds is None:
        return 0
    p = len(prefix)
    entries = [(k[p:], v) for k, v in db.engine.iterate(DATA, bounds[0], bounds[1])]
    return _delete_entries(db, key, raw, prefix, entries)


def pop(db: Database, key: bytes, count: int, highest: bool) -> list[tuple[bytes, float]]:
    """Remove and return up to ``count`` lowest (or highest) members with their scores."""
    raw = meta(db, key)
    if raw is None or count <= 0:
        return []
    prefix = _prefix(db, raw, key)
    entries = _score_slice(db, prefix, prefix, score_end(prefix), highest, 0, count)
    _delete_entries(db, key, raw, prefix, entries)
    return [(m, decode_score(e)) for m, e in entries]


def store(db: Database, key: bytes, items: Iterable[tuple[bytes, float | bytes]]) -> int:
    """Replace ``key`` (any type, TTL dropped) by a zset of ``items`` (distinct members,
    scores as floats or already encoded); an empty result deletes the key, as Redis's *STORE
    commands do. Returns the size."""
    old_raw = db.raw(key)
    raw, prefix = _new(db, key)
    put, index = db.engine.put, db.engine.write_uncached
    size = 0
    for member, value in items:
        enc = value if type(value) is bytes else encode_score(value)  # type: ignore[arg-type]
        put(DATA, prefix + member, enc)
        index(ZSCORE, prefix + enc + member, b"")
        size += 1
    if size == 0:
        if old_raw is not None:
            db.remove(key, old_raw)
        return 0
    if size >= zset_rank.INDEX_MIN:
        build_index(db.engine, prefix)
        raw = raw[:25] + INDEXED
    db.replace(key, raw[:17] + _U64_pack(size) + raw[25:], old_raw)
    _signal(db, key)
    return size


def clear(db: Database, key: bytes) -> int:
    """Delete a zset; returns how many members it had (LedisDB's ZCLEAR)."""
    raw = meta(db, key)
    if raw is None:
        return 0
    db.remove(key, raw)
    return size_of(raw)


__all__ = [
    "LexRange", "ScoreRange", "add", "card", "clear", "count_by_lex", "count_by_score",
    "decode_score", "encode_score", "input_size", "load", "meta", "pop", "random_member",
    "random_members", "range_by_lex", "range_by_rank", "range_by_score", "rank", "remove",
    "remove_range_by_lex", "remove_range_by_rank", "remove_range_by_score", "scan", "score",
    "scores", "size_of", "store", "indexed", "score_end",
]
