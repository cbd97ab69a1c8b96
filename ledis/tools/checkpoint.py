"""Checkpoints: SAVE / BGSAVE snapshots of the store, retention, and restoring one.

A checkpoint is a RocksDB checkpoint (``Engine.checkpoint``): a directory that is itself a
complete ledis data directory, made of hard links to the immutable SST files plus a copy of
the small MANIFEST/OPTIONS/WAL files, so it costs little space and time whatever the store
size. Checkpoints go to ``checkpoint_dir`` (default ``<dir>.checkpoints``, beside the data
directory), one sub-directory per checkpoint named by its store and its UTC time
(``data-1a2b3c4d-20261124-141500-123456``: the data directory's name and a hash of its absolute
path, so the names of one store sort by age). A checkpoint is created under ``<name>.tmp`` and
renamed when complete, so a crash never leaves a half checkpoint under a real name. After each
one, only the newest ``checkpoint_keep`` of *this store* are kept (0 keeps all): pruning deletes
only directories whose name carries this store's tag, so stores sharing a ``checkpoint_dir``
(or anything else an operator put there) are never touched.

Why beside the store and not inside it: ``restore-checkpoint`` moves the data directory aside
and copies a checkpoint in its place, so checkpoints inside it would move with it (restoring
one of them would read from a path that just disappeared), every restore would start with no
checkpoints, and RocksDB / ``ledis check`` would see foreign sub-directories in a store.
Why not a shared ``<dir>/../checkpoints`` (the old default): two stores in one parent folder
pruned each other's checkpoints.

``BGSAVE`` commits the pending batch on the loop thread, then runs the checkpoint on a
thread: clients keep being served (RocksDB flushes the memtable into an SST first, which is
the only real work). The checkpoint holds everything committed when it starts; unlike Redis's
fork it may include writes committed while it is being made (each write whole, never half).

``ledis restore-checkpoint PATH --dir DIR`` copies a checkpoint into DIR (server stopped;
an existing DIR is kept aside as ``DIR.old-<time>`` with ``--force``), then opens it to
check it and drops its replication id (``sys`` ``repl:*``): replicas may be ahead of the
restored history, so the restored server starts a new id and they resynchronise in full.
A checkpoint can also be used directly as a data dir (``ledis server --dir PATH``) or dumped
offline (``ledis dump --dir PATH``) while the server runs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import threading
import time
from datetime import UTC, datetime

log = logging.getLogger("ledis.checkpoint")

TIME_FORMAT = "%Y%m%d-%H%M%S-%f"


def checkpoint_root(config) -> str:
    """Where this store's checkpoints go: ``checkpoint_dir``, or ``<dir>.checkpoints``."""
    if config.checkpoint_dir:
        return os.path.abspath(config.checkpoint_dir)
    return os.path.abspath(config.dir) + ".checkpoints"


def store_tag(data_dir: str) -> str:
    """The prefix of this store's checkpoint names: ``<basename>-<8 hex of the absolute path>``.

    The basename is for the reader; the hash tells apart two stores with the same basename
    (``/a/data``, ``/b/data``) sharing one ``checkpoint_dir``. A store moved elsewhere gets a
    new tag: its old checkpoints are then kept, never deleted by mistake."""
    path = os.path.abspath(data_dir)
    digest = hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(path)) or "store"
    return f"{base}-{digest}"


def name_pattern(tag: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(tag)}-\d{{8}}-\d{{6}}-\d{{6}}$")


def list_checkpoints(root: str, tag: str) -> list[str]:
    """This store's complete checkpoints under ``root``, oldest first."""
    pattern = name_pattern(tag)
    try:
        names = sorted(n for n in os.listdir(root) if pattern.match(n))
    except FileNotFoundError:
        return []
    return [os.path.join(root, n) for n in names]


