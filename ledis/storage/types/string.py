"""Strings: the value lives inline in the metadata record.

Layout (``meta`` family, key ``db | user_key``)::

    type(1)=STRING | expire_ms(8) | payload

So GET is one cached read and SET one write: no version, no sub-keys. Bit operations,
ranges and counters all read the payload, change it in Python and write it back.
"""

from __future__ import annotations

from ledis.storage import layout
from ledis.storage.keyspace import WRONGTYPE, Database
from ledis.storage.layout import HEADER, META, U64

_PREFIX = bytes([layout.STRING])


def encode(value: bytes, expire_ms: int = 0) -> bytes:
    return _PREFIX + U64.pack(expire_ms) + value


def get(db: Database, key: bytes) -> bytes | None:
    """The value of a live string key; None if missing; WRONGTYPE for other types."""
    raw = db.lookup(key)
    if raw is None:
        return None
    if raw[0] != layout.STRING:
        raise WRONGTYPE
    return raw[9:]


def set(db: Database, key: bytes, value: bytes, expire_ms: int = 0) -> None:
    """Plain SET: replaces whatever the key held (any type), with the given expiry."""
    old = db.engine.get(META, db.prefix + key)
    if old is None and not expire_ms:  # fast path: new key without TTL
        db.engine.put(META, db.prefix + key, _PREFIX + b"\0\0\0\0\0\0\0\0" + value)
        db.keys += 1
        db.counts_dirty = True
        return
    db.replace(key, _PREFIX + U64.pack(expire_ms) + value, old)


def set_keep_ttl(db: Database, key: bytes, value: bytes) -> None:
    """SET ... KEEPTTL and in-place updates (APPEND, INCR, SETRANGE): keep a live key's TTL."""
    old = db.engine.get(META, db.prefix + key)
    expire = 0
    if old is not None and db.is_live(old):
        expire = U64.unpack_from(old, 1)[0]
    db.replace(key, _PREFIX + U64.pack(expire) + value, old)


def header(raw: bytes) -> tuple[int, int]:
    """(type, expire_ms) of a raw metadata record."""
    return HEADER.unpack_from(raw)
