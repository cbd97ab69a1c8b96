"""Server commands: INFO, CONFIG, DBSIZE, FLUSHDB/FLUSHALL, TIME, COMMAND, SHUTDOWN ..."""

from __future__ import annotations

from ledis.commands.registry import command
from ledis.replies import OK


@command("dbsize", arity=1, flags="readonly fast", group="server",
         summary="Return the number of keys in the selected database", acl="@keyspace @read @fast")
def cmd_dbsize(ctx, argv):
    return ctx.db.keys


@command("flushall", arity=-1, flags="write", group="server",
         summary="Remove all keys from all databases", acl="@keyspace @write @slow @dangerous")
def cmd_flushall(ctx, argv):
    ctx.core.store.flushall()
    return OK