class Checkpointer:
    """One per server: runs SAVE / BGSAVE, keeps the status for LASTSAVE and INFO."""

    def __init__(self, core) -> None:
        self.core = core
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.scheduled = False
        self.last_path = ""
        self.last_status = "ok"
        self.last_error = ""
        self.last_duration = 0.0
        self.saves = 0
        self.started_at = 0.0
        hooks = getattr(core, "info_hooks", None)
        if isinstance(hooks, dict):
            hooks["persistence"] = self.info_fields

    def info_fields(self) -> list[tuple[str, object]]:
        """INFO persistence, Redis's rdb_* fields filled from checkpoints."""
        running = self.in_progress
        return [
            ("rdb_bgsave_in_progress", int(running)),
            ("rdb_last_save_time", self.core.lastsave),
            ("rdb_last_bgsave_status", self.last_status),
            ("rdb_last_bgsave_time_sec", round(self.last_duration) if self.saves else -1),
            ("rdb_current_bgsave_time_sec",
             round(time.monotonic() - self.started_at) if running else -1),
            ("rdb_saves", self.saves),
            ("ledis_last_checkpoint", self.last_path),
        ]

    @classmethod
    def of(cls, core) -> Checkpointer:
        found = getattr(core, "checkpointer", None)
        if found is None:
            found = cls(core)
            core.checkpointer = found
        return found

    @property
    def in_progress(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def save(self) -> str:
        """SAVE: a checkpoint now, on this thread. Returns its path; raises OSError/..."""
        self.core.engine.commit()
        return self._create()

    def bgsave(self) -> None:
        """BGSAVE: commit, then checkpoint on a thread."""
        self.core.engine.commit()
        self.thread = threading.Thread(target=self._background, name="ledis-bgsave",
                                       daemon=True)
        self.thread.start()

    def _background(self) -> None:
        while True:
            try:
                self._create()
            except Exception as exc:  # reported through the log and the status, like Redis
                log.error("background checkpoint failed: %s", exc)
            if not self.scheduled:  # BGSAVE SCHEDULE during this one: one more
                return
            self.scheduled = False

    def _create(self) -> str:
        started = self.started_at = time.monotonic()
        root = checkpoint_root(self.core.config)
        tag = store_tag(self.core.config.dir)
        with self.lock:
            try:
                os.makedirs(root, exist_ok=True)
                name = f"{tag}-{datetime.now(UTC).strftime(TIME_FORMAT)}"
                final = os.path.join(root, name)
                while os.path.exists(final):  # two in the same microsecond
                    time.sleep(0.000_001)
                    name = f"{tag}-{datetime.now(UTC).strftime(TIME_FORMAT)}"
                    final = os.path.join(root, name)
                tmp = final + ".tmp"
                shutil.rmtree(tmp, ignore_errors=True)
                self.core.engine.checkpoint(tmp)
                os.rename(tmp, final)
                self.prune(root, tag)
            except Exception as exc:
                self.last_status = "err"
                self.last_error = str(exc)
                raise
            self.last_status = "ok"
            self.last_path = final
            self.last_duration = time.monotonic() - started
            self.saves += 1
            self.core.lastsave = int(time.time())
        log.info("checkpoint %s written in %.3f s", final, self.last_duration)
        return final

    def prune(self, root: str, tag: str) -> list[str]:
        """Delete this store's checkpoints beyond the newest ``checkpoint_keep``; only names
        with ``tag`` are candidates, whatever else lives in ``root``."""
        keep = self.core.config.checkpoint_keep
        existing = list_checkpoints(root, tag)
        doomed = existing[:-keep] if keep and len(existing) > keep else []
        for path in doomed:
            shutil.rmtree(path, ignore_errors=True)
        return doomed


# --- `ledis restore-checkpoint` -------------------------------------------------------------
def run(args) -> int:
    from ledis.storage.engine import Engine
    from ledis.storage.rocks import StoreLockedError

    source = os.path.abspath(args.path)
    target = os.path.abspath(args.dir)
    if not os.path.exists(os.path.join(source, "CURRENT")):
        raise SystemExit(f"ledis: {source} is not a checkpoint (no CURRENT file)")
    if source == target:
        raise SystemExit("ledis: the checkpoint and the data directory are the same")
    if source.startswith(target + os.sep):
        # moving DIR aside would move the checkpoint with it (a checkpoint_dir set inside DIR)
        raise SystemExit(f"ledis: the checkpoint is inside {target}; copy it out first")
    if os.path.exists(target) and os.listdir(target):
        if os.path.exists(os.path.join(target, "CURRENT")):
            try:  # refuse while a server runs on it
                Engine(target, fsync="no", write_log=False).close()
            except StoreLockedError:
                raise SystemExit(f"ledis: {target} is in use by a running server; stop it "
                                 "first") from None
        if not args.force:
            raise SystemExit(f"ledis: {target} is not empty; use --force to replace it "
                             f"(it is kept as {target}.old-<time>)")
        aside = f"{target}.old-{time.strftime('%Y%m%d-%H%M%S')}"
        os.rename(target, aside)
        print(f"moved the old data directory to {aside}")
    elif os.path.exists(target):
        os.rmdir(target)
    shutil.copytree(source, target)
    engine = Engine(target, fsync="no", write_log=False)
    try:
        from ledis.storage.layout import SYS
        from ledis.tools.dump import offline_total

        # A restored store is history its replicas may be ahead of: drop the replication id
        # so the server starts a new one and every replica resynchronises in full.
        engine.delete_range(SYS, b"repl:", b"repl;")
        engine.commit()
        keys = offline_total(engine)
    finally:
        engine.close()
    print(f"restored {source} into {target} ({keys} keys stored)")
    return 0
