"""Sorted sets on disk: two orderings of the same members, kept in step.

Layout (``P = sub_prefix(db, key, version)`` = ``db(1) | len(key)(4) | key | version(8)``)::

    meta    db | key                    -> type=ZSET(1) | expire_ms(8) | version(8) | size(8)
    data    P | member                  -> score(8)          member order: lex ranges, lookups
    zscore  P | score(8) | member       -> b""               score order: ranks, score ranges

``score(8)`` is the IEEE double mapped to 8 bytes whose byte order is the numeric order: the
sign bit is flipped for positive numbers, all bits are flipped for negative ones. So the
``zscore`` family is sorted by (score, member) exactly like Redis's skiplist, -inf and +inf
included; NaN is rejected before anything is stored and -0.0 is stored as 0.0 (Redis compares
doubles, so -0 and 0 tie and are ordered by member). The ``data`` value is that same encoding,
so a score change rewrites the index key without re-encoding the old score.

Why this shape:

* ZSCORE / ZMSCORE / ZADD of an existing member are point reads (``data``); ZADD with an
  unchanged score is two cached reads and no write.
* Score and rank ranges are one iterator over ``zscore`` (seek to the encoded bound), lex
  ranges one iterator over ``data`` (members are stored in byte order there). Lex ranges are
  only meaningful when all scores are equal (as in Redis), and then both orders agree.
* The size lives in the metadata, so ZCARD is O(1); a zset emptied by a removal is deleted
  (``db.remove``) so EXISTS says 0, and DEL/overwrite drop the old version with range deletes.
* **The rank index** (zsets of ``INDEX_MIN`` members or more): an order-statistic index of
  counted nodes over the score index, in the ``zscore`` family after every score
  (``P | ff ff``: an encoded score starting with ``ff ff`` would be a NaN, never stored)::

      zscore  P | ff ff 00 | sep   -> count(8)                 level 0: a block of members
      zscore  P | ff ff 01 | sep   -> count(8) | blocks(8)     level 1: a group of blocks

  ``sep`` is a score-index suffix (``score(8) | member``); a node holds the members from its
  ``sep`` up to the next node's ``sep`` of its level, and the first node of each level has
  ``sep`` b"" (from -inf), so the blocks partition the members and the groups partition the
  blocks (every group's ``sep`` is a block's ``sep``). ZRANK sums the counts of the groups
  before the member's group, of the blocks before its block in that group, and walks the
  block: at most #groups + ``GROUP_MAX`` + ``BLOCK_MAX`` iterator steps (~700 for 5M members)
  instead of O(rank). A rank range seeks the same way, then walks. Every insert and delete
  updates one block and one group (two reverse seeks, two puts) in the same batch as the
  member; a block past ``BLOCK_MAX`` splits at its middle member (a walk of half a block), a
  group past ``GROUP_MAX`` splits at its middle block; an emptied block is deleted (its group
  moves to start at its next block) and underfull nodes are not merged (no rebalancing
  writes; the walks stay bounded by ``BLOCK_MAX`` / ``GROUP_MAX`` per level). The metadata
  extras byte ``INDEXED`` says a zset has the index. Smaller zsets, and zsets stored by an
  older ledis, have none and rank by walking; such a zset gets its index from the first write
  that adds or moves a member once it has ``INDEX_MIN`` members (one walk of the zset).
  ``ledis check`` verifies every index against the score index and rebuilds a wrong one.

This module works on Python values (bytes members, float scores) and never sees RESP. Range
results carry the scores still encoded ((member, 8 bytes) pairs), because replies format
each distinct score once (``ledis.commands.zsets.score_text`` / ``score_double``).

Known differences from Redis 7.0: a stored -0 reads back as 0 in every zset (Redis keeps -0
in skiplist-encoded zsets of more than 128 members); lex ranges over members with unequal
scores follow byte order (Redis's answer there depends on its encoding).
"""

from __future__ import annotations

import random
import struct
from bisect import bisect_left
from collections.abc import Callable, Iterable
from itertools import islice

from ledis import errors
from ledis.errors import LedisError
from ledis.storage import layout
from ledis.storage.keyspace import Database
from ledis.storage.layout import COLLECTION, DATA, META, U64, ZSCORE, ZSET
from ledis.storage.types import clip_range

