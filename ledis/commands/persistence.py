"""SAVE, BGSAVE: RocksDB checkpoints (see ``ledis.tools.checkpoint``).

Every write is in RocksDB as soon as its group commit ran, so "saving" in ledis means taking a
*checkpoint*: a consistent copy of the store in ``checkpoint_dir/<time>`` that can be restored
(``ledis restore-checkpoint``), served (``ledis server --dir``) or dumped offline. LASTSAVE
reads ``core.lastsave``, which a successful checkpoint updates.
"""

from __future__ import annotations

from ledis import errors
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, Simple
from ledis.tools.checkpoint import Checkpointer


@command("save", arity=1, flags="admin noscript no_async_loading no_multi", group="server",
         acl="@admin @slow @dangerous")
def cmd_save(ctx, argv):
    saver = Checkpointer.of(ctx.core)
    if saver.in_progress:
        raise LedisError(errors.BGSAVE_IN_PROGRESS)
    try:
        saver.save()
    except Exception as exc:
        raise LedisError(errors.SAVE_FAILED.format(exc)) from None
    return OK


@command("bgsave", arity=-1, flags="admin noscript no_async_loading", group="server",
         acl="@admin @slow @dangerous")
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
