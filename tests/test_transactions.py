"""MULTI / EXEC / DISCARD / WATCH / UNWATCH through real clients (redis-py, asyncio-redis).

Reply-by-reply comparisons with redis-server are in test_transactions_diff.py; this file covers
what needs several clients, timing or a crash: WATCH races, changes made outside the
dispatcher (expiry, blocked clients), atomicity after ``kill -9`` during a large EXEC.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import redis


@pytest.fixture
def c(server):
    """One RESP2 connection (MULTI state lives on a connection, not a pool)."""
    client = server.client(protocol=2, single_connection_client=True)
    client.flushall()
    yield client
    client.close()


def one(server, **kw):
    return server.client(protocol=2, single_connection_client=True, **kw)


def raw(client, *args):
    """Send a command and read its reply without redis-py's reply callbacks."""
    client.connection.send_command(*args)
    return client.connection.read_response()


def test_multi_exec_pipeline(r):
    with r.pipeline(transaction=True) as p:
        p.set("a", 1).incr("a").lpush("l", "x", "y").lrange("l", 0, -1)
        assert p.execute() == [True, 2, 2, [b"y", b"x"]]


def test_exec_runtime_error_is_per_command(r):
    with r.pipeline(transaction=True) as p:
        p.set("s", "text").incr("s").set("t", "ok")
        results = p.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], redis.ResponseError)
    assert str(results[1]) == "value is not an integer or out of range"
    assert results[2] is True
    assert r.get("t") == b"ok"


def test_execabort_discards_everything(c):
    assert raw(c, "MULTI") == b"OK"
    assert raw(c, "SET", "x", "1") == b"QUEUED"
    with pytest.raises(redis.ResponseError, match="unknown command"):
        raw(c, "NOSUCHCOMMAND")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        raw(c, "GET")
    with pytest.raises(redis.exceptions.ExecAbortError,
                       match="Transaction discarded because of previous errors"):
        raw(c, "EXEC")
    assert c.get("x") is None
    assert c.ping() is True  # back to normal mode


def test_nested_multi_and_watch_inside_multi(c):
    raw(c, "MULTI")
    with pytest.raises(redis.ResponseError, match="MULTI calls can not be nested"):
        raw(c, "MULTI")
    with pytest.raises(redis.ResponseError, match="WATCH inside MULTI is not allowed"):
        raw(c, "WATCH", "k")
    assert raw(c, "SET", "k", "v") == b"QUEUED"
    assert raw(c, "EXEC") == [b"OK"]  # those errors do not abort


def test_discard_and_client_list_multi(c, server):
    my_id = c.client_id()
    raw(c, "MULTI")
    raw(c, "SET", "k", "v")
    raw(c, "SET", "k2", "v")
    other = server.client()
    [mine] = [x for x in other.client_list() if x["id"] == str(my_id)]
    assert mine["multi"] == "2" and "x" in mine["flags"]
    assert raw(c, "DISCARD") == b"OK"
    assert c.exists("k", "k2") == 0
    [mine] = [x for x in other.client_list() if x["id"] == str(my_id)]
    assert mine["multi"] == "-1"


def test_blocking_commands_in_multi_do_not_block(r):
    start = time.monotonic()
    with r.pipeline(transaction=True) as p:
        p.blpop(["empty"], 0).brpoplpush("empty", "dst", 0).bzpopmin("zempty", 0)
        assert p.execute() == [None, None, None]
    assert time.monotonic() - start < 1


def test_scripts_in_multi(r):
    with r.pipeline(transaction=True) as p:
        p.eval("redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])",
               1, "k", "v")
        p.eval("return redis.call('incr', KEYS[1])", 1, "n")
        assert p.execute() == [b"v", 1]


def test_reset_leaves_multi_and_unwatches(server):
    a = one(server)
    b = server.client()
    a.flushall()
    raw(a, "WATCH", "w")
    raw(a, "MULTI")
    raw(a, "SET", "x", "1")
    assert raw(a, "RESET") == b"RESET"
    b.set("w", "changed")
    raw(a, "MULTI")
    raw(a, "SET", "x", "2")
    assert raw(a, "EXEC") == [b"OK"]  # the old WATCH is gone
    assert a.get("x") == b"2"


# --- WATCH -----------------------------------------------------------------------------------


def test_watch_aborts_when_another_client_writes(server):
    a = server.client()
    b = server.client()
    a.flushall()
    a.set("k", 1)
    with a.pipeline(transaction=True) as p:
        p.watch("k")
        b.incr("k")
        p.multi()
        p.set("k", "mine")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert a.get("k") == b"2"


@pytest.mark.parametrize("change", [
    ("HSET", "h", "f", "new"),  # a sub-key change that keeps the metadata size
    ("LSET", "l", "0", "new"),
    ("ZADD", "z", "5", "m"),
    ("SETRANGE", "s", "0", "x"),
    ("EXPIRE", "s", "100"),
    ("PERSIST", "p"),
    ("RENAME", "s", "s2"),
    ("DEL", "h"),
    ("LMOVE", "l", "l", "LEFT", "LEFT"),  # a one-element list rotated: nothing written
    ("RPOPLPUSH", "l", "l"),
])
def test_watch_sees_every_kind_of_write(server, change):
    a = one(server)
    b = server.client()
    a.flushall()
    b.hset("h", "f", "old")
    b.rpush("l", "old")
    b.zadd("z", {"m": 1})
    b.set("s", "abc")
    b.set("p", "v", ex=100)
    raw(a, "WATCH", "h", "l", "z", "s", "p", "s2")
    b.execute_command(*change)
    raw(a, "MULTI")
    raw(a, "PING")
    assert raw(a, "EXEC") is None


