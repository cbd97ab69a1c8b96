"""Monitoring commands: MONITOR, SLOWLOG and a basic LATENCY.

MONITOR: the caller's context joins ``core.monitors``; the dispatcher (Core.dispatch) calls
:func:`feed_monitors` for each command before it runs, only when that set is non-empty. Lines
have Redis 7.0's shape ``+<unix.usec> [<db> <addr>] "ARG" ...`` with sdscatrepr quoting;
commands run from scripts show ``[<db> lua]``; admin / skip_monitor commands are not shown.

(SLOWLOG lives in ledis/commands/slowlog.py + ledis/slowlog.py, another engineer's.)
LATENCY: only the events this server measures ("command", "fast-command"), fed by the
dispatcher when ``latency-monitor-threshold`` is > 0; DOCTOR, GRAPH and HISTOGRAM live in
ledis/commands/latency.py.
"""

from __future__ import annotations

import asyncio
import time

from ledis import errors, replies
from ledis.commands.args import parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, Simple

_ESC = {0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t", 0x07: b"\\a", 0x08: b"\\b",
        0x22: b'\\"', 0x5C: b"\\\\"}
_REPR = [
    _ESC.get(i) or (bytes([i]) if 32 <= i < 127 else b"\\x%02x" % i) for i in range(256)
]


def sds_repr(arg: bytes) -> bytes:
    """Redis's sdscatrepr: the argument in double quotes, escaped."""
    if arg.isalnum() or (arg.isascii() and b'"' not in arg and b"\\" not in arg
                         and all(32 <= c < 127 for c in arg)):
        return b'"' + arg + b'"'
    return b'"' + b"".join(_REPR[c] for c in arg) + b'"'


def feed_monitors(core, ctx, argv: list[bytes]) -> None:
    """Send one command line to every MONITOR client. The dispatcher calls it after the command
    ran (as Redis 7.0: SELECT shows the new db), before it for skip_monitor ones (EVAL/FCALL)
    and never for admin commands or commands rejected before running."""
    now = time.time()
    where = b"lua" if ctx.in_script else (ctx.addr.encode() if ctx.addr else b"?")
    name = argv[0].lower()
    if name == b"auth":
        shown = [sds_repr(argv[0])] + [b'"(redacted)"'] * (len(argv) - 1)
    elif name == b"hello":
        shown = [sds_repr(a) for a in argv]
        for i in range(2, len(argv)):
            if argv[i].lower() == b"auth":
                for j in (i + 1, i + 2):
                    if j < len(argv):
                        shown[j] = b'"(redacted)"'
    else:
        shown = [sds_repr(a) for a in argv]
    sec = int(now)
    line = b"%d.%06d [%d %s] %s" % (sec, int((now - sec) * 1e6), ctx.db_index, where,
                                     b" ".join(shown))
    reply = Simple(line)
    for mon in list(core.monitors):
        conn = mon.conn
        if conn is None or mon is ctx:
            continue
        try:
            conn.push(reply)
        except Exception:  # a closed connection: forget it
            core.monitors.discard(mon)
            core.refresh_hot_flags()


def monitor_command(core, ctx, cmd, argv: list[bytes], before: bool) -> None:
    """Dispatcher hook (only while someone monitors): skip_monitor commands (EVAL, FCALL) are
    shown before they run, so their script's commands follow them; others after."""
    flags = cmd.flags
    if before and ctx in core.monitors:
        # Redis flags a MONITOR client as a replica: it may not touch the keyspace (nor
        # write or replicate, by the flags a script declares).
        write, _stale, may_replicate = core.declared_flags(cmd, argv)
        if cmd.is_readonly or write or may_replicate:
            cmd.rejected_calls += 1
            raise LedisError(errors.REPLICA_KEYSPACE)
    if "admin" in flags or ("skip_monitor" in flags) != before:
        return
    feed_monitors(core, ctx, argv)


