"""The metadata gate: every type reads and writes its key through here.

A :class:`Database` is one numbered database (0-15) over the shared engine. It decides:

* **existence and lazy expiry**: ``lookup(key)`` returns the raw metadata of a live key, or
  None when the key is missing *or expired* (an expired key reads as missing; the active
  expiry task or the next write removes it physically);
* **type checks**: ``lookup_type(key, t)`` raises WRONGTYPE;
* **replacing and removing keys**: ``replace(key, new_raw, old_raw)`` / ``remove(key, old_raw)``
  keep the expire index and the key counters right and drop the sub-keys of the old version of
  a collection with one ``delete_range`` (O(1): DEL of a ten-million-field hash is one range
  tombstone, the space comes back at compaction).

``old_raw`` is always the *physical* metadata (``raw(key)``), expired or not, so that counters,
the expire index and garbage collection see what is really stored.

Key counts (DBSIZE, INFO keyspace) are kept exact in memory and persisted in the ``sys``
family in the same batch as the writes that change them.
"""

from __future__ import annotations

import struct
import time

from ledis import errors
from ledis.errors import LedisError
from ledis.storage import layout
from ledis.storage.engine import Engine
from ledis.storage.layout import DATA, EXPIRE, META, SYS, ZSCORE, U64

_COUNTS = struct.Struct(">qq")  # keys, keys with an expiry

WRONGTYPE = LedisError(errors.WRONGTYPE)


class Store:
    """The engine plus its numbered databases and shared version counter."""

    def __init__(self, engine: Engine, databases: int = 16) -> None:
        self.engine = engine
        self.versions = layout.Versions()
        self.dbs = [Database(self, i) for i in range(databases)]
        engine.before_commit.append(self._save_counts)

    def _save_counts(self) -> None:
        for db in self.dbs:
            if db.counts_dirty:
                db.counts_dirty = False
                self.engine.put(SYS, b"count:%d" % db.index, _COUNTS.pack(db.keys, db.expires))

    def flushall(self) -> None:
        for db in self.dbs:
            db.flush()

    def close(self) -> None:
        self.engine.close()


