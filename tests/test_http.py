"""The HTTP API (ledis/http/) against a running server with HTTP on, through urllib (a real
HTTP client), mixed with RESP clients on the same data."""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
import urllib.error
import urllib.request
from http.client import HTTPConnection
from urllib.parse import quote_from_bytes

import msgpack
import pytest

from tests.helpers import LedisProcess, free_port, wait_port


def _start(*extra: str, config: str | None = None) -> tuple[LedisProcess, int]:
    http_port = free_port()
    proc = LedisProcess("--http-port", str(http_port), *extra, config=config).start()
    wait_port(http_port, proc.proc)
    return proc, http_port


@pytest.fixture(scope="module")
def http_server():
    proc, port = _start()
    yield proc, port
    proc.cleanup()


class Http:
    """A client of one lane: ``fast`` keeps one keep-alive HTTP/1.1 connection per thread (plain
    command GETs are then answered by ledis/http/fast.py), ``aiohttp`` sends every request
    with ``Connection: close`` (urllib), which the fast lane leaves to aiohttp's route."""

    def __init__(self, port: int, token: str | None = None, lane: str = "fast") -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.token = token
        self.lane = lane
        self._local = threading.local()

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json") -> tuple[int, bytes, str]:
        headers = {"Content-Type": content_type} if body is not None else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.lane == "fast":
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = HTTPConnection("127.0.0.1", self.port, timeout=20)
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.will_close:
                conn.close()
                self._local.conn = None
            return resp.status, data, resp.headers.get("Content-Type", "")
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                return resp.status, resp.read(), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers.get("Content-Type", "")

    def get(self, path: str) -> tuple[int, object]:
        status, body, ctype = self.request("GET", path)
        if ctype.startswith("application/msgpack"):
            return status, msgpack.unpackb(body, raw=False)
        return status, json.loads(body)

    def post(self, path: str, data: object) -> tuple[int, object]:
        status, body, _ = self.request("POST", path, json.dumps(data).encode())
        return status, json.loads(body)

    def ok(self, path: str) -> object:
        status, data = self.get(path)
        assert status == 200, data
        return data


@pytest.fixture(params=["fast", "aiohttp"])
def http(http_server, request):
    """Every test on this fixture runs on both lanes: the answers must not differ."""
    proc, port = http_server
    client = proc.client()
    client.flushall()
    client.close()
    return Http(port, lane=request.param)


@pytest.fixture
def r_http(http_server):
    proc, _ = http_server
    client = proc.client()
    yield client
    client.close()


# --- reply types, JSON -----------------------------------------------------------------------
def test_status_integer_bulk_nil(http):
    assert http.ok("/SET/k/v") == {"SET": [True, "OK"]}
    assert http.ok("/GET/k") == {"GET": "v"}
    assert http.ok("/get/missing") == {"GET": None}
    assert http.ok("/INCR/n") == {"INCR": 1}
    assert http.ok("/PING") == {"PING": [True, "PONG"]}
    assert http.ok("/TYPE/k") == {"TYPE": [True, "string"]}


def test_arrays_maps_sets_doubles(http):
    http.ok("/RPUSH/l/a/b")
    assert http.ok("/LRANGE/l/0/-1") == {"LRANGE": ["a", "b"]}
    assert http.ok("/MGET/l/missing") == {"MGET": [None, None]}
    http.ok("/HSET/h/f/v/g/1")
    assert http.ok("/HGETALL/h") == {"HGETALL": {"f": "v", "g": "1"}}
    http.ok("/SADD/s/x/y")
    assert sorted(http.ok("/SMEMBERS/s")["SMEMBERS"]) == ["x", "y"]
    http.ok("/ZADD/z/1.5/m/2/n")
    assert http.ok("/ZSCORE/z/m") == {"ZSCORE": 1.5}
    assert http.ok("/ZRANGE/z/0/-1/WITHSCORES") == {"ZRANGE": [["m", 1.5], ["n", 2.0]]}
    assert http.ok("/ZINCRBY/z/inf/m") == {"ZINCRBY": "inf"}  # JSON has no infinity
    assert http.ok("/dbsize") == {"DBSIZE": 4}


