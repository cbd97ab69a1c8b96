"""EVAL / EVALSHA / EVAL_RO / EVALSHA_RO / SCRIPT: commands, cache, persistence, flags,
the redis.* API and the conversions that the differential corpus cannot show (binary data,
large replies, RESP3 client quirks), plus redis-cli --eval with tests/scripts/*.lua."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import pytest
import redis

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def sha(body: str | bytes) -> str:
    if isinstance(body, str):
        body = body.encode()
    return hashlib.sha1(body).hexdigest()


# --- EVAL / EVALSHA ----------------------------------------------------------------------------
def test_eval_keys_and_args(r):
    assert r.eval("return {KEYS[1], KEYS[2], ARGV[1]}", 2, "a", "b", "c") == [b"a", b"b", b"c"]


def test_eval_caches_script(r):
    body = "return 'cached'"
    r.script_flush()
    assert r.script_exists(sha(body)) == [False]
    assert r.eval(body, 0) == b"cached"
    assert r.script_exists(sha(body)) == [True]
    assert r.evalsha(sha(body), 0) == b"cached"


def test_evalsha_case_insensitive(r):
    digest = r.script_load("return 42")
    assert digest == sha("return 42")
    assert r.evalsha(digest.upper(), 0) == 42
    assert r.script_exists(digest.upper()) == [True]


def test_evalsha_bad_length_is_noscript_before_numkeys(r):
    with pytest.raises(redis.ResponseError, match="^No matching script. Please use EVAL.$"):
        r.execute_command("EVALSHA", "abc", "notanumber")
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha("f" * 40, 0)


@pytest.mark.parametrize("numkeys,message", [
    ("x", "value is not an integer or out of range"),
    ("3", "Number of keys can't be greater than number of args"),
    ("-1", "Number of keys can't be negative"),
])
def test_numkeys_errors(r, numkeys, message):
    with pytest.raises(redis.ResponseError) as exc:
        r.execute_command("EVAL", "return 1", numkeys, "a")
    assert str(exc.value) == message


def test_arity(r):
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'eval' command"):
        r.execute_command("EVAL", "return 1")
    with pytest.raises(redis.ResponseError,
                       match="wrong number of arguments for 'script\\|exists' command"):
        r.execute_command("SCRIPT", "EXISTS")


def test_script_load_compile_error(r):
    with pytest.raises(redis.ResponseError) as exc:
        r.script_load("return +")
    assert str(exc.value) == (
        "Error compiling script (new function): user_script:1: unexpected symbol near '+'")


def test_script_flush_forgets_scripts_and_resets_vm(r):
    digest = r.script_load("return 1")
    # run them first: EVAL remembers bodies and shas as sent, and FLUSH must forget those too
    assert r.evalsha(digest, 0) == 1 and r.evalsha(digest.upper(), 0) == 1
    assert r.eval("return 2", 0) == 2
    r.script_flush()
    assert r.script_exists(digest) == [False]
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(digest, 0)
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(digest.upper(), 0)
    assert r.eval("return 2", 0) == 2  # compiled again in the new VM
    assert r.execute_command("SCRIPT", "FLUSH", "ASYNC") == b"OK"
    assert r.execute_command("SCRIPT", "FLUSH", "sync") == b"OK"
    with pytest.raises(redis.ResponseError, match="SCRIPT FLUSH only support SYNC\\|ASYNC option"):
        r.execute_command("SCRIPT", "FLUSH", "bogus")


def test_script_unknown_subcommand(r):
    with pytest.raises(redis.ResponseError, match="unknown subcommand 'BOGUS'. Try SCRIPT HELP."):
        r.execute_command("SCRIPT", "BOGUS")


def test_script_help(r):
    lines = r.execute_command("SCRIPT", "HELP")
    assert lines[0].startswith(b"SCRIPT <subcommand>")


# --- read-only scripts and flags ------------------------------------------------------------------
def test_eval_ro_rejects_writes(r):
    r.set("k", "v")
    assert r.eval_ro("return redis.call('get', KEYS[1])", 1, "k") == b"v"
    with pytest.raises(redis.ResponseError) as exc:
        r.eval_ro("return redis.call('set', KEYS[1], 'x')", 1, "k")
    assert str(exc.value).startswith(
        "Write commands are not allowed from read-only scripts. script:")
    assert r.get("k") == b"v"
    digest = r.script_load("return redis.call('del', KEYS[1])")
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed"):
        r.evalsha_ro(digest, 1, "k")


def test_eval_ro_with_write_flag_shebang(r):
    with pytest.raises(redis.ResponseError) as exc:
        r.eval_ro("#!lua\nreturn 1", 0)
    assert str(exc.value) == "Can not execute a script with write flag using *_ro command."
    assert r.eval_ro("#!lua flags=no-writes\nreturn 1", 0) == 1


def test_pcall_of_write_in_ro_script(r):
    script = "local e = redis.pcall('set', 'k', 'v') return e['err']"
    assert r.eval_ro(script, 0) == b"ERR Write commands are not allowed from read-only scripts."


def test_may_replicate_commands_in_read_only_runs(r, ref):
    """PUBLISH, SPUBLISH and PFCOUNT may replicate (Redis's CMD_MAY_REPLICATE, not shown by
    COMMAND): a read-only run refuses them like writes, on every call (the bridge's inline
    checks from the second on); a writing run takes them."""
    script = """
      local out = {}
      for i = 1, 2 do
        for _, call in ipairs({{'publish', 'ch', 'x'}, {'spublish', 'ch', 'x'},
                               {'pfcount', KEYS[1]}, {'pfadd', KEYS[1], 'a'}}) do
          local ok = redis.pcall(unpack(call))
          out[#out + 1] = type(ok) == 'table' and ok['err'] or ok
        end
      end
      return out"""
    for client in (r, ref):
        client.delete("{h}hll")
    for run in (lambda c: c.eval_ro(script, 1, "{h}hll"),
                lambda c: c.eval("#!lua flags=no-writes\n" + script, 1, "{h}hll"),
                lambda c: c.eval(script, 1, "{h}hll")):
        assert run(r) == run(ref)
    assert r.execute_command("COMMAND", "INFO", "pfcount") == \
        ref.execute_command("COMMAND", "INFO", "pfcount")


def test_repeated_calls_keep_the_script_checks(r, ref):
    """The bridge remembers commands it has run and checks them inline from the second call
    on (same VM): the errors of read-only runs, bad arity and noscript commands stay Redis's
    on every call, in every letter case."""
    script = """
      local out = {}
      for i = 1, 3 do
        for _, name in ipairs({'set', 'SET', 'Set'}) do
          local e = redis.pcall(name, KEYS[1], 'v')
          out[#out + 1] = type(e) == 'table' and (e['err'] or e['ok']) or e
        end
        out[#out + 1] = redis.pcall('get')['err']
        out[#out + 1] = redis.pcall('get', KEYS[1], 'x')['err']
        out[#out + 1] = redis.pcall('eval', 'return 1', '0')['err']
        out[#out + 1] = redis.pcall('get', KEYS[1])
      end
      return out
    """
    for client in (r, ref):
        client.set("rk", "old")
    assert r.eval_ro(script, 1, "rk") == ref.eval_ro(script, 1, "rk")
    assert r.eval(script, 1, "rk") == ref.eval(script, 1, "rk")
    assert r.get("rk") == b"v"


def test_array_replies_with_nulls_in_resp2_and_resp3(r, ref):
    """Flat arrays come back from the bridge as varargs: a missing field is false in RESP2
    and a nil hole after redis.setresp(3), as in Redis."""
    script = """
      if ARGV[1] == '3' then redis.setresp(3) end
      local t = redis.call('hmget', KEYS[1], 'a', 'missing', 'b')
      local e = redis.call('hmget', KEYS[1], 'missing')
      local n = redis.call('lrange', 'no-such-list', 0, -1)
      return {t[1], type(t[2]), t[3], type(e[1]), #n, type(redis.call('time')[2])}
    """
    for client in (r, ref):
        client.delete("ah")
        client.hset("ah", mapping={"a": "1", "b": "2"})
    for resp in ("2", "3"):
        assert r.eval(script, 1, "ah", resp) == ref.eval(script, 1, "ah", resp)


def test_noscript_commands_rejected(r):
    for cmd in ("'script', 'load', 'return 1'", "'eval', 'return 1', '0'",
                "'evalsha', '%s', '0'" % ("a" * 40)):
        with pytest.raises(redis.ResponseError,
                           match="This Redis command is not allowed from script"):
            r.eval(f"return redis.call({cmd})", 0)


@pytest.mark.parametrize("body,message", [
    ("#!lua", "Invalid script shebang"),
    ("#!lua flags=bogus\n", "Unexpected flag in script shebang: bogus"),
    ("#!lua name=x\n", "Unknown lua shebang option: name=x"),
    ("#!python\n", "Unexpected engine in script shebang: #!python"),
    ("#!lua flags=No-Writes\n", "Unexpected flag in script shebang: No-Writes"),
])
def test_shebang_errors(r, body, message):
    with pytest.raises(redis.ResponseError) as exc:
        r.eval(body, 0)
    assert str(exc.value) == message


def test_shebang_flags_accepted(r):
    assert r.eval("#!lua flags=\nreturn 1", 0) == 1
    assert r.eval("#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\n"
                  "return 2", 0) == 2
    # the shebang is part of the hashed body
    body = "#!lua flags=no-writes\nreturn 3"
    assert r.script_load(body) == sha(body)


# --- execution context ---------------------------------------------------------------------------
def test_select_inside_script_does_not_change_caller(r):
    r.set("k", "db0")
    assert r.eval("redis.call('select', 1) redis.call('set', 'k', 'db1') "
                  "return redis.call('get', 'k')", 0) == b"db1"
    assert r.get("k") == b"db0"
    r.execute_command("SELECT", 1)
    assert r.get("k") == b"db1"
    # the script starts in the caller's db
    assert r.eval("return redis.call('get', 'k')", 0) == b"db1"
    r.execute_command("SELECT", 0)


def test_binary_safe_args_and_replies(r):
    blob = bytes(range(256))
    assert r.eval("return {KEYS[1], ARGV[1], #ARGV[1]}", 1, blob, blob) == [blob, blob, 256]
    assert r.eval("redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])",
                  1, "bin", blob) == blob


def test_many_keys_and_args(r):
    keys = [f"k{i}" for i in range(500)]
    args = [f"a{i}" for i in range(700)]
    assert r.eval("return {#KEYS, #ARGV, KEYS[500], ARGV[700]}", len(keys), *keys, *args) == [
        500, 700, b"k499", b"a699"]


def test_large_reply(r):
    reply = r.eval("local t = {} for i = 1, 10000 do t[i] = i end return t", 0)
    assert reply == list(range(1, 10001))


def test_setresp_reset_per_run(r):
    r.hset("h", "f", "v")
    assert r.eval("redis.setresp(3) return redis.call('hgetall', KEYS[1]).map.f", 1, "h") == b"v"
    assert r.eval("return redis.call('hgetall', KEYS[1])", 1, "h") == [b"f", b"v"]


def test_resp3_client_boolean_quirks(r3):
    assert r3.eval("return false", 0) is None
    assert r3.eval("return true", 0) == 1
    assert r3.eval("redis.setresp(3) return true", 0) is True
    assert r3.eval("redis.setresp(3) return false", 0) is False
    assert r3.eval("return {double=1.5}", 0) == 1.5
    assert r3.eval("return {map={a='b'}}", 0) == {b"a": b"b"}
    assert r3.eval("return {set={x=true}}", 0) in ({b"x"}, [b"x"])


def test_resp2_client_after_setresp3(r):
    assert r.eval("redis.setresp(3) return true", 0) == 1
    assert r.eval("redis.setresp(3) return false", 0) == 0


def test_redis_call_status_and_error_tables(r):
    assert r.eval("return redis.call('set', 'k', 'v').ok", 0) == b"OK"
    assert r.eval("return redis.pcall('incr', 'k').err", 0) == (
        b"ERR value is not an integer or out of range")
    assert r.eval("return redis.pcall('nosuch').err", 0) == (
        b"ERR Unknown Redis command called from script")
    assert r.eval("return redis.pcall('get').err", 0) == (
        b"ERR Wrong number of args calling Redis command from script")


def test_tail_call_error_keeps_line(r):
    r.set("s", "x")
    body = "\n\nreturn redis.call('incr', KEYS[1])"
    with pytest.raises(redis.ResponseError) as exc:
        r.eval(body, 1, "s")
    assert str(exc.value) == (
        f"value is not an integer or out of range script: {sha(body)}, on @user_script:3.")


def test_error_position_in_nested_function(r):
    body = "local function f()\n  error('deep')\nend\nf()"
    with pytest.raises(redis.ResponseError) as exc:
        r.eval(body, 0)
    assert str(exc.value) == f"user_script:2: deep script: {sha(body)}, on @user_script:2."


def test_error_table_without_err_does_not_crash(r):
    with pytest.raises(redis.ResponseError, match="unknown error"):
        r.eval("error({})", 0)
    assert r.ping()


def test_self_referencing_table_reply(r):
    # Redis answers nested *1 frames until an error element; we stop at a fixed depth.
    client = redis.Redis(port=r.connection_pool.connection_kwargs["port"], protocol=2)
    try:
        reply = client.eval("local t = {} t[1] = t return t", 0)
    except (redis.ResponseError, redis.exceptions.DataError, RecursionError, Exception):
        reply = "error"
    assert reply is not None
    assert client.ping()


def test_redis_log_goes_to_server_log(server, r):
    marker = f"scripting-log-marker-{time.time_ns()}"
    r.eval("redis.log(redis.LOG_WARNING, ARGV[1])", 0, marker)
    deadline = time.time() + 5
    while marker not in server.log() and time.time() < deadline:
        time.sleep(0.05)
    assert marker in server.log()


def test_script_sees_writes_of_earlier_commands(r):
    pipe = r.pipeline(transaction=False)
    pipe.set("p", "1")
    pipe.eval("return redis.call('incr', 'p')", 0)
    pipe.eval("return redis.call('get', 'p')", 0)
    assert pipe.execute() == [True, 2, b"2"]


# --- libraries ------------------------------------------------------------------------------------
def test_math_random_matches_redis_after_seed(r, ref):
    script = ("math.randomseed(42)"
              " return {tostring(math.random()), math.random(10), math.random(5, 7)}")
    assert r.eval(script, 0) == ref.eval(script, 0)


def test_cjson_available_and_read_only(r):
    assert r.eval("return cjson.encode({1, 2})", 0) == b"[1,2]"
    with pytest.raises(redis.ResponseError, match="Attempt to modify a readonly table"):
        r.eval("cjson.encode = nil", 0)


# --- persistence ----------------------------------------------------------------------------------
def test_evalsha_after_restart(fresh_server):
    proc = fresh_server()
    client = proc.client()
    loaded = client.script_load("return 'loaded ' .. ARGV[1]")
    evaluated_body = "return 'evaluated'"
    assert client.eval(evaluated_body, 0) == b"evaluated"
    time.sleep(0.2)
    proc.restart()
    client = proc.client()
    assert client.script_exists(loaded, sha(evaluated_body)) == [True, True]
    assert client.evalsha(loaded, 0, "x") == b"loaded x"
    assert client.evalsha(sha(evaluated_body).upper(), 0) == b"evaluated"
    client.script_flush()
    proc.restart()
    client = proc.client()
    assert client.script_exists(loaded) == [False]
    with pytest.raises(redis.exceptions.NoScriptError):
        client.evalsha(loaded, 0, "x")


def test_evalsha_after_kill9(fresh_server):
    proc = fresh_server()
    client = proc.client()
    digest = client.script_load("return 7")
    time.sleep(0.3)
    proc.kill()
    proc.start()
    assert proc.client().evalsha(digest, 0) == 7


# --- redis-cli --eval -----------------------------------------------------------------------------
def _cli(port: int, *args: str) -> str:
    out = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                         timeout=20)
    return out.stdout.strip()


def test_redis_cli_eval_file(server, r):
    port = server.port
    path = str(SCRIPTS / "incr_by.lua")
    assert _cli(port, "--eval", path, "counter", ",", "5") == "5\nstring"
    assert _cli(port, "--eval", path, "counter", ",", "2") == "7\nstring"
    assert r.get("counter") == b"7"


def test_redis_cli_eval_error_line(server, r):
    path = SCRIPTS / "error_line.lua"
    out = _cli(server.port, "--eval", str(path))
    body = path.read_bytes()
    assert out == (f"ERR user_script:4: failed here script: {sha(body)}, "
                   "on @user_script:4.")


def test_redis_cli_eval_matches_redis(server, redis_server, r, ref):
    path = str(SCRIPTS / "binary_echo.lua")
    assert _cli(server.port, "--eval", path, "key1", ",", "arg1") == _cli(
        redis_server.port, "--eval", path, "key1", ",", "arg1")


def test_math_random_state_survives_script_flush(r, ref):
    replies = []
    for client in (r, ref):
        client.eval("math.randomseed(7) return tostring(math.random())", 0)
        client.script_flush()
        replies.append(client.eval("return {tostring(math.random()), math.random(100)}", 0))
    assert replies[0] == replies[1]


def test_ledis_command_functions(r):
    assert r.eval("ledis.set(KEYS[1], 'v') return ledis.get(KEYS[1])", 1, "lk") == b"v"
    assert r.eval("return ledis.nosuchcommand == nil", 0) == 1
    with pytest.raises(redis.ResponseError, match="Attempt to modify a readonly table"):
        r.eval("ledis.get = nil", 0)
    with pytest.raises(redis.ResponseError, match="This Redis command is not allowed from script"):
        r.eval("return ledis.eval('return 1', 0)", 0)


def test_eval_inside_multi(r):
    r.execute_command("MULTI")
    r.execute_command("EVAL", "return redis.call('incr', KEYS[1])", 1, "m")
    r.execute_command("EVAL", "return redis.call('nosuch')", 0)
    replies = r.execute_command("EXEC")
    assert replies[0] == 1
    assert isinstance(replies[1], redis.ResponseError)


def test_flushall_keeps_scripts(r):
    digest = r.script_load("return 'still here'")
    r.flushall()
    assert r.script_exists(digest) == [True]
    assert r.evalsha(digest, 0) == b"still here"


def test_number_arguments_formatting(r, ref):
    script = ("redis.call('set', 'a', 2^60) redis.call('set', 'b', -1.5) "
              "redis.call('set', 'c', 2^63) return {redis.call('get', 'a'), "
              "redis.call('get', 'b'), redis.call('get', 'c')}")
    assert r.eval(script, 0) == ref.eval(script, 0) == [
        b"1.152921504606847e+18", b"-1.5", b"9.2233720368547758e+18"]


@pytest.mark.parametrize("cmd", [
    ["SCRIPT", "HELP"], ["SCRIPT", "DEBUG", "NO"], ["SCRIPT", "DEBUG", "maybe"],
    ["SCRIPT", "KILL"], ["SCRIPT", "LOAD"], ["SCRIPT", "FLUSH", "ASYNC", "SYNC"],
    ["SCRIPT", "EXISTS", "a", "B"], ["EVALSHA", "x" * 39, "0"], ["EVAL_RO", "return 1", "-5"],
])
def test_script_commands_same_as_redis(r, ref, cmd):
    replies = []
    for client in (r, ref):
        try:
            replies.append(client.execute_command(*cmd))
        except redis.ResponseError as exc:
            replies.append(("error", str(exc)))
    assert replies[0] == replies[1]


def test_info_reports_cached_scripts_and_lua_memory(r):
    r.script_flush()
    r.script_load("return 'a'")
    r.script_load("return 'b'")
    info = r.info("memory")
    assert info["number_of_cached_scripts"] == 2
    assert info["used_memory_lua"] > 0
