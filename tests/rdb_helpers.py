"""Builders for old RDB encodings that Redis 7.0 no longer writes (ziplist, zipmap, text
doubles), straight from their specification in Redis's ziplist.c / zipmap.c / rdb.c. The DUMP
tests use them to make payloads for both ledis and a real redis-server (which still loads
them), so the decoders are checked against Redis rather than against themselves."""

from __future__ import annotations

import struct

from ledis import rdb


def ziplist_int_encoding(value: int) -> bytes:
    """The encoding byte(s) + data Redis's zipTryEncoding picks for an integer."""
    if 0 <= value <= 12:
        return bytes((0xF1 + value,))
    if -128 <= value <= 127:
        return b"\xfe" + value.to_bytes(1, "little", signed=True)
    if -(1 << 15) <= value < 1 << 15:
        return b"\xc0" + value.to_bytes(2, "little", signed=True)
    if -(1 << 23) <= value < 1 << 23:
        return b"\xf0" + value.to_bytes(3, "little", signed=True)
    if -(1 << 31) <= value < 1 << 31:
        return b"\xd0" + value.to_bytes(4, "little", signed=True)
    return b"\xe0" + value.to_bytes(8, "little", signed=True)


def ziplist(items: list[bytes | int]) -> bytes:
    """A ziplist blob: integers use the integer encodings, bytes the string ones."""
    entries = []
    prev = 0
    for item in items:
        prevlen = bytes((prev,)) if prev < 254 else b"\xfe" + prev.to_bytes(4, "little")
        if isinstance(item, int):
            body = ziplist_int_encoding(item)
        elif len(item) < 64:
            body = bytes((len(item),)) + item
        elif len(item) < 16384:
            body = bytes((0x40 | (len(item) >> 8), len(item) & 0xFF)) + item
        else:
            body = b"\x80" + len(item).to_bytes(4, "big") + item
        entry = prevlen + body
        entries.append(entry)
        prev = len(entry)
    body = b"".join(entries)
    total = 10 + len(body) + 1
    tail = 10 + len(body) - (len(entries[-1]) if entries else 0)
    return (total.to_bytes(4, "little") + tail.to_bytes(4, "little")
            + min(len(entries), 65535).to_bytes(2, "little") + body + b"\xff")


def zipmap(pairs: list[tuple[bytes, bytes]]) -> bytes:
    out = [bytes((min(len(pairs), 254),))]
    for field, value in pairs:
        out.append(bytes((len(field),)) + field + bytes((len(value),)) + b"\x00" + value)
    return b"".join(out) + b"\xff"


def text_double(value: float) -> bytes:
    """rdbSaveDoubleValue (the old RDB_TYPE_ZSET score)."""
    if value == float("inf"):
        return b"\xfe"
    if value == float("-inf"):
        return b"\xff"
    text = b"%.17g" % value
    return bytes((len(text),)) + text


def payload(type_code: int, obj: bytes) -> bytes:
    return rdb.seal(bytes((type_code,)) + obj)


def string_obj(value: bytes) -> bytes:
    return rdb.encode_string(value)


def old_list(items: list[bytes]) -> bytes:
    return payload(rdb.RDB_TYPE_LIST, rdb.encode_length(len(items))
                   + b"".join(map(string_obj, items)))


def old_zset(pairs: list[tuple[bytes, float]]) -> bytes:
    return payload(rdb.RDB_TYPE_ZSET, rdb.encode_length(len(pairs))
                   + b"".join(string_obj(m) + text_double(s) for m, s in pairs))


def binary_double(value: float) -> bytes:
    return struct.pack("<d", value)
