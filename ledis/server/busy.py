"""Serving the other clients while a script runs past its time limit (Redis's BUSY state).

The script runs on the event-loop thread, so nothing else is served until it returns. Once it
is past ``lua-time-limit``, the count hook (``Scripting._check``) calls ``_service`` every few
milliseconds: it ``select()``s the other connections' raw sockets, reads into each
connection's own parser, answers ``BUSY`` (or runs what Redis allows while busy: SCRIPT KILL,
FUNCTION KILL, SHUTDOWN NOSAVE, HELLO/AUTH/...), accepts new clients, and leaves any
unanswered command queued for when the script ends (``_end_busy``). DESIGN.md section 4.

``BusyService`` overrides the busy hooks of ``ledis.scripting.runtime.Scripting``, whose state
it uses; :class:`ServedScripting` (the two together) is what the composition root
(ledis/server/compose.py) builds, so the scripting layer never imports the server.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import time
from typing import TYPE_CHECKING, Any

from ledis import errors
from ledis.errors import LedisError, ProtocolError
from ledis.replies import Pending
from ledis.scripting.runtime import Scripting

if TYPE_CHECKING:
    from ledis.core import Context, Core

log = logging.getLogger("ledis.scripting")
_perf = time.perf_counter

_BUSY_SCRIPT = b"-%s\r\n" % errors.BUSY_SCRIPT.encode()
_BUSY_FUNCTION = b"-%s\r\n" % errors.BUSY_FUNCTION.encode()


class BusyService:
    # Scripting's state that this mixin reads and sets (ledis/scripting/runtime.py), declared
    # here for the type checker
    core: Core
    caller: Context | None
    current_sha: bytes
    busy_kind: str
    wrote: bool
    start: float
    _busy_fds: dict[int, Any]
    _touched: list[Any]
    _listeners: dict[int, socket.socket]
    _accepted: list[tuple[Any, socket.socket]]

    def _begin_busy(self, warn: bool = True) -> None:
        self.busy = True
        if warn:  # not for a Lua debugging session (ledis/scripting/debugger.py)
            log.warning(
                "Slow script detected: still in execution after %d milliseconds. You can try "
                "killing the script using the SCRIPT KILL command. Script name is: %s.",
                int((_perf() - self.start) * 1000), self.current_sha.decode(),
            )
        self._busy_fds = {}
        self._touched = []
        self._listeners = {}
        self._accepted = []
        server = getattr(self.core, "server", None)
        if server is None:
            return
        if warn:  # not a debugging session: its writes may be in the batch, ``wrote`` cleared
            self._release_held_replies(server)
        # New clients are accepted from here too (and answered BUSY), then handed to the
        # event loop when the script ends.
        for srv in getattr(server, "_servers", ()):
            for lsock in srv.sockets or ():
                try:
                    dup = socket.fromfd(lsock.fileno(), lsock.family, lsock.type)
                except OSError:
                    continue
                dup.setblocking(False)
                self._listeners[dup.fileno()] = dup
        for conn in server.client_connections():
            if conn.ctx is self.caller or conn.closing or conn.waiting is not None:
                continue
            transport = conn.transport
            if transport is None or transport.is_closing():
                continue
            sock = transport.get_extra_info("socket")
            if sock is None:
                continue
            self._busy_fds[sock.fileno()] = conn

    def _release_held_replies(self, server: Any) -> None:
        """Commit and send the replies held for this loop iteration's group commit, as Redis
        writes pending replies while a script is busy. A client whose command was read in the
        script's iteration, just before it, would otherwise get nothing until the script ends,
        and could not SCRIPT KILL it (``_answer`` keeps its next commands behind the held
        reply): redis-py's PING then waited out its socket timeout and retried on a new
        connection. The batch holds only the writes of commands that completed, so it may
        commit now; not once the script has written (a script is all or nothing), inside EXEC
        (so are the transaction's earlier writes) or under a savepoint (a trigger's)."""
        caller = self.caller
        if (self.wrote or caller is None or caller.multi is not None
                or self.core.engine.savepoint_open):
            return
        server.flush()

    def _service(self) -> None:
        fds = self._busy_fds
        listeners = self._listeners
        if not fds and not listeners:
            return
        readable, _, _ = select.select([*fds, *listeners], [], [], 0)
        for fd in readable:
            if fd in listeners:
                self._accept(listeners[fd])
                continue
            conn = fds.get(fd)
            if conn is None:
                continue
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                del fds[fd]  # EOF: the event loop sees it again after the script
                if conn.transport is None:
                    conn.closing = True  # accepted here: closed when the script ends
                continue
            if conn not in self._touched:
                self._touched.append(conn)
            try:
                conn._parse(data)
            except ProtocolError as exc:
                del fds[fd]
                self._write(fd, b"-%s\r\n" % exc.text.encode())
                if conn.transport is not None:
                    conn.ctx.close_after_reply = True
                else:
                    conn.closing = True
                continue
            self._answer(fd, conn)

    def _accept(self, listener: socket.socket) -> None:
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        sock.setblocking(False)
        from ledis.server.connection import Connection

        conn = Connection(self.core.server)  # type: ignore[attr-defined]
        conn.ctx = self.core.new_context()  # provisional: connection_made makes the real one
        conn.ctx.wire = True
        self._accepted.append((conn, sock))
        self._busy_fds[sock.fileno()] = conn

    def _answer(self, fd: int, conn: Any) -> None:
        """Answer what ``conn`` sent while the script runs; held replies go first."""
        transport = conn.transport
        if conn.out or (transport is not None and transport.get_write_buffer_size()):
            return  # replies of earlier commands are still held: keep everything queued
        queue = conn.queue
        out = []
        kill_name = b"script" if self.busy_kind == "script" else b"function"
        busy = _BUSY_SCRIPT if self.busy_kind == "script" else _BUSY_FUNCTION
        busy_error = LedisError(busy[1:-2].decode())
        while queue:
            argv = queue[0]
            name = argv[0].lower()
            if name == kill_name and len(argv) == 2 and argv[1].lower() == b"kill":
                queue.popleft()
                if self.wrote:
                    out.append(b"-%s\r\n" % errors.UNKILLABLE_WROTE.encode())
                    self.core.count_error(LedisError(errors.UNKILLABLE_WROTE))
                else:
                    self.killed = True
                    out.append(b"+OK\r\n")
                continue
            if name == b"shutdown":
                if len(argv) >= 2 and any(a.lower() == b"nosave" for a in argv[1:]):
                    log.warning("SHUTDOWN NOSAVE during a busy script: exiting without saving")
                    os._exit(0)
            elif (name == b"function" and self.busy_kind == "function" and len(argv) == 2
                    and argv[1].lower() == b"stats"):
                # FUNCTION STATS is allowed during a busy FCALL (shows running_script); during
                # an EVAL Redis 7.0 answers BUSY (verified on the wire).
                queue.popleft()
                self._run_allowed(conn, argv, out)
                continue
            else:
                cmd = self.core.commands.get(name)
                if cmd is not None and cmd.allow_busy and name not in (b"script", b"function"):
                    # HELLO, AUTH, MULTI, WATCH, RESET, QUIT...: connection state only, they
                    # run even while a script is busy (Redis's ALLOW_BUSY).
                    queue.popleft()
                    self._run_allowed(conn, argv, out)
                    if conn.ctx.close_after_reply:
                        queue.clear()
                        conn.closing = True
                        break
                    continue
            queue.popleft()
            out.append(busy)
            self.core.count_error(busy_error)
        if out:
            self._write(fd, b"".join(out))
        if conn.closing and conn.transport is None:
            self._busy_fds.pop(fd, None)

    def _run_allowed(self, conn: Any, argv: list[bytes], out: list[bytes]) -> None:
        from ledis.resp import encode

        ctx = conn.ctx
        reply = self.core.call(ctx, argv)
        if type(reply) is Pending:
            reply.cancel()
            reply = None
        encode(reply, out, ctx.resp == 3)

    @staticmethod
    def _write(fd: int, data: bytes) -> None:
        deadline = _perf() + 1.0
        while data:
            try:
                n = os.write(fd, data)
                data = data[n:]
            except BlockingIOError:
                if _perf() > deadline:
                    return
                select.select([], [fd], [], 0.05)
            except OSError:
                return

    def _end_busy(self) -> None:
        self.busy = False
        self._busy_fds = {}
        touched, self._touched = self._touched, []
        listeners, self._listeners = self._listeners, {}
        accepted, self._accepted = self._accepted, []
        for dup in listeners.values():
            dup.close()
        server = getattr(self.core, "server", None)
        loop = getattr(server, "loop", None)
        for conn, sock in accepted:
            if conn.closing or loop is None:
                sock.close()
                continue
            task = loop.create_task(loop.connect_accepted_socket(lambda c=conn: c, sock))
            task.add_done_callback(lambda t, c=conn, old=conn.ctx: _accepted_ready(t, c, old))
        for conn in touched:
            if conn.closing or conn.transport is None:
                continue
            if conn.ctx.close_after_reply:
                conn.close()
            elif conn.queue and loop is not None:
                loop.call_soon(_resume, conn)


class ServedScripting(BusyService, Scripting):
    """``core.scripting`` of a server or an embedded store (which may start serving)."""


def _accepted_ready(task: Any, conn: Any, provisional: Any) -> None:
    """A client accepted during a busy script is now on the event loop: keep what HELLO /
    AUTH / CLIENT SETNAME did to its provisional context, then run what it queued."""
    if task.cancelled() or task.exception() is not None:
        return
    ctx = conn.ctx
    if ctx is not None and ctx is not provisional:
        for attr in ("resp", "authenticated", "name", "lib_name", "lib_ver"):
            setattr(ctx, attr, getattr(provisional, attr))
    _resume(conn)


def _resume(conn: Any) -> None:
    if not conn.closing and conn.waiting is None and conn.queue:
        conn.run_queue()
