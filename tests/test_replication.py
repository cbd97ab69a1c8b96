"""Master-replica replication over the write log: 2-3 ledis servers on loopback.

After each scenario ``assert_same`` waits for the replica to reach the master's seq and
compares ``LEDIS.DIGEST`` (a hash of the logical content of every db) on both.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
import redis

from ledis import errors
from tests.helpers import LedisProcess
from tests.rawresp import RawClient


def wait_until(fn, timeout=20.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except redis.ConnectionError:
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def info(client):
    return client.info("replication")


def seq(client) -> int:
    return int(info(client)["master_repl_offset"])


def assert_same(master, replica, timeout=30.0):
    target = seq(master)
    wait_until(lambda: info(replica).get("master_link_status") == "up"
               and int(info(replica)["slave_repl_offset"]) >= target,
               timeout, what=f"replica at seq {target}")
    assert master.execute_command("LEDIS.DIGEST") == replica.execute_command("LEDIS.DIGEST")


def fill_all_types(c, n, prefix="k", db=0):
    pipe = c.pipeline(transaction=False)
    for i in range(n):
        kind = i % 5
        key = f"{prefix}:{i}"
        if kind == 0:
            pipe.set(key, f"v{i}" * (1 + i % 7))
        elif kind == 1:
            pipe.hset(key, mapping={f"f{j}": j for j in range(1 + i % 4)})
        elif kind == 2:
            pipe.rpush(key, *[f"e{j}" for j in range(1 + i % 4)])
        elif kind == 3:
            pipe.sadd(key, *[f"m{j}" for j in range(1 + i % 4)])
        else:
            pipe.zadd(key, {f"z{j}": j * 1.5 for j in range(1 + i % 4)})
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


@pytest.fixture
def servers():
    procs: list[LedisProcess] = []

    def make(*extra: str, **kw) -> LedisProcess:
        proc = LedisProcess(*extra, **kw).start()
        procs.append(proc)
        return proc

    yield make
    for proc in procs:
        proc.cleanup()


def raw_command(port: int, *args: bytes) -> bytes:
    """One command over a plain socket; the raw reply line (redis-py maps SLAVEOF's reply
    to a bool)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return sock.recv(65536)


def replica_of(make, master: LedisProcess, *extra: str) -> LedisProcess:
    return make("--replicaof", f"127.0.0.1 {master.port}", *extra)


def test_full_sync_live_stream_and_read_only(servers):
    m = servers()
    mc = m.client()
    fill_all_types(mc, 2000)
    m3 = m.client(db=3)
    fill_all_types(m3, 200, prefix="three")
    mc.execute_command("SCRIPT", "LOAD", "return 1")
    s = replica_of(servers, m)
    sc = s.client()
    assert_same(mc, sc)
    assert sc.dbsize() == mc.dbsize() == 2000
    assert s.client(db=3).dbsize() == 200
    assert info(sc)["role"] == "slave"
    assert int(info(mc)["connected_slaves"]) == 1
    assert info(mc)["slave0"]["state"] == "online"
    # live stream: every type, overwrite, delete, scripts, MULTI, FLUSHDB of another db
    mc.incr("counter")
    mc.hset("k:1", "new", "x")
    mc.lpush("k:2", "head")
    mc.srem("k:3", "m0")
    mc.zincrby("k:4", 10, "z0")
    mc.delete("k:5", "k:6")
    mc.eval("redis.call('set', KEYS[1], ARGV[1]); return redis.call('incr', KEYS[2])", 2,
            "fromlua", "luactr", "v")
    pipe = mc.pipeline(transaction=True)
    pipe.set("tx1", 1).set("tx2", 2)
    pipe.execute()
    m3.flushdb()
    mc.swapdb(0, 5)
    assert_same(mc, sc)
    assert s.client(db=5).get("counter") == b"1"
    assert s.client(db=3).dbsize() == 0
    assert sc.dbsize() == mc.dbsize() == 0
    assert s.client(db=5).dbsize() == m.client(db=5).dbsize() > 2000
    # read-only
    with pytest.raises(redis.ReadOnlyError):
        sc.set("x", 1)
    # in MULTI, as Redis: refused when queued (reads queue), and EXEC aborts
    raw = RawClient(s.port)
    assert raw.call("MULTI") == b"OK"
    assert raw.call("GET", "x") == b"QUEUED"
    assert raw.call("SET", "x", "1") == ("err", errors.READONLY)
    assert raw.call("EXEC") == ("err", errors.EXECABORT)
    assert raw.call("GET", "x") is None
    raw.close()
    assert sc.execute_command("EVALSHA", mc.execute_command("SCRIPT", "LOAD", "return 1"),
                              0) == 1
    role = sc.execute_command("ROLE")
    assert role[0] == b"slave" and role[2] == m.port and role[3] == b"connected"
    mrole = mc.execute_command("ROLE")
    assert mrole[0] == b"master" and mrole[1] == seq(mc) and len(mrole[2]) == 1
    assert mrole[2][0][1] == str(s.port).encode()


