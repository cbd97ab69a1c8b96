"""Strings: the value lives inline in the metadata record.

Layout (``meta`` family, key ``db | user_key``)::

    type(1)=STRING | expire_ms(8) | payload

So GET is one cached read and SET one write: no version, no sub-keys. Counters, ranges and
bit operations all read the payload, change it in Python and write it back whole (Redis does
the same with its SDS strings; values are capped by ``proto-max-bulk-len``).

The helpers here work on Python values and raise WRONGTYPE through the metadata gate; the
command layer (``ledis.commands.strings``) parses arguments and shapes replies. The number
formats Redis uses for counters live here too: ``INCRBYFLOAT`` computes in x87 80-bit
``long double`` and prints with ``%.17Lf`` (trailing zeros stripped); we reproduce that
exactly with rational arithmetic (:func:`parse_long_double`, :func:`format_long_double`).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from fractions import Fraction

from ledis.storage import layout
from ledis.storage.keyspace import WRONGTYPE, Database
from ledis.storage.layout import HEADER, META, U64

_PREFIX = bytes([layout.STRING])
_NO_EXPIRE = layout.NO_EXPIRE
_PERSISTENT_PREFIX = _PREFIX + _NO_EXPIRE
_time = time.time


def encode(value: bytes, expire_ms: int = 0) -> bytes:
    return _PREFIX + U64.pack(expire_ms) + value


# --- reads -----------------------------------------------------------------------------------
def get(db: Database, key: bytes) -> bytes | None:
    """The value of a live string key; None if missing; WRONGTYPE for other types. A read:
    counted as a keyspace hit or miss (``Database.read``)."""
    raw = db.engine.get(META, db.prefix + key)
    if raw is None:
        db.misses += 1  # Database.missed, inline: GET's path
        if db.on_keymiss is not None:
            db.on_keymiss(db, key)
        return None
    if raw.startswith(_PERSISTENT_PREFIX):  # a string without TTL: the common case
        db.hits += 1
        return raw[9:]
    if raw[1:9] != _NO_EXPIRE and U64.unpack_from(raw, 1)[0] <= _time() * 1000:
        db.missed(key)
        return None
    db.hits += 1
    if raw[0] != 1:  # layout.STRING
        raise WRONGTYPE
    return raw[9:]


def load(db: Database, key: bytes, read: bool = False
         ) -> tuple[bytes | None, bytes | None, int]:
    """``(physical meta, live value or None, expire_ms)`` for a read-modify-write.

    The physical record is what ``db.replace`` / ``db.remove`` need (expired or not);
    WRONGTYPE is raised for a live key of another type. ``read``: counted as a keyspace hit
    or miss, for the writes Redis starts with a read lookup (GETSET, GETDEL, GETEX, SET GET).
    """
    raw = db.engine.get(META, db.prefix + key)
    if raw is None:
        if read:
            db.missed(key)
        return None, None, 0
    expire = 0
    if raw[1:9] != _NO_EXPIRE:
        expire = U64.unpack_from(raw, 1)[0]
        if expire <= _time() * 1000:
            if read:
                db.missed(key)
            return raw, None, 0
    if read:
        db.hits += 1
    if raw[0] != 1:
        raise WRONGTYPE
    return raw, raw[9:], expire


def exists(db: Database, key: bytes) -> bool:
    """True for a live key of any type (NX/XX checks look at every type, like Redis)."""
    return db.lookup(key) is not None


# --- writes ----------------------------------------------------------------------------------
def set(db: Database, key: bytes, value: bytes, expire_ms: int = 0) -> None:
    """Plain SET: replaces whatever the key held (any type), with the given expiry."""
    meta_key = db.prefix + key
    engine = db.engine
    old = engine.get(META, meta_key)
    if not expire_ms:
        if old is None:  # fast path: new key without TTL
            engine.put(META, meta_key, _PERSISTENT_PREFIX + value)
            db.keys += 1
            db.counts_dirty = True
            return
        if old.startswith(_PERSISTENT_PREFIX):  # fast path: overwrite a plain string
            engine.put(META, meta_key, _PERSISTENT_PREFIX + value)
            return
    db.replace(key, _PREFIX + U64.pack(expire_ms) + value, old)


def set_many(db: Database, argv: list[bytes], start: int = 1) -> None:
    """MSET: ``argv[start:]`` is key, value, key, value...; each replaces any type, no TTL.

    The loop of :func:`set` with the lookups hoisted (MSET is benchmarked with 10 keys)."""
    engine = db.engine
    get = engine.get
    put = engine.put
    prefix = db.prefix
    for i in range(start, len(argv), 2):
        key = argv[i]
        meta_key = prefix + key
        old = get(META, meta_key)
        if old is None:
            put(META, meta_key, _PERSISTENT_PREFIX + argv[i + 1])
            db.keys += 1
            db.counts_dirty = True
        elif old.startswith(_PERSISTENT_PREFIX):
            put(META, meta_key, _PERSISTENT_PREFIX + argv[i + 1])
        else:
            db.replace(key, _PERSISTENT_PREFIX + argv[i + 1], old)


# The record INCR wrote last and its value: a hot counter's next INCR finds that very object
# in the cache (bytes are immutable, so identity means the same canonical digits) and skips
# slicing, validating and parsing them.
_last_counter: tuple[object, int] = (object(), 0)  # never a record: no match before the first


def incr_plain(db: Database, key: bytes, delta: int) -> int | None:
    """INCR's fast path: the new value when ``key`` is missing or holds a persistent string
    in canonical decimal form and the sum stays within 64 bits (then it is stored), else None
    and nothing is written (the caller takes the general path: TTL, parsing, errors)."""
    global _last_counter
    meta_key = db.prefix + key
    engine = db.engine
    raw = engine.get(META, meta_key)
    last_raw, new = _last_counter
    if raw is last_raw:
        new += delta
    elif raw is None:  # a new counter (most INCRs of random keys): what SET's new key does
        if not -0x8000000000000000 <= delta <= 0x7FFFFFFFFFFFFFFF:
            return None
        raw = _PERSISTENT_PREFIX + b"%d" % delta
        engine.put(META, meta_key, raw)
        db.keys += 1
        db.counts_dirty = True
        _last_counter = (raw, delta)
        return delta
    else:
        if not raw.startswith(_PERSISTENT_PREFIX):
            return None
        value = raw[9:]
        if not (value.isdigit() and len(value) < 19 and (value[0] != 48 or len(value) == 1)):
            return None
        new = int(value) + delta
    if not -0x8000000000000000 <= new <= 0x7FFFFFFFFFFFFFFF:
        return None
    raw = _PERSISTENT_PREFIX + b"%d" % new
    engine.put(META, meta_key, raw)
    _last_counter = (raw, new)
    return new


def store(db: Database, key: bytes, value: bytes, expire_ms: int, old_raw: bytes | None) -> None:
    """Write ``value`` with ``expire_ms`` over the physical record ``old_raw`` (from load)."""
    if not expire_ms and old_raw is not None and old_raw.startswith(_PERSISTENT_PREFIX):
        db.engine.put(META, db.prefix + key, _PERSISTENT_PREFIX + value)
        return
    db.replace(key, _PREFIX + U64.pack(expire_ms) + value, old_raw)


def set_keep_ttl(db: Database, key: bytes, value: bytes) -> None:
    """SET ... KEEPTTL and in-place updates (APPEND, INCR, SETRANGE): keep a live key's TTL."""
    old = db.engine.get(META, db.prefix + key)
    expire = 0
    if old is not None and db.is_live(old):
        expire = U64.unpack_from(old, 1)[0]
    db.replace(key, _PREFIX + U64.pack(expire) + value, old)


