"""Hashes on disk, plus the helpers every ``data``-family collection shares (sets use them).

Layout::

    meta  db(1) | key                              -> COLLECTION: type(1)=HASH | expire_ms(8)
                                                       | version(8) | size(8)
    data  db(1) | version(8) | field                  -> value

``size`` is the exact number of fields, so HLEN is one cached read. A new key gets a fresh
``db.new_version()``; overwriting or deleting the key (DEL, SET, an expired key reused) only
changes the metadata and the keyspace gate drops the old version's sub-keys with one
``delete_range``. Fields of one version are contiguous and sorted by field bytes, so HGETALL /
HSCAN are one iterator over ``[prefix, prefix_end(prefix))``.

Write path of HSET on an existing hash, per new field: ``get(meta)`` + ``get(field)`` +
``put(field)``, and one ``put(meta)`` for the new size (both gets hit the engine cache when
hot). A new key skips the field reads (its version is brand new, nothing can be there); a
field set to the value it already has is not rewritten.

Random picks (HRANDFIELD, SRANDMEMBER, SPOP) on large collections cannot index by position
(there is no order-statistics tree, and no counts per key range). :func:`_random_one` walks
down the sorted sub-keys like a trie: at each level it picks a random next byte between the
smallest and largest sub-key under the current prefix and seeks to it, and it keeps the exact
probability of the branch it took. :func:`_random_pick` then accepts a candidate with
probability ``0.5 / (size * p)`` (rejection sampling), which flattens over-represented
branches. The result reaches every member and is close to uniform (3000 picks from
``member:0`` .. ``member:4999``: 2270 distinct, uniform gives 2256; 22% of picks among the
1000 short members, 20% ideal), though members of a branch far bigger than its siblings stay
somewhat under-represented. Cost: 2-4 descents of a few seeks per level, ~100-200 us a
pick. Collections of up to ``SMALL`` items (and large counts) are read whole and sampled
exactly, as Redis does.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from itertools import islice

from ledis import errors
from ledis.errors import LedisError
from ledis.storage import layout
from ledis.storage.keyspace import WRONGTYPE, Database
from ledis.storage.layout import COLLECTION, DATA, META, U64, prefix_end, sub_prefix

HASH = layout.HASH
_NO_EXPIRE = layout.NO_EXPIRE
_time = time.time

# Collections at most this big are read whole for random picks (exact sampling).
SMALL = 1000
# Random picks on big collections (rejection sampling, see _random_pick): a candidate of
# probability p is accepted with probability ACCEPT / (size * p); at most TRIES candidates.
ACCEPT = 0.5
TRIES = 32
# SCAN on a collection at most this big answers everything at once with cursor 0 (what Redis
# does for its listpack / intset encodings).
SCAN_ALL_AT_ONCE = 128


# --- generic collection helpers (hashes and sets) -------------------------------------------
def load(db: Database, key: bytes, type_code: int) -> tuple[bytes | None, bytes | None]:
    """``(physical meta, live meta or None)`` for a write; WRONGTYPE for a live other type."""
    raw = db.engine.get(META, db.prefix + key)
    if raw is None:
        return None, None
    if raw[1:9] != _NO_EXPIRE and U64.unpack_from(raw, 1)[0] <= _time() * 1000:
        return raw, None
    if raw[0] != type_code:
        raise WRONGTYPE
    return raw, raw


def with_size(raw: bytes, size: int) -> bytes:
    return raw[:17] + U64.pack(size) + raw[25:]


def size_of(raw: bytes) -> int:
    return U64.unpack_from(raw, 17)[0]


def prefix_of(db: Database, key: bytes, raw: bytes) -> bytes:
    return sub_prefix(db.index, U64.unpack_from(raw, 9)[0])


def set_size(db: Database, key: bytes, raw: bytes, size: int) -> None:
    """Store a live collection's new size; an empty collection is removed (EXISTS -> 0).
    The caller has deleted the sub-keys it counted off (so at 0 there is none left)."""
    if size:
        db.engine.put(META, db.prefix + key, raw[:17] + U64.pack(size) + raw[25:])
    else:
        db.remove(key, raw, emptied=True)


def iterate(db: Database, key: bytes, raw: bytes, after: bytes | None = None
            ) -> Iterator[tuple[bytes, bytes]]:
    """``(sub, value)`` of a collection in sub-key order, strictly after ``after`` if given."""
    prefix = prefix_of(db, key, raw)
    n = len(prefix)
    start = prefix if after is None else prefix + after + b"\0"
    for k, v in db.engine.iterate(DATA, start, prefix_end(prefix)):
        yield k[n:], v


def walk(db: Database, key: bytes, raw: bytes) -> tuple[Iterator[tuple[bytes, bytes]], int]:
    """The whole collection's ``(sub-key, value)`` records, pinned now (``Engine.walk``: a
    streamed reply reads them over many loop iterations), and their prefix's length."""
    prefix = prefix_of(db, key, raw)
    return db.engine.walk(DATA, prefix, prefix_end(prefix)), len(prefix)


