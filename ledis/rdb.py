"""Redis 7.0's DUMP format: one value as RDB bytes <-> Python values. Pure: no storage, no RESP.

A DUMP payload is ``type(1) | object | rdb_version(2, LE) | crc64(8, LE)``; the CRC (Jones
polynomial, reflected, as Redis's ``crc64.c``) covers everything before it, version included.
RESTORE on Redis 7.0 refuses a version above 10 or a wrong CRC ("payload version or checksum
are wrong") and anything it cannot parse ("Bad data format"): :class:`ChecksumError` and
:class:`FormatError` here, which the command layer (``ledis.commands.serialize``) maps to
those texts.

**Values.** :func:`loads` returns ``(kind, value)``:

=========  ==================================  =============================================
kind       value                               RDB types read
=========  ==================================  =============================================
string     ``bytes``                           STRING (raw, int8/16/32, LZF)
list       ``list[bytes]`` (head first)        LIST, LIST_ZIPLIST, LIST_QUICKLIST (ziplist
                                               nodes), LIST_QUICKLIST_2 (listpack and PLAIN
                                               nodes)
set        ``list[bytes]`` (distinct)          SET, SET_INTSET
zset       ``list[tuple[bytes, float]]``       ZSET, ZSET_2, ZSET_ZIPLIST, ZSET_LISTPACK
hash       ``list[tuple[bytes, bytes]]``       HASH, HASH_ZIPMAP, HASH_ZIPLIST, HASH_LISTPACK
stream     ``dict`` (see "streams" below)      STREAM_LISTPACKS, STREAM_LISTPACKS_2
=========  ==================================  =============================================

:func:`dumps` writes what Redis 7.0 itself loads into the encoding it would pick: strings
exactly as Redis writes them (integers of up to 32 bits int-encoded, strings of more than 20
bytes LZF-compressed when that saves space, see :func:`lzf_compress`), lists as
LIST_QUICKLIST_2 of listpack nodes, sets as SET, sorted sets as ZSET_2 (binary doubles), hashes
as HASH, streams as STREAM_LISTPACKS_2 in nodes of up to 100 entries; Redis converts small
ones to listpack / intset while loading, as it does for its own RDB files.

Duplicates (two equal set members, hash fields or zset members) are refused as "Bad data
format" for every encoding: Redis 7.0 refuses them in its plain encodings and, with
``sanitize-dump-payload yes``, in the compact ones too; without the check a duplicate would
corrupt a stored size.

**Other types plug in by code.** :data:`DECODERS` maps an RDB type byte to a function of a
:class:`Reader` returning ``(kind, value)``; :data:`ENCODERS` maps a kind to a function
returning the type byte and the object bytes. Module types are "Bad data format".
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

from ledis.redis_codecs import (  # noqa: F401  (crc64*, lzf_* are part of this API)
    LZF_MAX_INPUT,
    FormatError,
    crc64,
    crc64_bytewise,
    lzf_compress,
    lzf_decompress,
)

RDB_VERSION = 10  # Redis 7.0

RDB_TYPE_STRING = 0
RDB_TYPE_LIST = 1
RDB_TYPE_SET = 2
RDB_TYPE_ZSET = 3
RDB_TYPE_HASH = 4
RDB_TYPE_ZSET_2 = 5
RDB_TYPE_MODULE = 6
RDB_TYPE_MODULE_2 = 7
RDB_TYPE_HASH_ZIPMAP = 9
RDB_TYPE_LIST_ZIPLIST = 10
RDB_TYPE_SET_INTSET = 11
RDB_TYPE_ZSET_ZIPLIST = 12
RDB_TYPE_HASH_ZIPLIST = 13
RDB_TYPE_LIST_QUICKLIST = 14
RDB_TYPE_STREAM_LISTPACKS = 15
RDB_TYPE_HASH_LISTPACK = 16
RDB_TYPE_ZSET_LISTPACK = 17
RDB_TYPE_LIST_QUICKLIST_2 = 18
RDB_TYPE_STREAM_LISTPACKS_2 = 19

# Length prefixes (rdb.h): two top bits 00 = 6-bit length, 01 = 14-bit, 10 = 32/64-bit
# (0x80 / 0x81 then big-endian), 11 = a specially encoded string, the low bits saying how.
_ENC_INT8, _ENC_INT16, _ENC_INT32, _ENC_LZF = 0, 1, 2, 3
QUICKLIST_NODE_PLAIN, QUICKLIST_NODE_PACKED = 1, 2

# A quicklist node Redis builds with list-max-listpack-size -2 holds at most 8 KB.
_NODE_BYTES = 8192

_DOUBLE = struct.Struct("<d")
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1

Value = Any  # bytes | list[bytes] | list[tuple[bytes, float]] | list[tuple[bytes, bytes]]



class ChecksumError(ValueError):
    """The trailer is wrong: too short, RDB version too new, or CRC mismatch."""


# --- reading ---------------------------------------------------------------------------------
def _int_text(value: int) -> bytes:
    return b"%d" % value


def string_to_int(raw: bytes) -> int | None:
    """Redis's ``string2ll``: the integer when ``raw`` is its canonical decimal form."""
    if not raw or len(raw) > 20:
        return None
    first = raw[0]
    if first > 57 or (first < 48 and first != 45):  # neither a digit nor '-': most strings
        return None
    if raw == b"0":
        return 0
    digits = raw[1:] if raw[0] == 0x2D else raw
    if not digits or not digits.isdigit() or digits[0] == 0x30:
        return None
    value = int(raw)
    return value if _INT_MIN <= value <= _INT_MAX else None


