"""Differential tests of edge cases real clients hit: the same raw-socket scenario runs
against ledis and a real redis-server 7.0 and the transcripts (every reply, and "nothing"
where a reply must not come) must be equal.

Covered: CLIENT REPLY OFF/SKIP with blocked commands and pub/sub, blocked clients and
MULTI/EXEC writes that leave a key of the wrong type, keys moved into place waking blocked
clients, tiny BLPOP timeouts, MULTI/EXEC with a slow script, SAVE, SHUTDOWN and a failing
CONFIG SET, FLUSHALL/FLUSHDB/SWAPDB and WATCH, Lua ``unpack`` limits, cmsgpack and cycles,
MOVE of every type."""

from __future__ import annotations

import io

import msgpack
import pytest

from tests.diff import RawClient, assert_same

NOTHING = RawClient.NOTHING


# --- CLIENT REPLY ------------------------------------------------------------------------------
@pytest.mark.parametrize("resp3", [False, True])
def test_reply_off_subscriber_still_gets_confirmations_and_messages(ports, resp3):
    def scenario(port, client):
        sub, pub = client(resp3), client()
        sub.send_many(["CLIENT", "REPLY", "OFF"], ["SUBSCRIBE", "ch", "ch2"])
        seen = sub.drain()
        pub.call("PUBLISH", "ch", "hi")
        seen += sub.drain()
        sub.send("UNSUBSCRIBE", "ch")
        seen += sub.drain()
        return seen

    seen = assert_same(ports, scenario)
    assert len(seen) == 4  # two confirmations, the message, the unsubscribe confirmation


def test_reply_skip_applies_to_blocked_command(ports):
    def scenario(port, client):
        c, w = client(), client()
        c.send_many(["CLIENT", "REPLY", "SKIP"], ["BLPOP", "l", "0"], ["PING"])
        first = c.read(0.3)
        w.call("RPUSH", "l", "x")
        return [first, c.drain(), w.call("LLEN", "l")]

    assert assert_same(ports, scenario) == [NOTHING, [b"PONG"], 0]


def test_reply_off_blocked_command_reply_dropped(ports):
    def scenario(port, client):
        c, w = client(), client()
        c.send_many(["CLIENT", "REPLY", "OFF"], ["BLPOP", "l", "0"], ["CLIENT", "REPLY", "ON"])
        w.call("RPUSH", "l", "x")
        return [c.drain(), w.call("LLEN", "l")]

    assert assert_same(ports, scenario) == [[b"OK"], 0]


# --- blocked clients -------------------------------------------------------------------------
@pytest.mark.parametrize("block,feed", [
    (["BLPOP", "k", "0"], ["LPUSH", "k", "a"]),
    (["BZPOPMIN", "k", "0"], ["ZADD", "k", "1", "a"]),
    (["BLMOVE", "k", "d", "LEFT", "RIGHT", "0"], ["RPUSH", "k", "a"]),
])
def test_multi_leaving_wrong_type_does_not_wake(ports, block, feed):
    def scenario(port, client):
        c, w = client(), client()
        c.send(*block)
        c.read(0.2)
        w.send_many(["MULTI"], feed, ["DEL", "k"], ["SET", "k", "str"], ["EXEC"])
        replies = w.drain()
        still = c.read(0.3)
        w.call("DEL", "k")
        w.call(*feed)
        return [replies, still, c.read(), w.call("EXISTS", "k")]

    ours = assert_same(ports, scenario)
    assert ours[1] == NOTHING


