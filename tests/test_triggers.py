"""Keyspace triggers (ledis/scripting/triggers.py) through real clients on real servers:
every write source fires, the callback sees the new value and writes in the same unit,
on_error abort / log, the depth limit, replicas keep triggers dormant, visibility (FUNCTION
LIST, LEDIS.TRIGGERS), persistence (restart, FUNCTION DUMP / RESTORE), and atomicity of a
write and its trigger's write under kill -9."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from ledis.embedded import ResponseError
from tests.test_http import Http, _start
from tests.test_replication import assert_same, replica_of, wait_until

# A trigger copying every SET/HSET of user:* to audit:<key> as "<event>:<value seen>", and
# deleting the copy when the key is deleted.
AUDIT = """#!lua name=audit
redis.register_function('touch', function(keys, args)
  return redis.call('SET', keys[1], args[1]) end)
redis.register_trigger{name = 'copy', keys = 'user:*', events = {'set', 'hset', 'del'},
  callback = function(event, key)
    if event == 'del' then redis.call('DEL', 'audit:' .. key) return end
    local value
    if redis.call('TYPE', key).ok == 'hash' then value = redis.call('HGET', key, 'name')
    else value = redis.call('GET', key) end
    redis.call('SET', 'audit:' .. key, event .. ':' .. value)
  end}
"""

FAILING = """#!lua name=failing
redis.register_trigger{name = 'strict', keys = 'strict:', events = {'set'},
  callback = function(event, key)
    redis.call('SET', 'side:' .. key, 'written before the error')
    error('value refused')
  end}
redis.register_trigger{name = 'lenient', keys = 'lenient:', events = {'set'}, on_error = 'log',
  callback = function(event, key)
    redis.call('SET', 'side:' .. key, 'written before the error')
    error('value refused')
  end}
"""


def triggers_of(client) -> dict[str, dict]:
    """LEDIS.TRIGGERS as {"lib.name": {field: value}} (RESP2: flat lists)."""
    out = {}
    for entry in client.execute_command("LEDIS.TRIGGERS"):
        if isinstance(entry, list):
            entry = dict(zip(entry[::2], entry[1::2], strict=True))
        entry = {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}
        out[f"{entry['library'].decode()}.{entry['name'].decode()}"] = entry
    return out


@pytest.fixture
def t(server):
    """A RESP2 client on the shared server with no data and no libraries, before and after."""
    client = server.client(protocol=2)
    client.flushall()
    client.function_flush()
    yield client
    client.function_flush()
    client.close()


def test_plain_commands_fire_and_see_the_new_value(t):
    t.function_load(AUDIT)
    t.set("user:1", "ann")
    assert t.get("audit:user:1") == b"set:ann"
    t.hset("user:2", "name", "bob")
    assert t.get("audit:user:2") == b"hset:bob"
    t.delete("user:1")
    assert t.exists("audit:user:1") == 0
    assert triggers_of(t)["audit.copy"]["fires"] == 3


def test_other_keys_and_events_do_not_fire(t):
    t.function_load(AUDIT)
    t.set("other:1", "x")
    t.set("user:1", "ann")
    t.append("user:1", "e")  # 'append' is not one of the trigger's events
    t.lpush("user:list", "a")
    assert t.get("audit:user:1") == b"set:ann"
    assert sorted(t.keys("audit:*")) == [b"audit:user:1"]
    assert triggers_of(t)["audit.copy"]["fires"] == 1


def test_multi_exec_fires_per_command_and_abort_fails_only_that_command(t):
    t.function_load(AUDIT)
    t.function_load(FAILING)
    pipe = t.pipeline(transaction=True)
    pipe.set("user:1", "a")
    pipe.set("strict:1", "b")
    pipe.set("user:2", "c")
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], redis.ResponseError)
    assert "trigger failing.strict failed on set of 'strict:1'" in str(results[1])
    assert t.mget("audit:user:1", "audit:user:2") == [b"set:a", b"set:c"]
    assert t.exists("strict:1", "side:strict:1") == 0


def test_eval_and_fcall_fire_after_the_script(t):
    t.function_load(AUDIT)
    t.eval("redis.call('SET', KEYS[1], 'first') redis.call('SET', KEYS[1], 'second')", 1,
           "user:1")
    # the script is the unit: its triggers run when it returns, and see its final value
    assert t.get("audit:user:1") == b"set:second"
    t.fcall("touch", 1, "user:2", "by-fcall")
    assert t.get("audit:user:2") == b"set:by-fcall"
    assert triggers_of(t)["audit.copy"]["fires"] == 3  # two SETs of user:1, one of user:2


def test_script_fails_whole_when_its_trigger_aborts(t):
    t.function_load(FAILING)
    with pytest.raises(redis.ResponseError, match="trigger failing.strict failed"):
        t.eval("redis.call('SET', 'plain', '1') redis.call('SET', 'strict:1', 'x')", 0)
    assert t.exists("plain", "strict:1", "side:strict:1") == 0


def test_http_writes_fire():
    proc, port = _start()
    try:
        client = proc.client()
        client.function_load(AUDIT)
        client.function_load(FAILING)
        http = Http(port)
        assert http.ok("/SET/user:h/web") == {"SET": [True, "OK"]}
        assert client.get("audit:user:h") == b"set:web"
        status, data = http.get("/SET/strict:h/v")
        assert status == 400 and data["error"].startswith("ERR trigger failing.strict failed")
        assert client.exists("strict:h", "side:strict:h") == 0
        client.close()
    finally:
        proc.cleanup()


def test_embedded_writes_fire(tmp_path):
    import ledis

    db = ledis.open(str(tmp_path / "data"))
    try:
        db.execute("FUNCTION", "LOAD", AUDIT)
        db.execute("SET", "user:e", "embedded")
        assert db.execute("GET", "audit:user:e") == b"set:embedded"
        db.execute("FUNCTION", "LOAD", FAILING)
        with pytest.raises(ResponseError, match="failing.strict"):
            db.execute("SET", "strict:e", "x")
        assert db.execute("EXISTS", "strict:e", "side:strict:e") == 0
    finally:
        db.close()


def test_commands_whose_keys_move_fire_their_events(t):
    """LMPOP / ZMPOP find their keys after a count (key specs), ZADD INCR emits zincr and
    BITOP set / del on its destination: each fires the triggers listening to those events."""
    t.function_load("""#!lua name=pops
