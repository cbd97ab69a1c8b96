"""Pub/Sub through real clients: redis-py (RESP2 and RESP3 pushes), asyncio-redis, raw sockets.

Byte-exact reply sequences against redis-server are in test_transactions_diff.py.
"""

from __future__ import annotations

import asyncio
import socket
import time

import hiredis
import pytest
import redis


def _messages(ps, n, timeout=5.0):
    """The next ``n`` data messages of a redis-py PubSub (confirmations skipped)."""
    out = []
    deadline = time.time() + timeout
    while len(out) < n and time.time() < deadline:
        m = ps.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if m is not None:
            out.append(m)
    return out


@pytest.mark.parametrize("protocol", [2, 3])
def test_subscribe_publish_receive(server, protocol):
    sub = server.client(protocol=protocol)
    pub = server.client()
    ps = sub.pubsub()
    ps.subscribe("news")
    assert ps.get_message(timeout=2) == {"type": "subscribe", "pattern": None,
                                         "channel": b"news", "data": 1}
    assert pub.publish("news", "hello") == 1
    assert pub.publish("other", "nobody") == 0
    [m] = _messages(ps, 1)
    assert m == {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"}
    ps.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_patterns(server, protocol):
    sub = server.client(protocol=protocol)
    pub = server.client()
    ps = sub.pubsub()
    ps.psubscribe("user.*", "h?llo", "[ab]x")
    assert pub.publish("user.1", "a") == 1
    assert pub.publish("hallo", "b") == 1
    assert pub.publish("bx", "c") == 1
    assert pub.publish("cx", "d") == 0
    got = _messages(ps, 3)
    assert [(m["type"], m["pattern"], m["channel"], m["data"]) for m in got] == [
        ("pmessage", b"user.*", b"user.1", b"a"),
        ("pmessage", b"h?llo", b"hallo", b"b"),
        ("pmessage", b"[ab]x", b"bx", b"c"),
    ]
    ps.close()


def test_channel_and_pattern_both_deliver_in_order(server):
    sub = server.client()
    pub = server.client()
    ps = sub.pubsub()
    ps.subscribe("c")
    ps.psubscribe("c*", "*")
    assert pub.publish("c", "1") == 3
    assert pub.publish("c", "2") == 3
    got = [(m["type"], m["pattern"], m["data"]) for m in _messages(ps, 6)]
    assert got == [("message", None, b"1"), ("pmessage", b"c*", b"1"), ("pmessage", b"*", b"1"),
                   ("message", None, b"2"), ("pmessage", b"c*", b"2"), ("pmessage", b"*", b"2")]
    ps.close()


def test_many_subscribers(server):
    pub = server.client()
    subs = []
    for i in range(40):
        ps = server.client(protocol=2 + (i % 2)).pubsub()
        ps.subscribe("fanout")
        ps.get_message(timeout=2)
        subs.append(ps)
    assert pub.pubsub_numsub("fanout") == [(b"fanout", 40)]
    assert pub.publish("fanout", "x" * 1000) == 40
    for ps in subs:
        [m] = _messages(ps, 1)
        assert m["data"] == b"x" * 1000
        ps.close()
    deadline = time.time() + 5
    while pub.pubsub_numsub("fanout") != [(b"fanout", 0)] and time.time() < deadline:
        time.sleep(0.05)
    assert pub.pubsub_numsub("fanout") == [(b"fanout", 0)]  # disconnects unsubscribe


class Raw:
    def __init__(self, port):
        import hiredis

        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(5)
        self.reader = hiredis.Reader()

    def call(self, *args, n=1):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(parts))
        return self.read(n)

    def read(self, n=1):
        out = []
        while len(out) < n:
            reply = self.reader.gets()
            if reply is not False:
                out.append(reply)
                continue
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.reader.feed(data)
        return out


