"""Install anywhere, fail clearly: every startup and command-line mistake of ``ledis server``
ends in one line on stderr (``ledis: <what> (<where>): <why>``), exit status 2, no traceback,
and nothing created on disk; a bad flag shows the usage of the subcommand it was given to;
every flag has help. Runs the real CLI (``python -m ledis``) from the checkout root."""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import subprocess
import sys

import pytest
import redis

from ledis.cli import make_parser
from ledis.config import Config, ConfigError
from tests.helpers import ROOT, free_port, wait_port


def ledis(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ledis", *args], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=timeout, check=False)


def assert_one_line_error(proc: subprocess.CompletedProcess, *parts: str) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ledis: "), proc.stderr
    for part in parts:
        assert part in lines[0]
    return lines[0]


def listening_socket() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock, sock.getsockname()[1]


# (extra server args, YAML text or None, parts the message must contain). "{tmp}" is the test's
# temp folder; the data dir is {tmp}/db unless the args give another --dir.
CASES = {
    "databases 0": (["--databases", "0"], None,
                    ["config error (command line)", "'--databases': 0", "between 1 and 256"]),
    "databases 257": (["--databases", "257"], None, ["'--databases': 257"]),
    "port out of range": (["--port", "70000"], None, ["'--port': 70000"]),
    "maxclients 0": (["--maxclients", "0"], None, ["'--maxclients': 0"]),
    "lua memory 0": (["--lua-max-memory", "0"], None, ["'--lua-max-memory': 0"]),
    "negative timeout": (["--semi-sync-timeout", "-1"], None, ["'--semi-sync-timeout': -1"]),
    "replicaof without port": (["--replicaof", "nohost"], None,
                               ["'--replicaof': 'nohost'", '"host port"']),
    "replicaof host:port": (["--replicaof", "localhost:6379"], None, ["'--replicaof'"]),
    "replicaof bad port": (["--replicaof", "localhost 0"], None, ["'--replicaof'"]),
    "bind not an IP": (["--bind", "256.1.1.1"], None,
                       ["cannot listen (256.1.1.1:", "not a valid IP address"]),
    "bind not local": (["--bind", "192.0.2.1"], None,
                       ["cannot listen (192.0.2.1:", "not an address of this machine"]),
    "HTTP bind not local": (["--http-bind", "192.0.2.1", "--http-port", "0"], None,
                            ["cannot listen for HTTP (192.0.2.1:0)", "not an address of"]),
    "empty bind": (["--bind", " "], None, ["'--bind'", "must not be empty"]),
    "missing config": (["--config", "{tmp}/nope.yaml"], None,
                       ["config error ({tmp}/nope.yaml)", "no such file or directory"]),
    "config is a directory": (["--config", "{tmp}"], None, ["config error ({tmp})"]),
    "YAML syntax": ([], "network:\n  port: [1,\n", ["config error ({tmp}/ledis.yaml)",
                                                    "YAML syntax error at line 3"]),
    "YAML not a mapping": ([], "- a\n- b\n", ["the top level must be a mapping"]),
    "YAML unknown key": ([], "network:\n  prot: 1\n", ["unknown option 'network.prot'"]),
    "YAML bad type": ([], "network:\n  port: many\n",
                      ["bad value for 'network.port': 'many' (expected an integer)"]),
    "YAML bad range": ([], "network:\n  databases: 0\n", ["'network.databases': 0"]),
    "YAML bad replicaof": ([], "replication:\n  replicaof: somehost\n",
                           ["'replication.replicaof'"]),
    "YAML max body 0": ([], "http:\n  http_max_body: 0\n", ["'http.http_max_body': 0"]),
    "dir is a file": (["--dir", "{tmp}/file"], None,
                      ["bad data directory ({tmp}/file)", "not a directory"]),
    "dir's parent is a file": (["--dir", "{tmp}/file/sub/db"], None,
                               ["bad data directory ({tmp}/file/sub/db)",
                                "{tmp}/file is not a directory"]),
    "logfile in a missing folder": ([], "logging:\n  logfile: {tmp}/no/such/ledis.log\n",
                                    ["cannot write the log file ({tmp}/no/such/ledis.log)"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_startup_error_is_one_line_and_creates_nothing(tmp_path, name):
    args, yaml_text, parts = CASES[name]
    tmp = str(tmp_path)
    (tmp_path / "file").write_text("in the way")
    argv = ["server", "--port", str(free_port()), "--dir", f"{tmp}/db"]
    argv += [a.replace("{tmp}", tmp) for a in args]
    if yaml_text is not None:
        (tmp_path / "ledis.yaml").write_text(yaml_text.replace("{tmp}", tmp))
        argv += ["--config", f"{tmp}/ledis.yaml"]
    proc = ledis(*argv)
    assert_one_line_error(proc, *(p.replace("{tmp}", tmp) for p in parts))
    assert not (tmp_path / "db").exists()
    assert not (tmp_path / "file" / "sub").exists()


@pytest.mark.parametrize("flag, what", [("--port", "cannot listen"),
                                        ("--http-port", "cannot listen for HTTP")])
def test_port_in_use_is_found_before_the_store_is_created(tmp_path, flag, what):
    sock, port = listening_socket()
    with sock:
        args = {"--port": str(free_port()), flag: str(port)}
        proc = ledis("server", "--dir", str(tmp_path / "db"), *sum(args.items(), ()))
    line = assert_one_line_error(proc, f"{what} (127.0.0.1:{port})", "address already in use")
    assert line.startswith(f"ledis: {what} (")
    assert not (tmp_path / "db").exists()


def test_store_locked_by_a_running_server(fresh_server):
    srv = fresh_server()
    proc = ledis("server", "--port", str(free_port()), "--dir", os.path.join(srv.dir, "db"))
    assert_one_line_error(proc, f"data directory in use ({os.path.join(srv.dir, 'db')})")
    assert srv.client().ping()  # the running server is untouched


def run_server(*args: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ledis", "server", "--port", str(port),
                             "--loglevel", "notice", *args], cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_port(port, proc)
    return proc, port


def stop_server(proc: subprocess.Popen, port: int) -> str:
    try:
        redis.Redis(port=port).shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    out, _ = proc.communicate(timeout=15)
    return out


def test_memory_backend_neither_creates_nor_logs_a_data_dir(tmp_path):
    proc, port = run_server("--backend", "memory", "--dir", str(tmp_path / "db"))
    try:
        c = redis.Redis(port=port)
        c.set("k", "v")
        assert c.get("k") == b"v"
    finally:
        out = stop_server(proc, port)
    ready = [line for line in out.splitlines() if "ledis ready" in line]
    assert len(ready) == 1, out
    assert "storage in memory" in ready[0] and str(tmp_path) not in ready[0]
    assert f"port {port}" in ready[0]
    assert not (tmp_path / "db").exists()


def test_rocksdb_ready_line_names_the_data_dir(tmp_path):
    proc, port = run_server("--dir", str(tmp_path / "db"))
    out = stop_server(proc, port)
    assert f"data dir {tmp_path / 'db'}" in out and (tmp_path / "db").is_dir()


@pytest.mark.parametrize("databases", [1, 256])
def test_select_at_both_ends_of_the_databases_range(tmp_path, databases):
    proc, port = run_server("--databases", str(databases), "--dir", str(tmp_path / "db"))
    try:
        c = redis.Redis(port=port)
        assert c.ping()
        c.execute_command("SELECT", databases - 1)
        c.execute_command("SWAPDB", 0, databases - 1)
        with pytest.raises(redis.ResponseError, match="DB index is out of range"):
            c.execute_command("SELECT", databases)
        c.execute_command("SELECT", 0)
        assert c.set("k", "v") and c.get("k") == b"v"
    finally:
        stop_server(proc, port)


# --- the option table -------------------------------------------------------------------------
def test_every_integer_option_has_a_range_holding_its_default():
    for f in dataclasses.fields(Config):
        default = getattr(Config(), f.name)
        if isinstance(default, int) and not isinstance(default, bool):
            low, high = Config.RANGES[f.name]
            assert low <= default <= high, f.name
            config = Config()
            config.set(f.name, low, f.name)
            with pytest.raises(ConfigError, match=f"bad value for '{f.name}'"):
                config.set(f.name, low - 1, f.name)
            with pytest.raises(ConfigError, match=f"bad value for '{f.name}'"):
                config.set(f.name, high + 1, f.name)


# --- the command line ---------------------------------------------------------------------------
@pytest.mark.parametrize("argv, command, bad", [
    (["server", "--prot", "1"], "server", "--prot 1"),
    (["dump", "--dir", "d", "-o", "out", "--bogus"], "dump", "--bogus"),
    (["load", "--dir", "d", "in", "--bogus"], "load", "--bogus"),
    (["check", "d", "--bogus"], "check", "--bogus"),
    (["repair", "d", "--bogus", "x"], "repair", "--bogus x"),
    (["restore-checkpoint", "p", "--dir", "d", "--bogus"], "restore-checkpoint", "--bogus"),
    (["functions", "--bogus", "list"], "functions", "--bogus"),
    (["functions", "load", "--bogus"], "functions load", "--bogus"),
    (["functions", "list", "--bogus"], "functions list", "--bogus"),
])
def test_bad_flag_shows_the_subcommands_usage(argv, command, bad):
    proc = ledis(*argv)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert lines[0].startswith(f"usage: ledis {command} [-h]"), proc.stderr
    assert lines[-1] == f"ledis {command}: error: unrecognized arguments: {bad}"


def test_bad_flag_of_the_top_level_keeps_the_top_level_usage():
    proc = ledis("--bogus")
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: ledis [-h]")
    assert proc.stderr.splitlines()[-1] == "ledis: error: unrecognized arguments: --bogus"


def parsers(parser: argparse.ArgumentParser, path: str = "ledis"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, f"{path} {name}")


def test_every_flag_and_subcommand_has_help():
    missing = []
    seen = 0
    for path, parser in parsers(make_parser()):
        for action in parser._actions:
            seen += 1
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path}: {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    seen += 1
                    if not choice.help:
                        missing.append(f"{path} {choice.dest}")
    assert seen > 60
    assert not missing, missing


def test_server_help_lists_defaults():
    out = ledis("server", "-h").stdout
    assert "--databases" in out and "1-256 (default 16)" in out
    assert "--port" in out and "default 6380" in out


def test_a_package_without_its_lua_runtime_refuses_to_start(tmp_path):
    """A broken install (the runtime's prelude missing from the package) stops at startup with
    one line naming the Lua directory, before the data directory is created; the intact
    package starts."""
    import shutil

    copy = tmp_path / "site"
    shutil.copytree(ROOT / "ledis", copy / "ledis",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "ledis" / "lua" / "prelude.lua").unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "ledis", "server", "--port", str(free_port()),
         "--dir", str(tmp_path / "db")],
        cwd=str(copy), capture_output=True, text=True, timeout=60, check=False)
    line = assert_one_line_error(proc, "lua runtime", str(copy / "ledis" / "lua"), "prelude.lua")
    assert "cannot read" in line
    assert not (tmp_path / "db").exists()