redis.register_trigger{name = 'log', keys = 'q:',
  events = {'lpop', 'rpop', 'zpopmin', 'zincr', 'set', 'del'},
  callback = function(event, key) redis.call('RPUSH', 'log', event .. ':' .. key) end}
""")
    t.rpush("q:list", "a")
    t.zadd("q:zset", {"m": 1})
    t.set("q:bits", "x")
    t.delete("log")
    t.execute_command("LMPOP", "2", "missing", "q:list", "LEFT")
    t.execute_command("ZMPOP", "1", "q:zset", "MIN")
    t.execute_command("ZADD", "q:z2", "INCR", "2", "m")
    t.execute_command("BITOP", "NOT", "q:not", "q:bits")
    t.execute_command("BITOP", "AND", "q:not", "missing")  # an empty result: del
    t.set("q:twice", "x")
    t.execute_command("DEL", "q:twice", "q:twice")  # a key named twice is deleted once
    t.execute_command("MSET", "q:twice", "1", "q:twice", "2")  # ... and set twice
    assert t.lrange("log", 0, -1) == [
        b"lpop:q:list", b"del:q:list", b"zpopmin:q:zset", b"del:q:zset", b"zincr:q:z2",
        b"set:q:not", b"del:q:not", b"set:q:twice", b"del:q:twice", b"set:q:twice",
        b"set:q:twice"]


def test_active_expiry_fires_expired(t):
    t.function_load("""#!lua name=exp
redis.register_trigger{name = 'gone', keys = 'session:', events = {'expired'},
  callback = function(event, key) redis.call('RPUSH', 'expired-log', event .. ':' .. key) end}
""")
    t.set("session:1", "x", px=30)
    t.set("session:2", "y")  # no expiry: never fires
    wait_until(lambda: t.lrange("expired-log", 0, -1) == [b"expired:session:1"],
               what="the expired trigger")
    assert t.exists("session:1") == 0
    assert t.dbsize() == 2  # session:2 and the log
    assert triggers_of(t)["exp.gone"]["fires"] == 1


def test_write_over_an_expired_key_fires_expired(t):
    """Lazy expiry on write: the script sets a 1 ms TTL, waits 5 ms (active expiry cannot run
    during a script), then overwrites the expired key."""
    t.function_load("""#!lua name=exp