_DOUBLE = struct.Struct(">d")
_U64_pack = U64.pack
_U64_unpack = U64.unpack
_D_pack = _DOUBLE.pack
_D_unpack = _DOUBLE.unpack
_SIGN = 1 << 63
_ALL = (1 << 64) - 1


def encode_score(score: float) -> bytes:
    """Order-preserving 8 bytes for a (non-NaN) double; -0.0 encodes like 0.0."""
    bits = _U64_unpack(_D_pack(score + 0.0))[0]
    return _U64_pack(bits ^ _ALL if bits & _SIGN else bits | _SIGN)


def _decode(raw: bytes) -> float:
    bits = _U64_unpack(raw)[0]
    return _D_unpack(_U64_pack(bits ^ _SIGN if bits & _SIGN else bits ^ _ALL))[0]


# Range replies decode one score per element; real data repeats scores a lot (counters,
# timestamps in a window, equal-score lex sets), and a dict hit costs a fraction of the
# unpack/pack/unpack above. Bounded: once full, misses are just computed.
_DECODED: dict[bytes, float] = {}
_DECODED_MAX = 65536


def decode_score(raw: bytes) -> float:
    value = _DECODED.get(raw)
    if value is None:
        value = _decode(raw)
        if len(_DECODED) < _DECODED_MAX:
            _DECODED[raw] = value
    return value


# Wakes the clients blocked on a key (BZPOPMIN ...) after members were added. Storage does not
# know the blocking machinery: the composition root (ledis/server/compose.py) sets this to
# ``ledis.blocking.key_ready``; offline tools keep the no-op.
def _no_waiters(db: Database, key: bytes) -> None:
    return None


key_ready: Callable[[Database, bytes], None] = _no_waiters


def _signal(db: Database, key: bytes) -> None:
    """Wake clients blocked on ``key`` (BZPOPMIN ...) after members were added."""
    key_ready(db, key)


# --- ranges -------------------------------------------------------------------------------


class ScoreRange:
    """``min``/``max`` with exclusivity, as parsed from ``(1.5`` / ``-inf`` ..."""

    __slots__ = ("min", "max", "minex", "maxex")

    def __init__(self, lo: float, hi: float, minex: bool = False, maxex: bool = False) -> None:
        self.min, self.max, self.minex, self.maxex = lo, hi, minex, maxex

    def empty(self) -> bool:
        return self.min > self.max or (self.min == self.max and (self.minex or self.maxex))

    def bounds(self, prefix: bytes) -> tuple[bytes, bytes]:
        """``[start, end)`` of the ``zscore`` keys in range."""
        lo = prefix + encode_score(self.min)
        hi = prefix + encode_score(self.max)
        return (layout.prefix_end(lo) if self.minex else lo,
                hi if self.maxex else layout.prefix_end(hi))


class LexRange:
    """A lex range: ``min``/``max`` are bytes, or None for ``-`` / ``+`` (unbounded)."""

    __slots__ = ("min", "max", "minex", "maxex", "min_inf", "max_inf")

    def __init__(self, lo: bytes | None, hi: bytes | None, minex: bool, maxex: bool,
                 min_inf: int = 0, max_inf: int = 0) -> None:
        # min_inf/max_inf: -1 for '-', +1 for '+', 0 for a real string.
        self.min, self.max, self.minex, self.maxex = lo, hi, minex, maxex
        self.min_inf, self.max_inf = min_inf, max_inf

    def bounds(self, prefix: bytes) -> tuple[bytes, bytes] | None:
        """``[start, end)`` of the ``data`` keys in range, None when nothing can match."""
        if self.min_inf > 0 or self.max_inf < 0:
            return None
        if self.min_inf < 0:
            start = prefix
        else:
            start = prefix + self.min + (b"\x00" if self.minex else b"")  # type: ignore[operator]
        if self.max_inf > 0:
            end = layout.prefix_end(prefix)
        else:
            end = prefix + self.max + (b"" if self.maxex else b"\x00")  # type: ignore[operator]
        return (start, end) if start < end else None


# --- the rank index (see the module docstring) ----------------------------------------------

