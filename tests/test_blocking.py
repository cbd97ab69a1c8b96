"""Blocking list pops through real connections: wake-ups, FIFO order, timeouts, chains,
disconnects and CLIENT UNBLOCK (ledis/blocking.py + the blocking commands in lists.py)."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from tests.helpers import have_redis_server


class Blocked(threading.Thread):
    """Run one blocking command on its own connection, remembering reply and timing."""

    def __init__(self, server, *cmd, protocol: int = 2) -> None:
        super().__init__(daemon=True)
        self.client = server.client(protocol=protocol)
        self.client_id = self.client.client_id()
        self.cmd = cmd
        self.result = None
        self.error: Exception | None = None
        self.elapsed = None

    def run(self) -> None:
        start = time.monotonic()
        try:
            self.result = self.client.execute_command(*self.cmd)
        except Exception as exc:  # noqa: BLE001 - inspected by the test
            self.error = exc
        self.elapsed = time.monotonic() - start

    def finish(self, timeout: float = 5.0):
        self.join(timeout)
        assert not self.is_alive(), f"{self.cmd} still blocked"
        self.client.close()
        if isinstance(self.result, tuple):  # redis-py turns BLPOP/BRPOP replies into tuples
            self.result = list(self.result)
        return self.result


@pytest.fixture(params=["ledis", pytest.param("redis", marks=pytest.mark.skipif(
    not have_redis_server(), reason="redis-server not installed"))])
def target(request):
    """(server, client) on ledis, and on Redis 7.0 as the reference for the same test."""
    if request.param == "ledis":
        return request.getfixturevalue("server"), request.getfixturevalue("r")
    return request.getfixturevalue("redis_server"), request.getfixturevalue("ref")


@pytest.fixture(autouse=True)
def no_waiter_left_behind(server):
    """After every test, each waiter must be gone (served, timed out or disconnected)."""
    yield
    c = server.client()
    try:
        deadline = time.monotonic() + 3
        while blocked_clients(c) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert blocked_clients(c) in (0, None)
    finally:
        c.close()


def blocked_clients(r) -> int | None:
    value = r.info("clients").get("blocked_clients")
    return None if value is None else int(value)


def wait_blocked(r, n: int, timeout: float = 5.0) -> None:
    """Wait until ``n`` clients are blocked (INFO blocked_clients, or a short sleep if the
    server does not report it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = blocked_clients(r)
        if count is None:
            time.sleep(0.2)
            return
        if count >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"never reached {n} blocked clients")


def start(server, r, *cmd, n: int = 1, protocol: int = 2) -> Blocked:
    t = Blocked(server, *cmd, protocol=protocol)
    t.start()
    wait_blocked(r, n)
    return t


# --- immediate answers -----------------------------------------------------------------------
def test_blpop_serves_at_once_when_data_is_there(target):
    server, r = target
    r.rpush("a", "x", "y")
    r.rpush("b", "z")
    assert r.blpop(["nope", "a", "b"], timeout=1) == (b"a", b"x")
    assert r.brpop(["b", "a"], timeout=1) == (b"b", b"z")
    assert r.exists("b") == 0
    assert r.execute_command("BLMOVE", "a", "c", "LEFT", "RIGHT", 1) == b"y"
    assert r.lrange("c", 0, -1) == [b"y"]
    assert r.execute_command("BRPOPLPUSH", "c", "d", 1) == b"y"
    r.rpush("m", 1, 2, 3)
    assert r.execute_command("BLMPOP", 1, 2, "x", "m", "RIGHT", "COUNT", 2) == [b"m", [b"3", b"2"]]


def test_timeout_argument_errors(target):
    server, r = target
    for bad in ("abc", "", " 1", "nan", "1 "):
        with pytest.raises(redis.ResponseError, match="^timeout is not a float or out of range$"):
            r.execute_command("BLPOP", "k", bad)
    for bad in ("-1", "-0.5", "-0.9999", "inf", "1e400"):
        with pytest.raises(redis.ResponseError, match="^timeout is negative$"):
            r.execute_command("BRPOP", "k", bad)
    with pytest.raises(redis.ResponseError, match="^timeout is negative$"):
        r.execute_command("BLMOVE", "a", "b", "LEFT", "LEFT", "-1")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("BLMOVE", "a", "b", "UP", "LEFT", "-1")
    with pytest.raises(redis.ResponseError, match="^timeout is negative$"):
        r.execute_command("BLMPOP", "-1", "1", "a", "LEFT")
    with pytest.raises(redis.ResponseError, match="^numkeys should be greater than 0$"):
        r.execute_command("BLMPOP", "0", "0", "a", "LEFT")
    with pytest.raises(redis.ResponseError, match="^count should be greater than 0$"):
        r.execute_command("BLMPOP", "0", "1", "a", "LEFT", "COUNT", "0")


