"""MONITOR and LATENCY (ledis/commands/monitoring.py), checked against a real redis-server."""

from __future__ import annotations

import re
import socket
import time

import pytest
import redis


def _connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def _send(s: socket.socket, *cmds: bytes) -> None:
    out = b""
    for cmd in cmds:
        parts = cmd if isinstance(cmd, list) else cmd.split()
        out += b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    s.sendall(out)


def _read_lines(s: socket.socket, n: int, timeout: float = 5.0) -> list[bytes]:
    buf = b""
    deadline = time.time() + timeout
    while buf.count(b"\r\n") < n and time.time() < deadline:
        s.settimeout(max(deadline - time.time(), 0.01))
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\r\n")[:n]


def _drain(s: socket.socket, wait: float = 0.3) -> bytes:
    s.settimeout(wait)
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except TimeoutError:
        pass
    return buf


_CMDS = [
    b"SET k v",
    [b"SET", b"k2", b'a"b\\c\n\r\t\x07\x08\x01\xff y'],
    b"MULTI", b"SET a 1", b"EXEC",
    [b"EVAL", b"redis.call('set','a','b') return 1", b"0"],
    b"SELECT 2", b"GET a", b"INCR k",
    b"AUTH foo", b"HELLO 3 AUTH default pw",
    b"CONFIG GET maxmemory", b"NOSUCH x", b"GET", b"SET a",
    b"SELECT 0", b"DEL k k2 a",
]


def _monitor_lines(port: int) -> list[bytes]:
    mon = _connect(port)
    _send(mon, b"MONITOR")
    assert _read_lines(mon, 1) == [b"+OK"]
    cli = _connect(port)
    for cmd in _CMDS:  # one at a time, so the order is deterministic
        _send(cli, cmd)
        _drain(cli, 0.05)
    text = _drain(mon, 0.5)
    mon.close()
    cli.close()
    lines = [ln for ln in text.split(b"\r\n") if ln]
    # Normalise the timestamp and the client's port.
    return [re.sub(rb"^\+\d+\.\d{6} \[(\d+) (127\.0\.0\.1:\d+|lua)\]",
                   lambda m: b"+T [" + m.group(1) + b" "
                   + (b"lua" if m.group(2) == b"lua" else b"ADDR") + b"]", ln)
            for ln in lines]


def test_monitor_stream_matches_redis(server, redis_server):
    ours = _monitor_lines(server.port)
    theirs = _monitor_lines(redis_server.port)
    assert ours == theirs
    assert b'+T [0 ADDR] "SET" "k2" "a\\"b\\\\c\\n\\r\\t\\a\\b\\x01\\xff y"' in ours
    assert b'+T [0 lua] "set" "a" "b"' in ours
    assert b'+T [2 ADDR] "AUTH" "(redacted)"' in ours


def test_monitor_line_format(server, r):
    mon = _connect(server.port)
    _send(mon, b"MONITOR")
    assert _read_lines(mon, 1) == [b"+OK"]
    r.set("key", "val")
    line = _read_lines(mon, 1)[0]
    assert re.fullmatch(rb'\+\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "key" "val"', line), line
    sec = float(line[1:].split(b" ")[0])
    assert abs(sec - time.time()) < 5
    mon.close()


def test_monitor_client_may_not_touch_keyspace(server, redis_server):
    for port in (server.port, redis_server.port):
        mon = _connect(port)
        _send(mon, b"MONITOR")
        assert _read_lines(mon, 1) == [b"+OK"]
        # reads, writes and what may replicate (PUBLISH, PFCOUNT, a compat-mode EVAL, a
        # script declaring it writes) are refused
        for command in (b"GET a", b"PUBLISH ch x", b"PFCOUNT h", [b"EVAL", b"return 1", b"0"],
                        [b"EVAL", b"#!lua\nreturn 1", b"0"],
                        [b"EVAL_RO", b"return 1", b"0"]):
            _send(mon, command)
            assert _read_lines(mon, 1) == [b"-ERR Replica can't interact with the keyspace"], \
                (port, command)
        # a script declaring no-writes may run (Redis also shows a MONITOR client its own
        # commands, ledis does not: the text ends with the script's reply on both)
        _send(mon, [b"EVAL", b"#!lua flags=no-writes\nreturn 1", b"0"])
        assert _drain(mon).endswith(b":1\r\n"), port
        _send(mon, b"RESET")
        assert _read_lines(mon, 1) == [b"+RESET"]
        _send(mon, b"SET a 1")
        assert _read_lines(mon, 1) == [b"+OK"]
        mon.close()


def test_monitor_stops_after_disconnect_and_reset(server, r):
    mon = _connect(server.port)
    _send(mon, b"MONITOR")
    assert _read_lines(mon, 1) == [b"+OK"]
    _send(mon, b"RESET")
    assert _read_lines(mon, 1) == [b"+RESET"]
    r.set("x", "1")
    assert _drain(mon, 0.3) == b""
    mon.close()
    r.set("x", "2")  # the server must not fail writing to a gone monitor
    assert r.get("x") == b"2"


def test_monitor_redis_py_api(server, r):
    with server.client().monitor() as m:
        r.set("mk", "mv")
        for _ in range(10):
            info = m.next_command()
            if info["command"] == "SET mk mv":
                break
        else:
            pytest.fail("SET not seen")
        assert info["db"] == 0
        assert info["client_type"] == "tcp"
        assert info["client_address"] == "127.0.0.1"


# --- LATENCY ---------------------------------------------------------------------------------


def test_latency_help_and_errors_match_redis(r, ref):
    assert r.execute_command("LATENCY", "HELP") == ref.execute_command("LATENCY", "HELP")
    for client in (r, ref):
        with pytest.raises(redis.ResponseError) as exc:
            client.execute_command("LATENCY", "NOSUCH")
        assert str(exc.value) == "unknown subcommand 'NOSUCH'. Try LATENCY HELP."


def test_latency_monitor(r):
    try:
        r.execute_command("LATENCY", "RESET")
        r.config_set("latency-monitor-threshold", 0)
        assert r.execute_command("LATENCY", "LATEST") == []
        r.config_set("latency-monitor-threshold", 1)
        # An EVAL that busy-loops for > 1 ms is a "command" latency event.
        r.eval("local t = 0 for i = 1, 3000000 do t = t + i end return 1", 0)
        latest = r.execute_command("LATENCY", "LATEST")
        assert len(latest) == 1
        name, ts, last, peak = latest[0]
        assert name in (b"command", "command")
        assert abs(ts - time.time()) < 5 and last >= 1 and peak >= last
        hist = r.execute_command("LATENCY", "HISTORY", "command")
        assert len(hist) == 1 and hist[0][1] == last
        assert r.execute_command("LATENCY", "HISTORY", "nosuch") == []
        assert r.execute_command("LATENCY", "RESET", "nosuch") == 0
        assert r.execute_command("LATENCY", "RESET") == 1
        assert r.execute_command("LATENCY", "LATEST") == []
    finally:
        r.config_set("latency-monitor-threshold", 0)


def test_monitor_inside_exec_as_redis(ports):
    """MONITOR queued in MULTI is refused when EXEC runs it, as Redis (a client in EXEC
    expects one reply per command); the connection is not turned into a monitor."""
    from tests.rawresp import assert_same

    def scenario(port, client):
        c = client()
        return [c.transaction([("MONITOR",), ("PING",)]), c.call("PING")]

    assert_same(ports, scenario)
