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
import re
import time
from collections import deque
from typing import TYPE_CHECKING, cast

import hiredis

from ledis import blocking, errors, tracking
from ledis.errors import LedisError, ProtocolError
from ledis.inline import split_args
from ledis.replies import (
    OK,
    QUEUED,
    REPLY_SKIP_NEXT,
    REPLY_SKIP_PENDING,
    Multiple,
    Pending,
    Stream,
)
from ledis.replies import PAUSED as _PAUSED
from ledis.resp import encode
from ledis.security import default_user_nopass, peer_host, protected_mode_denies

if TYPE_CHECKING:
    from ledis.core import Context
    from ledis.server.app import Server

log = logging.getLogger("ledis.server")

INLINE_MAX = 64 * 1024
# hiredis allocates a request's whole argument list (a Python list of N slots) as soon as it
# reads ``*N``. For ``*2147483647`` that is 16 GB of address space: calloc maps it lazily, so
# RSS hardly moves, but every full garbage collection walks the 2^31 slots (12 s each) while
# the connection lives, stalling every client (found by the protocol fuzzer). Redis allocates
# min(N, 1024) slots and grows. So the bytes of an unfinished request whose count passes
# HOLD_COUNT are held here, not fed to hiredis, until its last argument has arrived: the list
# is then no bigger than what the client really sent (each argument is 6 bytes or more).
HOLD_COUNT = 1024
# A multibulk count of 4+ digits (it may pass HOLD_COUNT), or below -1 (Redis runs it as an
# empty request, hiredis calls it out of range, so the scanner finds it and it is cut out
# before hiredis sees it): the read is scanned before hiredis sees it.
_HUGE_COUNT = re.compile(rb"\*(?:[0-9]{4}|-(?!1\r))")
_UNAUTH_ERRORS = (errors.PROTO_UNAUTH_MULTIBULK, errors.PROTO_UNAUTH_BULK)
_ready_keys = blocking.ready_keys  # never rebound: a cheap "anything to serve?" test
_serve_blocked = blocking.serve_ready
_tracking_held = tracking.pending  # never rebound: invalidations held until the reply is out
_thread_time = time.thread_time


