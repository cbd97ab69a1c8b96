"""The rank index of a sorted set: ZRANK, rank ranges and ZREMRANGEBYRANK in O(log n), and
through ranks ZCOUNT, ZLEXCOUNT (one score), ZRANDMEMBER and LIMIT offsets (``zset.py``).

Zsets of ``INDEX_MIN`` members or more (layout: ``zset.py``) keep an order-statistic index of
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
member's block is a bisect (those lists, the groups and the block counts read so far
outlive the batch: ``Engine.kept``, forgotten by whatever discards a batch or writes the
index past this module). Otherwise a
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
"""

from __future__ import annotations

import struct
from bisect import bisect_left, bisect_right, insort
from itertools import islice

from sortedcontainers import SortedList

from ledis.storage import layout
from ledis.storage.layout import U64, ZSCORE

_U64_pack = U64.pack
_U64_unpack = U64.unpack

_IDX = b"\xff\xff"  # sorts after every encoded score
_L0 = b"\xff\xff\x00"
_L1 = b"\xff\xff\x01"
_LAST = b"\xff\xff"  # key of the last block and group: above every member suffix
_GROUP = struct.Struct(">QQ")  # members, blocks
BLOCK_MAX = 512  # members in a block before it splits
GROUP_MAX = 256  # blocks in a group before it splits
BUILD_FILL = 192  # members per block / blocks per group when an index is built in one go
INDEX_MIN = 1024  # a zset gets its index once it has this many members
INDEXED = layout.ZSET_INDEXED  # the metadata extras (raw[25:]) of a zset with a rank index
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
                 "members", "added", "sorted_upto", "deletions", "dirty", "dirty_groups",
                 "lists", "touches", "full")

    def __init__(self, engine, prefix: bytes) -> None:
        self.engine = engine
        self.prefix = prefix
        l0, l1 = self.l0, self.l1 = prefix + _L0, prefix + _L1
        end, end1 = layout.prefix_end(prefix), layout.prefix_end(l1)
        self.blocks: dict[bytes, int | None] = {}
        self.created = SortedList()
        self.members: dict[bytes, bool] = {}  # suffix -> put (True) or deleted in the batch
        # suffixes put in the batch (repeats allowed): appended on ZADD's path (a list append,
        # where a SortedList insert cost ~1 us), sorted only when a split walks (sorted_added)
        self.added: list[bytes] = []
        self.sorted_upto = 0
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
        for key, value in pending:
            if key >= l0:
                break
            self.members[key[p:]] = value is not None
            if value is not None:
                self.added.append(key[p:])
            else:
                self.deletions += 1
        # The groups and the block counts read so far are kept as well (``nodes``): once the
        # batch that changed them commits they are the index as stored, and whatever discards
        # a batch or writes the index past this class forgets them with the rest. A -P 1 batch
        # (~30 ZADDs) then pays no seek for the groups (~14 us a batch on a 100k-member zset)
        # and no read for the counts of blocks an earlier batch read or wrote. Index entries
        # pending already (a rebuild in this batch) are read afresh.
        nodes = kept.get("nodes")
        if nodes is not None and (not pending or pending[-1][0] < l0):
            self.gkeys, self.groups, self.blocks = nodes
            return
        groups: dict[bytes, bytes | None] = {}
        for key, value in pending:
            if key < l0:
                continue
            if key < l1:
                self.blocks[key[n0:]] = None if value is None else _U64_unpack(value)[0]
                if value is not None:
                    self.created.add(key[n0:])
            else:
                groups[key[n1:]] = value
        if self.full:
            groups = {k[n1:]: v for k, v in engine.iterate(ZSCORE, l1, end1)}
        else:
            for key, value in engine.store_span(ZSCORE, l1, end1):
                groups.setdefault(key[n1:], value)
        self.gkeys = sorted(k for k, v in groups.items() if v is not None)
        self.groups = {k: list(_GROUP.unpack(groups[k])) for k in self.gkeys}  # type: ignore
        if not self.gkeys or self.gkeys[-1] != _LAST:
            raise _damaged()
        kept["nodes"] = (self.gkeys, self.groups, self.blocks)

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

    def sorted_added(self) -> list[bytes]:
        """``added`` in order (sorted in place when something was appended since)."""
        added = self.added
        if len(added) != self.sorted_upto:
            added.sort()
            self.sorted_upto = len(added)
        return added

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
        added = self.sorted_added()
        candidates: list[bytes] = []
        for suffix in islice(added, bisect_left(added, low), None):
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
        added = self.sorted_added()
        j = bisect_left(added, upper) - 1
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


