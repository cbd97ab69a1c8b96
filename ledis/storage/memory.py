"""The memory backend (``storage.backend: memory``): the engine interface over sorted dicts.

For caches and tests: everything lives in process memory, one ``sortedcontainers.SortedDict``
(an ordered map from a well-kept, pure-Python library) per column family, and is gone when
the process exits. :class:`MemoryEngine` subclasses :class:`~ledis.storage.engine.Engine` and
replaces only what touches RocksDB: the store itself, the write batch (a list of operations
applied at ``commit``), ordered iteration (``irange``), and the file operations. So the cache,
the pending overlay with read-your-writes, group commit and the write log (still written, so
replicas can tail a memory master incrementally) behave exactly as with RocksDB.

Not available (they need files): SAVE / BGSAVE checkpoints (an error), ``ledis dump --dir`` /
``check`` / ``repair`` (no directory) and persistence across restarts. A replication full sync
(and so ``ledis dump --snapshot``) works: ``_Family.iter`` copies the family when the sync
starts (memory: one more copy of the data while it runs). ``fsync`` policies are accepted and
mean nothing.

Iteration reads the live map in slices of ``SLICE`` keys (each slice copied), so a commit in
the middle of a long walk cannot break it; like a RocksDB iterator without a snapshot it may
then see the newer data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from itertools import islice

import msgpack
from sortedcontainers import SortedDict

from ledis.storage.engine import Engine
from ledis.storage.layout import NUM_CF

SLICE = 256
_HALF_OPEN = (True, False)


class _Family(SortedDict):
    """One column family. ``iter()`` mimics the part of a rocksdict iterator the replication
    full sync uses (seek_to_first / valid / key / value / next) over a copy taken when it is
    created, so, like RocksDB's implicit snapshot, later commits do not show through."""

    def iter(self, _read_options=None) -> _SnapshotIterator:
        return _SnapshotIterator(list(self.items()))


class _SnapshotIterator:
    __slots__ = ("items", "pos")

    def __init__(self, items: list) -> None:
        self.items = items
        self.pos = 0

    def seek_to_first(self) -> None:
        self.pos = 0

    def valid(self) -> bool:
        return self.pos < len(self.items)

    def key(self) -> bytes:
        return self.items[self.pos][0]

    def value(self) -> bytes:
        return self.items[self.pos][1]

    def next(self) -> None:
        self.pos += 1


class _LiveIterator:
    """``Engine.seeker`` / ``store_iter`` here: a cursor over the family itself (no copy), which
    is safe because those iterators are dropped at every commit, the only time a family
    changes. seek / seek_for_prev / valid / key / value / next / prev."""

    __slots__ = ("family", "pos")

    def __init__(self, family: _Family) -> None:
        self.family = family
        self.pos = 0

    def seek(self, key: bytes) -> None:
        self.pos = self.family.bisect_left(key)

    def seek_for_prev(self, key: bytes) -> None:
        self.pos = self.family.bisect_right(key) - 1

    def valid(self) -> bool:
        return 0 <= self.pos < len(self.family)

    def key(self) -> bytes:
        return self.family.peekitem(self.pos)[0]

    def value(self) -> bytes:
        return self.family.peekitem(self.pos)[1]

    def next(self) -> None:
        self.pos += 1

    def prev(self) -> None:
        self.pos -= 1


class _Batch:
    """A write batch: operations in order, applied by ``_MemoryDB.write``."""

    __slots__ = ("ops",)

    def __init__(self) -> None:
        self.ops: list[tuple] = []

    def put(self, key: bytes, value: bytes, cf: int) -> None:
        self.ops.append((0, cf, key, value))

    def delete(self, key: bytes, cf: int) -> None:
        self.ops.append((1, cf, key, None))

    def delete_range(self, start: bytes, end: bytes, cf: int) -> None:
        self.ops.append((2, cf, start, end))


class _MemoryDB:
    """Stands where ``rocksdict.Rdict`` is in the engine: ``write`` and ``flush_wal``."""

    def __init__(self, families: list[SortedDict]) -> None:
        self.families = families
        self.lock = threading.Lock()  # writes vs. a reader on another thread (dumps, tests)

    def write(self, batch: _Batch, _options=None) -> None:
        families = self.families
        with self.lock:
            for op, cf, key, value in batch.ops:
                family = families[cf]
                if op == 0:
                    family[key] = value
                elif op == 1:
                    family.pop(key, None)
                else:
                    for doomed in list(family.irange(key, value, _HALF_OPEN)):
                        del family[doomed]

    def flush_wal(self, _sync: bool = True) -> None:
        pass

    def close(self) -> None:
        pass


