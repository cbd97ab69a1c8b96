"""The embedded engine (ledis/embedded.py): the same command behaviours as over RESP, the
script API with host functions, threads, persistence, the data-dir lock and serve()."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import hiredis
import pytest
import redis

import ledis
from ledis.embedded import NoScriptError, ResponseError, WrongTypeError
from ledis.errors import LedisError
from tests.helpers import LedisProcess


# --- one behaviour, two ways in ----------------------------------------------------------------
class RespClient:
    """A raw RESP3 client (hiredis parsing, no redis-py reply callbacks), replies normalized
    the way the embedded engine gives them (status text as str, errors raised)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.reader = hiredis.Reader()
        self.execute("HELLO", "3")

    def execute(self, *args):
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        out = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        self.sock.sendall(out)
        while True:
            reply = self.reader.gets()
            if reply is not False:
                break
            self.reader.feed(self.sock.recv(65536))
        if isinstance(reply, hiredis.ReplyError):
            raise ResponseError(str(reply))
        return reply

    def close(self) -> None:
        self.sock.close()


class EmbeddedClient:
    def __init__(self, db) -> None:
        self.db = db

    def execute(self, *args):
        reply = self.db.execute(*args)
        return _status_bytes(reply)

    def close(self) -> None:
        self.db.close()