def subs(db: Database, key: bytes, raw: bytes) -> list[bytes]:
    prefix = prefix_of(db, key, raw)
    n = len(prefix)
    return [k[n:] for k, _ in db.engine.iterate(DATA, prefix, prefix_end(prefix))]


def pairs(db: Database, key: bytes, raw: bytes) -> list[tuple[bytes, bytes]]:
    prefix = prefix_of(db, key, raw)
    n = len(prefix)
    return [(k[n:], v) for k, v in db.engine.iterate(DATA, prefix, prefix_end(prefix))]


def scan(db: Database, key: bytes, raw: bytes, after: bytes | None, count: int,
         match: Callable[[bytes], bool] | None) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
    """One SCAN step: look at up to ``count`` sub-keys after ``after``; return the matching
    ``(sub, value)`` pairs and the last sub-key looked at (None when the walk is over)."""
    if size_of(raw) <= SCAN_ALL_AT_ONCE:
        after, count = None, SCAN_ALL_AT_ONCE + 1
    it = iterate(db, key, raw, after)
    chunk = list(islice(it, count))
    last = chunk[-1][0] if chunk and next(it, None) is not None else None
    if match is not None:
        chunk = [item for item in chunk if match(item[0])]
    return chunk, last


def _random_one(db: Database, prefix: bytes) -> tuple[bytes, bytes, float]:
    """One random ``(sub, value, probability)`` by a random descent of the sub-key trie.

    At each level the smallest and largest sub-keys under the current prefix bound the next
    byte; a random byte in that range is sought and the sub-key found there fixes the level.
    The odds of landing on that branch (the gap before it over the range) are multiplied into
    ``probability``, the exact chance of this result, which :func:`_random_pick` uses to
    correct the bias. O(key length) seeks."""
    iterate_ = db.engine.iterate
    n = len(prefix)
    node = prefix
    low = next(iter(iterate_(DATA, node, prefix_end(node))))
    probability = 1.0
    while True:
        node_end = prefix_end(node)
        high = next(iter(iterate_(DATA, node, node_end, reverse=True)))
        lk, hk = low[0], high[0]
        if lk == hk:
            return lk[n:], low[1], probability
        d = len(node)
        while d < len(lk) and lk[d] == hk[d]:
            d += 1
        if d < len(lk):
            lo_byte = lk[d]
        else:  # the shorter sub-key ends here: it is one choice, the children the others
            it = iter(iterate_(DATA, lk + b"\0", node_end))
            lo_byte = next(it)[0][d]
            span = hk[d] - lo_byte + 2
            if random.randrange(span) == 0:
                return lk[n:], low[1], probability / span
            probability *= (span - 1) / span
        span = hk[d] - lo_byte + 1
        pick = random.randint(lo_byte, hk[d])
        low = next(iter(iterate_(DATA, hk[:d] + bytes([pick]), node_end)))
        child = low[0][d]
        if child == lo_byte:
            gap = 1
        else:  # the bytes that lead to this child: (previous child, child]
            before = next(iter(iterate_(DATA, node, hk[:d] + bytes([child]), reverse=True)))[0]
            gap = child - before[d]
        probability *= gap / span
        node = low[0][:d + 1]


def _random_pick(db: Database, prefix: bytes, size: int) -> tuple[bytes, bytes]:
    """A random ``(sub, value)``, near uniform: :func:`_random_one` candidates are accepted
    with probability ``ACCEPT / (size * p)`` (rejection sampling), so every member whose
    landing probability is at least ``ACCEPT / size`` comes out with the same odds; after
    ``TRIES`` rejections the least likely candidate seen is taken."""
    best: tuple[bytes, bytes, float] | None = None
    for _ in range(TRIES):
        candidate = _random_one(db, prefix)
        if random.random() * size * candidate[2] <= ACCEPT:
            return candidate[0], candidate[1]
        if best is None or candidate[2] < best[2]:
            best = candidate
    assert best is not None
    return best[0], best[1]