def test_script_reply_types(http):
    assert http.post("/EVAL", {"script": "return {1, 'a', {2}, false}"}) == \
        (200, {"EVAL": [1, "a", [2], None]})
    assert http.post("/EVAL", {"script": "return redis.status_reply('FINE')"}) == \
        (200, {"EVAL": [True, "FINE"]})
    status, data = http.post("/EVAL", {"script": "return redis.error_reply('MINE oops')"})
    assert (status, data) == (400, {"error": "MINE oops"})
    assert http.post("/EVAL", {"script": "redis.setresp(3) return redis.call('HGETALL', KEYS[1])",
                               "keys": ["nope"]}) == (200, {"EVAL": {}})
    http.ok("/HSET/h/f/v")
    assert http.post("/EVAL", {"script": "redis.setresp(3) return redis.call('HGETALL', KEYS[1])",
                               "keys": ["h"]}) == (200, {"EVAL": {"f": "v"}})
    # HTTP requests are RESP3 clients: a Lua boolean is a boolean, a double a number
    assert http.post("/EVAL", {"script": "return true"}) == (200, {"EVAL": True})
    assert http.post("/EVAL", {"script": "return redis.call('ZSCORE', 'nope', 'm')"}) == \
        (200, {"EVAL": None})


def test_db_in_url(http, r_http):
    http.ok("/3/SET/k/three")
    assert http.ok("/3/GET/k") == {"GET": "three"}
    assert http.ok("/GET/k") == {"GET": None}
    r_http.execute_command("SELECT", 3)
    assert r_http.get("k") == b"three"
    status, data = http.get("/99/GET/k")
    assert status == 400 and data == {"error": "ERR DB index is out of range"}


# --- msgpack ---------------------------------------------------------------------------------
def test_msgpack_format(http):
    assert http.ok("/SET/k/v?type=msgpack") == {"SET": [True, "OK"]}
    assert http.ok("/GET/k?type=msgpack") == {"GET": b"v"}  # bulk strings stay binary
    http.ok("/HSET/h/f/1")
    assert http.ok("/HGETALL/h?type=msgpack") == {"HGETALL": {b"f": b"1"}}
    http.ok("/ZADD/z/2.5/m")
    assert http.ok("/ZSCORE/z/m?type=msgpack") == {"ZSCORE": 2.5}
    assert http.ok("/GET/nope?type=msgpack") == {"GET": None}
    assert http.ok("/LPUSH/l/x?type=msgpack") == {"LPUSH": 1}
    status, data = http.get("/GET/l?type=msgpack")
    assert status == 400 and data["error"].startswith("WRONGTYPE")
    http.ok("/SADD/s/a")
    assert http.ok("/SMEMBERS/s?type=msgpack") == {"SMEMBERS": [b"a"]}
    assert http.ok("/LRANGE/l/0/-1?type=msgpack") == {"LRANGE": [b"x"]}
    assert http.ok("/ZRANGE/z/0/-1/WITHSCORES?type=msgpack") == {"ZRANGE": [[b"m", 2.5]]}


def test_msgpack_body(http):
    body = msgpack.packb(["SET", b"\x00bin\xff", b"\xfe\x00"])
    status, raw, _ = http.request("POST", "/", body, "application/msgpack")
    assert status == 200 and json.loads(raw) == {"SET": [True, "OK"]}
    assert http.ok("/GET/" + quote_from_bytes(b"\x00bin\xff") + "?type=msgpack") == \
        {"GET": b"\xfe\x00"}


def test_bad_type_parameter(http):
    status, data = http.get("/PING?type=xml")
    assert status == 400 and "type must be json or msgpack" in data["error"]


# --- binary ----------------------------------------------------------------------------------
def test_binary_round_trip(http, r_http):
    every = bytes(range(256))
    status, data = http.post("/", ["SET", {"base64": base64.b64encode(every).decode()},
                                   {"base64": base64.b64encode(every[::-1]).decode()}])
    assert status == 200
    assert r_http.get(every) == every[::-1]  # the RESP side sees the same bytes
    got = http.ok("/GET/" + quote_from_bytes(every, safe=""))["GET"]
    assert base64.b64decode(got["base64"]) == every[::-1]  # not UTF-8: the base64 form
    got = http.ok("/GET/" + quote_from_bytes(every, safe="") + "?encoding=base64")["GET"]
    assert base64.b64decode(got) == every[::-1]
    r_http.set("utf", "héllo ✓")
    assert http.ok("/GET/utf") == {"GET": "héllo ✓"}
    assert http.ok("/SET/a%2Fb/x%20y") == {"SET": [True, "OK"]}
    assert r_http.get("a/b") == b"x y"


