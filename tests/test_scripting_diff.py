"""Differential corpus: the same scripts on ledis and on the reference redis-server, replies
compared exactly (values, error texts with their `script: <sha>, on @user_script:N.` suffix),
in RESP2 and RESP3."""

from __future__ import annotations

import pytest
import redis

from tests.diff import outcome

# (script, keys, args). Each runs on a flushed db after SETUP.
SETUP = [
    ("set", "str", "hello"), ("set", "num", "41"), ("rpush", "list", "a", "b", "c"),
    ("hset", "hash", "f1", "v1"), ("sadd", "set", "m1"), ("zadd", "zset", "1.5", "z1"),
]

CORPUS = [
    ("return 1", [], []),
    ("return -7", [], []),
    ("return 'str'", [], []),
    ("return ''", [], []),
    ("return 3.99", [], []),
    ("return -3.99", [], []),
    ("return -0.5", [], []),
    ("return 1e20", [], []),
    ("return 0/0", [], []),
    ("return 1/0", [], []),
    ("return 2^53", [], []),
    ("return true", [], []),
    ("return false", [], []),
    ("return nil", [], []),
    ("return {}", [], []),
    ("return {a=1}", [], []),
    ("return {1,2,3.3,k='v','foo',nil,'bar'}", [], []),
    ("return {1,{2,{3,{'x'}}},false,true}", [], []),
    ("return {ok='FINE'}", [], []),
    ("return {ok='a\\r\\nb'}", [], []),
    ("return {err='My error'}", [], []),
    ("return {err='ERR boom'}", [], []),
    ("return {err=5}", [], []),
    ("return {1,{err='E1 x'},3}", [], []),
    ("return {double=3.14}", [], []),
    ("return {double=1/0}", [], []),
    ("return {big_number='12345678901234567890'}", [], []),
    ("return {map={a=1}}", [], []),
    ("return {set={m=true}}", [], []),
    ("return {verbatim_string={format='txt', string='hi'}}", [], []),
    ("return KEYS", ["k1", "k2"], ["a1"]),
    ("return ARGV", ["k1"], ["a1", "a2", "a3"]),
    ("return {#KEYS, #ARGV}", [], []),
    ("KEYS[1]='x' return KEYS[1]", ["k"], []),
    ("return redis.call('get', KEYS[1])", ["str"], []),
    ("return redis.call('get', 'missing')", [], []),
    ("return type(redis.call('get', 'missing'))", [], []),
    ("return redis.call('set', KEYS[1], ARGV[1])", ["k"], ["v"]),
    ("return redis.call('incr', KEYS[1])", ["num"], []),
    ("return redis.call('incr', KEYS[1])", ["str"], []),
    ("redis.call('incr', KEYS[1])", ["str"], []),
    ("local r = redis.pcall('incr', KEYS[1]) return r", ["str"], []),
    ("local r = redis.pcall('incr', KEYS[1]) return type(r.err)", ["str"], []),
    ("return pcall(redis.call, 'incr', KEYS[1])", ["str"], []),
    ("local ok, e = pcall(redis.call, 'incr', KEYS[1]) return {tostring(ok), e}", ["str"], []),
    ("local ok, e = pcall(error, {err='X y'}) return e", [], []),
    ("return redis.call('lrange', KEYS[1], 0, -1)", ["list"], []),
    ("return redis.call('hgetall', KEYS[1])", ["hash"], []),
    ("return redis.call('smembers', KEYS[1])", ["set"], []),
    ("return redis.call('zscore', KEYS[1], 'z1')", ["zset"], []),
    ("return redis.call('type', KEYS[1])", ["list"], []),
    ("return redis.call('type', KEYS[1]).ok", ["list"], []),
    ("return redis.call('exists', KEYS[1], KEYS[2])", ["str", "nope"], []),
    ("return redis.call('set', 'n', 0.1)", [], []),
    ("redis.call('set', 'n', 0.1) return redis.call('get', 'n')", [], []),
    ("redis.call('set', 'n', 1e20) return redis.call('get', 'n')", [], []),
    ("redis.call('set', 'n', 2^53) return redis.call('get', 'n')", [], []),
    ("redis.call('set', 'n', 10) return redis.call('get', 'n')", [], []),
    ("return redis.call('set', 'n', true)", [], []),
    ("return redis.call('set', 'n', nil)", [], []),
    ("return redis.call('set', 'n', {})", [], []),
    ("return redis.call()", [], []),
    ("return redis.call('nosuchcommand')", [], []),
    ("return redis.call('get')", [], []),
    ("return redis.call('eval', 'return 1', 0)", [], []),
    ("return redis.call('script', 'load', 'return 1')", [], []),
    ("return redis.call('select', 1)", [], []),
    ("redis.call('select', 1) redis.call('set', 'indb1', 'x') return redis.call('get', 'indb1')",
     [], []),
    ("return redis.call('blpop', 'nolist', 0)", [], []),
    ("return redis.call('blmpop', 0, 1, 'nolist', 'LEFT')", [], []),
    ("return redis.call('blmpop', 0, 1, KEYS[1], 'LEFT')", ["list"], []),
    ("return redis.call('config', 'set', 'maxmemory', '0')", [], []),
    ("return redis.call('info', 'nosuchsection')", [], []),
    ("return redis.call('hello')", [], []),
    ("error('boom')", [], []),
    ("error('boom', 0)", [], []),
    ("error(12)", [], []),
    ("error({err='MYERR t'})", [], []),
    ("\nlocal x = nil + 1", [], []),
    ("return a", [], []),
    ("a = 1", [], []),
    ("function f() end", [], []),
    ("redis.call = 1", [], []),
    ("string.rep = nil", [], []),
    ("rawset(_G, 'x', 1)", [], []),
    ("#!lua\nerror('line2')", [], []),
    ("#!lua\nreturn 1", [], []),
    ("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", ["str"], []),
    ("#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 'x')", ["str"], []),
    ("#!lua flags=bogus\nreturn 1", [], []),
    ("#!lua name=x\nreturn 1", [], []),
    ("#!python\nreturn 1", [], []),
    ("#!lua", [], []),
    ("return +", [], []),
    ("return redis.error_reply('MYCODE custom msg')", [], []),
    ("return redis.error_reply('oops')", [], []),
    ("return redis.error_reply('-X y')", [], []),
    ("return redis.error_reply()", [], []),
    ("return redis.status_reply('FINE')", [], []),
    ("return redis.sha1hex('')", [], []),
    ("return redis.sha1hex('abc\\0def')", [], []),
    ("return redis.REDIS_VERSION", [], []),
    ("return redis.REDIS_VERSION_NUM", [], []),
    ("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", [], []),
    ("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_REPLICA, redis.REPL_ALL}", [], []),
    ("return redis.replicate_commands()", [], []),
    ("return redis.breakpoint()", [], []),
    ("redis.log(redis.LOG_WARNING, 'hello', 1) return 1", [], []),
    ("redis.log(1)", [], []),
    ("redis.log('x', 'y')", [], []),
    ("redis.setresp(4)", [], []),
    ("redis.set_repl(9)", [], []),
    ("return tostring(1/3)", [], []),
    ("return string.format('%d', 3)", [], []),
    ("return tonumber('0x10')", [], []),
    ("return math.mod(7, 3)", [], []),
    ("return table.getn({1,2})", [], []),
    ("return select('#', unpack({1,2,3}))", [], []),
    ("return #string.rep('x', 100)", [], []),
    ("return type(os)", [], []),
    ("return type(io)", [], []),
    ("return type(print)", [], []),
    ("return type(loadstring)", [], []),
    ("return loadstring('return 7')()", [], []),
    ("return type(getmetatable(''))", [], []),
    ("getmetatable('').__index = {}", [], []),
    ("return _G == _G._G", [], []),
    ("local t = {} setmetatable(t, {__index=function() error('x') end}) return t", [], []),
    ("return bit.tohex(422342)", [], []),
    ("return bit.bor(1, 2, 4)", [], []),
    ("redis.setresp(3) return redis.call('hgetall', KEYS[1]).map.f1", ["hash"], []),
    ("redis.setresp(3) return redis.call('smembers', KEYS[1]).set.m1", ["set"], []),
    ("redis.setresp(3) return redis.call('zscore', KEYS[1], 'z1').double", ["zset"], []),
    ("redis.setresp(3) return redis.call('get', 'missing') == nil", [], []),
    ("redis.setresp(3) return true", [], []),
    ("redis.setresp(3) return false", [], []),
    ("redis.setresp(3) return redis.call('hgetall', KEYS[1])", ["hash"], []),
]


