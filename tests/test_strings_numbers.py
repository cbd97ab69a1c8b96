"""INCRBYFLOAT's number model without a server: x87 long double parsing (strtold), rounding
and ``%.17Lf`` printing, checked against replies read off redis-server 7.0.15 (x86-64)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ledis.storage.types.string import (
    format_long_double,
    parse_long_double,
    round_long_double,
)


def incr(current: bytes, increment: bytes) -> bytes | None:
    a, b = parse_long_double(current), parse_long_double(increment)
    if a is None or b is None:
        return None
    total = a + b
    if isinstance(total, float):
        return b"inf/nan"
    total = round_long_double(total)
    return b"inf/nan" if isinstance(total, float) else format_long_double(total)


@pytest.mark.parametrize("current, increment, expected", [
    (b"10.5", b"0.1", b"10.6"),
    (b"3.0e3", b"0", b"3000"),
    (b"1", b"1e-20", b"1"),
    (b"0", b"1e-4940", b"0"),  # a subnormal long double: valid, prints as 0
    (b"0", b"0.000000000000000015", b"0.00000000000000002"),
    (b"0", b"18446744073709551617", b"18446744073709551616"),  # 64-bit significand
    (b"0", b"9007199254740993", b"9007199254740993"),  # beyond a double's 53 bits
    (b"0", b"0x.8", b"0.5"),
    (b"0", b"0X1P1", b"2"),
    (b"0", b"-1e-30", b"0"),  # "-0" is printed as "0"
    (b"0", b"-0.1", b"-0.1"),
    (b"0", b"inf", b"inf/nan"),
    (b"1.18973149535723176502e4932", b"1e4932", b"inf/nan"),  # overflows the range
])
def test_incrbyfloat_arithmetic(current, increment, expected):
    assert incr(current, increment) == expected


@pytest.mark.parametrize("text", [
    b"", b" 1", b"1 ", b"nan", b"NaN", b"1e", b".", b"-", b"0x", b"1_0", b"1e5000",
    b"1e-4960", b"0x1p-16446", b"0x1p16384", b"1.2e4932", b"1\x00", b"1" * 5120,
])
def test_strtold_rejects(text):
    assert parse_long_double(text) is None


def test_huge_values_print_every_digit():
    largest = parse_long_double(b"0x1p16383")
    text = format_long_double(largest)
    assert len(text) == 4932 and text.startswith(b"59486574767861588254287966331400356538172")
    assert parse_long_double(text) == largest  # and parse back, past Python's digit limit


def test_rounding_is_to_nearest_even():
    one = Fraction(1)
    ulp = Fraction(1, 2**63)  # spacing of long doubles in [1, 2)
    assert round_long_double(one + ulp / 2) == one  # tie: to even
    assert round_long_double(one + ulp + ulp / 2) == one + 2 * ulp  # tie: to even
    assert round_long_double(one + ulp / 2 + Fraction(1, 2**80)) == one + ulp
