"""Lists: a run of sequence numbers, one ``data`` sub-key per element.

Layout::

    meta  db | key                              -> type(1)=LIST | expire_ms(8) | version(8)
                                                   | size(8) | head(8) | tail(8)
    data  db | version(8) | seq(8)                  -> element

The elements occupy the sequence numbers ``head <= seq < tail`` with no holes, so
``size == tail - head`` always (size is kept too, like every collection, for O(1) LLEN through
the same field). A new list starts with ``head = tail = 2**63``: LPUSH writes at ``head - 1``
and lowers head, RPUSH writes at ``tail`` and raises tail, so both ends are O(1) and
big-endian sequence numbers keep RocksDB's key order equal to list order. Consequences:

* LINDEX / LSET are one point read / write at ``seq = head + index``;
* LRANGE is one iterator over ``[head + start, head + stop]``;
* LINSERT and LREM must keep the run hole-free, so they rewrite the shifted part: LINSERT
  shifts the shorter side by one, LREM compacts toward the end that moves fewer elements
  (O(N) like Redis);
* LTRIM deletes both cut ends (point deletes for up to ``Engine.FEW_KEYS`` elements, one
  range delete beyond: a range tombstone costs later reads, see ``Engine.delete_few``);
* an emptied list is removed with ``db.remove`` (which drops what is left the same way), so
  EXISTS sees it gone and the next push starts a fresh version.

These functions work on Python values, raise WRONGTYPE through the metadata gate and never
see RESP; ``ledis.commands.lists`` parses arguments, shapes replies and signals blocked
clients (``ledis.blocking.key_ready``).
"""

from __future__ import annotations

import builtins
import struct
import time
from collections.abc import Iterator

from ledis import errors
from ledis.errors import LedisError
from ledis.storage import layout
from ledis.storage.keyspace import WRONGTYPE, Database
from ledis.storage.layout import DATA, META, U64
from ledis.storage.types import clip_range

LIST = layout.LIST
START = 1 << 63
_META = struct.Struct(">BQQQQQ")  # type, expire_ms, version, size, head, tail
_NO_EXPIRE = layout.NO_EXPIRE
_pack_seq = U64.pack
_BYTES = [bytes([i]) for i in builtins.range(256)]
_DB_BYTES = layout.DB_BYTES
_time = time.time
_range = builtins.range  # this module defines range() (LRANGE)
_CACHED_RANGE = 1024  # longest range read tried from the cache first
# The sub-keys of runs of 256 elements that LRANGE read more than once: base (prefix and the
# sequence number's first 7 bytes) -> its 256 keys, or None once asked for. Only key objects
# (a list's sub-keys are immutable, a stale run is never wrong, only unused), 256 runs at most
# (~4 MB): emptied when full.
_RUNS: dict[bytes, list[bytes] | None] = {}
_RUNS_MAX = 256
_UNSEEN: list[bytes] = []  # runs.get's default: never asked for (falsy, and not None)

NO_SUCH_KEY = LedisError(errors.NO_SUCH_KEY)
INDEX_OUT_OF_RANGE = LedisError(errors.INDEX_OUT_OF_RANGE)


class ListMeta:
    """Decoded metadata of one live list plus what writes need (physical raw, sub-key prefix)."""

    __slots__ = ("raw", "expire", "version", "head", "tail", "prefix")

    def __init__(self, db: Database, key: bytes, raw: bytes) -> None:
        _, self.expire, self.version, _, self.head, self.tail = _META.unpack(raw)
        self.raw = raw
        # == layout.sub_prefix(db.index, version), without re-packing the version
        self.prefix = (db.prefix if raw[9] < 0x80 else _DB_BYTES[raw[16]]) + raw[9:17]

    @property
    def size(self) -> int:
        return self.tail - self.head

    def encode(self) -> bytes:
        return _META.pack(LIST, self.expire, self.version, self.tail - self.head,
                          self.head, self.tail)


def load(db: Database, key: bytes) -> tuple[bytes | None, ListMeta | None]:
    """``(physical meta, live list or None)``; WRONGTYPE for a live key of another type."""
    raw = db.engine.get(META, db.prefix + key)
    if raw is None:
        return None, None
    if raw[1:9] != _NO_EXPIRE and U64.unpack_from(raw, 1)[0] <= _time() * 1000:
        return raw, None
    if raw[0] != LIST:
        raise WRONGTYPE
    return raw, ListMeta(db, key, raw)


