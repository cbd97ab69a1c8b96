"""SLOWLOG GET / LEN / RESET / HELP (the log itself: ``ledis/slowlog.py``)."""

from __future__ import annotations

from ledis import errors
from ledis.commands.args import parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, Simple

_HELP = [
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
]


@command("slowlog|get", arity=-2, flags="admin loading stale", group="server",
         summary="Get the slow log's entries", since="2.2.12", acl="@admin @slow @dangerous")
def cmd_slowlog_get(ctx, argv):
    count = 10
    if len(argv) > 3:
        raise LedisError(errors.SLOWLOG_GET_ARGS.format(argv[1].decode("utf-8", "replace")))
    if len(argv) == 3:
        count = parse_int(argv[2], errors.SLOWLOG_COUNT)
        if count < -1:
            raise LedisError(errors.SLOWLOG_COUNT)
    return ctx.core.slowlog.get(count)


@command("slowlog|len", arity=2, flags="admin loading stale", group="server",
         summary="Get the slow log's length", since="2.2.12", acl="@admin @slow @dangerous")
def cmd_slowlog_len(ctx, argv):
    return len(ctx.core.slowlog.entries)


@command("slowlog|reset", arity=2, flags="admin loading stale", group="server",
         summary="Clear all entries from the slow log", since="2.2.12",
         acl="@admin @slow @dangerous")
def cmd_slowlog_reset(ctx, argv):
    ctx.core.slowlog.reset()
    return OK


@command("slowlog|help", arity=2, flags="loading stale", group="server",
         summary="Show helpful text about the different subcommands", since="6.2.0",
         acl="@slow")
def cmd_slowlog_help(ctx, argv):
    return [Simple(line.encode()) for line in _HELP]