class Reader:
    """A read position over an RDB object; every read raises FormatError past the end."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise FormatError("truncated")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise FormatError("truncated")
        self.pos += 1
        return self.data[self.pos - 1]

    def length_or_encoding(self) -> tuple[int, bool]:
        """``(length, False)`` or ``(encoding, True)`` for a specially encoded string."""
        first = self.byte()
        kind = first >> 6
        if kind == 0:
            return first & 0x3F, False
        if kind == 1:
            return ((first & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return first & 0x3F, True
        if first == 0x80:
            return int.from_bytes(self.take(4), "big"), False
        if first == 0x81:
            return int.from_bytes(self.take(8), "big"), False
        raise FormatError("unknown length encoding")

    def length(self) -> int:
        n, encoded = self.length_or_encoding()
        if encoded:
            raise FormatError("encoded string where a length was expected")
        return n

    def string(self) -> bytes:
        n, encoded = self.length_or_encoding()
        if not encoded:
            return self.take(n)
        if n == _ENC_INT8:
            return _int_text(int.from_bytes(self.take(1), "little", signed=True))
        if n == _ENC_INT16:
            return _int_text(int.from_bytes(self.take(2), "little", signed=True))
        if n == _ENC_INT32:
            return _int_text(int.from_bytes(self.take(4), "little", signed=True))
        if n == _ENC_LZF:
            compressed_len = self.length()
            plain_len = self.length()
            return lzf_decompress(self.take(compressed_len), plain_len)
        raise FormatError("unknown string encoding")

    def binary_double(self) -> float:
        value = _DOUBLE.unpack(self.take(8))[0]
        if math.isnan(value):
            raise FormatError("NaN score")
        return value

    def string_double(self) -> float:
        """The old text double of RDB_TYPE_ZSET: a length byte (253 nan, 254 inf, 255 -inf)."""
        n = self.byte()
        if n == 255:
            return -math.inf
        if n == 254:
            return math.inf
        if n == 253:
            raise FormatError("NaN score")
        return _parse_score(self.take(n))


def _parse_score(raw: bytes) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FormatError("bad score") from None
    if math.isnan(value):
        raise FormatError("NaN score")
    return value


def _distinct(items: list[bytes]) -> list[bytes]:
    if len(set(items)) != len(items):
        raise FormatError("duplicate members")
    return items


def _distinct_pairs(pairs: list[tuple[bytes, Any]]) -> list[tuple[bytes, Any]]:
    if len({p[0] for p in pairs}) != len(pairs):
        raise FormatError("duplicate fields")
    return pairs


def _non_empty(items: list) -> list:
    if not items:
        raise FormatError("empty key")
    return items


# --- listpack and ziplist blobs ---------------------------------------------------------------
def _backlen_size(n: int) -> int:
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def listpack_entries(blob: bytes) -> list[bytes]:
    """Every entry of a listpack, integers as decimal text (Redis's listpack.c layout:
    ``total_bytes(4 LE) | count(2 LE) | entries | 0xFF``, each entry ``encoding+data |
    backlen``)."""
    n = len(blob)
    if n < 7 or int.from_bytes(blob[0:4], "little") != n or blob[-1] != 0xFF:
        raise FormatError("bad listpack header")
    count = int.from_bytes(blob[4:6], "little")
    out: list[bytes] = []
    pos = 6
    end = n - 1
    while pos < end:
        start = pos
        b = blob[pos]
        if b < 0x80:  # 0xxxxxxx: 7-bit unsigned
            out.append(_int_text(b))
            pos += 1
        elif b < 0xC0:  # 10xxxxxx: string of up to 63 bytes
            size = b & 0x3F
            out.append(blob[pos + 1:pos + 1 + size])
            pos += 1 + size
        elif b < 0xE0:  # 110xxxxx yyyyyyyy: 13-bit signed
            if pos + 1 >= end:
                raise FormatError("listpack truncated")
            value = ((b & 0x1F) << 8) | blob[pos + 1]
            out.append(_int_text(value - 8192 if value >= 4096 else value))
            pos += 2
        elif b < 0xF0:  # 1110xxxx yyyyyyyy: string of up to 4095 bytes
            if pos + 1 >= end:
                raise FormatError("listpack truncated")
            size = ((b & 0x0F) << 8) | blob[pos + 1]
            out.append(blob[pos + 2:pos + 2 + size])
            pos += 2 + size
        elif b == 0xF0:  # 32-bit string length
            size = int.from_bytes(blob[pos + 1:pos + 5], "little")
            out.append(blob[pos + 5:pos + 5 + size])
            pos += 5 + size
        elif 0xF1 <= b <= 0xF4:  # int16, int24, int32, int64
            width = (2, 3, 4, 8)[b - 0xF1]
            out.append(_int_text(int.from_bytes(blob[pos + 1:pos + 1 + width], "little",
                                                signed=True)))
            pos += 1 + width
        else:
            raise FormatError("bad listpack entry encoding")
        if pos > end:
            raise FormatError("listpack entry past the end")
        pos += _backlen_size(pos - start)
    if pos != end:
        raise FormatError("listpack entries overrun")
    if count != 65535 and count != len(out):
        raise FormatError("listpack count mismatch")
    return out


_ZIPLIST_INT_SIZES = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}  # encoding byte -> bytes


def ziplist_entries(blob: bytes) -> list[bytes]:
    """Every entry of a ziplist (before Redis 7.0): ``zlbytes(4 LE) | zltail(4 LE) |
    zllen(2 LE) | entries | 0xFF``, each entry ``prevlen(1 or 0xFE+4) | encoding | data``."""
    n = len(blob)
    if n < 11 or int.from_bytes(blob[0:4], "little") != n or blob[-1] != 0xFF:
        raise FormatError("bad ziplist header")
    count = int.from_bytes(blob[8:10], "little")
    out: list[bytes] = []
    pos = 10
    end = n - 1
    while pos < end:
        pos += 5 if blob[pos] == 0xFE else 1  # prevlen
        if pos >= end:
            raise FormatError("ziplist truncated")
        b = blob[pos]
        kind = b >> 6
        if kind == 0:
            size = b & 0x3F
            out.append(blob[pos + 1:pos + 1 + size])
            pos += 1 + size
        elif kind == 1:
            size = ((b & 0x3F) << 8) | blob[pos + 1]
            out.append(blob[pos + 2:pos + 2 + size])
            pos += 2 + size
        elif b == 0x80:
            size = int.from_bytes(blob[pos + 1:pos + 5], "big")
            out.append(blob[pos + 5:pos + 5 + size])
            pos += 5 + size
        elif kind == 2:
            raise FormatError("bad ziplist string encoding")
        elif b in _ZIPLIST_INT_SIZES:  # 16, 32, 64, 24 and 8-bit integers
            size = _ZIPLIST_INT_SIZES[b]
            out.append(_int_text(int.from_bytes(blob[pos + 1:pos + 1 + size], "little",
                                                signed=True)))
            pos += 1 + size
        elif 0xF1 <= b <= 0xFD:  # 1111xxxx: 0..12 inline
            out.append(_int_text((b & 0x0F) - 1))
            pos += 1
        else:
            raise FormatError("bad ziplist entry encoding")
        if pos > end:
            raise FormatError("ziplist entry past the end")
    if pos != end:
        raise FormatError("ziplist entries overrun")
    if count != 65535 and count != len(out):
        raise FormatError("ziplist count mismatch")
    return out


def intset_members(blob: bytes) -> list[bytes]:
    """``encoding(4 LE: 2, 4 or 8) | length(4 LE) | sorted signed integers (LE)``."""
    if len(blob) < 8:
        raise FormatError("bad intset header")
    width = int.from_bytes(blob[0:4], "little")
    count = int.from_bytes(blob[4:8], "little")
    if width not in (2, 4, 8) or len(blob) != 8 + width * count:
        raise FormatError("bad intset header")
    return [_int_text(int.from_bytes(blob[i:i + width], "little", signed=True))
            for i in range(8, len(blob), width)]


def zipmap_pairs(blob: bytes) -> list[tuple[bytes, bytes]]:
    """The pre-2.6 hash encoding: ``count(1) | (len key len free value pad)* | 0xFF``."""
    r = Reader(blob, 1)

    def zm_len() -> int:
        first = r.byte()
        if first < 254:
            return first
        if first == 254:
            return int.from_bytes(r.take(4), "little")
        raise FormatError("zipmap end inside an entry")

    pairs = []
    while True:
        if r.pos >= len(blob):
            raise FormatError("zipmap without end")
        if blob[r.pos] == 0xFF:
            break
        field = r.take(zm_len())
        size = zm_len()
        free = r.byte()
        value = r.take(size)
        r.take(free)
        pairs.append((field, value))
    return pairs


def _pairs(flat: list[bytes]) -> list[tuple[bytes, bytes]]:
    if len(flat) % 2:
        raise FormatError("odd number of entries")
    return list(zip(flat[::2], flat[1::2], strict=True))


def _scored(flat: list[bytes]) -> list[tuple[bytes, float]]:
    return [(member, _parse_score(score)) for member, score in _pairs(flat)]


# --- decoders by RDB type ---------------------------------------------------------------------
Decoder = Callable[[Reader], tuple[str, Value]]


def _read_string(r: Reader) -> tuple[str, Value]:
    return "string", r.string()


def _read_list(r: Reader) -> tuple[str, Value]:
    return "list", _non_empty([r.string() for _ in range(r.length())])


def _read_list_ziplist(r: Reader) -> tuple[str, Value]:
    return "list", _non_empty(ziplist_entries(r.string()))


def _read_quicklist(r: Reader) -> tuple[str, Value]:
    items: list[bytes] = []
    for _ in range(r.length()):
        items += ziplist_entries(r.string())  # an empty node is skipped, as Redis does
    return "list", _non_empty(items)


def _read_quicklist_2(r: Reader) -> tuple[str, Value]:
    items: list[bytes] = []
    for _ in range(r.length()):
        container = r.length()
        if container == QUICKLIST_NODE_PLAIN:
            items.append(r.string())
        elif container == QUICKLIST_NODE_PACKED:
            items += listpack_entries(r.string())
        else:
            raise FormatError("unknown quicklist container")
    return "list", _non_empty(items)


def _read_set(r: Reader) -> tuple[str, Value]:
    return "set", _distinct(_non_empty([r.string() for _ in range(r.length())]))


def _read_set_intset(r: Reader) -> tuple[str, Value]:
    return "set", _distinct(_non_empty(intset_members(r.string())))


def _read_zset(r: Reader) -> tuple[str, Value]:
    n = r.length()
    return "zset", _distinct_pairs(_non_empty([(r.string(), r.string_double())
                                               for _ in range(n)]))


def _read_zset_2(r: Reader) -> tuple[str, Value]:
    n = r.length()
    return "zset", _distinct_pairs(_non_empty([(r.string(), r.binary_double())
                                               for _ in range(n)]))


def _read_zset_ziplist(r: Reader) -> tuple[str, Value]:
    return "zset", _distinct_pairs(_non_empty(_scored(ziplist_entries(r.string()))))


def _read_zset_listpack(r: Reader) -> tuple[str, Value]:
    return "zset", _distinct_pairs(_non_empty(_scored(listpack_entries(r.string()))))


def _read_hash(r: Reader) -> tuple[str, Value]:
    n = r.length()
    return "hash", _distinct_pairs(_non_empty([(r.string(), r.string()) for _ in range(n)]))


def _read_hash_zipmap(r: Reader) -> tuple[str, Value]:
    return "hash", _distinct_pairs(_non_empty(zipmap_pairs(r.string())))


def _read_hash_ziplist(r: Reader) -> tuple[str, Value]:
    return "hash", _distinct_pairs(_non_empty(_pairs(ziplist_entries(r.string()))))


def _read_hash_listpack(r: Reader) -> tuple[str, Value]:
    return "hash", _distinct_pairs(_non_empty(_pairs(listpack_entries(r.string()))))


DECODERS: dict[int, Decoder] = {
    RDB_TYPE_STRING: _read_string,
    RDB_TYPE_LIST: _read_list,
    RDB_TYPE_SET: _read_set,
    RDB_TYPE_ZSET: _read_zset,
    RDB_TYPE_HASH: _read_hash,
    RDB_TYPE_ZSET_2: _read_zset_2,
    RDB_TYPE_HASH_ZIPMAP: _read_hash_zipmap,
    RDB_TYPE_LIST_ZIPLIST: _read_list_ziplist,
    RDB_TYPE_SET_INTSET: _read_set_intset,
    RDB_TYPE_ZSET_ZIPLIST: _read_zset_ziplist,
    RDB_TYPE_HASH_ZIPLIST: _read_hash_ziplist,
    RDB_TYPE_LIST_QUICKLIST: _read_quicklist,
    RDB_TYPE_HASH_LISTPACK: _read_hash_listpack,
    RDB_TYPE_ZSET_LISTPACK: _read_zset_listpack,
    RDB_TYPE_LIST_QUICKLIST_2: _read_quicklist_2,
}


def check(payload: bytes) -> None:
    """Redis's ``verifyDumpPayload``: ChecksumError unless the trailer is right."""
    if len(payload) < 10:
        raise ChecksumError("payload too short")
    version = int.from_bytes(payload[-10:-8], "little")
    if version > RDB_VERSION:
        raise ChecksumError("RDB version too new")
    if crc64(payload[:-8]) != int.from_bytes(payload[-8:], "little"):
        raise ChecksumError("CRC64 mismatch")