def get(db: Database, key: bytes) -> ListMeta | None:
    return load(db, key)[1]


# --- reads (counted as keyspace hits or misses: ``Database.read``) --------------------------
def read_meta(db: Database, key: bytes) -> ListMeta | None:
    """``get`` counted as a read (``Database.read_type`` inline: LRANGE's path)."""
    raw = db.engine.get(META, db.prefix + key)
    if raw is None or (raw[1:9] != _NO_EXPIRE
                       and U64.unpack_from(raw, 1)[0] <= _time() * 1000):
        db.missed(key)
        return None
    db.hits += 1
    if raw[0] != LIST:
        raise WRONGTYPE
    return ListMeta(db, key, raw)


def length(db: Database, key: bytes) -> int:
    raw = db.read_type(key, LIST)
    return 0 if raw is None else U64.unpack_from(raw, 17)[0]


def index(db: Database, key: bytes, idx: int) -> bytes | None:
    meta = read_meta(db, key)
    if meta is None:
        return None
    seq = _seq_at(meta, idx)
    if seq is None:
        return None
    return db.engine.get(DATA, meta.prefix + _pack_seq(seq))


def _seq_at(meta: ListMeta, idx: int) -> int | None:
    """The sequence number of the element at LINDEX-style index ``idx``; None if outside."""
    size = meta.tail - meta.head
    if idx < 0:
        idx += size
    if idx < 0 or idx >= size:
        return None
    return meta.head + idx


def range(db: Database, key: bytes, start: int, stop: int) -> list[bytes]:  # noqa: A001
    found = span(db, key, start, stop)
    return [] if found is None else read(db, *found)


def span(db: Database, key: bytes, start: int, stop: int) -> tuple[ListMeta, int, int] | None:
    """LRANGE's indexes clipped the way Redis does, with the list's metadata (None: empty)."""
    meta = read_meta(db, key)
    if meta is None:
        return None
    clipped = clip_range(start, stop, meta.tail - meta.head)
    if clipped is None:
        return None
    return meta, clipped[0], clipped[1]


def walk(db: Database, meta: ListMeta, start: int, stop: int) -> Iterator[tuple[bytes, bytes]]:
    """The elements at ``start..stop`` (clipped), pinned now (``Engine.walk``: a streamed
    reply reads them over many loop iterations)."""
    prefix, head = meta.prefix, meta.head
    return db.engine.walk(DATA, prefix + _pack_seq(head + start),
                          prefix + _pack_seq(head + stop + 1))


def read(db: Database, meta: ListMeta, start: int, stop: int, reverse: bool = False) -> list[bytes]:
    """Elements at indexes ``start..stop`` (inclusive, already clipped), one iterator."""
    prefix = meta.prefix
    head = meta.head
    engine = db.engine
    if start == stop:
        value = engine.get(DATA, prefix + _pack_seq(head + start))
        return [] if value is None else [value]
    if stop - start < _CACHED_RANGE and engine.get_cached(DATA, [prefix + _pack_seq(head + start)]):
        # Recently written elements are all in the engine's cache: dict lookups instead of
        # an iterator (and no merge with the pending overlay).
        values = engine.get_cached(DATA, _element_keys(prefix, head + start, head + stop + 1))
        if values is not None:
            if reverse:
                values.reverse()
            return values
    it = engine.iterate(DATA, prefix + _pack_seq(head + start),
                           prefix + _pack_seq(head + stop + 1), reverse)
    return [value for _, value in it]


def _element_keys(prefix: bytes, lo: int, hi: int) -> list[bytes]:
    """Sub-keys of sequence numbers ``lo <= seq < hi``. Runs of up to 256 share their first
    seven bytes, so each run is one comprehension over precomputed one-byte suffixes; a run
    asked for a second time is built whole and kept (``_RUNS``), so a hot list's LRANGE slices
    key objects that exist already, their hashes computed (the read cache's lookups)."""
    keys: list[bytes] = []
    runs = _RUNS
    while lo < hi:
        run_end = min(hi, (lo | 0xFF) + 1)
        base = prefix + _pack_seq(lo)[:7]
        run = runs.get(base, _UNSEEN)
        if run:
            keys += run[lo & 0xFF:((run_end - 1) & 0xFF) + 1]
        elif run is None:  # the second time: build the whole run once
            if len(runs) >= _RUNS_MAX:
                runs.clear()
            run = runs[base] = [base + last for last in _BYTES]
            keys += run[lo & 0xFF:((run_end - 1) & 0xFF) + 1]
        else:
            if len(runs) >= _RUNS_MAX:
                runs.clear()
            runs[base] = None
            # a comprehension: ~50 ns a key, against ~65 for map(base.__add__, ...)
            keys += [base + last for last in _BYTES[lo & 0xFF:((run_end - 1) & 0xFF) + 1]]
        lo = run_end
    return keys


