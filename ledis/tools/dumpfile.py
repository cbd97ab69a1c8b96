"""The ledis dump file: a versioned, checksummed, compressed stream of msgpack records.

Layout (all integers big-endian)::

    header   MAGIC(8) = b"LEDISDMP" | format(1) | codec(1) | info_len(4) | msgpack(info map)
    frame*   payload_len(4) | crc32(payload)(4) | records(4) | payload
    end      0(4) | total_records(8) | total_keys(8)

``payload`` is a run of msgpack-packed records, compressed with ``codec`` (0 = none,
1 = zlib; zstd/lz4 are not dependencies of ledis, zlib is in the standard library). Every
frame carries the CRC-32 of its compressed bytes, so a flipped bit or a truncated file is
reported with the frame's offset instead of loading garbage; a file without the end marker is
refused as truncated. Frames hold about ``FRAME_BYTES`` of records so memory stays bounded
whatever the dump size.

Records (msgpack arrays; keys, fields and members are raw bytes)::

    [KEY, db, key, type, expire_ms, value]   start of a key; expire_ms absolute Unix ms, 0 = none
    [MORE, value]                            more elements of the key started last (big
                                             collections are cut in chunks of CHUNK elements)
    [SYS, name, value]                       a ``sys`` record: ``script:<sha>`` (EVAL script
                                             cache) or ``lib:<name>`` (FUNCTION library)

``type`` is "string" | "hash" | "list" | "set" | "zset" | "stream"; ``value`` is bytes for a
string, a flat list ``[field, value, ...]`` for a hash, ``[element, ...]`` for a list or set,
``[member, score(float), ...]`` for a sorted set, and for a stream a map: ``{"entries":
[[ms, seq, [field, value, ...]], ...]}`` in its KEY and MORE records, then one last
``{"tail": [last_ms, last_seq, entries_added, max_deleted_ms, max_deleted_seq, groups]}``
(``ledis.tools.dump.stream_records``).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import IO, Any

import msgpack

MAGIC = b"LEDISDMP"
FORMAT = 1
CODECS = {"none": 0, "zlib": 1}
FRAME_BYTES = 1 << 20
CHUNK = 1000

KEY, MORE, SYS = 0, 1, 2
TYPES = ("string", "hash", "list", "set", "zset", "stream")

_HEAD = struct.Struct(">8sBBI")
_FRAME = struct.Struct(">III")
_END = struct.Struct(">QQ")


class DumpError(ValueError):
    """A dump file that cannot be read (bad magic, version, checksum, truncation)."""


class DumpWriter:
    def __init__(self, fh: IO[bytes], info: dict, codec: str = "zlib", level: int = 6) -> None:
        if codec not in CODECS:
            raise ValueError(f"unknown codec {codec!r} (one of {', '.join(CODECS)})")
        self.fh = fh
        self.codec = CODECS[codec]
        self.level = level
        self.packer = msgpack.Packer(use_bin_type=True)
        self.buffer: list[bytes] = []
        self.buffered = 0
        self.records = 0
        self.frame_records = 0
        self.keys = 0
        self.bytes_written = 0
        body = msgpack.packb(info, use_bin_type=True)
        self._write(_HEAD.pack(MAGIC, FORMAT, self.codec, len(body)) + body)

    def _write(self, data: bytes) -> None:
        self.fh.write(data)
        self.bytes_written += len(data)

    def write(self, record: list) -> int:
        """Add one record; returns its packed size (uncompressed)."""
        packed = self.packer.pack(record)
        self.buffer.append(packed)
        self.buffered += len(packed)
        self.records += 1
        self.frame_records += 1
        if record[0] == KEY:
            self.keys += 1
        if self.buffered >= FRAME_BYTES:
            self.flush()
        return len(packed)

    def flush(self) -> None:
        if not self.buffer:
            return
        payload = b"".join(self.buffer)
        if self.codec == 1:
            payload = zlib.compress(payload, self.level)
        self._write(_FRAME.pack(len(payload), zlib.crc32(payload), self.frame_records) + payload)
        self.buffer = []
        self.buffered = 0
        self.frame_records = 0

    def close(self) -> None:
        self.flush()
        self._write(b"\0\0\0\0" + _END.pack(self.records, self.keys))
        self.fh.flush()


class DumpReader:
    """Iterate the records of a dump file, checking every frame."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        head = fh.read(_HEAD.size)
        if len(head) < _HEAD.size or head[:8] != MAGIC:
            raise DumpError("not a ledis dump file (bad magic)")
        _magic, fmt, codec, info_len = _HEAD.unpack(head)
        if fmt > FORMAT:
            raise DumpError(f"dump format {fmt} is newer than this ledis reads ({FORMAT})")
        if codec not in CODECS.values():
            raise DumpError(f"unknown compression codec {codec}")
        self.codec = codec
        body = fh.read(info_len)
        if len(body) < info_len:
            raise DumpError("truncated dump file (header)")
        self.info: dict = msgpack.unpackb(body, raw=False)
        self.total_records: int | None = None
        self.total_keys: int | None = None
        self.bytes_read = _HEAD.size + info_len

    def __iter__(self) -> Iterator[list]:
        fh = self.fh
        seen = 0
        while True:
            offset = self.bytes_read
            head = fh.read(4)
            if len(head) < 4:
                raise DumpError(f"truncated dump file: no end marker (at byte {offset})")
            if head == b"\0\0\0\0":
                tail = fh.read(_END.size)
                if len(tail) < _END.size:
                    raise DumpError("truncated dump file (end marker)")
                self.total_records, self.total_keys = _END.unpack(tail)
                self.bytes_read += 4 + _END.size
                if self.total_records != seen:
                    raise DumpError(
                        f"dump file says {self.total_records} records, read {seen}")
                return
            rest = fh.read(8)
            if len(rest) < 8:
                raise DumpError(f"truncated dump file (frame header at byte {offset})")
            length, crc, count = _FRAME.unpack(head + rest)
            payload = fh.read(length)
            self.bytes_read += _FRAME.size + len(payload)
            if len(payload) < length:
                raise DumpError(f"truncated dump file (frame at byte {offset})")
            if zlib.crc32(payload) != crc:
                raise DumpError(f"checksum mismatch in the frame at byte {offset}")
            if self.codec == 1:
                payload = zlib.decompress(payload)
            unpacker = msgpack.Unpacker(raw=True, use_list=True, strict_map_key=False)
            unpacker.feed(payload)
            n = 0
            for record in unpacker:
                n += 1
                yield _fix_type(record)
            if n != count:
                raise DumpError(f"frame at byte {offset} holds {n} records, expected {count}")
            seen += n


def _fix_type(record: list) -> list:
    # raw=True keeps keys/values as bytes; the type name is text.
    if record[0] == KEY:
        record[3] = record[3].decode() if isinstance(record[3], bytes) else record[3]
    return record


def read_info(path: str) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return DumpReader(fh).info
