"""Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD(_RO).

Strings hold the bits (``ledis.storage.types.string``); the order of checks follows Redis's
``bitops.c`` wherever it decides which error a client sees, so replies match the reference
server byte for byte.
"""

from __future__ import annotations

from ledis import errors
from ledis.commands.args import ArgCursor, parse_int
from ledis.commands.registry import command
from ledis.commands.strings import max_value_len
from ledis.errors import LedisError, error
from ledis.storage.types import clamp_span, string


def _bit_offset(ctx, raw: bytes, bits: int = 0) -> int:
    """A bit offset argument; with ``bits``, ``#n`` means n * bits (BITFIELD)."""
    if bits and len(raw) > 1 and raw[0] == 0x23:  # '#'
        offset = parse_int(raw[1:], errors.BIT_OFFSET) * bits
    else:
        offset = parse_int(raw, errors.BIT_OFFSET)
    if offset < 0 or (offset >> 3) >= max_value_len(ctx):
        raise error(errors.BIT_OFFSET)
    return offset


@command("setbit", arity=4, flags="write denyoom", keys=(1, 1, 1), group="bitmap",
         summary="Sets or clears the bit at offset in the string value stored at key",
         since="2.2.0", acl="@write @bitmap @slow")
def cmd_setbit(ctx, argv):
    offset = _bit_offset(ctx, argv[2])
    on = parse_int(argv[3], errors.BIT_VALUE)
    if on & ~1:
        raise error(errors.BIT_VALUE)
    db = ctx.db
    old_raw, value, expire = string.load(db, argv[1])
    byte = offset >> 3
    mask = 0x80 >> (offset & 7)
    if value is None:
        value = b""
    if byte < len(value):
        old = value[byte]
        new = (old | mask) if on else (old & ~mask)
        if new != old:  # one copy of the value, not a bytearray round trip
            string.store(db, argv[1], value[:byte] + bytes((new,)) + value[byte + 1:], expire,
                          old_raw)
        return 1 if old & mask else 0
    string.store(db, argv[1], value + bytes(byte - len(value)) + bytes((mask if on else 0,)),
                 expire, old_raw)
    return 0


@command("getbit", arity=3, flags="readonly fast", keys=(1, 1, 1), group="bitmap",
         summary="Returns the bit value at offset in the string value stored at key",
         since="2.2.0", acl="@read @bitmap @fast")
def cmd_getbit(ctx, argv):
    offset = _bit_offset(ctx, argv[2])
    value = string.get(ctx.db, argv[1])
    byte = offset >> 3
    if value is None or byte >= len(value):
        return 0
    return 1 if value[byte] & (0x80 >> (offset & 7)) else 0


def _popcount(data: bytes) -> int:
    return int.from_bytes(data, "big").bit_count()


def _is_bit_unit(arg: bytes) -> bool:
    """BITCOUNT / BITPOS range unit: True for BIT, False for BYTE, syntax error otherwise."""
    unit = arg.upper()
    if unit == b"BIT":
        return True
    if unit != b"BYTE":
        raise error(errors.SYNTAX)
    return False


@command("bitcount", arity=-2, flags="readonly", keys=(1, 1, 1), group="bitmap",
         summary="Count set bits in a string", since="2.6.0", acl="@read @bitmap @slow")
def cmd_bitcount(ctx, argv):
    value = string.get(ctx.db, argv[1])
    if value is None:
        return 0
    argc = len(argv)
    if argc == 2:
        return _popcount(value)
    if argc not in (4, 5):
        raise error(errors.SYNTAX)
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    if start < 0 and end < 0 and start > end:
        return 0
    isbit = argc == 5 and _is_bit_unit(argv[4])
    total = len(value) * 8 if isbit else len(value)
    start, end = clamp_span(start, end, total)
    if start > end:
        return 0
    if not isbit:
        return _popcount(value[start:end + 1])
    # Keep bits start..end of the covering bytes (bit 0 = most significant bit of byte 0).
    chunk = int.from_bytes(value[start >> 3:(end >> 3) + 1], "big") >> (7 - (end & 7))
    return (chunk & ((1 << (end - start + 1)) - 1)).bit_count()


@command("bitpos", arity=-3, flags="readonly", keys=(1, 1, 1), group="bitmap",
         summary="Find first bit set or clear in a string", since="2.8.7",
         acl="@read @bitmap @slow")
