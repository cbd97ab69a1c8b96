"""Shared code between FUNCTION libraries (ledis/scripting/modules.py): ledis.export /
ledis.require, the dependency rules of FUNCTION DELETE / LOAD REPLACE, LEDIS.FUNCTION
LOADMANY, load order after a restart / RESTORE / on a replica, and ledis.fcall from EVAL."""

from __future__ import annotations

import time

import pytest
import redis

from ledis.scripting.function_payload import redis_dump
from tests.helpers import LedisProcess

# 'zbase' exports a module; 'auser' requires it. Alphabetically 'auser' comes first, so the
# stored keys' order (lib:auser < lib:zbase) is the wrong load order.
BASE = """#!lua name=zbase
local M = {factor = FACTOR}
function M.scale(x) return x * M.factor end
ledis.export(M)
redis.register_function('zscale', function(keys, args) return M.scale(tonumber(args[1])) end)
"""
USER = """#!lua name=auser
local base = ledis.require('zbase')
redis.register_function{function_name='aquad', flags={'no-writes'},
  callback=function(keys, args) return base.scale(base.scale(tonumber(args[1]))) end}
redis.register_function('aset', function(keys, args)
  return redis.call('SET', keys[1], base.scale(tonumber(args[1]))) end)
"""
TOP = """#!lua name=mtop
local u = ledis.require('zbase')
ledis.export({triple = function(x) return 3 * u.scale(x) end})
redis.register_function('mtop', function(keys, args) return u.scale(1) end)
"""


def base(factor: int = 2) -> str:
    return BASE.replace("FACTOR", str(factor))


def loadmany(c, *codes: str, replace: bool = False):
    args = ["LEDIS.FUNCTION", "LOADMANY"] + (["REPLACE"] if replace else []) + list(codes)
    return c.execute_command(*args)


@pytest.fixture
def f(r):
    r.function_flush()
    yield r
    r.function_flush()


def test_require_at_load_and_shared_table(f):
    assert f.function_load(base()) == b"zbase"
    assert f.function_load(USER) == b"auser"
    assert f.fcall("aquad", 0, 5) == 20
    assert f.fcall("aset", 1, "k", 4) == b"OK" and f.get("k") == b"8"
    libs = {lib[b"library_name"]: lib for lib in _list(f)}
    assert libs[b"auser"][b"requires"] == [b"zbase"]
    assert b"requires" not in libs[b"zbase"]


def _list(c):
    out = []
    for lib in c.function_list():
        out.append(lib if isinstance(lib, dict) else dict(zip(lib[::2], lib[1::2], strict=True)))
    return out


def test_require_errors(f):
    with pytest.raises(redis.ResponseError, match="library 'zbase' is not loaded"):
        f.function_load(USER)
    f.function_load("#!lua name=plain\nredis.register_function('p', function() return 1 end)")
    with pytest.raises(redis.ResponseError, match="'plain' exports nothing"):
        f.function_load("#!lua name=x\nlocal p = ledis.require('plain')\n"
                        "redis.register_function('x', function() return 1 end)")
    with pytest.raises(redis.ResponseError, match="only be called once"):
        f.function_load("#!lua name=x\nledis.export({}) ledis.export({})")
    with pytest.raises(redis.ResponseError, match="expects a table"):
        f.function_load("#!lua name=x\nledis.export(1)")
    # a module-only library (no functions) is fine; an empty one still is not
    assert f.function_load("#!lua name=onlymod\nledis.export({v = 1})") == b"onlymod"
    with pytest.raises(redis.ResponseError, match="No functions registered"):
        f.function_load("#!lua name=empty\nlocal x = 1")
    # ledis.require / ledis.export exist only while a library loads
    f.function_load("#!lua name=late\nredis.register_function('late', function() "
                    "return ledis.require('onlymod') end)")
    with pytest.raises(redis.ResponseError):
        f.fcall("late", 0)


def test_delete_of_required_library_is_refused(f):
    f.function_load(base())
    f.function_load(USER)
    f.function_load(TOP)
    with pytest.raises(redis.ResponseError) as exc:
        f.function_delete("zbase")
    assert str(exc.value) == "library 'zbase' is required by 'auser', 'mtop'"
    assert f.fcall("aquad", 0, 1) == 4
    f.function_delete("auser")
    f.function_delete("mtop")
    assert f.function_delete("zbase")
    assert _list(f) == []


