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
from typing import TypeVar

from ledis import errors
from ledis.errors import LedisError, error

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1
# b"_" as an int: ``int in bytes`` is one memchr, while ``bytes in bytes`` first tries the
# operand as an int and formats the TypeError it then clears (~150 ns against ~18 ns)
UNDERSCORE = ord("_")
# C's isspace(): what strtod / strtold skip in front and what string2ll refuses. Python's
# int() and float() strip it on both sides, so it is refused before them.
SPACE = b" \t\n\v\f\r"
_SPACE_PLUS = SPACE + b"+"
T = TypeVar("T")


def parse_int(raw: bytes, message: str = errors.NOT_INTEGER) -> int:
    """Parse a signed 64-bit integer the way Redis does (``string2ll``): no spaces, no '+'.
    The common case first: up to 18 ASCII digits (within 64 bits), no leading zero."""
    if raw.isdigit() and len(raw) < 19 and (raw[0] != 0x30 or len(raw) == 1):
        return int(raw)
    if not raw or len(raw) > 20 or raw[0] in _SPACE_PLUS or raw[-1] in SPACE:
        raise LedisError(message)
    if raw[0] == 0x30 and len(raw) > 1:  # leading zero
        raise LedisError(message)
    try:
        value = int(raw)
    except ValueError:
        raise LedisError(message) from None
    if raw[:2] == b"-0" or not (_INT_MIN <= value <= _INT_MAX) or UNDERSCORE in raw:
        raise LedisError(message)
    return value


def parse_positive(raw: bytes) -> int:
    """Redis's ``getPositiveLongFromObjectOrReply`` without a message (LPOP / SPOP /
    ZPOPMIN counts, DEBUG POPULATE): one error for a non-integer and a negative value."""
    value = parse_int(raw, errors.NEGATIVE_COUNT)
    if value < 0:
        raise LedisError(errors.NEGATIVE_COUNT)
    return value


def c_atoi(raw: bytes) -> int:
    """C's ``atoi`` as glibc has it, ``(int) strtol(s, NULL, 10)``: blanks skipped, a sign,
    the leading digits (none: 0), clamped to 64 bits, then cut to C's int (Redis reads
    MIGRATE's port and the numkeys of its getkeys procedures with it)."""
    digits = raw.lstrip(SPACE)
    negative = digits[:1] == b"-"
    if digits[:1] in (b"-", b"+"):
        digits = digits[1:]
    n = 0
    for ch in digits:
        if not 48 <= ch <= 57:
            break
        n = n * 10 + ch - 48
        if n > _INT_MAX + 1:
            break
    return c_int(max(-n, _INT_MIN) if negative else min(n, _INT_MAX))


def c_int(value: int) -> int:
    """A C cast to ``int``: the low 32 bits, signed."""
    return (value + 2**31) % 2**32 - 2**31


def parse_c_int(raw: bytes, message: str | None = None) -> int:
    """Redis's ``getIntFromObjectOrReply``: a 64-bit integer, then within C's int. With a
    ``message``, it is the error of both checks."""
    value = parse_int(raw, message or errors.NOT_INTEGER)
    if not -(2**31) <= value < 2**31:
        if message is not None:
            raise LedisError(message)
        raise error(errors.INT_RANGE, -(2**31), 2**31 - 1)
    return value


def parse_float(raw: bytes, message: str = errors.NOT_FLOAT) -> float:
    """Parse a double the way Redis does (``strtold``: 'inf', '-inf' ok; NaN and spaces not)."""
    if not raw or raw[0] in SPACE or raw[-1] in SPACE or UNDERSCORE in raw:
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

    def word(self) -> bytes:
        """The next argument upper-cased, for option loops whose words carry conditions
        (Redis accepts NX only without XX ...): compare it, then ``take`` the option's value."""
        return self.take().upper()

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

    def take_int_in(self, low: int, high: int, message: str) -> int:
        """Redis's ``getRangeLongFromObjectOrReply``: one ``message`` for a non-integer and for
        a value outside ``low..high`` (a missing value is a syntax error)."""
        value = parse_int(self.take(), message)
        if not low <= value <= high:
            raise LedisError(message)
        return value

    def rest(self) -> list[bytes]:
        values = self.argv[self.pos :]
        self.pos = len(self.argv)
        return values

    def expect_end(self) -> None:
        if self.pos < len(self.argv):
            raise error(errors.SYNTAX)


def parse_scan_cursor(raw: bytes) -> int:
    """A SCAN / HSCAN / SSCAN / ZSCAN cursor as Redis's ``parseScanCursorOrReply`` reads it:
    ``strtoul`` over the whole argument (so "" is 0 and "-1" wraps to 2**64-1), no leading
    space, no overflow."""
    digits = raw[1:] if raw[:1] in (b"+", b"-") else raw
    if digits and not digits.isdigit():
        raise LedisError(errors.INVALID_CURSOR)
    if not digits:
        if raw:  # a lone sign: strtoul parses nothing and stops before it
            raise LedisError(errors.INVALID_CURSOR)
        return 0
    value = int(digits)
    if value >= 2**64:
        raise LedisError(errors.INVALID_CURSOR)
    if raw[:1] == b"-" and value:
        value = 2**64 - value
    return value


def parse_scan_options(
    argv: list[bytes], start: int, with_type: bool = False
) -> tuple[int, bytes | None, bytes | None]:
    """``[MATCH pattern] [COUNT count] [TYPE type]`` of the SCAN family -> (count, pattern,
    type) as Redis's ``scanGenericCommand`` reads them: every option needs its value, a COUNT
    below 1 is a syntax error, TYPE only for SCAN itself (``with_type``)."""
    args = ArgCursor(argv, start)
    count = 10
    pattern = type_name = None
    while args:
        if args.remaining() < 2:
            raise error(errors.SYNTAX)
        if args.eat(b"COUNT"):
            count = args.take_int()
            if count < 1:
                raise error(errors.SYNTAX)
        elif args.eat(b"MATCH"):
            pattern = args.take()
        elif with_type and args.eat(b"TYPE"):
            type_name = args.take().lower()
        else:
            raise error(errors.SYNTAX)
    return count, pattern, type_name


def parse_mpop(argv: list[bytes], numkeys_at: int, sides: dict[bytes, T]) -> tuple[
        list[bytes], T, int]:
    """``numkeys key [key ...] <side> [COUNT count]`` of LMPOP/BLMPOP (sides LEFT|RIGHT) and
    ZMPOP/BZMPOP (MIN|MAX) as Redis 7.0 parses them -> (keys, the side's value, count)."""
    args = ArgCursor(argv, numkeys_at)
    numkeys = args.take_int_in(1, _INT_MAX, errors.NUMKEYS_NOT_POSITIVE)
    where_at = numkeys_at + numkeys + 1
    if where_at >= len(argv):
        raise error(errors.SYNTAX)
    args.pos = where_at
    side = sides.get(args.word())
    if side is None:
        raise error(errors.SYNTAX)
    count = -1
    while args:
        if count == -1 and args.remaining() > 1 and args.eat(b"COUNT"):
            count = args.take_int_in(1, _INT_MAX, errors.COUNT_NOT_POSITIVE)
        else:
            raise error(errors.SYNTAX)
    return argv[numkeys_at + 1 : where_at], side, (1 if count == -1 else count)