def loads(payload: bytes) -> tuple[str, Value]:
    """``(kind, value)`` of a DUMP payload (see the module docstring); ChecksumError for a bad
    trailer, FormatError for anything else wrong."""
    check(payload)
    # Like Redis, read over the whole payload: an object that runs into the trailer is read
    # from the trailer's bytes rather than refused (RESTORE on Redis does the same).
    decoder = DECODERS.get(payload[0])
    if decoder is None:
        raise FormatError(f"unsupported RDB type {payload[0]}")
    try:
        return decoder(Reader(payload, 1))
    except (IndexError, OverflowError, struct.error) as exc:
        raise FormatError(str(exc)) from None


# --- writing ---------------------------------------------------------------------------------
def encode_length(n: int) -> bytes:
    if n < 1 << 6:
        return bytes((n,))
    if n < 1 << 14:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def encode_string(value: bytes, compress: bool = False) -> bytes:
    """Redis's ``rdbSaveRawString``: a canonical integer of up to 32 bits int-encoded, else
    (with ``compress``, for strings of 21 bytes up to :data:`LZF_MAX_INPUT`) LZF when it saves
    more than 4 bytes, else raw."""
    n = len(value)
    if n <= 11:
        number = string_to_int(value)
        if number is not None:
            if -(1 << 7) <= number < 1 << 7:
                return b"\xc0" + number.to_bytes(1, "little", signed=True)
            if -(1 << 15) <= number < 1 << 15:
                return b"\xc1" + number.to_bytes(2, "little", signed=True)
            if -(1 << 31) <= number < 1 << 31:
                return b"\xc2" + number.to_bytes(4, "little", signed=True)
    if compress and 20 < n <= LZF_MAX_INPUT:
        packed = lzf_compress(value, n - 4)
        if packed is not None:
            return b"\xc3" + encode_length(len(packed)) + encode_length(n) + packed
    return encode_length(n) + value


