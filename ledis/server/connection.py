"""One client connection: parse RESP (hiredis) or inline commands, dispatch, hold replies.

Replies are not written when a command finishes: they are appended to ``out`` and the server
writes them after the iteration's group commit (``Server.flush``), so no reply leaves before
its write is in RocksDB's WAL. All complete commands of one read are processed in order.

A handler may return a :class:`ledis.replies.Pending` (blocking pops, WAIT, semi-sync): the
connection stops processing its queue and stops reading until the pending result is ready,
then encodes it and carries on with the queued commands.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import TYPE_CHECKING

import hiredis

from ledis import errors
from ledis.errors import LedisError, ProtocolError
from ledis.replies import OK, Pending
from ledis.server.inline import split_args
from ledis.server.resp import encode

if TYPE_CHECKING:
    from ledis.server.app import Server

log = logging.getLogger("ledis.server")

INLINE_MAX = 64 * 1024
INTERNAL = LedisError(errors.INTERNAL)


class Connection(asyncio.Protocol):
    def __init__(self, server: "Server") -> None:
        self.server = server
        self.core = server.core
        self.reader = hiredis.Reader()
        self.out: list[bytes] = []
        self.queue: deque[list[bytes]] = deque()
        self.transport: asyncio.Transport | None = None
        self.ctx = None  # type: ignore[assignment]
        self.waiting: Pending | None = None
        self.closing = False
        self._inline = b""

    # --- asyncio callbacks ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername") or ("", 0)
        sock = transport.get_extra_info("sockname") or ("", 0)
        addr = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        laddr = f"{sock[0]}:{sock[1]}" if isinstance(sock, tuple) else str(sock)
        self.ctx = self.core.new_context("normal", addr, laddr)
        self.ctx.conn = self
        self.core.stats["total_connections_received"] += 1
        if len(self.core.clients) >= self.core.config.maxclients:
            self.core.stats["rejected_connections"] += 1
            transport.write(b"-%s\r\n" % errors.MAX_CLIENTS.encode())
            transport.close()
            self.closing = True
            return
        self.core.clients[self.ctx.id] = self.ctx

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        ctx = self.ctx
        if ctx is not None:
            self.core.clients.pop(ctx.id, None)
            for hook in self.server.disconnect_hooks:
                try:
                    hook(ctx)
                except Exception:
                    log.exception("disconnect hook failed")
        if self.waiting is not None:
            self.waiting.cancel()
            self.waiting = None

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.ctx.last_interaction = time.time()
        try:
            self._parse(data)
        except ProtocolError as exc:
            self._protocol_error(exc)
            return
        if self.waiting is None:
            self.run_queue()

    # --- parsing ---------------------------------------------------------------------------
    def _parse(self, data: bytes) -> None:
        reader = self.reader
        if self._inline or (not reader.has_data() and data[:1] != b"*"):
            data = self._parse_inline(self._inline + data)
            if not data:
                return
        reader.feed(data)
        queue = self.queue
        while True:
            try:
                request = reader.gets()
            except hiredis.ProtocolError as exc:
                raise ProtocolError(_redis_protocol_text(str(exc))) from None
            if request is False:
                break
            if type(request) is not list:
                # a top-level non-array after '*': hiredis only returns these for inline-like
                # input, which _parse routes elsewhere; treat as a protocol error.
                raise ProtocolError(errors.PROTO_MULTIBULK_LEN)
            if not request:
                continue
            for arg in request:
                if type(arg) is not bytes:
                    raise ProtocolError(errors.PROTO_EXPECTED_DOLLAR.format(_type_char(arg)))
            queue.append(request)
            if not reader.has_data():
                break
        if reader.has_data():
            return
        # The buffer is empty: if more bytes follow in a later read and they are inline,
        # the check at the top sends them to the inline parser.

    def _parse_inline(self, data: bytes) -> bytes:
        """Consume inline lines from ``data``; return the rest once a RESP array starts."""
        while data:
            if data[:1] == b"*":
                self._inline = b""
                return data
            nl = data.find(b"\n")
            if nl < 0:
                if len(data) > INLINE_MAX:
                    raise ProtocolError(errors.PROTO_TOO_BIG_INLINE)
                self._inline = data
                return b""
            line, data = data[:nl], data[nl + 1 :]
            args = split_args(line.rstrip(b"\r"))
            if args:
                self.queue.append(args)
        self._inline = b""
        return b""

    def _protocol_error(self, exc: LedisError) -> None:
        self.run_queue()  # commands parsed before the bad bytes still run
        self.out.append(b"-%s\r\n" % exc.text.encode())
        self.ctx.close_after_reply = True
        self.server.schedule_flush(self)

    # --- execution ---------------------------------------------------------------------------
    def run_queue(self) -> None:
        queue = self.queue
        core = self.core
        ctx = self.ctx
        out = self.out
        while queue and not self.closing:
            argv = queue.popleft()
            try:
                reply = core.dispatch(ctx, argv)
            except LedisError as exc:
                core.count_error(exc)
                reply = exc
            except Exception:
                log.exception("internal error running %r", argv[0][:64])
                core.count_error(INTERNAL)
                reply = INTERNAL
            ctx.last_cmd = argv[0]
            if type(reply) is Pending:
                self.wait(reply)  # type: ignore[arg-type]
                break
            encode(reply, out, ctx.resp == 3)
            if ctx.close_after_reply:
                queue.clear()
                break
        self.server.schedule_flush(self)

    def wait(self, pending: Pending) -> None:
        """Hold this connection until ``pending`` resolves (blocking commands)."""
        self.waiting = pending
        if self.transport is not None:
            self.transport.pause_reading()
        pending.add_done_callback(self._wait_done)

    def _wait_done(self, pending: Pending) -> None:
        if self.waiting is not pending:
            return
        self.waiting = None
        if self.closing:
            return
        result = pending.result_or_error()
        if isinstance(result, LedisError):
            self.core.count_error(result)
        encode(result, self.out, self.ctx.resp == 3)
        if self.transport is not None:
            self.transport.resume_reading()
        self.run_queue()

    # --- output ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write the held replies (called by the server after the group commit)."""
        out = self.out
        transport = self.transport
        if out and transport is not None and not transport.is_closing():
            transport.write(b"".join(out) if len(out) > 1 else out[0])
        out.clear()
        if self.ctx is not None and self.ctx.close_after_reply and transport is not None:
            self.closing = True
            transport.close()

    def push(self, value: object) -> None:
        """Send an out-of-band message (pub/sub, MONITOR) with the next flush."""
        encode(value, self.out, self.ctx.resp == 3)
        self.server.schedule_flush(self)

    def close(self) -> None:
        self.ctx.close_after_reply = True
        self.server.schedule_flush(self)


def _type_char(value: object) -> str:
    if isinstance(value, int):
        return ":"
    if isinstance(value, list):
        return "*"
    if isinstance(value, hiredis.ReplyError):
        return "-"
    return "+"


def _redis_protocol_text(text: str) -> str:
    """Map hiredis's error texts onto Redis's (``ERR Protocol error: ...``)."""
    lowered = text.lower()
    if "bulk length" in lowered and "multi" not in lowered:
        return errors.PROTO_BULK_LEN
    if "multi" in lowered or "aggregate" in lowered:
        return errors.PROTO_MULTIBULK_LEN
    if "reply type byte" in lowered and '"' in text:
        return errors.PROTO_EXPECTED_DOLLAR.format(text.split('"')[1])
    return "ERR Protocol error: " + text


__all__ = ["Connection", "OK"]