# --- POST --------------------------------------------------------------------------------------
def test_post_forms(http):
    assert http.post("/", ["HSET", "h", "f/1", "v"]) == (200, {"HSET": 1})
    assert http.post("/", {"command": ["HGET", "h", "f/1"]}) == (200, {"HGET": "v"})
    assert http.post("/2", ["SET", "k", 12]) == (200, {"SET": [True, "OK"]})
    assert http.post("/2/INCRBY", ["k", 3]) == (200, {"INCRBY": 15})
    assert http.post("/2/INCRBYFLOAT", {"args": ["k", 0.5]}) == (200, {"INCRBYFLOAT": "15.5"})
    assert http.post("/HGET/h", ["f/1"]) == (200, {"HGET": "v"})


def test_post_eval_and_evalsha(http, r_http):
    script = "return redis.call('SET', KEYS[1], ARGV[1])"
    assert http.post("/EVAL", {"script": script, "keys": ["k"], "args": ["v"]}) == \
        (200, {"EVAL": [True, "OK"]})
    assert r_http.get("k") == b"v"
    sha = r_http.script_load("return ARGV[1] .. KEYS[1]")
    assert http.post("/EVALSHA", {"sha": sha, "keys": ["b"], "args": ["a"]}) == \
        (200, {"EVALSHA": "ab"})
    assert http.post("/1/EVAL", {"script": "return redis.call('SET', 'in1', 'x')"})[0] == 200
    r_http.execute_command("SELECT", 1)
    assert r_http.get("in1") == b"x"
    status, data = http.post("/EVALSHA", {"sha": "0" * 40})
    assert status == 400 and data["error"].startswith("NOSCRIPT")
    status, data = http.post("/EVAL", {"keys": []})
    assert status == 400 and "'script' is required" in data["error"]


def test_post_fcall(http, r_http):
    if http.ok("/COMMAND/INFO/FCALL") == {"COMMAND": [None]}:  # FUNCTION not built yet
        status, data = http.post("/FCALL", {"function": "f", "keys": [], "args": []})
        assert status == 404 and data["error"].startswith("ERR unknown command 'FCALL'")
        return
    r_http.function_load(
        "#!lua name=httplib\nredis.register_function('echo', function(k, a) return a[1] end)",
        replace=True)
    assert http.post("/FCALL", {"function": "echo", "keys": [], "args": ["hi"]}) == \
        (200, {"FCALL": "hi"})


# --- errors ----------------------------------------------------------------------------------
def test_command_errors(http):
    http.ok("/RPUSH/l/a")
    status, data = http.get("/GET/l")
    assert status == 400
    assert data == {"error": "WRONGTYPE Operation against a key holding the wrong kind of value"}
    status, data = http.get("/NOPE/x")
    assert status == 404
    assert data == {"error": "ERR unknown command 'NOPE', with args beginning with: 'x' "}
    status, data = http.get("/GET")
    assert (status, data) == (400, {"error": "ERR wrong number of arguments for 'get' command"})
    status, data = http.get("/SET/k/v/BOGUS")
    assert (status, data) == (400, {"error": "ERR syntax error"})


def test_refused_commands(http):
    for path in ("/BLPOP/l/0", "/BRPOPLPUSH/a/b/0", "/BZPOPMIN/z/0"):
        status, data = http.get(path)
        assert status == 400
        assert data == {"error": "ERR blocking commands are not supported over HTTP"}
    for path in ("/SUBSCRIBE/ch", "/PSUBSCRIBE/c*", "/MULTI", "/SELECT/1", "/MONITOR"):
        status, data = http.get(path)
        assert status == 400 and "is not supported over HTTP" in data["error"], path


