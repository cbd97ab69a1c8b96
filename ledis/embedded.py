"""The embedded engine: ledis in your own Python process, no socket.

``db = ledis.open("./data")`` builds a :class:`~ledis.core.Core` (the same one the server
runs) and hands back an :class:`Engine`: ``db.execute("HSET", "h", "f", "v")`` goes through
``Core.dispatch`` exactly like a RESP client, with its own :class:`~ledis.core.Context`, and
commits the engine's pending batch after every call (so a call that returned is in the
RocksDB WAL, as a RESP reply is) -- or, inside ``with db.batch():``, every ``commit_every``
calls and at the block's end (one RocksDB write for many calls: docs/embedding.md,
"Durability and batches").

Design points:

* **One writer.** A lock serializes ``dispatch + commit`` of all threads. After
  :meth:`Engine.serve` the server's event loop owns the core, so every embedded call is handed
  to that loop (``call_soon_threadsafe`` + a ``concurrent.futures.Future``) and runs there
  between two RESP commands: still one writer, still atomic.
* **Typed methods** are generated from the command registry at first ``open()``:
  ``db.hset(...)``, ``db.zrange(...)``, ``db.config_get(...)`` (``config|get``), ``db.delete``
  for DEL (a Python keyword); the command's summary is the docstring.
* **Replies** come back as plain Python values (the RESP3 shape): bytes, int, float (doubles),
  bool, None, list, dict (maps), set (sets); a status reply is a ``str`` ("OK", "PONG"). An
  error reply raises a :class:`ResponseError` subclass carrying the Redis text; inside an
  array (EXEC) it is returned as the exception object.
* **Script API**: ``eval``/``evalsha``/``script_load`` run EVAL through the same dispatcher;
  ``function_load``/``fcall`` need the FUNCTION commands and raise NotImplementedError with a
  clear message while this build does not register them. ``register_host_function`` makes a
  Python callable visible to Lua as ``ledis.host.<name>(...)`` (``ledis/scripting/runtime.py``
  calls it; this process only, never over the network).
* ``memory=True`` is a temporary directory removed by :meth:`Engine.close` (a real in-memory
  backend is issue 8).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import keyword
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from threading import get_ident
from typing import Any

from ledis import errors
from ledis.config import Config
from ledis.errors import LedisError
from ledis.replies import (
    RESP2_SHAPED,
    Bool,
    Double,
    Map,
    NullArray,
    PairList,
    Pending,
    Raw,
    SetReply,
    Simple,
    Verbatim,
    decode_raw,
    resp2,
)
from ledis.storage.rocks import StoreLockedError

__all__ = [
    "open", "Engine", "ResponseError", "WrongTypeError", "NoScriptError", "AuthenticationError",
    "ReadOnlyError", "BusyError", "StoreLockedError", "to_python",
]


# --- errors ----------------------------------------------------------------------------------
class ResponseError(Exception):
    """An error reply. ``text`` (and ``str(exc)``) is the full Redis text, prefix included."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    @property
    def prefix(self) -> str:
        return self.text.split(" ", 1)[0]


class WrongTypeError(ResponseError):
    """WRONGTYPE Operation against a key holding the wrong kind of value."""


class NoScriptError(ResponseError):
    """NOSCRIPT: EVALSHA of an unknown script."""


class AuthenticationError(ResponseError):
    """NOAUTH / WRONGPASS."""


class ReadOnlyError(ResponseError):
    """READONLY: a write on a read-only replica."""


class BusyError(ResponseError):
    """BUSY: a script is running past the time limit."""


_ERROR_CLASSES = {
    "WRONGTYPE": WrongTypeError, "NOSCRIPT": NoScriptError, "NOAUTH": AuthenticationError,
    "WRONGPASS": AuthenticationError, "READONLY": ReadOnlyError, "BUSY": BusyError,
}


def response_error(exc: LedisError) -> ResponseError:
    return _ERROR_CLASSES.get(exc.prefix, ResponseError)(exc.text)


