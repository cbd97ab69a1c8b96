"""Scripting pieces without sockets: shebang parsing, number casts, Raw decoding, and the
engine-level guarantees (a script never commits by itself; the cache lives in ``sys``)."""

from __future__ import annotations

import math

import pytest

from ledis import errors
from ledis.config import Config
from ledis.errors import LedisError
from ledis.replies import Raw, Simple, decode_raw
from ledis.scripting.convert import _script_int
from ledis.scripting.runtime import parse_shebang, sha1hex
from ledis.server.compose import build, load_commands
from ledis.storage.layout import SYS


@pytest.fixture
def core(tmp_path):
    load_commands()
    config = Config()
    config.dir = str(tmp_path / "db")
    core = build(config)
    yield core
    core.close()


def run(core, ctx, *argv):
    return core.dispatch(ctx, [a if isinstance(a, bytes) else str(a).encode() for a in argv])


@pytest.mark.parametrize("body,flags,source", [
    (b"return 1", None, b"return 1"),
    (b"#!lua\nreturn 1", frozenset(), b"\nreturn 1"),
    (b"#!lua flags=\nx", frozenset(), b"\nx"),
    (b"#!lua flags=no-writes,allow-oom\nx", frozenset({b"no-writes", b"allow-oom"}), b"\nx"),
])
def test_parse_shebang(body, flags, source):
    assert parse_shebang(body) == (flags, source)


@pytest.mark.parametrize("body,text", [
    (b"#!lua", errors.SHEBANG_INVALID),
    (b"#!\n", "ERR Unexpected engine in script shebang: #!"),
    (b"#!lua flags=a,,b\n", "ERR Unexpected flag in script shebang: a"),
    (b"#!lua \"unbalanced\n", errors.SHEBANG_INVALID),
])
def test_parse_shebang_errors(body, text):
    with pytest.raises(LedisError) as exc:
        parse_shebang(body)
    assert exc.value.text == text


@pytest.mark.parametrize("value,expected", [
    (3.99, 3), (-3.99, -3), (-0.5, 0), (1e20, -(2**63)), (float("nan"), -(2**63)),
    (math.inf, -(2**63)), (-math.inf, -(2**63)), (2.0**63, -(2**63)), (-(2.0**63), -(2**63)),
])
def test_script_int_is_the_c_cast(value, expected):
    assert _script_int(value) == expected


def test_decode_raw():
    assert decode_raw(b"*2\r\n:1\r\n*1\r\n$1\r\na\r\n") == [1, [b"a"]]


def test_script_does_not_commit(core):
    ctx = core.new_context()
    commits = core.engine.commits
    assert run(core, ctx, "eval", "for i = 1, 50 do redis.call('set', 'k' .. i, i) end return 1",
               0) == 1
    assert core.engine.commits == commits
    assert core.engine.dirty
    core.commit()
    assert run(core, ctx, "get", "k50") == b"50"


def test_script_cache_written_to_sys_in_the_same_batch(core):
    ctx = core.new_context()
    body = b"return 'x'"
    assert run(core, ctx, "script", "load", body) == sha1hex(body)
    assert core.engine.get(SYS, b"script:" + sha1hex(body)) == body
    run(core, ctx, "script", "flush")
    assert core.engine.get(SYS, b"script:" + sha1hex(body)) is None


def test_reply_types(core):
    ctx = core.new_context()
    assert type(run(core, ctx, "eval", "return {ok='FINE'}", 0)) is Simple
    assert type(run(core, ctx, "eval", "return {1, 2}", 0)) is Raw
    with pytest.raises(LedisError) as exc:
        run(core, ctx, "eval", "return {err='X y'}", 0)
    assert exc.value.text == "X y"


def test_info_accessors(core):
    ctx = core.new_context()
    assert core.scripting.memory_used() == 0  # no VM before the first script
    run(core, ctx, "script", "load", "return 1")
    run(core, ctx, "script", "load", "return 2")
    assert core.scripting.number_of_cached_scripts == 2
    assert core.scripting.memory_used() > 0


def test_script_context_shares_caller_db(core):
    ctx = core.new_context()
    ctx.select(3)
    run(core, ctx, "eval", "redis.call('set', 'where', 'db3')", 0)
    assert run(core, ctx, "get", "where") == b"db3"
    ctx.select(0)
    assert run(core, ctx, "get", "where") is None
