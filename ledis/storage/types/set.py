"""Sets on disk.

Layout::

    meta  db(1) | key                               -> COLLECTION: type(1)=SET | expire_ms(8)
                                                        | version(8) | size(8)
    data  db(1) | version(8) | member                  -> b""

``size`` is the exact cardinality (SCARD is one cached read). Members of one version are
contiguous and sorted by bytes, so SMEMBERS / SSCAN are one iterator. Versions, removal of an
emptied set and random picks work as for hashes (the shared helpers live in
``ledis.storage.types.hash``).

Set algebra (SINTER/SUNION/SDIFF and their STORE forms) type-checks every key first, like
Redis, then works on Python sets: SINTER walks the smallest set and probes the others with
point reads when they are much bigger, or reads them whole when they are comparable. A STORE
writes the result under a fresh version of the destination (replacing whatever it held, of
any type) or deletes it when the result is empty.
"""

from __future__ import annotations

import time

from ledis.storage import layout
from ledis.storage.keyspace import WRONGTYPE, Database
from ledis.storage.layout import COLLECTION, DATA, DB_BYTES, META, U64, sub_prefix
from ledis.storage.types.hash import (
    load,
    pairs,
    prefix_of,
    sample,
    set_size,
    size_of,
    subs,
)

SET = layout.SET
_NO_EXPIRE = layout.NO_EXPIRE
_time = time.time


def _lookup(db: Database, key: bytes) -> bytes | None:
    """A read (counted: ``Database.read``) of a set key."""
    return db.read_type(key, SET)


def add(db: Database, key: bytes, members: list[bytes], start: int = 0) -> int:
    """SADD ``members[start:]``; returns how many were new.

    The hot path (redis-benchmark's SADD: one member into an existing set) has the metadata
    gate (``hash.load``) and the sub-key prefix written inline: a Python call fewer each."""
    engine = db.engine
    meta_key = db.prefix + key
    raw = engine.get(META, meta_key)
    live = raw
    if raw is not None:
        if raw[1:9] != _NO_EXPIRE and U64.unpack_from(raw, 1)[0] <= _time() * 1000:
            live = None
        elif raw[0] != SET:
            raise WRONGTYPE
    put = engine.put
    if live is None:
        version = db.new_version()
        prefix = sub_prefix(db.index, version)
        if len(members) - start == 1:
            put(DATA, prefix + members[start], b"")
            added = 1
        else:
            unique = set(members[start:])
            for m in unique:
                put(DATA, prefix + m, b"")
            added = len(unique)
        db.replace(key, COLLECTION.pack(SET, 0, version, added), raw)
        return added
    # == sub_prefix(db.index, version), with the version's bytes as stored (a flagged
    # version's low byte is its home db: layout)
    prefix = (db.prefix if live[9] < 0x80 else DB_BYTES[live[16]]) + live[9:17]
    get_ = engine.get
    if len(members) - start == 1:  # one member: no loop
        k = prefix + members[start]
        if get_(DATA, k) is not None:
            return 0
        put(DATA, k, b"")
        put(META, meta_key, live[:17] + U64.pack(U64.unpack_from(live, 17)[0] + 1) + live[25:])
        return 1
    added = 0
    for i in range(start, len(members)):
        k = prefix + members[i]
        if get_(DATA, k) is None:
            put(DATA, k, b"")
            added += 1
    if added:
        put(META, meta_key, live[:17] + U64.pack(U64.unpack_from(live, 17)[0] + added)
            + live[25:])
    return added


def remove(db: Database, key: bytes, members: list[bytes], start: int = 0) -> int:
    """SREM; an emptied set is removed."""
    phys, live = load(db, key, SET)
    if live is None:
        return 0
    engine = db.engine
    prefix = prefix_of(db, key, live)
    removed = 0
    for i in range(start, len(members)):
        k = prefix + members[i]
        if engine.get(DATA, k) is not None:
            engine.delete(DATA, k)
            removed += 1
    if removed:
        set_size(db, key, live, size_of(live) - removed)
    return removed


def card(db: Database, key: bytes) -> int:
    raw = _lookup(db, key)
    return 0 if raw is None else U64.unpack_from(raw, 17)[0]


def is_member(db: Database, key: bytes, member: bytes) -> bool:
    raw = _lookup(db, key)
    if raw is None:
        return False
    return db.engine.get(DATA, prefix_of(db, key, raw) + member) is not None


def are_members(db: Database, key: bytes, members: list[bytes]) -> list[int]:
    raw = _lookup(db, key)
    if raw is None:
        return [0] * len(members)
    prefix = prefix_of(db, key, raw)
    get_ = db.engine.get
    return [0 if get_(DATA, prefix + m) is None else 1 for m in members]


