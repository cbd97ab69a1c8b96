"""Hostile Lua (issue #21): scripts that allocate without bound, recurse forever, loop inside
pcall / xpcall / a coroutine, return absurdly deep nesting, build string.rep bombs or raise
errors that are not strings. Each must end with a clear error reply (or a correct reply), the
server stays up and keeps serving other clients, and the Lua memory comes back.

Redis 7.0 as reference: it has no Lua memory limit (ledis has ``lua_max_memory_mb``); a reply
nested past the conversion's depth ends with Redis's "reached lua stack limit" error element
(Redis 7.0.15 itself sent a reply redis-py could not parse for 10,000 levels).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis

from ledis import errors

LOOP_TIMEOUT = 30.0  # how long a killed script may take to end on a loaded machine


@pytest.fixture(scope="module")
def lua_server():
    from tests.helpers import LedisProcess

    proc = LedisProcess().start()
    proc.client().config_set("busy-reply-threshold", 200)  # BUSY after 200 ms
    yield proc
    proc.cleanup()


@pytest.fixture
def lr(lua_server):
    client = lua_server.client(socket_timeout=60)
    yield client
    client.close()


def _lua_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory_lua"])


def _serves(proc) -> None:
    other = proc.client(socket_timeout=10)
    assert other.ping()
    assert other.eval("return ARGV[1] .. 'k'", 0, "o") == b"ok"
    other.close()


@pytest.mark.parametrize("script", [
    "return #string.rep('ab', 2^28, ',')",  # a string.rep bomb with a separator: 1.5 GB
    "local s = 'x' for i = 1, 40 do s = s .. s end return #s",  # doubling a string
    "local t = {} for i = 1, 1e9 do t[i] = i end return #t",  # a table without end
    "local t = {} for i = 1, 1e9 do t[i] = {i} end return #t",  # tables of tables
])
def test_allocation_bombs_end_with_the_memory_error_and_memory_comes_back(
        lua_server, lr, script):
    lr.eval("return 1", 0)
    before = _lua_memory(lr)
    afters = []
    for _ in range(3):
        with pytest.raises(redis.ResponseError) as info:
            lr.eval(script, 0)
        assert str(info.value) == errors.SCRIPT_OOM.removeprefix("ERR ")
        _serves(lua_server)
        afters.append(_lua_memory(lr))
    # the 256 MB bomb is collected; what stays (LuaJIT's grown string table, arenas) is
    # bounded and does not grow with every bomb
    assert afters[0] < before + 32 * 1024 * 1024, (before, afters)
    assert afters[2] <= afters[0] + 1024 * 1024, (before, afters)


def test_string_rep_past_the_int_range_does_not_crash(lua_server, lr):
    # LuaJIT takes a count past 2^31 as no repetition; the point is no allocation, no crash
    assert lr.eval("return #string.rep('x', 2^31)", 0) in (0, 2**31)
    _serves(lua_server)


@pytest.mark.parametrize("script", [
    "local function f() return 1 + f() end return f()",
    "local function f(t) return 1 + f({t}) end return f({})",
])
def test_infinite_recursion_is_a_stack_overflow_error(lua_server, lr, script):
    with pytest.raises(redis.ResponseError) as info:
        lr.eval(script, 0)
    assert "stack overflow" in str(info.value)
    _serves(lua_server)


@pytest.mark.parametrize("script", [
    "local function f(n) return f(n + 1) end return f(1)",  # a tail call: an endless loop
    "while true do pcall(function() while true do end end) end",
    "while true do pcall(error, 'x') end",
    "while true do xpcall(function() while true do end end, function(e) return e end) end",
    "local c = coroutine.wrap(function() while true do end end) c() return 1",
    "while true do local c = coroutine.create(function() while true do pcall(coroutine.yield) "
    "end end) coroutine.resume(c) end",
    # stack overflows caught by pcall at every depth: LuaJIT's count hook stops firing here,
    # so the pcall gate (prelude) is what sees the time limit and the kill
    "local function f() pcall(f) return f() end return f()",
    "local function f() xpcall(f, function(e) return e end) return f() end return f()",
])
def test_endless_loops_hit_the_time_limit_and_script_kill_ends_them(lua_server, script):
    # pcall must not swallow the kill: the time-limit hook keeps failing until the script ends
    result: dict = {}

    def run() -> None:
        client = lua_server.client(socket_timeout=LOOP_TIMEOUT + 30)
        try:
            client.eval(script, 0)
        except redis.ResponseError as exc:
            result["error"] = str(exc)
        finally:
            client.close()

    runner = threading.Thread(target=run)
    runner.start()
    other = lua_server.client(socket_timeout=10)
    deadline = time.monotonic() + LOOP_TIMEOUT
    while True:  # another client: BUSY once the limit passed, not a hang
        try:
            other.ping()
        except redis.ResponseError as exc:
            assert str(exc).startswith("BUSY"), exc
            break
        assert time.monotonic() < deadline, "never BUSY"
        time.sleep(0.05)
    assert other.script_kill()
    runner.join(LOOP_TIMEOUT)
    assert not runner.is_alive(), "SCRIPT KILL did not end the script"
    assert result["error"].startswith(errors.SCRIPT_KILLED.removeprefix("ERR ")), result
    other.close()
    _serves(lua_server)


def test_deep_nesting_in_a_reply_ends_with_redis_stack_limit_error(lua_server):
    # 10,000 nested tables: the reply nests arrays down to the conversion's depth limit,
    # then carries Redis 7.0's error element "reached lua stack limit" (its text for the
    # same condition in luaReplyToRedisReply); one well-formed reply, the server goes on
    script = b"local t = {} local c = t for i = 1, 9999 do c[1] = {} c = c[1] end return t"
    request = b"*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n" % (len(script), script)
    tail = b"-ERR reached lua stack limit\r\n"
    with socket.create_connection(("127.0.0.1", lua_server.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while not data.endswith(tail):
            chunk = s.recv(65536)
            assert chunk, data[-100:]
            data += chunk
    depth = data.count(b"*1\r\n")
    assert data == b"*1\r\n" * depth + tail and 100 <= depth < 9999, data[-200:]
    _serves(lua_server)


@pytest.mark.parametrize("script", [
    "return cjson.decode(string.rep('[', 100000) .. string.rep(']', 100000))",
    "local t = {} local c = t for i = 1, 10000 do c[1] = {} c = c[1] end "
    "return cjson.encode(t)",
])
def test_deep_nesting_in_cjson_is_a_clear_error(lua_server, lr, script):
    with pytest.raises(redis.ResponseError) as info:
        lr.eval(script, 0)
    assert "nest" in str(info.value)
    _serves(lua_server)


def test_coroutine_abuse(lua_server, lr):
    many = ("local n = 0 for i = 1, 100000 do local c = coroutine.create(function() "
            "coroutine.yield(1) end) coroutine.resume(c) n = n + 1 end return n")
    assert lr.eval(many, 0) == 100000
    nested = ("local function f(n) if n == 0 then return 7 end return coroutine.wrap("
              "function() return f(n - 1) end)() end return f(20000)")
    try:
        assert lr.eval(nested, 0) == 7
    except redis.ResponseError as exc:  # or LuaJIT's own limit, as a clear error
        assert "overflow" in str(exc) or "C stack" in str(exc), exc
    with pytest.raises(redis.ResponseError) as info:
        lr.eval("return coroutine.yield(1)", 0)
    assert "yield across" in str(info.value)
    _serves(lua_server)


@pytest.mark.parametrize(("script", "text"), [
    ("error({})", "ERR unknown error"),
    ("error(nil)", "ERR nil"),
    ("error(123)", "ERR user_script:1: 123"),
    ("error(true)", "ERR true"),
    ("error({err = 123})", "ERR unknown error"),
    ("error(setmetatable({}, {__tostring = function() error('x') end}))", "ERR unknown error"),
    ("error(coroutine.create(function() end))", "ERR thread: "),
    ("error(string.rep('e', 10000000))", "ERR user_script:1: eeee"),
])
def test_error_with_a_non_string_value_is_a_clear_error(lua_server, lr, script, text):
    with pytest.raises(redis.ResponseError) as info:
        lr.eval(script, 0)
    assert ("ERR " + str(info.value)).startswith(text), info.value
    assert "script: " in str(info.value)  # Redis's "script: <sha>, on @user_script:1."
    _serves(lua_server)


def test_nested_pcall_depth_is_redis_c_stack_limit(lua_server, redis_server):
    # Redis (Lua 5.1) refuses a pcall nested ~200 deep with "C stack overflow"; ledis's pcall
    # gate does the same, which is also what keeps LuaJIT out of its endless error handling
    script = ("local err, depth = nil, 0 local function f() depth = depth + 1 "
              "local ok, e = pcall(f) if not ok and not err then err = e end end "
              "f() return {err, depth}")
    ours = lua_server.client().eval(script, 0)
    theirs = redis_server.client().eval(script, 0)
    assert ours[0] == theirs[0] == b"C stack overflow"
    assert abs(ours[1] - theirs[1]) <= 5, (ours, theirs)
    _serves(lua_server)
