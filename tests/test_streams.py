"""Streams through real clients: the X commands' behaviour (blocking reads, consumer groups,
trimming), and streams as keys (TYPE, SCAN TYPE, XSCAN, DEL, EXPIRE, RENAME, COPY, MOVE,
OBJECT ENCODING), restarts, replication, MULTI and scripts. Reply-by-reply comparisons with
redis-server are in test_streams_diff.py; tests here that can run on both take ``target``."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import redis

from tests.helpers import have_redis_server
from tests.test_blocking import Blocked, wait_blocked

ID_RE = re.compile(rb"^(\d+)-(\d+)$")


@pytest.fixture(params=["ledis", pytest.param("redis", marks=pytest.mark.skipif(
    not have_redis_server(), reason="redis-server not installed"))])
def target(request):
    """(server, client) on ledis, and on Redis 7.0 as the reference for the same test."""
    if request.param == "ledis":
        return request.getfixturevalue("server"), request.getfixturevalue("r")
    return request.getfixturevalue("redis_server"), request.getfixturevalue("ref")


def start(server, r, *cmd, n: int = 1) -> Blocked:
    t = Blocked(server, *cmd)
    t.start()
    wait_blocked(r, n)
    return t


# --- XADD / ranges / trimming ----------------------------------------------------------------
def test_auto_ids_increase_and_follow_the_clock(target):
    _, r = target
    before = int(time.time() * 1000)
    ids = [r.xadd("s", {"n": i}) for i in range(50)]
    after = int(time.time() * 1000)
    parsed = [tuple(map(int, ID_RE.match(i).groups())) for i in ids]
    assert parsed == sorted(parsed) and len(set(parsed)) == 50
    assert before <= parsed[0][0] <= parsed[-1][0] <= after
    assert r.xlen("s") == 50
    assert [e[0] for e in r.xrange("s")] == ids
    assert r.type("s") == b"stream"
    assert r.object("encoding", "s") == b"stream"


def test_partial_ids_and_ranges(target):
    _, r = target
    assert r.xadd("s", {"a": 1}, id="5-*") == b"5-0"
    assert r.xadd("s", {"a": 2}, id="5-*") == b"5-1"
    assert r.xadd("s", {"a": 3}, id="7") == b"7-0"
    assert r.xadd("s", {"a": 4}, id="7-*") == b"7-1"
    assert [e[0] for e in r.xrange("s", "5", "5")] == [b"5-0", b"5-1"]
    assert [e[0] for e in r.xrange("s", "(5-0", "(7-1")] == [b"5-1", b"7-0"]
    assert [e[0] for e in r.xrevrange("s", "+", "-", count=2)] == [b"7-1", b"7-0"]
    assert r.xrange("s", "6", "6") == []
    with pytest.raises(redis.ResponseError, match="equal or smaller"):
        r.xadd("s", {"a": 5}, id="6-0")


def test_exact_and_approximate_trimming(target):
    _, r = target
    for i in range(1, 301):
        r.xadd("s", {"n": i}, id=f"{i}-1")
    assert r.xtrim("s", maxlen=250, approximate=False) == 50  # redis-py defaults to ~
    assert r.xrange("s", count=1)[0][0] == b"51-1"
    assert r.xtrim("s", minid="100", approximate=False) == 49
    assert r.xlen("s") == 201
    # '~' may leave more than asked, never fewer, and removes at most LIMIT entries.
    removed = r.xtrim("s", maxlen=10, approximate=True)
    assert r.xlen("s") >= 10 and removed == 201 - r.xlen("s")
    length = r.xlen("s")
    assert r.xtrim("s", maxlen=0, approximate=True, limit=5) <= 5
    assert r.xlen("s") >= length - 5
    r.xadd("s", {"n": 0}, maxlen=3, approximate=False, id="1000-1")
    assert r.xlen("s") == 3
    assert r.xrange("s")[-1][0] == b"1000-1"


def test_xdel_keeps_an_empty_stream_and_its_last_id(target):
    _, r = target
    r.xadd("s", {"a": 1}, id="3-3")
    assert r.xdel("s", "3-3", "4-4") == 1
    assert r.exists("s") == 1 and r.xlen("s") == 0
    info = r.xinfo_stream("s")
    assert info["last-generated-id"] == b"3-3" and info["max-deleted-entry-id"] == b"3-3"
    with pytest.raises(redis.ResponseError):
        r.xadd("s", {"a": 1}, id="3-3")


def test_xread_several_streams_and_dollar(target):
    _, r = target
    r.xadd("a", {"x": 1}, id="1-1")
    r.xadd("b", {"y": 2}, id="2-2")
    reply = r.xread({"a": "0", "b": "0"})
    assert reply == [[b"a", [(b"1-1", {b"x": b"1"})]], [b"b", [(b"2-2", {b"y": b"2"})]]]
    assert r.xread({"a": "$", "b": "$"}) == []
    assert r.xread({"a": "0"}, count=1) == [[b"a", [(b"1-1", {b"x": b"1"})]]]


# --- blocking ----------------------------------------------------------------------------------
def test_xread_block_is_woken_by_xadd(target):
    server, r = target
    t = start(server, r, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    r.xadd("s", {"f": "v"}, id="9-9")
    assert t.finish() == [[b"s", [(b"9-9", {b"f": b"v"})]]]


def test_xread_block_times_out_with_null(target):
    server, r = target
    t = start(server, r, "XREAD", "BLOCK", "150", "STREAMS", "s", "$")
    assert t.finish() == []  # redis-py's reading of a null array (see the diff tests)
    assert 0.1 <= t.elapsed < 2


def test_xread_block_wakes_only_for_the_stream_that_got_data(target):
    server, r = target
    r.xadd("a", {"f": 1}, id="1-0")
    r.xadd("b", {"f": 1}, id="1-0")
    t = start(server, r, "XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$")
    r.xadd("b", {"f": 2}, id="2-0")
    assert t.finish() == [[b"b", [(b"2-0", {b"f": b"2"})]]]


def test_xreadgroup_block_is_woken_and_records_the_delivery(target):
    server, r = target
    r.xgroup_create("s", "g", "$", mkstream=True)
    t = start(server, r, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s",
              ">")
    r.xadd("s", {"f": "v"}, id="5-0")
    assert t.finish() == [[b"s", [(b"5-0", {b"f": b"v"})]]]
    pending = r.xpending("s", "g")
    assert pending["pending"] == 1 and pending["consumers"] == [
        {"name": b"alice", "pending": 1}]
    assert r.xinfo_groups("s")[0]["last-delivered-id"] == b"5-0"


def test_two_group_readers_share_new_entries(target):
    server, r = target
    r.xgroup_create("s", "g", "$", mkstream=True)
    t1 = start(server, r, "XREADGROUP", "GROUP", "g", "a", "COUNT", "1", "BLOCK", "0",
               "STREAMS", "s", ">")
    t2 = start(server, r, "XREADGROUP", "GROUP", "g", "b", "COUNT", "1", "BLOCK", "0",
               "STREAMS", "s", ">", n=2)
    pipe = r.pipeline(transaction=True)
    pipe.xadd("s", {"n": 1}, id="1-0")
    pipe.xadd("s", {"n": 2}, id="2-0")
    pipe.execute()
    got = sorted(t1.finish()[0][1] + t2.finish()[0][1])
    assert got == [(b"1-0", {b"n": b"1"}), (b"2-0", {b"n": b"2"})]
    assert r.xpending("s", "g")["pending"] == 2


def test_xadd_from_a_script_wakes_readers(target):
    server, r = target
    t = start(server, r, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    r.eval("return redis.call('XADD', KEYS[1], '1-1', 'f', 'v')", 1, "s")
    assert t.finish() == [[b"s", [(b"1-1", {b"f": b"v"})]]]


def test_xread_block_inside_multi_answers_at_once(target):
    _, r = target
    pipe = r.pipeline(transaction=True)
    pipe.execute_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    started = time.monotonic()
    assert pipe.execute() == [[]]
    assert time.monotonic() - started < 1


def test_xread_block_in_a_script_is_refused(target):
    _, r = target
    with pytest.raises(redis.ResponseError, match="not allowed with BLOCK option"):
        r.eval("return redis.call('XREAD', 'BLOCK', '0', 'STREAMS', KEYS[1], '$')", 1, "s")


def test_group_destroyed_while_blocked_answers_nogroup(server, r):
    r.xgroup_create("s", "g", "$", mkstream=True)
    t = start(server, r, "XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s", ">")
    r.xgroup_destroy("s", "g")
    r.xadd("s", {"f": "v"})
    t.finish()
    assert t.error is not None and "NOGROUP" in str(t.error)


def test_client_unblock_and_disconnect(server, r):
    t = start(server, r, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    assert r.client_unblock(t.client_id) == 1
    assert t.finish() == []
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"*6\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$1\r\n0\r\n$7\r\nSTREAMS\r\n"
                 b"$1\r\ns\r\n$1\r\n$\r\n")
    wait_blocked(r, 1)
    sock.close()
    deadline = time.monotonic() + 5
    while int(r.info("clients")["blocked_clients"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert int(r.info("clients")["blocked_clients"]) == 0
    r.xadd("s", {"f": "v"})  # nobody is served, nothing breaks


# --- consumer groups -------------------------------------------------------------------------
def test_pending_claim_and_idle(target):
    _, r = target
    r.xgroup_create("s", "g", "0", mkstream=True)
    for i in range(1, 4):
        r.xadd("s", {"n": i}, id=f"{i}-0")
    r.xreadgroup("g", "alice", {"s": ">"})
    time.sleep(0.05)
    rows = r.xpending_range("s", "g", "-", "+", 10, idle=40)
    assert [row["message_id"] for row in rows] == [b"1-0", b"2-0", b"3-0"]
    assert all(row["time_since_delivered"] >= 40 for row in rows)
    assert r.xclaim("s", "g", "bob", 3_600_000, ["1-0"]) == []  # not idle long enough
    claimed = r.xclaim("s", "g", "bob", 10, ["1-0"], justid=True)
    assert claimed == [b"1-0"]
    cursor, entries, deleted = r.xautoclaim("s", "g", "carol", 0, "0", count=1)
    assert cursor == b"2-0" and entries == [(b"1-0", {b"n": b"1"})] and deleted == []
    consumers = {c["name"]: c["pending"] for c in r.xinfo_consumers("s", "g")}
    assert consumers == {b"alice": 2, b"bob": 0, b"carol": 1}
    assert r.xack("s", "g", "1-0", "2-0", "3-0") == 3
    assert r.xpending("s", "g")["pending"] == 0


def test_history_shows_deleted_entries_as_nil(target):
    server, r = target
    r.xgroup_create("s", "g", "0", mkstream=True)
    r.xadd("s", {"f": "v"}, id="1-0")
    r.xadd("s", {"f": "w"}, id="2-0")
    r.xreadgroup("g", "c", {"s": ">"})
    r.xdel("s", "1-0")
    plain = server.client(protocol=2)
    plain.response_callbacks.clear()
    raw = plain.execute_command("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0")
    plain.close()
    assert raw == [[b"s", [[b"1-0", None], [b"2-0", [b"f", b"w"]]]]]
    rows = r.xpending_range("s", "g", "-", "+", 10)
    assert [row["times_delivered"] for row in rows] == [1, 2]


# --- streams as keys ---------------------------------------------------------------------------
def test_scan_type_xscan_and_wrongtype(r):
    r.xadd("st", {"a": 1})
    r.set("str", "x")
    r.hset("h", "a", 1)
    assert r.scan(0, _type="stream") == (0, [b"st"])
    assert r.execute_command("XSCAN", "STREAM", "0") == [b"0", [b"st"]]
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.hget("st", "a")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.xadd("str", {"a": 1})


def test_del_expire_rename_copy_move(r):
    r.xadd("s", {"a": 1}, id="1-0")
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"})
    assert r.copy("s", "c1")
    assert r.rename("s", "s2")
    assert r.exists("s") == 0
    for key in ("c1", "s2"):
        assert r.xrange(key) == [(b"1-0", {b"a": b"1"})]
        assert r.xpending(key, "g")["pending"] == 1
        assert r.xinfo_stream(key)["last-generated-id"] == b"1-0"
    r.xadd("c1", {"b": 2}, id="2-0")
    assert r.xlen("s2") == 1 and r.xlen("c1") == 2  # independent copies
    assert r.move("s2", 1)
    r1 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=1)
    assert r1.xpending("s2", "g")["pending"] == 1
    r1.close()
    assert r.pexpire("c1", 50)
    time.sleep(0.15)
    assert r.exists("c1") == 0
    r.xadd("c1", {"z": 1}, id="1-0")  # a new stream: no groups, nothing left of the old one
    assert r.xinfo_groups("c1") == [] and r.xlen("c1") == 1
    assert r.delete("c1") == 1 and r.xlen("c1") == 0


def test_rename_into_a_waited_key_wakes_the_reader(server, r):
    r.xadd("src", {"f": "v"}, id="1-0")
    t = start(server, r, "XREAD", "BLOCK", "0", "STREAMS", "dst", "0")
    r.rename("src", "dst")
    assert t.finish() == [[b"dst", [(b"1-0", {b"f": b"v"})]]]


def test_streams_survive_a_restart(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.xadd("s", {"a": 1}, id="1-0")
    c.xadd("s", {"a": 2}, id="2-0")
    c.xgroup_create("s", "g", "0")
    c.xreadgroup("g", "c", {"s": ">"}, count=1)
    c.xdel("s", "2-0")
    before = (c.xrange("s"), c.xinfo_stream("s"), c.xinfo_groups("s"), c.xpending("s", "g"))
    c.close()
    srv.restart()
    c = srv.client()
    after = (c.xrange("s"), c.xinfo_stream("s"), c.xinfo_groups("s"), c.xpending("s", "g"))
    assert after == before
    c.close()


def test_streams_replicate(fresh_server):
    from tests.test_replication import assert_same

    master = fresh_server()
    replica = fresh_server("--replicaof", f"127.0.0.1 {master.port}")
    m, s = master.client(), replica.client()
    m.xadd("s", {"a": 1}, id="1-0")
    m.xgroup_create("s", "g", "0")
    m.xadd("s", {"a": 2}, id="2-0", maxlen=5, approximate=False)
    m.xreadgroup("g", "c", {"s": ">"}, count=1)
    m.xclaim("s", "g", "d", 0, ["1-0"])
    assert_same(m, s)
    assert s.xrange("s") == m.xrange("s")
    assert s.xpending_range("s", "g", "-", "+", 10)[0]["consumer"] == b"d"
    m.close()
    s.close()


# --- ledis dump / ledis load ------------------------------------------------------------------
def populate_streams(c: redis.Redis, big: int = 0) -> None:
    c.xadd("full", {"a": 1}, id="1-1")
    c.xadd("full", {"b": 2, "c": b"\x00\xff"}, id="2-0")
    c.xadd("full", {"d": 4}, id="3-0")
    c.xgroup_create("full", "g", "0")
    c.xgroup_create("full", "h", "$")
    c.xreadgroup("g", "alice", {"full": ">"}, count=2)
    c.xgroup_createconsumer("full", "g", "idle-one")
    c.xdel("full", "3-0")
    c.xadd("empty", {"x": 1}, id="7-7")
    c.xdel("empty", "7-7")
    c.xgroup_create("grouponly", "g", "$", mkstream=True)
    c.xadd("ttl", {"t": 1}, id="1-0")
    c.pexpire("ttl", 600_000)
    if big:  # more entries than one dump record holds (ledis.tools.dumpfile.CHUNK)
        pipe = c.pipeline(transaction=False)
        for i in range(1, big + 1):
            pipe.execute_command("XADD", "big", f"{i}-1", "f", i)
        pipe.execute()


def stream_state(port: int) -> dict:
    """Everything a stream holds that survives a dump (consumers' seen-times do not)."""
    c = redis.Redis(port=port, protocol=2)
    c.response_callbacks.clear()
    out = {}
    for key in sorted(c.keys("*")):
        info = c.execute_command("XINFO", "STREAM", key, "FULL", "COUNT", "0")
        d = dict(zip(info[::2], info[1::2], strict=True))
        for k in (b"radix-tree-keys", b"radix-tree-nodes"):
            d.pop(k)
        groups = []
        for raw in d.pop(b"groups"):
            g = dict(zip(raw[::2], raw[1::2], strict=True))
            g[b"consumers"] = [dict(zip(x[::2], x[1::2], strict=True)) for x in g[b"consumers"]]
            for consumer in g[b"consumers"]:
                consumer.pop(b"seen-time")
            groups.append(g)
        d[b"groups"] = groups
        d[b"has_ttl"] = c.pttl(key) > 0
        out[key] = d
    c.close()
    return out


def test_dump_load_online_round_trip(fresh_server, tmp_path):
    from tests.test_tools_dump import ledis_cli

    src = fresh_server()
    populate_streams(src.client())
    before = stream_state(src.port)
    assert before[b"empty"][b"length"] == 0 and before[b"full"][b"groups"][0][b"pel-count"] == 2
    out = str(tmp_path / "online.ldmp")
    ledis_cli("dump", "--port", str(src.port), "-o", out)
    dst = fresh_server()
    ledis_cli("load", "--port", str(dst.port), out)
    assert stream_state(dst.port) == before


@pytest.mark.slow
def test_dump_load_offline_round_trip_in_chunks(fresh_server, tmp_path):
    from tests.test_tools_dump import ledis_cli

    src = fresh_server()
    populate_streams(src.client(), big=2500)
    before = stream_state(src.port)
    src.stop()
    out = str(tmp_path / "offline.ldmp")
    ledis_cli("dump", "--dir", os.path.join(src.dir, "db"), "-o", out)
    dst = fresh_server()
    ledis_cli("load", "--port", str(dst.port), out)
    assert stream_state(dst.port) == before
    assert before[b"big"][b"length"] == 2500


@pytest.mark.skipif(not have_redis_server() or not shutil.which("redis-cli"),
                    reason="redis-server / redis-cli not installed")
def test_streams_move_between_redis_and_ledis(fresh_server, redis_server, ref, tmp_path):
    """A real Redis dumped online by ``ledis dump`` loads into ledis with the same state, and
    ledis's RESP stream loads into Redis with the same state."""
    from tests.test_tools_dump import ledis_cli

    populate_streams(ref)
    want = stream_state(redis_server.port)
    out = str(tmp_path / "from-redis.ldmp")
    ledis_cli("dump", "--port", str(redis_server.port), "-o", out)
    dst = fresh_server()
    ledis_cli("load", "--port", str(dst.port), out)
    assert stream_state(dst.port) == want
    resp = tmp_path / "from-ledis.resp"
    ledis_cli("dump", "--port", str(dst.port), "--resp", "-o", str(resp))
    ref.flushall()
    proc = subprocess.run(["redis-cli", "-p", str(redis_server.port), "--pipe"],
                          input=resp.read_bytes(), capture_output=True, timeout=60)
    assert proc.returncode == 0 and b"errors: 0" in proc.stdout, proc.stdout
    assert stream_state(redis_server.port) == want


def test_ledis_check_knows_streams(fresh_server):
    from tests.test_tools_dump import ledis_cli

    src = fresh_server()
    populate_streams(src.client())
    src.stop()
    data_dir = os.path.join(src.dir, "db")
    proc = ledis_cli("check", data_dir)
    assert b"0 problem(s)" in proc.stdout, proc.stdout
    # A wrong length is found and repaired (groups and PELs are not counted as entries).
    from ledis.storage import layout
    from ledis.tools.dump import open_engine

    engine = open_engine(data_dir)
    raw = engine.get(layout.META, layout.meta_key(0, b"full"))
    engine.put(layout.META, layout.meta_key(0, b"full"), raw[:17] + layout.U64.pack(9) + raw[25:])
    engine.commit()
    engine.close()
    proc = ledis_cli("check", data_dir, check=False)
    assert b"stream metadata says 9 entries, 2 stored" in proc.stdout, proc.stdout
    ledis_cli("repair", data_dir)
    assert b"0 problem(s)" in ledis_cli("check", data_dir).stdout


# --- declarations --------------------------------------------------------------------------------
STREAM_COMMANDS = ["xadd", "xlen", "xrange", "xrevrange", "xdel", "xtrim", "xread",
                   "xreadgroup", "xack", "xpending", "xclaim", "xautoclaim", "xsetid",
                   "xgroup|create", "xgroup|setid", "xgroup|destroy", "xgroup|createconsumer",
                   "xgroup|delconsumer", "xgroup|help", "xinfo|stream", "xinfo|groups",
                   "xinfo|consumers", "xinfo|help"]


@pytest.mark.parametrize("name", STREAM_COMMANDS)
def test_declaration_matches_redis(name):
    import json
    from pathlib import Path

    import ledis.commands  # noqa: F401  (every @command registered)
    from ledis.commands.registry import REGISTRY

    ref_dir = Path("/work/shared/reference/redis-7.0")
    if not ref_dir.exists():
        pytest.skip("no Redis reference files")
    commands = json.loads((ref_dir / "commands.json").read_text())["commands"]
    docs = json.loads((ref_dir / "command-docs.json").read_text())["docs"]
    if "|" in name:
        parent, sub = name.split("|")
        ref = commands[parent]["subcommands"][name]
        subs = docs[parent]["subcommands"]
        if isinstance(subs, list):  # RESP2: a flat name, doc, name, doc ... list
            subs = dict(zip(subs[::2], subs[1::2], strict=True))
        doc = subs[name]
        cmd = REGISTRY.lookup(parent.encode()).subcommands[sub.encode()]
    else:
        ref, doc, cmd = commands[name], docs[name], REGISTRY.lookup(name.encode())
    assert cmd.arity == ref["arity"]
    assert cmd.flags == frozenset(ref["flags"])
    assert (cmd.first_key, cmd.last_key, cmd.step) == (
        ref["first_key"], ref["last_key"], ref["step"])
    assert set(cmd.acl_categories) == set(ref["acl_categories"])
    assert (cmd.summary, cmd.since, cmd.group) == (doc["summary"], doc["since"], doc["group"])
    assert cmd.complexity == doc.get("complexity", "")


def test_getkeys_match_redis(target):
    server, _ = target
    r = server.client(protocol=2)
    r.response_callbacks.clear()
    assert r.execute_command("COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", "a", "b",
                             "0", "0") == [b"a", b"b"]
    assert r.execute_command("COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "g", "c", "STREAMS",
                             "k", ">") == [b"k"]
    assert r.execute_command("COMMAND", "GETKEYS", "XGROUP", "CREATE", "k", "g", "$") == [b"k"]


# --- keyspace notifications ----------------------------------------------------------------------
NOTIFY_SEQUENCE = [
    ("XADD", "s", "1-0", "f", "v"), ("XADD", "s", "MAXLEN", "1", "2-0", "f", "v"),
    ("XADD", "s", "MAXLEN", "5", "3-0", "f", "v"), ("XADD", "nos", "NOMKSTREAM", "*", "f", "v"),
    ("XTRIM", "s", "MAXLEN", "1"), ("XTRIM", "s", "MAXLEN", "1"), ("XDEL", "s", "9-9"),
    ("XDEL", "s", "3-0"), ("XGROUP", "CREATE", "s", "g", "0"),
    ("XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"), ("XADD", "s", "4-0", "f", "v"),
    ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),
    ("XGROUP", "CREATECONSUMER", "s", "g", "bob"), ("XGROUP", "CREATECONSUMER", "s", "g", "bob"),
    ("XCLAIM", "s", "g", "carol", "0", "4-0"), ("XAUTOCLAIM", "s", "g", "dave", "0", "0"),
    ("XGROUP", "DELCONSUMER", "s", "g", "bob"), ("XGROUP", "SETID", "s", "g", "0"),
    ("XSETID", "s", "10-0"), ("XGROUP", "DESTROY", "s", "g"), ("XGROUP", "DESTROY", "s", "g"),
    ("DEL", "s"),
]


