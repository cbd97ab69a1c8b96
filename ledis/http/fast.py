"""The HTTP API's fast lane: ``GET /[db]/CMD/args...`` answered inside ``data_received``.

aiohttp spends ~80-100 us of Python per request on this machine (a Task per request, the
Request and Response objects, the router, the StreamWriter, header serialization), against
~35 us for the kernel's loopback round trip: a bare aiohttp app answers 7-8k requests/s with
16 keep-alive clients, a bare asyncio protocol 25k/s (docs/PERFORMANCE.md, "HTTP"). So the
API's own handler was never the limit; aiohttp's per-request machinery was.

:class:`FastHandler` is aiohttp's own protocol (``web_protocol.RequestHandler``) with its
parser wrapped: aiohttp's C parser still parses every byte (so limits, malformed requests and
every header rule are aiohttp's), and each parsed message that is a plain command GET
(HTTP/1.1, keep-alive, no body, no upgrade, not a fixed route or the console) is run through
``HttpApi.get_command`` -- the same function aiohttp's route calls -- and its answer is written
to the transport at once, with the headers aiohttp would have sent. Anything else (POST, the
console, ``/info``, HTTP/1.0, ``Connection: close``, HEAD, a write buffer over its high-water
mark) goes to aiohttp unchanged. Order is kept: a message is answered here only while aiohttp
has no request of this connection queued or running, and once one message of a read went to
aiohttp every later one does too. A command whose reply is pending (WAIT and the like) holds
every later message of the connection until its answer is written.

Semantics are those of the aiohttp route: the same status codes and bodies, one commit per
request before its answer (so an answered write is in the WAL), the same auth rule.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.web_protocol import RequestHandler

from ledis import errors
from ledis.http.app import FIXED_PATHS, JSON_TEXT, Answer, Deferred, HttpApi

log = logging.getLogger("ledis.http")

_SERVER = SERVER_SOFTWARE.encode()
_INTERNAL: Answer = (500, b'{"error": "%s"}' % errors.INTERNAL.encode(), JSON_TEXT)


class _Clock:
    """The ``Date`` header, formatted once a second (as aiohttp caches it)."""

    second = -1
    text = b""

    @classmethod
    def now(cls) -> bytes:
        second = int(time.time())
        if second != cls.second:
            cls.second = second
            cls.text = formatdate(second, usegmt=True).encode()
        return cls.text


def encode_answer(answer: Answer, close: bool = False) -> bytes:
    """An answer as the HTTP/1.1 response aiohttp would send for it (same header order);
    ``close`` adds ``Connection: close``."""
    status, body, content_type = answer
    extra = b"WWW-Authenticate: Bearer\r\n" if status == 401 else b""
    if close:
        extra += b"Connection: close\r\n"
    return b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nDate: %s\r\n" \
        b"Server: %s\r\n%s\r\n%s" % (status, HTTPStatus(status).phrase.encode(),
                                     content_type.encode(), len(body), _Clock.now(), _SERVER,
                                     extra, body)


def _is_fast(message: Any, payload: Any) -> bool:
    """A plain command GET that aiohttp's catch-all route would send to ``HttpApi.handle``."""
    if (message.method != "GET" or payload is not EMPTY_PAYLOAD or message.upgrade
            or message.should_close or message.version != HttpVersion11):
        return False
    path = message.path
    if path[:1] != "/":  # absolute-form target: let aiohttp route it
        return False
    routed = message.url.path  # what aiohttp's router matches: decoded, dot segments removed
    return routed != "/" and routed not in FIXED_PATHS and not routed.startswith("/_console")


class _Parser:
    """aiohttp's request parser, with the fast messages taken out of what it returns."""

    __slots__ = ("parser", "handler")

    def __init__(self, parser: Any, handler: FastHandler) -> None:
        self.parser = parser
        self.handler = handler

    def feed_data(self, data: bytes) -> tuple[Sequence[Any], bool, bytes]:
        try:
            messages, upgraded, tail = self.parser.feed_data(data)
        except Exception:
            self.handler._handed += 1  # aiohttp answers the malformed request (a 400)
            raise
        if messages:
            messages = self.handler.serve(messages)
        return messages, upgraded, tail

    def __getattr__(self, name: str) -> Any:  # message_consumed, feed_eof, set_upgraded ...
        return getattr(self.parser, name)


