"""Long scripts: the time limit, BUSY for other clients, SCRIPT KILL (even through pcall,
coroutines and loadstring chunks), UNKILLABLE after a write, SHUTDOWN NOSAVE, atomicity on a
crash in the middle of a writing script, and the Lua memory cap."""

from __future__ import annotations

import threading
import time

import pytest
import redis

LIMIT_MS = 300

LOOPS = [
    "while true do end",
    "local i = 0 while true do i = i + 1 end",
    "for i = 1, 1e15 do end",
    "while true do pcall(function() while true do end end) end",
    "while true do pcall(error, 'x') end",
    "local co = coroutine.create(function() while true do end end)"
    " while true do coroutine.resume(co) end",
    "loadstring('while true do end')()",
    "local t = {} while true do t[#t % 100 + 1] = tostring(#t) end",
    "local function f() return f() end f()",
    "local s = 'x' while true do s = string.sub(s .. 'y', 1, 10) end",
]


@pytest.fixture(scope="module")
def busy_server():
    from tests.helpers import LedisProcess

    proc = LedisProcess("--lua-time-limit", str(LIMIT_MS)).start()
    yield proc
    proc.cleanup()


class Runner:
    """Runs one EVAL in a thread and records the outcome."""

    def __init__(self, client: redis.Redis, script: str, *args) -> None:
        self.result: object = None
        self.elapsed = 0.0
        self.thread = threading.Thread(target=self._run, args=(client, script, args), daemon=True)
        self.thread.start()

    def _run(self, client, script, args) -> None:
        start = time.time()
        try:
            self.result = client.eval(script, *args) if args else client.eval(script, 0)
        except Exception as exc:  # noqa: BLE001
            self.result = exc
        self.elapsed = time.time() - start

    def join(self, timeout: float = 10) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "script still running"


