"""The Pub/Sub hub: who listens to which channel or pattern, and message delivery.

One :class:`Hub` per core (``hub(core)``, created on first use). ``channels`` maps a channel to
its subscribers and ``patterns`` a pattern to its matcher (``ledis.glob.compile``, Redis-exact)
and subscribers; both keep subscription order (a dict used as an ordered set), which is the
order messages go out, as in Redis's lists. Each client's own side is ``ctx.subscriptions`` /
``ctx.patterns``.

**Shard channels** (SSUBSCRIBE, SPUBLISH) are a third namespace, ``shard_channels`` /
``ctx.shard_subscriptions``: on a server without cluster support Redis 7.0 keeps them apart
from ordinary channels (a PUBLISH never reaches an SSUBSCRIBE of the same name, and patterns
never match them) and delivers ``smessage`` pushes.

**Delivery.** PUBLISH encodes a message at most twice (once per protocol version: an array in
RESP2, a ``>`` push in RESP3) and appends the bytes to each subscriber connection's held
output, which the server writes after the iteration's group commit like any reply. Clients
without a connection (HTTP, embedded) are counted as receivers but get nothing.

**Slow subscribers.** Like ``client-output-buffer-limit pubsub 32mb 8mb 60``: a subscriber
whose transport holds more than the hard limit, or more than the soft limit for longer than
the soft seconds, is disconnected (its output dropped), so one stuck reader cannot eat the
server's memory. The limit is read from the config parameter (CONFIG SET works).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ledis import glob
from ledis.replies import Push
from ledis.resp import encode_one


class Hub:
    __slots__ = ("core", "channels", "patterns", "shard_channels", "_limit_text", "_limits")

    def __init__(self, core: Any) -> None:
        self.core = core
        self.channels: dict[bytes, dict[Any, None]] = {}
        self.patterns: dict[bytes, tuple[Callable[[bytes], bool], dict[Any, None]]] = {}
        self.shard_channels: dict[bytes, dict[Any, None]] = {}
        self._limit_text: str | None = None
        self._limits = (32 << 20, 8 << 20, 60)

    # --- subscriptions ------------------------------------------------------------------------
    def subscribe(self, ctx: Any, channel: bytes) -> None:
        if channel in ctx.subscriptions:
            return
        ctx.subscriptions.add(channel)
        subs = self.channels.get(channel)
        if subs is None:
            subs = self.channels[channel] = {}
            self.core.stats["pubsub_channels"] = len(self.channels)  # INFO stats
        subs[ctx] = None

    def unsubscribe(self, ctx: Any, channel: bytes) -> bool:
        return self._leave(ctx, ctx.subscriptions, self.channels, channel, "pubsub_channels")

    def _leave(self, ctx: Any, mine: set[bytes], table: dict[bytes, dict[Any, None]],
               channel: bytes, stat: str) -> bool:
        """Drop ``channel`` from a client's set ``mine`` and its entry in ``table`` (a plain
        or a shard channel); the channel goes when its last subscriber does."""
        if channel not in mine:
            return False
        mine.discard(channel)
        subs = table.get(channel)
        if subs is not None:
            subs.pop(ctx, None)
            if not subs:
                del table[channel]
                self.core.stats[stat] = len(table)
        return True

    def psubscribe(self, ctx: Any, pattern: bytes) -> None:
        if pattern in ctx.patterns:
            return
        ctx.patterns.add(pattern)
        entry = self.patterns.get(pattern)
        if entry is None:
            entry = self.patterns[pattern] = (glob.compile(pattern), {})
            self.core.stats["pubsub_patterns"] = len(self.patterns)
        entry[1][ctx] = None

    def punsubscribe(self, ctx: Any, pattern: bytes) -> bool:
        if pattern not in ctx.patterns:
            return False
        ctx.patterns.discard(pattern)
        entry = self.patterns.get(pattern)
        if entry is not None:
            entry[1].pop(ctx, None)
            if not entry[1]:
                del self.patterns[pattern]
                self.core.stats["pubsub_patterns"] = len(self.patterns)
        return True

    def ssubscribe(self, ctx: Any, channel: bytes) -> None:
        if channel in ctx.shard_subscriptions:
            return
        ctx.shard_subscriptions.add(channel)
        self.shard_channels.setdefault(channel, {})[ctx] = None
        self.core.stats["pubsubshard_channels"] = len(self.shard_channels)

    def sunsubscribe(self, ctx: Any, channel: bytes) -> bool:
        return self._leave(ctx, ctx.shard_subscriptions, self.shard_channels, channel,
                           "pubsubshard_channels")

    def forget(self, ctx: Any) -> None:
        """Drop every subscription of ``ctx`` without replies (RESET, disconnect)."""
        for channel in list(ctx.subscriptions):
            self.unsubscribe(ctx, channel)
        for pattern in list(ctx.patterns):
            self.punsubscribe(ctx, pattern)
        for channel in list(ctx.shard_subscriptions):
            self.sunsubscribe(ctx, channel)

    # --- delivery -----------------------------------------------------------------------------
    def publish(self, channel: bytes, message: bytes) -> int:
        """Send ``message`` to the subscribers of ``channel`` and of matching patterns."""
        receivers = 0
        subs = self.channels.get(channel)
        if subs:
            encoded: list[bytes | None] = [None, None]
            value = Push([b"message", channel, message])
            for ctx in list(subs):
                self._deliver(ctx, value, encoded)
            receivers += len(subs)
        if self.patterns:
            for pattern, (test, psubs) in list(self.patterns.items()):
                if not test(channel):
                    continue
                encoded = [None, None]
                value = Push([b"pmessage", pattern, channel, message])
                for ctx in list(psubs):
                    self._deliver(ctx, value, encoded)
                receivers += len(psubs)
        return receivers

    def spublish(self, channel: bytes, message: bytes) -> int:
        """Send ``message`` to the subscribers of shard channel ``channel`` (``smessage``)."""
        subs = self.shard_channels.get(channel)
        if not subs:
            return 0
        encoded: list[bytes | None] = [None, None]
        value = Push([b"smessage", channel, message])
        for ctx in list(subs):
            self._deliver(ctx, value, encoded)
        return len(subs)

    def _deliver(self, ctx: Any, value: Push, encoded: list) -> None:
        conn = ctx.conn
        if conn is None or conn.closing:
            return
        resp3 = ctx.resp == 3
        data = encoded[resp3]
        if data is None:
            data = encoded[resp3] = encode_one(value, resp3)
        out = conn.out
        if not out:  # a connection with held output is already scheduled
            conn.server.schedule_flush(conn)
        out.append(data)
        transport = conn.transport
        if transport is not None:
            self._check_limit(ctx, conn, transport.get_write_buffer_size())

    def _check_limit(self, ctx: Any, conn: Any, pending: int) -> None:
        hard, soft, seconds = self.limits()
        if hard and pending > hard:
            self._drop(conn)
            return
        if soft and pending > soft:
            since = ctx.extra.get("pubsub_soft_since")
            now = time.monotonic()
            if since is None:
                ctx.extra["pubsub_soft_since"] = now
            elif now - since > seconds:
                self._drop(conn)
        elif "pubsub_soft_since" in ctx.extra:
            del ctx.extra["pubsub_soft_since"]

    @staticmethod
    def _drop(conn: Any) -> None:
        """Disconnect a subscriber past its output buffer limit (Redis logs and closes)."""
        import logging

        logging.getLogger("ledis").warning(
            "Client id=%d addr=%s closed for overcoming of output buffer limits.",
            conn.ctx.id, conn.ctx.addr)
        conn.out.clear()
        conn.closing = True
        if conn.transport is not None:
            conn.transport.abort()

    def limits(self) -> tuple[int, int, int]:
        text = self.core.config.redis_text("client-output-buffer-limit")
        if text != self._limit_text:
            self._limit_text = text
            self._limits = _parse_limits(text, self._limits)
        return self._limits


def _parse_limits(text: str, current: tuple[int, int, int]) -> tuple[int, int, int]:
    from ledis.config_values import memtoull

    words = text.split()
    for i in range(0, len(words) - 3, 4):
        if words[i].lower() == "pubsub":
            hard = memtoull(words[i + 1])
            soft = memtoull(words[i + 2])
            try:
                seconds = int(words[i + 3])
            except ValueError:
                return current
            if hard is None or soft is None:
                return current
            return (hard, soft, seconds)
    return current


def hub(core: Any) -> Hub:
    """The core's hub, created on first use."""
    h = core.__dict__.get("pubsub_hub")
    if h is None:
        h = core.pubsub_hub = Hub(core)
    return h