def sample(db: Database, key: bytes, raw: bytes, count: int, unique: bool
           ) -> list[tuple[bytes, bytes]]:
    """``count`` random ``(sub, value)`` pairs: distinct when ``unique`` (all of them if
    ``count`` >= size), with repetitions otherwise (SRANDMEMBER / HRANDFIELD negative count)."""
    size = size_of(raw)
    if unique and count >= size:
        return pairs(db, key, raw)
    if count == 1 and size <= SMALL:  # exact: walk to a random position
        return [next(islice(iterate(db, key, raw), random.randrange(size), None))]
    if size <= SMALL or (unique and count * 3 > size):
        everything = pairs(db, key, raw)
        if unique:
            return random.sample(everything, count)
        return random.choices(everything, k=count)
    prefix = prefix_of(db, key, raw)
    if not unique:
        return [_random_pick(db, prefix, size) for _ in range(count)]
    picked: dict[bytes, bytes] = {}
    for _ in range(count * 8):
        sub, value = _random_pick(db, prefix, size)
        picked[sub] = value
        if len(picked) == count:
            return list(picked.items())
    # Very skewed sub-keys: fall back to an exact sample.
    return random.sample(pairs(db, key, raw), count)


def clear(db: Database, key: bytes, type_code: int) -> int:
    """LedisDB's xCLEAR: delete a collection of this type; returns how many items it had."""
    phys, live = load(db, key, type_code)
    if live is None:
        if phys is not None:
            db.remove(key, phys)  # an expired leftover: clean it up, counts as nothing
        return 0
    db.remove(key, live)
    return size_of(live)


def check_types(db: Database, keys: list[bytes], type_code: int) -> None:
    for key in keys:
        db.lookup_type(key, type_code)


# --- hashes ---------------------------------------------------------------------------------
def _field_key(db: Database, key: bytes, raw: bytes, field: bytes) -> bytes:
    return sub_prefix(db.index, U64.unpack_from(raw, 9)[0]) + field


def get(db: Database, key: bytes, field: bytes) -> bytes | None:
    raw = db.read_type(key, HASH)
    if raw is None:
        return None
    return db.engine.get(DATA, sub_prefix(db.index, U64.unpack_from(raw, 9)[0]) + field)


def get_many(db: Database, key: bytes, fields: list[bytes]) -> list[bytes | None]:
    raw = db.read_type(key, HASH)
    if raw is None:
        return [None] * len(fields)
    prefix = prefix_of(db, key, raw)
    get_ = db.engine.get
    return [get_(DATA, prefix + f) for f in fields]


def length(db: Database, key: bytes) -> int:
    raw = db.read_type(key, HASH)
    return 0 if raw is None else U64.unpack_from(raw, 17)[0]


def set_many(db: Database, key: bytes, flat: list[bytes], start: int = 2) -> int:
    """HSET: ``flat[start:]`` is field, value, field, value...; returns the new-field count.
    The hot path (redis-benchmark's HSET) has ``load`` and the sub-key prefix inline, as
    ``set.add``: a Python call fewer each."""
    engine = db.engine
    meta_key = db.prefix + key
    phys = live = engine.get(META, meta_key)
    if phys is not None:
        if phys[1:9] != _NO_EXPIRE and U64.unpack_from(phys, 1)[0] <= _time() * 1000:
            live = None
        elif phys[0] != HASH:
            raise WRONGTYPE
    put = engine.put
    if live is None:
        version = db.new_version()
        prefix = sub_prefix(db.index, version)
        if len(flat) - start == 2:
            put(DATA, prefix + flat[start], flat[start + 1])
            added = 1
        else:
            fields = dict(zip(flat[start::2], flat[start + 1::2], strict=True))
            for f, v in fields.items():
                put(DATA, prefix + f, v)
            added = len(fields)
        db.replace(key, COLLECTION.pack(HASH, 0, version, added), phys)
        return added
    # == sub_prefix(db.index, version), with the version's bytes as stored (a flagged
    # version's low byte is its home db: layout)
    prefix = (db.prefix if live[9] < 0x80 else layout.DB_BYTES[live[16]]) + live[9:17]
    get_ = engine.get
    added = 0
    for i in range(start, len(flat), 2):
        k = prefix + flat[i]
        old = get_(DATA, k)
        if old is None:
            added += 1
        elif old == flat[i + 1]:
            continue  # same value: nothing to write (or to replicate)
        put(DATA, k, flat[i + 1])
    if added:
        put(META, meta_key, live[:17] + U64.pack(U64.unpack_from(live, 17)[0] + added)
            + live[25:])
    return added


