"""Reading the engine's pending overlay in key order: ``iterate``'s merge of a RocksDB walk
with this iteration's pending writes, and the sorted list of pending keys behind it.

A mixin of ``ledis.storage.engine.Engine`` (which keeps the RocksDB side: this module never
touches the store): it works on the engine's overlay (``_pending``: per column family, key ->
value or None for a delete; ``_pending_ranges``: the batch's range deletes) and on
``_sorted``, each family's pending keys in order or None until a seek needs them.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Any

# Past this many pending keys in one family, a put drops the family's sorted key list instead
# of inserting into it (see ``_overlay_keys``): an insort moves the tail of the list. Read as
# ``overlay.SORTED_MAX`` by the engine's range delete too (a test lowers it).
SORTED_MAX = 8192


class OverlayReads:
    _pending: list[dict[bytes, bytes | None]]
    _pending_ranges: list[list[tuple[bytes, bytes]]]
    _sorted: list[Any]

    def pending_in(self, cf: int, start: bytes, end: bytes
                   ) -> tuple[list[tuple[bytes, bytes | None]], bool]:
        """The pending writes of ``cf`` in ``[start, end)`` in key order (None: a delete), and
        whether a pending range delete overlaps the span (then the store's keys there may be
        gone: the caller must read through ``iterate``)."""
        covered = any(b > start and a < end for a, b in self._pending_ranges[cf])
        pending = self._pending[cf]
        if not pending:
            return [], covered
        keys = self._sorted[cf]
        if keys is None:  # a scan, not a sort of the whole family (``_overlay_keys``)
            return sorted((k, v) for k, v in pending.items() if start <= k < end), covered
        lo = bisect_left(keys, start)
        hi = bisect_left(keys, end, lo)
        return [(k, pending[k]) for k in keys[lo:hi]], covered

    def _overlay_keys(self, cf: int) -> list[bytes]:
        """The pending keys of ``cf`` in order (deleted ones included).

        Built lazily by the first iteration over a dirty overlay and then kept sorted by
        ``put`` / ``delete`` (``insort``: a bisect and a memmove), so a command that seeks
        many times while writing (a ZADD keeping the rank index, a script) pays
        O(log n + range) per seek instead of a scan and sort of the whole overlay. A range
        delete, a savepoint rollback and commit drop it; past ``SORTED_MAX`` keys a put drops
        it too (an insort's memmove grows with the list), and the next seek sorts again."""
        keys = self._sorted[cf]
        if keys is None:
            keys = sorted(self._pending[cf])
            self._sorted[cf] = keys
        return keys

    def _merge(
        self,
        base: Iterator[tuple[bytes, bytes]],
        cf: int,
        start: bytes,
        end: bytes | None,
        reverse: bool,
    ) -> Iterator[tuple[bytes, bytes]]:
        pending = self._pending[cf]
        keys = self._overlay_keys(cf)
        lo = bisect_left(keys, start)
        hi = len(keys) if end is None else bisect_left(keys, end, lo)
        # Snapshot the window and its values now, as the walk may be consumed while the
        # caller writes (the walk shows the overlay as it was when it started).
        window = keys[lo:hi]
        ranges = [(a, b) for a, b in self._pending_ranges[cf]
                  if b > start and (end is None or a < end)]
        if not window and not ranges:
            yield from base
            return
        values = list(map(pending.__getitem__, window))
        n = len(window)
        # Merge lazily, one stored key at a time: a caller that takes the first item (a
        # floor or ceiling lookup) must not pay for walking every stored key the overlay
        # shadows (a hot key rewritten in this batch is shadowed, and so skipped, here).
        if reverse:
            i = n - 1
            for key, value in base:
                while i >= 0 and window[i] >= key:
                    if values[i] is not None:
                        yield window[i], values[i]  # type: ignore[misc]
                    i -= 1
                j = bisect_left(window, key)
                if (j < n and window[j] == key) or (
                        ranges and any(a <= key < b for a, b in ranges)):
                    continue
                yield key, value
            while i >= 0:
                if values[i] is not None:
                    yield window[i], values[i]  # type: ignore[misc]
                i -= 1
            return
        i = 0
        for key, value in base:
            while i < n and window[i] <= key:
                if values[i] is not None:
                    yield window[i], values[i]  # type: ignore[misc]
                i += 1
            j = bisect_left(window, key)
            if (j < n and window[j] == key) or (
                    ranges and any(a <= key < b for a, b in ranges)):
                continue
            yield key, value
        while i < n:
            if values[i] is not None:
                yield window[i], values[i]  # type: ignore[misc]
            i += 1

    def _keep_sorted(self, cf: int, keys: list[bytes], key: bytes) -> None:
        if len(keys) < SORTED_MAX:
            insort(keys, key)
        else:
            self._sorted[cf] = None