@command("monitor", arity=1, flags="admin noscript loading stale", group="server",
         summary="Listen for all requests received by the server in real time",
         acl="@admin @slow @dangerous")
def cmd_monitor(ctx, argv):
    if ctx.multi is not None:  # run by EXEC: a client there expects one reply per command
        raise LedisError(errors.MONITOR_IN_EXEC)
    if ctx.conn is None:
        raise LedisError(errors.MONITOR_NO_CONN)
    core = ctx.core
    core.monitors.add(ctx)
    core.refresh_hot_flags()
    return OK


def _forget(ctx) -> None:
    if ctx in ctx.core.monitors:
        ctx.core.monitors.discard(ctx)
        ctx.core.refresh_hot_flags()


def install(core) -> None:
    """The composition root's registration (ledis/server/compose.py): the dispatcher's MONITOR
    feed and CLIENT PAUSE test, and dropping a MONITOR client on RESET or disconnect."""
    core.monitor_feed = monitor_command
    core.pause_blocks = pause_blocks
    core.reset_hooks.append(_forget)
    core.disconnect_hooks.append(_forget)


# --- LATENCY ---------------------------------------------------------------------------------

_LATENCY_HELP = """LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
DOCTOR
    Return a human readable latency analysis report.
GRAPH <event>
    Return an ASCII latency graph for the <event> class.
HISTORY <event>
    Return time-latency samples for the <event> class.
LATEST
    Return the latest latency samples for all events.
RESET [<event> ...]
    Reset latency data of one or more <event> classes.
    (default: reset all data for all event classes)
HISTOGRAM [COMMAND ...]
    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.
    If no commands are specified then all histograms are replied.
HELP
    Prints this help."""  # noqa: E501  (Redis's LATENCY HELP text, verbatim)

_LAT = "admin noscript loading stale"
_LAT_ACL = "@admin @slow @dangerous"


@command("latency|latest", arity=2, flags=_LAT, group="server",
         summary="Return the latest latency samples for all events.", since="2.8.13",
         acl=_LAT_ACL)
def cmd_latency_latest(ctx, argv):
    out = []
    for name, ev in ctx.core.latency.items():
        if ev["samples"]:
            t, ms = ev["samples"][-1]
            out.append([name.encode(), t, ms, ev["max"]])
    return out


@command("latency|history", arity=3, flags=_LAT, group="server",
         summary="Return timestamp-latency samples for the event.", since="2.8.13",
         acl=_LAT_ACL)
def cmd_latency_history(ctx, argv):
    ev = ctx.core.latency.get(argv[2].decode("utf-8", "replace"))
    if ev is None:
        return []
    return [[t, ms] for t, ms in ev["samples"]]


@command("latency|reset", arity=-2, flags=_LAT, group="server",
         summary="Reset latency data for one or more events.", since="2.8.13", acl=_LAT_ACL)
def cmd_latency_reset(ctx, argv):
    lat = ctx.core.latency
    if len(argv) == 2:
        n = len(lat)
        lat.clear()
        return n
    n = 0
    for a in argv[2:]:
        if lat.pop(a.decode("utf-8", "replace"), None) is not None:
            n += 1
    return n


@command("latency|help", arity=2, flags="loading stale", group="server",
         summary="Show helpful text about the different subcommands.", since="2.8.13",
         acl="@slow")
def cmd_latency_help(ctx, argv):
    return [Simple(line.encode()) for line in _LATENCY_HELP.split("\n")]


# --- CLIENT PAUSE / UNPAUSE --------------------------------------------------------------------
#
# ``core.pause_mode`` is 0 (off), PAUSE_WRITE or PAUSE_ALL. While it is set, Core.dispatch asks
# :func:`pause_blocks` (after the arity/auth checks, before MULTI queueing, as Redis's
# processCommand) and returns the PAUSED marker; the connection (run_queue) puts the request
# back at the head of its queue and parks itself in ``core.paused_conns`` until the pause ends
# (CLIENT UNPAUSE or the timeout). Master/replica links, scripts' own commands and the
# commands of a running EXEC are never paused. In WRITE mode, write commands and those that
# may replicate (PUBLISH, EVAL, FCALL, EXEC of queued writes) wait; reads go on.

