"""CLUSTER, READONLY, READWRITE, ASKING answer as a Redis 7.0 without cluster support:
differential raw-socket transcripts (direct, in MULTI, from scripts) and COMMAND INFO."""

from __future__ import annotations

import pytest
import redis

from tests.diff import assert_same

CALLS = [
    ["CLUSTER"], ["CLUSTER", "HELP"], ["CLUSTER", "INFO"], ["CLUSTER", "NODES"],
    ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "MYID"], ["CLUSTER", "LINKS"],
    ["CLUSTER", "KEYSLOT", "foo"], ["CLUSTER", "KEYSLOT"], ["CLUSTER", "NOSUCH"],
    ["cluster", "countkeysinslot", "1"], ["CLUSTER", "GETKEYSINSLOT", "1", "2"],
    ["CLUSTER", "RESET"], ["CLUSTER", "RESET", "HARD"], ["CLUSTER", "ADDSLOTS", "1"],
    ["CLUSTER", "ADDSLOTS"], ["CLUSTER", "SETSLOT", "1", "NODE", "x"], ["CLUSTER", "HELP", "x"],
    ["CLUSTER", "INFO", "x"], ["CLUSTER", "REPLICAS", "id"], ["CLUSTER", "MEET", "h", "1"],
    ["READONLY"], ["READWRITE"], ["ASKING"], ["READONLY", "x"], ["asking", "x"],
]


@pytest.mark.parametrize("resp3", [False, True])
def test_cluster_commands_refused_like_redis(ports, resp3):
    def scenario(port, client):
        c = client(resp3)
        return [c.call(*args) for args in CALLS] + [c.call("PING")]

    out = assert_same(ports, scenario)
    assert ("err", "ERR This instance has cluster support disabled") in out


def test_cluster_commands_in_multi_and_scripts(ports):
    scripts = ["return redis.call('readonly')", "return redis.call('asking')",
               "return redis.call('cluster', 'info')", "return redis.call('cluster', 'reset')",
               "return redis.call('cluster', 'keyslot', 'a')", "return redis.pcall('readwrite')",
               "return redis.pcall('cluster', 'reset')"]

    def scenario(port, client):
        c = client()
        out = [c.call("MULTI"), c.call("CLUSTER", "INFO"), c.call("READONLY"),
               c.call("SET", "k", "v"), c.call("EXEC"), c.call("GET", "k")]
        for script in scripts:
            reply = c.call("EVAL", script, "0")
            if isinstance(reply, tuple):
                reply = reply[1].split(" script:")[0]
            out.append(reply)
        return out

    assert_same(ports, scenario)


def test_command_info_matches(ports):
    def scenario(port, client):
        info = client().call("COMMAND", "INFO", "cluster", "readonly", "readwrite", "asking")
        info[0][9] = sorted(sub[:7] for sub in info[0][9])  # Redis lists them in dict order
        return [entry[:7] + entry[9:] for entry in info]

    assert_same(ports, scenario)


def test_redis_py_cluster_client_is_told(server):
    """redis-py's RedisCluster asks CLUSTER SLOTS first: it must get Redis's refusal."""
    with pytest.raises(redis.exceptions.RedisClusterException,
                       match="Cluster mode is not enabled"):
        redis.RedisCluster(host="127.0.0.1", port=server.port)
