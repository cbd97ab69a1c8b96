"""The browser console: static files (``ledis/http/console/``) at ``/`` and
``/_console/static/``, a JSON API under ``/_console/api/`` (docs/console.md).

It owns console sessions (login, cookie, CSRF token), the type-tagged reply tree the page
renders, and nothing else: every command the page runs goes through ``HttpApi._run``, that is
through ``Core.dispatch`` exactly like a RESP client, so read-only replicas, BUSY scripts,
CLIENT PAUSE and (later) ACL permissions apply to the console too.

Why a prefix: the LedisDB-style API owns ``/[db]/CMD/...``; no Redis command starts with
``_``, so ``/_console/...`` can never be a command route. ``GET /`` used to answer "no command
given" and now serves the page; ``POST /`` (a JSON command body) is unchanged.

Sessions: with ``requirepass`` set, ``POST /_console/api/login`` checks the username and
password by dispatching ``AUTH user pass`` on a fresh context (so ACL users will work
unchanged once they exist) and answers a random 256-bit session token in a cookie that is
``HttpOnly`` and ``SameSite=Strict``, plus a per-session CSRF token in the JSON body (the page
keeps it in memory; ``GET /_console/api/session`` gives it again after a reload). Sessions
are kept here, expire after ``SESSION_IDLE`` seconds without use, and die when
``requirepass`` changes. Every API call needs the cookie; every POST also needs the
``X-CSRF-Token`` header and a JSON content type (which a cross-site form cannot send). Without
``requirepass`` the console is open like the HTTP API, but ``/session`` still hands out a
session so the CSRF rule is the same in both modes.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

from aiohttp import web

from ledis import errors
from ledis.errors import LedisError
from ledis.http.app import HttpApi, HttpError, _arg, parse_info
from ledis.resp import encode_one
from ledis.scripting.debug_trace import MAX_STEPS, record
from ledis.security import passwords_match

log = logging.getLogger("ledis.http")

COOKIE = "ledis_console"
CSRF_HEADER = "X-CSRF-Token"
SESSION_IDLE = 12 * 3600  # seconds a session lives without a request
MAX_SESSIONS = 1024  # oldest dropped first: a login loop cannot grow memory without bound
MAX_BATCH = 1000  # commands in one /command batch
STATIC_TYPES = {
    ".html": "text/html", ".js": "text/javascript", ".css": "text/css",
    ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
}
# The page loads nothing from elsewhere and runs no inline script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_SAFE_INT = 2**53


@dataclass
class Session:
    user: str
    csrf: str
    expires: float
    password: str  # requirepass at login: a changed password ends the session


class ConsoleError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


# --- reply values -> a type-tagged tree --------------------------------------------------------
def _bulk(value: bytes) -> dict:
    """A bulk string: text when it is UTF-8, base64 otherwise."""
    try:
        return {"t": "bulk", "v": value.decode()}
    except UnicodeDecodeError:
        return {"t": "bulk", "b64": base64.b64encode(value).decode()}


def _integer(value: int) -> dict:
    # JavaScript numbers are exact to 2**53 only; larger integers travel as text
    return {"t": "int", "v": value if -_SAFE_INT <= value <= _SAFE_INT else str(value)}


def typed(value: Any, resp3: bool = False) -> dict:
    """A reply value as ``{"t": type, "v": ...}``: ``int``, ``bulk`` (``b64`` instead of ``v``
    when not UTF-8), ``status``, ``error``, ``nil``, ``array``, ``set``, ``map`` (``v`` a list
    of ``[key, value]`` pairs, keys typed too), ``double`` (``v`` text, as RESP3 sends it),
    ``bool``. The value goes through the server's one RESP encoder for the protocol asked
    for and is read back, so the page shows exactly what a RESP2 (or RESP3) client receives:
    HGETALL is a flat array under RESP2, a script's ``false`` is nil, a double is a bulk
    string."""
    try:
        return parse_resp(encode_one(value, resp3))[0]
    except (TypeError, ValueError):
        log.exception("console: cannot show a reply of type %s", type(value).__name__)
        return {"t": "error", "v": errors.INTERNAL}


def clip(tree: dict, limit: int) -> dict:
    """Cut every bulk string of a reply tree to ``limit`` characters (bytes when binary),
    marking it ``"clipped": <full size>``: a hash field or list item of megabytes is shown
    as its start, not shipped whole to the page (there is no HGETRANGE to page it)."""
    t = tree["t"]
    if t == "bulk":
        if "v" in tree and len(tree["v"]) > limit:
            return {"t": "bulk", "v": tree["v"][:limit], "clipped": len(tree["v"].encode())}
        if "b64" in tree:
            raw = base64.b64decode(tree["b64"])
            if len(raw) > limit:
                return {"t": "bulk", "b64": base64.b64encode(raw[:limit]).decode(),
                        "clipped": len(raw)}
        return tree
    if t in ("array", "set"):
        return {"t": t, "v": [clip(v, limit) for v in tree["v"]]}
    if t == "map":
        return {"t": t, "v": [[clip(k, limit), clip(v, limit)] for k, v in tree["v"]]}
    return tree


def parse_resp(data: bytes, pos: int = 0) -> tuple[dict, int]:
    """One pre-encoded (``Raw``) RESP2/RESP3 reply as a typed tree, and the position after it.
    hiredis cannot tell a status from a bulk string, and the workbench must show which one a
    script's table became, so this small reader keeps the type byte."""
    kind = data[pos:pos + 1]
    end = data.index(b"\r\n", pos)
    line = data[pos + 1:end]
    pos = end + 2
    if kind == b"+":
        return {"t": "status", "v": line.decode("utf-8", "replace")}, pos
    if kind == b"-":
        return {"t": "error", "v": line.decode("utf-8", "replace")}, pos
    if kind in (b":", b"("):
        return _integer(int(line)), pos
    if kind == b",":
        return {"t": "double", "v": line.decode()}, pos
    if kind == b"#":
        return {"t": "bool", "v": line == b"t"}, pos
    if kind == b"_":
        return {"t": "nil"}, pos
    if kind in (b"$", b"="):
        size = int(line)
        if size < 0:
            return {"t": "nil"}, pos
        body = data[pos:pos + size]
        return _bulk(body[4:] if kind == b"=" else body), pos + size + 2
    if kind in (b"*", b"~", b">", b"%"):
        count = int(line)
        if count < 0:
            return {"t": "nil"}, pos
        if kind == b"%":
            pairs = []
            for _ in range(count):
                key, pos = parse_resp(data, pos)
                val, pos = parse_resp(data, pos)
                pairs.append([key, val])
            return {"t": "map", "v": pairs}, pos
        items = []
        for _ in range(count):
            item, pos = parse_resp(data, pos)
            items.append(item)
        return {"t": "set" if kind == b"~" else "array", "v": items}, pos
    return {"t": "error", "v": "ERR unreadable reply"}, len(data)


