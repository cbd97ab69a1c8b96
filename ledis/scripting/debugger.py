"""The Lua debugger: Redis's LDB (``SCRIPT DEBUG YES|SYNC|NO``, ``redis-cli --ldb``) and
``Engine.debug()`` of the embedded API.

``SCRIPT DEBUG YES|SYNC`` marks the connection (``ctx.script_debug``); its next EVAL /
EVAL_RO becomes a debugging session (EVALSHA is refused, as in Redis). The stepping itself,
the REPL and every reply text live in ``lua/debugger.lua``, a line hook in EVAL's runtime that
mirrors Redis's ``ldb*`` functions; this module gives it its input and output and owns what
a session does to the data:

* **The console.** As in Redis, the connection becomes the debugger's console for the
  session: the hook reads the client's commands from the raw socket synchronously and writes
  each reply (an array of status lines) straight to it; the session ends with a
  ``<endsession>`` line, then the EVAL reply, then the server closes the connection
  (redis-cli reconnects for the next session). The embedded API uses queues instead
  (:class:`QueueConsole`), with the script on another thread; the browser console's recorded
  debugger passes its own as ``ctx.extra["debug_console"]`` (``scripting/debug_trace.py``).
* **The server waits.** Scripts run on the event-loop thread, so while a session is open no
  other command runs, in both modes. Other clients are not left hanging: while the debugger
  waits for its client, they are answered ``BUSY`` by the same service as a script past its
  time limit (``server/busy.py``), and ``SCRIPT KILL`` ends the session. (Redis forks for
  YES so others keep being served; a fork of the whole server is not worth it here.)
* **YES throws the writes away.** Before the script runs, the pending batch of earlier
  commands is committed; the session's writes then collect in the engine's pending overlay,
  which nothing commits while the session runs, and are dropped at the end
  (``Engine.rollback``) along with what they did to in-memory state (key counters, SWAPDB's
  mapping, keys woken for blocked clients). While the session runs, WATCH and keyspace
  notifications do not see its writes. So nothing of a YES session reaches RocksDB, the
  write log, replicas or other clients. SYNC keeps the writes, as Redis does: they are
  committed like any EVAL's.
* **A client that goes away** (or a broken console) ends the stops, as in Redis: the script
  runs to its end without stopping (a YES session's writes are dropped all the same), and a
  script still running past the time limit then fails with Redis's "timeout during Lua
  debugging with client closing connection".
"""

from __future__ import annotations

import builtins
import logging
import os
import queue
import select
import threading
import time
from typing import TYPE_CHECKING, Any

import lupa.luajit21 as lj

from ledis import blocking, errors
from ledis.errors import LedisError
from ledis.replies import Raw
from ledis.scripting.convert import lua_failure
from ledis.scripting.runtime import (
    LUA_DIR,
    _numkeys,
    parse_shebang,
    run_reply,
    sha1hex,
)

if TYPE_CHECKING:
    from ledis.core import Command, Context, Core

log = logging.getLogger("ledis.scripting")

MODES = {b"YES": "yes", b"SYNC": "sync"}
WAIT_SLICE = 0.05  # seconds between two services of the other clients while the console waits
MAX_BUFFER = 1 << 20  # Redis's limit on a console's unparsed input
_EVALS = frozenset(("eval", "eval_ro"))
_EVALSHAS = frozenset(("evalsha", "evalsha_ro"))
# redis.call errors raised before the command runs: logged without a "<reply>" line
_REJECTED = (errors.SCRIPT_UNKNOWN_CMD, errors.SCRIPT_WRONG_ARGS, errors.SCRIPT_ARG_TYPE,
             errors.SCRIPT_NO_ARGS, errors.SCRIPT_NOT_ALLOWED, errors.SCRIPT_WRITE_IN_RO)


# --- the console -----------------------------------------------------------------------------
def parse_command(buf: bytes) -> tuple[list[bytes] | None, bytes, str | None]:
    """One debugger command from the console's input, as Redis's ``ldbReplParseCommand``
    reads it (a multibulk of 1..1024 arguments of 1..1024 bytes each): ``(argv, rest, None)``,
    ``(None, buf, None)`` when more input is needed, or ``(None, b"", error)``."""
    start = buf.find(b"*")
    if start < 0:
        return None, b"", errors.LDB_PROTOCOL
    end = buf.find(b"\r\n", start)
    if end < 0:
        return None, buf, None
    count = _atoi(buf[start + 1:end])
    if count <= 0 or count > 1024:
        return None, b"", errors.LDB_PROTOCOL
    pos = end + 2
    argv: list[bytes] = []
    while len(argv) < count:
        if pos >= len(buf):
            return None, buf, None
        if buf[pos:pos + 1] != b"$":
            return None, b"", errors.LDB_PROTOCOL
        end = buf.find(b"\r\n", pos)
        if end < 0:
            return None, buf, None
        size = _atoi(buf[pos + 1:end])
        if size <= 0 or size > 1024:
            return None, b"", errors.LDB_PROTOCOL
        pos = end + 2
        if pos + size + 2 > len(buf):
            return None, buf, None
        argv.append(buf[pos:pos + size])
        pos += size
        if buf[pos:pos + 2] != b"\r\n":
            return None, b"", errors.LDB_PROTOCOL
        pos += 2
    return argv, buf[pos:], None


