"""HyperLogLog: Redis 7.0's ``hyperloglog.c`` ported byte for byte. Bytes in, bytes out.

A HyperLogLog is a plain string value (stored by ``ledis.storage.types.string``), so GET,
SET, DUMP-free copies and replication see it as any string, and a value written by ledis
loads into Redis (and back) with the same PFCOUNT. The format, as Redis draws it::

    +------+---+-----+----------+-----------------------------+
    | HYLL | E | N/U | Cardin.  | registers (dense or sparse) |
    +------+---+-----+----------+-----------------------------+
      4      1   3     8 (little endian; bit 63 set = cache invalid)

* **dense** (E=0): 16384 registers of 6 bits, packed from the least significant bit of each
  byte onwards (12288 bytes; the whole value is exactly 12304 bytes);
* **sparse** (E=1): run-length opcodes ``ZERO`` ``00xxxxxx`` (1-64 zero registers),
  ``XZERO`` ``01xxxxxx yyyyyyyy`` (1-16384 zero registers) and ``VAL`` ``1vvvvvxx`` (1-4
  registers holding 1-32). A new HLL is sparse (one XZERO covering all registers) and is
  promoted to dense when a register needs a value above 32 or the value would grow past
  ``hll-sparse-max-bytes`` (3000 by default, header included).

An element hashes with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the register,
the register takes (number of trailing zeros of the other 50 bits) + 1 if that is larger.
The count is Otmar Ertl's estimator (``hllCount``, with ``hllSigma``/``hllTau``), computed
in IEEE doubles in the same order as Redis, so it matches Redis to the bit.

Why byte for byte: the sparse updates (how an opcode splits, which neighbours merge) decide
the exact bytes, and those bytes decide when the value turns dense; only a faithful port of
``hllSparseSet`` makes GET of the same PFADDs equal to Redis's.

Speed: the element loop (hash, index, register update) is inlined and works on a
``bytearray``; whole-register work (histogram, sparse -> dense, merges) goes through big-int
and ``bytes.translate`` conversions instead of per-register Python loops.
"""

from __future__ import annotations

import re
import struct
from bisect import bisect_right
from itertools import accumulate, groupby

from ledis import errors
from ledis.errors import LedisError

HLL_P = 14
REGISTERS = 1 << HLL_P  # 16384
Q = 64 - HLL_P  # 50 hash bits left to count zeros in
HEADER_SIZE = 16
DENSE_BYTES = REGISTERS * 6 // 8  # 12288
DENSE_SIZE = HEADER_SIZE + DENSE_BYTES
DENSE = 0
SPARSE = 1
SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
SPARSE_XZERO_MAX_LEN = 16384
DEFAULT_SPARSE_MAX_BYTES = 3000
ALPHA_INF = 0.721347520444481703680  # 0.5 / ln(2)

_SEED = 0xADC83B19
_M = 0xC6A4A7935BD1E995
_MASK = 0xFFFFFFFFFFFFFFFF
_R = 47
_INDEX_MASK = REGISTERS - 1
_STOP_BIT = 1 << Q  # makes the zero run end by bit Q: runs are 1..Q+1
_LANE_BYTES = b"\xff" * 8 + b"\0" * 8  # one 128-bit lane: low 64 bits set
_LANES_FROM = 16  # batches this big are hashed lane-parallel
_CHUNK = 4096  # elements per lane-parallel batch (bounds the big ints' size)
_UNPACK_ABOVE = 256  # dense PFADD of more elements: unpack the registers once

INVALID = LedisError(errors.HLL_INVALID)  # INVALIDOBJ Corrupted HLL object detected
NOT_HLL = LedisError(errors.HLL_WRONGTYPE)  # WRONGTYPE Key is not a valid HyperLogLog ...

# A new HLL: the header (cached cardinality 0, valid) and one XZERO covering every register.
EMPTY = b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + bytes([0x40 | (REGISTERS - 1) >> 8,
                                                     (REGISTERS - 1) & 0xFF])

