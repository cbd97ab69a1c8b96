"""Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT.

Parsing and the reply shape live here; the Lua runtime, cache and bridge are in
``ledis.scripting.runtime`` (``ctx.core.scripting``).
"""

from __future__ import annotations

from ledis import errors
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK

_EVAL_FLAGS = "noscript stale skip_monitor no_mandatory_keys movablekeys"
_RO_FLAGS = "readonly " + _EVAL_FLAGS
_RW_FLAGS = "may_replicate " + _EVAL_FLAGS  # EVAL / EVALSHA, not their _RO forms


@command("eval", arity=-3, flags=_RW_FLAGS, group="scripting", since="2.6.0",
         summary="Execute a Lua script server side", acl="@slow @scripting")
def cmd_eval(ctx, argv):
    return ctx.core.scripting.eval(ctx, argv, False, False)


@command("evalsha", arity=-3, flags=_RW_FLAGS, group="scripting", since="2.6.0",
         summary="Execute a Lua script server side", acl="@slow @scripting")
def cmd_evalsha(ctx, argv):
    return ctx.core.scripting.eval(ctx, argv, True, False)


@command("eval_ro", arity=-3, flags=_RO_FLAGS, group="scripting", since="7.0.0",
         summary="Execute a read-only Lua script server side", acl="@slow @scripting")
def cmd_eval_ro(ctx, argv):
    return ctx.core.scripting.eval(ctx, argv, False, True)


@command("evalsha_ro", arity=-3, flags=_RO_FLAGS, group="scripting", since="7.0.0",
         summary="Execute a read-only Lua script server side", acl="@slow @scripting")
def cmd_evalsha_ro(ctx, argv):
    return ctx.core.scripting.eval(ctx, argv, True, True)


@command("script|load", arity=3, flags="noscript stale", group="scripting", since="2.6.0",
         summary="Load the specified Lua script into the script cache.", acl="@slow @scripting")
def cmd_script_load(ctx, argv):
    return ctx.core.scripting.load(argv[2])


@command("script|exists", arity=-3, flags="noscript", group="scripting", since="2.6.0",
         summary="Check existence of scripts in the script cache.", acl="@slow @scripting")
def cmd_script_exists(ctx, argv):
    scripting = ctx.core.scripting
    return [1 if scripting.exists(sha) else 0 for sha in argv[2:]]


@command("script|flush", arity=-2, flags="noscript", group="scripting", since="2.6.0",
         summary="Remove all the scripts from the script cache.", acl="@slow @scripting")
def cmd_script_flush(ctx, argv):
    if len(argv) > 3 or (len(argv) == 3 and argv[2].upper() not in (b"SYNC", b"ASYNC")):
        raise LedisError(errors.SCRIPT_FLUSH_OPTION)
    ctx.core.scripting.flush()
    return OK


@command("script|kill", arity=2, flags="noscript allow_busy", group="scripting",
         since="2.6.0", summary="Kill the script currently in execution.",
         acl="@slow @scripting")
def cmd_script_kill(ctx, argv):
    return ctx.core.scripting.kill()


# SCRIPT DEBUG YES|SYNC makes the connection's next EVAL a Lua debugging session (Redis's
# LDB, ledis/scripting/debugger.py). The mode rides on ``ctx.special``: a client that never
# asked pays nothing on EVAL's path.
@command("script|debug", arity=3, flags="noscript", group="scripting", since="3.2.0",
         summary="Set the debug mode for executed scripts.", acl="@slow @scripting")
def cmd_script_debug(ctx, argv):
    mode = argv[2].upper()
    if mode not in (b"YES", b"SYNC", b"NO"):
        raise LedisError(errors.SCRIPT_DEBUG_MODE)
    if ctx.multi is not None:  # queued, now inside EXEC (Redis says the same)
        raise LedisError(errors.SCRIPT_DEBUG_IN_MULTI)
    from ledis.scripting.debugger import script_debug

    script_debug(ctx, mode)
    return OK


@command("script|help", arity=2, flags="loading stale", group="scripting", since="5.0.0",
         summary="Show helpful text about the different subcommands", acl="@slow @scripting")
def cmd_script_help(ctx, argv):
    return [
        b"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        b"DEBUG (YES|SYNC|NO)",
        b"    Set the debug mode for subsequent scripts executed.",
        b"EXISTS <sha1> [<sha1> ...]",
        b"    Return information about the existence of the scripts in the script cache.",
        b"FLUSH [ASYNC|SYNC]",
        b"    Flush the Lua scripts cache. Very dangerous on replicas.",
        b"    When called without the optional mode argument, the behavior is determined by the",
        b"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        b"    * ASYNC: Asynchronously flush the scripts cache.",
        b"    * SYNC: Synchronously flush the scripts cache.",
        b"KILL",
        b"    Kill the currently executing Lua script.",
        b"LOAD <script>",
        b"    Load a script into the scripts cache without executing it.",
        b"HELP",
        b"    Prints this help.",
    ]