class MemoryEngine(Engine):
    FEW_KEYS = 0  # a deleted range costs later reads nothing here: one delete_range

    def __init__(self, path: str = ":memory:", *, fsync: str = "no", cache_entries: int = 200_000,
                 write_log: bool = True, log_keep: int = 1_000_000, **_ignored) -> None:
        self.path = path
        # Duck-typed stand-ins for what Engine declares with rocksdict's types: the store, its
        # families, the handles a batch takes (here the family's index) and the write options.
        self._cfs = [_Family() for _ in range(NUM_CF)]
        self.db = _MemoryDB(self._cfs)  # type: ignore[assignment]
        self._handles = list(range(NUM_CF))  # type: ignore[arg-type]
        self._cache = [{} for _ in range(NUM_CF)]
        self.cache_entries = cache_entries
        self._pending = [{} for _ in range(NUM_CF)]
        self._pending_ranges = [[] for _ in range(NUM_CF)]
        self._sorted = [None] * NUM_CF
        self.scratch = {}
        self.kept = {}
        self._seekers = [None] * NUM_CF
        self._clean_at = 0
        self.write_log = write_log
        self.log_keep = log_keep
        self.writes = 0
        self.log_seq = 0
        self.log_first_seq = 1
        self.before_commit = []
        self.after_commit = []
        self.after_rollback = []
        self.commits = 0
        self._pack = msgpack.Packer(use_bin_type=True).pack
        self.fsync = fsync
        self._write_opts = self._sync_opts = None  # type: ignore[assignment]
        self._closed = False
        self._fsync_stop = threading.Event()
        self._fsync_thread = None

    def seeker(self, cf: int) -> _LiveIterator:
        return _LiveIterator(self._cfs[cf])  # type: ignore[arg-type]  # a stand-in

    store_iter = seeker

    def store_items(self, cf: int, start: bytes, end: bytes) -> list[tuple[bytes, bytes]]:
        return list(self._iterate_store(cf, start, end, False))

    def _new_batch(self) -> _Batch:  # type: ignore[override]
        return _Batch()

    def set_fsync(self, policy: str) -> None:
        if policy not in ("always", "everysec", "no"):
            raise ValueError(f"fsync policy must be always, everysec or no, not {policy!r}")
        self.fsync = policy

    def range_reader(self, cf: int) -> Callable[[bytes, bytes], Iterator[tuple[bytes, bytes]]]:
        return lambda start, end: self.iterate(cf, start, end)  # no seekable iterator here

    # Walks read the live map in slices (above): a long reply is built at once instead of
    # being streamed (ledis.replies.Stream needs a pinned view).
    pinned_walks = False

    def _iterate_store(self, cf: int, start: bytes, end: bytes | None,
                       reverse: bool) -> Iterator[tuple[bytes, bytes]]:
        family: _Family = self._cfs[cf]  # type: ignore[assignment]  # a stand-in
        lock: threading.Lock = self.db.lock  # type: ignore[attr-defined]  # a _MemoryDB
        # Slices of SLICE keys under the lock; the next slice starts past the last key given.
        bound, inclusive = (end, False) if reverse else (start, True)
        while True:
            with lock:
                if reverse:
                    keys = family.irange(start, bound, (True, inclusive), reverse=True)
                else:
                    keys = family.irange(bound, end, (inclusive, False))
                items = [(k, family[k]) for k in islice(keys, SLICE)]
            if not items:
                return
            yield from items
            bound, inclusive = items[-1][0], False

    def snapshot(self):
        raise NotImplementedError("the memory backend has no snapshots")

    def property(self, name: str) -> str | None:
        return None

    def property_int(self, cf: int, name: str) -> int:
        return 0

    def checkpoint(self, path: str) -> None:
        raise NotImplementedError("checkpoints need a file-backed store (backend: rocksdb)")

    def flush_wal(self) -> None:
        pass

    def close(self) -> None:
        if self._closed:
            return
        self.commit()
        self._closed = True