@pytest.mark.parametrize("setup,move,block", [
    ([["RPUSH", "src", "a"]], ["RENAME", "src", "dst"], ["BLPOP", "dst", "0"]),
    ([["ZADD", "src", "1", "a"]], ["RENAMENX", "src", "dst"], ["BZPOPMIN", "dst", "0"]),
    ([["RPUSH", "src", "a"]], ["COPY", "src", "dst"], ["BLPOP", "dst", "0"]),
    ([["RPUSH", "src", "a"]], ["LMOVE", "src", "dst", "LEFT", "LEFT"], ["BLPOP", "dst", "0"]),
    ([["RPUSH", "src", "a"]], ["RPOPLPUSH", "src", "dst"], ["BLPOP", "dst", "0"]),
    ([["ZADD", "src", "1", "a"]], ["ZUNIONSTORE", "dst", "1", "src"], ["BZPOPMIN", "dst", "0"]),
])
def test_key_moved_into_place_wakes_blocked(ports, setup, move, block):
    def scenario(port, client):
        c, w = client(), client()
        c.send(*block)
        first = c.read(0.2)
        for cmd in setup:
            w.call(*cmd)
        moved = w.call(*move)
        return [first, moved, c.read()]

    ours = assert_same(ports, scenario)
    assert ours[2] != NOTHING


@pytest.mark.parametrize("kind", ["move", "copy"])
def test_move_or_copy_to_other_db_wakes_blocked(ports, kind):
    def scenario(port, client):
        c, w = client(), client()
        c.call("SELECT", "1")
        c.send("BLPOP", "k", "0")
        first = c.read(0.2)
        w.call("RPUSH", "k", "a")
        moved = w.call("MOVE", "k", "1") if kind == "move" else w.call("COPY", "k", "k", "DB", "1")
        return [first, moved, c.read()]

    assert assert_same(ports, scenario) == [NOTHING, 1, [b"k", b"a"]]


def test_swapdb_wakes_blocked(ports):
    def scenario(port, client):
        c, w = client(), client()
        c.send("BLPOP", "k", "0")
        first = c.read(0.2)
        w.call("SELECT", "1")
        w.call("RPUSH", "k", "a")
        return [first, w.call("SWAPDB", "0", "1"), c.read()]

    assert assert_same(ports, scenario) == [NOTHING, b"OK", [b"k", b"a"]]


def test_tiny_timeout_never_blocks_forever(ports):
    def scenario(port, client):
        c = client()
        out = []
        for timeout in ("0.001", "0.0001", "0.01"):
            for cmd in (["BLPOP", "none", timeout], ["BZPOPMIN", "none", timeout],
                        ["BLMOVE", "none", "d", "LEFT", "LEFT", timeout]):
                out.append(c.call(*cmd, timeout=1.0))
        return out

    ours = assert_same(ports, scenario)
    assert NOTHING not in ours


# --- MULTI/EXEC ----------------------------------------------------------------------------
def test_multi_with_save_shutdown_and_config_error(ports):
    def scenario(port, client):
        c = client()
        return [c.call("MULTI"), c.call("SAVE"), c.call("SHUTDOWN"),
                c.call("SET", "k", "v"), c.call("EXEC"), c.call("EXISTS", "k"),
                c.call("MULTI"), c.call("CONFIG", "SET", "maxmemory", "abc"),
                c.call("CONFIG", "SET", "nosuchparam", "1"), c.call("SET", "k", "w"),
                c.call("EXEC"), c.call("GET", "k")]

    assert_same(ports, scenario)


def test_multi_with_script_over_time_limit(ports):
    def scenario(port, client):
        c, other = client(), client()
        c.call("CONFIG", "SET", "busy-reply-threshold", "100")
        try:
            queued = [c.call("MULTI"), c.call("SET", "a", "1"),
                      c.call("EVAL", "local t = redis.call('time') while true do end", "0"),
                      c.call("SET", "b", "2")]
            c.send("EXEC")
            busy = other.call("PING", timeout=3)
            for _ in range(50):
                if other.call("SCRIPT", "KILL") == b"OK":
                    break
            result = c.read(5)
            if isinstance(result, list) and isinstance(result[1], tuple):
                # "ERR Error running script (call to f_<sha>): @user_script:1: Script killed
                # by user with SCRIPT KILL...": compare the cause, not the script location
                result[1] = ("err", "Script killed by user" in result[1][1])
            return [queued, busy, result, other.call("MGET", "a", "b")]
        finally:
            other.call("CONFIG", "SET", "busy-reply-threshold", "5000")

    ours = assert_same(ports, scenario)
    assert ours[1][0] == "err" and ours[1][1].startswith("BUSY")