# --- keyspace notifications -------------------------------------------------------------------
#
# ``notify-keyspace-events`` (CONFIG SET) picks classes as in Redis: g generic, $ string,
# l list, s set, h hash, z sorted set, x expired, e evicted, A = g$lshzxe (plus t, d, which
# ledis never emits), K = publish on ``__keyspace@<db>__:<key>`` (message: the event), E = on
# ``__keyevent@<db>__:<event>`` (message: the key). Events come from the dispatcher's write
# observer (``ledis.commands.transactions.watched_write``): after a write command that changed
# something, :func:`notify_write` names the events of its keys from the command, like the
# ``notifyKeyspaceEvent`` calls in Redis's command code. Active expiry calls ``on_expired``.
# A blocked client served later (BLPOP after a push) publishes its pop's events from
# ledis/blocking.py, after the feeding command's. Known gap: multi-key commands emit for
# every key argument that exists afterwards or existed before.

_CLASS = {"g": 1, "$": 2, "l": 4, "s": 8, "h": 16, "z": 32, "x": 64, "e": 128, "K": 256,
          "E": 512, "t": 1024, "m": 2048, "d": 4096, "n": 8192}
_ALL = 1 | 2 | 4 | 8 | 16 | 32 | 64 | 128 | 1024 | 4096
KEYSPACE, KEYEVENT = 256, 512
_notify_cache: dict[str, int] = {}


