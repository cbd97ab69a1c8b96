"""Blocking commands: clients waiting for a key to receive data (BLPOP, BLMOVE, BZPOPMIN ...).

The model is Redis's (``blocked.c``), on one event loop:

* A blocking handler first tries to serve the command at once. ``block(ctx, keys, timeout,
  attempt)`` takes that try as a callable: ``attempt()`` returns a reply value, or
  ``NOT_READY`` when every key is empty. Served at once -> the reply is returned as usual.
* A client that cannot block (inside MULTI/EXEC, a script, or without a connection: the
  embedded API, HTTP) gets ``timeout_reply`` at once, as Redis answers a blocking command in a
  transaction as if it had timed out.
* Otherwise a :class:`Waiter` is queued (FIFO) on every key, per database, and the handler
  returns a :class:`ledis.replies.Pending`; the connection stops reading until it resolves.
* Every write that adds elements to a list or sorted set calls ``key_ready(db, key)``. That
  only records the key: waiters are retried after the current command / script / transaction
  has finished (one ``loop.call_soon`` callback per burst), in the order the keys became
  ready, clients of one key first-come first-served. Each retry runs ``attempt()`` in the
  waiter's own context; serving stops at the first waiter that gets ``NOT_READY`` (the key is
  empty again), so only as many clients wake as can be served. A served attempt may itself make
  another key ready (BLMOVE into a list others wait on): that key is handled in the same pass,
  so chains complete before anything is replied.
* The retry's writes go into the engine's pending batch like any command's; the reply is
  encoded by the connection when the future completes, and the server's group commit writes
  the batch before that reply leaves.
* Timeouts use ``loop.call_later`` (sub-second precision; 0 = wait forever). A disconnect
  cancels the Pending, whose ``on_cancel`` removes the waiter. ``unblock`` implements
  CLIENT UNBLOCK.

Waiters are keyed by the :class:`Database` object (not its number), so SWAPDB, which swaps
the physical side of two Database objects, keeps clients waiting on the database they
selected; SWAPDB then calls ``database_changed`` for both databases.

MULTI/EXEC must run the queued commands with ``ctx.multi`` still set (not None), so that a
blocking command inside a transaction answers at once instead of blocking.

A client waiting on several keys is served from the key that became ready (Redis 7.0 pops
from it, not from the first non-empty key in argument order): attempts ask ``serving_key()``.
Network connections call ``serve_ready()`` after each command, so as in Redis a blocked
client is served before the next command of the pipeline that fed it (``RPUSH k v`` +
``LPOP k``: the blocked client gets ``v``); inside MULTI/EXEC or a script that is after EXEC
or the script. The ``call_soon`` pass covers HTTP, the embedded API and anything else.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections import deque
from collections.abc import Callable
from typing import Any

from ledis import errors, replies
from ledis.errors import LedisError

log = logging.getLogger("ledis")

NOT_READY: Any = object()

UNBLOCKED = errors.UNBLOCKED

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class Waiter:
    """One blocked client: what to retry, where, and how to answer."""

    __slots__ = ("ctx", "db", "keys", "attempt", "timeout_reply", "future", "timer", "seq")

    def __init__(self, ctx: Any, keys: list[bytes], attempt: Callable[[], Any],
                 timeout_reply: Any, future: asyncio.Future[Any], seq: int) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.keys = keys
        self.attempt = attempt
        self.timeout_reply = timeout_reply
        self.future = future
        self.timer: asyncio.TimerHandle | None = None
        self.seq = seq


# (Database, key) -> waiters in arrival order.
_waiters: dict[tuple[Any, bytes], deque[Waiter]] = {}
# client id -> its waiter (a client blocks on one command at a time).
_by_client: dict[int, Waiter] = {}
# Keys signalled since the last pass, in order, without duplicates. Never rebound: the
# connection tests it after every command (``ready_keys``).
_ready: dict[tuple[Any, bytes], None] = {}
ready_keys = _ready
_scheduled = False
_serving: bytes | None = None
_loop: asyncio.AbstractEventLoop | None = None
_seq = itertools.count()


def parse_timeout(raw: bytes) -> float:
    """A blocking command's timeout in seconds (0 = forever), validated as Redis 7.0 does.

    Redis reads a long double, multiplies by 1000, rounds up and converts to a 64-bit integer
    of milliseconds: 0.0001 waits 1 ms, -0.0001 rounds to 0 (forever), and values too large
    for 64 bits become negative ("timeout is negative")."""
    # Imported here: ledis.commands imports this module (the storage layer does too).
    from ledis.commands.args import parse_float

    try:
        value = parse_float(raw, errors.TIMEOUT_NOT_FLOAT)
    except LedisError:
        # strtold also reads hexadecimal floats ("0x10").
        text = raw.lower().lstrip(b"+-")
        if not text.startswith(b"0x") or raw[:1].isspace() or raw[-1:].isspace():
            raise
        try:
            value = float.fromhex(raw.decode())
        except (ValueError, UnicodeDecodeError):
            raise LedisError(errors.TIMEOUT_NOT_FLOAT) from None
    ms = value * 1000.0
    if not (_INT64_MIN <= ms <= _INT64_MAX):
        raise LedisError(errors.TIMEOUT_NEGATIVE)
    ms_int = math.ceil(ms)
    if ms_int < 0:
        raise LedisError(errors.TIMEOUT_NEGATIVE)
    return ms_int / 1000.0


def block(ctx: Any, keys: list[bytes], timeout: float, attempt: Callable[[], Any],
          timeout_reply: Any = replies.NullArray) -> Any:
    """Serve now with ``attempt()``, or block the client on ``keys`` (see module docstring)."""
    result = attempt()
    if result is not NOT_READY:
        return result
    if ctx.multi is not None or ctx.in_script or ctx.conn is None:
        return timeout_reply
    global _loop
    loop = asyncio.get_running_loop()
    _loop = loop
    future: asyncio.Future[Any] = loop.create_future()
    waiter = Waiter(ctx, list(dict.fromkeys(keys)), attempt, timeout_reply, future, next(_seq))
    db = waiter.db
    for key in waiter.keys:
        queue = _waiters.get((db, key))
        if queue is None:
            queue = _waiters[(db, key)] = deque()
        queue.append(waiter)
    _by_client[ctx.id] = waiter
    if 0 < timeout < 1e10:  # beyond ~300 years: no timer (as good as forever)
        waiter.timer = loop.call_later(timeout, _timed_out, waiter)
    return replies.Pending(future, on_cancel=lambda: _remove(waiter))


def key_ready(db: Any, key: bytes) -> None:
    """Note that ``key`` in ``db`` received elements; waiters are retried soon after."""
    if not _waiters:
        return
    ready = (db, key)
    if ready not in _waiters or ready in _ready:
        return
    _ready[ready] = None
    global _scheduled
    if not _scheduled and _loop is not None:
        _scheduled = True
        _loop.call_soon(_serve_ready)


def database_changed(db: Any) -> None:
    """Every key waited on in ``db`` may have data now (SWAPDB swapped its contents): retry
    them all, as Redis does after SWAPDB."""
    for ready_db, key in [k for k in _waiters if k[0] is db]:
        key_ready(ready_db, key)


def unblock(client_id: int, error: bool) -> bool:
    """CLIENT UNBLOCK: answer a blocked client as if timed out, or with an error."""
    waiter = _by_client.get(client_id)
    if waiter is None or waiter.future.done():
        return False
    _remove(waiter)
    if error:
        waiter.future.set_exception(LedisError(UNBLOCKED))
    else:
        waiter.future.set_result(waiter.timeout_reply)
    return True


def serving_key() -> bytes | None:
    """While a waiter is retried: the key whose readiness woke it (else None). Redis 7.0 pops
    from that key, not from the first non-empty one in argument order; attempts of commands
    that wait on several keys try it first."""
    return _serving


def blocked_count() -> int:
    """Number of clients blocked right now (INFO clients: blocked_clients)."""
    return len(_by_client)


def is_blocked(client_id: int) -> bool:
    """True while the client waits in a blocking command (CLIENT LIST flag ``b``)."""
    return client_id in _by_client


def blocked_keys_count() -> int:
    """Number of distinct keys clients are blocked on (INFO clients: total_blocking_keys)."""
    return len(_waiters)


# --- internals ------------------------------------------------------------------------------
def _remove(waiter: Waiter) -> None:
    if _by_client.get(waiter.ctx.id) is waiter:
        del _by_client[waiter.ctx.id]
    if waiter.timer is not None:
        waiter.timer.cancel()
        waiter.timer = None
    db = waiter.db
    for key in waiter.keys:
        queue = _waiters.get((db, key))
        if queue is None:
            continue
        try:
            queue.remove(waiter)
        except ValueError:
            pass
        if not queue:
            del _waiters[(db, key)]
    waiter.keys = []


def _before_serving(waiter: Waiter) -> tuple | None:
    """What the served command's keyspace events are computed from (``notify_write``): the
    command, its keys and their metadata before the pop; None while nothing is published
    and no keyspace trigger may fire."""
    ctx = waiter.ctx
    core = ctx.core
    if not core.notify_writes:
        return None
    from ledis.pubsub import notify_flags
    from ledis.tracking import command_keys

    flags = notify_flags(core)
    triggers = core.triggers
    fire = triggers is not None and not triggers.dormant()
    argv = ctx.last_cmd
    cmd = core._by_name.get(argv[0]) if (flags or fire) and isinstance(argv, list) else None
    if cmd is None:
        return None
    keys = command_keys(cmd, argv)
    return cmd, argv, keys, [ctx.db.raw(key) for key in keys], flags


def _served(waiter: Waiter, key: bytes, seen: tuple | None = None) -> None:
    """A served pop changed ``key`` (and a BLMOVE / BRPOPLPUSH its destination) outside the
    dispatcher: publish its keyspace events (``seen``: ``_before_serving``), as Redis's
    serving of a blocked client does, run the keyspace triggers of those events
    (``Triggers.served``), and tell CLIENT TRACKING (ledis/tracking.py), as Redis's
    signalModifiedKey."""
    core = waiter.ctx.core
    if seen is not None:
        from ledis.pubsub import notify_write

        cmd, argv, keys, befores, flags = seen
        if flags:
            notify_write(waiter.ctx, cmd, argv, keys, befores, flags)
        if core.triggers is not None:
            core.triggers.served(waiter.ctx, cmd, argv, keys, befores)
    tracking = core.tracking
    if tracking is None or not tracking.clients:
        return
    keys = [key]
    argv = waiter.ctx.last_cmd
    if isinstance(argv, list) and len(argv) > 2 and argv[0].lower() in (b"blmove",
                                                                         b"brpoplpush"):
        keys.append(argv[2])
    tracking.keys_changed(None, keys)


def _holds_blockable(ready: tuple[Any, bytes]) -> bool:
    """Whether the ready key holds a list or sorted set right now (what clients block on)."""
    from ledis.storage.layout import LIST, ZSET

    raw = ready[0].lookup(ready[1])
    return raw is not None and raw[0] in (LIST, ZSET)


def _timed_out(waiter: Waiter) -> None:
    waiter.timer = None
    if waiter.future.done():
        _remove(waiter)
        return
    _remove(waiter)
    waiter.future.set_result(waiter.timeout_reply)


def serve_ready() -> None:
    """Retry the waiters of every key signalled so far, now. Network connections call it
    after each command (Redis's order: a blocked client is served before the next command of
    the pipeline that fed it); the ``call_soon`` pass covers every other caller."""
    if _ready:
        _serve_ready()


def _serve_ready() -> None:
    global _scheduled, _serving
    try:
        while _ready:
            ready = next(iter(_ready))
            del _ready[ready]
            queue = _waiters.get(ready)
            skipped = 0  # waiters left blocked because the key holds another type
            while queue and skipped < len(queue):
                waiter = queue[skipped]
                if waiter.future.done():  # cancelled under us: drop it
                    _remove(waiter)
                    continue
                try:
                    _serving = ready[1]
                    seen = _before_serving(waiter)
                    result = waiter.attempt()
                except LedisError as exc:
                    if exc.text == errors.WRONGTYPE and not _holds_blockable(ready):
                        # The key was replaced by another type after it became ready (LPUSH,
                        # DEL, SET in one MULTI): Redis serves only clients waiting for the
                        # key's current type, the others stay blocked. (A BLMOVE whose
                        # destination has the wrong type gets the error, as in Redis.)
                        skipped += 1
                        continue
                    _remove(waiter)
                    waiter.future.set_exception(exc)
                    continue
                except Exception:
                    log.exception("blocked client retry failed")
                    _remove(waiter)
                    waiter.future.set_exception(LedisError(errors.INTERNAL))
                    continue
                if result is NOT_READY:
                    break
                _remove(waiter)
                _served(waiter, ready[1], seen)
                waiter.future.set_result(result)
                queue = _waiters.get(ready)
    finally:
        _serving = None
        _scheduled = False
        if _ready and _loop is not None:
            _scheduled = True
            _loop.call_soon(_serve_ready)