def test_concurrent_writes_while_syncing(servers):
    m = servers()
    mc = m.client()
    fill_all_types(mc, 5000)
    mc.execute_command("FUNCTION", "LOAD", "#!lua name=clib\nredis.register_function("
                       "'bump', function(keys, args) redis.call('hincrby', keys[1], 'n', 1) "
                       "return redis.call('rpush', keys[2], args[1]) end)")
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(n):
        c = m.client()
        rnd = random.Random(n)
        try:
            while not stop.is_set():
                k = f"c{n}:{rnd.randrange(200)}"
                op = rnd.randrange(8)
                if op == 0:
                    c.set(k + ":s", rnd.random())
                elif op == 1:
                    c.hincrby(k + ":h", rnd.choice("abc"), 1)
                elif op == 2:
                    c.rpush(k + ":l", rnd.random())
                    c.ltrim(k + ":l", -5, -1)
                elif op == 3:
                    c.sadd(k + ":set", rnd.randrange(10))
                elif op == 4:
                    c.zadd(k + ":z", {str(rnd.randrange(10)): rnd.random()})
                elif op == 5:
                    c.delete(f"k:{rnd.randrange(5000)}")
                elif op == 6:
                    c.eval("redis.call('set', KEYS[1], math.random()); "
                           "return redis.call('incr', KEYS[2])", 2, k + ":lua", k + ":luac")
                else:
                    c.fcall("bump", 2, k + ":fh", k + ":fl", rnd.random())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    s = replica_of(servers, m)
    sc = s.client()
    wait_until(lambda: info(sc).get("master_link_status") == "up", what="link up")
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert_same(mc, sc)


def test_replica_restart_resumes_without_full_sync(servers):
    m = servers()
    mc = m.client()
    fill_all_types(mc, 500)
    s = replica_of(servers, m)
    sc = s.client()
    assert_same(mc, sc)
    assert info(mc)["full_syncs"] == 1
    s.stop()
    fill_all_types(mc, 300, prefix="while-down")
    mc.delete("k:0")
    s.start()
    sc = s.client()
    assert_same(mc, sc)
    mi = info(mc)
    assert mi["full_syncs"] == 1 and mi["partial_syncs"] == 1
    # and once more after a kill -9 of the replica
    s.kill()
    mc.set("after-kill", 1)
    s.start()
    sc = s.client()
    assert_same(mc, sc)
    assert info(mc)["full_syncs"] == 1


def test_master_restart_and_link_cut(servers):
    m = servers()
    mc = m.client()
    fill_all_types(mc, 300)
    s = replica_of(servers, m)
    sc = s.client()
    assert_same(mc, sc)
    m.restart()
    mc = m.client()
    mc.set("after-restart", 1)
    assert_same(mc, sc)
    assert sc.get("after-restart") == b"1"
    assert info(mc)["full_syncs"] == 0  # counters are per process: only a partial sync
    # cut the link from the master's side mid-stream
    stop = threading.Event()

    def writer():
        c = m.client()
        i = 0
        while not stop.is_set():
            c.set(f"cut:{i}", i)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.2)
    killed = mc.client_kill_filter(_type="replica")
    time.sleep(0.3)
    stop.set()
    t.join()
    assert killed == 1
    assert_same(mc, sc)
    assert info(mc)["full_syncs"] == 0