def test_bad_bodies(http):
    status, raw, _ = http.request("POST", "/", b"{not json")
    assert status == 400 and json.loads(raw)["error"].startswith("ERR bad request body")
    status, data = http.post("/", {"command": "GET k"})
    assert status == 400 and "must be an array" in data["error"]
    status, data = http.post("/", ["SET", "k", {"base64": "!!!"}])
    assert status == 400 and "invalid base64" in data["error"]
    status, data = http.post("/", ["SET", "k", [1]])
    assert status == 400 and "arguments must be" in data["error"]
    status, data = http.post("/", [])
    assert status == 400 and data["error"] == "ERR no command given"
    status, raw, _ = http.request("PUT", "/SET/k/v", b"")
    assert status == 405


def test_body_size_limit():
    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as fh:
        fh.write("http_max_body: 1000\n")
    proc, port = _start(config=path)
    try:
        client = Http(port)
        status, data = client.post("/", ["SET", "k", "x" * 2000])
        assert (status, data) == (413, {"error": "ERR request body too large (limit 1000 bytes)"})
        assert client.post("/", ["SET", "k", "x" * 100]) == (200, {"SET": [True, "OK"]})
    finally:
        proc.cleanup()
        os.unlink(path)


# --- auth ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lane", ["fast", "aiohttp"])
def test_bearer_auth(lane):
    proc, port = _start("--requirepass", "s3cret")
    try:
        anonymous = Http(port, lane=lane)
        status, data = anonymous.get("/PING")
        assert (status, data) == (401, {"error": "NOAUTH Authentication required."})
        status, body, _ = anonymous.request("GET", "/info")
        assert status == 401
        wrong = Http(port, "nope", lane)
        status, data = wrong.get("/PING")
        assert status == 401 and data["error"].startswith("WRONGPASS")
        good = Http(port, "s3cret", lane)
        assert good.ok("/SET/k/v") == {"SET": [True, "OK"]}
        assert good.ok("/GET/k") == {"GET": "v"}
        assert good.ok("/info")["server"]["redis_version"] == "7.0.15"
        # probes need no password, and learn nothing else (no version)
        assert anonymous.ok("/health") == {"status": "ok", "loading": 0}
        assert anonymous.get("/openapi.json")[0] == 401  # it lists the (renamed) commands
        assert good.get("/openapi.json")[0] == 200
        assert anonymous.request("PUT", "/SET/k/v", b"")[0] == 401  # auth before 405
    finally:
        proc.cleanup()


# --- monitoring, OpenAPI -------------------------------------------------------------------------
def test_health_and_info(http):
    health = http.ok("/health")
    assert health["status"] == "ok" and health["redis_version"] == "7.0.15"
    http.ok("/SET/k/v")
    info = http.ok("/info")
    assert info["server"]["redis_version"] == "7.0.15"
    assert isinstance(info["server"]["uptime_in_seconds"], int)
    assert info["keyspace"]["db0"]["keys"] >= 1
    only = http.ok("/info?section=clients")
    assert list(only) == ["clients"]
    assert http.ok("/INFO/server")["INFO"].startswith("# Server")  # the command itself


def test_openapi_document_validates(http):
    from openapi_spec_validator import validate

    doc = http.ok("/openapi.json")
    validate(doc)
    enum = doc["components"]["parameters"]["command"]["schema"]["enum"]
    assert "HSET" in enum and "EVAL" in enum
    assert "/{db}/{command}/{arg1}" in doc["paths"]


# --- concurrency with RESP clients ----------------------------------------------------------
def test_concurrent_http_and_resp(http, http_server):
    proc, _ = http_server
    errors: list = []

    def via_http():
        try:
            for i in range(100):
                assert http.ok("/INCR/counter")["INCR"] > 0
                http.post("/", ["HSET", "h", f"http{threading.get_ident()}:{i}", "1"])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def via_resp():
        try:
            client = proc.client()
            for i in range(100):
                client.incr("counter")
                client.hset("h", f"resp{threading.get_ident()}:{i}", "1")
            client.close()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=f) for f in (via_http, via_resp) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert http.ok("/GET/counter") == {"GET": "600"}
    assert http.ok("/HLEN/h") == {"HLEN": 600}
    client = proc.client()
    assert client.get("counter") == b"600"
    client.close()


