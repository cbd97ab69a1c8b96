"""CONFIG REWRITE edits the YAML file in place: comments, key order, sections, quoting and keys
CONFIG does not know survive; changed values are replaced where they sit, new ones appended."""

from __future__ import annotations

import difflib
import shutil

import yaml

from tests.helpers import ROOT


def comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def top_keys(text: str) -> list[str]:
    return list(yaml.safe_load(text))


def test_rewrite_of_the_example_file_keeps_comments_and_order(fresh_server, tmp_path):
    path = tmp_path / "ledis.yaml"
    shutil.copy(ROOT / "ledis.example.yaml", path)
    before = path.read_text()
    srv = fresh_server(config=str(path))  # --port / --dir flags override the file's
    c = srv.client(decode_responses=True)
    c.config_set("maxclients", "123")  # backed, in network:
    c.config_set("appendfsync", "always")  # backed, in storage:
    c.config_set("lua-time-limit", "750")  # alias of busy-reply-threshold, in scripting:
    c.config_set("maxmemory-policy", "allkeys-lru")  # stored-only: under redis:
    c.config_set("masteruser", "on")  # stored-only; YAML 1.1 would read a plain on as true
    assert c.config_rewrite()
    after = path.read_text()

    # every comment line is still there, in the same order
    assert comment_lines(after) == comment_lines(before)
    # top-level keys in the same order, redis: appended
    assert top_keys(after) == [*top_keys(before), "redis"]
    # only the changed lines were replaced (loglevel: the test helper starts servers with
    # --loglevel warning, and the running value is what is written); redis: at the end
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    removed = [line[2:] for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ")]
    assert removed == ["  maxclients: 10000", "  appendfsync: everysec",
                       "  lua_time_limit_ms: 5000", "  loglevel: notice"]
    assert added == ["  maxclients: 123", "  appendfsync: always", "  lua_time_limit_ms: 750",
                     "  loglevel: warning", "redis:", "  maxmemory-policy: allkeys-lru",
                     "  masteruser: 'on'"]
    assert after.startswith(before.split("  maxclients: 10000")[0])
    data = yaml.safe_load(after)
    assert data["network"]["maxclients"] == 123
    assert data["storage"]["appendfsync"] == "always"
    assert data["scripting"]["lua_time_limit_ms"] == 750
    assert data["redis"] == {"maxmemory-policy": "allkeys-lru", "masteruser": "on"}

    srv.restart()
    c = srv.client(decode_responses=True)
    assert c.config_get("maxclients") == {"maxclients": "123"}
    assert c.config_get("appendfsync") == {"appendfsync": "always"}
    assert c.config_get("lua-time-limit") == {"lua-time-limit": "750"}
    assert c.config_get("busy-reply-threshold") == {"busy-reply-threshold": "750"}
    assert c.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert c.config_get("masteruser") == {"masteruser": "on"}
    # a rewrite with nothing changed since start leaves the file byte for byte
    assert c.config_rewrite()
    assert path.read_text() == after


CUSTOM = """\
# my server
storage:
  compression: zstd   # smaller files
  compression_bottommost: "zstd"
  cache_entries: 1000
checkpoints: {checkpoint_keep: 3}
network:
  maxclients: 77
redis:
  hz: 15     # stored-only, as written by hand
"""


def test_rewrite_keeps_keys_config_does_not_know(fresh_server, tmp_path):
    path = tmp_path / "ledis.yaml"
    path.write_text(CUSTOM)
    srv = fresh_server(config=str(path))
    c = srv.client(decode_responses=True)
    assert c.config_get("hz") == {"hz": "15"}
    c.config_set("maxclients", "88")
    c.config_set("timeout", "9")  # not in the file: appended at the top level
    assert c.config_rewrite()
    after = path.read_text()
    lines = after.splitlines()
    # ledis options CONFIG has no parameter for, flow style, quoting, trailing comments
    for kept in ["# my server", "  compression: zstd   # smaller files",
                 '  compression_bottommost: "zstd"', "  cache_entries: 1000",
                 "checkpoints: {checkpoint_keep: 3}",
                 "  hz: 15     # stored-only, as written by hand"]:
        assert kept in lines
    assert "  maxclients: 88" in lines and "timeout: 9" in lines
    # loglevel: the running value (the helper's --loglevel warning) differs from the default
    assert top_keys(after) == ["storage", "checkpoints", "network", "redis", "timeout",
                               "loglevel"]
    srv.restart()
    c = srv.client(decode_responses=True)
    assert c.config_get("maxclients") == {"maxclients": "88"}
    assert c.config_get("timeout") == {"timeout": "9"}
    assert c.config_get("hz") == {"hz": "15"}


def test_replica_settings_set_rewritten_and_read_back(fresh_server, tmp_path):
    """replica-read-only / replica-serve-stale-data act at run time (docs/config.md), so
    CONFIG REWRITE writes them as ledis options, and a restart reads them back."""
    path, srv, c = _with_empty_file(fresh_server, tmp_path)
    c.config_set("slave-read-only", "no")
    c.config_set("replica-serve-stale-data", "no")
    assert c.config_rewrite()
    written = yaml.safe_load(path.read_text())
    assert written["replica_read_only"] is False
    assert written["replica_serve_stale_data"] is False
    assert "redis" not in written  # not stored-only any more
    srv.restart()
    c = srv.client(decode_responses=True)
    got = c.config_get("replica-*")
    assert (got["replica-read-only"], got["replica-serve-stale-data"]) == ("no", "no")


def _with_empty_file(fresh_server, tmp_path):
    """(the file, a server started from it, a client): an empty YAML config file."""
    path = tmp_path / "ledis.yaml"
    path.write_text("")
    srv = fresh_server(config=str(path))
    return path, srv, srv.client(decode_responses=True)


def test_rewrite_of_an_empty_file(fresh_server, tmp_path):
    path, _srv, c = _with_empty_file(fresh_server, tmp_path)
    c.config_set("timeout", "5")
    c.config_set("hz", "20")
    assert c.config_rewrite()
    assert yaml.safe_load(path.read_text()) == {"timeout": 5, "loglevel": "warning",
                                                "redis": {"hz": "20"}}
    assert not (tmp_path / "ledis.yaml.tmp").exists()