# --- replies -> Python ---------------------------------------------------------------------
def to_python(value: Any) -> Any:
    """A handler's reply value as a plain Python value (see the module docstring)."""
    t = type(value)
    if t is bytes or t is int or value is None:
        return value
    if t is list or t is tuple:
        return [to_python(v) for v in value]
    if t is Simple:
        return value.decode("utf-8", "replace")
    if t is Map:
        return {_hashable(to_python(k)): to_python(v) for k, v in value.items()}
    if t is PairList:
        return {_hashable(to_python(k)): to_python(v) for k, v in value}
    if t is SetReply:
        return {_hashable(to_python(v)) for v in value}
    if t is Double:
        return float(value)
    if t is Bool:
        return bool(value)
    if value is NullArray:
        return None
    if t is Verbatim:
        return bytes(value)
    if t is Raw:
        return to_python(decode_raw(value))
    if isinstance(value, LedisError):
        return response_error(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        return {_hashable(to_python(k)): to_python(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_python(v) for v in value]
    return value


def to_python2(value: Any) -> Any:
    """The RESP2 shape: maps as flat lists, sets as lists, doubles as bytes, booleans 0/1."""
    t = type(value)
    if t is bytes or t is int or value is None:
        return value
    if t in RESP2_SHAPED:  # the encoder's RESP2 rules (ledis.replies.resp2)
        value = resp2(value)
        t = type(value)
    if t is list or t is tuple:
        return [to_python2(v) for v in value]
    return to_python(value)


def _hashable(value: Any) -> Any:
    return tuple(value) if type(value) is list else value


def _arg(value: Any) -> bytes:
    t = type(value)
    if t is bytes:
        return value
    if t is str:
        return value.encode()
    if t is int:
        return b"%d" % value
    if t is float:
        return repr(value).encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, bool):
        raise TypeError("booleans are not command arguments; pass 0/1 or a string")
    if isinstance(value, str):
        return str.encode(value)
    if isinstance(value, int):
        return b"%d" % int(value)
    if isinstance(value, float):
        return repr(float(value)).encode()
    raise TypeError(f"command arguments must be bytes, str, int or float, not {t.__name__}")


# --- the engine ----------------------------------------------------------------------------
_ALLOWED: set[bytes] = set()  # command name spellings seen and not refused
_STATUS_TEXT: dict[bytes, str] = {}  # status reply -> its str, for the few texts there are
# No connection to push to, or a lifecycle the embedding program owns.
_REFUSED = {
    b"subscribe": "", b"psubscribe": "", b"ssubscribe": "", b"monitor": "",
    b"shutdown": " (use close())",
}


def _allow(name: bytes) -> None:
    """Check a command name spelling :meth:`Engine.execute` has not seen yet: refused ones
    raise, the others are remembered (up to 1024 spellings)."""
    lower = name.lower()
    if lower in _REFUSED:
        raise ResponseError(errors.EMBEDDED_NOT_ALLOWED.format(
            lower.decode("utf-8", "replace"), _REFUSED[lower]))
    if len(_ALLOWED) < 1024:
        _ALLOWED.add(name)


class _Shared:
    """What every handle of one opened store shares."""

    def __init__(self, core: Any, temp_dir: str | None) -> None:
        self.core = core
        self.lock = threading.RLock()
        self.temp_dir = temp_dir
        self.closed = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: threading.Thread | None = None
        self.server: Any = None
        self.ports: dict[str, int] = {}
        self.debugging: Any = None  # the open Lua debugging session (Engine.debug)
        # Engine.batch(): nesting depth, calls not yet committed, the commit interval. Only
        # the thread holding ``lock`` (the batch's) reads or changes them.
        self.batching = 0
        self.uncommitted = 0
        self.commit_every = 0
        self.batch_thread = 0  # threading.get_ident() of the batch's thread, 0: none


class Engine:
    """An opened store, bound to one logical database (``select(n)`` gives other handles).

    Typed methods (``hset``, ``zrange``, ``config_get``...) are generated from the command
    registry; ``help(ledis.Engine)`` lists them with their summaries.
    """

    def __init__(self, shared: _Shared, index: int = 0, protocol: int = 3,
                 user: Any = None) -> None:
        self._shared = shared
        ctx = shared.core.new_context("embedded", addr="embedded")
        ctx.authenticated = True  # in-process: the caller owns the data directory anyway
        ctx.resp = protocol
        if index:
            ctx.select(index)
        if user is not None:  # as_user(): this handle runs with that ACL user's permissions
            ctx.user = user
            ctx.special = not user.unrestricted
            shared.core.acl.others.add(ctx)  # follows ACL SETUSER / LOAD of its user
        self._ctx = ctx

    # --- running commands ----------------------------------------------------------------
    def execute(self, *args: Any) -> Any:
        """Run one command (``execute("SET", "k", "v")``); returns its reply as Python values,
        raises a :class:`ResponseError` subclass for an error reply."""
        # Per call, so written flat (each helper call is a Python frame, ~0.1 us of a ~1.5 us
        # GET): arguments are converted only when one is not bytes (a list comprehension
        # costs ~0.5 us), and inside this thread's batch the lock and state checks were done
        # once when the block began (docs/PERFORMANCE.md, "Embedded").
        argv = [*args]
        for arg in args:
            if type(arg) is not bytes:
                argv = [_arg(a) for a in args]
                break
        if not argv:
            raise ResponseError(errors.HTTP_NO_COMMAND)
        if argv[0] not in _ALLOWED:  # a spelling not seen yet: lower-case it once
            _allow(argv[0])
        shared = self._shared
        if shared.batch_thread == get_ident():  # this thread's batch holds the lock
            if shared.closed:  # closed inside the block
                raise RuntimeError("this ledis store is closed")
            core = shared.core
            try:
                reply = core.dispatch(self._ctx, argv)
            except LedisError as exc:
                core.count_error(exc)
                reply = exc
            finally:
                # Also after an error (a script that wrote before failing keeps its writes):
                # one commit every ``commit_every`` calls and at the end of the block.
                shared.uncommitted += 1
                if shared.uncommitted >= shared.commit_every:
                    shared.uncommitted = 0
                    core.commit()
        else:
            if shared.closed:
                raise RuntimeError("this ledis store is closed")
            if shared.debugging is not None:
                raise RuntimeError(errors.LDB_SESSION_OPEN)
            loop = shared.loop
            if loop is not None and threading.current_thread() is not shared.loop_thread:
                return self._on_loop(loop, argv)
            core = shared.core
            lock = shared.lock
            lock.acquire()  # not ``with``: its enter/exit lookups cost ~0.08 us of a 1.7 us GET
            try:
                if shared.closed:  # closed by another thread meanwhile
                    raise RuntimeError("this ledis store is closed")
                try:
                    reply = core.dispatch(self._ctx, argv)
                except LedisError as exc:
                    core.count_error(exc)
                    reply = exc
                finally:
                    core.commit()  # also after an error, as above
            finally:
                lock.release()
        t = type(reply)
        if t is bytes or t is int or reply is None:  # the common replies, as they are
            return reply
        if t is Simple:  # +OK: one str per status text
            text = _STATUS_TEXT.get(reply)
            if text is None:
                text = reply.decode("utf-8", "replace")
                if len(_STATUS_TEXT) < 64:
                    _STATUS_TEXT[bytes(reply)] = text
            return text
        if t is Pending:  # not a blocking pop (those never park without a
            # connection: ledis.blocking) but e.g. WAIT: nothing can resolve it here
            reply.cancel()
            return None
        return self._result(reply)

    __call__ = execute

    @contextlib.contextmanager
    def batch(self, commit_every: int = 10_000) -> Iterator[Engine]:
        """``with db.batch(): ...``: the calls inside do not commit one by one. Their writes
        are visible at once to every later call, and reach the RocksDB WAL together every
        ``commit_every`` calls and when the block ends (also by an exception): one RocksDB
        write instead of one per call. Not atomic (MULTI/EXEC or a script is): a crash inside
        the block can lose the writes since its last commit. The block holds the store's lock,
        so other threads' calls wait for it to end. Blocks nest (the outer one commits).
        After :meth:`serve` the calls run on the server's loop, which commits them itself, so
        there this changes nothing."""
        if commit_every < 1:
            raise ValueError("commit_every must be at least 1")
        shared = self._shared
        if shared.closed:
            raise RuntimeError("this ledis store is closed")
        if shared.loop is not None:
            yield self
            return
        with shared.lock:
            if shared.batching == 0:
                shared.commit_every = commit_every
                shared.uncommitted = 0
                shared.batch_thread = get_ident()
            shared.batching += 1
            try:
                yield self
            finally:
                shared.batching -= 1
                if shared.batching == 0:
                    shared.batch_thread = 0
                    shared.uncommitted = 0
                    if not shared.core.closed:
                        shared.core.commit()

    def _run(self, argv: list[bytes]) -> Any:
        """One call on the server's loop (after serve()): dispatch, then commit."""
        core = self._shared.core
        try:
            return core.dispatch(self._ctx, argv)
        except LedisError as exc:
            core.count_error(exc)
            return exc
        finally:
            # Commit even after an error: a script that wrote before failing keeps its writes.
            core.commit()

    def _on_loop(self, loop: asyncio.AbstractEventLoop, argv: list[bytes]) -> Any:
        done: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                reply = self._run(argv)
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                done.set_exception(exc)
                return
            if type(reply) is Pending:
                reply.add_done_callback(lambda p: done.set_result(p.result_or_error()))
            else:
                done.set_result(reply)

        try:
            loop.call_soon_threadsafe(run)
        except RuntimeError:  # the loop closed under us (SHUTDOWN from a client)
            raise RuntimeError("this ledis store is closed") from None
        while True:
            try:
                reply = done.result(0.5)
                break
            except concurrent.futures.TimeoutError:
                if self._shared.closed and self._shared.loop is None:
                    raise RuntimeError("this ledis store is closed") from None
        return self._result(reply)

    @staticmethod
    def _error(exc: LedisError) -> ResponseError:
        """The exception this API raises for ``exc`` (for the debugger session, which must not
        import this module: ledis/scripting/debugger.py)."""
        return response_error(exc)

    def _result(self, reply: Any) -> Any:
        if isinstance(reply, LedisError):
            raise response_error(reply) from None
        if self._ctx.resp == 2:
            return to_python2(reply)
        return to_python(reply)

    # --- databases -------------------------------------------------------------------------
    def select(self, index: int) -> Engine:
        """A handle on logical database ``index`` sharing this store (LedisDB's ``Select``).
        This handle keeps its own database."""
        if not 0 <= index < self._shared.core.config.databases:
            raise ResponseError(errors.DB_INDEX)
        ctx = self._ctx
        user = ctx.user if ctx in self._shared.core.acl.others else None  # an as_user handle
        return Engine(self._shared, index, ctx.resp, user)

    def as_user(self, name: str | bytes) -> Engine:
        """A handle on the same database running as ACL user ``name`` (no password: the
        process owns the store): its commands, scripts and keys are checked like a client's
        (``NOPERM ...``, ACL LOG). Handles from :func:`open` run as ``default``."""
        core = self._shared.core
        user = core.acl.users.get(_arg(name))
        if user is None:
            raise ResponseError(errors.ACL_USER_NOT_FOUND.format(
                _arg(name).decode("utf-8", "replace")))
        return Engine(self._shared, self._ctx.db_index, self._ctx.resp, user)

    @property
    def index(self) -> int:
        """The logical database this handle works on."""
        return self._ctx.db_index

    @property
    def core(self) -> Any:
        return self._shared.core

    # --- scripts ---------------------------------------------------------------------------
    def eval(self, script: str | bytes, keys: Iterable[Any] = (), args: Iterable[Any] = ()) -> Any:
        keys = list(keys)
        return self.execute("EVAL", script, len(keys), *keys, *args)

    def evalsha(self, sha: str | bytes, keys: Iterable[Any] = (), args: Iterable[Any] = ()) -> Any:
        keys = list(keys)
        return self.execute("EVALSHA", sha, len(keys), *keys, *args)

    def eval_ro(self, script: str | bytes, keys: Iterable[Any] = (),
                args: Iterable[Any] = ()) -> Any:
        keys = list(keys)
        return self.execute("EVAL_RO", script, len(keys), *keys, *args)

    def script_load(self, script: str | bytes) -> str:
        """Cache a script; returns its sha1 (hex text)."""
        return self.execute("SCRIPT", "LOAD", script).decode()

    def debug(self, script: str | bytes, keys: Iterable[Any] = (), args: Iterable[Any] = (),
              sync: bool = False) -> Any:
        """Run ``script`` under the Lua debugger (Redis's LDB) and return the stepping
        :class:`ledis.scripting.debugger.Debugger`, stopped at the script's first line. Its
        writes are thrown away at the end unless ``sync`` (SCRIPT DEBUG SYNC). While it is
        open, the store's other calls raise RuntimeError."""
        from ledis.scripting.debugger import Debugger

        shared = self._shared
        if shared.closed:
            raise RuntimeError("this ledis store is closed")
        if shared.loop is not None:
            raise RuntimeError(errors.LDB_SERVING)
        if shared.debugging is not None:
            raise RuntimeError(errors.LDB_SESSION_OPEN)
        if shared.batching:
            raise RuntimeError("debug() inside batch(): end the batch first")
        return Debugger(self, _arg(script), [_arg(k) for k in keys], [_arg(a) for a in args],
                        sync)

    def _need_functions(self, what: str) -> None:
        if self._shared.core.commands.get(b"fcall") is None:
            raise NotImplementedError(
                f"{what} needs the FUNCTION/FCALL commands, which this ledis build does not "
                "register yet; use eval()/script_load() meanwhile")

    def function_load(self, code: str | bytes, replace: bool = False) -> Any:
        """FUNCTION LOAD [REPLACE] code; returns the library name."""
        self._need_functions("function_load()")
        reply = self.execute("FUNCTION", "LOAD", *(["REPLACE"] if replace else []), code)
        return reply.decode() if isinstance(reply, bytes) else reply

    def fcall(self, name: str | bytes, keys: Iterable[Any] = (), args: Iterable[Any] = ()) -> Any:
        self._need_functions("fcall()")
        keys = list(keys)
        return self.execute("FCALL", name, len(keys), *keys, *args)

    def fcall_ro(self, name: str | bytes, keys: Iterable[Any] = (),
                 args: Iterable[Any] = ()) -> Any:
        self._need_functions("fcall_ro()")
        keys = list(keys)
        return self.execute("FCALL_RO", name, len(keys), *keys, *args)

    def register_host_function(self, name: str, fn: Callable[..., Any]) -> None:
        """Make ``fn`` callable from Lua as ``ledis.host.<name>(...)`` (this process only).

        Lua strings arrive as ``bytes``, numbers as int/float. The result goes back to Lua
        like a command reply: bytes/str -> string, int/float -> number, bool -> boolean,
        None -> false, list -> table, dict -> flat table (map in RESP3 scripts),
        ``ledis.replies.Simple`` -> ``{ok=...}``. Raising ``ledis.errors.LedisError`` gives
        the script that error; any other exception becomes ``ERR host function ... failed``.
        The function runs inside the script, atomically: it must not call back into this
        engine (use ``redis.call`` from Lua for that).
        """
        if not callable(fn):
            raise TypeError("fn must be callable")
        if not name or not name.replace("_", "a").isalnum():
            raise ValueError("host function names are Lua identifiers: letters, digits, _")
        with self._shared.lock:
            self._shared.core.scripting.host_functions[name.encode()] = fn

    def unregister_host_function(self, name: str) -> None:
        with self._shared.lock:
            self._shared.core.scripting.host_functions.pop(name.encode(), None)

    # --- serving ---------------------------------------------------------------------------
    def serve(self, port: int = 0, bind: str = "127.0.0.1", http_port: int | None = None,
              http_bind: str = "127.0.0.1") -> int:
        """Start the RESP server (and the HTTP API when ``http_port`` is given, 0 = any free
        port) on this store in a background thread; returns the RESP port. From now on every
        embedded call runs on the server's loop. Stopped by :meth:`close`."""
        shared = self._shared
        if shared.closed:
            raise RuntimeError("this ledis store is closed")
        if shared.server is not None:
            raise RuntimeError("already serving")
        if shared.batching:
            raise RuntimeError("serve() inside batch(): end the batch first")
        config = shared.core.config
        config.port = port
        config.bind = bind
        if http_port is not None:
            config.http_port = http_port
            config.http_bind = http_bind
        started: concurrent.futures.Future = concurrent.futures.Future()

        def main() -> None:
            loop: asyncio.AbstractEventLoop
            try:
                import uvloop

                loop = uvloop.new_event_loop()
            except ImportError:  # pragma: no cover - uvloop is a dependency
                loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            from ledis.server.app import Server

            async def start() -> Any:
                server = Server(shared.core)
                await server.start()
                return server

            try:
                with shared.lock:  # no embedded call may run while the loop takes over
                    server = loop.run_until_complete(start())
                    shared.server = server
                    shared.loop = loop
            except BaseException as exc:  # noqa: BLE001
                started.set_exception(exc)
                loop.close()
                return
            started.set_result(server.port)
            try:
                loop.run_until_complete(server.stopped.wait())
            finally:
                # Stopped by close() or by a client's SHUTDOWN: either way the store is closed.
                shared.closed = True
                shared.loop = None
                loop.close()

        thread = threading.Thread(target=main, name="ledis-serve", daemon=True)
        shared.loop_thread = thread
        thread.start()
        try:
            resp_port = started.result(30)
        except BaseException:
            shared.loop_thread = None
            raise
        shared.ports["resp"] = resp_port
        http = getattr(shared.server, "http", None)
        if http is not None:
            shared.ports["http"] = http.port
        return resp_port

    @property
    def http_port(self) -> int | None:
        """The HTTP API's port once :meth:`serve` started it."""
        return self._shared.ports.get("http")

    # --- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Flush and close the store (and stop serving). Any handle closes the whole store."""
        shared = self._shared
        loop, thread = shared.loop, shared.loop_thread
        session = shared.debugging
        if session is not None:  # its thread holds the lock: let the script end first
            session.close()
        with shared.lock:
            if shared.closed and shared.core.closed:
                self._remove_temp()
                return
            shared.closed = True
        if loop is not None and not shared.core.closed:
            try:
                asyncio.run_coroutine_threadsafe(shared.server.stop(), loop).result(30)
            except RuntimeError:  # the loop ended meanwhile (a client's SHUTDOWN)
                pass
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)
        with shared.lock:
            shared.core.close()  # idempotent
        self._remove_temp()

    def _remove_temp(self) -> None:
        shared = self._shared
        if shared.temp_dir:
            shutil.rmtree(shared.temp_dir, ignore_errors=True)
            shared.temp_dir = None

    @property
    def closed(self) -> bool:
        return self._shared.closed

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._shared.closed else self._shared.core.config.dir
        return f"<ledis.Engine db={self._ctx.db_index} {state}>"

    def __getattr__(self, name: str) -> Any:
        # Commands registered after the methods were generated.
        if name.startswith("_"):
            raise AttributeError(name)
        method = _method_for(name)
        if method is None:
            raise AttributeError(f"{type(self).__name__!s} has no command or attribute {name!r}")
        return method.__get__(self, type(self))