def test_write_is_committed_before_answer(tmp_path):
    """An answered HTTP write survives a kill -9 right after (committed, in the WAL)."""
    http_port = free_port()
    proc = LedisProcess("--http-port", str(http_port), data_dir=str(tmp_path)).start()
    wait_port(http_port, proc.proc)
    try:
        client = Http(http_port)
        assert client.ok("/SET/durable/yes") == {"SET": [True, "OK"]}
        proc.kill()
        proc.start()
        wait_port(http_port, proc.proc)
        assert Http(http_port).ok("/GET/durable") == {"GET": "yes"}  # a new connection
    finally:
        proc.cleanup()


# --- the fast lane (ledis/http/fast.py) against aiohttp's route -----------------------------------
def _raw_exchange(port: int, data: bytes, answers: int, chunk: int = 0
                  ) -> list[tuple[bytes, dict, bytes]]:
    """Send ``data`` on one connection (``chunk`` bytes per send, 0: at once) and read
    ``answers`` responses: (status line, headers, body) each, in arrival order."""
    import socket
    import time

    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        if chunk:
            for i in range(0, len(data), chunk):
                sock.sendall(data[i:i + chunk])
                time.sleep(0.002)  # separate reads on the server
        else:
            sock.sendall(data)
        buf = b""
        out = []
        while len(out) < answers:
            while b"\r\n\r\n" not in buf:
                more = sock.recv(65536)
                assert more, f"connection closed after {len(out)} answers"
                buf += more
            head, buf = buf.split(b"\r\n\r\n", 1)
            status, *lines = head.split(b"\r\n")
            headers = {k.lower(): v for k, v in (line.split(b": ", 1) for line in lines)}
            length = int(headers[b"content-length"])
            while len(buf) < length:
                more = sock.recv(65536)
                assert more
                buf += more
            out.append((status, headers, buf[:length]))
            buf = buf[length:]
    return out


def _get(path: str, close: bool = False) -> bytes:
    extra = "Connection: close\r\n" if close else ""
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


def test_fast_lane_answers_like_aiohttp(http_server, r_http):
    """The same request through the fast lane (keep-alive) and aiohttp's route (Connection:
    close): same status, body and headers (but Date and Connection)."""
    _, port = http_server
    r_http.set("k", "v")
    r_http.hset("h", "f", "\xff")
    for path in ("/GET/k", "/HGETALL/h", "/GET/k?type=msgpack", "/NOSUCH/x", "/GET",
                 "/99/GET/k", "/GET/k?type=xml", "/HGETALL/h?encoding=base64", "/1/SET/a%2Fb/x",
                 "/get/a%2Fb?type=json"):
        (fast,) = _raw_exchange(port, _get(path), 1)
        (slow,) = _raw_exchange(port, _get(path, close=True), 1)
        assert fast[0] == slow[0] and fast[2] == slow[2], path
        for headers in (fast[1], slow[1]):
            assert headers.pop(b"date")
            headers.pop(b"connection", None)
        assert fast[1] == slow[1], path


def test_fast_lane_keeps_order_with_aiohttp_requests(http_server, r_http):
    """Pipelined on one connection: fast GETs, a POST (aiohttp), /health (aiohttp), GETs
    again; every answer comes back in request order, the POST's write seen by the GET after
    it."""
    _, port = http_server
    r_http.delete("n")
    body = b'["INCRBY", "n", 10]'
    post = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    data = (_get("/INCR/n") + _get("/INCR/n") + post + _get("/GET/n") + _get("/health")
            + _get("/INCR/n") + _get("/GET/n"))
    expected = [{"INCR": 1}, {"INCR": 2}, {"INCRBY": 12}, {"GET": "12"}, None, {"INCR": 13},
                {"GET": "13"}]
    for chunk in (0, 7, 1):  # one read, small reads, a byte per read
        r_http.delete("n")
        answers = _raw_exchange(port, data, len(expected), chunk)
        for (status, _, payload), want in zip(answers, expected, strict=True):
            assert status == b"HTTP/1.1 200 OK"
            if want is None:
                assert json.loads(payload)["status"] == "ok"
            else:
                assert json.loads(payload) == want


