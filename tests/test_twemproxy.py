"""ledis behind twemproxy (nutcracker): three ledis groups, consistent hashing (ketama).

Integration tests with the real nutcracker (Debian package ``nutcracker``; skipped when it is
missing): keys spread over the three servers, reads through the proxy return what was written,
commands twemproxy forwards (MGET split over servers, hashes, lists, sorted sets, expiry,
EVAL routed by its first key) behave as on one server. See docs/cluster.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import pytest
import redis

from tests.helpers import LedisProcess, free_port, resp2_proxy_client, wait_port

pytestmark = pytest.mark.skipif(shutil.which("nutcracker") is None,
                                reason="nutcracker (twemproxy) not installed")


class Nutcracker:
    """A nutcracker process in front of ``ports`` (server names g1, g2, ...)."""

    def __init__(self, ports: list[int]) -> None:
        self.port = free_port()
        self.stats_port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ledis-nut-")
        self.conf = os.path.join(self.dir, "nutcracker.yml")
        servers = "\n".join(f"   - 127.0.0.1:{p}:1 g{i + 1}" for i, p in enumerate(ports))
        with open(self.conf, "w") as fh:
            fh.write(f"""ledis:
  listen: 127.0.0.1:{self.port}
  hash: murmur
  distribution: ketama
  redis: true
  hash_tag: "{{}}"
  auto_eject_hosts: false
  timeout: 5000
  preconnect: true
  servers:
{servers}
""")
        self.proc: subprocess.Popen | None = None

    def start(self) -> Nutcracker:
        self.proc = subprocess.Popen(
            ["nutcracker", "-c", self.conf, "-s", str(self.stats_port), "-a", "127.0.0.1",
             "-o", os.path.join(self.dir, "nutcracker.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        return self

    def client(self, **kw) -> redis.Redis:
        # twemproxy speaks RESP2 only and closes the connection on a command it does not
        # forward, such as HELLO or the CLIENT SETINFO redis-py sends on connect
        return resp2_proxy_client(port=self.port, **kw)

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def groups():
    servers = [LedisProcess().start() for _ in range(3)]
    proxy = Nutcracker([s.port for s in servers]).start()
    yield proxy, servers
    proxy.cleanup()
    for server in servers:
        server.cleanup()


@pytest.fixture
def proxy(groups):
    proxy, servers = groups
    for server in servers:
        with server.client() as c:
            c.flushall()
    client = proxy.client()
    # preconnect is asynchronous: wait until every backend answers through the proxy
    deadline = time.time() + 10
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    yield client, [s.client() for s in servers]
    client.close()


def test_10k_keys_spread_over_three_groups_and_read_back(proxy):
    client, directs = proxy
    n = 10_000
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"key:{i}", f"value:{i}")
    assert all(r is True for r in pipe.execute())
    sizes = [d.dbsize() for d in directs]
    assert sum(sizes) == n
    # ketama with equal weights: each group holds roughly a third
    for size in sizes:
        assert n * 0.2 < size < n * 0.5, sizes
    # MGET through the proxy is split per server and reassembled in order
    for start in range(0, n, 1000):
        names = [f"key:{i}" for i in range(start, start + 1000)]
        assert client.mget(names) == [f"value:{i}".encode() for i in range(start, start + 1000)]
    # every key is on exactly one server, and that one holds the value written
    for i in range(0, n, 97):
        found = [d.get(f"key:{i}") for d in directs]
        assert sorted(found, key=lambda v: v is not None) == [None, None, f"value:{i}".encode()]


def test_eval_is_routed_by_its_key(proxy):
    client, directs = proxy
    incr = "return redis.call('incrby', KEYS[1], ARGV[1])"
    for i in range(60):
        key = f"counter:{i}"
        client.set(key, 10)
        assert client.eval(incr, 1, key, 5) == 15  # same server as the plain SET
        assert client.get(key) == b"15"
        holders = [d for d in directs if d.exists(key)]
        assert len(holders) == 1
        assert holders[0].get(key) == b"15"
    # EVALSHA after SCRIPT LOAD on every server (twemproxy cannot broadcast SCRIPT LOAD)
    sha = directs[0].script_load(incr)
    for d in directs[1:]:
        assert d.script_load(incr) == sha
    for i in range(30):
        assert client.evalsha(sha, 1, f"counter:{i}", 1) == 16
    # a multi-key script works when its keys sit on one server (hash tags)
    client.set("{user1}:a", "x")
    out = client.eval("return redis.call('get', KEYS[1]) .. redis.call('incr', KEYS[2])",
                      2, "{user1}:a", "{user1}:b")
    assert out == b"x1"


def test_typed_commands_through_the_proxy(proxy):
    client, directs = proxy
    for i in range(50):
        client.hset(f"h:{i}", mapping={"a": i, "b": "x"})
        client.rpush(f"l:{i}", *range(5))
        client.zadd(f"z:{i}", {"m1": 1.5, "m2": i})
        client.sadd(f"s:{i}", "a", "b")
        client.setex(f"t:{i}", 100, "v")
    for i in range(50):
        assert client.hgetall(f"h:{i}") == {b"a": str(i).encode(), b"b": b"x"}
        assert client.lrange(f"l:{i}", 0, -1) == [b"0", b"1", b"2", b"3", b"4"]
        assert client.zscore(f"z:{i}", "m2") == float(i)
        assert client.smembers(f"s:{i}") == {b"a", b"b"}
        assert 0 < client.ttl(f"t:{i}") <= 100
        assert client.type(f"h:{i}") == b"hash"
    # DEL with several keys is split over the servers and the counts summed. (Multi-key
    # EXISTS is not: twemproxy 0.5.0 answers 10 for 50 existing keys in front of redis-server
    # too, so only single-key EXISTS is checked.)
    names = [f"h:{i}" for i in range(50)]
    assert sum(client.exists(name) for name in names) == 50
    assert client.delete(*names) == 50
    assert sum(client.exists(name) for name in names) == 0
    assert sum(d.dbsize() for d in directs) == 200
    assert all(d.dbsize() > 0 for d in directs)
    # errors of a group pass through unchanged
    client.set("str", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        client.lpush("str", "x")
