"""Sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS/SHARDNUMSUB) on
a server without cluster support: differential raw-socket transcripts against redis-server
(RESP2 and RESP3), and redis-py's sharded pub/sub API."""

from __future__ import annotations

import time

import pytest

from tests.diff import assert_same


def _sorted_pairs(flat):
    return sorted(zip(flat[::2], flat[1::2], strict=True))


@pytest.mark.parametrize("resp3", [False, True])
def test_shard_channels_are_their_own_namespace(ports, resp3):
    def scenario(port, client):
        a, b = client(resp3), client()
        out = [a.call("SSUBSCRIBE", "s1", "s2"), a.drain()]
        out += [a.call("SUBSCRIBE", "c1"), a.drain(), a.call("PSUBSCRIBE", "s*"), a.drain()]
        out += [a.call("GET", "x"), a.call("PING")]
        out += [b.call("SPUBLISH", "s1", "m"), b.call("PUBLISH", "s1", "m2"),
                b.call("SPUBLISH", "c1", "m3"), b.call("SPUBLISH", "nobody", "m4"), a.drain()]
        out += [sorted(b.call("PUBSUB", "SHARDCHANNELS")),
                b.call("PUBSUB", "SHARDCHANNELS", "s1*"),
                b.call("PUBSUB", "SHARDNUMSUB", "s1", "c1", "zz"),
                b.call("PUBSUB", "SHARDNUMSUB"),
                b.call("PUBSUB", "CHANNELS"), b.call("PUBSUB", "NUMSUB", "s1", "c1")]
        info = b.call("INFO", "stats")
        out.append([line for line in info.split(b"\r\n") if line.startswith(b"pubsub")])
        line = [x for x in b.call("CLIENT", "LIST").split(b"\n") if b"cmd=ping" in x][0]
        out.append([f for f in line.split() if f.split(b"=")[0] in (b"flags", b"sub", b"ssub")])
        out += [a.call("SUNSUBSCRIBE", "s2"), a.call("SUNSUBSCRIBE", "zz")]
        out += [a.call("UNSUBSCRIBE"), a.call("PUNSUBSCRIBE"), a.drain()]
        out += [a.call("GET", "x"), a.call("SUNSUBSCRIBE"), a.drain(),
                a.call("SUNSUBSCRIBE"), a.call("GET", "x")]
        out += [a.call("SSUBSCRIBE", "s1"), a.call("RESET"), a.call("GET", "x"),
                b.call("SPUBLISH", "s1", "after reset")]
        return out

    assert_same(ports, scenario)


def test_shard_commands_in_scripts_multi_and_arity(ports):
    def scenario(port, client):
        b = client()
        out = [b.call("EVAL", "return redis.call('spublish', 's1', 'x')", "0")]
        err = b.call("EVAL", "return redis.call('ssubscribe', 's1')", "0")
        out.append(err[1].split(" script:")[0])
        out += [b.call("MULTI"), b.call("SSUBSCRIBE", "q"), b.call("EXEC"), b.drain()]
        out += [b.call("SSUBSCRIBE"), b.call("SPUBLISH", "a"), b.call("SUNSUBSCRIBE", "x")]
        out += [b.call("COMMAND", "INFO", "ssubscribe", "sunsubscribe", "spublish"),
                b.call("COMMAND", "GETKEYS", "ssubscribe", "a", "b"),
                b.call("COMMAND", "GETKEYS", "spublish", "a", "b")]
        return out

    assert_same(ports, scenario)


def test_disconnect_drops_shard_subscriptions(ports):
    def scenario(port, client):
        a, b = client(), client()
        a.call("SSUBSCRIBE", "gone")
        a.close()
        for _ in range(50):
            if b.call("PUBSUB", "SHARDNUMSUB", "gone")[1] == 0:
                break
            time.sleep(0.02)
        return [b.call("PUBSUB", "SHARDNUMSUB", "gone"), b.call("SPUBLISH", "gone", "x")]

    assert assert_same(ports, scenario) == [[b"gone", 0], 0]


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_sharded_pubsub(server, protocol):
    client = server.client(protocol=protocol)
    p = client.pubsub()
    p.ssubscribe("news")
    confirm = p.get_sharded_message(timeout=1)
    assert confirm["type"] == "ssubscribe" and confirm["data"] == 1
    assert client.spublish("news", "hello") == 1
    assert client.publish("news", "ignored") == 0
    msg = p.get_sharded_message(timeout=1)
    assert msg["type"] == "smessage" and msg["channel"] == b"news" and msg["data"] == b"hello"
    assert client.pubsub_shardnumsub("news") == [(b"news", 1)]
    p.sunsubscribe("news")
    assert p.get_sharded_message(timeout=1)["type"] == "sunsubscribe"
    assert client.spublish("news", "again") == 0
    p.close()
    client.close()