def parse_events(text: str) -> int:
    """Redis's keyspaceEventsStringToFlags; -1 for an unknown class character."""
    flags = 0
    for ch in text:
        if ch == "A":
            flags |= _ALL
        elif ch in _CLASS:
            flags |= _CLASS[ch]
        else:
            return -1
    return flags


def notify_flags(core: Any) -> int:
    """The active notification flags (0 when off: neither K nor E, or no class)."""
    text = core.config.redis_text("notify-keyspace-events")
    flags = _notify_cache.get(text)
    if flags is None:
        flags = parse_events(text)
        if flags < 0 or not flags & (KEYSPACE | KEYEVENT) or not flags & ~(KEYSPACE | KEYEVENT):
            flags = 0
        _notify_cache[text] = flags
    return flags


def notify(core: Any, flags: int, cls: int, event: bytes, key: bytes, db_number: int) -> None:
    """Publish one event (Redis's notifyKeyspaceEvent)."""
    if not flags & cls:
        return
    h = core.__dict__.get("pubsub_hub")
    if h is None:
        return
    if flags & KEYSPACE:
        h.publish(b"__keyspace@%d__:%s" % (db_number, key), event)
    if flags & KEYEVENT:
        h.publish(b"__keyevent@%d__:%s" % (db_number, event), key)


def attach_expiry_events(core: Any) -> None:
    """Give every database of ``core`` the active-expiry callback ("expired", class x) and
    the read-miss one ("keymiss", class m: ``Database.missed``)."""

    def on_expired(db: Any, key: bytes) -> None:
        # notify_configured: notify-keyspace-events was set (its default "" publishes
        # nothing), so an expiry with nobody listening reads no config
        if core.notify_configured:
            flags = notify_flags(core)
            if flags:
                notify(core, flags, EXPIRED, b"expired", key, db.logical)
        if core.triggers is not None:  # keyspace triggers (ledis/scripting/triggers.py)
            core.triggers.expired(db, key)

    def on_keymiss(db: Any, key: bytes) -> None:
        flags = notify_flags(core)
        if flags & KEYMISS:
            notify(core, flags, KEYMISS, b"keymiss", key, db.logical)

    for db in core.store.dbs:
        db.on_expired = on_expired
    # every database's on_keymiss while notify-keyspace-events is set (Core.refresh_hot_flags):
    # a read's miss costs a test otherwise
    core.keymiss_hook = on_keymiss
    core.refresh_hot_flags()


