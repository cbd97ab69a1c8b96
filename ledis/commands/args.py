"""ArgCursor: parse a command's arguments before touching storage.

Handlers with options read them through a cursor so that a command fails whole, before any
write, when an argument is bad::

    args = ArgCursor(argv, 2)
    while args:
        if args.eat(b"NX"): nx = True
        elif args.eat(b"EX"): ex = args.take_int()
        else: raise error(errors.SYNTAX)
"""

from __future__ import annotations

import math

from ledis import errors
from ledis.errors import LedisError, error

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1


def parse_int(raw: bytes, message: str = errors.NOT_INTEGER) -> int:
    """Parse a signed 64-bit integer the way Redis does (``string2ll``): no spaces, no '+'."""
    if not raw or len(raw) > 20 or raw[0] in b" +\t\r\n" or raw[-1] in b" \t\r\n":
        raise LedisError(message)
    if raw[0] == 0x30 and len(raw) > 1:  # leading zero
        raise LedisError(message)
    try:
        value = int(raw)
    except ValueError:
        raise LedisError(message) from None
    if raw[:2] == b"-0" or not (_INT_MIN <= value <= _INT_MAX) or b"_" in raw:
        raise LedisError(message)
    return value


def parse_float(raw: bytes, message: str = errors.NOT_FLOAT) -> float:
    """Parse a double the way Redis does (``strtold``: 'inf', '-inf' ok; NaN and spaces not)."""
    if not raw or raw[0] in b" \t\r\n" or raw[-1] in b" \t\r\n" or b"_" in raw:
        raise LedisError(message)
    try:
        value = float(raw)
    except ValueError:
        raise LedisError(message) from None
    if math.isnan(value):
        raise LedisError(message)
    return value


class ArgCursor:
    """A read position over ``argv``; every take raises a Redis error when it cannot."""

    __slots__ = ("argv", "pos")

    def __init__(self, argv: list[bytes], start: int = 1) -> None:
        self.argv = argv
        self.pos = start

    def __bool__(self) -> bool:
        return self.pos < len(self.argv)

    def remaining(self) -> int:
        return len(self.argv) - self.pos

    def peek(self) -> bytes | None:
        return self.argv[self.pos] if self.pos < len(self.argv) else None

    def eat(self, word: bytes) -> bool:
        """Consume the next argument if it equals ``word`` (case-insensitive)."""
        if self.pos < len(self.argv) and self.argv[self.pos].upper() == word:
            self.pos += 1
            return True
        return False

    def take(self) -> bytes:
        if self.pos >= len(self.argv):
            raise error(errors.SYNTAX)
        value = self.argv[self.pos]
        self.pos += 1
        return value

    def take_int(self, message: str = errors.NOT_INTEGER) -> int:
        return parse_int(self.take(), message)

    def take_float(self, message: str = errors.NOT_FLOAT) -> float:
        return parse_float(self.take(), message)

    def rest(self) -> list[bytes]:
        values = self.argv[self.pos :]
        self.pos = len(self.argv)
        return values

    def expect_end(self) -> None:
        if self.pos < len(self.argv):
            raise error(errors.SYNTAX)