class FastHandler(RequestHandler):
    """aiohttp's connection protocol, answering plain command GETs itself (module docstring)."""

    __slots__ = ("_api", "_group", "_holding", "_held", "_deferred", "_inner", "_handed")

    def __init__(self, api: HttpApi, group: GroupCommit, manager: Any, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._api = api
        self._group = group
        self._holding = False  # answers of this connection wait in the group commit
        self._held: list[Any] = []  # messages parsed while a pending answer is awaited
        self._deferred: asyncio.Task | None = None
        self._handed = 0  # messages passed on to aiohttp
        self._inner: Any = self._parser  # aiohttp's C parser
        self._parser = _Parser(self._inner, self)  # type: ignore[assignment]

    def serve(self, messages: Sequence[Any]) -> list[Any]:
        """Answer the leading fast messages of ``messages``; return the rest for aiohttp."""
        if self._deferred is not None:
            self._held.extend(messages)
            return []
        if not self._idle() or self.writing_paused or self.transport is None:
            if self._holding:
                self._group.flush()  # our held answers go before anything aiohttp sends
            self._handed += len(messages)
            return list(messages)  # aiohttp may still owe an answer: keep the order
        api = self._api
        out = []
        served = 0
        rest: list[Any] = []
        for index, (message, payload) in enumerate(messages):
            if not _is_fast(message, payload):
                rest = list(messages[index:])
                break
            served += 1
            try:
                answer = api.get_command(message.path.split("?", 1)[0], message.url.query,
                                         message.headers.get("Authorization", ""), False)
            except Exception:  # never kill the connection's protocol for one request
                log.exception("internal error answering %s", message.path[:64])
                answer = _INTERNAL
            if isinstance(answer, Deferred):
                self._held = list(messages[index + 1:])
                self._deferred = asyncio.ensure_future(self._finish(answer))
                break
            out.append(encode_answer(answer))
        self._handed += len(rest)
        api.fast_requests += served
        consumed = getattr(self._inner, "message_consumed", None)
        if consumed is not None:  # (aiohttp 3.14's parser counts messages not handed out)
            for _ in range(served):
                consumed()
        if out:
            data = b"".join(out) if len(out) > 1 else out[0]
            group = self._group
            if self._holding or api.core.engine.dirty:
                group.hold(self, data)  # sent after the iteration's commit
                if rest or self._deferred is not None:
                    group.flush()  # before aiohttp (or the pending one) answers anything
            else:  # nothing pending: what these answers read is on disk already
                self.transport.write(data)
                self._touch()
        return rest

    def _idle(self) -> bool:
        """True when every message aiohttp got from this connection has been answered: none
        ever went to it, or its request loop is parked waiting for the next one (it parks
        only after writing the previous answer)."""
        if self._messages:
            return False
        if self._handed == 0:
            return True  # (its loop may not even have started yet)
        waiter = self._waiter
        return waiter is not None and not waiter.done()

    def _touch(self) -> None:
        """Push the keep-alive deadline, as aiohttp does after each request it answers."""
        loop = self._loop
        self._next_keepalive_close_time = loop.time() + self._keepalive_timeout
        if self._keepalive_handle is None and self._keepalive_timeout > 0:
            self._keepalive_handle = loop.call_at(self._next_keepalive_close_time,
                                                  self._process_keepalive)

    async def _finish(self, deferred: Deferred) -> None:
        try:
            answer = await deferred.wait()
        except Exception:
            log.exception("internal error answering a pending HTTP request")
            answer = _INTERNAL
        self._deferred = None
        if self.transport is None:
            return
        if self._holding:
            self._group.flush()  # answers before the pending one go first
        self.transport.write(encode_answer(answer))
        self._touch()
        held, self._held = self._held, []
        rest = self.serve(held)  # (counts what it passes on)
        if rest:  # what aiohttp's data_received would have done with them
            self._messages.extend(rest)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._deferred is not None:
            self._deferred.cancel()
        super().connection_lost(exc)


class GroupCommit:
    """The fast lane's answers held until one commit at the end of the loop iteration, as
    the RESP server holds its replies (``Server.flush``): with 16 clients, several requests
    arrive in one iteration and share one RocksDB write instead of one each (a commit per
    request was ~22 us of the ~60 us a SET request cost the server). Answers are held only
    while something is pending, so a read never leaves before a write it may have seen is in
    the WAL; when the write fails, each connection that was waiting gets one 500 answer with
    the ``MISCONF`` text and is closed (an answer may not acknowledge a lost write)."""

    def __init__(self, core: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.core = core
        self.loop = loop
        self.held: list[tuple[FastHandler, bytes]] = []
        self.scheduled = False

    def hold(self, handler: FastHandler, data: bytes) -> None:
        handler._holding = True
        self.held.append((handler, data))
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        held, self.held = self.held, []
        if not held:
            return
        by_handler: dict[FastHandler, list[bytes]] = {}
        for handler, data in held:
            by_handler.setdefault(handler, []).append(data)
        try:
            self.core.commit()
        except Exception:  # the engine discarded the batch and refuses writes until recovered
            log.exception("commit failed; closing the waiting HTTP connections")
            failed = encode_answer(
                (500, json.dumps({"error": errors.STORE_WRITE_FAILED}).encode(), JSON_TEXT),
                close=True)
            for handler in by_handler:
                handler._holding = False
                if handler.transport is not None:
                    handler.transport.write(failed)
                    handler.force_close()
            return
        for handler, parts in by_handler.items():
            handler._holding = False
            if handler.transport is not None:
                handler.transport.write(b"".join(parts) if len(parts) > 1 else parts[0])
                handler._touch()


def supported() -> bool:
    """Whether this aiohttp has the protocol internals the fast lane works with (checked by
    attribute name, as aiohttp 3.14 has them); without them the listener serves plain
    aiohttp, which answers the same."""
    names: set[str] = set()
    for cls in RequestHandler.__mro__:
        names.update(getattr(cls, "__slots__", ()))
    needed = {"_parser", "_messages", "_waiter", "_keepalive_handle", "_keepalive_timeout",
              "_next_keepalive_close_time", "_loop", "transport"}
    return needed <= names and hasattr(RequestHandler, "_process_keepalive") and hasattr(
        RequestHandler, "writing_paused")


class Site(web.BaseSite):
    """aiohttp's ``SockSite`` with :class:`FastHandler` connections."""

    def __init__(self, runner: web.BaseRunner, sock: Any, api: HttpApi,
                 ssl_context: Any = None) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._sock = sock
        self._api = api

    @property
    def name(self) -> str:
        host, port = self._sock.getsockname()[:2]
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{host}:{port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        manager = self._runner.server
        assert manager is not None  # set by runner.setup()
        api = self._api
        group = api.group_commit
        if group is None:
            group = api.group_commit = GroupCommit(api.core, loop)

        fast = supported()
        if not fast:
            log.warning("this aiohttp lacks what the HTTP fast lane needs: plain aiohttp serves")

        def protocol() -> RequestHandler:
            if fast:
                return FastHandler(api, group, manager, loop=loop, access_log=None)
            return manager()  # aiohttp's own, as SockSite makes them

        self._protocol = protocol
        await self._serve()

    async def _serve(self) -> None:
        self._server = await asyncio.get_running_loop().create_server(
            self._protocol, sock=self._sock, ssl=self._ssl_context, backlog=self._backlog)

    def use_tls(self, context: Any) -> None:
        """Serve connections accepted from now on with ``context`` (CONFIG SET of the TLS
        options): the listening server stops at once, a new one adopts the same socket
        (duplicated: what waits in the backlog meanwhile gets the new context)."""
        sock = self._sock.dup()
        if self._server is not None:
            self._server.close()
        self._sock = sock
        self._ssl_context = context
        from ledis.server.app import keep_task

        keep_task(asyncio.get_running_loop().create_task(self._serve()))
