"""The store's disk-format version, and the migration of older formats at open.

``sys`` ``format`` (``layout.FORMAT_KEY``, U64) names the layout a store is written in
(``layout.FORMAT_VERSION`` is the one this code writes). At open, ``ensure_format``:

* a new, empty store gets the current format;
* the current format: nothing to do;
* a newer format: ``StoreFormatError`` (this ledis would misread it); the server refuses to
  start with that message;
* format 1 (no ``format`` key but keys stored, or ``1``): migrated in place, before any
  client or replica is served;
* format 2: recorded as 3 (format 2's sub-keys are valid format 3, ``layout``); nothing moves
  and the replication history goes on.

**Format 1 -> 2** moves every collection's sub-keys from ``db | len(key) | key | version`` to
``db | version``. Each collection gets a fresh version from the store's counter, so ids are
unique whatever the old versions were (two keys of a db may share a version in format 1; in
format 2 they would share their sub-keys). The work goes in bounded batches of ``BATCH``
operations (a 10M-field hash is many batches); each batch also writes the progress marker
``sys`` ``migrate:1to2`` = ``U64(version in progress) | meta key``:

* the collections whose metadata key sorts before the marker's key are migrated; the marker's
  key itself is not yet (its metadata still names the old version);
* a version in progress (non-zero) has some sub-keys copied under the new prefix already:
  after a crash the copy is range-deleted and that collection is redone from its start with a
  new version. A collection's last batch writes its new metadata, range-deletes its old
  sub-keys and moves the marker past it, so there is no state in which both or neither copy
  is the one the metadata names.

The fresh versions are format 3's (flagged with their home db, ``layout``), so the final
batch writes ``format`` = 3 and deletes the marker. Old-layout sub-keys that no
metadata named (orphans, which ``ledis check`` reports in either format) are left where they
are; ``ledis repair`` range-deletes them. Old and new prefixes cannot overlap in practice:
old sub-keys continue the db byte with a 4-byte key length (first byte 0 for keys under
16 MB, at most 0x20 for the 512 MB limit) and new ones with a version whose first byte is
the time in microseconds shifted by 11 (0x30 and above since 2022).

Progress is logged (collections and sub-keys done, rate) every ``LOG_EVERY`` seconds, so a
big migration shows it is moving; it needs no more memory than one batch.

**Replication.** The migration is local: its batches are not write-log records, and the
fresh ids differ from those a replica's own migration picks, so the store cannot continue its
replication history (effects are physical: a replica would apply the master's sub-keys under
ids its metadata does not name). The final batch drops the replication ids and position
(``repl:id``, ``repl:id2``, ``repl:off2``, ``repl:applied``; named here, not imported, since
storage sits below replication): the server starts a new history, and its replicas resync in
full. A replica must run the same format as its master (``ReplicaLink`` refuses a full sync
in another one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ledis import errors
from ledis.storage import layout
from ledis.storage.layout import DATA, META, SYS, U32, U64, ZSCORE

log = logging.getLogger("ledis.storage")

MIGRATE_KEY = b"migrate:1to2"
# ledis.replication's KEY_ID, KEY_ID2, KEY_OFF2, KEY_APPLIED: a migrated store starts a new
# replication history (see the module docstring)
_REPLICATION_STATE = (b"repl:id", b"repl:id2", b"repl:off2", b"repl:applied")
BATCH = 10_000  # operations per migration batch
LOG_EVERY = 2.0  # seconds between progress lines


class StoreFormatError(RuntimeError):
    """The store was written by a newer ledis, in a disk format this one does not know."""


def stored_format(engine) -> int | None:
    """The format recorded in ``sys``; None for a store that does not record one."""
    raw = engine.get(SYS, layout.FORMAT_KEY)
    return None if raw is None else U64.unpack(raw)[0]


def store_format(engine) -> int:
    """The format a store is written in: recorded, or 1 when it holds data without a record,
    or the current one for an empty store."""
    found = stored_format(engine)
    if found is not None:
        return found
    if next(iter(engine.iterate(META, b"")), None) is None and \
            next(iter(engine.iterate(DATA, b"")), None) is None:
        return layout.FORMAT_VERSION
    return 1


def ensure_format(engine, versions: layout.Versions,
                  on_progress: Callable[[int, int], None] | None = None) -> None:
    """Bring the store at ``engine`` to the current format (see the module docstring)."""
    found = store_format(engine)
    if found > layout.FORMAT_VERSION:
        raise StoreFormatError(errors.STORE_FORMAT_NEWER.format(found, layout.FORMAT_VERSION))
    logging_on = engine.write_log
    engine.write_log = False  # local: not part of any replication history
    try:
        if found == 1:
            migrate_1_to_2(engine, versions, on_progress)
        elif found == 2:  # format 2's data is format 3's (layout): only the record changes
            engine.put(SYS, layout.FORMAT_KEY, U64.pack(layout.FORMAT_VERSION))
            engine.commit()
        elif stored_format(engine) is None:  # a new store
            engine.put(SYS, layout.FORMAT_KEY, U64.pack(layout.FORMAT_VERSION))
            engine.commit()
    finally:
        engine.write_log = logging_on


def old_sub_prefix(db: int, key: bytes, version: bytes) -> bytes:
    """Format 1's sub-key prefix (``version`` packed)."""
    return layout.DB_BYTES[db] + U32.pack(len(key)) + key + version