def test_expiry_on_master_propagates(servers):
    m = servers()
    mc = m.client()
    s = replica_of(servers, m)
    sc = s.client()
    mc.set("short", 1, px=300)
    mc.hset("shorth", "f", 1)
    mc.pexpire("shorth", 300)
    mc.set("long", 1, ex=100)
    assert_same(mc, sc)
    assert sc.pttl("long") > 90_000
    wait_until(lambda: mc.info("keyspace").get("db0", {}).get("keys") == 1, what="expiry")
    assert_same(mc, sc)
    assert sc.dbsize() == 1 and sc.info("keyspace")["db0"]["keys"] == 1


def test_trimmed_log_forces_full_sync(servers):
    m = servers("--repl-log-keep", "10")
    mc = m.client()
    s = replica_of(servers, m)
    sc = s.client()
    mc.set("a", 1)
    assert_same(mc, sc)
    s.stop()
    for i in range(1100):  # one record each: the log is trimmed past the replica
        mc.set(f"t{i}", i)
    s.start()
    sc = s.client()
    assert_same(mc, sc)
    assert info(mc)["full_syncs"] == 2


def test_promotion_and_other_replica_follows(servers):
    m = servers()
    mc = m.client()
    fill_all_types(mc, 300)
    a = replica_of(servers, m)
    b = replica_of(servers, m)
    ac, bc = a.client(), b.client()
    assert_same(mc, ac)
    assert_same(mc, bc)
    old_id = info(mc)["master_replid"]
    m.stop()
    assert ac.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    ai = info(ac)
    assert ai["role"] == "master" and ai["master_replid"] != old_id
    assert str(ai["master_replid2"]) == old_id
    ac.set("on-new-master", 1)
    assert bc.execute_command("REPLICAOF", "127.0.0.1", a.port) == b"OK"
    assert_same(ac, bc)
    assert bc.get("on-new-master") == b"1"
    assert info(ac)["full_syncs"] == 0 and info(ac)["partial_syncs"] == 1
    assert info(bc)["master_replid"] == info(ac)["master_replid"]


def test_chained_replica(servers):
    m = servers()
    mc = m.client()
    fill_all_types(mc, 300)
    a = replica_of(servers, m)
    b = replica_of(servers, a)
    ac, bc = a.client(), b.client()
    mc.set("x", 1)
    mc.eval("redis.call('rpush', 'L', 'a', 'b'); return 1", 0)
    assert_same(mc, ac)
    assert_same(mc, bc)
    assert info(ac)["connected_slaves"] == 1
    with pytest.raises(redis.ReadOnlyError):
        bc.set("x", 2)


def test_functions_replicate_and_work_after_promotion(servers):
    m = servers()
    mc = m.client()
    s = replica_of(servers, m)
    sc = s.client()
    lib = ("#!lua name=rlib\nredis.register_function('rset', function(keys, args) "
           "return redis.call('set', keys[1], args[1]) end)\n"
           "redis.register_function{function_name='rget', callback=function(keys) "
           "return redis.call('get', keys[1]) end, flags={'no-writes'}}")
    mc.execute_command("FUNCTION", "LOAD", lib)
    mc.execute_command("FCALL", "rset", 1, "fk", "fv")
    assert_same(mc, sc)
    assert sc.execute_command("FCALL_RO", "rget", 1, "fk") == b"fv"
    sc.execute_command("REPLICAOF", "NO", "ONE")
    assert sc.execute_command("FCALL", "rset", 1, "fk", "new") == b"OK"


def test_wait(servers):
    m = servers()
    mc = m.client()
    assert mc.execute_command("WAIT", 0, 0) == 0
    t0 = time.time()
    assert mc.execute_command("WAIT", 1, 200) == 0
    assert time.time() - t0 >= 0.19
    s = replica_of(servers, m)
    sc = s.client()
    wait_until(lambda: info(sc).get("master_link_status") == "up", what="link up")
    mc.set("w", 1)
    assert mc.execute_command("WAIT", 1, 5000) == 1
    assert sc.get("w") == b"1"
    with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica"):
        sc.execute_command("WAIT", 1, 0)


