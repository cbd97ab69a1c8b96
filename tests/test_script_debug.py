"""SCRIPT DEBUG: ledis has no Lua debugger; after SCRIPT DEBUG YES|SYNC a connection's EVAL*
are refused without running (redis-cli --ldb ignores the first error and sends EVAL)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import redis

from ledis import errors

WRITER = "redis.call('SET', KEYS[1], ARGV[1]) return 'ran'"


def error_of(client, *args) -> str:
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


def text(error: str) -> str:
    return error.removeprefix("ERR ")  # redis-py drops the ERR prefix


@pytest.fixture
def one(server):
    """A client on a single connection (the debug flag belongs to the connection)."""
    client = server.client(single_connection_client=True)
    client.flushall()
    yield client
    client.close()


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
@pytest.mark.parametrize("mode", ["--ldb", "--ldb-sync-mode"])
def test_redis_cli_ldb_does_not_run_the_script(server, r, tmp_path, mode):
    script = tmp_path / "set.lua"
    script.write_text("redis.call('SET', KEYS[1], ARGV[1])\nreturn 'ran'\n")
    proc = subprocess.run(["redis-cli", "-p", str(server.port), mode, "--eval", str(script),
                           "ldbkey", ",", "v1"], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=20)
    out = proc.stdout.decode()
    assert errors.SCRIPT_DEBUG_NOT_RUN in out
    assert "ran" not in out.replace(errors.SCRIPT_DEBUG_NOT_RUN, "")
    assert r.exists("ldbkey") == 0
    # without --ldb the same script runs (the flag died with redis-cli's connection)
    proc = subprocess.run(["redis-cli", "-p", str(server.port), "--eval", str(script),
                           "ldbkey", ",", "v1"], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=20)
    assert proc.stdout.strip() == b"ran" and r.get("ldbkey") == b"v1"


@pytest.mark.parametrize("mode", ["YES", "SYNC", "yes"])
def test_eval_refused_until_script_debug_no(one, server, mode):
    sha = one.script_load(WRITER)
    assert error_of(one, "SCRIPT", "DEBUG", mode) == text(errors.SCRIPT_DEBUG_UNSUPPORTED)
    refused = text(errors.SCRIPT_DEBUG_NOT_RUN)
    assert error_of(one, "EVAL", WRITER, 1, "k", "v") == refused
    assert error_of(one, "EVALSHA", sha, 1, "k", "v") == refused
    assert error_of(one, "EVAL_RO", "return 1", 0) == refused
    assert error_of(one, "EVALSHA_RO", sha, 1, "k", "v") == refused
    assert one.exists("k") == 0
    # other commands, and other connections' scripts, are not affected
    assert one.set("plain", "1") and one.get("plain") == b"1"
    other = server.client()
    assert other.eval(WRITER, 1, "other", "v") == b"ran"
    other.close()
    stats = one.info("commandstats")["cmdstat_eval"]
    assert stats["rejected_calls"] >= 1
    assert one.execute_command("SCRIPT", "DEBUG", "NO") in (True, b"OK")
    assert one.eval(WRITER, 1, "k", "v") == b"ran" and one.get("k") == b"v"
    assert one.evalsha(sha, 1, "k2", "v2") == b"ran"


def test_reset_clears_script_debug(one):
    error_of(one, "SCRIPT", "DEBUG", "SYNC")
    assert error_of(one, "EVAL", WRITER, 1, "k", "v") == text(errors.SCRIPT_DEBUG_NOT_RUN)
    assert one.execute_command("RESET") in (b"RESET", "RESET")
    assert one.eval(WRITER, 1, "k", "v") == b"ran"


def test_script_debug_and_multi(one):
    error_of(one, "SCRIPT", "DEBUG", "YES")
    # an EVAL queued while debugging is refused at once: EXEC aborts, nothing ran
    assert one.execute_command("MULTI") in (True, b"OK")
    assert error_of(one, "EVAL", WRITER, 1, "k", "v") == text(errors.SCRIPT_DEBUG_NOT_RUN)
    with pytest.raises(redis.exceptions.ExecAbortError):
        one.execute_command("EXEC")
    assert one.exists("k") == 0
    # leaving MULTI keeps the flag
    assert error_of(one, "EVAL", WRITER, 1, "k", "v") == text(errors.SCRIPT_DEBUG_NOT_RUN)
    one.execute_command("SCRIPT", "DEBUG", "NO")
    # SCRIPT DEBUG inside a transaction is refused and sets nothing
    assert one.execute_command("MULTI") in (True, b"OK")
    one.execute_command("SCRIPT", "DEBUG", "YES")
    [reply] = one.execute_command("EXEC")
    assert isinstance(reply, redis.ResponseError)
    assert str(reply) == text(errors.SCRIPT_DEBUG_IN_MULTI)
    assert one.eval(WRITER, 1, "k", "v") == b"ran"


def test_script_debug_errors_match_redis(r, ref):
    for client in (r, ref):
        client.flushall()
    assert error_of(r, "SCRIPT", "DEBUG", "MAYBE") == error_of(ref, "SCRIPT", "DEBUG", "MAYBE")
    replies = []
    for client in (r, ref):
        pipe = client.pipeline(transaction=True)
        pipe.execute_command("SCRIPT", "DEBUG", "YES")
        [reply] = pipe.execute(raise_on_error=False)
        replies.append(str(reply))
    assert replies[0] == replies[1]
    assert r.execute_command("SCRIPT", "DEBUG", "NO") in (True, b"OK")
    assert r.eval("return 1", 0) == 1
