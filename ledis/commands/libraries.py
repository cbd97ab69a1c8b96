"""Shared code and scheduled functions of FUNCTION libraries (issue #16):
LEDIS.FUNCTION LOADMANY and LEDIS.TIMERS.

Parsing and reply shapes live here; the dependency graph is ``ledis.scripting.modules``, the
timers ``ledis.scripting.timers`` (``ctx.core.functions.modules`` / ``.timers``).
"""

from __future__ import annotations

from ledis import errors
from ledis.commands.functions import functions_of
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import Map

_ACL_WRITE = "@write @slow @scripting"


@command("ledis.function|loadmany", arity=-3, flags="write denyoom noscript",
         group="scripting", since="7.0.0",
         summary="Load several FUNCTION libraries in one step, in dependency order",
         acl=_ACL_WRITE)
def cmd_ledis_function_loadmany(ctx, argv):
    """LEDIS.FUNCTION LOADMANY [REPLACE] code [code ...]: every library loads or none."""
    args = argv[2:]
    replace = False
    if args and args[0].lower() == b"replace":
        replace = True
        args = args[1:]
    if not args:
        raise LedisError(errors.FUNCTION_CODE_MISSING)
    return functions_of(ctx.core).load_many(args, replace)


@command("ledis.timers", arity=1, flags="readonly noscript", group="scripting",
         since="7.0.0", summary="List the FUNCTION timers and their run statistics",
         acl="@slow @scripting")
def cmd_ledis_timers(ctx, argv):
    timers = functions_of(ctx.core).timers
    return [
        Map({
            b"name": t.name,
            b"library": t.library,
            b"schedule": t.schedule,
            b"next_run_ms": t.next_run_ms,
            b"last_run_ms": t.last_run_ms,
            b"last_duration_us": t.last_duration_us,
            b"runs": t.runs,
            b"errors": t.errors,
            b"last_error": t.last_error or None,
        })
        for t in timers.rows()
    ]
