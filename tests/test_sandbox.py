"""Sandbox escape attempts: each script tries to reach something a script must never reach
(the OS, files, the debug library, the JIT, FFI, Python objects, lupa's real globals) or to
change the environment for later scripts. Each either fails with an error or returns a value
other than "escaped"; afterwards the server is still healthy and globals are unchanged."""

from __future__ import annotations

import pytest
import redis

ESCAPES = [
    # direct globals
    "return os.execute('true') and 'escaped'",
    "return io.open('/etc/passwd') and 'escaped'",
    "return debug.getinfo(1) and 'escaped'",
    "return jit.off() and 'escaped'",
    "return require('ffi') and 'escaped'",
    "return package.loaded and 'escaped'",
    "return python.eval('1') and 'escaped'",
    "return dofile('/etc/passwd') and 'escaped'",
    "return loadfile('/etc/passwd') and 'escaped'",
    "return print and 'escaped'",
    "return module and 'escaped'",
    "return newproxy and 'escaped'",
    "return getfenv and 'escaped'",
    "return setfenv and 'escaped'",
    "return collectgarbage and _G.os and 'escaped'",
    # through loadstring / load
    "return loadstring('return os')() and 'escaped'",
    "return loadstring('return io')() and 'escaped'",
    "return load('return debug')() and 'escaped'",
    "local n = 0 return load(function() n = n + 1 if n == 1 then return 'return python' end end)()"
    " and 'escaped'",
    "return loadstring(string.dump(function() return 1 end)) and 'escaped'",
    "return loadstring('\\27LJ\\2') and 'escaped'",
    "return load('\\27LJ\\2\\0') and 'escaped'",
    # string metatable tricks
    "return ('x').dump and 'escaped'",
    "local mt = getmetatable('') mt.__index = {} return 'escaped'",
    "local mt = getmetatable('') return rawget(mt, '__index').dump and 'escaped'",
    "getmetatable('').__index.rep = function() return 'escaped' end return ('x'):rep(2)",
    "rawset(getmetatable(''), '__index', {}) return 'escaped'",
    "setmetatable(getmetatable(''), nil) return 'escaped'",
    "getmetatable('').__index.upper = nil return 'escaped'",
    "return string.dump and 'escaped'",
    # globals / library tampering
    "rawset(_G, 'os', {}) return 'escaped'",
    "setmetatable(_G, nil) return 'escaped'",
    "_G.redis = nil return 'escaped'",
    "redis.call = function() return 'escaped' end return redis.call('ping')",
    "string.rep = function() return 'escaped' end return string.rep('x', 1)",
    "math.floor = nil return 'escaped'",
    "table.insert = nil return 'escaped'",
    "rawset(string, 'rep', nil) return 'escaped'",
    "rawset(redis, 'call', nil) return 'escaped'",
    "cjson = nil return 'escaped'",
    "return rawget(_G, 'debug') and 'escaped'",
    "return getmetatable(_G) and 'escaped'",
    "local t = setmetatable({}, {__index = _G}) return t.os and 'escaped'",
    # coroutine and pcall tricks
    "local co = coroutine.create(function() return os end) local ok, v = coroutine.resume(co)"
    " return ok and v and 'escaped'",
    "local ok, v = pcall(function() return io end) return ok and v and 'escaped'",
    "return coroutine.isyieldable and 'escaped'",
    "return table.move and 'escaped'",
    # python objects reachable through the bridge
    "local ok, e = pcall(redis.call, {}) return type(e) == 'userdata' and 'escaped'",
    "return type(redis.call) ~= 'function' and 'escaped'",
    "local f = redis.sha1hex return tostring(f):find('python') and 'escaped'",
    "for k, v in pairs(redis) do if type(v) == 'userdata' then return 'escaped' end end return 1",
    "local ok, e = pcall(error) return type(e) == 'userdata' and 'escaped'",
]


@pytest.mark.parametrize("script", ESCAPES, ids=[s[:48] for s in ESCAPES])
def test_escape_attempt_fails(r, script):
    try:
        reply = r.eval(script, 0)
    except redis.ResponseError:
        reply = None
    assert reply != b"escaped"
    # the environment is intact for the next script
    assert r.eval("return ('ab'):rep(2) .. type(string.rep) .. type(redis.call)", 0) == (
        b"ababfunctionfunction")
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'os'"):
        r.eval("return os", 0)


def test_enough_escape_attempts():
    assert len(ESCAPES) >= 30


def test_globals_read_and_write_errors(r):
    with pytest.raises(redis.ResponseError) as exc:
        r.eval("return undefined_thing", 0)
    assert "Script attempted to access nonexistent global variable 'undefined_thing'" in str(
        exc.value)
    with pytest.raises(redis.ResponseError) as exc:
        r.eval("x = 1", 0)
    assert "user_script:1: Attempt to modify a readonly table" in str(exc.value)


def test_state_does_not_leak_between_scripts(r):
    r.eval("KEYS[1] = 'changed' return 1", 1, "k")
    assert r.eval("return KEYS[1]", 1, "orig") == b"orig"
    assert r.eval("return #ARGV", 0) == 0


def test_python_attributes_denied(r):
    # a Python callable exposed to Lua cannot be walked through its attributes
    script = "local f = redis.sha1hex return tostring(pcall(function() return f.__globals__ end))"
    assert r.eval(script, 0) in (b"false", b"true")
    script = ("local ok, v = pcall(function() return redis.sha1hex.__globals__ end)"
              " return ok and v and 'escaped' or 'denied'")
    assert r.eval(script, 0) == b"denied"


def test_bytecode_refused(r):
    assert r.eval("return tostring(loadstring('\\27LJ\\2\\0'))", 0) == b"nil"
    assert r.eval("local f, e = loadstring('\\27Lua') return e", 0) is not None


def test_library_copies_are_usable(r):
    assert r.eval("return string.format('%05d', 42)", 0) == b"00042"
    assert r.eval("return table.concat({'a','b'}, ',')", 0) == b"a,b"
    assert r.eval("return math.floor(3.7)", 0) == 3
    assert r.eval("local s = 0 for w in string.gfind('a b c', '%a') do s = s + 1 end return s",
                  0) == 3


def test_cjson_null_metatable_protected(r):
    script = "if not cjson then return 'absent' end return tostring(getmetatable(cjson.null))"
    assert r.eval(script, 0) in (b"absent", b"false", b"nil")


def test_bad_log_level_is_a_script_error_not_a_python_one(r):
    assert r.eval("redis.log(1.5, 'fractional level') return 1", 0) == 1
    with pytest.raises(redis.ResponseError) as exc:
        r.eval("redis.log({}, 'x')", 0)
    assert "First argument must be a number (log level)." in str(exc.value)
