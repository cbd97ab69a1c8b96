"""Client-side caching: CLIENT TRACKING's tables and invalidation messages (Redis 6/7).

One :class:`Tracker` per core (``core.tracking``), created by the first CLIENT TRACKING ON;
until then ``core.tracking`` is None and nothing here costs anything. Each tracking client has
a :class:`ClientTracking` in ``ctx.tracking`` (None when off).

**Default mode.** A tracking client's read-only commands remember their keys in ``table``
(key -> client ids). Keys are not per database, as in Redis: a change of ``k`` in any
database invalidates ``k``. A write that changes a key sends one ``invalidate`` message to
every client remembering it and forgets the key (the client must read it again to hear about
it again). OPTIN remembers only after CLIENT CACHING YES, OPTOUT skips after CLIENT CACHING NO;
the flag lasts for the next command (a whole MULTI/EXEC, and never consumed by CLIENT ...).

**BCAST mode.** Nothing is remembered; every changed key matching one of the client's
prefixes (none = every key) is collected and sent at the end of the event-loop iteration
(Redis's beforeSleep), one message per prefix with its keys sorted.

**Delivery.** RESP3 clients get a ``>invalidate [keys]`` push on their own connection. With
REDIRECT the messages go to the other client instead: as a push if it speaks RESP3, as a
``message`` on ``__redis__:invalidate`` if it is a RESP2 subscriber (of anything), else
nowhere. A RESP3 client whose redirect client went away gets ``tracking-redir-broken``.
FLUSHDB / FLUSHALL send a null invalidation to every tracking client and empty the table.
Messages for the client whose own command caused them are held until that command's reply has
been written (``pending``, drained by the connection), so pushes never split a reply; NOLOOP
drops them instead.

**Hooks.** Reads: a ``core.special_checks`` entry (tracking clients have ``ctx.special``) and a
wrapper of ``core.script_check`` (reads of scripts count for their caller). Writes: the
dispatcher's write observer ``ledis.commands.transactions.watched_write``, active while at
least one client tracks (``core.notify_writes``), calls :meth:`Tracker.keys_changed` for the
keys a write changed and :meth:`Tracker.flushed` for FLUSHDB / FLUSHALL; active expiry and
blocked pops served after another client's push (``ledis.blocking``, outside the dispatcher)
call it too.
"""

from __future__ import annotations

from typing import Any

from ledis.replies import Push

INVALIDATE = b"invalidate"
CHANNEL = b"__redis__:invalidate"

# Messages for the client whose own command caused them: (ctx, value), sent after its reply.
# Never rebound: the connection tests it after every reply.
pending: list[tuple[Any, Any]] = []


class ClientTracking:
    """``ctx.tracking``: one client's tracking options."""

    __slots__ = ("bcast", "optin", "optout", "noloop", "redirect", "prefixes", "caching",
                 "clear_caching", "broken")

    def __init__(self, bcast: bool, optin: bool, optout: bool, noloop: bool, redirect: int,
                 prefixes: list[bytes]) -> None:
        self.bcast = bcast
        self.optin = optin
        self.optout = optout
        self.noloop = noloop
        self.redirect = redirect  # 0: none
        self.prefixes = prefixes
        self.caching: bool | None = None  # CLIENT CACHING YES / NO for the next command
        self.clear_caching = False  # the command that used ``caching`` is done
        self.broken = False  # the redirect client went away