def test_semi_sync_holds_replies_then_degrades(servers):
    m = servers("--min-replica-acks", "1", "--semi-sync-timeout", "1000")
    mc = m.client()
    s = replica_of(servers, m)
    sc = s.client()
    wait_until(lambda: info(mc).get("semi_sync_status") == "on", what="semi-sync on")
    for i in range(50):
        mc.set(f"ss{i}", i)
        assert int(info(sc)["slave_repl_offset"]) >= 1  # the write was acked first
    assert sc.get("ss49") == b"49"  # acknowledged => already on the replica
    assert info(mc)["semi_sync_timeouts"] == 0
    # a replica that stops acking (SIGSTOP): the next write waits for the timeout, then async
    import signal

    s.proc.send_signal(signal.SIGSTOP)
    try:
        t0 = time.time()
        mc.set("during-stop", 1)
        assert time.time() - t0 >= 0.95
        assert info(mc)["semi_sync_timeouts"] == 1
        assert info(mc)["semi_sync_status"] == "async"
        t0 = time.time()
        mc.set("async-now", 1)
        assert time.time() - t0 < 0.9
    finally:
        s.proc.send_signal(signal.SIGCONT)
    assert_same(mc, sc)
    wait_until(lambda: info(mc)["semi_sync_status"] == "on", what="back to semi-sync")


def _loss_run(servers, semi: bool) -> tuple[int, int]:
    extra = ("--min-replica-acks", "1", "--semi-sync-timeout", "10000") if semi else ()
    m = servers(*extra)
    s = replica_of(servers, m)
    sc = s.client()
    wait_until(lambda: info(sc).get("master_link_status") == "up", what="link up")
    acked: list[list[str]] = [[] for _ in range(4)]
    stop = threading.Event()

    def writer(n):
        c = m.client(socket_timeout=5)
        i = 0
        while not stop.is_set():
            key = f"w{n}:{i}"
            try:
                c.set(key, i)
            except (redis.ConnectionError, redis.TimeoutError):
                return
            acked[n].append(key)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    if semi:  # the gate really was holding replies, not degraded to async
        mi = info(m.client())
        assert mi["semi_sync_status"] == "on" and mi["semi_sync_timeouts"] == 0
    m.kill()
    stop.set()
    for t in threads:
        t.join()
    sc.execute_command("REPLICAOF", "NO", "ONE")
    keys = [k for part in acked for k in part]
    lost = 0
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        lost += sum(1 for v in sc.mget(chunk) if v is None)
    return len(keys), lost


def test_semi_sync_kill_9_loses_no_acknowledged_write(servers):
    total, lost = _loss_run(servers, semi=True)
    assert total > 100
    assert lost == 0


def test_async_kill_9_reports_loss(servers, capsys):
    total, lost = _loss_run(servers, semi=False)
    assert total > 100
    with capsys.disabled():
        print(f"\nasync kill -9: {lost} of {total} acknowledged writes lost")


@pytest.mark.slow
def test_full_sync_100k_keys_all_types(servers):
    m = servers()
    mc = m.client()
    fill_all_types(mc, 100_000)
    t0 = time.time()
    s = replica_of(servers, m)
    sc = s.client()
    seen = []
    while True:  # progress is visible in INFO while the sync runs
        ri = info(sc)
        if ri["master_link_status"] == "up":
            break
        if ri["master_sync_in_progress"] == 1:
            seen.append(float(ri["master_sync_perc"]))
        time.sleep(0.02)
    assert seen and 0 <= min(seen) <= max(seen) <= 100
    assert_same(mc, sc, timeout=300)
    elapsed = time.time() - t0
    print(f"\nfull sync of 100k keys: {elapsed:.1f}s ({100_000 / elapsed:.0f} keys/s)")
    assert sc.dbsize() == 100_000


