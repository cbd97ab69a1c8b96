"""The browser console's JSON API (ledis/http/console_api.py) over a real HTTP client: sessions,
cookie flags, CSRF, typed replies, ACL users, the recorded debugger, against a real server on
RocksDB with RESP clients creating and checking the data. The page itself in a real browser:
tests/test_console_browser.py."""

# ruff: noqa: F811 (the server / r fixtures are imported from tests/browser.py)
from __future__ import annotations

import base64
import http.client
import json

from tests.browser import LOOP, PASSWORD, r, server, start_console_server  # noqa: F401


# --- a tiny HTTP client that keeps the cookie --------------------------------------------------
class Api:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        self.csrf = ""
        self.last_headers: list[tuple[str, str]] = []

    def request(self, method: str, path: str, body: object = None, csrf: str | None = None,
                content_type: str = "application/json") -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        headers = {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = content_type
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        conn.request(method, path, None if body is None else json.dumps(body), headers)
        resp = conn.getresponse()
        data = resp.read()
        self.last_headers = resp.getheaders()
        for name, value in self.last_headers:
            if name.lower() == "set-cookie" and value.startswith("ledis_console="):
                self.cookie = value.split(";", 1)[0]
        conn.close()
        return resp.status, (json.loads(data) if data[:1] in (b"{", b"[") else {"raw": data})

    def login(self, password: str, user: str = "default") -> tuple[int, dict]:
        status, data = self.request("POST", "/_console/api/login",
                                    {"username": user, "password": password})
        if status == 200:
            self.csrf = data["csrf"]
        return status, data

    def command(self, argv: list, **kw) -> tuple[int, dict]:
        return self.request("POST", "/_console/api/command", {"argv": argv, **kw},
                            csrf=self.csrf)


# --- the API without a browser -----------------------------------------------------------------
def test_unauthenticated_calls_are_refused(server):
    api = Api(server[1])
    status, data = api.request("GET", "/_console/api/session")
    assert status == 200 and data["auth_required"] is True and data["logged_in"] is False
    assert data["csrf"] is None and api.cookie == ""  # no session without a login
    status, data = api.request("POST", "/_console/api/command", {"argv": ["PING"]}, csrf="x")
    assert status == 401 and data["error"].startswith("NOAUTH")
    assert api.request("GET", "/_console/api/stats")[0] == 401
    api.cookie = "ledis_console=forged-token"
    assert api.request("GET", "/_console/api/stats")[0] == 401


def test_login_cookie_flags_and_wrong_password(server):
    api = Api(server[1])
    status, data = api.login("wrong")
    assert status == 401 and data["error"].startswith("WRONGPASS") and api.cookie == ""
    status, data = api.login(PASSWORD)
    assert status == 200 and data["user"] == "default" and len(data["csrf"]) >= 32
    cookie = next(v for k, v in api.last_headers if k.lower() == "set-cookie")
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs and "samesite=strict" in attrs and "path=/" in attrs
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 40 and token != data["csrf"]
    # the session endpoint gives the CSRF token back after a reload
    status, again = api.request("GET", "/_console/api/session")
    assert again["logged_in"] is True and again["csrf"] == data["csrf"]


def test_csrf_token_required_on_posts(server, r):
    api = Api(server[1])
    api.login(PASSWORD)
    r.delete("csrf:k")
    assert api.request("POST", "/_console/api/command", {"argv": ["SET", "csrf:k", "1"]})[0] == 403
    status, data = api.request("POST", "/_console/api/command",
                               {"argv": ["SET", "csrf:k", "1"]}, csrf="not-" + api.csrf)
    assert status == 403 and "CSRF" in data["error"]
    status, _ = api.request("POST", "/_console/api/command", {"argv": ["SET", "csrf:k", "1"]},
                            csrf=api.csrf, content_type="text/plain")
    assert status == 415
    assert r.get("csrf:k") is None  # none of the refused requests ran
    status, data = api.command(["SET", "csrf:k", "1"])
    assert status == 200 and data["reply"] == {"t": "status", "v": "OK"}
    assert r.get("csrf:k") == "1"
    # logout needs the token too, then the session is gone
    assert api.request("POST", "/_console/api/logout", {})[0] == 403
    assert api.request("POST", "/_console/api/logout", {}, csrf=api.csrf)[0] == 200
    assert api.command(["GET", "csrf:k"])[0] == 401


def test_typed_reply_tree_and_batch(server, r):
    api = Api(server[1])
    api.login(PASSWORD)
    script = ("return {7, 'bulk', false, {ok='fine'}, {err='ERR bad'}, "
              "{1, {2}}, redis.call('GET', KEYS[1])}")
    r.set("tree:k", b"\xff\x00")
    status, data = api.command(["EVAL", script, 1, "tree:k"])
    assert status == 200
    reply = data["reply"]
    assert reply["t"] == "array"
    assert [v["t"] for v in reply["v"]] == ["int", "bulk", "nil", "status", "error", "array",
                                            "bulk"]
    assert reply["v"][0]["v"] == 7 and reply["v"][3]["v"] == "fine"
    assert reply["v"][4]["v"] == "ERR bad"
    assert reply["v"][6] == {"t": "bulk", "b64": "/wA="}  # not UTF-8: base64
    # an error reply is the command's answer, not an HTTP failure
    status, data = api.command(["EVAL", "return x.y", 0])
    assert status == 200 and data["reply"]["t"] == "error"
    assert "user_script:1:" in data["reply"]["v"]
    # RESP3 shapes on request; batches answer in order
    r.hset("tree:h", mapping={"f": "v"})
    status, data = api.request("POST", "/_console/api/command", {
        "resp": 3, "batch": [["HGETALL", "tree:h"], ["TYPE", "tree:h"], ["ZSCORE", "no", "m"],
                             ["NOSUCHCMD"]]}, csrf=api.csrf)
    replies = data["replies"]
    assert replies[0] == {"t": "map", "v": [[{"t": "bulk", "v": "f"}, {"t": "bulk", "v": "v"}]]}
    assert replies[1] == {"t": "status", "v": "hash"}
    assert replies[2] == {"t": "nil"}
    assert replies[3]["t"] == "error" and "unknown command" in replies[3]["v"]
    # the reply as each protocol's client gets it, through the server's one encoder
    r.zadd("tree:z", {"m": 1.5})
    assert api.command(["ZSCORE", "tree:z", "m"], resp=3)[1]["reply"] == {"t": "double",
                                                                          "v": "1.5"}
    assert api.command(["ZSCORE", "tree:z", "m"])[1]["reply"] == {"t": "bulk", "v": "1.5"}
    assert api.command(["HGETALL", "tree:h"])[1]["reply"] == {
        "t": "array", "v": [{"t": "bulk", "v": "f"}, {"t": "bulk", "v": "v"}]}


def test_max_bulk_clips_long_values(server, r):
    api = Api(server[1])
    api.login(PASSWORD)
    r.delete("clip:h")
    r.hset("clip:h", mapping={"short": "v", "long": "x" * 10_000})
    r.set("clip:bin", b"\xff" * 100)
    status, data = api.request("POST", "/_console/api/command", {
        "max_bulk": 50, "batch": [["HGETALL", "clip:h"], ["GET", "clip:bin"]]}, csrf=api.csrf)
    assert status == 200
    fields = {p[0]["v"]: p[1] for p in zip(data["replies"][0]["v"][::2],
                                           data["replies"][0]["v"][1::2], strict=True)}
    assert fields["short"] == {"t": "bulk", "v": "v"}
    assert fields["long"] == {"t": "bulk", "v": "x" * 50, "clipped": 10_000}
    binary = data["replies"][1]
    assert binary["clipped"] == 100 and len(base64.b64decode(binary["b64"])) == 50
    assert api.command(["GET", "clip:bin"], max_bulk=-1)[0] == 400


def test_console_commands_go_through_the_dispatcher(server, r):
    """Refusals that apply to HTTP clients apply to the console, and its commands count in
    INFO commandstats like any client's."""
    api = Api(server[1])
    api.login(PASSWORD)
    before = r.info("commandstats").get("cmdstat_lastsave", {}).get("calls", 0)
    api.command(["LASTSAVE"])
    assert r.info("commandstats")["cmdstat_lastsave"]["calls"] == before + 1
    assert "not supported over HTTP" in api.command(["MULTI"])[1]["reply"]["v"]
    assert "blocking" in api.command(["BLPOP", "q", 0])[1]["reply"]["v"]


def test_password_change_ends_sessions(server, r):
    api = Api(server[1])
    api.login(PASSWORD)
    assert api.command(["PING"])[0] == 200
    r.config_set("requirepass", PASSWORD + "2")
    try:
        assert api.command(["PING"])[0] == 401
    finally:
        r2 = server[0].client(password=PASSWORD + "2")
        r2.config_set("requirepass", PASSWORD)
        r2.close()


def test_console_runs_commands_as_the_acl_user_that_logged_in(server, r):
    """An ACL user's console session has that user's permissions, in the command box and in
    the recorded debugger; a deleted user's session ends."""
    r.execute_command("ACL", "SETUSER", "viewer", "on", ">view-pw", "~*", "+get", "+eval")
    try:
        api = Api(server[1])
        assert api.login("wrong", user="viewer")[0] == 401
        status, data = api.login("view-pw", user="viewer")
        assert status == 200 and data["user"] == "viewer"
        r.set("acl:k", "v")
        status, data = api.command(["GET", "acl:k"])
        assert status == 200 and data["reply"]["v"] == "v"
        status, data = api.command(["SET", "acl:k", "w"])
        assert data["reply"]["t"] == "error" and data["reply"]["v"].startswith("NOPERM")
        assert r.get("acl:k") == "v"
        status, data = _debug(api, "return redis.call('SET', KEYS[1], 'x')", keys=["acl:k"])
        assert status == 200 and data["reply"]["t"] == "error", data
        assert "can't run this command" in data["reply"]["v"]
        r.execute_command("ACL", "DELUSER", "viewer")
        assert api.command(["GET", "acl:k"])[0] == 401
    finally:
        r.execute_command("ACL", "DELUSER", "viewer")


def test_routes_do_not_collide(server, r):
    api = Api(server[1])
    status, page = api.request("GET", "/")
    assert status == 200 and b"ledis console" in page["raw"]
    csp = {k.lower(): v for k, v in api.last_headers}["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert api.request("GET", "/_console/static/main.js")[0] == 200
    status, body = api.request("GET", "/_console/static/..%2Fconsole_api.py")
    assert status != 200 and "raw" not in body  # not a file: falls to the command route (401)
    assert api.request("GET", "/_console/static/nothing.js")[0] == 404
    # the LedisDB-style API is unchanged: POST / is a command body, GET /CMD runs CMD
    r.set("route:k", "v")
    conn = http.client.HTTPConnection("127.0.0.1", server[1], timeout=10)
    conn.request("POST", "/", json.dumps(["GET", "route:k"]),
                 {"Authorization": f"Bearer {PASSWORD}", "Content-Type": "application/json"})
    assert json.loads(conn.getresponse().read()) == {"GET": "v"}
    conn.request("GET", "/GET/route:k", headers={"Authorization": f"Bearer {PASSWORD}"})
    assert json.loads(conn.getresponse().read()) == {"GET": "v"}
    conn.close()


def test_open_console_without_password():
    proc, http_port = start_console_server()
    try:
        api = Api(http_port)
        status, data = api.request("GET", "/_console/api/session")
        assert status == 200 and data["auth_required"] is False and data["logged_in"] is True
        api.csrf = data["csrf"]
        assert api.cookie  # an anonymous session: the CSRF rule is the same in both modes
        assert api.request("POST", "/_console/api/command", {"argv": ["PING"]})[0] == 403
        assert api.command(["PING"])[1]["reply"] == {"t": "status", "v": "PONG"}
        status, stats = api.request("GET", "/_console/api/stats")
        assert status == 200 and stats["info"]["server"]["redis_version"]
    finally:
        proc.cleanup()


# --- the recorded debugger (POST /_console/api/debug) ------------------------------------------

def _debug(api: Api, script: str, **kw) -> tuple[int, dict]:
    return api.request("POST", "/_console/api/debug", {"script": script, **kw}, csrf=api.csrf)


def _locals(stop: dict) -> dict:
    return dict(stop["locals"])


def test_debug_records_stops_locals_and_calls_and_drops_writes(server, r):
    api = Api(server[1])
    api.login(PASSWORD)
    r.set("dbg:k", "10")
    status, data = _debug(api, LOOP, keys=["dbg:k"])
    assert status == 200, data
    trace = data["trace"]
    # LuaJIT reports line 1 again when the redis.call of the line returns, and the loop's
    # line (its FORL) before each iteration: the debugger's stops, as redis-cli --ldb shows
    assert [s["line"] for s in trace["stops"]] == [1, 1, 2, 3, 4, 2, 3, 4, 2, 3, 4, 2, 6]
    assert trace["note"] is None and trace["steps"] == len(trace["stops"])
    first, last = trace["stops"][0], trace["stops"][-1]
    assert first["reason"] == "step over" and first["source"].startswith("local total = ")
    assert first["locals"] == [] and first["calls"] == []
    # the GET of line 1 is logged before the stop at line 2, with its reply
    assert trace["stops"][1]["calls"] == ["<redis> GET dbg:k", '<reply> "10"']
    assert _locals(trace["stops"][2]) == {"total": "10"}
    assert _locals(trace["stops"][4])["total"] == "11" and _locals(trace["stops"][4])["i"] == "1"
    assert trace["stops"][5]["calls"] == ["<redis> SET dbg:k 11", '<reply> "+OK"']
    assert last["source"] == "return total" and _locals(last)["total"] == "16"
    assert trace["after"] == []
    assert data["reply"] == {"t": "int", "v": 16}
    # YES mode: the script's SETs are gone, over RESP
    assert r.get("dbg:k") == "10"
    # a script returning nil is not run a second time outside the debugger
    status, data = _debug(api, "redis.call('SET', KEYS[1], 'x')\nreturn nil", keys=["dbg:k"])
    logged = [c for s in data["trace"]["stops"] for c in s["calls"]] + data["trace"]["after"]
    assert data["reply"] == {"t": "nil"} and "<redis> SET dbg:k x" in logged
    assert r.get("dbg:k") == "10"
    # and the next EVAL runs normally, keeping its write
    assert r.eval("return redis.call('INCR', KEYS[1])", 1, "dbg:k") == 11


def test_debug_breakpoints_record_only_those_stops(server, r):
    api = Api(server[1])
    api.login(PASSWORD)
    r.set("dbg:bp", "0")
    status, data = _debug(api, LOOP, keys=["dbg:bp"], breakpoints=[4])
    assert status == 200
    stops = data["trace"]["stops"]
    assert [s["line"] for s in stops] == [1, 4, 4, 4]
    assert [_locals(s)["total"] for s in stops[1:]] == ["1", "3", "6"]
    # the calls of the lines stepped over are carried to the next recorded stop
    assert stops[1]["calls"] == ["<redis> GET dbg:bp", '<reply> "0"']
    assert stops[2]["calls"] == ["<redis> SET dbg:bp 1", '<reply> "+OK"']
    assert data["trace"]["after"] == ["<redis> SET dbg:bp 6", '<reply> "+OK"']
    assert data["trace"]["steps"] == 13 and data["reply"]["v"] == 6
    assert r.get("dbg:bp") == "0"


def test_debug_step_cap_aborts_an_endless_loop(server, r):
    api = Api(server[1])
    api.login(PASSWORD)
    r.set("dbg:cap", "same")
    script = "local n = 0\nwhile true do\n  n = n + 1\n  redis.call('SET', KEYS[1], n)\nend"
    status, data = _debug(api, script, keys=["dbg:cap"])
    trace = data["trace"]
    assert status == 200 and trace["steps"] == 2000 and len(trace["stops"]) == 2000
    assert "2000 steps" in trace["note"]
    assert data["reply"]["t"] == "error"
    assert data["reply"]["v"].startswith("ERR script aborted for user request")
    values = [int(_locals(s)["n"]) for s in trace["stops"][1:]]
    assert values == sorted(values) and values[-1] >= 400  # 4 stops an iteration
    assert r.get("dbg:cap") == "same" and r.ping()
    # a smaller cap on request
    status, data = _debug(api, script, keys=["dbg:cap"], max_steps=5)
    assert len(data["trace"]["stops"]) == 5 and "5 steps" in data["trace"]["note"]
    assert r.get("dbg:cap") == "same"
    # the script time limit bounds the recording too (2,000 stops take ~0.3 s here)
    r.config_set("lua-time-limit", 20)
    try:
        status, data = _debug(api, script, keys=["dbg:cap"])
    finally:
        r.config_set("lua-time-limit", 5000)
    assert "(lua-time-limit)" in data["trace"]["note"] and data["trace"]["steps"] < 2000
    assert data["reply"]["v"].startswith("ERR script aborted for user request")
    assert r.get("dbg:cap") == "same"


def test_debug_size_cap_aborts_a_large_trace(server, r):
    api = Api(server[1])
    api.login(PASSWORD)
    # ten locals of 300 bytes: each stop's print is ~2.7 KB (the debugger cuts values at
    # 256 bytes), so 1 MB of trace comes well before 2,000 stops
    script = "".join(f"local v{i} = string.rep('{i}', 300)\n" for i in range(10))
    script += "while true do\n  v0 = v0\nend"
    status, data = _debug(api, script)
    trace = data["trace"]
    assert status == 200 and "1048576 bytes" in trace["note"], trace["note"]
    assert 300 < trace["steps"] < 2000
    assert len(trace["stops"][-1]["locals"]) == 10
    assert trace["stops"][-1]["locals"][0][1].endswith(" ...")  # cut by the debugger's maxlen
    assert data["reply"]["v"].startswith("ERR script aborted for user request")


def test_debug_compile_error_and_bad_requests(server, r):
    api = Api(server[1])
    api.login(PASSWORD)
    status, data = _debug(api, "local a = 1\nlocal b = = 2")
    assert status == 200 and data["trace"]["stops"] == [] and data["trace"]["steps"] == 0
    assert data["reply"]["t"] == "error" and "user_script:2:" in data["reply"]["v"]
    # a runtime error: the stops up to it, then the error
    status, data = _debug(api, "local a = 1\nreturn a.b.c")
    assert [s["line"] for s in data["trace"]["stops"]] == [1, 2]
    assert "user_script:2:" in data["reply"]["v"]
    # EVAL_RO refuses the write, as without the debugger
    status, data = _debug(api, "return redis.call('SET', 'dbg:ro', 1)", readonly=True)
    assert "Write commands are not allowed from read-only scripts" in data["reply"]["v"]
    assert r.exists("dbg:ro") == 0
    assert _debug(api, "return 1", breakpoints=["x"])[0] == 400
    assert _debug(api, "return 1", max_steps=2001)[0] == 400
    assert _debug(api, "")[0] == 400
    assert api.request("POST", "/_console/api/debug", {"script": "return 1"})[0] == 403