# --- typed methods from the registry --------------------------------------------------------
def _method_name(command_name: str) -> str:
    name = command_name.replace("|", "_").replace("-", "_")
    if keyword.iskeyword(name):
        return {"del": "delete"}.get(name, name + "_")
    return name


def _make_method(words: tuple[str, ...], summary: str, name: str) -> Callable[..., Any]:
    def method(self: Engine, *args: Any) -> Any:
        return self.execute(*words, *args)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"{' '.join(w.upper() for w in words)}: {summary}" if summary else \
        " ".join(w.upper() for w in words)
    return method


def _commands() -> dict[str, tuple[tuple[str, ...], str]]:
    from ledis.commands.registry import REGISTRY

    out: dict[str, tuple[tuple[str, ...], str]] = {}
    for cmd in REGISTRY.commands.values():
        if cmd.handler is not None or not cmd.subcommands:
            out[_method_name(cmd.name)] = ((cmd.name,), cmd.summary)
        for sub in cmd.subcommands.values():
            out[_method_name(sub.name)] = (tuple(sub.name.split("|", 1)), sub.summary)
    return out


def _method_for(name: str) -> Callable[..., Any] | None:
    entry = _commands().get(name)
    if entry is None:
        return None
    return _make_method(entry[0], entry[1], name)


