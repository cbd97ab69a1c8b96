"""Differential tests: what a replica refuses, ledis against a real redis-server 7.0.

Both replicas follow a master that is not there (a port nobody listens on), so their link is
down for good. ``CONFIG SET replica-read-only`` and ``replica-serve-stale-data`` then switch
each replica between the four states, at run time, and every case runs on both servers, reply
compared with reply (error texts included):

- plain commands (Redis's READONLY, then the RESP2 subscriber rule, then MASTERDOWN);
- EVAL / EVAL_RO / EVALSHA / FCALL / FCALL_RO, which Redis gates by the flags the script or
  function declares (``getCommandFlags``: a shebang script without ``no-writes`` is a write,
  only ``allow-stale`` lets it run on a stale replica) and, in compat mode (no shebang), by
  the run's own checks (a compat script is refused on a stale replica before it runs; a
  command it calls gets Redis's in-script texts);
- MULTI / EXEC: a command refused when queued, and EXEC refused whole for what it queued.
"""

from __future__ import annotations

import hashlib

import pytest
import redis

from tests.diff import outcome
from tests.helpers import LedisProcess, RedisProcess, free_port, have_redis_server
from tests.rawresp import RawClient

pytestmark = pytest.mark.skipif(not have_redis_server(), reason="redis-server not installed")

LIBRARY = """#!lua name=gates
redis.register_function('w', function() return 1 end)
redis.register_function{function_name='r', callback=function() return 1 end,
                        flags={'no-writes'}}
redis.register_function{function_name='rs', callback=function() return 1 end,
                        flags={'no-writes', 'allow-stale'}}
redis.register_function{function_name='rsget', flags={'no-writes', 'allow-stale'},
                        callback=function() return redis.call('get', 'a') end}
redis.register_function{function_name='ws', flags={'allow-stale'},
                        callback=function() return redis.call('set', 'a', 'f') end}
"""
LOADED = "#!lua flags=no-writes\nreturn 'loaded'"  # SCRIPT LOAD'ed, then run by EVALSHA
LOADED_W = "#!lua\nreturn 'loaded-w'"
COMPAT_LOADED = "return 'compat-loaded'"


def _sha(body: str) -> str:
    return hashlib.sha1(body.encode()).hexdigest()