def _run(client: redis.Redis, script: str, keys: list[str], args: list[str]):
    for cmd in SETUP:
        client.execute_command(*cmd)
    return outcome(client, "EVAL", script, len(keys), *keys, *args)


@pytest.mark.parametrize("script,keys,args", CORPUS, ids=[c[0][:40] for c in CORPUS])
def test_same_reply_as_redis_resp2(pair, script, keys, args):
    pair.both(lambda client: _run(client, script, keys, args))


RESP3_CORPUS = [c for c in CORPUS if "setresp" in c[0] or "{" in c[0] or "false" in c[0]
                or "nil" in c[0]]


@pytest.mark.parametrize("script,keys,args", RESP3_CORPUS,
                         ids=[c[0][:40] for c in RESP3_CORPUS])
def test_same_reply_as_redis_resp3(pair3, script, keys, args):
    pair3.both(lambda client: _run(client, script, keys, args))


def test_evalsha_same_as_redis(r, ref):
    for client in (r, ref):
        client.set("k", "v")
    body = "return redis.call('get', KEYS[1])"
    assert r.script_load(body) == ref.script_load(body)
    sha = r.script_load(body)
    assert r.evalsha(sha, 1, "k") == ref.evalsha(sha, 1, "k") == b"v"
    assert r.evalsha(sha.upper(), 1, "k") == ref.evalsha(sha.upper(), 1, "k")
    for client in (r, ref):
        with pytest.raises(redis.ResponseError) as exc:
            client.evalsha("0" * 40, 0)
        assert str(exc.value) == "No matching script. Please use EVAL."


