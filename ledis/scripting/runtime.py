"""The EVAL engine: one sandboxed LuaJIT runtime per server, the script cache, the redis.call
bridge and the time limit (BUSY / SCRIPT KILL).

``core.scripting`` is a :class:`Scripting`. The LuaRuntime is created on first use and rebuilt
by SCRIPT FLUSH. The sandbox, the ``redis`` table, the error handler and the Lua -> RESP
conversion of a script's reply live in ``lua/prelude.lua``; this module holds the Python half:

* **Cache.** ``scripts`` maps the lower-case hex sha1 to ``(compiled function, flags)``
  (``flags`` is None for a script without shebang, "compat mode"). Bodies are persisted in
  the ``sys`` family under ``script:<sha>`` in the same batch as the EVAL's writes, so
  EVALSHA works after a restart: a cache miss looks there before answering NOSCRIPT.
* **Bridge.** ``redis.call`` is a Lua closure over one Python function that checks the
  arguments, runs the command through ``Core.dispatch`` with the script's Context (which
  shares the caller's db) and converts the reply to Lua (Redis's rules, RESP2 or RESP3 after
  ``redis.setresp(3)``). Strings and integers come back as they are; a status is
  ``(nil, 1, text)`` and an error ``(nil, 2, text)``, which the closure turns into ``{ok=}`` /
  raises ``{err=}``; a flat array of strings and integers (RESP2 nulls as false) is
  ``(nil, 3, items...)``, which the closure packs into a table; other aggregates become Lua
  tables through ``table_from``.
* **Checks.** A ``core.special_checks`` entry rejects ``noscript`` commands and writes in
  read-only runs (EVAL_RO, ``no-writes``) with Redis's texts, and notes the first write
  (a script that wrote cannot be killed). The bridge runs the same checks inline for a
  command it has run before (``fast``: its exact spelling -> command) when nothing gates the
  core, the caller's user is unrestricted and no tracking wraps ``script_check``; the
  dispatcher then skips its slow path for that call (issue #19: two Python frames less per
  ``redis.call``).
* **Atomicity.** Nothing here commits: every write of a script lands in the engine's pending
  batch, which the server commits once at the end of the loop iteration.
* **Time limit.** User chunks run with jit off and a count hook calling :meth:`_check`
  every ``HOOK_COUNT`` instructions. Past ``lua_time_limit_ms`` the hook serves the other
  connections itself (DESIGN.md section 4): it reads their sockets into their own parsers,
  answers BUSY, honours SCRIPT KILL and SHUTDOWN NOSAVE; other parsed commands stay queued and
  run after the script.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from typing import TYPE_CHECKING, Any

import lupa.luajit21 as lj

from ledis import errors
from ledis.commands.args import parse_int
from ledis.errors import LedisError, ProtocolError
from ledis.replies import OK, Simple
from ledis.resources import LUA_DIR
from ledis.scripting.convert import (  # noqa: F401  (_script_int, run_reply: also from here)
    _number_arg,
    _script_int,
    _text,
    host_value,
    lua_converter,
    run_reply,
)
from ledis.storage.layout import SYS

if TYPE_CHECKING:
    from ledis.core import Command, Context, Core

log = logging.getLogger("ledis.scripting")

LIBRARIES = ("cjson", "cmsgpack", "struct", "prng")
HOOK_COUNT = 100_000
SERVICE_INTERVAL = 0.002  # seconds between two passes over the other clients while busy
BODY_CACHE = 1000  # EVAL bodies remembered to skip hashing them again
SCRIPT_PREFIX = b"script:"
SHEBANG_FLAGS = frozenset((b"no-writes", b"allow-oom", b"allow-stale", b"no-cluster",
                           b"allow-cross-slot-keys"))
_perf = time.perf_counter

_ERR_TAG = 2
_NO_ARGS = (None, _ERR_TAG, errors.SCRIPT_NO_ARGS.encode())
_ARG_TYPE = (None, _ERR_TAG, errors.SCRIPT_ARG_TYPE.encode())
_UNKNOWN = (None, _ERR_TAG, errors.SCRIPT_UNKNOWN_CMD.encode())
_WRONG_ARGS = (None, _ERR_TAG, errors.SCRIPT_WRONG_ARGS.encode())
_INTERNAL = (None, _ERR_TAG, errors.INTERNAL.encode())
_STATUS_OK = (None, 1, b"OK")  # redis.call's {ok='OK'}, the commonest status
_ARRAY_TAG = 3  # (nil, 3, items...): a flat array, packed into a table by the prelude
_ARRAY_VARARGS = 64  # longer arrays go through table_from (lupa pushes varargs one by one)
_LOG_LEVELS = (logging.DEBUG, logging.INFO, logging.INFO, logging.WARNING)


def _deny_attributes(obj: object, name: object, is_setting: bool) -> object:
    raise AttributeError("access denied")


def sha1hex(body: bytes) -> bytes:
    return hashlib.sha1(body).hexdigest().encode()


def _numkeys(argv: list[bytes], by_sha: bool) -> int:
    """EVAL's numkeys beyond one valid digit, with Redis's errors in Redis's order (EVALSHA
    first refuses a sha that is not 40 characters long)."""
    if by_sha and len(argv[1]) != 40:
        raise LedisError(errors.NOSCRIPT)
    numkeys = parse_int(argv[2])
    if numkeys > len(argv) - 3:
        raise LedisError(errors.NUMKEYS_TOO_BIG)
    if numkeys < 0:
        raise LedisError(errors.NUMKEYS_NEGATIVE)
    return numkeys


def parse_shebang(body: bytes) -> tuple[frozenset[bytes] | None, bytes]:
    """Return (flags or None in compat mode, source to compile) for a script body."""
    if not body.startswith(b"#!"):
        return None, body
    nl = body.find(b"\n")
    if nl < 0:
        raise LedisError(errors.SHEBANG_INVALID)
    from ledis.inline import split_args

    try:
        parts = split_args(body[:nl])
    except ProtocolError:
        raise LedisError(errors.SHEBANG_INVALID) from None
    if not parts:
        raise LedisError(errors.SHEBANG_NO_ENGINE)
    if parts[0] != b"#!lua":
        raise errors.error(errors.SHEBANG_ENGINE, _text(parts[0]))
    flags: set[bytes] = set()
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise errors.error(errors.SHEBANG_OPTION, _text(part))
        listed = part[6:]
        if not listed:
            continue
        for flag in listed.split(b","):
            if flag not in SHEBANG_FLAGS:
                raise errors.error(errors.SHEBANG_FLAG, _text(flag))
            flags.add(flag)
    return frozenset(flags), body[nl:]


class Scripting:
    """EVAL/EVALSHA/SCRIPT state of one server (``core.scripting``).

    Past ``lua-time-limit`` the count hook calls ``_begin_busy`` / ``_service`` / ``_end_busy``.
    Here they only keep the ``busy`` flag; serving the other clients meanwhile (answering
    BUSY, SCRIPT KILL...) needs their sockets, so it lives in the server layer:
    ``ledis.server.busy.ServedScripting`` is the class the composition root builds.

    ``ledis/scripting/functions.py`` builds FCALL on top of this object: it reuses
    ``_make_bridge``, ``_log``, ``_setresp``, ``_command_exists``, ``ctx``, ``script_resp``,
    the run state (``running``, ``wrote``, ``killed``, ``busy_kind``) and ``begin_run`` /
    ``check`` / ``end_run``; keep those names stable.
    """

    def _begin_busy(self, warn: bool = True) -> None:
        self.busy = True

    def _service(self) -> None:
        pass

    def _end_busy(self) -> None:
        self.busy = False

    def __init__(self, core: Core) -> None:
        self.core = core
        self.config = core.config
        self.lua: Any = None
        self.scripts: dict[bytes, tuple[Any, frozenset[bytes] | None]] = {}
        self.ctx: Context | None = None
        self.running = False
        self.killed: bool = False
        self.wrote: bool = False
        self.busy = False
        self.caller: Context | None = None
        self.current_sha: bytes = b""
        self.busy_kind: str = "script"
        self.start: float = 0.0
        self._last_service = 0.0
        self._busy_fds: dict[int, Any] = {}
        self._touched: list[Any] = []
        self._listeners: dict[int, socket.socket] = {}
        self._accepted: list[tuple[Any, socket.socket]] = []
        self.script_resp = 2
        self._prng_get: Any = None
        self._prng_state: Any = None
        # EVAL body / EVALSHA sha as sent -> (sha, fn, flags); emptied with ``scripts``.
        self._by_body: dict[bytes, tuple[bytes, Any, frozenset[bytes] | None]] = {}
        self._by_sha: dict[bytes, tuple[bytes, Any, frozenset[bytes] | None]] = {}
        core.special_checks.append(self._check_command)
        core.script_check = self._own_check = self._check_command
        core.gate_flags = self.gate_flags
        # ledis.host.<name>(...) in Lua: Python callables of an embedding program
        # (ledis.embedded.register_host_function); never reachable over the network.
        self.host_functions: dict[bytes, Any] = {}

    # --- INFO ------------------------------------------------------------------------------
    def memory_used(self) -> int:
        """Bytes used by the Lua VM (INFO used_memory_lua)."""
        if self.lua is None:
            return 0
        return int(self.lua.get_memory_used() or 0)

    @property
    def number_of_cached_scripts(self) -> int:
        return len(self.scripts)

    # --- the runtime -------------------------------------------------------------------------
    def _runtime(self) -> Any:
        if self.lua is None:
            self._create()
        return self.lua

    def new_vm(self, check: Any) -> tuple[Any, Any, Any]:
        """A sandboxed LuaJIT runtime with the prelude run in it: ``(lua, api, entry)``.

        Shared by EVAL (this class) and FUNCTION (``ledis/scripting/functions.py``, which runs
        its own prelude on top); ``check`` is the count hook's time-limit callback."""
        lua = lj.LuaRuntime(
            encoding=None, register_eval=False, register_builtins=False,
            unpack_returned_tuples=True, attribute_filter=_deny_attributes,
            max_memory=self.core.config.lua_max_memory_mb * 1024 * 1024,
        )
        libs = {}
        for name in LIBRARIES:
            path = LUA_DIR / f"{name}.lua"
            if path.exists():
                libs[name.encode()] = path.read_bytes()
        bridge = self._make_bridge(lua)
        api = lua.table_from({
            b"bridge": bridge,
            b"check": check,
            b"log": self._log,
            b"sha1hex": sha1hex,
            b"setresp": self._setresp,
            b"command_exists": self._command_exists,
            **self.host_api(bridge),  # ledis.host.<name> (ledis/embedded.py)
            b"fcall": self._fcall_api(bridge),  # ledis.fcall (ledis/scripting/modules.py)
            b"libs": lua.table_from(libs),
        })
        prelude = lua.compile((LUA_DIR / "prelude.lua").read_bytes(), name=b"@ledis_prelude")
        return lua, api, prelude(api)

    def _create(self) -> None:
        lua, _api, entry = self.new_vm(self._check)
        self.lua = lua
        self._prng_get = entry[b"prng_get"]
        if self._prng_state is not None and entry[b"prng_set"] is not None:
            entry[b"prng_set"](self._prng_state)
        self._compile_fn = entry[b"compile"]
        self._run_fn = entry[b"run"]
        self.entry = entry  # the prelude's entry points (the Lua debugger uses more of them)
        self._forget_scripts()
        ctx = self.core.new_context("script")
        ctx.in_script = True
        ctx.special = True
        ctx.authenticated = True
        self.ctx = ctx

    def flush(self) -> None:
        """SCRIPT FLUSH: forget every script (memory and ``sys``) and reset the Lua VM."""
        self.core.engine.delete_range(SYS, SCRIPT_PREFIX, b"script;", drop_cached=True)
        if self.lua is not None and self._prng_get is not None:
            self._prng_state = self._prng_get()
        self._forget_scripts()
        self.lua = None

    # --- cache -------------------------------------------------------------------------------
    def load(self, body: bytes) -> bytes:
        """SCRIPT LOAD / the first EVAL of a body: compile, cache, persist; returns the sha."""
        sha = sha1hex(body)
        if sha not in self.scripts:
            self._compile(sha, body)
            key = SCRIPT_PREFIX + sha
            engine = self.core.engine
            # While the store refuses writes (a full disk) the body is only cached: a failed
            # commit would close the connection of an EVAL_RO that wrote nothing itself.
            if engine.write_error is None and engine.get(SYS, key) is None:
                engine.put(SYS, key, body)
        return sha

    def _compile(self, sha: bytes, body: bytes) -> tuple[Any, frozenset[bytes] | None]:
        flags, source = parse_shebang(body)
        self._runtime()
        try:
            result = self._compile_fn(source, b"@user_script")
        except lj.LuaMemoryError:
            self._after_oom()
            raise LedisError(errors.SCRIPT_OOM) from None
        except lj.LuaError as exc:
            raise errors.error(errors.SCRIPT_COMPILE, str(exc).split("\n", 1)[0]) from None
        fn = result[0] if type(result) is tuple else result
        if fn is None:
            message = result[1] if type(result) is tuple else b"?"
            raise errors.error(errors.SCRIPT_COMPILE, _text(message))
        entry = (fn, flags)
        self.scripts[sha] = entry
        return entry

    def exists(self, sha: bytes) -> bool:
        sha = sha.lower()
        return sha in self.scripts or self.core.engine.get(SYS, SCRIPT_PREFIX + sha) is not None

    def lookup(self, sha: bytes) -> tuple[Any, frozenset[bytes] | None]:
        """The compiled script for ``sha`` (from memory or ``sys``); NOSCRIPT if unknown."""
        entry = self.scripts.get(sha)
        if entry is not None:
            return entry
        sha = sha.lower()
        entry = self.scripts.get(sha)
        if entry is not None:
            return entry
        body = self.core.engine.get(SYS, SCRIPT_PREFIX + sha)
        if body is None:
            raise LedisError(errors.NOSCRIPT)
        return self._compile(sha, body)

    # --- running -------------------------------------------------------------------------------
    def eval(self, caller: Context, argv: list[bytes], by_sha: bool, readonly: bool) -> Any:
        """EVAL / EVALSHA / EVAL_RO / EVALSHA_RO. The hot path: a cached script, a one-digit
        numkeys, no shebang flags; everything else goes through :meth:`_resolve`."""
        raw = argv[2]
        if len(raw) == 1 and 48 <= raw[0] <= 57 and raw[0] - 48 <= len(argv) - 3:
            numkeys = raw[0] - 48  # the usual single digit, no parsing
        else:
            numkeys = _numkeys(argv, by_sha)
        known = (self._by_sha if by_sha else self._by_body).get(argv[1])
        if known is None:
            known = self._resolve(argv[1], by_sha)
        sha, fn, flags = known
        if flags is not None:
            readonly = self._flags_readonly(flags, readonly)
        elif self.core._replica_stale is not None and self.core._replica_stale():
            raise LedisError(errors.MASTERDOWN)  # compat mode: Redis's one check before a run
        ctx = self.ctx
        assert ctx is not None  # _resolve() compiled, so the runtime exists
        ctx.db = caller.db
        ctx.db_index = caller.db_index
        ctx.script_readonly = readonly
        if self.script_resp != 2:  # the last script called redis.setresp(3)
            self._setresp(2)
        self.caller = caller
        self.current_sha = sha
        self.busy_kind = "script"
        self.killed = self.wrote = False
        self.running = True
        hook = HOOK_COUNT if self.config.lua_time_limit_ms else 0
        self.start = _perf()
        try:
            if len(argv) == 5:  # one key and one argument, the commonest shape: no slice
                res = self._run_fn(fn, hook, caller.resp == 3, numkeys, argv[3], argv[4])
            else:
                res = self._run_fn(fn, hook, caller.resp == 3, numkeys, *argv[3:])
        except lj.LuaMemoryError:
            self._after_oom()
            raise LedisError(errors.SCRIPT_OOM) from None
        except lj.LuaError as exc:
            log.warning("script %s failed in the runtime: %s", sha.decode(), exc)
            raise LedisError("ERR " + str(exc).split("\n", 1)[0]) from None
        finally:
            self.running = False
            if self.busy:
                self._end_busy()
        if type(res) is tuple and len(res) == 2:  # the common replies without run_reply's frame
            kind, value = res
            if kind == 0 and type(value) is not float:  # a string or an integral number
                return value
            if kind == 2 and value == b"OK":
                return OK
        return run_reply(res, sha, self._after_oom)

    def _resolve(self, given: bytes, by_sha: bool) -> tuple[bytes, Any, frozenset[bytes] | None]:
        """EVAL's cache miss: ``(sha, fn, flags)`` of the body (hashed, compiled and persisted
        on first sight) or of the sha (any letter case; from ``sys`` after a restart, else
        NOSCRIPT). Remembered in ``_by_body`` / ``_by_sha`` for the next call."""
        if self.lua is None:
            self._create()
        if by_sha:
            if len(given) != 40:
                raise LedisError(errors.NOSCRIPT)
            sha = given.lower()
            fn, flags = self.lookup(sha)
            known = (sha, fn, flags)
            memo = self._by_sha
        else:
            sha = sha1hex(given)
            if sha not in self.scripts:
                self.load(given)
            fn, flags = self.scripts[sha]
            known = (sha, fn, flags)
            memo = self._by_body
            if len(given) > 4096:
                return known
        if len(memo) >= BODY_CACHE:
            memo.clear()
        memo[given] = known
        return known

    def gate_flags(self, cmd: Command, argv: list[bytes]) -> tuple[bool, bool, bool]:
        """``core.gate_flags``, Redis's getCommandFlags for EVAL* and FCALL*: (write, stale,
        may_replicate) as the script or function declares them (``no-writes``,
        ``allow-stale``; declared flags say whether it writes, so may_replicate is off); the
        command's own flags for a compat-mode script (no shebang), an unknown function, or
        an EVALSHA of a script not in memory. An EVAL body seen for the first time has its
        shebang read, not compiled."""
        default = cmd.is_write, cmd.allows_stale, cmd.may_replicate
        if len(argv) < 2:
            return default
        flags: Any
        if cmd.name.startswith("fcall"):
            func = self.core.functions.functions.get(argv[1].lower())
            if func is None:
                return default
            flags = func.flags
        else:
            if cmd.name.startswith("evalsha"):
                known = self._by_sha.get(argv[1])
                entry = known[1:] if known is not None else self.scripts.get(argv[1].lower())
                if entry is None:
                    return default
                flags = entry[1]
            else:
                known = self._by_body.get(argv[1])
                if known is not None:
                    flags = known[2]
                else:
                    try:
                        flags = parse_shebang(argv[1])[0]
                    except LedisError:
                        return default
            if flags is None:
                return default
        return b"no-writes" not in flags, b"allow-stale" in flags, False

    def _flags_readonly(self, flags: frozenset[bytes], readonly: bool) -> bool:
        """A script with a shebang, before it runs (Redis's scriptPrepareForRun): whether it
        runs read-only, or the error where it may not run (a stale replica without
        ``allow-stale``; a writing script under EVAL_RO or on a read-only replica)."""
        stale = self.core._replica_stale
        if stale is not None and b"allow-stale" not in flags and stale():
            raise LedisError(errors.SCRIPT_MASTERDOWN)
        if b"no-writes" in flags:
            return True
        if readonly:
            raise LedisError(errors.SCRIPT_RO_WRITE_FLAG)
        if self.core.readonly:
            raise LedisError(errors.SCRIPT_READONLY_REPLICA)
        return False

    def _forget_scripts(self) -> None:
        """Drop every compiled script (a new or lost VM) and the EVAL memos that point at them."""
        self.scripts = {}
        self._by_body.clear()
        self._by_sha.clear()

    def _after_oom(self) -> None:
        try:
            self.lua.execute(b"collectgarbage() collectgarbage()")
        except lj.LuaError:
            log.warning("Lua VM unusable after running out of memory: rebuilding it")
            self.lua = None
            self._forget_scripts()

    # --- redis.call ----------------------------------------------------------------------------
    def _make_bridge(self, lua: Any):  # noqa: ANN202
        core = self.core
        commands = core.commands
        dispatch = core.dispatch
        by_name = core._by_name  # exact spelling -> command, filled by the dispatcher
        table_from = lua.table_from
        scripting = self
        own_check = self._own_check
        # exact spelling -> command redis.call may run without the dispatcher's slow-path
        # checks (see below): no subcommands, not noscript, and a write or not may_replicate
        # (so a read-only run needs no test beyond is_write).
        fast: dict[bytes, Command] = {}

        to_lua = lua_converter(table_from, lambda: scripting.script_resp == 3)

        def bridge(*args: Any) -> Any:
            if not args:
                return _NO_ARGS
            argv = list(args)
            for arg in args:
                if type(arg) is not bytes:
                    for i, arg in enumerate(args):
                        ta = type(arg)
                        if ta is int:
                            argv[i] = (b"%d" % arg if -(2**53) <= arg <= 2**53
                                       else _number_arg(arg))
                        elif ta is float:
                            argv[i] = _number_arg(arg)
                        elif ta is not bytes:
                            return _ARG_TYPE
                    break
            ctx = scripting.ctx
            try:
                cmd = fast.get(argv[0])
                caller = scripting.caller
                if (cmd is not None and not core.gated and core.script_check is own_check
                        and (caller is None or caller.user.unrestricted)
                        and not ((cmd.arity > 0 and len(argv) != cmd.arity)
                                 or len(argv) < -cmd.arity)):
                    # The script's checks inline (what _checks -> _check_command does for a
                    # script when nothing gates the core, the caller's user is unrestricted
                    # and no tracking wraps script_check): two Python frames less per call.
                    # The script context is ``special`` only for the dispatcher's slow path,
                    # which then has nothing left to do.
                    if cmd.is_write:
                        if ctx.script_readonly:  # type: ignore[union-attr]
                            raise core._reject(cmd, LedisError(errors.SCRIPT_WRITE_IN_RO))
                        scripting.wrote = True
                    ctx.special = False  # type: ignore[union-attr]
                    try:
                        reply = dispatch(ctx, argv, cmd)  # type: ignore[arg-type]
                    finally:
                        ctx.special = True  # type: ignore[union-attr]
                else:
                    if cmd is None and len(fast) < 1024:
                        known = by_name.get(argv[0])
                        if known is not None and _fast_eligible(known):
                            fast[argv[0]] = known
                    # the bridge lives in the runtime, which is made together with ctx
                    reply = dispatch(ctx, argv)  # type: ignore[arg-type]
            except LedisError as exc:
                # The dispatcher's own rejections get the texts Redis uses for scripts.
                text = exc.text
                if text.startswith(_DISPATCH_UNKNOWN):
                    return _UNKNOWN
                if text.startswith(_DISPATCH_ARITY) and _arity_error(commands, argv):
                    return _WRONG_ARGS
                return None, _ERR_TAG, text.encode("utf-8", "replace")
            except Exception:
                log.exception("internal error running %r from a script", argv[0][:64])
                return _INTERNAL
            t = type(reply)
            if t is bytes or t is int:
                return reply
            if reply is OK:
                return _STATUS_OK
            if t is list and len(reply) <= _ARRAY_VARARGS:
                # A flat array of strings and integers (HMGET, TIME, LRANGE...) goes back as
                # varargs the prelude packs into a table: (nil, 3, items...). Cheaper than
                # table_from plus a to_lua call per item. A null item is false in RESP2 (a
                # RESP3 nil would leave a hole, which the table path keeps as it was).
                nulls = False
                for item in reply:
                    ti = type(item)
                    if ti is not bytes and ti is not int:
                        if item is None and scripting.script_resp == 2:
                            nulls = True
                            continue
                        break
                else:
                    if nulls:
                        return (None, _ARRAY_TAG, *[False if v is None else v for v in reply])
                    return (None, _ARRAY_TAG, *reply)
            if t is Simple:
                return None, 1, bytes(reply)
            if isinstance(reply, LedisError):
                return None, _ERR_TAG, reply.text.encode("utf-8", "replace")
            try:
                return to_lua(reply)
            except Exception:
                log.exception("cannot convert the reply of %r for Lua", argv[0][:64])
                return _INTERNAL

        bridge.to_lua = to_lua  # type: ignore[attr-defined]  # per VM: see host_api
        return bridge

    def _check_command(self, ctx: Context, cmd: Command, argv: list[bytes]) -> None:
        """core.special_checks entry: what a script may run."""
        if not ctx.in_script:
            return None
        if cmd.noscript:
            raise LedisError(errors.SCRIPT_NOT_ALLOWED)
        if cmd.is_write:
            if ctx.script_readonly:
                raise LedisError(errors.SCRIPT_WRITE_IN_RO)
            self.wrote = True
        elif ctx.script_readonly and cmd.may_replicate:
            raise LedisError(errors.SCRIPT_WRITE_IN_RO)
        return None

    def _setresp(self, n: int) -> None:
        self.script_resp = n
        assert self.ctx is not None  # only a running script calls redis.setresp()
        self.ctx.resp = n

    def _log(self, level: int, message: bytes) -> None:
        log.log(_LOG_LEVELS[level] if 0 <= level < 4 else logging.INFO, "%s",
                message.decode("utf-8", "replace"))

    def host_api(self, bridge: Any) -> dict[bytes, Any]:
        """The prelude's ``api.host``/``api.host_exists`` for the VM ``bridge`` was made for
        (EVAL's and FUNCTION's runtimes each pass theirs)."""
        to_lua = bridge.to_lua

        def host(name: bytes, *args: Any) -> Any:
            return self._host_call(to_lua, name, *args)

        return {b"host": host, b"host_exists": self._host_exists}

    def _fcall_api(self, bridge: Any) -> Any:
        """The prelude's ``api.fcall(readonly, name, keys, args)`` for the VM of ``bridge``."""
        from ledis.scripting.modules import fcall_from_script

        to_lua, core = bridge.to_lua, self.core

        def fcall(readonly: bool, name: Any, keys: Any = None, args: Any = None) -> Any:
            return fcall_from_script(core, to_lua, bool(readonly), name, keys, args)

        return fcall

    def _host_exists(self, name: Any) -> bool:
        return type(name) is bytes and name in self.host_functions

    def _host_call(self, to_lua: Any, name: bytes, *args: Any) -> Any:
        """``ledis.host.<name>(...)``: run the Python callable; same reply convention as the
        bridge (a value, or ``(nil, 1, status)`` / ``(nil, 2, error text)``)."""
        fn = self.host_functions.get(name)
        label = _text(name)
        if fn is None:
            return None, _ERR_TAG, errors.HOST_UNKNOWN.format(label).encode()
        try:
            value = fn(*args)
        except LedisError as exc:
            return None, _ERR_TAG, exc.text.encode("utf-8", "replace")
        except Exception as exc:  # the embedding program's bug: report it to the script
            log.warning("host function %s failed", label, exc_info=True)
            return None, _ERR_TAG, errors.HOST_FAILED.format(label, exc).encode("utf-8", "replace")
        t = type(value)
        if t is bytes or t is int or t is float or t is bool:
            return value
        if t is str:
            return value.encode()
        if t is Simple:
            return None, 1, bytes(value)
        try:
            return to_lua(host_value(value))
        except Exception as exc:
            return None, _ERR_TAG, errors.HOST_BAD_REPLY.format(label, exc).encode()

    def _command_exists(self, *args: Any) -> bool:
        name = args[0]
        return type(name) is bytes and self.core.commands.get(name.lower()) is not None

    # --- time limit, BUSY, SCRIPT KILL --------------------------------------------------------
    def begin_run(self, caller: Context, name: bytes, kind: str = "function") -> None:
        """For another Lua engine (FCALL) sharing the time limit: call before running,
        call :meth:`check` from its count hook, :meth:`end_run` after. ``kind`` picks the
        BUSY text and the kill command (FUNCTION KILL for "function")."""
        self.caller = caller
        self.current_sha = name
        self.busy_kind = kind
        self.killed = self.wrote = False
        self.running = True
        self.start = _perf()

    def end_run(self) -> None:
        self.running = False
        if self.busy:
            self._end_busy()

    def check(self) -> bool:
        """Count-hook entry point: True means the running script must stop (killed)."""
        return self._check()

    def _check(self) -> bool:
        """Called from the count hook: True means stop (SCRIPT KILL)."""
        if not self.running:
            return False
        if self.killed:
            return True
        now = _perf()
        if now - self.start < self.config.lua_time_limit_ms * 0.001:
            return False
        if not self.busy:
            self._begin_busy()
        if now - self._last_service >= SERVICE_INTERVAL:
            self._last_service = now
            try:
                self._service()
            except Exception:
                log.exception("serving clients during a busy script failed")
        return self.killed

    def kill(self) -> Any:
        """SCRIPT KILL from the normal path: no script can be running then."""
        if not self.running:
            raise LedisError(errors.NOTBUSY)
        if self.wrote:
            raise LedisError(errors.UNKILLABLE_WROTE)
        self.killed = True
        return Simple(b"OK")


_DISPATCH_UNKNOWN = ("ERR unknown command '", "ERR unknown subcommand '")
_DISPATCH_ARITY = "ERR wrong number of arguments for '"


def _fast_eligible(cmd: Command) -> bool:
    """Whether the bridge may run ``cmd`` with the script checks inline (see _make_bridge)."""
    return (not cmd.subcommands and cmd.handler is not None and not cmd.noscript
            and (cmd.is_write or not cmd.may_replicate))


def _arity_error(commands: dict, argv: list[bytes]) -> bool:
    """Whether ``argv`` breaks its command's declared arity (the dispatcher's check)."""
    cmd = commands.get(argv[0].lower())
    if cmd is None:
        return False
    if cmd.subcommands:
        if len(argv) < 2:
            return True
        cmd = cmd.subcommands.get(argv[1].lower(), cmd)
    arity = cmd.arity
    return (arity > 0 and len(argv) != arity) or len(argv) < -arity
