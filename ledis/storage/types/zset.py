"""Sorted sets on disk: two orderings of the same members, kept in step.

Layout (``P = sub_prefix(db, version)`` = ``db(1) | version(8)``, the version is the key's id)::

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

      zscore  P | ff ff 00 | upper   -> count(8)                 level 0: a block of members
      zscore  P | ff ff 01 | upper   -> count(8) | blocks(8)     level 1: a group of blocks

  ``upper`` is a score-index suffix (``score(8) | member``): a node holds the members from the
  previous node's ``upper`` (inclusive) up to its own (exclusive), and the last node of each
  level has ``upper`` = ``ff ff`` (above every suffix), so the blocks partition the members
  and the groups partition the blocks (every group's key is the key of its last block).
  Keying nodes by their *upper* bound makes "the node holding suffix s" the first node key
  above ``s``: a forward seek, which meets the newest version of a hot node key first
  (a reverse seek steps over every memtable version of a node rewritten on each ZADD: the
  first version of this index, keyed by lower bounds, measured 7-16 us per lookup and ZADD
  on a big zset at ~20% of its throughput).

  ZRANK sums the counts of the groups below the member's group, of the blocks below its
  block in that group, and walks the block: at most #groups + ``GROUP_MAX`` + ``BLOCK_MAX``
  iterator steps (~800 for 5M members) instead of O(rank). A rank range seeks the same way,
  then walks. Every insert and delete changes one block count and one group count, in the
  same batch as the member. To keep that off ZADD's bill, the batch keeps a ``_Nodes`` per
  touched zset in ``engine.scratch`` (emptied at commit and rollback): the groups, all in
  memory (a few hundred at most); the counts it changed, written to the engine once per batch
  (``flush``: the engine calls it before commit, a savepoint, any ordered read and any range
  delete, so the overlay, the write log, savepoints, COPY and replicas see the index as it
  is); and for a group looked up often, the sorted list of its blocks, so that finding a
  member's block is a bisect (those lists outlive the batch: ``Engine.kept``). Otherwise a
  block is one seek of a store iterator reused for the batch (``Engine.seeker``) merged
  with the blocks the batch created; the pending overlay itself is never sorted for it (a
  ZADD of thousands of members makes it bigger than the engine keeps sorted, and re-sorting
  it per member stalled the server).

  A block past ``BLOCK_MAX`` splits: its lower half becomes a new block keyed by the first
  member of the upper half (a walk of half a block, one per ~``BLOCK_MAX``/2 inserts); a
  group past ``GROUP_MAX`` splits the same way at its middle block. An emptied block is
  deleted, except a group's last block, which keeps the group's bound until the group has no
  other block and then goes with the group (so at most one empty block per group); underfull
  nodes are not merged (no rebalancing writes; the walks stay bounded by ``BLOCK_MAX`` /
  ``GROUP_MAX`` per level).
  The metadata extras byte ``INDEXED`` says a zset has the index. Smaller zsets have none
  and rank by walking (under 1,024 steps), so ZADD to small zsets pays nothing.
  A zset stored by an older ledis has no index either: it ranks by walking until its first
  write that adds or moves a member, which builds the index once it has ``INDEX_MIN``
  members (one walk of the zset, in that command; not at a read, which must not write, and
  not as a migration at open, which would walk every zset before the server listens).
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
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from sortedcontainers import SortedList

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
# unpack/pack/unpack above. Bounded and emptied when full, so it follows the scores in use
# (kept once full at 65,536 entries, random scores filled it slowly: docs/soak.md).
_DECODED: dict[bytes, float] = {}
_DECODED_MAX = 4096


def decode_score(raw: bytes) -> float:
    value = _DECODED.get(raw)
    if value is None:
        value = _decode(raw)
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()
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
_LAST = b"\xff\xff"  # key of the last block and group: above every member suffix
_GROUP = struct.Struct(">QQ")  # members, blocks
BLOCK_MAX = 512  # members in a block before it splits
GROUP_MAX = 256  # blocks in a group before it splits
BUILD_FILL = 192  # members per block / blocks per group when an index is built in one go
INDEX_MIN = 1024  # a zset gets its index once it has this many members
INDEXED = b"\x01"  # the metadata extras (raw[25:]) of a zset with a rank index
_GONE = object()


def indexed(raw: bytes) -> bool:
    return raw[25:26] == INDEXED


def score_end(prefix: bytes) -> bytes:
    """End of the score index of a zset (its rank index follows)."""
    return prefix + _IDX


def _damaged() -> RuntimeError:
    return RuntimeError("zset rank index damaged (run ledis check)")


_LOAD_RATIO = 3  # list a group's blocks once lookups in it x this >= its blocks (a
# seek costs ~3x what listing costs per block)


class _Nodes:
    """The rank index of one zset as the current batch sees it, kept in ``engine.scratch``
    (dropped at commit and rollback), so counting a member costs no seek of the overlay and,
    on a busy zset, no seek at all.

    It holds the groups (few: all loaded at the first touch in the batch), the blocks read or
    written (count, or None once deleted), the blocks created, the member suffixes the batch
    put or deleted, and for groups looked up often in this batch (``_LOAD_RATIO``) the sorted
    list of their blocks, so that finding a member's block is a bisect. Otherwise a block is
    found by one seek of a store iterator reused for the batch (``Engine.seeker``), merged
    with the blocks the batch created. Counts are written to the engine once per batch
    (``flush``, which the engine calls before commit, before a savepoint, before any ordered
    read and before a range delete, so the overlay, the write log, savepoints, COPY and
    replicas always see the index as it is); deletions of nodes are written at once. When a
    pending range delete covers the zset (a rebuild in this batch) everything is read through
    ``engine.iterate`` instead (``full``)."""

    __slots__ = ("engine", "prefix", "l0", "l1", "gkeys", "groups", "blocks", "created",
                 "members", "added", "deletions", "dirty", "dirty_groups", "lists", "touches",
                 "full")

    def __init__(self, engine, prefix: bytes) -> None:
        self.engine = engine
        self.prefix = prefix
        l0, l1 = self.l0, self.l1 = prefix + _L0, prefix + _L1
        end, end1 = layout.prefix_end(prefix), layout.prefix_end(l1)
        self.blocks: dict[bytes, int | None] = {}
        self.created = SortedList()
        self.members: dict[bytes, bool] = {}  # suffix -> put (True) or deleted in the batch
        self.added = SortedList()  # suffixes put in the batch (repeats allowed)
        self.deletions = 0  # member deletions in the batch (at least)
        self.dirty: set[bytes] = set()  # blocks whose count is not written yet
        self.dirty_groups: set[bytes] = set()
        pending, self.full = engine.pending_in(ZSCORE, prefix, end)
        # Kept across batches (Engine.kept), since only this class changes a zset's blocks:
        # group -> all its block keys in order, and group -> lookups so far. Listing a group
        # costs ~1.5 us per block; per batch, small batches (-P 1: ~50 ZADDs) never listed
        # and paid a seek per lookup (~4 us), or listed again every batch.
        kept = engine.keep(prefix)
        if self.full:
            kept.clear()
        self.lists: dict[bytes, list[bytes]] = kept.setdefault("lists", {})
        self.touches: dict[bytes, int] = kept.setdefault("touches", {})
        p, n0, n1 = len(prefix), len(l0), len(l1)
        groups: dict[bytes, bytes | None] = {}
        for key, value in pending:
            if key < l0:
                self.members[key[p:]] = value is not None
                if value is not None:
                    self.added.add(key[p:])
                else:
                    self.deletions += 1
            elif key < l1:
                self.blocks[key[n0:]] = None if value is None else _U64_unpack(value)[0]
                if value is not None:
                    self.created.add(key[n0:])
            else:
                groups[key[n1:]] = value
        if self.full:
            groups = {k[n1:]: v for k, v in engine.iterate(ZSCORE, l1, end1)}
        else:
            it = engine.seeker(ZSCORE)
            it.seek(l1)
            while it.valid():
                key = it.key()
                if key >= end1:
                    break
                groups.setdefault(key[n1:], it.value())
                it.next()
        self.gkeys = sorted(k for k, v in groups.items() if v is not None)
        self.groups = {k: list(_GROUP.unpack(groups[k])) for k in self.gkeys}  # type: ignore
        if not self.gkeys or self.gkeys[-1] != _LAST:
            raise _damaged()

    def flush(self) -> None:
        """Write the counts changed since the last flush (Engine calls this)."""
        if self.dirty:
            put, l0, blocks = self.engine.put, self.l0, self.blocks
            for block in self.dirty:
                put(ZSCORE, l0 + block, _U64_pack(blocks[block]))
            self.dirty = set()
        if self.dirty_groups:
            put, l1, groups = self.engine.put, self.l1, self.groups
            for group in self.dirty_groups:
                put(ZSCORE, l1 + group, _GROUP.pack(*groups[group]))
            self.dirty_groups = set()

    def group_of(self, suffix: bytes) -> tuple[bytes, bytes]:
        """(key of the group holding ``suffix``, key of the group before it or b"")."""
        gkeys = self.gkeys
        i = bisect_right(gkeys, suffix)
        return gkeys[i], gkeys[i - 1] if i else b""

    def block(self, suffix: bytes, group: bytes, low: bytes) -> bytes:
        """Key of the block holding ``suffix`` (the least block key above it), in ``group``
        (whose blocks have keys in ``(low, group]``)."""
        listed = self.lists.get(group)
        if listed is None:
            touches = self.touches.get(group, 0) + 1
            self.touches[group] = touches
            if touches * _LOAD_RATIO >= self.groups[group][1] or self.full:
                listed = self.lists[group] = [k for k, _ in self.blocks_between(low, group)]
        if listed is not None:
            return listed[bisect_right(listed, suffix)]
        created = self.created
        i = created.bisect_right(suffix)
        best = created[i] if i < len(created) else None
        blocks = self.blocks
        l0 = self.l0
        n = len(l0)
        it = self.engine.seeker(ZSCORE)
        it.seek(l0 + suffix + b"\x00")
        while it.valid():
            key = it.key()
            if key >= self.l1:
                break
            found = key[n:]
            if best is not None and found >= best:
                break
            count = blocks.get(found, _GONE)
            if count is None:  # deleted in this batch
                it.next()
                continue
            if count is _GONE:
                blocks[found] = _U64_unpack(it.value())[0]
            return found
        if best is None:
            raise _damaged()
        return best

    def count(self, block: bytes) -> int:
        count = self.blocks.get(block)
        if count is None:  # full mode: not read yet
            value = self.engine.get(ZSCORE, self.l0 + block)
            if value is None:
                raise _damaged()
            count = self.blocks[block] = _U64_unpack(value)[0]
        return count

    def set_block(self, block: bytes, count: int) -> None:
        self.blocks[block] = count
        self.dirty.add(block)

    def new_block(self, block: bytes, count: int, group: bytes) -> None:
        self.set_block(block, count)
        self.created.add(block)
        listed = self.lists.get(group)
        if listed is not None:
            insort(listed, block)

    def delete_block(self, block: bytes, group: bytes) -> None:
        self.engine.delete(ZSCORE, self.l0 + block)
        self.blocks[block] = None
        self.dirty.discard(block)
        self.created.discard(block)
        listed = self.lists.get(group)
        if listed is not None:
            listed.remove(block)

    def set_group(self, group: bytes, count: int, blocks: int) -> None:
        if group not in self.groups:
            insort(self.gkeys, group)
        self.groups[group] = [count, blocks]
        self.dirty_groups.add(group)

    def delete_group(self, group: bytes) -> None:
        self.engine.delete(ZSCORE, self.l1 + group)
        del self.groups[group]
        self.gkeys.remove(group)
        self.dirty_groups.discard(group)
        self.lists.pop(group, None)

    def split_group(self, group: bytes, low: bytes, members: int, blocks: int) -> None:
        """Split ``group`` (``members`` in ``blocks`` blocks): its lower half of blocks
        becomes a new group keyed by the last of them."""
        inside = self.blocks_between(low, group)
        lower = inside[:blocks // 2]
        moved = sum(c for _, c in lower)
        key = lower[-1][0]
        self.set_group(key, moved, len(lower))
        self.set_group(group, members - moved, blocks - len(lower))
        listed = self.lists.pop(group, None)
        if listed is not None:
            self.lists[key] = listed[:len(lower)]
            self.lists[group] = listed[len(lower):]
        self.touches.pop(group, None)

    def nth_above(self, low: bytes, n: int) -> bytes:
        """Suffix of the ``n``-th member (1-based) from ``low`` (inclusive) up.

        The first ``n`` + (deletions in the batch) stored keys from ``low`` hold the first
        ``n`` stored members still there, and the first ``n`` members the batch put from
        ``low`` the others: the answer is the ``n``-th of their union. Fetched in a tight
        loop and sorted in C, not merged step by step (a split's walk is on ZADD's path)."""
        prefix = self.prefix
        if self.full:
            start = prefix + low
            for key, _ in islice(self.engine.iterate(ZSCORE, start, prefix + _IDX), n - 1, n):
                return key[len(prefix):]
            raise _damaged()
        p = len(prefix)
        members = self.members
        added = self.added
        candidates: list[bytes] = []
        for suffix in added.irange(low):
            if members.get(suffix) and (not candidates or candidates[-1] != suffix):
                candidates.append(suffix)
                if len(candidates) == n:
                    break
        want = n + self.deletions
        it = self.engine.seeker(ZSCORE)
        it.seek(prefix + low)
        end = prefix + _IDX
        valid, key, step = it.valid, it.key, it.next
        stored: list[bytes] = []
        while valid() and len(stored) < want:
            k = key()
            if k >= end:
                break
            stored.append(k[p:])
            step()
        candidates += [k for k in stored if members.get(k) is not False]
        candidates = sorted(set(candidates))
        if len(candidates) < n:
            raise _damaged()
        return candidates[n - 1]

    def nth_below(self, upper: bytes, n: int) -> bytes:
        """Suffix of the ``n``-th member (1-based) below ``upper``, walking down."""
        prefix = self.prefix
        if self.full:
            items = islice(self.engine.iterate(ZSCORE, prefix, prefix + upper, True), n - 1, n)
            for key, _ in items:
                return key[len(prefix):]
            raise _damaged()
        p = len(prefix)
        members = self.members
        added = self.added
        j = added.bisect_left(upper) - 1
        it = self.engine.store_iter(ZSCORE)
        it.seek_for_prev(prefix + upper)
        if it.valid() and it.key() >= prefix + upper:
            it.prev()
        while True:
            stored = None
            if it.valid():
                key = it.key()
                if key >= prefix:
                    stored = key[p:]
            extra = added[j] if j >= 0 else None
            if stored is not None and (extra is None or stored > extra):
                it.prev()
                if members.get(stored) is False:  # deleted in this batch
                    continue
                found = stored
            elif extra is not None:
                if stored == extra:
                    it.prev()
                j -= 1
                if not members.get(extra) or (j >= 0 and added[j] == extra):
                    continue  # deleted again, or listed twice
                found = extra
            else:
                raise _damaged()
            n -= 1
            if n == 0:
                return found

    def blocks_between(self, low: bytes, high: bytes) -> list[tuple[bytes, int]]:
        """(key, count) of the blocks with ``low < key <= high``, in order."""
        keys = list(self.created.irange(low, high, (False, True)))
        blocks = self.blocks
        if self.full:
            keys += [k[len(self.l0):] for k, _ in
                     self.engine.iterate(ZSCORE, self.l0 + low + b"\x00",
                                         self.l0 + high + b"\x00")]
        else:
            n = len(self.l0)
            for key, value in self.engine.store_items(ZSCORE, self.l0 + low + b"\x00",
                                                      self.l0 + high + b"\x00"):
                found = key[n:]
                if found not in blocks:
                    blocks[found] = _U64_unpack(value)[0]
                keys.append(found)
        keys = sorted(set(keys))
        return [(k, self.count(k)) for k in keys if blocks.get(k, 0) is not None]


def _nodes(engine, prefix: bytes) -> _Nodes:
    scratch = engine.scratch
    nodes = scratch.get(prefix)
    if nodes is None:
        nodes = scratch[prefix] = _Nodes(engine, prefix)
    return nodes


def _index_add(engine, prefix: bytes, suffix: bytes) -> None:
    """Count a member just put in the score index (``suffix`` = score(8) | member).
    Long on purpose: the common case (a listed group, no split) inlined, on ZADD's path."""
    nodes = engine.scratch.get(prefix) or _nodes(engine, prefix)
    nodes.members[suffix] = True
    nodes.added.add(suffix)
    gkeys = nodes.gkeys
    i = bisect_right(gkeys, suffix)
    group = gkeys[i]
    listed = nodes.lists.get(group)
    if listed is not None:
        j = bisect_right(listed, suffix)
        block = listed[j]
    else:
        j = -1
        block = nodes.block(suffix, group, gkeys[i - 1] if i else b"")
    count = nodes.blocks.get(block)
    if count is None:
        count = nodes.count(block)
    count += 1
    counts = nodes.groups[group]
    if count <= BLOCK_MAX:
        nodes.blocks[block] = count
        nodes.dirty.add(block)
        counts[0] += 1
        nodes.dirty_groups.add(group)
        return
    # Split: the lower half becomes a new block, keyed by the first member of the upper half
    # (walked to from the block's lower bound when the group is listed, else down from its
    # upper bound).
    lower = count // 2
    if j >= 0:
        low = listed[j - 1] if j else (gkeys[i - 1] if i else b"")  # type: ignore[index]
        middle = nodes.nth_above(low, lower + 1)
    else:
        middle = nodes.nth_below(block, count - lower)
    nodes.new_block(middle, lower, group)
    nodes.set_block(block, count - lower)
    members, blocks = counts[0] + 1, counts[1] + 1
    if blocks > GROUP_MAX:
        nodes.split_group(group, gkeys[i - 1] if i else b"", members, blocks)
    else:
        nodes.set_group(group, members, blocks)