# Error replies compared on the wire (redis-py strips a leading "ERR "), including the
# tail-call cases where LuaJIT drops the script's frame.
RAW_ERRORS = [
    "redis.log(1)", "return redis.setresp(4)", "redis.set_repl(9)", "return redis.sha1hex()",
    "return redis.call()", "return redis.call('set', 'a', {})", "return error('x', 0)",
    "return error('x')", "error('x')", "error('x', 0)", "error('x', 2)", "return error(12)",
    "local x = string.rep()", "return redis.error_reply('x')", "return tostring(nil .. 1)",
    "return pcall(redis.log)", "local ok, e = pcall(redis.setresp, 9) return e",
    "local ok, e = pcall(error, 'x') return e", "local ok, e = pcall(error, {err='E x'}) return e",
    "return {err='-'}", "return {err=''}", "return redis.status_reply('a\\nb')",
    "return redis.call('incr', 'str')", "local r = redis.call('incr', 'str') return r",
]


@pytest.mark.parametrize("script", RAW_ERRORS, ids=[s[:40] for s in RAW_ERRORS])
def test_error_replies_on_the_wire(wire_pair, script):
    wire_pair.same("SET", "str", "x")
    wire_pair.same("EVAL", script, "0")


# --- the same corpus as FUNCTION libraries, through FCALL --------------------------------------
# Each script body becomes the one function of a library. The documented differences between
# EVAL and FCALL are handled here, not hidden:
# - a function has no KEYS / ARGV globals: it receives the keys and arguments as parameters,
#   so the wrapper names them KEYS and ARGV and the bodies run unchanged (the absence of the
#   globals is checked on its own in test_fcall_has_no_keys_argv_globals);
# - an EVAL shebang (``#!lua flags=...``) has no place in a function body: its flags become
#   register_function's ``flags``; a shebang with no flags is dropped; one naming another
#   engine or other options than flags is EVAL-only and left out (FCALL_EXCLUDED);
# - errors raised at FUNCTION LOAD (syntax errors) are compared as the load's reply, since
#   there is no function to call then.
FCALL_EXCLUDED = {"#!python\nreturn 1": "another engine: a FUNCTION LOAD error of its own",
                  "#!lua name=x\nreturn 1": "name= is a library option, not EVAL's"}