def install_methods() -> None:
    """Add a method per registered command to :class:`Engine` (idempotent; explicit methods
    such as ``eval``, ``select`` or ``script_load`` win)."""
    for name, (words, summary) in _commands().items():
        if name in Engine.__dict__:
            continue
        setattr(Engine, name, _make_method(words, summary, name))


# --- open ------------------------------------------------------------------------------------
def open(path: str | None = None, memory: bool = False, *, protocol: int = 3,  # noqa: A001
         **config: Any) -> Engine:
    """Open (or create) a store; returns an :class:`Engine` on database 0.

    ``path`` is the data directory; ``memory=True`` (or no path) uses a temporary directory
    removed on close. ``config`` takes any :class:`ledis.config.Config` option
    (``appendfsync="always"``, ``databases=4``, ``lua_time_limit_ms=...``). ``protocol``
    picks the reply shapes (3: maps as dicts, doubles as floats; 2: flat lists and bytes).
    Raises :class:`StoreLockedError` when another process (a server) holds the directory.
    """
    from ledis.server.compose import build

    if protocol not in (2, 3):
        raise ValueError("protocol must be 2 or 3")
    cfg = Config()
    for name, value in config.items():
        cfg.set(name, value)
    temp_dir = None
    if memory or path is None:
        temp_dir = tempfile.mkdtemp(prefix="ledis-mem-")
        cfg.dir = temp_dir
    else:
        cfg.dir = str(path)
    install_methods()
    try:
        core = build(cfg)
    except StoreLockedError:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    except BaseException:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    return Engine(_Shared(core, temp_dir), 0, protocol)
