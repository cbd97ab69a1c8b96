"""String commands: GET/SET family, counters, ranges and LCS (Redis 7.0); the bit commands
are in ``ledis.commands.bitmaps``.

Each handler parses its arguments first, then reads and writes through
``ledis.storage.types.string`` (the value lives inline in the key's metadata record).
The order of checks follows Redis's ``t_string.c`` / ``bitops.c`` wherever it decides which
error a client sees (e.g. BITCOUNT answers 0 for a missing key before looking at its range
arguments, GETEX looks the key up before validating the expire time, INCRBYFLOAT checks the
stored value before the increment), so replies match the reference server byte for byte.

GET, SET and INCR are benchmarked against Redis: their common cases avoid ArgCursor and
extra lookups.
"""

from __future__ import annotations

import time
from fractions import Fraction

from ledis import errors
from ledis.commands.args import ArgCursor, parse_int
from ledis.commands.registry import command
from ledis.errors import error
from ledis.replies import OK, Map
from ledis.storage.types import clamp_span, string
from ledis.storage.types.string import format_long_double, parse_long_double, round_long_double

_LLONG_MIN = -(2**63)
_LLONG_MAX = 2**63 - 1
_time = time.time

# SET / GETEX option flags (Redis's OBJ_SET_* / OBJ_* bits).
_NX, _XX, _GET, _KEEPTTL, _PERSIST, _EX, _PX, _EXAT, _PXAT = (1 << i for i in range(9))
_ANY_EXPIRE = _EX | _PX | _EXAT | _PXAT
_EXPIRE_FLAGS = {b"EX": _EX, b"PX": _PX, b"EXAT": _EXAT, b"PXAT": _PXAT}


def max_value_len(ctx) -> int:
    """proto-max-bulk-len; the master link obeys no limit (like Redis's mustObeyClient)."""
    if ctx.is_master_link:
        return 1 << 62
    return ctx.core.config.proto_max_bulk_len


# --- GET / SET family ------------------------------------------------------------------------
def _parse_set_options(argv: list[bytes], start: int, getex: bool) -> tuple[int, bytes | None]:
    """Redis's parseExtendedStringArgumentsOrReply: flags and the raw expire argument.

    Conflicting options are a syntax error; repeating the same one is allowed (the last
    expire value wins)."""
    flags = 0
    expire = None
    args = ArgCursor(argv, start)
    while args:
        opt = args.word()
        expire_flag = _EXPIRE_FLAGS.get(opt, 0)
        if opt == b"NX" and not getex and not flags & _XX:
            flags |= _NX
        elif opt == b"XX" and not getex and not flags & _NX:
            flags |= _XX
        elif opt == b"GET" and not getex:
            flags |= _GET
        elif opt == b"KEEPTTL" and not getex and not flags & (_PERSIST | _ANY_EXPIRE):
            flags |= _KEEPTTL
        elif opt == b"PERSIST" and getex and not flags & (_KEEPTTL | _ANY_EXPIRE):
            flags |= _PERSIST
        elif expire_flag and args and not flags & (_KEEPTTL | _PERSIST
                                                    | _ANY_EXPIRE & ~expire_flag):
            # EX/PX/EXAT/PXAT exclude each other but not themselves
            flags |= expire_flag
            expire = args.take()
        else:
            raise error(errors.SYNTAX)
    return flags, expire