FCALL_CORPUS = [c for c in CORPUS if c[0] not in FCALL_EXCLUDED]
# The only bodies whose library must fail to load (on Redis too); any other load error means
# the wrapping broke and the comparison would be of two equal load errors.
FCALL_LOAD_ERRORS = {"#!lua flags=bogus\nreturn 1", "return +"}


def _library(script: str) -> str:
    """The ``corpus`` library whose function ``f`` runs ``script``'s body."""
    flags = ""
    if script.startswith("#!lua"):
        shebang, _, script = script.partition("\n")
        options = shebang.split()[1:]
        names = [opt.removeprefix("flags=") for opt in options if opt.startswith("flags=")]
        if names:
            listed = ", ".join(f"'{name}'" for name in names[0].split(",") if name)
            flags = f", flags={{{listed}}}"
    return ("#!lua name=corpus\n"
            f"redis.register_function{{function_name='f', callback=function(KEYS, ARGV)\n"
            f"{script}\nend{flags}}}\n")


def _run_fcall(client: redis.Redis, script: str, keys: list[str], args: list[str]):
    client.function_flush()
    for cmd in SETUP:
        client.execute_command(*cmd)
    loaded = outcome(client, "FUNCTION", "LOAD", _library(script))
    if loaded[0] == "err":
        return ("load", loaded)
    return outcome(client, "FCALL", "f", len(keys), *keys, *args)


@pytest.mark.parametrize("script,keys,args", FCALL_CORPUS, ids=[c[0][:40] for c in FCALL_CORPUS])
def test_corpus_through_fcall_resp2(pair, script, keys, args):
    try:
        got = pair.both(lambda client: _run_fcall(client, script, keys, args))
        assert (got[0] == "load") == (script in FCALL_LOAD_ERRORS), got
        if script.startswith("#!lua flags=no-writes") and "'set'" in script:
            assert got[0] == "err", got  # the shebang's flag reached register_function
    finally:
        for client in pair:
            client.function_flush()


FCALL_RESP3_CORPUS = [c for c in FCALL_CORPUS if c in RESP3_CORPUS]


@pytest.mark.parametrize("script,keys,args", FCALL_RESP3_CORPUS,
                         ids=[c[0][:40] for c in FCALL_RESP3_CORPUS])
def test_corpus_through_fcall_resp3(pair3, script, keys, args):
    try:
        got = pair3.both(lambda client: _run_fcall(client, script, keys, args))
        assert (got[0] == "load") == (script in FCALL_LOAD_ERRORS), got
    finally:
        for client in pair3:
            client.function_flush()


@pytest.mark.parametrize("body", ["return KEYS", "return ARGV", "return type(KEYS)",
                                  "return {#keys, #args}"])
def test_fcall_has_no_keys_argv_globals(pair, body):
    """FCALL passes keys and args as parameters only; reading the EVAL globals is an error in
    Redis 7 (the sandbox refuses unknown globals), and must be the same error here."""
    library = ("#!lua name=noglobals\n"
               "redis.register_function('g', function(keys, args)\n" + body + "\nend)\n")
    try:
        for client in pair:
            client.function_flush()
        pair.same("FUNCTION", "LOAD", library)
        got = pair.same("FCALL", "g", 2, "k1", "k2", "a1")
        if "KEYS" in body or "ARGV" in body:
            assert got[0] == "err" and "nonexistent global variable" in got[1], got
        else:
            assert got == ("ok", [2, 1])
    finally:
        for client in pair:
            client.function_flush()