_IDX = b"\xff\xff"  # sorts after every encoded score
_L0 = b"\xff\xff\x00"
_L1 = b"\xff\xff\x01"
_GROUP = struct.Struct(">QQ")  # members, blocks
BLOCK_MAX = 256  # members in a block before it splits
GROUP_MAX = 256  # blocks in a group before it splits
BUILD_FILL = 192  # members per block / blocks per group when an index is built in one go
INDEX_MIN = 1024  # a zset gets its index once it has this many members
INDEXED = b"\x01"  # the metadata extras (raw[25:]) of a zset with a rank index


def indexed(raw: bytes) -> bool:
    return raw[25:26] == INDEXED


def score_end(prefix: bytes) -> bytes:
    """End of the score index of a zset (its rank index follows)."""
    return prefix + _IDX


def _node(engine, level: bytes, sep: bytes) -> tuple[bytes, bytes]:
    """(key, value) of the node of ``level`` holding suffix ``sep``: the greatest node key
    <= ``level + sep`` (the level's first node has sep b"", so there always is one)."""
    for item in engine.iterate(ZSCORE, level, level + sep + b"\x00", True):
        return item
    raise RuntimeError("zset rank index damaged (run ledis check)")


def _index_add(engine, prefix: bytes, suffix: bytes) -> None:
    """Count a member just put in the score index (``suffix`` = score(8) | member)."""
    l0, l1 = prefix + _L0, prefix + _L1
    put = engine.put
    key0, value0 = _node(engine, l0, suffix)
    key1, value1 = _node(engine, l1, suffix)
    count0 = _U64_unpack(value0)[0] + 1
    count1, blocks1 = _GROUP.unpack(value1)
    count1 += 1
    if count0 > BLOCK_MAX:  # split the block at its middle member
        half = count0 // 2
        sep0 = key0[len(l0):]
        middle = next(islice(engine.iterate(ZSCORE, prefix + sep0, prefix + _IDX), half, None))
        put(ZSCORE, key0, _U64_pack(half))
        put(ZSCORE, l0 + middle[0][len(prefix):], _U64_pack(count0 - half))
        blocks1 += 1
    else:
        put(ZSCORE, key0, _U64_pack(count0))
    if blocks1 > GROUP_MAX:  # split the group at its middle block
        half = blocks1 // 2
        first = list(islice(engine.iterate(ZSCORE, l0 + key1[len(l1):], l1), blocks1))
        members = sum(_U64_unpack(v)[0] for _, v in first[:half])
        put(ZSCORE, key1, _GROUP.pack(members, half))
        put(ZSCORE, l1 + first[half][0][len(l0):], _GROUP.pack(count1 - members, blocks1 - half))
    else:
        put(ZSCORE, key1, _GROUP.pack(count1, blocks1))


def _index_remove(engine, prefix: bytes, suffix: bytes) -> None:
    """Uncount a member (removed from the score index, or about to be)."""
    l0, l1 = prefix + _L0, prefix + _L1
    put = engine.put
    key0, value0 = _node(engine, l0, suffix)
    key1, value1 = _node(engine, l1, suffix)
    count0 = _U64_unpack(value0)[0] - 1
    count1, blocks1 = _GROUP.unpack(value1)
    count1 -= 1
    sep0 = key0[len(l0):]
    if count0 > 0 or not sep0:  # the first block stays, even empty
        put(ZSCORE, key0, _U64_pack(count0))
        put(ZSCORE, key1, _GROUP.pack(count1, blocks1))
        return
    engine.delete(ZSCORE, key0)
    blocks1 -= 1
    if key1[len(l1):] != sep0:
        put(ZSCORE, key1, _GROUP.pack(count1, blocks1))
        return
    # The group started with the emptied block: it now starts at its next block, or is gone.
    engine.delete(ZSCORE, key1)
    if blocks1:
        following = next(iter(engine.iterate(ZSCORE, key0 + b"\x00", l1)))[0]
        put(ZSCORE, l1 + following[len(l0):], _GROUP.pack(count1, blocks1))