def test_unsubscribe_all_replies(server):
    c = Raw(server.port)
    c.call("SUBSCRIBE", "a", "b", "c", n=3)
    c.call("PSUBSCRIBE", "x*", "y*", n=2)
    replies = c.call("UNSUBSCRIBE", n=3)
    assert sorted(r[1] for r in replies) == [b"a", b"b", b"c"]
    assert [r[0] for r in replies] == [b"unsubscribe"] * 3
    assert [r[2] for r in replies] == [4, 3, 2]  # patterns still count
    replies = c.call("PUNSUBSCRIBE", n=2)
    assert [r[2] for r in replies] == [1, 0]
    assert c.call("UNSUBSCRIBE") == [[b"unsubscribe", None, 0]]
    assert c.call("PUNSUBSCRIBE") == [[b"punsubscribe", None, 0]]
    assert c.call("GET", "k") == [None]  # out of subscribed mode


def test_resp2_subscribed_mode_restrictions(server):
    c = Raw(server.port)
    c.call("SUBSCRIBE", "a")
    [err] = c.call("GET", "k")
    assert str(err) == ("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                        "QUIT / RESET are allowed in this context")
    [err] = c.call("CONFIG", "GET", "maxmemory")
    assert "Can't execute 'config|get'" in str(err)
    assert c.call("PING") == [[b"pong", b""]]
    assert c.call("PING", "hi") == [[b"pong", b"hi"]]
    assert c.call("RESET") == [b"RESET"]
    assert c.call("GET", "k") == [None]


def test_resp3_subscriber_can_run_anything(server):
    c = Raw(server.port)
    c.call("HELLO", "3")
    c.call("SUBSCRIBE", "a")
    assert c.call("SET", "k", "v") == [b"OK"]
    assert c.call("GET", "k") == [b"v"]
    assert c.call("PING") == [b"PONG"]


def test_redis_py_resp3_push_handler(server):
    sub = server.client(protocol=3)
    pub = server.client()
    received = []
    ps = sub.pubsub()
    ps.subscribe(**{"ch": received.append})
    pub.publish("ch", "via handler")
    deadline = time.time() + 5
    while not received and time.time() < deadline:
        ps.get_message(timeout=0.2)
    assert received and received[0]["data"] == b"via handler"
    ps.close()


def test_pubsub_introspection(server):
    pub = server.client()
    a = server.client().pubsub()
    b = server.client().pubsub()
    a.subscribe("news.tech", "news.art", "sport")
    b.subscribe("news.tech")
    b.psubscribe("n*", "x*")
    a.psubscribe("n*")
    for ps in (a, b):
        while ps.get_message(timeout=0.5) is not None:
            pass
    assert sorted(pub.pubsub_channels()) == [b"news.art", b"news.tech", b"sport"]
    assert sorted(pub.pubsub_channels("news.*")) == [b"news.art", b"news.tech"]
    assert pub.pubsub_numsub("news.tech", "sport", "none") == [
        (b"news.tech", 2), (b"sport", 1), (b"none", 0)]
    assert pub.pubsub_numpat() == 2  # unique patterns
    a.close()
    b.close()


def test_publish_from_lua(server):
    sub = server.client().pubsub()
    sub.subscribe("lua")
    sub.get_message(timeout=2)
    pub = server.client()
    assert pub.eval("return redis.call('PUBLISH', KEYS[1], ARGV[1])", 1, "lua", "msg") == 1
    [m] = _messages(sub, 1)
    assert m["data"] == b"msg"
    sub.close()


def test_subscribe_not_allowed_from_lua(r):
    with pytest.raises(redis.ResponseError, match="not allowed from script"):
        r.eval("return redis.call('SUBSCRIBE', 'x')", 0)


def test_reset_unsubscribes(server):
    c = Raw(server.port)
    c.call("SUBSCRIBE", "r1")
    c.call("PSUBSCRIBE", "r*")
    pub = server.client()
    assert pub.publish("r1", "x") == 2
    c.read(2)
    assert c.call("RESET") == [b"RESET"]
    assert pub.publish("r1", "x") == 0
    assert pub.pubsub_numpat() == 0


@pytest.mark.parametrize("limit", ["pubsub 2mb 1mb 60", "pubsub 0 512kb 0"],
                         ids=["hard", "soft"])
def test_slow_subscriber_is_disconnected(server, limit):
    pub = server.client()
    old = pub.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    pub.config_set("client-output-buffer-limit", limit)
    try:
        slow = socket.create_connection(("127.0.0.1", server.port))
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nslow\r\n")
        time.sleep(0.2)
        payload = b"x" * 65536
        deadline = time.time() + 20
        while pub.pubsub_numsub("slow") == [(b"slow", 1)] and time.time() < deadline:
            pub.publish("slow", payload)  # the subscriber never reads
        assert pub.pubsub_numsub("slow") == [(b"slow", 0)]
        assert pub.ping() is True
        slow.close()
    finally:
        pub.config_set("client-output-buffer-limit", old)


def test_asyncio_redis_pubsub(server):
    asyncio_redis = pytest.importorskip("asyncio_redis")

    async def main():
        sub_conn = await asyncio_redis.Connection.create(host="127.0.0.1", port=server.port)
        pub_conn = await asyncio_redis.Connection.create(host="127.0.0.1", port=server.port)
        try:
            subscriber = await sub_conn.start_subscribe()
            await subscriber.subscribe(["aio"])
            await subscriber.psubscribe(["ai*"])
            n = await pub_conn.publish("aio", "hello")
            first = await asyncio.wait_for(subscriber.next_published(), 5)
            second = await asyncio.wait_for(subscriber.next_published(), 5)
            return n, {(m.channel, m.value, m.pattern) for m in (first, second)}
        finally:
            sub_conn.close()
            pub_conn.close()

    n, got = asyncio.run(main())
    assert n == 2
    assert got == {("aio", "hello", None), ("aio", "hello", "ai*")}


# --- keyspace notifications (differential against redis-server) --------------------------------

KEYSPACE_COMMANDS = [
    ("SET", "s", "1"), ("SET", "s", "2", "EX", "100"), ("SETEX", "s2", "10", "v"),
    ("APPEND", "s", "x"), ("INCR", "n"), ("DECRBY", "n", "3"), ("INCRBYFLOAT", "n", "1.5"),
    ("SETRANGE", "s", "0", "z"), ("MSET", "a", "1", "b", "2"), ("SET", "a", "1", "NX"),
    ("GETSET", "a", "3"), ("GETDEL", "a"), ("DEL", "b", "missing"), ("EXPIRE", "s", "100"),
    ("PERSIST", "s"), ("EXPIRE", "s2", "-1"), ("RENAME", "s", "s3"),
    ("RPUSH", "l", "a", "b", "c"), ("LPUSH", "l", "z"), ("LPOP", "l"), ("RPOP", "l", "1"),
    ("LSET", "l", "0", "q"), ("LINSERT", "l", "BEFORE", "q", "w"), ("LREM", "l", "0", "w"),
    ("LTRIM", "l", "0", "0"), ("LMOVE", "l", "l2", "LEFT", "RIGHT"), ("RPOPLPUSH", "l2", "l3"),
    ("BLPOP", "l3", "0"),
    # a key named twice: deleted or popped once (MSET sets it twice)
    ("SET", "tw", "1"), ("DEL", "tw", "tw"), ("MSET", "tw", "1", "tw", "2"),
    ("UNLINK", "tw", "tw"), ("RPUSH", "tw", "a", "b"), ("BLPOP", "tw", "tw", "0"),
    ("ZADD", "tz", "1", "a"), ("BZPOPMIN", "tz", "tz", "0"),
    ("HSET", "h", "f", "v", "g", "w"), ("HSET", "h", "f", "v"), ("HDEL", "h", "f"),
    ("HINCRBY", "h", "c", "2"), ("HINCRBYFLOAT", "h", "d", "1.5"), ("HSETNX", "h", "f", "x"),
    ("SADD", "st", "a", "b"), ("SREM", "st", "a"), ("SMOVE", "st", "st2", "b"), ("SPOP", "st2"),
    ("SADD", "x1", "a"), ("SADD", "x2", "a"), ("SINTERSTORE", "si", "x1", "x2"),
    ("SDIFFSTORE", "si", "x1", "x2"),
    ("ZADD", "z", "1", "a", "2", "b"), ("ZINCRBY", "z", "1", "a"), ("ZREM", "z", "a"),
    ("ZPOPMIN", "z"), ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
    ("ZREMRANGEBYSCORE", "z", "1", "1"), ("ZREMRANGEBYRANK", "z", "0", "0"),
    ("ZUNIONSTORE", "zu", "1", "z"), ("ZRANGESTORE", "zr", "z", "0", "-1"),
    ("BZPOPMAX", "zr", "0"), ("MOVE", "zu", "1"), ("COPY", "h", "h2"),
    ("COPY", "h", "h3", "DB", "2"), ("GETEX", "h2"), ("SET", "ge", "v"),
    ("GETEX", "ge", "EX", "100"), ("GETEX", "ge", "PERSIST"),
    ("EVAL", "redis.call('set','lua','1') return 1", "0"),
    ("MULTI",), ("SET", "m", "1"), ("DEL", "m"), ("EXEC",),
    ("PFADD", "hll", "a", "b"), ("PFADD", "hll", "a"), ("PFMERGE", "hll2", "hll"),
    ("GEOADD", "geo", "13.36", "38.11", "pa", "15.08", "37.50", "ca"),
    ("GEOSEARCHSTORE", "geo2", "geo", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
    ("GEOSEARCHSTORE", "geo2", "geo", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ("GEORADIUS", "geo", "15", "37", "200", "km", "STORE", "geo3"),
    ("SORT", "st", "ALPHA"), ("RPUSH", "sl", "3", "1", "2"), ("SORT", "sl", "STORE", "sl2"),
    ("SORT", "missing", "STORE", "sl2"),
    # bits (an event only when a bit changed), BITOP's destination (del for an empty result)
    ("SETBIT", "bits", "7", "1"), ("SETBIT", "bits", "7", "1"), ("SETBIT", "bits", "7", "0"),
    ("BITFIELD", "bf", "SET", "u8", "0", "255"), ("BITFIELD", "bf", "SET", "u8", "0", "255"),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000"),
    ("BITOP", "NOT", "bnot", "bits"), ("SET", "empty", ""), ("BITOP", "OR", "bnot", "empty"),
    # the key LMPOP / ZMPOP popped from (numkeys-located keys), ZADD INCR, a no-op LTRIM
    ("RPUSH", "ml", "a", "b"), ("LMPOP", "2", "missing", "ml", "RIGHT"),
    ("LMPOP", "1", "ml", "LEFT", "COUNT", "5"), ("RPUSH", "ml", "a"),
    ("BLMPOP", "0", "1", "ml", "LEFT"), ("ZADD", "mz", "1", "a", "2", "b"),
    ("ZMPOP", "2", "missing", "mz", "MAX"), ("BZMPOP", "0", "1", "mz", "MIN"),
    ("ZADD", "zi", "INCR", "5", "a"), ("ZADD", "zi", "CH", "1", "incr"),
    ("RPUSH", "lt", "a"), ("LTRIM", "lt", "0", "-1"),
    # a blocking pop served at once pops from its first non-empty key only
    ("RPUSH", "b1", "a"), ("RPUSH", "b2", "b"), ("BLPOP", "b1", "b2", "0"),
    ("ZADD", "bz1", "1", "a"), ("ZADD", "bz2", "1", "b"), ("BZPOPMAX", "bz1", "bz2", "0"),
    # class n ("new"): streams created by XADD / XGROUP CREATE MKSTREAM, RENAME over a key
    ("XADD", "xs", "*", "f", "v"), ("XGROUP", "CREATE", "xs2", "g", "$", "MKSTREAM"),
    ("SET", "r1", "a"), ("SET", "r2", "b"), ("RENAME", "r1", "r2"),
    # SMOVE of a member the destination has: srem only
    ("SADD", "sm1", "a", "b"), ("SADD", "sm2", "a"), ("SMOVE", "sm1", "sm2", "a"),
    ("SMOVE", "sm1", "sm2", "b"),
    # GETEX with an expiry publishes expire even when it is the same; PERSIST only once
    ("SET", "gx", "1", "EXAT", "4102444800"), ("GETEX", "gx", "EXAT", "4102444800"),
    ("GETEX", "gx"), ("GETEX", "gx", "PERSIST"), ("GETEX", "gx", "PERSIST"),
    # XGROUP DELCONSUMER publishes only for a consumer that was there
    ("XGROUP", "CREATE", "xs", "gx", "0"), ("XGROUP", "DELCONSUMER", "xs", "gx", "nobody"),
    ("XGROUP", "CREATECONSUMER", "xs", "gx", "c"), ("XGROUP", "DELCONSUMER", "xs", "gx", "c"),
    # a list rotated onto itself: nothing to write, still push and pop
    ("RPUSH", "rot", "a"), ("LMOVE", "rot", "rot", "LEFT", "LEFT"), ("RPOPLPUSH", "rot", "rot"),
    ("LMOVE", "missing", "missing", "LEFT", "LEFT"),
    # an absolute expiry in the past stores an expired key (set, expire; not del); the next
    # write finds it expired ("expired", then "new")
    ("SET", "px", "0", "EXAT", "1"),
    ("SET", "px", "1", "PX", "50"),  # expires: "expired" (class x) from active expiry
]



class _ByteClient:
    """One connection whose ``call`` returns the raw bytes of the next reply (the keyspace
    event stream is compared byte for byte with Redis's)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(5)
        self.reader = hiredis.Reader()

    def call(self, *args) -> bytes:
        self.sock.sendall(hiredis.pack_command(tuple(args)))
        raw = b""
        while self.reader.gets() is False:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            raw += data
            self.reader.feed(data)
        return raw

    def read_reply(self):
        """The next reply, parsed (for a command sent with ``sock.sendall``)."""
        while (reply := self.reader.gets()) is False:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.reader.feed(data)
        return reply

    def close(self) -> None:
        self.sock.close()


def _keyspace_events(port: int, classes: str, commands: list = KEYSPACE_COMMANDS) -> list:
    """Every (channel, message) a ``PSUBSCRIBE __key*__:*`` client gets while ``commands``
    run with ``notify-keyspace-events`` set to ``classes``."""
    sub, c = _ByteClient(port), _ByteClient(port)
    c.call("FLUSHALL")
    c.call("CONFIG", "SET", "notify-keyspace-events", classes)
    try:
        sub.call("PSUBSCRIBE", "__key*__:*")
        for cmd in commands:
            c.call(*cmd)
        time.sleep(0.6)  # let active expiry remove "px"
        events = _events_until_end(c, sub)
    finally:
        c.call("CONFIG", "SET", "notify-keyspace-events", "")
        sub.close()
        c.close()
    return events


def _events_until_end(client: _ByteClient, sub: _ByteClient) -> list:
    """Publish an end marker with ``client``; every (channel, message) ``sub`` (subscribed
    to ``__key*__:*``) got before it."""
    client.call("PUBLISH", "__keyevent@0__:zzend", "end")
    raw = b""
    deadline = time.time() + 5
    while b"zzend" not in raw and time.time() < deadline:
        raw += sub.sock.recv(65536)
    reader = hiredis.Reader()
    reader.feed(raw)
    events = []
    while (reply := reader.gets()) is not False:
        events.append(tuple(reply[2:]))
    assert events[-1] == (b"__keyevent@0__:zzend", b"end")
    return events[:-1]


# Blocked clients served by another client's write: (the blocking command, the feeding
# writes). The served pop publishes its own events after the feeding command's, as Redis's
# handleClientsBlockedOnKeys does.
SERVED = [
    (("BLPOP", "q1", "q2", "0"), [("RPUSH", "q2", "a")]),
    (("BRPOP", "q6", "0"), [("RPUSH", "q6", "a", "b")]),
    (("BLMOVE", "q1", "d1", "LEFT", "RIGHT", "0"), [("LPUSH", "q1", "x")]),
    (("BRPOPLPUSH", "q3", "d1", "0"), [("RPUSH", "q3", "y")]),
    (("BLMPOP", "0", "2", "q4", "q5", "RIGHT", "COUNT", "2"), [("RPUSH", "q5", "a", "b", "c")]),
    (("BZPOPMIN", "z1", "0"), [("ZADD", "z1", "1", "a")]),
    (("BZMPOP", "0", "1", "z2", "MAX"), [("ZADD", "z2", "1", "a", "2", "b")]),
]


def _served_events(port: int, classes: str) -> list:
    """The events a PSUBSCRIBE client gets while each SERVED blocking command waits in one
    connection and another connection feeds its key."""
    sub, feeder, blocked = _ByteClient(port), _ByteClient(port), _ByteClient(port)
    feeder.call("FLUSHALL")
    feeder.call("CONFIG", "SET", "notify-keyspace-events", classes)
    try:
        sub.call("PSUBSCRIBE", "__key*__:*")
        for blocking, writes in SERVED:
            blocked.sock.sendall(hiredis.pack_command(blocking))
            deadline = time.time() + 5
            while b"blocked_clients:1" not in feeder.call("INFO", "clients"):
                assert time.time() < deadline, f"{blocking} did not block"
                time.sleep(0.01)
            for write in writes:
                feeder.call(*write)
            assert blocked.read_reply() is not None
        events = _events_until_end(feeder, sub)
    finally:
        feeder.call("CONFIG", "SET", "notify-keyspace-events", "")
        for client in (sub, feeder, blocked):
            client.close()
    return events


@pytest.mark.parametrize("classes", ["KEA", "KEAn"])
def test_served_blocked_clients_notify_as_redis(server, redis_server, classes):
    ours = _served_events(server.port, classes)
    assert ours == _served_events(redis_server.port, classes)
    assert (b"__keyspace@0__:q2", b"lpop") in ours


@pytest.mark.parametrize("classes", ["KEA", "Kg", "E$", "Kl", "Es", "Kh", "Ez", "Ex", "KA",
                                     "KEAn", "En", "Et"])
def test_keyspace_notifications_match_redis(server, redis_server, classes):
    ours = _keyspace_events(server.port, classes)
    theirs = _keyspace_events(redis_server.port, classes)
    assert ours == theirs
    if classes in ("KEA", "Ex"):
        assert (b"__keyevent@0__:expired", b"px") in ours


def test_info_counts_channels_and_patterns(server):
    pub = server.client()
    ps = server.client().pubsub()
    ps.subscribe("i1", "i2")
    ps.psubscribe("i*")
    for _ in range(3):  # the three confirmations: the server has run both commands
        assert ps.get_message(timeout=2) is not None
    stats = pub.info("stats")
    assert stats["pubsub_channels"] == 2 and stats["pubsub_patterns"] == 1
    ps.close()
    deadline = time.time() + 5
    while pub.info("stats")["pubsub_channels"] and time.time() < deadline:
        time.sleep(0.05)
    assert pub.info("stats")["pubsub_patterns"] == 0


def test_subscribe_inside_exec_does_not_stop_the_rest(ports):
    """A SUBSCRIBE queued in MULTI subscribes when EXEC runs it, and the commands queued
    after it still run (Redis checks the RESP2 rule when a command arrives); after EXEC the
    rule applies. Compared with redis-server."""
    from tests.rawresp import assert_same

    def scenario(port, client):
        c = client()
        out = c.transaction([("SUBSCRIBE", "ch"), ("GET", "a"), ("SET", "a", "1"), ("PING",)])
        return [out, c.call("GET", "a"), c.call("PING")]

    assert_same(ports, scenario)


def test_expired_key_a_pop_passed_over_publishes_nothing(server, redis_server):
    """BZPOPMIN / BLPOP / LMPOP that pop from another key publish nothing for an expired key
    they name after it (Redis does not look it up; which of the two cycles removes it, and
    when, is left out: no class x)."""
    commands = [("SET", "xb", "1", "EXAT", "1"), ("ZADD", "zb", "1", "m", "2", "n"),
                ("BZPOPMIN", "zb", "xb", "zb", "0"), ("RPUSH", "lb", "a", "b"),
                ("BLPOP", "lb", "xb", "0"), ("LMPOP", "2", "lb", "xb", "LEFT"),
                ("ZMPOP", "2", "zb", "xb", "MAX")]
    for classes in ("KEA", "KEn"):
        assert _keyspace_events(server.port, classes.replace("A", "g$lz"), commands) == \
            _keyspace_events(redis_server.port, classes.replace("A", "g$lz"), commands)