def remove(db: Database, key: bytes, old_raw: bytes | None) -> None:
    """Delete the key whose physical record is ``old_raw`` (no-op when None)."""
    if old_raw is not None:
        db.remove(key, old_raw)


def header(raw: bytes) -> tuple[int, int]:
    """(type, expire_ms) of a raw metadata record."""
    return HEADER.unpack_from(raw)


# --- long double arithmetic (INCRBYFLOAT) --------------------------------------------------
# x87 extended precision: 64-bit significand, exponent range of IEEE binary128's.
_LD_MANT = 64
_LD_MIN_ULP_EXP = -16382 - 63  # subnormals go down to 2**-16445
_LD_MAX_EXP = 16383 - 63  # exponent of the last binade's ulp
_INF = float("inf")

_DEC_RE = re.compile(rb"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\Z")
_HEX_RE = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?\Z")
_INF_RE = re.compile(rb"([+-]?)(?:inf|infinity)\Z", re.IGNORECASE)


def _to_int(digits: bytes) -> int:
    """Decimal digits to int, also past Python's int/str digit limit (values up to 5 KB)."""
    if len(digits) < 4000:
        return int(digits)
    return int(Decimal(digits.decode()))


def round_long_double(exact: Fraction) -> Fraction | float:
    """Round an exact rational to the nearest x87 long double (ties to even); +-inf on overflow.

    Works on the numerator and denominator as plain ints (Fraction operators are slow)."""
    num, den = exact.numerator, exact.denominator
    if not num:
        return exact
    negative = num < 0
    if negative:
        num = -num
    # Choose e so that 2**63 <= num / den / 2**e < 2**64, then clamp for subnormals.
    e = num.bit_length() - den.bit_length() - _LD_MANT
    while True:
        scaled_num = num << -e if e < 0 else num
        scaled_den = den << e if e > 0 else den
        if scaled_num >= scaled_den << _LD_MANT:
            e += 1
        elif scaled_num < scaled_den << (_LD_MANT - 1):
            e -= 1
        else:
            break
    if e < _LD_MIN_ULP_EXP:
        e = _LD_MIN_ULP_EXP
        scaled_num = num << -e
        scaled_den = den
    q, r = divmod(scaled_num, scaled_den)
    twice = 2 * r
    if twice > scaled_den or (twice == scaled_den and q & 1):
        q += 1
    # The largest finite value is (2**64 - 1) * 2**16320: past it, HUGE_VAL.
    if e > _LD_MAX_EXP or (e == _LD_MAX_EXP and q >> _LD_MANT):
        return -_INF if negative else _INF
    if negative:
        q = -q
    return Fraction(q << e) if e >= 0 else Fraction(q, 1 << -e)