def _listpack_entry(value: bytes) -> bytes:
    """One listpack entry (``lpEncodeGetType`` + ``lpEncodeBacklen``)."""
    n = len(value)
    if n < 64 and (not n or value[0] > 57 or value[0] < 45):  # short text: the common case
        return bytes((0x80 | n,)) + value + bytes((n + 1,))
    number = string_to_int(value)
    if number is not None:
        if 0 <= number <= 127:
            body = bytes((number,))
        elif -4096 <= number <= 4095:
            number &= 0x1FFF
            body = bytes((0xC0 | (number >> 8), number & 0xFF))
        elif -(1 << 15) <= number < 1 << 15:
            body = b"\xf1" + number.to_bytes(2, "little", signed=True)
        elif -(1 << 23) <= number < 1 << 23:
            body = b"\xf2" + number.to_bytes(3, "little", signed=True)
        elif -(1 << 31) <= number < 1 << 31:
            body = b"\xf3" + number.to_bytes(4, "little", signed=True)
        else:
            body = b"\xf4" + number.to_bytes(8, "little", signed=True)
    else:
        if n < 64:
            body = bytes((0x80 | n,)) + value
        elif n < 4096:
            body = bytes((0xE0 | (n >> 8), n & 0xFF)) + value
        else:
            body = b"\xf0" + n.to_bytes(4, "little") + value
    size = len(body)
    if size <= 127:
        return body + bytes((size,))
    if size < 16383:
        return body + bytes((size >> 7, (size & 127) | 128))
    if size < 2097151:
        return body + bytes((size >> 14, ((size >> 7) & 127) | 128, (size & 127) | 128))
    if size < 268435455:
        return body + bytes((size >> 21, ((size >> 14) & 127) | 128,
                             ((size >> 7) & 127) | 128, (size & 127) | 128))
    return body + bytes((size >> 28, ((size >> 21) & 127) | 128, ((size >> 14) & 127) | 128,
                         ((size >> 7) & 127) | 128, (size & 127) | 128))


