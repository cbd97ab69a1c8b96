"""The metadata gate: every type reads and writes its key through here.

A :class:`Database` is one numbered database (0-15) over the shared engine. It decides:

* **existence and lazy expiry**: ``lookup(key)`` returns the raw metadata of a live key, or
  None when the key is missing *or expired* (an expired key reads as missing; the active
  expiry task or the next write removes it physically);
* **type checks**: ``lookup_type(key, t)`` raises WRONGTYPE;
* **replacing and removing keys**: ``replace(key, new_raw, old_raw)`` / ``remove(key, old_raw)``
  keep the expire index and the key counters right and drop the sub-keys of the old version of
  a collection: one ``delete_range`` for a big one (O(1): DEL of a ten-million-field hash is
  one range tombstone, the space comes back at compaction), key by key for one of at most
  ``Engine.FEW_KEYS`` (a range tombstone costs later reads, see ``Engine.delete_few``).

``old_raw`` is always the *physical* metadata (``raw(key)``), expired or not, so that counters,
the expire index and garbage collection see what is really stored.

Key counts (DBSIZE, INFO keyspace) are kept exact in memory and persisted in the ``sys``
family in the same batch as the writes that change them.

Other keyspace-wide pieces that live here:

* **SWAPDB** is O(1): ``Store.dbs[n]`` (logical number n) points at a *physical* db byte,
  and the logical->physical map is persisted in ``sys`` (see :class:`Store`);
* **rename** (RENAME / RENAMENX within a db) moves only the metadata record: a collection's
  sub-keys are addressed by ``db | version`` (its id), not by its name, so they stay where
  they are, O(1) whatever the size;
* **copy_value** copies any value, generically, to another key and/or database (MOVE, COPY):
  strings are inline, a collection's sub-keys are re-written under a fresh version of the
  target (in the target db), so those commands are O(number of sub-keys) for collections;
* **expiry**: lazily at ``lookup`` (an expired key reads as missing) and actively by
  ``expire_slice``, which walks the ``expire`` index (ordered by time) and really removes the
  keys (a normal delete in the batch, so the write log and replicas see it). Expired keys
  left on disk at a crash stay invisible after restart and are reclaimed by the same walk.
"""

from __future__ import annotations

import struct
import threading
import time

from ledis import errors
from ledis.errors import LedisError
from ledis.storage import layout
from ledis.storage.engine import Engine
from ledis.storage.layout import DATA, EXPIRE, META, SYS, U64, VERSION_FLOOR_KEY, ZSCORE

_COUNTS = struct.Struct(">qq")  # keys, keys with an expiry

WRONGTYPE = LedisError(errors.WRONGTYPE)


