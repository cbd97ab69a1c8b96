"""FUNCTION / FCALL: library loading, the load-time environment, errors, LIST/STATS/DUMP/
RESTORE, persistence. Where redis-server is installed, the same cases run on it and replies
are compared exactly (error texts included)."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from ledis.resources import STDLIB_DIR
from tests.test_scripting_diff import CORPUS, RESP3_CORPUS, SETUP


@pytest.fixture
def fr(r):
    r.function_flush()
    yield r
    r.function_flush()


@pytest.fixture
def fref(ref):
    ref.function_flush()
    yield ref
    ref.function_flush()


def outcome(fn, *args):
    try:
        return ("ok", _plain(fn(*args)))
    except redis.ResponseError as exc:
        return ("err", str(exc))


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Exception):
        return ("error", str(value))
    return value


def load(client, code, replace=False):
    return outcome(client.function_load, code, replace)


# --- load-time behaviour, compared with redis-server ------------------------------------------
LOAD_CASES = [
    "redis.register_function('f', function() return 1 end)",
    "redis.register_function(true, function() return 1 end)",
    "redis.register_function('f', 3)",
    "redis.register_function('f', function() return 1 end, 3)",
    "redis.register_function{function_name='f', callback=function() return 1 end, flags={'bogus'}}",
    "redis.register_function{function_name='f', callback=function() return 1 end, foo=1}",
    "redis.register_function{function_name='f', callback=function() return 1 end, flags='x'}",
    "redis.register_function{function_name='f', callback=function() return 1 end, description=3}",
    "redis.register_function{function_name=3, callback=function() return 1 end}",
    "redis.register_function{callback=function() return 1 end}",
    "redis.register_function{function_name='f'}",
    "redis.register_function{function_name='f', callback=2}",
    "redis.register_function{function_name={}, callback=function() end}",
    "redis.register_function{function_name='f', callback=function() end, description={}}",
    "redis.register_function{[1]='f'}",
    "redis.register_function{[{}]='f'}",
    "redis.register_function('x')",
    "redis.register_function()",
    "redis.register_function('f-x', function() return 1 end)",
    "redis.register_function('', function() return 1 end)",
    "redis.register_function('f', function() return 1 end)\n"
    "redis.register_function('f', function() return 1 end)",
    "redis.register_function('f', function() return 1 end)\n"
    "redis.register_function('F', function() return 1 end)",
    "local x = 1",
    "redis.call('ping')",
    "redis.pcall('ping')",
    "error('boom')",
    "error({err='boom'})",
    "x = 1",
    "return string.len('a')",
    "return math.floor(1)",
    "redis.setresp(3)",
    "redis.log(redis.LOG_WARNING, 'hi') redis.register_function('f', function() return 1 end)"
    " return redis.REDIS_VERSION",
    "redis.register_function{function_name='f', callback=function() return 1 end,"
    " flags={'no-writes', 'ALLOW-OOM', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'},"
    " description='d'}",
    "local f = function() return 1 end redis.register_function('a', f)"
    " redis.register_function('b', f)",
    "redis.register_function('f', function() return 1 end) +",
    "redis.register_function{function_name='f', callback=function() end,"
    " flags={'allow-cross-slot-keys', 'no-cluster', 'no-writes', 'no-writes'}}",
]

HEADER_CASES = [
    "x", "#!lua", "#!bogus name=a\n", "#!lua foo=bar\n", "#!lua name=a name=b\n", "#!lua\n",
    "#!lua name=a-b\n", "#!lua name=zz\nx x x", "#!LUA NAME=caps\n"
    "redis.register_function('f', function() return 1 end)", "#! name=a\n", "#!lua name=\n",
    "#!lua  name=sp  \nredis.register_function('f', function() return 1 end)",
]


@pytest.mark.parametrize("body", LOAD_CASES, ids=[c[:50] for c in LOAD_CASES])
def test_function_load_same_as_redis(fr, fref, body):
    code = "#!lua name=lib\n" + body
    assert load(fr, code) == load(fref, code)
    assert _sorted_list(_plain(fr.function_list())) == _sorted_list(_plain(fref.function_list()))


@pytest.mark.parametrize("code", HEADER_CASES)
def test_function_load_header_same_as_redis(fr, fref, code):
    assert load(fr, code) == load(fref, code)


def test_function_load_options_same_as_redis(fr, fref):
    code = "#!lua name=o\nredis.register_function('f', function() return 1 end)"
    for client in (fr, fref):
        client.function_load(code)
    for args in (["foo", code], ["replace", "replace", code], ["REPLACE", code], ["replace"]):
        assert outcome(fr.execute_command, "FUNCTION", "LOAD", *args) == \
            outcome(fref.execute_command, "FUNCTION", "LOAD", *args)


def test_function_load_timeout(fr):
    start = time.time()
    assert load(fr, "#!lua name=slow\nwhile true do end") == \
        ("err", "Error registering functions: ERR FUNCTION LOAD timeout")
    assert time.time() - start < 3
    assert fr.function_list() == []
    assert fr.ping()


# --- calling, compared with redis-server -----------------------------------------------------
def _fcall_corpus(client, script, keys, args):
    for cmd in SETUP:
        client.execute_command(*cmd)
    code = ("#!lua name=corpus\nredis.register_function('f', function(KEYS, ARGV)\n"
            + script + "\nend)")
    loaded = load(client, code, True)
    if loaded[0] == "err":
        return loaded
    return outcome(client.fcall, "f", len(keys), *keys, *args)


@pytest.mark.parametrize("script,keys,args", CORPUS, ids=[c[0][:40] for c in CORPUS])
def test_fcall_corpus_same_as_redis(fr, fref, script, keys, args):
    """Every script of the EVAL corpus, run as a function body."""
    assert _fcall_corpus(fr, script, keys, args) == _fcall_corpus(fref, script, keys, args)


@pytest.fixture
def fr3(r3):
    r3.function_flush()
    yield r3
    r3.function_flush()


@pytest.fixture
def fref3(redis_server):
    client = redis_server.client(protocol=3)
    client.flushall()
    client.function_flush()
    yield client
    client.function_flush()
    client.close()


@pytest.fixture
def fr2(server):
    client = server.client(protocol=2)
    client.function_flush()
    client.flushall()
    yield client
    client.function_flush()
    client.close()


@pytest.fixture
def fref2(redis_server):
    client = redis_server.client(protocol=2)
    client.flushall()
    client.function_flush()
    yield client
    client.function_flush()
    client.close()


@pytest.mark.parametrize("script,keys,args", CORPUS, ids=[c[0][:40] for c in CORPUS])
def test_fcall_corpus_same_as_redis_resp2(fr2, fref2, script, keys, args):
    assert _fcall_corpus(fr2, script, keys, args) == _fcall_corpus(fref2, script, keys, args)


@pytest.mark.parametrize("script,keys,args", RESP3_CORPUS,
                         ids=[c[0][:40] for c in RESP3_CORPUS])
def test_fcall_corpus_same_as_redis_resp3(fr3, fref3, script, keys, args):
    assert _fcall_corpus(fr3, script, keys, args) == _fcall_corpus(fref3, script, keys, args)


CALL_LIB = """#!lua name=lib1
redis.register_function{function_name='f', callback=function(k, a)
  return redis.call('set', k[1], a[1]) end, flags={'no-writes'}, description='hello'}
