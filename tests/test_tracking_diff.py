"""CLIENT TRACKING against redis-server 7.0: the same raw-socket scenarios on both servers,
every reply and every invalidation push (or its absence) compared. Client ids differ between
servers, so they are replaced by "ID" before comparing."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.diff import assert_same


def _ids(value, ids):
    """Replace client ids (ints in ``ids``) by "ID", anywhere in a reply."""
    if isinstance(value, list):
        return [_ids(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _ids(v, ids) for k, v in value.items()}
    if isinstance(value, int) and value in ids:
        return "ID"
    return value


def test_default_mode(ports):
    def scenario(port, client):
        a, w = client(resp3=True), client()
        out = [a.call("CLIENT", "TRACKINGINFO"), a.call("CLIENT", "GETREDIR"),
               a.call("CLIENT", "TRACKING", "ON"), a.call("CLIENT", "TRACKINGINFO"),
               a.call("CLIENT", "GETREDIR")]
        w.call("SET", "k", "1")
        w.call("SET", "k2", "1")
        out += [a.call("GET", "k"), a.call("MGET", "k2", "k3"), a.call("EXISTS", "k4")]
        w.call("SET", "k", "2")
        out.append(_sync(a))  # invalidate k
        w.call("SET", "k", "3")
        out.append(_sync(a))  # nothing: k is forgotten until read again
        w.call("DEL", "k2", "k3")
        out.append(_sync(a))  # only k2 changed
        w.call("SET", "k3", "x")
        out.append(_sync(a))  # k3 was read and is still remembered
        w.call("SET", "k4", "x")
        out.append(_sync(a))
        steps = [
            [["EXPIRE", "k", "100"]],
            [["SET", "x", "1"]],
            [["SET", "k", "10", "NX"]],
            [["SELECT", "1"], ["SET", "k", "x"], ["SELECT", "0"]],
            [["MULTI"], ["SET", "k", "5"], ["INCR", "k"], ["EXEC"]],
            [["EVAL", "redis.call('set', KEYS[1], '9') return 1", "1", "k"]],
            [["COPY", "k", "kcopy"]],
            [["SINTERSTORE", "dest", "k"]],
            [["HSET", "h", "f", "v"]],
            [["SWAPDB", "0", "1"], ["SWAPDB", "0", "1"]],
            [["FLUSHDB"]],
            [["FLUSHALL"]],
        ]
        for step in steps:
            a.call("GET", "k")
            for cmd in step:
                w.call(*cmd)
            out.append(_sync(a))
        a.call("EVAL", "return redis.call('get', KEYS[1])", "1", "k")
        w.call("SET", "k", "10")
        out.append(_sync(a))  # reads inside a script count for the caller
        a.call("GET", "k")
        out += [a.call("SET", "k", "4"), _sync(a)]  # own write: reply first, then the push
        a.call("GET", "k")
        a.send_many(["GET", "k"], ["SET", "k", "5"], ["GET", "k"], ["SET", "k", "6"])
        out.append(_sync(a))
        a.call("GET", "k")
        a.send_many(["MULTI"], ["SET", "k", "7"], ["GET", "k"], ["EXEC"])
        out.append(_sync(a))
        out += [a.call("CLIENT", "TRACKING", "OFF"), a.call("CLIENT", "TRACKINGINFO")]
        w.call("SET", "k", "1")
        out.append(_sync(a))
        return out

    assert_same(ports, scenario)


def test_noloop_bcast_and_prefixes(ports):
    def scenario(port, client):
        a, w = client(resp3=True), client()
        out = [a.call("CLIENT", "TRACKING", "ON", "NOLOOP"), a.call("GET", "k"),
               a.call("SET", "k", "2"), _sync(a), a.call("CLIENT", "TRACKINGINFO"),
               a.call("CLIENT", "TRACKING", "OFF")]
        out += [a.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj:"),
                a.call("CLIENT", "TRACKINGINFO")]
        w.call("SET", "user:1", "a")
        out.append(_sync(a))
        w.call("MSET", "user:2", "b", "obj:1", "c", "zzz", "d")
        out.append(_sync(a))
        w.send_many(["SET", "user:4", "x"], ["SET", "user:3", "y"], ["DEL", "user:nope"])
        w.drain()
        out.append(_sync(a))
        out += [a.call("SET", "user:9", "1"), _sync(a)]
        out += [a.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "obj:x"),
                a.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "new:"),
                a.call("CLIENT", "TRACKINGINFO"), a.call("CLIENT", "TRACKING", "ON"),
                a.call("CLIENT", "TRACKING", "OFF")]
        out += [a.call("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP")]
        w.call("SET", "anything", "1")
        out += [_sync(a), a.call("SET", "mine", "1"), _sync(a)]
        a.send_many(["SET", "mine2", "1"], ["SET", "mine2", "2"])
        w.call("SET", "theirs", "1")
        out.append(_sync(a))
        w.call("FLUSHALL")
        out += [_sync(a), a.call("CLIENT", "TRACKING", "OFF")]
        return out

    assert_same(ports, scenario)


def test_optin_optout_and_caching(ports):
    def scenario(port, client):
        a, w = client(resp3=True), client()
        out = [a.call("CLIENT", "TRACKING", "ON", "OPTIN"), a.call("GET", "k")]
        w.call("SET", "k", "z")
        out += [_sync(a), a.call("CLIENT", "CACHING", "YES"), a.call("CLIENT", "TRACKINGINFO"),
                a.call("GET", "k")]
        w.call("SET", "k", "z")
        out.append(_sync(a))
        for between in (["CLIENT", "ID"], ["PING"]):
            a.call("CLIENT", "CACHING", "YES")
            a.call(*between)
            a.call("GET", "k")
            w.call("SET", "k", "zz")
            out.append(_sync(a))
        a.call("CLIENT", "CACHING", "YES")
        a.call("MULTI")
        a.call("GET", "k")
        a.call("EXEC")
        a.call("GET", "k2")
        w.call("MSET", "k", "1", "k2", "2")
        out.append(_sync(a))
        a.call("CLIENT", "CACHING", "YES")
        a.call("EVAL", "return redis.call('get', KEYS[1])", "1", "k")
        a.call("GET", "k2")
        w.call("MSET", "k", "1", "k2", "2")
        out.append(_sync(a))
        out += [a.call("CLIENT", "CACHING", "NO"), a.call("CLIENT", "TRACKING", "OFF"),
                a.call("CLIENT", "TRACKING", "ON", "OPTOUT"), a.call("CLIENT", "CACHING", "NO"),
                a.call("CLIENT", "TRACKINGINFO"), a.call("GET", "k")]
        w.call("SET", "k", "q")
        out.append(_sync(a))
        a.call("GET", "k")
        w.call("SET", "k", "q")
        out += [_sync(a), a.call("CLIENT", "CACHING", "YES"),
                a.call("CLIENT", "TRACKING", "ON", "OPTIN"), a.call("CLIENT", "TRACKINGINFO"),
                a.call("CLIENT", "TRACKING", "OFF"), a.call("CLIENT", "CACHING", "YES"),
                a.call("CLIENT", "CACHING", "MAYBE")]
        return out

    assert_same(ports, scenario)


@pytest.mark.parametrize("args", [
    ["ON", "BCAST", "OPTIN"], ["ON", "BCAST", "OPTOUT"], ["ON", "OPTIN", "OPTOUT"],
    ["ON", "PREFIX", "a"], ["ON", "REDIRECT", "999999"], ["ON", "REDIRECT", "0"],
    ["ON", "REDIRECT", "-1"], ["ON", "REDIRECT", "x"], ["ON", "REDIRECT"], ["ON", "FOO"],
    ["MAYBE"], ["OFF", "FOO"], ["ON", "BCAST", "PREFIX", "a", "PREFIX", "ab"],
    ["ON", "BCAST", "PREFIX", "ab", "PREFIX", "a"], ["ON", "BCAST", "PREFIX", "a", "PREFIX", "b"],
    ["ON", "BCAST", "PREFIX"], ["on", "bcast", "noloop", "prefix", "x"], ["ON", "NOLOOP", "OPTOUT"],
])
def test_option_errors(ports, args):
    def scenario(port, client):
        a = client()
        return [a.call("CLIENT", "TRACKING", *args), a.call("CLIENT", "TRACKINGINFO"),
                a.call("CLIENT", "TRACKING", "OFF"), a.call("CLIENT", "TRACKING")]

    assert_same(ports, scenario)


def test_redirect(ports):
    def scenario(port, client):
        w = client()
        r2, t2 = client(), client()
        rid = r2.call("CLIENT", "ID")
        ids = {rid}
        out = [r2.call("SUBSCRIBE", "__redis__:invalidate"),
               t2.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(rid), "REDIRECT", str(rid)),
               t2.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(rid)),
               t2.call("CLIENT", "GETREDIR"), t2.call("CLIENT", "TRACKINGINFO"),
               t2.call("GET", "k")]
        w.call("SET", "k", "r")
        out += [r2.drain(), t2.drain()]
        w.call("FLUSHALL")
        out.append(r2.drain())
        line = [x for x in w.call("CLIENT", "LIST").split(b"\n") if b"cmd=get" in x][0]
        out.append([f for f in line.split() if f.split(b"=")[0] in (b"flags",)])
        r2.close()
        for _ in range(50):
            if rid not in [int(x.split(b"id=")[1].split()[0])
                           for x in w.call("CLIENT", "LIST").split(b"\n") if x]:
                break
            time.sleep(0.02)
        t2.call("GET", "k")
        w.call("SET", "k", "r2")
        out += [t2.drain(), t2.call("CLIENT", "TRACKINGINFO")]
        r3 = client()
        rid3 = r3.call("CLIENT", "ID")
        ids.add(rid3)
        a = client(resp3=True)
        a.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(rid3))
        a.call("GET", "k")
        w.call("SET", "k", "r3")
        out += [r3.drain(), a.drain()]  # a RESP2 client that subscribed to nothing: nowhere
        r3.call("PSUBSCRIBE", "zzz*")
        a.call("GET", "k")
        w.call("SET", "k", "r4")
        out += [r3.drain(), a.call("CLIENT", "TRACKING", "OFF")]
        r5 = client(resp3=True)
        rid5 = r5.call("CLIENT", "ID")
        ids.add(rid5)
        a.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(rid5))
        a.call("GET", "k")
        w.call("SET", "k", "r5")
        out.append(r5.drain())
        r5.close()
        for _ in range(50):
            if a.call("CLIENT", "TRACKINGINFO")[b"flags"][-1] == b"broken_redirect":
                break
            time.sleep(0.02)
        a.call("GET", "k")
        w.call("SET", "k", "r6")
        out += [a.drain(), a.call("CLIENT", "TRACKINGINFO")]
        s2 = client()
        out += [s2.call("CLIENT", "TRACKING", "ON"), s2.call("GET", "k")]
        w.call("SET", "k", "s2")
        out.append(s2.drain())  # RESP2 without a redirect: nothing is sent
        return _ids(out, ids)

    assert_same(ports, scenario)


# --- random sequences -------------------------------------------------------------------------
KEYS = ["a", "b", "ab", "h"]
READS = [
    lambda k: ["GET", k], lambda k: ["MGET", k, "b"], lambda k: ["EXISTS", k, "a"],
    lambda k: ["HGET", "h", "f"], lambda k: ["STRLEN", k], lambda k: ["TYPE", k],
    lambda k: ["SINTERCARD", "2", k, "b"], lambda k: ["TTL", k],
]
WRITES = [
    lambda k: ["SET", k, "1"], lambda k: ["DEL", k, "ab"], lambda k: ["INCR", k],
    lambda k: ["HSET", "h", "f", k], lambda k: ["EXPIRE", k, "100"],
    lambda k: ["RENAME", k, "b"], lambda k: ["MSET", k, "x", "ab", "y"],
    lambda k: ["SET", k, "2", "NX"], lambda k: ["APPEND", k, "z"], lambda k: ["COPY", k, "ab"],
    lambda k: ["SUNIONSTORE", "b", k], lambda k: ["PERSIST", k], lambda k: ["FLUSHDB"],
    lambda k: ["EVAL", "return redis.call('set', KEYS[1], 'e')", "1", k],
]
MODES = [["ON"], ["ON", "NOLOOP"], ["ON", "BCAST", "PREFIX", "a"], ["ON", "BCAST"],
         ["ON", "OPTIN"], ["ON", "OPTOUT"]]


def _sync(c):
    """Everything the server sent this client before a PONG (pushes caused earlier)."""
    c.send("PING")
    seen = []
    while True:
        reply = c.read(5)
        if reply in (b"PONG", "<nothing>", "<closed>"):
            return seen
        seen.append(reply)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(MODES),
       ops=st.lists(st.tuples(st.sampled_from(["read", "write", "own", "caching"]),
                              st.integers(0, 100), st.sampled_from(KEYS)),
                    min_size=1, max_size=14))
def test_random_sequences(ports, mode, ops):
    def scenario(port, client):
        a, w = client(resp3=True), client()
        a.call("FLUSHALL")
        out = [a.call("CLIENT", "TRACKING", *mode)]
        for kind, n, key in ops:
            if kind == "read":
                out.append(a.call(*READS[n % len(READS)](key)))
            elif kind == "caching":
                out.append(a.call("CLIENT", "CACHING", "YES" if "OPTIN" in mode else "NO"))
            else:
                cmd = WRITES[n % len(WRITES)](key)
                out.append((a if kind == "own" else w).call(*cmd))
            out.append(_sync(a))
        return out

    assert_same(ports, scenario)


@pytest.mark.parametrize("block", [["BLMOVE", "src", "dst", "LEFT", "LEFT", "0"],
                                   ["BRPOPLPUSH", "src", "dst", "0"], ["BLPOP", "src", "0"]])
def test_served_blocked_move_invalidates_destination(ports, block):
    def scenario(port, client):
        t, b, w = client(resp3=True), client(), client()
        w.call("RPUSH", "dst", "old")
        out = [t.call("CLIENT", "TRACKING", "ON"), t.call("LRANGE", "dst", "0", "-1"),
               t.call("LLEN", "other")]
        b.send(*block)
        out.append(b.read(0.2))
        out.append(w.call("RPUSH", "src", "x"))
        out += [b.read(), _sync(t)]
        return out

    assert_same(ports, scenario)


def test_command_info_and_docs_match(ports):
    names = ["client|tracking", "client|caching", "client|getredir", "client|trackinginfo",
             "latency|doctor", "latency|graph", "latency|histogram", "ssubscribe",
             "sunsubscribe", "spublish", "pubsub|shardchannels", "pubsub|shardnumsub"]

    def scenario(port, client):
        c = client()
        out = [c.call("COMMAND", "INFO", name) for name in names]
        docs = c.call("COMMAND", "DOCS", *names)
        out.append({docs[i]: docs[i + 1] for i in range(0, len(docs), 2)})
        return out

    assert_same(ports, scenario)


def test_trackinginfo_flags_are_a_set(wire_pair):
    """CLIENT TRACKINGINFO's flags are a RESP3 set (``~``), byte for byte as Redis."""
    for args in (("CLIENT", "TRACKINGINFO"),
                 ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "NOLOOP"),
                 ("CLIENT", "TRACKINGINFO"), ("CLIENT", "TRACKING", "OFF"),
                 ("CLIENT", "TRACKING", "ON", "OPTIN"), ("CLIENT", "CACHING", "YES"),
                 ("CLIENT", "TRACKINGINFO"), ("CLIENT", "TRACKING", "OFF")):
        wire_pair.same(*args)
