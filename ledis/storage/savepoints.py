"""Savepoints of the engine's pending overlay (keyspace triggers, ledis/scripting/triggers.py).

A mixin of ``ledis.storage.engine.Engine``: it works on the engine's overlay (``_pending``,
``_pending_ranges``, ``_sorted``), read cache (``_cache``) and write count (``writes``).
"""

from __future__ import annotations

from typing import Any

from ledis.storage.layout import NUM_CF

MISSING = object()  # "no entry" in the overlay or the cache (a pending None is a delete)


class Savepoints:
    _pending: list[dict[bytes, bytes | None]]
    _pending_ranges: list[list[tuple[bytes, bytes]]]
    _cache: list[dict[bytes, bytes | None]]
    _sorted: list[Any]
    scratch: dict
    _journal: list[tuple]
    _journal_writes: int
    writes: int

    # the engine's overlay writes (ledis.storage.engine.Engine), which savepoint() shadows
    def put(self, cf: int, key: bytes, value: bytes) -> None:
        raise NotImplementedError

    def delete(self, cf: int, key: bytes) -> None:
        raise NotImplementedError

    def write_uncached(self, cf: int, key: bytes, value: bytes | None) -> None:
        raise NotImplementedError

    def delete_range(self, cf: int, start: bytes, end: bytes, drop_cached: bool = False) -> None:
        raise NotImplementedError

    def _flush_scratch(self) -> None:
        raise NotImplementedError

    def forget_kept(self, start: bytes = b"", end: bytes | None = None) -> None:
        raise NotImplementedError

    # A command's writes are all-or-nothing because a handler checks everything before its
    # first write; a trigger callback runs *after* the write that fired it, so when it fails
    # with on_error='abort' the firing write and the callback's writes must be taken back out
    # of the pending overlay. While a savepoint is open, put / delete / write_uncached /
    # delete_range are swapped (instance attributes shadowing the methods, so the ordinary
    # path costs nothing) for versions that journal what they overwrite: the pending entry
    # and the cached entry of each key, or for a range delete the pending and cached entries
    # it dropped. Rolling back replays the journal backwards. Savepoints nest (a position in
    # the journal); the journal ends when the outermost one is released. Nothing may commit
    # while one is open (``savepoint_open``).
    def savepoint(self) -> int:
        """Open a savepoint: the position to give ``rollback_to`` / ``release``."""
        if self.scratch:  # writes held for the batch (Engine.scratch) belong before it
            self._flush_scratch()
        journal: list[tuple] | None = self.__dict__.get("_journal")
        if journal is None:
            journal = []
            self._journal = journal
            self._journal_writes = self.writes
            self.put = self._put_journaled  # type: ignore[method-assign]
            self.delete = self._delete_journaled  # type: ignore[method-assign]
            self.write_uncached = self._write_uncached_journaled  # type: ignore[method-assign]
            self.delete_range = self._delete_range_journaled  # type: ignore[method-assign]
        journal.append(("mark", self.writes))
        return len(journal) - 1

    @property
    def savepoint_open(self) -> bool:
        return "_journal" in self.__dict__

    def release(self, position: int) -> None:
        """Keep the writes made since ``position``; the outermost release ends journaling."""
        if position == 0:
            self._end_journal()

    def rollback_to(self, position: int) -> None:
        """Undo every write made since ``position`` (which stays open until released)."""
        journal = self._journal
        pending, cache, ranges = self._pending, self._cache, self._pending_ranges
        self._sorted = [None] * NUM_CF
        self.scratch = {}  # it may describe writes being undone (Engine.scratch)
        self.forget_kept()  # so may what is kept across batches (Engine.kept)
        while len(journal) > position + 1:
            entry = journal.pop()
            if entry[0] == "key":
                _, cf, key, old_pending, old_cached = entry
                if old_pending is MISSING:
                    pending[cf].pop(key, None)
                else:
                    pending[cf][key] = old_pending
                if old_cached is MISSING:
                    cache[cf].pop(key, None)
                else:
                    cache[cf][key] = old_cached
            else:  # "range"
                _, cf, n_ranges, dropped_pending, dropped_cached = entry
                del ranges[cf][n_ranges:]
                pending[cf].update(dropped_pending)
                cache[cf].update(dropped_cached)
        self.writes = journal[position][1]

    def _end_journal(self) -> None:
        self.__dict__.pop("_journal", None)
        for name in ("put", "delete", "write_uncached", "delete_range"):
            self.__dict__.pop(name, None)

    def _journal_key(self, cf: int, key: bytes) -> None:
        self._journal.append(("key", cf, key, self._pending[cf].get(key, MISSING),
                              self._cache[cf].get(key, MISSING)))

    def _put_journaled(self, cf: int, key: bytes, value: bytes) -> None:
        self._journal_key(cf, key)
        type(self).put(self, cf, key, value)

    def _delete_journaled(self, cf: int, key: bytes) -> None:
        self._journal_key(cf, key)
        type(self).delete(self, cf, key)

    def _write_uncached_journaled(self, cf: int, key: bytes, value: bytes | None) -> None:
        self._journal_key(cf, key)
        type(self).write_uncached(self, cf, key, value)

    def _delete_range_journaled(self, cf: int, start: bytes, end: bytes,
                                drop_cached: bool = False) -> None:
        pending = self._pending[cf]
        dropped_pending = {k: v for k, v in pending.items() if start <= k < end}
        # Without drop_cached the cache keeps its entries (never read again, see the module
        # invariants), so only the pending entries and explicitly dropped ones come back.
        dropped_cached = ({k: v for k, v in self._cache[cf].items() if start <= k < end}
                          if drop_cached else {})
        self._journal.append(("range", cf, len(self._pending_ranges[cf]), dropped_pending,
                              dropped_cached))
        type(self).delete_range(self, cf, start, end, drop_cached)
