"""Byte layout of everything ledis stores. All integers are big-endian.

Column families (index: name):

====  =======  ============================================================  ==================
 id   family   key                                                           value
====  =======  ============================================================  ==================
 0    meta     ``db(1) | user_key``                                          metadata, below
 1    data     ``db(1) | len(key)(4) | key | version(8) | sub``              field value, list
                                                                             element, b"" for
                                                                             set members
 2    zscore   ``db(1) | len(key)(4) | key | version(8) | score(8) | member``  b""
 3    expire   ``db(1) | expire_ms(8) | key``                                b""
 4    log      ``seq(8)``                                                    write-log record
 5    sys      names (``count:<db>``, ``script:<sha>``, ``lib:<name>`` ...)  varies
====  =======  ============================================================  ==================

Metadata value::

    string:      type(1) | expire_ms(8) | payload
    collections: type(1) | expire_ms(8) | version(8) | size(8) | type extras

(streams keep their last ID, entries-added counter and max deleted ID as extras, see
``ledis/storage/types/stream.py``; a sorted set with a rank index has the extras byte 1.)

Sorted sets of 1,024 members or more also keep a rank index (counted blocks and groups of the
score index) in ``zscore`` after their scores, under ``... version(8) | ff ff 00|01 | bound``
(no encoded score starts with ``ff ff``): see ``ledis/storage/types/zset.py``.

``expire_ms`` is an absolute Unix time in milliseconds, 0 for no expiry. Type codes are pinned
(never renumber them; ``FORMAT_VERSION`` in ``sys`` changes if the layout ever does).
"""

from __future__ import annotations

import struct
import time

CF_NAMES = ("meta", "data", "zscore", "expire", "log", "sys")
META, DATA, ZSCORE, EXPIRE, LOG, SYS = range(6)
NUM_CF = len(CF_NAMES)

FORMAT_VERSION = 1

# Pinned type codes.
STRING = 1
HASH = 2
LIST = 3
SET = 4
ZSET = 5
STREAM = 6

TYPE_NAMES = {STRING: b"string", HASH: b"hash", LIST: b"list", SET: b"set", ZSET: b"zset",
              STREAM: b"stream"}

HEADER = struct.Struct(">BQ")  # type, expire_ms
COLLECTION = struct.Struct(">BQQQ")  # type, expire_ms, version, size
U64 = struct.Struct(">Q")
U32 = struct.Struct(">I")

DB_BYTES = [bytes([i]) for i in range(256)]


def meta_key(db: int, key: bytes) -> bytes:
    return DB_BYTES[db] + key


def sub_prefix(db: int, key: bytes, version: int) -> bytes:
    """Prefix of every ``data`` / ``zscore`` sub-key of one version of one key."""
    return DB_BYTES[db] + U32.pack(len(key)) + key + U64.pack(version)


def prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        raise ValueError("prefix has no upper bound")
    return stripped[:-1] + bytes([stripped[-1] + 1])


def expire_key(db: int, expire_ms: int, key: bytes) -> bytes:
    return DB_BYTES[db] + U64.pack(expire_ms) + key


def type_of(raw: bytes) -> int:
    return raw[0]


def expire_of(raw: bytes) -> int:
    return U64.unpack_from(raw, 1)[0]


def with_expire(raw: bytes, expire_ms: int) -> bytes:
    return raw[:1] + U64.pack(expire_ms) + raw[9:]


def now_ms() -> int:
    return int(time.time() * 1000)


class Versions:
    """Strictly increasing versions: ``time_us << 11 | counter``."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        candidate = int(time.time() * 1_000_000) << 11
        self.last = candidate if candidate > self.last else self.last + 1
        return self.last