def _status_bytes(value):
    """hiredis gives status replies as bytes: compare the embedded str the same way."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list):
        return [_status_bytes(v) for v in value]
    return value


@pytest.fixture(params=["server", "embedded"])
def client(request):
    if request.param == "server":
        server = request.getfixturevalue("server")
        redis_client = server.client()
        redis_client.flushall()
        redis_client.close()
        c = RespClient(server.port)
    else:
        c = EmbeddedClient(ledis.open(memory=True))
    yield c
    c.close()


@pytest.fixture
def db():
    engine = ledis.open(memory=True)
    yield engine
    engine.close()


def test_strings_same_behaviour(client):
    x = client.execute
    assert x("SET", "k", "v") == b"OK"
    assert x("GET", "k") == b"v"
    assert x("GET", "missing") is None
    assert x("APPEND", "k", "w") == 2
    assert x("INCR", "n") == 1
    assert x("INCRBYFLOAT", "n", "1.5") == b"2.5"
    assert x("MGET", "k", "missing", "n") == [b"vw", None, b"2.5"]
    assert x("SET", "k", "z", "NX") is None
    assert x("STRLEN", "k") == 2
    with pytest.raises(ResponseError, match="^ERR value is not an integer or out of range$"):
        x("INCR", "k")


def test_hashes_same_behaviour(client):
    x = client.execute
    assert x("HSET", "h", "f1", "v1", "f2", "v2") == 2
    assert x("HGETALL", "h") == {b"f1": b"v1", b"f2": b"v2"}
    assert x("HGET", "h", "f1") == b"v1"
    assert x("HINCRBYFLOAT", "h", "n", "0.5") == b"0.5"
    assert x("HLEN", "h") == 3
    assert sorted(x("HKEYS", "h")) == [b"f1", b"f2", b"n"]
    assert x("HDEL", "h", "f1", "nope") == 1


def test_lists_sets_same_behaviour(client):
    x = client.execute
    assert x("RPUSH", "l", "a", "b", "c") == 3
    assert x("LRANGE", "l", 0, -1) == [b"a", b"b", b"c"]
    assert x("LPOP", "l") == b"a"
    assert x("BLPOP", "empty", "0.01") is None  # no data: the timeout reply
    assert x("SADD", "s", "x", "y", "x") == 2
    assert set(x("SMEMBERS", "s")) == {b"x", b"y"}  # hiredis gives RESP3 sets as lists
    assert x("SISMEMBER", "s", "y") == 1
    assert x("SCARD", "s") == 2


def test_zsets_same_behaviour(client):
    x = client.execute
    assert x("ZADD", "z", "1.5", "a", "2", "b") == 2
    assert x("ZSCORE", "z", "a") == 1.5
    assert x("ZRANGE", "z", 0, -1, "WITHSCORES") == [[b"a", 1.5], [b"b", 2.0]]
    assert x("ZINCRBY", "z", "1", "a") == 2.5
    assert x("ZRANK", "z", "a") == 1


def test_keys_and_errors_same_behaviour(client):
    x = client.execute
    x("SET", "k", "v")
    assert x("EXISTS", "k", "nope") == 1
    assert x("TYPE", "k") == b"string"
    assert x("EXPIRE", "k", 100) == 1
    assert 0 < x("TTL", "k") <= 100
    assert x("DEL", "k") == 1
    x("RPUSH", "l", "a")
    with pytest.raises(ResponseError, match="^WRONGTYPE "):
        x("GET", "l")
    with pytest.raises(ResponseError, match="^ERR wrong number of arguments for 'get' command$"):
        x("GET")
    with pytest.raises(ResponseError, match="^ERR unknown command 'NOPE'"):
        x("NOPE", "a")


def test_scripts_same_behaviour(client):
    x = client.execute
    assert x("EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", 1, "k", "v") == b"OK"
    assert x("EVAL", "return {1, 'two', {3}}", 0) == [1, b"two", [3]]
    sha = x("SCRIPT", "LOAD", "return ARGV[1]")
    assert x("EVALSHA", sha, 0, "hi") == b"hi"
    with pytest.raises(ResponseError, match="^NOSCRIPT "):
        x("EVALSHA", "0" * 40, 0)


# --- the Python API ----------------------------------------------------------------------------
def test_typed_methods_and_docstrings(db):
    assert db.set("k", "v") == "OK"
    assert db.get("k") == b"v"
    assert db.hset("h", "f", 1) == 1
    assert db.hgetall("h") == {b"f": b"1"}
    assert db.delete("k") == 1  # DEL is a Python keyword
    assert db.config_get("maxclients") == {b"maxclients": b"10000"}  # config|get
    assert "Set the string value of a hash field" in db.hset.__doc__
    assert db.zadd("z", 1, "m") == 1 and db.zscore("z", "m") == 1.5 - 0.5
    assert db.ping() == "PONG"
    with pytest.raises(AttributeError):
        db.not_a_command  # noqa: B018


def test_argument_types(db):
    db.set(b"bin\x00\xff", 1.25)
    assert db.get(b"bin\x00\xff") == b"1.25"
    db.set("n", 10)
    assert db.incrby("n", 5) == 15
    with pytest.raises(TypeError):
        db.set("k", object())
    with pytest.raises(TypeError):
        db.set("k", True)


def test_error_classes(db):
    db.rpush("l", "a")
    with pytest.raises(WrongTypeError) as info:
        db.get("l")
    assert info.value.text.startswith("WRONGTYPE")
    assert isinstance(info.value, ledis.ResponseError)
    with pytest.raises(NoScriptError):
        db.evalsha("f" * 40)
    with pytest.raises(ResponseError, match="^ERR syntax error$"):
        db.set("k", "v", "BOGUS")


def test_protocol_2_shapes():
    with ledis.open(memory=True, protocol=2) as db:
        db.hset("h", "f", "v")
        db.zadd("z", 2, "m")
        assert db.hgetall("h") == [b"f", b"v"]
        assert db.zscore("z", "m") == b"2"


def test_select_handles_are_separate(db):
    one = db.select(1)
    one.set("k", "in one")
    assert db.get("k") is None
    assert one.get("k") == b"in one"
    assert one.index == 1 and db.index == 0
    assert db.select(1).get("k") == b"in one"
    with pytest.raises(ResponseError, match="DB index is out of range"):
        db.select(99)
    # SELECT as a command moves that handle only, as on a connection
    assert db.execute("SELECT", 1) == "OK"
    assert db.get("k") == b"in one"


def test_eval_api(db):
    assert db.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", keys=["n"], args=[5]) == 5
    sha = db.script_load("return KEYS[1] .. ARGV[1]")
    assert len(sha) == 40
    assert db.evalsha(sha, ["a"], ["b"]) == b"ab"
    assert db.eval("return 1 + 1") == 2


def test_function_api(db):
    if db.core.commands.get(b"fcall") is None:
        with pytest.raises(NotImplementedError, match="FUNCTION/FCALL"):
            db.function_load(
                "#!lua name=lib\nredis.register_function('f', function() return 1 end)")
        with pytest.raises(NotImplementedError):
            db.fcall("f")
        return
    code = "#!lua name=lib\nredis.register_function('f', function(keys, args) return args[1] end)"
    assert db.function_load(code) == "lib"
    assert db.fcall("f", [], ["x"]) == b"x"
    assert db.function_load(code, replace=True) == "lib"


def test_multi_exec_errors_inside_the_array(db):
    assert db.multi() == "OK"
    assert db.set("a", "1") == "QUEUED"
    assert db.lpush("a", "x") == "QUEUED"
    result = db.exec()
    assert result[0] == "OK"
    assert isinstance(result[1], WrongTypeError)  # returned, not raised: EXEC itself succeeded
    assert db.get("a") == b"1"


def test_refused_commands(db):
    for args in (("SUBSCRIBE", "c"), ("psubscribe", "c*"), ("MONITOR",)):
        with pytest.raises(ResponseError, match="is not supported by the embedded engine$"):
            db.execute(*args)
    with pytest.raises(ResponseError, match=r"\(use close\(\)\)"):
        db.shutdown()
    assert db.ping() == "PONG"


# --- host functions ------------------------------------------------------------------------------
def test_host_function_from_lua(db):
    seen = []

    def shout(text, times):
        seen.append((text, times))
        return text.upper() * int(times)

    db.register_host_function("shout", shout)
    assert db.eval("return ledis.host.shout(ARGV[1], 2)", args=["ab"]) == b"ABAB"
    assert seen == [(b"ab", 2)]  # Lua strings arrive as bytes, numbers as numbers


def test_host_function_from_fcall(db):
    db.register_host_function("up", lambda raw: raw.upper())
    db.function_load("#!lua name=hostlib\n"
                     "redis.register_function('up', function(keys, args) "
                     "return ledis.host.up(args[1]) end)")
    # both Lua VMs (EVAL's and FUNCTION's) reach the same host functions
    assert db.fcall("up", [], ["abc"]) == b"ABC"
    assert db.eval("return ledis.host.up(ARGV[1])", args=["x"]) == b"X"
    assert db.fcall("up", [], ["def"]) == b"DEF"


def test_host_function_reply_types(db):
    db.register_host_function("many", lambda: [1, "two", b"three", None, {"k": "v"}])
    db.register_host_function("flag", lambda: True)
    db.register_host_function("half", lambda: 0.5)
    db.register_host_function("none", lambda: None)
    # None is false in Lua (a nil bulk reply), as redis.call gives a missing value
    assert db.eval("return ledis.host.many()") == [1, b"two", b"three", None, [b"k", b"v"]]
    assert db.eval("local t = ledis.host.many() return t[5]") == [b"k", b"v"]
    assert db.eval("return ledis.host.flag() == true and 1 or 0") == 1
    assert db.eval("return tostring(ledis.host.half())") == b"0.5"
    assert db.eval("return ledis.host.none() == false and 1 or 0") == 1


def test_host_function_errors(db):
    def boom(*_args):
        raise ValueError("nope")

    def typed(*_args):
        raise LedisError("MYERR custom failure")

    db.register_host_function("boom", boom)
    db.register_host_function("typed", typed)
    with pytest.raises(ResponseError, match="^ERR host function 'boom' failed: nope"):
        db.eval("return ledis.host.boom()")
    with pytest.raises(ResponseError, match="^MYERR custom failure"):
        db.eval("return ledis.host.typed()")
    assert db.eval("local ok, e = pcall(ledis.host.boom) return e") == \
        b"ERR host function 'boom' failed: nope"
    assert db.eval("return ledis.host.missing == nil and 1 or 0") == 1
    db.unregister_host_function("boom")
    with pytest.raises(ResponseError, match="unknown host function 'boom'"):
        db.eval("return ledis.host.boom()")
    with pytest.raises(ValueError):
        db.register_host_function("bad name", print)


def test_host_function_sees_script_writes_atomically(db):
    db.register_host_function("double", lambda raw: int(raw) * 2)
    script = ("local v = redis.call('INCR', KEYS[1]) "
              "return redis.call('SET', KEYS[1], ledis.host.double(v))")
    db.set("n", 4)
    assert db.eval(script, ["n"]) == "OK"
    assert db.get("n") == b"10"


def test_host_functions_not_reachable_over_resp(fresh_server):
    server = fresh_server()
    r = server.client()
    with pytest.raises(redis.ResponseError, match="attempt to index|attempt to call"):
        r.eval("return ledis.host.anything()", 0)


# --- threads, persistence, lock ----------------------------------------------------------------
def test_threads_serialize(db):
    def work(i):
        for j in range(300):
            db.incr("counter")
            db.hset("h", f"{i}:{j}", j)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.get("counter") == b"2400"
    assert db.hlen("h") == 2400


def test_batch_commits_every_n_and_at_the_end(db):
    engine = db.core.engine
    before = engine.commits
    db.set("outside", "1")  # a call outside a batch commits before it returns
    assert engine.commits == before + 1
    before = engine.commits
    with db.batch(commit_every=10) as same:
        assert same is db
        for i in range(25):
            db.set(f"k{i}", i)
        assert engine.commits == before + 2  # after the 10th and the 20th call
        assert engine.dirty
        assert db.get("k24") == b"24"  # visible at once (the 26th call)
    assert engine.commits == before + 3 and not engine.dirty
    with pytest.raises(ValueError):
        with db.batch(commit_every=0):
            pass


def test_batch_nests_and_commits_on_exception(db):
    engine = db.core.engine
    before = engine.commits
    with pytest.raises(KeyError):
        with db.batch():
            db.set("a", "1")
            with db.batch(commit_every=1):  # the outer block's interval stays
                db.set("b", "2")
            assert engine.commits == before  # the inner end does not commit
            with pytest.raises(WrongTypeError):
                db.lpush("a", "x")  # an error reply inside: the batch goes on
            raise KeyError("boom")
    assert engine.commits == before + 1 and not engine.dirty
    assert db.mget("a", "b") == [b"1", b"2"]


_BATCH_CHILD = """
import os, sys
import ledis
db = ledis.open(sys.argv[1])
with db.batch(commit_every=1000):
    for i in range(100):
        db.set("done%d" % i, i)