def _atoi(raw: bytes) -> int:
    digits = raw.strip()
    try:
        return int(digits)
    except ValueError:
        return 0


def encode_lines(lines: list[bytes]) -> bytes:
    """A debugger reply: an array of status lines (CR and LF become spaces, as in Redis)."""
    out = [b"*%d\r\n" % len(lines)]
    for line in lines:
        out.append(b"+%s\r\n" % line.replace(b"\r", b" ").replace(b"\n", b" "))
    return b"".join(out)


class SocketConsole:
    """A RESP connection's socket as the debugger's console, used synchronously on the loop
    thread. ``read()`` answers a command (a Lua table), None once the client is gone, or an
    error (bytes) that ends the script. ``idle()`` runs every ``WAIT_SLICE`` while waiting for
    input; it returns an error text to end the session (SCRIPT KILL) or None."""

    def __init__(self, fd: int, idle: Any = None) -> None:
        self.fd = fd
        self.buf = b""
        self.gone = False
        self.idle = idle
        self.to_lua: Any = None  # Python list -> Lua table, set by run_session

    def read(self) -> Any:
        while True:
            if self.gone:
                return None
            if self.buf:
                argv, self.buf, error = parse_command(self.buf)
                if error is not None:
                    return error.encode()  # the hook raises it as the script's error
                if argv is not None:
                    return self.to_lua(argv)
            if len(self.buf) > MAX_BUFFER:
                self.buf = b""
                return errors.LDB_BUFFER.encode()
            try:
                ready, _, _ = select.select([self.fd], [], [], WAIT_SLICE)
            except (OSError, ValueError):
                self.gone = True
                continue
            if not ready:
                if self.idle is not None:
                    stop = self.idle()
                    if stop is not None:
                        return stop.encode()
                continue
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                self.gone = True
                continue
            self.buf += data

    def send(self, lines: Any) -> None:
        self.write(encode_lines(list(lines.values())))

    def write(self, data: bytes) -> None:
        if self.gone:
            return
        deadline = time.monotonic() + 5.0  # Redis's send timeout on the console
        while data:
            try:
                n = os.write(self.fd, data)
                data = data[n:]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.gone = True
                    return
                select.select([], [self.fd], [], 0.05)
            except OSError:
                self.gone = True
                return


class QueueConsole:
    """The console of an embedded session: commands come from ``commands`` (None: the
    stepping object was closed), each reply goes to ``replies`` as a list of str."""

    def __init__(self) -> None:
        self.commands: queue.Queue = queue.Queue()
        self.replies: queue.Queue = queue.Queue()
        self.to_lua: Any = None

    def read(self) -> Any:
        argv = self.commands.get()
        if argv is None:
            return None
        return self.to_lua(argv)

    def send(self, lines: Any) -> None:
        self.replies.put([line.decode("utf-8", "replace") for line in lines.values()])


# --- the session -----------------------------------------------------------------------------
def _debugger(scripting: Any) -> Any:
    """``lua/debugger.lua`` loaded in EVAL's runtime (once per runtime)."""
    lua = scripting._runtime()
    cached = getattr(scripting, "_ldb", None)
    if cached is not None and cached[0] is lua:
        return cached[1]
    chunk = lua.compile((LUA_DIR / "debugger.lua").read_bytes(), name=b"@debugger.lua")
    api = lua.table_from({
        b"entry": scripting.entry,
        b"now": time.monotonic,
        b"rejected": lua.table_from({text.encode(): True for text in _REJECTED}),
    })
    dbg = chunk(api)
    scripting._ldb = (lua, dbg)
    return dbg