def _build_index(engine, prefix: bytes) -> None:
    """(Re)build the rank index of a zset from its score index (pending writes included)."""
    engine.delete_range(ZSCORE, prefix + _IDX, layout.prefix_end(prefix))
    p = len(prefix)
    blocks: list[list] = []
    for i, (key, _) in enumerate(engine.iterate(ZSCORE, prefix, prefix + _IDX)):
        if i % BUILD_FILL == 0:
            blocks.append([key[p:] if i else b"", 0])
        blocks[-1][1] += 1
    if not blocks:
        blocks.append([b"", 0])
    put = engine.put
    l0, l1 = prefix + _L0, prefix + _L1
    for sep, count in blocks:
        put(ZSCORE, l0 + sep, _U64_pack(count))
    for g in range(0, len(blocks), BUILD_FILL):
        group = blocks[g:g + BUILD_FILL]
        put(ZSCORE, l1 + group[0][0], _GROUP.pack(sum(c for _, c in group), len(group)))


def _rank_of(engine, prefix: bytes, suffix: bytes) -> int:
    """Rank of a present member through the index: counts before its group and block, then
    a walk of its block."""
    l0, l1 = prefix + _L0, prefix + _L1
    before = count = 0
    sep = b""
    n = len(l1)
    for key, value in engine.iterate(ZSCORE, l1, layout.prefix_end(l1)):
        if key[n:] > suffix:
            break
        before += count
        count, sep = _U64_unpack(value[:8])[0], key[n:]
    count = 0
    start = sep
    n = len(l0)
    for key, value in engine.iterate(ZSCORE, l0 + start, l1):
        if key[n:] > suffix:
            break
        before += count
        count, sep = _U64_unpack(value)[0], key[n:]
    return before + sum(1 for _ in engine.iterate(ZSCORE, prefix + sep, prefix + suffix))


def _seek_rank(engine, prefix: bytes, rank: int) -> tuple[bytes, int]:
    """(score-index key to start at, members to skip from there) for a rank < size."""
    l0, l1 = prefix + _L0, prefix + _L1
    sep = b""
    for key, value in engine.iterate(ZSCORE, l1, layout.prefix_end(l1)):
        count = _U64_unpack(value[:8])[0]
        if rank < count:
            sep = key[len(l1):]
            break
        rank -= count
    for key, value in engine.iterate(ZSCORE, l0 + sep, l1):
        count = _U64_unpack(value)[0]
        if rank < count:
            return prefix + key[len(l0):], rank
        rank -= count
    raise RuntimeError("zset rank index damaged (run ledis check)")


def check_index(engine, prefix: bytes) -> str | None:
    """What is wrong with a zset's rank index (counts vs the score index), None if right."""
    l0, l1 = prefix + _L0, prefix + _L1
    blocks = [(k[len(l0):], _U64_unpack(v)[0]) for k, v in engine.iterate(ZSCORE, l0, l1)]
    groups = [(k[len(l1):], _GROUP.unpack(v))
              for k, v in engine.iterate(ZSCORE, l1, layout.prefix_end(l1))]
    if not blocks or blocks[0][0] or not groups or groups[0][0]:
        return "rank index has no first block or group"
    members = [k[len(prefix):] for k, _ in engine.iterate(ZSCORE, prefix, prefix + _IDX)]
    for i, (sep, count) in enumerate(blocks):
        end = bisect_left(members, blocks[i + 1][0]) if i + 1 < len(blocks) else len(members)
        if end - bisect_left(members, sep) != count:
            return f"rank index block {i} counts {count} members"
    seps = [sep for sep, _ in blocks]
    for i, (sep, (count, nblocks)) in enumerate(groups):
        lo = bisect_left(seps, sep)
        if lo == len(seps) or seps[lo] != sep:
            return f"rank index group {i} does not start at a block"
        hi = bisect_left(seps, groups[i + 1][0]) if i + 1 < len(groups) else len(seps)
        if hi - lo != nblocks or sum(c for _, c in blocks[lo:hi]) != count:
            return f"rank index group {i} counts {count} members in {nblocks} blocks"
    return None


def rebuild_index(engine, prefix: bytes) -> None:
    """Rebuild a zset's rank index (``ledis check`` repairs)."""
    _build_index(engine, prefix)


# --- reading ------------------------------------------------------------------------------


def meta(db: Database, key: bytes) -> bytes | None:
    """Live metadata of a zset, None if missing, WRONGTYPE for another type."""
    raw = db.lookup(key)
    if raw is not None and raw[0] != ZSET:
        raise LedisError(errors.WRONGTYPE)
    return raw


def _prefix(db: Database, raw: bytes, key: bytes) -> bytes:
    return layout.sub_prefix(db.index, key, _U64_unpack(raw[9:17])[0])