redis.register_function('g', function(k, a) return redis.call('set', k[1], a[1]) end)
redis.register_function('h', function(k, a) error('oops') end)
redis.register_function('i', function(k, a) local x = redis.call('set', k[1], a[1]) return x end)
redis.register_function('j', function(k, a) return {KEYS ~= nil} end)
redis.register_function{function_name='ro', callback=function(k, a)
  return redis.call('get', k[1]) end, flags={'no-writes', 'allow-stale'}}
redis.register_function('t', function(k, a) return {type(redis.breakpoint), type(redis.setresp),
  type(redis.replicate_commands), type(redis.set_repl), type(redis.register_function),
  type(redis.call), type(redis.debug), type(cjson), type(string.format)} end)
redis.register_function('e', function(k, a) return redis.error_reply('MY bad') end)
redis.register_function('s', function(k, a) return redis.status_reply('FINE') end)
redis.register_function('n', function(k, a) return {#k, #a, k[1], a[1], a[2]} end)
redis.register_function('w', function(k, a) x = 1 end)
redis.register_function('rr', function(k, a) return redis.register_function('z', function() end) end)
redis.register_function('pc', function(k, a) return redis.pcall('incr', k[1]) end)
redis.register_function('RESP3', function(k, a) redis.setresp(3) return redis.call('hgetall', k[1]) end)
"""  # noqa: E501  (one function a line: error texts carry line numbers)

CALLS = [
    ("fcall", "f", 1, "k", "v"), ("fcall", "h", 0), ("fcall", "i", 1, "k", "v"),
    ("fcall_ro", "g", 1, "k", "v"), ("fcall_ro", "i", 1, "k", "v"), ("fcall", "F", 1, "k", "v"),
    ("fcall", "nope", 0), ("fcall", "g", "x"), ("fcall", "g", -1), ("fcall", "g", 3, "a"),
    ("fcall", "j", 0), ("fcall", "t", 0), ("fcall_ro", "ro", 1, "k"), ("fcall", "e", 0),
    ("fcall", "s", 0), ("fcall", "n", 2, "k1", "k2", "a1", "a2"), ("fcall", "n", 0),
    ("fcall", "w", 0), ("fcall", "rr", 0), ("fcall", "pc", 1, "str"), ("fcall", "PC", 1, "c"),
    ("fcall", "resp3", 1, "hash"), ("fcall", "g", 1, "k"), ("fcall", "G", 1, "k", "v", "x"),
    ("fcall_ro", "RO", 1, "k"), ("fcall", "n", "01", "k", "v"),
    # the function is looked up before numkeys is read
    ("fcall", "nope", -1), ("fcall", "nope", "x"), ("fcall", "nope", 3, "a"),
    ("fcall_ro", "nope", -1),
]


@pytest.mark.parametrize("call", CALLS, ids=[" ".join(map(str, c)) for c in CALLS])
def test_fcall_same_as_redis(fr, fref, call):
    for client in (fr, fref):
        client.function_load(CALL_LIB)
        client.set("str", "text")
        client.hset("hash", "f", "v")
    assert outcome(fr.execute_command, *call) == outcome(fref.execute_command, *call)


def test_function_admin_errors_same_as_redis(fr, fref):
    cases = [
        ("FUNCTION", "LIST", "LIBRARYNAME"), ("FUNCTION", "LIST", "foo"),
        ("FUNCTION", "LIST", "WITHCODE", "withcode"), ("FUNCTION", "DELETE", "nope"),
        ("FUNCTION", "FLUSH", "bad"), ("FUNCTION", "FLUSH", "a", "b"),
        ("FUNCTION", "RESTORE", "bad"), ("FUNCTION", "RESTORE", "bad", "bogus"),
        ("FUNCTION", "RESTORE", "bad", "append", "x"), ("FUNCTION", "KILL"),
        ("FUNCTION", "HELP"), ("FUNCTION", "STATS"), ("FUNCTION", "BOGUS"), ("FUNCTION",),
        ("FUNCTION", "DUMP", "x"), ("FCALL", "f"),
    ]
    for case in cases:
        assert outcome(fr.execute_command, *case) == outcome(fref.execute_command, *case), case


def test_function_list_and_stats_same_as_redis(fr, fref):
    lib2 = "#!lua name=other\nredis.register_function('o1', function() return 1 end)"
    for client in (fr, fref):
        client.function_load(CALL_LIB)
        client.function_load(lib2)
    for args in ([], ["WITHCODE"], ["LIBRARYNAME", "lib*"], ["libraryname", "OTH*", "withcode"],
                 ["LIBRARYNAME", "none*"]):
        ours = _plain(fr.execute_command("FUNCTION", "LIST", *args))
        theirs = _plain(fref.execute_command("FUNCTION", "LIST", *args))
        assert _sorted_list(ours) == _sorted_list(theirs), args
    assert _plain(fr.function_stats()) == _plain(fref.function_stats())


def _sorted_list(libs):
    """FUNCTION LIST with libraries and functions in name order (Redis uses dict order)."""
    out = []
    for lib in libs:
        lib = dict(lib) if isinstance(lib, dict) else dict(zip(lib[::2], lib[1::2], strict=True))
        funcs = []
        for f in lib[b"functions"]:
            f = dict(f) if isinstance(f, dict) else dict(zip(f[::2], f[1::2], strict=True))
            f[b"flags"] = sorted(f[b"flags"])
            funcs.append(f)
        lib[b"functions"] = sorted(funcs, key=lambda f: f[b"name"])
        out.append(lib)
    return sorted(out, key=lambda lib: lib[b"library_name"])


# --- ledis behaviour ---------------------------------------------------------------------------
LIB_A = "#!lua name=liba\nredis.register_function('fa', function(k, a) return 'A1' end)"
LIB_A2 = "#!lua name=liba\nredis.register_function('fa', function(k, a) return 'A2' end)"


def test_replace_swaps_and_keeps_old_on_error(fr):
    assert fr.function_load(LIB_A) == b"liba"
    assert load(fr, LIB_A2) == ("err", "Library 'liba' already exists")
    assert fr.fcall("fa", 0) == b"A1"
    assert fr.function_load(LIB_A2, replace=True) == b"liba"
    assert fr.fcall("fa", 0) == b"A2"
    bad = "#!lua name=liba\nredis.register_function('fa', function() return 'A3' end) error('x')"
    assert load(fr, bad, True)[0] == "err"
    assert fr.fcall("fa", 0) == b"A2"
    # a function name owned by another library: the replace fails whole
    fr.function_load("#!lua name=libb\nredis.register_function('fb', function() return 'B' end)")
    clash = ("#!lua name=liba\nredis.register_function('fa', function() return 'A4' end)\n"
             "redis.register_function('FB', function() return 'A4' end)")
    assert load(fr, clash, True) == ("err", "Function FB already exists")
    assert fr.fcall("fa", 0) == b"A2"
    assert fr.fcall("fb", 0) == b"B"
    # replacing drops the functions the new version no longer registers
    fr.function_load("#!lua name=liba\nredis.register_function('fz', function() return 'Z' end)",
                     replace=True)
    assert outcome(fr.fcall, "fa", 0) == ("err", "Function not found")
    assert fr.fcall("fz", 0) == b"Z"


def test_delete_and_flush(fr):
    fr.function_load(LIB_A)
    assert fr.function_delete("liba") is True  # redis-py maps the +OK reply to True
    assert fr.function_list() == []
    assert outcome(fr.fcall, "fa", 0) == ("err", "Function not found")
    fr.function_load(LIB_A)
    assert fr.function_flush("ASYNC")
    assert fr.function_list() == []
    fr.function_load(LIB_A)
    assert fr.fcall("fa", 0) == b"A1"


def test_dump_restore_round_trip(fr):
    fr.function_load(LIB_A)
    fr.function_load(CALL_LIB)
    payload = fr.function_dump()
    listing = _sorted_list(_plain(fr.function_list(withcode=True)))
    fr.function_flush()
    assert fr.function_restore(payload)
    assert _sorted_list(_plain(fr.function_list(withcode=True))) == listing
    assert fr.fcall("fa", 0) == b"A1"
    # APPEND (default) refuses an existing library, REPLACE replaces, FLUSH drops the rest
    assert outcome(fr.function_restore, payload) == ("err", "Library liba already exists")
    fr.function_load(LIB_A2, replace=True)
    assert fr.function_restore(payload, "REPLACE")
    assert fr.fcall("fa", 0) == b"A1"
    fr.function_load("#!lua name=extra\nredis.register_function('x', function() return 1 end)")
    assert fr.function_restore(payload, "FLUSH")
    assert sorted(lib[b"library_name"] for lib in _sorted_list(_plain(fr.function_list()))) == \
        [b"lib1", b"liba"]
    # a damaged payload is refused and changes nothing
    for broken in (payload[:-1] + bytes([payload[-1] ^ 1]), payload[:10], b"", b"x" * 40):
        assert outcome(fr.function_restore, broken, "FLUSH") == \
            ("err", "DUMP payload version or checksum are wrong")
    assert fr.fcall("fa", 0) == b"A1"


def test_restore_function_clash_changes_nothing(fr):
    fr.function_load(LIB_A)
    payload = fr.function_dump()
    fr.function_flush()
    fr.function_load("#!lua name=other\nredis.register_function('fa', function() return 'O' end)")
    assert outcome(fr.function_restore, payload) == ("err", "Function fa already exists")
    assert fr.fcall("fa", 0) == b"O"


def test_flushall_keeps_libraries(fr):
    fr.function_load(LIB_A)
    fr.set("k", "v")
    fr.flushall()
    fr.flushdb()
    assert fr.get("k") is None
    assert fr.fcall("fa", 0) == b"A1"


def test_fcall_ro_refuses_writes(fr):
    fr.function_load(CALL_LIB)
    assert outcome(fr.fcall_ro, "g", 1, "k", "v") == \
        ("err", "Can not execute a script with write flag using *_ro command.")
    err = outcome(fr.fcall, "f", 1, "k", "v")
    assert err == ("err", "Write commands are not allowed from read-only scripts. "
                   "script: f, on @user_function:3.")
    assert fr.exists("k") == 0
    fr.set("k", "v")
    assert fr.fcall_ro("ro", 1, "k") == b"v"


def test_functions_share_the_callers_db_and_write(fr):
    fr.function_load(CALL_LIB)
    fr.select(3) if hasattr(fr, "select") else fr.execute_command("SELECT", 3)
    fr.fcall("g", 1, "k3", "v3")
    assert fr.get("k3") == b"v3"
    fr.execute_command("SELECT", 0)
    assert fr.get("k3") is None


def test_ledis_table_in_functions(fr):
    fr.function_load("#!lua name=prims\n"
                     "redis.register_function('p', function(k, a)\n"
                     "  ledis.hset(k[1], 'f', a[1])\n"
                     "  return {ledis.hget(k[1], 'f'), ledis.hlen(k[1])} end)")
    assert fr.fcall("p", 1, "h", "val") == [b"val", 1]


def test_persisted_across_restart(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.function_load(LIB_A)
    c.function_load(CALL_LIB)
    c.function_delete("lib1")
    c.function_load(LIB_A2, replace=True)
    c.close()
    srv.restart()
    c = srv.client()
    assert [lib[b"library_name"] for lib in _sorted_list(_plain(c.function_list()))] == [b"liba"]
    assert c.fcall("fa", 0) == b"A2"
    c.function_flush()
    c.close()
    srv.restart()
    c = srv.client()
    assert c.function_list() == []
    c.close()


def test_function_kill_and_busy(fresh_server):
    srv = fresh_server("--lua-time-limit", "100")
    c = srv.client()
    c.function_load("#!lua name=spin\n"
                    "redis.register_function{function_name='spin', callback=function()"
                    " while true do end end, flags={'no-writes'}}\n"
                    "redis.register_function('spinw', function(k)"
                    " redis.call('set', k[1], 'x') while true do end end)")
    result = {}

    def run():
        cl = srv.client()
        result["r"] = outcome(cl.fcall, "spin", 0)
        cl.close()

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.4)
    other = srv.client()
    assert outcome(other.ping) == ("err", "BUSY Redis is busy running a script. You can only "
                                          "call FUNCTION KILL or SHUTDOWN NOSAVE.")
    assert outcome(other.script_kill)[0] == "err"
    stats = _plain(other.function_stats())
    stats = stats if isinstance(stats, dict) else dict(zip(stats[::2], stats[1::2], strict=True))
    running = stats[b"running_script"]
    running = (running if isinstance(running, dict)
               else dict(zip(running[::2], running[1::2], strict=True)))
    assert running[b"name"] == b"spin" and running[b"command"] == [b"FCALL", b"spin", b"0"]
    assert running[b"duration_ms"] >= 100
    assert other.function_kill() in (True, b"OK")
    t.join(10)
    assert result["r"][0] == "err"
    assert result["r"][1].startswith("Script killed by user with SCRIPT KILL...")
    assert other.ping()
    assert outcome(other.function_kill) == ("err", "NOTBUSY No scripts in execution right now.")
    other.close()
    c.close()


def test_autoload_from_config(fresh_server, tmp_path):
    config = tmp_path / "ledis.yaml"
    config.write_text("functions:\n  autoload: [lock, ratelimit]\n")
    srv = fresh_server(config=str(config))
    c = srv.client()
    names = sorted(lib[b"library_name"] for lib in _sorted_list(_plain(c.function_list())))
    assert names == [b"lock", b"ratelimit"]
    assert c.fcall("lock_acquire", 1, "L", "me", 1000) == 1
    c.close()
    srv.stop()
    srv.extra = ["--functions-autoload", "queue"]
    srv.config = None
    srv.start()
    c = srv.client()
    names = sorted(lib[b"library_name"] for lib in _sorted_list(_plain(c.function_list())))
    assert names == [b"lock", b"queue", b"ratelimit"]  # stored ones kept, queue added
    c.close()


def test_ledis_pcall_table_in_eval(fr):
    fr.set("s", "x")
    assert fr.eval("local r = ledis.pcall.hset(KEYS[1], 'f', 'v') return r.err", 1, "s") == \
        b"WRONGTYPE Operation against a key holding the wrong kind of value"
    assert fr.eval("return {type(ledis.nosuch), type(ledis.pcall.nosuch), ledis.get('s')}", 0) \
        == [b"nil", b"nil", b"x"]
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        fr.eval("return ledis.hset(KEYS[1], 'f', 'v')", 1, "s")


def test_function_out_of_memory_is_an_error_and_vm_survives(fresh_server):
    srv = fresh_server("--lua-max-memory", "16")
    c = srv.client()
    c.function_load("#!lua name=mem\n"
                    "redis.register_function('hog', function() local t = {} "
                    "for i = 1, 1e8 do t[i] = string.rep('x', 100) .. i end return #t end)\n"
                    "redis.register_function('ok', function() return 'fine' end)")
    with pytest.raises(redis.ResponseError, match="memory"):
        c.fcall("hog", 0)
    assert c.fcall("ok", 0) == b"fine"
    c.close()


def _eventually(check, timeout=10.0):
    deadline = time.time() + timeout
    while True:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        if time.time() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.1)


def test_libraries_replicate(fresh_server):
    master = fresh_server()
    replica = fresh_server("--replicaof", f"127.0.0.1 {master.port}")
    m, rep = master.client(), replica.client()

    def libs():
        return {lib[b"library_name"]: lib.get(b"library_code")
                for lib in _sorted_list(_plain(rep.function_list(withcode=True)))}

    m.function_load(LIB_A)
    m.function_load(CALL_LIB)
    _eventually(lambda: libs() == {b"liba": LIB_A.encode(), b"lib1": CALL_LIB.encode()})
    m.set("k", "v")
    _eventually(lambda: rep.fcall_ro("ro", 1, "k") == b"v")
    # as redis-server 7.0: FCALL of a function without no-writes is a write for READONLY
    # (tests/test_replica_gates_diff.py compares the cases)
    assert outcome(rep.fcall, "g", 1, "k", "v") == \
        ("err", "You can't write against a read only replica.")
    m.function_load(LIB_A2, replace=True)
    m.function_delete("lib1")
    _eventually(lambda: libs() == {b"liba": LIB_A2.encode()})
    m.function_flush()
    _eventually(lambda: libs() == {})
    m.close()
    rep.close()


def test_info_memory_counts_functions(fr):
    fr.function_load(LIB_A)
    fr.function_load(CALL_LIB)
    info = fr.info("memory")
    assert info["number_of_libraries"] == 2
    assert info["number_of_functions"] == 1 + 14
    assert info["used_memory_vm_functions"] > 0


def test_dump_payloads_interchange_with_redis(fr, fref):
    """FUNCTION DUMP uses Redis 7.0's payload: each side restores the other's dump."""
    libs = [LIB_A, CALL_LIB] + [(STDLIB_DIR / f"{n}.lua").read_text() for n in ("lock", "queue")]
    for code in libs:
        fref.function_load(code)
    from_redis = fref.function_dump()  # LZF-compressed strings inside
    assert fr.function_restore(from_redis)
    assert _sorted_list(_plain(fr.function_list(withcode=True))) == \
        _sorted_list(_plain(fref.function_list(withcode=True)))
    ours = fr.function_dump()
    fref.function_flush()
    assert fref.function_restore(ours)
    assert _sorted_list(_plain(fr.function_list(withcode=True))) == \
        _sorted_list(_plain(fref.function_list(withcode=True)))
    assert fr.fcall("fa", 0) == fref.fcall("fa", 0) == b"A1"


def test_restore_errors_same_as_redis(fr, fref):
    from ledis.rdb import crc64

    def sealed(body: bytes) -> bytes:
        body += (10).to_bytes(2, "little")
        return body + crc64(body).to_bytes(8, "little")

    code = LIB_A.encode()
    payloads = [
        sealed(b"\x00" + bytes((len(code),)) + code),  # not a function opcode
        sealed(b""),  # nothing to restore
        sealed(b"\xf5" + bytes((len(code) + 5,)) + code),  # truncated string
        sealed(b"\xf5\x05#!lua"),  # not a valid library
        sealed(b"\xf5" + bytes((len(code),)) + code)[:-1] + b"\x00",  # bad checksum
        b"\xf5" + bytes((len(code),)) + code + (11).to_bytes(2, "little") + b"\0" * 8,
        sealed(b"\xf5\x10#!lua name=x\nfoo"),  # does not compile
        sealed(b"\xf5\x05#!lua\xf5"),
        sealed(b"\xf5\xc3\x05\x10abc"),  # broken LZF string
    ]
    for payload in payloads:
        for policy in ("APPEND", "FLUSH"):
            assert outcome(fr.function_restore, payload, policy) == \
                outcome(fref.function_restore, payload, policy), payload[:20]
        assert _sorted_list(_plain(fr.function_list())) == \
            _sorted_list(_plain(fref.function_list()))