redis.register_trigger{name = 'gone', keys = 'session:', events = {'expired'},
  callback = function(event, key) redis.call('RPUSH', 'expired-log', event .. ':' .. key) end}
""")
    t.eval("""
redis.call('SET', KEYS[1], 'old', 'PX', 1)
local t0 = redis.call('TIME')
repeat local t1 = redis.call('TIME')
until (t1[1] - t0[1]) * 1000000 + (t1[2] - t0[2]) > 5000
redis.call('SET', KEYS[1], 'new')""", 1, "session:lazy")
    assert t.lrange("expired-log", 0, -1) == [b"expired:session:lazy"]
    assert t.get("session:lazy") == b"new"
    time.sleep(0.3)  # the active cycle has nothing left to expire for it
    assert t.lrange("expired-log", 0, -1) == [b"expired:session:lazy"]


def test_abort_discards_the_write_and_the_trigger_writes(t):
    t.function_load(FAILING)
    t.set("unrelated", "1")
    before = t.dbsize()
    with pytest.raises(redis.ResponseError) as err:
        t.set("strict:2", "v")
    text = str(err.value)
    assert text.startswith("trigger failing.strict failed on set of 'strict:2', write "
                           "discarded: ") and "value refused" in text
    assert t.exists("strict:2", "side:strict:2") == 0
    assert t.dbsize() == before
    info = triggers_of(t)["failing.strict"]
    assert info["errors"] == 1 and b"value refused" in info["last_error"]


def test_log_keeps_the_write_and_drops_only_the_callback_writes(t):
    t.function_load(FAILING)
    assert t.set("lenient:1", "kept") is True
    assert t.get("lenient:1") == b"kept"
    assert t.exists("side:lenient:1") == 0
    assert t.dbsize() == 1
    info = triggers_of(t)["failing.lenient"]
    assert info["fires"] == 1 and info["errors"] == 1
    assert b"value refused" in info["last_error"]


CHAIN = """#!lua name=chain
redis.register_trigger{name = 'next', keys = 'chain:', events = {'incrby'},
  callback = function(event, key)
    local n = tonumber(string.sub(key, 7))
    if n < tonumber(redis.call('GET', 'chain-stop') or '1000') then
      redis.call('INCR', 'chain:' .. (n + 1))
    end
  end}
