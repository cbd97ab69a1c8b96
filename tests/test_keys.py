"""Keyspace commands: DEL/EXISTS/TYPE, KEYS/SCAN/RANDOMKEY, RENAME/MOVE/COPY/SWAPDB, OBJECT.

Most tests go through a real server; the generic copy of collections (RENAME/MOVE/COPY of any
type) is also tested in-process on synthetic collections built directly in the storage layout,
so it does not depend on the hash/list/set/zset modules.
"""

from __future__ import annotations

import os
import tempfile

import pytest
import redis

from ledis import glob
from ledis.config import Config
from ledis.errors import LedisError
from ledis.server.compose import build, load_commands
from ledis.storage import layout
from ledis.storage.layout import COLLECTION, DATA, ZSCORE


def put(r, mapping, ttl_ms=None):
    """Set many string keys with plain SETs (only GET/SET are relied on from the strings
    module), optionally with a TTL through PEXPIRE."""
    pipe = r.pipeline(transaction=False)
    for k, v in mapping.items():
        pipe.set(k, v)
        if ttl_ms is not None:
            pipe.pexpire(k, ttl_ms)
    pipe.execute()


def err(fn, *args):
    with pytest.raises(redis.ResponseError) as info:
        fn(*args)
    return str(info.value)


# --- DEL / UNLINK / EXISTS / TOUCH / TYPE ---------------------------------------------------------
def test_del_counts_only_existing(r):
    put(r, {"a": 1, "b": 2})
    assert r.delete("a", "b", "c") == 2
    assert r.delete("a") == 0
    assert r.dbsize() == 0


def test_unlink_like_del(r):
    r.set("a", 1)
    assert r.unlink("a", "zz") == 1
    assert r.exists("a") == 0


def test_exists_and_touch_count_duplicates(r):
    r.set("a", 1)
    assert r.exists("a", "a", "b") == 2
    assert r.touch("a", "a", "b") == 2


def test_type_of_string_and_missing(r):
    r.set("s", "v")
    assert r.type("s") == b"string"
    assert r.type("nope") == b"none"