def size_of(raw: bytes) -> int:
    return _U64_unpack(raw[17:25])[0]


def card(db: Database, key: bytes) -> int:
    raw = meta(db, key)
    return 0 if raw is None else _U64_unpack(raw[17:25])[0]


def score(db: Database, key: bytes, member: bytes) -> float | None:
    raw = meta(db, key)
    if raw is None:
        return None
    enc = db.engine.get(DATA, _prefix(db, raw, key) + member)
    return None if enc is None else decode_score(enc)


def scores(db: Database, key: bytes, members: list[bytes]) -> list[float | None]:
    raw = meta(db, key)
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
    raw = meta(db, key)
    if raw is None:
        return None
    prefix = _prefix(db, raw, key)
    enc = db.engine.get(DATA, prefix + member)
    if enc is None:
        return None
    if indexed(raw):
        before = _rank_of(db.engine, prefix, enc + member)
    else:
        before = sum(1 for _ in db.engine.iterate(ZSCORE, prefix, prefix + enc + member))
    return size_of(raw) - 1 - before if reverse else before


def _entries(db: Database, prefix: bytes, start: bytes, end: bytes, reverse: bool,
             offset: int, count: int, with_scores: bool) -> list:
    """Members (or (member, encoded score) pairs) of ``zscore`` keys in ``[start, end)``."""
    it = db.engine.iterate(ZSCORE, start, end, reverse)
    if offset or count >= 0:
        it = islice(it, offset, None if count < 0 else offset + count)
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
        begin, skip = _seek_rank(db.engine, prefix, size - 1 - stop if reverse else start)
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


def range_by_score(db: Database, key: bytes, spec: ScoreRange, reverse: bool = False,
                   offset: int = 0, count: int = -1, with_scores: bool = False) -> list:
    raw = meta(db, key)
    if raw is None or spec.empty() or offset < 0:
        return []
    prefix = _prefix(db, raw, key)
    start, end = spec.bounds(prefix)
    return _entries(db, prefix, start, end, reverse, offset, count, with_scores)


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
    if offset or count >= 0:
        it = islice(it, offset, None if count < 0 else offset + count)
    p = len(prefix)
    if with_scores:
        return [(k[p:], v) for k, v in it]
    return [k[p:] for k, _ in it]


def count_by_score(db: Database, key: bytes, spec: ScoreRange) -> int:
    raw = meta(db, key)
    if raw is None or spec.empty():
        return 0
    prefix = _prefix(db, raw, key)
    start, end = spec.bounds(prefix)
    if start == prefix + encode_score(float("-inf")) and end == layout.prefix_end(
            prefix + encode_score(float("inf"))):
        return size_of(raw)
    return sum(1 for _ in db.engine.iterate(ZSCORE, start, end))


def count_by_lex(db: Database, key: bytes, spec: LexRange) -> int:
    raw = meta(db, key)
    if raw is None:
        return 0
    prefix = _prefix(db, raw, key)
    bounds = spec.bounds(prefix)
    if bounds is None:
        return 0
    if spec.min_inf < 0 and spec.max_inf > 0:
        return size_of(raw)
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
    raw = db.lookup(key)
    if raw is None:
        return 0
    if raw[0] != ZSET and raw[0] != layout.SET:
        raise LedisError(errors.WRONGTYPE)
    return size_of(raw)


def random_members(db: Database, key: bytes, count: int, with_scores: bool) -> list:
    """ZRANDMEMBER with a count: distinct members for count > 0, repeats allowed for
    count < 0. One pass over ``data``, collecting the randomly chosen positions."""
    raw = meta(db, key)
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
        items = db.engine.iterate(DATA, prefix, layout.prefix_end(prefix))
        if count > 0:
            order = random.sample(range(size), count)
        else:
            order = [random.randrange(size) for _ in range(-count)]
        wanted = set(order)
        found: dict[int, tuple[bytes, bytes]] = {}
        for i, (k, v) in enumerate(items):
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
    got = list(islice(db.engine.iterate(DATA, start, layout.prefix_end(prefix)), count + 1))
    more = len(got) > count
    return [(k[p:], v) for k, v in got[:count]], more


# --- writing ------------------------------------------------------------------------------