"""


def test_recursion_up_to_the_depth_limit(fresh_server):
    s = fresh_server("--trigger-max-depth", "3")
    c = s.client()
    c.function_load(CHAIN)
    c.set("chain-stop", 3)
    c.incr("chain:1")  # fires chain:1 -> writes chain:2 -> chain:3 (depth 3), then stops
    assert c.mget("chain:1", "chain:2", "chain:3", "chain:4") == [b"1", b"1", b"1", None]
    c.set("chain-stop", 10)
    with pytest.raises(redis.ResponseError, match="nested deeper than trigger_max_depth"):
        c.incr("chain:5")
    assert c.exists("chain:5", "chain:6", "chain:7", "chain:8", "chain:9") == 0


def test_function_list_and_ledis_triggers(server, t):
    t.function_load(AUDIT)
    t.function_load(FAILING)
    for protocol in (2, 3):
        c = server.client(protocol=protocol)
        libs = {}
        for lib in c.function_list():
            if isinstance(lib, list):
                lib = dict(zip(lib[::2], lib[1::2], strict=True))
            libs[lib[b"library_name"]] = lib
        audit = libs[b"audit"]
        assert list(audit)[:4] == [b"library_name", b"engine", b"functions", b"triggers"]
        (trig,) = audit[b"triggers"]
        if isinstance(trig, list):
            trig = dict(zip(trig[::2], trig[1::2], strict=True))
        assert trig[b"name"] == b"copy" and trig[b"keys"] == [b"user:*"]
        assert trig[b"events"] == [b"set", b"hset", b"del"]
        assert trig[b"on_error"] == b"abort"
        assert len(libs[b"failing"][b"triggers"]) == 2
        c.close()
    info = triggers_of(t)
    assert set(info) == {"audit.copy", "failing.strict", "failing.lenient"}
    assert info["failing.lenient"]["on_error"] == b"log"
    assert info["audit.copy"]["fires"] == 0 and info["audit.copy"]["last_error"] is None


def test_delete_and_replace_library_change_its_triggers(t):
    t.function_load(AUDIT)
    t.set("user:1", "a")
    t.function_load(AUDIT.replace("'user:*'", "'member:*'"), replace=True)
    t.set("user:2", "b")
    t.set("member:1", "c")
    assert t.exists("audit:user:2") == 0 and t.get("audit:member:1") == b"set:c"
    assert triggers_of(t)["audit.copy"]["keys"] == [b"member:*"]
    t.function_delete("audit")
    t.set("member:2", "d")
    assert t.exists("audit:member:2") == 0
    assert t.execute_command("LEDIS.TRIGGERS") == []


@pytest.mark.parametrize("body, text", [
    ("redis.register_trigger{name='x', keys='a', events={'nope'}, callback=function() end}",
     "unknown event 'nope'"),
    ("redis.register_trigger{name='x', keys='a', callback=function() end, on_error='maybe'}",
     "on_error given to redis.register_trigger must be 'abort' or 'log'"),
    ("redis.register_trigger{name='x', keys='a'}",
     "callback given to redis.register_trigger must be a function"),
    ("redis.register_trigger{name='x', callback=function() end}",
     "keys given to redis.register_trigger must be"),
    ("redis.register_trigger{name='x', keys='a', callback=function() end, colour=1}",
     "unknown argument 'colour'"),
    ("redis.register_trigger('x')", "takes one table of named arguments"),
    (("redis.register_trigger{name='x', keys='a', callback=function() end}\n"
      "redis.register_trigger{name='x', keys='b', callback=function() end}"),
     "trigger 'x' already exists in the library"),
])
def test_load_errors(t, body, text):
    with pytest.raises(redis.ResponseError) as err:
        t.function_load("#!lua name=bad\n" + body)
    assert str(err.value).startswith("Error registering functions: ERR ")
    assert text in str(err.value)
    assert t.function_list() == []


def test_runtime_has_no_register_trigger(t):
    t.function_load("#!lua name=rt\nredis.register_function('f', function() "
                    "return type(redis.register_trigger) end)")
    assert t.fcall("f", 0) == b"nil"


def test_triggers_survive_restart_and_come_back_with_restore(fresh_server):
    s = fresh_server()
    c = s.client()
    c.function_load(AUDIT)
    payload = c.function_dump()
    s.restart()
    c = s.client()
    c.set("user:1", "after-restart")
    assert c.get("audit:user:1") == b"set:after-restart"
    c.function_flush()
    c.set("user:2", "no-trigger")
    assert c.exists("audit:user:2") == 0
    c.function_restore(payload)
    c.set("user:3", "restored")
    assert c.get("audit:user:3") == b"set:restored"
    assert list(triggers_of(c)) == ["audit.copy"]


def test_replica_applies_effects_and_never_runs_triggers(fresh_server):
    m = fresh_server()
    mc = m.client()
    mc.function_load(AUDIT)
    s = replica_of(fresh_server, m)
    sc = s.client()
    for i in range(50):
        mc.set(f"user:{i}", f"v{i}")
    mc.hset("user:h", "name", "hash")
    mc.delete("user:3")
    mc.set("user:px", "short", px=50)
    assert_same(mc, sc)
    assert sc.get("audit:user:7") == b"set:v7"
    assert sc.exists("audit:user:3") == 0
    assert triggers_of(mc)["audit.copy"]["fires"] == 53
    assert triggers_of(sc)["audit.copy"]["fires"] == 0  # loaded, listed, dormant
    sc.execute_command("REPLICAOF", "NO", "ONE")  # promoted: its triggers wake up
    sc.set("user:new", "promoted")
    assert sc.get("audit:user:new") == b"set:promoted"


MIRROR = """#!lua name=mirror
redis.register_trigger{name = 'mirror', keys = 'fire:', events = {'set'},
  callback = function(event, key)
    redis.call('SET', 'mirror:' .. key, redis.call('GET', key))
  end}