class Store:
    """The engine plus its numbered databases and shared version counter.

    **Logical and physical databases (SWAPDB).** Every stored key carries a *physical* db byte
    (``layout``). ``dbs[n]`` is the :class:`Database` clients see as number ``n`` (its
    ``logical`` index); its ``index``/``prefix`` are the physical ones. SWAPDB swaps the physical
    side of two Database objects (O(1), no data moves) and persists the mapping in ``sys``
    under ``dbmap`` (one byte per logical db), in the same batch as everything else. Contexts
    keep pointing at the same Database objects, so a client that SELECTed 1 sees the swapped
    data at once, as in Redis. Anything that names a db to users (INFO keyspace, SELECT) must
    use ``logical``; anything that builds storage keys uses ``index``.
    """

    def __init__(self, engine: Engine, databases: int = 16) -> None:
        self.engine = engine
        self.versions = layout.Versions()
        self._load_version_floor()
        # imported here: at module level it changes mypy's import-cycle order, which then
        # cannot infer Scripting's attributes for server/busy.py
        from ledis.storage.migrate import ensure_format

        ensure_format(engine, self.versions)  # a format-1 store is migrated here
        mapping = self._load_mapping(databases)
        self.dbs = [Database(self, physical, logical) for logical, physical in enumerate(mapping)]
        self.compactor = Compactor(engine)
        engine.before_commit.append(self._save_counts)
        engine.before_commit.append(self._save_version_floor)
        # a discarded batch (failed commit, debugger rollback) took its counter updates along
        engine.after_rollback.append(self.reload_mapping)

    def _load_mapping(self, databases: int) -> list[int]:
        """Logical -> physical db numbers. The saved map is a permutation of 0..len-1; when
        ``databases`` changed since it was written, extra dbs map to themselves and dropped
        ones are just not reachable (their data stays where it is)."""
        saved = self.engine.get(SYS, b"dbmap")
        if saved is None or sorted(saved) != list(range(len(saved))):
            return list(range(databases))
        return list(saved[:databases]) + list(range(len(saved), databases))

    def _load_version_floor(self) -> None:
        saved = self.engine.get(SYS, VERSION_FLOOR_KEY)
        self.versions.set_floor(U64.unpack(saved)[0] if saved else 0)

    def _save_version_floor(self) -> None:
        """Persist a new version floor once issued versions reached the saved one (about once
        a second under load; see ``layout.Versions``). Never lowers the stored floor: on a
        replica the batch may hold the master's, which can be ahead of our clock."""
        floor = self.versions.floor_to_save()
        if floor is None:
            return
        stored = self.engine.get(SYS, VERSION_FLOOR_KEY)
        if stored is not None and U64.unpack(stored)[0] > floor:
            self.versions.set_floor(U64.unpack(stored)[0])
            return
        self.engine.put(SYS, VERSION_FLOOR_KEY, U64.pack(floor))

    def _save_counts(self) -> None:
        for db in self.dbs:
            if db.counts_dirty:
                db.counts_dirty = False
                self.engine.put(SYS, b"count:%d" % db.index, _COUNTS.pack(db.keys, db.expires))

    def swapdb(self, a: int, b: int) -> None:
        """SWAPDB: exchange the contents of logical databases ``a`` and ``b`` in O(1)."""
        if a == b:
            return
        da, db_ = self.dbs[a], self.dbs[b]
        for attr in ("index", "prefix", "keys", "expires", "counts_dirty", "expire_from"):
            va, vb = getattr(da, attr), getattr(db_, attr)
            setattr(da, attr, vb)
            setattr(db_, attr, va)
        self.engine.put(SYS, b"dbmap", bytes(d.index for d in self.dbs))

    def reload_mapping(self) -> None:
        """Re-read the logical->physical map (and the key counters) from the store, for code
        that changed ``sys`` underneath (a replica applying a master's SWAPDB, a full sync)."""
        for db, physical in zip(self.dbs, self._load_mapping(len(self.dbs)), strict=True):
            db.index = physical
            db.prefix = layout.DB_BYTES[physical]
            counts = self.engine.get(SYS, b"count:%d" % physical)
            db.keys, db.expires = _COUNTS.unpack(counts) if counts else (0, 0)
            db.counts_dirty = False
            db.expire_from = None
        self._load_version_floor()

    def flushall(self) -> None:
        for db in self.dbs:
            db.flush()

    def close(self) -> None:
        self.compactor.stop()  # before the engine: a running compaction must finish first
        self.engine.close()


