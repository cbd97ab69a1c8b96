"""Byte layout of everything ledis stores. All integers are big-endian.

Column families (index: name):

====  =======  ============================================================  ==================
 id   family   key                                                           value
====  =======  ============================================================  ==================
 0    meta     ``db(1) | user_key``                                          metadata, below
 1    data     ``db(1) | version(8) | sub``                                  field value, list
                                                                             element, b"" for
                                                                             set members
 2    zscore   ``db(1) | version(8) | score(8) | member``                    b""
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
(no encoded score starts with ``ff ff``): see ``ledis/storage/types/zset_rank.py``.

``expire_ms`` is an absolute Unix time in milliseconds, 0 for no expiry. Type codes are pinned
(never renumber them; ``FORMAT_VERSION`` in ``sys`` changes if the layout ever does).

**The version is the collection's id.** Sub-keys are addressed by ``home | version``, not by
the key's name: versions come from one store-wide strictly increasing counter (``Versions``,
its high-water mark persisted in ``sys`` so a restart with a clock that went back cannot
reissue one), so no two collections share one. RENAME within a db therefore moves only the
metadata record (O(1)). COPY re-writes the sub-keys under a fresh version of the target (O(n),
as in Redis).

**Home db (format 3).** A version issued since format 3 has its top bit set (``HOME_FLAG``)
and carries in its low byte the physical db it was created in, its *home*: its sub-keys live
under the home's db byte wherever its metadata goes. So MOVE to another db moves only the
metadata record (O(1)) and writes one ``sys`` entry, ``moved:`` + version(8) = the physical
db byte holding the metadata now (``moved_key``), deleted when the collection goes home or is
dropped. FLUSHDB stays range deletes over the db byte: of its own db byte minus the ranges of
collections moved out (which the registry lists), plus the range of each collection moved
in. A version without the flag (issued by format 2) has its sub-keys under the db byte of
wherever its metadata is; MOVE copies such a collection under a new, flagged version (once).

Format versions (``sys`` ``format``, ``U64``; a store without it is format 1 if it holds any
key, else a new store):

* 1: sub-keys ``db | len(key)(4) | key | version(8) | sub`` (RENAME re-wrote every sub-key);
* 2: sub-keys ``db | version(8) | sub``; a format-1 store is migrated at open
  (``ledis.storage.migrate``);
* 3: versions with ``HOME_FLAG`` name their home db, the ``moved:`` registry in ``sys``. Format
  2's sub-keys are valid format 3 (no flagged version, no registry): opening a format-2 store
  only records format 3, so that an older ledis refuses it rather than misread a moved
  collection.
"""

from __future__ import annotations

import struct
import time

CF_NAMES = ("meta", "data", "zscore", "expire", "log", "sys")
META, DATA, ZSCORE, EXPIRE, LOG, SYS = range(6)
NUM_CF = len(CF_NAMES)

FORMAT_VERSION = 3
FORMAT_KEY = b"format"  # sys: U64 format version of the store's layout
VERSION_FLOOR_KEY = b"version-floor"  # sys: U64, every version issued so far is below it
HOME_FLAG = 1 << 63  # a version whose low byte is its home db (format 3)

# Pinned type codes.
STRING = 1
HASH = 2
LIST = 3
SET = 4
ZSET = 5
STREAM = 6

TYPE_NAMES = {STRING: b"string", HASH: b"hash", LIST: b"list", SET: b"set", ZSET: b"zset",
              STREAM: b"stream"}
ZSET_INDEXED = b"\x01"  # the extras (raw[25:]) of a zset with a rank index (zset_rank.py)

HEADER = struct.Struct(">BQ")  # type, expire_ms
COLLECTION = struct.Struct(">BQQQ")  # type, expire_ms, version, size
# raw[1:9] of a key without expiry: the hot paths test it before unpacking the time
NO_EXPIRE = bytes(8)
U64 = struct.Struct(">Q")
U32 = struct.Struct(">I")

DB_BYTES = [bytes([i]) for i in range(256)]


def meta_key(db: int, key: bytes) -> bytes:
    return DB_BYTES[db] + key


def sub_prefix(db: int, version: int) -> bytes:
    """Prefix of every ``data`` / ``zscore`` sub-key of the collection ``version`` (its id)
    whose metadata is in physical db ``db``. Nine bytes: ``home(1) | version(8)``, the home
    being the version's low byte when it has ``HOME_FLAG``, else ``db``."""
    return DB_BYTES[version & 0xFF if version >= HOME_FLAG else db] + U64.pack(version)


def meta_sub_prefix(db: int, raw: bytes) -> bytes:
    """``sub_prefix`` of a collection from its metadata ``raw`` (version bytes as stored)."""
    return DB_BYTES[raw[16] if raw[9] >= 0x80 else db] + raw[9:17]


def home_of(version: int) -> int | None:
    """The physical db a flagged version was created in (None for a format-2 version)."""
    return version & 0xFF if version >= HOME_FLAG else None


def moved_key(version: int) -> bytes:
    """``sys`` key of the registry entry of a collection living outside its home db."""
    return MOVED_PREFIX + U64.pack(version)


MOVED_PREFIX = b"moved:"
MOVED_END = b"moved;"


SUB_PREFIX_LEN = 9


_SUCCESSOR = [bytes((i + 1,)) for i in range(255)]  # byte i -> byte i + 1


def prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix``."""
    if prefix and prefix[-1] != 0xFF:  # the usual case (a collection's sub-key prefix)
        return prefix[:-1] + _SUCCESSOR[prefix[-1]]
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
    """Strictly increasing versions: ``HOME_FLAG | time_us << 11 | counter << 8 | home``
    (``home``: the physical db the collection is created in, see the module docstring).

    A version is also a collection's id (its sub-key prefix), so it must never be issued twice
    in a store, even across a restart with a clock that went back or a promoted replica on a
    machine whose clock is behind the master's. ``floor`` is persisted in ``sys``
    (``VERSION_FLOOR_KEY``, by ``Store``): every version issued is below it, and a reopened
    store starts above it. It is reserved ``RESERVE`` ahead (one second of versions), so it is
    written about once a second under load, not per version."""

    __slots__ = ("last", "floor")

    RESERVE = 1_000_000 << 11

    def __init__(self) -> None:
        self.last = 0
        self.floor = 0

    def next(self, home: int) -> int:
        candidate = HOME_FLAG | int(time.time() * 1_000_000) << 11 | home
        if candidate <= self.last:
            candidate = ((self.last >> 8) + 1) << 8 | home
        self.last = candidate
        return candidate

    def set_floor(self, floor: int) -> None:
        """The floor stored on disk is ``floor`` (opened, reloaded, replicated): no version
        below it may be issued again. (``last`` goes just below it, so that a floor received
        from a master is not re-saved by a replica that issued nothing.)"""
        self.floor = floor
        if floor - 1 > self.last:
            self.last = floor - 1

    def floor_to_save(self) -> int | None:
        """A new floor to persist when issued versions reached the saved one, else None."""
        if self.last < self.floor:
            return None
        self.floor = self.last + self.RESERVE
        return self.floor
