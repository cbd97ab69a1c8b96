"""Redis 7 Functions: FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/RESTORE/STATS/KILL, FCALL, FCALL_RO.

Parsing and reply shapes live here; the library registry, the Lua VM of functions and their
persistence in ``sys`` are in ``ledis.scripting.functions`` (``ctx.core.functions``).
"""

from __future__ import annotations

from typing import Any

from ledis import errors
from ledis.commands.args import ArgCursor
from ledis.commands.registry import command
from ledis.commands.triggers import describe as describe_trigger
from ledis.errors import LedisError
from ledis.glob import match
from ledis.replies import OK, Map, SetReply, Simple

_FCALL_FLAGS = "noscript stale skip_monitor no_mandatory_keys movablekeys"
_ACL = "@slow @scripting"
_ACL_WRITE = "@write @slow @scripting"


def functions_of(core: Any) -> Any:
    """``core.functions`` (built, and stored libraries reloaded, by ledis/server/compose.py)."""
    return core.functions


@command("fcall", arity=-3, flags="may_replicate " + _FCALL_FLAGS, group="scripting",
         since="7.0.0", summary="Invoke a function", acl=_ACL)
def cmd_fcall(ctx, argv):
    return functions_of(ctx.core).fcall(ctx, argv, False)


@command("fcall_ro", arity=-3, flags="readonly " + _FCALL_FLAGS, group="scripting",
         since="7.0.0", summary="Invoke a read-only function", acl=_ACL)
def cmd_fcall_ro(ctx, argv):
    return functions_of(ctx.core).fcall(ctx, argv, True)


@command("function|load", arity=-3, flags="write denyoom noscript", group="scripting",
         since="7.0.0", summary="Create a function with the given arguments (name, code, "
         "description)", acl=_ACL_WRITE)
def cmd_function_load(ctx, argv):
    replace = False
    for arg in argv[2:-1]:
        if arg.lower() != b"replace":
            raise errors.error(errors.FUNCTION_UNKNOWN_OPTION, arg.decode("utf-8", "replace"))
        replace = True
    return functions_of(ctx.core).load(argv[-1], replace)


@command("function|delete", arity=3, flags="write noscript", group="scripting",
         since="7.0.0", summary="Delete a function by name", acl=_ACL_WRITE)
def cmd_function_delete(ctx, argv):
    functions_of(ctx.core).delete(argv[2])
    return OK


@command("function|flush", arity=-2, flags="write noscript", group="scripting",
         since="7.0.0", summary="Deleting all functions", acl=_ACL_WRITE)
def cmd_function_flush(ctx, argv):
    if len(argv) > 3:
        raise errors.error(errors.FUNCTION_SUBCOMMAND_SYNTAX, argv[1].decode("utf-8", "replace"))
    if len(argv) == 3 and argv[2].upper() not in (b"SYNC", b"ASYNC"):
        raise LedisError(errors.FUNCTION_FLUSH_OPTION)
    functions_of(ctx.core).flush()
    return OK


@command("function|list", arity=-2, flags="noscript", group="scripting", since="7.0.0",
         summary="List information about all the functions", acl=_ACL)
def cmd_function_list(ctx, argv):
    with_code = False
    pattern = None
    args = ArgCursor(argv, 2)
    while args:
        arg = args.take()
        low = arg.lower()
        if not with_code and low == b"withcode":
            with_code = True
        elif pattern is None and low == b"libraryname":
            if not args:
                raise LedisError(errors.FUNCTION_LIST_NO_NAME)
            pattern = args.take()
        else:
            raise errors.error(errors.FUNCTION_LIST_ARG, arg.decode("utf-8", "replace"))
    out = []
    for lib in functions_of(ctx.core).libraries.values():
        if pattern is not None and not match(pattern, lib.name, nocase=True):
            continue
        entry = Map({
            b"library_name": lib.name,
            b"engine": b"LUA",
            b"functions": [
                Map({
                    b"name": func.name,
                    b"description": func.description,
                    b"flags": SetReply(Simple(flag) for flag in func.flags),
                })
                for func in lib.functions.values()
            ],
        })
        if lib.triggers:  # ledis: keyspace triggers, after "functions" (only when there are
            # some, so a library without triggers is listed exactly as Redis lists it)
            entry[b"triggers"] = [describe_trigger(trigger, False) for trigger in lib.triggers]
        if lib.timers:  # ledis: scheduled functions (ledis/scripting/timers.py)
            entry[b"timers"] = [Map({b"name": t.name, b"schedule": t.schedule})
                                for t in lib.timers]
        if lib.requires:  # ledis: shared code (ledis/scripting/modules.py)
            entry[b"requires"] = list(lib.requires)
        if with_code:
            entry[b"library_code"] = lib.code
        out.append(entry)
    return out