def positions(db: Database, key: bytes, element: bytes, rank: int, count: int | None,
              maxlen: int) -> list[int] | None:
    """LPOS: indexes of matches (rank-th first, up to count, 0 = all; None if no list)."""
    meta = read_meta(db, key)
    if meta is None:
        return None
    size = meta.tail - meta.head
    reverse = rank < 0
    skip = (-rank if reverse else rank) - 1
    want = 1 if count is None else count
    found: list[int] = []
    limit = size if maxlen == 0 else min(maxlen, size)
    prefix = meta.prefix
    n = len(prefix)
    head = meta.head
    it = db.engine.iterate(DATA, prefix + _pack_seq(head), prefix + _pack_seq(meta.tail), reverse)
    seen = 0
    for sub, value in it:
        if seen >= limit:
            break
        seen += 1
        if value == element:
            if skip > 0:
                skip -= 1
                continue
            found.append(U64.unpack_from(sub, n)[0] - head)
            if want and len(found) >= want:
                break
    return found


# --- writes ----------------------------------------------------------------------------------
def push(db: Database, key: bytes, values: list[bytes], left: bool,
         only_existing: bool = False) -> int:
    """LPUSH/RPUSH (and the X variants): returns the new length (0: no list, X variant).
    The hot path: one cached metadata read, one put per element, one metadata put."""
    engine = db.engine
    meta_key = db.prefix + key
    raw = engine.get(META, meta_key)
    if raw is not None and raw[1:9] != _NO_EXPIRE and U64.unpack_from(raw, 1)[0] <= _time() * 1000:
        live = False
    else:
        live = raw is not None
    if live:
        if raw[0] != LIST:  # type: ignore[index]
            raise WRONGTYPE
        _, expire, version, _, head, tail = _META.unpack(raw)  # type: ignore[arg-type]
        # == ListMeta's prefix (a flagged version's low byte is its home db: layout)
        prefix = ((db.prefix if raw[9] < 0x80 else _DB_BYTES[raw[16]])  # type: ignore[index]
                  + raw[9:17])  # type: ignore[index]
    else:
        if only_existing:
            return 0
        version = db.new_version()
        prefix = layout.sub_prefix(db.index, version)
        expire = 0
        head = tail = START
    put = engine.put
    if left:
        for value in values:
            head -= 1
            put(DATA, prefix + _pack_seq(head), value)
    else:
        for value in values:
            put(DATA, prefix + _pack_seq(tail), value)
            tail += 1
    size = tail - head
    if live:  # same version and expiry: only the record changes (db.replace's no-op case)
        put(META, meta_key, _META.pack(LIST, expire, version, size, head, tail))
    else:
        db.replace(key, _META.pack(LIST, expire, version, size, head, tail), raw)
    return size


def pop_one(db: Database, key: bytes, left: bool) -> bytes | None:
    """LPOP/RPOP without a count (the hot path)."""
    engine = db.engine
    meta_key = db.prefix + key
    raw = engine.get(META, meta_key)
    if raw is None:
        return None
    if raw[1:9] != _NO_EXPIRE and U64.unpack_from(raw, 1)[0] <= _time() * 1000:
        return None
    if raw[0] != LIST:
        raise WRONGTYPE
    _, expire, version, size, head, tail = _META.unpack(raw)
    sub = ((db.prefix if raw[9] < 0x80 else _DB_BYTES[raw[16]]) + raw[9:17]
           + _pack_seq(head if left else tail - 1))
    value = engine.get(DATA, sub)
    engine.delete(DATA, sub)
    if size == 1:  # its only sub-key is gone: nothing to look for (Engine.delete_few)
        db.remove(key, raw, emptied=True)
    else:
        if left:
            head += 1
        else:
            tail -= 1
        # same version and expiry: only the record changes (db.replace's no-op case)
        engine.put(META, meta_key, _META.pack(LIST, expire, version, size - 1, head, tail))
    return value