def _wait_busy(client: redis.Redis, timeout: float = 5.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            client.ping()
        except redis.exceptions.BusyLoadingError as exc:  # pragma: no cover - redis-py maps BUSY?
            return str(exc)
        except redis.ResponseError as exc:
            return str(exc)
        time.sleep(0.05)
    raise AssertionError("server never answered BUSY")


@pytest.mark.parametrize("script", LOOPS, ids=[s[:40] for s in LOOPS])
def test_infinite_loop_killed(busy_server, script):
    caller = busy_server.client(socket_timeout=20)
    other = busy_server.client(socket_timeout=20)
    other.ping()
    run = Runner(caller, script)
    busy = _wait_busy(other)
    assert busy == ("BUSY Redis is busy running a script. "
                    "You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    start = time.time()
    assert other.script_kill() is True
    run.join()
    assert time.time() - start < 1.0
    assert isinstance(run.result, redis.ResponseError)
    assert str(run.result).startswith("Script killed by user with SCRIPT KILL... script: ")
    # everything is back to normal for both clients
    assert other.ping() is True
    assert caller.eval("return 1", 0) == 1
    caller.close()
    other.close()


def test_client_connecting_during_busy_script(busy_server):
    caller = busy_server.client(socket_timeout=20)
    other = busy_server.client(socket_timeout=20)
    other.ping()
    run = Runner(caller, "while true do end")
    _wait_busy(other)
    # a brand new connection, accepted while the script runs
    late = redis.Redis(port=busy_server.port, socket_timeout=10)
    with pytest.raises(redis.ResponseError, match="^BUSY Redis is busy running a script"):
        late.get("x")
    assert late.script_kill() is True
    run.join()
    # the connection carries on normally on the event loop
    assert late.set("late", "1") is True
    assert late.get("late") == b"1"
    assert other.get("late") == b"1"
    late.close()


def test_allow_busy_commands_run_during_busy_script(busy_server):
    import socket

    caller = busy_server.client(socket_timeout=20)
    probe = busy_server.client(socket_timeout=20)
    probe.ping()
    run = Runner(caller, "while true do end")
    _wait_busy(probe)
    with socket.create_connection(("127.0.0.1", busy_server.port), timeout=5) as sock:
        sock.sendall(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
        reply = b""
        while not reply.endswith(b"\r\n") or reply.count(b"\r\n") < 3:
            reply += sock.recv(4096)
        assert reply.startswith(b"%")  # HELLO ran (ALLOW_BUSY) and answered in RESP3
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        time.sleep(0.2)
        assert sock.recv(4096) == (
            b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
            b"SHUTDOWN NOSAVE.\r\n")
        sock.sendall(b"*2\r\n$6\r\nSCRIPT\r\n$4\r\nKILL\r\n")
        time.sleep(0.2)
        assert sock.recv(4096) == b"+OK\r\n"
        run.join()
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        time.sleep(0.2)
        assert sock.recv(4096) == b"+PONG\r\n"


def test_script_kill_when_idle(busy_server):
    client = busy_server.client()
    with pytest.raises(redis.ResponseError, match="NOTBUSY|No scripts in execution right now."):
        client.script_kill()


def test_other_commands_wait_until_limit_then_busy(busy_server):
    caller = busy_server.client(socket_timeout=20)
    other = busy_server.client(socket_timeout=20)
    other.set("before", "1")
    run = Runner(caller, "local t = redis.call('time') while true do end")
    time.sleep(0.05)
    start = time.time()
    with pytest.raises(redis.ResponseError, match="^BUSY Redis is busy running a script"):
        other.get("before")
    # the reply came once the limit passed, not before
    assert time.time() - start >= (LIMIT_MS / 1000) * 0.5
    # pipelined commands all get BUSY, SCRIPT KILL in the same pipeline works
    pipe = other.pipeline(transaction=False)
    pipe.get("before")
    pipe.set("x", "y")
    pipe.script_kill()
    replies = pipe.execute(raise_on_error=False)
    assert isinstance(replies[0], redis.ResponseError)
    assert isinstance(replies[1], redis.ResponseError)
    assert replies[2] is True
    run.join()
    assert other.get("x") is None
    assert other.get("before") == b"1"


def test_unkillable_after_write_then_shutdown_nosave(fresh_server):
    proc = fresh_server("--lua-time-limit", str(LIMIT_MS))
    caller = proc.client(socket_timeout=20)
    other = proc.client(socket_timeout=20)
    other.set("kept", "1")
    time.sleep(0.2)  # let the group commit happen
    run = Runner(caller, "redis.call('set', 'partial', '1') while true do end")
    _wait_busy(other)
    with pytest.raises(redis.ResponseError) as exc:
        other.script_kill()
    assert str(exc.value).startswith("UNKILLABLE Sorry the script already executed write commands")
    try:
        other.shutdown(nosave=True)
    except (redis.ConnectionError, redis.ResponseError):
        pass
    assert proc.proc.wait(10) is not None
    run.join()
    proc.start()
    client = proc.client()
    assert client.get("kept") == b"1"
    assert client.get("partial") is None  # the script's writes never committed


def test_kill9_during_long_writing_script_is_atomic(fresh_server):
    proc = fresh_server()  # default limit (5 s): the script is never BUSY-interrupted
    client = proc.client(socket_timeout=30)
    client.set("before", "1")
    time.sleep(0.2)
    script = """
    for i = 1, 20000 do redis.call('set', 'k' .. i, i) end
    local t = 0 for i = 1, 1e12 do t = t + i end
    return t
    """
    run = Runner(client, script)
    time.sleep(1.0)
    proc.kill()
    run.join(15)
    proc.start()
    fresh = proc.client()
    assert fresh.get("before") == b"1"
    assert fresh.get("k1") is None
    assert fresh.get("k20000") is None
    assert fresh.dbsize() == 1


def test_completed_script_writes_survive_kill9(fresh_server):
    proc = fresh_server()
    client = proc.client()
    assert client.eval("for i = 1, 100 do redis.call('set', 'k' .. i, i) end return 1", 0) == 1
    time.sleep(0.3)
    proc.kill()
    proc.start()
    assert proc.client().get("k100") == b"100"


def test_busy_threshold_zero_means_no_hook(fresh_server):
    proc = fresh_server("--lua-time-limit", "0")
    client = proc.client()
    assert client.eval("local n = 0 for i = 1, 3e6 do n = n + 1 end return n", 0) == 3000000


MEMORY_BOMBS = [
    "local t = {} for i = 1, 1e9 do t[i] = i end return #t",
    "local s = 'x' for i = 1, 40 do s = s .. s end return #s",
    "return #string.rep('x', 1e9)",
    "local t = {} while true do t[#t + 1] = {} end",
    "local t = {} while true do t[#t + 1] = tostring(#t) .. string.rep('y', 100) end",
]


@pytest.fixture(scope="module")
def small_memory_server():
    from tests.helpers import LedisProcess

    proc = LedisProcess("--lua-max-memory", "32").start()
    yield proc
    proc.cleanup()


@pytest.mark.parametrize("script", MEMORY_BOMBS, ids=[s[:40] for s in MEMORY_BOMBS])
def test_memory_bomb_stopped(small_memory_server, script):
    client = small_memory_server.client(socket_timeout=60)
    with pytest.raises(redis.ResponseError, match="memory"):
        client.eval(script, 0)
    # the server and the Lua VM survive
    assert client.eval("return redis.call('ping')", 0) == b"PONG"
    assert client.eval("return #string.rep('x', 1000)", 0) == 1000


def test_memory_error_catchable_with_pcall(small_memory_server):
    client = small_memory_server.client(socket_timeout=60)
    script = ("local ok, e = pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) "
              "return {tostring(ok), tostring(e)}")
    assert client.eval(script, 0) == [b"false", b"not enough memory"]


def test_time_limit_from_config_set(fresh_server):
    proc = fresh_server()
    caller = proc.client(socket_timeout=20)
    other = proc.client(socket_timeout=20)
    assert other.config_set("lua-time-limit", 200) is True
    run = Runner(caller, "while true do end")
    start = time.time()
    _wait_busy(other)
    assert time.time() - start < 3  # well before the 5 s default
    assert other.script_kill() is True
    run.join()
    assert other.config_get("busy-reply-threshold") == {"busy-reply-threshold": "200"}


def test_function_kill_and_stats_get_busy_during_eval(busy_server):
    caller = busy_server.client(socket_timeout=20)
    other = busy_server.client(socket_timeout=20)
    other.ping()
    run = Runner(caller, "while true do end")
    _wait_busy(other)
    for cmd in (("FUNCTION", "KILL"), ("FUNCTION", "STATS"), ("SHUTDOWN",)):
        with pytest.raises(redis.ResponseError) as exc:
            other.execute_command(*cmd)
        assert str(exc.value) == ("BUSY Redis is busy running a script. "
                                  "You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    assert other.script_kill() is True
    run.join()


def _recv_reply(sock, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_reply_held_in_the_scripts_loop_iteration_goes_out_while_busy(busy_server):
    """A command read in the same loop iteration as the script, just before it, has its reply
    held for that iteration's group commit: it must go out once the script turns busy (as
    Redis writes pending replies while busy), or that client hangs until the script ends and
    cannot SCRIPT KILL it. The CI flake this comes from: redis-py's PING waited its whole
    socket timeout, then retried on a new connection."""
    import socket

    port = busy_server.port
    slow = busy_server.client(socket_timeout=20)
    with socket.create_connection(("127.0.0.1", port)) as other, \
            socket.create_connection(("127.0.0.1", port)) as caller:
        # a script under the time limit holds the loop, so that the PING and the looping
        # EVAL below are both waiting when it returns, and are read in one iteration
        spin = Runner(slow, "local t0 = redis.call('time') while true do "
                      "local t = redis.call('time') "
                      "if (t[1] - t0[1]) * 1e6 + (t[2] - t0[2]) > 150000 then break end end")
        time.sleep(0.05)
        other.sendall(b"*1\r\n$4\r\nPING\r\n")
        time.sleep(0.02)
        caller.sendall(b"*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n")
        spin.join()
        assert spin.result is None
        assert _recv_reply(other, 5) == b"+PONG\r\n"  # while the loop runs
        other.sendall(b"*2\r\n$6\r\nSCRIPT\r\n$4\r\nKILL\r\n")
        assert _recv_reply(other, 5) == b"+OK\r\n"
        assert _recv_reply(caller, 5).startswith(b"-ERR Script killed by user with SCRIPT KILL")
        other.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert _recv_reply(other, 5) == b"+PONG\r\n"
    slow.close()