def test_wrongtype_is_reported_before_blocking(target):
    server, r = target
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.blpop(["s"], timeout=0.1)
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.execute_command("BLMPOP", 0.1, 2, "missing", "s", "LEFT")


# --- timeouts --------------------------------------------------------------------------------
@pytest.mark.parametrize("cmd", [
    ("BLPOP", "k1", "k2", "0.2"),
    ("BRPOP", "k1", "0.2"),
    ("BLMOVE", "k1", "k2", "LEFT", "RIGHT", "0.2"),
    ("BRPOPLPUSH", "k1", "k2", "0.2"),
    ("BLMPOP", "0.2", "2", "k1", "k2", "LEFT"),
])
def test_timeout_subsecond_answers_null_array(target, cmd):
    server, r = target
    t = Blocked(server, *cmd)
    t.start()
    t.finish()
    assert t.error is None
    assert t.result is None
    assert 0.18 <= t.elapsed < 0.6, t.elapsed


def test_timeout_reply_is_null_array_on_the_wire(server):
    import socket
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"*3\r\n$5\r\nBLPOP\r\n$2\r\nzz\r\n$3\r\n0.1\r\n"
                  b"*4\r\n$10\r\nBRPOPLPUSH\r\n$2\r\nzz\r\n$2\r\nyy\r\n$3\r\n0.1\r\n")
        s.settimeout(3)
        data = b""
        while data.count(b"\r\n") < 2:
            data += s.recv(100)
        assert data == b"*-1\r\n*-1\r\n"


def test_timeout_resp3_is_null(server):
    t = Blocked(server, "BLPOP", "k", "0.1", protocol=3)
    t.start()
    assert t.finish() is None and t.error is None


def test_sub_millisecond_timeouts_round_up_like_redis(target):
    server, r = target
    t = Blocked(server, "BLPOP", "k", "0.0001")  # 1 ms
    t.start()
    assert t.finish() is None and t.error is None
    t = start(server, r, "BLPOP", "k", "-0.0001")  # rounds to 0: forever
    time.sleep(0.3)
    assert t.is_alive()
    r.rpush("k", "v")
    assert t.finish() == [b"k", b"v"]


# --- wake-ups --------------------------------------------------------------------------------
def test_push_wakes_waiter(target):
    server, r = target
    t = start(server, r, "BLPOP", "k1", "k2", "0")
    assert r.rpush("k2", "hello", "world") == 2
    assert t.finish() == [b"k2", b"hello"]
    assert r.lrange("k2", 0, -1) == [b"world"]


def test_waiters_are_served_first_come_first_served(target):
    server, r = target
    threads = [start(server, r, "BRPOP", "q", "5", n=i + 1) for i in range(3)]
    r.rpush("q", "a", "b", "c")
    results = [t.finish() for t in threads]
    assert results == [[b"q", b"c"], [b"q", b"b"], [b"q", b"a"]]
    assert r.exists("q") == 0


def test_only_as_many_waiters_as_elements_wake(target):
    server, r = target
    threads = [start(server, r, "BLPOP", "q", "5", n=i + 1) for i in range(3)]
    r.rpush("q", "only")
    assert threads[0].finish() == [b"q", b"only"]
    time.sleep(0.1)
    assert threads[1].is_alive() and threads[2].is_alive()
    r.rpush("q", "x", "y")
    assert threads[1].finish() == [b"q", b"x"]
    assert threads[2].finish() == [b"q", b"y"]