# Octal digit (ASCII) -> its value, and -> 8 times its value (see _unpack_dense).
_OCT = bytes.maketrans(b"01234567", bytes(range(8)))
_OCT8 = bytes.maketrans(b"01234567", bytes(range(0, 64, 8)))
# Register value -> ASCII octal digit of its low / high three bits (see _pack_dense).
_LOW_DIGIT = bytes(48 + (v & 7) for v in range(256))
_HIGH_DIGIT = bytes(48 + ((v >> 3) & 7) for v in range(256))
_BYTE = [bytes([i]) for i in range(256)]
# One-byte opcode -> the registers it stands for (ZERO: that many zeros, VAL: the value
# repeated); XZERO first bytes (0x40-0x7f) have no entry of their own.
_OPCODE_REGISTERS = [
    bytes((b & 0x3F) + 1) if b < 0x40
    else b"" if b < 0x80
    else _BYTE[((b >> 2) & 0x1F) + 1] * ((b & 3) + 1)
    for b in range(256)
]
# One-byte opcode -> how many registers it covers (0 for XZERO first bytes).
_SPANS = bytes((b & 0x3F) + 1 if b < 0x40 else 0 if b < 0x80 else (b & 3) + 1
               for b in range(256))
_XZERO_FIRST = re.compile(rb"[\x40-\x7f]")
# Bytewise max of registers (values below 128) with big-int arithmetic: see merge_max.
_HIGH_BITS = int.from_bytes(b"\x80" * REGISTERS, "little")


def _invalid() -> LedisError:
    return INVALID.with_traceback(None)


# --- hashing ---------------------------------------------------------------------------------
def murmur64a(data: bytes, seed: int = _SEED) -> int:
    """MurmurHash64A as Redis has it (little-endian reads whatever the machine)."""
    n = len(data)
    h = (seed ^ (n * _M)) & _MASK
    blocks = n >> 3
    if blocks:
        for k in struct.unpack_from(f"<{blocks}Q", data):
            k = (k * _M) & _MASK
            k ^= k >> _R
            h ^= (k * _M) & _MASK
            h = (h * _M) & _MASK
    if n & 7:
        h ^= int.from_bytes(data[blocks << 3:], "little")
        h = (h * _M) & _MASK
    h ^= h >> _R
    h = (h * _M) & _MASK
    return h ^ (h >> _R)


def pattern(element: bytes) -> tuple[int, int]:
    """``(register index, run length)`` of an element (Redis's hllPatLen)."""
    h = murmur64a(element)
    rest = (h >> HLL_P) | _STOP_BIT
    return h & _INDEX_MASK, (rest & -rest).bit_length()


def _hash_same_length(group: list[bytes], length: int) -> tuple[int, ...]:
    """MurmurHash64A of many elements of one length at once, in 128-bit lanes of one big int.

    Lane i holds element i's 64-bit state in its low half; multiplying by the 64-bit constant
    cannot carry into the next lane (a product stays below 2**128), and every shift right is
    masked back to the low halves, so each big-int operation runs the same step of the hash
    for every element at C speed. The 8-byte blocks are gathered into lanes with strided
    slice copies."""
    c = len(group)
    data = b"".join(group)
    lane = int.from_bytes(_LANE_BYTES * c, "little")
    h = int.from_bytes(((_SEED ^ (length * _M)) & _MASK).to_bytes(16, "little") * c, "little")
    blocks = length >> 3
    for j in range(blocks):
        gathered = bytearray(16 * c)
        base = j * 8
        for b in range(8):
            gathered[b::16] = data[base + b::length]
        k = (int.from_bytes(gathered, "little") * _M) & lane
        k ^= (k >> _R) & lane
        k = (k * _M) & lane
        h = ((h ^ k) * _M) & lane
    if length & 7:
        gathered = bytearray(16 * c)
        base = blocks * 8
        for b in range(length & 7):
            gathered[b::16] = data[base + b::length]
        h = ((h ^ int.from_bytes(gathered, "little")) * _M) & lane
    h ^= (h >> _R) & lane
    h = (h * _M) & lane
    h ^= (h >> _R) & lane
    return struct.unpack(f"<{2 * c}Q", h.to_bytes(16 * c, "little"))[0::2]


