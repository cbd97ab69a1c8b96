"""The HTTP API: LedisDB's URL shape on aiohttp, on the server's own event loop.

Started by ``ledis.server.app.Server.start`` when ``http_bind`` is set (``--http-port`` alone
binds loopback). Every request becomes one argv that goes through ``Core.dispatch`` with a
fresh :class:`~ledis.core.Context` (RESP3 reply shapes, the db from the URL), then the
engine's pending batch is committed before answering, so an answered write is in the WAL
exactly like a RESP reply. Handlers are synchronous, so a request runs atomically between
RESP commands of other clients; nothing here blocks the loop.

Requests (docs/http.md has the full mapping and examples):

* ``GET /[db]/CMD/arg1/arg2...``: URL-decoded path segments (``%2F`` for a ``/`` inside an
  argument, any byte as ``%XX``); ``?type=json`` (default) or ``msgpack``;
  ``?encoding=base64`` returns every bulk string base64-encoded.
* ``POST /[db]`` with a JSON body ``["HSET", "k", "f", "v"]`` or ``{"command": [...]}``
  (``application/msgpack`` bodies too); an argument ``{"base64": "..."}`` is binary.
  ``POST /[db]/CMD`` appends the body's list (or ``{"args": [...]}``) to CMD.
  ``POST /[db]/EVAL`` ``{"script", "keys", "args"}``, ``/EVALSHA`` ``{"sha", ...}``,
  ``/FCALL`` ``{"function", "keys", "args"}``.
* Answer ``{"CMD": value}``; a status reply is ``[true, "OK"]`` as LedisDB answers it.
  Errors: ``{"error": "ERR ..."}`` with 400 (401 for auth, 403 for an ACL denial (NOPERM),
  404 unknown command, 405, 413).
* ``GET /health``, ``GET /info`` (INFO as JSON), ``GET /openapi.json``.
* ``GET /`` and ``/_console/...``: the browser console (``ledis/http/console_api.py``), with
  its own login (a session cookie, CSRF token) in front of its API when a password is set.
* ``Authorization: Bearer <password>`` (the ``default`` user's password, ``requirepass``) or
  ``Authorization: Basic base64(user:password)`` for any ACL user; the request runs with that
  user's permissions. Required on every route and method except ``GET /health`` (which then
  says only ``{"status": "ok", "loading": 0}``) and the console's page, static files and
  login: Redis tells an unauthenticated client nothing, and the OpenAPI document lists the
  command names, renamed ones included. The check comes before anything else (405, 400, 413
  ...), so a client without the token learns nothing from the status either
  (tests/test_security.py walks the router). With ``http_tls`` the site serves HTTPS
  (``ledis.security.tls_context``).
"""

from __future__ import annotations

import base64
import json
import logging
import math
import socket
from typing import Any
from urllib.parse import unquote_to_bytes

import msgpack
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ledis import errors
from ledis.errors import LedisError
from ledis.replies import (
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
)

log = logging.getLogger("ledis.http")