def _index_remove(engine, prefix: bytes, suffix: bytes) -> None:
    """Uncount a member (removed from the score index, or about to be)."""
    nodes = engine.scratch.get(prefix) or _nodes(engine, prefix)
    nodes.members[suffix] = False
    nodes.deletions += 1
    group, low = nodes.group_of(suffix)
    block = nodes.block(suffix, group, low)
    count = nodes.count(block) - 1
    members, blocks = nodes.groups[group]
    members -= 1
    if count > 0 or block == group:
        # A group's last block stays, even empty: its key is the group's upper bound.
        if count == 0 and blocks == 1 and group != _LAST:
            nodes.delete_block(block, group)
            nodes.delete_group(group)
            return
        nodes.set_block(block, count)
        nodes.set_group(group, members, blocks)
        return
    nodes.delete_block(block, group)
    blocks -= 1
    if members == 0 and blocks == 1 and group != _LAST:  # only its empty last block is left
        nodes.delete_block(group, group)
        nodes.delete_group(group)
        return
    nodes.set_group(group, members, blocks)


def _build_index(engine, prefix: bytes) -> None:
    """(Re)build the rank index of a zset from its score index (pending writes included)."""
    engine.delete_range(ZSCORE, prefix + _IDX, layout.prefix_end(prefix))
    engine.scratch.pop(prefix, None)
    p = len(prefix)
    blocks: list[list] = []  # [key, count]: each block's key is the next block's first member
    count = 0
    for key, _ in engine.iterate(ZSCORE, prefix, prefix + _IDX):
        if count == BUILD_FILL:
            blocks.append([key[p:], count])
            count = 0
        count += 1
    blocks.append([_LAST, count])
    put = engine.put
    l0, l1 = prefix + _L0, prefix + _L1
    for key, count in blocks:
        put(ZSCORE, l0 + key, _U64_pack(count))
    for g in range(0, len(blocks), BUILD_FILL):
        group = blocks[g:g + BUILD_FILL]
        put(ZSCORE, l1 + group[-1][0], _GROUP.pack(sum(c for _, c in group), len(group)))