def hash_many(elements: list[bytes]) -> list[int]:
    """MurmurHash64A of every element, in order (lane-parallel for big batches, grouped by
    length; a handful of elements are hashed one by one)."""
    n = len(elements)
    if n < _LANES_FROM:
        return [murmur64a(e) for e in elements]
    lengths = list(map(len, elements))
    if lengths.count(lengths[0]) == n:
        out: list[int] = []
        for i in range(0, n, _CHUNK):
            out += _hash_same_length(elements[i:i + _CHUNK], lengths[0])
        return out
    order = sorted(range(n), key=lengths.__getitem__)
    result = [0] * n
    for length, positions in groupby(order, key=lengths.__getitem__):
        where = list(positions)
        for i in range(0, len(where), _CHUNK):
            part = where[i:i + _CHUNK]
            hashes = _hash_same_length([elements[p] for p in part], length)
            for pos, h in zip(part, hashes, strict=True):
                result[pos] = h
    return result


# --- validation ------------------------------------------------------------------------------
def is_hll(value: bytes) -> bool:
    """Redis's isHLLObjectOrReply: header magic, known encoding, exact dense length."""
    if len(value) < HEADER_SIZE or value[:4] != b"HYLL" or value[4] > SPARSE:
        return False
    return value[4] != DENSE or len(value) == DENSE_SIZE


def check(value: bytes) -> None:
    if not is_hll(value):
        raise NOT_HLL.with_traceback(None)


# --- dense registers as one byte each ----------------------------------------------------------
def _unpack_dense(packed: bytes | bytearray) -> bytes:
    """12288 bytes of 6-bit registers -> 16384 bytes, one register each.

    Read as one little-endian integer, register i is bits 6i..6i+5, i.e. octal digits 2i and
    2i+1 counted from the least significant end; the digits of each parity are mapped to
    their value (low digit) or 8 times it (high digit) and added bytewise as two integers
    (no carries: 7 + 56 < 256)."""
    digits = format(int.from_bytes(packed, "little"), "o").zfill(2 * REGISTERS)[::-1].encode()
    low = int.from_bytes(digits[0::2].translate(_OCT), "little")
    high = int.from_bytes(digits[1::2].translate(_OCT8), "little")
    return (low + high).to_bytes(REGISTERS, "little")


def _pack_dense(registers: bytes) -> bytes:
    """The inverse of :func:`_unpack_dense` (register values must be below 64)."""
    digits = bytearray(2 * REGISTERS)
    digits[0::2] = registers.translate(_LOW_DIGIT)
    digits[1::2] = registers.translate(_HIGH_DIGIT)
    return int(digits[::-1], 8).to_bytes(DENSE_BYTES, "little")


def _sparse_registers(value: bytes | bytearray) -> bytes:
    """Registers of a sparse HLL, one byte each (Redis's hllSparseToDense / hllMerge walk).

    Runs reaching past the last register, or covering fewer than 16384 registers, make the
    value corrupted (INVALIDOBJ): the walk as fixed for CVE-2025-32023, which the reference
    server carries (Debian's 7.0.15; upstream 7.0.15 silently stopped at a VAL run past the
    end). Runs are positive, so both cases are "the runs do not add up to 16384"."""
    parts: list[bytes] = []
    append = parts.append
    table = _OPCODE_REGISTERS
    p = HEADER_SIZE
    end = len(value)
    while p < end:
        b = value[p]
        if 0x40 <= b < 0x80:
            second = value[p + 1] if p + 1 < end else 0
            append(bytes((((b & 0x3F) << 8) | second) + 1))
            p += 2
        else:
            append(table[b])
            p += 1
    regs = b"".join(parts)
    if len(regs) != REGISTERS:
        raise _invalid()
    return regs