def run_session(core: Core, caller: Context, argv: list[bytes], readonly: bool,
                console: Any, sync: bool) -> Any:
    """Run EVAL ``argv`` under the debugger with ``console``; returns the EVAL reply or raises
    its error. Without ``sync`` every write of the script is thrown away at the end."""
    scripting = core.scripting
    body = argv[1]
    sha = sha1hex(body)
    dbg = _debugger(scripting)
    console.to_lua = scripting.lua.table_from
    limit = core.config.lua_time_limit_ms * 0.001 or 5.0
    saved = _isolate(core) if not sync else None
    if sync:
        core.commit()  # the session's writes stay apart from earlier commands' (one batch)
    res: Any = None
    try:
        dbg.begin(console.read, console.send, body, limit)
        try:  # as in Redis, an EVAL that fails to start still ends with <endsession>
            numkeys = _numkeys(argv, False)
            flags, _ = parse_shebang(body)
            if flags is not None:
                readonly = scripting._flags_readonly(flags, readonly)
            fn, _ = scripting._compile(sha, body)
            if sync:
                scripting.load(body)  # cached and persisted as EVAL would
            ctx = scripting.ctx
            assert ctx is not None  # scripting._compile() made the runtime
            ctx.db = caller.db
            ctx.db_index = caller.db_index
            ctx.script_readonly = readonly
            if scripting.script_resp != 2:
                scripting._setresp(2)
            scripting.begin_run(caller, sha, "script")
            try:
                res = dbg.run(fn, caller.resp == 3, numkeys, *argv[3:])
            finally:
                scripting.end_run()
        finally:
            dbg.finish()
    except lj.LuaError as exc:
        raise lua_failure(exc, scripting._after_oom) from None
    finally:
        if saved is not None:
            _restore(core, saved)
    return run_reply(res, sha, scripting._after_oom)


def _unwatched_write(ctx: Context, cmd: Command, argv: list[bytes]) -> Any:
    return cmd.handler(ctx, argv)  # type: ignore[misc]


def _isolate(core: Core) -> tuple:
    """Before a YES session: commit what earlier commands wrote, remember the in-memory state
    writes change, keep the session's writes from WATCH and keyspace notifications."""
    core.commit()
    dbs = [(db, db.index, db.prefix, db.keys, db.expires, db.counts_dirty)
           for db in core.store.dbs]
    watched_write = core.watched_write
    core.watched_write = _unwatched_write
    return dbs, watched_write


def _restore(core: Core, saved: tuple) -> None:
    """After a YES session: drop its writes and what they did in memory."""
    dbs, watched_write = saved
    core.engine.rollback()
    for db, index, prefix, keys, expires, dirty in dbs:
        db.index, db.prefix, db.keys, db.expires, db.counts_dirty = (
            index, prefix, keys, expires, dirty)
    core.watched_write = watched_write
    blocking.ready_keys.clear()  # keys the dropped writes fed: nobody may be served from them


# --- SCRIPT DEBUG and EVAL over RESP ---------------------------------------------------------
def script_debug(ctx: Context, mode: bytes) -> None:
    """SCRIPT DEBUG YES|SYNC|NO for ``ctx`` (the mode is already validated)."""
    mode = mode.upper()
    if mode == b"NO":
        if ctx.script_debug:
            ctx.script_debug = False
            ctx.refresh_special()
        return
    core = ctx.core
    if debugged_eval not in core.special_checks:
        core.special_checks.insert(0, debugged_eval)  # before MULTI's queueing
    ctx.script_debug = MODES[mode]  # type: ignore[assignment]
    ctx.special = True


