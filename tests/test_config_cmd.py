"""CONFIG GET / SET / RESETSTAT / REWRITE over every Redis 7.0 parameter."""

from __future__ import annotations

import os
import socket
import time

import pytest
import redis
import yaml

from tests.test_connection import error_of
from tests.test_protocol import exchange


def test_config_get_all_parameters_like_redis(r, ref):
    ours = r.config_get("*")
    theirs = ref.config_get("*")
    assert set(ours) == set(theirs)
    assert len(ours) == 192


def test_config_get_defaults_match_redis(r, ref):
    for name in ("maxmemory-policy", "hash-max-listpack-entries", "save", "appendonly",
                 "notify-keyspace-events", "client-output-buffer-limit", "hz", "maxclients",
                 "timeout", "proto-max-bulk-len", "busy-reply-threshold", "lua-time-limit",
                 "appendfsync", "requirepass", "databases"):
        assert r.config_get(name) == ref.config_get(name), name


def test_config_get_patterns(r):
    assert set(r.config_get("maxmemory*")) == {
        "maxmemory", "maxmemory-clients", "maxmemory-eviction-tenacity", "maxmemory-policy",
        "maxmemory-samples"}
    got = r.config_get("timeout", "maxclients", "maxclients", "nosuch")
    assert got == {"timeout": "0", "maxclients": "10000"}
    assert r.config_get("MAXCLIENTS") == {"maxclients": "10000"}
    assert set(r.config_get("*-max-ziplist-*")) == {
        "hash-max-ziplist-entries", "hash-max-ziplist-value", "zset-max-ziplist-entries",
        "zset-max-ziplist-value", "list-max-ziplist-size"}


def test_config_reports_the_running_server(server, r):
    assert r.config_get("port") == {"port": str(server.port)}
    assert r.config_get("dir")["dir"] == os.path.join(server.dir, "db")
    assert r.config_get("bind") == {"bind": "127.0.0.1"}
    assert r.config_get("databases") == {"databases": "16"}


ERROR_CASES = [
    ("foo", "bar"),
    ("maxclients", "abc"),
    ("maxclients", "0"),
    ("timeout", "-1"),
    ("maxmemory", "-1"),
    ("proto-max-bulk-len", "10"),
    ("appendfsync", "foo"),
    ("appendonly", "maybe"),
    ("databases", "5"),
    ("daemonize", "yes"),
    ("dir", "/tmp"),
    ("maxmemory-policy", "lru"),
    ("maxclients", "10", "maxclients", "20"),
    ("timeout", "10", "maxclients", "abc"),
    ("maxclients", "10", "foo", "1"),
    ("timeout",),
    ("timeout", "1", "maxclients"),
]


@pytest.mark.parametrize("args", ERROR_CASES, ids=lambda a: " ".join(a))
def test_config_set_errors_match_redis(r, ref, args):
    assert error_of(r, "CONFIG", "SET", *args) == error_of(ref, "CONFIG", "SET", *args)


def test_config_set_is_all_or_nothing(r):
    error_of(r, "CONFIG", "SET", "timeout", "10", "maxclients", "abc")
    assert r.config_get("timeout") == {"timeout": "0"}


def test_config_set_stored_values(r, ref):
    for client in (r, ref):
        assert client.config_set("maxmemory", "1gb") is True
        client.execute_command("CONFIG", "SET", "appendonly", "YES", "hz", "20", "save", "100 10",
                               "hash-max-ziplist-entries", "100", "maxmemory-policy", "ALLKEYS-LRU")
    for name in ("maxmemory", "appendonly", "hz", "save", "hash-max-listpack-entries",
                 "hash-max-ziplist-entries", "maxmemory-policy"):
        assert r.config_get(name) == ref.config_get(name), name
    for client in (r, ref):
        client.execute_command("CONFIG", "SET", "maxmemory", "0", "appendonly", "no", "hz", "10",
                               "save", "3600 1 300 100 60 10000", "hash-max-listpack-entries",
                               "128", "maxmemory-policy", "noeviction")


def test_config_set_alias_and_target_together(r, ref):
    for client in (r, ref):
        client.execute_command("CONFIG", "SET", "lua-time-limit", "5", "busy-reply-threshold", "6")
    assert r.config_get("lua-time-limit") == ref.config_get("lua-time-limit")
    for client in (r, ref):
        client.config_set("busy-reply-threshold", "5000")


def test_config_set_aliases_share_the_value(r):
    r.config_set("lua-time-limit", "1234")
    assert r.config_get("busy-reply-threshold") == {"busy-reply-threshold": "1234"}
    r.config_set("busy-reply-threshold", "5000")
    assert r.config_get("lua-time-limit") == {"lua-time-limit": "5000"}


def test_config_set_appendfsync(r):
    for policy in ("always", "no", "everysec"):
        assert r.config_set("appendfsync", policy.upper()) is True
        assert r.config_get("appendfsync") == {"appendfsync": policy}
        r.set("k", policy)
        assert r.get("k") == policy.encode()


def test_config_set_timeout_and_maxclients_take_effect(fresh_server):
    srv = fresh_server()
    c = srv.client(protocol=2)
    c.config_set("timeout", "1")
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.settimeout(6)
    start = time.time()
    assert s.recv(10) == b""
    assert time.time() - start < 5.5


def test_config_resetstat(server, r):
    r.set("x", 1)
    r.get("x")
    with pytest.raises(redis.ResponseError, match="unknown command"):
        r.execute_command("NOPE")
    assert r.config_resetstat() is True
    out, _ = exchange(server.port, b"INFO commandstats\r\n")
    assert b"cmdstat_set" not in out and b"cmdstat_get:" not in out
    info = r.info("everything")
    assert info["total_error_replies"] == 0
    assert not any(k.startswith("errorstat_") for k in info)


def test_config_rewrite_without_file(r, ref):
    assert error_of(r, "CONFIG", "REWRITE") == error_of(ref, "CONFIG", "REWRITE")


def test_config_rewrite_with_yaml(fresh_server, tmp_path):
    path = tmp_path / "ledis.yaml"
    path.write_text("maxclients: 500\nredis:\n  hz: 15\n")
    srv = fresh_server(config=str(path))
    c = srv.client(protocol=2)
    assert c.config_get("maxclients") == {"maxclients": "500"}
    assert c.config_get("hz") == {"hz": "15"}
    c.config_set("maxclients", "321")
    c.config_set("timeout", "7")
    c.config_set("maxmemory-policy", "allkeys-lfu")
    assert c.config_rewrite() in (True, b"OK")
    data = yaml.safe_load(path.read_text())
    assert data["maxclients"] == 321 and data["timeout"] == 7
    assert data["redis"]["maxmemory-policy"] == "allkeys-lfu"
    assert data["redis"]["hz"] == 15  # unchanged since start: left as the file wrote it
    srv.restart()
    c = srv.client(protocol=2)
    assert c.config_get("maxclients") == {"maxclients": "321"}
    assert c.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lfu"}


def test_config_help(r):
    assert r.execute_command("CONFIG", "HELP")[0].startswith(b"CONFIG <subcommand>")
    assert error_of(r, "CONFIG", "NOPE") == "unknown subcommand 'NOPE'. Try CONFIG HELP."