def cmd_bitpos(ctx, argv):
    bit = parse_int(argv[2])
    if bit != 0 and bit != 1:
        raise error(errors.BITPOS_BIT)
    value = string.get(ctx.db, argv[1])
    if value is None:
        return -1 if bit else 0
    argc = len(argv)
    strlen = len(value)
    isbit = end_given = False
    if argc == 3:
        start, end = 0, strlen - 1
    elif argc in (4, 5, 6):
        start = parse_int(argv[3])
        if argc == 6:
            isbit = _is_bit_unit(argv[5])
        if argc >= 5:
            end = parse_int(argv[4])
            end_given = True
        else:
            end = strlen - 1
        total = strlen * 8 if isbit else strlen
        start, end = clamp_span(start, end, total)
    else:
        raise error(errors.SYNTAX)
    if start > end:
        return -1
    if isbit:
        first_bit, last_bit = start, end
    else:
        first_bit, last_bit = start * 8, end * 8 + 7
    first_byte = first_bit >> 3
    chunk = value[first_byte:(last_bit >> 3) + 1]
    width = len(chunk) * 8
    number = int.from_bytes(chunk, "big")
    # Bits of the range, most significant first, as an integer of (last - first + 1) bits.
    nbits = last_bit - first_bit + 1
    number = (number >> (width - 1 - (last_bit - first_byte * 8))) & ((1 << nbits) - 1)
    if not bit:
        number ^= (1 << nbits) - 1
    if number:
        return first_bit + nbits - number.bit_length()
    if bit or end_given:
        return -1
    return (end + 1) * 8  # clear bits past the string's end count as found


_BITOPS = {b"AND": "and", b"OR": "or", b"XOR": "xor", b"NOT": "not"}


@command("bitop", arity=-4, flags="write denyoom", keys=(2, -1, 1), group="bitmap",
         summary="Perform bitwise operations between strings", since="2.6.0",
         acl="@write @bitmap @slow")
def cmd_bitop(ctx, argv):
    op = _BITOPS.get(argv[1].upper())
    if op is None:
        raise error(errors.SYNTAX)
    if op == "not" and len(argv) != 4:
        raise error(errors.BITOP_NOT_ONE_KEY)
    db = ctx.db
    sources = [string.get(db, key) or b"" for key in argv[3:]]
    maxlen = max(len(s) for s in sources)
    dest = argv[2]
    if not maxlen:
        db.delete(dest)
        return 0
    if op == "not":
        result = (~int.from_bytes(sources[0], "big")) & ((1 << (8 * maxlen)) - 1)
    else:
        values = [int.from_bytes(s, "big") << (8 * (maxlen - len(s))) for s in sources]
        result = values[0]
        if op == "and":
            for v in values[1:]:
                result &= v
        elif op == "or":
            for v in values[1:]:
                result |= v
        else:
            for v in values[1:]:
                result ^= v
    string.store(db, dest, result.to_bytes(maxlen, "big"), 0, db.raw(dest))
    return maxlen


# BITFIELD ------------------------------------------------------------------------------------
_OP_GET, _OP_SET, _OP_INCRBY = 0, 1, 2
_WRAP, _SAT, _FAIL = 0, 1, 2
_OVERFLOW_TYPES = {b"WRAP": _WRAP, b"SAT": _SAT, b"FAIL": _FAIL}


def _bitfield_type(raw: bytes) -> tuple[bool, int]:
    """``i<bits>`` (1-64) or ``u<bits>`` (1-63), lower case only, as Redis."""
    if raw[:1] == b"i":
        signed = True
    elif raw[:1] == b"u":
        signed = False
    else:
        raise error(errors.BITFIELD_TYPE)
    try:
        bits = parse_int(raw[1:])
    except LedisError:
        raise error(errors.BITFIELD_TYPE) from None
    if bits < 1 or (signed and bits > 64) or (not signed and bits > 63):
        raise error(errors.BITFIELD_TYPE)
    return signed, bits


def _bitfield_read(buf, offset: int, bits: int, signed: bool) -> int:
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    chunk = bytes(buf[first:last + 1])
    nbytes = last - first + 1
    if len(chunk) < nbytes:
        chunk += bytes(nbytes - len(chunk))
    shift = nbytes * 8 - (offset - first * 8) - bits
    value = (int.from_bytes(chunk, "big") >> shift) & ((1 << bits) - 1)
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def _bitfield_write(buf: bytearray, offset: int, bits: int, value: int) -> None:
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    nbytes = last - first + 1
    shift = nbytes * 8 - (offset - first * 8) - bits
    mask = ((1 << bits) - 1) << shift
    current = int.from_bytes(buf[first:last + 1], "big")
    current = (current & ~mask) | ((value << shift) & mask)
    buf[first:last + 1] = current.to_bytes(nbytes, "big")


