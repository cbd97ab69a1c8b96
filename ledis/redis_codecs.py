"""Redis's CRC64 (Jones, reflected: ``crc64.c``) and LZF (liblzf 3.6 as built into Redis),
the two byte-level codecs of its RDB format: the DUMP / RESTORE trailer and FUNCTION DUMP use
the checksum, RDB strings the compression. Pure functions, bytes in and out; :mod:`ledis.rdb`
re-exports them.
"""

from __future__ import annotations

import struct


class FormatError(ValueError):
    """The payload cannot be parsed, holds an unknown type, an empty or duplicate value."""


# --- CRC64 (Jones, reflected; Redis's crc64.c) ----------------------------------------------
_CRC64_POLY = 0x95AC9329AC4BC9B5  # 0xad93d23594c935a9 bit-reflected
_CRC64_TABLE: list[int] = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _CRC64_POLY if _c & 1 else _c >> 1
    _CRC64_TABLE.append(_c)


def crc64_bytewise(data: bytes, crc: int = 0) -> int:
    """The textbook loop, one table lookup a byte (~0.8 s a megabyte in CPython)."""
    table = _CRC64_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


# crc64 of long inputs, ~10x faster than the loop. The CRC is linear, so the input is cut into
# blocks of _BLOCK bytes whose CRCs (from 0) are computed side by side, one byte column at a
# time: each of the CRC's 8 byte lanes is a big integer holding that lane for every block,
# and a table lookup for all blocks at once is ``bytes.translate`` (C speed). The block CRCs
# are then chained: crc(A || B) = shift(crc(A)) ^ crc(B), where shift (the effect of _BLOCK
# zero bytes, a linear map) is applied with 8 tables of 256, built once from its 64 basis
# vectors. About 70 ms a megabyte.
_BLOCK = 256
_LANE_TABLES = [bytes((_CRC64_TABLE[i] >> (8 * k)) & 0xFF for i in range(256)) for k in range(8)]
_shift_tables: list[list[int]] = []


def _block_shift_tables() -> list[list[int]]:
    if not _shift_tables:
        zeros = bytes(_BLOCK)
        basis = [crc64_bytewise(zeros, 1 << bit) for bit in range(64)]
        for k in range(8):
            table = [0] * 256
            for v in range(1, 256):
                low = v & -v
                table[v] = table[v ^ low] ^ basis[8 * k + low.bit_length() - 1]
            _shift_tables.append(table)
    return _shift_tables


def crc64(data: bytes, crc: int = 0) -> int:
    """Redis's crc64 (Jones, reflected, no final xor) of ``data``, continuing from ``crc``."""
    count = len(data) // _BLOCK
    if count < 64:
        return crc64_bytewise(data, crc)
    size = count * _BLOCK
    from_bytes = int.from_bytes
    t0, t1, t2, t3, t4, t5, t6, t7 = _LANE_TABLES
    l0 = l1 = l2 = l3 = l4 = l5 = l6 = l7 = 0
    for j in range(_BLOCK):
        idx = (l0 ^ from_bytes(data[j:size:_BLOCK], "little")).to_bytes(count, "little")
        l0 = from_bytes(idx.translate(t0), "little") ^ l1
        l1 = from_bytes(idx.translate(t1), "little") ^ l2
        l2 = from_bytes(idx.translate(t2), "little") ^ l3
        l3 = from_bytes(idx.translate(t3), "little") ^ l4
        l4 = from_bytes(idx.translate(t4), "little") ^ l5
        l5 = from_bytes(idx.translate(t5), "little") ^ l6
        l6 = from_bytes(idx.translate(t6), "little") ^ l7
        l7 = from_bytes(idx.translate(t7), "little")
    words = bytearray(8 * count)
    for k, lane in enumerate((l0, l1, l2, l3, l4, l5, l6, l7)):
        words[k::8] = lane.to_bytes(count, "little")
    s0, s1, s2, s3, s4, s5, s6, s7 = _block_shift_tables()
    for (block,) in struct.iter_unpack("<Q", words):
        crc = (s0[crc & 0xFF] ^ s1[(crc >> 8) & 0xFF] ^ s2[(crc >> 16) & 0xFF]
               ^ s3[(crc >> 24) & 0xFF] ^ s4[(crc >> 32) & 0xFF] ^ s5[(crc >> 40) & 0xFF]
               ^ s6[(crc >> 48) & 0xFF] ^ s7[crc >> 56] ^ block)
    return crc64_bytewise(data[size:], crc)


# --- LZF (liblzf 3.6 as built into Redis: HLOG 16, VERY_FAST) -------------------------------
_HLOG = 16
_HSIZE = 1 << _HLOG
_MAX_LIT = 1 << 5
_MAX_OFF = 1 << 13
_MAX_REF = (1 << 8) + (1 << 3)