PAUSE_WRITE = 1
PAUSE_ALL = 2
PAUSED = replies.PAUSED  # the dispatcher's marker reply (ledis/replies.py)

def pause_blocks(core, ctx, cmd, argv) -> bool:
    """Whether ``cmd`` from ``ctx`` must wait for the end of the CLIENT PAUSE: under WRITE, a
    command that writes or may replicate (PUBLISH, PFCOUNT, a script runner), by the flags a
    script or function declares (``Core.declared_flags``: a ``no-writes`` script runs), and
    EXEC by those of what it queued, as Redis."""
    if (ctx.conn is None or ctx.in_script or ctx.is_master_link or ctx.is_replica_link
            or (ctx.multi is not None and ctx.multi.executing)):
        return False
    if core.pause_mode == PAUSE_ALL:
        return True
    if cmd.name == "exec":
        queued = ctx.multi or ()
    else:
        queued = ((cmd, argv),)
    for qcmd, qargv in queued:
        write, _stale, may_replicate = core.declared_flags(qcmd, qargv)
        if write or may_replicate:
            return True
    return False


def unpause(core) -> None:
    """End the pause and let every parked connection run its queue (on the next loop turn)."""
    core.pause_mode = 0
    core.pause_end = 0.0
    timer = core.__dict__.pop("_pause_timer", None)
    if timer is not None:
        timer.cancel()
    conns = list(core.paused_conns)
    core.paused_conns.clear()
    if conns:
        loop = asyncio.get_event_loop()
        for conn in conns:
            if not conn.closing:
                loop.call_soon(_resume, conn)


def _resume(conn) -> None:
    if not conn.closing and conn.waiting is None:
        conn.run_queue()


def _pause_expired(core) -> None:
    core.__dict__.pop("_pause_timer", None)
    remaining = core.pause_end - time.time()
    if remaining > 0.0005:  # extended meanwhile
        core._pause_timer = asyncio.get_event_loop().call_later(remaining, _pause_expired, core)
        return
    unpause(core)


@command("client|pause", arity=-3, flags="admin noscript loading stale", group="connection",
         summary="Stop processing commands from clients for some time", since="2.9.50",
         acl="@admin @slow @dangerous @connection")
def cmd_client_pause(ctx, argv):
    if len(argv) > 4:
        raise LedisError(errors.CLIENT_SUBCOMMAND_ARGS.format("PAUSE"))
    try:
        timeout = parse_int(argv[2])
    except LedisError:
        raise LedisError(errors.TIMEOUT_NOT_INTEGER) from None
    if timeout < 0:
        raise LedisError(errors.TIMEOUT_NEGATIVE)
    mode = PAUSE_ALL
    if len(argv) == 4:
        word = argv[3].lower()
        if word == b"write":
            mode = PAUSE_WRITE
        elif word != b"all":
            raise LedisError(errors.CLIENT_PAUSE_MODE)
    core = ctx.core
    end = time.time() + timeout / 1000.0
    # As Redis's pauseClients: the most restrictive mode and the latest end win.
    core.pause_mode = max(core.pause_mode, mode)
    if end > core.pause_end:
        core.pause_end = end
    if core.__dict__.get("_pause_timer") is None:
        core._pause_timer = asyncio.get_event_loop().call_later(
            max(core.pause_end - time.time(), 0), _pause_expired, core)
    return OK


@command("client|unpause", arity=2, flags="admin noscript loading stale", group="connection",
         summary="Resume processing of clients that were paused", since="6.2.0",
         acl="@admin @slow @dangerous @connection")
def cmd_client_unpause(ctx, argv):
    unpause(ctx.core)
    return OK