def test_watch_not_touched_by_reads_and_other_keys(server):
    a = one(server)
    b = server.client()
    a.flushall()
    b.set("k", "v")
    raw(a, "WATCH", "k")
    b.get("k")
    b.set("other", "x")
    b.execute_command("SET", "k", "v2", "NX")  # no change
    b.delete("missing")
    raw(a, "MULTI")
    raw(a, "GET", "k")
    assert raw(a, "EXEC") == [b"v"]


def test_watch_in_another_db_is_separate(server):
    a = one(server)
    b = server.client(db=3)
    a.flushall()
    raw(a, "WATCH", "k")
    b.set("k", "in db 3")
    raw(a, "MULTI")
    raw(a, "PING")
    assert raw(a, "EXEC") == [b"PONG"]


def test_watch_sees_active_expiry(server):
    a = one(server)
    b = server.client()
    a.flushall()
    b.set("e", "v", px=150)
    raw(a, "WATCH", "e")
    deadline = time.time() + 5
    while b.execute_command("DBSIZE") and time.time() < deadline:  # the cron removes it
        time.sleep(0.05)
    raw(a, "MULTI")
    raw(a, "PING")
    assert raw(a, "EXEC") is None


def test_watch_sees_blocked_client_served_into_watched_key(server):
    """BLMOVE served after a push writes its destination outside the dispatcher."""
    a = one(server)
    blocked = server.client()
    pusher = server.client()
    a.flushall()
    result = {}

    def block():
        result["v"] = blocked.blmove("src", "dst", 5, "LEFT", "RIGHT")

    t = threading.Thread(target=block)
    t.start()
    deadline = time.time() + 5
    while not any(c["cmd"] == "blmove" for c in pusher.client_list()):
        assert time.time() < deadline, "the BLMOVE client never blocked"
        time.sleep(0.02)
    raw(a, "WATCH", "dst")
    pusher.rpush("src", "x")
    t.join(5)
    assert result["v"] == b"x"
    raw(a, "MULTI")
    raw(a, "LRANGE", "dst", "0", "-1")
    assert raw(a, "EXEC") is None


def test_watch_touched_by_script_and_flush(server):
    a = one(server)
    b = server.client()
    a.flushall()
    raw(a, "WATCH", "k")
    b.eval("return redis.call('set', KEYS[1], 'lua')", 1, "k")
    raw(a, "MULTI")
    assert raw(a, "EXEC") is None
    raw(a, "WATCH", "k")
    b.flushdb()
    raw(a, "MULTI")
    assert raw(a, "EXEC") is None
    raw(a, "WATCH", "k")  # missing key: FLUSHALL changes nothing
    b.flushall()
    raw(a, "MULTI")
    assert raw(a, "EXEC") == []


def test_optimistic_locking_race(server):
    """Many clients increment one counter with WATCH/GET/MULTI/SET: no update is lost."""
    rounds, workers = 60, 4
    setup = server.client()
    setup.flushall()
    setup.set("counter", 0)
    def worker():
        c = server.client()

        def incr(pipe):
            value = int(pipe.get("counter"))
            time.sleep(0.0005)  # widen the window between read and EXEC
            pipe.multi()
            pipe.set("counter", value + 1)

        for _ in range(rounds):
            c.transaction(incr, "counter")
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert int(setup.get("counter")) == rounds * workers


def test_watch_race_counts_aborts(server):
    """Two raw clients interleaved deterministically: exactly the raced EXEC aborts."""
    a = one(server)
    b = one(server)
    a.flushall()
    aborted = 0
    for i in range(50):
        raw(a, "WATCH", "k")
        if i % 2:
            b.execute_command("INCR", "k")
        raw(a, "MULTI")
        raw(a, "INCR", "k")
        if raw(a, "EXEC") is None:
            aborted += 1
    assert aborted == 25
    assert int(a.get("k")) == 50


# --- asyncio-redis ---------------------------------------------------------------------------


def test_asyncio_redis_transaction(server):
    asyncio_redis = pytest.importorskip("asyncio_redis")

    async def main():
        conn = await asyncio_redis.Connection.create(host="127.0.0.1", port=server.port)
        try:
            await conn.flushall()
            tx = await conn.multi()
            f1 = await tx.set("a", "1")
            f2 = await tx.incr("a")
            f3 = await tx.get("a")
            await tx.exec()
            return (await f1).status, await f2, await f3
        finally:
            conn.close()

    assert asyncio.run(main()) == ("OK", 2, "2")


# --- crash atomicity -----------------------------------------------------------------------


def test_large_exec_is_atomic_after_kill9(fresh_server):
    """kill -9 while a 20000-command EXEC is in flight: after restart, all or nothing."""
    n = 20000
    srv = fresh_server()
    outcomes = []
    for delay in (0.0, 0.05, 0.2, 0.5):
        c = srv.client()
        c.flushall()
        payload = [b"*1\r\n$5\r\nMULTI\r\n"]
        for i in range(n):
            key = b"k%d" % i
            payload.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(key), key))
        payload.append(b"*1\r\n$4\r\nEXEC\r\n")
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"".join(payload))
        time.sleep(delay)
        srv.kill()
        s.close()
        srv.start()
        count = srv.client().dbsize()
        assert count in (0, n), f"partial EXEC after kill -9: {count} keys"
        outcomes.append(count)
    print("kill -9 outcomes (keys after restart):", outcomes)