# Strings up to this size are compressed (pure Python runs ~1 us a byte: the cap keeps DUMP of
# a big string from stalling the event loop). Longer ones are written raw, which Redis loads
# just the same; only byte-identity with Redis's own DUMP is lost for them.
LZF_MAX_INPUT = 16 * 1024


def lzf_compress(data: bytes, out_len: int) -> bytes | None:
    """liblzf's ``lzf_compress`` step for step, so Redis's choices of literals and back
    references (and so its bytes) come out the same; None when the result would not fit in
    ``out_len`` bytes (Redis then stores the string raw).

    Redis leaves the hash table uninitialised (``INIT_HTAB 0``); liblzf's bounds checks make
    a stale slot harmless, and a fresh table, as here, is what it sees for most inputs."""
    in_len = len(data)
    if not in_len or not out_len:
        return None
    htab = [0] * _HSIZE  # 0 = empty: liblzf never takes a reference at offset 0
    out = bytearray(out_len + 3)
    op = 1  # out[0] is the pending literal run's header
    lit = 0
    ip = 0
    in_end = in_len
    hval = (data[0] << 8) | data[1] if in_len > 1 else 0
    mask = _HSIZE - 1
    while ip < in_end - 2:
        hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
        slot = ((hval >> (24 - _HLOG)) - hval * 5) & mask
        ref = htab[slot]
        htab[slot] = ip
        off = ip - ref - 1
        if (0 <= off < _MAX_OFF and ref > 0 and data[ref + 2] == data[ip + 2]
                and data[ref] == data[ip] and data[ref + 1] == data[ip + 1]):
            length = 2
            maxlen = in_end - ip - length
            if maxlen > _MAX_REF:
                maxlen = _MAX_REF
            if op + 3 + 1 >= out_len and op - (not lit) + 3 + 1 >= out_len:
                return None
            out[op - lit - 1] = lit - 1 & 0xFF  # stop run
            op -= not lit  # undo an empty run
            matched = False
            if maxlen > 16:  # liblzf's unrolled part: 16 checks without the maxlen bound
                for _ in range(16):
                    length += 1
                    if data[ref + length] != data[ip + length]:
                        matched = True
                        break
            if not matched:
                while True:
                    length += 1
                    if not (length < maxlen and data[ref + length] == data[ip + length]):
                        break
            length -= 2  # now the number of octets - 1
            ip += 1
            if length < 7:
                out[op] = (off >> 8) + (length << 5)
                op += 1
            else:
                out[op] = (off >> 8) + (7 << 5)
                out[op + 1] = length - 7
                op += 2
            out[op] = off & 0xFF
            op += 1
            lit = 0
            op += 1  # start run
            ip += length + 1
            if ip >= in_end - 2:
                break
            ip -= 2  # VERY_FAST: hash the last two positions of the match
            hval = (data[ip] << 8) | data[ip + 1]
            hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
            htab[((hval >> (24 - _HLOG)) - hval * 5) & mask] = ip
            ip += 1
            hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
            htab[((hval >> (24 - _HLOG)) - hval * 5) & mask] = ip
            ip += 1
        else:
            if op >= out_len:
                return None
            lit += 1
            out[op] = data[ip]
            op += 1
            ip += 1
            if lit == _MAX_LIT:
                out[op - lit - 1] = lit - 1
                lit = 0
                op += 1
    if op + 3 > out_len:
        return None
    while ip < in_end:
        lit += 1
        out[op] = data[ip]
        op += 1
        ip += 1
        if lit == _MAX_LIT:
            out[op - lit - 1] = lit - 1
            lit = 0
            op += 1
    out[op - lit - 1] = lit - 1 & 0xFF  # end run
    op -= not lit
    return bytes(out[:op])


def lzf_decompress(data: bytes, out_len: int) -> bytes:
    """liblzf's ``lzf_decompress``; FormatError for a malformed stream or a length mismatch."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        ctrl = data[i]
        i += 1
        if ctrl < 32:  # literal run of ctrl + 1 bytes
            if i + ctrl + 1 > n:
                raise FormatError("LZF literal past the input")
            out += data[i:i + ctrl + 1]
            i += ctrl + 1
        else:  # back reference
            length = ctrl >> 5
            if length == 7:
                if i >= n:
                    raise FormatError("LZF truncated")
                length += data[i]
                i += 1
            if i >= n:
                raise FormatError("LZF truncated")
            ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
            i += 1
            if ref < 0:
                raise FormatError("LZF back reference before the start")
            length += 2
            if ref + length <= len(out):
                out += out[ref:ref + length]
            else:  # overlapping copy: byte by byte, as the C loop
                for k in range(length):
                    out.append(out[ref + k])
        if len(out) > out_len:
            raise FormatError("LZF output too long")
    if len(out) != out_len:
        raise FormatError("LZF length mismatch")
    return bytes(out)
