"""SAVE, BGSAVE: RocksDB checkpoints (see ``ledis.tools.checkpoint``).

Every write is in RocksDB as soon as its group commit ran, so "saving" in ledis means taking a
*checkpoint*: a consistent copy of the store in ``checkpoint_dir/<time>`` that can be restored
(``ledis restore-checkpoint``), served (``ledis server --dir``) or dumped offline. LASTSAVE
reads ``core.lastsave``, which a successful checkpoint updates.
"""

from __future__ import annotations

from ledis import errors
from ledis.commands import server as _server  # noqa: F401  (may declare save/bgsave too)
from ledis.commands.registry import REGISTRY, command
from ledis.errors import LedisError
from ledis.replies import OK, Simple
from ledis.tools.checkpoint import Checkpointer


def cmd_save(ctx, argv):
    saver = Checkpointer.of(ctx.core)
    if saver.in_progress:
        raise LedisError(errors.BGSAVE_IN_PROGRESS)
    try:
        saver.save()
    except Exception as exc:
        raise LedisError(errors.SAVE_FAILED.format(exc)) from None
    return OK


def cmd_bgsave(ctx, argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1].upper() != b"SCHEDULE"):
        raise LedisError(errors.SYNTAX)
    saver = Checkpointer.of(ctx.core)
    if saver.in_progress:
        if len(argv) == 2:
            saver.scheduled = True
            return Simple(b"Background saving scheduled")
        raise LedisError(errors.BGSAVE_IN_PROGRESS)
    saver.bgsave()
    return Simple(b"Background saving started")


def _declare(name: str, handler, **spec) -> None:
    """Declare, or take over a declaration another module made first (server.py had
    placeholder SAVE/BGSAVE that only synced the WAL)."""
    existing = REGISTRY.commands.get(name.encode())
    if existing is not None and existing.handler is not None:
        existing.handler = handler
    else:
        command(name, **spec)(handler)


_declare("save", cmd_save, arity=1, flags="admin noscript no_async_loading no_multi",
         group="server", summary="Synchronously save the dataset to disk",
         acl="@admin @slow @dangerous")
_declare("bgsave", cmd_bgsave, arity=-1, flags="admin noscript no_async_loading",
         group="server", summary="Asynchronously save the dataset to disk",
         acl="@admin @slow @dangerous")