class Connection:
    """The asyncio protocol of one client (duck-typed: asyncio and uvloop call these methods
    and need no base class). Compiled, it is an extension type whose attributes are the ones
    ``connection.pxd`` declares: a new attribute goes there too (tests/unit/test_pxd.py)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.core = server.core
        self.reader = hiredis.Reader()
        self.out: list[bytes] = []
        self.queue: deque[list[bytes]] = deque()
        self.transport: asyncio.Transport | None = None
        # set by connection_made, which asyncio calls before any other callback
        self.ctx: Context = None  # type: ignore[assignment]
        self.waiting: Pending | None = None
        self.closing = False
        self._inline = b""
        self._scanner = HeaderScanner()
        self._deferred = b""  # bytes to parse again once the requests before them ran
        self._held: list[bytes] = []  # an unfinished request with a big count (HOLD_COUNT)
        self._held_len = 0
        self._stream_scheduled = False  # a _stream_step is in the loop's ready queue
        self._write_paused = False  # the transport's buffer is past its high-water mark

    # --- asyncio callbacks ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream server's transport (asyncio's or uvloop's) is a full Transport
        self.transport = transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername") or ("", 0)
        sock = transport.get_extra_info("sockname") or ("", 0)
        addr = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        laddr = f"{sock[0]}:{sock[1]}" if isinstance(sock, tuple) else str(sock)
        self.ctx = self.core.new_context("normal", addr, laddr)
        self.ctx.conn = self
        self.ctx.wire = True
        self.core.stats["total_connections_received"] += 1
        config = self.core.config
        refusal = None
        if len(self.core.clients) >= config.maxclients:
            refusal = errors.MAX_CLIENTS
        elif config.protected_mode and protected_mode_denies(
                True, default_user_nopass(config), peer_host(peer)):
            refusal = errors.DENIED_PROTECTED  # Redis 7.0's rule, ledis/security.py
        if refusal is not None:
            self.core.stats["rejected_connections"] += 1
            transport.write(b"-%s\r\n" % refusal.encode())
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

    def eof_received(self) -> None:
        """The client shut its side down: returning None lets the transport close (after
        what is already written), as ``asyncio.Protocol``'s default does."""
        return None

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.ctx.last_interaction = time.time()
        stats = self.core.stats
        stats["total_net_input_bytes"] += len(data)
        stats["total_reads_processed"] += 1
        try:
            at_boundary = self._parse(data)
        except ProtocolError as exc:
            self._protocol_error(exc)
            return
        # client-query-buffer-limit: what is buffered and not yet a request (hiredis's buffer,
        # an unfinished inline line). A bulk header alone allocates nothing (hiredis grows its
        # buffer with the bytes that arrive), so this bounds what a slow or hostile sender of
        # a huge request can make the server hold. Redis closes such a client without a reply.
        # A read that ended on a request boundary leaves nothing that is not a request yet.
        if not at_boundary:
            buffered = self.reader.len() + len(self._inline) + self._held_len
            if buffered > self.core.config.client_query_buffer_limit:
                self._query_buffer_full(buffered)
                return
        if self.waiting is None:
            self.run_queue()
        if self._deferred and not self.closing:
            rest, self._deferred = self._deferred, b""
            self.data_received(rest)

    # --- parsing ---------------------------------------------------------------------------
    def _parse(self, data: bytes) -> bool:
        """Parse one read into ``self.queue``; True when it ended right after a complete
        request, hiredis holding nothing of the next one. Per request, the only Python work is
        the loop over hiredis's results; the rare branches (inline commands, header limits,
        protocol errors, a read ending inside a request) are the helpers below, at most one
        call each per read. Long because the common read (whole requests) runs inline here,
        with no helper frame, down to the test that it ended on a request boundary."""
        reader = self.reader
        scanner = self._scanner
        if self._inline or (not scanner.active and not reader.has_data() and data[:1] != b"*"):
            data = self._parse_inline(self._inline + data)
            if not data:
                return False
        # Header limits (INT_MAX multibulk, proto-max-bulk-len, unauthenticated sizes) are
        # checked by a scanner that walks only the headers. hiredis allocates a request's
        # argument list as soon as it reads ``*N``, so the scan runs *before* hiredis when a
        # huge count may be in this read (a regex finds candidates), while a request spans
        # reads, before AUTH, or when the read is bigger than the bulk limit. Otherwise it
        # runs after hiredis, and only when the read does not end exactly after the last
        # complete request (then the partial request's headers are checked at once). A small
        # pipeline whose reads end on request boundaries -- the common case -- pays one regex
        # search and one comparison per read.
        started_clean = not scanner.active and not reader.has_data()
        limit = self.core.config.proto_max_bulk_len
        unauthenticated = not self.ctx.authenticated
        prescan = (scanner.active or unauthenticated or len(data) > limit
                   or _HUGE_COUNT.search(data) is not None)
        bad: ProtocolError | None = None
        inline_rest = b""
        if prescan:
            data, bad, inline_rest = self._prescan(data, limit, unauthenticated)
            reader = self.reader  # a fresh one after a "*-N" split across reads
        queue = self.queue
        queued = len(queue)
        last = None
        if data:
            reader.feed(data)
            try:
                for request in iter(reader.gets, False):  # each next() is one C call
                    if type(request) is not list:
                        if request is None:  # "*-1\r\n": an empty request, ignored by Redis
                            continue
                        raise ProtocolError(errors.PROTO_MULTIBULK_LEN)
                    if not request:
                        continue
                    for arg in request:
                        if type(arg) is not bytes:
                            raise _bad_argument(arg)
                    queue.append(request)
                    last = request
            except hiredis.ProtocolError as exc:
                if bad is None and started_clean and self._resp_then_inline(exc, data):
                    return False
                raise ProtocolError(_redis_protocol_text(str(exc))) from None
        if bad is not None:
            raise bad
        if self._deferred:
            scanner.active = False
            return False
        if inline_rest:
            scanner.active = False
            self._parse(inline_rest)
            return False
        if prescan:
            scanner.active = not scanner.at_boundary()
            return False
        if last is not None and not reader.has_data() and (
                (started_clean and len(queue) - queued == 1 and data[-1] == 10  # b"\n"
                 and data.count(b"\r\n") == 2 * len(last) + 1
                 and ((43 not in data and 61 not in data)  # no "+" nor "=" at all: memchr
                      or (data.find(b"\n+") < 0 and data.find(b"\n=") < 0)))
                or data.endswith(hiredis.pack_command(tuple(last)))):
            # The read ended right after the last request. One request read from a clean start
            # (the -P 1 case) is checked by counting: hiredis consumed the whole read, so the
            # read is that request and, if it ended inside the next one, that one's header
            # and complete arguments, each ending in CRLF, and maybe the type byte of the next
            # item, which hiredis consumes alone (so the read must end in LF: hiredis takes a
            # line only with its CRLF, and refuses LF as a type byte). With no "\n+" or "\n="
            # in the read every argument is a bulk string (the other items hiredis returns as
            # bytes, simple and verbatim strings, start right after a CRLF), so the request
            # holds 2n + 1 CRLFs plus any in its payload, and a count of exactly 2n + 1 leaves
            # nothing after it. These scans cost less than re-encoding the request
            # (docs/PERFORMANCE.md, "The read boundary at -P 1"); a read with no "+" and no
            # "=" byte at all (two memchr) needs no search for them. Otherwise hiredis re-encodes
            # the last request in C and the read must end with it (only a payload holding that
            # exact encoding could fool this; a non-bulk argument never matches, and the
            # header scan below refuses it as Redis does).
            return True
        self._scan_after(data, queued, limit, unauthenticated)
        return False

    def _prescan(self, data: bytes, limit: int,
                 unauthenticated: bool) -> tuple[bytes, ProtocolError | None, bytes]:
        """The header scan before hiredis sees ``data``: returns what hiredis may parse (the
        complete requests before a bad header, "*-N" empty requests cut out), the bad header's
        error, and an inline request that follows the RESP ones."""
        scanner = self._scanner
        bad: ProtocolError | None = None
        inline_rest = b""
        if not scanner.active:
            scanner.reset()
        try:
            scanner.feed(data, limit, unauthenticated)
        except ProtocolError as exc:
            bad = exc
            good_end = scanner.good_end
            if unauthenticated and good_end and exc.text in _UNAUTH_ERRORS:
                # Redis checks each request with the auth state left by the previous
                # one (AUTH then a big command in one read): run the complete requests
                # first, then look at the rest again (data_received does).
                self._deferred = data[good_end:]
                bad = None
                scanner.reset()
            data = data[:good_end]  # the complete requests before the bad one
        else:
            if scanner.stop_at >= 0:  # an inline request follows the RESP ones
                inline_rest = data[scanner.stop_at:]
                data = data[:scanner.stop_at]
        released, data = self._hold_big(data, bad is None)
        if scanner.empties:
            if scanner.split_empty and self.reader.len() <= INLINE_MAX:
                self.reader = hiredis.Reader()  # it held only the "*-N" start
            data = _cut(data, scanner.empties)
        if released:
            data = released + data
        return data, bad, inline_rest

    def _resp_then_inline(self, exc: hiredis.ProtocolError, data: bytes) -> bool:
        """An inline command right after RESP ones in the same read (Redis allows the mix):
        find where the RESP requests end and parse the rest again. False when hiredis's
        error is something else."""
        if "reply type byte" not in str(exc):
            return False
        rest = _inline_after_resp(data)
        if rest is None:
            return False
        self.reader = hiredis.Reader()
        scanner = self._scanner
        scanner.reset()
        scanner.active = False
        if rest:
            self._parse(rest)
        return True

    def _scan_after(self, data: bytes, queued: int, limit: int, unauthenticated: bool) -> None:
        """The header scan after hiredis, when the read ends inside a request: a bad header
        drops the requests hiredis parsed after it (the queue goes back to ``queued`` plus
        the good ones) and raises."""
        scanner = self._scanner
        scanner.reset()
        try:
            scanner.feed(data, limit, unauthenticated)
        except ProtocolError:
            keep = queued + scanner.completed
            queue = self.queue
            while len(queue) > keep:
                queue.pop()
            raise
        scanner.active = not scanner.at_boundary()

    def _hold_big(self, data: bytes, scanned: bool) -> tuple[bytes, bytes]:
        """Hold back an unfinished request whose count passes HOLD_COUNT (see there).

        Returns (held bytes released now, the part of ``data`` hiredis may see); ``scanned``
        says the scan of ``data`` ended without an error (else ``data`` is already cut to
        the complete requests before the bad bytes)."""
        scanner = self._scanner
        released = b""
        if self._held:
            done = scanner.good_end > 0  # the held request's last argument came
            if scanned and not done:
                self._held.append(data)
                self._held_len += len(data)
                return b"", b""
            if done:
                released = b"".join(self._held)
            self._held = []
            self._held_len = 0
            if not scanned:
                return released, data
        start = scanner.big_start
        if start is None or not scanned:
            return released, data
        held = self._held
        if start < 0:
            # its header began in the read before, which hiredis got: it holds those first
            # bytes and nothing else (the requests before them were complete), so a fresh
            # reader replaces it and they are held with the rest
            self.reader = hiredis.Reader()
            held.append(scanner.big_head)
            start = 0
        held.append(data[start:])
        self._held_len = sum(len(piece) for piece in held)
        return released, data[:start]

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

    def _query_buffer_full(self, buffered: int) -> None:
        log.warning("Closing client that reached max query buffer length: %s (qbuf=%d)",
                    self.ctx.addr, buffered)
        self.reader = hiredis.Reader()  # let the buffered bytes go now, not at close
        self._inline = b""
        self._held = []
        self._held_len = 0
        self.queue.clear()
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def _protocol_error(self, exc: LedisError) -> None:
        self.run_queue()  # commands parsed before the bad bytes still run
        self.out.append(b"-%s\r\n" % exc.text.encode())
        self.ctx.close_after_reply = True
        self.server.schedule_flush(self)

    # --- execution ---------------------------------------------------------------------------
    def run_queue(self) -> None:
        queue = self.queue
        core = self.core
        dispatch = core.dispatch
        ctx = self.ctx
        out = self.out
        while queue and not self.closing:
            argv = queue.popleft()
            ctx.last_cmd = argv  # CLIENT LIST cmd=
            try:  # Core.call, inline: one call less per request
                reply = dispatch(ctx, argv)
            except Exception as exc:
                reply = core.error_reply(ctx, argv, exc)
            if _ready_keys:  # a write fed keys that blocked clients wait on: serve them now,
                _serve_blocked()  # after this command and before the next one, as Redis does
            if type(reply) is Pending:
                if reply is _PAUSED:  # CLIENT PAUSE: run it again once the pause ends
                    queue.appendleft(argv)
                    core.paused_conns.add(self)
                    break
                self.wait(reply)  # type: ignore[arg-type]
                break
            # CLIENT REPLY OFF/SKIP drops replies, but not pushes: (un)subscribe confirmations
            # go out like pub/sub messages (Redis's CLIENT_PUSHING), or a subscriber would hang
            if not ctx.reply_mode or not _drop_reply(ctx) or type(reply) is Multiple:
                if reply is OK:  # the commonest replies, without the call into encode
                    out.append(b"+OK\r\n")
                elif type(reply) is bytes:
                    out.append(b"$%d\r\n%s\r\n" % (len(reply), reply))
                elif type(reply) is int:
                    out.append(b":%d\r\n" % reply)
                elif reply is QUEUED:  # a command queued in MULTI
                    out.append(b"+QUEUED\r\n")
                else:
                    encode(reply, out, ctx.resp == 3)
            if _tracking_held:  # CLIENT TRACKING: this client's own invalidations, after it
                tracking.send_pending()
            if ctx.close_after_reply:
                queue.clear()
                break
        server = self.server
        if server._flush_scheduled:  # Server.schedule_flush, inline: one call less per read
            server._to_flush.append(self)
        else:
            server.schedule_flush(self)

    def wait(self, pending: Pending) -> None:
        """Hold this connection until ``pending`` resolves (blocking commands) or, for a
        streamed reply, until its last chunk is out."""
        self.waiting = pending
        stream = pending.stream
        if stream is not None:
            self.core.stats["streamed_replies"] += 1
            if self.ctx.reply_mode and _drop_reply(self.ctx):
                stream.discard = True
            elif stream.count is not None:
                self.out.append(stream.header(stream.count, self.ctx.resp == 3))
            self._stream_next()
            return
        # Reading goes on (new requests only queue up, see data_received): a paused transport
        # would never notice that a blocked client went away, and its waiter would leak.
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
        ctx = self.ctx
        if not ctx.reply_mode or not _drop_reply(ctx):  # CLIENT REPLY applies to it too
            encode(result, self.out, ctx.resp == 3)
        if _tracking_held:
            tracking.send_pending()
        self.run_queue()

    # --- streamed replies (ledis.replies.Stream, issue #19) ---------------------------------
    # A long reply is sent one chunk per loop iteration, so other clients are served between
    # chunks; this connection's next commands wait in its queue (``waiting`` is set) until the
    # last chunk. A client that reads slowly pauses the stream (asyncio's write flow control:
    # ``pause_writing`` past the transport's high-water mark) instead of piling the reply up in
    # memory. A closed connection (CLIENT KILL, the client going away) stops it: ``cancel``
    # drops the walk, and with it the RocksDB iterator and its snapshot.
    def _stream_next(self) -> None:
        if not self._stream_scheduled:
            self._stream_scheduled = True
            self.server.loop.call_soon(self._stream_step)  # type: ignore[union-attr]

    def _stream_step(self) -> None:
        self._stream_scheduled = False
        pending = self.waiting
        if pending is None or self.closing or self.ctx.close_after_reply or self._write_paused:
            return  # gone, or resume_writing calls _stream_next again
        stream = cast(Stream, pending.stream)
        started = _thread_time()
        try:
            chunk = next(stream.chunks, None)
        except Exception as exc:  # a RocksDB error in mid-walk
            self._stream_failed(stream, exc)
            return
        used = int((_thread_time() - started) * 1e6)  # CPU, not wall: preemption is not ours
        stats = self.core.stats
        if used > stats["streamed_reply_chunk_max_us"]:
            stats["streamed_reply_chunk_max_us"] = used
        if chunk is not None:
            stream.entries += chunk[0]
            if stream.discard or not chunk[1]:
                pass
            elif stream.count is None:
                stream.held.append(chunk[1])
            else:
                self.out.append(chunk[1])
                self.server.schedule_flush(self)
            self._stream_next()
            return
        if stream.count is None and not stream.discard:
            # The count is known now: the header, then the held chunks go out one per
            # iteration like any others (writing megabytes at once stalled ~30 ms).
            opening = stream.opening() if stream.opening is not None else b""
            self.out.append(opening + stream.header(stream.entries, self.ctx.resp == 3))
            stream.count = stream.entries
            stream.chunks = ((0, data) for data in stream.held)
            stream.held = []
            self.server.schedule_flush(self)
            self._stream_next()
            return
        if stream.entries != stream.count and not stream.discard:
            # the header promised another count: the client could not parse what follows
            log.error("streamed reply of %d entries for a header of %d; closing the client",
                      stream.entries, stream.count)
            self.ctx.close_after_reply = True
        self.waiting = None
        if _tracking_held:
            tracking.send_pending()
        self.run_queue()  # the pipelined commands held meanwhile (and the flush)

    def _stream_failed(self, stream: Stream, exc: Exception) -> None:
        reply = self.core.error_reply(self.ctx, [b"(streamed reply)"], exc)
        self.waiting = None
        self.queue.clear()
        if stream.count is None:  # nothing sent yet: the error is the reply
            encode(reply, self.out, False)
        self.ctx.close_after_reply = True  # else the reply is cut: the client cannot go on
        self.server.schedule_flush(self)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self.waiting is not None and self.waiting.stream is not None:
            self._stream_next()

    # --- output ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write the held replies (called by the server after the group commit)."""
        out = self.out
        transport = self.transport
        if out and transport is not None and not transport.is_closing():
            data = b"".join(out) if len(out) > 1 else out[0]
            stats = self.core.stats
            stats["total_net_output_bytes"] += len(data)
            stats["total_writes_processed"] += 1
            transport.write(data)
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