def _new(db: Database, key: bytes) -> tuple[bytes, bytes]:
    """Metadata and prefix of a fresh, empty zset version for ``key`` (not stored yet)."""
    version = db.new_version()
    return (COLLECTION.pack(ZSET, 0, version, 0),
            layout.sub_prefix(db.index, key, version))


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
    anything of this command is written (INCR takes a single pair)."""
    engine = db.engine
    mkey = db.prefix + key
    raw = engine.get(META, mkey)
    old_raw = raw
    if raw is not None:
        if raw[0] != ZSET:
            if db.is_live(raw):
                raise LedisError(errors.WRONGTYPE)
            raw = None
        elif not db.is_live(raw):
            raw = None
    created = raw is None
    if created:
        if xx:
            return 0, 0, 0, pairs[-1][0]
        raw, prefix = _new(db, key)
        size = 0
    else:
        prefix = layout.sub_prefix(db.index, key, _U64_unpack(raw[9:17])[0])  # type: ignore[index]
        size = _U64_unpack(raw[17:25])[0]  # type: ignore[index]
    get, put, delete = engine.get, engine.put, engine.delete
    keep_index = indexed(raw)  # type: ignore[arg-type]
    added = updated = processed = 0
    new_score = 0.0
    for value, member in pairs:
        dkey = prefix + member
        old = None if created and size == 0 else get(DATA, dkey)
        if old is not None:
            if nx:
                new_score = value
                continue
            cur = decode_score(old)
            new_score = cur + value if incr else value
            if new_score != new_score:  # NaN
                raise LedisError(errors.ZSET_NAN_RESULT)
            if (lt and new_score >= cur) or (gt and new_score <= cur):
                new_score = cur
                continue
            processed += 1
            if new_score != cur:
                enc = encode_score(new_score)
                delete(ZSCORE, prefix + old + member)
                put(ZSCORE, prefix + enc + member, b"")
                put(DATA, dkey, enc)
                if keep_index:
                    _index_remove(engine, prefix, old + member)
                    _index_add(engine, prefix, enc + member)
                updated += 1
        else:
            if xx:
                continue
            new_score = value
            enc = encode_score(value)
            put(DATA, dkey, enc)
            put(ZSCORE, prefix + enc + member, b"")
            if keep_index:
                _index_add(engine, prefix, enc + member)
            added += 1
            processed += 1
            size += 1
    if not keep_index and size >= INDEX_MIN and (added or updated):
        _build_index(engine, prefix)
        raw = raw[:25] + INDEXED  # type: ignore[index]
        if not added and not created:  # the size is the same: store the flag
            engine.put(META, mkey, raw)
    if added or created:
        _finish(db, key, raw, old_raw, size, created)  # type: ignore[arg-type]
        if added:
            _signal(db, key)
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
        engine.delete(ZSCORE, prefix + enc + member)
        if keep_index:
            _index_remove(engine, prefix, enc + member)
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
            engine.delete(ZSCORE, prefix + enc + member)
        if indexed(raw):
            # Uncount each member (two seeks and puts), or rebuild from what remains when
            # that is cheaper (a big range removal).
            if len(entries) * 16 > size:
                _build_index(engine, prefix)
            else:
                for member, enc in entries:
                    _index_remove(engine, prefix, enc + member)
    if entries:
        _finish(db, key, raw, None, size, False)
    return len(entries)


def _score_slice(db: Database, prefix: bytes, start: bytes, end: bytes, reverse: bool,
                 offset: int, count: int) -> list[tuple[bytes, bytes]]:
    it = db.engine.iterate(ZSCORE, start, end, reverse)
    if offset or count >= 0:
        it = islice(it, offset, None if count < 0 else offset + count)
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
        begin, skip = _seek_rank(db.engine, prefix, start)
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
    put = db.engine.put
    size = 0
    for member, value in items:
        enc = value if type(value) is bytes else encode_score(value)  # type: ignore[arg-type]
        put(DATA, prefix + member, enc)
        put(ZSCORE, prefix + enc + member, b"")
        size += 1
    if size == 0:
        if old_raw is not None:
            db.remove(key, old_raw)
        return 0
    if size >= INDEX_MIN:
        _build_index(db.engine, prefix)
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
    "scores", "size_of", "store", "indexed", "score_end", "check_index", "rebuild_index",
    "INDEX_MIN",
]