# --- KEYS / SCAN / RANDOMKEY ---------------------------------------------------------------------
def test_keys_glob(r):
    for k in ("hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "other"):
        r.set(k, 1)
    assert sorted(r.keys("h?llo")) == [b"h*llo", b"hallo", b"hello", b"hxllo"]
    assert sorted(r.keys("h*llo")) == [b"h*llo", b"hallo", b"heeeello", b"hello", b"hllo",
                                       b"hxllo"]
    assert sorted(r.keys("h[ae]llo")) == [b"hallo", b"hello"]
    assert sorted(r.keys("h[^e]llo")) == [b"h*llo", b"hallo", b"hxllo"]
    assert sorted(r.keys("h[a-b]llo")) == [b"hallo"]
    assert r.keys("h\\*llo") == [b"h*llo"]
    assert len(r.keys("*")) == 7


def test_keys_skips_expired_and_other_dbs(r):
    r.set("a", 1)
    put(r, {"gone": 1}, ttl_ms=1)
    r.execute_command("SELECT", 1)
    r.set("in1", 1)
    r.execute_command("SELECT", 0)
    import time
    time.sleep(0.01)
    assert r.keys("*") == [b"a"]


@pytest.mark.parametrize("pattern,key,expected", [
    (b"*", b"", True),  # via compile's fast path, like Redis's allkeys shortcut
    (b"**", b"", False),
    (b"[", b"[", False),
    (b"[a", b"a", True),
    (b"[z-a]", b"m", True),
    (b"[\\]]", b"]", True),
    (b"\\", b"\\", True),
    (b"a\\", b"a\\", True),
    (b"*a*a*a*b", b"a" * 60, False),
    (b"?", b"\xff", True),
    (b"[\x80-\xff]", b"a", False),  # signed chars: the range is -128..-1
])
def test_glob_edges(pattern, key, expected):
    assert glob.compile(pattern)(key) is expected


def test_glob_literal_prefix():
    assert glob.literal_prefix(b"user:*") == b"user:"
    assert glob.literal_prefix(b"a\\*b") == b"a"
    assert glob.literal_prefix(b"abc") == b"abc"


def test_scan_walks_every_key_once(r):
    keys = {f"key:{i:04d}".encode() for i in range(537)}
    put(r, {k: 1 for k in keys})
    seen = []
    cursor = 0
    calls = 0
    while True:
        cursor, page = r.scan(cursor, count=25)
        seen.extend(page)
        calls += 1
        assert len(page) <= 25
        if cursor == 0:
            break
    assert sorted(seen) == sorted(keys)
    assert len(seen) == len(set(seen))
    assert calls >= 537 // 25


def test_scan_keys_present_throughout_are_returned_despite_changes(r):
    stable = {f"s{i:03d}".encode() for i in range(200)}
    put(r, {k: 1 for k in stable})
    seen = set()
    cursor = 0
    n = 0
    while True:
        cursor, page = r.scan(cursor, count=13)
        seen.update(page)
        # churn: add and delete other keys between calls
        r.set(f"a{n}", 1)
        r.set(f"t{n}", 1)
        r.delete(f"a{n - 1}")
        n += 1
        if cursor == 0:
            break
    assert stable <= seen


def test_scan_match_type_count(r):
    put(r, {"user:1": 1, "user:2": 2, "other": 3})
    assert sorted(r.scan(0, match="user:*", count=100)[1]) == [b"user:1", b"user:2"]
    assert r.scan(0, count=100, _type="string")[0] == 0
    assert sorted(r.scan(0, count=100, _type="STRING")[1]) == [b"other", b"user:1", b"user:2"]
    assert r.scan(0, count=100, _type="hash")[1] == []
    assert sorted(r.scan_iter(match="*:?")) == [b"user:1", b"user:2"]


def test_scan_count_is_keys_examined(r):
    put(r, {f"k{i}": 1 for i in range(10)})
    cursor, page = r.scan(0, count=3, match="nomatch*")
    assert page == []
    # the literal prefix of the pattern bounds the walk: nothing to look at, so it ends
    assert cursor == 0
    cursor, page = r.scan(0, count=3, match="*x")
    assert page == [] and cursor != 0


def test_scan_errors(r):
    assert err(r.execute_command, "SCAN", "abc") == "invalid cursor"
    assert err(r.execute_command, "SCAN", "0", "COUNT", "0") == "syntax error"
    assert err(r.execute_command, "SCAN", "0", "COUNT") == "syntax error"
    assert err(r.execute_command, "SCAN", "0", "FOO", "1") == "syntax error"
    assert err(r.execute_command, "SCAN", "0", "COUNT", "x") == \
        "value is not an integer or out of range"
    # a cursor the server never issued
    assert err(r.execute_command, "SCAN", "12345") == "invalid cursor"


def test_scan_empty_db(r):
    assert r.scan(0) == (0, [])


def test_randomkey(r):
    assert r.randomkey() is None
    keys = {f"key:{i}".encode() for i in range(50)}
    put(r, {k: 1 for k in keys})
    picked = {r.randomkey() for _ in range(200)}
    assert picked <= keys
    assert len(picked) > 30  # spread over the keys (trie walk), not always the first one


def test_randomkey_skips_expired(r):
    import time
    put(r, {"gone": 1}, ttl_ms=1)
    r.set("live", 1)
    time.sleep(0.01)
    assert {r.randomkey() for _ in range(20)} == {b"live"}


# --- RENAME / RENAMENX ---------------------------------------------------------------------------
def test_rename_moves_value_and_ttl(r):
    put(r, {"a": "v"}, ttl_ms=100_000)
    r.set("b", "old")
    assert r.rename("a", "b") is True
    assert r.get("b") == b"v"
    assert 98 <= r.ttl("b") <= 100
    assert r.exists("a") == 0
    assert r.dbsize() == 1


def test_rename_drops_target_ttl(r):
    r.set("a", "v")
    put(r, {"b": "old"}, ttl_ms=100_000)
    r.rename("a", "b")
    assert r.ttl("b") == -1


def test_rename_errors_and_same_key(r):
    assert err(r.rename, "nope", "x") == "no such key"
    assert err(r.renamenx, "nope", "x") == "no such key"
    r.set("a", 1)
    assert r.rename("a", "a") is True
    assert r.renamenx("a", "a") is False
    assert r.get("a") == b"1"


def test_renamenx(r):
    r.set("a", 1)
    r.set("b", 2)
    assert r.renamenx("a", "b") is False
    assert r.renamenx("a", "c") is True
    assert [r.get(k) for k in "abc"] == [None, b"2", b"1"]


def test_rename_onto_expired_target(r):
    import time
    r.set("a", 1)
    put(r, {"b": 2}, ttl_ms=1)
    time.sleep(0.01)
    assert r.renamenx("a", "b") is True
    assert r.ttl("b") == -1
    assert r.dbsize() == 1


# --- MOVE / COPY / SWAPDB ------------------------------------------------------------------------
def test_move(r):
    put(r, {"a": "v"}, ttl_ms=100_000)
    assert r.move("a", 1) is True
    assert r.exists("a") == 0
    r.execute_command("SELECT", 1)
    assert r.get("a") == b"v"
    assert r.ttl("a") > 90
    r.set("b", "in1")
    r.execute_command("SELECT", 0)
    r.set("b", "in0")
    assert r.move("b", 1) is False
    assert r.move("nope", 1) is False


def test_move_errors(r):
    r.set("a", 1)
    assert err(r.move, "a", 0) == "source and destination objects are the same"
    assert err(r.move, "a", 16) == "DB index is out of range"
    assert err(r.move, "a", -1) == "DB index is out of range"
    assert err(r.move, "a", "x") == "value is not an integer or out of range"
    assert err(r.move, "a", 2**31) == \
        "value is out of range, value must between -2147483648 and 2147483647"


def test_copy(r):
    put(r, {"a": "v"}, ttl_ms=100_000)
    assert r.copy("a", "b") is True
    assert r.get("b") == b"v" and r.ttl("b") > 90
    r.set("c", "other")
    assert r.copy("a", "c") is False
    assert r.copy("a", "c", replace=True) is True
    assert r.get("c") == b"v"
    assert r.copy("a", "a2", destination_db=3) is True
    r.execute_command("SELECT", 3)
    assert r.get("a2") == b"v"
    r.execute_command("SELECT", 0)
    assert r.copy("nope", "x") is False


def test_copy_errors(r):
    r.set("a", 1)
    assert err(r.execute_command, "COPY", "a", "a") == "source and destination objects are the same"
    assert err(r.execute_command, "COPY", "a", "b", "DB") == "syntax error"
    assert err(r.execute_command, "COPY", "a", "b", "DB", "99") == "DB index is out of range"
    assert err(r.execute_command, "COPY", "a", "b", "FOO") == "syntax error"
    assert r.execute_command("COPY", "a", "a", "DB", "1") == 1


def test_swapdb(server, r):
    r.set("a", "in0")
    other = server.client(db=1)
    other.set("b", "in1")
    assert r.swapdb(0, 1) is True
    assert r.keys("*") == [b"b"]
    assert other.keys("*") == [b"a"]  # a client already in db 1 sees the swap
    assert r.dbsize() == 1 and other.dbsize() == 1
    r.set("c", 1)
    assert r.swapdb(1, 0) is True
    assert sorted(r.keys("*")) == [b"a"]
    assert sorted(other.keys("*")) == [b"b", b"c"]
    assert r.swapdb(2, 2) is True
    other.close()


def test_swapdb_errors(r):
    assert err(r.execute_command, "SWAPDB", "a", "1") == "invalid first DB index"
    assert err(r.execute_command, "SWAPDB", "1", "a") == "invalid second DB index"
    assert err(r.execute_command, "SWAPDB", "1", "99") == "DB index is out of range"
    assert err(r.execute_command, "SWAPDB", "-1", "0") == "DB index is out of range"


def test_swapdb_survives_restart(fresh_server):
    srv = fresh_server("--appendfsync", "always")
    c = srv.client()
    c.set("a", "in0")
    c.swapdb(0, 5)
    c.set("fresh0", 1)
    srv.restart()
    c = srv.client()
    assert c.keys("*") == [b"fresh0"]
    assert c.dbsize() == 1
    c5 = srv.client(db=5)
    assert c5.keys("*") == [b"a"] and c5.dbsize() == 1


# --- OBJECT --------------------------------------------------------------------------------------
def test_object_encoding_strings(r):
    r.set("i", "12345")
    r.set("neg", "-5")
    r.set("lead0", "01")
    r.set("e", "x" * 44)
    r.set("raw", "x" * 45)
    assert r.object("encoding", "i") == b"int"
    assert r.object("encoding", "neg") == b"int"
    assert r.object("encoding", "lead0") == b"embstr"
    assert r.object("encoding", "e") == b"embstr"
    assert r.object("encoding", "raw") == b"raw"
    assert r.object("encoding", "nope") is None


def test_object_refcount_idletime_freq_help(r):
    r.set("small", "5")
    r.set("big", "12345")
    r.set("s", "x")
    assert r.object("refcount", "small") == 2147483647
    assert r.object("refcount", "big") == 1
    assert r.object("refcount", "s") == 1
    assert r.object("refcount", "nope") is None
    assert r.object("idletime", "s") >= 0
    assert err(r.object, "freq", "s").startswith("An LFU maxmemory policy is not selected")
    help_lines = r.execute_command("OBJECT", "HELP")
    assert help_lines[0].startswith(b"OBJECT <subcommand>")
    assert len(help_lines) == 15
    assert err(r.execute_command, "OBJECT", "FOO", "x") == \
        "unknown subcommand 'FOO'. Try OBJECT HELP."


# --- generic copies of collections (in-process, synthetic collections) ----------------------------
@pytest.fixture
def core():
    load_commands()
    config = Config()
    config.dir = tempfile.mkdtemp(prefix="ledis-keys-test-")
    c = build(config)
    yield c
    c.close()
    import shutil
    shutil.rmtree(config.dir, ignore_errors=True)


def _make_collection(core, db_index, key, type_code, subs, scores=(), expire=0):
    db = core.store.dbs[db_index]
    version = db.new_version()
    prefix = layout.sub_prefix(db.index, version)
    for sub, value in subs:
        core.engine.put(DATA, prefix + sub, value)
    for score_sub in scores:
        core.engine.put(ZSCORE, prefix + score_sub, b"")
    raw = COLLECTION.pack(type_code, expire, version, len(subs)) + b"EXTRA"
    db.replace(key, raw, db.raw(key))


def _subs(core, db_index, key):
    db = core.store.dbs[db_index]
    raw = db.raw(key)
    if raw is None:
        return None
    prefix = layout.sub_prefix(db.index, layout.U64.unpack_from(raw, 9)[0])
    end = layout.prefix_end(prefix)
    n = len(prefix)
    return ([(k[n:], v) for k, v in core.engine.iterate(DATA, prefix, end)],
            [k[n:] for k, _ in core.engine.iterate(ZSCORE, prefix, end)])


def _count_family(core, cf, db_index=None):
    start = b"" if db_index is None else layout.DB_BYTES[db_index]
    return sum(1 for _ in core.engine.iterate(cf, start))


def run(core, ctx, *argv):
    return core.dispatch(ctx, [a if isinstance(a, bytes) else str(a).encode() for a in argv])


@pytest.mark.parametrize("type_code,name", [(layout.HASH, b"hash"), (layout.ZSET, b"zset"),
                                            (layout.SET, b"set"), (layout.LIST, b"list")])
def test_rename_move_copy_collections(core, type_code, name):
    ctx = core.new_context()
    subs = [(b"f%03d" % i, b"v%d" % i) for i in range(300)]
    scores = [b"\x80" + b"%07d" % i + b"f%03d" % i for i in range(300)] \
        if type_code == layout.ZSET else []
    _make_collection(core, 0, b"src", type_code, subs, scores, expire=layout.now_ms() + 100_000)
    core.commit()
    expected = (subs, scores)
    assert run(core, ctx, "TYPE", "src") == name

    assert run(core, ctx, "RENAME", "src", "dst") == b"OK"
    core.commit()
    assert _subs(core, 0, b"src") is None
    assert _subs(core, 0, b"dst") == expected
    assert run(core, ctx, "TTL", "dst") > 90
    assert core.store.dbs[0].raw(b"dst")[-5:] == b"EXTRA"  # type extras travel along
    # old sub-keys are gone (range tombstones): one copy of everything is left
    assert _count_family(core, DATA) == 300

    assert run(core, ctx, "COPY", "dst", "cp", "DB", "2") == 1
    core.commit()
    assert _subs(core, 2, b"cp") == expected
    assert run(core, ctx, "MOVE", "dst", "1") == 1
    core.commit()
    assert _subs(core, 0, b"dst") is None
    assert _subs(core, 1, b"dst") == expected
    assert _count_family(core, DATA) == 600
    if type_code == layout.ZSET:
        assert _count_family(core, ZSCORE) == 600

    # overwrite a collection with a copy of a string: the collection's sub-keys go
    run(core, ctx, "SET", "s", "x")
    assert run(core, ctx, "COPY", "s", "dst", "DB", "1", "REPLACE") == 1
    core.commit()
    assert _count_family(core, DATA) == 300
    ctx.select(1)
    assert run(core, ctx, "TYPE", "dst") == b"string"
    assert run(core, ctx, "DEL", "dst") == 1
    ctx.select(2)
    assert run(core, ctx, "DEL", "cp") == 1
    core.commit()
    assert _count_family(core, DATA) == 0
    assert _count_family(core, ZSCORE) == 0


def test_rename_collection_within_one_batch(core):
    """RENAME twice before a commit: the copy reads its own pending writes."""
    ctx = core.new_context()
    _make_collection(core, 0, b"a", layout.HASH, [(b"f%d" % i, b"v") for i in range(10)])
    run(core, ctx, "RENAME", "a", "b")
    run(core, ctx, "RENAME", "b", "c")
    assert _subs(core, 0, b"c")[0] == [(b"f%d" % i, b"v") for i in range(10)]
    core.commit()
    assert _subs(core, 0, b"c")[0] == [(b"f%d" % i, b"v") for i in range(10)]
    assert _count_family(core, DATA) == 10
    assert core.store.dbs[0].keys == 1


def test_object_encoding_collections(core):
    ctx = core.new_context()
    _make_collection(core, 0, b"h", layout.HASH, [(b"f", b"v")])
    # Redis 7.0's built-in hash-max-listpack-entries is 512 (redis.conf's 128 is not the default)
    _make_collection(core, 0, b"hmid", layout.HASH, [(b"f%d" % i, b"v") for i in range(129)])
    _make_collection(core, 0, b"hbig", layout.HASH, [(b"f%d" % i, b"v") for i in range(513)])
    _make_collection(core, 0, b"hlong", layout.HASH, [(b"f", b"v" * 65)])
    _make_collection(core, 0, b"iset", layout.SET, [(b"1", b""), (b"-2", b"")])
    _make_collection(core, 0, b"sset", layout.SET, [(b"1", b""), (b"a", b"")])
    _make_collection(core, 0, b"z", layout.ZSET, [(b"m", b"")])
    _make_collection(core, 0, b"zbig", layout.ZSET, [(b"m%d" % i, b"") for i in range(129)])
    _make_collection(core, 0, b"l", layout.LIST, [(b"\x80" + bytes(7), b"x")])
    got = {k: run(core, ctx, "OBJECT", "ENCODING", k) for k in
           ("h", "hmid", "hbig", "hlong", "iset", "sset", "z", "zbig", "l")}
    assert got == {"h": b"listpack", "hmid": b"listpack", "hbig": b"hashtable",
                   "hlong": b"hashtable",
                   "iset": b"intset", "sset": b"hashtable", "z": b"listpack",
                   "zbig": b"skiplist", "l": b"quicklist"}


def test_swapdb_mapping_in_process(core):
    ctx = core.new_context()
    run(core, ctx, "SET", "a", "0")
    ctx1 = core.new_context()
    ctx1.select(1)
    run(core, ctx1, "SET", "b", "1")
    run(core, ctx, "SWAPDB", "0", "1")
    assert run(core, ctx, "GET", "b") == b"1"
    assert run(core, ctx1, "GET", "a") == b"0"
    assert [d.logical for d in core.store.dbs][:2] == [0, 1]
    assert core.store.dbs[0].index == 1 and core.store.dbs[1].index == 0
    run(core, ctx, "FLUSHALL")
    assert run(core, ctx, "DBSIZE") == 0 and run(core, ctx1, "DBSIZE") == 0


def test_errors_are_ledis_errors(core):
    ctx = core.new_context()
    with pytest.raises(LedisError):
        run(core, ctx, "RENAME", "nope", "x")
    assert os.path.isdir(core.config.dir)


# --- blocked clients wake up when a list arrives by RENAME / MOVE / SWAPDB -----------------------
def _have(client, name):
    try:
        client.execute_command(name)
    except redis.ResponseError as exc:
        return "unknown command" not in str(exc)
    return True


@pytest.mark.parametrize("how", ["rename", "move", "copy", "swapdb"])
def test_blocked_client_woken_by_keyspace_change(server, r, how):
    import threading
    waiter = server.client(db=1)
    result = []
    t = threading.Thread(target=lambda: result.append(waiter.blpop("dst", timeout=5)))
    t.start()
    import time
    time.sleep(0.2)
    r.execute_command("SELECT", 1)
    if how == "rename":
        r.rpush("src", "x")
        r.rename("src", "dst")
    elif how == "copy":
        r.rpush("src", "x")
        r.copy("src", "dst")
    else:
        r.execute_command("SELECT", 2)
        r.rpush("src" if how == "move" else "dst", "x")
        if how == "move":
            r.rename("src", "dst")
            r.move("dst", 1)
        else:
            r.swapdb(1, 2)
    t.join(6)
    waiter.close()
    assert result == [(b"dst", b"x")]


def test_reload_mapping_after_external_swap(core):
    """A replica applying a master's SWAPDB changes ``sys`` underneath: reload_mapping()
    re-reads the map and the counters."""
    ctx = core.new_context()
    run(core, ctx, "SET", "a", "0")
    run(core, ctx, "SWAPDB", "0", "7")
    core.commit()
    store = core.store
    # simulate stale in-memory state (as on a replica that only applied the effects)
    for i, db in enumerate(store.dbs):
        db.index, db.prefix, db.keys = i, layout.DB_BYTES[i], 0
    store.reload_mapping()
    assert store.dbs[7].index == 0 and store.dbs[0].index == 7
    assert run(core, ctx, "DBSIZE") == 0
    ctx.select(7)
    assert run(core, ctx, "GET", "a") == b"0" and run(core, ctx, "DBSIZE") == 1


def test_object_freq_idletime_follow_lfu_policy(r):
    r.set("k", "v")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        assert r.object("freq", "k") == 5  # no LFU history yet: a new object's counter
        assert err(r.object, "idletime", "k").startswith("An LFU maxmemory policy is selected")
    finally:
        r.config_set("maxmemory-policy", "noeviction")
    assert r.object("idletime", "k") == 0


MY_COMMANDS = ("del unlink exists touch type expire pexpire expireat pexpireat ttl pttl "
               "expiretime pexpiretime persist keys scan randomkey rename renamenx move copy "
               "swapdb object|encoding object|refcount object|idletime object|freq "
               "object|help").split()


@pytest.mark.parametrize("name", MY_COMMANDS)
def test_declarations_match_redis(name):
    import json
    from pathlib import Path

    from ledis.commands.registry import REGISTRY
    load_commands()
    ref_path = Path("/work/shared/reference/redis-7.0/commands.json")
    if not ref_path.exists():
        pytest.skip("reference not available")
    commands = json.loads(ref_path.read_text())["commands"]
    parent, _, sub = name.partition("|")
    ref = commands[parent] if not sub else commands[parent]["subcommands"][name]
    cmd = REGISTRY.lookup(parent.encode())
    if sub:
        cmd = cmd.subcommands[sub.encode()]
    assert cmd.arity == ref["arity"]
    assert cmd.flags == frozenset(ref["flags"])
    assert (cmd.first_key, cmd.last_key, cmd.step) == (ref["first_key"], ref["last_key"],
                                                        ref["step"])
    assert set(cmd.acl_categories) == set(ref["acl_categories"])
    docs = json.loads((ref_path.parent / "command-docs.json").read_text())["docs"]
    doc = docs[parent] if not sub else dict(
        zip(docs[parent]["subcommands"][::2], docs[parent]["subcommands"][1::2], strict=True))[name]
    assert (cmd.summary, cmd.since, cmd.complexity, cmd.group) == (
        doc["summary"], doc["since"], doc["complexity"], doc["group"])


def test_xscan_walks_one_type_with_integer_cursors(r):
    r.set("s1", "v")
    r.hset("h1", "f", "v")
    r.hset("h2", "f", "v")
    r.rpush("l1", "a")
    seen, cursor = [], b"0"
    while True:
        cursor, keys = r.execute_command("XSCAN", "HASH", cursor, "COUNT", 1)
        seen += keys
        if int(cursor) == 0:
            break
    assert sorted(seen) == [b"h1", b"h2"]
    assert r.execute_command("XSCAN", "kv", 0, "MATCH", "s*", "COUNT", 100)[1] == [b"s1"]
    with pytest.raises(redis.ResponseError, match="invalid data type 'nope'"):
        r.execute_command("XSCAN", "nope", 0)