def _events(server) -> list:
    c = server.client(protocol=2)
    c.flushall()
    c.config_set("notify-keyspace-events", "KEgt")
    p = c.pubsub()
    p.psubscribe("__key*__:*")
    p.get_message(timeout=1)
    for cmd in NOTIFY_SEQUENCE:
        try:
            c.execute_command(*cmd)
        except redis.ResponseError:
            pass
    c.execute_command("PING")
    out = []
    while True:
        msg = p.get_message(timeout=0.3)
        if msg is None:
            break
        out.append((msg["channel"], msg["data"]))
    c.config_set("notify-keyspace-events", "")
    p.close()
    c.close()
    return out


@pytest.mark.skipif(not have_redis_server(), reason="redis-server not installed")
def test_keyspace_events_match_redis(server, redis_server):
    ours = _events(server)
    assert (b"__keyevent@0__:xtrim", b"s") in ours
    assert ours == _events(redis_server)


def test_a_blocked_reader_ignores_a_key_that_became_a_list(target):
    server, r = target
    t = start(server, r, "XREAD", "BLOCK", "0", "STREAMS", "k", "$")
    r.rpush("k", "x")  # signals the key, but it holds no stream
    time.sleep(0.1)
    assert t.is_alive()
    r.delete("k")
    r.xadd("k", {"f": "v"}, id="1-0")
    assert t.finish() == [[b"k", [(b"1-0", {b"f": b"v"})]]]


def test_embedded_api_reads_streams():
    import ledis

    with ledis.open(memory=True) as db:
        assert db.xadd("s", "1-1", "f", "v", "g", "w") == b"1-1"
        assert db.xrange("s", "-", "+") == [[b"1-1", [b"f", b"v", b"g", b"w"]]]
        assert db.xread("BLOCK", "0", "STREAMS", "s", "$") is None  # cannot block: at once
        assert db.xinfo_stream("s")[b"first-entry"] == [b"1-1", [b"f", b"v", b"g", b"w"]]