class Database:
    def __init__(self, store: Store, index: int) -> None:
        self.store = store
        self.engine = store.engine
        self.index = index
        self.prefix = layout.DB_BYTES[index]
        saved = self.engine.get(SYS, b"count:%d" % index)
        self.keys, self.expires = _COUNTS.unpack(saved) if saved else (0, 0)
        self.counts_dirty = False

    # --- reads -----------------------------------------------------------------------------
    def raw(self, key: bytes) -> bytes | None:
        """Physical metadata, expired or not."""
        return self.engine.get(META, self.prefix + key)

    def lookup(self, key: bytes) -> bytes | None:
        """Metadata of a live key, or None (missing or expired)."""
        raw = self.engine.get(META, self.prefix + key)
        if raw is None:
            return None
        expire = U64.unpack_from(raw, 1)[0]
        if expire and expire <= time.time() * 1000:
            return None
        return raw

    def lookup_type(self, key: bytes, type_code: int) -> bytes | None:
        """Like ``lookup``, raising WRONGTYPE for a live key of another type."""
        raw = self.lookup(key)
        if raw is not None and raw[0] != type_code:
            raise WRONGTYPE
        return raw

    def is_live(self, raw: bytes | None) -> bool:
        if raw is None:
            return False
        expire = U64.unpack_from(raw, 1)[0]
        return not expire or expire > time.time() * 1000

    # --- writes ----------------------------------------------------------------------------
    def replace(self, key: bytes, new_raw: bytes, old_raw: bytes | None) -> None:
        """Store ``new_raw`` as the metadata of ``key`` (which had ``old_raw`` physically)."""
        engine = self.engine
        new_expire = U64.unpack_from(new_raw, 1)[0]
        if old_raw is None:
            self.keys += 1
            if new_expire:
                self.expires += 1
                engine.put(EXPIRE, layout.expire_key(self.index, new_expire, key), b"")
            self.counts_dirty = True
        else:
            old_expire = U64.unpack_from(old_raw, 1)[0]
            if old_expire != new_expire:
                if old_expire:
                    engine.delete(EXPIRE, layout.expire_key(self.index, old_expire, key))
                if new_expire:
                    engine.put(EXPIRE, layout.expire_key(self.index, new_expire, key), b"")
                self.expires += (new_expire > 0) - (old_expire > 0)
                self.counts_dirty = True
            if old_raw[0] != layout.STRING and (
                new_raw[0] == layout.STRING or new_raw[9:17] != old_raw[9:17]
            ):
                self._drop_version(key, old_raw)
        engine.put(META, self.prefix + key, new_raw)

    def remove(self, key: bytes, old_raw: bytes) -> None:
        """Delete ``key`` (physically present with ``old_raw``) and all its sub-keys."""
        engine = self.engine
        old_expire = U64.unpack_from(old_raw, 1)[0]
        if old_expire:
            engine.delete(EXPIRE, layout.expire_key(self.index, old_expire, key))
            self.expires -= 1
        self.keys -= 1
        self.counts_dirty = True
        if old_raw[0] != layout.STRING:
            self._drop_version(key, old_raw)
        engine.delete(META, self.prefix + key)

    def _drop_version(self, key: bytes, old_raw: bytes) -> None:
        version = U64.unpack_from(old_raw, 9)[0]
        prefix = layout.sub_prefix(self.index, key, version)
        end = layout.prefix_end(prefix)
        self.engine.delete_range(DATA, prefix, end)
        if old_raw[0] == layout.ZSET:
            self.engine.delete_range(ZSCORE, prefix, end)

    def delete(self, key: bytes) -> bool:
        """DEL semantics: remove a live key; an expired one is cleaned up and counts as 0."""
        raw = self.raw(key)
        if raw is None:
            return False
        live = self.is_live(raw)
        self.remove(key, raw)
        return live

    def set_expire(self, key: bytes, raw: bytes, expire_ms: int) -> None:
        """Change the expiry of a live key (0 removes it)."""
        self.replace(key, layout.with_expire(raw, expire_ms), raw)

    def new_version(self) -> int:
        return self.store.versions.next()

    def flush(self) -> None:
        """FLUSHDB: range-delete everything of this database."""
        engine = self.engine
        start = self.prefix
        end = layout.DB_BYTES[self.index + 1] if self.index < 255 else b"\xff" * 9
        for cf in (META, DATA, ZSCORE, EXPIRE):
            engine.delete_range(cf, start, end, drop_cached=(cf == META))
        if self.keys or self.expires:
            self.keys = self.expires = 0
            self.counts_dirty = True

    # --- iteration -------------------------------------------------------------------------
    def scan_keys(self, after: bytes = b"") -> "Iterator[tuple[bytes, bytes]]":
        """Yield ``(key, raw)`` of every stored key (live or not) in key order from ``after``."""
        prefix = self.prefix
        start = prefix + after
        end = layout.DB_BYTES[self.index + 1] if self.index < 255 else None
        n = len(prefix)
        for k, raw in self.engine.iterate(META, start, end):
            yield k[n:], raw

    def expire_slice(self, limit: int) -> int:
        """Active expiry: remove up to ``limit`` keys whose time has passed. Returns how many."""
        if not self.expires:
            return 0
        now = int(time.time() * 1000)
        start = self.prefix
        end = self.prefix + U64.pack(now + 1)
        victims = []
        for k, _ in self.engine.iterate(EXPIRE, start, end):
            victims.append(k[9:])
            if len(victims) >= limit:
                break
        removed = 0
        for key in victims:
            raw = self.raw(key)
            if raw is not None and not self.is_live(raw):
                self.remove(key, raw)
                removed += 1
        return removed


from typing import Iterator  # noqa: E402  (used in annotations only)