def listpack(entries: list[bytes]) -> bytes:
    """A listpack blob of already encoded entries."""
    body = b"".join(entries)
    total = 6 + len(body) + 1
    count = len(entries) if len(entries) < 65535 else 65535
    return total.to_bytes(4, "little") + count.to_bytes(2, "little") + body + b"\xff"


def _write_string(value: bytes) -> tuple[int, bytes]:
    return RDB_TYPE_STRING, encode_string(value, compress=True)


def quicklist_nodes(items: list[bytes], fill: int = -2) -> list[bytes]:
    """The listpacks of the quicklist Redis 7.0 builds by pushing ``items`` in order with
    ``list-max-listpack-size`` ``fill`` (``_quicklistNodeAllowInsert``): an element joins the
    last node while the node's bytes plus the element's length plus 8 stay within its limit
    (fill -1 .. -5: 4 to 64 KB; 8 KB beside a count) and, for fill > 0, the node holds fewer
    than ``fill`` entries."""
    limit = 4096 << (min(-fill, 5) - 1) if fill < 0 else _NODE_BYTES
    nodes: list[bytes] = []
    entries: list[bytes] = []
    size = 7  # the listpack header and end byte
    for item in items:
        entry = _listpack_entry(item)
        if entries and (size + len(item) + 8 > limit or 0 < fill <= len(entries)):
            nodes.append(listpack(entries))
            entries, size = [], 7
        entries.append(entry)
        size += len(entry)
    if entries:
        nodes.append(listpack(entries))
    return nodes