def registers(value: bytes) -> bytes:
    """The 16384 registers of a valid HLL value, one byte each; INVALIDOBJ if corrupted."""
    if value[4] == DENSE:
        return _unpack_dense(value[HEADER_SIZE:])
    return _sparse_registers(value)


def merge_max(target: bytearray, regs: bytes) -> None:
    """``target[i] = max(target[i], regs[i])`` for every register.

    With both as little-endian integers, ``(a | 0x80..) - b`` leaves bit 7 of each byte set
    exactly where ``a >= b`` (values are below 128, so no byte borrows from the next); that
    bit, spread over its byte, selects ``a`` or ``b`` byte by byte."""
    if not any(target):
        target[:] = regs
        return
    a = int.from_bytes(target, "little")
    b = int.from_bytes(regs, "little")
    pick_a = (((a | _HIGH_BITS) - b) & _HIGH_BITS) >> 7
    pick_a *= 0xFF
    target[:] = ((a & pick_a) | (b & ~pick_a)).to_bytes(REGISTERS, "little")


# --- counting --------------------------------------------------------------------------------
def _sigma(x: float) -> float:
    if x == 1.0:
        return float("inf")
    y = 1.0
    z = x
    while True:
        x *= x
        z_prime = z
        z += x * y
        y += y
        if z_prime == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = x ** 0.5
        z_prime = z
        y *= 0.5
        z -= (1 - x) ** 2 * y
        if z_prime == z:
            return z / 3


