"""String commands: GET/SET family, counters, ranges, bit operations.

Parse every argument first (ArgCursor), then call ``ledis.storage.types.string``.
"""

from __future__ import annotations

from ledis.commands.registry import command
from ledis.replies import OK
from ledis.storage.types import string


@command("get", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         summary="Get the value of a key", acl="@read @string @fast")
def cmd_get(ctx, argv):
    return string.get(ctx.db, argv[1])


@command("set", arity=-3, flags="write denyoom", keys=(1, 1, 1), group="string",
         summary="Set the string value of a key", acl="@write @string @slow")
def cmd_set(ctx, argv):
    if len(argv) == 3:
        string.set(ctx.db, argv[1], argv[2])
        return OK
    raise NotImplementedError  # options: filled in by the strings work
