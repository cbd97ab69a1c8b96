"""The core: one engine, its databases, and the one dispatcher every client goes through.

Network connections, the HTTP API, the embedded API and Lua's ``redis.call`` all call
``Core.dispatch(ctx, argv)``. It owns lookup (with subcommands), the Redis arity convention,
authentication and the flag checks (read-only replica, scripts, MULTI queueing); handlers only
check their own arguments. Handlers are plain synchronous functions run on the event-loop
thread, so every command runs atomically.

A :class:`Context` is the state of one client (connection, HTTP request, embedded handle or
script caller): selected database, protocol version, auth, name, flags.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from ledis import errors
from ledis.commands.registry import REGISTRY, Command
from ledis.config import Config
from ledis.errors import LedisError
from ledis.replies import PAUSED
from ledis.security import command_table
from ledis.slowlog import SlowLog, latency_add
from ledis.storage.engine import Engine
from ledis.storage.keyspace import Database, Store
from ledis.storage.rocks import is_corruption

log = logging.getLogger("ledis")

_client_ids = itertools.count(1)
_perf = time.perf_counter
_INTERNAL = LedisError(errors.INTERNAL)


class Context:
    """Per-client state. ``special`` is True whenever a slow-path check applies (MULTI,
    script, subscribed, replica link...), so the common path tests one attribute."""

    __slots__ = (
        "core", "db", "db_index", "resp", "authenticated", "name", "id", "created",
        "last_cmd", "last_interaction", "addr", "laddr", "special", "in_script",
        "script_readonly", "multi", "watched", "subscriptions", "patterns",
        "shard_subscriptions", "is_replica_link", "is_master_link", "conn", "lib_name",
        "lib_ver", "flags", "close_after_reply",
        "no_evict", "kind", "wire", "extra", "reply_mode", "script_debug", "tracking", "user",
        "__weakref__",
    )

    def __init__(self, core: Core, kind: str = "normal", addr: str = "", laddr: str = "") -> None:
        self.core = core
        self.db_index = 0
        self.db: Database = core.store.dbs[0]
        self.resp = 2
        # The ACL user (ledis/acl.py): ``default`` until AUTH. A user that may not run
        # everything makes the context ``special``, so only its commands pay for the check.
        self.user = core.acl.default
        self.authenticated = core.acl.auto_auth
        self.name = b""
        self.id = next(_client_ids)
        self.created = time.time()
        self.last_interaction = self.created
        self.last_cmd: list[bytes] | bytes = b"NULL"  # argv of the last command; CLIENT LIST
        self.addr = addr
        self.laddr = laddr
        self.special = not self.user.unrestricted
        self.in_script = False
        self.script_readonly = False
        self.multi: list | None = None
        self.watched: dict | None = None
        self.subscriptions: set = set()
        self.patterns: set = set()
        self.shard_subscriptions: set = set()  # SSUBSCRIBE channels (ledis/pubsub.py)
        self.is_replica_link = False
        self.is_master_link = False
        self.conn: Any = None
        self.lib_name = b""
        self.lib_ver = b""
        self.flags = ""
        self.close_after_reply = False
        self.no_evict = False
        self.reply_mode = 0  # CLIENT REPLY: 0 on, else ledis.server.connection.REPLY_*
        # SCRIPT DEBUG: False, "yes" or "sync" (with ``special``): ledis/scripting/debugger.py
        self.script_debug: bool | str = False
        self.tracking: Any = None  # CLIENT TRACKING state (ledis/tracking.py) while on
        self.kind = kind
        # Replies go out as RESP on a socket (set by ledis/server/connection.py): a handler may
        # then return pre-encoded ``Raw`` replies. The one test of "wire client"; scripts, HTTP
        # and the embedded API get plain reply values.
        self.wire = False
        self.extra: dict = {}

    def select(self, index: int) -> None:
        self.db_index = index
        self.db = self.core.store.dbs[index]

    def refresh_special(self) -> None:
        """Recompute ``special`` after leaving MULTI, unsubscribing, an ACL user change..."""
        self.special = self.multi is not None or self.needs_checks()

    def needs_checks(self) -> bool:
        """Whether a slow-path check applies to this client's commands, MULTI aside: what
        ``special`` would be outside a transaction. EXEC asks it per queued command: when it is
        False (and the core is not ``gated``), the dispatcher's checks have nothing left to do
        for a command they already passed when it was queued."""
        return bool(self.in_script or self.subscriptions or self.patterns
                    or self.shard_subscriptions or self.is_replica_link or self.is_master_link
                    or self.script_debug or self.tracking is not None
                    or not self.user.unrestricted)


# Commands whose flags for the gates (READONLY, MISCONF, MASTERDOWN) are those the script or
# function declares (``Core.gate_flags``, Redis's getCommandFlags).
_SCRIPT_RUNNERS = frozenset(("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"))
# Run while a full sync loads although not flagged ``loading``: Redis refuses them only during
# its local load of the RDB file, and takes them while the file is transferred, which is part
# of ledis's load (a full sync streams into the store), so an operator can always move or
# promote a replica whose master went away in the middle.
_RUN_WHILE_LOADING = frozenset(("replicaof", "slaveof"))



class _HotFlag:
    """A Core attribute that ``Core.gated`` summarises: setting it recomputes the hot flags
    (the value lives in ``_<name>``, which ``refresh_hot_flags`` reads)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, core: Any, owner: type | None = None) -> Any:
        return self if core is None else core.__dict__[self.slot]

    def __set__(self, core: Any, value: Any) -> None:
        core.__dict__[self.slot] = value
        core.refresh_hot_flags()