with db.batch(commit_every=1000):
    for i in range(100):
        db.set("open%d" % i, i)
    os._exit(0)  # a crash inside the block: nothing of it was committed yet
"""


def test_batch_durability_across_a_crash(tmp_path):
    """What a finished block wrote is in the WAL (it survives the process dying without
    close()); what a block still open wrote may not be."""
    path = str(tmp_path / "store")
    subprocess.run([sys.executable, "-c", _BATCH_CHILD, path], check=True, timeout=60,
                   cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with ledis.open(path) as db:
        assert db.mget(*[f"done{i}" for i in range(100)]) == [b"%d" % i for i in range(100)]
        assert db.exists(*[f"open{i}" for i in range(100)]) == 0


def test_batch_holds_other_threads(db):
    done = threading.Event()

    def other():
        db.set("from_thread", "1")
        done.set()

    with db.batch():
        db.set("mine", "1")
        thread = threading.Thread(target=other)
        thread.start()
        assert not done.wait(0.3)  # waits for the block to end
        assert db.get("from_thread") is None
    thread.join(10)
    assert done.is_set() and db.get("from_thread") == b"1"


def test_batch_after_serve_and_serve_inside_batch(db):
    with db.batch():
        with pytest.raises(RuntimeError, match="inside batch"):
            db.serve(port=0)
    db.serve(port=0)
    with db.batch(commit_every=5):  # the loop commits every call itself
        db.set("k", "v")
        assert db.get("k") == b"v"
    assert not db.core.engine.dirty


def test_close_reopen_persistence(tmp_path):
    path = str(tmp_path / "store")
    with ledis.open(path) as db:
        db.set("k", "v")
        db.hset("h", "f", "v")
        db.zadd("z", 3, "m")
        db.select(2).rpush("l", "a", "b")
        db.eval("redis.call('SET', 'from_script', '1')")
    assert db.closed
    with pytest.raises(RuntimeError, match="closed"):
        db.get("k")
    with ledis.open(path) as db:
        assert db.get("k") == b"v"
        assert db.hgetall("h") == {b"f": b"v"}
        assert db.zscore("z", "m") == 3.0
        assert db.select(2).lrange("l", 0, -1) == [b"a", b"b"]
        assert db.get("from_script") == b"1"


def test_memory_store_removed_on_close():
    db = ledis.open(memory=True)
    path = db.core.config.dir
    db.set("k", "v")
    assert os.path.isdir(path)
    db.close()
    assert not os.path.exists(path)
    db.close()  # idempotent


def test_memory_backend_option():
    from ledis.config import Config

    if "memory" not in Config.CHOICES.get("backend", ()):
        pytest.skip("no memory backend in this build (issue 8)")
    with ledis.open(memory=True, backend="memory") as db:
        db.hset("h", "f", "v")
        assert db.hgetall("h") == {b"f": b"v"}
        assert db.eval("return redis.call('HGET', KEYS[1], 'f')", ["h"]) == b"v"


def test_open_dir_held_by_server_fails(tmp_path):
    server = LedisProcess(data_dir=str(tmp_path)).start()
    try:
        with pytest.raises(ledis.StoreLockedError, match="in use by another process"):
            ledis.open(os.path.join(str(tmp_path), "db"))
    finally:
        server.cleanup()
    with ledis.open(os.path.join(str(tmp_path), "db")) as db:  # free again once it stopped
        db.set("k", "v")


def test_open_dir_twice_in_process_fails(tmp_path):
    with ledis.open(str(tmp_path)) as db:
        db.set("k", "v")
        with pytest.raises(ledis.StoreLockedError):
            ledis.open(str(tmp_path))


def test_config_options(tmp_path):
    with ledis.open(str(tmp_path), databases=2, appendfsync="always") as db:
        assert db.config_get("databases") == {b"databases": b"2"}
        with pytest.raises(ResponseError):
            db.select(2)


# --- serve() ---------------------------------------------------------------------------------
def test_serve_with_redis_cli(db):
    db.set("before", "1")
    port = db.serve(port=0)
    out = subprocess.run(["redis-cli", "-p", str(port), "GET", "before"], capture_output=True,
                         text=True, timeout=20)
    assert out.stdout.strip() == "1"
    subprocess.run(["redis-cli", "-p", str(port), "SET", "from_cli", "yes"], check=True,
                   capture_output=True, timeout=20)
    assert db.get("from_cli") == b"yes"  # embedded calls now run on the server's loop
    db.register_host_function("twice", lambda b: b + b)
    assert db.eval("return ledis.host.twice('ab')") == b"abab"
    out = subprocess.run(["redis-cli", "-p", str(port), "EVAL", "return ledis.host.twice('x')",
                          "0"], capture_output=True, text=True, timeout=20)
    assert out.stdout.strip() == "xx"  # registered in this process: RESP clients of it too


def test_blocking_commands_do_not_wait(db):
    """An embedded call never parks (like a blocking command inside MULTI): the timeout
    reply comes back at once, served or not."""
    start = time.monotonic()
    assert db.blpop("q", 5) is None
    db.serve(port=0)
    assert db.blpop("q", 5) is None
    assert time.monotonic() - start < 2
    db.rpush("q", "item")
    assert db.blpop("q", 5) == [b"q", b"item"]


def test_serve_threads_and_resp_clients(db):
    import redis

    port = db.serve(port=0)

    def embedded_work():
        for _ in range(200):
            db.incr("n")

    def resp_work():
        r = redis.Redis(port=port)
        for _ in range(200):
            r.incr("n")
        r.close()

    threads = [threading.Thread(target=f) for f in (embedded_work, resp_work) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.get("n") == b"1200"


def test_serve_with_http(db):
    port = db.serve(port=0, http_port=0)
    assert port and db.http_port
    db.set("k", "v")
    with urllib.request.urlopen(f"http://127.0.0.1:{db.http_port}/GET/k", timeout=10) as resp:
        assert json.loads(resp.read()) == {"GET": "v"}


def test_shutdown_from_a_client_closes_the_engine(tmp_path):
    db = ledis.open(str(tmp_path))
    port = db.serve(port=0)
    db.set("k", "v")
    subprocess.run(["redis-cli", "-p", str(port), "SHUTDOWN"], capture_output=True, timeout=20)
    deadline = time.time() + 10
    while not db.closed and time.time() < deadline:
        time.sleep(0.05)
    with pytest.raises(RuntimeError, match="closed"):
        db.get("k")
    db.close()  # still fine to call
    with ledis.open(str(tmp_path)) as again:
        assert again.get("k") == b"v"


def test_close_stops_serving(tmp_path):
    db = ledis.open(str(tmp_path))
    port = db.serve(port=0)
    db.set("k", "v")
    db.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with ledis.open(str(tmp_path)) as again:
        assert again.get("k") == b"v"


def test_python_mapping_units():
    from ledis.embedded import to_python, to_python2
    from ledis.replies import Bool, Double, Map, NullArray, PairList, SetReply, Simple, Verbatim

    assert to_python(Simple(b"OK")) == "OK"
    assert to_python(PairList([(b"a", Double(1.5))])) == {b"a": 1.5}
    assert to_python(SetReply([b"x", b"y"])) == {b"x", b"y"}
    assert to_python(Bool(0)) is False
    assert to_python(NullArray) is None
    assert to_python(Verbatim(b"t")) == b"t"
    assert to_python([LedisError("WRONGTYPE x")])[0].__class__ is WrongTypeError
    assert to_python2(Map({b"k": Double(2.0)})) == [b"k", b"2"]
    assert to_python2(Bool(1)) == 1


# --- the examples of docs/embedding.md run ------------------------------------------------------
def _example(*args: str, timeout: float = 60) -> str:
    import sys

    from tests.helpers import ROOT

    done = subprocess.run([sys.executable, *args], cwd=str(ROOT), capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_example_basic():
    out = _example("examples/embedded_basic.py")
    assert "b'hello'" in out and "error: WRONGTYPE" in out


def test_example_scripts():
    out = _example("examples/embedded_scripts.py")
    assert "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" in out


def test_example_serve():
    from tests.helpers import free_port

    port, http_port = free_port(), free_port()
    import sys

    from tests.helpers import ROOT, wait_port

    proc = subprocess.Popen(
        [sys.executable, "examples/embedded_serve.py", "--port", str(port),
         "--http-port", str(http_port), "--seconds", "3"],
        cwd=str(ROOT), stdout=subprocess.PIPE, text=True)
    try:
        wait_port(port, proc)
        wait_port(http_port, proc)
        out = subprocess.run(["redis-cli", "-p", str(port), "INCR", "cli_counter"],
                             capture_output=True, text=True, timeout=20)
        assert out.stdout.strip() == "1"
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/GET/from_python",
                                    timeout=10) as resp:
            assert json.loads(resp.read()) == {"GET": "hi there"}
        stdout, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0
        assert "cli_counter = b'1'" in stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_example_bench_runs():
    out = _example("examples/embedded_bench.py", "200")
    assert "embedded execute SET" in out and "redis-py SET, server process" in out