def test_replace_reloads_dependents_against_new_version(f):
    f.function_load(base(2))
    f.function_load(USER)
    assert f.function_load(base(10), replace=True) == b"zbase"
    assert f.fcall("aquad", 0, 1) == 100  # auser now holds the new module table
    # a new version the dependents cannot load against: refused, nothing changes
    broken = "#!lua name=zbase\nledis.export({})\n"  # no scale(): auser's body still loads...
    f.function_load(broken.replace("{}", "{factor = 1}"), replace=True)
    with pytest.raises(redis.ResponseError):
        f.fcall("aquad", 0, 1)  # ... but calls fail: that is the library author's contract
    f.function_load(base(3), replace=True)
    with pytest.raises(redis.ResponseError) as exc:
        f.function_load("#!lua name=zbase\nredis.register_function('zscale', "
                        "function() return 0 end)", replace=True)
    assert "library 'auser' (which requires 'zbase') does not load against the new " \
           "version" in str(exc.value)
    assert f.fcall("aquad", 0, 1) == 9 and f.fcall("zscale", 0, 2) == 6


def test_loadmany_any_order_atomic_and_cycles(f):
    assert loadmany(f, USER, TOP, base()) == [b"auser", b"mtop", b"zbase"]
    assert f.fcall("aquad", 0, 3) == 12
    names = [lib[b"library_name"] for lib in _list(f)]
    assert names.index(b"zbase") < names.index(b"auser")  # listed in dependency order
    with pytest.raises(redis.ResponseError, match="already exists"):
        loadmany(f, base())
    assert loadmany(f, base(5), USER, replace=True) == [b"zbase", b"auser"]
    assert f.fcall("aquad", 0, 1) == 25 and f.fcall("mtop", 0) == 5  # mtop reloaded too
    # one bad library: none of the set loads
    with pytest.raises(redis.ResponseError, match="Error compiling"):
        loadmany(f, "#!lua name=n1\nredis.register_function('n1', function() return 1 end)",
                 "#!lua name=n2\nthis is not lua")
    with pytest.raises(redis.ResponseError, match="Function not found"):
        f.fcall("n1", 0)
    with pytest.raises(redis.ResponseError, match="given twice"):
        loadmany(f, base(), base())
    cyc_a = "#!lua name=cyca\nlocal b = ledis.require('cycb')\nledis.export({})"
    cyc_b = "#!lua name=cycb\nlocal a = ledis.require('cyca')\nledis.export({})"
    with pytest.raises(redis.ResponseError) as exc:
        loadmany(f, cyc_a, cyc_b)
    assert "dependency cycle: cyca -> cycb -> cyca" in str(exc.value)
    assert {lib[b"library_name"] for lib in _list(f)} == {b"zbase", b"auser", b"mtop"}


def test_restore_follows_dependencies_whatever_the_payload_order(f):
    payload = redis_dump([USER.encode(), TOP.encode(), base(7).encode()])  # users first
    assert f.function_restore(payload)
    assert f.fcall("aquad", 0, 1) == 49
    dumped = f.function_dump()
    f.function_flush()
    f.function_restore(dumped)
    assert f.fcall("aquad", 0, 1) == 49
    # REPLACE of the required library reloads the dependents with it
    f.function_restore(redis_dump([base(2).encode()]), "REPLACE")
    assert f.fcall("aquad", 0, 1) == 4


def test_restart_loads_in_dependency_order(fresh_server):
    s = fresh_server()
    c = s.client()
    c.function_load(base(4))
    c.function_load(USER)
    c.function_load(TOP)
    s.restart()
    c = s.client()
    assert c.fcall("aquad", 0, 1) == 16 and c.fcall("mtop", 0) == 4
    assert "cannot be loaded" not in s.log()


def test_replica_gets_dependent_libraries_in_order(fresh_server):
    m = fresh_server()
    mc = m.client()
    mc.function_load(base(3))
    mc.function_load(USER)  # before the replica exists: full sync
    s = fresh_server("--replicaof", f"127.0.0.1 {m.port}")
    sc = s.client()
    _wait(lambda: _try(lambda: sc.fcall_ro("aquad", 0, 1)) == 9)
    mc.function_load(TOP)  # live stream
    mc.function_load(base(5), replace=True)
    _wait(lambda: _try(lambda: sc.fcall_ro("aquad", 0, 1)) == 25)
    assert "cannot be loaded" not in s.log()
    s.restart()
    sc = s.client()
    _wait(lambda: _try(lambda: sc.fcall_ro("aquad", 0, 1)) == 25)