def _rank_of(engine, prefix: bytes, suffix: bytes) -> int:
    """Rank of a present member through the index: the counts of the groups and of the
    blocks below it, then a walk of its block."""
    l0, l1 = prefix + _L0, prefix + _L1
    before = 0
    low = b""
    n = len(l1)
    for key, value in engine.iterate(ZSCORE, l1, layout.prefix_end(l1)):
        if key[n:] > suffix:
            break
        before += _U64_unpack(value[:8])[0]
        low = key[n:]
    n = len(l0)
    for key, value in engine.iterate(ZSCORE, l0 + low + b"\x00" if low else l0, l1):
        if key[n:] > suffix:
            break
        before += _U64_unpack(value)[0]
        low = key[n:]
    return before + sum(1 for _ in engine.iterate(ZSCORE, prefix + low, prefix + suffix))


def _seek_rank(engine, prefix: bytes, rank: int) -> tuple[bytes, int]:
    """(score-index key to start at, members to skip from there) for a rank < size."""
    l0, l1 = prefix + _L0, prefix + _L1
    low = b""
    for key, value in engine.iterate(ZSCORE, l1, layout.prefix_end(l1)):
        count = _U64_unpack(value[:8])[0]
        if rank < count:
            break
        rank -= count
        low = key[len(l1):]
    for key, value in engine.iterate(ZSCORE, l0 + low + b"\x00" if low else l0, l1):
        count = _U64_unpack(value)[0]
        if rank < count:
            return prefix + low, rank
        rank -= count
        low = key[len(l0):]
    raise _damaged()