class Tracker:
    __slots__ = ("core", "table", "prefixes", "changed", "clients", "_scheduled")

    def __init__(self, core: Any) -> None:
        self.core = core
        self.table: dict[bytes, set[int]] = {}  # default mode: key -> ids of readers
        self.prefixes: dict[bytes, dict[int, None]] = {}  # BCAST: prefix -> client ids
        # BCAST keys changed in this iteration: prefix -> {key: id of the writer}
        self.changed: dict[bytes, dict[bytes, int]] = {}
        self.clients: set[int] = set()  # ids of clients with tracking on
        self._scheduled = False

    # --- client state ---------------------------------------------------------------------
    def enable(self, ctx: Any, state: ClientTracking) -> None:
        old = ctx.tracking
        if old is not None and old.bcast:
            self._drop_prefixes(ctx.id, old.prefixes)
        if old is not None and state.bcast:
            state.prefixes = sorted(set(old.prefixes) | set(state.prefixes))
        ctx.tracking = state
        ctx.special = True
        if not self.clients:
            self.clients.add(ctx.id)
            self.core.refresh_hot_flags()  # writes now go through the observer
        self.clients.add(ctx.id)
        if state.bcast:
            for prefix in state.prefixes or [b""]:
                self.prefixes.setdefault(prefix, {})[ctx.id] = None
            if not state.prefixes:
                state.prefixes = [b""]

    def disable(self, ctx: Any) -> None:
        state = ctx.tracking
        if state is None:
            return
        if state.bcast:
            self._drop_prefixes(ctx.id, state.prefixes)
        ctx.tracking = None
        self.clients.discard(ctx.id)
        if not self.clients:
            self.core.refresh_hot_flags()  # the write path is free again
        # Keys the client read stay in the table (Redis forgets them lazily): a client that
        # turns tracking on again hears about them.

    def _drop_prefixes(self, client_id: int, prefixes: list[bytes]) -> None:
        for prefix in prefixes or [b""]:
            ids = self.prefixes.get(prefix)
            if ids is not None:
                ids.pop(client_id, None)
                if not ids:
                    del self.prefixes[prefix]

    # --- reads --------------------------------------------------------------------------------
    def remember(self, ctx: Any, keys: list[bytes]) -> None:
        """A read-only command of tracking client ``ctx`` read ``keys``."""
        state = ctx.tracking
        if state.bcast:
            return
        caching = state.caching
        if (state.optin and caching is not True) or (state.optout and caching is False):
            return
        table = self.table
        client_id = ctx.id
        for key in keys:
            ids = table.get(key)
            if ids is None:
                table[key] = {client_id}
            else:
                ids.add(client_id)

    # --- writes -------------------------------------------------------------------------------
    def keys_changed(self, writer: Any, keys: list[bytes]) -> None:
        """``keys`` were modified by ``writer`` (a client context, a script's, or None)."""
        current = _current_client(writer)
        if self.prefixes:
            self._note_for_broadcast(current, keys)
        table = self.table
        if not table:
            return
        clients = self.core.clients
        for key in keys:
            ids = table.pop(key, None)
            if not ids:
                continue
            for client_id in ids:
                target = clients.get(client_id)
                if target is None:
                    continue
                state = target.tracking
                if state is None or state.bcast:
                    continue
                if target is current:
                    if state.noloop:
                        continue
                    self._send(target, [key], hold=True)
                else:
                    self._send(target, [key])

    def flushed(self, writer: Any) -> None:
        """FLUSHDB / FLUSHALL: a null invalidation to every tracking client, table emptied."""
        current = _current_client(writer)
        clients = self.core.clients
        for client_id in list(self.clients):
            target = clients.get(client_id)
            if target is None or target.tracking is None:
                self.clients.discard(client_id)
                continue
            self._send(target, None, hold=target is current)
        self.table.clear()

    def _note_for_broadcast(self, current: Any, keys: list[bytes]) -> None:
        writer_id = current.id if current is not None else 0
        for prefix in self.prefixes:
            for key in keys:
                if key.startswith(prefix):
                    self.changed.setdefault(prefix, {})[key] = writer_id
        if self.changed and not self._scheduled:
            server = getattr(self.core, "server", None)
            if server is not None and server.loop is not None:
                self._scheduled = True
                server.loop.call_soon(self.broadcast)
            else:  # embedded, no network server: nobody could receive a message
                self.changed.clear()

    def broadcast(self) -> None:
        """End of the iteration: BCAST messages, one per prefix and client, keys sorted."""
        self._scheduled = False
        changed, self.changed = self.changed, {}
        clients = self.core.clients
        for prefix in sorted(changed):
            keys = changed[prefix]
            ordered = sorted(keys)
            for client_id in list(self.prefixes.get(prefix, ())):
                target = clients.get(client_id)
                if target is None or target.tracking is None:
                    continue
                if target.tracking.noloop:
                    mine = [k for k in ordered if keys[k] != client_id]
                    if mine:
                        self._send(target, mine)
                else:
                    self._send(target, ordered)

    # --- delivery -----------------------------------------------------------------------------
    def _send(self, ctx: Any, keys: list[bytes] | None, hold: bool = False) -> None:
        """Redis's sendTrackingMessage: to ``ctx`` or its redirect client."""
        state = ctx.tracking
        target = ctx
        if state is not None and state.redirect:
            target = self.core.clients.get(state.redirect)
            if target is None:
                state.broken = True
                if ctx.resp == 3:
                    _deliver(ctx, Push([b"tracking-redir-broken", state.redirect]), hold)
                return
        if target.resp == 3:
            value = Push([INVALIDATE, keys])
        elif state is not None and state.redirect and (
                target.subscriptions or target.patterns or target.shard_subscriptions):
            value = Push([b"message", CHANNEL, keys])
        else:
            return  # RESP2 without a subscribed redirect client: nowhere to send
        _deliver(target, value, hold and target is ctx)

    def info(self) -> dict[str, int]:
        return {"tracking_clients": len(self.clients),
                "tracking_total_keys": len(self.table),
                "tracking_total_items": sum(len(ids) for ids in self.table.values()),
                "tracking_total_prefixes": len(self.prefixes)}