def test_fast_lane_is_taken():
    """Keep-alive command GETs are answered by the fast lane, everything else by aiohttp
    (counted in-process on a served embedded store)."""
    import ledis

    with ledis.open(memory=True) as db:
        db.serve(port=0, http_port=0)
        api = db._shared.server.http
        port = db.http_port
        before = api.fast_requests
        answers = _raw_exchange(port, _get("/SET/k/v") + _get("/GET/k") + _get("/GET/k"), 3)
        assert [json.loads(a[2]) for a in answers] == [{"SET": [True, "OK"]}, {"GET": "v"},
                                                      {"GET": "v"}]
        assert api.fast_requests == before + 3
        _raw_exchange(port, _get("/GET/k", close=True), 1)
        _raw_exchange(port, _get("/health") + _get("/info"), 2)
        _raw_exchange(port, b"GET /GET/k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1)
        assert api.fast_requests == before + 3


def test_without_the_fast_lane_aiohttp_serves(monkeypatch):
    """An aiohttp without the internals the lane needs (``fast.supported()`` False): plain
    aiohttp connections answer everything."""
    import ledis
    from ledis.http import fast

    monkeypatch.setattr(fast, "supported", lambda: False)
    with ledis.open(memory=True) as db:
        db.serve(port=0, http_port=0)
        answers = _raw_exchange(db.http_port, _get("/SET/k/v") + _get("/GET/k"), 2)
        assert [json.loads(a[2]) for a in answers] == [{"SET": [True, "OK"]}, {"GET": "v"}]
        assert db._shared.server.http.fast_requests == 0


def test_fast_lane_pending_reply_holds_the_pipeline():
    """A command whose reply is pending (none reachable over HTTP today: blocking commands
    are refused and WAIT does not wait without a connection, so a stand-in wraps
    ``HttpApi._call``) holds every later request of its connection, fast or not, until its
    answer is written."""
    import asyncio

    import ledis
    from ledis.replies import Pending

    with ledis.open(memory=True) as db:
        db.serve(port=0, http_port=0)
        api = db._shared.server.http
        real_call = api._call

        def call(db_index, argv, resp, user, commit=True):
            if argv[0] == b"SLOWCMD":
                loop = asyncio.get_running_loop()
                future = loop.create_future()
                loop.call_later(0.3, future.set_result, b"late")
                return Pending(future)
            return real_call(db_index, argv, resp, user, commit)

        api._call = call
        body = b'["INCRBY", "n", 5]'
        post = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        data = _get("/SLOWCMD") + _get("/SET/k/after") + post + _get("/GET/k") + _get("/GET/n")
        answers = _raw_exchange(db.http_port, data, 5)
        assert [json.loads(a[2]) for a in answers] == [
            {"SLOWCMD": "late"}, {"SET": [True, "OK"]}, {"INCRBY": 5}, {"GET": "after"},
            {"GET": "5"}]


# --- the mapping itself, no server ---------------------------------------------------------------
def test_reply_mapping_units():
    from ledis.errors import LedisError
    from ledis.http.app import parse_info, to_json, to_msgpack
    from ledis.replies import (
        Bool,
        Double,
        Map,
        NullArray,
        PairList,
        SetReply,
        Simple,
        Verbatim,
    )

    assert to_json(Simple(b"OK")) == [True, "OK"]
    assert to_json(PairList([(b"a", 1), (b"b", Double(0.5))])) == {"a": 1, "b": 0.5}
    assert to_json(Map({b"\xff": b"v"})) == {"\\xff": "v"}
    assert to_json(SetReply([b"x"])) == ["x"]
    assert to_json(Verbatim(b"txt")) == "txt"
    assert to_json(Bool(1)) is True
    assert to_json(NullArray) is None
    assert to_json([Double(float("inf")), Double(float("-inf")), Double(float("nan"))]) == \
        ["inf", "-inf", "nan"]
    assert to_json([1, LedisError("ERR x")]) == [1, {"error": "ERR x"}]
    assert to_json(b"\x00\xff", b64=True) == "AP8="
    assert to_msgpack(Map({b"k": SetReply([b"\xff"])})) == {b"k": [b"\xff"]}
    assert to_msgpack(Simple(b"QUEUED")) == [True, "QUEUED"]
    info = parse_info(b"# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n"
                      b"uptime_in_seconds:5\r\n\r\n# Keyspace\r\n"
                      b"db0:keys=3,expires=0,avg_ttl=0\r\n")
    assert info == {"server": {"redis_version": "7.0.15", "redis_git_sha1": "00000000",
                               "uptime_in_seconds": 5},
                    "keyspace": {"db0": {"keys": 3, "expires": 0, "avg_ttl": 0}}}
