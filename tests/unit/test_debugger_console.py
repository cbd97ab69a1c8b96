"""The Lua debugger's console parser (Redis's ldbReplParseCommand rules) and reply encoding."""

from __future__ import annotations

import pytest

from ledis import errors
from ledis.scripting.debugger import encode_lines, parse_command


def test_complete_command_and_rest():
    argv, rest, error = parse_command(b"*2\r\n$1\r\np\r\n$3\r\nabc\r\n*1\r\n$1\r\ns\r\n")
    assert argv == [b"p", b"abc"] and error is None
    assert parse_command(rest) == ([b"s"], b"", None)


@pytest.mark.parametrize("partial", [b"*2", b"*2\r\n", b"*2\r\n$1\r\np\r\n", b"*1\r\n$3\r\nab",
                                     b"*1\r\n$3"])
def test_partial_command_waits_for_more(partial):
    assert parse_command(partial) == (None, partial, None)


@pytest.mark.parametrize("bad", [b"step\r\n", b"*0\r\n", b"*1025\r\n", b"*1\r\n+s\r\n",
                                 b"*1\r\n$0\r\n\r\n", b"*1\r\n$1025\r\n",
                                 b"*1\r\n$1\r\nsX\r\n"])
def test_protocol_errors(bad):
    assert parse_command(bad) == (None, b"", errors.LDB_PROTOCOL)


def test_reply_lines_are_status_lines():
    assert encode_lines([b"a", b"b\r\nc"]) == b"*2\r\n+a\r\n+b  c\r\n"
    assert encode_lines([]) == b"*0\r\n"