CASES = [
    ("GET", "a"), ("SET", "a", "1"), ("PING",), ("DBSIZE",), ("PUBLISH", "ch", "x"),
    ("INFO", "nosuchsection"), ("SCRIPT", "EXISTS", _sha(LOADED)),
    # compat mode (no shebang)
    ("EVAL", "return 1", "0"),
    ("EVAL", "return redis.call('get', 'a')", "0"),
    ("EVAL", "return redis.call('set', 'a', 'e')", "0"),
    ("EVAL", "return redis.call('ping')", "0"),
    ("EVAL", "return redis.pcall('set', 'a', 'e')['err']", "0"),
    ("EVAL_RO", "return 1", "0"),
    ("EVAL_RO", "return redis.call('get', 'a')", "0"),
    ("EVAL_RO", "return redis.call('set', 'a', 'e')", "0"),
    ("EVALSHA", _sha(COMPAT_LOADED), "0"),
    # shebang flags
    ("EVAL", "#!lua\nreturn 1", "0"),
    ("EVAL", "#!lua flags=no-writes\nreturn 1", "0"),
    ("EVAL", "#!lua flags=allow-stale\nreturn 1", "0"),
    ("EVAL", "#!lua flags=allow-stale\nreturn redis.call('set', 'a', 's')", "0"),
    ("EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"),
    ("EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('get', 'a')", "0"),
    ("EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('set', 'a', 's')", "0"),
    ("EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('ping')", "0"),
    ("EVAL", "#!lua flags=no-writes,allow-stale\n"
             "return redis.call('script', 'exists', 'x')", "0"),
    ("EVAL", "#!lua flags=allow-stale,no-writes\nreturn redis.pcall('get', 'a')['err']", "0"),
    ("EVAL", "#!lua flags=nosuch\nreturn 1", "0"),
    ("EVAL_RO", "#!lua\nreturn 1", "0"),
    ("EVAL_RO", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"),
    ("EVALSHA", _sha(LOADED), "0"), ("EVALSHA_RO", _sha(LOADED), "0"),
    ("EVALSHA", _sha(LOADED_W), "0"), ("EVALSHA", "0" * 40, "0"), ("EVALSHA", "short", "0"),
    # functions: their flags always apply
    ("FCALL", "w", "0"), ("FCALL", "r", "0"), ("FCALL", "rs", "0"), ("FCALL", "rsget", "0"),
    ("FCALL", "ws", "0"), ("FCALL_RO", "w", "0"), ("FCALL_RO", "r", "0"),
    ("FCALL_RO", "rs", "0"), ("FCALL", "nosuch", "0"),
]

# MULTI transcripts: each command's reply, then EXEC's.
TRANSACTIONS = [
    [("GET", "a")],
    [("SET", "a", "m")],
    [("PING",), ("DBSIZE",)],
    [("EVAL", "return 1", "0")],
    [("EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0")],
    [("EVAL", "#!lua flags=no-writes\nreturn 1", "0")],
    [("FCALL", "rs", "0"), ("INFO", "nosuchsection")],
    [("FCALL", "w", "0")],
    [("SAVE",), ("GET", "a")],  # not allowed in MULTI: said before the gates
]

STATES = [  # (replica-read-only, replica-serve-stale-data)
    ("yes", "no"), ("no", "no"), ("yes", "yes"), ("no", "yes"),
]


def _prepare(client) -> None:
    """The library and scripts, loaded while the replica still takes writes and serves stale
    data (FUNCTION LOAD is a write; SCRIPT LOAD runs anywhere)."""
    client.config_set("replica-serve-stale-data", "yes")
    client.config_set("replica-read-only", "no")
    client.function_load(LIBRARY, replace=True)
    for body in (LOADED, LOADED_W, COMPAT_LOADED):
        client.script_load(body)
    client.set("a", "v")


@pytest.fixture(scope="module")
def replicas():
    dead = free_port()  # the master nobody runs: the link never comes up
    ours = LedisProcess("--replicaof", f"127.0.0.1 {dead}").start()
    ref = RedisProcess("--replicaof", "127.0.0.1", str(dead)).start()
    clients = (ours.client(), ref.client())
    for client in clients:
        _prepare(client)
    yield ours, ref, clients
    for client in clients:
        client.close()
    ours.cleanup()
    ref.cleanup()


def _state(clients, read_only: str, serve_stale: str) -> None:
    for client in clients:
        client.config_set("replica-read-only", read_only)
        client.config_set("replica-serve-stale-data", serve_stale)
        assert client.config_get("replica-read-only") == {"replica-read-only": read_only}
        assert client.config_get("slave-serve-stale-data") == {
            "slave-serve-stale-data": serve_stale}


@pytest.mark.parametrize("read_only,serve_stale", STATES)
def test_commands_and_scripts(replicas, read_only, serve_stale):
    _ours, _ref, clients = replicas
    _state(clients, read_only, serve_stale)
    ours, ref = clients
    for case in CASES:
        assert outcome(ours, *case) == outcome(ref, *case), (read_only, serve_stale, case)


@pytest.mark.parametrize("read_only,serve_stale", STATES)
def test_transactions(replicas, read_only, serve_stale):
    ours_proc, ref_proc, clients = replicas
    _state(clients, read_only, serve_stale)
    for commands in TRANSACTIONS:
        transcripts = []
        for port in (ours_proc.port, ref_proc.port):
            raw = RawClient(port)
            transcripts.append(raw.transaction(commands))
            raw.close()
        assert transcripts[0] == transcripts[1], (read_only, serve_stale, commands)


def test_exec_refused_for_what_it_queued(replicas):
    """The state changes between the queueing and EXEC: Redis refuses EXEC whole for the
    flags of what it queued (a script's declared flags included)."""
    ours_proc, ref_proc, clients = replicas
    for commands, then in (
            ([("EVAL", "#!lua flags=no-writes\nreturn 1", "0")], ("yes", "no")),
            ([("EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0")], ("yes", "no")),
            ([("EVAL", "#!lua\nreturn 1", "0")], ("yes", "yes")),
            ([("FCALL", "ws", "0")], ("yes", "no")),
            ([("FCALL", "rs", "0"), ("GET", "a")], ("no", "no"))):
        _state(clients, "no", "yes")
        raws = [RawClient(port) for port in (ours_proc.port, ref_proc.port)]
        queued = [[raw.call("MULTI")] + [raw.call(*c) for c in commands] for raw in raws]
        assert queued[0] == queued[1], commands
        _state(clients, *then)
        execs = [raw.call("EXEC") for raw in raws]
        assert execs[0] == execs[1], (commands, then)
        for raw in raws:
            raw.close()


def test_resp2_subscriber_on_a_stale_replica(replicas):
    """Redis checks a RESP2 subscriber's command after READONLY and before MASTERDOWN."""
    ours_proc, ref_proc, clients = replicas
    _state(clients, "yes", "no")
    transcripts = []
    for port in (ours_proc.port, ref_proc.port):
        raw = RawClient(port)
        transcripts.append([raw.call("SUBSCRIBE", "ch"), raw.call("GET", "a"),
                            raw.call("SET", "a", "1"), raw.call("PING")])
        raw.close()
    assert transcripts[0] == transcripts[1]


# --- LOADING: a replica loading a full sync, against redis-server loading its RDB file -------
LOADING_CASES = [
    ("GET", "k"), ("SET", "k", "v"), ("PING",), ("DBSIZE",), ("EVAL", "return 1", "0"),
    ("EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"), ("FCALL", "nosuch", "0"),
    ("TIME",), ("CONFIG", "GET", "maxclients"), ("ECHO", "x"), ("NOSUCH",),
    ("SCRIPT", "EXISTS", "x"),
]
LOADING_TRANSACTIONS = [[("GET", "k")], [("TIME",), ("ECHO", "y")]]


def _shape(reply):
    """An error keeps its text, a transcript its structure; any other reply is ``ok`` (TIME,
    INFO ... differ between the servers)."""
    if isinstance(reply, tuple) and reply and reply[0] == "err":
        return reply
    if isinstance(reply, list):
        return [_shape(r) for r in reply]
    return "ok"


def _loading_transcript(port: int) -> list:
    raw = RawClient(port)
    out = [_shape(raw.call(*case)) for case in LOADING_CASES]
    for commands in LOADING_TRANSACTIONS:
        out.append(_shape(raw.transaction(commands)))
    info = raw.call("INFO", "persistence")
    raw.close()
    out.append(b"loading:1" in info)
    return out


def _redis_loading_transcript() -> list:
    """redis-server 7.0 restarted on an RDB file it loads slowly (``key-load-delay``, events
    served every KB): the transcript taken while it loads."""
    import time

    first = RedisProcess("--enable-debug-command", "yes").start()
    client = first.client()
    client.execute_command("DEBUG", "POPULATE", "20000")
    client.save()
    client.shutdown(nosave=True)
    first.proc.wait(10)
    loading = RedisProcess("--dir", first.dir, "--dbfilename", "dump.rdb",
                           "--key-load-delay", "100",
                           "--loading-process-events-interval-bytes", "1024").start()
    try:
        transcript = _loading_transcript(loading.port)
        deadline = time.monotonic() + 30  # the load then ends, and commands run again
        while True:
            try:
                assert redis.Redis(port=loading.port).dbsize() == 20000
                break
            except redis.exceptions.BusyLoadingError:
                assert time.monotonic() < deadline, "redis-server never finished loading"
                time.sleep(0.1)
        return transcript
    finally:
        loading.cleanup()
        first.cleanup()


def test_loading_full_sync_as_redis(tmp_path):
    """While a replica loads its master's data (a full sync, held in the middle by a proxy),
    commands not flagged ``loading`` get LOADING, as redis-server answers while it loads an
    RDB file; after the sync, everything runs. The replica is writable here, as the reference
    (a master) is, so that writes meet LOADING rather than READONLY."""
    from tests.test_replication_faults import Proxy, fill, wait_syncing, wait_up

    expected = _redis_loading_transcript()
    assert expected[0] == ("err", "LOADING Redis is loading the dataset in memory")
    master = LedisProcess().start()
    proxy = Proxy(master.port, pause_after=128 * 1024)
    config = tmp_path / "replica.yaml"
    config.write_text(f'replication:\n  replicaof: "127.0.0.1 {proxy.port}"\n'
                      "  replica_read_only: no\n")
    replica = None
    try:
        fill(master.port, 5_000, size=200)
        replica = LedisProcess(config=str(config)).start()
        rc = replica.client()
        wait_syncing(rc)
        proxy.wait_paused()
        assert _loading_transcript(replica.port) == expected
        proxy.resume()
        wait_up(rc)
        assert rc.dbsize() == 5_000 and rc.ping() is True
        assert rc.info("persistence")["loading"] == 0
    finally:
        proxy.close()
        if replica is not None:
            replica.cleanup()
        master.cleanup()


@pytest.mark.parametrize("way_out", ["replicaof_no_one", "restart_as_master"])
def test_loading_survives_a_restart_until_a_full_sync_ends(way_out):
    """A replica killed in the middle of a full sync holds partial data: restarted as a
    replica it answers LOADING (its master unreachable) until a sync completes; turned into
    a master (REPLICAOF NO ONE, or restarted without ``replicaof``) it serves what it holds,
    and says so in its log."""
    from tests.test_replication_faults import Proxy, fill, wait_syncing

    master = LedisProcess().start()
    proxy = Proxy(master.port, pause_after=128 * 1024)
    replica = LedisProcess("--replicaof", f"127.0.0.1 {proxy.port}")
    try:
        fill(master.port, 5_000, size=200)
        replica.start()
        wait_syncing(replica.client())
        proxy.wait_paused()
        replica.kill()
        replica.extra = ["--replicaof", f"127.0.0.1 {free_port()}"]  # nobody there
        replica.start()
        rc = replica.client()
        with pytest.raises(redis.exceptions.BusyLoadingError):
            rc.get("fill:1")
        assert rc.info("persistence")["loading"] == 1
        if way_out == "replicaof_no_one":
            rc.execute_command("REPLICAOF", "NO", "ONE")
        else:
            replica.extra = []
            replica.restart()
            rc = replica.client()
        rc.get("fill:1")  # answered, no LOADING: what it holds is served as a master's
        assert rc.info("persistence")["loading"] == 0
        assert "a full sync from its master was cut" in replica.log()
        replica.restart()  # as a master: nothing is loading any more
        assert replica.client().info("persistence")["loading"] == 0
    finally:
        proxy.close()
        replica.cleanup()
        master.cleanup()