# --- the console -------------------------------------------------------------------------------
class Console:
    """Routes and sessions of the console, attached to one :class:`HttpApi`."""

    def __init__(self, api: HttpApi) -> None:
        self.api = api
        self.config = api.config
        self.sessions: dict[str, Session] = {}
        self.static = resources.files("ledis.http") / "console"

    def add_routes(self, app: web.Application) -> None:
        """Register before the HTTP API's catch-all route (aiohttp matches in order)."""
        app.router.add_get("/", self.index)
        app.router.add_get("/_console", self.index)
        app.router.add_get("/_console/", self.index)
        app.router.add_get(r"/_console/static/{name:[A-Za-z0-9_.-]+}", self.static_file)
        app.router.add_get("/_console/api/session", self.session_info)
        app.router.add_post("/_console/api/login", self.login)
        app.router.add_post("/_console/api/logout", self.logout)
        app.router.add_post("/_console/api/command", self.command)
        app.router.add_get("/_console/api/stats", self.stats)
        app.router.add_post("/_console/api/debug", self.debug)

    # --- static files ----------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.StreamResponse:
        return self._file("index.html")

    async def static_file(self, request: web.Request) -> web.StreamResponse:
        return self._file(request.match_info["name"])

    def _file(self, name: str) -> web.StreamResponse:
        suffix = name[name.rfind("."):] if "." in name else ""
        entry = self.static / name
        if suffix not in STATIC_TYPES or name.startswith(".") or not entry.is_file():
            return _json({"error": errors.CONSOLE_NOT_FOUND}, 404)
        headers = dict(SECURITY_HEADERS)
        # the files change only with the package; "no-cache" revalidates, the page stays small
        headers["Cache-Control"] = "no-cache"
        response = web.Response(body=entry.read_bytes(), content_type=STATIC_TYPES[suffix],
                                charset="utf-8" if suffix in (".html", ".js", ".css") else None,
                                headers=headers)
        if suffix != ".png":
            response.enable_compression()  # gzip when the browser asks: the page is ~4x smaller
        return response

    # --- sessions --------------------------------------------------------------------------
    def _session(self, request: web.Request) -> Session | None:
        token = request.cookies.get(COOKIE, "")
        session = self.sessions.get(token) if token else None
        if session is None:
            return None
        now = time.time()
        if session.expires < now or not passwords_match(session.password,
                                                        self.config.requirepass or ""):
            del self.sessions[token]
            return None
        session.expires = now + SESSION_IDLE
        return session

    def _new_session(self, response: web.StreamResponse, user: str) -> Session:
        now = time.time()
        for token in [t for t, s in self.sessions.items() if s.expires < now]:
            del self.sessions[token]
        while len(self.sessions) >= MAX_SESSIONS:
            del self.sessions[next(iter(self.sessions))]
        token = secrets.token_urlsafe(32)
        session = Session(user=user, csrf=secrets.token_urlsafe(32),
                          expires=now + SESSION_IDLE, password=self.config.requirepass or "")
        self.sessions[token] = session
        response.set_cookie(COOKIE, token, path="/", httponly=True, samesite="Strict",
                            max_age=SESSION_IDLE)
        return session

    def _require(self, request: web.Request, post: bool) -> Session:
        """The request's session, or ConsoleError: 401 without one, 403 for a POST without
        the session's CSRF token or with a non-JSON body."""
        session = self._session(request)
        if session is None:
            raise ConsoleError(401, errors.CONSOLE_LOGIN_REQUIRED)
        if post:
            if request.content_type != "application/json":
                raise ConsoleError(415, errors.CONSOLE_JSON_ONLY)
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
                raise ConsoleError(403, errors.CONSOLE_CSRF)
        return session

    async def session_info(self, request: web.Request) -> web.StreamResponse:
        """Who is logged in and the CSRF token; opens a session when no password is set."""
        required = bool(self.config.requirepass)
        response = _json({})
        session = self._session(request)
        if session is None and not required:
            session = self._new_session(response, "default")
        response.text = json.dumps({
            "auth_required": required, "logged_in": session is not None,
            "user": session.user if session else None,
            "csrf": session.csrf if session else None,
        })
        return response

    async def login(self, request: web.Request) -> web.StreamResponse:
        try:
            if request.content_type != "application/json":
                raise ConsoleError(415, errors.CONSOLE_JSON_ONLY)
            body = await self.api._body(request)
        except ConsoleError as exc:
            return _json({"error": exc.text}, exc.status)
        except HttpError as exc:  # a bad or too large body
            return _json({"error": exc.text}, exc.status)
        if not isinstance(body, dict):
            return _json({"error": errors.HTTP_BAD_BODY.format("expected an object")}, 400)
        user = str(body.get("username") or "default")
        password = str(body.get("password") or "")
        if self.config.requirepass or user != "default":
            # AUTH through the dispatcher on a fresh, unauthenticated context: the same check
            # (ACL users included) as a RESP client's
            ctx = self.api.core.new_context("http", addr="console")
            try:
                self.api.core.dispatch(ctx, [b"AUTH", user.encode(), password.encode()])
            except LedisError as exc:
                self.api.core.count_error(exc)
                return _json({"error": exc.text}, 401)
        response = _json({})
        session = self._new_session(response, user)
        response.text = json.dumps({"logged_in": True, "user": user, "csrf": session.csrf,
                                    "auth_required": bool(self.config.requirepass)})
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        try:
            self._require(request, post=True)
        except ConsoleError as exc:
            return _json({"error": exc.text}, exc.status)
        self.sessions.pop(request.cookies.get(COOKIE, ""), None)
        response = _json({"logged_in": False})
        response.del_cookie(COOKIE, path="/")
        return response

    def _acl_user(self, session: Session) -> Any:
        """The ACL user the session logged in as, looked up again on every request (a user
        deleted since the login ends the session); the console runs its commands as it."""
        acl_user = self.api.core.acl.users.get(session.user.encode())
        if acl_user is None:
            raise ConsoleError(401, errors.CONSOLE_LOGIN_REQUIRED)
        return acl_user

    async def _run_request(self, request: web.Request) -> tuple[Any, dict, int, int]:
        """The common part of a request that runs something: the session's ACL user, the JSON
        object body, and its checked ``db`` (default 0) and ``resp`` (2 or 3, default 2)."""
        acl_user = self._acl_user(self._require(request, post=True))
        body = await self.api._body(request)
        if not isinstance(body, dict):
            raise ConsoleError(400, errors.HTTP_BAD_BODY.format("expected an object"))
        db = body.get("db", 0)
        resp = body.get("resp", 2)
        if type(db) is not int or not 0 <= db < self.config.databases:
            raise ConsoleError(400, errors.DB_INDEX)
        if resp not in (2, 3):
            raise ConsoleError(400, errors.HTTP_BAD_BODY.format("resp must be 2 or 3"))
        return acl_user, body, db, resp

    # --- commands --------------------------------------------------------------------------
    async def command(self, request: web.Request) -> web.StreamResponse:
        """``{"db": 0, "resp": 2, "argv": [...], "max_bulk": 0}`` -> ``{"reply": tree}``, or
        ``{"batch": [argv, ...]}`` -> ``{"replies": [tree, ...]}`` (one round trip for the
        TYPE and TTL of a page of keys). ``max_bulk`` > 0 clips long bulk strings
        (:func:`clip`). An error reply is a tree of type ``error`` with
        status 200: it is the command's answer, shown where the command was typed."""
        try:
            acl_user, body, db, resp = await self._run_request(request)
            max_bulk = body.get("max_bulk", 0)
            if type(max_bulk) is not int or max_bulk < 0:
                raise ConsoleError(400, errors.HTTP_BAD_BODY.format(
                    "max_bulk must be a non-negative integer"))
            batch = body.get("batch")
            many = batch is not None
            commands = batch if many else [body.get("argv")]
            if not isinstance(commands, list) or len(commands) > MAX_BATCH:
                raise ConsoleError(400, errors.HTTP_BAD_BODY.format(
                    f"'batch' must be an array of at most {MAX_BATCH} commands"))
            argvs = []
            for argv in commands:
                if not isinstance(argv, list) or not argv:
                    raise ConsoleError(400, errors.HTTP_NO_COMMAND)
                argvs.append([_arg(a) for a in argv])
        except ConsoleError as exc:
            return _json({"error": exc.text}, exc.status)
        except HttpError as exc:
            return _json({"error": exc.text}, exc.status)
        # Every command runs as the HTTP API's client does (HttpApi._run: a fresh context,
        # authenticated), as the ACL user the session logged in as: the dispatcher checks
        # its permissions.
        replies = []
        for argv in argvs:
            tree = typed(await self.api._run(db, argv, resp, user=acl_user), resp == 3)
            replies.append(clip(tree, max_bulk) if max_bulk else tree)
        return _json({"replies": replies} if many else {"reply": replies[0]})

    async def debug(self, request: web.Request) -> web.StreamResponse:
        """The workbench's recorded debugger (``scripting/debug_trace.py``):
        ``{"db", "resp", "script", "keys": [...], "args": [...], "readonly": false,
        "breakpoints": [line, ...], "max_steps": 2000}`` -> ``{"trace": {"stops": [...],
        "after": [...], "steps", "note"}, "reply": tree}``. The script runs under the Lua
        debugger in YES mode: its writes are always thrown away."""
        try:
            acl_user, body, db, resp = await self._run_request(request)
            script = body.get("script")
            if not isinstance(script, str) or not script:
                raise ConsoleError(400, errors.HTTP_BAD_BODY.format("'script' must be text"))
            keys, args = body.get("keys", []), body.get("args", [])
            if not isinstance(keys, list) or not isinstance(args, list):
                raise ConsoleError(400, errors.HTTP_BAD_BODY.format(
                    "'keys' and 'args' must be arrays"))
            breakpoints = body.get("breakpoints", [])
            if not isinstance(breakpoints, list) or any(
                    type(n) is not int or n < 1 for n in breakpoints):
                raise ConsoleError(400, errors.HTTP_BAD_BODY.format(
                    "'breakpoints' must be an array of line numbers"))
            max_steps = body.get("max_steps", MAX_STEPS)
            if type(max_steps) is not int or not 1 <= max_steps <= MAX_STEPS:
                raise ConsoleError(400, errors.HTTP_BAD_BODY.format(
                    f"'max_steps' must be an integer from 1 to {MAX_STEPS}"))
            key_args = [_arg(a) for a in keys]
            arg_args = [_arg(a) for a in args]
        except ConsoleError as exc:
            return _json({"error": exc.text}, exc.status)
        except HttpError as exc:
            return _json({"error": exc.text}, exc.status)
        core = self.api.core
        ctx = core.new_context("http", addr="console")
        ctx.authenticated = True  # the console session stands for the login
        if acl_user is not ctx.user:  # run as the session's ACL user (its permissions apply)
            from ledis.acl import refresh_context

            ctx.user = acl_user
            refresh_context(ctx)
        ctx.resp = resp
        if db:
            ctx.select(db)
        trace, reply = record(core, ctx, script.encode(), key_args, arg_args,
                              readonly=body.get("readonly") is True,
                              breakpoints=set(breakpoints), max_steps=max_steps)
        return _json({"trace": trace, "reply": typed(reply, resp == 3)})

    async def stats(self, request: web.Request) -> web.StreamResponse:
        """What the Server screen polls each second: INFO (parsed, as ``GET /info``) and the
        on-disk size (MEMORY STATS ``rocksdb.sst-files-size``), both through the dispatcher."""
        try:
            self._require(request, post=False)
        except ConsoleError as exc:
            return _json({"error": exc.text}, exc.status)
        info = await self.api._run(0, [b"INFO"], 3)
        if isinstance(info, LedisError):
            return _json({"error": info.text}, 400)
        memory = await self.api._run(0, [b"MEMORY", b"STATS"], 3)
        disk = 0
        if isinstance(memory, dict):
            disk = int(memory.get(b"rocksdb.sst-files-size", 0) or 0)
        return _json({"time": time.time(), "info": parse_info(bytes(info)), "disk": disk})


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False), status=status,
                        content_type="application/json", headers={"Cache-Control": "no-store"})
