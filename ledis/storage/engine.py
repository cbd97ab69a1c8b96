"""The engine: with ``ledis/storage/rocks.py`` (which opens the store), the only module that
imports rocksdict.

It owns the RocksDB instance (raw bytes mode, one column family per role, see
``ledis.storage.layout``), and gives the layers above four things:

* **point reads** ``get(cf, key)`` through a bounded write-through cache (a plain dict per
  column family): a rocksdict call costs 0.6-1.7 us, a dict hit ~50 ns;
* **writes** ``put / delete / delete_range`` that go into the *pending overlay* of the current
  event-loop iteration (group commit, DESIGN.md section 6). Pending writes are visible at once
  to ``get`` (the cache is written through, and a miss looks in the overlay) and to
  ``iterate`` (merged from the overlay), so a command, a script or a MULTI/EXEC reads its own
  writes without anything reaching disk;
* **commit()**: builds one RocksDB WriteBatch from the overlay (range deletes, then each
  key's final value), adds the write-log record and whatever the ``before_commit`` hooks
  wrote, writes it once and syncs it when fsync is
  ``always``. The server calls it once per loop iteration before sending held replies;
  the embedded API after each call. When RocksDB refuses the write, the pending batch is
  discarded (overlay and cache forgotten, ``log_seq`` unchanged) and ``CommitFailed`` is
  raised: memory stays what is on disk, and the caller must not acknowledge the writes;
* **ordered iteration** ``iterate(cf, start, end, reverse)`` with one RocksDB iterator
  (seek + next), merged with the pending overlay (a sorted list of the pending keys, bisected
  per seek: ``ledis/storage/overlay.py``);
* **the write log**: every commit also puts one record in the ``log`` family, in the same
  WriteBatch, describing the batch's *effects* (puts, deletes, range deletes). Data and log
  can never disagree after a crash, and a replica replays effects, not commands, so random and
  time-dependent commands replay identically. Record layout::

      key   = seq(8)
      value = crc32(4) | msgpack([time_ms, ranges, writes])
      ranges = [[cf, start, end], ...]               range deletes, in the order they were made
      writes = {cf: {key: value or nil (delete)}}    the batch's final value of every key

  The record is built at commit from the pending overlay, so a key written many times in one
  batch is logged once. Replaying ``ranges`` first and then ``writes`` gives the batch's result,
  because a put that a later range delete covers is dropped from the overlay at that moment.
  ``decode_record`` turns a record back into ``(time_ms, [[op, cf, key, value?], ...])``
  with op 0 put, 1 delete, 2 delete_range(key, end).

  Old records are trimmed by count (``log_keep``) with one range delete.

**Faults** (docs/reliability.md). A refused write (a full disk) sets ``write_error`` and
``recover()`` reopens the store once there is room (``ledis/storage/recovery.py``). Reads
check block checksums and the store is opened with ``paranoid_checks``: a damaged block is a
RocksDB "Corruption" error, never wrong data. A store RocksDB cannot open raises
``StoreOpenError`` with its text.

Invariants: nothing but ``commit`` writes to RocksDB; the cache never holds a value that
differs from "RocksDB + pending" (``write_uncached`` leaves a pending key out of it: ``get``
looks in the overlay before RocksDB); range deletes drop cache entries only when asked (old
versions are unreachable by construction, so their stale cache entries are never read).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import zlib
from bisect import bisect_left
from collections.abc import Callable, Container, Iterator
from itertools import chain, islice
from typing import Any

import msgpack
import rocksdict

from ledis import malloc
from ledis.storage import layout, overlay, rocks
from ledis.storage.layout import CF_NAMES, LOG, NUM_CF, U64, ZSCORE
from ledis.storage.overlay import OverlayReads
from ledis.storage.recovery import WriteRecovery
from ledis.storage.savepoints import MISSING as _MISSING
from ledis.storage.savepoints import Savepoints

log = logging.getLogger("ledis.storage")


# Above this many pending keys in a family, a range delete finds the ones it covers in the
# sorted overlay (``OverlayReads._overlay_keys``) instead of testing each.
_RANGE_SCAN_MAX = 64

TRIM_CHUNK = 8192  # read-cache entries past the bound before a trim (Engine.commit)


class CommitFailed(RuntimeError):
    """RocksDB refused a commit's write. The pending batch was discarded (the engine reads
    what is on disk again) and ``log_seq`` did not advance; nothing of it may be acknowledged."""


# Above this many cached entries, a range delete that must drop its cached keys replaces the
# cache instead of scanning it (``Engine.delete_range``).
_CACHE_SCAN_MAX = 4096


def _free_slowly(mapping: dict) -> None:
    """Free a big dict that nothing else references, off the event loop. One ``clear()``
    would hold the GIL for the whole dealloc (~30 ms per 200k entries); a thread pops the
    entries in slices of 1,000 (~0.15 ms each) and sleeps between them, which hands the GIL
    back to the loop."""

    def run() -> None:
        pop = mapping.popitem
        while mapping:
            for _ in range(min(1000, len(mapping))):
                pop()
            time.sleep(0.001)

    threading.Thread(target=run, name="ledis-free", daemon=True).start()


class Engine(OverlayReads, Savepoints, WriteRecovery):

    def __init__(
        self,
        path: str,
        *,
        fsync: str = "everysec",
        block_cache_mb: int = 64,
        compression: str = "lz4",
        bottommost_compression: str = "",
        cache_entries: int = 200_000,
        write_buffer_mb: int = 8,  # measured: 8 MB memtables insert ~20% faster than 32 MB
        write_log: bool = True,
        log_keep: int = 1_000_000,
        mmap_threshold_kb: int = 128,  # glibc's, pinned (ledis/malloc.py); 0 = glibc's default
    ) -> None:
        self.path = path
        os.makedirs(path, exist_ok=True)
        malloc.set_thresholds(mmap_threshold_kb)
        self._opts = rocks.options(block_cache_mb, compression, write_buffer_mb,
                                   bottommost_compression)
        self._open()
        self._cache: list[dict[bytes, bytes | None]] = [{} for _ in range(NUM_CF)]
        self.cache_entries = cache_entries
        # Pending state of the current group commit (the WriteBatch is built at commit).
        self._pending: list[dict[bytes, bytes | None]] = [{} for _ in range(NUM_CF)]
        self._pending_ranges: list[list[tuple[bytes, bytes]]] = [[] for _ in range(NUM_CF)]
        # The pending keys of a family in order, built by the first ``iterate`` over a dirty
        # overlay and kept up to date by ``put`` / ``delete`` (see ``_overlay_keys``).
        self._sorted: list[list[bytes] | None] = [None] * NUM_CF
        self._clean_at = 0  # ``writes`` when the overlay was last empty (see ``dirty``)
        self.scratch: dict = {}  # see ``scratch`` below
        self.kept: dict = {}  # see ``kept`` below
        self._seekers: list[Any] = [None] * NUM_CF
        # Write log: effects of the pending batch, and the last committed sequence number.
        self.write_log = write_log
        self.log_keep = log_keep
        self.writes = 0  # operations made so far (lets a caller see whether it wrote)
        self.log_seq = self._last_log_seq()
        self.log_first_seq = self._first_log_seq()
        self.before_commit: list[Callable[[], None]] = []
        self.after_commit: list[Callable[[], None]] = []
        # Called after ``rollback`` (and so after a failed commit): state kept in memory beside
        # the overlay (the key counters, ledis/storage/keyspace.py) is read back from the store.
        self.after_rollback: list[Callable[[], None]] = []
        self.commits = 0
        # One reused Packer: msgpack.packb builds (and frees) a Packer and its buffer per call,
        # measured at ~6% of the server's time for SET at -P 1.
        self._pack = msgpack.Packer(use_bin_type=True).pack
        self.fsync = fsync
        self._write_opts = rocksdict.WriteOptions()
        self._sync_opts = rocksdict.WriteOptions()
        self._sync_opts.sync = True
        self._closed = False
        self._fsync_stop = threading.Event()
        self._fsync_thread: threading.Thread | None = None
        self.set_fsync(fsync)

    def _open(self) -> None:
        self.db: Any = rocks.open_db(self.path, self._opts)
        self._cfs: list[Any] = [self.db.get_column_family(name) for name in CF_NAMES]
        self._handles = [self.db.get_column_family_handle(name) for name in CF_NAMES]

    # --- fsync policy ---------------------------------------------------------------------
    def set_fsync(self, policy: str) -> None:
        if policy not in ("always", "everysec", "no"):
            raise ValueError(f"fsync policy must be always, everysec or no, not {policy!r}")
        self.fsync = policy
        if policy == "everysec" and self._fsync_thread is None:
            self._fsync_stop.clear()
            self._fsync_thread = threading.Thread(
                target=self._fsync_every_second, name="ledis-fsync", daemon=True
            )
            self._fsync_thread.start()
        elif policy != "everysec" and self._fsync_thread is not None:
            self._fsync_stop.set()
            self._fsync_thread.join()
            self._fsync_thread = None

    def _fsync_every_second(self) -> None:
        while not self._fsync_stop.wait(1.0):
            try:
                self.db.flush_wal(True)  # releases the GIL
            except Exception:  # closed under us during shutdown
                return

    # --- reads ----------------------------------------------------------------------------
    def get(self, cf: int, key: bytes) -> bytes | None:
        cache = self._cache[cf]
        value = cache.get(key, _MISSING)
        if value is _MISSING:
            ranges = self._pending_ranges[cf]
            if ranges and any(lo <= key < hi for lo, hi in ranges):
                # deleted by a pending range delete, unless written again since
                value = self._pending[cf].get(key)
            else:
                # pending and not cached: written by write_uncached (a dict miss, ~50 ns, on
                # the path of a RocksDB read, 0.6-1.7 us)
                value = self._pending[cf].get(key, _MISSING)
                if value is _MISSING:
                    value = self._cfs[cf].get(key)
            cache[key] = value  # type: ignore[assignment]
        return value  # type: ignore[return-value]

    def get_cached(self, cf: int, keys: list[bytes]) -> list[bytes] | None:
        """Values of ``keys`` when every one is cached and present, else None (no RocksDB
        read). Lets a range read of recently written keys skip the iterator (LRANGE)."""
        values = list(map(self._cache[cf].get, keys))
        # all(): a truth test per value (~5 ns); ``None in`` compares each with None (~13 ns)
        # and is only needed when some value is empty
        return values if all(values) or None not in values else None  # type: ignore

    # --- batch-scoped help for the layers above --------------------------------------------
    # ``scratch`` is memory the layers above keep for the current batch only (the zset rank
    # index's nodes, ledis/storage/types/zset_rank.py): it is emptied by ``commit``, ``rollback``,
    # a savepoint's ``rollback_to`` and ``recover``, so what it holds never outlives the
    # overlay it describes. A value may hold writes not yet made: its ``flush()`` makes them,
    # and the engine calls it before anything that must see them (commit, a savepoint, an
    # ordered read, a range delete), so the overlay is the whole truth wherever it is read.

    def _flush_scratch(self) -> None:
        for value in list(self.scratch.values()):
            value.flush()

    # ``kept`` is what a layer above knows of the store's structure across batches, keyed by
    # a collection's sub-key prefix (the zset rank index's sorted block lists): it is only
    # true while that layer makes every write to what it describes, so it is forgotten on
    # ``rollback``, ``rollback_to``, ``recover``, a range delete over the prefix, and by
    # whoever writes sub-keys past that layer (``forget_kept``: the replica's apply and full
    # sync). Bounded: ``KEPT_MAX`` prefixes, the oldest dropped first.
    KEPT_MAX = 64

    def keep(self, prefix: bytes) -> dict:
        """The kept dict of ``prefix`` (created empty), which the caller fills and updates."""
        kept = self.kept
        found = kept.get(prefix)
        if found is None:
            if len(kept) >= self.KEPT_MAX:
                kept.pop(next(iter(kept))).clear()
            found = kept[prefix] = {}
        return found

    def forget_kept(self, start: bytes = b"", end: bytes | None = None) -> None:
        """Forget what is kept for prefixes overlapping ``[start, end)`` (default: all)."""
        kept = self.kept
        for prefix in [p for p in kept if end is None or (
                start < layout.prefix_end(p) and p < end)]:
            kept.pop(prefix).clear()

    def seeker(self, cf: int) -> Any:
        """A raw RocksDB iterator over the committed store of ``cf`` (no overlay), reused
        until the next commit or rollback: the store does not change in between, and creating
        an iterator costs more than a seek. Callers ``seek`` it and read ``valid/key/value``;
        pending writes are theirs to merge."""
        it = self._seekers[cf]
        if it is None:
            it = self._seekers[cf] = self._cfs[cf].iter()
        return it

    def store_span(self, cf: int, start: bytes, end: bytes) -> Iterator[tuple[bytes, bytes]]:
        """The committed store's ``(key, value)`` in ``[start, end)`` through ``seeker`` (no
        overlay), read lazily: a caller that stops early leaves the iterator on the last key
        it took, never stepped past it (the seeker has no upper bound, and a step from a
        span's last key to the next live key skips every point tombstone in between). ~40 ns
        a walk more than the loop written inline, against a seek's 3-10 us."""
        it = self.seeker(cf)
        it.seek(start)
        while it.valid():
            key = it.key()
            if key >= end:
                return
            yield key, it.value()
            it.next()

    def store_items(self, cf: int, start: bytes, end: bytes) -> list[tuple[bytes, bytes]]:
        """The committed store's ``(key, value)`` in ``[start, end)`` (no overlay), walked in
        Rust (about half the cost per item of a Python loop over an iterator)."""
        ro = rocksdict.ReadOptions()
        ro.set_iterate_upper_bound(end)
        return list(self._cfs[cf].items(from_key=start, read_opt=ro))

    def store_iter(self, cf: int) -> Any:
        """A fresh raw iterator over the committed store of ``cf`` (see ``seeker``)."""
        return self._cfs[cf].iter()

    def _drop_batch_state(self) -> None:
        if self.scratch:
            self.scratch = {}
        self._seekers = [None] * NUM_CF

    def iterate(
        self,
        cf: int,
        start: bytes,
        end: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield ``(key, value)`` for ``start <= key < end`` in order (or reverse order),
        RocksDB merged with this iteration's pending writes."""
        if self.scratch:
            self._flush_scratch()
        pending = self._pending[cf]
        ranges = self._pending_ranges[cf]
        base = self._iterate_store(cf, start, end, reverse)
        if not pending and not ranges:
            return base
        return self._merge(base, cf, start, end, reverse)

    def walk(self, cf: int, start: bytes, end: bytes | None = None, reverse: bool = False
             ) -> Iterator[tuple[bytes, bytes]]:
        """``iterate``, pinned now: the walk shows what RocksDB and the pending overlay hold
        at this call, however slowly it is consumed and whatever is written meanwhile (a
        streamed reply, ``ledis.replies.Stream``). Taking the first item creates the RocksDB
        iterator, whose implicit snapshot fixes the stored side, and makes ``_merge`` copy
        the overlay's window (pending writes that a later commit puts under the snapshot).
        Only where ``pinned_walks`` (the memory backend walks the live map)."""
        walk = self.iterate(cf, start, end, reverse)
        first = next(walk, None)
        return iter(()) if first is None else chain((first,), walk)

    # Whether ``walk`` really pins its view (RocksDB iterators do; see MemoryEngine).
    pinned_walks = True

    def _iterate_store(
        self, cf: int, start: bytes, end: bytes | None, reverse: bool
    ) -> Iterator[tuple[bytes, bytes]]:
        ro = rocksdict.ReadOptions()
        if end is not None:
            ro.set_iterate_upper_bound(end)
        if not reverse:
            # A raw iterator, not items() (which walks in Rust, ~20% less per element): items()
            # ends quietly when RocksDB reports an error (a block checksum mismatch), and a
            # SCAN must fail, not return part of the keys; status() says why a walk ended.
            it = self._cfs[cf].iter(ro)
            it.seek(start)
            valid, key, value, step = it.valid, it.key, it.value, it.next
            while valid():
                yield key(), value()
                step()
            it.status()  # raises RocksDB's error, if the walk ended on one
            return
        it = self._cfs[cf].iter(ro)
        if end is None:
            it.seek_to_last()
        else:
            it.seek_for_prev(end)
            if it.valid() and it.key() >= end:
                it.prev()
        while it.valid():
            key = it.key()
            if key < start:
                return
            yield key, it.value()
            it.prev()
        it.status()  # the walk ended on an error (see above), not at the first key

    def range_reader(self, cf: int) -> Callable[[bytes, bytes], Iterator[tuple[bytes, bytes]]]:
        """``read(start, end)`` over ``cf`` for a walk over many small ranges in key order (the
        offline dump: every collection's sub-keys): one RocksDB iterator, positioned by a seek
        per range, instead of an iterator per range (2x the cost for small collections).
        Reads the store only: with pending writes it falls back to ``iterate``."""
        if self._pending[cf] or self._pending_ranges[cf]:
            return lambda start, end: self.iterate(cf, start, end)
        it = self._cfs[cf].iter(rocksdict.ReadOptions())

        def read(start: bytes, end: bytes) -> Iterator[tuple[bytes, bytes]]:
            it.seek(start)
            valid, key, value, step = it.valid, it.key, it.value, it.next
            while valid():
                k = key()
                if k >= end:
                    return
                yield k, value()
                step()
            it.status()

        return read

    # --- writes (pending until commit) -----------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Whether anything is pending (a write since the last commit)."""
        return self.writes != self._clean_at

    def put(self, cf: int, key: bytes, value: bytes) -> None:
        pending = self._pending[cf]
        keys = self._sorted[cf]
        if keys is not None and key not in pending:
            self._keep_sorted(cf, keys, key)
        pending[key] = value
        self._cache[cf][key] = value
        self.writes += 1

    def delete(self, cf: int, key: bytes) -> None:
        pending = self._pending[cf]
        keys = self._sorted[cf]
        if keys is not None and key not in pending:
            self._keep_sorted(cf, keys, key)
        pending[key] = None
        self._cache[cf][key] = None
        self.writes += 1

    def write_uncached(self, cf: int, key: bytes, value: bytes | None) -> None:
        """``put`` (``delete`` when ``value`` is None) of a key that point reads do not ask
        for: the score index's member entries (written twice per ZADD of a moved member) and
        the expiry index's (twice per TTL change), which only ordered reads walk. The cache is
        updated only when it holds the key, so these writes neither grow it (a new key in a
        200k-entry dict is a CPU cache miss, and every 50k of them a trim) nor push out what
        reads use; ``get`` finds them in the overlay until commit."""
        pending = self._pending[cf]
        keys = self._sorted[cf]
        if keys is not None and key not in pending:
            self._keep_sorted(cf, keys, key)
        pending[key] = value
        cache = self._cache[cf]
        if key in cache:
            cache[key] = value
        self.writes += 1

    def delete_range(self, cf: int, start: bytes, end: bytes, drop_cached: bool = False) -> None:
        """Delete ``start <= key < end``. ``drop_cached`` also forgets cached keys in the
        range (needed when the keys could be read again, e.g. FLUSHDB of metadata)."""
        if self.scratch:
            self._flush_scratch()
        if self.kept and cf == ZSCORE:
            self.forget_kept(start, end)
        pending = self._pending[cf]
        if len(pending) > _RANGE_SCAN_MAX and (
                self._sorted[cf] is not None or len(pending) < overlay.SORTED_MAX):
            # Many pending keys (a pipelined burst of scripts whose hashes expired, each
            # retiring its old version with a range delete): testing every pending key per
            # range delete made a group commit quadratic (ratelimit EVALSHA -P 16, issue
            # #19). The sorted overlay finds the keys in the range by bisection instead.
            keys = self._overlay_keys(cf)
            lo = bisect_left(keys, start)
            hi = bisect_left(keys, end, lo)
            for key in keys[lo:hi]:
                del pending[key]
            del keys[lo:hi]
        else:
            for key in [k for k in pending if start <= k < end]:
                del pending[key]
            self._sorted[cf] = None
        self._pending_ranges[cf].append((start, end))
        self.writes += 1
        if drop_cached:
            cache = self._cache[cf]
            if len(cache) <= _CACHE_SCAN_MAX:
                for key in [k for k in cache if start <= k < end]:
                    del cache[key]
            else:
                # FLUSHDB after a fill: testing each of up to ``cache_entries`` keys in Python
                # stalled every client ~100 ms (stall probe, issue #19). An entry is only a copy
                # of what RocksDB or the pending overlay holds, so start a new cache holding the
                # pending writes (those in the range are gone from it already), which RocksDB
                # does not have yet; the rest is read again on demand. Freeing the old one
                # takes ~30 ms per 200k entries: a thread does it (_free_slowly).
                self._cache[cf] = dict(pending)
                _free_slowly(cache)

    # Up to this many keys, ``delete_few`` deletes a range key by key. A range tombstone in a
    # memtable costs the reads of its family, not the write: after each write that adds one,
    # RocksDB rebuilds its fragmented list of the memtable's range tombstones at the family's
    # next read or iterator, O(tombstones in the memtable): 0.1 ms at 1k, 1 ms at 10k, 6.5 ms
    # at 50k (docs/PERFORMANCE.md, "Range tombstones"). Retiring every small hash, set, list
    # or zset that way (DEL, expiry, overwrite) made it grow until the memtable flushed.
    # The memory backend has no tombstones: 0 there.
    FEW_KEYS = 128

    def delete_few(self, cf: int, start: bytes, end: bytes, count: int | None = None) -> bool:
        """Delete the keys of ``[start, end)`` one by one (point tombstones) when there are at
        most ``FEW_KEYS`` of them, stored or pending, and return True; otherwise write nothing
        and return False, and the caller deletes the range (``delete_range``).

        ``count``: how many live keys the span holds, when the caller knows it exactly (a
        hash's, set's or list's size). The walk then uses the batch's store iterator (no
        iterator to create: the cold seek is most of the cost) and stops at the last of them.
        It must not step past it: that iterator has no upper bound, and stepping from a span's
        last key to the next live key skips every point tombstone in between (collections
        deleted in reverse order of creation made each walk longer: 48 us a DEL at 20k).
        Without ``count``, a bounded iterator reads at most ``FEW_KEYS + 1`` keys."""
        limit = self.FEW_KEYS
        if not limit or (count is not None and count > limit):
            return False
        ranges = self._pending_ranges[cf]
        if count is None or self.scratch or (ranges and any(
                b > start and a < end for a, b in ranges)):
            found = [key for key, _ in islice(self.iterate(cf, start, end), limit + 1)]
            if len(found) > limit:
                return False
        else:
            # The span's live keys: stored and not deleted in this batch, or pending. With the
            # overlay sorted already (an ordered read of this batch), its window gives the
            # pending ones first. Otherwise the store goes first (inline, one seek), and when
            # that finds ``count`` (the common case: a collection written in an earlier
            # batch, which active expiry, DEL or an overwrite retires) no pending key can be
            # left in the span, so the overlay is not sorted for it (a sorted overlay makes
            # every later put of the batch pay an ``insort``); only a span that ends short
            # takes the rest from it.
            pending = self._pending[cf]
            get = pending.get
            keys = self._sorted[cf]
            found = []
            touched: Container[bytes] = ()
            if keys is not None:
                lo = bisect_left(keys, start)
                window = keys[lo:bisect_left(keys, end, lo)]
                found = [key for key in window if pending[key] is not None]
                touched = set(window)  # put (in found) or deleted already in this batch
            left = count - len(found)
            if left > 0:  # ``store_span``'s walk, inline: a generator per retire costs more
                it = self.seeker(cf)
                it.seek(start)
                while it.valid():
                    key = it.key()
                    if key >= end:
                        break
                    if key not in touched and get(key, _MISSING) is not None:
                        found.append(key)
                        left -= 1
                        if not left:
                            break  # on the span's last live key: never step past it
                    it.next()
                if left > 0 and keys is None and pending:  # keys only this batch has
                    keys = self._overlay_keys(cf)
                    lo = bisect_left(keys, start)
                    seen = set(found)
                    found.extend(key for key in keys[lo:bisect_left(keys, end, lo)]
                                 if pending[key] is not None and key not in seen)
        delete = self.delete  # the savepoint journal's, while one is open
        for key in found:
            delete(cf, key)
        return True

    def commit(self) -> None:
        """Write the pending batch (one RocksDB write) and reset the overlay.

        The WriteBatch is built here from the overlay, not operation by operation: range
        deletes first, in order, then the final value of every key written since (a put that
        a later range delete covered was dropped from the overlay then). A key written many
        times in one iteration (a hot counter) is written once: at -P 16, 800 SETs of one key
        became one put, and the per-operation batch call (~0.6 us) was the biggest single cost
        of a pipelined SET."""
        self._flush_scratch()
        if self.writes == self._clean_at:
            return
        for hook in self.before_commit:
            hook()
        batch = self._new_batch()
        handles = self._handles
        ranges = []
        for cf, cf_ranges in enumerate(self._pending_ranges):
            if cf_ranges:
                handle = handles[cf]
                for lo, hi in cf_ranges:
                    batch.delete_range(lo, hi, handle)
                    ranges.append([cf, lo, hi])
        writes = {}
        for cf, pending in enumerate(self._pending):
            if pending:
                handle = handles[cf]
                put = batch.put
                delete = batch.delete
                # In key order: RocksDB inserts a batch into the memtable's skip list in batch
                # order, starting each search from where the previous insert ended, so sorted
                # keys cost ~0.6 us less each than random ones on a 100k-key memtable for
                # ~0.2 us of sorting (SET of random keys in db.batch(), docs/PERFORMANCE.md).
                keys = self._sorted[cf]
                if keys is None or len(keys) != len(pending):
                    keys = sorted(pending)
                for key in keys:
                    value = pending[key]
                    if value is None:
                        delete(key, handle)
                    else:
                        put(key, value, handle)
                writes[cf] = pending
        # The overlay and the log counters change only once the write succeeded (issue #18):
        # a failed write must leave nothing in memory that says it happened.
        log_seq, log_first_seq = self.log_seq, self.log_first_seq
        if self.write_log and (ranges or writes):
            log_seq += 1
            body = self._pack((int(time.time() * 1000), ranges, writes))
            batch.put(U64.pack(log_seq), zlib.crc32(body).to_bytes(4, "big") + body,
                      handles[LOG])
            if log_seq - log_first_seq >= self.log_keep + 1000:
                log_first_seq = log_seq - self.log_keep
                batch.delete_range(U64.pack(0), U64.pack(log_first_seq), handles[LOG])
        try:
            self.db.write(batch, self._sync_opts if self.fsync == "always" else self._write_opts)
        except Exception as exc:
            self._write_failed(exc)
            raise CommitFailed(str(exc)) from exc
        self.log_seq, self.log_first_seq = log_seq, log_first_seq
        for cf_ranges in self._pending_ranges:
            cf_ranges.clear()
        for cf in writes:
            self._pending[cf] = {}
        self._sorted = [None] * NUM_CF
        self._clean_at = self.writes
        self._drop_batch_state()
        self.commits += 1
        # Trim a read cache to its bound, oldest entries first, once it is TRIM_CHUNK past it:
        # 2-3 ms a trim. A quarter of the cache at once (50k keys) held the loop ~10-13 ms;
        # the excess at every commit cost far more in all, each trim walking past the holes
        # the previous ones left at the dict's front (docs/PERFORMANCE.md, session 14).
        bound = self.cache_entries + TRIM_CHUNK
        for cache in self._cache:
            if len(cache) > bound:
                for key in list(islice(cache, len(cache) - self.cache_entries)):
                    del cache[key]
        for hook in self.after_commit:
            hook()

    def rollback(self) -> None:
        """Forget the pending batch instead of committing it (the Lua debugger's YES mode
        throws a debugged script's writes away, ledis/scripting/debugger.py). The read cache
        is emptied: it was written through and may hold values of the forgotten writes."""
        for pending in self._pending:
            pending.clear()
        for ranges in self._pending_ranges:
            ranges.clear()
        self._sorted = [None] * NUM_CF
        self._clean_at = self.writes
        self._drop_batch_state()
        self.forget_kept()
        self.clear_cache()
        for hook in self.after_rollback:
            hook()

    def _new_batch(self):  # the memory backend (ledis/storage/memory.py) overrides this
        return rocksdict.WriteBatch(raw_mode=True)

    def clear_cache(self) -> None:
        for cache in self._cache:
            cache.clear()

    def cached_entries(self) -> int:
        """How many keys the read cache holds, over all families (MEMORY STATS): it is
        bounded by ``cache_entries`` per family, and fills as distinct keys are touched."""
        return sum(len(cache) for cache in self._cache)

    # --- the write log --------------------------------------------------------------------
    def _last_log_seq(self) -> int:
        it = self._cfs[LOG].iter()
        it.seek_to_last()
        return U64.unpack(it.key())[0] if it.valid() else 0

    def _first_log_seq(self) -> int:
        it = self._cfs[LOG].iter()
        it.seek_to_first()
        return U64.unpack(it.key())[0] if it.valid() else self.log_seq + 1

    def log_records(self, after: int) -> Iterator[tuple[int, int, list]]:
        """Committed log records with seq > ``after``: ``(seq, time_ms, effects)``.
        Raises ValueError on a record whose CRC does not match."""
        for key, value in self._iterate_store(LOG, U64.pack(after + 1), None, False):
            seq = U64.unpack(key)[0]
            ts, effects = decode_record(value, seq)
            yield seq, ts, effects

    # --- whole-store helpers -----------------------------------------------------------------
    def count(self, cf: int, start: bytes, end: bytes) -> int:
        return sum(1 for _ in self.iterate(cf, start, end))

    def snapshot(self) -> rocksdict.Snapshot:
        self.commit()
        return self.db.snapshot()

    def property(self, name: str) -> str | None:
        return self.db.property_value(name)

    def property_int(self, cf: int, name: str) -> int:
        value = self._cfs[cf].property_int_value(name)
        return int(value or 0)

    def flush_wal(self) -> None:
        self.db.flush_wal(True)

    def checkpoint(self, path: str) -> None:
        """A RocksDB checkpoint of everything committed, in ``path`` (which must not exist):
        SST files are hard-linked, so it is cheap; RocksDB flushes the memtables first.
        Commit the pending batch (on the loop thread) before calling this from another
        thread; safe to run concurrently with commits."""
        checkpoint = rocksdict.Checkpoint(self.db)
        try:
            checkpoint.create_checkpoint(path)
        finally:
            del checkpoint  # a live handle keeps the store locked at close

    def close(self) -> None:
        if self._closed:
            return
        if getattr(self, "db", None) is None:  # a reopen after a refused write failed
            self.set_fsync("no")
            self._closed = True
            return
        try:
            self.commit()
            self.set_fsync("no")
            self._closed = True
            self.db.flush_wal(True)
        except Exception as exc:  # noqa: BLE001 - any RocksDB error: close what can be closed
            # A store that refused a write stays in error ("Writer has previous error"): the
            # shutdown still closes it (what was committed is in the WAL) instead of hanging.
            log.error("closing a store in error, pending writes lost: %s", exc)
            self.set_fsync("no")
            self._closed = True
        del self._cfs, self._handles
        self._drop_batch_state()
        try:
            self.db.close()
        except Exception as exc:  # noqa: BLE001 - a store in error reports it again here
            log.error("closing the store: %s", exc)


def decode_record(record: bytes, seq: int = 0) -> tuple[int, list[list]]:
    """``(time_ms, effects)`` of a stored log record, effects as ``[op, cf, key, value?]``
    (0 put, 1 delete, 2 delete_range(key, end)) in replay order. Raises ValueError when the
    CRC does not match."""
    body = record[4:]
    if zlib.crc32(body).to_bytes(4, "big") != record[:4]:
        raise ValueError(f"write-log record {seq} is corrupt")
    ts, ranges, writes = msgpack.unpackb(body, raw=False, use_list=True, strict_map_key=False)
    effects: list[list] = [[2, cf, lo, hi] for cf, lo, hi in ranges]
    for cf, pending in writes.items():
        for key, value in pending.items():
            effects.append([1, cf, key] if value is None else [0, cf, key, value])
    return ts, effects
