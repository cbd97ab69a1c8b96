"""Pieces of FUNCTION without a server: header parsing (ledis/scripting/functions.py), the DUMP
payload (function_payload.py), autoload names, the generated Lua API reference
(ledis/tools/lua_api.py)."""

from __future__ import annotations

import zlib

import pytest

from ledis import rdb
from ledis.errors import LedisError
from ledis.resources import stdlib_names
from ledis.scripting import function_payload as payloads
from ledis.scripting import functions as fn
from ledis.tools import lua_api


@pytest.mark.parametrize("code,name", [
    (b"#!lua name=abc\n", b"abc"), (b"#!LUA NAME=A_1\nx", b"A_1"), (b"#!lua  name=z  \n", b"z"),
])
def test_parse_header_ok(code, name):
    assert fn.parse_header(code) == name


@pytest.mark.parametrize("code,text", [
    (b"lua name=a\n", "ERR Missing library metadata"),
    (b"#!lua name=a", "ERR Invalid library metadata"),
    (b"#!py name=a\n", "ERR Engine 'py' not found"),
    (b"#!lua x=1\n", "ERR Invalid metadata value given: x=1"),
    (b"#!lua name=a name=b\n",
     "ERR Invalid metadata value, name argument was given multiple times"),
    (b"#!lua\n", "ERR Library name was not given"),
    (b"#!lua name=a.b\n", "ERR Library names can only contain letters, numbers, or "
                          "underscores(_) and must be at least one character long"),
])
def test_parse_header_errors(code, text):
    with pytest.raises(LedisError) as info:
        fn.parse_header(code)
    assert info.value.text == text


def test_dump_payload_round_trip_and_damage():
    codes = [b"#!lua name=a\nx", b"", b"#!lua name=b\n" + bytes(range(256))]
    body = payloads.DUMP_MAGIC + bytes((payloads.DUMP_VERSION,))
    for code in codes:
        body += len(code).to_bytes(4, "big") + code
    payload = body + zlib.crc32(body).to_bytes(4, "big")
    assert payloads.parse_ledis_dump(payload) == codes
    bad_version = bytearray(body)
    bad_version[len(payloads.DUMP_MAGIC)] = 2
    bad_version = bytes(bad_version) + zlib.crc32(bytes(bad_version)).to_bytes(4, "big")
    truncated = body[:-3] + zlib.crc32(body[:-3]).to_bytes(4, "big")
    for broken in (payload[:-1], payload[1:], bad_version, truncated, b"", payloads.DUMP_MAGIC):
        with pytest.raises(LedisError, match="DUMP payload version or checksum are wrong"):
            payloads.parse_ledis_dump(broken)


def test_autoload_names():
    assert fn.autoload_names("lock, queue") == ["lock", "queue"]
    assert fn.autoload_names(["lock"]) == ["lock"]
    assert fn.autoload_names("['lock', 'ratelimit']") == ["lock", "ratelimit"]
    assert fn.autoload_names("") == []
    assert fn.autoload_names("all") == stdlib_names()
    assert {"lock", "queue", "ratelimit"} <= set(stdlib_names())


def test_lua_api_reference_lists_every_command():
    from ledis.commands.registry import REGISTRY

    text = lua_api.lua_api_markdown()
    for cmd in REGISTRY.all():
        if cmd.handler is not None:
            assert f"`ledis.{cmd.name}(...)`" in text
        for sub in cmd.subcommands.values():
            parent, name = sub.name.split("|", 1)
            assert f"`ledis.{parent}('{name}', ...)`" in text
    assert "ledis.pcall." in text


def test_committed_lua_api_reference_is_current(tmp_path):
    """docs/lua-api.md is what ``python -m ledis.tools.lua_api --gen-docs`` writes now (run the
    command as documented, from the checkout root, into a temporary file)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "lua-api.md"
    done = subprocess.run([sys.executable, "-m", "ledis.tools.lua_api", "--gen-docs",
                           "--output", str(out)], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == (root / "docs" / "lua-api.md").read_text(
        encoding="utf-8"), "docs/lua-api.md is stale: run python -m ledis.tools.lua_api --gen-docs"


def test_crc64_is_redis_crc64():
    assert rdb.crc64(b"123456789") == 0xE9C6D914C4B8D9CA  # the check value of Redis's crc64.c


@pytest.mark.parametrize("size", [0, 5, 63, 64, 300, 16383, 16384, 70000])
def test_redis_dump_round_trip(size):
    codes = [b"#!lua name=a\n" + b"x" * size, b"#!lua name=b\n"]
    payload = payloads.redis_dump(codes)
    assert payload[-10:-8] == b"\x0a\x00"
    assert payloads.parse_redis_dump(payload) == codes


def test_lzf_strings_decode():
    # "aaaaaaaaaa" as LZF: literal 'a', then a back reference of length 9 at distance 1
    lzf = bytes([0x00, ord("a"), (7 << 5) | 0, 0x00, 0x00])
    assert rdb.lzf_decompress(lzf, 10) == b"a" * 10
    body = b"\xf5\xc3" + bytes((len(lzf), 10)) + lzf + (10).to_bytes(2, "little")
    payload = body + rdb.crc64(body).to_bytes(8, "little")
    assert payloads.parse_redis_dump(payload) == [b"a" * 10]
    with pytest.raises(ValueError):
        rdb.lzf_decompress(lzf, 11)