def _write_list(items: list[bytes]) -> tuple[int, bytes]:
    """LIST_QUICKLIST_2 of the default ``list-max-listpack-size -2`` nodes, each saved as
    Redis's ``rdbSaveRawString`` does (LZF-compressed when that saves space)."""
    nodes = quicklist_nodes(items)
    out = [encode_length(len(nodes))]
    for node in nodes:
        out.append(encode_length(QUICKLIST_NODE_PACKED))
        out.append(encode_string(node, compress=True))
    return RDB_TYPE_LIST_QUICKLIST_2, b"".join(out)


def _write_set(members: list[bytes]) -> tuple[int, bytes]:
    return RDB_TYPE_SET, encode_length(len(members)) + b"".join(map(encode_string, members))


def _write_zset(pairs: list[tuple[bytes, float]]) -> tuple[int, bytes]:
    pack = _DOUBLE.pack
    return RDB_TYPE_ZSET_2, encode_length(len(pairs)) + b"".join(
        encode_string(member) + pack(score) for member, score in pairs)


def _write_hash(pairs: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    return RDB_TYPE_HASH, encode_length(len(pairs)) + b"".join(
        encode_string(field) + encode_string(value) for field, value in pairs)


ENCODERS: dict[str, Callable[[Value], tuple[int, bytes]]] = {
    "string": _write_string,
    "list": _write_list,
    "set": _write_set,
    "zset": _write_zset,
    "hash": _write_hash,
}


def seal(body: bytes) -> bytes:
    """Append the RDB version and the CRC64 trailer to ``type | object``."""
    body += RDB_VERSION.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


def dumps(kind: str, value: Value) -> bytes:
    """The DUMP payload of one value (``kind`` as returned by :func:`loads`)."""
    type_code, obj = ENCODERS[kind](value)
    return seal(bytes((type_code,)) + obj)


# The stream codec (ledis/rdb_stream.py) is built from this module's pieces, so it is imported
# last and plugs into the tables like any other type would.
from ledis import rdb_stream  # noqa: E402  (a cycle by design: it imports this module)

DECODERS[RDB_TYPE_STREAM_LISTPACKS] = rdb_stream.read_stream
DECODERS[RDB_TYPE_STREAM_LISTPACKS_2] = rdb_stream.read_stream_2
ENCODERS["stream"] = rdb_stream.write_stream