G, S, L, SET, H, Z = 1, 2, 4, 8, 16, 32
STREAM_CLASS = 1024  # "t": published by the stream commands themselves (commands/streams.py)
# command -> (class, event) for each key argument; see notify_write for the special cases.
_SIMPLE: dict[str, tuple[int, bytes]] = {
    "set": (S, b"set"), "setnx": (S, b"set"), "setex": (S, b"set"), "psetex": (S, b"set"),
    "getset": (S, b"set"), "mset": (S, b"set"), "msetnx": (S, b"set"),
    "append": (S, b"append"), "setrange": (S, b"setrange"), "incr": (S, b"incrby"),
    "setbit": (S, b"setbit"), "bitfield": (S, b"setbit"),
    "decr": (S, b"incrby"), "incrby": (S, b"incrby"), "decrby": (S, b"incrby"),
    "incrbyfloat": (S, b"incrbyfloat"),
    "del": (G, b"del"), "unlink": (G, b"del"), "getdel": (G, b"del"),
    "expire": (G, b"expire"), "pexpire": (G, b"expire"), "expireat": (G, b"expire"),
    "pexpireat": (G, b"expire"), "persist": (G, b"persist"), "restore": (G, b"restore"),
    "lpush": (L, b"lpush"), "lpushx": (L, b"lpush"), "rpush": (L, b"rpush"),
    "rpushx": (L, b"rpush"), "lpop": (L, b"lpop"), "rpop": (L, b"rpop"),
    "blpop": (L, b"lpop"), "brpop": (L, b"rpop"), "linsert": (L, b"linsert"),
    "lset": (L, b"lset"), "lrem": (L, b"lrem"), "ltrim": (L, b"ltrim"),
    "hset": (H, b"hset"), "hmset": (H, b"hset"), "hsetnx": (H, b"hset"),
    "hdel": (H, b"hdel"), "hincrby": (H, b"hincrby"), "hincrbyfloat": (H, b"hincrbyfloat"),
    "sadd": (SET, b"sadd"), "srem": (SET, b"srem"), "spop": (SET, b"spop"),
    "sinterstore": (SET, b"sinterstore"), "sunionstore": (SET, b"sunionstore"),
    "sdiffstore": (SET, b"sdiffstore"),
    "zadd": (Z, b"zadd"), "zincrby": (Z, b"zincr"), "zrem": (Z, b"zrem"),
    "zremrangebyscore": (Z, b"zremrangebyscore"), "zremrangebyrank": (Z, b"zremrangebyrank"),
    "zremrangebylex": (Z, b"zremrangebylex"), "zpopmin": (Z, b"zpopmin"),
    "zpopmax": (Z, b"zpopmax"), "bzpopmin": (Z, b"zpopmin"), "bzpopmax": (Z, b"zpopmax"),
    "zunionstore": (Z, b"zunionstore"), "zinterstore": (Z, b"zinterstore"),
    "zdiffstore": (Z, b"zdiffstore"), "zrangestore": (Z, b"zrangestore"),
    "pfadd": (S, b"pfadd"), "pfmerge": (S, b"pfadd"), "geoadd": (Z, b"zadd"),
}
# Published only for a key whose value changed: a bit or register that was already so, the
# keys of a blocking pop that it did not pop from.
_ONLY_IF_CHANGED = frozenset({"pfadd", "setbit", "bitfield", "blpop", "brpop", "bzpopmin",
                              "bzpopmax"})
# Published once per key argument, a key named twice included (MSET k 1 k 2: two "set").
_PER_ARGUMENT = frozenset({"mset", "msetnx"})
_POP_LIST = {b"left": b"lpop", b"right": b"rpop"}
_POP_ZSET = {b"min": b"zpopmin", b"max": b"zpopmax"}
_MPOP = {"lmpop": (L, _POP_LIST), "blmpop": (L, _POP_LIST), "zmpop": (Z, _POP_ZSET),
         "bzmpop": (Z, _POP_ZSET)}
_STORE = frozenset({"sinterstore", "sunionstore", "sdiffstore", "zunionstore", "zinterstore",
                    "zdiffstore", "zrangestore", "pfmerge"})
_EXPIRING_SET = frozenset({"setex", "psetex"})
_SET_EXPIRY_OPTIONS = frozenset({b"ex", b"px", b"exat", b"pxat"})