def _bitfield_limit(value: int, bits: int, signed: bool, owtype: int) -> tuple[int, bool]:
    """Fit the exact result ``value`` in the field: ``(stored value, overflowed)``."""
    if signed:
        low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        low, high = 0, (1 << bits) - 1
    if low <= value <= high:
        return value, False
    if owtype == _SAT:
        return (high if value > high else low), True
    # WRAP (FAIL ignores the value): two's complement truncation to the field width.
    wrapped = value & ((1 << bits) - 1)
    if signed and wrapped >> (bits - 1):
        wrapped -= 1 << bits
    return wrapped, True


def _bitfield(ctx, argv, readonly_command: bool):
    ops = []
    owtype = _WRAP
    readonly = True
    highest = 0
    args = ArgCursor(argv, 2)
    while args:
        remaining = args.remaining() - 1
        sub = args.word()
        if sub == b"GET" and remaining >= 2:
            opcode = _OP_GET
        elif sub == b"SET" and remaining >= 3:
            opcode = _OP_SET
        elif sub == b"INCRBY" and remaining >= 3:
            opcode = _OP_INCRBY
        elif sub == b"OVERFLOW" and remaining >= 1:
            owtype = _OVERFLOW_TYPES.get(args.word(), -1)
            if owtype < 0:
                raise error(errors.BITFIELD_OVERFLOW_TYPE)
            continue
        else:
            raise error(errors.SYNTAX)
        signed, bits = _bitfield_type(args.take())
        offset = _bit_offset(ctx, args.take(), bits)
        argument = 0
        if opcode != _OP_GET:
            readonly = False
            highest = max(highest, offset + bits - 1)
            argument = args.take_int()
        ops.append((opcode, signed, bits, offset, argument, owtype))
    db = ctx.db
    key = argv[1]
    if readonly:
        current = string.get(db, key) or b""
        return [_bitfield_read(current, offset, bits, signed)
                for _, signed, bits, offset, _, _ in ops]
    if readonly_command:
        raise error(errors.BITFIELD_RO_GET_ONLY)
    old_raw, value, expire = string.load(db, key)
    buf = bytearray(value or b"")
    need = (highest >> 3) + 1
    grown = value is None or len(buf) < need
    if len(buf) < need:
        buf.extend(bytes(need - len(buf)))
    replies: list[int | None] = []
    changed = False
    for opcode, signed, bits, offset, argument, ow in ops:
        old = _bitfield_read(buf, offset, bits, signed)
        if opcode == _OP_GET:
            replies.append(old)
            continue
        if opcode == _OP_INCRBY:
            new, overflow = _bitfield_limit(old + argument, bits, signed, ow)
            reply = new
        else:
            # SET: an unsigned field sees the argument as a uint64, as Redis does.
            wanted = argument if signed else argument & 0xFFFFFFFFFFFFFFFF
            new, overflow = _bitfield_limit(wanted, bits, signed, ow)
            reply = old
        if overflow and ow == _FAIL:
            replies.append(None)
            continue
        _bitfield_write(buf, offset, bits, new)
        changed = changed or _bitfield_read(buf, offset, bits, signed) != old
        replies.append(reply)
    if grown or changed:  # else nothing to write: Redis signals no change (no WATCH touch)
        string.store(db, key, bytes(buf), expire, old_raw)
    return replies


@command("bitfield", arity=-2, flags="write denyoom", keys=(1, 1, 1), group="bitmap",
         summary="Perform arbitrary bitfield integer operations on strings", since="3.2.0",
         acl="@write @bitmap @slow")
def cmd_bitfield(ctx, argv):
    return _bitfield(ctx, argv, False)


@command("bitfield_ro", arity=-2, flags="readonly fast", keys=(1, 1, 1), group="bitmap",
         summary="Perform arbitrary bitfield integer operations on strings. Read-only variant "
                 "of BITFIELD", since="6.0.0", acl="@read @bitmap @fast")
def cmd_bitfield_ro(ctx, argv):
    return _bitfield(ctx, argv, True)
