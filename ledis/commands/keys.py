"""Keyspace commands: DEL, EXISTS, TYPE, EXPIRE family, SCAN, RENAME, MOVE, COPY ..."""

from __future__ import annotations

from ledis.commands.registry import command


@command("del", arity=-2, flags="write", keys=(1, -1, 1), group="generic",
         summary="Delete a key", acl="@keyspace @write @slow")
def cmd_del(ctx, argv):
    db = ctx.db
    return sum(db.delete(key) for key in argv[1:])


@command("exists", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic",
         summary="Determine if a key exists", acl="@keyspace @read @fast")
def cmd_exists(ctx, argv):
    db = ctx.db
    return sum(db.lookup(key) is not None for key in argv[1:])