def test_command_errors_match_redis(servers, ref):
    m = servers()
    mc = m.client()
    for args in (("REPLICAOF", "localhost", "abc"), ("REPLICAOF", "localhost", "70000"),
                 ("WAIT", "1", "-1"), ("WAIT", "a", "0"), ("REPLCONF", "foo", "bar"),
                 ("SLAVEOF", "h")):
        results = []
        for client in (mc, ref):
            try:
                results.append(("ok", client.execute_command(*args)))
            except redis.ResponseError as exc:
                results.append(("err", str(exc)))
        assert results[0] == results[1], args
    assert mc.execute_command("REPLCONF", "listening-port", "1") == b"OK"
    assert mc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert mc.execute_command("ROLE")[0] == b"master"


def test_exec_after_becoming_a_replica(servers):
    """A server turned into a read-only replica between MULTI's queueing and EXEC: EXEC of a
    transaction that queued a write is refused whole and the transaction discarded, while one
    of reads runs (redis-server 7.0 answers both the same, checked by hand)."""
    m = servers()
    s = servers()
    a, admin = RawClient(s.port), s.client()
    assert [a.call("MULTI"), a.call("SET", "k", "v"), a.call("GET", "k")] == \
        [b"OK", b"QUEUED", b"QUEUED"]
    assert admin.execute_command("REPLICAOF", "127.0.0.1", m.port) == b"OK"
    assert a.call("EXEC") == ("err", errors.EXECABORT_BECAUSE.format(errors.READONLY))
    assert a.call("EXEC") == ("err", "ERR EXEC without MULTI")  # discarded
    # reads run once the full sync has loaded (until then they get LOADING, as in Redis)
    wait_until(lambda: info(admin)["master_link_status"] == "up", what="link up")
    assert [a.call("MULTI"), a.call("GET", "k"), a.call("EXEC")] == [b"OK", b"QUEUED", [None]]
    assert admin.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert [a.call("MULTI"), a.call("SET", "k", "v"), a.call("EXEC")] == \
        [b"OK", b"QUEUED", [b"OK"]]
    a.close()


def test_masterauth(servers):
    m = servers("--requirepass", "sekret")
    mc = m.client(password="sekret")
    mc.set("secret-key", 1)
    bad = replica_of(servers, m)
    time.sleep(0.5)
    assert info(bad.client())["master_link_status"] == "down"
    good = replica_of(servers, m, "--masterauth", "sekret")
    assert_same(mc, good.client())
    assert good.client().get("secret-key") == b"1"


def test_replicaof_switch_and_already_connected(servers):
    m = servers()
    mc = m.client()
    mc.set("a", 1)
    s = servers()
    sc = s.client()
    sc.set("local-only", 1)
    assert sc.execute_command("REPLICAOF", "127.0.0.1", m.port) == b"OK"
    assert raw_command(s.port, b"SLAVEOF", b"127.0.0.1", str(m.port).encode()) == \
        b"+OK Already connected to specified master\r\n"
    assert_same(mc, sc)
    assert sc.get("local-only") is None  # different history: full sync replaced it
    assert sc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    sc.set("writable-again", 1)
    assert sc.get("writable-again") == b"1"


def test_replica_restarted_as_master_rejoins_incrementally(servers):
    m = servers()
    mc = m.client()
    fill_all_types(mc, 200)
    s = servers()
    sc = s.client()
    sc.execute_command("REPLICAOF", "127.0.0.1", m.port)
    assert_same(mc, sc)
    s.restart()  # without --replicaof: it starts as a master, under a new replid
    sc = s.client()
    assert info(sc)["role"] == "master"
    assert info(sc)["master_replid"] != info(mc)["master_replid"]
    mc.set("later", 1)
    sc.execute_command("REPLICAOF", "127.0.0.1", m.port)
    assert_same(mc, sc)
    assert info(mc)["full_syncs"] == 1 and info(mc)["partial_syncs"] == 1
    assert info(sc)["master_replid"] == info(mc)["master_replid"]


def test_master_restart_new_history_keeps_replicas_incremental(servers):
    m = servers()
    mc = m.client()
    s = replica_of(servers, m)
    sc = s.client()
    mc.set("a", 1)
    assert_same(mc, sc)
    before = info(mc)["master_replid"]
    m.restart()
    mc = m.client()
    mi = info(mc)
    assert mi["master_replid"] != before and str(mi["master_replid2"]) == before
    mc.set("b", 2)
    assert_same(mc, sc)
    assert info(mc)["full_syncs"] == 0 and info(mc)["partial_syncs"] == 1