def estimate(histogram: list[int]) -> int:
    """Redis's hllCount from a histogram of register values (64 buckets)."""
    m = float(REGISTERS)
    z = m * _tau((m - histogram[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += histogram[j]
        z *= 0.5
    z += m * _sigma(histogram[0] / m)
    e = ALPHA_INF * m * m / z
    whole = int(e)  # e >= 0: llroundl rounds halves away from zero
    return whole + 1 if e - whole >= 0.5 else whole


def count_registers(regs: bytes) -> int:
    """Cardinality estimate of one-byte-per-register registers (PFCOUNT of several keys)."""
    return estimate([regs.count(_BYTE[v]) for v in range(64)])


def count(value: bytes) -> tuple[int, bytes | None]:
    """PFCOUNT of one valid HLL: ``(cardinality, value with the cache filled or None)``.

    A valid cached cardinality is returned as is (None: nothing to store); otherwise it is
    computed and written into the header, as Redis does."""
    if not value[15] & 0x80:
        return int.from_bytes(value[8:16], "little"), None
    # (Redis's sparse histogram walk rejects exactly what _sparse_registers rejects: runs
    # that do not add up to 16384 registers.)
    card = count_registers(registers(value))
    return card, value[:8] + card.to_bytes(8, "little") + value[HEADER_SIZE:]


# --- updates ---------------------------------------------------------------------------------
def _to_dense(buf: bytearray) -> None:
    """hllSparseToDense, in place: same header (cached cardinality included), encoding 0."""
    if buf[4] == DENSE:
        return
    regs = _sparse_registers(buf)
    header = buf[:HEADER_SIZE]
    header[4] = DENSE
    buf[:] = header + _pack_dense(regs)


def _dense_set(buf: bytearray, index: int, value: int) -> bool:
    """Raise register ``index`` of a dense HLL to ``value``; True if it changed."""
    bit = index * 6
    pos = HEADER_SIZE + (bit >> 3)
    fb = bit & 7
    if fb <= 2:
        old = (buf[pos] >> fb) & 63
    else:
        old = ((buf[pos] >> fb) | (buf[pos + 1] << (8 - fb))) & 63
    if value <= old:
        return False
    buf[pos] = (buf[pos] & ~(63 << fb) | (value << fb)) & 0xFF
    if fb > 2:
        fb8 = 8 - fb
        buf[pos + 1] = (buf[pos + 1] & ~(63 >> fb8)) | (value >> fb8)
    return True


def _append_zeros(seq: bytearray, length: int) -> None:
    """A run of ``length`` zero registers: ZERO (1 byte, up to 64) or XZERO (2 bytes)."""
    if length > SPARSE_ZERO_MAX_LEN:
        seq += bytes((0x40 | (length - 1) >> 8, (length - 1) & 0xFF))
    else:
        seq.append(length - 1)


def _sparse_set(buf: bytearray, index: int, value: int, max_bytes: int) -> int:
    """Redis's hllSparseSet on ``buf`` (may promote it to dense in place).

    Returns 1 when the register changed, 0 when it already held ``value`` or more; raises
    INVALIDOBJ for a corrupted value.

    Long on purpose: it follows hllSparseSet's steps (find the opcode, split it into up to five
    new ones, merge adjacent VALs) in one body so the two can be read side by side; its pieces
    share a dozen locals of the walk, and this runs per PFADD element on the hot path."""
    if value > SPARSE_VAL_MAX_VALUE:
        return _promote(buf, index, value)
    # Step 1: find the opcode covering register `index`, its first register and the opcode
    # before it. Redis walks opcode by opcode; here the one-byte opcodes between two XZEROs
    # are summed at C speed (translate to spans) and only the segment holding `index` is
    # searched, with the same result.
    p = HEADER_SIZE
    end = len(buf)
    first = 0
    prev = -1
    span = 0
    b = 0
    found = False
    while p < end:
        m = _XZERO_FIRST.search(buf, p)
        q = end if m is None else m.start()
        if q > p:
            spans = buf[p:q].translate(_SPANS)
            total = sum(spans)
            if index < first + total:
                running = list(accumulate(spans))
                k = bisect_right(running, index - first)
                if k:
                    first += running[k - 1]
                    prev = p + k - 1
                p += k
                b = buf[p]
                span = spans[k]
                found = True
                break
            first += total
            prev = q - 1
        if q >= end:
            p = end
            break
        b = buf[q]
        span = (((b & 0x3F) << 8) | (buf[q + 1] if q + 1 < end else 0)) + 1
        p = q
        if index <= first + span - 1:
            found = True
            break
        prev = q
        first += span
        p = q + 2
    if not found or span == 0 or p >= end:
        raise _invalid()
    is_xzero = (b & 0xC0) == 0x40
    is_val = bool(b & 0x80)
    is_zero = not b & 0xC0
    runlen = span
    if is_val:
        if ((b >> 2) & 0x1F) + 1 >= value:
            return 0  # case A: the run already holds as much
        if runlen == 1:
            buf[p] = 0x80 | (value - 1) << 2  # case B: a one-register VAL
            return _merge_neighbours(buf, prev)
    if is_zero and runlen == 1:
        buf[p] = 0x80 | (value - 1) << 2  # case C: a one-register ZERO
        return _merge_neighbours(buf, prev)
    # Case D: split the opcode into up to three (XZERO-VAL-XZERO at worst).
    seq = bytearray()
    last = first + span - 1
    if is_zero or is_xzero:
        if index != first:
            _append_zeros(seq, index - first)
        seq.append(0x80 | (value - 1) << 2)
        if index != last:
            _append_zeros(seq, last - index)
    else:
        current = (b >> 2) & 0x1F  # value - 1, as stored
        if index != first:
            seq.append(0x80 | current << 2 | (index - first - 1))
        seq.append(0x80 | (value - 1) << 2)
        if index != last:
            seq.append(0x80 | current << 2 | (last - index - 1))
    oldlen = 2 if is_xzero else 1
    delta = len(seq) - oldlen
    if delta > 0 and len(buf) + delta > max_bytes:
        return _promote(buf, index, value)
    new_len = len(buf) + delta
    buf[p:p + oldlen] = seq
    del buf[new_len:]  # a truncated final XZERO: Redis's length arithmetic drops a byte
    return _merge_neighbours(buf, prev)


def _merge_neighbours(buf: bytearray, prev: int) -> int:
    """Step 4 of hllSparseSet: merge adjacent VAL opcodes of equal value, scanning up to
    five opcodes from the one before the change; then invalidate the cached count."""
    p = prev if prev >= 0 else HEADER_SIZE
    end = len(buf)
    scan = 5
    while p < end and scan:
        scan -= 1
        b = buf[p]
        if not b & 0x80:
            p += 2 if b & 0x40 else 1
            continue
        if p + 1 < end and buf[p + 1] & 0x80:
            b2 = buf[p + 1]
            if (b >> 2) & 0x1F == (b2 >> 2) & 0x1F:
                length = (b & 3) + (b2 & 3) + 2
                if length <= SPARSE_VAL_MAX_LEN:
                    buf[p + 1] = (b2 & 0xFC) | (length - 1)
                    del buf[p]
                    end -= 1
                    continue
        p += 1
    buf[15] |= 0x80
    return 1


def _promote(buf: bytearray, index: int, value: int) -> int:
    _to_dense(buf)
    _dense_set(buf, index, value)  # always a change: the sparse register held less
    return 1


def add(value: bytes | None, elements: list[bytes],
        max_bytes: int = DEFAULT_SPARSE_MAX_BYTES) -> tuple[bytes, int]:
    """PFADD: ``(new value, registers changed)``. ``value`` None creates the key (which
    counts as a change, as in Redis). The cache is invalidated when anything changed.

    While sparse, elements are applied one by one in order (the bytes depend on the order);
    once dense only the maximum per register matters, so a big batch is applied to the
    registers unpacked one byte each and packed once."""
    created = value is None
    buf = bytearray(EMPTY if value is None else value)
    hashes = hash_many(elements)
    changed = 0
    n = len(hashes)
    i = 0
    while i < n and buf[4] == SPARSE:
        h = hashes[i]
        i += 1
        rest = (h >> HLL_P) | _STOP_BIT
        changed += _sparse_set(buf, h & _INDEX_MASK, (rest & -rest).bit_length(), max_bytes)
    if n - i > _UNPACK_ABOVE:
        regs = bytearray(_unpack_dense(buf[HEADER_SIZE:]))
        dense_changed = 0
        for h in hashes[i:]:
            index = h & 0x3FFF
            rest = (h >> 14) | 0x4000000000000
            run = (rest & -rest).bit_length()
            if run > regs[index]:
                regs[index] = run
                dense_changed += 1
        if dense_changed:
            buf[HEADER_SIZE:] = _pack_dense(bytes(regs))
            changed += dense_changed
    else:
        for h in hashes[i:]:
            rest = (h >> HLL_P) | _STOP_BIT
            changed += _dense_set(buf, h & _INDEX_MASK, (rest & -rest).bit_length())
    if changed or created:
        buf[15] |= 0x80
    return bytes(buf), changed + created


def merge(target: bytes | None, regs: bytes, use_dense: bool,
          max_bytes: int = DEFAULT_SPARSE_MAX_BYTES) -> bytes:
    """PFMERGE's write: raise the registers of ``target`` (None: a new HLL) to ``regs``,
    converting it to dense first when ``use_dense`` (one of the inputs was dense), through
    the same per-register sets as Redis so the bytes match; the cache ends invalid."""
    buf = bytearray(EMPTY if target is None else target)
    if use_dense:
        _to_dense(buf)
    if buf[4] == DENSE:
        current = _unpack_dense(buf[HEADER_SIZE:])
        raised = bytearray(current)
        merge_max(raised, regs)
        merged = bytes(raised)
        if merged != current:
            buf[HEADER_SIZE:] = _pack_dense(merged)
    else:
        for index, value in enumerate(regs):
            if not value:
                continue
            if buf[4] == DENSE:
                _dense_set(buf, index, value)
            else:
                _sparse_set(buf, index, value, max_bytes)
    buf[15] |= 0x80
    return bytes(buf)

