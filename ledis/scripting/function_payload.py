"""FUNCTION DUMP / RESTORE payloads (``Functions.dump`` / ``Functions.restore``).

Two formats, both lists of library codes:

* **Redis 7.0's** (what FUNCTION DUMP writes): for each library the RDB opcode FUNCTION2
  (0xF5) and the code as an RDB string (plain or LZF-compressed), then the RDB version (2 bytes
  LE) and the CRC64 (Jones, reflected, as crc64.c) of everything before it (8 bytes LE). ledis
  writes it with uncompressed strings, so its dumps restore on Redis and Redis's on ledis.
* **ledis's first** (read only): ``LEDISFN`` | version | ``len(4 BE) | code``... | CRC32.

Damage is ``FUNCTION_DUMP_BAD``; a bad entry, ``FUNCTION_RESTORE_*`` when it is reached.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

from ledis import errors
from ledis.errors import LedisError
from ledis.rdb import crc64, encode_length, lzf_decompress

DUMP_MAGIC = b"LEDISFN"
DUMP_VERSION = 1
_U32 = struct.Struct(">I")
RDB_OPCODE_FUNCTION2 = 0xF5
RDB_VERSION = 10  # Redis 7.0


def parse_ledis_dump(payload: bytes) -> list[bytes]:
    """Library codes of a payload in ledis's first format."""
    bad = LedisError(errors.FUNCTION_DUMP_BAD)
    head = len(DUMP_MAGIC) + 1
    if len(payload) < head + 4 or not payload.startswith(DUMP_MAGIC):
        raise bad
    if payload[len(DUMP_MAGIC)] != DUMP_VERSION:
        raise bad
    body, crc = payload[:-4], payload[-4:]
    if _U32.pack(zlib.crc32(body)) != crc:
        raise bad
    codes = []
    pos = head
    while pos < len(body):
        if pos + 4 > len(body):
            raise bad
        (n,) = _U32.unpack_from(body, pos)
        pos += 4
        if pos + n > len(body):
            raise bad
        codes.append(body[pos:pos + n])
        pos += n
    return codes


def redis_dump(codes: list[bytes]) -> bytes:
    """A FUNCTION DUMP payload in Redis 7.0's format."""
    body = b"".join(bytes((RDB_OPCODE_FUNCTION2,)) + encode_length(len(c)) + c for c in codes)
    body += RDB_VERSION.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


def parse_redis_dump(payload: bytes) -> list[bytes]:
    """Library codes of a Redis 7 FUNCTION DUMP payload (FUNCTION_DUMP_BAD when damaged)."""
    return list(iter_redis_dump(payload))


def iter_redis_dump(payload: bytes) -> Iterator[bytes]:
    """Like :func:`parse_redis_dump`, one library at a time: the checksum is checked first,
    a malformed entry raises when reached (Redis loads each library before reading the next,
    so an earlier library's error wins)."""
    bad = LedisError(errors.FUNCTION_DUMP_BAD)
    if len(payload) < 10:
        raise bad
    body, footer = payload[:-10], payload[-10:]
    version = int.from_bytes(footer[:2], "little")
    if version > RDB_VERSION or crc64(payload[:-8]) != int.from_bytes(footer[2:], "little"):
        raise bad
    broken = LedisError(errors.FUNCTION_RESTORE_LOAD)
    pos = 0

    def length() -> tuple[int, bool]:
        nonlocal pos
        first = body[pos]
        kind = first >> 6
        pos += 1
        if kind == 0:
            return first & 0x3F, False
        if kind == 1:
            pos += 1
            return ((first & 0x3F) << 8) | body[pos - 1], False
        if kind == 3:
            return first & 0x3F, True  # an encoded string
        size = 4 if first == 0x80 else 8
        pos += size
        return int.from_bytes(body[pos - size:pos], "big"), False

    while pos < len(body):
        try:
            if body[pos] != RDB_OPCODE_FUNCTION2:
                raise LedisError(errors.FUNCTION_RESTORE_NOT_FUNCTION)
            pos += 1
            n, encoded = length()
            if not encoded:
                code = body[pos:pos + n]
                if len(code) != n:
                    raise broken
                pos += n
            elif n == 3:  # LZF
                clen, _ = length()
                ulen, _ = length()
                code = lzf_decompress(body[pos:pos + clen], ulen)
                pos += clen
            else:
                raise broken
        except (IndexError, ValueError):
            raise broken from None
        yield code