def _drop_reply(ctx) -> bool:
    """CLIENT REPLY OFF / SKIP: whether this command's reply is dropped (and the next mode)."""
    mode = ctx.reply_mode
    if mode == REPLY_SKIP_PENDING:  # CLIENT REPLY SKIP itself: drop, then skip the next one
        ctx.reply_mode = REPLY_SKIP_NEXT
    elif mode == REPLY_SKIP_NEXT:
        ctx.reply_mode = 0
    return True


class HeaderScanner:
    """Walks the headers of RESP requests (``*N``, ``$L``) and skips their payloads.

    hiredis parses requests but knows no limits: it would buffer a ``$600000000`` bulk until
    it arrived. This checks each header as Redis's ``processMultibulkBuffer`` does. Payload
    bytes are skipped by arithmetic, so the cost is one ``find`` per header.
    """

    __slots__ = ("active", "args", "skip", "line", "completed", "stop_at", "good_end",
                 "empties", "split_empty", "big_start", "big_head")

    def __init__(self) -> None:
        self.active = False
        self.reset()

    def reset(self) -> None:
        self.args = 0  # bulks still expected in the current request (0: expecting '*')
        self.skip = 0  # payload + CRLF bytes still to skip
        self.line = b""  # an incomplete header line carried to the next read
        self.completed = 0  # requests completed in the last feed
        self.stop_at = -1  # where a non-RESP (inline) request starts, if one was met
        self.good_end = 0  # end of the last complete request in the last feed's data
        self.empties: list[tuple[int, int]] = []  # "*-N" headers (N > 1) in the last feed
        self.split_empty = False  # the first of them began in the read before
        # where the unfinished request at the end of the last feed began, when its count
        # passes HOLD_COUNT (negative: its header began in the read before, whose bytes of
        # it are big_head); None otherwise
        self.big_start: int | None = None
        self.big_head = b""

    def at_boundary(self) -> bool:
        return not self.args and not self.skip and not self.line

    def feed(self, data: bytes, bulk_limit: int, unauthenticated: bool) -> None:
        self.completed = 0
        self.good_end = 0
        self.stop_at = -1
        self.empties = []
        self.split_empty = False
        if self.big_start is not None:
            self.big_start = -(1 << 62)  # began in an earlier feed (still unfinished)
        carried = len(self.line)
        if carried:
            data = self.line + data
            self.line = b""
        pos, n = 0, len(data)
        while True:
            if self.skip:
                step = min(self.skip, n - pos)
                pos += step
                self.skip -= step
                if self.skip:
                    return
                if not self.args:
                    self.completed += 1
                    self.good_end = pos - carried
                    self.big_start = None
            if pos >= n:
                return
            nl = data.find(b"\r\n", pos)
            if self.args == 0:
                if data[pos] != 0x2A:  # '*': inline commands after RESP are not scanned
                    self.active = False
                    self.stop_at = pos - carried
                    return
                if nl < 0:
                    if n - pos > INLINE_MAX:
                        raise ProtocolError(errors.PROTO_TOO_BIG_MBULK)
                    self.line = data[pos:]
                    return
                try:
                    count = int(data[pos + 1 : nl])
                except ValueError:
                    raise ProtocolError(errors.PROTO_MULTIBULK_LEN) from None
                if count > 2147483647 or (count < -1 and (
                        count < -(2**63) or data[pos + 1 : nl] != b"%d" % count)):
                    # Redis's string2ll: no sign but '-', no leading zeros, in a long long
                    raise ProtocolError(errors.PROTO_MULTIBULK_LEN)
                if unauthenticated and count > 10:
                    raise ProtocolError(errors.PROTO_UNAUTH_MULTIBULK)
                self.args = max(count, 0)
                if count > HOLD_COUNT:
                    self.big_start = pos - carried
                    self.big_head = data[pos:carried]
                if not self.args:
                    self.good_end = nl + 2 - carried
                    if count < -1 and pos >= carried:
                        self.empties.append((pos - carried, nl + 2 - carried))
                    elif count < -1:
                        # the header began in the last read: hiredis holds its first bytes
                        # (and nothing else: the requests before it were complete), so the
                        # caller starts a fresh reader and drops the header's tail here
                        self.split_empty = True
                        self.empties.append((0, nl + 2 - carried))
            else:
                if data[pos] != 0x24:  # '$'
                    raise ProtocolError(errors.PROTO_EXPECTED_DOLLAR.format(chr(data[pos])))
                if nl < 0:
                    if n - pos > INLINE_MAX:
                        raise ProtocolError(errors.PROTO_TOO_BIG_BULK)
                    self.line = data[pos:]
                    return
                try:
                    length = int(data[pos + 1 : nl])
                except ValueError:
                    raise ProtocolError(errors.PROTO_BULK_LEN) from None
                if length < 0 or length > bulk_limit:
                    raise ProtocolError(errors.PROTO_BULK_LEN)
                if unauthenticated and length > 16384:
                    raise ProtocolError(errors.PROTO_UNAUTH_BULK)
                self.args -= 1
                self.skip = length + 2
            pos = nl + 2