def test_replica_serve_stale_data_no(servers, tmp_path):
    m = servers()
    mc = m.client()
    mc.set("a", 1)
    cfg = tmp_path / "replica.yaml"
    cfg.write_text(f'replication:\n  replicaof: "127.0.0.1 {m.port}"\n'
                   f"  replica_serve_stale_data: no\n")
    s = servers(config=str(cfg))
    sc = s.client()
    assert_same(mc, sc)
    assert sc.get("a") == b"1"
    queued = RawClient(s.port)  # EXEC'd once the link is down
    assert [queued.call("MULTI"), queued.call("GET", "a")] == [b"OK", b"QUEUED"]
    m.stop()
    wait_until(lambda: info(sc)["master_link_status"] == "down", what="link down")
    # as redis-server 7.0 (checked by hand): EXEC is refused for its queued commands
    assert queued.call("EXEC") == ("err", errors.EXECABORT_BECAUSE.format(errors.MASTERDOWN))
    queued.close()
    for args in (("GET", "a"), ("PING",), ("DBSIZE",)):
        with pytest.raises(redis.ResponseError, match="^Link with MASTER is down"):
            sc.execute_command(*args)
    # in MULTI, as Redis: refused when queued, and EXEC aborts
    raw = RawClient(s.port)
    assert raw.call("MULTI") == b"OK"
    assert raw.call("GET", "a") == ("err", errors.MASTERDOWN)
    assert raw.call("EXEC") == ("err", errors.EXECABORT)
    raw.close()
    assert sc.execute_command("ROLE")[0] == b"slave"
    sc.execute_command("REPLICAOF", "NO", "ONE")
    assert sc.get("a") == b"1"


def test_log_retention_by_age_and_size(servers):
    m = servers("--repl-log-retention", "1", "--repl-log", "always")
    mc = m.client()
    for i in range(200):
        mc.set(f"old{i}", i)
    first = int(info(mc)["repl_backlog_first_byte_offset"])
    time.sleep(1.2)
    mc.set("new", 1)
    last = seq(mc)
    wait_until(lambda: int(info(mc)["repl_backlog_first_byte_offset"]) == last,
               what="records older than 1 s trimmed")
    assert int(info(mc)["repl_log_trimmed"]) >= 200 and first <= 2
    # a replica past the trimmed part needs a full sync, and gets one
    s = replica_of(servers, m)
    assert_same(mc, s.client())
    big = servers("--repl-log-max-mb", "1", "--repl-log", "always")
    bc = big.client()
    for i in range(60):
        bc.set(f"big{i}", b"x" * 100_000)  # ~6 MB of records
    wait_until(lambda: int(info(bc)["repl_backlog_histlen"]) < 40, what="size trim")
    assert int(info(bc)["repl_backlog_histlen"]) >= 1
    big.restart()  # the newest record is always kept: the seq survives a restart
    assert seq(big.client()) >= 60


def test_write_log_starts_with_the_first_replica(servers):
    """``repl_log: auto`` (the default): a standalone server writes no log (INFO's offset
    stays 0, as in Redis without a backlog); the first replica starts it with a full sync,
    and it stays on across a restart, so that replica then resumes incrementally."""
    m = servers()
    mc = m.client()
    fill_all_types(mc, 300)
    mc.delete("k:1")
    assert seq(mc) == 0
    s = replica_of(servers, m)
    sc = s.client()
    assert_same(mc, sc)
    mc.set("after", 1)
    assert_same(mc, sc)
    assert seq(mc) >= 1 and sc.get("after") == b"1"
    assert info(mc)["full_syncs"] == 1
    s.stop()
    m.restart()
    mc = m.client()
    mc.set("after-restart", 1)
    s.start()
    sc = s.client()
    assert_same(mc, sc)
    assert info(mc)["full_syncs"] == 0 and info(mc)["partial_syncs"] == 1


def test_repl_log_always_logs_without_replicas(servers):
    m = servers("--repl-log", "always")
    mc = m.client()
    mc.set("a", 1)
    mc.set("b", 2)
    assert seq(mc) >= 2
