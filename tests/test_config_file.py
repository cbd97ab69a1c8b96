"""The YAML config file: the example lists every option, errors name the key path, CLI flags
override the file, CONFIG REWRITE writes back into it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import redis
import yaml

from ledis.config import Config, ConfigError
from tests.helpers import ROOT, free_port

EXAMPLE = ROOT / "ledis.example.yaml"


def example_keys() -> dict[str, str]:
    """option -> "section.option" as written in the example file."""
    data = yaml.safe_load(EXAMPLE.read_text())
    out = {}
    for section, body in data.items():
        assert isinstance(body, dict), section
        for key in body:
            out[key] = f"{section}.{key}"
    return out


def test_example_lists_every_option_with_its_default():
    keys = example_keys()
    fields = [f.name for f in dataclasses.fields(Config) if f.name != "extra"]
    missing = [name for name in fields if name not in keys]
    assert not missing, f"options missing from ledis.example.yaml: {missing}"
    assert set(keys) <= set(fields)
    config = Config()
    config.load_yaml(str(EXAMPLE))
    for name in fields:
        assert getattr(config, name) == getattr(Config(), name), keys[name]
    # every option has a comment right above it
    lines = EXAMPLE.read_text().splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if line.startswith("  ") and not stripped.startswith("#") and ":" in stripped:
            assert lines[i - 1].strip().startswith("#"), f"no comment above: {line}"


@pytest.mark.parametrize("text, message", [
    ("network:\n  prot: 1\n", "unknown option 'network.prot'"),
    ("storage:\n  appendfsync: sometimes\n",
     "bad value for 'storage.appendfsync': 'sometimes' (one of always, everysec, no)"),
    ("network:\n  port: yes\n", "bad value for 'network.port'"),
    ("network:\n  port: 70000\n", "bad value for 'network.port'"),
    ("network:\n  maxclients: -1\n", "bad value for 'network.maxclients'"),
    ("network:\n  maxclients: 1.5\n", "bad value for 'network.maxclients'"),
    ("storage:\n  compression: zlib\n", "bad value for 'storage.compression'"),
    ("storage:\n  compression_bottommost: brotli\n",
     "bad value for 'storage.compression_bottommost'"),
    ("checkpoints:\n  checkpoint_keep: many\n", "bad value for 'checkpoints.checkpoint_keep'"),
    ("replication:\n  replica_read_only: perhaps\n",
     "bad value for 'replication.replica_read_only'"),
    ("- just\n- a list\n", "the top level must be a mapping"),
    # the redis: section is read as CONFIG SET reads it (Redis refuses to start as well)
    ("redis:\n  sav: 3600 1\n", "unknown Redis parameter 'redis.sav'"),
    ("redis:\n  save: bad\n", "redis.save: Invalid save parameters"),
    ("redis:\n  hz: -5\n", "redis.hz: argument must be between 0 and 2147483647 inclusive"),
    ("redis:\n  maxmemory: 1 gb\n", "redis.maxmemory: argument must be a memory value"),
    ("redis:\n  notify-keyspace-events: KEQ\n", "redis.notify-keyspace-events: Invalid event"),
    ("redis:\n  maxmemory-policy: lru\n", "redis.maxmemory-policy: argument(s) must be one"),
])
def test_bad_config_is_rejected_with_the_key_path(tmp_path, text, message):
    path = tmp_path / "ledis.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Config().load_yaml(str(path))
    assert message in str(info.value)


def test_server_refuses_to_start_on_a_bad_config(tmp_path):
    path = tmp_path / "ledis.yaml"
    path.write_text("logging:\n  loglevel: loud\n")
    proc = subprocess.run([sys.executable, "-m", "ledis", "server", "--config", str(path),
                           "--port", str(free_port()), "--dir", str(tmp_path / "db")],
                          cwd=str(ROOT), capture_output=True, timeout=60)
    assert proc.returncode == 2
    line = (f"ledis: config error ({path}): bad value for 'logging.loglevel': 'loud' "
            "(one of debug, verbose, notice, warning)")
    assert proc.stderr.decode().splitlines() == [line]
    assert not (tmp_path / "db").exists()


def test_redis_section_values_are_stored_as_redis_shows_them(fresh_server, tmp_path):
    """The file's stored-only parameters come back from CONFIG GET in Redis's own spelling,
    and an alias sets its parameter."""
    path = tmp_path / "ledis.yaml"
    path.write_text("redis:\n  notify-keyspace-events: KEA\n  maxmemory: 1gb\n"
                    "  hash-max-ziplist-entries: 64\n  save: '+60 -0'\n")
    c = fresh_server("--config", str(path)).client(decode_responses=True)
    assert c.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
    assert c.config_get("maxmemory") == {"maxmemory": "1073741824"}
    assert c.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "64"}
    assert c.config_get("save") == {"save": "60 0"}


def test_cli_flags_override_the_file(fresh_server, tmp_path):
    file_port = free_port()
    path = tmp_path / "ledis.yaml"
    path.write_text(f"network:\n  port: {file_port}\n  maxclients: 77\n"
                    "storage:\n  appendfsync: always\n")
    srv = fresh_server("--appendfsync", "no", config=str(path))
    assert srv.port != file_port
    c = srv.client()
    assert c.config_get("port") == {"port": str(srv.port)}  # the flag won
    assert c.config_get("maxclients") == {"maxclients": "77"}  # from the file
    assert c.config_get("appendfsync") == {"appendfsync": "no"}  # the flag won


def test_config_set_rewrite_round_trip(fresh_server, tmp_path):
    path = tmp_path / "ledis.yaml"
    path.write_text("network:\n  maxclients: 77\nlogging:\n  loglevel: warning\n")
    srv = fresh_server(config=str(path))
    c = srv.client()
    c.config_set("maxclients", 88)
    c.config_set("timeout", 30)
    c.config_rewrite()
    data = yaml.safe_load(path.read_text())
    assert data["network"]["maxclients"] == 88 and data["timeout"] == 30
    srv.restart()
    c = srv.client()
    assert c.config_get("maxclients") == {"maxclients": "88"}
    assert c.config_get("timeout") == {"timeout": "30"}


@pytest.mark.parametrize("first, second", [("none", "zstd"), ("lz4", "snappy")])
def test_switching_compression_on_an_existing_store(fresh_server, first, second):
    srv = fresh_server("--compression", first)
    c = srv.client()
    c.hset(b"h", mapping={b"f%d" % i: b"v" * 100 for i in range(2000)})
    c.set(b"s", b"x" * 10000)
    c.save()
    srv.stop()
    srv.extra = ["--compression", second]
    srv.start()
    c = srv.client()
    assert c.hlen(b"h") == 2000 and c.get(b"s") == b"x" * 10000
    c.hset(b"h", b"new", b"1")
    assert c.hget(b"h", b"new") == b"1"


# --- storage.backend: memory ------------------------------------------------------------------
@pytest.fixture(params=["rocksdb", "memory"])
def backend_client(request, fresh_server):
    srv = fresh_server("--backend", request.param)
    client = srv.client()
    client.backend = request.param
    client.srv = srv
    return client


def test_every_type_works_on_both_backends(backend_client):
    c = backend_client
    c.set("s", "v", px=100_000)
    c.incrby("n", 5)
    c.hset("h", mapping={"a": 1, "b": 2})
    c.rpush("l", 1, 2, 3)
    c.lpush("l", 0)
    c.sadd("st", "x", "y")
    c.zadd("z", {"a": 1, "b": 2, "c": 3})
    c.hdel("h", "a")
    c.ltrim("l", 1, -1)
    assert c.get("s") == b"v" and 0 < c.pttl("s") <= 100_000
    assert c.get("n") == b"5"
    assert c.hgetall("h") == {b"b": b"2"}
    assert c.lrange("l", 0, -1) == [b"1", b"2", b"3"]
    assert c.smembers("st") == {b"x", b"y"}
    assert c.zrangebyscore("z", 2, "+inf") == [b"b", b"c"]
    assert c.zrevrange("z", 0, 0) == [b"c"]
    assert c.dbsize() == 6
    assert sorted(c.scan_iter()) == [b"h", b"l", b"n", b"s", b"st", b"z"]
    c.delete("h", "l")
    c.flushdb()
    assert c.dbsize() == 0
    c.set("after", "1")
    assert c.eval("return redis.call('GET', KEYS[1])", 1, "after") == b"1"


def test_memory_backend_keeps_nothing_and_cannot_checkpoint(fresh_server):
    srv = fresh_server("--backend", "memory")
    c = srv.client()
    c.set("k", "v")
    with pytest.raises(redis.ResponseError, match="checkpoints need a file-backed store"):
        c.save()
    srv.restart()
    assert srv.client().dbsize() == 0


def test_backend_from_file_and_environment(tmp_path):
    path = tmp_path / "ledis.yaml"
    path.write_text("storage:\n  backend: memory\n")
    config = Config()
    config.load_yaml(str(path))
    assert config.backend == "memory"
    path.write_text("storage:\n  backend: tape\n")
    with pytest.raises(ConfigError, match="bad value for 'storage.backend'"):
        Config().load_yaml(str(path))


def test_bottommost_compression(fresh_server, tmp_path):
    path = tmp_path / "ledis.yaml"
    path.write_text("storage:\n  compression: lz4\n  compression_bottommost: zstd\n")
    srv = fresh_server(config=str(path))
    c = srv.client()
    c.rpush("l", *[b"element %d" % i for i in range(5000)])
    srv.restart()
    assert srv.client().llen("l") == 5000
    assert srv.client().lindex("l", -1) == b"element 4999"


def test_memory_backend_serves_a_snapshot_dump(fresh_server, tmp_path):
    """The replication full sync (here through `ledis dump --snapshot`) works on memory."""
    from tests.test_tools_dump import ledis_cli

    srv = fresh_server("--backend", "memory")
    c = srv.client()
    c.hset("h", mapping={"a": "1"})
    c.zadd("z", {"m": 2.5})
    c.set("s", "v")
    out = str(tmp_path / "d.ldmp")
    ledis_cli("dump", "--port", str(srv.port), "--snapshot", "-o", out)
    dst = fresh_server("--backend", "memory")
    ledis_cli("load", "--port", str(dst.port), out)
    d = dst.client()
    assert d.hgetall("h") == {b"a": b"1"} and d.zscore("z", "m") == 2.5 and d.get("s") == b"v"