@command("function|dump", arity=2, flags="noscript", group="scripting", since="7.0.0",
         summary="Dump all functions into a serialized binary payload", acl=_ACL)
def cmd_function_dump(ctx, argv):
    return functions_of(ctx.core).dump()


@command("function|restore", arity=-3, flags="write denyoom noscript", group="scripting",
         since="7.0.0", summary="Restore all the functions on the given payload",
         acl=_ACL_WRITE)
def cmd_function_restore(ctx, argv):
    if len(argv) > 4:
        raise errors.error(errors.FUNCTION_SUBCOMMAND_SYNTAX, argv[1].decode("utf-8", "replace"))
    policy = b"APPEND"
    if len(argv) == 4:
        policy = argv[3].upper()
        if policy not in (b"FLUSH", b"APPEND", b"REPLACE"):
            raise LedisError(errors.FUNCTION_RESTORE_POLICY)
    functions_of(ctx.core).restore(argv[2], policy)
    return OK


@command("function|stats", arity=2, flags="noscript allow_busy", group="scripting",
         since="7.0.0", summary="Return information about the function currently running "
         "(name, description, duration)", acl=_ACL)
def cmd_function_stats(ctx, argv):
    functions = functions_of(ctx.core)
    running = None
    if functions.running is not None:
        import time

        scripting = ctx.core.scripting
        running = Map({
            b"name": functions.running.name,
            b"command": list(functions.running_argv),
            b"duration_ms": int((time.perf_counter() - scripting.start) * 1000),
        })
    return Map({
        b"running_script": running,
        b"engines": Map({b"LUA": Map({
            b"libraries_count": len(functions.libraries),
            b"functions_count": len(functions.functions),
        })}),
    })


@command("function|kill", arity=2, flags="noscript allow_busy", group="scripting",
         since="7.0.0", summary="Kill the function currently in execution.", acl=_ACL)
def cmd_function_kill(ctx, argv):
    return functions_of(ctx.core).kill()


@command("function|help", arity=2, flags="loading stale", group="scripting", since="7.0.0",
         summary="Show helpful text about the different subcommands", acl=_ACL)
def cmd_function_help(ctx, argv):
    return _HELP


_HELP = [
    b'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    b'LOAD [REPLACE] <FUNCTION CODE>',
    b'    Create a new library with the given library name and code.',
    b'DELETE <LIBRARY NAME>',
    b'    Delete the given library.',
    b'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
    b'    Return general information on all the libraries:',
    b'    * Library name',
    b'    * The engine used to run the Library',
    b'    * Library description',
    b'    * Functions list',
    b'    * Library code (if WITHCODE is given)',
    b'    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
    b'STATS',
    b'    Return information about the current function running:',
    b'    * Function name',
    b'    * Command used to run the function',
    b'    * Duration in MS that the function is running',
    b'    If no function is running, return nil',
    b'    In addition, returns a list of available engines.',
    b'KILL',
    b'    Kill the current running function.',
    b'FLUSH [ASYNC|SYNC]',
    b'    Delete all the libraries.',
    b'    When called without the optional mode argument, the behavior is determined by the',
    b'    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
    b'    * ASYNC: Asynchronously flush the libraries.',
    b'    * SYNC: Synchronously flush the libraries.',
    b'DUMP',
    b'    Return a serialized payload representing the current libraries, can be restored using'
    b' FUNCTION RESTORE command',
    b'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
    b'    Restore the libraries represented by the given payload, it is possible to give a restore'
    b' policy to',
    b'    control how to handle existing libraries (default APPEND):',
    b'    * FLUSH: delete all existing libraries.',
    b'    * APPEND: appends the restored libraries to the existing libraries. On collision,'
    b' abort.',
    b'    * REPLACE: appends the restored libraries to the existing libraries, On collision,'
    b' replace the old',
    b'      libraries with the new libraries (notice that even on this option there is a chance of'
    b' failure',
    b'      in case of functions name collision with another library).',
    b'HELP',
    b'    Prints this help.',
]