"""


def _fire_until_killed(s, trial: int, stop: threading.Event, acked: list[int]) -> None:
    """Pipelines of 20 SET fire:<trial>:<n> until the server dies; ``acked`` gets the last n
    of every pipeline that was answered."""
    c = s.client(socket_timeout=5)
    i = 0
    try:
        while not stop.is_set():
            pipe = c.pipeline(transaction=False)
            for j in range(20):
                pipe.set(f"fire:{trial}:{i + j}", i + j)
            pipe.execute()
            acked.append(i + 19)
            i += 20
    except (redis.ConnectionError, redis.TimeoutError):
        pass


def test_write_and_trigger_write_are_atomic_under_kill_9(fresh_server):
    s = fresh_server("--appendfsync", "always")
    s.client().function_load(MIRROR)
    for trial in range(5):
        stop = threading.Event()
        acked: list[int] = []
        writer = threading.Thread(target=_fire_until_killed, args=(s, trial, stop, acked))
        writer.start()
        time.sleep(0.4 + 0.1 * trial)
        s.kill()
        stop.set()
        writer.join()
        s.start()
        c = s.client()
        fired = {k[len("fire:"):] for k in c.keys(f"fire:{trial}:*")}
        mirrored = {k[len("mirror:fire:"):] for k in c.keys(f"mirror:fire:{trial}:*")}
        assert fired, "no write committed before the kill"
        assert fired == mirrored  # every write has its trigger's write, and only those
        for key in fired:
            assert c.get(b"mirror:fire:" + key) == c.get(b"fire:" + key)
        # appendfsync always: the last acknowledged pipeline survived
        assert acked and c.exists(f"fire:{trial}:{acked[-1]}") == 1
        c.close()


def test_writes_no_trigger_matches_still_reach_watch_tracking_and_notifications(server, t):
    """The dispatcher skips the observer for a write no trigger can match only while triggers
    are the sole observer (issue #16): WATCH, CLIENT TRACKING and keyspace notifications
    still see such writes."""
    from tests.rawresp import RawClient

    t.function_load(AUDIT)
    t.set("other:0", "x")  # the first write of SET files its prefix test
    tracker = RawClient(server.port, resp3=True)
    try:
        assert tracker.call("CLIENT", "TRACKING", "ON") == b"OK"
        t.set("other:1", "v1")
        assert tracker.call("GET", "other:1") == b"v1"
        t.set("other:1", "v2")  # no trigger listens to other:*
        assert tracker.read(timeout=3) == [b"invalidate", [b"other:1"]]
    finally:
        tracker.close()
    with server.client() as watcher:
        pipe = watcher.pipeline()
        pipe.watch("other:2")
        t.set("other:2", "changed")
        pipe.multi()
        pipe.set("other:2", "mine")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert t.get("other:2") == b"changed"
    t.config_set("notify-keyspace-events", "K$")
    try:
        with server.client() as listener:
            sub = listener.pubsub()
            sub.subscribe("__keyspace@0__:other:3")
            assert sub.get_message(timeout=2)["type"] == "subscribe"
            t.set("other:3", "x")
            assert sub.get_message(timeout=2)["data"] == b"set"
            sub.close()
    finally:
        t.config_set("notify-keyspace-events", "")
    t.set("user:9", "zed")  # and the trigger still fires
    assert t.get("audit:user:9") == b"set:zed"
    assert sorted(t.keys("audit:*")) == [b"audit:user:9"]


def test_glob_prefix_rejection_and_replaced_triggers(t):
    """Glob patterns: a key without the pattern's literal head is rejected before the glob
    runs, one with it still gets the exact glob; replacing the library refiles the tests."""
    t.function_load("""#!lua name=globs
redis.register_trigger{name = 'email', keys = {'acct:*:email', '*:hot'}, events = {'set'},
  callback = function(event, key) redis.call('INCR', 'seen:' .. key) end}
""")
    for key in ("acct:1:email", "acct:1:name", "other:1:email", "x:hot", "x:cold"):
        t.set(key, "v")
    assert sorted(t.keys("seen:*")) == [b"seen:acct:1:email", b"seen:x:hot"]
    t.function_load("""#!lua name=globs
redis.register_trigger{name = 'email', keys = 'other:', events = {'set'},
  callback = function(event, key) redis.call('INCR', 'seen:' .. key) end}
""", replace=True)
    t.set("acct:1:email", "v")
    t.set("other:1:email", "v")
    assert t.get("seen:acct:1:email") == b"1"
    assert t.get("seen:other:1:email") == b"1"


def test_first_byte_tables_shared_heads_empty_key_and_multi_key(t):
    """The dispatcher's first-byte tables: two prefixes starting with the same byte, a key
    with that byte but neither prefix, the empty key, and MSET (keys past the first
    argument, decided by the observer)."""
    t.function_load("""#!lua name=heads
redis.register_trigger{name = 'u', keys = {'user:', 'uid:'}, events = {'set'},
  callback = function(event, key) redis.call('INCR', 'seen:' .. key) end}
""")
    for key in ("user:1", "uid:2", "usr:3", "u", "", "x:4"):
        t.set(key, "v")
    t.mset({"a": "1", "uid:5": "2"})
    assert sorted(t.keys("seen:*")) == [b"seen:uid:2", b"seen:uid:5", b"seen:user:1"]
    assert triggers_of(t)["heads.u"]["fires"] == 3


# Counts every event on q:* keys; and an aborting trigger on qs:* pops.
SERVED = """#!lua name=served
redis.register_trigger{name = 'count', keys = 'q:',
  events = {'lpop', 'rpop', 'lpush', 'rpush', 'zpopmin', 'zadd', 'del'},
  callback = function(event, key) redis.call('HINCRBY', 'seen', event .. ' ' .. key, 1) end}
redis.register_trigger{name = 'strict', keys = 'qs:', events = {'lpop'},
  callback = function(event, key) redis.call('SET', 'side', '1') error('refused') end}
"""


def _served(server, t, blocking: tuple, feed: tuple):
    """``blocking`` on a client of its own, blocked, then ``feed`` by ``t``; its reply."""
    replies = []
    blocked = server.client(protocol=2)
    thread = threading.Thread(target=lambda: replies.append(blocked.execute_command(*blocking)))
    thread.start()
    try:
        wait_until(lambda: t.info("clients")["blocked_clients"] == 1)
        t.execute_command(*feed)
    finally:
        thread.join(10)
        blocked.close()
    return replies[0]


def test_served_blocked_pops_fire_their_triggers(server, t):
    """A pop served after the write that fed it (BLPOP woken by RPUSH, BLMOVE, BZPOPMIN)
    fires its events' triggers, after the feeding write's own."""
    t.function_load(SERVED)
    assert _served(server, t, ("BLPOP", "q:1", "5"), ("RPUSH", "q:1", "a")) == (b"q:1", b"a")
    assert _served(server, t, ("BLMOVE", "q:2", "q:3", "LEFT", "RIGHT", "5"),
                   ("LPUSH", "q:2", "b")) == b"b"
    assert _served(server, t, ("BZPOPMIN", "q:4", "5"), ("ZADD", "q:4", "1", "m")) == \
        (b"q:4", b"m", 1.0)
    assert t.hgetall("seen") == {
        b"rpush q:1": b"1", b"lpop q:1": b"1", b"del q:1": b"1",
        b"lpush q:2": b"1", b"lpop q:2": b"1", b"del q:2": b"1", b"rpush q:3": b"1",
        b"zadd q:4": b"1", b"zpopmin q:4": b"1", b"del q:4": b"1"}
    assert triggers_of(t)["served.count"]["fires"] == 10


def test_a_served_pop_stands_when_its_trigger_aborts(server, t):
    """No command's unit is open when a blocked pop is served: as for active expiry, the pop
    stands, the failing callback's writes are discarded and its error is counted."""
    t.function_load(SERVED)
    assert _served(server, t, ("BLPOP", "qs:1", "5"), ("RPUSH", "qs:1", "a", "b")) == \
        (b"qs:1", b"a")
    assert t.lrange("qs:1", 0, -1) == [b"b"]
    assert t.exists("side") == 0
    strict = triggers_of(t)["served.strict"]
    assert strict["fires"] == 1 and strict["errors"] == 1
    assert b"refused" in strict["last_error"]