def pop(db: Database, key: bytes, left: bool, count: int = 1) -> list[bytes] | None:
    """Remove up to ``count`` elements from one end; None when there is no list."""
    meta = get(db, key)
    if meta is None:
        return None
    return pop_from(db, key, meta, left, count)


def pop_from(db: Database, key: bytes, meta: ListMeta, left: bool, count: int) -> list[bytes]:
    size = meta.tail - meta.head
    engine = db.engine
    prefix = meta.prefix
    if count >= size:
        values = read(db, meta, 0, size - 1, not left)
        db.remove(key, meta.raw)
        return values
    if count <= 0:
        return []
    if left:
        values = read(db, meta, 0, count - 1)
        first = meta.head
        meta.head += count
    else:
        values = read(db, meta, size - count, size - 1, True)
        meta.tail -= count
        first = meta.tail
    delete = engine.delete
    for seq in _range(first, first + count):
        delete(DATA, prefix + _pack_seq(seq))
    db.replace(key, meta.encode(), meta.raw)
    return values


def set_index(db: Database, key: bytes, idx: int, value: bytes) -> None:
    """LSET."""
    meta = get(db, key)
    if meta is None:
        raise NO_SUCH_KEY
    seq = _seq_at(meta, idx)
    if seq is None:
        raise INDEX_OUT_OF_RANGE
    db.engine.put(DATA, meta.prefix + _pack_seq(seq), value)


def insert(db: Database, key: bytes, before: bool, pivot: bytes, value: bytes) -> int:
    """LINSERT: the new length, -1 when the pivot is missing, 0 when the list is."""
    meta = get(db, key)
    if meta is None:
        return 0
    prefix = meta.prefix
    n = len(prefix)
    head, tail = meta.head, meta.tail
    at = -1
    for sub, element in db.engine.iterate(DATA, prefix + _pack_seq(head), prefix + _pack_seq(tail)):
        if element == pivot:
            at = U64.unpack_from(sub, n)[0] - head
            break
    if at < 0:
        return -1
    pos = at if before else at + 1  # index the new element takes
    size = tail - head
    put = db.engine.put
    if pos <= size - pos:
        # Shift elements [0, pos) one step toward the head.
        moved = read(db, meta, 0, pos - 1) if pos else []
        meta.head -= 1
        for i, element in enumerate(moved):
            put(DATA, prefix + _pack_seq(meta.head + i), element)
        put(DATA, prefix + _pack_seq(meta.head + pos), value)
    else:
        # Shift elements [pos, size) one step toward the tail.
        moved = read(db, meta, pos, size - 1)
        for i, element in enumerate(moved):
            put(DATA, prefix + _pack_seq(head + pos + 1 + i), element)
        put(DATA, prefix + _pack_seq(head + pos), value)
        meta.tail += 1
    db.replace(key, meta.encode(), meta.raw)
    return meta.tail - meta.head


