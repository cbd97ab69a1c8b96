"""Scheduled functions (ledis/scripting/timers.py): redis.register_timer in FUNCTION
libraries, LEDIS.TIMERS, FUNCTION LIST's timers field, failures, no overlap, coalescing after
a restart, master-only runs across REPLICAOF role changes, the time limit."""

from __future__ import annotations

import time

import pytest
import redis

TICK = """#!lua name=tick
redis.register_timer{name='tick', every='EVERY', callback=function()
  redis.call('INCR', 'ticks')
end}
redis.register_function('noop', function() return 1 end)
"""


def tick_lib(every: str = "100ms") -> str:
    return TICK.replace("EVERY", every)


def timers(c) -> list[dict]:
    out = []
    for row in c.execute_command("LEDIS.TIMERS"):
        out.append(row if isinstance(row, dict) else dict(zip(row[::2], row[1::2], strict=True)))
    return out


def timer(c, name: bytes) -> dict:
    return next(t for t in timers(c) if t[b"name"] == name)


def ticks(c) -> int:
    return int(c.get("ticks") or 0)


def wait(cond, timeout: float = 20.0, what: str = "condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = cond()
        except redis.ConnectionError:
            last = None
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what} (last {last!r})")


@pytest.fixture
def f(r):
    r.function_flush()
    yield r
    r.function_flush()


def test_every_timer_runs_and_is_listed(f):
    before_ms = int(time.time() * 1000)
    assert f.function_load(tick_lib("100ms")) == b"tick"
    time.sleep(1.05)
    n = ticks(f)
    assert 6 <= n <= 11, n  # first run one period after loading, then every 100 ms
    row = timer(f, b"tick")
    assert row[b"library"] == b"tick" and row[b"schedule"] == b"every 100ms"
    assert row[b"runs"] in (n, n + 1) and row[b"errors"] == 0 and row[b"last_error"] is None
    assert before_ms < row[b"last_run_ms"] < row[b"next_run_ms"] <= row[b"last_run_ms"] + 200
    assert 0 < row[b"last_duration_us"] < 100_000
    lib = f.function_list()[0]
    lib = lib if isinstance(lib, dict) else dict(zip(lib[::2], lib[1::2], strict=True))
    listed = lib[b"timers"][0]
    listed = (listed if isinstance(listed, dict)
              else dict(zip(listed[::2], listed[1::2], strict=True)))
    assert listed == {b"name": b"tick", b"schedule": b"every 100ms"}
    assert f.fcall("noop", 0) == 1  # the library's functions work as usual


def test_cron_timer_is_listed_with_next_minute(f):
    f.function_load("#!lua name=crn\nredis.register_timer{name='c', cron='*/5 * * * *', "
                    "callback=function() redis.call('INCR', 'c') end}")
    row = timer(f, b"c")
    assert row[b"schedule"] == b"cron */5 * * * *"
    nxt = row[b"next_run_ms"]
    assert nxt % 300_000 == 0 and 0 < nxt - time.time() * 1000 <= 300_000
    assert row[b"runs"] == 0


@pytest.mark.parametrize("args,error", [
    ("name='t', every='5x'", "invalid every '5x'"),
    ("name='t', every='5ms'", "invalid every '5ms'"),
    ("name='t', cron='* * *'", "invalid cron"),
    ("name='t', cron='0 0 31 2 *'", "never matches"),
    ("name='t'", "exactly one of every or cron"),
    ("name='t', every='1s', cron='* * * * *'", "exactly one of every or cron"),
    ("every='1s'", "must get a name"),
    ("name='a b', every='1s'", "timer names can only contain"),
    ("name='t', every='1s', bogus=1", "unknown argument"),
])
def test_bad_timers_refused(f, args, error):
    cb = ", callback=function() end" if "bogus" not in args else ""
    code = "#!lua name=bad\nredis.register_timer{" + args + cb + "}"
    if "bogus" in args:
        code = code.replace("bogus=1", "bogus=1, callback=function() end")
    with pytest.raises(redis.ResponseError, match=error):
        f.function_load(code)
    assert timers(f) == [] and f.function_list() == []


def test_duplicate_timer_and_register_outside_load(f):
    with pytest.raises(redis.ResponseError, match="already exists"):
        f.function_load("#!lua name=dup\nfor i = 1, 2 do redis.register_timer{name='t', "
                        "every='1s', callback=function() end} end")
    f.function_load("#!lua name=late\nredis.register_function('late', function() "
                    "return redis.register_timer{name='x', every='1s', "
                    "callback=function() end} end)")
    with pytest.raises(redis.ResponseError):
        f.fcall("late", 0)
    assert timers(f) == []


def test_errors_are_counted_and_the_timer_keeps_running(f):
    f.function_load("#!lua name=bad\nredis.register_timer{name='boom', every='50ms', "
                    "callback=function() redis.call('INCR', 'tries') error('boom') end}")
    row = wait(lambda: (t := timer(f, b"boom"))[b"errors"] >= 3 and t, what="3 errors")
    assert row[b"runs"] >= row[b"errors"]
    assert b"boom" in row[b"last_error"]
    assert int(f.get("tries")) >= 3  # writes before the error stay, as with FCALL


