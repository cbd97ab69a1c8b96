"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis semantics).

**Queueing.** MULTI sets ``ctx.multi`` to a :class:`Transaction` and ``ctx.special``; a
``core.special_checks`` entry then answers ``QUEUED`` to every command except EXEC, DISCARD,
MULTI, WATCH, QUIT and RESET (those run, and MULTI/WATCH answer their Redis errors). A command
the dispatcher rejects while queueing (unknown, wrong arity, NOAUTH, ``no_multi``, a write on a
read-only replica or while the store refuses writes, a RESP2 subscriber's forbidden command)
sets ``Transaction.failed`` (``Core._reject`` does it), and EXEC then answers EXECABORT. EXEC
of a transaction that queued a write is itself refused, the transaction discarded, when the
server has become a read-only replica or its store refuses writes since (``EXECABORT
Transaction discarded because of: READONLY ...`` / ``MISCONF ...``, as Redis). Errors raised
by a command while EXEC runs it are per-command entries of EXEC's reply, as in Redis.

Each queued command is kept with the :class:`~ledis.commands.registry.Command` the dispatcher
resolved for it, and EXEC hands that back (``core.dispatch(ctx, argv, cmd)``, with
``Core.call``'s ``try`` written inline): no second lookup nor arity check, and the slow-path
checks run again only where something beyond the transaction applies (an ACL-restricted
user, whose rules may have changed since, as Redis re-checks them at EXEC; a tracking
client; MONITOR, CLIENT PAUSE, a read-only replica), so a queued command is dispatched once.

**Atomicity.** EXEC runs the queued commands through the dispatcher one after the other on
the loop thread, so nothing else runs in between; their writes all land in the engine's
pending batch of this loop iteration and commit as one RocksDB write with one write-log record.
``ctx.multi`` stays set (``executing``) while EXEC runs, so blocking commands answer at once
(``ledis.blocking``) and the queueing check lets the commands through.

**WATCH: how a change to a watched key is seen.** Two signals, both free while nobody
watches:

1. *Dispatcher touch* (Redis's ``touchWatchedKey``). ``core.watched_keys`` maps
   ``(Database, key)`` to its watchers. While it is non-empty, the dispatcher runs write
   commands through :func:`watched_write`: the command runs, and if it put anything into the
   engine's batch (the effects list grew: a write that changed nothing, like ``SET NX`` on an
   existing key or DEL of a missing key, touches nothing, as in Redis), its key arguments
   (``cmd.key_positions``; every argument for ``movablekeys`` commands; the target database of
   MOVE / COPY DB) mark their watchers dirty. Scripts are covered because ``redis.call`` goes
   through the dispatcher, and so are the queued commands of other clients' EXEC. FLUSHDB,
   FLUSHALL and SWAPDB are handled before they run, with Redis 7.0's rules
   (``touchAllWatchedKeysInDb``: only keys that exist in the emptied or the swapped-in
   database; stale keys do not count).
2. *Metadata comparison at EXEC*. WATCH remembers each key's physical metadata (type, expiry,
   version, size); EXEC compares it with the current one. This sees the changes that do not go
   through the dispatcher: active expiry, a blocked client's BLMOVE/BLPOP served after a push,
   replication apply. A key that was live at WATCH and has expired since also aborts
   (Redis 7.0's ``isWatchedKeyExpired``), while a key already stale at WATCH does not abort
   when it is merely deleted (Redis's ``watchedKey.expired`` flag).

The same write observer publishes keyspace notifications (``ledis.pubsub.notify_write``) when
``notify-keyspace-events`` is set, so the dispatcher has one slow path for writes and none
at all while nobody watches and notifications are off.

Trade-off: a touch marks a watcher dirty even when a multi-key write changed only one of its
keys (Redis is exact there); metadata comparison cannot see a sub-key-only change made outside
the dispatcher (a replica applying HSET of an existing field), which only matters for WATCH on
a read-only replica.
"""

from __future__ import annotations

from typing import Any

from ledis import errors
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.pubsub import notify_flags, notify_write
from ledis.replies import OK, QUEUED, NullArray, Pending
from ledis.tracking import command_keys, written_keys

_MULTI_NESTED = LedisError(errors.MULTI_NESTED)
_EXEC_WITHOUT_MULTI = LedisError(errors.EXEC_WITHOUT_MULTI)
_DISCARD_WITHOUT_MULTI = LedisError(errors.DISCARD_WITHOUT_MULTI)
_WATCH_IN_MULTI = LedisError(errors.WATCH_IN_MULTI)
_EXECABORT = LedisError(errors.EXECABORT)

# Commands that run even while queueing (Redis's processCommand list).
_NOT_QUEUED = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})


class Transaction(list):
    """The queued commands of a client in MULTI: ``(Command, argv)`` pairs, the command as
    the dispatcher resolved it (subcommand included) when it checked and queued it."""

    __slots__ = ("failed", "executing")

    def __init__(self) -> None:
        super().__init__()
        self.failed = False
        self.executing = False


class Watched(dict):
    """``ctx.watched``: ``(Database, key)`` -> :class:`WatchEntry`; ``dirty`` once touched."""

    __slots__ = ("dirty",)

    def __init__(self) -> None:
        super().__init__()
        self.dirty = False


class WatchEntry:
    __slots__ = ("raw", "expired")

    def __init__(self, raw: bytes | None, expired: bool) -> None:
        self.raw = raw  # physical metadata at WATCH time (or after a harmless change)
        self.expired = expired  # the key was stale (expired, not yet removed) at WATCH


# --- registration (by the composition root, ledis/server/compose.py) ----------------------


def install(core) -> None:
    """MULTI queueing among the dispatcher's ``special_checks``, EXEC's abort when the
    dispatcher rejects it, the WATCH / notification observer of writes, and dropping the
    transaction and watched keys on RESET or disconnect."""
    core.special_checks.append(_queue_check)
    core.exec_abort = exec_abort
    core.plain_watched_write = watched_write
    if core.triggers is None:
        core.watched_write = watched_write
    core.reset_hooks.append(_forget)
    core.disconnect_hooks.append(_forget)


def _forget(ctx) -> None:
    """RESET / disconnect: drop the transaction and the watched keys."""
    ctx.multi = None
    unwatch_all(ctx)


# --- queueing -------------------------------------------------------------------------------


def _queue_check(ctx, cmd, argv):
    """core.special_checks entry: queue the commands of a client in MULTI."""
    tx = ctx.multi
    if tx is None or tx.executing:
        return None
    if cmd.name in _NOT_QUEUED:
        return None
    tx.append((cmd, argv))  # resolved once: EXEC runs it without a second lookup
    return QUEUED


@command("multi", arity=1, flags="noscript loading stale fast allow_busy", group="transactions",
         since="1.2.0", acl="@fast @transaction")
def cmd_multi(ctx, argv):
    if ctx.multi is not None:
        raise _MULTI_NESTED
    ctx.multi = Transaction()
    ctx.special = True
    return OK


@command("discard", arity=1, flags="noscript loading stale fast allow_busy",
         group="transactions", summary="Discard all commands issued after MULTI",
         since="2.0.0", acl="@fast @transaction")
def cmd_discard(ctx, argv):
    if ctx.multi is None:
        raise _DISCARD_WITHOUT_MULTI
    ctx.multi = None
    unwatch_all(ctx)
    ctx.refresh_special()
    return OK


@command("exec", arity=1, flags="noscript loading stale skip_slowlog", group="transactions",
         summary="Execute all commands issued after MULTI", since="1.2.0",
         acl="@slow @transaction")
def cmd_exec(ctx, argv):
    tx = ctx.multi
    if tx is None:
        raise _EXEC_WITHOUT_MULTI
    if tx.failed:
        ctx.multi = None
        unwatch_all(ctx)
        ctx.refresh_special()
        raise _EXECABORT
    if watch_failed(ctx):
        ctx.multi = None
        unwatch_all(ctx)
        ctx.refresh_special()
        return NullArray
    unwatch_all(ctx)  # Redis unwatches before running: the commands may touch the keys
    core = ctx.core
    dispatch = core.dispatch
    tx.executing = True
    # While EXEC runs, ``special`` says what it would say outside the transaction, which is
    # what the dispatcher asks of a queued command (one test instead of a needs_checks() call
    # each). A queued command that changes it (SUBSCRIBE, CLIENT TRACKING, AUTH...) sets it
    # again itself: set, or recomputed with ``multi`` still there, it only grows.
    ctx.special = ctx.needs_checks()
    results = []
    try:
        for cmd, queued in tx:
            try:  # Core.call, inline: one call less per command
                reply = dispatch(ctx, queued, cmd)  # no second lookup, arity or queue check
            except Exception as exc:
                reply = core.error_reply(ctx, queued, exc)
            if type(reply) is Pending:  # cannot wait inside a transaction
                reply.cancel()
                reply = NullArray
            results.append(reply)
    finally:
        ctx.multi = None
        ctx.refresh_special()
    return results


# --- WATCH ----------------------------------------------------------------------------------


@command("watch", arity=-2, flags="noscript loading stale fast allow_busy", keys=(1, -1, 1),
         group="transactions",
         since="2.2.0", acl="@fast @transaction")
def cmd_watch(ctx, argv):
    if ctx.multi is not None:
        raise _WATCH_IN_MULTI
    core = ctx.core
    watched = ctx.watched
    if watched is None:
        watched = ctx.watched = Watched()
    db = ctx.db
    registry = core.watched_keys
    for key in argv[1:]:
        slot = (db, key)
        if slot in watched:
            continue
        raw = db.raw(key)
        entry = WatchEntry(raw, raw is not None and not db.is_live(raw))
        watched[slot] = entry
        watchers = registry.get(slot)
        if watchers is None:
            watchers = registry[slot] = {}
        watchers[ctx] = entry
    return OK


@command("unwatch", arity=1, flags="noscript loading stale fast allow_busy",
         group="transactions", summary="Forget about all watched keys", since="2.2.0",
         acl="@fast @transaction")
def cmd_unwatch(ctx, argv):
    unwatch_all(ctx)
    return OK


def exec_abort(ctx, exc: LedisError) -> LedisError:
    """EXEC itself rejected by the dispatcher (arity, NOAUTH, a RESP2 subscriber...): the
    transaction is discarded and the error says why, as Redis's ``execCommandAbort``."""
    ctx.multi = None
    unwatch_all(ctx)
    ctx.refresh_special()
    text = exc.text[4:] if exc.text.startswith("ERR ") else exc.text
    return LedisError(errors.EXECABORT_BECAUSE.format(text))


def unwatch_all(ctx) -> None:
    watched = ctx.watched
    if not watched:
        ctx.watched = None
        return
    registry = ctx.core.watched_keys
    for slot in watched:
        watchers = registry.get(slot)
        if watchers is not None:
            watchers.pop(ctx, None)
            if not watchers:
                del registry[slot]
    ctx.watched = None


def watch_failed(ctx) -> bool:
    """EXEC: has any watched key changed since WATCH?"""
    watched = ctx.watched
    if not watched:
        return False
    if watched.dirty:
        return True
    for (db, key), entry in watched.items():
        raw = db.raw(key)
        if entry.expired:
            # stale at WATCH: being removed (by expiry or a delete) is no logical change
            if raw is not None and raw != entry.raw:
                return True
            continue
        if raw != entry.raw:
            return True  # changed outside the dispatcher (expiry, blocked pop, replication)
        if raw is not None and not db.is_live(raw):
            return True  # expired since WATCH (Redis 7.0 isWatchedKeyExpired)
    return False


def _touch(registry, db, key) -> None:
    """A command changed ``key`` in ``db``: its watchers' EXEC will fail."""
    watchers = registry.get((db, key))
    if not watchers:
        return
    raw = None
    fetched = False
    for other, entry in watchers.items():
        if entry.expired:
            if not fetched:
                raw, fetched = db.raw(key), True
            if raw is None:
                entry.expired = False  # the stale key is gone: no logical change
                entry.raw = None
                continue
        other.watched.dirty = True


def watched_write(ctx, cmd, argv):
    """Run a write command while keys are watched or keyspace notifications are on
    (``core.watched_write``): touch the watchers of what it changed, publish its events.
    While keyspace triggers exist, ``core.watched_write`` is their observer instead
    (ledis/scripting/triggers.py), which calls this one as ``observe_write``."""
    core = ctx.core
    name = cmd.name
    tracking = core.tracking
    if tracking is not None and not tracking.clients:
        tracking = None  # nobody tracks any more (keys left in the table have no reader)
    if name in _WHOLE_DB:
        if not core.watched_keys:
            result = cmd.handler(ctx, argv)
        else:
            result = _whole_db_write(ctx, cmd, argv)
        if tracking is not None and name != "swapdb":
            tracking.flushed(ctx)  # Redis: a null invalidation; SWAPDB sends none
        return result
    flags = notify_flags(core)
    registry = core.watched_keys
    if not flags and not registry and tracking is None:
        return cmd.handler(ctx, argv)  # notifications configured but off ("")
    db = ctx.db
    keys = command_keys(cmd, argv)  # key specs for movablekeys (LMPOP, ZUNIONSTORE ...)
    befores = [db.raw(key) for key in keys] if flags else None
    if tracking is not None:
        changing = written_keys(cmd, argv)  # not the sources of SINTERSTORE, COPY ...
        olds = [db.raw(key) for key in changing]
    # DEL / UNLINK touch the keys they delete, not the missing ones they name; XGROUP CREATE
    # touches only a key its MKSTREAM creates
    present = None
    if registry and name in _DELETES:
        present = [key for key in argv[1:] if db.raw(key) is not None]
    elif registry and name == "xgroup|create":
        present = [] if db.raw(argv[2]) is not None else [argv[2]]
    engine = core.engine
    before = engine.writes  # grows with every put/delete
    result = cmd.handler(ctx, argv)
    if not touched(name, engine.writes != before, result, db, argv):
        return result
    if tracking is not None:
        # Client-side caching: the keys this write changed; a key missing before and after
        # was not touched (DEL of a missing key, an empty SINTERSTORE result).
        tracking.keys_changed(ctx, [key for key, old in zip(changing, olds, strict=True)
                                    if old is not None or db.raw(key) is not None])
    if registry:
        for key in (present if present is not None else _watch_touched(name, cmd, argv, result)):
            _touch(registry, db, key)
        if name in _GROUP_STATE or (name == "xgroup|create" and not present):
            # a change Redis does not signal: it becomes the baseline EXEC compares with
            for key in written_keys(cmd, argv):
                raw = db.raw(key)
                for entry in registry.get((db, key), {}).values():
                    entry.raw = raw
        if name == "move" or name == "copy":
            target = _target_db(ctx, name, argv)
            if target is None and name == "copy":
                target = db  # COPY without DB: its destination is in this database
            if target is not None:
                _touch(registry, target, argv[2] if name == "copy" else argv[1])
    if flags:
        notify_write(ctx, cmd, argv, keys, befores, flags)  # type: ignore[arg-type]
    return result


observe_write = watched_write  # the name keyspace triggers use (ledis/scripting/triggers.py)


_DELETES = frozenset({"del", "unlink"})
# Consumer-group state and a stream's last ID: Redis signals none of these changes
_GROUP_STATE = frozenset({"xack", "xclaim", "xautoclaim", "xsetid", "xreadgroup",
                          "xgroup|setid", "xgroup|destroy", "xgroup|createconsumer",
                          "xgroup|delconsumer"})
# Pops from the first non-empty of several keys: Redis signals the one the reply names.
_POP_ONE_OF = frozenset({"blpop", "brpop", "bzpopmin", "bzpopmax", "lmpop", "blmpop", "zmpop",
                         "bzmpop"})


def _watch_touched(name: str, cmd, argv: list[bytes], result: Any) -> list[bytes]:
    """The keys of this database a write touched for WATCH, as Redis's signalModifiedKey
    calls go: not the sources a command only reads (SINTERSTORE, BITOP, PFMERGE, SORT ...
    STORE, GEOSEARCHSTORE), only the key a multi-key pop popped, nothing for a stream's
    group state or last ID; COPY's destination is touched in its own database (the caller's
    ``_target_db``)."""
    if name in _POP_ONE_OF:
        return [result[0]] if type(result) is list and result else []
    if name == "copy" or name in _GROUP_STATE:
        return []
    return written_keys(cmd, argv)


def _target_db(ctx, name, argv):
    dbs = ctx.core.store.dbs
    raw = None
    if name == "move":
        raw = argv[2]
    else:
        for i in range(3, len(argv) - 1):
            if argv[i].lower() == b"db":
                raw = argv[i + 1]
    if raw is None:
        return None
    try:
        index = int(raw)
    except ValueError:
        return None
    return dbs[index] if 0 <= index < len(dbs) else None


# Redis signals these even when they change nothing (HSET of a field to its value, LTRIM
# that keeps the whole list; not LTRIM of a missing key).
_ALWAYS_SIGNAL = frozenset({"hset", "hmset", "ltrim"})
# ... and a list moving an element onto itself (LMOVE l l of a one-element list: nothing to
# write), whenever an element moved (the reply is the element; nil or a block is not).
_ROTATIONS = frozenset({"lmove", "blmove", "rpoplpush", "brpoplpush"})


def touched(name: str, wrote: bool, result: Any, db: Any, argv: list[bytes]) -> bool:
    """Whether a write command touched its keys as Redis sees it (WATCH, client-side
    caching, keyspace events and triggers): it wrote, or it is one Redis signals anyway."""
    if wrote:
        return True
    if name in _ALWAYS_SIGNAL:
        return name != "ltrim" or db.lookup(argv[1]) is not None
    return name in _ROTATIONS and type(result) is bytes


_WHOLE_DB = frozenset({"flushdb", "flushall", "swapdb"})


def _whole_db_write(ctx, cmd, argv):
    """FLUSHDB / FLUSHALL / SWAPDB with Redis 7.0's ``touchAllWatchedKeysInDb`` rules."""
    core = ctx.core
    dbs = core.store.dbs
    pairs: list = []  # (emptied db, db replacing it or None)
    name = cmd.name
    if name == "flushdb":
        pairs.append((ctx.db, None))
    elif name == "flushall":
        pairs.extend((db, None) for db in dbs)
    else:
        try:
            a, b = int(argv[1]), int(argv[2])
        except ValueError:
            a = b = -1
        if 0 <= a < len(dbs) and 0 <= b < len(dbs) and a != b:
            pairs.append((dbs[a], dbs[b]))
            pairs.append((dbs[b], dbs[a]))
    registry = core.watched_keys
    dirty = []
    for emptied, replacement in pairs:
        for (db, key), watchers in list(registry.items()):
            if db is not emptied:
                continue
            exists = emptied.raw(key) is not None
            new_raw = replacement.raw(key) if replacement is not None else None
            if not exists and new_raw is None:
                continue
            for other, entry in watchers.items():
                if entry.expired:
                    if new_raw is None:
                        dirty.append((other, entry, False))  # stale key gone: no change
                        continue
                    if not replacement.is_live(new_raw):
                        dirty.append((other, entry, None))  # stale stays stale
                        continue
                elif not exists and not replacement.is_live(new_raw):
                    dirty.append((other, entry, True))  # missing replaced by a stale key
                    continue
                dirty.append((other, entry, "dirty"))
    result = cmd.handler(ctx, argv)
    for emptied, replacement in pairs:
        for (db, key), watchers in registry.items():
            if db is emptied:
                # The new physical state is the baseline for EXEC's comparison. Not read back
                # after a flush: the engine's reads do not see this iteration's range deletes.
                raw = db.raw(key) if replacement is not None else None
                for entry in watchers.values():
                    entry.raw = raw
    for other, entry, mark in dirty:
        if mark == "dirty":
            other.watched.dirty = True
        elif mark is not None:
            entry.expired = mark
    return result