def check_index(engine, prefix: bytes) -> str | None:
    """What is wrong with a zset's rank index (counts vs the score index), None if right."""
    l0, l1 = prefix + _L0, prefix + _L1
    blocks = [(k[len(l0):], _U64_unpack(v)[0]) for k, v in engine.iterate(ZSCORE, l0, l1)]
    groups = [(k[len(l1):], _GROUP.unpack(v))
              for k, v in engine.iterate(ZSCORE, l1, layout.prefix_end(l1))]
    if not blocks or blocks[-1][0] != _LAST or not groups or groups[-1][0] != _LAST:
        return "rank index has no last block or group"
    members = [k[len(prefix):] for k, _ in engine.iterate(ZSCORE, prefix, prefix + _IDX)]
    low = 0
    for i, (key, count) in enumerate(blocks):
        high = bisect_left(members, key)
        if high - low != count:
            return f"rank index block {i} counts {count} members, holds {high - low}"
        low = high
    keys = [key for key, _ in blocks]
    low = 0
    for i, (key, (count, nblocks)) in enumerate(groups):
        high = bisect_left(keys, key)
        if high == len(keys) or keys[high] != key:
            return f"rank index group {i} does not end at a block"
        high += 1
        if high - low != nblocks or sum(c for _, c in blocks[low:high]) != count:
            return f"rank index group {i} counts {count} members in {nblocks} blocks"
        low = high
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
    return layout.sub_prefix(db.index, _U64_unpack(raw[9:17])[0])


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
        prefix = layout.sub_prefix(db.index, _U64_unpack(raw[9:17])[0])  # type: ignore[index]
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
            # Uncount each member (a seek and two puts), or rebuild from what remains when
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