def _inline_after_resp(data: bytes) -> bytes | None:
    """The bytes of ``data`` after its leading complete RESP requests, when an inline
    request follows them; None when the scan cannot tell (a real protocol error)."""
    scanner = HeaderScanner()
    try:
        scanner.feed(data, 1 << 62, False)
    except ProtocolError:
        return None
    if scanner.stop_at < 0 or scanner.line:
        return None
    return data[scanner.stop_at:]


def _cut(data: bytes, spans: list[tuple[int, int]]) -> bytes:
    """``data`` without the ``(start, end)`` spans that lie wholly inside it."""
    parts, last = [], 0
    for start, end in spans:
        if end > len(data):
            break
        parts.append(data[last:start])
        last = end
    parts.append(data[last:])
    return b"".join(parts)


def _bad_argument(arg: object) -> ProtocolError:
    """The error for a request argument that is not a bulk string (hiredis parsed a nil or
    another reply type inside the array)."""
    if arg is None:
        return ProtocolError(errors.PROTO_BULK_LEN)
    return ProtocolError(errors.PROTO_EXPECTED_DOLLAR.format(_type_char(arg)))


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
    if "multi" in lowered or "aggregate" in lowered:
        return errors.PROTO_MULTIBULK_LEN
    if "bulk" in lowered:
        return errors.PROTO_BULK_LEN
    if "reply type byte" in lowered and '"' in text:
        return errors.PROTO_EXPECTED_DOLLAR.format(text.split('"')[1])
    return "ERR Protocol error: " + text


__all__ = ["Connection", "OK"]