def set_if_missing(db: Database, key: bytes, field: bytes, value: bytes) -> bool:
    """HSETNX."""
    phys, live = load(db, key, HASH)
    if live is not None:
        k = _field_key(db, key, live, field)
        if db.engine.get(DATA, k) is not None:
            return False
    set_many(db, key, [field, value], 0)
    return True


def delete(db: Database, key: bytes, fields: list[bytes]) -> int:
    """HDEL: remove fields; the hash is removed when it becomes empty."""
    phys, live = load(db, key, HASH)
    if live is None:
        return 0
    engine = db.engine
    prefix = prefix_of(db, key, live)
    removed = 0
    for f in fields:
        k = prefix + f
        if engine.get(DATA, k) is not None:
            engine.delete(DATA, k)
            removed += 1
    if removed:
        set_size(db, key, live, size_of(live) - removed)
    return removed


def exists(db: Database, key: bytes, field: bytes) -> bool:
    return get(db, key, field) is not None


def items(db: Database, key: bytes) -> list[tuple[bytes, bytes]]:
    raw = db.read_type(key, HASH)
    return [] if raw is None else pairs(db, key, raw)


def incr_by(db: Database, key: bytes, field: bytes, delta: int) -> int:
    """HINCRBY with Redis's 64-bit overflow check."""
    phys, live = load(db, key, HASH)
    current = 0
    if live is not None:
        old = db.engine.get(DATA, _field_key(db, key, live, field))
        if old is not None:
            current = _string2ll(old)
    value = current + delta
    if not -(2**63) <= value < 2**63:
        raise LedisError(errors.OVERFLOW)
    _store_one(db, key, phys, live, field, b"%d" % value)
    return value


def incr_by_float(db: Database, key: bytes, field: bytes, delta_raw: bytes) -> bytes:
    """HINCRBYFLOAT: x87 long double arithmetic and ``%.17Lf`` output, as INCRBYFLOAT."""
    from ledis.storage.types.string import (
        format_long_double,
        parse_long_double,
        round_long_double,
    )

    delta = parse_long_double(delta_raw)
    if delta is None:
        raise LedisError(errors.NOT_FLOAT)
    if isinstance(delta, float):  # +-inf
        raise LedisError(errors.HASH_INCR_NAN_ARG)
    phys, live = load(db, key, HASH)
    current: Fraction | int = 0
    if live is not None:
        old = db.engine.get(DATA, _field_key(db, key, live, field))
        if old is not None:
            parsed = parse_long_double(old)
            if parsed is None:
                raise LedisError(errors.NOT_HASH_VALUE_FLOAT)
            if isinstance(parsed, float):
                raise LedisError(errors.INCR_NAN)
            current = parsed
    total = round_long_double(current + delta)
    if isinstance(total, float):
        raise LedisError(errors.INCR_NAN)
    text = format_long_double(total)
    _store_one(db, key, phys, live, field, text)
    return text


def _string2ll(raw: bytes) -> int:
    """A stored value as Redis's ``string2ll`` reads it: optional '-', digits, no leading
    zero, no spaces or '+', within 64 bits."""
    digits = raw[1:] if raw[:1] == b"-" else raw
    if raw == b"0":
        return 0
    if not digits or not digits.isdigit() or digits[0] == 0x30 or len(digits) > 19:
        raise LedisError(errors.NOT_HASH_VALUE_INT)
    value = int(raw)
    if not -(2**63) <= value < 2**63:
        raise LedisError(errors.NOT_HASH_VALUE_INT)
    return value


def _store_one(db: Database, key: bytes, phys: bytes | None, live: bytes | None,
               field: bytes, value: bytes) -> None:
    if live is None:
        set_many(db, key, [field, value], 0)
        return
    k = _field_key(db, key, live, field)
    engine = db.engine
    if engine.get(DATA, k) is None:
        engine.put(META, db.prefix + key, with_size(live, size_of(live) + 1))
    engine.put(DATA, k, value)