def members(db: Database, key: bytes) -> list[bytes]:
    raw = _lookup(db, key)
    return [] if raw is None else subs(db, key, raw)


def random_members(db: Database, key: bytes, count: int, unique: bool) -> list[bytes]:
    raw = _lookup(db, key)
    if raw is None or count == 0:
        return []
    return [m for m, _ in sample(db, key, raw, count, unique)]


def pop(db: Database, key: bytes, count: int, counted: bool = False) -> list[bytes]:
    """SPOP ``count`` distinct random members (all of them when count >= size). ``counted``
    (SPOP with a count): taking them all counts a keyspace hit, as Redis answers that with
    its SUNION code, whose read lookup counts."""
    phys, live = load(db, key, SET)
    if live is None or count == 0:
        return []
    size = size_of(live)
    if count >= size:
        if counted:
            db.hits += 1
        out = subs(db, key, live)
        db.remove(key, live)
        return out
    picked = [m for m, _ in sample(db, key, live, count, True)]
    prefix = prefix_of(db, key, live)
    delete = db.engine.delete
    for m in picked:
        delete(DATA, prefix + m)
    set_size(db, key, live, size - len(picked))
    return picked


def move(db: Database, src: bytes, dst: bytes, member: bytes) -> int:
    """SMOVE with Redis's order of checks."""
    src_phys, src_live = load(db, src, SET)
    if src_live is None:  # a missing source answers 0 before the destination is checked
        return 0
    load(db, dst, SET)  # WRONGTYPE for a destination of another type
    engine = db.engine
    src_key = prefix_of(db, src, src_live) + member
    present = engine.get(DATA, src_key) is not None
    if src == dst:
        return int(present)
    if not present:
        return 0
    engine.delete(DATA, src_key)
    set_size(db, src, src_live, size_of(src_live) - 1)
    add(db, dst, [member])
    return 1


def _load_all(db: Database, keys: list[bytes]) -> list[bytes | None]:
    """Type-check every key first (WRONGTYPE wins over an empty result, as in Redis)."""
    return [_lookup(db, k) for k in keys]


def inter(db: Database, keys: list[bytes], limit: int = 0) -> list[bytes]:
    metas = _load_all(db, keys)
    if any(raw is None for raw in metas):
        return []
    order = sorted(range(len(keys)), key=lambda i: size_of(metas[i]))  # type: ignore[arg-type]
    first = order[0]
    result = subs(db, keys[first], metas[first])  # type: ignore[arg-type]
    get_ = db.engine.get
    for i in order[1:]:
        if not result:
            break
        raw = metas[i]
        assert raw is not None
        if keys[i] == keys[first]:
            continue
        if size_of(raw) <= 4 * len(result):
            other = set(subs(db, keys[i], raw))
            result = [m for m in result if m in other]
        else:
            prefix = prefix_of(db, keys[i], raw)
            result = [m for m in result if get_(DATA, prefix + m) is not None]
    if limit and len(result) > limit:
        result = result[:limit]
    return result


def union(db: Database, keys: list[bytes]) -> list[bytes]:
    metas = _load_all(db, keys)
    present = [(key, raw) for key, raw in zip(keys, metas, strict=True) if raw is not None]
    if len(present) == 1:
        return subs(db, *present[0])
    out: set[bytes] = set()
    for key, raw in present:
        out.update(subs(db, key, raw))
    return list(out)


def diff(db: Database, keys: list[bytes]) -> list[bytes]:
    metas = _load_all(db, keys)
    if metas[0] is None:
        return []
    result = subs(db, keys[0], metas[0])
    get_ = db.engine.get
    for key, raw in zip(keys[1:], metas[1:], strict=True):
        if raw is None or not result:
            continue
        if size_of(raw) <= 4 * len(result):
            other = set(subs(db, key, raw))
            result = [m for m in result if m not in other]
        else:
            prefix = prefix_of(db, key, raw)
            result = [m for m in result if get_(DATA, prefix + m) is None]
    return result


def store(db: Database, dst: bytes, result: list[bytes]) -> int:
    """Replace ``dst`` (any type) by a set of ``result`` (distinct members); delete it when
    empty. Returns the cardinality."""
    old = db.raw(dst)
    if not result:
        if old is not None:
            db.remove(dst, old)
        return 0
    version = db.new_version()
    prefix = sub_prefix(db.index, version)
    put = db.engine.put
    for m in result:
        put(DATA, prefix + m, b"")
    db.replace(dst, COLLECTION.pack(SET, 0, version, len(result)), old)
    return len(result)


__all__ = [
    "add", "remove", "card", "is_member", "are_members", "members", "random_members", "pop",
    "move", "inter", "union", "diff", "store", "pairs",
]