# --- commands a script runs are counted as the network's are ---------------------------------
_SCRIPT_STATS = ("eval", "evalsha", "eval_ro", "fcall", "set", "get", "incr", "hset", "hmget",
                 "pexpire", "time", "lpush", "xadd", "function|load", "multi")


def test_commands_run_by_scripts_count_in_commandstats(wire_pair):
    """INFO commandstats after scripts: a command ``redis.call`` runs counts one call (the
    bridge's fast path and its slow path alike), an error inside the command one failed call,
    a write refused in a read-only run or a wrong number of arguments one rejected call, on
    ledis as on Redis (both through EVAL, EVALSHA, EVAL_RO and FCALL)."""
    bucket = ("local t = redis.call('TIME') "
              "redis.call('HMGET', KEYS[1], 'tokens', 'ts') "
              "redis.call('HSET', KEYS[1], 'tokens', '9', 'ts', t[1]) "
              "return redis.call('PEXPIRE', KEYS[1], 5000)")
    library = ("#!lua name=statlib\n"
               "redis.register_function('bump', function(keys) "
               "return redis.call('INCR', keys[1]) end)")
    for client in wire_pair:
        client.call("FUNCTION", "FLUSH")
        client.call("CONFIG", "RESETSTAT")
    sha = wire_pair.same("SCRIPT", "LOAD", bucket).split(b"\r\n")[1]
    for i in range(3):
        wire_pair.same("EVALSHA", sha, "1", f"bucket:{i}")
        wire_pair.same("EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", f"k{i}", i)
    wire_pair.same("EVAL", bucket, "1", "bucket:0")
    wire_pair.same("SET", "str", "x")
    wire_pair.same("EVAL", "return redis.pcall('INCR', KEYS[1])", "1", "str")  # failed
    wire_pair.same("EVAL", "return redis.call('INCR', KEYS[1])", "1", "str")  # failed, raised
    wire_pair.same("EVAL", "return redis.pcall('GET')", "0")  # arity: rejected
    wire_pair.same("EVAL", "return redis.pcall('GET', 'a', 'b')", "0")
    wire_pair.same("EVAL_RO", "return redis.pcall('SET', KEYS[1], 'v')", "1", "k")  # rejected
    wire_pair.same("EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "k0")
    wire_pair.same("EVAL", "return redis.pcall('LPUSH', KEYS[1], 'x')", "1", "str")  # failed
    wire_pair.same("EVAL", "return redis.pcall('XADD', KEYS[1], 'bad-id', 'f', 'v')", "1", "s")
    wire_pair.same("EVAL", "return redis.pcall('MULTI')", "0")  # not from scripts: rejected
    wire_pair.same("EVAL", "return redis.pcall('NOSUCH')", "0")  # unknown: no command counts
    wire_pair.same("FUNCTION", "LOAD", library)
    wire_pair.same("FCALL", "bump", "1", "counter")
    wire_pair.same("FCALL", "bump", "1", "str")
    # the caller's ACL permissions refuse it: rejected
    wire_pair.same("ACL", "SETUSER", "statuser", "on", ">pw", "~*", "+@all", "-incr")
    try:
        wire_pair.same("AUTH", "statuser", "pw")
        wire_pair.same("EVAL", "return redis.pcall('INCR', KEYS[1])", "1", "counter")
        wire_pair.same("FCALL", "bump", "1", "counter")
    finally:
        for client in wire_pair:
            client.call("AUTH", "default", "any")
            client.call("ACL", "DELUSER", "statuser")
    ours, ref = (client.commandstats(_SCRIPT_STATS) for client in wire_pair)
    assert ours == ref
    assert ours["hset"] == (4, 0, 0) and ours["time"] == (4, 0, 0)
    assert ours["incr"] == (4, 2, 3)
    assert ours["get"][1] == 2 and ours["set"][1] == 1 and ours["multi"] == (0, 1, 0)