def notify_write(ctx: Any, cmd: Any, argv: list[bytes], keys: list[bytes],
                 befores: list[bytes | None], flags: int, emit: Any = None) -> None:
    """Publish the events of a write command that changed something (see above).
    ``emit(cls, event, key, db_number)`` replaces publishing (keyspace triggers collect the
    events with it: ledis/scripting/triggers.py)."""
    core = ctx.core
    if emit is None:
        def emit(cls: int, event: bytes, key: bytes, db_number: int) -> None:
            notify(core, flags, cls, event, key, db_number)
    db = ctx.db
    number = db.logical
    name = cmd.name
    befores = _expire_replaced(emit, db, keys, befores, number)
    if flags & NEW:
        emit = _announcing_new(emit, db, name, argv, keys, befores, number)
    simple = _SIMPLE.get(name)
    if simple is not None:
        cls, event = simple
        if name == "zadd" and _zadd_incr(argv):
            event = b"zincr"
        if name in _STORE:
            keys, befores = keys[:1], befores[:1]  # the destination, not the sources
        seen = set()
        for key, before in zip(keys, befores, strict=True):
            if key in seen and name not in _PER_ARGUMENT:
                continue  # a key named twice (DEL k k): deleted or popped once
            seen.add(key)
            after = db.raw(key)
            if before is None and after is None:
                continue  # untouched (DEL of a missing key, MSET NX that failed ...)
            if before is not None and before == after and not db.is_live(before):
                continue  # an expired key the write only looked at (BZPOPMIN's others)
            if name in _ONLY_IF_CHANGED and before == after:
                continue  # no register / bit changed: Redis publishes nothing
            if after is None and cls != G:
                if name not in _STORE:
                    emit(cls, event, key, number)
                emit(G, b"del", key, number)  # emptied / expired away
                continue
            if cls == G and event in (b"expire", b"restore") and after is None:
                emit(G, b"del", key, number)  # an expiry in the past
                continue
            emit(cls, event, key, number)
            if name == "set":
                if any(a.lower() in _SET_EXPIRY_OPTIONS for a in argv[3:]):
                    emit(G, b"expire", key, number)
            elif name in _EXPIRING_SET:
                emit(G, b"expire", key, number)
        return
    if name in ("rename", "renamenx"):
        emit(G, b"rename_from", argv[1], number)
        emit(G, b"rename_to", argv[2], number)
    elif name in ("rpoplpush", "brpoplpush", "lmove", "blmove"):
        if name in ("rpoplpush", "brpoplpush"):
            pop, push = b"rpop", b"lpush"
        else:
            pop = b"lpop" if argv[3].lower() == b"left" else b"rpop"
            push = b"lpush" if argv[4].lower() == b"left" else b"rpush"
        emit(L, push, argv[2], number)  # Redis's order: push, pop, del
        emit(L, pop, argv[1], number)
        if db.raw(argv[1]) is None:
            emit(G, b"del", argv[1], number)
    elif name == "smove":
        emit(SET, b"srem", argv[1], number)
        if db.raw(argv[1]) is None:
            emit(G, b"del", argv[1], number)
        if db.raw(argv[2]) != befores[1]:  # not when the member was in the destination
            emit(SET, b"sadd", argv[2], number)
    elif name == "move":
        emit(G, b"move_from", argv[1], number)
        emit(G, b"move_to", argv[1], int(argv[2]))
    elif name == "copy":
        emit(G, b"copy_to", argv[2], _copy_db(argv, number))
    elif name in ("sort", "geosearchstore", "georadius", "georadiusbymember"):
        _notify_store(emit, db, argv, name, number)
    elif name == "bitop":  # the destination: set, or del when an empty result removed it
        if db.raw(argv[2]) is not None:
            emit(S, b"set", argv[2], number)
        elif befores[keys.index(argv[2])] is not None:
            emit(G, b"del", argv[2], number)
    elif name in _MPOP:  # the one key popped from (the first non-empty), then del if emptied
        cls, events = _MPOP[name]
        at = 2 if name[0] == "b" else 1  # BLMPOP / BZMPOP: the timeout first
        side = argv[at + 1 + int(argv[at])].lower()
        for key, before in zip(keys, befores, strict=True):
            after = db.raw(key)
            if before is not None and after != before:
                emit(cls, events[side], key, number)
                if after is None:
                    emit(G, b"del", key, number)
                break
    elif name == "getex":
        after = db.raw(argv[1])
        if after is None:
            emit(G, b"del", argv[1], number)
        elif any(a.lower() == b"persist" for a in argv[2:]):
            emit(G, b"persist", argv[1], number)
        else:
            emit(G, b"expire", argv[1], number)