def _current_client(writer: Any) -> Any:
    """The client a write is attributed to: a script's caller, else the writer itself."""
    if writer is not None and writer.in_script:
        return writer.core.scripting.caller
    return writer


def _deliver(ctx: Any, value: Any, hold: bool) -> None:
    conn = ctx.conn
    if conn is None or conn.closing:
        return
    if hold:
        pending.append((ctx, value))
        conn.server.loop.call_soon(send_pending)  # in case no reply is written after it
        return
    conn.push(value)


def send_pending() -> None:
    """Write the held messages (after the reply of the command that caused them)."""
    if not pending:
        return
    held = pending[:]
    pending.clear()
    for ctx, value in held:
        conn = ctx.conn
        if conn is not None and not conn.closing:
            conn.push(value)


def tracker(core: Any) -> Tracker:
    """The core's tracker, created (and its hot-path hooks attached) on first use."""
    t = core.__dict__.get("tracking")
    if t is None:
        t = core.tracking = Tracker(core)
        _attach(core, t)
    return t


# --- hooks ----------------------------------------------------------------------------------
def install(core: Any) -> None:
    """The composition root's registration (ledis/server/compose.py): the read check and the
    per-client cleanup. They cost nothing until a client tracks (``ctx.tracking`` is None)."""
    core.special_checks.append(_read_check)
    core.reset_hooks.append(_forget)
    core.disconnect_hooks.append(_forget)


def _forget(ctx: Any) -> None:
    if ctx.tracking is not None:
        ctx.core.tracking.disable(ctx)
        ctx.refresh_special()


def _attach(core: Any, t: Tracker) -> None:
    """The first CLIENT TRACKING ON: the hooks on hot paths (script reads, active expiry) are
    attached only now, so a server where nobody tracks does not pay for them."""
    original_script_check = core.script_check

    def script_check(ctx: Any, cmd: Any, argv: list[bytes]) -> Any:
        result = original_script_check(ctx, cmd, argv)
        if cmd.is_readonly:
            caller = core.scripting.caller
            if caller is not None and caller.tracking is not None:
                t.remember(caller, command_keys(cmd, argv))
        return result

    core.script_check = script_check
    for db in core.store.dbs:  # active expiry deletes keys: invalidate them too
        previous = db.on_expired

        def on_expired(db: Any, key: bytes, _previous: Any = previous) -> None:
            if _previous is not None:
                _previous(db, key)
            t.keys_changed(None, [key])

        db.on_expired = on_expired
    core.refresh_hot_flags()


def _read_check(ctx: Any, cmd: Any, argv: list[bytes]) -> None:
    """core.special_checks entry: remember the keys of a tracking client's reads; manage the
    one-command life of CLIENT CACHING."""
    state = ctx.tracking
    if state is None:
        return None
    multi = ctx.multi
    if multi is not None and not multi.executing:
        if cmd.name == "exec":
            state.clear_caching = True  # the flag covers the transaction, then ends
        return None  # queued, not run yet
    if state.clear_caching and multi is None:
        state.caching = None
        state.clear_caching = False
    if cmd.is_readonly and not state.bcast:
        ctx.core.tracking.remember(ctx, command_keys(cmd, argv))
    if multi is None and not cmd.name.startswith("client|"):
        state.clear_caching = True
    return None


def written_keys(cmd: Any, argv: list[bytes]) -> list[bytes]:
    """The keys a write command may change: its keys without the read-only ones (the
    sources of SINTERSTORE, COPY, BITOP ...)."""
    from ledis.commands.introspection import getkeys

    return [argv[i] for i, flags in getkeys(cmd, argv) if "RO" not in flags]


def command_keys(cmd: Any, argv: list[bytes]) -> list[bytes]:
    """The key arguments of a command (as COMMAND GETKEYS finds them for movablekeys
    commands: LMPOP, ZUNIONSTORE, SORT ... STORE)."""
    if "movablekeys" in cmd.flags:
        from ledis.commands.introspection import getkeys

        return [argv[i] for i, _flags in getkeys(cmd, argv)]
    return [argv[i] for i in cmd.key_positions(argv)]