class _QuietBadRequests(logging.Filter):
    """aiohttp logs every malformed request (bad request line, a byte not allowed in a URL,
    an 8 KB header) with a traceback at ERROR level and answers it 400: a hostile client
    could fill the log with one line of junk per connection. Those are the client's errors,
    as a RESP protocol error is, so they are dropped; an exception in a handler still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, (HttpProcessingError, ConnectionResetError))


logging.getLogger("aiohttp.server").addFilter(_QuietBadRequests())

# Stateful or connection-bound commands make no sense for one stateless request.
REFUSED = frozenset((
    b"subscribe", b"psubscribe", b"ssubscribe", b"unsubscribe", b"punsubscribe",
    b"sunsubscribe", b"monitor", b"multi", b"exec", b"discard", b"watch", b"unwatch",
    b"select", b"hello", b"auth", b"quit", b"reset", b"sync", b"psync", b"replconf",
))
SPECIAL_POST = (b"EVAL", b"EVALSHA", b"EVAL_RO", b"EVALSHA_RO", b"FCALL", b"FCALL_RO")
# Routes with a fixed path (answered by ``handle`` too); the catch-all takes every command.
FIXED_PATHS = ("/health", "/info", "/openapi.json")
PUBLIC = ("GET", "/health")  # the one request that needs no token: load-balancer probes
JSON_TYPE = "application/json"
JSON_TEXT = "application/json; charset=utf-8"  # what aiohttp sends for a text JSON body
MSGPACK_TYPE = "application/msgpack"
# One answer: status, body, Content-Type. Built once, sent by aiohttp or by the fast handler.
Answer = tuple[int, bytes, str]


class HttpError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


# --- reply values -> JSON / msgpack ------------------------------------------------------------
def _json_key(value: Any, b64: bool) -> str:
    """A map key as JSON object key: text (bytes that are not UTF-8 as ``\\xNN`` escapes),
    base64 with ``encoding=base64``; other values as their JSON text."""
    if isinstance(value, bytes):
        if b64:
            return base64.b64encode(value).decode()
        return value.decode("utf-8", "backslashreplace")
    converted = to_json(value, b64)
    return converted if isinstance(converted, str) else json.dumps(converted)


def to_json(value: Any, b64: bool = False) -> Any:
    """A reply value as JSON-able data (docs/http.md, "Reply mapping")."""
    t = type(value)
    if t is bytes or t is Verbatim:
        if b64:
            return base64.b64encode(value).decode()
        try:
            return value.decode()
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode()}
    if t is int or value is None:
        return value
    if t is Simple:
        return [True, value.decode("utf-8", "replace")]
    if t is list or t is tuple or t is SetReply:
        return [to_json(v, b64) for v in value]
    if t is Map or t is PairList:
        items = value.items() if t is Map else value
        return {_json_key(k, b64): to_json(v, b64) for k, v in items}
    if t is Double or t is float:
        if math.isinf(value) or math.isnan(value):
            return "inf" if value > 0 else "-inf" if value < 0 else "nan"
        return float(value)
    if t is Bool or t is bool:
        return bool(value)
    if value is NullArray:
        return None
    if t is Raw:
        return to_json(decode_raw(value), b64)
    if isinstance(value, LedisError):
        return {"error": value.text}
    if isinstance(value, bytes):
        return to_json(bytes(value), b64)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dict):
        return {_json_key(k, b64): to_json(v, b64) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v, b64) for v in value]
    return str(value)


def to_msgpack(value: Any) -> Any:
    """A reply value as msgpack-able data: bulk strings stay binary."""
    t = type(value)
    if t is bytes or t is int or value is None:
        return value
    if t is Simple:
        return [True, value.decode("utf-8", "replace")]
    if t is list or t is tuple or t is SetReply:
        return [to_msgpack(v) for v in value]
    if t is Map or t is PairList:
        items = value.items() if t is Map else value
        return {_hashable(to_msgpack(k)): to_msgpack(v) for k, v in items}
    if t is Double or t is float:
        return float(value)
    if t is Bool or t is bool:
        return bool(value)
    if value is NullArray:
        return None
    if t is Raw:
        return to_msgpack(decode_raw(value))
    if isinstance(value, LedisError):
        return {"error": value.text}
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dict):
        return {_hashable(to_msgpack(k)): to_msgpack(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_msgpack(v) for v in value]
    return str(value)


def _hashable(value: Any) -> Any:
    return tuple(value) if type(value) is list else value


# --- request -> argv ---------------------------------------------------------------------------
def _arg(value: Any) -> bytes:
    t = type(value)
    if t is str:
        try:
            return value.encode()
        except UnicodeEncodeError:  # JSON "\ud800": a lone surrogate has no UTF-8 form
            raise HttpError(400, errors.HTTP_BAD_STRING) from None
    if t is bytes:
        return value
    if t is int:
        return b"%d" % value
    if t is float:
        return repr(value).encode()
    if t is dict and set(value) == {"base64"} and isinstance(value["base64"], str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except ValueError:
            raise HttpError(400, errors.HTTP_BAD_BODY.format("invalid base64 argument")) from None
    raise HttpError(400, errors.HTTP_BAD_BODY.format(
        "arguments must be strings, numbers or {\"base64\": \"...\"}"))


def _list(value: Any, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise HttpError(400, errors.HTTP_BAD_BODY.format(f"'{what}' must be an array"))
    return value


class HttpApi:
    """The aiohttp application bound to one server (``server.http`` after start)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.core = server.core
        self.config = server.core.config
        self.runner: web.AppRunner | None = None
        self.sites: list[Any] = []  # ledis.http.fast.Site, one per bound socket
        self.port = 0
        self.requests = 0
        self.fast_requests = 0  # of those, answered by the fast lane (ledis/http/fast.py)
        self.group_commit: Any = None  # the fast lane's (ledis.http.fast.GroupCommit)
        self.app = web.Application(client_max_size=self.config.http_max_body)
        from ledis.http.console_api import Console

        # the browser console (GET /, /_console/...) first: the catch-all matches everything
        self.console = Console(self)
        self.console.add_routes(self.app)
        for path in FIXED_PATHS:
            self.app.router.add_get(path, self.handle, allow_head=False)
        self.app.router.add_route("*", r"/{tail:[\s\S]*}", self.handle)  # any byte, %0A too

    async def start(self, sockets: list[socket.socket], ssl_context: Any = None) -> None:
        """Serve on ``sockets``, bound before the store opened (``ledis.startup``: a port in
        use is reported before anything is created); HTTPS with ``ssl_context``."""
        from ledis.http.fast import Site  # aiohttp's connections with the fast lane

        self.runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self.runner.setup()
        for sock in sockets:
            site = Site(self.runner, sock, self, ssl_context=ssl_context)
            await site.start()
            self.sites.append(site)
        self.port = sockets[0].getsockname()[1]
        log.info("HTTP API on %s port %d", self.config.http_bind, self.port)

    def use_tls(self, context: Any) -> None:
        """HTTPS with a new context for the connections accepted from now on."""
        for site in self.sites:
            site.use_tls(context)

    async def cleanup(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    # --- one request -----------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        if request.method == "GET" and raw_path not in FIXED_PATHS:
            # A command in the URL: the same synchronous path as the fast handler's
            # (ledis/http/fast.py), which answers most of these without reaching aiohttp.
            answer = self.get_command(raw_path, request.query,
                                      request.headers.get("Authorization", ""))
            if isinstance(answer, Deferred):
                answer = await answer.wait()
            return self._response(answer)
        self.requests += 1
        fmt = request.query.get("type", "json").lower()
        user = None
        try:
            if (request.method, raw_path) != PUBLIC:
                user = self._check_auth(request.headers.get("Authorization", ""))
        except HttpError as exc:
            return self._error(exc.status, exc.text, fmt if fmt == "msgpack" else "json")
        if fmt not in ("json", "msgpack"):
            fmt = "json"
            return self._error(400, errors.HTTP_BAD_BODY.format("type must be json or msgpack"),
                               fmt)
        try:
            if request.method == "GET":  # a fixed path
                if raw_path == "/health":
                    if self.config.requirepass:  # open to anyone: no version to fingerprint
                        return self._json({"status": "ok", "loading": 0})
                    return self._json({"status": "ok", "redis_version": _redis_version(),
                                        "loading": 0})
                if raw_path == "/openapi.json":
                    from ledis.http.openapi import openapi_document

                    return self._json(openapi_document(self.core))
                return self._json(await self._info(request.query.getall("section", [])))
            if request.method != "POST":
                raise HttpError(405, errors.HTTP_BAD_BODY.format("use GET or POST"))
            db, argv = await self._post_argv(request, raw_path)
            name = argv[0].decode("utf-8", "replace").upper()
            reply = await self._run(db, argv, user=user)
        except HttpError as exc:
            return self._error(exc.status, exc.text, fmt)
        return self._response(self._answer(name, reply, fmt,
                                           request.query.get("encoding", "") == "base64"))

    def get_command(self, raw_path: str, query: Any, authorization: str,
                    commit: bool = True) -> Answer | Deferred:
        """``GET /[db]/CMD/args...`` (``raw_path`` without its query string; ``query`` the
        parsed query, ``authorization`` the header or ""), run synchronously: the answer, or
        a :class:`Deferred` when the command's reply is still pending (WAIT and the like).
        Both front ends use it: the aiohttp route above and the fast handler
        (ledis/http/fast.py), so the two cannot drift apart. ``commit=False`` leaves the
        writes pending: the caller commits before it sends the answer (the fast lane's group
        commit)."""
        self.requests += 1
        fmt = query.get("type", "json").lower()
        try:
            user = self._check_auth(authorization)  # first: no other status reaches a stranger
        except HttpError as exc:
            return self._error_answer(exc.status, exc.text, fmt if fmt == "msgpack" else "json")
        if fmt not in ("json", "msgpack"):
            return self._error_answer(
                400, errors.HTTP_BAD_BODY.format("type must be json or msgpack"), "json")
        b64 = query.get("encoding", "") == "base64"
        try:
            db, parts = self._path_argv(raw_path)
            if not parts or not parts[0]:
                raise HttpError(400, errors.HTTP_NO_COMMAND)
            name = parts[0].decode("utf-8", "replace").upper()
            reply = self._call(db, parts, 3, user, commit)
        except HttpError as exc:
            return self._error_answer(exc.status, exc.text, fmt)
        if type(reply) is Pending:
            return Deferred(self, reply, name, fmt, b64)
        return self._answer(name, reply, fmt, b64)

    def _check_auth(self, header: str) -> Any:
        """The ACL user of the request (ledis/acl.py). ``Bearer <password>`` is the
        ``default`` user's password (``requirepass``), ``Basic base64(user:pass)`` any user's;
        no header is the ``default`` user when it needs no password."""
        acl = self.core.acl
        if not header and acl.auto_auth:
            return acl.default
        scheme, _, token = header.partition(" ")
        scheme = scheme.lower()
        token = token.strip()
        if scheme == "basic" and token:
            try:
                username, sep, password = base64.b64decode(token, validate=True).partition(b":")
            except ValueError:
                raise HttpError(401, errors.WRONGPASS) from None
            if not sep:
                raise HttpError(401, errors.WRONGPASS)
        elif scheme == "bearer" and token:
            # aiohttp decodes header bytes that are not UTF-8 as surrogates: undo that
            username, password = b"default", token.encode("utf-8", "surrogateescape")
        elif acl.auto_auth:
            return acl.default
        else:
            raise HttpError(401, errors.NOAUTH)
        user = acl.users.get(username)
        if user is None or not user.check_password(password):
            ctx = self.core.new_context("http", addr="http")
            from ledis.acl import DENIED_AUTH  # ledis.acl imports the command package

            acl.add_log(ctx, DENIED_AUTH, b"auth", username)
            raise HttpError(401, errors.WRONGPASS)
        return user

    def _path_argv(self, raw_path: str) -> tuple[int, list[bytes]]:
        """The db and the URL-decoded path segments of ``raw_path``."""
        parts = [unquote_to_bytes(p) for p in raw_path.split("/")[1:]]
        if parts and parts[-1] == b"" and len(parts) == 1:
            parts = []
        db = 0
        if parts and parts[0].isdigit():
            db = int(parts.pop(0))
            if db >= self.config.databases:
                raise HttpError(400, errors.DB_INDEX)
        return db, parts

    async def _post_argv(self, request: web.Request, raw_path: str) -> tuple[int, list[bytes]]:
        db, parts = self._path_argv(raw_path)
        body = await self._body(request)
        if not parts or (len(parts) == 1 and not parts[0]):
            command = body.get("command") if isinstance(body, dict) else body
            argv = [_arg(a) for a in _list(command, "command")]
        else:
            name = parts[0].upper()
            if name in SPECIAL_POST and isinstance(body, dict):
                argv = self._script_argv(name, parts[1:], body)
            else:
                extra = body.get("args") if isinstance(body, dict) else body
                argv = parts + [_arg(a) for a in _list(extra, "args")]
        if not argv or not argv[0]:
            raise HttpError(400, errors.HTTP_NO_COMMAND)
        return db, argv

    @staticmethod
    def _script_argv(name: bytes, rest: list[bytes], body: dict) -> list[bytes]:
        field = {b"EVAL": "script", b"EVAL_RO": "script", b"EVALSHA": "sha",
                 b"EVALSHA_RO": "sha", b"FCALL": "function", b"FCALL_RO": "function"}[name]
        target = body.get(field)
        if target is None and rest:
            target = rest[0]
        if target is None:
            raise HttpError(400, errors.HTTP_BAD_BODY.format(f"'{field}' is required"))
        keys = [_arg(k) for k in _list(body.get("keys"), "keys")]
        args = [_arg(a) for a in _list(body.get("args"), "args")]
        return [name, _arg(target), b"%d" % len(keys), *keys, *args]

    async def _body(self, request: web.Request) -> Any:
        limit = self.config.http_max_body
        if request.content_length is not None and request.content_length > limit:
            raise HttpError(413, errors.HTTP_TOO_LARGE.format(limit))
        try:
            data = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise HttpError(413, errors.HTTP_TOO_LARGE.format(limit)) from None
        except ConnectionResetError:  # the client went away mid-body: nobody reads this
            raise HttpError(400, errors.HTTP_INCOMPLETE) from None
        if not data:
            return None
        try:
            if request.content_type == MSGPACK_TYPE:
                return msgpack.unpackb(data, raw=False)  # its own depth limit: StackError
            return json.loads(data)
        except RecursionError:  # "[[[[...": json's C decoder recurses once per level
            raise HttpError(400, errors.HTTP_TOO_DEEP) from None
        except (ValueError, msgpack.ExtraData) as exc:
            raise HttpError(400, errors.HTTP_BAD_BODY.format(str(exc).split("\n")[0])) from None

    async def _run(self, db: int, argv: list[bytes], resp: int = 3, user: Any = None) -> Any:
        """Dispatch like a RESP client as ``user`` (the ACL user of the request; None: the
        default user), RESP3 reply shapes unless ``resp`` says 2 (the console's script
        workbench shows replies as a RESP2 client sees them); commit, return the reply (or the
        LedisError)."""
        reply = self._call(db, argv, resp, user)
        if type(reply) is Pending:
            reply = await self._settle(reply)
        return reply

    def _call(self, db: int, argv: list[bytes], resp: int, user: Any,
              commit: bool = True) -> Any:
        """``_run`` without waiting: the reply may be a Pending (see ``_settle``). Without
        ``commit`` the writes stay pending for the caller to commit."""
        core = self.core
        lowered = argv[0].lower()
        if lowered in REFUSED:
            return LedisError(errors.HTTP_NOT_ALLOWED.format(lowered.decode("utf-8", "replace")))
        cmd = core.commands.get(lowered)
        if cmd is not None and cmd.blocking:
            return LedisError(errors.HTTP_BLOCKING)
        ctx = core.new_context("http", addr="http")
        ctx.authenticated = True  # checked above (_check_auth)
        if user is not None and user is not ctx.user:
            ctx.user = user  # the dispatcher checks its permissions
            ctx.special = not user.unrestricted
        ctx.resp = resp
        if db:
            ctx.select(db)
        if not commit:
            return core.call(ctx, argv)
        try:
            return core.call(ctx, argv)
        finally:
            core.commit()  # a script that wrote before failing keeps its writes

    async def _settle(self, reply: Pending) -> Any:
        """Wait for a pending reply (WAIT and the like; blocking commands are refused)."""
        try:
            value = await reply.future
        except LedisError as exc:
            value = exc
        self.core.commit()
        return value

    async def _info(self, sections: list[str]) -> dict:
        argv = [b"INFO", *(s.encode() for s in sections)]
        reply = await self._run(0, argv)
        if isinstance(reply, LedisError):
            raise HttpError(400, reply.text)
        return parse_info(bytes(reply))

    # --- answers ---------------------------------------------------------------------------
    def _answer(self, name: str, reply: Any, fmt: str, b64: bool) -> Answer:
        """A command's reply (or its LedisError) as status, body and content type."""
        if isinstance(reply, LedisError):
            status = 404 if reply.text.startswith("ERR unknown command") else (
                401 if reply.prefix in ("NOAUTH", "WRONGPASS") else
                403 if reply.prefix == "NOPERM" else 400)
            return self._error_answer(status, reply.text, fmt)
        if fmt == "msgpack":
            return 200, msgpack.packb({name: to_msgpack(reply)}), MSGPACK_TYPE
        return 200, json.dumps({name: to_json(reply, b64)}, ensure_ascii=False).encode(), \
            JSON_TEXT

    @staticmethod
    def _error_answer(status: int, text: str, fmt: str) -> Answer:
        if fmt == "msgpack":
            return status, msgpack.packb({"error": text}), MSGPACK_TYPE
        return status, json.dumps({"error": text}).encode(), JSON_TEXT

    @staticmethod
    def _response(answer: Answer) -> web.Response:
        status, body, content_type = answer
        headers = {"Content-Type": content_type}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return web.Response(body=body, status=status, headers=headers)

    @staticmethod
    def _json(data: Any, status: int = 200) -> web.Response:
        return web.Response(text=json.dumps(data, ensure_ascii=False), status=status,
                            content_type=JSON_TYPE)

    def _error(self, status: int, text: str, fmt: str) -> web.Response:
        return self._response(self._error_answer(status, text, fmt))


class Deferred:
    """A GET command whose reply is still pending: ``await wait()`` gives its answer."""

    __slots__ = ("api", "reply", "name", "fmt", "b64")

    def __init__(self, api: HttpApi, reply: Pending, name: str, fmt: str, b64: bool) -> None:
        self.api, self.reply, self.name, self.fmt, self.b64 = api, reply, name, fmt, b64

    async def wait(self) -> Answer:
        value = await self.api._settle(self.reply)
        return self.api._answer(self.name, value, self.fmt, self.b64)


def parse_info(text: bytes) -> dict:
    """INFO's text as ``{section: {field: value}}``; numbers become numbers, ``a=1,b=2``
    values (keyspace, commandstats) become objects."""
    out: dict[str, dict] = {}
    section: dict = out.setdefault("server", {})
    for line in text.decode("utf-8", "replace").splitlines():
        if not line:
            continue
        if line.startswith("#"):
            section = out.setdefault(line[1:].strip().lower(), {})
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        if "=" in value and all("=" in part for part in value.split(",")):
            section[key] = {k: _number(v) for k, v in (p.split("=", 1) for p in value.split(","))}
        else:
            section[key] = _number(value)
    if not out["server"]:
        del out["server"]
    return out


def _number(text: str) -> Any:
    try:
        number = int(text)
    except ValueError:
        pass
    else:
        return number if str(number) == text else text  # keep "0000..." (redis_git_sha1)
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def _redis_version() -> str:
    from ledis.version import REDIS_VERSION

    return REDIS_VERSION


async def start_http(server: Any, sockets: list[socket.socket],
                     ssl_context: Any = None) -> HttpApi:
    """Start the HTTP API for ``server`` on its bound ``sockets`` (called from
    ``Server.start``); HTTPS when ``ssl_context`` is given (``http_tls``)."""
    api = HttpApi(server)
    await api.start(sockets, ssl_context)
    return api