class _Migration:
    """One run of the format 1 -> 2 migration (resumable, see the module docstring)."""

    def __init__(self, engine, versions: layout.Versions,
                 on_progress: Callable[[int, int], None] | None) -> None:
        self.engine = engine
        self.versions = versions
        self.on_progress = on_progress
        self.ops = 0  # operations in the pending batch
        self.collections = 0
        self.sub_keys = 0
        self.started = self.logged = time.monotonic()

    def commit(self, marker_key: bytes, version: int) -> None:
        engine = self.engine
        engine.put(SYS, MIGRATE_KEY, U64.pack(version) + marker_key)
        save = self.versions.floor_to_save()
        if save is not None:  # new ids are in this batch: they must never be issued again
            engine.put(SYS, layout.VERSION_FLOOR_KEY, U64.pack(save))
        engine.commit()
        self.ops = 0
        now = time.monotonic()
        if now - self.logged >= LOG_EVERY:
            self.logged = now
            rate = self.sub_keys / max(now - self.started, 1e-9)
            log.info("migrating the store to disk format 2: %d collections, %d sub-keys "
                     "(%.0f sub-keys/s)", self.collections, self.sub_keys, rate)
        if self.on_progress is not None:
            self.on_progress(self.collections, self.sub_keys)

    def resume(self) -> bytes:
        """The meta key to start from, after undoing a collection left half-copied."""
        marker = self.engine.get(SYS, MIGRATE_KEY)
        if marker is None:
            return b""
        version, mkey = U64.unpack_from(marker)[0], marker[8:]
        if version:
            prefix = layout.sub_prefix(mkey[0], version)
            end = layout.prefix_end(prefix)
            self.engine.delete_range(DATA, prefix, end)
            self.engine.delete_range(ZSCORE, prefix, end)
            self.engine.commit()
        log.info("resuming the migration to disk format 2 interrupted before %r", mkey)
        return mkey

    def run(self) -> None:
        engine = self.engine
        start = self.resume()
        while True:
            # a list per round: the iterator is not kept across the commits below
            chunk = [(k, v) for k, v in _take(engine.iterate(META, start), 1000)]
            if not chunk:
                break
            for mkey, raw in chunk:
                if raw and raw[0] != layout.STRING and len(raw) >= 25:
                    self.migrate_collection(mkey, raw)
            start = chunk[-1][0] + b"\0"
        engine.delete(SYS, MIGRATE_KEY)
        for name in _REPLICATION_STATE:
            engine.delete(SYS, name)
        engine.put(SYS, layout.FORMAT_KEY, U64.pack(layout.FORMAT_VERSION))
        save = self.versions.floor_to_save()
        if save is not None:
            engine.put(SYS, layout.VERSION_FLOOR_KEY, U64.pack(save))
        engine.commit()

    def migrate_collection(self, mkey: bytes, raw: bytes) -> None:
        engine = self.engine
        old = old_sub_prefix(mkey[0], mkey[1:], raw[9:17])
        end = layout.prefix_end(old)
        n = len(old)
        version = self.versions.next(mkey[0])
        new = layout.sub_prefix(mkey[0], version)
        families = (DATA, ZSCORE) if raw[0] == layout.ZSET else (DATA,)
        for cf in families:
            cursor = old
            while True:
                rows = list(_take(engine.iterate(cf, cursor, end), BATCH))
                for sub, value in rows:
                    engine.put(cf, new + sub[n:], value)
                self.ops += len(rows)
                self.sub_keys += len(rows)
                if len(rows) < BATCH:
                    break
                cursor = rows[-1][0] + b"\0"
                self.commit(mkey, version)  # copied so far: redone after a crash
            engine.delete_range(cf, old, end)
        engine.put(META, mkey, raw[:9] + U64.pack(version) + raw[17:])
        self.ops += 1
        self.collections += 1
        if self.ops >= BATCH:
            self.commit(mkey + b"\0", 0)


def _take(iterator, n: int):
    for i, item in enumerate(iterator):
        if i >= n:
            return
        yield item


def migrate_1_to_2(engine, versions: layout.Versions,
                   on_progress: Callable[[int, int], None] | None = None) -> None:
    """Rewrite a format-1 store's sub-keys under ``db | version`` prefixes (resumable)."""
    log.info("the store is in disk format 1: migrating it to format 2 (collections re-keyed "
             "by id; resumable if interrupted)")
    migration = _Migration(engine, versions, on_progress)
    migration.run()
    log.info("migrated the store to disk format 2: %d collections, %d sub-keys in %.1f s",
             migration.collections, migration.sub_keys, time.monotonic() - migration.started)
