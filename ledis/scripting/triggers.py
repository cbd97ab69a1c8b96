"""Keyspace triggers: Lua callbacks of FUNCTION libraries run by writes (``core.triggers``).

A library registers them at FUNCTION LOAD time, next to its functions::

    redis.register_trigger{name = 'audit', keys = 'user:*', events = {'set', 'del'},
                           callback = function(event, key) ... end, on_error = 'abort'}

This module owns the registry of triggers (built from the libraries each time the FUNCTION
registry changes: :func:`sync`), deciding which write fires which trigger, running the
callbacks in the functions VM, and the all-or-nothing unit around them.

**Events** are the keyspace-notification names (``ledis.pubsub.notify_write`` computes them
per command, so ``set``, ``hset``, ``del``, ``lpush``, ``expire``... mean exactly what they
mean for ``notify-keyspace-events``), plus ``expired`` from expiry. ``keys`` is a glob (a
pattern without glob characters is a prefix); several patterns may be given as a table.

**Where triggers hook in.** Writes reach them through the dispatcher's write observer
(``core.watched_write``), the slow path that WATCH and keyspace notifications already use:
``core.notify_writes`` is set while any trigger exists, so with no trigger the dispatcher
never leaves its fast path. While triggers exist, :meth:`Triggers.write` *is* the observer
(it calls ``ledis.commands.transactions.observe_write`` for WATCH, notifications and
tracking). Per write command, the triggers that listen to an event this command can emit are
found once (when the triggers change), and their key patterns reduced to a table indexed by
the first byte of the command's key, :attr:`Triggers.tables`: False where no trigger's literal
head starts with that byte, else the heads that do (``_NEVER``: no trigger wants this
command's events; ``_ALWAYS``: the key is not the first argument alone). While triggers are
the only observer, ``Core.dispatch`` runs that test inline (``core.trigger_tables``), so a
write no trigger can match costs one dict hit, one tuple index (and ``bytes.startswith`` when
that byte begins some head) and no observer frame (issue #16); anything else reaches
:meth:`Triggers.write`, which applies the same test, then the exact precompiled patterns;
only a match takes the slow path. Expiry calls :meth:`Triggers.expired` from the
active-expiry callback (``ledis.pubsub.attach_expiry_events``).

**The unit.** Like Redis 7.2's post-notification jobs, callbacks run when the command that
fired them has finished, before its reply, on the loop thread, in the same pending batch:

* a plain command (also from HTTP, the embedded API, or one queued command of EXEC): right
  after it; the callback sees the new value;
* a script (EVAL/EVALSHA/FCALL): the events of its ``redis.call`` writes are queued and the
  callbacks run when the script returns (no Lua re-entrancy; the script is the unit);
* active expiry: right after the key is removed.

A callback's own writes queue further events, run in the same loop, one level deeper; past
``trigger_max_depth`` levels the unit fails. With ``on_error='abort'`` (default) a failing
callback fails the firing command and takes back every write of the unit: an engine
savepoint (``Engine.savepoint``, journaling the pending overlay) is opened before the command
when it may fire, and rolled back, with the key counters, on failure. With ``on_error='log'``
only the callback's own writes are taken back (a nested savepoint); the error is logged and
counted. For expiry, the expiry itself always stands (it cannot "fail"); an aborting
callback's writes are taken back and its error counted.

**Replicas** keep the triggers of their libraries (LEDIS.TRIGGERS, FUNCTION LIST show them)
but never run them: the write log carries the master's effects, triggers' writes included.

Known limits: keyspace notifications of a write that a trigger then aborts were already
published; a trigger fired inside a script sees the script's final values, not the value
right after the write. Lazy expiry: ledis does not remove an expired key when a read finds
it (it reads as missing and the active cycle removes it within ~100 ms, firing ``expired``
then); a *write* that replaces or removes an expired key fires ``expired`` for it before the
write's own events, like Redis's expiry on write lookups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import lupa.luajit21 as lj

from ledis import errors
from ledis.commands.registry import own
from ledis.commands.transactions import observe_write, touched
from ledis.errors import LedisError
from ledis.glob import compile as compile_glob
from ledis.glob import literal_prefix
from ledis.pubsub import _SIMPLE, KEYMISS, NEW, notify_write
from ledis.tracking import command_keys

if TYPE_CHECKING:
    from ledis.commands.registry import Command
    from ledis.core import Context, Core
    from ledis.storage.keyspace import Database

log = logging.getLogger("ledis.triggers")

# notify_write emits every class to our collector but n and m ("new", "keymiss"): not
# trigger events
_ALL_CLASSES = 0xFFFF & ~(KEYMISS | NEW)

# Events notify_write emits beside the per-command ones of _SIMPLE (see ledis/pubsub.py).
_SPECIAL_EVENTS: dict[str, frozenset[bytes]] = {
    "rename": frozenset({b"rename_from", b"rename_to"}),
    "renamenx": frozenset({b"rename_from", b"rename_to"}),
    "rpoplpush": frozenset({b"lpush", b"rpop", b"del"}),
    "brpoplpush": frozenset({b"lpush", b"rpop", b"del"}),
    "lmove": frozenset({b"lpush", b"rpush", b"lpop", b"rpop", b"del"}),
    "blmove": frozenset({b"lpush", b"rpush", b"lpop", b"rpop", b"del"}),
    "smove": frozenset({b"srem", b"sadd", b"del"}),
    "move": frozenset({b"move_from", b"move_to"}),
    "copy": frozenset({b"copy_to"}),
    "getex": frozenset({b"del", b"persist", b"expire"}),
    "bitop": frozenset({b"set", b"del"}),
    "lmpop": frozenset({b"lpop", b"rpop", b"del"}),
    "blmpop": frozenset({b"lpop", b"rpop", b"del"}),
    "zmpop": frozenset({b"zpopmin", b"zpopmax", b"del"}),
    "bzmpop": frozenset({b"zpopmin", b"zpopmax", b"del"}),
    "zadd": frozenset({b"zincr"}),  # ZADD ... INCR, beside its _SIMPLE zadd
}
EVENTS = frozenset({event for _, event in _SIMPLE.values()}).union(
    {b"del", b"expire", b"expired"}, *_SPECIAL_EVENTS.values())
_FLAGS = (b"no-writes",)
_ARGS = frozenset({b"name", b"keys", b"events", b"callback", b"flags", b"on_error"})
# First-byte tables (:attr:`Triggers.tables`), indexed by a key's first byte: False when no
# trigger's key prefix starts with that byte, else the prefixes that do (for ``startswith``).
_NEVER: tuple[Any, ...] = (False,) * 256  # no trigger listens to what the command emits
_ALWAYS: tuple[Any, ...] = ((b"",),) * 256  # any key may match: the exact test decides
# A command's first-byte table and the exact test left after it (None: none needed).
_Filed = tuple[tuple[Any, ...], Callable[[list[bytes]], bool] | None]


class TriggerAbort(LedisError):
    """A callback failed with on_error='abort', or the depth limit was passed."""


def _possible_events(name: str) -> frozenset[bytes]:
    """What a write command can emit; ``expired`` for a key it finds expired and replaces."""
    simple = _SIMPLE.get(name)
    special = _SPECIAL_EVENTS.get(name, frozenset())
    if simple is not None:
        return frozenset({simple[1], b"del", b"expire", b"expired"}) | special
    return special | {b"expired"} if special else frozenset()


def _prefixes(patterns: tuple[bytes, ...]) -> tuple[bytes, ...] | None:
    """The prefixes ``patterns`` stand for when each is a prefix or ``prefix*``; else None."""
    out = []
    for pattern in patterns:
        literal = literal_prefix(pattern)
        if literal != pattern and pattern[len(literal):] != b"*":
            return None
        out.append(literal)
    return tuple(out)


def first_byte_table(prefixes: set[bytes]) -> tuple[Any, ...]:
    """The table of the keys that start with one of ``prefixes`` (see ``_NEVER``)."""
    if b"" in prefixes:
        return _ALWAYS
    table: list[Any] = [False] * 256
    for prefix in sorted(prefixes):
        slot = table[prefix[0]]
        table[prefix[0]] = (prefix,) if slot is False else (*slot, prefix)
    return tuple(table)


def _prefix_test(prefix: bytes) -> Callable[[bytes], bool]:
    return lambda key: key.startswith(prefix)


def key_test(patterns: tuple[bytes, ...]) -> Callable[[bytes], bool]:
    """One predicate for ``patterns``: a pattern without glob characters is a prefix."""
    tests = []
    for pattern in patterns:
        if literal_prefix(pattern) == pattern:
            tests.append(_prefix_test(pattern))
        else:
            tests.append(compile_glob(pattern))
    if len(tests) == 1:
        return tests[0]
    return lambda key: any(test(key) for test in tests)


@dataclass(eq=False)
class Trigger:
    library: bytes
    name: bytes
    keys: tuple[bytes, ...]
    events: tuple[bytes, ...]  # empty: every event
    callback: Any
    on_error: bytes  # b"abort" | b"log"
    flags: tuple[bytes, ...]
    test: Callable[[bytes], bool]
    prefixes: tuple[bytes, ...] | None = None  # set when every pattern is a prefix
    fires: int = 0
    errors: int = 0
    last_error: bytes | None = None


def _register_error(text: str, *args: object) -> LedisError:
    return errors.error(errors.FUNCTION_REGISTER, "ERR " + text.format(*args))


def _strings(value: Any) -> list[bytes] | None:
    """A Lua string or a table of strings as a list; None when it is neither."""
    if isinstance(value, bytes):
        return [value]
    if lj.lua_type(value) != "table":
        return None
    out = []
    for _, item in sorted(value.items(), key=lambda kv: kv[0] if isinstance(kv[0], int) else 0):
        if not isinstance(item, bytes):
            return None
        out.append(item)
    return out


def parse(library: bytes, registered: Any) -> list[Trigger]:
    """Check what a library body gave ``redis.register_trigger`` (lua/triggers.lua's list)."""
    triggers: list[Trigger] = []
    if registered is None:
        return triggers
    names: set[bytes] = set()
    for i in range(1, len(registered) + 1):
        item = registered[i]
        spec = item[b"spec"]
        if lj.lua_type(spec) != "table":
            raise _register_error(errors.TRIGGER_ARGS)
        values = {}
        for key, value in spec.items():
            low = key.lower() if isinstance(key, bytes) else None
            if low not in _ARGS:
                raise _register_error(errors.TRIGGER_UNKNOWN_ARG, _show(key))
            values[low] = value
        name = values.get(b"name")
        if not isinstance(name, bytes) or not name or not name.replace(b"_", b"").isalnum():
            raise _register_error(errors.TRIGGER_NAME)
        if name in names:
            raise _register_error(errors.TRIGGER_NAME_TWICE, _show(name))
        names.add(name)
        keys = _strings(values.get(b"keys"))
        if not keys:
            raise _register_error(errors.TRIGGER_KEYS)
        events: list[bytes] = []
        if b"events" in values:
            given = _strings(values[b"events"])
            if not given:
                raise _register_error(errors.TRIGGER_EVENTS)
            for event in given:
                event = event.lower()
                if event not in EVENTS:
                    raise _register_error(errors.TRIGGER_UNKNOWN_EVENT, _show(event))
                if event not in events:
                    events.append(event)
        if lj.lua_type(values.get(b"callback")) != "function":
            raise _register_error(errors.TRIGGER_CALLBACK)
        on_error = values.get(b"on_error", b"abort")
        if not isinstance(on_error, bytes) or on_error.lower() not in (b"abort", b"log"):
            raise _register_error(errors.TRIGGER_ON_ERROR)
        flags: list[bytes] = []
        if b"flags" in values:
            given_flags = _strings(values[b"flags"])
            if given_flags is None:
                raise _register_error(errors.TRIGGER_FLAG, "?")
            for flag in given_flags:
                if flag.lower() not in _FLAGS:
                    raise _register_error(errors.TRIGGER_FLAG, _show(flag))
                flags.append(flag.lower())
        triggers.append(Trigger(library, name, tuple(keys), tuple(events), item[b"callback"],
                                on_error.lower(), tuple(flags), key_test(tuple(keys)),
                                _prefixes(tuple(keys))))
    return triggers


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")[:128]
    return str(value)[:128]


class Triggers:
    """Every trigger of the loaded libraries and the machinery that runs them."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.all: list[Trigger] = []
        self.by_event: dict[bytes, list[Trigger]] = {}
        self.any_event: list[Trigger] = []
        self._candidates: dict[str, tuple[Trigger, ...]] = {}
        # Per write command of the core, at its ``Command.number`` (a renamed command is its
        # own), the first-byte table of the key prefixes a key must start with for any trigger to
        # match (``_NEVER`` when no trigger listens to an event the command can emit,
        # ``_ALWAYS`` when that cannot be told from the first key argument); in ``_filed``,
        # per Command, that table and the exact test left after it (None: the prefix test
        # was exact). Rebuilt in place
        # when the triggers change (:meth:`set`): ``Core.dispatch`` reads this very list
        # (``core.trigger_tables``) to skip the observer for a write no trigger can match.
        # Commands that are not writes keep ``_ALWAYS``.
        self.tables: list[tuple[Any, ...]] = []
        self._filed: dict[Command, _Filed] = {}
        # Fired but not yet run, in the current unit: (db, event, key, depth).
        self.queue: list[tuple[Database, bytes, bytes, int]] = []
        self.depth = 0  # depth of the callback running now (0: none)
        self._ctx: Context | None = None

    # --- the registry ---------------------------------------------------------------------
    def set(self, triggers: list[Trigger]) -> None:
        self.all = triggers
        self.by_event = {}
        self.any_event = []
        for trigger in triggers:
            if not trigger.events:
                self.any_event.append(trigger)
            for event in trigger.events:
                self.by_event.setdefault(event, []).append(trigger)
        self._candidates = {}
        self._filed = {}
        commands = [one for cmd in self.core.commands.values()
                    for one in (cmd, *cmd.subcommands.values())]
        # in place: the core holds this list
        self.tables[:] = [_ALWAYS] * (max(cmd.number for cmd in commands) + 1)
        for cmd in commands:
            if cmd.is_write:
                self._file(cmd)

    def candidates(self, name: str) -> tuple[Trigger, ...]:
        found = self._candidates.get(name)
        if found is None:
            seen: dict[int, Trigger] = {}
            for event in _possible_events(name):
                for trigger in self.by_event.get(event, ()):
                    seen[id(trigger)] = trigger
            if _possible_events(name):
                for trigger in self.any_event:
                    seen[id(trigger)] = trigger
            found = self._candidates[name] = tuple(seen.values())
        return found

    def matching(self, event: bytes, key: bytes) -> list[Trigger]:
        found = [t for t in self.by_event.get(event, ()) if t.test(key)]
        if self.any_event:
            found += [t for t in self.any_event if t.test(key)]
        return found

    # --- hooks ------------------------------------------------------------------------------
    def dormant(self, ctx: Context | None = None) -> bool:
        """A replica (or the master link applying a write) never runs triggers."""
        return bool(self.core.readonly or (ctx is not None and ctx.is_master_link))

    def write(self, ctx: Context, cmd: Command, argv: list[bytes]) -> Any:
        """``core.watched_write`` while triggers exist (the dispatcher's write observer; the
        WATCH / notification / tracking observer ``observe_write`` runs inside).

        While triggers are the only observer, ``Core.dispatch`` runs the :attr:`tables` test
        itself and comes here only for a write it could not rule out; with WATCH,
        notifications or tracking on, every write comes here and gets the same cheap test
        first."""
        filed = self._filed.get(cmd)
        table, test = filed if filed is not None else self._file(cmd)
        if table is _NEVER:
            return observe_write(ctx, cmd, argv)
        if table is not _ALWAYS:  # a single-key command
            key = argv[1]
            heads: Any = table[key[0]] if key else False  # b"" matches no non-empty prefix
            if heads is False or not key.startswith(heads):
                return observe_write(ctx, cmd, argv)
        if test is not None and not test(argv):
            return observe_write(ctx, cmd, argv)
        if self.dormant(ctx):
            return observe_write(ctx, cmd, argv)
        return self._fire_write(ctx, cmd, argv, command_keys(cmd, argv), observe_write)

    def _file(self, cmd: Command) -> _Filed:
        """File ``cmd``'s tests (:attr:`tables` and ``_filed``); returns its table and exact
        test. A single-key command gets the table of its candidates' literal heads (a glob's
        literal head is a necessary condition, so a key without any of them is rejected
        before any glob runs; an empty head, ``*x``, rules nothing out) and, unless every
        candidate is a prefix, the exact test on its key; a command with keys elsewhere gets
        ``_ALWAYS`` and the exact test on each key."""
        candidates = self.candidates(cmd.name)
        tests = tuple(t.test for t in candidates)
        exact: Callable[[list[bytes]], bool] | None
        if not candidates:
            table, exact = _NEVER, None
        elif cmd.first_key == 1 and cmd.last_key == 1:
            table = first_byte_table({literal_prefix(p) for t in candidates for p in t.keys})
            exact = None
            if not all(t.prefixes is not None for t in candidates):
                exact = lambda argv: any(test(argv[1]) for test in tests)  # noqa: E731
        else:
            table = _ALWAYS
            exact = lambda argv: any(  # noqa: E731  (key specs: LMPOP's keys move)
                test(key) for key in command_keys(cmd, argv) for test in tests)
        if cmd.number < len(self.tables):
            self.tables[cmd.number] = table
        self._filed[cmd] = table, exact
        return table, exact

    def _fire_write(self, ctx: Context, cmd: Command, argv: list[bytes], keys: list[bytes],
                    observe: Callable[..., Any]) -> Any:
        db = ctx.db
        befores = [db.raw(key) for key in keys]
        engine = self.core.engine
        unit = None if ctx.in_script else self._open()
        written = engine.writes
        try:
            result = observe(ctx, cmd, argv)
        except BaseException:
            if unit is not None:
                self._close(unit)
            raise
        if touched(cmd.name, engine.writes != written, result, ctx.db, argv):
            # (a write that replaced or removed an expired key collects its "expired" first:
            # Redis's lazy expiry on write, in notify_write)
            notify_write(ctx, cmd, argv, keys, befores, _ALL_CLASSES, self._collect)
        if unit is not None:
            self._run_unit(ctx, unit)
        return result

    def script(self, ctx: Context, argv: list[bytes], handler: Callable[..., Any]) -> Any:
        """EVAL / EVALSHA / FCALL while triggers exist: the script is the unit."""
        if self.dormant(ctx) or ctx.in_script:
            return handler(ctx, argv)
        unit = self._open()
        try:
            result = handler(ctx, argv)
        except LedisError:
            if self.queue:  # the writes made before the error stand, and fire
                self._run_unit(ctx, unit)
            else:
                self._close(unit)
            raise
        except BaseException:
            self.queue.clear()
            self._close(unit)
            raise
        if self.queue:
            self._run_unit(ctx, unit)
        else:
            self._close(unit)
        return result

    def expired(self, db: Database, key: bytes) -> None:
        """Active expiry removed ``key``: run its ``expired`` triggers (the removal stands)."""
        if self.dormant() or not self.matching(b"expired", key):
            return
        unit = self._open()
        self.queue.append((db, b"expired", key, 1))
        try:
            self._run_unit(self._internal_ctx(), unit)
        except LedisError as exc:
            log.warning("expired trigger on %r: %s", key[:128], exc.text)

    def served(self, ctx: Context, cmd: Command, argv: list[bytes], keys: list[bytes],
               befores: list[bytes | None]) -> None:
        """A blocked client's pop was served after the write that fed it (ledis/blocking.py):
        run the triggers of its events. No command's unit is open there to undo, so, as for
        active expiry, the pop stands: a failing callback's writes are discarded, and the
        failure is counted and logged."""
        if self.dormant():
            return
        unit = self._open()
        notify_write(ctx, cmd, argv, keys, befores, _ALL_CLASSES, self._collect)
        if not self.queue:
            self._close(unit)
            return
        try:
            self._run_unit(self._internal_ctx(), unit)
        except LedisError as exc:
            log.warning("trigger on a served %s: %s", cmd.name, exc.text)

    # --- the unit ---------------------------------------------------------------------------
    def _collect(self, cls: int, event: bytes, key: bytes, number: int) -> None:
        """notify_write's emitter: queue the event when some trigger wants it."""
        if self.matching(event, key):
            self.queue.append((self.core.store.dbs[number], event, key, self.depth + 1))

    def _open(self) -> tuple[int, list[tuple]]:
        counts = [(db.keys, db.expires, db.counts_dirty, db.index, db.prefix)
                  for db in self.core.store.dbs]
        return self.core.engine.savepoint(), counts

    def _close(self, unit: tuple[int, list[tuple]]) -> None:
        self.core.engine.release(unit[0])

    def _rollback(self, unit: tuple[int, list[tuple]]) -> None:
        self.core.engine.rollback_to(unit[0])
        for db, saved in zip(self.core.store.dbs, unit[1], strict=True):
            db.keys, db.expires, db.counts_dirty, db.index, db.prefix = saved

    def _run_unit(self, ctx: Context, unit: tuple[int, list[tuple]]) -> None:
        """Run every queued callback (and those their writes fire); all-or-nothing."""
        queue = self.queue
        limit = self.core.config.trigger_max_depth
        try:
            i = 0
            while i < len(queue):
                db, event, key, depth = queue[i]
                i += 1
                for trigger in self.matching(event, key):
                    if depth > limit:
                        raise TriggerAbort(errors.TRIGGER_DEPTH.format(
                            limit, _show(event), _show(key)))
                    self._run_one(ctx, trigger, db, event, key, depth)
        except LedisError as exc:
            queue.clear()
            self._rollback(unit)
            self._close(unit)
            # the caught (shared) error itself, without its frames: nothing to chain (B904)
            raise exc.with_traceback(None)  # noqa: B904
        queue.clear()
        self._close(unit)

    def _run_one(self, caller: Context, trigger: Trigger, db: Database, event: bytes,
                 key: bytes, depth: int) -> None:
        inner = self._open() if trigger.on_error == b"log" else None
        queued = len(self.queue)
        trigger.fires += 1
        try:
            self._call(caller, trigger, db, event, key, depth)
        except TriggerAbort:
            raise
        except LedisError as exc:
            trigger.errors += 1
            trigger.last_error = exc.text.encode("utf-8", "replace")
            if inner is None:
                raise TriggerAbort(errors.TRIGGER_FAILED.format(
                    _show(trigger.library), _show(trigger.name), _show(event), _show(key),
                    exc.text)) from None
            log.warning("trigger %s.%s failed on %s %r (on_error=log): %s",
                        _show(trigger.library), _show(trigger.name), _show(event), key[:128],
                        exc.text)
            del self.queue[queued:]
            self._rollback(inner)
        if inner is not None:
            self._close(inner)

    def _call(self, caller: Context, trigger: Trigger, db: Database, event: bytes,
              key: bytes, depth: int) -> None:
        from ledis.scripting.convert import lua_failure
        from ledis.scripting.runtime import HOOK_COUNT, run_reply

        core = self.core
        functions = core.functions
        scripting = core.scripting
        if scripting.ctx is None or functions.lua is None:
            scripting._runtime()
            functions._runtime()
        ctx = scripting.ctx
        assert ctx is not None  # made by scripting._runtime()
        ctx.db = db
        ctx.db_index = db.logical
        ctx.resp = 2
        ctx.script_readonly = b"no-writes" in trigger.flags
        scripting.script_resp = 2
        limit_ms = core.config.lua_time_limit_ms
        name = trigger.library + b"." + trigger.name
        saved_depth = self.depth
        self.depth = depth
        scripting.begin_run(caller, name, "function")
        try:
            res = functions._call(trigger.callback, HOOK_COUNT if limit_ms else 0, False, 0,
                                  event, key)
        except lj.LuaError as exc:
            raise lua_failure(exc, functions._after_oom) from None
        finally:
            scripting.end_run()
            self.depth = saved_depth
        run_reply(res, trigger.name, functions._after_oom, functions._last_error_pos)

    def _internal_ctx(self) -> Context:
        if self._ctx is None:
            self._ctx = self.core.new_context("trigger")
            self._ctx.authenticated = True
        return self._ctx