def index_add(engine, prefix: bytes, suffix: bytes) -> None:
    """Count a member just put in the score index (``suffix`` = score(8) | member).
    Long on purpose: the common case (a listed group, no split) inlined, on ZADD's path."""
    nodes = engine.scratch.get(prefix) or _nodes(engine, prefix)
    nodes.members[suffix] = True
    nodes.added.append(suffix)
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


def index_remove(engine, prefix: bytes, suffix: bytes) -> None:
    """Uncount a member (removed from the score index, or about to be).
    Long on purpose: as in ``index_add``, the common case (a listed group, a block that keeps
    members) inline, on the path of ZREM and of every ZADD that moves a member."""
    nodes = engine.scratch.get(prefix) or _nodes(engine, prefix)
    nodes.members[suffix] = False
    nodes.deletions += 1
    gkeys = nodes.gkeys
    i = bisect_right(gkeys, suffix)
    group = gkeys[i]
    listed = nodes.lists.get(group)
    if listed is not None:
        block = listed[bisect_right(listed, suffix)]
    else:
        block = nodes.block(suffix, group, gkeys[i - 1] if i else b"")
    count = nodes.blocks.get(block)
    if count is None:
        count = nodes.count(block)
    count -= 1
    counts = nodes.groups[group]
    if count > 0:
        nodes.blocks[block] = count
        nodes.dirty.add(block)
        counts[0] -= 1
        nodes.dirty_groups.add(group)
        return
    members, blocks = counts
    members -= 1
    if block == group:
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


def build_index(engine, prefix: bytes) -> None:
    """(Re)build the rank index of a zset from its score index (pending writes included;
    also what ``ledis check`` repairs with)."""
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


def rank_of(engine, prefix: bytes, suffix: bytes) -> int:
    """How many members sort below ``suffix`` (any score-index suffix, present or not: the
    rank of a present member, a bound of ZCOUNT): the counts of the groups and of the blocks
    below it, then a walk of its block."""
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


def seek_rank(engine, prefix: bytes, rank: int) -> tuple[bytes, int]:
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


def members_at(engine, prefix: bytes, ranks: list[int]) -> dict[int, bytes]:
    """rank -> score-index suffix of the member at each of ``ranks`` (each < size; repeats
    allowed): ZRANDMEMBER. One forward pass over the groups, reading the blocks of a group
    only when a wanted rank falls in it and walking a block only up to its last wanted rank,
    so a few ranks cost what a few ZRANKs do, and many never more than one walk of the zset."""
    wanted = sorted(set(ranks))
    found: dict[int, bytes] = {}
    if not wanted:
        return found
    l0, l1 = prefix + _L0, prefix + _L1
    p, n0, n1 = len(prefix), len(l0), len(l1)
    i = base = 0
    low = b""
    for gkey, gvalue in engine.iterate(ZSCORE, l1, layout.prefix_end(l1)):
        gcount = _U64_unpack(gvalue[:8])[0]
        group = gkey[n1:]
        if wanted[i] >= base + gcount:
            base += gcount
            low = group
            continue
        for bkey, bvalue in engine.iterate(ZSCORE, l0 + low + b"\x00" if low else l0,
                                           l0 + group + b"\x00"):
            count = _U64_unpack(bvalue)[0]
            block = bkey[n0:]
            if wanted[i] < base + count:
                for pos, (key, _) in enumerate(engine.iterate(ZSCORE, prefix + low,
                                                              prefix + block), base):
                    if pos == wanted[i]:
                        found[pos] = key[p:]
                        i += 1
                        if i == len(wanted) or wanted[i] >= base + count:
                            break
                if i == len(wanted):
                    return found
            base += count
            low = block
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
