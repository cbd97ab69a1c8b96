"""ledis under redis-sentinel: discovery, health, automatic failover (docs/cluster.md).

Integration tests with the real ``redis-sentinel`` (Debian package; skipped when missing):
one group (a master and its replica, semi-sync on) watched by three Sentinels with timeouts
tuned low (down-after-milliseconds 1000, failover-timeout 5000). ``kill -9`` of the master must
end with the replica promoted, a redis-py ``Sentinel`` client writing again, no acknowledged
write lost, and the old master, restarted, following the new one.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import redis
from redis.sentinel import Sentinel

from tests.helpers import ROOT, LedisProcess, free_port, resp2_proxy_client, wait_port

pytestmark = pytest.mark.skipif(shutil.which("redis-sentinel") is None,
                                reason="redis-sentinel not installed")

NAME = "g1"


class SentinelProcess:
    """A redis-sentinel on a free loopback port monitoring ``NAME`` at ``master_port``."""

    def __init__(self, master_port: int) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ledis-sentinel-")
        self.conf = os.path.join(self.dir, "sentinel.conf")
        with open(self.conf, "w") as fh:  # Sentinel rewrites this file: it must be its own
            fh.write(f"""port {self.port}
bind 127.0.0.1
dir {self.dir}
logfile {self.dir}/sentinel.log
sentinel resolve-hostnames no
sentinel monitor {NAME} 127.0.0.1 {master_port} 2
sentinel down-after-milliseconds {NAME} 1000
sentinel failover-timeout {NAME} 5000
sentinel parallel-syncs {NAME} 1
""")
        self.proc: subprocess.Popen | None = None

    def start(self) -> SentinelProcess:
        self.proc = subprocess.Popen(["redis-sentinel", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, protocol=2)

    def log(self) -> str:
        try:
            with open(os.path.join(self.dir, "sentinel.log")) as fh:
                return fh.read()
        except OSError:
            return ""

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.time() + timeout
    while True:
        try:
            value = predicate()
        except redis.RedisError:
            value = None
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _flags(info: dict) -> set[str]:
    return set(info["flags"].split(","))


def wait_settled(sentinels, port: int, timeout: float = 30) -> None:
    """Wait until every Sentinel names the server on ``port`` as a healthy master and has had
    a PING answered on its link to it (``last-ping-sent`` 0). A Sentinel that has just switched
    masters opens a new link and counts the down time from that moment until the first PONG.
    A CI run once restarted the old master in that second (a CPU-heavy process start on a
    loaded machine): one Sentinel's first PONG came 1.1 s late, past down-after-milliseconds,
    and it failed over again, back to the old master. Restart the old master after this."""
    clients = [sentinel.client() for sentinel in sentinels]

    def settled() -> bool:
        for client in clients:
            info = client.sentinel_master(NAME)
            if (info["port"] != port or _flags(info) != {"master"}
                    or int(info["last-ping-sent"]) != 0):
                return False
        return True

    wait_for(settled, timeout, f"every Sentinel to settle on the master at port {port}")


@pytest.fixture
def group():
    """A master, its replica (semi-sync: 1 ack, 2 s timeout) and three Sentinels."""
    semi = ("--min-replica-acks", "1", "--semi-sync-timeout", "2000")
    master = LedisProcess(*semi).start()
    replica = LedisProcess(*semi, "--replicaof", f"127.0.0.1 {master.port}").start()
    sentinels: list[SentinelProcess] = []
    try:
        wait_for(lambda: replica.client().info("replication")["master_link_status"] == "up",
                 20, "the replica to sync")
        sentinels = [SentinelProcess(master.port).start() for _ in range(3)]
        yield master, replica, sentinels
    finally:
        for sentinel in sentinels:
            sentinel.cleanup()
        replica.cleanup()
        master.cleanup()


def test_sentinel_discovers_master_replica_and_peers(group):
    master, replica, sentinels = group
    s = sentinels[0].client()
    # the replica is found through the master's INFO replication, the other Sentinels through
    # __sentinel__:hello (PUBLISH/SUBSCRIBE on the monitored servers)
    replicas = wait_for(lambda: s.sentinel_slaves(NAME), 10, "the replica to be discovered")
    info = wait_for(lambda: (m := s.sentinel_master(NAME))["num-other-sentinels"] == 2 and m,
                    15, "the other Sentinels")
    assert info["ip"] == "127.0.0.1" and info["port"] == master.port
    assert _flags(info) == {"master"}
    assert info["role-reported"] == "master"
    assert info["num-slaves"] == 1
    assert info["runid"] == master.client().info("server")["run_id"]
    assert len(replicas) == 1
    rep = replicas[0]
    assert rep["port"] == replica.port and _flags(rep) == {"slave"}
    assert rep["master-link-status"] == "ok"
    assert rep["master-port"] == master.port
    assert rep["slave-priority"] == 100
    assert rep["runid"] == replica.client().info("server")["run_id"]
    ckquorum = subprocess.run(["redis-cli", "-p", str(sentinels[0].port), "SENTINEL",
                               "CKQUORUM", NAME], capture_output=True, text=True, timeout=10)
    assert ckquorum.stdout.startswith("OK 3 usable Sentinels"), ckquorum.stdout
    assert s.sentinel_get_master_addr_by_name(NAME) == ("127.0.0.1", master.port)
    # healthy over time: no subjective down while both servers run
    time.sleep(2.5)
    assert _flags(s.sentinel_master(NAME)) == {"master"}
    assert _flags(s.sentinel_slaves(NAME)[0]) == {"slave"}


def test_replica_priority_is_reported_to_sentinel(group):
    master, replica, sentinels = group
    s = sentinels[0].client()
    wait_for(lambda: s.sentinel_slaves(NAME), 10, "the replica to be discovered")
    assert replica.client().config_set("replica-priority", 7)
    wait_for(lambda: s.sentinel_slaves(NAME)[0]["slave-priority"] == 7, 15,
             "Sentinel to see replica-priority 7")


def test_kill_master_failover_keeps_acknowledged_writes(group):
    master, replica, sentinels = group
    s = sentinels[0].client()
    wait_for(lambda: s.sentinel_master(NAME)["num-other-sentinels"] == 2, 15,
             "the other Sentinels")
    wait_for(lambda: s.sentinel_slaves(NAME), 10, "the replica to be discovered")

    client = Sentinel([("127.0.0.1", sp.port) for sp in sentinels], socket_timeout=0.5,
                      protocol=2)
    writer = client.master_for(NAME, socket_timeout=1.0, protocol=2)
    acked: list[int] = []
    errors: list[str] = []
    stop = threading.Event()
    killed_at: list[float] = []
    first_after_kill: list[float] = []

    def write_loop() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                writer.set(f"w:{i}", i)
            except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError,
                    redis.ResponseError) as exc:
                errors.append(type(exc).__name__)
                time.sleep(0.05)
                continue
            acked.append(i)
            if killed_at and not first_after_kill:
                first_after_kill.append(time.time())

    thread = threading.Thread(target=write_loop, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(acked) >= 200, 20, "writes before the kill")
        master.kill()
        killed_at.append(time.time())
        wait_for(lambda: first_after_kill, 30, "a write to succeed after the failover")
        failover_s = first_after_kill[0] - killed_at[0]
        n_before = len(acked)
        wait_for(lambda: len(acked) >= n_before + 100, 20, "writes on the new master")
    finally:
        stop.set()
        thread.join(10)
    print(f"failover: first successful write {failover_s:.2f}s after kill -9; "
          f"{len(errors)} failed attempts")
    assert failover_s < 20
    assert s.sentinel_get_master_addr_by_name(NAME) == ("127.0.0.1", replica.port)
    new_master = replica.client()
    assert new_master.info("replication")["role"] == "master"
    # semi-sync: every acknowledged write is on the promoted replica
    pipe = new_master.pipeline(transaction=False)
    for i in acked:
        pipe.get(f"w:{i}")
    values = pipe.execute()
    missing = [i for i, v in zip(acked, values, strict=True) if v != str(i).encode()]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"

    # the old master, restarted, is reconfigured by Sentinel as a replica of the new one
    wait_settled(sentinels, replica.port)
    master.start()
    old = master.client()
    # Sentinel converts it once it has reported "master" for 8 s (4 publish periods) and an
    # INFO period has passed (10 s); then the full sync: 60 s leaves room on a loaded machine
    try:
        wait_for(lambda: (i := old.info("replication"))["role"] == "slave"
                 and i["master_port"] == replica.port and i["master_link_status"] == "up",
                 60, "the old master to follow the new one", interval=0.25)
    except AssertionError as exc:
        state = {k: v for k, v in old.info("replication").items()
                 if k.startswith(("role", "master_"))}
        raise AssertionError(f"{exc}; old master: {state}; Sentinel's replicas: "
                             f"{s.sentinel_slaves(NAME)}; its log ends:\n"
                             f"{master.log()[-2000:]}") from None
    rejoin = old.info("replication")
    print("old master rejoined with", rejoin.get("replica_full_syncs"), "full and",
          rejoin.get("replica_partial_syncs"), "partial syncs")
    new_master.set("after-rejoin", "1")
    wait_for(lambda: old.get("after-rejoin") == b"1", 10, "replication to the old master")
    assert old.get(f"w:{acked[-1]}") == str(acked[-1]).encode()
    wait_for(lambda: any(r["port"] == master.port and _flags(r) == {"slave"}
                         for r in s.sentinel_slaves(NAME)), 15,
             "Sentinel to list the old master as a healthy replica")


def _free_base() -> int:
    """A port base whose ports the example topology uses (base+1..13, +101..103, +200, +222)
    are all free on loopback, below the kernel's ephemeral range: the Sentinels' and
    replicas' outgoing connections take local ports from that range while the topology
    starts, and one of them could hold the proxy's port by the time nutcracker binds it
    (a CI run failed so: "port 49540 did not answer", the proxy's)."""
    offsets = [1, 2, 3, 11, 12, 13, 101, 102, 103, 200, 222]
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            ephemeral = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768  # Linux's default start
    top = ephemeral - 230 if ephemeral >= 12000 else 60000  # a tiny range: as before
    for _ in range(50):
        base = random.randrange(10000, top, 10)
        try:
            for off in offsets:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", base + off))
        except OSError:
            continue
        return base
    raise RuntimeError("no free port range")


@pytest.mark.skipif(shutil.which("nutcracker") is None, reason="nutcracker not installed")
def test_example_topology_script_survives_a_failover():
    """examples/cluster/cluster.sh: the whole topology up, writes through twemproxy, kill -9
    of a master -> Sentinel promotes its replica and reconfig.sh points twemproxy at it; stop
    leaves no process behind."""
    script = str(ROOT / "examples" / "cluster" / "cluster.sh")
    base = _free_base()
    run_dir = tempfile.mkdtemp(prefix="ledis-cluster-")
    env = {**os.environ, "CLUSTER_BASE": str(base), "CLUSTER_DIR": run_dir,
           "PYTHON": os.environ.get("PYTHON", sys.executable)}

    def cluster(*args: str) -> str:
        out = subprocess.run([script, *args], env=env, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr + out.stdout
        return out.stdout

    pids: list[int] = []
    try:
        cluster("start")
        pids = [int(open(os.path.join(run_dir, f)).read()) for f in os.listdir(run_dir)
                if f.endswith(".pid")]
        assert len(pids) == 10  # 6 ledis, 3 sentinels, 1 nutcracker
        proxy = resp2_proxy_client(port=base + 200)
        for i in range(300):
            proxy.set(f"k:{i}", i)
        sizes = [redis.Redis(port=base + n).dbsize() for n in (1, 2, 3)]
        assert sum(sizes) == 300 and all(sizes), sizes
        wait_for(lambda: all(redis.Redis(port=base + 10 + n).dbsize() == sizes[n - 1]
                             for n in (1, 2, 3)), 10, "the replicas to catch up")
        sentinel = redis.Redis(port=base + 101, decode_responses=True)
        wait_for(lambda: sentinel.sentinel_master("g1")["num-other-sentinels"] == 2, 15,
                 "the Sentinels to find each other")

        os.kill(int(open(os.path.join(run_dir, f"ledis-{base + 1}.pid")).read()), 9)
        wait_for(lambda: sentinel.sentinel_get_master_addr_by_name("g1")[1] == base + 11,
                 30, "Sentinel to promote g1's replica", interval=0.25)
        # reconfig.sh restarted nutcracker with g1 at its new address: all keys readable
        # and writable through the proxy again
        def all_back() -> bool:
            with resp2_proxy_client(port=base + 200) as c:
                return c.mget([f"k:{i}" for i in range(300)]) == \
                    [str(i).encode() for i in range(300)]
        wait_for(all_back, 20, "the proxy to serve g1 from its new master", interval=0.25)
        with resp2_proxy_client(port=base + 200) as c:
            for i in range(300):
                assert c.incr(f"k:{i}") == i + 1
        assert f"g1 -> 127.0.0.1:{base + 11}" in open(
            os.path.join(run_dir, "reconfig.log")).read()
        status = cluster("status")
        assert f"g1: 127.0.0.1:{base + 11}" in status
        pids = [int(open(os.path.join(run_dir, f)).read()) for f in os.listdir(run_dir)
                if f.endswith(".pid")]
    finally:
        cluster("stop")
        for pid in pids:  # stop must have ended every process it started
            deadline = time.time() + 5
            while time.time() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, 9)
                raise AssertionError(f"pid {pid} still running after stop")
        shutil.rmtree(run_dir, ignore_errors=True)


def test_replica_announce_and_config_rewrite_of_the_master(fresh_server, tmp_path):
    """What Sentinel relies on without a Sentinel: a replica announces the address set by
    replica-announce-ip/-port (the master's INFO lists it), and CONFIG REWRITE, sent by
    Sentinel after each REPLICAOF, records the current master in the config file."""
    master = fresh_server()
    conf = tmp_path / "ledis.yaml"
    conf.write_text("replication:\n  replica_priority: 100\n")
    replica = fresh_server(config=str(conf))
    rc = replica.client(decode_responses=True)
    assert rc.config_set("replica-announce-ip", "127.0.0.2")
    assert rc.config_set("replica-announce-port", "6999")
    assert rc.config_set("replica-announced", "no")
    assert rc.replicaof("127.0.0.1", master.port)
    mc = master.client(decode_responses=True)
    slave0 = wait_for(lambda: mc.info("replication").get("slave0"), 10, "the replica")
    assert slave0["ip"] == "127.0.0.2" and slave0["port"] == 6999
    assert rc.info("replication")["replica_announced"] == 0
    rc.execute_command("CONFIG REWRITE")
    text = conf.read_text()
    assert f"replicaof: 127.0.0.1 {master.port}" in text
    assert "replica-announce-ip: 127.0.0.2" in text
    assert rc.execute_command("REPLICAOF", "NO", "ONE")
    rc.execute_command("CONFIG REWRITE")
    assert "replicaof: ''" in conf.read_text()
    assert rc.info("replication")["role"] == "master"


def test_sentinel_kills_a_runaway_script(fresh_server):
    """A master stuck in a script answers PING with BUSY; once it is subjectively down,
    Sentinel sends SCRIPT KILL and the master serves again."""
    master = fresh_server("--lua-time-limit", "200")
    sentinel = SentinelProcess(master.port).start()
    try:
        s = sentinel.client()
        wait_for(lambda: s.sentinel_master(NAME)["role-reported"] == "master", 10,
                 "Sentinel to see the master")
        outcome: list[str] = []

        def run_forever() -> None:
            with master.client(socket_timeout=30) as c:
                try:
                    c.eval("while true do end", 0)
                except redis.ResponseError as exc:
                    outcome.append(str(exc))

        thread = threading.Thread(target=run_forever, daemon=True)
        started = time.time()
        thread.start()
        thread.join(20)
        assert outcome and "Script killed by user with SCRIPT KILL" in outcome[0], outcome
        # nobody else sends SCRIPT KILL: Sentinel did, after down-after-milliseconds (1 s)
        assert 1.0 <= time.time() - started < 15
        assert master.client().ping()
    finally:
        sentinel.cleanup()