def parse_long_double(raw: bytes) -> Fraction | float | None:
    """Redis's ``string2ld``: ``strtold`` over the whole string, no leading space, no NaN,
    no overflow to HUGE_VAL and no underflow to zero. None when not a valid number."""
    if not raw or len(raw) >= 5 * 1024:
        return None
    m = _DEC_RE.match(raw)
    hexadecimal = m is None
    if m is None:
        m = _HEX_RE.match(raw)
        if m is None:
            m = _INF_RE.match(raw)
            if m is None:
                return None
            return -_INF if m.group(1) == b"-" else _INF
    sign, whole, frac, exp = m.groups()
    frac = frac or b""
    if not whole and not frac:
        return None
    digits = (whole + frac).lstrip(b"0")
    if not digits:
        return Fraction(0)
    if exp is not None and len(exp.lstrip(b"+-").lstrip(b"0")) > 9:
        return None  # |exponent| >= 1e9: overflow or underflow to zero, whatever the digits
    if hexadecimal:  # exponent of two, four bits a digit
        power = (int(exp) if exp is not None else 0) - 4 * len(frac)
        bits = len(digits) * 4 + power
        if bits > 16390 or bits < -16460:
            return None  # ERANGE
        mantissa = int(digits, 16)
        value = Fraction(mantissa << power) if power >= 0 else Fraction(mantissa, 1 << -power)
    else:
        power = (int(exp) if exp is not None else 0) - len(frac)
        magnitude = len(digits) + power  # value < 10**magnitude
        if magnitude > 4934:
            return None  # ERANGE: overflow
        if magnitude < -4960:
            return None  # ERANGE: underflow to zero
        mantissa = _to_int(digits)
        value = Fraction(mantissa * 10**power) if power >= 0 else Fraction(mantissa, 10**-power)
    rounded = round_long_double(value)
    if isinstance(rounded, float) or not rounded.numerator:
        return None  # overflow to HUGE_VAL or underflow to zero
    return -rounded if sign == b"-" else rounded


def format_long_double(value: Fraction) -> bytes:
    """``%.17Lf`` with trailing zeros (and a trailing dot) removed; "-0" prints as "0"."""
    num, den = value.numerator, value.denominator
    negative = num < 0
    q, r = divmod((-num if negative else num) * 10**17, den)
    twice = 2 * r
    if twice > den or (twice == den and q & 1):
        q += 1
    whole, frac = divmod(q, 10**17)
    if whole.bit_length() < 13000:
        text = b"%d" % whole
    else:  # past Python's int/str digit limit (4300 digits); Decimal has none
        text = format(Decimal(whole), "f").encode()
    if frac:
        text += (b".%017d" % frac).rstrip(b"0")
    if negative and q:
        text = b"-" + text
    return text
