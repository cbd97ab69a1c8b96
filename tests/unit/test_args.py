"""Integer arguments parsed as Redis's ``string2ll`` does: ``parse_int`` (with its fast path
for plain digits, session 16) against an independent model, on arbitrary bytes."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledis.commands.args import parse_int
from ledis.errors import LedisError

# string2ll: an optional '-', then 0 alone or digits without a leading zero, within 64 bits
# ("-0" is refused); nothing else (no spaces, '+', '_', non-ASCII digits).
_SHAPE = re.compile(rb"-?(0|[1-9][0-9]*)\Z")


def _model(raw: bytes) -> int | None:
    if not _SHAPE.match(raw) or raw == b"-0":
        return None
    value = int(raw)
    return value if -(2**63) <= value < 2**63 else None


def _parsed(raw: bytes) -> int | None:
    try:
        return parse_int(raw)
    except LedisError as exc:
        assert exc.text == "ERR value is not an integer or out of range"
        return None


@settings(max_examples=2000, deadline=None)
@given(st.one_of(
    st.binary(max_size=22),
    st.text(alphabet="0123456789-+ _\t\n\u0661", max_size=22).map(lambda s: s.encode()),
    st.integers(min_value=-(2**64), max_value=2**64).map(lambda n: b"%d" % n),
))
@example(b"9223372036854775807")
@example(b"9223372036854775808")
@example(b"-9223372036854775808")
@example(b"-9223372036854775809")
@example(b"999999999999999999")  # 18 digits: the fast path's longest
@example(b"0999999999999999999")
@example(b"00")
@example(b"-0")
@example(b"")
def test_parse_int_matches_string2ll(raw):
    assert _parsed(raw) == _model(raw)


@pytest.mark.parametrize("raw", [b"1_0", b"+1", b" 1", b"1 ", "\u0661".encode(), b"0x1"])
def test_parse_int_refuses_what_python_would_take(raw):
    assert _parsed(raw) is None