# --- WATCH and whole-database changes --------------------------------------------------------
@pytest.mark.parametrize("change", [
    [["FLUSHALL"]],
    [["FLUSHDB"]],
    [["SELECT", "1"], ["FLUSHDB"]],
    [["SELECT", "1"], ["FLUSHALL"]],
    [["SWAPDB", "0", "1"]],
    [["SELECT", "1"], ["SET", "k", "x"], ["SWAPDB", "0", "1"]],
    [["SELECT", "1"], ["SET", "missing", "x"], ["SWAPDB", "0", "1"]],
])
def test_whole_database_changes_and_watch(ports, change):
    def scenario(port, client):
        a, b, w = client(), client(), client()
        w.call("SET", "k", "v")
        a.call("WATCH", "k")
        b.call("WATCH", "missing")
        for cmd in change:
            w.call(*cmd)
        out = []
        for c in (a, b):
            c.call("MULTI")
            c.call("SET", "done", "1")
            out.append(c.call("EXEC"))
        return out

    assert_same(ports, scenario)


# --- Lua -------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [7990, 7999, 8000, 9000, 100000])
def test_unpack_limit(ports, n):
    script = ("local t = {} for i = 1, tonumber(ARGV[1]) do t[i] = i end "
              "return select('#', unpack(t))")

    def scenario(port, client):
        c = client()
        reply = c.call("EVAL", script, "0", str(n))
        if isinstance(reply, tuple):  # the error's position text differs: compare the cause
            return ("err", "too many results to unpack" in reply[1])
        return reply

    assert_same(ports, scenario)


@pytest.mark.parametrize("script", [
    "local a = {} a[1] = a return cmsgpack.pack(a)",
    "local a = {x = 1} a.self = a return cmsgpack.pack(a)",
    "local a, b = {}, {} a[1] = b b[1] = a return cmsgpack.pack(a, 'tail')",
    "local a = {} a[1] = a return #cmsgpack.pack(a)",
])
def test_cmsgpack_cycles(ports, script):
    def scenario(port, client):
        reply = client().call("EVAL", script, "0")
        if isinstance(reply, bytes):  # map order follows the Lua table: compare decoded
            return list(msgpack.Unpacker(io.BytesIO(reply), strict_map_key=False))
        return reply

    assert_same(ports, scenario)


# --- MOVE -------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,read", [
    (["SET", "k", "v"], ["GET", "k"]),
    (["RPUSH", "k", "a", "b"], ["LRANGE", "k", "0", "-1"]),
    (["HSET", "k", "f", "v"], ["HGETALL", "k"]),
    (["SADD", "k", "m"], ["SMEMBERS", "k"]),
    (["ZADD", "k", "1", "m", "2", "n"], ["ZRANGE", "k", "0", "-1", "WITHSCORES"]),
])
def test_move_every_type_keeps_ttl(ports, make, read):
    def scenario(port, client):
        c = client()
        c.call(*make)
        c.call("PEXPIRE", "k", "100000")
        out = [c.call("MOVE", "k", "1"), c.call("EXISTS", "k")]
        c.call("SELECT", "1")
        ttl = c.call("PTTL", "k")
        out += [c.call(*read), c.call("TYPE", "k"), 90000 < ttl <= 100000]
        c.call("SELECT", "0")
        c.call(*make)
        out.append(c.call("MOVE", "k", "1"))  # the target exists: not moved
        c.call("SELECT", "1")
        c.call("FLUSHDB")
        return out

    ours = assert_same(ports, scenario)
    assert ours[0] == 1 and ours[-1] == 0
