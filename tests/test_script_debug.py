"""The Lua debugger (Redis's LDB): SCRIPT DEBUG YES|SYNC|NO, redis-cli --ldb driven through a
pty, the console protocol compared with redis-server's, what a session does to the data (YES
rolls back, SYNC keeps), other clients during a session, and the embedded stepping API."""

from __future__ import annotations

import os
import pty
import select
import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis

import ledis
from ledis import errors

needs_cli = pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
PROMPT = b"lua debugger> "
ENDED = b"(Lua debugging session ended"

SCRIPT = """local a = 5
local t = {1, 2, "x"}
redis.call("SET", KEYS[1], ARGV[1])
local b = a * 2
redis.call("RPUSH", KEYS[2], b)
return b
"""


# --- helpers ---------------------------------------------------------------------------------
class Cli:
    """redis-cli in a pseudo-terminal, as a person would use it."""

    def __init__(self, argv: list[str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                     close_fds=True, env={**os.environ, "TERM": "dumb"})
        os.close(slave)
        self.out = b""

    def read_until(self, *marks: bytes, timeout: float = 15) -> str:
        start = len(self.out)
        deadline = time.monotonic() + timeout
        while not any(self.out.find(m, start) >= 0 for m in marks):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(self.out[start:])
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    break
                self.out += data
        return self.out[start:].decode("utf-8", "replace").replace("\r\n", "\n")

    def send(self, line: str) -> str:
        os.write(self.master, line.encode() + b"\r")
        return self.read_until(PROMPT, ENDED)

    def close(self) -> None:
        try:
            os.write(self.master, b"\x04")  # EOF: redis-cli exits
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def ldb_cli(port: int, mode: str, path, *keys_args: str) -> Cli:
    return Cli(["redis-cli", "-p", str(port), mode, "--eval", str(path), *keys_args])


def enc(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        arg = arg.encode() if isinstance(arg, str) else arg
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class Console:
    """A raw RESP connection used as the debugger's console (what redis-cli sends)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def call(self, *args) -> bytes:
        self.sock.sendall(enc(*args))
        return self.reply()

    def reply(self) -> bytes:
        """One complete RESP reply (debugger replies are arrays of status lines)."""
        while True:
            end = _reply_end(self.buf, 0)
            if end is not None:
                data, self.buf = self.buf[:end], self.buf[end:]
                return data
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(self.buf)
            self.buf += chunk

    def lines(self, *args) -> list[str]:
        raw = self.call(*args)
        return [line[1:].decode() for line in raw.split(b"\r\n")[1:-1]]

    def closed(self) -> bool:
        self.sock.settimeout(5)
        return self.buf == b"" and self.sock.recv(100) == b""

    def close(self) -> None:
        self.sock.close()


def _reply_end(buf: bytes, pos: int) -> int | None:
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    kind = buf[pos:pos + 1]
    if kind == b"$":
        size = int(buf[pos + 1:nl])
        if size < 0:
            return nl + 2
        return nl + 2 + size + 2 if len(buf) >= nl + 2 + size + 2 else None
    if kind == b"*":
        count = int(buf[pos + 1:nl])
        pos = nl + 2
        for _ in range(max(count, 0)):
            pos = _reply_end(buf, pos)
            if pos is None:
                return None
        return pos
    return nl + 2


def start(console: Console, mode: str, script: str, *keys_args: str, numkeys: int = 0) -> list:
    assert console.call("SCRIPT", "DEBUG", mode) == b"+OK\r\n"
    console.sock.sendall(enc("EVAL", script, str(numkeys), *keys_args))
    raw = console.reply()
    return [line[1:].decode() for line in raw.split(b"\r\n")[1:-1]]


@pytest.fixture
def script_file(tmp_path):
    path = tmp_path / "script.lua"
    path.write_text(SCRIPT)
    return path


# --- redis-cli --ldb -------------------------------------------------------------------------
@needs_cli
@pytest.mark.parametrize("mode", ["--ldb", "--ldb-sync-mode"])
def test_redis_cli_ldb_session(server, r, script_file, mode):
    r.set("k", "before")
    cli = ldb_cli(server.port, mode, script_file, "k", "list", ",", "after")
    try:
        intro = cli.read_until(PROMPT)
        assert "Lua debugging session started" in intro
        assert "* Stopped at 1, stop reason = step over\n-> 1   local a = 5" in intro
        out = cli.send("step")
        assert "* Stopped at 2, stop reason = step over" in out
        assert "<value> 5" in cli.send("print a")
        assert "No such variable." in cli.send("print b")  # not declared yet
        listing = cli.send("break 5")
        assert "  #5   redis.call(\"RPUSH\", KEYS[2], b)" in listing
        out = cli.send("continue")
        assert "* Stopped at 5, stop reason = break point" in out
        assert "->#5   redis.call(\"RPUSH\", KEYS[2], b)" in out
        assert "<value> a = 5" in cli.send("print")
        assert "<value> b = 10" in cli.send("print")
        assert "<retval> 15" in cli.send("eval 3 * 5")
        assert "<retval> {\"k\"; \"list\"}" in cli.send("eval KEYS")
        out = cli.send("redis GET k")
        assert "<redis> GET k" in out and '<reply> "after"' in out  # the script's own write
        out = cli.send("step")
        assert "<redis> RPUSH list 10" in out and "<reply> 1" in out
        out = cli.send("continue")
        assert "(integer) 10" in out
        assert ENDED in cli.out
    finally:
        cli.close()
    if mode == "--ldb":
        assert "dataset changes rolled back" in cli.out.decode()
        assert r.get("k") == b"before" and r.exists("list") == 0
    else:
        assert r.get("k") == b"after" and r.lrange("list", 0, -1) == [b"10"]
    assert r.ping()


@needs_cli
@pytest.mark.parametrize("mode", ["--ldb", "--ldb-sync-mode"])
def test_redis_cli_ldb_abort(server, r, script_file, mode):
    cli = ldb_cli(server.port, mode, script_file, "k", "list", ",", "v")
    try:
        cli.read_until(PROMPT)
        cli.send("break 4")
        cli.send("continue")  # line 3 wrote k
        out = cli.send("abort")
        assert "script aborted for user request" in out
        assert ENDED in cli.out
    finally:
        cli.close()
    # "In sync mode dataset changes will be retained" (Redis's help), YES drops them
    assert r.get("k") == (b"v" if mode == "--ldb-sync-mode" else None)
    assert r.exists("list") == 0


@needs_cli
def test_redis_cli_help_and_whole(server, r, script_file):
    cli = ldb_cli(server.port, "--ldb", script_file, "k", "l", ",", "v")
    try:
        cli.read_until(PROMPT)
        help_text = cli.send("help")
        assert "Redis Lua debugger help:" in help_text and "[a]bort" in help_text
        whole = cli.send("whole")
        assert "-> 1   local a = 5" in whole and "   6   return b" in whole
        assert "<error> Unknown Redis Lua debugger command" in cli.send("frobnicate")
        cli.send("continue")
        assert ENDED in cli.out
    finally:
        cli.close()


# --- the console protocol --------------------------------------------------------------------
TRANSCRIPT_SCRIPT = """local a = 1
local t = {1, 2, "x", y = {z = true}}
redis.call("SET", KEYS[1], ARGV[1])
local b = redis.call("GET", KEYS[1])
if redis.breakpoint() then a = 5 end
redis.debug("hi", t, 3)
local n = redis.call("STRLEN", KEYS[1])
return n
"""
TRANSCRIPT = [("p",), ("s",), ("p", "a"), ("p", "t"), ("p", "KEYS"), ("l",), ("l", "1", "1"),
              ("w",), ("b", "4"), ("b",), ("c",), ("p", "b"), ("b", "-4"), ("b", "9"), ("b", "x"),
              ("e", "a", "+", "1"), ("e", "zz("), ("e", "error('boom')"), ("e", "{1,2}"),
              ("r", "get", "k1"), ("r", "set", "k1", "z"), ("r", "bogus"), ("r", "incr", "k1"),
              ("r", "rpush", "lst", "a", "b"), ("r", "lrange", "lst", "0", "-1"), ("m",),
              ("m", "10"), ("m", "0"), ("t",), ("foo",), ("r",), ("c",), ("s",), ("s",),
              ("s",), ("s",), ("s",)]


def transcript(port: int, mode: str) -> list[bytes]:
    console = Console(port)
    try:
        replies = [console.call("SCRIPT", "DEBUG", mode)]
        console.sock.sendall(enc("EVAL", TRANSCRIPT_SCRIPT, "1", "k1", "value"))
        replies.append(console.reply())
        for command in TRANSCRIPT:
            replies.append(console.call(*command))
            if replies[-1].startswith(b"*1\r\n+<endsession>"):
                replies.append(console.reply())  # the EVAL reply
                break
        assert console.closed()
        return replies
    finally:
        console.close()


def test_yes_session_returning_nil_is_not_run_again(server, r):
    """A debugged EVAL whose reply is nil: one nil reply, and the script does not run a second
    time undebugged (which would keep the writes of a YES session)."""
    r.set("nil:k", "before")
    console = Console(server.port)
    try:
        start(console, "YES", "redis.call('APPEND', KEYS[1], '+x')\nreturn nil", "nil:k",
              numkeys=1)
        assert console.lines("c")[-1] == "<endsession>"
        assert console.reply() == b"$-1\r\n"
        assert console.closed()
    finally:
        console.close()
    assert r.get("nil:k") == b"before"


@pytest.mark.parametrize("mode", ["YES", "SYNC"])
def test_console_protocol_matches_redis(server, r, ref, redis_server, mode):
    mine = transcript(server.port, mode)
    theirs = transcript(redis_server.port, mode)
    assert [m.decode() for m in mine] == [t.decode() for t in theirs]
    for client in (r, ref):
        assert client.get("k1") == (b"z" if mode == "SYNC" else None)  # "r set k1 z" won


def test_print_table_and_trace_in_function(server, r):
    console = Console(server.port)
    try:
        script = ("local function double(x)\n  local y = x * 2\n  return y\nend\n"
                  "local r = double(21)\nreturn r\n")
        start(console, "YES", script)
        assert console.lines("b", "2")[1] == "  #2     local y = x * 2"
        lines = console.lines("c")
        assert lines == ["* Stopped at 2, stop reason = break point", "->#2     local y = x * 2"]
        assert console.lines("t") == ["In double:", "->#2     local y = x * 2",
                                      "From top level:", "   5   local r = double(21)"]
        assert console.lines("p") == ["<value> x = 21"]
        long = console.lines("e", "string.rep('x', 300)")  # trimmed at 256 bytes, once hinted
        assert len(long[0]) == 256 + 4 and long[0].endswith("x ...") and len(long) == 2
        assert long[1].startswith("<hint> The above reply was trimmed.")
        assert console.lines("m", "10") == ["<value> replies are truncated at 60 bytes."]
        assert console.lines("e", "string.rep('x', 300)") == ['<retval> "' + "x" * 50 + " ..."]
        assert console.lines("s") == ["* Stopped at 3, stop reason = step over",
                                      "-> 3     return y"]
        assert console.lines("p", "y") == ["<value> 42"]
        assert console.lines("c")[-1] == "<endsession>"
        assert console.reply() == b":42\r\n"
    finally:
        console.close()


def test_eval_compile_error_ends_session(server, r):
    console = Console(server.port)
    try:
        lines = start(console, "YES", "local a = \nreturn 1")
        assert lines == ["<endsession>"]
        reply = console.reply().decode()
        assert reply.startswith("-ERR Error compiling script (new function): user_script:2:")
        assert console.closed()
    finally:
        console.close()


def test_eval_that_cannot_start_matches_redis(server, r, ref, redis_server):
    """Bad numkeys, a compile error: <endsession> then the error, as redis-server answers."""
    for script, numkeys in (("return 1", "5"), ("return +", "0"), ("return 1", "-1")):
        answers = []
        for port in (server.port, redis_server.port):
            console = Console(port)
            try:
                assert console.call("SCRIPT", "DEBUG", "YES") == b"+OK\r\n"
                console.sock.sendall(enc("EVAL", script, numkeys))
                answers.append((console.reply(), console.reply().split(b" script: ")[0]))
                assert console.closed()
            finally:
                console.close()
        assert answers[0] == answers[1]
        assert answers[0][0] == b"*1\r\n+<endsession>\r\n"


def test_protocol_error_ends_session(server, r):
    console = Console(server.port)
    try:
        start(console, "YES", "redis.call('SET', KEYS[1], 'x')\nreturn 1", "k", numkeys=1)
        console.sock.sendall(b"not resp\r\n")
        assert console.reply() == b"*1\r\n+<endsession>\r\n"
        reply = console.reply().decode()
        assert reply.startswith("-ERR protocol error script: ") and "@user_script:1." in reply
    finally:
        console.close()
    assert r.exists("k") == 0


# --- SCRIPT DEBUG itself -----------------------------------------------------------------------
def error_of(client, *args) -> str:
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


def text(error: str) -> str:
    return error.removeprefix("ERR ")  # redis-py drops the ERR prefix


@pytest.fixture
def one(server):
    """A client on a single connection (the debug mode belongs to the connection)."""
    client = server.client(single_connection_client=True)
    client.flushall()
    yield client
    client.close()


def test_script_debug_errors_match_redis(r, ref):
    for client in (r, ref):
        client.flushall()
    assert error_of(r, "SCRIPT", "DEBUG", "MAYBE") == error_of(ref, "SCRIPT", "DEBUG", "MAYBE")
    replies = []
    for client in (r, ref):
        pipe = client.pipeline(transaction=True)
        pipe.execute_command("SCRIPT", "DEBUG", "YES")
        [reply] = pipe.execute(raise_on_error=False)
        replies.append(str(reply))
    assert replies[0] == replies[1] == text(errors.SCRIPT_DEBUG_IN_MULTI)
    from_script = [error_of(c, "EVAL", "return redis.call('SCRIPT', 'DEBUG', 'YES')", 0)
                   for c in (r, ref)]
    assert from_script[0] == from_script[1]
    assert "not allowed from script" in from_script[0]
    assert r.execute_command("SCRIPT", "DEBUG", "NO") in (True, b"OK")
    assert r.eval("return 1", 0) == 1


def test_evalsha_refused_while_debugging(one, ref):
    sha = one.script_load("return 1")
    ref.script_load("return 1")
    for client in (one, ref):
        assert client.execute_command("SCRIPT", "DEBUG", "YES") in (True, b"OK")
    assert error_of(one, "EVALSHA", sha, 0) == error_of(ref, "EVALSHA", sha, 0)
    assert error_of(one, "EVALSHA", sha, 0) == text(errors.LDB_EVALSHA)
    assert error_of(one, "EVALSHA_RO", sha, 0) == text(errors.LDB_EVALSHA)
    ref.execute_command("SCRIPT", "DEBUG", "NO")
    # NO turns it off; other commands and connections were never affected
    assert one.set("plain", "1") and one.get("plain") == b"1"
    assert one.execute_command("SCRIPT", "DEBUG", "NO") in (True, b"OK")
    assert one.evalsha(sha, 0) == 1


def test_reset_clears_script_debug(one):
    one.execute_command("SCRIPT", "DEBUG", "SYNC")
    assert error_of(one, "EVALSHA", "a" * 40, 0) == text(errors.LDB_EVALSHA)
    assert one.execute_command("RESET") in (b"RESET", "RESET")
    assert one.eval("return 7", 0) == 7


def test_eval_in_multi_refused_while_debugging(one):
    one.execute_command("SCRIPT", "DEBUG", "YES")
    assert one.execute_command("MULTI") in (True, b"OK")
    assert error_of(one, "EVAL", "redis.call('SET', 'k', 'v')", 0) == text(errors.LDB_IN_MULTI)
    with pytest.raises(redis.exceptions.ExecAbortError):
        one.execute_command("EXEC")
    assert one.exists("k") == 0


def test_breakpoint_and_debug_are_noops_outside_a_session(r, ref):
    script = "redis.debug('x', 1) return redis.breakpoint()"
    assert r.eval(script, 0) is None
    assert ref.eval(script, 0) is None


# --- what a session does to the data and to other clients --------------------------------------
def test_yes_session_leaves_no_trace(server, r):
    """Counters, blocked clients, the write log: a YES session's writes are nowhere after it."""
    r.set("keep", "1")
    size = r.dbsize()
    waiter = server.client()
    popped = []
    thread = threading.Thread(target=lambda: popped.append(waiter.blpop(["queue"], 3)))
    thread.start()
    time.sleep(0.3)
    console = Console(server.port)
    try:
        start(console, "YES", "for i = 1, 5 do redis.call('SET', 'n' .. i, i) end\n"
              "redis.call('RPUSH', 'queue', 'job')\nredis.call('DEL', 'keep')\nreturn 1")
        assert console.lines("c")[-1] == "<endsession>"
        assert console.reply() == b":1\r\n"
    finally:
        console.close()
    thread.join()
    assert popped == [None]  # the blocked client was not served the rolled-back push
    assert r.dbsize() == size and r.get("keep") == b"1" and r.exists("n1", "queue") == 0
    waiter.close()


@pytest.mark.parametrize("mode", ["YES", "SYNC"])
def test_watch_and_notifications_see_only_kept_writes(server, r, mode):
    r.set("w", "0")
    r.config_set("notify-keyspace-events", "KA")
    watcher = server.client(single_connection_client=True)
    subscriber = r.pubsub()
    try:
        subscriber.subscribe("__keyspace@0__:w")
        assert subscriber.get_message(timeout=2)["type"] == "subscribe"
        watcher.execute_command("WATCH", "w")
        console = Console(server.port)
        try:
            start(console, mode, "redis.call('SET', 'w', 'debugged')\nreturn 1")
            assert console.lines("c")[-1] == "<endsession>"
            assert console.reply() == b":1\r\n"
        finally:
            console.close()
        event = subscriber.get_message(timeout=1)
        watcher.execute_command("MULTI")
        watcher.execute_command("SET", "w", "watcher")
        executed = watcher.execute_command("EXEC")
        if mode == "YES":  # nothing happened to w: nobody was told, EXEC runs
            assert event is None
            assert executed in ([b"OK"], [True]) and r.get("w") == b"watcher"
        else:  # the kept write was published and touched the watched key
            assert event["data"] == b"set"
            assert executed is None and r.get("w") == b"debugged"
    finally:
        r.config_set("notify-keyspace-events", "")
        subscriber.close()
        watcher.close()


def test_yes_session_never_reaches_a_replica(fresh_server):
    master = fresh_server()
    replica = fresh_server("--replicaof", f"127.0.0.1 {master.port}")
    mc, rc = master.client(), replica.client()
    try:
        mc.set("before", "1")
        for mode, key in (("YES", "dropped"), ("SYNC", "kept")):
            console = Console(master.port)
            try:
                start(console, mode, "redis.call('SET', KEYS[1], 'x')\nreturn 1", key,
                      numkeys=1)
                assert console.lines("c")[-1] == "<endsession>"
                assert console.reply() == b":1\r\n"
            finally:
                console.close()
        mc.set("after", "1")
        deadline = time.monotonic() + 20
        while rc.get("after") is None:
            assert time.monotonic() < deadline, "the replica never caught up"
            time.sleep(0.05)
        assert rc.get("kept") == b"x" and rc.exists("dropped") == 0
        assert mc.execute_command("LEDIS.DIGEST") == rc.execute_command("LEDIS.DIGEST")
    finally:
        mc.close()
        rc.close()


def test_time_limit_and_script_kill_work_after_a_session(server, r):
    """The session swapped the runtime's hook and bridge: a normal EVAL gets them back."""
    console = Console(server.port)
    try:
        start(console, "YES", "return 1")
        assert console.lines("c")[-1] == "<endsession>"
    finally:
        console.close()
    r.config_set("lua-time-limit", 100)
    try:
        looping = server.client(socket_timeout=20)
        failed = []
        thread = threading.Thread(target=lambda: failed.append(
            pytest.raises(redis.ResponseError, looping.eval, "while true do end", 0)))
        thread.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                r.script_kill()
                break
            except redis.ResponseError as exc:  # NOTBUSY until the loop is past the limit
                assert "NOTBUSY" in str(exc) and time.monotonic() < deadline
                time.sleep(0.05)
        thread.join()
        assert "Script killed by user" in str(failed[0].value)
        looping.close()
    finally:
        r.config_set("lua-time-limit", 5000)
    assert r.eval("redis.debug('x') return redis.call('PING')", 0) == b"PONG"


def test_other_clients_get_busy_and_script_kill_ends_yes_session(server, r):
    console = Console(server.port)
    try:
        start(console, "YES", "redis.call('SET', 'k', 'v')\nreturn 1")
        console.lines("s")  # the script wrote: a YES session can still be killed
        with pytest.raises(redis.ResponseError, match="BUSY"):
            r.get("k")
        assert r.script_kill()
        assert console.reply() == b"*1\r\n+<endsession>\r\n"
        assert b"Script killed by user" in console.reply()
    finally:
        console.close()
    assert r.get("k") is None and r.ping()


def test_sync_session_that_wrote_is_unkillable(server, r):
    console = Console(server.port)
    try:
        start(console, "SYNC", "redis.call('SET', 'k', 'v')\nreturn 1")
        console.lines("s")
        with pytest.raises(redis.ResponseError, match="UNKILLABLE"):
            r.script_kill()
        assert console.lines("c")[-1] == "<endsession>"
        assert console.reply() == b":1\r\n"
    finally:
        console.close()
    assert r.get("k") == b"v"


@pytest.mark.parametrize("mode", ["YES", "SYNC"])
def test_client_disconnect_leaves_server_healthy(server, r, mode):
    console = Console(server.port)
    start(console, mode, "redis.call('SET', 'k', 'v')\nredis.breakpoint()\nreturn 1")
    console.close()  # gone mid-session: the script runs on without stopping
    deadline = time.monotonic() + 10
    while True:
        try:
            assert r.ping()
            value = r.get("k")
            break
        except redis.ResponseError:  # BUSY while the server notices
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert value == (b"v" if mode == "SYNC" else None)
    assert r.eval("return 2", 0) == 2


def test_disconnected_endless_script_times_out(server, r):
    r.config_set("lua-time-limit", 300)
    try:
        console = Console(server.port)
        start(console, "SYNC", "local i = 0\nwhile true do i = i + 1 end")
        console.close()
        began = time.monotonic()
        probe = server.client(socket_timeout=20)
        while True:
            try:
                assert probe.ping()
                break
            except redis.ResponseError:
                time.sleep(0.05)
        assert time.monotonic() - began < 10
        probe.close()
    finally:
        r.config_set("lua-time-limit", 5000)


# --- the embedded API --------------------------------------------------------------------------
@pytest.fixture
def db():
    store = ledis.open(memory=True)
    yield store
    store.close()


def test_embedded_stepping(db):
    db.set("k", "before")
    session = db.debug(SCRIPT, ["k", "list"], ["after"])
    assert session.line == 1 and session.lines[-1] == "-> 1   local a = 5"
    assert session.step()[0] == "* Stopped at 2, stop reason = step over" and session.line == 2
    assert session.print("a") == ["<value> 5"]
    assert session.eval("a")[0].startswith("<error> ldb_eval:1: Script attempted to access")
    assert session.eval("1 + 2") == ["<retval> 3"]
    assert session.breakpoint(4)[1] == "  #4   local b = a * 2"
    assert session.cont()[0] == "* Stopped at 4, stop reason = break point"
    assert session.line == 4
    assert session.redis("GET", "k") == ["<redis> GET k", '<reply> "after"']
    with pytest.raises(RuntimeError):
        db.get("k")  # the store waits for the session
    assert session.next()[0] == "* Stopped at 5, stop reason = step over"
    assert session.print() == ["<value> a = 5", '<value> t = {1; 2; "x"}', "<value> b = 10"]
    assert session.finish() == 10
    assert session.done
    assert db.get("k") == b"before" and db.exists("list") == 0


def test_embedded_sync_keeps_writes(db):
    session = db.debug("redis.call('SET', KEYS[1], ARGV[1])\nreturn 'ok'", ["k"], ["v"],
                       sync=True)
    assert session.finish() == b"ok"
    assert db.get("k") == b"v"


def test_embedded_abort_and_errors(db):
    session = db.debug("redis.call('SET', 'k', 'v')\nreturn 1")
    session.step()
    assert session.abort() == ["<endsession>"]
    with pytest.raises(ledis.ResponseError, match="script aborted for user request"):
        session.finish()
    assert db.exists("k") == 0
    broken = db.debug("return +")
    assert broken.done and broken.lines == ["<endsession>"]
    with pytest.raises(ledis.ResponseError, match="Error compiling script"):
        broken.finish()
    with db.debug("local x = 1\nreturn x") as session:
        session.step()
    assert db.ping() in ("PONG", b"PONG", True)


def test_embedded_close_with_an_open_session():
    store = ledis.open(memory=True)
    session = store.debug("redis.call('SET', 'k', 'v')\nreturn 1")
    store.close()  # ends the session (the script runs on, its writes are dropped) and closes
    assert session.done and store.closed