class Compactor:
    """Reclaims the disk space of big deleted ranges soon, instead of "some day".

    DEL of a collection is one range tombstone: reads skip the old sub-keys at once, but the
    bytes stay in SST files until RocksDB happens to compact them, which on a quiet store may
    be never. Ranges of at least ``THRESHOLD`` sub-keys (and FLUSHDB/FLUSHALL) are queued here
    and a daemon thread runs a manual ``compact_range`` on each ``DELAY`` seconds later (by
    then the group commit has written the tombstone). RocksDB releases the GIL while it
    compacts, so the event loop keeps serving. The queue is in memory only: after a crash
    the space comes back through RocksDB's own compactions.
    """

    THRESHOLD = 10_000
    DELAY = 1.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.queue: list[tuple[float, int, bytes, bytes | None]] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopping = False
        self.thread: threading.Thread | None = None
        self.done = 0  # compactions run, for tests and INFO

    def schedule(self, cf: int, start: bytes, end: bytes | None) -> None:
        with self.lock:
            if self.stopping:
                return
            self.queue.append((time.monotonic() + self.DELAY, cf, start, end))
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="ledis-compact",
                                               daemon=True)
                self.thread.start()
        self.wake.set()

    def _run(self) -> None:
        while not self.stopping:
            with self.lock:
                due = self.queue[0][0] if self.queue else None
            if due is None:
                self.wake.wait()
                self.wake.clear()
                continue
            delay = due - time.monotonic()
            if delay > 0:
                self.wake.wait(delay)
                self.wake.clear()
                continue
            with self.lock:
                _, cf, start, end = self.queue.pop(0)
            try:
                family = self.engine.db.get_column_family(layout.CF_NAMES[cf])
                family.compact_range(start, end)
                del family  # RocksDB keeps the store locked while a handle is alive
                self.done += 1
            except Exception:  # closed under us, or a RocksDB error: space comes back later
                return

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            self.queue.clear()
            thread = self.thread
        self.wake.set()
        if thread is not None:
            thread.join()