def test_delete_and_replace_change_the_timers(f):
    f.function_load(tick_lib("50ms"))
    wait(lambda: ticks(f) >= 2, what="ticks")
    f.function_load(tick_lib("50ms").replace("name='tick'", "name='tock'"), replace=True)
    assert [t[b"name"] for t in timers(f)] == [b"tock"]
    f.function_delete("tick")
    assert timers(f) == []
    n = ticks(f)
    time.sleep(0.3)
    assert ticks(f) == n
    f.function_load(tick_lib("50ms"))
    f.function_flush()
    assert timers(f) == []
    n = ticks(f)
    time.sleep(0.3)
    assert ticks(f) == n


def test_no_overlap_and_slow_runs_coalesce(f):
    # every 50 ms, each run takes ~150 ms: runs never overlap, and the missed due times are
    # not replayed (about 1000/150 runs a second, not 20)
    f.function_load("""#!lua name=slow
redis.register_timer{name='slow', every='50ms', callback=function()
  if redis.call('INCR', 'active') > 1 then redis.call('INCR', 'overlaps') end
  local t = redis.call('TIME')
  local start = t[1] * 1000000 + t[2]
  local now = start
  while now - start < 150000 do
    t = redis.call('TIME')
    now = t[1] * 1000000 + t[2]
  end
  redis.call('DECR', 'active')
  redis.call('INCR', 'runs')
end}""")
    time.sleep(1.2)
    runs = int(f.get("runs") or 0)
    assert 3 <= runs <= 9, runs
    assert f.get("overlaps") is None
    assert int(f.get("active")) in (0, 1)


def test_coalescing_after_restart(fresh_server):
    s = fresh_server()
    c = s.client()
    c.function_load(tick_lib("2s"))
    wait(lambda: ticks(c) >= 1, timeout=10, what="first run")
    s.stop()
    time.sleep(5)  # 2-3 due times pass while the server is down
    s.start()
    c = s.client()
    started = time.time()
    assert ticks(c) in (1, 2)  # the catch-up run may already have happened
    # the overdue timer runs once right away (its last run was persisted) ...
    wait(lambda: ticks(c) == 2, timeout=1.0, what="one catch-up run")
    assert time.time() - started < 1.0
    row = timer(c, b"tick")
    assert row[b"runs"] == 1
    time.sleep(1.0)
    # ... and is not replayed for every missed period
    assert ticks(c) == 2 and timer(c, b"tick")[b"runs"] == 1


def test_master_only_and_role_changes(fresh_server):
    m = fresh_server()
    mc = m.client()
    mc.function_load(tick_lib("100ms"))
    s = fresh_server("--replicaof", f"127.0.0.1 {m.port}")
    sc = s.client()
    wait(lambda: sc.execute_command("LEDIS.TIMERS") and ticks(sc) >= 3, what="replicated ticks")
    row = timer(sc, b"tick")
    assert row[b"runs"] == 0 and row[b"next_run_ms"] == 0  # a replica does not run them
    time.sleep(0.3)
    assert timer(sc, b"tick")[b"runs"] == 0
    # promotion: the replica takes its timers over
    assert sc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    wait(lambda: timer(sc, b"tick")[b"runs"] >= 2, what="promoted replica runs the timer")
    # demotion: the old master follows the new one and stops running timers
    assert mc.execute_command("REPLICAOF", "127.0.0.1", s.port) == b"OK"
    row = timer(mc, b"tick")
    assert row[b"next_run_ms"] == 0
    runs = row[b"runs"]
    time.sleep(0.4)
    assert timer(mc, b"tick")[b"runs"] == runs
    # the new master's runs reach the old one through replication
    n = ticks(sc)
    wait(lambda: ticks(mc) > n, what="ticks from the new master")


def test_time_limit_busy_and_function_kill(fresh_server):
    s = fresh_server("--lua-time-limit", "100")
    c = s.client()
    c.function_load("#!lua name=spin\nredis.register_timer{name='spin', every='1s', "
                    "callback=function() if redis.call('GET', 'spin') then "
                    "while true do end end end}")
    c.set("spin", 1)

    def busy():
        try:
            c.ping()
            return False
        except redis.ResponseError as exc:
            return "BUSY" in str(exc)

    wait(busy, timeout=5, what="BUSY")
    stats = c.execute_command("FUNCTION", "STATS")
    stats = stats if isinstance(stats, dict) else dict(zip(stats[::2], stats[1::2], strict=True))
    running = stats[b"running_script"]
    running = (running if isinstance(running, dict)
               else dict(zip(running[::2], running[1::2], strict=True)))
    assert running[b"name"] == b"spin.spin"
    assert c.execute_command("FUNCTION", "KILL") == b"OK"
    # KILL answers at once; the run stops at its next hook check, so a PING sent right after
    # may still be told BUSY (seen in CI under load)
    wait(lambda: not busy(), what="not busy")
    c.delete("spin")
    row = timer(c, b"spin")
    assert row[b"errors"] == 1 and b"killed" in row[b"last_error"].lower()


def test_client_pause_write_holds_runs(f):
    f.function_load(tick_lib("50ms"))
    wait(lambda: ticks(f) >= 1, what="first tick")
    assert f.execute_command("CLIENT", "PAUSE", 600, "WRITE")
    time.sleep(0.1)  # a run in progress when the pause began has finished
    n = ticks(f)
    time.sleep(0.4)
    assert ticks(f) == n  # no timer writes while clients are paused (failover safety)
    wait(lambda: ticks(f) > n, timeout=3, what="runs after the pause")
