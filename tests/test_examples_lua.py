"""The ready-to-load Lua libraries of examples/lua/ (shared code, timers, the debugger script,
triggers): each is loaded as a user would (`redis-cli -x FUNCTION LOAD REPLACE < file`) and
exercised over RESP."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import redis

from tests.helpers import ROOT

LUA = ROOT / "examples" / "lua"


def cli_load(port: int, name: str) -> str:
    """FUNCTION LOAD REPLACE of examples/lua/<name>.lua through redis-cli, as the files say."""
    with open(LUA / f"{name}.lua", "rb") as fh:
        done = subprocess.run(["redis-cli", "-p", str(port), "-x", "FUNCTION", "LOAD", "REPLACE"],
                              stdin=fh, capture_output=True, timeout=30, check=False)
    return done.stdout.decode().strip()


pytestmark = pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli missing")


def test_every_example_library_opens_with_its_usage():
    files = sorted(LUA.glob("*.lua"))
    assert len(files) >= 4
    for path in files:
        head = path.read_text().splitlines()[:3]
        assert any(line.startswith("--") for line in head), path.name


def test_shared_code_mathlib_and_quota(server, r):
    r.function_flush()
    assert cli_load(server.port, "mathlib") == "mathlib"
    assert cli_load(server.port, "quota") == "quota"
    assert r.fcall("quota_use", 1, "quota:alice", 30, 90) == [30, 33]
    assert r.fcall("quota_use", 1, "quota:alice", 60, 90) == [90, 100]
    with pytest.raises(redis.ResponseError, match=r"QUOTA over the limit \(100% used\)"):
        r.fcall("quota_use", 1, "quota:alice", 1, 90)
    assert r.fcall_ro("quota_percent", 1, "quota:alice", 180) == 50
    with pytest.raises(redis.ResponseError, match="required by 'quota'"):
        r.function_delete("mathlib")
    r.function_delete("quota")
    r.function_delete("mathlib")


def test_heartbeat_timer_beats_and_is_listed(server, r):
    r.function_flush()
    assert cli_load(server.port, "heartbeat") == "heartbeat"
    deadline = time.time() + 10
    while not r.get("heartbeat:beats") and time.time() < deadline:
        time.sleep(0.1)
    assert int(r.get("heartbeat:beats")) >= 1
    age = r.fcall_ro("heartbeat_age", 0)
    assert 0 <= age < 5000
    timers = r.execute_command("LEDIS.TIMERS")
    assert any(b"beat" in (t.values() if isinstance(t, dict) else t) for t in timers)
    r.function_delete("heartbeat")
    beats = r.get("heartbeat:beats")
    time.sleep(1.3)
    assert r.get("heartbeat:beats") == beats  # the timer went with its library


def test_debug_me_runs_as_a_plain_script(r):
    script = (LUA / "debug_me.lua").read_text()
    assert r.eval(script, 1, "cart:1", 3, 5, 8) == [16, b"16"]
    assert r.get("cart:1") == b"16"


def test_user_index_trigger_follows_every_change(server, r):
    r.function_flush()
    assert cli_load(server.port, "user_index") == "user_index"
    r.hset("user:1", mapping={"name": "ann", "email": "ann@example.com"})
    r.hset("user:2", mapping={"name": "bob", "email": "bob@example.com"})
    r.hset("customer:9", "email", "ann@example.com")  # not a user:* key
    assert r.fcall_ro("user_by_email", 0, "ann@example.com") == [b"user:1"]
    r.hset("user:2", "email", "ann@example.com")  # bob changes his address
    assert r.fcall_ro("user_by_email", 0, "ann@example.com") == [b"user:1", b"user:2"]
    assert r.fcall_ro("user_by_email", 0, "bob@example.com") == []
    r.hdel("user:1", "email")
    r.rename("user:2", "user:3")
    assert r.fcall_ro("user_by_email", 0, "ann@example.com") == [b"user:3"]
    r.pexpire("user:3", 100)
    deadline = time.time() + 5
    while r.fcall_ro("user_by_email", 0, "ann@example.com") and time.time() < deadline:
        time.sleep(0.05)
    assert r.fcall_ro("user_by_email", 0, "ann@example.com") == []
    assert r.hgetall("email:of") == {}
    r.function_delete("user_index")