def debugged_eval(ctx: Context, cmd: Command, argv: list[bytes]) -> Any:
    """core.special_checks entry: the EVAL* of a client after SCRIPT DEBUG YES|SYNC."""
    if not ctx.script_debug or ctx.in_script:
        return None
    name = cmd.name
    if name in _EVALSHAS:
        raise ctx.core._reject(cmd, LedisError(errors.LDB_EVALSHA), ctx)
    if name not in _EVALS:
        return None
    if ctx.multi is not None:
        raise ctx.core._reject(cmd, LedisError(errors.LDB_IN_MULTI), ctx)
    core = ctx.core
    console = ctx.extra.get("debug_console")
    if console is not None:  # a console given by the caller (the browser's recorded debugger)
        cmd.calls += 1
        return _not_none(run_session(core, ctx, argv, name == "eval_ro", console, False), ctx)
    conn = ctx.conn
    transport = getattr(conn, "transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        raise ctx.core._reject(cmd, LedisError(errors.LDB_NO_CONSOLE), ctx)
    scripting = core.scripting
    # Replies held for this connection go first: the console writes to the socket directly.
    sync = ctx.script_debug == "sync"
    console = SocketConsole(sock.fileno(), lambda: _serve_others(scripting, sync))
    if conn.out:
        data = b"".join(conn.out)
        conn.out.clear()
        core.commit()  # no reply leaves before its write is committed
        console.write(data)
    cmd.calls += 1
    ctx.close_after_reply = True  # as in Redis: the EVAL reply ends the connection
    log.warning("Lua debugging session started (%s mode, client %s): other clients are "
                "answered BUSY until it ends", "sync" if sync else "yes", ctx.addr)
    try:
        return _not_none(run_session(core, ctx, argv, name == "eval_ro", console, sync), ctx)
    finally:
        log.warning("Lua debugging session ended%s", "" if sync else
                    " (dataset changes rolled back)")


def _not_none(reply: Any, ctx: Context) -> Any:
    """A special check answering None lets the dispatcher run the command itself: a script
    returning nil would then run a second time, undebugged (and a YES session's writes
    would stick). Its nil goes out pre-encoded instead."""
    if reply is None:
        return Raw(b"_\r\n" if ctx.resp == 3 else b"$-1\r\n")
    return reply


def _serve_others(scripting: Any, sync: bool) -> str | None:
    """While the console waits: answer the other clients BUSY; SCRIPT KILL ends the session
    (refused as UNKILLABLE once a SYNC session wrote, as for any script; a YES session's
    writes are thrown away anyway, so it can always be killed)."""
    if not sync:
        scripting.wrote = False
    if not scripting.busy:
        scripting._begin_busy(warn=False)
    scripting._service()
    if scripting.killed:
        return errors.SCRIPT_KILLED.removeprefix("ERR ")
    return None


# --- the embedded API ------------------------------------------------------------------------
class Debugger:
    """A debugging session of one script (``Engine.debug``). Each method sends one debugger
    command and returns the reply lines (``list[str]``); ``line`` is where the script
    stopped, ``done`` tells whether it ended, and :meth:`finish` runs it to the end and returns
    its result (or raises its error). The store's other calls wait until the session ends."""

    def __init__(self, engine: Any, script: bytes, keys: list[bytes], args: list[bytes],
                 sync: bool) -> None:
        self.console = QueueConsole()
        self.done = False
        self.line: int | None = None
        self.lines: list[str] = []
        self.sync = sync
        self._engine = engine
        self._result: Any = None
        self._error: Exception | None = None
        self._ended = threading.Event()
        argv = [b"EVAL", script, b"%d" % len(keys), *keys, *args]
        self._thread = threading.Thread(target=self._run, args=(argv,), name="ledis-debug",
                                        daemon=True)
        self._thread.start()
        self._take(self.console.replies.get())

    def _run(self, argv: list[bytes]) -> None:
        shared = self._engine._shared
        core = shared.core
        ctx = self._engine._ctx
        try:
            with shared.lock:
                shared.debugging = self
                try:
                    self._result = run_session(core, ctx, argv, False, self.console, self.sync)
                finally:
                    shared.debugging = None
                    core.commit()
        except LedisError as exc:
            core.count_error(exc)
            self._error = exc
        except Exception as exc:  # noqa: BLE001 - handed to the caller's thread
            self._error = exc
        finally:
            self._ended.set()
            self.console.replies.put(None)  # wakes a caller whose session ended otherwise

    def _take(self, lines: list[str] | None) -> list[str]:
        if lines is None:
            self.done = True
            self._ended.wait()
            return []
        self.lines = lines
        for text in lines:
            if text.startswith("* Stopped at "):
                self.line = int(text.split()[3].rstrip(","))
        if lines and lines[-1] == "<endsession>":
            self.done = True
            self._ended.wait()  # the store is usable again when this returns
        return lines

    def command(self, *argv: Any) -> list[str]:
        """Send one raw debugger command (``command("list", 3)``); returns its reply lines."""
        if self.done:
            raise RuntimeError("the debugging session has ended")
        self.console.commands.put([a if isinstance(a, bytes) else str(a).encode()
                                   for a in argv])
        return self._take(self.console.replies.get())

    def step(self) -> list[str]:
        return self.command("step")

    next = step

    def cont(self) -> list[str]:
        return self.command("continue")

    def print(self, var: str | None = None) -> list[str]:
        return self.command("print", var) if var is not None else self.command("print")

    def eval(self, code: str) -> list[str]:
        return self.command("eval", code)

    def redis(self, *argv: Any) -> list[str]:
        return self.command("redis", *argv)

    def breakpoint(self, line: int | None = None) -> list[str]:
        return self.command("break", line) if line is not None else self.command("break")

    # builtins.list: inside the class body ``list`` is the method above
    def list(self, line: int = 0, context: int = 5) -> builtins.list[str]:
        return self.command("list", line, context)

    def trace(self) -> builtins.list[str]:
        return self.command("trace")

    def abort(self) -> builtins.list[str]:
        return self.command("abort")

    def finish(self) -> Any:
        """Remove the breakpoints, run to the end; the script's result (or its error)."""
        while not self.done:
            self.command("break", "0")
            self.command("continue")
        self._ended.wait()
        self._thread.join()
        if self._error is not None:
            if isinstance(self._error, LedisError):
                raise self._engine._error(self._error)
            raise self._error
        return self._engine._result(self._result)

    def close(self) -> None:
        """End the session if it is still open: the script runs on without stopping."""
        if not self.done:
            self.console.commands.put(None)
            self.done = True
        self._ended.wait()
        self._thread.join()

    def __enter__(self) -> Debugger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