def _try(fn):
    try:
        return fn()
    except redis.RedisError:
        return None


def _wait(cond, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


# --- ledis.fcall from EVAL -------------------------------------------------------------------
def test_eval_calls_library_functions(f):
    f.function_load(base(2))
    f.function_load(USER)
    assert f.eval("return ledis.fcall('aquad', {}, {ARGV[1]})", 0, 3) == 12
    assert f.eval("return ledis.fcall('ASET', {KEYS[1]}, {5})", 1, "k") == b"OK"
    assert f.get("k") == b"10"
    assert f.eval("return ledis.fcall_ro('aquad', {}, {1})", 0) == 4
    assert f.eval_ro("return ledis.fcall('aquad', {}, {2})", 0) == 8
    with pytest.raises(redis.ResponseError, match="Function not found"):
        f.eval("return ledis.fcall('nope', {}, {})", 0)
    with pytest.raises(redis.ResponseError, match="expects a function name"):
        f.eval("return ledis.fcall('aquad', {}, {{}})", 0)
    # an error inside the function can be caught by the script like redis.pcall's
    assert f.eval("local ok, e = pcall(ledis.fcall, 'zscale', {}, {'x'}) "
                  "return ok and 'no' or 'caught'", 0) == b"caught"


def test_eval_fcall_read_only_rules(f):
    f.function_load(base(2))
    f.function_load(USER)
    ro_write = "Can not execute a script with write flag using \\*_ro command"
    # a read-only run (EVAL_RO, a no-writes script, fcall_ro) may only call no-writes functions
    with pytest.raises(redis.ResponseError, match=ro_write):
        f.eval_ro("return ledis.fcall('aset', {KEYS[1]}, {1})", 1, "k")
    with pytest.raises(redis.ResponseError, match=ro_write):
        f.eval("#!lua flags=no-writes\nreturn ledis.fcall('aset', {KEYS[1]}, {1})", 1, "k")
    with pytest.raises(redis.ResponseError, match=ro_write):
        f.eval("return ledis.fcall_ro('aset', {KEYS[1]}, {1})", 1, "k")
    assert f.get("k") is None
    # a no-writes function that writes is refused with Redis's read-only script error
    f.function_load("#!lua name=sneaky\nredis.register_function{function_name='sneaky', "
                    "flags={'no-writes'}, callback=function(keys) "
                    "return redis.call('SET', keys[1], 'x') end}")
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed from "
                                                  "read-only scripts"):
        f.eval("return ledis.fcall('sneaky', {KEYS[1]}, {})", 1, "k")
    assert f.get("k") is None
    # ... and the calling script's own writes stay allowed after the call
    assert f.eval("ledis.fcall('aquad', {}, {1}) return redis.call('SET', KEYS[1], 'ok')",
                  1, "k") == b"OK"


def test_function_cannot_fcall_nested(f):
    f.function_load(base(2))
    f.function_load("#!lua name=nest\nredis.register_function('nest', function() "
                    "return ledis.fcall('zscale', {}, {1}) end)")
    with pytest.raises(redis.ResponseError, match="use ledis.require"):
        f.fcall("nest", 0)
    with pytest.raises(redis.ResponseError, match="use ledis.require"):
        f.eval("return ledis.fcall('nest', {}, {})", 0)


def test_ledis_dump_and_load_keep_dependency_order(fresh_server, tmp_path):
    import os
    import subprocess
    import sys

    from tests.helpers import ROOT

    def cli(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "ledis", *args], cwd=str(ROOT), check=True,
                       capture_output=True, timeout=120)

    src = fresh_server()
    c = src.client()
    c.function_load(base(6))
    c.function_load(USER)  # lib:auser sorts before lib:zbase in sys
    online = str(tmp_path / "online.ldmp")
    cli("dump", "--port", str(src.port), "-o", online)
    src.stop()
    offline = str(tmp_path / "offline.ldmp")
    cli("dump", "--dir", os.path.join(src.dir, "db"), "-o", offline)
    for path in (online, offline):
        dst = LedisProcess().start()
        try:
            cli("load", "--port", str(dst.port), path)  # one FUNCTION LOAD per library
            assert dst.client().fcall("aquad", 0, 1) == 36
        finally:
            dst.cleanup()