class Core:
    pause_mode = _HotFlag()  # CLIENT PAUSE (ledis/commands/monitoring.py): 0 off, 1 WRITE, 2 ALL
    readonly = _HotFlag()  # a read-only replica (ledis/replication)
    # replica-serve-stale-data no on a replica: a callable saying whether the link is down
    # (ledis/replication), else None
    replica_stale = _HotFlag()
    # The store refuses writes (a full disk): the engine sets it through ``on_write_status``
    store_refusing = _HotFlag()
    # A replica loading its master's data (a full sync): commands not flagged ``loading`` get
    # LOADING (ledis/replication/replica.py)
    loading = _HotFlag()

    def __init__(self, config: Config, engine: Engine) -> None:
        """The dispatcher's own state over an opened ``engine``. Everything plugged into it
        (ACL, scripting, functions, replication, MULTI, pub/sub, MONITOR ...) is built and
        registered by the composition root, ``ledis.server.compose.build``."""
        self.config = config
        # rename-command applied once, here: every entry point looks commands up in this table
        self.commands: dict[bytes, Command] = command_table(REGISTRY.commands, config)
        self.started = time.time()
        self.run_id = os.urandom(20).hex()
        self.engine = engine
        self.store = Store(engine, config.databases)
        self._by_name: dict[bytes, Command] = {}  # exact spelling -> command (see _lookup)
        self.clients: dict[int, Context] = {}
        # Set by the root before any Context exists: users, permissions, ACL LOG (ledis/acl.py),
        # OBJECT IDLETIME / FREQ (ledis/access.py), EVAL (ledis/scripting/runtime.py),
        # FUNCTION (ledis/scripting/functions.py), replication (ledis/replication).
        self.acl: Any = None
        self.access: Any = None
        self.scripting: Any = None
        self.functions: Any = None
        self.replication: Any = None
        self._init_counters(config)
        self._init_hot_flags()
        self._init_hooks()
        self.lastsave = int(self.started)
        self.closed = False
        # WATCH (ledis/commands/transactions.py): (Database, key) -> {watching ctx: entry}.
        # While it is non-empty, or keyspace notifications are configured, write commands run
        # through ``watched_write``: it marks watchers dirty and publishes the notifications.
        self.watched_keys: dict = {}
        # CLIENT TRACKING (ledis/tracking.py): created by the first CLIENT TRACKING ON; from
        # then on writes go through ``watched_write`` too (``notify_writes``).
        self.tracking: Any = None
        self.watched_write: Callable[[Context, Command, list[bytes]], Any] = (
            lambda ctx, cmd, argv: cmd.handler(ctx, argv))  # type: ignore[misc]

    def _init_counters(self, config: Config) -> None:
        """INFO stats and errorstats, SLOWLOG, LATENCY and the MONITOR clients."""
        self.stats: dict[str, int] = {
            "total_connections_received": 0,
            "rejected_connections": 0,
            "expired_keys": 0,
            "expired_time_cap_reached_count": 0,
            "expire_cycle_cpu_milliseconds": 0,
            # streamed replies (ledis.replies.Stream): how many, and the most CPU time one
            # chunk took on the loop thread (how long it held the other clients)
            "streamed_replies": 0,
            "streamed_reply_chunk_max_us": 0,
            "total_error_replies": 0,
            "total_net_input_bytes": 0,
            "total_net_output_bytes": 0,
            "total_reads_processed": 0,  # reads from client sockets, replies written to them
            "total_writes_processed": 0,
            "instantaneous_ops_per_sec": 0,
        }
        self.errorstats: dict[str, int] = {}
        self.slowlog = SlowLog(config.redis_int("slowlog-log-slower-than"),
                               config.redis_int("slowlog-max-len"))
        # MONITOR clients (ledis/commands/monitoring.py) and LATENCY samples (ms, when
        # latency-monitor-threshold > 0): event name -> {"samples": [[t, ms]...], "max": ms}.
        self.monitors: set[Context] = set()
        self.latency: dict[str, dict[str, Any]] = {}
        _lat = config.redis_int("latency-monitor-threshold")
        self.latency_threshold = _lat * 1000.0 if _lat > 0 else float("inf")

    def _init_hot_flags(self) -> None:
        """The values behind ``gated`` (``refresh_hot_flags``): CLIENT PAUSE, read-only
        replica, a store refusing writes; and the access-tracking hook."""
        # CLIENT PAUSE: the mode (``pause_mode``, a _HotFlag), its end, parked connections.
        self._pause_mode = 0
        self.pause_end = 0.0
        self.paused_conns: set[Any] = set()
        self._readonly = False  # ``readonly``, a _HotFlag
        self._replica_stale: Callable[[], bool] | None = None  # ``replica_stale``, a _HotFlag
        self.touch: Callable[..., None] | None = None  # ``access``'s LRU or LFU hook, or None
        self._store_refusing = False  # ``store_refusing``, a _HotFlag
        self.active_expire = True  # DEBUG SET-ACTIVE-EXPIRE 0 turns the expiry cycle off
        # command name -> its gate (ledis/commands/debug.py: Redis's protected commands),
        # registered by the composition root: the refusal, or None
        self.protected: dict[str, Callable[[Context], LedisError | None]] = {}
        self._loading = False  # ``loading``, a _HotFlag
        self.engine.on_write_status = lambda refusing: setattr(self, "store_refusing", refusing)

    def _init_hooks(self) -> None:
        """The slots the composition root fills: checks and hooks of the services above the
        dispatcher, each a no-op or empty until registered."""
        # Keyspace triggers of FUNCTION libraries (ledis/scripting/triggers.py); None while no
        # library has one, so writes keep the dispatcher's fast path.
        self.triggers: Any = None
        # The flags the gates see for a script runner (EVAL*, FCALL*): (write, stale,
        # may_replicate) as the script or function declares them (ledis/scripting/runtime.py
        # sets it).
        self.gate_flags: Callable[[Command, list[bytes]], tuple[bool, bool, bool]] = (
            lambda cmd, argv: (cmd.is_write, cmd.allows_stale, cmd.may_replicate))
        # A RESP2 subscriber's rule (ledis/commands/pubsub.py), where Redis checks it: after
        # READONLY, before MASTERDOWN.
        self.subscriber_check: Callable[[Context, Command], None] = lambda ctx, cmd: None
        self.special_checks: list[Callable[[Context, Command, list[bytes]], Any]] = []
        # What a script may run (ledis/scripting/runtime.py sets it): the one check that
        # applies to a script's own context, called directly instead of walking the list.
        self.script_check: Callable[[Context, Command, list[bytes]], Any] = lambda *a: None
        self.shutdown_hooks: list[Callable[[], None]] = []
        # RESET and disconnect: owners of per-client state (MULTI, WATCH, pub/sub, MONITOR,
        # tracking, replication) clean up their part.
        self.reset_hooks: list[Callable[[Context], None]] = []
        self.disconnect_hooks: list[Callable[[Context], None]] = []
        # Slow-path hooks the root registers (ledis/commands/monitoring.py, transactions.py):
        # whether CLIENT PAUSE holds a command, the MONITOR feed, EXEC's abort reply.
        self.pause_blocks: Callable[[Core, Context, Command, list[bytes]], bool] = (
            lambda *a: False)
        self.monitor_feed: Callable[..., None] = lambda *a: None
        self.exec_abort: Callable[[Context, LedisError], LedisError] = lambda ctx, exc: exc
        # INFO: section name -> callable returning (field, value) pairs that replace or extend
        # the section's fields (replication state, scripting memory ...).
        self.info_hooks: dict[str, Callable[[], Any]] = {}

    # --- the dispatcher --------------------------------------------------------------------
    def call(self, ctx: Context, argv: list[bytes], resolved: Command | None = None) -> Any:
        """Run one command and return its reply, an error being the reply too: the one
        dispatch-and-catch of every client that gets replies (a connection, EXEC's queued
        commands, HTTP, clients served during a BUSY script). Errors are counted for INFO
        errorstats; an unexpected exception is logged and answered ``ERR internal error``,
        never leaked as a Python repr. (Lua's ``redis.call`` uses ``dispatch``: a script
        gets the error raised.) A connection's request loop and EXEC write this ``try``
        inline, to save a call per command, and share the rest: ``error_reply``. ``resolved``: see
        :meth:`dispatch`."""
        try:
            return self.dispatch(ctx, argv, resolved)
        except Exception as exc:
            return self.error_reply(ctx, argv, exc)

    def error_reply(self, ctx: Context, argv: list[bytes], exc: Exception) -> LedisError:
        """The reply for ``exc`` raised by ``dispatch`` (call from its ``except`` block: an
        unexpected exception is logged with its traceback)."""
        if isinstance(exc, LedisError):
            self.count_error(exc)
            return exc
        log.exception("internal error running %r (%s client)", argv[0][:64], ctx.kind)
        reply = _INTERNAL
        if is_corruption(exc):  # a checksum mismatch: say so, never a wrong value
            reply = LedisError(errors.STORE_CORRUPT.format(" ".join(str(exc).split())))
        self.count_error(reply)
        return reply

    def dispatch(self, ctx: Context, argv: list[bytes], resolved: Command | None = None
                 ) -> Any:
        """Run one command for ``ctx``; raises LedisError with the reply text on error.

        ``resolved``: EXEC running a queued command, the (sub)command found for it when it was
        queued. Lookup and arity are not done again, and the slow-path checks only when
        something they test applies beyond the transaction itself (a ``gated`` core, or
        ``ctx.special``, which EXEC sets to ``ctx.needs_checks()`` while it runs): ACL rules
        changed since, a tracking client's reads, a MONITOR...

        Long because it is the per-command hot path: each branch is written inline, as a
        helper would cost a Python call frame (~500 instructions, docs/PERFORMANCE.md) per
        command; the rare paths are already the helpers ``_checks``, ``_reject``, ``_after``."""
        if resolved is None:
            cmd = self._by_name.get(argv[0])
            if cmd is None:
                cmd = self._lookup(argv[0])
                if cmd is None:
                    raise self._reject(None, self._unknown(argv), ctx)
            if cmd.subcommands and (len(argv) >= 2 or cmd.handler is None):
                if len(argv) < 2:
                    raise self._reject(cmd, LedisError(errors.WRONG_ARITY.format(cmd.name)),
                                       ctx)
                sub = cmd.subcommands.get(argv[1].lower())
                if sub is None:  # no command found: none counts a rejected call (Redis)
                    raise self._reject(None, LedisError(errors.UNKNOWN_SUBCOMMAND.format(
                        argv[1].decode("utf-8", "replace")[:128],
                        argv[0].decode("utf-8", "replace").upper())), ctx)  # as sent: Redis
                cmd = sub
            arity = cmd.arity
            if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
                raise self._reject(cmd, LedisError(errors.WRONG_ARITY.format(cmd.name)), ctx)
            if ctx.special or self.gated or not ctx.authenticated:
                result = self._checks(ctx, cmd, argv)
                if result is not None:
                    return result
        else:
            cmd = resolved
            if self.gated or not ctx.authenticated or ctx.special:  # needs_checks(): EXEC
                result = self._checks(ctx, cmd, argv)
                if result is not None:
                    return result
        start = _perf()
        if self.touch is not None and cmd.first_key:
            self.touch(ctx, cmd, argv, start)
        try:
            if not cmd.is_write:
                result = cmd.handler(ctx, argv)  # type: ignore[misc]
            elif self.watched_keys:  # WATCH: the observer touches the watchers
                result = self.watched_write(ctx, cmd, argv)  # type: ignore[misc]
            elif self.notify_writes:
                # Keyspace triggers as the only observer (``trigger_tables``, else None): a
                # write no trigger can match runs bare, without the observer's frame (issue
                # #16). Per command (``cmd.number``), a table indexed by the key's first byte
                # gives False (no trigger's key prefix starts with that byte) or the prefixes
                # that do, for one ``startswith``; a command without a key argument, an
                # empty key or several keys (table entries ``(b"",)``) go to the observer.
                tables = self.trigger_tables
                if tables is None:
                    result = self.watched_write(ctx, cmd, argv)  # type: ignore[misc]
                else:
                    try:
                        heads = tables[cmd.number][argv[1][0]]
                    except IndexError:  # no key argument, an empty key
                        heads = True
                    if not heads or (heads is not True and not argv[1].startswith(heads)):
                        result = cmd.handler(ctx, argv)  # type: ignore[misc]
                    else:
                        result = self.watched_write(ctx, cmd, argv)  # type: ignore[misc]
            else:
                result = cmd.handler(ctx, argv)  # type: ignore[misc]
        except BaseException as exc:
            self._after(ctx, cmd, argv, start)
            if isinstance(exc, LedisError):
                cmd.failed_calls += 1
                # Handlers raise shared, preallocated error objects; drop the traceback so
                # each raise does not chain its frames onto the same object forever.
                raise exc.with_traceback(None)  # noqa: B904 (re-raises the caught error)
            raise
        usec = (_perf() - start) * 1e6
        if usec >= self.slow_us:  # -1 while someone monitors (refresh_hot_flags)
            self._after(ctx, cmd, argv, start, usec)
        else:
            cmd.calls += 1
            cmd.usec += usec
            if self.latency_tracking:  # LATENCY HISTOGRAM: one list increment
                hist = cmd.latency_histogram
                if hist is None:
                    hist = cmd.latency_histogram = [0] * 64
                hist[int(usec).bit_length()] += 1
        return result

    def refresh_hot_flags(self) -> None:
        """Recompute what the dispatcher tests per command: ``gated`` (a CLIENT PAUSE, a
        read-only replica or a MONITOR client: every command takes ``_checks``), the smallest
        duration worth the ``_after`` bookkeeping (SLOWLOG, LATENCY; always while someone
        monitors), whether writes publish keyspace notifications, and the access-tracking hook
        (``touch``: LRU, or LFU under an LFU maxmemory-policy). A store refusing writes
        (``store_refusing``) gates too. Called at start, after
        every CONFIG SET, by setting ``pause_mode`` / ``readonly`` (_HotFlag) and by MONITOR's
        join / leave."""
        self.gated = bool(self._pause_mode or self._readonly or self.monitors
                          or self._store_refusing or self._replica_stale is not None
                          or self._loading)
        self.slow_us = -1.0 if self.monitors else min(self.slowlog.threshold,
                                                      self.latency_threshold)
        # Writes go through the observer for keyspace notifications or client tracking
        # (while at least one client tracks). vars(): compiled, Core is an extension type
        # (core.pxd), whose methods may not name ``self.__dict__``.
        tracking = vars(self).get("tracking")
        self.notify_configured = "notify-keyspace-events" in self.config.extra
        # keyspace triggers of FUNCTION libraries (ledis/scripting/triggers.py) too
        tracked = tracking is not None and bool(tracking.clients)
        self.notify_writes = self.notify_configured or self.triggers is not None or tracked
        # ``Triggers.tables`` (ledis/scripting/triggers.py) when triggers are the only reason
        # writes are observed (WATCH is tested first, per write): dispatch then skips the observer
        # for a write no trigger can match. None otherwise: every write reaches the observer.
        self.trigger_tables: list[tuple[Any, ...]] | None = (
            self.triggers.tables if self.triggers is not None and not self.notify_configured
            and not tracked else None)
        self.latency_tracking = self.config.redis_bool("latency-tracking")
        access = self.access
        access.configure(self.config.redis_text("maxmemory-policy"),
                         self.config.redis_int("lfu-log-factor"),
                         self.config.redis_int("lfu-decay-time"), self.commands)
        # Only an LRU or LFU policy pays for the bookkeeping on every keyed command (~0.3 us,
        # a fifth of a GET); under the others (noeviction, the default) keys are not tracked.
        access_tracking = access.lfu_mode or "lru" in access.policy
        if access_tracking and self.touch is None:
            access.restart()  # idle times count from when tracking (re)started
        self.touch = (access.touch_lfu if access.lfu_mode else access.touch_lru) \
            if access_tracking else None
        # keyspace notifications (ledis.pubsub.attach_expiry_events): a read's miss publishes
        # keymiss through the hook only while notify-keyspace-events is set
        keymiss = vars(self).get("keymiss_hook") if self.notify_configured else None
        for db in self.store.dbs:
            db.on_removed = access.forget if access_tracking else None
            db.on_keymiss = keymiss

    def _lookup(self, name: bytes) -> Command | None:
        """The command called ``name`` in any letter case; remembered by its exact spelling
        so the next lookup is one dict hit (clients send "SET", the registry says "set")."""
        cmd = self.commands.get(name.lower())
        if cmd is not None and len(self._by_name) < 4096:
            self._by_name[name] = cmd
        return cmd

    def _checks(self, ctx: Context, cmd: Command, argv: list[bytes]) -> Any:
        """The dispatcher's slow-path checks, in Redis's order (processCommand): auth, a
        command not allowed in MULTI, ACL permissions (ledis/acl.py), a store refusing
        writes (MISCONF), a read-only replica, a RESP2 subscriber's rule, a stale replica
        (MASTERDOWN), a replica loading a full sync (LOADING), CLIENT PAUSE, then MULTI
        queueing and the other ``special_checks``, MONITOR. A command queued in MULTI has
        passed every gate, as in Redis; EXEC stands for what it queued.
        A non-None result is the command's reply (QUEUED, PAUSED ...)."""
        if ctx.in_script:
            return self._script_checks(ctx, cmd, argv)
        protected = self.protected.get(cmd.name)
        if protected is not None:  # DEBUG's gate, before AUTH as in Redis (its handler too)
            refusal = protected(ctx)
            if refusal is not None:
                raise self._reject(cmd, refusal, ctx)
        if not ctx.authenticated and not cmd.no_auth:
            raise self._reject(cmd, LedisError(errors.NOAUTH), ctx)
        if cmd.no_multi and ctx.multi is not None:
            raise self._reject(cmd, LedisError(errors.NOT_IN_MULTI), ctx)
        if not ctx.user.unrestricted and not ctx.is_master_link:
            try:
                self.acl.check(ctx, ctx.user, cmd, argv,
                               "multi" if ctx.multi is not None else "toplevel")
            except LedisError as exc:
                raise self._reject(cmd, exc, ctx) from None
        if self.gated and not ctx.is_master_link:
            self._gates(ctx, cmd, argv)
        elif ctx.special:
            self.subscriber_check(ctx, cmd)
        if self._pause_mode and self.pause_blocks(self, ctx, cmd, argv):
            return PAUSED
        if ctx.special:
            for check in self.special_checks:
                result = check(ctx, cmd, argv)
                if result is not None:
                    return result
        if self.monitors:
            self.monitor_feed(self, ctx, cmd, argv, True)
        return None

    def _gates(self, ctx: Context, cmd: Command, argv: list[bytes]) -> None:
        """MISCONF, READONLY, the RESP2 subscriber rule, MASTERDOWN and LOADING, in Redis's
        order.
        A script runner is gated by the flags its script or function declares (``gate_flags``),
        EXEC by those of the commands it queued (Redis's ``mstate`` flags): refused, it
        discards the transaction (EXECABORT ... because of: ...). While EXEC runs, its
        commands were gated when queued; only writes meeting a store that now refuses them
        are refused one by one."""
        tx = ctx.multi
        executing = getattr(tx, "executing", False)  # a Transaction (commands/transactions)
        is_exec = cmd.name == "exec"
        if self._store_refusing or self._readonly:
            if is_exec:
                write = tx is not None and any(self.declared_flags(c, a)[0] for c, a in tx)
            elif cmd.name in _SCRIPT_RUNNERS:
                write = self.gate_flags(cmd, argv)[0]
            else:
                write = cmd.is_write
            # The store refused a write (a full disk): Redis's MISCONF, before the command
            # runs, so the connection stays usable and reads go on (engine.recover()). PING
            # too, as Redis, so that a health check sees it.
            if self._store_refusing and (write or (cmd.name == "ping" and not executing)):
                raise self._reject(cmd, LedisError(errors.STORE_WRITES_DISABLED), ctx)
            if self._readonly and write:
                raise self._reject(cmd, LedisError(errors.READONLY), ctx)
        if ctx.special:
            self.subscriber_check(ctx, cmd)
        stale = self._replica_stale
        if stale is not None and not executing and stale():  # serve-stale-data no, link down
            if is_exec:
                refused = tx is not None and not all(
                    self.declared_flags(c, a)[1] for c, a in tx)
            elif cmd.name in _SCRIPT_RUNNERS:
                refused = not self.gate_flags(cmd, argv)[1]
            else:
                refused = not cmd.allows_stale
            if refused:
                raise self._reject(cmd, LedisError(errors.MASTERDOWN), ctx)
        if self._loading and not executing:  # a full sync is loading: its data is partial
            if is_exec:
                refused = tx is not None and not all(c.allows_loading for c, _ in tx)
            else:
                refused = not cmd.allows_loading and cmd.name not in _RUN_WHILE_LOADING
            if refused:
                raise self._reject(cmd, LedisError(errors.LOADING), ctx)

    def declared_flags(self, cmd: Command, argv: list[bytes]) -> tuple[bool, bool, bool]:
        """(write, stale, may_replicate) of a command as the gates and CLIENT PAUSE see it
        (Redis's getCommandFlags): its own flags, or for a script runner those its script or
        function declares."""
        if cmd.name in _SCRIPT_RUNNERS:
            return self.gate_flags(cmd, argv)
        return cmd.is_write, cmd.allows_stale, cmd.may_replicate

    def _script_checks(self, ctx: Context, cmd: Command, argv: list[bytes]) -> Any:
        """A ``redis.call``'s checks, in Redis's order (scriptCall): a command not allowed
        from scripts, a stale replica, the caller's ACL permissions (it runs as its
        caller), a write in a read-only run, then a write's READONLY / MISCONF."""
        gated = self.gated
        if gated:
            stale = self._replica_stale
            if stale is not None and not cmd.allows_stale and not cmd.noscript and stale():
                raise self._reject(cmd, LedisError(errors.SCRIPT_STALE))
        caller = self.scripting.caller
        try:  # a call refused before it runs counts as rejected (Redis's scriptCall)
            if caller is not None and not caller.user.unrestricted and not cmd.noscript:
                self.acl.check(caller, caller.user, cmd, argv, "lua")
            self.script_check(ctx, cmd, argv)
        except LedisError as exc:
            raise self._reject(cmd, exc) from None
        if not gated:
            return None
        if cmd.is_write:
            if self._readonly:
                raise self._reject(cmd, LedisError(errors.READONLY))
            if self._store_refusing:
                raise self._reject(cmd, LedisError(errors.STORE_WRITES_DISABLED))
        if self.monitors:
            self.monitor_feed(self, ctx, cmd, argv, True)
        return None

    def _after(self, ctx: Context, cmd: Command, argv: list[bytes], start: float,
               usec: float | None = None) -> None:
        """Bookkeeping of a command that failed, was slow, or is being monitored:
        commandstats, SLOWLOG, LATENCY, the MONITOR stream."""
        if usec is None:
            usec = (_perf() - start) * 1e6
        cmd.calls += 1
        cmd.usec += usec
        if self.latency_tracking:
            hist = cmd.latency_histogram
            if hist is None:
                hist = cmd.latency_histogram = [0] * 64
            hist[min(int(usec).bit_length(), 63)] += 1
        if usec >= self.slowlog.threshold and not ctx.in_script and not cmd.skip_slowlog:
            self.slowlog.add(ctx, argv, usec)
        if usec >= self.latency_threshold:
            latency_add(self, "fast-command" if "fast" in cmd.flags else "command",
                        int(usec // 1000))
        if self.monitors:
            self.monitor_feed(self, ctx, cmd, argv, False)

    def _reject(self, cmd: Command | None, exc: LedisError, ctx: Context | None = None
                ) -> LedisError:
        if cmd is not None:
            cmd.rejected_calls += 1
        if ctx is not None:
            if ctx.multi is not None:
                ctx.multi.failed = True  # type: ignore[attr-defined]  # EXEC will abort
            if cmd is not None and cmd.name == "exec":  # Redis's execCommandAbort
                return self.exec_abort(ctx, exc)
        return exc

    @staticmethod
    def _unknown(argv: list[bytes]) -> LedisError:
        shown = "".join(f"'{a.decode('utf-8', 'replace')[:128]}' " for a in argv[1:])
        name = argv[0].decode("utf-8", "replace")[:128]
        return LedisError(errors.UNKNOWN_COMMAND.format(name, shown))

    def total_commands(self) -> int:
        """INFO total_commands_processed: the sum of every command's calls (kept per command
        only, so the dispatcher's hot path updates one counter, not two)."""
        return sum(
            cmd.calls + sum(sub.calls for sub in cmd.subcommands.values())
            for cmd in self.commands.values()
        )

    def count_error(self, exc: LedisError) -> None:
        """INFO errorstats: count an error reply by its prefix."""
        self.stats["total_error_replies"] += 1
        prefix = exc.prefix
        self.errorstats[prefix] = self.errorstats.get(prefix, 0) + 1

    def new_context(self, kind: str = "normal", addr: str = "", laddr: str = "") -> Context:
        return Context(self, kind, addr, laddr)

    # --- lifecycle -------------------------------------------------------------------------
    def commit(self) -> None:
        self.engine.commit()

    def expire_cycle(self, limit: int = 200, deadline: float | None = None) -> int:
        """Active expiry: remove up to ``limit`` due keys per database; returns how many.

        With ``deadline`` (a ``time.monotonic()`` value), slices of ``limit`` keys go on, each
        committed, while a slice found a full ``limit`` and the deadline has not passed. This
        is Redis's time cap (25% of a cron tick): a mass expiry used to run here until nothing
        was due, stalling every client for seconds (issue #18); what is left waits for the
        next tick. Stopping at the cap counts in ``expired_time_cap_reached_count``."""
        self.access.trim()
        if self.replication.is_replica:
            return 0  # a replica gets its master's expiry deletes through the write log
        started = time.monotonic()
        total = 0
        while True:
            removed = 0
            for db in self.store.dbs:
                removed += db.expire_slice(limit)
            if removed:
                self.stats["expired_keys"] += removed
            total += removed
            if deadline is None or removed < limit:
                break
            self.engine.commit()
            if time.monotonic() >= deadline:
                self.stats["expired_time_cap_reached_count"] += 1
                break
        elapsed_ms = (time.monotonic() - started) * 1000
        self.stats["expire_cycle_cpu_milliseconds"] += int(elapsed_ms)
        if elapsed_ms * 1000 >= self.latency_threshold:  # Redis's latency event of the cycle
            latency_add(self, "expire-cycle", int(elapsed_ms))
        return total

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for hook in self.shutdown_hooks:
            try:
                hook()
            except Exception:
                log.exception("shutdown hook failed")
        self.store.close()

