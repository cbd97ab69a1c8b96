"""Refused writes and recovery from them (docs/reliability.md, "Disk full").

A mixin of ``ledis.storage.engine.Engine``. RocksDB stops taking writes after a failed WAL
append (ENOSPC) and answers "Writer has previous error" until it is reopened; rocksdict has
no ``DB::Resume``. ``_write_failed`` (``Engine.commit`` calls it) records the refusal and
drops the overlay; ``recover`` (the server's cron calls it) reopens the store once the file
system has room and proves it writable with a synced probe write. Acknowledged writes are in
the WAL, which the reopen replays.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from ledis.storage.layout import NUM_CF, SYS

log = logging.getLogger("ledis.storage")


class WriteRecovery:
    # Set while RocksDB refuses writes (the text of its last refusal); None when writable.
    write_error: str | None = None
    write_errors = 0  # refused commits since start
    write_recoveries = 0  # times recover() made the store writable again
    write_error_since = 0.0  # time.time() of the first refusal of the current error
    # Told True when the store starts refusing writes, False when it takes them again (the
    # core gates write commands on it: ledis/core.py ``store_refusing``).
    on_write_status: Callable[[bool], None] | None = None

    # the engine's, which this mixin uses
    path: str
    db: Any
    fsync: str
    writes: int
    _clean_at: int
    _closed: bool
    _cfs: list
    _handles: list
    _seekers: list
    _sync_opts: Any
    after_rollback: list[Callable[[], None]]
    log_seq: int
    log_first_seq: int

    def _open(self) -> None:
        raise NotImplementedError

    def _new_batch(self) -> Any:
        raise NotImplementedError

    def _last_log_seq(self) -> int:
        raise NotImplementedError

    def _first_log_seq(self) -> int:
        raise NotImplementedError

    def _drop_batch_state(self) -> None:
        raise NotImplementedError

    def set_fsync(self, policy: str) -> None:
        raise NotImplementedError

    def forget_kept(self, start: bytes = b"", end: bytes | None = None) -> None:
        raise NotImplementedError

    def clear_cache(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    @property
    def dirty(self) -> bool:
        raise NotImplementedError

    def _write_failed(self, exc: Exception) -> None:
        """A RocksDB write was refused: log it, enter the refusing-writes state and drop the
        overlay so reads see the disk again (commit raises CommitFailed after this)."""
        lost = self.writes - self._clean_at
        # str(exc), not exc: a kept log record (a test's log capture) must not hold the
        # traceback, whose frames hold the store handle and keep its LOCK after a close.
        log.error("RocksDB write failed, %d pending operations discarded: %s", lost, str(exc))
        if self.write_error is None:
            self.write_error_since = time.time()
            log.error("the store refuses writes; write commands are refused until a "
                      "write succeeds again (retried when the disk has room)")
        self.write_error = " ".join(str(exc).split())
        self.write_errors += 1
        if self.on_write_status is not None:
            self.on_write_status(True)
        # Reads must go back to what is on disk: forget the overlay, and the whole cache,
        # which was written through and also holds reads made under pending range deletes.
        self.rollback()

    def recover(self) -> bool:
        """Make a store that refused a write writable again, if the file system has room:
        close it, reopen it (RocksDB replays the WAL, so every acknowledged write is back) and
        prove it with a synced probe write. True when the store is writable. Call on the loop
        thread with nothing pending; cheap when the disk is still full (one statvfs)."""
        if self.write_error is None:
            return True
        if self._closed or self.dirty:
            return False
        if not self._has_room():
            return False
        log.warning("the disk has room again: reopening the store")
        policy = self.fsync
        self.set_fsync("no")  # the fsync thread must not touch the handle being replaced
        try:
            if getattr(self, "db", None) is not None:
                self._cfs = self._handles = []
                self._seekers = [None] * NUM_CF
                try:
                    self.db.close()
                except Exception as exc:  # noqa: BLE001 - "Writer has previous error"
                    log.info("closing the store in error: %s", str(exc))
                self.db = None
                # Handles still alive (a finished command's iterator awaiting collection, a
                # column family object) keep RocksDB's LOCK held by this process.
                gc.collect()
            try:
                self._open()
            except Exception as exc:  # noqa: BLE001 - still no room, or lock still held
                self.db = None
                log.error("reopening the store failed (retried): %s", str(exc))
                return False
            try:  # a no-op delete, synced: the WAL takes writes again
                batch = self._new_batch()
                batch.delete(b"write-probe", self._handles[SYS])
                self.db.write(batch, self._sync_opts)
            except Exception as exc:  # noqa: BLE001
                self.write_error = " ".join(str(exc).split())
                log.error("the reopened store still refuses writes (retried): %s", str(exc))
                return False
        finally:
            self.set_fsync(policy)
        self.log_seq = self._last_log_seq()
        self.log_first_seq = self._first_log_seq()
        self._drop_batch_state()
        self.forget_kept()
        self.clear_cache()
        for hook in self.after_rollback:
            hook()
        log.warning("the store takes writes again after %.1f s",
                    time.time() - self.write_error_since)
        self.write_error = None
        self.write_recoveries += 1
        if self.on_write_status is not None:
            self.on_write_status(False)
        return True

    def _has_room(self) -> bool:
        """Enough free space to reopen: replaying the WAL writes it out as table files, so
        twice the WAL files' size, plus a few MB for a new WAL, MANIFEST and OPTIONS."""
        try:
            wal = sum(os.path.getsize(os.path.join(self.path, n))
                      for n in os.listdir(self.path) if n.endswith(".log"))
            st = os.statvfs(self.path)
        except OSError:
            return False
        return st.f_bavail * st.f_frsize >= 2 * wal + 2 * 1024 * 1024