# --- installation -------------------------------------------------------------------------

_SCRIPT_COMMANDS = ("eval", "evalsha", "fcall")


def sync(core: Core, libraries: dict[bytes, Any]) -> None:
    """The FUNCTION registry changed: rebuild the trigger registry from ``libraries``.
    ``core.triggers`` is None while no library has a trigger (the dispatcher's gate);
    otherwise :meth:`Triggers.write` is the dispatcher's write observer."""
    from ledis.commands.transactions import watched_write

    found = [t for lib in libraries.values() for t in getattr(lib, "triggers", ())]
    current = core.__dict__.get("triggers")
    if not found:
        if current is not None:
            core.triggers = None
            core.watched_write = watched_write
            core.refresh_hot_flags()
        return
    if current is None:
        current = Triggers(core)
        _wrap_script_commands(core)
    current.set(found)
    if core.__dict__.get("triggers") is None:
        core.triggers = current
        core.watched_write = current.write
        core.refresh_hot_flags()


def _wrap_script_commands(core: Core) -> None:
    """Route EVAL / EVALSHA / FCALL through :meth:`Triggers.script` while triggers exist.
    The registry is shared by every core of the process, so the wrapper asks the caller's
    core; installed once, it costs one attribute test per script call."""
    for name in _SCRIPT_COMMANDS:
        cmd = own(core.commands, name)
        if cmd is None or getattr(cmd.handler, "_trigger_wrapped", False):
            continue

        def wrapped(ctx: Context, argv: list[bytes], _handler: Any = cmd.handler) -> Any:
            triggers = ctx.core.triggers
            if triggers is None:
                return _handler(ctx, argv)
            return triggers.script(ctx, argv, _handler)

        wrapped._trigger_wrapped = True  # type: ignore[attr-defined]
        cmd.handler = wrapped