def _expire_replaced(emit: Any, db: Any, keys: list[bytes], befores: list[bytes | None],
                     number: int) -> list[bytes | None]:
    """Redis's lazy expiry on write: a key that was there expired and that the write
    replaced or removed publishes ``expired`` first (before ``new`` and the write's events).
    Returns ``befores`` with such keys missing, as the write saw them. (A key a write only
    read stays: ledis's reads do not remove expired keys, docs/redis-differences.md.)"""
    if not any(before is not None and not db.is_live(before) for before in befores):
        return befores
    seen = []
    out: list[bytes | None] = []
    for key, before in zip(keys, befores, strict=True):
        if before is not None and not db.is_live(before) and db.raw(key) != before:
            if key not in seen:
                seen.append(key)
                emit(EXPIRED, b"expired", key, number)
            before = None
        out.append(before)  # an expired key the write left alone stays as it was
    return out


def _announcing_new(emit: Any, db: Any, name: str, argv: list[bytes], keys: list[bytes],
                    befores: list[bytes | None], number: int) -> Any:
    """``emit`` preceded, for a key the command created, by Redis's ``new`` event (class n,
    published by its dbAdd): before the key's first event. Where Redis's dbAdd comes before
    every event of the command, or replaces a key that was there (RENAME's and COPY's
    destination, RESTORE, MOVE's key in its new db), ``new`` goes first."""
    first = _NEW_FIRST.get(name)
    if first is not None:
        target = (int(argv[2]) if name == "move" else _copy_db(argv, number) if name == "copy"
                  else number)
        emit(NEW, b"new", argv[first], target)
        return emit
    created = {key for key, before in zip(keys, befores, strict=True)
               if not db.is_live(before) and db.raw(key) is not None}
    if not created:
        return emit

    def announcing(cls: int, event: bytes, key: bytes, db_number: int) -> None:
        if key in created and db_number == number:
            created.discard(key)
            emit(NEW, b"new", key, db_number)
        emit(cls, event, key, db_number)

    return announcing


def _copy_db(argv: list[bytes], number: int) -> int:
    """The db COPY writes to: its DB option, else the client's (``number``)."""
    for i in range(3, len(argv) - 1):
        if argv[i].lower() == b"db":
            return int(argv[i + 1])
    return number


NEW = 8192  # class n: "new", a key added to the db
EXPIRED = 64  # class x: "expired"
KEYMISS = 2048  # class m: "keymiss", a counted read of a missing key (Database.missed)
# Commands whose dbAdd precedes all their events, also over a key that was there: the
# argument index of the key added.
_NEW_FIRST = {"rename": 2, "renamenx": 2, "copy": 2, "move": 1, "restore": 1}


def _zadd_incr(argv: list[bytes]) -> bool:
    """Whether a ZADD has the INCR option (among the options before its first score)."""
    for arg in argv[2:]:
        word = arg.lower()
        if word == b"incr":
            return True
        if word not in _ZADD_OPTIONS:
            return False
    return False


_ZADD_OPTIONS = frozenset({b"nx", b"xx", b"gt", b"lt", b"ch"})


def _notify_store(emit: Any, db: Any, argv: list[bytes], name: str, number: int) -> None:
    """SORT ... STORE, GEOSEARCHSTORE and GEORADIUS* STORE|STOREDIST: the destination's event
    (``sortstore`` / ``geosearchstore`` / ``georadiusstore``), or ``del`` when an empty result
    removed it, as Redis's sort.c and geo.c do."""
    if name == "geosearchstore":
        dest = argv[1]
    else:
        dest = None
        for i in range(2, len(argv) - 1):
            if argv[i].lower() in (b"store", b"storedist"):
                dest = argv[i + 1]
        if dest is None:
            return  # a read (SORT / GEORADIUS without STORE): no event
    event = {"sort": b"sortstore", "geosearchstore": b"geosearchstore"}.get(name,
                                                                       b"georadiusstore")
    if db.raw(dest) is None:
        emit(G, b"del", dest, number)
    else:
        emit(Z if name != "sort" else L, event, dest, number)