def _expire_ms(raw: bytes, seconds: bool, relative: bool, name: str) -> int:
    """An absolute expire time in ms from an EX/PX/EXAT/PXAT argument (Redis's
    getExpireMillisecondsOrReply, overflow checks included)."""
    value = parse_int(raw)
    if value <= 0 or (seconds and value > _LLONG_MAX // 1000):
        raise error(errors.INVALID_EXPIRE, name)
    if seconds:
        value *= 1000
    if relative:
        value += int(_time() * 1000)
        if value > _LLONG_MAX:
            raise error(errors.INVALID_EXPIRE, name)
    return value


@command("get", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         summary="Get the value of a key", acl="@read @string @fast")
def cmd_get(ctx, argv):
    return string.get(ctx.db, argv[1])


@command("set", arity=-3, flags="write denyoom", keys=(1, 1, 1), group="string",
         summary="Set the string value of a key", acl="@write @string @slow")
def cmd_set(ctx, argv):
    if len(argv) == 3:
        string.set(ctx.db, argv[1], argv[2])
        return OK
    flags, expire_arg = _parse_set_options(argv, 3, False)
    expire = 0
    if expire_arg is not None:
        expire = _expire_ms(expire_arg, bool(flags & (_EX | _EXAT)), bool(flags & (_EX | _PX)),
                            "set")
    db = ctx.db
    key = argv[1]
    old_value = None
    if flags & _GET:
        old_raw, old_value, old_expire = string.load(db, key, True)  # WRONGTYPE first
        found = old_value is not None
    else:
        old_raw = db.raw(key)
        found = db.is_live(old_raw)
        old_expire = string.header(old_raw)[1] if found else 0  # type: ignore[arg-type]
    if (flags & _NX and found) or (flags & _XX and not found):
        return old_value if flags & _GET else None
    if flags & _KEEPTTL:
        expire = old_expire
    # EXAT / PXAT in the past stores an expired key, as Redis 7.0 does (its events are set and
    # expire, then expired when a read or the expiry cycle finds it)
    string.store(db, key, argv[2], expire, old_raw)
    return old_value if flags & _GET else OK


@command("setnx", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Set the value of a key, only if the key does not exist",
         acl="@write @string @fast")
def cmd_setnx(ctx, argv):
    db = ctx.db
    old_raw = db.raw(argv[1])
    if db.is_live(old_raw):
        return 0
    string.store(db, argv[1], argv[2], 0, old_raw)
    return 1


def _set_with_expire(ctx, argv, seconds: bool, name: str):
    expire = _expire_ms(argv[2], seconds, True, name)
    db = ctx.db
    string.store(db, argv[1], argv[3], expire, db.raw(argv[1]))
    return OK


@command("setex", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         summary="Set the value and expiration of a key", since="2.0.0",
         acl="@write @string @slow")
def cmd_setex(ctx, argv):
    return _set_with_expire(ctx, argv, True, "setex")


@command("psetex", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         summary="Set the value and expiration in milliseconds of a key", since="2.6.0",
         acl="@write @string @slow")
def cmd_psetex(ctx, argv):
    return _set_with_expire(ctx, argv, False, "psetex")


@command("getset", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Set the string value of a key and return its old value",
         acl="@write @string @fast")
def cmd_getset(ctx, argv):
    db = ctx.db
    old_raw, old_value, _ = string.load(db, argv[1], True)
    string.store(db, argv[1], argv[2], 0, old_raw)
    return old_value


@command("getdel", arity=2, flags="write fast", keys=(1, 1, 1), group="string",
         summary="Get the value of a key and delete the key", since="6.2.0",
         acl="@write @string @fast")
def cmd_getdel(ctx, argv):
    db = ctx.db
    old_raw, value, _ = string.load(db, argv[1], True)
    if value is not None:
        string.remove(db, argv[1], old_raw)
    return value


@command("getex", arity=-2, flags="write fast", keys=(1, 1, 1), group="string",
         summary="Get the value of a key and optionally set its expiration", since="6.2.0",
         acl="@write @string @fast")
def cmd_getex(ctx, argv):
    flags, expire_arg = _parse_set_options(argv, 2, True)
    db = ctx.db
    key = argv[1]
    old_raw, value, old_expire = string.load(db, key, True)
    if value is None:
        return None
    if expire_arg is not None:
        expire = _expire_ms(expire_arg, bool(flags & (_EX | _EXAT)), bool(flags & (_EX | _PX)),
                            "getex")
        if expire <= _time() * 1000:
            string.remove(db, key, old_raw)
        else:  # written even when unchanged: Redis signals the key and publishes expire
            db.set_expire(key, old_raw, expire)
    elif flags & _PERSIST and old_expire:
        db.set_expire(key, old_raw, 0)
    return value


@command("mget", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="string",
         summary="Get the values of all the given keys", acl="@read @string @fast")
def cmd_mget(ctx, argv):
    lookup = ctx.db.read
    out = []
    for key in argv[1:]:
        raw = lookup(key)
        out.append(raw[9:] if raw is not None and raw[0] == 1 else None)
    return out


def _check_pairs(argv, name: str) -> None:
    if len(argv) % 2 == 0:
        raise error(errors.WRONG_ARITY, name)


@command("mset", arity=-3, flags="write denyoom", keys=(1, -1, 2), group="string",
         summary="Set multiple keys to multiple values", since="1.0.1",
         acl="@write @string @slow")
def cmd_mset(ctx, argv):
    _check_pairs(argv, "mset")
    string.set_many(ctx.db, argv)
    return OK


@command("msetnx", arity=-3, flags="write denyoom", keys=(1, -1, 2), group="string",
         summary="Set multiple keys to multiple values, only if none of the keys exist",
         since="1.0.1", acl="@write @string @slow")
def cmd_msetnx(ctx, argv):
    _check_pairs(argv, "msetnx")
    db = ctx.db
    for i in range(1, len(argv), 2):
        if db.lookup(argv[i]) is not None:
            return 0
    string.set_many(db, argv)
    return 1


# --- counters --------------------------------------------------------------------------------
_incr_plain = string.incr_plain


def _incr(db, key: bytes, delta: int) -> int:
    new = _incr_plain(db, key, delta)
    return _incr_general(db, key, delta) if new is None else new


def _incr_general(db, key: bytes, delta: int) -> int:
    """INCR beyond the fast path: an expired key, a TTL, a non-canonical value, errors."""
    old_raw, value, expire = string.load(db, key)
    current = 0 if value is None else parse_int(value)  # which takes plain digits first
    new = current + delta
    if new > _LLONG_MAX or new < _LLONG_MIN:
        raise error(errors.OVERFLOW)
    string.store(db, key, b"%d" % new, expire, old_raw)
    return new


@command("incr", arity=2, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Increment the integer value of a key by one", acl="@write @string @fast")
def cmd_incr(ctx, argv):
    new = _incr_plain(ctx.db, argv[1], 1)  # _incr inlined: INCR is the hot one
    return _incr_general(ctx.db, argv[1], 1) if new is None else new


@command("decr", arity=2, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Decrement the integer value of a key by one", acl="@write @string @fast")
def cmd_decr(ctx, argv):
    return _incr(ctx.db, argv[1], -1)


@command("incrby", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Increment the integer value of a key by the given amount",
         acl="@write @string @fast")
def cmd_incrby(ctx, argv):
    return _incr(ctx.db, argv[1], parse_int(argv[2]))


@command("decrby", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Decrement the integer value of a key by the given number",
         acl="@write @string @fast")
def cmd_decrby(ctx, argv):
    delta = parse_int(argv[2])
    if delta == _LLONG_MIN:
        raise error(errors.DECREMENT_OVERFLOW)
    return _incr(ctx.db, argv[1], -delta)


@command("incrbyfloat", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Increment the float value of a key by the given amount", since="2.6.0",
         acl="@write @string @fast")
def cmd_incrbyfloat(ctx, argv):
    db = ctx.db
    old_raw, value, expire = string.load(db, argv[1])
    current = Fraction(0) if value is None else parse_long_double(value)
    if current is None:
        raise error(errors.NOT_FLOAT)
    increment = parse_long_double(argv[2])
    if increment is None:
        raise error(errors.NOT_FLOAT)
    total = current + increment
    if isinstance(total, float):  # an infinity was involved: inf or nan
        raise error(errors.INCR_NAN)
    total = round_long_double(total)
    if isinstance(total, float):  # overflowed the long double range
        raise error(errors.INCR_NAN)
    text = format_long_double(total)
    string.store(db, argv[1], text, expire, old_raw)
    return text


# --- ranges ----------------------------------------------------------------------------------
@command("append", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Append a value to a key", since="2.0.0", acl="@write @string @fast")
def cmd_append(ctx, argv):
    db = ctx.db
    old_raw, value, expire = string.load(db, argv[1])
    if value is None:
        new = argv[2]
    else:
        if len(value) + len(argv[2]) > max_value_len(ctx):
            raise error(errors.STRING_TOO_LONG)
        new = value + argv[2]
    string.store(db, argv[1], new, expire, old_raw)
    return len(new)


@command("strlen", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         summary="Get the length of the value stored in a key", since="2.2.0",
         acl="@read @string @fast")
def cmd_strlen(ctx, argv):
    value = string.get(ctx.db, argv[1])
    return 0 if value is None else len(value)


def _getrange(ctx, argv):
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    value = string.get(ctx.db, argv[1])
    if value is None:
        return b""
    n = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    start, end = clamp_span(start, end, n)
    if start > end or n == 0:
        return b""
    return value[start:end + 1]


@command("getrange", arity=4, flags="readonly", keys=(1, 1, 1), group="string",
         summary="Get a substring of the string stored at a key", since="2.4.0",
         acl="@read @string @slow")
def cmd_getrange(ctx, argv):
    return _getrange(ctx, argv)


@command("substr", arity=4, flags="readonly", keys=(1, 1, 1), group="string",
         summary="Get a substring of the string stored at a key", acl="@read @string @slow")
def cmd_substr(ctx, argv):
    return _getrange(ctx, argv)


@command("setrange", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         summary="Overwrite part of a string at key starting at the specified offset",
         since="2.2.0", acl="@write @string @slow")
def cmd_setrange(ctx, argv):
    offset = parse_int(argv[2])
    if offset < 0:
        raise error(errors.OFFSET_RANGE)
    patch = argv[3]
    db = ctx.db
    old_raw, value, expire = string.load(db, argv[1])
    if not patch:
        return 0 if value is None else len(value)
    if offset + len(patch) > max_value_len(ctx):
        raise error(errors.STRING_TOO_LONG)
    value = value or b""
    if offset > len(value):
        value += bytes(offset - len(value))
    new = value[:offset] + patch + value[offset + len(patch):]
    string.store(db, argv[1], new, expire, old_raw)
    return len(new)


# --- LCS -------------------------------------------------------------------------------------
_ONE = 1  # a module global, so always a Python int (see _lcs_columns)


def _lcs_columns(a: bytes, b: bytes, keep: bool) -> list[int]:
    """Bit-parallel LCS (Allison-Dix / Hyyro) over ``a``, one step per byte of ``b``.

    Column ``k`` is a bit vector ``V`` of ``len(a)`` bits such that
    ``LCS(a[:i], b[:k]) = i - popcount(V & (2**i - 1))``: the whole dynamic-programming table
    of Redis's implementation, in ``len(b) + 1`` integers, computed with C-speed big-integer
    operations (``keep=False`` keeps only the last column, for LEN)."""
    masks: dict[int, int] = {}
    for ch in set(a):
        table = bytes(49 if x == ch else 48 for x in range(256))  # "1" where a[i] == ch
        masks[ch] = int(a.translate(table)[::-1], 2)
    # A Python int shifted: compiled by Cython, ``1 << len(a)`` would be a C shift of two C
    # integers (``len`` gives a Py_ssize_t) and wrap past 63 bits.
    full = (_ONE << len(a)) - 1
    v = full
    columns = [v]
    get = masks.get
    for ch in b:
        u = v & get(ch, 0)
        v = ((v + u) | (v - u)) & full
        if keep:
            columns.append(v)
    if not keep:
        columns.append(v)
    return columns


@command("lcs", arity=-3, flags="readonly", keys=(1, 2, 1), group="string",
         summary="Find longest common substring", since="7.0.0", acl="@read @string @slow")
def cmd_lcs(ctx, argv):
    db = ctx.db
    raw_a = db.read(argv[1])
    raw_b = db.read(argv[2])
    if (raw_a is not None and raw_a[0] != 1) or (raw_b is not None and raw_b[0] != 1):
        raise error(errors.LCS_NOT_STRINGS)
    a = raw_a[9:] if raw_a is not None else b""
    b = raw_b[9:] if raw_b is not None else b""
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    args = ArgCursor(argv, 3)
    while args:
        opt = args.word()
        if opt == b"IDX":
            getidx = True
        elif opt == b"LEN":
            getlen = True
        elif opt == b"WITHMATCHLEN":
            withmatchlen = True
        elif opt == b"MINMATCHLEN" and args:
            minmatchlen = max(args.take_int(), 0)
        else:
            raise error(errors.SYNTAX)
    if getidx and getlen:
        raise error(errors.LCS_LEN_AND_IDX)
    # Redis refuses when its (alen+1) x (blen+1) table of uint32 would exceed the limit.
    if (len(a) + 1) * (len(b) + 1) * 4 > max_value_len(ctx):
        raise error(errors.LCS_TOO_BIG)
    alen, blen = len(a), len(b)
    if getlen:
        return alen - _lcs_columns(a, b, False)[-1].bit_count() if alen else 0
    columns = _lcs_columns(a, b, True) if alen else [0] * (blen + 1)

    def lcs(i: int, k: int) -> int:  # Redis's LCS(i, k) table entry
        return i - (columns[k] & ((1 << i) - 1)).bit_count()

    total = lcs(alen, blen)
    idx = total
    result = bytearray(idx)
    matches = []
    # Walk back from the end exactly as Redis does, so ranges come out in its order.
    arange_start, arange_end, brange_start, brange_end = alen, 0, 0, 0
    i, k = alen, blen
    while i > 0 and k > 0:
        emit = False
        if a[i - 1] == b[k - 1]:
            result[idx - 1] = a[i - 1]
            if arange_start == alen:
                arange_start = arange_end = i - 1
                brange_start = brange_end = k - 1
            elif arange_start == i and brange_start == k:
                arange_start -= 1
                brange_start -= 1
            else:
                emit = True
            if arange_start == 0 or brange_start == 0:
                emit = True
            idx -= 1
            i -= 1
            k -= 1
        else:
            if lcs(i - 1, k) > lcs(i, k - 1):
                i -= 1
            else:
                k -= 1
            if arange_start != alen:
                emit = True
        if emit:
            match_len = arange_end - arange_start + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                entry = [[arange_start, arange_end], [brange_start, brange_end]]
                if withmatchlen:
                    entry.append(match_len)
                matches.append(entry)
            arange_start = alen
    if getidx:
        return Map({b"matches": matches, b"len": total})
    return bytes(result)
