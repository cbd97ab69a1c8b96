"""Server commands: INFO, DBSIZE, FLUSHDB/FLUSHALL, TIME, LASTSAVE, SAVE, COMMAND, SHUTDOWN."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.test_connection import error_of
from tests.test_protocol import exchange

REFERENCE = Path("/work/shared/reference/redis-7.0/info-everything.txt")


@pytest.fixture
def rr(r):
    """``r`` without redis-py's reply parsing for COMMAND (raw nested lists)."""
    r.set_response_callback("COMMAND", lambda reply, **kw: reply)
    return r


@pytest.fixture
def rref(ref):
    ref.set_response_callback("COMMAND", lambda reply, **kw: reply)
    return ref


def info_raw(port: int, *sections: str) -> str:
    out, _ = exchange(port, b"INFO %s\r\n" % " ".join(sections).encode())
    header, _, body = out.partition(b"\r\n")
    assert header.startswith(b"$")
    return body[: int(header[1:])].decode()


def parse_info(text: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in text.split("\r\n"):
        if line.startswith("# "):
            current = sections.setdefault(line[2:], {})
        elif line:
            key, _, value = line.partition(":")
            current[key] = value
    return sections


def test_info_default_sections_and_format(server, r):
    text = info_raw(server.port)
    assert text.startswith("# Server\r\nredis_version:7.0.15\r\n")
    assert text.endswith("\r\n") and not text.endswith("\r\n\r\n")
    sections = parse_info(text)
    assert list(sections) == ["Server", "Clients", "Memory", "Persistence", "Stats",
                              "Replication", "CPU", "Modules", "Errorstats", "Cluster",
                              "Keyspace"]
    server_info = sections["Server"]
    assert server_info["tcp_port"] == str(server.port)
    assert re.fullmatch(r"[0-9a-f]{40}", server_info["run_id"])
    assert int(server_info["process_id"]) == server.proc.pid
    assert int(server_info["uptime_in_seconds"]) >= 0
    assert int(sections["Clients"]["connected_clients"]) >= 1
    assert sections["Replication"]["role"] == "master"
    assert sections["Replication"]["connected_slaves"] == "0"
    assert int(sections["Memory"]["used_memory"]) > 1_000_000


def test_info_instantaneous_rates_follow_traffic(server, r):
    """instantaneous_ops_per_sec / _input_kbps / _output_kbps: rates over the last 1.6 s of
    samples, as Redis's; while a client sends 1 KB values they are all above 0."""
    value = b"x" * 1024
    deadline = time.time() + 10
    stats = {}
    while time.time() < deadline:
        pipe = r.pipeline(transaction=False)
        for i in range(50):
            pipe.set(f"rate:{i}", value)
            pipe.get(f"rate:{i}")
        pipe.execute()
        stats = parse_info(info_raw(server.port, "stats"))["Stats"]
        if all(float(stats[f]) > 0 for f in ("instantaneous_ops_per_sec",
                                              "instantaneous_input_kbps",
                                              "instantaneous_output_kbps")):
            break
        time.sleep(0.05)
    assert float(stats["instantaneous_input_kbps"]) > 1.0
    assert float(stats["instantaneous_output_kbps"]) > 1.0
    assert re.fullmatch(r"\d+\.\d\d", stats["instantaneous_input_kbps"])


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference INFO not available")
def test_info_everything_has_redis_field_names(server, r):
    r.set("a", 1)
    r.expire("a", 100)
    ours = parse_info(info_raw(server.port, "everything"))
    theirs = parse_info(REFERENCE.read_text().replace("\n", "\r\n"))
    assert list(ours) == list(theirs)
    for section, fields in theirs.items():
        if section in ("Commandstats", "Latencystats", "Errorstats", "Keyspace"):
            continue
        missing = set(fields) - set(ours[section])
        assert not missing, (section, missing)


def test_info_section_args(server, r):
    assert list(parse_info(info_raw(server.port, "server"))) == ["Server"]
    assert list(parse_info(info_raw(server.port, "CLIENTS", "memory"))) == ["Clients", "Memory"]
    assert list(parse_info(info_raw(server.port, "default", "commandstats")))[-1] == "Keyspace"
    assert "Commandstats" in parse_info(info_raw(server.port, "all"))
    assert info_raw(server.port, "nosuchsection") == ""


def test_info_stats_and_keyspace(server, r):
    r.config_resetstat()
    r.set("k1", "v")
    r.set("k2", "v", ex=100)
    r.get("k1")
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCHCOMMAND")
    with pytest.raises(redis.ResponseError):
        r.execute_command("GET")
    stats = parse_info(info_raw(server.port, "everything"))
    assert stats["Keyspace"]["db0"] == "keys=2,expires=1,avg_ttl=0"
    cmdstat_set = stats["Commandstats"]["cmdstat_set"]
    assert re.fullmatch(r"calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,"
                        r"failed_calls=0", cmdstat_set)
    assert stats["Commandstats"]["cmdstat_get"].endswith("rejected_calls=1,failed_calls=0")
    assert stats["Errorstats"]["errorstat_ERR"] == "count=2"
    assert int(stats["Stats"]["total_commands_processed"]) >= 3
    assert int(stats["Stats"]["total_error_replies"]) == 2
    assert "cmdstat_config|resetstat" in stats["Commandstats"]


def test_info_resp3_is_verbatim(server):
    out, _ = exchange(server.port, b"HELLO 3\r\nINFO server\r\n")
    assert b"\r\n=" in out and b"txt:# Server" in out


def test_dbsize_flushdb_flushall(server, r):
    r.set("a", 1)
    r.hset("h", "f", "v")
    other = server.client(db=5)
    other.set("b", 2)
    assert r.dbsize() == 2
    assert r.flushdb() is True
    assert r.dbsize() == 0 and r.exists("h") == 0
    assert other.get("b") == b"2"
    assert r.execute_command("FLUSHDB", "SYNC") in (True, b"OK")
    assert r.execute_command("FLUSHALL", "ASYNC") in (True, b"OK")
    assert other.dbsize() == 0
    assert error_of(r, "FLUSHDB", "foo") == "syntax error"
    assert error_of(r, "FLUSHALL", "SYNC", "ASYNC") == "syntax error"


def test_time_lastsave(r):
    seconds, micros = r.execute_command("TIME")
    assert abs(int(seconds) - time.time()) < 5
    assert 0 <= int(micros) < 1_000_000
    assert abs(r.lastsave().timestamp() - time.time()) < 24 * 3600


def test_command_count_info_list(server, rr):
    r = rr
    count = r.execute_command("COMMAND", "COUNT")
    assert count == len(r.execute_command("COMMAND"))
    out, _ = exchange(server.port, b"COMMAND INFO get nosuch config|get\r\n")
    assert out.startswith(b"*3\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n"
                          b":1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n")
    assert b"$-1\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n" in out
    names = r.execute_command("COMMAND", "LIST")
    assert b"get" in names and b"config|get" in names
    assert r.execute_command("COMMAND", "LIST", "FILTERBY", "PATTERN", "config|*") == [
        b"config|" + n for n in (b"get", b"set", b"resetstat", b"rewrite", b"help")]
    assert b"ping" in r.execute_command("COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection")
    assert r.execute_command("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    assert error_of(r, "COMMAND", "LIST", "FILTERBY", "foo", "x") == "syntax error"
    assert error_of(r, "COMMAND", "FOO") == "unknown subcommand 'FOO'. Try COMMAND HELP."


def test_command_info_matches_redis(rr, rref):
    r, ref = rr, rref
    names = ["get", "set", "mset", "del", "ping", "zunionstore", "eval", "hset", "lpush",
             "client", "config"]
    ours = {c[0]: c for c in r.execute_command("COMMAND", "INFO", *names) if c}
    theirs = {c[0]: c for c in ref.execute_command("COMMAND", "INFO", *names) if c}
    for name, info in theirs.items():
        if name not in ours:
            continue
        mine = ours[name]
        assert mine[1:6] == info[1:6], name  # arity, flags, first, last, step


def test_command_getkeys(rr, rref):
    r, ref = rr, rref
    cases = [("SET", "a", "b"), ("MSET", "a", "1", "b", "2"), ("EVAL", "x", "2", "k1", "k2", "v"),
             ("ZUNIONSTORE", "dst", "2", "s1", "s2", "WEIGHTS", "1", "2"),
             ("LMOVE", "a", "b", "LEFT", "RIGHT"), ("EVAL", "x", "0")]
    for case in cases:
        assert r.execute_command("COMMAND", "GETKEYS", *case) == \
            ref.execute_command("COMMAND", "GETKEYS", *case), case
    for case in [("GET",), ("GET", "a", "b"), ("NOSUCH", "a"), ("PING", "x")]:
        assert error_of(r, "COMMAND", "GETKEYS", *case) == \
            error_of(ref, "COMMAND", "GETKEYS", *case), case
    assert r.execute_command("COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "LEFT", "LEFT") == \
        ref.execute_command("COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "LEFT", "LEFT")


def test_command_docs(server, rr):
    r = rr
    out, _ = exchange(server.port, b"HELLO 3\r\nCOMMAND DOCS get\r\n")
    assert b"%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n" in out
    docs = r.execute_command("COMMAND", "DOCS", "set", "client")
    assert b"set" in docs and b"client" in docs


def test_redis_cli_command_docs_hints(server):
    out = subprocess.run(["redis-cli", "-p", str(server.port), "COMMAND", "DOCS", "GET"],
                         capture_output=True, timeout=20)
    assert out.returncode == 0
    assert b"Get the value of a key" in out.stdout and b"ERR" not in out.stdout
    # interactive mode fetches COMMAND DOCS at start; it must not print an error
    out = subprocess.run(["redis-cli", "-p", str(server.port)], input=b"PING\n",
                         capture_output=True, timeout=20)
    assert out.stdout.strip() == b"PONG" and out.stderr == b""


def test_shutdown_exits(fresh_server):
    srv = fresh_server()
    c = srv.client(protocol=2)
    c.set("kept", "yes")
    assert error_of(c, "SHUTDOWN", "foo") == "syntax error"
    assert error_of(c, "SHUTDOWN", "SAVE", "NOSAVE") == "syntax error"
    with pytest.raises(redis.ConnectionError):
        c.execute_command("SHUTDOWN", "NOSAVE")
    assert srv.proc.wait(20) == 0
    srv.proc = None
    srv._log.close()
    srv.start()
    assert srv.client().get("kept") == b"yes"


def test_shutdown_through_redis_cli(fresh_server):
    srv = fresh_server()
    out = subprocess.run(["redis-cli", "-p", str(srv.port), "SHUTDOWN"], capture_output=True,
                         timeout=20)
    assert out.stdout.strip() == b""  # the connection just closes
    assert srv.proc.wait(20) == 0


def test_every_command_declared_like_redis(rr, rref):
    """Arity, flags, key positions and ACL categories of every command Redis also has
    (subcommands included) match Redis 7.0's COMMAND reply."""
    ours = {c[0]: c for c in rr.execute_command("COMMAND")}
    theirs = {c[0]: c for c in rref.execute_command("COMMAND")}
    differ = []

    def compare(mine, ref_info):
        if mine[1:7] != ref_info[1:7]:
            differ.append((mine[0], mine[1:7], ref_info[1:7]))
        ref_subs = {s[0]: s for s in ref_info[9]}
        for sub in mine[9]:
            if sub[0] in ref_subs:
                compare(sub, ref_subs[sub[0]])

    for name, info in ours.items():
        if name in theirs:
            compare(info, theirs[name])
    assert not differ