class Database:
    # Called as on_expired(db, key) after active expiry removed a key (keyspace notifications
    # and WATCH: ledis/pubsub.py sets it); None = nobody listens.
    on_expired: Callable[[Database, bytes], None] | None = None
    # Called as on_removed(index, key) when a key is removed, or replaced over its expired
    # value, and as on_removed(index, None) by FLUSHDB: the access tracker (ledis/access.py)
    # forgets its counters, as Redis's go with the freed object. None while nothing tracks.
    on_removed: Callable[[int, bytes | None], None] | None = None
    # Called as on_keymiss(db, key) by a counted read of a missing key (ledis/pubsub.py
    # publishes keymiss when class m is on; None while no keyspace event is configured).
    on_keymiss: Callable[[Database, bytes], None] | None = None

    def __init__(self, store: Store, index: int, logical: int | None = None) -> None:
        self.store = store
        self.engine = store.engine
        self.index = index  # physical: the db byte of every storage key
        self.logical = index if logical is None else logical  # the number clients SELECT
        self.prefix = layout.DB_BYTES[index]
        saved = self.engine.get(SYS, b"count:%d" % index)
        self.keys, self.expires = _COUNTS.unpack(saved) if saved else (0, 0)
        self.counts_dirty = False
        self.expire_from: bytes | None = None  # where active expiry's next slice starts
        self.hits = self.misses = 0  # counted reads (``read``): INFO's keyspace_hits / misses
        # expired keys a write replaced or deleted (INFO's expired_keys, with active expiry's)
        self.lazy_expired = 0

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
            # Reset the traceback: re-raising one shared instance would otherwise chain every
            # raise's frames (and their locals) onto it forever.
            raise WRONGTYPE.with_traceback(None)
        return raw

    # Reads as Redis's lookupKeyRead counts them: a key found (of any type: WRONGTYPE comes
    # after) is a keyspace hit, a missing or expired one a miss, which publishes ``keymiss``
    # (INFO's keyspace_hits / keyspace_misses, class m). Writes' lookups (``raw``, ``lookup``)
    # count nothing, as lookupKeyWrite does not.
    def read(self, key: bytes, notify: bool = True) -> bytes | None:
        """``lookup`` counted as a read (``notify``: see ``missed``)."""
        raw = self.engine.get(META, self.prefix + key)
        if raw is not None:
            expire = U64.unpack_from(raw, 1)[0]
            if not expire or expire > time.time() * 1000:
                self.hits += 1
                return raw
        self.missed(key, notify)
        return None

    def read_type(self, key: bytes, type_code: int) -> bytes | None:
        """``lookup_type`` counted as a read (``read`` inline: HGET's, SISMEMBER's path)."""
        raw = self.engine.get(META, self.prefix + key)
        if raw is not None:
            expire = U64.unpack_from(raw, 1)[0]
            if not expire or expire > time.time() * 1000:
                self.hits += 1
                if raw[0] != type_code:
                    raise WRONGTYPE.with_traceback(None)
                return raw
        self.missed(key)
        return None

    def missed(self, key: bytes, notify: bool = True) -> None:
        """Count a read that found no ``key``; ``notify``: publish ``keymiss`` (OBJECT's read
        does not: Redis's LOOKUP_NONOTIFY)."""
        self.misses += 1
        if notify and self.on_keymiss is not None:
            self.on_keymiss(self, key)

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
                engine.write_uncached(EXPIRE, layout.expire_key(self.index, new_expire, key), b"")
                if self.expire_from is not None:
                    self._below_expire_from(new_expire)
            self.counts_dirty = True
        else:
            old_expire = U64.unpack_from(old_raw, 1)[0]
            if old_expire and old_expire <= time.time() * 1000:  # over an expired value
                self.lazy_expired += 1
                if self.on_removed is not None:
                    self.on_removed(self.index, key)
            if old_expire != new_expire:
                index = engine.write_uncached  # the expiry index: never point-read
                if old_expire:
                    index(EXPIRE, layout.expire_key(self.index, old_expire, key), None)
                if new_expire:
                    index(EXPIRE, layout.expire_key(self.index, new_expire, key), b"")
                    if self.expire_from is not None:
                        self._below_expire_from(new_expire)
                self.expires += (new_expire > 0) - (old_expire > 0)
                self.counts_dirty = True
            if old_raw[0] != layout.STRING and (
                new_raw[0] == layout.STRING or new_raw[9:17] != old_raw[9:17]
            ):
                self._drop_version(key, old_raw)
        engine.put(META, self.prefix + key, new_raw)

    def _below_expire_from(self, expire_ms: int) -> None:
        """A TTL was set: active expiry's next slice starts from the db's start if the new
        index entry sorts before where it would start (``expire_slice``)."""
        if expire_ms <= U64.unpack_from(self.expire_from, 1)[0]:  # type: ignore[arg-type]
            self.expire_from = None

    def remove(self, key: bytes, old_raw: bytes, keep_data: bool = False,
               emptied: bool = False) -> None:
        """Delete ``key`` (physically present with ``old_raw``) and all its sub-keys (or only
        its metadata with ``keep_data``: RENAME hands the sub-keys to the new name).
        ``emptied``: the caller deleted every sub-key itself (a removal or a pop took the last
        members), so none is looked for."""
        engine = self.engine
        old_expire = U64.unpack_from(old_raw, 1)[0]
        if old_expire:
            engine.write_uncached(EXPIRE, layout.expire_key(self.index, old_expire, key), None)
            self.expires -= 1
        self.keys -= 1
        self.counts_dirty = True
        if old_raw[0] != layout.STRING and not keep_data:
            self._drop_version(key, old_raw, emptied)
        engine.delete(META, self.prefix + key)
        if self.on_removed is not None:
            self.on_removed(self.index, key)

    def _drop_version(self, key: bytes, old_raw: bytes, emptied: bool = False) -> None:
        prefix = layout.meta_sub_prefix(self.index, old_raw)  # no version int to pack
        if prefix[0] != self.index:  # it had moved here: out of the registry
            self.engine.delete(SYS, layout.moved_key(U64.unpack_from(old_raw, 9)[0]))
        if emptied:
            return
        end = layout.prefix_end(prefix)
        engine = self.engine
        size = U64.unpack_from(old_raw, 17)[0]
        # A small collection's sub-keys go one by one: a range tombstone would cost the reads
        # of the family until the memtable flushes (Engine.FEW_KEYS). Its size is the count
        # of its data sub-keys, except a stream's (consumer groups), and of its score index
        # unless that holds a rank index too (tests lower INDEX_MIN): no count for those.
        kind = old_raw[0]
        few = size <= engine.FEW_KEYS
        exact = None if kind == layout.STREAM else size
        if not (few and engine.delete_few(DATA, prefix, end, exact)):
            engine.delete_range(DATA, prefix, end)
        if kind == layout.ZSET:
            exact = None if old_raw[25:26] == layout.ZSET_INDEXED else size
            if not (few and engine.delete_few(ZSCORE, prefix, end, exact)):
                engine.delete_range(ZSCORE, prefix, end)
        if size >= Compactor.THRESHOLD:
            compactor = self.store.compactor
            compactor.schedule(DATA, prefix, end)
            if old_raw[0] == layout.ZSET:
                compactor.schedule(ZSCORE, prefix, end)

    def rename(self, key: bytes, raw: bytes, new_key: bytes, old_raw: bytes | None) -> None:
        """RENAME ``key`` (live, metadata ``raw``) to ``new_key`` of this db (physically
        ``old_raw``, which is replaced and, if a collection, dropped). O(1): the value's
        sub-keys are addressed by its version, which the metadata keeps."""
        self.remove(key, raw, keep_data=True)
        self.replace(new_key, raw, old_raw)

    def delete(self, key: bytes) -> bool:
        """DEL semantics: remove a live key; an expired one is cleaned up and counts as 0."""
        raw = self.raw(key)
        if raw is None:
            return False
        live = self.is_live(raw)
        if not live:
            self.lazy_expired += 1
        self.remove(key, raw)
        return live

    def set_expire(self, key: bytes, raw: bytes, expire_ms: int) -> None:
        """Change the expiry of a live key (0 removes it)."""
        self.replace(key, layout.with_expire(raw, expire_ms), raw)

    def new_version(self) -> int:
        """A fresh collection id whose home is this db (``layout.Versions``)."""
        return self.store.versions.next(self.index)

    def move_here(self, src: Database, key: bytes, raw: bytes, old_raw: bytes | None) -> None:
        """MOVE ``key`` (live in ``src``, metadata ``raw``) to this db, where it is physically
        ``old_raw``. A collection keeps its sub-keys under its home db (O(1)): only the
        metadata moves, and the ``moved:`` registry says where it went (``layout``)."""
        version = U64.unpack_from(raw, 9)[0]
        src.remove(key, raw, keep_data=True)
        home = layout.home_of(version)
        if home == self.index:
            self.engine.delete(SYS, layout.moved_key(version))
        else:
            self.engine.put(SYS, layout.moved_key(version), layout.DB_BYTES[self.index])
        self.replace(key, raw, old_raw)

    def flush(self) -> None:
        """FLUSHDB: range-delete everything of this database: its own db byte except the
        sub-keys of collections moved out of it, and the sub-keys of collections moved in."""
        if self.on_removed is not None:
            self.on_removed(self.index, None)
        engine = self.engine
        start = self.prefix
        end = layout.DB_BYTES[self.index + 1] if self.index < 255 else b"\xff" * 9
        kept = []  # sub-key prefixes of this db byte that belong to collections moved out
        for entry, where in list(engine.iterate(SYS, layout.MOVED_PREFIX, layout.MOVED_END)):
            version = U64.unpack_from(entry, len(layout.MOVED_PREFIX))[0]
            prefix = layout.sub_prefix(where[0], version)
            if where[0] == self.index:  # moved in: goes with this db
                engine.delete(SYS, entry)
                for cf in (DATA, ZSCORE):
                    engine.delete_range(cf, prefix, layout.prefix_end(prefix))
            elif prefix[0] == self.index:
                kept.append(prefix)
        kept.sort()
        for cf in (META, DATA, ZSCORE, EXPIRE):
            lo = start
            for prefix in kept if cf in (DATA, ZSCORE) else ():
                engine.delete_range(cf, lo, prefix)
                lo = layout.prefix_end(prefix)
            engine.delete_range(cf, lo, end, drop_cached=(cf == META))
            if self.keys >= 1000:  # a big flush: get the space back soon (see Compactor)
                self.store.compactor.schedule(cf, start, end)
        if self.keys or self.expires:
            self.keys = self.expires = 0
            self.counts_dirty = True

    # --- iteration -------------------------------------------------------------------------
    def scan_keys(self, after: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """Yield ``(key, raw)`` of every stored key (live or not) in key order from ``after``."""
        prefix = self.prefix
        start = prefix + after
        end = layout.DB_BYTES[self.index + 1] if self.index < 255 else None
        n = len(prefix)
        for k, raw in self.engine.iterate(META, start, end):
            yield k[n:], raw

    def expire_slice(self, limit: int) -> int:
        """Active expiry: remove up to ``limit`` keys whose time has passed. Returns how many.

        Walks the ``expire`` index (ordered by time) up to now. An index entry that no longer
        matches the key's metadata (cannot happen through ``replace``/``remove``, but a crash
        in an older format or a bug must not leave it blocking the head of the index forever)
        is dropped as well."""
        if not self.expires:
            return 0
        now = int(time.time() * 1000)
        # Each slice deletes the head of the index, and the next seek from the db's start
        # would step over all those tombstones again (until a compaction drops them): ~1.4 ms
        # a seek after 40k expiries, a quadratic mass expiry. So a slice starts just after the
        # last one's last victim (``expire_from``), and from the db's start once a slice finds
        # nothing (caught up) or a TTL at or below it was set (``replace``).
        start = self.expire_from
        if start is None or start[:1] != self.prefix:
            start = self.prefix
        end = self.prefix + U64.pack(now + 1)
        victims = []
        for k, _ in self.engine.iterate(EXPIRE, start, end):
            victims.append((k, k[9:]))
            if len(victims) >= limit:
                break
        self.expire_from = victims[-1][0] + b"\0" if victims else None
        removed = 0
        get = self.engine.get
        prefix = self.prefix
        on_expired = self.on_expired
        for index_key, key in victims:
            raw = get(META, prefix + key)  # self.raw, inline
            if raw is not None and raw[1:9] == index_key[1:9]:  # the same expiry time
                # is_live, inline (an indexed expiry is never 0)
                if U64.unpack_from(raw, 1)[0] <= time.time() * 1000:
                    self.remove(key, raw)
                    removed += 1
                    if on_expired is not None:
                        on_expired(self, key)
            else:
                self.engine.write_uncached(EXPIRE, index_key, None)
        return removed


def copy_value(src: Database, key: bytes, raw: bytes, dst: Database, dst_key: bytes,
               expire_ms: int) -> bytes:
    """Copy the value of ``key`` (metadata ``raw`` in ``src``) to ``dst_key`` in ``dst``.

    Writes the sub-keys of a collection under a fresh version of the target and returns the
    target's new metadata (with ``expire_ms``), which the caller stores with ``dst.replace``.
    Generic over every type: a collection is metadata + ``data`` (and ``zscore``) sub-keys under
    ``sub_prefix(db, version)``, so copying re-prefixes each sub-key; strings are inline.
    O(number of sub-keys), one iterator per family. (RENAME within a db does not copy:
    ``Database.rename``.)
    """
    if raw[0] == layout.STRING:
        return raw[:1] + U64.pack(expire_ms) + raw[9:]
    engine = src.engine
    version = dst.new_version()
    old_prefix = layout.sub_prefix(src.index, U64.unpack_from(raw, 9)[0])
    new_prefix = layout.sub_prefix(dst.index, version)
    end = layout.prefix_end(old_prefix)
    n = len(old_prefix)
    families = (DATA, ZSCORE) if raw[0] == layout.ZSET else (DATA,)
    for cf in families:
        # Streaming is safe: the new prefix lies outside the range read, and the iterator
        # snapshots the pending overlay before the first put.
        for sub, value in engine.iterate(cf, old_prefix, end):
            engine.put(cf, new_prefix + sub[n:], value)
    return raw[:1] + U64.pack(expire_ms) + U64.pack(version) + raw[17:]


from collections.abc import Callable, Iterator  # noqa: E402  (used in annotations only)