def remove(db: Database, key: bytes, count: int, element: bytes) -> int:
    """LREM: remove matches (count > 0 from the head, < 0 from the tail, 0 all).

    The scan (in the direction of removal, stopping after ``|count|`` matches) covers a
    contiguous section of the list. Its kept elements are compacted toward the far end of the
    section (head-side scan: toward the tail, then head moves up; tail-side scan: toward the
    head, then tail moves down), so nothing outside the section is touched, and elements that
    do not change position are not rewritten."""
    meta = get(db, key)
    if meta is None:
        return 0
    head, tail = meta.head, meta.tail
    size = tail - head
    prefix = meta.prefix
    n = len(prefix)
    from_tail = count < 0
    limit = -count if from_tail else count
    kept: list[tuple[int, bytes]] = []
    matched = 0
    first_match = last_match = -1
    it = db.engine.iterate(DATA, prefix + _pack_seq(head), prefix + _pack_seq(tail), from_tail)
    for sub, value in it:
        idx = U64.unpack_from(sub, n)[0] - head
        if value == element:
            matched += 1
            if first_match < 0:
                first_match = idx
            last_match = idx
            if limit and matched >= limit:
                break
        else:
            kept.append((idx, value))
    if not matched:
        return 0
    if matched == size:
        db.remove(key, meta.raw)
        return matched
    if from_tail:
        kept.reverse()
        first_match, last_match = last_match, first_match
        toward_tail = False
    elif limit:
        toward_tail = True
    else:  # count 0: whole list scanned, pick the side that moves fewer elements
        toward_tail = last_match + 1 - matched <= size - first_match - matched
    engine = db.engine
    put, delete = engine.put, engine.delete
    if toward_tail:
        # Removed elements all lie in [0, last_match]: right-align what stays there.
        kept = [(i, v) for i, v in kept if i < last_match]
        new_index = last_match - len(kept) + 1
        for orig, value in kept:
            if new_index != orig:
                put(DATA, prefix + _pack_seq(head + new_index), value)
            new_index += 1
        for seq in _range(head, head + matched):
            delete(DATA, prefix + _pack_seq(seq))
        meta.head = head + matched
    else:
        # Removed elements all lie in [first_match, size): left-align what stays there.
        kept = [(i, v) for i, v in kept if i > first_match]
        new_index = first_match
        for orig, value in kept:
            if new_index != orig:
                put(DATA, prefix + _pack_seq(head + new_index), value)
            new_index += 1
        for seq in _range(tail - matched, tail):
            delete(DATA, prefix + _pack_seq(seq))
        meta.tail = tail - matched
    db.replace(key, meta.encode(), meta.raw)
    return matched


def trim(db: Database, key: bytes, start: int, stop: int) -> None:
    """LTRIM."""
    meta = get(db, key)
    if meta is None:
        return
    size = meta.tail - meta.head
    clipped = clip_range(start, stop, size)
    if clipped is None:
        db.remove(key, meta.raw)
        return
    start, stop = clipped
    if start == 0 and stop == size - 1:
        return
    prefix = meta.prefix
    _delete_seqs(db, prefix, meta.head, meta.head + start)
    _delete_seqs(db, prefix, meta.head + stop + 1, meta.tail)
    meta.tail = meta.head + stop + 1
    meta.head += start
    db.replace(key, meta.encode(), meta.raw)


def _delete_seqs(db: Database, prefix: bytes, lo: int, hi: int) -> None:
    if hi <= lo:
        return
    engine = db.engine
    if hi - lo <= engine.FEW_KEYS:
        for seq in _range(lo, hi):
            engine.delete(DATA, prefix + _pack_seq(seq))
    else:
        engine.delete_range(DATA, prefix + _pack_seq(lo), prefix + _pack_seq(hi))


def move(db: Database, src: bytes, dst: bytes, from_left: bool, to_left: bool,
         dst_db: Database | None = None) -> bytes | None:
    """LMOVE: pop one element from ``src`` and push it onto ``dst``; None if ``src`` is empty.

    WRONGTYPE on ``dst`` is raised before anything changes (and only when ``src`` exists,
    like Redis)."""
    target_db = dst_db or db
    meta = get(db, src)
    if meta is None:
        return None
    if target_db is db and src == dst:
        return _rotate(db, src, meta, from_left, to_left)
    get(target_db, dst)  # type check first
    value = pop_from(db, src, meta, from_left, 1)[0]
    push(target_db, dst, [value], to_left)
    return value


def _rotate(db: Database, key: bytes, meta: ListMeta, from_left: bool, to_left: bool) -> bytes:
    engine = db.engine
    prefix = meta.prefix
    seq = meta.head if from_left else meta.tail - 1
    sub = prefix + _pack_seq(seq)
    value = engine.get(DATA, sub)
    assert value is not None
    if meta.tail - meta.head == 1 or from_left == to_left:
        return value
    engine.delete(DATA, sub)
    if from_left:
        meta.head += 1
        engine.put(DATA, prefix + _pack_seq(meta.tail), value)
        meta.tail += 1
    else:
        meta.tail -= 1
        meta.head -= 1
        engine.put(DATA, prefix + _pack_seq(meta.head), value)
    db.replace(key, meta.encode(), meta.raw)
    return value


def clear(db: Database, key: bytes) -> int:
    """LCLEAR: delete a list, returning how many elements it had (0 if none)."""
    raw, meta = load(db, key)
    if meta is None:
        if raw is not None:
            db.remove(key, raw)  # expired leftovers
        return 0
    size = meta.tail - meta.head
    db.remove(key, meta.raw)
    return size