def test_push_to_other_key_wakes_the_right_waiter(target):
    server, r = target
    ta = start(server, r, "BLPOP", "a", "5", n=1)
    tb = start(server, r, "BLPOP", "b", "5", n=2)
    r.lpush("b", "for-b")
    assert tb.finish() == [b"b", b"for-b"]
    assert ta.is_alive()
    r.lpush("a", "for-a")
    assert ta.finish() == [b"a", b"for-a"]


def test_waiters_are_per_database(target):
    server, r = target
    t = start(server, r, "BLPOP", "k", "5")
    other = server.client(db=1)
    other.rpush("k", "in-db1")
    time.sleep(0.1)
    assert t.is_alive()
    assert other.lrange("k", 0, -1) == [b"in-db1"]
    other.close()
    r.rpush("k", "in-db0")
    assert t.finish() == [b"k", b"in-db0"]


def test_lpush_in_multi_serves_after_exec(target):
    server, r = target
    t = start(server, r, "BLPOP", "k", "5")
    with r.pipeline(transaction=True) as p:
        p.rpush("k", "a", "b")
        p.lpop("k")
        p.execute()
    assert t.finish() == [b"k", b"b"]


def test_blmpop_wakes_with_count(target):
    server, r = target
    t = start(server, r, "BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "2")
    r.rpush("y", 1, 2, 3)
    assert t.finish() == [b"y", [b"3", b"2"]]


def test_blmove_chain(target):
    server, r = target
    """A -> BLMOVE src mid; B -> BLMOVE mid dst; C -> BLPOP dst: one push goes through all."""
    ta = start(server, r, "BLMOVE", "src", "mid", "RIGHT", "LEFT", "5", n=1)
    tb = start(server, r, "BRPOPLPUSH", "mid", "dst", "5", n=2)
    tc = start(server, r, "BLPOP", "dst", "5", n=3)
    r.rpush("src", "token")
    assert ta.finish() == b"token"
    assert tb.finish() == b"token"
    assert tc.finish() == [b"dst", b"token"]
    assert r.exists("src", "mid", "dst") == 0


def test_lmove_into_waited_key_wakes(target):
    server, r = target
    t = start(server, r, "BLPOP", "dst", "5")
    r.rpush("src", "v")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == b"v"
    assert t.finish() == [b"dst", b"v"]


def test_blocking_reply_in_resp3(target):
    server, r = target
    t = start(server, r, "BLPOP", "k", "5", protocol=3)
    r.rpush("k", "v")
    assert t.finish() == [b"k", b"v"]


def test_waiter_on_same_connection_pipeline_continues(target):
    server, r = target
    """Commands pipelined after a blocking one run once it is answered."""
    c = server.client()
    p = c.pipeline(transaction=False)
    p.blpop(["k"], timeout=5)
    p.rpush("after", "x")
    p.lrange("after", 0, -1)
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", p.execute()), daemon=True)
    t.start()
    wait_blocked(r, 1)
    assert r.exists("after") == 0
    r.rpush("k", "v")
    t.join(5)
    assert out["r"] == [(b"k", b"v"), 1, [b"x"]]
    c.close()


# --- cannot block ----------------------------------------------------------------------------
def test_blocking_inside_multi_answers_at_once(target):
    server, r = target
    with r.pipeline(transaction=True) as p:
        p.blpop(["k"], timeout=0)
        p.execute_command("BLMOVE", "k", "d", "LEFT", "LEFT", 0)
        p.execute_command("BLMPOP", 0, 1, "k", "LEFT")
        results = p.execute()
    assert results == [None, None, None]


def test_blmpop_in_script_answers_nil(target):
    server, r = target
    assert r.eval("return redis.call('BLMPOP', 0, 1, KEYS[1], 'LEFT')", 1, "k") is None
    with pytest.raises(redis.ResponseError):
        r.eval("return redis.call('BLPOP', KEYS[1], 0)", 1, "k")


# --- cleanup, CLIENT UNBLOCK -----------------------------------------------------------------
def test_closed_waiting_connection_is_forgotten(target):
    server, r = target
    import socket
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n")
    wait_blocked(r, 1)
    s.close()
    deadline = time.monotonic() + 3
    while blocked_clients(r) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert blocked_clients(r) in (0, None)
    r.rpush("k", "kept")
    time.sleep(0.1)
    assert r.lrange("k", 0, -1) == [b"kept"]


def test_timed_out_waiter_does_not_consume(target):
    server, r = target
    t = Blocked(server, "BLPOP", "k", "0.1")
    t.start()
    assert t.finish() is None
    r.rpush("k", "v")
    time.sleep(0.1)
    assert r.lrange("k", 0, -1) == [b"v"]


def test_client_unblock_timeout_and_error(target):
    server, r = target
    t = start(server, r, "BLPOP", "k", "0")
    assert r.execute_command("CLIENT", "UNBLOCK", t.client_id) == 1
    assert t.finish() is None and t.error is None
    t = start(server, r, "BRPOPLPUSH", "k", "d", "0")
    assert r.execute_command("CLIENT", "UNBLOCK", t.client_id, "ERROR") == 1
    t.finish()
    assert isinstance(t.error, redis.ResponseError)
    assert str(t.error) == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    assert r.execute_command("CLIENT", "UNBLOCK", t.client_id) == 0
    assert r.execute_command("CLIENT", "UNBLOCK", r.client_id()) == 0
    assert r.execute_command("CLIENT", "UNBLOCK", 999999, "TIMEOUT") == 0
    with pytest.raises(redis.ResponseError,
                       match="^CLIENT UNBLOCK reason should be TIMEOUT or ERROR$"):
        r.execute_command("CLIENT", "UNBLOCK", 1, "LATER")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("CLIENT", "UNBLOCK", "abc")
    r.rpush("k", "v")
    assert r.lrange("k", 0, -1) == [b"v"]


def test_blocked_clients_in_info(target):
    server, r = target
    if blocked_clients(r) is None:
        pytest.xfail("INFO clients has no blocked_clients field yet (server module)")
    t = start(server, r, "BLPOP", "k", "0")
    assert blocked_clients(r) == 1
    r.rpush("k", "v")
    t.finish()
    assert blocked_clients(r) == 0


def test_blmove_woken_with_wrongtype_destination_gets_error(target):
    server, r = target
    t = start(server, r, "BLMOVE", "src", "dst", "LEFT", "LEFT", "5")
    r.set("dst", "a string")
    r.rpush("src", "v")
    t.finish()
    assert isinstance(t.error, redis.ResponseError)
    assert str(t.error).startswith("WRONGTYPE")
    assert r.lrange("src", 0, -1) == [b"v"]


def test_blocked_on_several_keys_is_served_once(target):
    server, r = target
    t = start(server, r, "BLPOP", "a", "b", "a", "5")
    r.rpush("b", "1")
    r.rpush("a", "2")
    assert t.finish() == [b"b", b"1"]
    assert r.lrange("a", 0, -1) == [b"2"]


def test_several_keys_served_from_the_key_that_got_data_first(target):
    """Both keys get data before the waiter is retried (one pipelined read here, one
    transaction in Redis): Redis 7.0 pops from the key signalled first, not argument order."""
    server, r = target
    try:
        r.execute_command("MULTI")
        r.execute_command("DISCARD")
        transaction = True
    except redis.ResponseError:  # no MULTI yet in ledis: one pipelined read does the same
        transaction = False
    t = start(server, r, "BLPOP", "a", "b", "5")
    p = r.pipeline(transaction=transaction)
    p.rpush("b", "from-b")
    p.rpush("a", "from-a")
    p.execute()
    assert t.finish() == [b"b", b"from-b"]
    assert r.lrange("a", 0, -1) == [b"from-a"]


def test_blocked_client_is_served_before_the_next_pipelined_command(target):
    server, r = target
    t = start(server, r, "BLPOP", "k", "5")
    p = r.pipeline(transaction=False)
    p.rpush("k", "v")
    p.lpop("k")
    p.rpush("k", "w")
    p.lpop("k")
    assert p.execute() == [1, None, 1, b"w"]
    assert t.finish() == [b"k", b"v"]


def test_many_waiters_each_served_once(target):
    server, r = target
    threads = [start(server, r, "BRPOP", "q", "other", "5", n=i + 1) for i in range(20)]
    r.lpush("q", *[b"e%d" % i for i in range(25)])
    results = [t.finish() for t in threads]
    assert results == [[b"q", b"e%d" % i] for i in range(20)]
    assert r.lrange("q", 0, -1) == [b"e%d" % i for i in range(24, 19, -1)]
